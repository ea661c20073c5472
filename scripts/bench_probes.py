"""Throughput of the landscape probes: episodes/min on the batched path vs a single-env loop.

    python scripts/bench_probes.py [--horizon 10] [--repeats 3]
    python scripts/bench_probes.py --repeats 1 --candidates 8 --episodes 4 \
        --uniform-episodes 20000 --reference-episodes 2        # a few seconds: does it run?

Two probes on ``CombinationLock-v0`` (K = 2), each measured both ways in this one run:

* **uniform**: :func:`rlbench3.analysis.probes.hit_probability` (uniform random actions).
  Batched: the numpy vector env, 1024 copies. Single: the same function on an id registered
  without its vector entry point (its one-env loop).
* **MLP policy**: PPO ``MlpPolicy`` (64x64, tanh) initial policies, as
  :func:`rlbench3.analysis.landscape.landscape_probe` draws them. Batched:
  :func:`rlbench3.analysis.landscape.evaluate_parameters`: ``N`` candidates x ``M`` episodes per
  step, one ``vmap``-ed forward pass for all of them and one vector env (independent episodes), or
  one small vector env per candidate (``common_episodes=True``, the slices' layout). Single: one
  ``gymnasium.make`` env, SB3 ``policy.predict`` on one observation per step, candidate by
  candidate. Sampling the candidates is timed separately (it is paid once per candidate).

Every figure is the median of ``--repeats`` timed runs; torch runs with one thread (what the
probes use; see :func:`rlbench3.agents.threads.torch_threads`). Target: >= 10^6 lock
episodes/min on the batched path on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
import torch

import rlbench3.envs  # noqa: F401  (registers the ids)
from rlbench3.agents.threads import torch_threads
from rlbench3.analysis import landscape as L
from rlbench3.analysis.probes import hit_probability

LOCK = "rlbench3/CombinationLock-v0"
SINGLE = "rlbench3-bench/CombinationLockSingle-v0"


def timed(fn: Callable[[], int], repeats: int) -> float:
    """Median episodes per minute of ``fn`` (which returns the episodes it ran)."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        episodes = fn()
        rates.append(60.0 * episodes / (time.perf_counter() - start))
    return statistics.median(rates)


def single_env_policy_episodes(policies: list, episodes: int, deterministic: bool, **kw) -> int:
    """The reference loop: one env, one ``predict`` per step, candidate after candidate."""
    env = gym.make(SINGLE, **kw)
    done_episodes = 0
    for i, policy in enumerate(policies):
        obs, _ = env.reset(seed=i)
        for _ in range(episodes):
            done = False
            while not done:
                action, _ = policy.predict(obs, deterministic=deterministic)
                obs, _, terminated, truncated, _ = env.step(action)
                done = terminated or truncated
            obs, _ = env.reset()
            done_episodes += 1
    env.close()
    return done_episodes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--horizon", type=int, default=10, help="lock horizon H")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure (median)")
    parser.add_argument("--candidates", type=int, default=1024, help="N, batched MLP probe")
    parser.add_argument("--episodes", type=int, default=64, help="M per candidate, batched")
    parser.add_argument(
        "--uniform-episodes",
        type=int,
        default=2_000_000,
        help="episodes of the batched uniform probe (the single-env loop runs 1%%)",
    )
    parser.add_argument(
        "--reference-episodes",
        type=int,
        default=25,
        help="episodes per candidate of the single-env MLP loop (8 candidates)",
    )
    args = parser.parse_args(argv)
    kw = {"horizon": args.horizon}
    spec = gym.spec(LOCK)
    gym.register(SINGLE, entry_point=spec.entry_point)
    rows = []

    # -- uniform random policy ------------------------------------------------------------
    n_batched, n_single = args.uniform_episodes, max(1, args.uniform_episodes // 100)
    batched = timed(lambda: hit_probability(LOCK, n_batched, **kw).episodes, args.repeats)
    single = timed(lambda: hit_probability(SINGLE, n_single, **kw).episodes, args.repeats)
    rows.append(("uniform random (hit_probability)", batched, single))

    # -- PPO MlpPolicy initial policies -----------------------------------------------------
    start = time.perf_counter()
    policies = L.sample_policies(LOCK, args.candidates, seed=0, **kw)
    sample_s = time.perf_counter() - start
    params = L.stack_parameters(policies)
    n, m = args.candidates, args.episodes
    ref_policies = policies[:8]
    with torch_threads(1):
        for deterministic in (True, False):
            label = "MLP policy, " + ("deterministic" if deterministic else "sampled")

            def run_batched(common: bool = False, det: bool = deterministic) -> int:
                returns, _ = L.evaluate_parameters(
                    policies[0],
                    params,
                    LOCK,
                    m,
                    seed=0,
                    deterministic=det,
                    common_episodes=common,
                    **kw,
                )
                return returns.size

            def run_single(det: bool = deterministic) -> int:
                return single_env_policy_episodes(ref_policies, args.reference_episodes, det, **kw)

            single = timed(run_single, args.repeats)
            rows.append((label, timed(run_batched, args.repeats), single))
            rows.append(
                (
                    label + ", common episodes",
                    timed(lambda: run_batched(True), args.repeats),
                    single,
                )
            )
    gym.registry.pop(SINGLE)

    print(
        f"CombinationLock-v0, H={args.horizon}, K=2; torch {torch.__version__}, 1 thread; "
        f"median of {args.repeats}"
    )
    print(
        f"MLP probes: N={n} candidates x M={m} episodes batched; single-env loop: "
        f"{len(ref_policies)} candidates x {args.reference_episodes} episodes, SB3 predict per step"
    )
    print()
    print("| probe | batched episodes/min | single-env episodes/min | ratio |")
    print("|---|---:|---:|---:|")
    for label, b, s in rows:
        print(f"| {label} | {b:,.0f} | {s:,.0f} | {b / s:,.0f}x |")
    print()
    print(
        f"sampling {n} PPO initial policies: {sample_s:.2f} s ({1e3 * sample_s / n:.2f} ms each; "
        f"amortised over M={m} episodes: {60 * n * m / sample_s:,.0f} episodes/min)"
    )
    target = min(b for _, b, _ in rows)
    print(
        f"slowest batched probe: {target:,.0f} episodes/min (target >= 1,000,000): "
        f"{'met' if target >= 1e6 else 'NOT met'}"
    )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
