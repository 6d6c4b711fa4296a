"""A real single-node SLURM cluster for the test of ``profiles/slurm`` (in
``tests/test_dag.py``, beside the local smoke run it is compared with).

:func:`single_node_cluster` starts ``munged``, ``slurmctld`` and ``slurmd`` (Debian's
``slurm-wlm`` and ``munge`` packages; ``.ci/run`` installs them when it runs as root with apt)
with a minimal ``slurm.conf`` on this machine's hostname, and stops them afterwards. Where that
cannot be done the test is skipped with the reason (pytest's ``-ra`` prints it), never passed
silently.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The plugin's job step strips SLURM_* variables (SLURM_CONF too) before its inner srun, so the
#: configuration must sit where SLURM looks by default.
CONF_PATH = Path("/etc/slurm/slurm.conf")
MARK = "# written by rmtloss tests/slurm_cluster.py"
SLURM_CONF = MARK + """
ClusterName=rmtloss
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SlurmdParameters=config_overrides
NodeName={host} CPUs={cpus} RealMemory={mem} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def _why_no_slurm() -> str | None:
    missing = [
        b
        for b in ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")
        if shutil.which(b) is None and not Path(f"/usr/sbin/{b}").exists()
    ]
    if missing:
        return f"no SLURM on this machine ({', '.join(missing)} missing; apt-get install slurm-wlm munge)"
    if os.geteuid() != 0:
        return "starting slurmd and munged needs root"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return 'snakemake-executor-plugin-slurm is not installed (pip install -e ".[slurm]")'
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sbin(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _munge_running() -> bool:
    return subprocess.run(["pgrep", "-x", "munged"], capture_output=True).returncode == 0


def _stop(pidfile: Path) -> None:
    with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
        os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)


@contextlib.contextmanager
def single_node_cluster(d: Path) -> Iterator[dict[str, str]]:
    """A single-node cluster with its state in ``d``; yields the environment that points its
    commands at it, or skips the test with the reason where it cannot be started."""
    why = _why_no_slurm()
    if why:
        pytest.skip(why)
    for sub in ("state", "spool"):
        (d / sub).mkdir()
    host = socket.gethostname().split(".")[0]
    mem = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20 * 0.8)
    conf = CONF_PATH
    if conf.exists() and MARK not in conf.read_text():
        pytest.skip(f"{conf} belongs to this machine's own SLURM; not replacing it")
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(
        SLURM_CONF.format(
            # twice the cores (config_overrides lets slurmd accept it): a job spends much of its
            # time starting Python and waiting on the scheduler, so two per core keep them busy
            host=host, d=d, cpus=2 * os.cpu_count(), mem=mem, ctld_port=_free_port(), d_port=_free_port()
        )
    )
    env = {**os.environ, "SLURM_CONF": str(conf)}
    started_munge = False
    if not _munge_running():
        Path("/run/munge").mkdir(parents=True, exist_ok=True)
        shutil.chown("/run/munge", "munge", "munge")
        if subprocess.run([_sbin("munged"), "--force"], capture_output=True).returncode != 0:
            pytest.skip("munged would not start")
        started_munge = True
    for daemon in ("slurmctld", "slurmd"):
        proc = subprocess.run([_sbin(daemon), "-f", str(conf)], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"{daemon} would not start: {proc.stderr.strip()[-300:]}")
    try:
        for _ in range(60):
            info = subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True)
            if info.stdout.strip() == "idle":
                break
            time.sleep(1)
        else:
            pytest.skip(
                f"the SLURM node never became idle (sinfo: {info.stdout.strip()} {info.stderr.strip()})"
            )
        yield {**env, "RMTLOSS_SLURMCTLD_LOG": str(d / "slurmctld.log")}
    finally:
        _stop(d / "slurmd.pid")
        _stop(d / "slurmctld.pid")
        if started_munge:
            subprocess.run(["pkill", "-x", "munged"], check=False)
        conf.unlink(missing_ok=True)
