"""Statistics for RL results: small pure functions, arrays in, arrays out.

In the manner of rliable's ``metrics.py``: every array argument states its shape (a score matrix is
``(num_seeds × num_tasks)``; ``num_seeds`` is the number of independent runs), there is no
plotting and no I/O, and every function that draws random numbers takes an explicit random state:
``rng``, a :class:`numpy.random.Generator` or an integer seed (anything
:func:`numpy.random.default_rng` accepts, except ``None``). :func:`rng_for` derives a row's
generator from a base seed and the row's key, for tables and figures.

Four groups:

* **Seed variance.** :func:`aggregate_estimates` (IQM, mean, median, optimality gap),
  :func:`iqm_curve` (IQM at every point of a learning curve),
  :func:`probability_of_improvement` and :func:`performance_profiles` are thin wrappers around
  rliable (stratified-bootstrap percentile CIs). :func:`seed_spread`, :func:`std_interval`,
  :func:`welch_t_test`, the Henderson et al. (2018) :func:`split_test_fraction`, and
  :func:`seeds_needed` / :func:`seeds_needed_bootstrap` are defined here.
* **Generalization.** :func:`generalization_gap` (paired train − test gap, percentile bootstrap
  over seeds) and :func:`packer_summary` (Packer et al. 2018: Default, Interpolation,
  Extrapolation).
* **Trainability frontier.** :func:`fit_logistic` and :func:`trainability_frontier`: success
  over seeds against a difficulty, with the difficulty at which half the seeds succeed (H50/d50).
* **Zero signal.** :func:`zero_signal_summary`.

A note on rliable's random state: rliable 1.2's ``StratifiedBootstrap`` and
``StratifiedIndependentBootstrap`` draw their resampling indices from numpy's *global* generator
(``np.random.choice``) and ignore the ``random_state`` they are given, and
``create_performance_profile`` takes no random state at all. The wrappers here therefore seed the
global generator for the duration of the call and restore its previous state afterwards (and also
pass ``random_state`` along, for versions of rliable that honour it). Calling rliable directly
after ``np.random.seed(s)`` with ``random_state=np.random.RandomState(s)`` gives the same numbers
as a wrapper called with ``rng=s``.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import warnings
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

__all__ = [
    "AGGREGATES",
    "Estimate",
    "Frontier",
    "LogisticFit",
    "PACKER_VARIANTS",
    "SeedSpread",
    "aggregate_estimates",
    "bootstrap_mean",
    "fit_logistic",
    "generalization_gap",
    "iqm_curve",
    "num_halvings",
    "packer_metrics",
    "packer_summary",
    "performance_profiles",
    "probability_of_improvement",
    "rng_for",
    "seed_spread",
    "seeds_needed",
    "seeds_needed_bootstrap",
    "split_test_fraction",
    "split_test_pvalues",
    "std_interval",
    "trainability_frontier",
    "welch_t_test",
    "zero_signal_summary",
]

RngLike = np.random.Generator | int | Sequence[int]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its two-sided confidence interval (arrays of one shape, or floats)."""

    point: np.ndarray | float
    low: np.ndarray | float
    high: np.ndarray | float

    def contains(self, value: np.ndarray | float) -> np.ndarray | bool:
        return (np.asarray(self.low) <= value) & (np.asarray(value) <= self.high)


def rng_for(seed: int, *key: object) -> np.random.Generator:
    """A generator for one row of a table or figure, from a base ``seed`` and the row's key (its
    labels, joined): a row's bootstrap does not change when other rows are added or removed."""
    return np.random.default_rng([seed, zlib.crc32("\x1f".join(map(str, key)).encode())])


def _rng(rng: RngLike) -> np.random.Generator:
    if rng is None:
        raise TypeError("rng is required: pass a numpy Generator or an integer seed")
    return np.random.default_rng(rng)


def _seed(rng: RngLike) -> int:
    """An integer seed for numpy's legacy global generator (what rliable 1.2 actually uses)."""
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**32))
    if isinstance(rng, (int, np.integer)):
        return int(rng)
    return int(np.random.default_rng(rng).integers(2**32))


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def _as_matrix(scores: np.ndarray, name: str = "scores") -> np.ndarray:
    """(num_seeds,) or (num_seeds × num_tasks) -> float (num_seeds × num_tasks)."""
    x = np.asarray(scores, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"{name} must be (num_seeds,) or (num_seeds x num_tasks), got {x.shape}")
    if x.shape[0] < 1:
        raise ValueError(f"{name} needs at least one seed")
    return x


def _squeeze_like(value: np.ndarray, scores: np.ndarray) -> np.ndarray | float:
    """Per-task results for a 1-D input come back as floats."""
    return float(value[0]) if np.ndim(scores) == 1 else value


# ---------------------------------------------------------------------------------------------
# rliable wrappers
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _rliable_random_state(seed: int) -> Iterator[np.random.RandomState]:
    """Seed numpy's global generator (which rliable 1.2 draws from) and restore it afterwards;
    silence arch's FutureWarning about its default random state."""
    # rliable 1.2 samples with np.random.choice: the legacy global RNG is the only handle.
    saved = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield np.random.RandomState(seed)
    finally:
        np.random.set_state(saved)  # noqa: NPY002


def _rliable_metrics() -> dict[str, Callable[[np.ndarray], float]]:
    from rliable import metrics as rm

    return {
        "iqm": rm.aggregate_iqm,
        "mean": rm.aggregate_mean,
        "median": rm.aggregate_median,
        "optimality_gap": rm.aggregate_optimality_gap,
    }


AGGREGATES = ("iqm", "mean", "median", "optimality_gap")


def aggregate_estimates(
    score_dict: Mapping[str, np.ndarray],
    rng: RngLike,
    *,
    metrics: Sequence[str] = AGGREGATES,
    reps: int = 2000,
    confidence: float = 0.95,
    method: str = "percentile",
    task_bootstrap: bool = False,
) -> dict[str, dict[str, Estimate]]:
    """rliable's aggregate metrics with stratified-bootstrap CIs.

    Args:
        score_dict: algorithm -> score matrix ``(num_seeds × num_tasks)`` (normalized scores;
            the optimality gap is measured to 1).
        rng: random state (Generator or seed); see the module note on rliable's global RNG.
        metrics: any of ``"iqm"``, ``"mean"``, ``"median"``, ``"optimality_gap"``. All are
            computed on the same bootstrap resamples in one rliable call, which yields exactly
            what a separate call per metric with the same random state yields.
        reps, confidence, method, task_bootstrap: passed to
            ``rliable.library.get_interval_estimates``.

    Returns:
        algorithm -> metric -> :class:`Estimate` of floats.
    """
    from rliable import library as rly

    _check_confidence(confidence)
    table = _rliable_metrics()
    unknown = [m for m in metrics if m not in table]
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; choose from {sorted(table)}")
    funcs = [table[m] for m in metrics]
    scores = {k: _as_matrix(v, f"score_dict[{k!r}]") for k, v in score_dict.items()}
    with _rliable_random_state(_seed(rng)) as random_state:
        points, intervals = rly.get_interval_estimates(
            scores,
            lambda x: np.array([f(x) for f in funcs]),
            method=method,
            task_bootstrap=task_bootstrap,
            reps=reps,
            confidence_interval_size=confidence,
            random_state=random_state,
        )
    return {
        algo: {
            m: Estimate(
                float(points[algo][i]), float(intervals[algo][0, i]), float(intervals[algo][1, i])
            )
            for i, m in enumerate(metrics)
        }
        for algo in scores
    }


def probability_of_improvement(
    scores_x: np.ndarray,
    scores_y: np.ndarray,
    rng: RngLike,
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    method: str = "percentile",
) -> Estimate:
    """P(X > Y) averaged over tasks (rliable; Mann-Whitney U statistic), with a CI from rliable's
    stratified independent bootstrap (runs of X and of Y resampled separately, per task).

    Args:
        scores_x: ``(num_seeds_x × num_tasks)`` (or ``(num_seeds_x,)`` for one task).
        scores_y: ``(num_seeds_y × num_tasks)``; the seed counts may differ.
    """
    from rliable import library as rly
    from rliable import metrics as rm

    _check_confidence(confidence)
    x, y = _as_matrix(scores_x, "scores_x"), _as_matrix(scores_y, "scores_y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"scores_x and scores_y need the same tasks, got {x.shape}, {y.shape}")
    with _rliable_random_state(_seed(rng)) as random_state:
        points, intervals = rly.get_interval_estimates(
            {"x,y": [x, y]},
            lambda a, b: np.array([rm.probability_of_improvement(a, b)]),
            method=method,
            reps=reps,
            confidence_interval_size=confidence,
            random_state=random_state,
        )
    return Estimate(
        float(points["x,y"][0]), float(intervals["x,y"][0, 0]), float(intervals["x,y"][1, 0])
    )


def performance_profiles(
    score_dict: Mapping[str, np.ndarray],
    taus: np.ndarray,
    rng: RngLike,
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    use_score_distribution: bool = True,
    method: str = "percentile",
) -> dict[str, Estimate]:
    """Performance profiles (rliable ``create_performance_profile``): the fraction of runs (or of
    run-averaged tasks) scoring above each threshold, with stratified-bootstrap CIs.

    Args:
        score_dict: algorithm -> ``(num_seeds × num_tasks)``.
        taus: ``(num_taus,)`` thresholds.

    Returns:
        algorithm -> :class:`Estimate` of ``(num_taus,)`` arrays.
    """
    from rliable import library as rly

    _check_confidence(confidence)
    scores = {k: _as_matrix(v, f"score_dict[{k!r}]") for k, v in score_dict.items()}
    taus = np.asarray(taus, dtype=float)
    with _rliable_random_state(_seed(rng)):
        profiles, cis = rly.create_performance_profile(
            scores,
            taus,
            use_score_distribution=use_score_distribution,
            method=method,
            reps=reps,
            confidence_interval_size=confidence,
        )
    return {
        k: Estimate(np.asarray(profiles[k], float), np.asarray(cis[k][0]), np.asarray(cis[k][1]))
        for k in scores
    }


def iqm_curve(
    scores: np.ndarray,
    rng: RngLike,
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    method: str = "percentile",
) -> Estimate:
    """IQM over runs at every point of a curve (rliable ``aggregate_iqm`` per point), with
    stratified-bootstrap CIs: runs are resampled once per replicate for all points together, as
    in rliable's sample-efficiency curves (one ``get_interval_estimates`` call).

    Args:
        scores: ``(num_seeds × num_points)``: run ``i``'s score at point ``k`` (e.g. success at
            evaluation step ``k`` of a common step grid).

    Returns:
        :class:`Estimate` of ``(num_points,)`` arrays.
    """
    from rliable import library as rly
    from rliable import metrics as rm

    _check_confidence(confidence)
    x = _as_matrix(scores)
    layout = x[:, None, :]  # (runs, 1 task, points): rliable's sample-efficiency layout

    def iqm(s: np.ndarray) -> np.ndarray:
        return np.array([rm.aggregate_iqm(s[..., k]) for k in range(s.shape[-1])])

    with _rliable_random_state(_seed(rng)) as random_state:
        points, intervals = rly.get_interval_estimates(
            {"x": layout},
            iqm,
            method=method,
            reps=reps,
            confidence_interval_size=confidence,
            random_state=random_state,
        )
    return Estimate(
        np.asarray(points["x"], float),
        np.asarray(intervals["x"][0], float),
        np.asarray(intervals["x"][1], float),
    )


# ---------------------------------------------------------------------------------------------
# Seed variance
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedSpread:
    """Spread over seeds, per task (floats for a 1-D input)."""

    mean: np.ndarray | float
    std: np.ndarray | float  # sample std (ddof=1); nan with one seed
    cv: np.ndarray | float  # std / |mean|; nan when the mean is 0
    min: np.ndarray | float
    max: np.ndarray | float
    range: np.ndarray | float


def seed_spread(scores: np.ndarray) -> SeedSpread:
    """Mean, std (ddof=1), coefficient of variation, min, max and range over seeds.

    Args:
        scores: ``(num_seeds,)`` or ``(num_seeds × num_tasks)``.
    """
    x = _as_matrix(scores)
    mean = x.mean(axis=0)
    std = x.std(axis=0, ddof=1) if x.shape[0] > 1 else np.full(x.shape[1], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean != 0, std / np.abs(mean), np.nan)
    lo, hi = x.min(axis=0), x.max(axis=0)
    parts = (mean, std, cv, lo, hi, hi - lo)
    return SeedSpread(*(_squeeze_like(p, scores) for p in parts))


def std_interval(scores: np.ndarray, confidence: float = 0.95) -> Estimate:
    """Sample std over seeds with its chi-square interval (exact if the scores are normal:
    ``(n-1) s² / σ² ~ χ²(n-1)``; only approximate for bounded scores such as success rates).

    Args:
        scores: ``(num_seeds,)`` or ``(num_seeds × num_tasks)``; at least two seeds.
    """
    _check_confidence(confidence)
    x = _as_matrix(scores)
    n = x.shape[0]
    if n < 2:
        raise ValueError("std_interval needs at least two seeds")
    s = x.std(axis=0, ddof=1)
    alpha = 1.0 - confidence
    low = s * np.sqrt((n - 1) / stats.chi2.ppf(1 - alpha / 2, n - 1))
    high = s * np.sqrt((n - 1) / stats.chi2.ppf(alpha / 2, n - 1))
    return Estimate(
        _squeeze_like(s, scores), _squeeze_like(low, scores), _squeeze_like(high, scores)
    )


def welch_t_test(
    a: np.ndarray, b: np.ndarray, axis: int = -1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Welch's unequal-variance two-sample t-test, two-sided, vectorised over the other axes.

    Args:
        a: ``(..., n_a)`` samples (along ``axis``); ``n_a >= 2``.
        b: ``(..., n_b)``; the other axes broadcast with ``a``'s.

    Returns:
        ``(t, df, p)``: the statistic, Welch-Satterthwaite degrees of freedom and p-value, as
        ``scipy.stats.ttest_ind(a, b, equal_var=False)`` computes them. When both variances are
        zero, as in scipy: different means give ``t = ±inf, p = 0``, equal means ``nan``.
    """
    a = np.moveaxis(np.asarray(a, dtype=float), axis, -1)
    b = np.moveaxis(np.asarray(b, dtype=float), axis, -1)
    na, nb = a.shape[-1], b.shape[-1]
    if na < 2 or nb < 2:
        raise ValueError(f"Welch's test needs at least two samples per group, got {na} and {nb}")
    va = a.var(axis=-1, ddof=1) / na
    vb = b.var(axis=-1, ddof=1) / nb
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (a.mean(axis=-1) - b.mean(axis=-1)) / np.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    df = np.where(np.isnan(df), 1.0, df)[()]  # both variances zero: df is moot (as in scipy)
    p = 2.0 * stats.t.sf(np.abs(t), df)
    return t, df, p


def num_halvings(n: int) -> int:
    """Distinct ways to choose the first half (size n // 2) of n seeds."""
    return math.comb(n, n // 2)


def split_test_pvalues(
    scores: np.ndarray,
    rng: RngLike,
    *,
    n_partitions: int = 1000,
    exhaustive: bool | None = None,
) -> np.ndarray:
    """Welch p-values of random half/half partitions of one algorithm's seeds.

    The Henderson et al. (2018) check: split ``n`` runs of the *same* algorithm and setting into
    two groups (``n // 2`` and ``n - n // 2`` seeds) and test them against each other.

    Args:
        scores: ``(num_seeds,)`` per-seed scores (e.g. final returns); ``num_seeds >= 4``.
        rng: random state for drawing partitions (unused when enumerating).
        n_partitions: how many random partitions to draw.
        exhaustive: enumerate every choice of the first half (``C(n, n // 2)`` partitions; for
            even ``n`` each unordered split appears twice, with the same p-value) instead of
            sampling. ``None``: enumerate when ``C(n, n // 2) <= n_partitions``.

    Returns:
        ``(num_partitions,)`` p-values. Halves with zero variance each give ``p = 0`` if their
        means differ and ``nan`` if not (as scipy does); a ``nan`` never counts as significant.
    """
    x = np.asarray(scores, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"scores must be (num_seeds,), got shape {x.shape}")
    n = x.size
    if n < 4:
        raise ValueError(f"the split test needs at least 4 seeds (2 per half), got {n}")
    half = n // 2
    if exhaustive is None:
        exhaustive = num_halvings(n) <= n_partitions
    if exhaustive:
        first = np.array(list(itertools.combinations(range(n), half)), dtype=np.intp)
        mask = np.zeros((len(first), n), dtype=bool)
        np.put_along_axis(mask, first, True, axis=1)
        order = np.argsort(~mask, axis=1, kind="stable")  # first-half seeds first, then the rest
    else:
        gen = _rng(rng)
        order = np.argsort(gen.random((n_partitions, n)), axis=1)
    shuffled = x[order]
    return welch_t_test(shuffled[:, :half], shuffled[:, half:])[2]


def split_test_fraction(
    scores: np.ndarray,
    rng: RngLike,
    *,
    alpha: float = 0.05,
    n_partitions: int = 1000,
    exhaustive: bool | None = None,
) -> float:
    """Fraction of half/half partitions of one algorithm's seeds whose Welch t-test has
    ``p < alpha`` (Henderson et al. 2018). Identical runs should give about ``alpha`` or less;
    much more means the seed-to-seed variance is large enough to fake a difference between
    "two algorithms" that are the same one. See :func:`split_test_pvalues` for the arguments."""
    p = split_test_pvalues(scores, rng, n_partitions=n_partitions, exhaustive=exhaustive)
    return float(np.mean(p < alpha))  # nan p-values (no variance at all) count as not significant


def seeds_needed(
    std: np.ndarray | float,
    half_width: float = 0.1,
    confidence: float = 0.95,
    *,
    max_seeds: int = 10_000_000,
) -> np.ndarray:
    """Seeds needed for a two-sided CI of the mean with the given half-width, from a per-seed
    std: the smallest ``n >= 2`` with ``t_{1-α/2, n-1} · std / sqrt(n) <= half_width``.

    Student-t interval (normal scores, std taken as known): start from the normal answer
    ``ceil((z · std / half_width)²)`` and step up while the t quantile with ``n - 1`` degrees of
    freedom makes the interval too wide (the t answer is never below the normal one).

    Args:
        std: ``()`` or any shape: per-seed standard deviation(s).

    Returns:
        an array of ``std``'s shape: seed counts as floats (``nan`` where ``std`` is nan,
        ``inf`` beyond ``max_seeds``).
    """
    _check_confidence(confidence)
    if half_width <= 0:
        raise ValueError(f"half_width must be > 0, got {half_width}")
    s = np.asarray(std, dtype=float)
    out = np.full(s.shape, np.nan)
    q = 1.0 - (1.0 - confidence) / 2
    z = stats.norm.ppf(q)
    for idx, sigma in np.ndenumerate(s):
        if not np.isfinite(sigma):
            continue
        if sigma < 0:
            raise ValueError(f"std must be >= 0, got {sigma}")
        n = max(2, math.ceil((z * sigma / half_width) ** 2 - 1e-12))
        while n <= max_seeds and stats.t.ppf(q, n - 1) * sigma / math.sqrt(n) > half_width:
            n += 1
        out[idx] = n if n <= max_seeds else np.inf
    return out


def _trimmed_mean_last(x: np.ndarray) -> np.ndarray:
    return stats.trim_mean(x, 0.25, axis=-1)


def seeds_needed_bootstrap(
    scores: np.ndarray,
    half_width: float,
    rng: RngLike,
    *,
    confidence: float = 0.95,
    reps: int = 2000,
    statistic: str = "mean",
    max_seeds: int = 10_000,
) -> int:
    """Seeds needed for a percentile-bootstrap CI of the given half-width, without a normal
    assumption: treat the observed per-seed scores as the population, and for a candidate ``n``
    estimate the half-width as half the central ``confidence`` range of the statistic over
    ``reps`` samples of ``n`` seeds drawn with replacement. The smallest ``n`` (found by doubling
    then bisection, assuming the half-width shrinks with ``n``) whose half-width is within target.

    Args:
        scores: ``(num_seeds,)`` observed per-seed scores (``num_seeds >= 2``).
        statistic: ``"mean"`` or ``"iqm"`` (25% trimmed mean, as rliable's IQM).

    Returns:
        the seed count (``max_seeds + 1`` if even ``max_seeds`` is not enough).
    """
    _check_confidence(confidence)
    x = np.asarray(scores, dtype=float)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"scores must be (num_seeds,) with num_seeds >= 2, got {x.shape}")
    stat = {"mean": lambda a: a.mean(axis=-1), "iqm": _trimmed_mean_last}.get(statistic)
    if stat is None:
        raise ValueError(f"statistic must be 'mean' or 'iqm', got {statistic!r}")
    gen = _rng(rng)
    alpha = 1.0 - confidence

    def width(n: int) -> float:
        values = stat(x[gen.integers(x.size, size=(reps, n))])
        lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2])
        return (hi - lo) / 2

    if width(2) <= half_width:
        return 2
    lo, hi = 2, 4
    while width(hi) > half_width:
        lo, hi = hi, hi * 2
        if lo >= max_seeds:
            return max_seeds + 1
    while hi - lo > 1:  # width(lo) > target >= width(hi)
        mid = (lo + hi) // 2
        if width(mid) > half_width:
            lo = mid
        else:
            hi = mid
    return hi


# ---------------------------------------------------------------------------------------------
# Bootstrap helpers, generalization
# ---------------------------------------------------------------------------------------------


def _percentile_ci(
    replicates: np.ndarray, confidence: float, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1.0 - confidence
    lo, hi = np.quantile(replicates, [alpha / 2, 1 - alpha / 2], axis=axis)
    return lo, hi


def bootstrap_mean(
    values: np.ndarray, rng: RngLike, *, reps: int = 2000, confidence: float = 0.95
) -> Estimate:
    """Mean over seeds with a percentile-bootstrap CI (seeds resampled with replacement,
    independently per task).

    Args:
        values: ``(num_seeds,)`` or ``(num_seeds × num_tasks)``, no nan.
    """
    _check_confidence(confidence)
    x = _as_matrix(values, "values")
    if np.isnan(x).any():
        raise ValueError("values contain nan")
    gen = _rng(rng)
    n, k = x.shape
    idx = gen.integers(n, size=(reps, n, k))
    replicates = np.take_along_axis(x[None], idx, axis=1).mean(axis=1)  # (reps, k)
    lo, hi = _percentile_ci(replicates, confidence)
    point = x.mean(axis=0)
    return Estimate(
        _squeeze_like(point, values), _squeeze_like(lo, values), _squeeze_like(hi, values)
    )


def generalization_gap(
    train_scores: np.ndarray,
    test_scores: np.ndarray,
    rng: RngLike,
    *,
    reps: int = 2000,
    confidence: float = 0.95,
) -> Estimate:
    """Generalization gap ``train − test``: the mean over seeds of the paired per-seed gaps (each
    run evaluated on its training distribution and on a held-out split), with a **percentile**
    bootstrap CI over seeds (pairs resampled together, independently per task).

    Args:
        train_scores: ``(num_seeds,)`` or ``(num_seeds × num_tasks)``.
        test_scores: the same shape, row ``i`` being the same run as in ``train_scores``.
    """
    tr, te = np.asarray(train_scores, dtype=float), np.asarray(test_scores, dtype=float)
    if tr.shape != te.shape:
        raise ValueError(f"paired scores need one shape, got {tr.shape} and {te.shape}")
    return bootstrap_mean(tr - te, rng, reps=reps, confidence=confidence)


PACKER_VARIANTS = ("D", "R", "E")


def packer_metrics(cells: Mapping[str, np.ndarray | float]) -> dict[str, np.ndarray | float]:
    """Packer et al. (2018) summary from mean success per train/test cell.

    Args:
        cells: ``"DD"``, ``"RR"``, ``"DR"``, ``"DE"``, ``"RE"`` (train variant, then test
            variant) -> mean success (floats, or arrays of one shape for many replicates).

    Returns:
        ``default`` = DD, ``interpolation`` = RR, ``extrapolation`` = geometric mean of DR, DE
        and RE.
    """
    missing = [c for c in ("DD", "RR", "DR", "DE", "RE") if c not in cells]
    if missing:
        raise ValueError(f"Packer's summary needs cells {missing}")
    with np.errstate(divide="ignore"):
        extrapolation = np.cbrt(
            np.asarray(cells["DR"], float) * np.asarray(cells["DE"], float) * cells["RE"]
        )
    return {"default": cells["DD"], "interpolation": cells["RR"], "extrapolation": extrapolation}


def packer_summary(
    cells: Mapping[str, np.ndarray],
    rng: RngLike,
    *,
    reps: int = 2000,
    confidence: float = 0.95,
) -> dict[str, Estimate]:
    """Packer et al. (2018) Default (DD), Interpolation (RR) and Extrapolation (geometric mean of
    DR, DE, RE) of mean success, with percentile-bootstrap CIs over seeds.

    The bootstrap is stratified by training variant: the runs trained on D are resampled
    together for all their test cells (DD, DR, DE are the same runs, so they stay paired), and
    the runs trained on R separately.

    Args:
        cells: ``"<train><test>"`` -> ``(num_seeds_<train>,)`` per-run success; cells with the
            same train letter are aligned by run. At least DD, DR, DE, RR, RE.
    """
    _check_confidence(confidence)
    gen = _rng(rng)
    arrays = {c: np.asarray(v, dtype=float) for c, v in cells.items()}
    by_train: dict[str, int] = {}
    for c, v in arrays.items():
        if v.ndim != 1 or v.size < 1:
            raise ValueError(f"cell {c} must be a non-empty (num_seeds,) array, got {v.shape}")
        if by_train.setdefault(c[0], v.size) != v.size:
            raise ValueError(f"cells trained on {c[0]} must hold the same runs (sizes differ)")
    idx = {t: gen.integers(n, size=(reps, n)) for t, n in by_train.items()}
    point = packer_metrics({c: v.mean() for c, v in arrays.items()})
    boot = packer_metrics({c: v[idx[c[0]]].mean(axis=1) for c, v in arrays.items()})
    out = {}
    for key in ("default", "interpolation", "extrapolation"):
        lo, hi = _percentile_ci(np.asarray(boot[key]), confidence)
        out[key] = Estimate(float(point[key]), float(lo), float(hi))
    return out


# ---------------------------------------------------------------------------------------------
# Trainability frontier
# ---------------------------------------------------------------------------------------------

_COEF_BOUND = 30.0  # |coefficients| on the standardized difficulty; bounds separable data


@dataclass(frozen=True)
class LogisticFit:
    """``P(success | x) = expit(intercept + slope · x)`` in the difficulty's own units."""

    intercept: float
    slope: float

    def predict(self, x: np.ndarray | float) -> np.ndarray:
        return special.expit(self.intercept + self.slope * np.asarray(x, dtype=float))

    @property
    def midpoint(self) -> float:
        """The difficulty where the fitted success is 1/2 (±inf for a flat fit)."""
        if self.slope == 0:
            return math.copysign(math.inf, -self.intercept) if self.intercept else math.nan
        return -self.intercept / self.slope


def _levels(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    levels, inverse = np.unique(x, return_inverse=True)
    counts = np.bincount(inverse, minlength=levels.size).astype(float)
    means = np.bincount(inverse, weights=y, minlength=levels.size) / counts
    return levels, counts, means


def _fit_levels(z: np.ndarray, counts: np.ndarray, means: np.ndarray) -> tuple[float, float]:
    """Bernoulli (quasi-)likelihood fit of expit(b0 + b1 z) to level means; (b0, b1).

    Bounded truncated Newton (scipy TNC; it needs no BLAS, so its speed does not depend on a
    busy machine's thread pool). The bounds only bind under (quasi-)separation."""
    w = counts / counts.sum()

    def nll(b: np.ndarray) -> tuple[float, np.ndarray]:
        eta = b[0] + b[1] * z
        # -[y log σ(η) + (1-y) log σ(-η)] = logaddexp(0, η) - y η
        value = float(np.sum(w * (np.logaddexp(0.0, eta) - means * eta)))
        r = w * (special.expit(eta) - means)
        return value, np.array([r.sum(), (r * z).sum()])

    m = float(np.clip(np.sum(w * means), 1e-3, 1 - 1e-3))
    result = optimize.minimize(
        nll,
        np.array([math.log(m / (1 - m)), 0.0]),
        jac=True,
        method="TNC",
        bounds=[(-_COEF_BOUND, _COEF_BOUND)] * 2,
        options={"ftol": 1e-14, "xtol": 1e-10, "gtol": 1e-10, "maxfun": 500},
    )
    return float(result.x[0]), float(result.x[1])


def _fit_rows(
    z: np.ndarray, counts: np.ndarray, means: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit many rows of level means ``(reps × num_levels)`` on the standardized levels ``z``.

    Returns ``coefs (reps × 2)``, the midpoint clipped to the range, the low and high ends of
    the set of midpoints that fit (equal to the midpoint unless the row is separated) and
    censoring codes (-1 below the range, 0 inside, +1 above).

    A perfectly separated row (every level 0 or 1, one switch at most) has no finite MLE: any
    midpoint between the last level of one outcome and the first of the other fits (the
    likelihood's supremum is a step there). Such a row gets that bracket, its centre as the
    midpoint and, as coefficients, a step (slope ±30 on ``z``) at the centre, or a flat curve
    at expit(±30) when every level has one outcome. Other rows are fitted once per distinct row.
    """
    zmin, zmax = float(z[0]), float(z[-1])
    coefs = np.empty((means.shape[0], 2))
    separated = np.zeros(means.shape[0], dtype=bool)
    z_lo = np.empty(means.shape[0])
    z_hi = np.empty(means.shape[0])
    gap = _separation_bracket(means)
    if gap is not None:
        rows, a, b, falling = gap
        separated[rows] = True
        z_lo[rows], z_hi[rows] = z[a], z[b]
        centre = (z[a] + z[b]) / 2
        slope = np.where(a == b, 0.0, np.where(falling, -_COEF_BOUND, _COEF_BOUND))
        flat = np.where(means[rows, 0] > 0.5, _COEF_BOUND, -_COEF_BOUND)
        coefs[rows, 0] = np.where(a == b, flat, -slope * centre)
        coefs[rows, 1] = slope
    todo = np.flatnonzero(~separated)
    if todo.size:
        unique, inverse = np.unique(means[todo], axis=0, return_inverse=True)
        fitted = np.array([_fit_levels(z, counts, row) for row in unique])
        coefs[todo] = fitted[inverse.ravel()]
    z_mid, code = _clipped_midpoint(coefs[:, 0], coefs[:, 1], zmin, zmax)
    z_lo = np.where(separated, z_lo, z_mid)
    z_hi = np.where(separated, z_hi, z_mid)
    return coefs, z_mid, z_lo, z_hi, code


def fit_logistic(
    difficulty: np.ndarray, outcomes: np.ndarray, weights: np.ndarray | None = None
) -> LogisticFit:
    """Maximum-likelihood logistic regression of success on difficulty (scipy.optimize, TNC).

    Args:
        difficulty: ``(num_runs,)`` the difficulty of each run (H, d, ...); two levels or more.
        outcomes: ``(num_runs,)`` in [0, 1]: binary per-seed success, or a fractional success
            rate (then the Bernoulli likelihood is a quasi-likelihood; the fit is the same as for
            that many successes out of one trial).
        weights: ``(num_runs,)`` optional run weights.

    With separated outcomes the MLE is at infinity. Under perfect separation (every level all
    success or all failure) the fit returned is the limit's shape: a step (slope ±30 on the
    standardized difficulty) halfway between the levels around the switch, or a flat curve at
    expit(±30) when all levels agree; under quasi-separation (a mixed level between all-success
    and all-failure levels) the coefficients on the standardized difficulty are bounded by ±30,
    which keeps the curve a steep step at the mixed level.
    """
    x = np.asarray(difficulty, dtype=float)
    y = np.asarray(outcomes, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"difficulty and outcomes must be (num_runs,), got {x.shape}, {y.shape}")
    if np.isnan(x).any() or np.isnan(y).any() or (y < 0).any() or (y > 1).any():
        raise ValueError("outcomes must lie in [0, 1] and nothing may be nan")
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    levels, inverse = np.unique(x, return_inverse=True)
    if levels.size < 2:
        raise ValueError("a logistic fit in the difficulty needs at least two difficulty levels")
    counts = np.bincount(inverse, weights=w, minlength=levels.size)
    means = np.bincount(inverse, weights=w * y, minlength=levels.size) / counts
    center, scale = float(levels.mean()), float(levels.std())
    coefs = _fit_rows((levels - center) / scale, counts, means[None])[0]
    return _raw_fit(coefs[0], center, scale)


def _raw_fit(coefs: np.ndarray, center: float, scale: float) -> LogisticFit:
    b0, b1 = float(coefs[0]), float(coefs[1])
    return LogisticFit(intercept=b0 - b1 * center / scale, slope=b1 / scale)


@dataclass(frozen=True)
class Frontier:
    """A trainability frontier: the fitted success curve and H50/d50 with its bootstrap CI.

    ``midpoint``, ``low`` and ``high`` are clipped to the tested range ``[levels[0],
    levels[-1]]``: a logistic curve is not extrapolated. ``censored`` says where the fitted
    midpoint really lies: ``""`` inside the range, ``"below"`` (fewer than half succeed even at
    the easiest level) or ``"above"`` (more than half succeed even at the hardest);
    ``low_censored`` / ``high_censored`` say the same of the interval's ends.
    """

    midpoint: float
    low: float
    high: float
    censored: str
    fit: LogisticFit
    levels: np.ndarray  # (num_levels,)
    counts: np.ndarray  # (num_levels,) seeds per level
    rates: np.ndarray  # (num_levels,) observed mean outcome per level
    curve_x: np.ndarray  # (num_points,)
    curve: np.ndarray  # (num_points,) fitted success
    curve_low: np.ndarray  # (num_points,) pointwise percentile band of the bootstrap fits
    curve_high: np.ndarray
    censored_fraction: float  # bootstrap replicates whose midpoint is outside the range
    low_censored: bool  # over alpha/2 of the replicates lie below the range: low is an upper bound
    high_censored: bool  # over alpha/2 lie above it: ``high`` is a lower bound on the CI's end


def _clipped_midpoint(b0: np.ndarray, b1: np.ndarray, zmin: float, zmax: float):
    """Vectorised: midpoint on the standardized scale, clipped, and -1/0/+1 censoring codes."""
    p_lo, p_hi = special.expit(b0 + b1 * zmin), special.expit(b0 + b1 * zmax)
    inside = (p_lo - 0.5) * (p_hi - 0.5) <= 0
    # Outside the range: above 1/2 everywhere -> the midpoint is past the end the curve falls
    # towards (above for a falling curve); below 1/2 everywhere -> before the end it rises from.
    falling = b1 <= 0
    high_side = np.where(p_lo > 0.5, falling, ~falling)
    code = np.where(inside, 0, np.where(high_side, 1, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(inside & (b1 != 0), -b0 / np.where(b1 == 0, 1.0, b1), np.nan)
    z = np.where(code == 1, zmax, np.where(code == -1, zmin, np.clip(z, zmin, zmax)))
    return z, code


def _separation_bracket(
    means: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Rows of ``(reps × num_levels)`` level means that are perfectly separated (every level 0
    or 1, one switch at most), the indices of the levels on either side of the switch (the
    first or last level twice when there is no switch), and whether success falls."""
    binary = np.all((means == 0) | (means == 1), axis=1)
    steps = np.diff(means, axis=1)
    falling = binary & np.all(steps <= 0, axis=1)
    rising = binary & np.all(steps >= 0, axis=1) & ~falling
    rows = np.flatnonzero(falling | rising)
    if rows.size == 0:
        return None
    num = means.shape[1]
    ones = means[rows].sum(axis=1).astype(int)
    before = np.where(falling[rows], ones, num - ones)  # levels before the switch
    a = np.clip(before - 1, 0, num - 1)
    b = np.clip(before, 0, num - 1)
    return rows, a, b, falling[rows]


def trainability_frontier(
    difficulty: np.ndarray,
    outcomes: np.ndarray,
    rng: RngLike,
    *,
    reps: int = 1000,
    confidence: float = 0.95,
    num_points: int = 101,
) -> Frontier:
    """Success over seeds against a difficulty: a maximum-likelihood logistic fit (see
    :func:`fit_logistic`), the difficulty at which half the seeds succeed (H50/d50), and a
    percentile-bootstrap CI that resamples seeds *within* each difficulty level (stratified, so
    every replicate keeps every level and its number of seeds). A replicate whose outcomes are
    perfectly separated (every level all-success or all-failure) has no unique MLE midpoint: it
    contributes the whole bracket between the two levels around the switch, so separated data
    get an interval spanning that gap rather than a degenerate point.

    Args:
        difficulty: ``(num_runs,)`` each run's difficulty; at least two levels.
        outcomes: ``(num_runs,)`` per-seed outcome in [0, 1] (binary "solved", or a success
            rate).
        rng: random state for the bootstrap.
        num_points: size of the returned curve grid over the tested range.
    """
    _check_confidence(confidence)
    x = np.asarray(difficulty, dtype=float)
    y = np.asarray(outcomes, dtype=float)
    fit = fit_logistic(x, y)  # validates the input
    levels, counts, rates = _levels(x, y)
    center, scale = float(levels.mean()), float(levels.std())
    zl = (levels - center) / scale
    _, z_point, _, _, code = _fit_rows(zl, counts, rates[None])

    # Stratified bootstrap: per level, the mean of counts[j] seeds drawn with replacement (only
    # level means enter the likelihood). A separated replicate contributes its whole bracket of
    # midpoints: its low end to the lower percentile, its high end to the upper one.
    gen = _rng(rng)
    by_level = [y[x == lv] for lv in levels]
    boot_means = np.column_stack(
        [v[gen.integers(v.size, size=(reps, v.size))].mean(axis=1) for v in by_level]
    )
    coefs, _, z_lo, z_hi, code_boot = _fit_rows(zl, counts, boot_means)
    alpha = 1.0 - confidence
    lo = float(np.quantile(z_lo, alpha / 2))
    hi = float(np.quantile(z_hi, 1 - alpha / 2))

    curve_x = np.linspace(levels[0], levels[-1], num_points)
    zc = (curve_x - center) / scale
    band = special.expit(coefs[:, :1] + coefs[:, 1:] * zc[None])
    band_lo, band_hi = _percentile_ci(band, confidence)
    return Frontier(
        midpoint=float(center + scale * z_point[0]),
        low=float(center + scale * lo),
        high=float(center + scale * hi),
        censored={0: "", -1: "below", 1: "above"}[int(code[0])],
        fit=fit,
        levels=levels,
        counts=counts,
        rates=rates,
        curve_x=curve_x,
        curve=fit.predict(curve_x),
        curve_low=band_lo,
        curve_high=band_hi,
        censored_fraction=float(np.mean(code_boot != 0)),
        low_censored=bool(np.mean(code_boot == -1) > alpha / 2),
        high_censored=bool(np.mean(code_boot == 1) > alpha / 2),
    )


# ---------------------------------------------------------------------------------------------
# Zero signal
# ---------------------------------------------------------------------------------------------


def zero_signal_summary(
    fractions: np.ndarray, rng: RngLike, *, reps: int = 2000, confidence: float = 0.95
) -> Estimate:
    """Mean zero-signal fraction (the share of training batches with no non-zero reward) over
    runs, with a percentile-bootstrap CI over runs.

    Args:
        fractions: ``(num_runs,)`` for one setting, or ``(num_runs × num_settings)``; in [0, 1].
    """
    f = np.asarray(fractions, dtype=float)
    if ((f < 0) | (f > 1)).any():
        raise ValueError("zero-signal fractions must lie in [0, 1]")
    return bootstrap_mean(f, rng, reps=reps, confidence=confidence)
