"""One command per paper-style report: run a suite (resumably), then write every table and figure.

    python scripts/report.py SUITE [-r DIR] [--workers N] [--seeds N] [--budget STEPS]
                                   [--robust obs_noise,action_noise,fgsm] [--figures curves,...]

``-r/--results DIR`` is the results folder, as in ``rlbench3 run`` (default ``results/<suite>``).
Writes ``DIR/report/``: ``report.md`` (all tables inline, figures linked), each table as
Markdown, LaTeX and CSV (``swiss.*``, ``seeds.*``, ``gen.*``, ``robust-<kind>.*``) and each figure
as PNG and PDF (``curves``, ``frontier``, ``landscape``, ``profiles``, ``gaps``). Runs already in
``DIR`` are not redone, so re-running only renders. The cheapest check that it works: a tiny suite
file, ``--robust '' --figures curves``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rlbench3.analysis import robustness, tables
from rlbench3.analysis.robustness import perturbation_scores, robustness_table
from rlbench3.analysis.tables import render_results
from rlbench3.harness.sweep import run_suite
from rlbench3.plots import KINDS as FIGURES
from rlbench3.plots import render_plot

TITLES = {
    "swiss": "Swiss-cheese trainability: final success, zero-signal batches, H50/d50 frontier",
    "seeds": "Seed variance: aggregates, spread, Henderson split test, seeds needed",
    "gen": "Generalization: per-split performance and gaps (Packer layout where trained on D/R)",
}
EXTENSIONS = {"md": "md", "latex": "tex", "csv": "csv"}
EPSILONS = (0.0, 0.05, 0.1, 0.2, 0.5)


def kinds(text: str, valid: tuple[str, ...], flag: str) -> list[str]:
    """A comma-separated list of names from ``valid`` ('' for none)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in valid]
    if unknown:
        raise SystemExit(f"report.py: error: {flag}: unknown {unknown}; valid: {', '.join(valid)}")
    return names


def write_report(
    out: Path, description: str, name: str, robust: list[str], figures: list[str]
) -> Path:
    """Render every table and figure of the results folder ``out`` into ``out/report``."""
    report = out / "report"
    report.mkdir(parents=True, exist_ok=True)
    lines = [f"# Report: suite `{name}`", "", description, ""]
    for kind in tables.KINDS:
        for fmt in tables.FORMATS:
            (report / f"{kind}.{EXTENSIONS[fmt]}").write_text(render_results(out, kind, fmt))
        lines += [f"## {TITLES.get(kind, kind)}", "", (report / f"{kind}.md").read_text(), ""]
    for kind in robust:
        frame = robustness_table(perturbation_scores(out, kind, list(EPSILONS)))
        (report / f"robust-{kind}.md").write_text(frame.to_markdown(index=False) + "\n")
        (report / f"robust-{kind}.tex").write_text(frame.to_latex(index=False))
        frame.to_csv(report / f"robust-{kind}.csv", index=False)
        lines += [
            f"## Weak generalization: final success under {kind} of size ε",
            "",
            frame.to_markdown(index=False),
            "",
        ]
    if figures:
        lines += ["## Figures", ""]
    for kind in figures:
        for ext in ("png", "pdf"):
            render_plot(out, kind, report / f"{kind}.{ext}")
        lines += [f"![{kind}]({kind}.png)", ""]
    path = report / "report.md"
    path.write_text("\n".join(lines))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("suite", help="a shipped suite name (e.g. quick) or a path to a .yaml file")
    parser.add_argument(
        "-r", "--results", metavar="DIR", help="results folder (default: results/SUITE)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="runs in parallel")
    parser.add_argument("--seeds", type=int, help="seeds per setting (default: the suite's)")
    parser.add_argument("--budget", type=int, help="env steps per run (default: the suite's)")
    parser.add_argument(
        "--robust",
        default=",".join(robustness.KINDS),
        help="comma-separated perturbation kinds ('' for none; default: all)",
    )
    parser.add_argument(
        "--figures",
        default=",".join(FIGURES),
        help="comma-separated figure kinds ('' for none; default: all)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    robust = kinds(args.robust, robustness.KINDS, "--robust")
    figures = kinds(args.figures, FIGURES, "--figures")

    try:
        done = run_suite(
            args.suite,
            args.results,
            seeds=args.seeds,
            budget=args.budget,
            workers=args.workers,
            progress=not args.no_progress,
        )
    except ValueError as err:  # a bad suite or agent file (ConfigError), bad overrides
        print(f"report.py: error: {err}", file=sys.stderr)
        return 2
    run = done.report
    print(
        f"{done.suite.name}: {run.planned} runs planned, {run.skipped} already finished, "
        f"{run.finished} run now, {len(run.failed)} failed; results in {done.out}"
    )
    path = write_report(done.out, done.suite.description, done.suite.name, robust, figures)
    print(f"report written to {path}")
    return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(main())
