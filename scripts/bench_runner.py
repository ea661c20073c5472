"""Harness overhead and sweep parallelism, measured against bare SB3 in the same run.

    python scripts/bench_runner.py [--budget 20000] [--repeats 5] [--sweep-runs 4]
                                   [--sweep-budget 100000] [--no-sweep] [--profile]
    python scripts/bench_runner.py --budget 1024 --repeats 1 --sweep-runs 2 \
        --sweep-budget 1024                                   # under a minute: does it run?

1. Overhead: ``train_run`` of a PPO config from ``envs/quick.yaml`` (CombinationLock, H=8,
   2 splits) against a bare ``PPO(...).learn(budget)`` on the same env construction, n_envs,
   hyperparameters and seed (torch threads = 1 in both). Timed pairs alternate bare/harness and
   the ratio is taken per pair, reported as the median (and the fastest-of-each ratio, which is
   less sensitive to other load on the machine):

   * train-only: the record's ``meta.train_seconds`` (``learn`` time minus evaluation) / bare
     ``learn`` time. Target <= 1.05.
   * total: ``train_seconds + eval_seconds`` (the whole ``learn`` call, periodic evaluation of
     every split included) / bare ``learn`` time; evaluation is work a bare run does not do.
   * the whole ``train_run`` call (env, model and evaluator construction too) / bare
     construction + ``learn``.

2. The 2 cores are used: the same ``--sweep-runs`` runs through
   :func:`rlbench3.harness.sweep.execute` with workers=1 and workers=2 (temporary output
   folders), their wall-clock ratio, and a check that both give the same records.

``--profile`` also prints the top of a cProfile of one ``train_run``.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import pstats
import statistics
import tempfile
import time
from typing import Any

import torch

import rlbench3  # noqa: F401  (registers the ids)
from rlbench3.harness.run_config import RunConfig
from rlbench3.harness.storage import RunStore
from rlbench3.harness.sweep import execute, plan_suite
from rlbench3.harness.training import make_model, train_run, training_env


def lock_runs(budget: int, seeds: int, horizon: int) -> list[RunConfig]:
    """quick.yaml's PPO runs of the lock-horizon experiment at ``horizon``, by seed."""
    _, runs = plan_suite("quick", agents=["ppo"], seeds=seeds, budget=budget)
    return [r for r in runs if r.experiment == "lock-horizon" and r.setting == {"horizon": horizon}]


def ppo_config(budget: int, horizon: int = 8, seed: int = 0) -> RunConfig:
    for config in lock_runs(budget, seed + 1, horizon):
        if config.seed == seed:
            return config
    raise LookupError(f"no lock-horizon run with horizon={horizon}, seed={seed} in quick.yaml")


def bare_run(config: RunConfig) -> tuple[float, float]:
    """The same model on the same env as train_run (its own builders), without the harness.

    Returns (construction seconds, learn seconds)."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    venv = training_env(config)
    model = make_model(config, venv)
    built = time.perf_counter()
    model.learn(total_timesteps=config.budget)
    done = time.perf_counter()
    venv.close()
    return built - start, done - built


def harness_run(config: RunConfig) -> tuple[dict[str, Any], float]:
    """train_run's record and the wall-clock seconds of the whole call."""
    start = time.perf_counter()
    record, _policy = train_run(config)
    return record, time.perf_counter() - start


def overhead(budget: int, repeats: int) -> dict[str, Any]:
    config = ppo_config(budget)
    bare_run(config)  # warm-up: imports, first-call costs
    rows = []
    for _ in range(repeats):
        build, learn = bare_run(config)
        record, wall = harness_run(config)
        meta = record["meta"]
        rows.append(
            {
                "bare_learn": learn,
                "bare_total": build + learn,
                "train": meta["train_seconds"],
                "eval": meta["eval_seconds"],
                "wall": wall,
                "steps": meta["steps"],
                "eval_steps": meta["eval_env_steps"],
            }
        )

    def ratios(num: Any, den: str) -> tuple[float, float]:
        per_pair = [num(r) / r[den] for r in rows]
        fastest = min(num(r) for r in rows) / min(r[den] for r in rows)
        return statistics.median(per_pair), fastest

    return {
        "config": config,
        "rows": rows,
        "train": ratios(lambda r: r["train"], "bare_learn"),
        "total": ratios(lambda r: r["train"] + r["eval"], "bare_learn"),
        "wall": ratios(lambda r: r["wall"], "bare_total"),
    }


def sweep_speedup(n_runs: int, budget: int) -> dict[str, Any]:
    runs = lock_runs(budget, n_runs, horizon=4)[:n_runs]
    if len(runs) < n_runs:
        raise LookupError(f"only {len(runs)} runs planned, wanted {n_runs}")
    seconds, records = {}, {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory(prefix=f"bench-runner-w{workers}-") as out:
            start = time.perf_counter()
            report = execute(runs, out, workers=workers, progress=False)
            seconds[workers] = time.perf_counter() - start
            if report.finished != len(runs) or report.failed:
                raise RuntimeError(f"workers={workers}: {report}")
            store = RunStore(out)
            records[workers] = {
                r.run_id: _without_timings(store.read(r.run_id).record) for r in runs
            }
    return {
        "runs": len(runs),
        "budget": budget,
        "seconds": seconds,
        "speedup": seconds[1] / seconds[2],
        "same_records": records[1] == records[2],
    }


def _without_timings(record: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(record)
    for point in out["curve"]:
        point.pop("wall_time", None)
    for key in ("train_seconds", "eval_seconds", "steps_per_second", "host"):
        out["meta"].pop(key, None)
    return out


def profile(budget: int, top: int = 25) -> str:
    config = ppo_config(budget)
    profiler = cProfile.Profile()
    profiler.enable()
    train_run(config)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(top)
    return stream.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=20_000, help="env steps per timed run")
    parser.add_argument("--repeats", type=int, default=5, help="timed bare/harness pairs")
    parser.add_argument("--sweep-runs", type=int, default=4, help="runs of the workers=1/2 part")
    parser.add_argument(
        "--sweep-budget", type=int, default=100_000, help="env steps per run of the sweep part"
    )
    parser.add_argument("--no-sweep", action="store_true", help="skip the workers=1/2 part")
    parser.add_argument("--profile", action="store_true", help="cProfile one train_run")
    args = parser.parse_args(argv)

    result = overhead(args.budget, args.repeats)
    config, rows = result["config"], result["rows"]
    print(
        f"PPO on {config.env_id} {config.label}, n_envs={config.agent.n_envs}, "
        f"budget {config.budget} ({rows[0]['steps']} steps taken), eval every "
        f"{config.eval.every} x {config.eval.episodes} episodes on "
        f"{len(config.splits)} splits ({rows[0]['eval_steps']} eval env steps), "
        f"{args.repeats} pairs\n"
    )
    print(
        "| pair | bare learn s | harness train s | harness eval s | bare total s | harness "
        "train_run s |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for i, r in enumerate(rows):
        print(
            f"| {i} | {r['bare_learn']:.2f} | {r['train']:.2f} | {r['eval']:.2f} | "
            f"{r['bare_total']:.2f} | {r['wall']:.2f} |"
        )
    print("\n| overhead vs bare SB3 | median of pairs | fastest / fastest | target |")
    print("|---|---:|---:|---|")
    labels = {
        "train": ("train-only (train_seconds / bare learn)", "<= 1.05"),
        "total": ("total learn incl. evaluation / bare learn", ""),
        "wall": ("whole train_run / bare build + learn", ""),
    }
    for key, (label, target) in labels.items():
        median, fastest = result[key]
        print(f"| {label} | {median:.3f}x | {fastest:.3f}x | {target} |")
    train = result["train"][0]
    eval_share = result["total"][0] - train
    verdict = "meets" if train <= 1.05 else "MISSES"
    print(
        f"\nTrain-time overhead {100 * (train - 1):+.1f}% ({verdict} the 5% target); evaluation "
        f"adds another {100 * eval_share:.1f}% of the bare learn time."
    )

    if not args.no_sweep:
        sweep = sweep_speedup(args.sweep_runs, args.sweep_budget)
        print(
            f"\n| sweep.execute, {sweep['runs']} PPO runs x {sweep['budget']} steps | wall s |\n"
            "|---|---:|"
        )
        for workers, seconds in sweep["seconds"].items():
            print(f"| workers={workers} | {seconds:.1f} |")
        print(f"| speed-up 1 -> 2 workers | {sweep['speedup']:.2f}x |")
        print(f"\nSame records with 1 and 2 workers: {sweep['same_records']}")

    if args.profile:
        print("\n```\n" + profile(args.budget) + "```")


if __name__ == "__main__":
    main()
