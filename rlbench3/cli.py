"""The ``rlbench3`` command line.

rlbench3 envs                        list registered environments and their parameters
rlbench3 hit ID [-p key=value ...]   random-policy hit probability of one env setting
rlbench3 survey                      the env list, then a random-policy hit-probability table
rlbench3 run SUITE [options]         run a suite (envs/SUITE.yaml): train, evaluate, record
rlbench3 ls DIR                      which runs of a results folder are finished/failed/missing
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import pandas as pd
import yaml

import rlbench3
from rlbench3.analysis.probes import hit_probability
from rlbench3.data.yaml_lines import ConfigError
from rlbench3.envs.presets import all_presets

# The survey table: one difficulty knob per family, everything else at the defaults.
SURVEY_HIT_TABLE: tuple[tuple[str, str, tuple[int, ...], int], ...] = (
    ("rlbench3/CombinationLock-v0", "horizon", (1, 2, 4, 6, 8, 10, 12), 200_000),
    ("rlbench3/SparseReach-v0", "action_dim", (1, 2, 3, 4, 6), 100_000),
    ("rlbench3/ArmReach-v0", "n_joints", (1, 2, 3, 5), 1_000),
)


# Ids built from other ids, with no parameters of their own to list.
COMPOSITE_IDS = {"rlbench3/Mixture-v0": "env=ID, components=[{...}, ...], weights=[...]"}


def parse_assignment(text: str) -> tuple[str, Any]:
    """``key=value`` with the value read as YAML (numbers, strings, ``{low: 1, high: 2}``)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key.strip(), yaml.safe_load(value)


def env_table() -> str:
    """Registered ids, their parameters (default and valid range) and presets, as text."""
    lines = []
    presets = all_presets()
    for env_id in rlbench3.registered_ids():
        if env_id in COMPOSITE_IDS:
            lines.append(f"{env_id}  (composite: {COMPOSITE_IDS[env_id]})")
            continue
        params = gym.make(env_id).unwrapped.params
        family = type(params).family
        lines.append(f"{env_id}  (presets: {', '.join(presets.get(family, {}))})")
        for name, text in type(params).describe().items():
            lines.append(f"    {name:<18} {text}")
    return "\n".join(lines)


def hit_table(rows: Sequence[tuple[str, str, Sequence[int], int]], seed: int = 0) -> pd.DataFrame:
    """Random-policy hit probability (95% Clopper-Pearson CI) per env setting."""
    records = []
    for env_id, knob, values, episodes in rows:
        for value in values:
            start = time.perf_counter()
            est = hit_probability(env_id, episodes, seed=seed, **{knob: value})
            record = {
                "env": env_id.split("/")[1],
                "setting": f"{knob}={value}",
                "episodes": est.episodes,
                "hit probability": f"{est.probability:.4g}",
                "95% CI": f"[{est.low:.3g}, {est.high:.3g}]",
                "seconds": round(time.perf_counter() - start, 2),
            }
            if env_id.startswith("rlbench3/CombinationLock"):
                num_actions = gym.make(env_id).unwrapped.num_actions
                record["closed form"] = f"{num_actions**-value:.4g}"
            records.append(record)
    return pd.DataFrame.from_records(records).fillna("")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rlbench3", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("envs", help="list registered environments and their parameters")
    hit = sub.add_parser("hit", help="random-policy hit probability of one env setting")
    hit.add_argument("env_id")
    hit.add_argument(
        "-p",
        "--param",
        action="append",
        type=parse_assignment,
        default=[],
        metavar="KEY=VALUE",
        help="env parameter (repeatable), e.g. -p horizon=8",
    )
    hit.add_argument("--episodes", type=int, default=100_000)
    hit.add_argument("--seed", type=int, default=0)
    survey = sub.add_parser("survey", help="env list and a random-policy hit-probability table")
    survey.add_argument("--seed", type=int, default=0)
    run = sub.add_parser("run", help="run a suite: train, evaluate, record (resumable)")
    run.add_argument("suite", help="a suite name (envs/NAME.yaml) or a path to a suite file")
    run.add_argument("--agents", nargs="+", help="agent names (agents/NAME.yaml); default: suite's")
    run.add_argument("--seeds", type=int, help="seeds per setting; default: the suite's")
    run.add_argument("--budget", type=int, help="env steps per run; default: the suite's")
    run.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    run.add_argument("--backend", choices=("process", "ray"), default="process")
    run.add_argument("--ray-address", help="address of a running Ray cluster (with --backend ray)")
    run.add_argument("--out", help="results folder; default: results/SUITE")
    run.add_argument("--dry-run", action="store_true", help="list the runs and a cost estimate")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    ls = sub.add_parser("ls", help="finished, failed, corrupt and missing runs of a results folder")
    ls.add_argument("out")
    table = sub.add_parser("table", help="trainability, seed-variance or generalization tables")
    table.add_argument("out", help="a results folder (from rlbench3 run)")
    table.add_argument("--kind", choices=("swiss", "seeds", "gen"), required=True)
    table.add_argument("--format", choices=("md", "latex", "csv"), default="md")
    table.add_argument("--reps", type=int, default=2000, help="bootstrap resamples")
    table.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    plot = sub.add_parser("plot", help="figures: curves, frontier, landscape, profiles, gaps")
    plot.add_argument("out", help="a results folder (from rlbench3 run)")
    plot.add_argument(
        "--kind", choices=("curves", "frontier", "landscape", "profiles", "gaps"), required=True
    )
    plot.add_argument("--out", dest="path", required=True, help="FILE.png or FILE.pdf")
    robust = sub.add_parser("robust", help="trained policies under obs/action noise or FGSM")
    robust.add_argument("out", help="a results folder (from rlbench3 run)")
    robust.add_argument("--kind", choices=("obs_noise", "action_noise", "fgsm"), required=True)
    robust.add_argument("--eps", type=float, nargs="+", default=[0.0, 0.05, 0.1, 0.2, 0.5])
    robust.add_argument("--episodes", type=int, default=50)
    robust.add_argument("--format", choices=("md", "latex", "csv"), default="md")
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigError as err:
        print(f"rlbench3: error: {err}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:

    if args.command == "envs":
        print(env_table())
    elif args.command == "hit":
        est = hit_probability(args.env_id, args.episodes, seed=args.seed, **dict(args.param))
        print(
            f"{args.env_id} {dict(args.param)}: hit probability {est.probability:.6g} "
            f"({est.hits}/{est.episodes}), 95% CI [{est.low:.4g}, {est.high:.4g}]"
        )
    elif args.command == "survey":
        print("# Registered environments\n")
        print(env_table())
        print("\n# Random-policy hit probability (sparse reward, 95% Clopper-Pearson CI)\n")
        print(hit_table(SURVEY_HIT_TABLE, seed=args.seed).to_markdown(index=False))
    elif args.command == "run":
        return run_suite(args)
    elif args.command == "table":
        from rlbench3.analysis.tables import render_results

        print(render_results(args.out, args.kind, args.format, reps=args.reps, seed=args.seed))
    elif args.command == "plot":
        from rlbench3.plots import render_plot

        print(render_plot(args.out, args.kind, args.path))
    elif args.command == "robust":
        from rlbench3.analysis.robustness import perturbation_scores, robustness_table

        scores = perturbation_scores(args.out, args.kind, args.eps, episodes=args.episodes)
        frame = robustness_table(scores)
        print(
            f"Final success under {args.kind} of size ε (train distribution; mean over seeds, "
            "95% percentile-bootstrap CI)\n"
        )
        if args.format == "md":
            print(frame.to_markdown(index=False))
        elif args.format == "latex":
            print(frame.to_latex(index=False))
        else:
            print(frame.to_csv(index=False), end="")
    elif args.command == "ls":
        from rlbench3.analysis.results import status_table

        table = status_table(args.out)
        print(table.to_markdown(index=False) if len(table) else f"no runs in {args.out}")
    return 0


def run_suite(args: argparse.Namespace) -> int:
    from rlbench3.analysis.results import load
    from rlbench3.analysis.tables import render_results
    from rlbench3.harness.storage import RunStore
    from rlbench3.harness.sweep import default_out, estimate_seconds, plan_suite, run_suite

    if args.workers < 1:
        raise ConfigError(f"--workers must be an integer >= 1, got {args.workers}")
    if args.dry_run:
        suite, runs = plan_suite(args.suite, agents=args.agents, seeds=args.seeds, budget=args.budget)
        out = args.out or default_out(suite)
        store = RunStore(out)
        frame = pd.DataFrame(
            [
                {
                    "run_id": r.run_id,
                    "experiment": r.experiment,
                    "setting": r.label,
                    "agent": r.agent.name,
                    "seed": r.seed,
                    "budget": r.budget,
                    "state": store.status(r.run_id).state,
                }
                for r in runs
            ]
        )
        print(frame.to_markdown(index=False))
        todo = [r for r, state in zip(runs, frame["state"]) if state != "finished"]
        measured = {}
        if next(store.finished_ids(), None) is not None:  # earlier runs: their measured speeds
            done = load(out)
            measured = done.groupby("algo")["steps_per_second"].median().to_dict()
        minutes = estimate_seconds(todo, args.workers, measured) / 60
        steps = sum(r.budget for r in todo)
        print(
            f"\n{len(runs)} runs, {len(runs) - len(todo)} already finished in {out}; "
            f"{len(todo)} to run, {steps:,} env steps: roughly {minutes:.1f} min on "
            f"{args.workers} worker(s), before evaluation"
        )
        return 0
    start = time.perf_counter()
    done = run_suite(
        args.suite,
        args.out,
        agents=args.agents,
        seeds=args.seeds,
        budget=args.budget,
        workers=args.workers,
        backend=args.backend,
        ray_address=args.ray_address,
        progress=not args.no_progress,
    )
    report = done.report
    print(
        f"{done.suite.name}: {report.planned} runs planned, {report.skipped} already finished, "
        f"{report.finished} run now, {len(report.failed)} failed, {len(report.corrupt)} corrupt "
        f"records re-run ({time.perf_counter() - start:.0f} s); results in {done.out}\n"
    )
    print(render_results(done.out, "swiss", run_ids={r.run_id for r in done.runs}))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
