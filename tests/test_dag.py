"""The whole workflow at smoke scale in a temporary folder, and what re-runs after a change."""

from __future__ import annotations

import base64
import csv
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import numpy as np
import pytest
import yaml
from slurm_cluster import single_node_cluster

from conftest import REPO, job_counts, snakemake
from rmtloss.papers import CLAIMS as CLAIM_REGISTRY
from rmtloss.papers import FIGURES as FIG_REGISTRY
from rmtloss.papers import PAPERS

pytestmark = pytest.mark.dag
FIGURES = tuple(FIG_REGISTRY)  # every figure a paper declares, the gan_* ones too
CLAIM_IDS = set(CLAIM_REGISTRY)


def test_every_figure_is_drawn(smoke):
    for fig in FIGURES:
        for ext in ("pdf", "png"):
            path = smoke / "results" / "smoke" / "figures" / f"{fig}.{ext}"
            assert path.stat().st_size > 5000, path


def test_the_slq_density_job_runs_on_the_operator(smoke):
    with np.load(smoke / "results/smoke/runs/mlp/spectra/density_final/slq.npz") as d:
        assert d["nodes"].shape == (1, 2, 20) and np.allclose(d["weights"].sum(-1), 1.0)
        assert str(d["method"]) == "slq" and int(d["num_params"]) == 1290


def test_paper_scale_lists_gpu_training_and_density_jobs(tmp_path):
    proc = snakemake(tmp_path, "-n", "--config", "scale=paper")
    assert proc.returncode == 0, proc.stderr[-3000:]
    blocks = re.split(r"\n(?=\[\w{3} \w{3} )", proc.stdout)  # a dry run dates each job
    for run in ("vgg16_cifar100", "resnet_cifar100", "mnist_mlp"):
        for rule in ("train", "spectra"):
            jobs = [b for b in blocks if f"rule {rule}:" in b and re.search(rf"run={run}\b", b)
                    and ("slq.npz" in b or rule == "train")]
            assert len(jobs) == 1 and "gpu=1" in jobs[0], (rule, run, len(jobs))
    shifts = [b for b in blocks if "rule outlier_shift:" in b]  # VGG / ResNet by Lanczos, on the GPU
    assert len(shifts) == 3 and all("gpu=1" in b for b in shifts)
    # the authors' GAN sweeps: 9 (p, q) pairs x (60 sigma_z + 50 kappa values), one job each
    points = [b for b in blocks if "rule gan_point:" in b]
    assert len(points) == 9 * (60 + 50) and all("gpu" not in b for b in points)
    # VGG-16 on CIFAR-100: Adam at three eps with SGD, and the damping learner, each a GPU job
    sweeps = [b for b in blocks if "rule optimisers:" in b]
    vgg = [b for b in sweeps if "setting=vgg16_cifar100" in b]
    assert len(sweeps) == 10 and len(vgg) == 3 and all("gpu=1" in b for b in vgg)
    assert all("gpu=1" not in b for b in sweeps if b not in vgg)


def test_every_claim_has_a_row_with_a_number(smoke):
    with open(smoke / "results" / "smoke" / "claims.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["id"] for r in rows} == CLAIM_IDS
    for r in rows:
        assert r["scale"] == "smoke"
        if r["id"] == "epsilon-closes-gap" and r["verdict"] == "not run":  # 4 epochs: a rate at an edge
            assert "edge of its grid" in r["detail"], r
            continue
        if r["verdict"] == "premise absent":  # CLAIMS.md v3: the premise measured, and not met
            assert r["premise"] and math.isfinite(float(r["premise_measured"])), r
            continue
        assert r["verdict"] in ("PASS", "FAIL"), r
        # a number, or a FAIL that says why it has none (e.g. a negative slope at smoke scale)
        no_number = r["verdict"] == "FAIL" and "no number" in r["summary"]
        assert math.isfinite(float(r["measured"])) or no_number, r
    assert "| `ratios-goe` |" in (smoke / "results" / "smoke" / "claims.md").read_text()


def test_every_output_folder_holds_config_and_provenance(smoke):
    folders = {p.parent for p in (smoke / "results" / "smoke").rglob("*")
               if p.suffix in (".pt", ".npz", ".pdf", ".csv") and "figures" not in p.parts}
    folders |= set((smoke / "results" / "smoke" / "figures" / "meta").iterdir())
    # the ledger (claims.csv, claims.md, claims_by_paper/) has its config and provenance in meta/claims
    folders -= {smoke / "results" / "smoke", smoke / "results" / "smoke" / "claims_by_paper"}
    folders.add(smoke / "results" / "smoke" / "meta" / "claims")
    for folder in folders:
        assert (folder / "config.yaml").is_file() and (folder / "provenance.json").is_file(), folder


def test_a_finished_dag_has_nothing_to_do(smoke):
    proc = snakemake(smoke, "-n", "--config", "scale=smoke")
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr


def test_an_override_reruns_exactly_the_affected_jobs(smoke):
    proc = snakemake(smoke, "-n", "-p", "--config", "scale=smoke",
                     "overrides={mlp: [optimizer.lr=0.02]}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    # not the spin-glass or ensemble figures
    assert job_counts(out) == {"train": 1, "spectra": 3, "local_stats": 2, "global_density": 2,
                               "outlier_shift": 1, "figure": 6, "claims": 1, "summary": 1, "all": 1}
    assert re.search(r"rule train:.*?wildcards: scale=smoke, run=mlp", out, re.S)
    train_cmd = next(line for line in out.splitlines() if "-m rmtloss.train" in line)
    assert "optimizer.lr=0.02" in train_cmd and "model=mlp" in train_cmd


def test_a_tagged_override_is_a_variant_beside_the_finished_baseline(smoke):
    """With a tag the override's whole scale goes to results/smoke-<tag>/ (every job, none of the
    baseline's outputs touched); the baseline still has nothing to do."""
    proc = snakemake(smoke, "-n", "-p", "--config", "scale=smoke", "tag=lr02",
                     "overrides={mlp: [optimizer.lr=0.02]}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    targets = set(re.findall(r"output: (\S+)", out)) - {"results/summary.md,"}  # the summary: every scale
    assert targets and all(t.startswith("results/smoke-lr02/") for t in targets), targets
    runs = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["scales"]["smoke"]["networks"]
    assert job_counts(out)["train"] == len(runs)
    trains = [line for line in out.splitlines() if "-m rmtloss.train" in line]
    assert "optimizer.lr=0.02" in next(line for line in trains if "runs/mlp/train" in line)
    others = [line for line in trains if "runs/mlp/train" not in line]
    assert others and not any("optimizer.lr=0.02" in line for line in others)
    base = snakemake(smoke, "-n", "--config", "scale=smoke")
    assert "Nothing to be done" in base.stdout + base.stderr


def test_one_figure_needs_only_its_jobs(tmp_path):
    proc = snakemake(tmp_path, "-n", "results/smoke/figures/zero_mass.pdf", "--config",
                     "scale=smoke")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert job_counts(proc.stdout) == {"train": 7, "spectra": 16, "local_stats": 16, "figure": 1}


def test_the_paper_scale_without_data_or_gpu_stops_before_any_job(tmp_path):
    proc = snakemake(tmp_path, "--config", "scale=paper")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "scale paper cannot start" in out
    assert f"mnist (MNIST) not in {tmp_path / 'data' / 'MNIST'}" in out and "data.download=true" in out
    if "GPU" in out:  # a machine without a GPU (CI): the GPU jobs are named with the remedy
        assert "allow_cpu=true" in out
    assert not (tmp_path / "results").exists()  # not one of the 1000+ jobs ran


def test_a_failed_job_prints_its_log_in_the_terminal(tmp_path):
    """The default profile's show-failed-logs: the stage's own message, not only 'check log file'."""
    target = "results/smoke/runs/logistic/train/checkpoint_final.pt"
    proc = snakemake(tmp_path, target, "--config", "scale=smoke",
                     "overrides={logistic: [train.batch_size=5000]}")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "rmtloss.train: invalid setting `train.batch_size`: 5000 is larger than the" in out
    assert not (tmp_path / "results/smoke/runs/logistic/train").exists()  # nothing half-written, no folder


def test_the_regimes_scale_runs_one_sweep_per_failing_claim_and_reads_the_trends(tmp_path):
    """The regimes scale's job list (dry run; CI never runs it whole): 24 training runs on real data,
    the outlier shift (exact up to P = 7000, Lanczos above) on eight networks (P 1600 .. 50890 and three
    architectures), eight networks' exact batch spectra, seven optimiser settings, the trends and
    the summary; no theory task."""
    proc = snakemake(tmp_path, "-n", "-p", "--config", "scale=regimes")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert job_counts(out) == {"train": 24, "spectra": 8, "local_stats": 8, "global_density": 8,
                               "outlier_shift": 8, "outliers": 1, "optimisers": 7, "figure": 8,
                               "claims": 1, "trends": 1, "summary": 1, "all": 1}
    trains = [line for line in out.splitlines() if "-m rmtloss.train" in line]
    assert all("data=mnist5k" in t or "data=digits" in t or "data=mixture" in t for t in trains)
    lines = out.splitlines()
    shift = [x for x in lines if "-m rmtloss.outliers" in x and "outlier_shift_network" in x]
    assert len(shift) == 8 and all("network.exact_max_params=7000" in line for line in shift)
    eps = [x for x in lines if "-m rmtloss.optimisers" in x and "task=epsilon_sweep" in x]
    assert len(eps) == 4 and all("epsilons=[1e-8,1e-4,1e-2,1.0]" in line for line in eps)
    trends = next(line for line in out.splitlines() if "-m rmtloss.trends" in line)
    claims = ("outlier-shift-network", "local-law-network", "outlier-count", "epsilon-closes-gap",
              "global-not-rmt", "product-percolated-fit", "unfolded-wigner", "damping-learner-insensitive")
    assert all(claim in trends for claim in claims)
    assert "complexity" not in job_counts(out)


def test_operator_gpus_launch_a_spectrum_on_several_gpus_with_torchrun(tmp_path):
    """`operator_gpus: 4` on a GPU network: its SLQ and outlier-shift jobs ask for 4 GPUs and start 4
    torchrun ranks; its exact and training jobs are unchanged."""
    extra = tmp_path / "four.yaml"
    extra.write_text("scales: {paper: {networks: {vgg16_cifar100: {operator_gpus: 4}}}}\n")
    proc = snakemake(tmp_path, "-n", "-p", "--configfile", str(extra), "--config", "scale=paper")
    assert proc.returncode == 0, proc.stderr[-3000:]
    blocks = re.split(r"\n(?=\[\w{3} \w{3} )", proc.stdout)
    vgg = [b for b in blocks if re.search(r"run=vgg16_cifar100\b", b)]
    slq = [b for b in vgg if "rule spectra:" in b]
    shift = [b for b in blocks if "rule outlier_shift:" in b and "vgg16_cifar100" in b]
    train = [b for b in vgg if "rule train:" in b]
    launch = "torchrun --standalone --nproc-per-node 4 -m rmtloss.spectra"
    assert len(slq) == 1 and "gpu=4" in slq[0] and launch in slq[0]
    assert len(shift) == 1 and "gpu=4" in shift[0] and "--nproc-per-node 4 -m rmtloss.outliers" in shift[0]
    assert len(train) == 1 and "gpu=1" in train[0] and "torchrun" not in train[0]


def test_a_networks_outlier_mem_mb_sets_its_outlier_shift_jobs_memory(tmp_path):
    """`outlier_mem_mb` on one network: its outlier-shift job asks for that memory, the others keep
    the CPU default (8000 MB)."""
    extra = tmp_path / "mem.yaml"
    extra.write_text("scales: {regimes: {networks: {p6370: {outlier_mem_mb: 12000}}}}\n")
    proc = snakemake(tmp_path, "-n", "--configfile", str(extra), "--config", "scale=regimes")
    assert proc.returncode == 0, proc.stderr[-3000:]
    blocks = [b for b in re.split(r"\n(?=\[\w{3} \w{3} )", proc.stdout) if "rule outlier_shift:" in b]
    mem = {re.search(r"run=(\w+)", b).group(1): int(re.search(r"mem_mb=(\d+)", b).group(1)) for b in blocks}
    assert mem["p6370"] == 12000 and mem["p1600"] == 8000 and len(mem) == 8


def test_the_mnist_scale_runs_the_papers_networks_only(tmp_path):
    """scale=mnist (theory: false): the MNIST networks' jobs, no spin-glass, ensemble or synthetic
    task, and only the figures whose records that scale makes."""
    proc = snakemake(tmp_path, "-n", "--config", "scale=mnist")
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = job_counts(proc.stdout)
    assert jobs["train"] == 2 and jobs["spectra"] == 6 and jobs["outlier_shift"] == 1
    assert not {"complexity", "densities", "outliers", "gan_point", "optimisers"} & set(jobs)
    figures = set(re.findall(r"results/mnist/figures/(\w+)\.pdf", proc.stdout))
    assert figures == {"spacing_ratios", "unfolded_spacings", "zero_mass", "global_density_fits",
                       "outlier_shift_network"}


def test_bad_workflow_config_is_refused(tmp_path):
    proc = snakemake(tmp_path, "-n", "--config", "scale=huge")
    assert proc.returncode != 0 and "huge" in proc.stdout + proc.stderr


def test_an_unknown_figure_is_refused_naming_the_known_ones(tmp_path):
    proc = snakemake(tmp_path, "-n", "--config", "scale=smoke", "figures=[zero_mass, zero_mas]")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "unknown figure(s) zero_mas" in out and "gan_sweeps" in out
    proc = snakemake(tmp_path, "-n", "--config", "scale=smoke", "figures=[zero_mass]")
    assert proc.returncode == 0 and job_counts(proc.stdout)["figure"] == 1


@pytest.fixture(scope="module")
def report(smoke) -> Path:
    proc = snakemake(smoke, "--report", "results/smoke/report.html", "--config", "scale=smoke")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "(ERROR/" not in proc.stdout + proc.stderr  # every caption is valid reStructuredText
    return smoke / "results" / "smoke" / "report.html"


def test_report_holds_every_figure_with_a_caption_and_the_claims_table(report):
    html = unescape(report.read_text())
    for fig in FIGURES:
        assert f'"{fig}.png"' in html, fig
        assert " ".join(FIG_REGISTRY[fig].caption.split()[:3]) in html, fig  # the paper module's caption
    assert html.count("Drawn by") >= len(FIGURES)  # every figure's caption
    table = base64.b64decode(re.search(r"claims\.csv;base64,([A-Za-z0-9+/=]+)", html)[1]).decode()
    assert {r["id"] for r in csv.DictReader(table.splitlines())} == CLAIM_IDS
    # each paper's claims in a table of their own, beside its figures (category Papers)
    for key in PAPERS:
        table = base64.b64decode(re.search(rf"{key}\.csv;base64,([A-Za-z0-9+/=]+)", html)[1]).decode()
        rows = list(csv.DictReader(table.splitlines()))
        assert {r["id"] for r in rows} == {c for c, claim in CLAIM_REGISTRY.items() if claim.paper.key == key}
        assert all(r["kind"] in ("empirical", "theory", "control") and r["figure"] for r in rows)


def test_report_opens_in_headless_chromium(report):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("Chromium is not installed (Debian package chromium): the report was not opened")
    proc = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
                           "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Claims" in proc.stdout and "Papers" in proc.stdout
    # the first page leads with the verdicts (issue 33): the scale, the counts per kind and every paper's
    # claims as an HTML table, each row coloured by its verdict and linking its figure in the report
    dom = unescape(proc.stdout)
    assert "Claims ledger at scale <code>smoke</code>" in dom
    assert re.search(r"<li>empirical: \d+ PASS, \d+ FAIL, \d+ premise absent of 13", dom)
    rows = re.findall(r'<tr style="background:(#[0-9a-f]{6})">(.*?)</tr>', dom, re.S)
    assert len(rows) == len(CLAIM_IDS)
    html = report.read_text()
    for colour, row in rows:
        verdict = re.search(r"<b>([^<]+)</b>", row)[1]
        colours = {"PASS": "#d4edda", "FAIL": "#f8d7da", "premise absent": "#fff3cd"}
        assert colour == colours.get(verdict, "#e2e3e5"), (verdict, colour)
        target = re.search(r"showResultInfo\('([^']+)'\)", row)[1]
        assert f'"{target}"' in html, target  # a result the report holds: the link opens it
    for paper in PAPERS.values():
        assert paper.title in dom


def test_a_dag_killed_mid_training_resumes_and_matches_an_uninterrupted_run(tmp_path):
    """SIGKILL the whole DAG during a training job; unlock and run the same command again."""
    target = "results/smoke/runs/mlp/train/checkpoint_final.pt"
    config = ["--config", "scale=smoke", "overrides={mlp: [train.epochs=300, train.checkpoint_every=5]}"]
    ref, work = tmp_path / "ref", tmp_path / "killed"
    assert snakemake(ref, target, *config).returncode == 0
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(work),
           "--cores", "2", target, *config]
    env = {**os.environ, "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]])}
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    resume = work / "results/smoke/runs/mlp/train/resume.pt"
    deadline = time.monotonic() + 300
    while not resume.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # snakemake and its running job
    assert proc.wait() == -signal.SIGKILL, "the DAG finished before it could be killed"
    assert not (work / target).exists()
    assert snakemake(work, "--unlock", *config).returncode == 0  # Snakemake keeps its lock after SIGKILL
    again = snakemake(work, target, *config)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resuming from epoch" in (work / "results/smoke/logs/train/mlp.log").read_text()
    metrics = "results/smoke/runs/mlp/train/metrics.csv"
    assert (work / metrics).read_text() == (ref / metrics).read_text()


def test_the_readme_recovery_after_a_kill_with_a_half_written_job(tmp_path):
    """SIGKILL the DAG's process group while a figure job has written its PDF but not its PNG (an
    incomplete job whose output exists), then type the README's two commands: ``snakemake
    --unlock`` and the same command. The default profile (profiles/default, read because it sits
    beside the Snakefile) re-runs the incomplete job; without it the second command stops with
    IncompleteFilesException."""
    target = "results/smoke/figures/abc_thresholds.pdf"
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path),
           "--cores", "2", target, "--config", "scale=smoke"]
    env = {**os.environ, "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]])}
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    pdf, png = tmp_path / target, tmp_path / target.replace(".pdf", ".png")
    deadline = time.monotonic() + 300
    while not pdf.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL and pdf.exists() and not png.exists(), "not killed mid-figure"
    assert snakemake(tmp_path, "--unlock", "--config", "scale=smoke").returncode == 0
    again = snakemake(tmp_path, target, "--config", "scale=smoke")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "IncompleteFilesException" not in again.stdout + again.stderr and png.stat().st_size > 5000


@pytest.fixture(scope="module")
def slurm(tmp_path_factory) -> Iterator[dict[str, str]]:
    """A single-node SLURM cluster (``tests/slurm_cluster.py``) for the profile's test."""
    with single_node_cluster(tmp_path_factory.mktemp("slurm")) as env:
        yield env


#: One network's chain (training, its two batch spectra with their analyses) and one theory task: what the
#: SLURM test deletes from a copy of the local smoke run and has rebuilt through sbatch.
SUB_DAG = ("runs/cnn", "analysis/local_stats/cnn", "analysis/global_density/cnn",
           "analysis/densities/layered_index")


def test_a_sub_dag_runs_through_sbatch_with_the_same_outputs_as_the_local_run(slurm, smoke, tmp_path):
    """The SLURM profile on a sub-DAG (issue 34: the whole smoke DAG a second time took 9-10 minutes of CI):
    a copy of the local smoke run (file times kept, so nothing else is stale) without one network's chain,
    one theory task and the ledger; Snakemake rebuilds exactly those through sbatch (spectra grouped with
    their analyses, one SLURM job each), the figures that read them and the ledger locally, and every
    rebuilt output equals the local run's."""
    work = tmp_path / "slurm"
    shutil.copytree(smoke / "results", work / "results")  # shutil.copy2: modification times kept
    ours, local = work / "results/smoke", smoke / "results/smoke"
    for rel in SUB_DAG:
        shutil.rmtree(ours / rel)
    shutil.rmtree(ours / "claims_by_paper")
    for name in ("claims.csv", "claims.md"):
        (ours / name).unlink()
    env = {**slurm, "PATH": os.pathsep.join([os.path.dirname(sys.executable), slurm["PATH"]])}
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO / "Snakefile"),
        "--directory",
        str(work),
        "--profile",
        str(REPO / "profiles/slurm"),
        "--jobs",
        "8",
        "--seconds-between-status-checks",  # the profile keeps Snakemake's polite 10 s for clusters
        "2",
        "--config",
        "scale=smoke",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1500, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    counts = job_counts(out)  # the sub-DAG and nothing else
    assert counts == {"train": 1, "spectra": 2, "local_stats": 2, "global_density": 1, "densities": 1,
                      "figure": 5, "claims": 1, "summary": 1, "all": 1}, counts
    # every job but the local rules (figures, the ledger, the target) ran in a SLURM job: one per job, and
    # one per spectra job carrying its analyses (the profile's group `spectrum`); the controller logs the
    # end of each
    logs = re.findall(r"submitted with SLURM jobid \d+ \(log: \S*/slurm_logs/(\w+)/", out)
    assert sum(log.startswith("group_spectrum") for log in logs) == counts["spectra"], logs
    assert len(logs) == counts["train"] + counts["densities"] + counts["spectra"], (logs, counts)
    done = Path(slurm["RMTLOSS_SLURMCTLD_LOG"]).read_text().count(" done")
    assert done >= len(logs), (done, len(logs))
    assert out.count("Finished jobid") == sum(counts.values())
    assert (ours / "claims.csv").read_text() == (local / "claims.csv").read_text()
    for rel in ("runs/cnn/train/metrics.csv", "analysis/local_stats/cnn/hessian_final/stats.json",
                "analysis/global_density/cnn/hessian_final/stats.json",
                "analysis/densities/layered_index/stats.json"):
        assert (ours / rel).read_text() == (local / rel).read_text(), rel
    figures = sorted(p.name for p in (ours / "figures").glob("*.pdf"))
    assert figures == sorted(p.name for p in (local / "figures").glob("*.pdf"))
