"""Coverage of the tables' intervals, measured by simulation on synthetic data with known truth.

Two kinds of cell, each at 3, 5 and 10 seeds:

* **Success-rate cells** (``swiss`` / ``seeds`` / ``gen`` tables): every seed of a cell has a
  true success probability drawn from a population of seeds (the scenario), is evaluated on a
  fixed number of episodes, and the cell reports the tables' aggregate of the per-seed success
  rates (the mean below ``MIN_SEEDS`` = 5 seeds, the IQM from 5 on) with the tables' interval,
  :func:`rlbench3.analysis.metrics.two_level_estimates` (seeds, then episodes within seeds;
  expanded-percentile ends). The truth is the population value of the same aggregate over a
  seed's observed success rate: its mean, or its interquartile mean (computed exactly from the
  distribution of a seed's rate, a binomial mixture).
* **H50 shift** (T6): two conditions on the same levels, each with its own true H50; the
  interval of :func:`rlbench3.analysis.metrics.frontier_shift` should hold the difference.
* **H50** (``swiss`` table's frontier): 6 difficulty levels 2, 4, ..., 12 with the given seeds
  per level, each seed succeeding with probability ``expit(-(x - h50) / scale)``; the interval
  is :func:`rlbench3.analysis.metrics.trainability_frontier`'s (profile likelihood). An end
  censored at the tested range counts as unbounded on that side.

Each line prints the coverage (the share of simulated data sets whose interval holds the
truth), the number of simulations and a 95% Clopper-Pearson interval on the coverage itself.
The README quotes the full run; ``tests/analysis/test_coverage.py`` (``pytest -m slow``) checks
a reduced one.

    .venv/bin/python scripts/coverage.py                  # about 15 minutes on 2 busy cores
    .venv/bin/python scripts/coverage.py --sims 200       # a quick look
    .venv/bin/python scripts/coverage.py --kind h50 --frontier-interval bootstrap
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from rlbench3.analysis import metrics as M

SEEDS = (3, 5, 10)
LEVELS = np.arange(2.0, 13.0, 2.0)


@dataclass(frozen=True)
class SuccessScenario:
    """A population of seeds: each seed's true success probability, and its episodes."""

    name: str
    episodes: int
    draw: Callable[[np.random.Generator, int], np.ndarray]  # (rng, seeds) -> probabilities
    pmf: Callable[[np.ndarray, int], np.ndarray]  # P(k successes of n), k = 0..n

    def rates(self) -> tuple[np.ndarray, np.ndarray]:
        """A seed's observed success rate: its values and their probabilities."""
        k = np.arange(self.episodes + 1)
        return k / self.episodes, self.pmf(k, self.episodes)

    def truth(self, aggregate: str) -> float:
        values, probs = self.rates()
        if aggregate == "mean":
            return float(np.sum(values * probs))
        # The interquartile mean of a discrete law: 2 ∫_{1/4}^{3/4} Q(u) du.
        upper = np.cumsum(probs)
        lower = upper - probs
        weight = np.clip(np.minimum(upper, 0.75) - np.maximum(lower, 0.25), 0.0, None)
        return float(2.0 * np.sum(values * weight))


SUCCESS_SCENARIOS = (
    # The zero-width case: seeds that do not differ, 50 episodes around 0.25.
    SuccessScenario(
        "identical seeds p=0.25, 50 episodes",
        50,
        lambda rng, n: np.full(n, 0.25),
        lambda k, n: stats.binom.pmf(k, n, 0.25),
    ),
    SuccessScenario(
        "p ~ Beta(2, 2), 20 episodes",
        20,
        lambda rng, n: rng.beta(2.0, 2.0, n),
        lambda k, n: stats.betabinom.pmf(k, n, 2.0, 2.0),
    ),
    SuccessScenario(
        "p ~ Beta(1, 4) (skewed), 20 episodes",
        20,
        lambda rng, n: rng.beta(1.0, 4.0, n),
        lambda k, n: stats.betabinom.pmf(k, n, 1.0, 4.0),
    ),
    # RL's usual shape: a seed either learns the task or it does not.
    SuccessScenario(
        "p = 0.1 or 0.9 (bimodal), 20 episodes",
        20,
        lambda rng, n: rng.choice([0.1, 0.9], n),
        lambda k, n: 0.5 * stats.binom.pmf(k, n, 0.1) + 0.5 * stats.binom.pmf(k, n, 0.9),
    ),
)

# (true H50, scale): a gentle curve, a steep one, a shallow one, and a near-step just past a
# level (the cliff of a task that is solved up to one horizon and never after).
FRONTIER_SCENARIOS = ((6.3, 1.5), (5.0, 0.8), (8.0, 3.0), (4.5, 0.1))


@dataclass(frozen=True)
class Coverage:
    label: str
    seeds: int
    hits: int
    sims: int

    @property
    def coverage(self) -> float:
        return self.hits / self.sims

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Clopper-Pearson interval of the coverage itself."""
        alpha = 1.0 - confidence
        k, n = self.hits, self.sims
        low = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
        high = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
        return low, high


def success_coverage(
    scenario: SuccessScenario,
    seeds: int,
    sims: int,
    *,
    seed: int = 0,
    reps: int = 1000,
    interval: str = "expanded",
) -> Coverage:
    """Coverage of a success-rate cell's interval (the tables' aggregate for ``seeds``)."""
    rng = np.random.default_rng([seed, seeds, sum(map(ord, scenario.name))])
    aggregate = M.central_aggregate(seeds)
    truth = scenario.truth(aggregate)
    hits = 0
    for _ in range(sims):
        p = scenario.draw(rng, seeds)
        episodes = [(rng.random(scenario.episodes) < q).astype(float) for q in p]
        est = M.two_level_estimates(
            episodes, rng, metrics=(aggregate,), reps=reps, interval=interval
        )[aggregate]
        hits += bool(est.low <= truth <= est.high)
    return Coverage(f"{scenario.name}: {aggregate}", seeds, hits, sims)


def h50_coverage(
    h50: float,
    scale: float,
    seeds: int,
    sims: int,
    *,
    seed: int = 0,
    interval: str = "profile",
    reps: int = 500,
) -> Coverage:
    """Coverage of the H50 interval with ``seeds`` seeds at each of :data:`LEVELS`."""
    rng = np.random.default_rng([seed, seeds, int(h50 * 100), int(scale * 100)])
    x = np.repeat(LEVELS, seeds)
    p = special.expit(-(x - h50) / scale)
    hits = 0
    for _ in range(sims):
        solved = (rng.random(x.size) < p).astype(float)
        # The profile interval needs no resampling: one replicate for the (unused) band.
        fr = M.trainability_frontier(
            x, solved, rng, reps=reps if interval != "profile" else 1, interval=interval
        )
        low = -np.inf if fr.low_censored else fr.low
        high = np.inf if fr.high_censored else fr.high
        hits += bool(low <= h50 <= high)
    return Coverage(f"H50 {h50:g}, scale {scale:g} ({interval})", seeds, hits, sims)


# (H50 without the remedy, H50 with it, scale): no shift, a moderate one, one to the top level.
SHIFT_SCENARIOS = ((6.0, 6.0, 1.5), (5.0, 8.0, 1.0), (4.0, 11.0, 1.0))


def shift_coverage(
    base: float,
    other: float,
    scale: float,
    seeds: int,
    sims: int,
    *,
    seed: int = 0,
    reps: int = 500,
    interval: str = "profile",
) -> Coverage:
    """Coverage of T6's H50-shift interval (:func:`rlbench3.analysis.metrics.frontier_shift`):
    two independent conditions on :data:`LEVELS` with ``seeds`` seeds per level; a shift
    reported as a bound (a midpoint outside the range) counts as covering when the bound holds."""
    rng = np.random.default_rng([seed, seeds, int(base * 100), int(other * 100), 7])
    x = np.repeat(LEVELS, seeds)
    pa, pb = special.expit(-(x - base) / scale), special.expit(-(x - other) / scale)
    truth, hits = other - base, 0
    for _ in range(sims):
        ya = (rng.random(x.size) < pa).astype(float)
        yb = (rng.random(x.size) < pb).astype(float)
        shift = M.frontier_shift(x, ya, x, yb, rng, reps=reps, interval=interval)
        low = -np.inf if shift.low_open else shift.low
        high = np.inf if shift.high_open else shift.high
        hits += bool(low <= truth <= high)
    return Coverage(f"shift {base:g} -> {other:g}, scale {scale:g} ({interval})", seeds, hits, sims)


def report(rows: list[Coverage], title: str) -> str:
    lines = [
        f"## {title}",
        "",
        "| cell | seeds | coverage | simulations | 95% CI of the coverage |",
        "|---|---:|---:|---:|---|",
    ]
    for r in rows:
        lo, hi = r.interval()
        lines.append(
            f"| {r.label} | {r.seeds} | {r.coverage:.3f} | {r.sims} | [{lo:.3f}, {hi:.3f}] |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=1000, help="simulated data sets per line")
    parser.add_argument("--kind", choices=("all", "success", "h50", "shift"), default="all")
    parser.add_argument("--seed", type=int, default=0, help="base seed of the simulations")
    parser.add_argument("--reps", type=int, default=1000, help="bootstrap replicates per interval")
    parser.add_argument("--interval", choices=M.INTERVALS, default="expanded")
    parser.add_argument(
        "--frontier-interval", choices=M.FRONTIER_INTERVALS, default="profile", dest="frontier"
    )
    parser.add_argument("--shift-interval", choices=("profile", "bootstrap"), default="profile")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(
        f"Nominal level 0.95; {args.sims} simulated data sets per line (base seed {args.seed}).\n"
    )
    if args.kind in ("all", "success"):
        rows = [
            success_coverage(
                s, n, args.sims, seed=args.seed, reps=args.reps, interval=args.interval
            )
            for s in SUCCESS_SCENARIOS
            for n in SEEDS
        ]
        title = (
            f"Success-rate cells: two-level bootstrap, {args.interval} ends, {args.reps} "
            "replicates (aggregate: mean below 5 seeds, IQM from 5)"
        )
        print(report(rows, title), flush=True)
    if args.kind in ("all", "h50"):
        rows = [
            h50_coverage(h, s, n, args.sims, seed=args.seed, interval=args.frontier, reps=args.reps)
            for h, s in FRONTIER_SCENARIOS
            for n in SEEDS
        ]
        title = (
            f"H50: levels {', '.join(f'{v:g}' for v in LEVELS)}, seeds per level as shown, "
            f"{args.frontier} interval"
        )
        print(report(rows, title), flush=True)
    if args.kind in ("all", "shift"):
        rows = [
            shift_coverage(
                a, b, s, n, args.sims, seed=args.seed, reps=args.reps, interval=args.shift_interval
            )
            for a, b, s in SHIFT_SCENARIOS
            for n in SEEDS[1:]
        ]
        title = (
            "H50 shift (T6): two conditions on the levels above, seeds per level as shown, "
            f"{args.shift_interval} interval"
        )
        print(report(rows, title), flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
