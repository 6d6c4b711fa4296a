"""The ``rmtloss`` console command: what the workflow reproduces, and the ways to run it.

``rmtloss claims``      every claim: id, kind, paper, figure, the rule in words;
``rmtloss figures``     every figure: name, paper, the target that draws it alone;
``rmtloss diagnose ...``  the papers' diagnostics of one network (:mod:`rmtloss.stages.diagnose`;
                          the arguments are its Hydra overrides);
``rmtloss run ...``     Snakemake on this checkout's ``Snakefile`` (the arguments are Snakemake's),
                          refusing in one line a target written after ``--config``;
``rmtloss summary``     ``results/summary.md``: every scale's ledger side by side
                          (:mod:`rmtloss.summary`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The checkout this package is installed from (``pip install -e .``): its Snakefile and config."""


def claims_table(paper: str | None = None) -> list[str]:
    """One line per claim (``paper``: a module name of :mod:`rmtloss.papers`, or all)."""
    from rmtloss.papers import CLAIMS

    rows = [c for c in CLAIMS.values() if paper in (None, c.paper.key)]
    if not rows:
        raise SystemExit(f"rmtloss claims: no paper '{paper}'; the papers: "
                         f"{', '.join(sorted({c.paper.key for c in CLAIMS.values()}))}")
    width = max(len(c.id) for c in rows)
    lines = []
    for key in dict.fromkeys(c.paper.key for c in rows):
        first = next(c for c in rows if c.paper.key == key)
        lines.append(f"{key}: {first.paper.citation}, arXiv {first.paper.arxiv}")
        lines += [f"  {c.id:<{width}}  {c.kind:<9}  figure {c.figure}: PASS when {c.expected}"
                  for c in rows if c.paper.key == key]
    return lines


def figures_table(scale: str = "quick") -> list[str]:
    """One line per figure: its name, paper and the command that draws it alone."""
    from rmtloss.papers import FIGURES

    width = max(len(n) for n in FIGURES)
    return [f"{name:<{width}}  {fig.paper.short:<28}  rmtloss run --cores all "
            f"results/{scale}/figures/{name}.pdf" for name, fig in FIGURES.items()]


def snakemake_args(args: list[str]) -> list[str]:
    """``args`` for Snakemake, with a target written after ``--config`` refused in one line.

    Snakemake reads every word after ``--config`` as a ``name=value`` pair, so a target placed there
    ends in two tracebacks; this says where targets go instead.
    """
    if "--config" in args:
        after = args[args.index("--config") + 1:]
        for word in after:
            if word.startswith("-"):
                break
            if "=" not in word:
                raise SystemExit(f"rmtloss run: '{word}' follows --config, which takes name=value pairs "
                                 f"only: put targets before --config (rmtloss run {word} --config scale=...)")
    return args


def _run(args: list[str]) -> int:
    snakefile = ROOT / "Snakefile"
    if not snakefile.is_file():
        raise SystemExit(f"rmtloss run: no Snakefile in {ROOT}: install rmtloss from its checkout "
                         "(pip install -e .)")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(snakefile), "--directory", str(ROOT),
           *snakemake_args(args)]
    # the jobs run `python` from PATH: this interpreter's (the .venv's, activated or not)
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "PATH": path}
    return subprocess.call(cmd, env=env)


def _diagnose(args: list[str]) -> int:
    from rmtloss.stages.diagnose import main as diagnose

    # your `_target_` modules import from the working folder (as with `python -m`) or the checkout (examples/)
    sys.path[:0] = [os.getcwd(), str(ROOT)]
    sys.argv = ["rmtloss diagnose", *args]
    diagnose()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rmtloss`` console command."""
    parser = argparse.ArgumentParser(prog="rmtloss", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("claims", help="list the claims of the ledger")
    c.add_argument("--paper", help="one paper's module name, e.g. granziol2022damping")
    f = sub.add_parser("figures", help="list the figures and the target that draws each")
    f.add_argument("--scale", default="quick")
    sub.add_parser("diagnose", help="diagnose one network (Hydra overrides follow)", add_help=False)
    sub.add_parser("run", help="run Snakemake on this checkout (Snakemake's arguments follow)",
                   add_help=False)
    s = sub.add_parser("summary", help="write results/summary.md from every scale's claims.csv")
    s.add_argument("--results", default=str(ROOT / "results"))
    s.add_argument("--readme", help="also write the table into this README between its summary markers")
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("diagnose", "run"):  # the rest belongs to Hydra or Snakemake
        return (_diagnose if argv[0] == "diagnose" else _run)(argv[1:])
    ns = parser.parse_args(argv)
    if ns.command == "claims":
        print("\n".join(claims_table(ns.paper)))
    elif ns.command == "figures":
        print("\n".join(figures_table(ns.scale)))
    elif ns.command == "summary":
        from rmtloss._io import write_text
        from rmtloss.summary import read_ledgers, read_trends, readme_table, update_readme, write_summary

        results = Path(ns.results)
        md = write_summary(results)
        print(md)
        if ns.readme:  # the counts and the empirical rows at the README's top; the whole table beside it
            readme = Path(ns.readme)
            table = readme_table(read_ledgers(results), read_trends(results))
            write_text(readme, update_readme(readme, table))
            write_text(readme.parent / "docs" / "summary.md", md.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
