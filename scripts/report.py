"""One command per paper-style report: run a suite (resumably), then write every table and figure.

    python scripts/report.py SUITE [--out DIR] [--workers N] [--seeds N] [--budget STEPS]
                                   [--robust obs_noise,action_noise,fgsm]

Writes ``DIR/report/``: ``report.md`` (all tables inline, figures linked), each table as
Markdown, LaTeX and CSV (``swiss.*``, ``seeds.*``, ``gen.*``, ``robust-<kind>.*``) and each figure
as PNG and PDF (``curves``, ``frontier``, ``landscape``, ``profiles``, ``gaps``). Runs already in
``DIR`` are not redone, so re-running only renders.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rlbench3.analysis.robustness import perturbation_scores, robustness_table
from rlbench3.analysis.tables import render_results
from rlbench3.cli import main as cli
from rlbench3.harness.suites import load_suite
from rlbench3.plots import render_plot

TABLES = {
    "swiss": "Swiss-cheese trainability: final success, zero-signal batches, H50/d50 frontier",
    "seeds": "Seed variance: aggregates, spread, Henderson split test, seeds needed",
    "gen": "Generalization: per-split performance and gaps (Packer layout where trained on D/R)",
}
FIGURES = ("curves", "frontier", "landscape", "profiles", "gaps")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("suite")
    parser.add_argument("--out")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seeds", type=int)
    parser.add_argument("--budget", type=int)
    parser.add_argument("--robust", default="obs_noise,action_noise,fgsm",
                        help="comma-separated perturbation kinds ('' for none)")
    args = parser.parse_args()
    suite = load_suite(args.suite)
    out = Path(args.out or os.path.join("results", suite.name))
    run_args = ["run", args.suite, "--out", str(out), "--workers", str(args.workers)]
    for flag in ("seeds", "budget"):
        if getattr(args, flag) is not None:
            run_args += [f"--{flag}", str(getattr(args, flag))]
    status = cli(run_args)
    report = out / "report"
    report.mkdir(parents=True, exist_ok=True)
    lines = [f"# Report: suite `{suite.name}`", "", suite.description, ""]
    for kind, title in TABLES.items():
        for fmt, ext in (("md", "md"), ("latex", "tex"), ("csv", "csv")):
            (report / f"{kind}.{ext}").write_text(render_results(out, kind, fmt))
        lines += [f"## {title}", "", (report / f"{kind}.md").read_text(), ""]
    for kind in filter(None, args.robust.split(",")):
        frame = robustness_table(perturbation_scores(out, kind, [0.0, 0.05, 0.1, 0.2, 0.5]))
        (report / f"robust-{kind}.md").write_text(frame.to_markdown(index=False) + "\n")
        (report / f"robust-{kind}.tex").write_text(frame.to_latex(index=False))
        frame.to_csv(report / f"robust-{kind}.csv", index=False)
        lines += [f"## Weak generalization: final success under {kind} of size ε", "",
                  frame.to_markdown(index=False), ""]
    lines += ["## Figures", ""]
    for kind in FIGURES:
        for ext in ("png", "pdf"):
            render_plot(out, kind, report / f"{kind}.{ext}")
        lines += [f"![{kind}]({kind}.png)", ""]
    (report / "report.md").write_text("\n".join(lines))
    print(f"report written to {report / 'report.md'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
