"""Smoke check of Packer et al. (2018)'s D/R/E protocol on randomized CartPole.

PPO (agents/ppo.yaml) is trained on CartPole-D, -R and -E with a small budget and a few seeds,
and every trained policy is evaluated (deterministically, the same evaluation episodes for every
train setting) on D, R and E. Prints the 3 x 3 train x test table of success rates (the mean over
seeds, with a 95% CI from a two-level bootstrap: seeds, then episodes within a seed), Packer et
al.'s summary numbers (Default = DD, Interpolation = RR, Extrapolation = geometric mean of DR,
DE and RE), and checks the protocol's basic claim: trained on R, PPO succeeds on R at least as
often as trained on D. Exit status 0 if it holds, 1 if not.

    .venv/bin/python scripts/packer_smoke.py                    # about 1.5 minutes on 2 cores
    .venv/bin/python scripts/packer_smoke.py --budget 50000 --seeds 8
    .venv/bin/python scripts/packer_smoke.py --budget 512 --seeds 1 --episodes 4  # does it run?
"""

from __future__ import annotations

import argparse
import concurrent.futures
import math
import sys
import time

import numpy as np

from rlbench3.agents.config import load_agent
from rlbench3.harness.run_config import EvalSpec, RunConfig
from rlbench3.harness.training import train_run

ENV_ID = "rlbench3/CartPole-v0"
FAMILY = "CartPole"
PRESETS = ("D", "R", "E")
SPLITS = {
    "D": {"preset": "D"},
    "R": {"preset": "R"},
    "E": {"preset": "E", "extreme_sampling": "length"},
}


def run_config(train: str, seed: int, budget: int, episodes: int) -> RunConfig:
    return RunConfig(
        suite="packer-smoke",
        experiment=f"cartpole-train-{train}",
        env_id=ENV_ID,
        family=FAMILY,
        setting={},
        splits={"train": {"preset": train}, **SPLITS},
        agent=load_agent("ppo").resolve(ENV_ID, FAMILY),
        seed=seed,
        budget=budget,
        eval=EvalSpec(every=budget, episodes=episodes),  # before and after training
    )


def train_and_evaluate(args: tuple[str, int, int, int]) -> tuple[str, int, dict[str, np.ndarray]]:
    train, seed, budget, episodes = args
    record, _policy = train_run(run_config(train, seed, budget, episodes))
    finals = {s: np.array(record["final"][s]["successes"], dtype=float) for s in PRESETS}
    return train, seed, finals


def bootstrap_ci(
    per_seed: list[np.ndarray], reps: int = 4000, seed: int = 0
) -> tuple[float, float]:
    """95% percentile CI of the mean success over seeds: resample seeds, then episodes."""
    rng = np.random.default_rng(seed)
    data = np.stack(per_seed)  # seeds x episodes
    n_seeds, n_episodes = data.shape
    seeds = rng.integers(n_seeds, size=(reps, n_seeds))
    episodes = rng.integers(n_episodes, size=(reps, n_seeds, n_episodes))
    means = data[seeds[:, :, None], episodes].mean(axis=(1, 2))
    low, high = np.quantile(means, [0.025, 0.975])
    return float(low), float(high)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=60_000, help="env steps per run")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per train setting")
    parser.add_argument("--episodes", type=int, default=100, help="evaluation episodes per split")
    parser.add_argument("--workers", type=int, default=2, help="runs in parallel")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    jobs = [(t, s, args.budget, args.episodes) for t in PRESETS for s in range(args.seeds)]
    results: dict[str, dict[str, list[np.ndarray]]] = {t: {s: [] for s in PRESETS} for t in PRESETS}
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.workers) as pool:
        for train, _, finals in sorted(pool.map(train_and_evaluate, jobs), key=lambda r: r[:2]):
            for split in PRESETS:
                results[train][split].append(finals[split])

    print(
        f"PPO on {ENV_ID}: {args.budget} steps x {args.seeds} seeds per train setting, "
        f"{args.episodes} evaluation episodes per split and seed "
        f"({time.perf_counter() - started:.0f} s)\n"
    )
    mean = {
        t: {s: float(np.mean([r.mean() for r in results[t][s]])) for s in PRESETS} for t in PRESETS
    }
    print("success rate, mean over seeds [95% CI]   (rows: trained on; columns: tested on)")
    print(f"{'train':>6} | " + " | ".join(f"{'test ' + s:^22}" for s in PRESETS))
    for train in PRESETS:
        cells = []
        for split in PRESETS:
            low, high = bootstrap_ci(results[train][split])
            cells.append(f"{mean[train][split]:.3f} [{low:.3f}, {high:.3f}]")
        print(f"{train:>6} | " + " | ".join(f"{c:^22}" for c in cells))
    print("\nper seed:")
    for train in PRESETS:
        for split in PRESETS:
            rates = " ".join(f"{r.mean():.2f}" for r in results[train][split])
            print(f"  train {train} test {split}: {rates}")

    extrapolation = math.prod(mean[t][s] for t, s in (("D", "R"), ("D", "E"), ("R", "E"))) ** (
        1 / 3
    )
    print(
        f"\nPacker et al.'s summary: Default (DD) {mean['D']['D']:.3f}, "
        f"Interpolation (RR) {mean['R']['R']:.3f}, "
        f"Extrapolation (geomean DR, DE, RE) {extrapolation:.3f}"
    )
    ok = mean["R"]["R"] >= mean["D"]["R"]
    print(
        f"check: trained on R, success on R ({mean['R']['R']:.3f}) >= trained on D "
        f"({mean['D']['R']:.3f}): {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
