"""Orbit's throughput against Gymnasium's CartPole-v1, measured interleaved in one run.

    python scripts/bench_orbit.py [--seconds 0.5] [--repeats 7] [--copies 1024] [--clock cpu]

Three timings per round, one after the other, so that a busy machine slows them alike:
CartPole-v1 single (``gymnasium.make``), rlbench3/Orbit-v0 single (``gymnasium.make``, default
parameters) and Orbit batched (``gymnasium.make_vec``: the numpy OrbitVectorEnv, ``--copies``
copies). Actions are pre-drawn uniformly at random (``Space.sample`` alone costs more than a fast
env's step); episodes that end are reset (single) or autoreset (batched). Every figure is the
median over ``--repeats`` rounds, and each ratio is the median of the per-round ratios.
``--clock wall`` (default) times by the wall clock; ``--clock cpu`` by this process's CPU time,
which other processes on a shared machine do not inflate (the ratios then compare the work
each env does, not the share of the cores it got).

Targets (issue 15): Orbit single >= 1x CartPole-v1 single; 1024 batched copies >= 50x it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import rlbench3  # noqa: F401  (registers the ids)

ORBIT = "rlbench3/Orbit-v0"


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def single_rate(
    env: gym.Env, actions: list, seconds: float, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Env steps per second of ``env`` over about ``seconds`` of ``clock``."""
    steps, start = 0, clock()
    while clock() - start < seconds:
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        steps += len(actions)
    return steps / (clock() - start)


def batched_rate(
    envs: gym.vector.VectorEnv,
    actions: list,
    seconds: float,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Env steps per second (copies x calls) of ``envs`` over about ``seconds`` of ``clock``."""
    calls, start = 0, clock()
    while clock() - start < seconds:
        for action in actions:
            envs.step(action)
        calls += len(actions)
    return calls * envs.num_envs / (clock() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one timing")
    parser.add_argument("--repeats", type=int, default=7, help="rounds (medians are reported)")
    parser.add_argument("--copies", type=int, default=1024, help="copies of the batched env")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="wall", help="time by wall clock or CPU time"
    )
    args = parser.parse_args(argv)
    clock = CLOCKS[args.clock]

    rng = np.random.default_rng(0)
    cartpole = gym.make("CartPole-v1")
    cartpole.reset(seed=0)
    cartpole_actions = rng.integers(2, size=1024).tolist()
    orbit = gym.make(ORBIT)
    orbit.reset(seed=0)
    orbit_actions = list(rng.uniform(-1, 1, (1024, 2)).astype(np.float32))
    envs = gym.make_vec(ORBIT, num_envs=args.copies)
    envs.reset(seed=0)
    batch_actions = [rng.uniform(-1, 1, (args.copies, 2)).astype(np.float32) for _ in range(16)]

    rounds = []
    for _ in range(args.repeats):
        base = single_rate(cartpole, cartpole_actions, args.seconds, clock)
        single = single_rate(orbit, orbit_actions, args.seconds, clock)
        batched = batched_rate(envs, batch_actions, args.seconds, clock)
        rounds.append((base, single, batched))
    base, single, batched = (statistics.median(r[i] for r in rounds) for i in range(3))
    single_ratio = statistics.median(r[1] / r[0] for r in rounds)
    batched_ratio = statistics.median(r[2] / r[0] for r in rounds)
    own_ratio = statistics.median(r[2] / r[1] for r in rounds)

    print(
        f"| env | steps/s ({args.clock}) | vs CartPole-v1 single | target |  "
        f"({args.repeats} rounds, medians)"
    )
    print("|---|---:|---:|---:|")
    print(f"| CartPole-v1 single (gymnasium.make) | {base:,.0f} | 1.00x | |")
    print(f"| Orbit-v0 single (gymnasium.make) | {single:,.0f} | {single_ratio:.2f}x | >= 1x |")
    print(
        f"| Orbit-v0 batched, {args.copies} copies (make_vec) | {batched:,.0f} | "
        f"{batched_ratio:.1f}x | >= 50x |"
    )
    print(f"\nbatched vs Orbit single: {own_ratio:.1f}x")


if __name__ == "__main__":
    main()
