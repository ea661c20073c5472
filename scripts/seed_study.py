"""T3, seed variance: Henderson et al. (2018)'s split test, Agarwal et al. (2021)'s subsampling
study of the mean, median and IQM intervals, and the probability of ranking two agents wrongly,
for the cells of a results folder with enough seeds, or for synthetic pools.

    .venv/bin/python scripts/seed_study.py -r results/t3          # cells with >= 10 seeds
    .venv/bin/python scripts/seed_study.py --synthetic             # two 100-seed pools per setting
    .venv/bin/python scripts/seed_study.py --synthetic --format latex -o t3.tex

A cell is an experiment × setting × agent; its pool is the final train score of each of its
seeds (the mean over the run's final evaluation episodes). The split test runs on every cell, the
subsampling study treats each cell's seeds as the population (an N the cell cannot supply is a
row saying so), and the ranking error compares every pair of agents of one experiment × setting.
The tables go to stdout (or ``-o``); the time each study took goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from rlbench3.analysis import seed_study as S
from rlbench3.analysis.results import curves_frame, episodes_frame, stored_runs
from rlbench3.analysis.tables import FORMATS, protocol_text, run_scores
from rlbench3.harness.run_config import TRAIN


def results_cells(folder: str | Path, metric: str, min_seeds: int) -> tuple[S.Cells, str]:
    """Each cell's per-seed final train scores (cells of at least ``min_seeds`` seeds), and the
    evaluation protocol of their runs for the captions."""
    runs = stored_runs(folder)
    scores = run_scores(curves_frame(runs), episodes_frame(runs), metric=metric)
    if scores.empty:
        raise SystemExit(f"seed_study: no finished runs in {folder}")
    cells, skipped = S.seed_cells(scores, min_seeds)
    for line in skipped:
        print(f"seed_study: skipping {line}", file=sys.stderr)
    if not cells:
        raise SystemExit(f"seed_study: no cell in {folder} has {min_seeds} seeds or more")
    train = scores[scores["split"] == TRAIN]
    used = train[[tuple(map(str, k)) in cells for k in train[list(S.KEYS)].to_numpy()]]
    counts = used["episodes"].tolist() if "episodes" in used else []
    configs = {run.run_id: run.config for run in runs}
    return cells, protocol_text(used["run_id"].astype(str).unique(), configs, counts)


def synthetic_cells(pool: int, seed: int) -> tuple[S.Cells, str]:
    """Two settings with two agents each, ``pool`` seeds per agent: normal final returns (B's
    mean 0.3 standard deviations above A's), and bimodal success rates over 20 episodes (a seed
    solves the task, success ~ Beta(18, 2), with probability 0.6 for A and 0.5 for B, else
    Beta(1, 19))."""
    rng = np.random.default_rng(seed)

    def bimodal(p_solve: float) -> np.ndarray:
        solved = rng.random(pool) < p_solve
        p = np.where(solved, rng.beta(18, 2, pool), rng.beta(1, 19, pool))
        return rng.binomial(20, p) / 20

    cells: S.Cells = {
        ("synthetic", "normal returns", "a"): rng.normal(100.0, 20.0, pool),
        ("synthetic", "normal returns", "b"): rng.normal(106.0, 20.0, pool),
        ("synthetic", "bimodal success", "a"): bimodal(0.6),
        ("synthetic", "bimodal success", "b"): bimodal(0.5),
    }
    return cells, f"synthetic pools ({pool} seeds per agent, seed {seed}), no evaluation"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("-r", "--results", help="results folder written by `rlbench3 run`")
    source.add_argument("--synthetic", action="store_true", help="synthetic pools, no results")
    parser.add_argument("--pool", type=int, default=100, help="synthetic seeds per agent (100)")
    parser.add_argument("--min-seeds", type=int, default=10, help="smallest cell studied (10)")
    parser.add_argument(
        "--metric",
        choices=("success_rate", "mean_return"),
        default="success_rate",
        help="the final score of a run (success_rate)",
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(S.SIZES),
        help="numbers of seeds N to draw (3 5 10 20 50)",
    )
    parser.add_argument("--reps", type=int, default=200, help="draws per N, subsampling (200)")
    parser.add_argument(
        "--boot-reps", type=int, default=1000, help="bootstrap replicates per interval (1000)"
    )
    parser.add_argument(
        "--interval",
        choices=S.STUDY_INTERVALS,
        default="expanded",
        help="the intervals studied: the tables' (expanded, percentile) or "
        "rliable's (slow) (expanded)",
    )
    parser.add_argument("--rank-reps", type=int, default=1000, help="draws per N, ranking (1000)")
    parser.add_argument(
        "--aggregate",
        choices=S.STUDY_AGGREGATES,
        default="iqm",
        help="the aggregate that ranks two agents (iqm)",
    )
    parser.add_argument(
        "--max-splits",
        type=int,
        default=2000,
        help="split test: all splits up to this many, else this many random",
    )
    parser.add_argument(
        "--normal-sims",
        type=int,
        default=500,
        help="split test: simulated normal data sets of the reference (500)",
    )
    parser.add_argument("--seed", type=int, default=0, help="base seed of every draw (0)")
    parser.add_argument("--format", choices=FORMATS, default="md", help="table format (md)")
    parser.add_argument("-o", "--output", help="write the tables to this file (else stdout)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    if args.synthetic:
        cells, protocol = synthetic_cells(args.pool, args.seed)
    else:
        cells, protocol = results_cells(args.results, args.metric, args.min_seeds)
    try:
        settings = S.StudySettings(
            sizes=tuple(args.sizes),
            reps=args.reps,
            boot_reps=args.boot_reps,
            interval=args.interval,
            rank_reps=args.rank_reps,
            aggregate=args.aggregate,
            max_splits=args.max_splits,
            normal_sims=args.normal_sims,
            seed=args.seed,
            min_seeds=args.min_seeds,
        )
        sections, times = S.study(cells, settings, protocol)
    except ValueError as err:
        parser.error(str(err))
    text = S.render(sections, args.format)
    if args.output:
        Path(args.output).write_text(text)
    else:
        print(text)
    sizes = sorted({len(v) for v in cells.values()})
    spent = ", ".join(f"{k} {v:.1f} s" for k, v in times.items())
    print(
        f"seed_study: {len(cells)} cells of {'/'.join(map(str, sizes))} seeds: {spent}; "
        f"{time.perf_counter() - started:.1f} s in all",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
