"""Seed variance studies (table T3): how far a handful of seeds can be trusted.

Small pure functions on arrays, in the manner of :mod:`rlbench3.analysis.metrics` (shapes in
the docstrings; every function that draws random numbers takes ``rng``, a
:class:`numpy.random.Generator` or an integer seed, never ``None``):

* :func:`henderson_splits`: Henderson et al. (2018). Split the seeds of *one* procedure into two
  disjoint groups (5 and 5 for 10 seeds), run Welch's t-test on every split, and compare the share
  of "significant" splits with what i.i.d. normal scores of the same number of seeds give.
* :func:`subsample_study`: Agarwal et al. (2021). Treat a large pool of seeds as the population,
  draw N of them many times, and measure the width and the coverage of the mean, median and IQM
  intervals at each N.
* :func:`ranking_error`: the probability that N seeds of each of two agents rank them the other
  way round from their full pools.
* :func:`henderson_section`, :func:`subsample_section`, :func:`ranking_section` and
  :func:`render`: the T3 tables as titled numeric DataFrames (an estimate ``x`` is the columns
  ``x``, ``x_low``, ``x_high``), rendered in Markdown, LaTeX or CSV by
  :func:`rlbench3.analysis.tables.render_sections`.

The pool is a finite population: N seeds drawn *without* replacement from P vary less than N
seeds of the infinite population of runs (by the finite-population factor ``(P − N) / (P − 1)``
for the mean), so an interval built for the infinite population covers the pool's value more
often than its nominal level as N nears P. Draw with replacement (``replace=True``) to make the
pool the empirical distribution instead, which removes that effect.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from rlbench3.analysis import metrics as M
from rlbench3.analysis.probes import clopper_pearson
from rlbench3.analysis.tables import FORMATS, render_sections
from rlbench3.harness.run_config import TRAIN

__all__ = [
    "HENDERSON_GROUP",
    "SIZES",
    "STUDY_AGGREGATES",
    "STUDY_INTERVALS",
    "RankingRow",
    "RankingStudy",
    "SplitStudy",
    "SubsampleRow",
    "SubsampleStudy",
    "aggregate_draws",
    "henderson_section",
    "henderson_splits",
    "num_splits",
    "ranking_error",
    "ranking_section",
    "render",
    "split_groups",
    "subsample_section",
    "subsample_study",
]

HENDERSON_GROUP = 5  # Henderson et al. (2018): 10 seeds, two groups of 5
SIZES = (3, 5, 10, 20, 50)  # Agarwal et al. (2021)'s numbers of seeds
STUDY_AGGREGATES = ("mean", "median", "iqm")
STUDY_INTERVALS = ("expanded", "percentile", "rliable")
# Written as text before rendering (see render): 2 significant digits, 3 decimals.
_P_COLUMNS = ("min_p",)
_FINE_COLUMNS = ("fraction", "normal_share", "min_p_normal", "ties")
_FINE_ESTIMATES = ("normal", "coverage", "wrong")


# ---------------------------------------------------------------------------------------------
# Input checks (one line each, naming the argument and what it may be)
# ---------------------------------------------------------------------------------------------


def _generator(rng: M.RngLike) -> np.random.Generator:
    if rng is None:
        raise TypeError("rng is required: pass a numpy Generator or an integer seed")
    return np.random.default_rng(rng)


def _count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _level(name: str, value: float) -> float:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return float(value)


def _pool(values: Any, name: str) -> np.ndarray:
    """Finite scores ``(pool_size,)`` or ``(pool_size × num_tasks)`` -> the 2-D form."""
    x = np.asarray(values, dtype=float)
    if x.ndim not in (1, 2) or x.shape[0] < 2 or x.size == 0:
        raise ValueError(
            f"{name} must be (pool_size,) or (pool_size, num_tasks) with pool_size >= 2, "
            f"got shape {x.shape}"
        )
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite scores, got nan or inf")
    return x if x.ndim == 2 else x[:, None]


def _sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    values = tuple(sizes)
    ok = values and all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 2 for n in values
    )
    if not ok:
        raise ValueError(f"sizes must be a non-empty sequence of integers >= 2, got {sizes!r}")
    return tuple(int(n) for n in values)


def _too_big(n: int, pool_size: int, replace: bool) -> str:
    """Why ``n`` seeds cannot be drawn from a pool of ``pool_size`` ("" when they can)."""
    if replace:
        return ""
    if n > pool_size:
        return f"N={n} exceeds the pool of {pool_size} seeds"
    if n == pool_size:
        return f"N={n} is the whole pool: every draw is the pool itself"
    return ""


def _check_sizes(sizes: tuple[int, ...], pool_size: int, replace: bool) -> None:
    if all(_too_big(n, pool_size, replace) for n in sizes):
        raise ValueError(
            f"sizes must hold some N with 2 <= N < {pool_size} (the pool's seeds; "
            f"any N >= 2 with replace=True), got {list(sizes)}"
        )


# ---------------------------------------------------------------------------------------------
# Henderson et al. (2018): splits of one procedure's seeds
# ---------------------------------------------------------------------------------------------


def num_splits(num_seeds: int, group_size: int) -> int:
    """Distinct splits of ``num_seeds`` seeds into two disjoint unordered groups of
    ``group_size``: ``C(n, g) · C(n − g, g) / 2`` (126 for 10 seeds in groups of 5, 3 for 4
    seeds in groups of 2); seeds beyond ``2 g`` are left out of a split."""
    return math.comb(num_seeds, group_size) * math.comb(num_seeds - group_size, group_size) // 2


def split_groups(
    num_seeds: int, group_size: int, rng: M.RngLike, *, max_splits: int = 2000
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The splits :func:`henderson_splits` tests: two ``(num_splits × group_size)`` index
    arrays (group A and group B of each split) and whether they are all the distinct splits.

    All of them (in lexicographic order of A, the group holding the lower first seed) when
    :func:`num_splits` ``<= max_splits``; otherwise ``max_splits`` splits drawn uniformly and
    independently (with replacement) from them, so the share of significant ones estimates
    the share over all splits without bias."""
    g = group_size
    if num_splits(num_seeds, g) <= max_splits:
        pairs = [
            (a, b)
            for a in itertools.combinations(range(num_seeds), g)
            for b in itertools.combinations([i for i in range(num_seeds) if i not in a], g)
            if a[0] < b[0]
        ]
        a, b = (np.array(side, dtype=np.intp).reshape(len(pairs), g) for side in zip(*pairs))
        return a, b, True
    order = np.argsort(_generator(rng).random((max_splits, num_seeds)), axis=1)
    return order[:, :g], order[:, g : 2 * g], False


def _split_pvalues(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Welch p-values of every split for every data set: ``x`` ``(num_sets × num_seeds)``,
    ``a`` and ``b`` ``(num_splits × group_size)`` -> ``(num_sets × num_splits)``."""
    return M.welch_t_test(x[:, a], x[:, b])[2]


@dataclass(frozen=True)
class SplitStudy:
    """:func:`henderson_splits`' answer for one cell's seeds."""

    pvalues: np.ndarray  # (num_splits,) Welch p per split; nan when both groups are constant
    mean_diffs: np.ndarray  # (num_splits,) mean of group A − mean of group B
    num_seeds: int
    group_size: int
    total_splits: int  # distinct splits that exist (num_splits)
    exhaustive: bool  # every distinct split tested (else a uniform random sample of them)
    alpha: float
    fraction: float  # share of the splits with p < alpha (nan never counts)
    min_p: float
    median_abs_diff: float  # median |mean A − mean B| over the splits, in the scores' units
    normal_fraction: float  # mean fraction over simulated i.i.d. normal data sets
    normal_low: float  # central 95% range of those fractions
    normal_high: float
    normal_share: float  # share of normal data sets with a fraction >= the observed one
    normal_min_p: float  # share of normal data sets whose smallest p is <= the observed one
    normal_sims: int


def _normal_reference(
    n: int, a: np.ndarray, b: np.ndarray, gen: np.random.Generator, sims: int, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Fractions ``(sims,)`` and smallest p-values ``(sims,)`` of the same splits on ``sims``
    data sets of ``n`` i.i.d. standard normal scores (Welch's p does not depend on location or
    scale), in chunks of about two million group values."""
    fractions, minima = np.empty(sims), np.empty(sims)
    chunk = max(1, 2_000_000 // (a.size + b.size))
    for start in range(0, sims, chunk):
        stop = min(start + chunk, sims)
        p = _split_pvalues(gen.standard_normal((stop - start, n)), a, b)
        fractions[start:stop] = np.mean(p < alpha, axis=1)
        minima[start:stop] = np.nanmin(np.where(np.isnan(p), np.inf, p), axis=1)
    return fractions, minima


def henderson_splits(
    scores: np.ndarray,
    rng: M.RngLike,
    *,
    group_size: int | None = None,
    alpha: float = 0.05,
    max_splits: int = 2000,
    normal_sims: int = 500,
) -> SplitStudy:
    """Henderson et al. (2018)'s split test of one procedure's seeds, with a calibrated
    reference.

    Every split (:func:`split_groups`) puts two disjoint groups of ``group_size`` seeds side by
    side and runs Welch's t-test (:func:`~rlbench3.analysis.metrics.welch_t_test`). All seeds
    are runs of one procedure, so every split with ``p < alpha`` is a false positive.

    What the fraction means. For one data set it is a property of that sample (how many ways
    of cutting it in two look "significant"). Over data sets of i.i.d. seeds its *expected
    value is the actual size of Welch's test* for two groups of ``group_size`` drawn from the
    scores' distribution. That is not ``alpha``: it depends on the distribution's shape and
    on the group size. Exact or simulated values at ``alpha = 0.05``, 5 vs 5: normal 0.044;
    Bernoulli(p) outcomes (each seed solved or not) 0.0215 at p = 0.5, 0.0047 at 0.2, 0.0005
    at 0.1; lognormal(σ = 1) 0.019. At 2 vs 2 the normal value is 0.023 and Bernoulli(0.5)'s
    is 0.125, 2.5 × alpha: discrete outcomes can inflate it at small groups and deflate it at
    larger ones. (:func:`~rlbench3.analysis.metrics.split_test_fraction` is the half/half
    special case, ``group_size = num_seeds // 2``, and gives the same fraction.) A permutation
    null would be no reference: the splits already are the permutations of these scores.

    The reference is therefore the same procedure on ``normal_sims`` simulated data sets of as
    many i.i.d. normal scores (seeded from ``rng``; the same splits): their mean fraction,
    the central 95% range of their fractions, the share of them at or above the observed
    fraction and the share whose smallest p is at or below the observed smallest p. What to
    expect (10 seeds, 20000 simulated data sets per shape): normal scores exceed the normal
    range's top (0.071) in 3.5% of data sets, Bernoulli, lognormal, Cauchy and bimodal ones in
    0-3.1%: an excess is rare for identical runs of any of these shapes, which act on the
    smallest p instead. The smallest p over 126 dependent splits is not a p-value: for normal
    scores its median is 0.007 and 13% of data sets reach Henderson's 0.0016; for half-solved
    bimodal outcomes (Bernoulli(0.5), or two clusters of equal weight) 24-29% do; for lognormal(1)
    scores 4%. ``normal_min_p`` shows where an observed smallest p falls among normal ones.

    Args:
        scores: ``(num_seeds,)`` final scores of one procedure's seeds; ``num_seeds >= 4``.
        rng: random state (sampled splits, the normal reference).
        group_size: seeds per group, ``2 <= group_size <= num_seeds // 2``; ``None``: 5
            (:data:`HENDERSON_GROUP`), or ``num_seeds // 2`` below 10 seeds.
        alpha: significance level, in (0, 1).
        max_splits: test every distinct split up to this many, else this many random ones.
        normal_sims: simulated normal data sets (>= 1).
    """
    x = np.asarray(scores, dtype=float)
    if x.ndim != 1 or x.size < 4:
        raise ValueError(f"scores must be (num_seeds,) with num_seeds >= 4, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("scores must be finite, got nan or inf")
    n = x.size
    g = min(HENDERSON_GROUP, n // 2) if group_size is None else group_size
    if isinstance(g, bool) or not isinstance(g, (int, np.integer)) or not 2 <= g <= n // 2:
        raise ValueError(f"group_size must be an integer in [2, {n // 2}], got {group_size!r}")
    alpha = _level("alpha", alpha)
    _count("max_splits", max_splits, 1)
    _count("normal_sims", normal_sims, 1)
    gen = _generator(rng)
    a, b, exhaustive = split_groups(n, int(g), gen, max_splits=max_splits)
    p = _split_pvalues(x[None], a, b)[0]
    diffs = x[a].mean(axis=1) - x[b].mean(axis=1)
    fractions, minima = _normal_reference(n, a, b, gen, normal_sims, alpha)
    fraction = float(np.mean(p < alpha))
    min_p = float(np.nanmin(p)) if not np.isnan(p).all() else math.nan
    low, high = np.quantile(fractions, [0.025, 0.975])
    return SplitStudy(
        pvalues=p,
        mean_diffs=diffs,
        num_seeds=n,
        group_size=int(g),
        total_splits=num_splits(n, int(g)),
        exhaustive=exhaustive,
        alpha=alpha,
        fraction=fraction,
        min_p=min_p,
        median_abs_diff=float(np.median(np.abs(diffs))),
        normal_fraction=float(fractions.mean()),
        normal_low=float(low),
        normal_high=float(high),
        normal_share=float(np.mean(fractions >= fraction)),
        normal_min_p=float(np.mean(minima <= min_p)) if not math.isnan(min_p) else math.nan,
        normal_sims=normal_sims,
    )


# ---------------------------------------------------------------------------------------------
# Agarwal et al. (2021): N seeds drawn from a pool
# ---------------------------------------------------------------------------------------------


def aggregate_draws(draws: np.ndarray, aggregate: str) -> np.ndarray:
    """The aggregate of every draw, vectorised: ``draws`` ``(num_draws × N × num_tasks)`` ->
    ``(num_draws,)``.

    ``"mean"``: the mean over seeds and tasks; ``"iqm"``: the 25% trimmed mean of all seeds ×
    tasks (of 3 values their mean, of 4 their median); ``"median"``: with several tasks the
    median of the per-task means, as rliable's ``aggregate_median`` (Agarwal et al.), with one
    task the median over seeds (rliable's would be the one task's mean, a copy of ``"mean"``).
    ``"mean"`` and ``"iqm"`` always equal rliable's ``aggregate_mean`` / ``aggregate_iqm``."""
    d = np.asarray(draws, dtype=float)
    if d.ndim != 3:
        raise ValueError(f"draws must be (num_draws, N, num_tasks), got shape {d.shape}")
    if aggregate == "mean":
        return d.mean(axis=(1, 2))
    if aggregate == "median":
        return np.median(d[:, :, 0] if d.shape[2] == 1 else d.mean(axis=1), axis=1)
    if aggregate == "iqm":
        return stats.trim_mean(d.reshape(d.shape[0], -1), 0.25, axis=1)
    raise ValueError(f"aggregate must be one of {STUDY_AGGREGATES}, got {aggregate!r}")


def _draw(gen: np.random.Generator, pool_size: int, n: int, reps: int, replace: bool):
    """``(reps × n)`` seed indices, each row drawn without (or with) replacement."""
    if replace:
        return gen.integers(pool_size, size=(reps, n))
    return np.stack([gen.choice(pool_size, n, replace=False) for _ in range(reps)])


@dataclass(frozen=True)
class SubsampleRow:
    """One (N, aggregate) line of :func:`subsample_study` (nan and 0 draws when skipped)."""

    size: int  # N, seeds per draw
    aggregate: str
    reps: int  # draws made
    truth: float  # the aggregate of the whole pool
    mean_point: float  # mean of the draws' point estimates
    point_sd: float  # their standard deviation: how far one N-seed estimate wanders
    mean_width: float  # mean interval width
    coverage: float  # share of draws whose interval holds the truth
    coverage_low: float  # Clopper-Pearson interval of the coverage (at ``confidence``)
    coverage_high: float
    skipped: str  # "" or why this N was not studied


@dataclass(frozen=True)
class SubsampleStudy:
    """:func:`subsample_study`'s answer: one row per N × aggregate, and how it was made."""

    rows: tuple[SubsampleRow, ...]
    pool_size: int
    num_tasks: int
    interval: str
    boot_reps: int
    confidence: float
    replace: bool


def _intervals(
    sample: np.ndarray,
    aggregates: Sequence[str],
    interval: str,
    gen: np.random.Generator,
    boot_reps: int,
    confidence: float,
) -> np.ndarray:
    """``(num_aggregates × 2)``: each aggregate's interval ends for one draw ``(N ×
    num_tasks)``. With one task, rliable gets the draw as N tasks of one run each and
    resamples the tasks (``task_bootstrap``): a plain bootstrap over seeds in which rliable's
    median of per-task means is the median over seeds, as :func:`aggregate_draws` defines it."""
    if interval == "rliable":
        one_task = sample.shape[1] == 1
        est = M.aggregate_estimates(
            {"x": sample.T if one_task else sample},
            gen,
            metrics=aggregates,
            reps=boot_reps,
            confidence=confidence,
            task_bootstrap=one_task,
        )["x"]
    else:
        seeds = [np.array([v]) for v in sample[:, 0]]
        est = M.two_level_estimates(
            seeds,
            gen,
            metrics=aggregates,
            reps=boot_reps,
            confidence=confidence,
            interval=interval,
        )
    return np.array([[est[m].low, est[m].high] for m in aggregates])


def _subsample_rows(
    pool: np.ndarray,
    n: int,
    aggregates: Sequence[str],
    gen: np.random.Generator,
    *,
    reps: int,
    interval: str,
    boot_reps: int,
    confidence: float,
    replace: bool,
) -> list[SubsampleRow]:
    """The rows of one N: ``reps`` draws of ``pool`` ``(pool_size × num_tasks)``, each with
    every aggregate's interval."""
    draws = _draw(gen, pool.shape[0], n, reps, replace)
    ends = np.stack(
        [_intervals(pool[idx], aggregates, interval, gen, boot_reps, confidence) for idx in draws]
    )  # (reps, num_aggregates, 2)
    rows = []
    for j, m in enumerate(aggregates):
        truth = float(aggregate_draws(pool[None], m)[0])
        point = aggregate_draws(pool[draws], m)
        low, high = ends[:, j, 0], ends[:, j, 1]
        hits = int(np.sum((low <= truth) & (truth <= high)))
        cov_low, cov_high = clopper_pearson(hits, reps, confidence)
        row = SubsampleRow(
            size=n,
            aggregate=m,
            reps=reps,
            truth=truth,
            mean_point=float(point.mean()),
            point_sd=float(point.std(ddof=1)) if reps > 1 else math.nan,
            mean_width=float(np.mean(high - low)),
            coverage=hits / reps,
            coverage_low=cov_low,
            coverage_high=cov_high,
            skipped="",
        )
        rows.append(row)
    return rows


def subsample_study(
    pool: np.ndarray,
    rng: M.RngLike,
    *,
    sizes: Sequence[int] = SIZES,
    aggregates: Sequence[str] = STUDY_AGGREGATES,
    reps: int = 200,
    boot_reps: int = 1000,
    confidence: float = 0.95,
    interval: str = "expanded",
    replace: bool = False,
) -> SubsampleStudy:
    """Agarwal et al. (2021)'s subsampling study: width and coverage of the aggregates'
    intervals at N seeds, with a pool of seeds as the population.

    For each N, ``reps`` draws of N seeds from the pool (without replacement by default; see
    the module note on the finite pool); each draw gets every aggregate's point estimate
    (:func:`aggregate_draws`) and ``confidence`` interval; a draw covers when its interval
    holds the aggregate of the whole pool (the truth). Each row reports the mean width, the
    spread of the point estimates and the coverage with its Clopper-Pearson interval over the
    draws.

    Intervals (``interval``):

    * ``"expanded"`` (default) and ``"percentile"``: the tables' own interval,
      :func:`~rlbench3.analysis.metrics.two_level_estimates` with each seed's score as its one
      value (seeds resampled; Hesterberg's expanded-percentile ends, or plain percentile ones;
      a draw whose seeds all scored 0, or all 1, gets the Clopper-Pearson interval), ends
      exactly as the ``swiss`` and ``seeds`` tables print them. For ``"median"`` those ends
      are percentiles of the median over seeds, widened to hold the point that
      ``two_level_estimates`` reports, rliable's one-task median, which is the mean. One task
      only; fast (vectorised).
    * ``"rliable"``: :func:`~rlbench3.analysis.metrics.aggregate_estimates`, rliable's
      stratified-bootstrap percentile interval as Agarwal et al. used it (seeds resampled
      within each task; with one task, a plain bootstrap over seeds). Any number of tasks;
      about 80 times slower per draw.

    Args:
        pool: ``(pool_size,)`` or ``(pool_size × num_tasks)`` per-seed final scores, finite.
        rng: random state (draws and bootstraps).
        sizes: the N values, integers >= 2; an N the pool cannot supply (N >= pool_size without
            replacement) becomes a skipped row saying why, and if no N is left it is an error.
        aggregates: any of ``"mean"``, ``"median"``, ``"iqm"``.
        reps: draws per N; boot_reps: bootstrap replicates per interval (the cost is about
            ``len(sizes) · reps`` intervals of ``boot_reps`` replicates).
        confidence: the intervals' level, and that of the coverage's own interval.
        interval: ``"expanded"``, ``"percentile"`` or ``"rliable"``.
        replace: draw each N-seed sample with replacement.
    """
    x = _pool(pool, "pool")
    sizes = _sizes(sizes)
    aggregates = _aggregates(aggregates)
    reps, boot_reps = _count("reps", reps, 1), _count("boot_reps", boot_reps, 1)
    confidence = _level("confidence", confidence)
    if interval not in STUDY_INTERVALS:
        raise ValueError(f"interval must be one of {STUDY_INTERVALS}, got {interval!r}")
    if interval != "rliable" and x.shape[1] > 1:
        raise ValueError(
            f"interval={interval!r} needs a one-task pool (pool_size,), got {x.shape[1]} tasks; "
            "use interval='rliable'"
        )
    _check_sizes(sizes, x.shape[0], replace)
    gen = _generator(rng)
    rows: list[SubsampleRow] = []
    for n in sizes:
        reason = _too_big(n, x.shape[0], replace)
        if reason:
            nan = math.nan
            rows += [SubsampleRow(n, m, 0, *[nan] * 7, reason) for m in aggregates]
        else:
            rows += _subsample_rows(
                x,
                n,
                aggregates,
                gen,
                reps=reps,
                interval=interval,
                boot_reps=boot_reps,
                confidence=confidence,
                replace=replace,
            )
    return SubsampleStudy(
        tuple(rows), x.shape[0], x.shape[1], interval, boot_reps, confidence, replace
    )


def _aggregates(aggregates: Sequence[str]) -> tuple[str, ...]:
    names = tuple(aggregates)
    if not names or any(m not in STUDY_AGGREGATES for m in names):
        raise ValueError(
            f"aggregates must be a non-empty subset of {STUDY_AGGREGATES}, got {aggregates!r}"
        )
    return names


# ---------------------------------------------------------------------------------------------
# Ranking two agents with N seeds each
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankingRow:
    """One N of :func:`ranking_error` (nan and 0 draws when skipped)."""

    size: int  # N seeds of each agent
    reps: int
    error: float  # probability of the wrong order (a tie counts one half)
    low: float  # conservative Clopper-Pearson interval of ``error``
    high: float
    ties: float  # share of draws whose two aggregates are equal
    skipped: str


@dataclass(frozen=True)
class RankingStudy:
    """:func:`ranking_error`'s answer and how it was made."""

    rows: tuple[RankingRow, ...]
    aggregate: str
    value_a: float  # the aggregate of pool A
    value_b: float
    pool_sizes: tuple[int, int]
    replace: bool
    confidence: float


def _ranking_row(xa, xb, n, reps, aggregate, gen, replace, confidence) -> RankingRow:
    """``reps`` draws of ``n`` seeds from each pool, scored against the pools' order."""
    truth = np.sign(aggregate_draws(xa[None], aggregate) - aggregate_draws(xb[None], aggregate))
    va = aggregate_draws(xa[_draw(gen, xa.shape[0], n, reps, replace)], aggregate)
    vb = aggregate_draws(xb[_draw(gen, xb.shape[0], n, reps, replace)], aggregate)
    wrong = (1.0 - np.sign(va - vb) * truth) / 2  # 0 right, 1 reversed, 1/2 either tied
    total = float(wrong.sum())
    low = clopper_pearson(math.floor(total), reps, confidence)[0]
    high = clopper_pearson(math.ceil(total), reps, confidence)[1]
    return RankingRow(n, reps, total / reps, low, high, float(np.mean(va == vb)), "")


def ranking_error(
    pool_a: np.ndarray,
    pool_b: np.ndarray,
    rng: M.RngLike,
    *,
    sizes: Sequence[int] = SIZES,
    reps: int = 1000,
    aggregate: str = "iqm",
    confidence: float = 0.95,
    replace: bool = False,
) -> RankingStudy:
    """The probability that N seeds of each agent rank the two agents the other way round
    from their pools.

    For each N, ``reps`` times: draw N seeds from each pool (independently; without
    replacement by default), compute the ``aggregate`` of each, and compare their order with
    the order of the pools' aggregates. A draw scores ``(1 − sign(â − b̂) · sign(a − b)) / 2``:
    0 in the pools' order, 1 reversed, and **one half when the draw's two aggregates tie** (a
    coin decides) — or when the pools themselves tie, where no order is right and every draw
    counts one half (so identical pools give exactly 0.5). The interval is Clopper-Pearson on
    the half-counts rounded outward (floor for the low end, ceil for the high one), which is
    conservative.

    Args:
        pool_a, pool_b: ``(pool_size,)`` or ``(pool_size × num_tasks)`` per-seed scores of
            agent A and agent B (the same tasks; pool sizes may differ), finite.
        rng: random state.
        sizes: N values (integers >= 2); one either pool cannot supply is a skipped row.
        reps: draws per N; aggregate: ``"mean"``, ``"median"`` or ``"iqm"``.
    """
    xa, xb = _pool(pool_a, "pool_a"), _pool(pool_b, "pool_b")
    if xa.shape[1] != xb.shape[1]:
        raise ValueError(f"pool_b must have pool_a's {xa.shape[1]} tasks, got {xb.shape[1]}")
    sizes = _sizes(sizes)
    reps = _count("reps", reps, 1)
    aggregate = _aggregates((aggregate,))[0]
    confidence = _level("confidence", confidence)
    smaller = min(xa.shape[0], xb.shape[0])
    _check_sizes(sizes, smaller, replace)
    gen = _generator(rng)
    rows = []
    for n in sizes:
        reason = _too_big(n, smaller, replace)
        if reason:
            rows.append(RankingRow(n, 0, math.nan, math.nan, math.nan, math.nan, reason))
        else:
            rows.append(_ranking_row(xa, xb, n, reps, aggregate, gen, replace, confidence))
    value_a = float(aggregate_draws(xa[None], aggregate)[0])
    value_b = float(aggregate_draws(xb[None], aggregate)[0])
    return RankingStudy(
        tuple(rows), aggregate, value_a, value_b, (xa.shape[0], xb.shape[0]), replace, confidence
    )


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def _keyed(key: tuple[Any, ...] | str, key_names: Sequence[str]) -> dict[str, Any]:
    key = key if isinstance(key, tuple) else (key,)
    if len(key) != len(key_names):
        raise ValueError(f"key {key!r} must have one label per key_names {tuple(key_names)}")
    return dict(zip(key_names, key))


def _title(text: str, protocol: str) -> str:
    return f"{text}. {protocol}" if protocol else text


def henderson_section(
    studies: Mapping[tuple[Any, ...] | str, SplitStudy],
    *,
    key_names: Sequence[str] = ("cell",),
    protocol: str = "",
) -> dict[str, pd.DataFrame]:
    """T3's Henderson table: one row per cell (``key_names`` columns from each key, then
    ``seeds``, ``group``, ``splits`` tested, ``of`` distinct, ``fraction``, ``normal`` with its
    range, ``normal_share``, ``min_p``, ``min_p_normal``, ``median_abs_diff``), under a title
    that explains them and ends with ``protocol`` (e.g.
    :func:`rlbench3.analysis.tables.protocol_text`)."""
    rows = []
    for key, s in studies.items():
        row = {
            **_keyed(key, key_names),
            "seeds": s.num_seeds,
            "group": s.group_size,
            "splits": s.pvalues.size,
            "of": s.total_splits,
            "fraction": s.fraction,
        }
        row["normal"], row["normal_low"], row["normal_high"] = (
            s.normal_fraction,
            s.normal_low,
            s.normal_high,
        )
        row["normal_share"], row["min_p"] = s.normal_share, s.min_p
        row["min_p_normal"], row["median_abs_diff"] = s.normal_min_p, s.median_abs_diff
        rows.append(row)
    first = next(iter(studies.values()), None)
    alpha, sims = (first.alpha, first.normal_sims) if first else (0.05, 0)
    text = (
        "Henderson et al. (2018) split test: the seeds of one cell (one procedure) split into "
        "two disjoint groups of 'group' seeds, every distinct split or 'splits' random ones of "
        f"the 'of' that exist, Welch's t-test on each; fraction: share of splits with p < "
        f"{alpha:g}, every one a false positive; normal: the same fraction for as many i.i.d. "
        f"normal scores (mean [central 95% range] over {sims} simulated data sets; its mean is "
        "the size of Welch's test, not alpha); normal_share: share of those data sets with a "
        "fraction at least the observed one; min_p: the smallest p over the splits (a minimum "
        "of many dependent tests, not a p-value), min_p_normal: share of normal data sets whose "
        "smallest p is at most it; median_abs_diff: median |difference of the group means|"
    )
    return {_title(text, protocol): pd.DataFrame(rows)}


def subsample_section(
    studies: Mapping[tuple[Any, ...] | str, SubsampleStudy],
    *,
    key_names: Sequence[str] = ("cell",),
    protocol: str = "",
) -> dict[str, pd.DataFrame]:
    """T3's Agarwal table: one row per cell × N × aggregate (``seeds`` is N; ``pool``,
    ``draws``, ``truth``, ``point_sd``, ``width``, ``coverage`` with its interval, ``note``
    saying why a row was skipped). The studies should share their settings; the title states
    the first one's."""
    rows = []
    for key, study in studies.items():
        for r in study.rows:
            row = {
                **_keyed(key, key_names),
                "seeds": r.size,
                "aggregate": r.aggregate,
                "pool": study.pool_size,
                "draws": r.reps,
                "truth": r.truth,
                "point_sd": r.point_sd,
                "width": r.mean_width,
            }
            row["coverage_n"] = r.reps  # the coverage is a share of the draws
            row["coverage"], row["coverage_low"], row["coverage_high"] = (
                r.coverage,
                r.coverage_low,
                r.coverage_high,
            )
            row["note"] = r.skipped
            rows.append(row)
    first = next(iter(studies.values()), None)
    how = _subsample_how(first) if first else ""
    text = (
        "Agarwal et al. (2021) subsampling: a cell's 'pool' seeds are the population; "
        f"'draws' samples of N = 'seeds' seeds {how}; truth: the aggregate of the whole pool; "
        "point_sd: standard deviation of the draws' estimates; width: mean interval width; "
        "coverage: share of draws whose interval holds the truth (Clopper-Pearson interval over "
        "the draws); an IQM of 3 seeds is their mean, of 4 their median"
    )
    return {_title(text, protocol): pd.DataFrame(rows)}


def _subsample_how(study: SubsampleStudy) -> str:
    pct = f"{study.confidence:.0%}"
    method = {
        "expanded": "the tables' bootstrap over seeds with expanded-percentile ends",
        "percentile": "the tables' bootstrap over seeds with percentile ends",
        "rliable": "rliable's stratified-bootstrap percentile interval",
    }[study.interval]
    draw = (
        "with replacement"
        if study.replace
        else (
            "without replacement (as N nears the pool, coverage of the pool's value rises above "
            "the nominal level: a finite population varies less)"
        )
    )
    return f"drawn {draw}, each with a {pct} interval ({method}, {study.boot_reps} replicates)"


def ranking_section(
    studies: Mapping[tuple[Any, ...] | str, RankingStudy],
    *,
    key_names: Sequence[str] = ("cell",),
    protocol: str = "",
) -> dict[str, pd.DataFrame]:
    """T3's ranking table: one row per pair × N (``seeds`` is N per agent; ``pool_a``,
    ``pool_b`` their pools' aggregates, ``draws``, ``wrong`` with its interval, ``ties``,
    ``note``). Keys name the pair, e.g. ``(experiment, setting, "ppo vs a2c")``."""
    rows = []
    for key, study in studies.items():
        for r in study.rows:
            row = {
                **_keyed(key, key_names),
                "seeds": r.size,
                "aggregate": study.aggregate,
                "pool_a": study.value_a,
                "pool_b": study.value_b,
                "draws": r.reps,
            }
            row["wrong_n"] = r.reps  # the error is a share of the draws
            row["wrong"], row["wrong_low"], row["wrong_high"] = r.error, r.low, r.high
            row["ties"], row["note"] = r.ties, r.skipped
            rows.append(row)
    first = next(iter(studies.values()), None)
    pct = f"{first.confidence:.0%}" if first else "95%"
    draw = "with" if first and first.replace else "without"
    text = (
        "Ranking error: probability that N = 'seeds' seeds of each agent (drawn "
        + draw
        + " replacement from its pool) order the two agents' aggregates opposite to their "
        "whole pools (pool_a, pool_b); a tie counts one half, and when the pools tie every "
        f"draw does (0.5); {pct} Clopper-Pearson interval over the draws, half-counts "
        "rounded outward; ties: share of tied draws"
    )
    return {_title(text, protocol): pd.DataFrame(rows)}


def render(sections: Mapping[str, pd.DataFrame], fmt: str = "md") -> str:
    """Render T3 sections with :func:`rlbench3.analysis.tables.render_sections`.

    The shared renderer writes every number with 2 decimals, too coarse here (a split-test
    fraction of 0.044 against alpha = 0.05, a smallest p of 0.0016, a coverage of 0.947), so in
    Markdown and LaTeX some columns are written as text first: shares and the estimates
    ``normal``, ``coverage`` and ``wrong`` with 3 decimals (``point [low, high] (n=seeds)``),
    ``min_p`` with 2 significant digits and split counts above a million in ``%.3g``. CSV keeps
    every number as it is."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    if fmt != "csv":
        sections = {title: _as_text(frame) for title, frame in sections.items()}
    return render_sections(sections, fmt)


def _fixed(value: float, spec: str) -> str:
    return "n/a" if pd.isna(value) else format(value, spec)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns the shared renderer would round too far, as text."""
    out = frame.copy()
    for column in _FINE_ESTIMATES:
        if column not in out:
            continue
        low, high = out.pop(f"{column}_low"), out.pop(f"{column}_high")
        out[column] = [
            f"{_fixed(p, '.3f')} [{_fixed(lo, '.3f')}, {_fixed(hi, '.3f')}] (n={n})"
            for p, lo, hi, n in zip(out[column], low, high, out["seeds"])
        ]
    for column in (c for c in _FINE_COLUMNS if c in out):
        out[column] = [_fixed(v, ".3f") for v in out[column]]
    for column in (c for c in _P_COLUMNS if c in out):
        out[column] = [_fixed(v, ".2g") for v in out[column]]
    if "of" in out:
        out["of"] = [f"{v:.3g}" if v >= 1e6 else str(v) for v in out["of"]]
    return out


# ---------------------------------------------------------------------------------------------
# The whole study of a results folder's cells (T3)
# ---------------------------------------------------------------------------------------------

KEYS = ("experiment", "setting", "agent")
Cells = dict[tuple[str, str, str], np.ndarray]  # (experiment, setting, agent) -> (num_seeds,)


@dataclass(frozen=True)
class StudySettings:
    """The sizes of a T3 study (see :func:`henderson_splits`, :func:`subsample_study`,
    :func:`ranking_error` for each)."""

    sizes: tuple[int, ...] = SIZES
    reps: int = 200  # draws per N, subsampling
    boot_reps: int = 1000  # bootstrap replicates per interval
    interval: str = "expanded"
    rank_reps: int = 1000  # draws per N, ranking
    aggregate: str = "iqm"  # the aggregate that ranks two agents
    max_splits: int = 2000
    normal_sims: int = 500
    seed: int = 0
    min_seeds: int = 10  # smallest cell studied

    def __post_init__(self) -> None:
        _sizes(self.sizes)
        for name in ("reps", "boot_reps", "rank_reps", "max_splits", "normal_sims", "min_seeds"):
            _count(name, getattr(self, name), 1)
        if self.interval not in STUDY_INTERVALS:
            raise ValueError(f"interval must be one of {STUDY_INTERVALS}, got {self.interval!r}")
        if self.aggregate not in STUDY_AGGREGATES:
            raise ValueError(
                f"aggregate must be one of {STUDY_AGGREGATES}, got {self.aggregate!r}"
            )


def seed_cells(scores: pd.DataFrame, min_seeds: int) -> tuple[Cells, list[str]]:
    """Each cell's per-seed final train scores, from
    :func:`rlbench3.analysis.tables.run_scores` rows: the cells of at least ``min_seeds`` seeds,
    and a line for each cell left out."""
    train = scores[scores["split"] == TRAIN] if len(scores) else scores
    cells: Cells = {}
    skipped = []
    for key, group in train.groupby(list(KEYS)) if len(train) else []:
        values = group.sort_values("seed")["score"].to_numpy(float)
        name = tuple(map(str, key))
        if len(values) >= min_seeds:
            cells[name] = values
        else:
            skipped.append(f"{'/'.join(name)}: {len(values)} seeds (fewer than {min_seeds})")
    return cells, skipped


def ranking_pairs(cells: Cells) -> list[tuple[str, str, str, str]]:
    """``(experiment, setting, agent_a, agent_b)`` for every pair of agents of one setting."""
    agents: dict[tuple[str, str], list[str]] = {}
    for exp, setting, agent in cells:
        agents.setdefault((exp, setting), []).append(agent)
    return [
        (exp, setting, a, b)
        for (exp, setting), names in agents.items()
        for a, b in itertools.combinations(sorted(names), 2)
    ]


@dataclass
class _Clock:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def timing(self, label: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - start


def study(
    cells: Cells, settings: StudySettings, protocol: str
) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
    """The three T3 sections (title -> DataFrame) of ``cells``, and the seconds each study
    took: the split test and the subsampling study of every cell, the ranking error of every
    pair of agents of a setting. Every draw is seeded from ``settings.seed`` and the cell's key."""
    clock = _Clock()
    henderson, subsample, ranking = {}, {}, {}
    for key, scores in cells.items():
        with clock.timing("split test"):
            henderson[key] = henderson_splits(
                scores,
                M.rng_for(settings.seed, "henderson", *key),
                max_splits=settings.max_splits,
                normal_sims=settings.normal_sims,
            )
        with clock.timing("subsampling"):
            subsample[key] = subsample_study(
                scores,
                M.rng_for(settings.seed, "subsample", *key),
                sizes=settings.sizes,
                reps=settings.reps,
                boot_reps=settings.boot_reps,
                interval=settings.interval,
            )
    for exp, setting, a, b in ranking_pairs(cells):
        with clock.timing("ranking"):
            ranking[(exp, setting, f"{a} vs {b}")] = ranking_error(
                cells[(exp, setting, a)],
                cells[(exp, setting, b)],
                M.rng_for(settings.seed, "ranking", exp, setting, a, b),
                sizes=settings.sizes,
                reps=settings.rank_reps,
                aggregate=settings.aggregate,
            )
    sections: dict[str, pd.DataFrame] = {}
    sections.update(henderson_section(henderson, key_names=KEYS, protocol=protocol))
    sections.update(subsample_section(subsample, key_names=KEYS, protocol=protocol))
    if ranking:
        names = ("experiment", "setting", "pair")
        sections.update(ranking_section(ranking, key_names=names, protocol=protocol))
    return sections, clock.seconds
