"""Training speed: SB3 PPO (or A2C) through the project's path against the population trainer.

    python scripts/bench_training.py                       # lock + SparseReach, ~3 minutes
    python scripts/bench_training.py --sizes 1 8 --rounds 1 --steps 40000   # a quick look
    python scripts/bench_training.py --profile 64          # also cProfile the trainer at S=64
    python scripts/bench_training.py --algo a2c            # A2C: SB3 against PopulationA2C

Env steps per second per core (every measurement is one process with one torch thread) of

* **SB3**: ``rlbench3.harness.training.train_run`` of a PPO run config (``agents/ppo.yaml``, or
  ``agents/a2c.yaml`` with ``--algo a2c``, resolved for the env, DummyVecEnv of ``n_envs``
  copies, as every suite runs it), timed by the record's ``meta.train_seconds`` (``learn`` minus
  evaluation; evaluation only at start and end);
* **population**: :class:`rlbench3.agents.population.PopulationPPO` (``PopulationA2C``) with the
  same settings at S = ``--sizes`` seeds, timed around ``learn`` (setup, which builds every seed's
  SB3 policy for its initial weights, is reported apart),

on the lock (H=4, K=2) and SparseReach (d=2). Measurements are interleaved (every round runs
every configuration once, in order) so drifting load on a shared machine hits all of them alike,
and each reports the median over rounds of the wall-clock rate, with the CPU-time rate (process
time) beside it: on a shared machine the CPU-time rate is the steadier estimate of the per-core
speed. The ratio column is population / SB3 on the same env (medians). Target: >= 10x at S = 64
on the lock.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

import rlbench3  # noqa: F401  (registers the ids)
from rlbench3.agents.config import AgentSpec, load_agent
from rlbench3.agents.population import TRAINERS, PopulationTrainer
from rlbench3.harness.run_config import EvalSpec, RunConfig
from rlbench3.harness.training import train_run

ENVS = {
    "lock H=4 K=2": ("rlbench3/CombinationLock-v0", "CombinationLock", {"horizon": 4}),
    "SparseReach d=2": ("rlbench3/SparseReach-v0", "SparseReach", {"action_dim": 2}),
}


def agent_for(env_id: str, family: str, algo: str) -> AgentSpec:
    return load_agent(algo).resolve(env_id, family)


def trainer_for(
    env_id: str, family: str, params: dict[str, Any], size: int, algo: str
) -> PopulationTrainer:
    """The population trainer of ``algo``'s agent file, with seeds ``0 .. size - 1``."""
    agent = agent_for(env_id, family, algo)
    trainer_class = TRAINERS[agent.algo]
    settings = trainer_class.SETTINGS.from_agent(agent)
    return trainer_class(env_id, list(range(size)), settings, params)


def sb3_rate(
    env_id: str, family: str, params: dict[str, Any], steps: int, algo: str
) -> dict[str, float]:
    """train_run of one SB3 run: env steps per train second (wall and CPU)."""
    config = RunConfig(
        suite="bench",
        experiment="training",
        env_id=env_id,
        family=family,
        setting={},
        splits={"train": dict(params)},
        agent=agent_for(env_id, family, algo),
        seed=0,
        budget=steps,
        eval=EvalSpec(every=10 * steps, episodes=2),
    )
    wall, cpu = time.perf_counter(), time.process_time()
    record, _ = train_run(config)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    meta = record["meta"]
    # The call's CPU time less its wall time outside training (construction, the two
    # evaluations: CPU-bound, single-threaded) estimates the training's CPU time.
    train_cpu = cpu - (wall - meta["train_seconds"])
    return {
        "wall": meta["steps"] / meta["train_seconds"],
        "cpu": meta["steps"] / train_cpu,
        "setup": 0.0,
    }


def population_rate(
    env_id: str, family: str, params: dict[str, Any], size: int, steps: int, algo: str
) -> dict[str, float]:
    """The population trainer with ``size`` seeds for ``steps`` env steps in all (whole
    rollouts)."""
    start = time.perf_counter()
    trainer = trainer_for(env_id, family, params, size, algo)
    setup = time.perf_counter() - start
    settings = trainer.settings
    rollouts = max(4, round(steps / size / settings.rollout_size))
    wall, cpu = time.perf_counter(), time.process_time()
    trainer.learn(rollouts * settings.rollout_size)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    trainer.close()
    total = size * trainer.num_timesteps
    return {"wall": total / wall, "cpu": total / cpu, "setup": setup}


def measure(args: argparse.Namespace) -> dict[tuple[str, str], list[dict[str, float]]]:
    jobs: list[tuple[str, str, Callable[[], dict[str, float]]]] = []
    for name, (env_id, family, params) in ENVS.items():
        jobs.append(
            (
                name,
                "SB3",
                lambda e=env_id, f=family, p=params: sb3_rate(e, f, p, args.sb3_steps, args.algo),
            )
        )
        for size in args.sizes:
            jobs.append(
                (
                    name,
                    f"S={size}",
                    lambda e=env_id, f=family, p=params, s=size: population_rate(
                        e, f, p, s, args.steps, args.algo
                    ),
                )
            )
    # Warm-up: imports and first calls of every path.
    for env_id, family, params in ENVS.values():
        sb3_rate(env_id, family, params, 2048, args.algo)
        population_rate(env_id, family, params, 2, 1, args.algo)
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for round_ in range(args.rounds):
        for name, label, job in jobs:
            results.setdefault((name, label), []).append(job())
        print(f"round {round_ + 1}/{args.rounds} done", flush=True)
    return results


def report(results: dict[tuple[str, str], list[dict[str, float]]]) -> None:
    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    print(
        f"\n{'env':<17} {'trainer':<8} {'steps/s wall':>13} {'steps/s CPU':>12} "
        f"{'x SB3 wall':>10} {'x SB3 CPU':>10} {'setup s':>8}"
    )
    for name in ENVS:
        base = results[(name, "SB3")]
        for (env, label), rows in results.items():
            if env != name:
                continue
            wall, cpu = median(rows, "wall"), median(rows, "cpu")
            print(
                f"{name:<17} {label:<8} {wall:>13,.0f} {cpu:>12,.0f} "
                f"{wall / median(base, 'wall'):>10.1f} {cpu / median(base, 'cpu'):>10.1f} "
                f"{median(rows, 'setup'):>8.2f}"
            )


def profile(size: int, steps: int, algo: str, top: int = 25) -> str:
    env_id, family, params = ENVS["lock H=4 K=2"]
    trainer = trainer_for(env_id, family, params, size, algo)
    settings = trainer.settings
    trainer.learn(settings.rollout_size)  # warm-up
    rollouts = max(4, round(steps / size / settings.rollout_size))
    profiler = cProfile.Profile()
    profiler.enable()
    trainer.learn(trainer.num_timesteps + rollouts * settings.rollout_size)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(top)
    return stream.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--algo", choices=["ppo", "a2c"], default="ppo")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 8, 32, 64, 128])
    parser.add_argument("--steps", type=int, default=150_000, help="env steps per population run")
    parser.add_argument("--sb3-steps", type=int, default=20_000, help="env steps per SB3 run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved repetitions")
    parser.add_argument("--profile", type=int, metavar="S", help="also cProfile S seeds")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(
        f"{args.algo.upper()}; torch {torch.__version__}, 1 thread; population runs "
        f"~{args.steps:,} env steps "
        f"(at least 4 rollouts), SB3 runs {args.sb3_steps:,}; {args.rounds} rounds"
    )
    report(measure(args))
    if args.profile:
        print(profile(args.profile, args.steps, args.algo))


if __name__ == "__main__":
    main()
