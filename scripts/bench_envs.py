"""Environment throughput, measured against Gymnasium baselines in the same run.

    python scripts/bench_envs.py [--seconds 1.0] [--repeats 5]

Single envs are created with ``gymnasium.make`` (so the default wrappers are included for ours
and the baselines alike) and stepped with pre-generated uniform random actions (``Box.sample``
alone costs more than a fast env's step). Batched envs come from ``gymnasium.make_vec``. Every
figure is the median over ``--repeats`` timed runs; ratios are taken within this one run.

Targets (issue: core environments): CombinationLock >= 1.5x CartPole-v1, SparseReach >= 1.0x
CartPole-v1, ArmReach >= 1.0x Reacher-v5, batched path >= 100x its single env at 1024 copies.
Orbit (issue 15): single >= 1.0x CartPole-v1, 1024 batched copies >= 50x CartPole-v1 single.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

import rlbench3  # noqa: F401  (registers the ids)


def uniform_actions(space: spaces.Space, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniform random actions in one draw (``Space.sample`` per action is far slower)."""
    if isinstance(space, spaces.Discrete):
        return space.start + rng.integers(space.n, size=n)
    if isinstance(space, spaces.Box) and space.is_bounded():
        return rng.uniform(space.low, space.high, size=(n, *space.shape)).astype(space.dtype)
    raise TypeError(f"no uniform random policy for action space {space}")


def single_env_rate(env_id: str, seconds: float, repeats: int, **kwargs: Any) -> float:
    env = gym.make(env_id, **kwargs)
    actions = list(uniform_actions(env.action_space, np.random.default_rng(0), 4096))
    env.reset(seed=0)
    rates = []
    for _ in range(repeats):
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for action in actions[:1024]:
                _, _, terminated, truncated, _ = env.step(action)
                if terminated or truncated:
                    env.reset()
            steps += 1024
        rates.append(steps / (time.perf_counter() - start))
    env.close()
    return statistics.median(rates)


def batched_rate(env_id: str, num_envs: int, seconds: float, repeats: int, **kwargs: Any) -> float:
    envs = gym.make_vec(env_id, num_envs=num_envs, **kwargs)
    rng = np.random.default_rng(0)
    actions = [uniform_actions(envs.single_action_space, rng, num_envs) for _ in range(64)]
    envs.reset(seed=0)
    rates = []
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for a in actions:
                envs.step(a)
            calls += len(actions)
        rates.append(calls * num_envs / (time.perf_counter() - start))
    envs.close()
    return statistics.median(rates)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one timed run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per figure (median)")
    args = parser.parse_args(argv)
    t, r = args.seconds, args.repeats

    rates = {
        "CartPole-v1": single_env_rate("CartPole-v1", t, r),
        "Reacher-v5": single_env_rate("Reacher-v5", t, r),
        "CombinationLock-v0": single_env_rate("rlbench3/CombinationLock-v0", t, r),
        "SparseReach-v0": single_env_rate("rlbench3/SparseReach-v0", t, r),
        "ArmReach-v0": single_env_rate("rlbench3/ArmReach-v0", t, r),
        "Orbit-v0": single_env_rate("rlbench3/Orbit-v0", t, r),
        "CombinationLock-v0 (preset R)": single_env_rate(
            "rlbench3/CombinationLock-v0", t, r, preset="R"
        ),
        "SparseReach-v0 (preset R)": single_env_rate("rlbench3/SparseReach-v0", t, r, preset="R"),
        "ArmReach-v0 (preset R)": single_env_rate("rlbench3/ArmReach-v0", t, r, preset="R"),
        "Orbit-v0 (preset R)": single_env_rate("rlbench3/Orbit-v0", t, r, preset="R"),
    }
    baseline = {
        name: "Reacher-v5" if "ArmReach" in name or "Reacher" in name else "CartPole-v1"
        for name in rates
    }
    print("| single env (gymnasium.make) | steps/s | baseline | ratio |")
    print("|---|---:|---|---:|")
    for name, rate in rates.items():
        base = baseline[name]
        ratio = "" if name == base else f"{rate / rates[base]:.2f}x"
        print(f"| {name} | {rate:,.0f} | {'' if name == base else base} | {ratio} |")

    print("\n| batched (gymnasium.make_vec) | copies | env-steps/s | vs its single env |")
    print("|---|---:|---:|---:|")
    for family in ("CombinationLock-v0", "SparseReach-v0"):
        for n in (1, 64, 1024, 4096):
            rate = batched_rate(f"rlbench3/{family}", n, t, r)
            print(f"| {family} | {n} | {rate:,.0f} | {rate / rates[family]:.1f}x |")

    print("\n| batched (gymnasium.make_vec) | copies | env-steps/s | vs CartPole-v1 single |")
    print("|---|---:|---:|---:|")
    rate = batched_rate("rlbench3/Orbit-v0", 1024, t, r)
    print(f"| Orbit-v0 | 1024 | {rate:,.0f} | {rate / rates['CartPole-v1']:.1f}x |")


if __name__ == "__main__":
    main()
