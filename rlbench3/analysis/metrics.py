"""Statistics for RL results: small pure functions, arrays in, arrays out.

In the manner of rliable's ``metrics.py``: every array argument states its shape (a score matrix is
``(num_seeds × num_tasks)``; ``num_seeds`` is the number of independent runs), there is no
plotting and no I/O, and every function that draws random numbers takes an explicit random state:
``rng``, a :class:`numpy.random.Generator` or an integer seed (anything
:func:`numpy.random.default_rng` accepts, except ``None``). :func:`rng_for` derives a row's
generator from a base seed and the row's key, for tables and figures.

Every estimator's docstring says what its value means and under which assumptions; measured
coverages of the intervals the tables use are printed by ``scripts/coverage.py`` (quoted in the
README). Five groups:

* **Seed variance.** :func:`aggregate_estimates` (IQM, mean, median, optimality gap),
  :func:`iqm_curve` (IQM at every point of a learning curve),
  :func:`probability_of_improvement` and :func:`performance_profiles` are thin wrappers around
  rliable (stratified-bootstrap percentile CIs). :func:`seed_spread`, :func:`std_interval`
  (range-respecting for bounded scores), :func:`welch_t_test`, the Henderson et al. (2018)
  :func:`split_test_fraction`, and :func:`seeds_needed` / :func:`seeds_needed_interval` /
  :func:`seeds_needed_bootstrap` are defined here.
* **Two levels.** :func:`two_level_estimates` and :func:`two_level_gap`: the same aggregates
  with intervals that resample seeds and, within each seed, its evaluation episodes
  (Hesterberg's expanded percentile ends by default, :func:`expanded_alpha`);
  :func:`central_aggregate` names the aggregate a table reports for a number of seeds (the mean
  below :data:`MIN_SEEDS`).
* **Generalization.** :func:`generalization_gap` (paired train − test gap, percentile bootstrap
  over seeds) and :func:`packer_summary` (Packer et al. 2018: Default, Interpolation,
  Extrapolation).
* **Trainability frontier.** :func:`fit_logistic` and :func:`trainability_frontier`: success
  over seeds against a difficulty, with the difficulty at which half the seeds succeed (H50/d50)
  and its profile-likelihood interval, censored at the tested range.
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
    "FRONTIER_INTERVALS",
    "Frontier",
    "INTERVALS",
    "LogisticFit",
    "MIN_SEEDS",
    "PACKER_VARIANTS",
    "SeedSpread",
    "aggregate_estimates",
    "bootstrap_mean",
    "central_aggregate",
    "expanded_alpha",
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
    "seeds_needed_interval",
    "split_test_fraction",
    "split_test_pvalues",
    "std_interval",
    "trainability_frontier",
    "two_level_estimates",
    "two_level_gap",
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

    What a value means: the aggregate (IQM = 25% trimmed mean over all runs and tasks, mean,
    median of the per-task means, optimality gap = mean shortfall below 1) of the score matrix;
    the interval estimates the aggregate over the population of runs. Assumptions: independent
    runs, each score exact (no within-run noise; :func:`two_level_estimates` resamples the
    episodes too), a percentile interval (too narrow at few seeds). An IQM of fewer than 5
    runs is not the interquartile mean it is named for: of 3 values it is their mean, of 4
    their median (:func:`central_aggregate`).

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

    What a value means: the probability that a run of X scores above a run of Y on a task
    (ties count one half); 0.5 is no difference. Assumptions: independent runs; scores exact;
    a percentile interval, narrow at few seeds.

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

    What a value means: at threshold τ, the share of runs (over seeds and tasks) whose score
    exceeds τ, an estimate of the population's survival function. Assumptions: independent
    runs, scores exact; pointwise (not simultaneous) percentile bands.

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

    What a value means: at each point, the 25% trimmed mean of the runs' values there (the mean
    for 3 runs, the median for 4); the band is pointwise. Assumptions as
    :func:`aggregate_estimates`'.

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
# Two-level intervals: seeds, then each seed's evaluation episodes
# ---------------------------------------------------------------------------------------------

MIN_SEEDS = 5
"""Below this many seeds a table calls its aggregate the mean (an IQM of 3 values trims nothing,
of 4 it is the median) and warns: the measured coverage of its intervals falls short (README,
``scripts/coverage.py``)."""

INTERVALS = ("expanded", "percentile")


def central_aggregate(num_seeds: int) -> str:
    """The aggregate a table reports for ``num_seeds`` runs: ``"iqm"`` from :data:`MIN_SEEDS`
    seeds on, ``"mean"`` below (where the 25% trimmed mean trims nothing, n = 3, or is the
    median, n = 4, and is better called what it is)."""
    return "iqm" if num_seeds >= MIN_SEEDS else "mean"


def _aggregate_rows(name: str, x: np.ndarray) -> np.ndarray:
    """rliable's aggregate ``name`` of every row of ``(reps × num_seeds)``."""
    if name == "iqm":
        return stats.trim_mean(x, 0.25, axis=1)
    if name == "mean":
        return x.mean(axis=1)
    if name == "median":
        return np.median(x, axis=1)
    if name == "optimality_gap":
        return 1.0 - np.minimum(x, 1.0).mean(axis=1)
    raise ValueError(f"unknown aggregate {name!r}; choose from {AGGREGATES}")


def expanded_alpha(num_seeds: int, confidence: float) -> float:
    """The two-sided level of Hesterberg's *expanded percentile* interval: the percentile
    interval's ends are taken at ``α'/2`` and ``1 − α'/2`` where
    ``Φ⁻¹(1 − α'/2) = sqrt(n / (n − 1)) · t_{1−α/2, n−1}``.

    A percentile bootstrap over ``n`` seeds is too narrow for small ``n`` twice over: the
    bootstrap distribution's spread is the plug-in ``sqrt((n − 1) / n) · s / sqrt(n)``, and its
    quantiles are normal-like where Student's t is right. The expansion undoes both for the mean
    of normal scores (Hesterberg 2015, "What teachers should know about the bootstrap", §5); for
    other aggregates and for bounded scores it is a heuristic whose coverage is measured
    (``scripts/coverage.py``). With one seed there is nothing to expand: ``α``."""
    _check_confidence(confidence)
    alpha = 1.0 - confidence
    if num_seeds < 2:
        return alpha
    z = math.sqrt(num_seeds / (num_seeds - 1)) * stats.t.ppf(1 - alpha / 2, num_seeds - 1)
    return float(2 * stats.norm.sf(z))


def _resample_seed_means(
    episodes: Sequence[np.ndarray],
    gen: np.random.Generator,
    reps: int,
    idx: np.ndarray | None = None,
) -> np.ndarray:
    """``(reps × num_seeds)``: seeds drawn with replacement (or the draws ``idx``, ``(reps ×
    num_seeds)``), and for each draw the mean of that seed's episodes drawn with replacement
    (independently each time a seed is drawn)."""
    num = len(episodes)
    sizes = np.array([e.size for e in episodes])
    means = np.array([e.mean() for e in episodes])
    if idx is None:
        idx = gen.integers(num, size=(reps, num))
    binary = all(np.all((e == 0) | (e == 1)) for e in episodes)
    if binary:
        # The mean of n draws with replacement from k successes in n: Binomial(n, k / n) / n.
        return gen.binomial(sizes[idx], means[idx]) / sizes[idx]
    if np.all(sizes == 1):
        return means[idx]
    width = int(sizes.max())
    padded = np.zeros((num, width))
    for i, e in enumerate(episodes):
        padded[i, : e.size] = e
    out = np.empty((reps, num))
    chunk = max(1, 4_000_000 // (num * width))
    for start in range(0, reps, chunk):
        rows = idx[start : start + chunk]  # (c, num) seeds
        n = sizes[rows][..., None]  # (c, num, 1)
        pick = np.floor(gen.random((*rows.shape, width)) * n).astype(np.intp)
        values = padded[rows[..., None], pick]
        used = np.arange(width)[None, None, :] < n
        out[start : start + chunk] = np.where(used, values, 0.0).sum(axis=2) / n[..., 0]
    return out


def _check_interval(interval: str) -> None:
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {INTERVALS}, got {interval!r}")


def _episode_arrays(episodes: Sequence[np.ndarray], name: str = "episodes") -> list[np.ndarray]:
    eps = [np.atleast_1d(np.asarray(e, dtype=float)) for e in episodes]
    if not eps or any(e.ndim != 1 or e.size == 0 for e in eps):
        raise ValueError(f"{name} needs at least one seed, each with a (num_episodes,) array")
    if any(np.isnan(e).any() for e in eps):
        raise ValueError(f"{name} contain nan")
    return eps


def _ends(replicates: np.ndarray, point: float, alpha: float) -> Estimate:
    """Percentile ends at ``alpha/2`` and ``1 − alpha/2``, widened to contain the point."""
    lo, hi = np.quantile(replicates, [alpha / 2, 1 - alpha / 2])
    return Estimate(point, float(min(lo, point)), float(max(hi, point)))


def two_level_estimates(
    episodes: Sequence[np.ndarray],
    rng: RngLike,
    *,
    metrics: Sequence[str] = ("mean",),
    reps: int = 2000,
    confidence: float = 0.95,
    interval: str = "expanded",
) -> dict[str, Estimate]:
    """Aggregates over seeds of per-seed mean scores, with a two-level (hierarchical) bootstrap
    interval: each replicate draws the seeds with replacement and, within every drawn seed, its
    final evaluation episodes with replacement. A cell whose seeds agree exactly still shows
    the noise of its finite evaluation.

    What a value means: ``point`` is the aggregate over seeds (IQM = 25% trimmed mean, mean,
    median, optimality gap to 1) of the per-seed mean scores, as :func:`aggregate_estimates`
    computes it for one task (except the median: over seeds here, where rliable's one-task
    median is the mean over runs); ``[low, high]`` estimates where the aggregate of
    the *population* of seeds (each evaluated on as many episodes) lies. Assumptions: seeds are
    independent draws of one training procedure, and a seed's evaluation episodes are
    independent draws of its policy's behaviour (disjoint evaluation seeds per run). Per-episode
    scores that are all 0 or 1 are resampled exactly through their binomial law. When every
    episode of every seed succeeded (or every one failed) no resample varies, and the interval
    is instead the Clopper-Pearson interval of the pooled episodes (at the nominal level): a
    floor on the uncertainty, from the episodes alone (no between-seed spread was seen).

    Args:
        episodes: per seed, ``(num_episodes_i,)`` its final evaluation episodes' scores (success
            0/1, or returns); episode counts may differ. A seed given as one value is resampled
            at the seed level only (and counts as one episode in the Clopper-Pearson case).
        rng: random state.
        metrics: any of ``"iqm"``, ``"mean"``, ``"median"``, ``"optimality_gap"``.
        interval: ``"expanded"`` (default; Hesterberg's expanded percentile interval, see
            :func:`expanded_alpha`: wider at few seeds, the same as ``"percentile"`` for many)
            or ``"percentile"``.

    Returns:
        metric -> :class:`Estimate` of floats. Measured coverage (``scripts/coverage.py``): see
        the README; it falls short of the nominal level below :data:`MIN_SEEDS` seeds.
    """
    _check_confidence(confidence)
    _check_interval(interval)
    eps = _episode_arrays(episodes)
    unknown = [m for m in metrics if m not in AGGREGATES]
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; choose from {AGGREGATES}")
    means = np.array([e.mean() for e in eps])
    boot = _resample_seed_means(eps, _rng(rng), reps)
    alpha = 1.0 - confidence if interval == "percentile" else expanded_alpha(len(eps), confidence)
    pooled = np.concatenate(eps)
    at_bound = bool(np.all(pooled == 1) or np.all(pooled == 0))
    if at_bound:  # every episode of every seed a success (or a failure): no resample varies
        p_lo, p_hi = _clopper_pearson(int(pooled.sum()), pooled.size, confidence)
    out = {}
    for name in metrics:
        # the statistic the replicates compute: for one task, rliable's median (the median over
        # tasks of the mean over runs) would be the mean, not the median over seeds
        point = float(_aggregate_rows(name, means[None])[0])
        if at_bound:
            lo, hi = (1.0 - p_hi, 1.0 - p_lo) if name == "optimality_gap" else (p_lo, p_hi)
            out[name] = Estimate(point, lo, hi)
        else:
            out[name] = _ends(_aggregate_rows(name, boot), point, alpha)
    return out


def two_level_gap(
    train_episodes: Sequence[np.ndarray],
    test_episodes: Sequence[np.ndarray],
    rng: RngLike,
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    interval: str = "expanded",
) -> Estimate:
    """The generalization gap ``train − test`` of :func:`generalization_gap` (mean over seeds of
    each run's train score minus its test score) with a two-level interval: runs resampled
    together for both splits (paired), and each run's train and test episodes resampled within
    it, independently. Assumptions as :func:`two_level_estimates`'.

    Args:
        train_episodes: per run, ``(num_episodes,)`` its final episodes on the training split.
        test_episodes: per run (the same runs, in the same order), on the held-out split.
    """
    _check_confidence(confidence)
    _check_interval(interval)
    tr = _episode_arrays(train_episodes, "train_episodes")
    te = _episode_arrays(test_episodes, "test_episodes")
    if len(tr) != len(te):
        raise ValueError(f"paired runs needed, got {len(tr)} and {len(te)}")
    gen = _rng(rng)
    idx = gen.integers(len(tr), size=(reps, len(tr)))
    boot = _resample_seed_means(tr, gen, reps, idx) - _resample_seed_means(te, gen, reps, idx)
    alpha = 1.0 - confidence if interval == "percentile" else expanded_alpha(len(tr), confidence)
    point = float(np.mean([a.mean() - b.mean() for a, b in zip(tr, te)]))
    pooled_tr, pooled_te = np.concatenate(tr), np.concatenate(te)
    if all(np.all(p == 1) or np.all(p == 0) for p in (pooled_tr, pooled_te)):
        # No resample varies (every episode of each split a success, or a failure): the
        # difference of the two splits' pooled Clopper-Pearson intervals, each at the nominal
        # level, as in two_level_estimates.
        tr_lo, tr_hi = _clopper_pearson(int(pooled_tr.sum()), pooled_tr.size, confidence)
        te_lo, te_hi = _clopper_pearson(int(pooled_te.sum()), pooled_te.size, confidence)
        return Estimate(point, tr_lo - te_hi, tr_hi - te_lo)
    return _ends(boot.mean(axis=1), point, alpha)


def two_level_difference(
    first_episodes: Sequence[np.ndarray],
    second_episodes: Sequence[np.ndarray],
    rng: RngLike,
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    interval: str = "expanded",
) -> Estimate:
    """The difference ``mean(first) − mean(second)`` of the mean over seeds of two *independent*
    groups of runs (e.g. one agent at two difficulty levels), with a two-level interval: each
    group's seeds resampled on their own, and each seed's episodes within it (as
    :func:`two_level_estimates`). The expanded-percentile ends use the smaller group's size.

    Args:
        first_episodes, second_episodes: per run, ``(num_episodes,)`` its final episodes' scores
            (a run given as one value is resampled at the seed level only).
    """
    _check_confidence(confidence)
    _check_interval(interval)
    a = _episode_arrays(first_episodes, "first_episodes")
    b = _episode_arrays(second_episodes, "second_episodes")
    gen = _rng(rng)
    boot = _resample_seed_means(a, gen, reps).mean(axis=1) - _resample_seed_means(
        b, gen, reps
    ).mean(axis=1)
    point = float(np.mean([e.mean() for e in a]) - np.mean([e.mean() for e in b]))
    n = min(len(a), len(b))
    alpha = 1.0 - confidence if interval == "percentile" else expanded_alpha(n, confidence)
    pooled_a, pooled_b = np.concatenate(a), np.concatenate(b)
    if all(np.all(p == 1) or np.all(p == 0) for p in (pooled_a, pooled_b)):
        # No resample varies: the difference of the pooled Clopper-Pearson intervals.
        a_lo, a_hi = _clopper_pearson(int(pooled_a.sum()), pooled_a.size, confidence)
        b_lo, b_hi = _clopper_pearson(int(pooled_b.sum()), pooled_b.size, confidence)
        return Estimate(point, a_lo - b_hi, a_hi - b_lo)
    return _ends(boot, point, alpha)


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
    """Mean, std (ddof=1), coefficient of variation, min, max and range over seeds: plain
    descriptions of the observed seeds (no interval, no model; see :func:`std_interval` for the
    std of the population of seeds).

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


def std_interval(
    scores: np.ndarray,
    confidence: float = 0.95,
    *,
    bounds: tuple[float, float] | None = None,
) -> Estimate:
    """The standard deviation of the per-seed scores' distribution, with a confidence interval.

    What a value means: ``point`` estimates σ, the spread of a run's score across seeds (the
    quantity that sets how many seeds a comparison needs); ``[low, high]`` is where σ lies.

    * ``bounds=None`` (unbounded scores, e.g. returns): the sample std (ddof=1) and the
      chi-square interval, exact if the scores are normal: ``(n-1) s² / σ² ~ χ²(n-1)``.
    * ``bounds=(a, b)`` (bounded scores, e.g. success rates in [0, 1]): no σ exceeds
      ``(b − a) / 2`` (Popoviciu's inequality). When every score sits at a bound (binary
      outcomes, e.g. each seed solved or not) the Bernoulli model is exact: ``σ = (b − a)
      sqrt(p (1 − p))`` with ``p`` the share at ``b``; the point is its plug-in value and the
      interval maps the Clopper-Pearson interval of ``p`` through it (so [1, 1, 0] gives
      [0.09, 0.50], not the chi-square [0.30, 3.63]). Otherwise the chi-square interval is
      capped at ``(b − a) / 2``; a sample with no spread at all, whose chi-square interval is
      the degenerate [0, 0], gets ``[0, (b − a) / 2]`` (no spread observed is not evidence of
      none in discrete scores; the cap is the only assumption-free bound).

    Args:
        scores: ``(num_seeds,)`` or ``(num_seeds × num_tasks)``; at least two seeds.
        bounds: the range the scores can take, or ``None``.
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
    if bounds is not None:
        a, b = (float(v) for v in bounds)
        if not b > a:
            raise ValueError(f"bounds must be (low, high) with low < high, got {bounds}")
        if ((x < a) | (x > b)).any():
            raise ValueError(f"scores must lie in the bounds {bounds}")
        cap = (b - a) / 2
        s, low, high = np.minimum(s, cap), np.minimum(low, cap), np.minimum(high, cap)
        high = np.where(s == 0, cap, high)
        binary = np.all((x == a) | (x == b), axis=0)
        for j in np.flatnonzero(binary):
            k = int(np.sum(x[:, j] == b))
            p_lo, p_hi = _clopper_pearson(k, n, confidence)
            ends = np.sqrt(np.array([p_lo * (1 - p_lo), p_hi * (1 - p_hi)]))
            s[j] = (b - a) * math.sqrt(k / n * (1 - k / n))
            low[j] = (b - a) * float(ends.min())
            high[j] = cap if p_lo <= 0.5 <= p_hi else (b - a) * float(ends.max())
    return Estimate(
        _squeeze_like(s, scores), _squeeze_like(low, scores), _squeeze_like(high, scores)
    )


def _clopper_pearson(hits: int, trials: int, confidence: float) -> tuple[float, float]:
    """Exact two-sided binomial interval (as :func:`rlbench3.analysis.probes.clopper_pearson`)."""
    alpha = 1.0 - confidence
    low = 0.0 if hits == 0 else float(stats.beta.ppf(alpha / 2, hits, trials - hits + 1))
    high = 1.0 if hits == trials else float(stats.beta.ppf(1 - alpha / 2, hits + 1, trials - hits))
    return low, high


def welch_t_test(
    a: np.ndarray, b: np.ndarray, axis: int = -1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Welch's unequal-variance two-sample t-test, two-sided, vectorised over the other axes.

    What a value means: ``p`` is the probability, if both groups' means were equal, of a
    statistic at least as extreme. Assumptions: independent samples from normal distributions
    (variances may differ); with few bounded or clustered scores the actual level differs from
    the nominal one.

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
    two groups (``n // 2`` and ``n - n // 2`` seeds) and test them against each other. The
    p-values of overlapping partitions are dependent, and each is exact only for normal scores
    (see :func:`split_test_fraction` for what their distribution is under other shapes).

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
    ``p < alpha`` (Henderson et al. 2018): how often splitting runs of *one* algorithm and
    setting into two groups would "show" a significant difference between them.

    What a value means, and what it does not: every split compares seeds of the same procedure,
    so any significant split is a false positive. A value far above the null's is evidence that
    a two-group comparison of this many seeds is not to be trusted for these scores (heavy
    tails, clusters such as solved / unsolved seeds). It is *not* a measure of the seed
    variance: a large spread of normal scores gives the null value, whatever its size. The null
    value is not ``alpha`` either; it depends on the number of seeds and on the shape of the
    scores' distribution (Welch's test is calibrated for normal scores, and not well at 2 vs 2).
    Reference values (expected fraction with no difference at all, ``alpha = 0.05``, every
    split enumerated): normal scores, 4 seeds 0.023, 6 seeds 0.035, 10 seeds 0.044;
    Bernoulli(0.5) outcomes (e.g. each seed solved or not), 4 seeds 0.125 (2.5 × alpha:
    the only significant splits put both 1s against both 0s), 6 seeds 0.031, 10 seeds 0.021.
    Compare a fraction with the null value of its distribution and seed count, not with
    ``alpha``. See :func:`split_test_pvalues` for the arguments."""
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

    What a value means: the number of independent seeds whose t-interval of the mean would have
    the target half-width, if the per-seed std were ``std``. Assumptions: normal per-seed scores
    and ``std`` known (a std estimated from few seeds is itself uncertain; use
    :func:`seeds_needed_interval` with :func:`std_interval`'s interval).

    Student-t interval (normal scores, std taken as known): start from the normal answer
    ``ceil((z · std / half_width)²)`` and step up while the t quantile with ``n - 1`` degrees of
    freedom makes the interval too wide (the t answer is never below the normal one). A std of
    0 gives 2, the smallest count a t-interval allows: a *known* std of 0, not an observed one.

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


def seeds_needed_interval(
    std: Estimate, half_width: float = 0.1, confidence: float = 0.95
) -> Estimate:
    """:func:`seeds_needed` for a std estimate with its interval (:func:`std_interval`): the
    seeds for a ``confidence`` t-interval of the mean of half-width ``half_width``, at the
    std's point and at its two ends.

    What a value means: the point is the seed count if σ were the observed std; the interval
    is the seed counts over σ's interval (its high end is what a careful plan uses). When no
    spread was observed (std point 0) the point says nothing (``nan``, "n/a" in tables: never
    "2 [2, 2]"), and the high end is the bound that the std's interval allows (for success
    rates at most ``seeds_needed(0.5)``, from the [0, 1] range); with no bound either, the
    whole estimate is ``nan``. Assumptions: :func:`seeds_needed`'s (a normal-theory t-interval
    of the mean, σ taken as known)."""
    point, low, high = (np.asarray(v, dtype=float) for v in (std.point, std.low, std.high))
    needed = seeds_needed(np.stack([point, low, high]), half_width, confidence)
    p, lo, hi = needed[0], needed[1], needed[2]
    p = np.where(point == 0, np.nan, p)
    hi = np.where(high == 0, np.nan, hi)
    lo = np.where(np.isnan(hi), np.nan, lo)
    as_out = (lambda v: float(v)) if np.ndim(point) == 0 else (lambda v: v)
    return Estimate(as_out(p), as_out(lo), as_out(hi))


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
    Assumptions: the observed seeds represent the population (with few seeds they rarely show
    its tails, so the answer is optimistic), and seeds are independent.

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

    What a value means: ``point`` is the sample mean, the interval estimates the mean of the
    population of seeds. Assumptions: independent seeds; each value is taken as exact (no
    within-seed noise; see :func:`two_level_estimates` for per-episode data). The percentile
    interval is too narrow at few seeds (its spread is the plug-in ``sqrt((n-1)/n) s/sqrt(n)``,
    with normal rather than Student quantiles).

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

    What a value means: how much lower a run scores on the held-out split than on its training
    distribution, on average over seeds. Assumptions as :func:`bootstrap_mean`'s; the tables use
    :func:`two_level_gap`, which also resamples each run's episodes.

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
    """Packer et al. (2018) summary from mean success per train/test cell (no uncertainty:
    see :func:`packer_summary`). Extrapolation is a geometric mean, so one cell at 0 makes it 0.

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
    episodes: Mapping[str, Sequence[np.ndarray]] | None = None,
    interval: str = "percentile",
) -> dict[str, Estimate]:
    """Packer et al. (2018) Default (DD), Interpolation (RR) and Extrapolation (geometric mean of
    DR, DE, RE) of mean success, with bootstrap CIs over seeds.

    What a value means: each summary is a function of the mean success of the cells (trained on
    the first letter's preset, tested on the second's), as Packer et al. report it; the
    interval is where that function of the population means lies, for runs that are
    independent seeds of one procedure.

    The bootstrap is stratified by training variant: the runs trained on D are resampled
    together for all their test cells (DD, DR, DE are the same runs, so they stay paired), and
    the runs trained on R separately. With ``episodes``, each drawn run's final episodes of
    each cell are resampled too (two levels, as :func:`two_level_estimates`).

    Args:
        cells: ``"<train><test>"`` -> ``(num_seeds_<train>,)`` per-run success; cells with the
            same train letter are aligned by run. At least DD, DR, DE, RR, RE.
        episodes: optional ``"<train><test>"`` -> per run (aligned with ``cells``), its
            ``(num_episodes,)`` final episodes' outcomes in that cell.
        interval: ``"percentile"`` or ``"expanded"`` (:func:`expanded_alpha`, with the seeds of
            the summary's training variant; the fewer of D's and R's for Extrapolation).
    """
    _check_confidence(confidence)
    _check_interval(interval)
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
    replicates = {}
    for c, v in arrays.items():
        if episodes is not None and c in episodes:
            eps = _episode_arrays(episodes[c], f"episodes[{c!r}]")
            if len(eps) != v.size:
                raise ValueError(f"episodes[{c!r}] must hold the runs of cell {c}")
            replicates[c] = _resample_seed_means(eps, gen, reps, idx[c[0]]).mean(axis=1)
        else:
            replicates[c] = v[idx[c[0]]].mean(axis=1)
    boot = packer_metrics(replicates)
    seeds = {
        "default": by_train["D"],
        "interpolation": by_train["R"],
        "extrapolation": min(by_train["D"], by_train["R"]),
    }
    # Where no resample varies (every episode of the cells behind a summary a success, or every
    # one a failure), the summary of the cells' pooled Clopper-Pearson ends, each at the nominal
    # level (both summaries increase in every cell), as two_level_estimates does.
    floor_low, floor_high = {}, {}
    if episodes is not None:
        for c in arrays:
            if c in episodes:
                pooled = np.concatenate(_episode_arrays(episodes[c], f"episodes[{c!r}]"))
                floor_low[c], floor_high[c] = _clopper_pearson(
                    int(pooled.sum()), pooled.size, confidence
                )
    out = {}
    for key in ("default", "interpolation", "extrapolation"):
        alpha = 1.0 - confidence
        if interval == "expanded":
            alpha = expanded_alpha(seeds[key], confidence)
        lo, hi = np.quantile(np.asarray(boot[key]), [alpha / 2, 1 - alpha / 2])
        if lo == hi and len(floor_low) == len(arrays):
            lo = float(packer_metrics(floor_low)[key])
            hi = float(packer_metrics(floor_high)[key])
        out[key] = Estimate(
            float(point[key]), float(min(lo, point[key])), float(max(hi, point[key]))
        )
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
    # A fit that failed (non-finite) is replaced by the flat curve at 1/2, and a curve at 1/2
    # over the whole range (flat: every level's rate 1/2) locates no midpoint: both are
    # censored at the tested range, contributing the whole range [zmin, zmax] (never nan).
    coefs[~np.isfinite(coefs).all(axis=1)] = 0.0
    z_mid, code = _clipped_midpoint(coefs[:, 0], coefs[:, 1], zmin, zmax)
    undefined = ~np.isfinite(z_mid)
    z_mid = np.where(undefined, (zmin + zmax) / 2, z_mid)
    code = np.where(undefined, 0, code)
    z_lo = np.where(separated, z_lo, np.where(undefined, zmin, z_mid))
    z_hi = np.where(separated, z_hi, np.where(undefined, zmax, z_mid))
    return coefs, z_mid, z_lo, z_hi, code


def fit_logistic(
    difficulty: np.ndarray, outcomes: np.ndarray, weights: np.ndarray | None = None
) -> LogisticFit:
    """Maximum-likelihood logistic regression of success on difficulty (scipy.optimize, TNC).

    What a value means: ``P(success | x) = expit(intercept + slope · x)``, the curve that makes
    the observed outcomes most likely; on data that are not separated it equals statsmodels'
    ``Logit`` (a test checks it). Assumptions: independent runs, a logistic (monotone,
    symmetric) dependence on the difficulty.

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
    """A trainability frontier: the fitted success curve and H50/d50 with its CI (see
    :func:`trainability_frontier` for the methods; the profile likelihood by default).

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
    censored_fraction: float  # stratified-bootstrap replicates whose midpoint is outside the range
    low_censored: bool  # the interval reaches below the range: ``low`` is an upper bound on its end
    high_censored: bool  # it reaches above the range: ``high`` is a lower bound on its end
    interval: str = "profile"  # the interval's method (see trainability_frontier)


FRONTIER_INTERVALS = ("profile", "parametric", "bootstrap")
# Slopes (standardized scale) searched by the profile: a coarse grid, then golden section.
_SLOPES = np.concatenate(
    [-np.geomspace(_COEF_BOUND, 1e-3, 40), [0.0], np.geomspace(1e-3, _COEF_BOUND, 40)]
)
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def _profile_loglik(
    m: np.ndarray, z: np.ndarray, counts: np.ndarray, means: np.ndarray
) -> np.ndarray:
    """The logistic log-likelihood maximized over the slope with the midpoint held at each
    ``m`` (``(num_m,)``, standardized scale): ``max_β Σ_j n_j [ȳ_j η_j − log(1 + e^η_j)]`` with
    ``η_j = β (z_j − m)`` and ``|β| <= 1000`` (steep enough that a step just past a level
    fits it). Concave in β, so the maximum is where the (decreasing) score crosses zero:
    bisection, vectorised over ``m``."""
    d = z[None, :] - np.asarray(m, dtype=float)[:, None]  # (num_m, num_levels)

    def score(beta: np.ndarray) -> np.ndarray:
        return np.sum(counts * (means - special.expit(beta[:, None] * d)) * d, axis=1)

    bound = 1000.0
    lo = np.full(d.shape[0], -bound)
    hi = np.full(d.shape[0], bound)
    at_lo, at_hi = score(lo) <= 0, score(hi) >= 0
    for _ in range(70):
        mid = (lo + hi) / 2
        up = score(mid) > 0
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    beta = np.where(at_lo, -bound, np.where(at_hi, bound, (lo + hi) / 2))
    eta = beta[:, None] * d
    return np.sum(counts * (means * eta - np.logaddexp(0.0, eta)), axis=1)


def _penalized_loglik(
    eta: np.ndarray, z: np.ndarray, counts: np.ndarray, means: np.ndarray
) -> np.ndarray:
    """Firth's penalized log-likelihood ``ℓ + ½ log det I`` of logistic curves with linear
    predictors ``eta`` (``(..., num_levels)``) at the standardized levels ``z``; ``I`` is the
    Fisher information of (intercept, slope), ``Σ n_j p_j (1 − p_j) [1, z_j]ᵀ[1, z_j]``."""
    p = special.expit(eta)
    w = counts * p * (1.0 - p)
    s0, s1, s2 = w.sum(-1), (w * z).sum(-1), (w * z * z).sum(-1)
    det = np.maximum(s0 * s2 - s1 * s1, 1e-300)
    return np.sum(counts * (means * eta - np.logaddexp(0.0, eta)), axis=-1) + 0.5 * np.log(det)


def _profile_penalized(
    m: np.ndarray, z: np.ndarray, counts: np.ndarray, means: np.ndarray
) -> np.ndarray:
    """Firth's penalized log-likelihood maximized over the slope with the midpoint held at each
    ``m`` (``(num_m,)``, standardized scale): curves ``η_j = β (z_j − m)``, ``|β| <= 30``. The
    best slope of a coarse grid, refined by golden section between its neighbours."""
    d = z[None, :] - np.asarray(m, dtype=float)[:, None]  # (num_m, num_levels)
    values = _penalized_loglik(_SLOPES[None, :, None] * d[:, None, :], z, counts, means)
    k = values.argmax(axis=1)
    lo = _SLOPES[np.maximum(k - 1, 0)]
    hi = _SLOPES[np.minimum(k + 1, _SLOPES.size - 1)]
    for _ in range(30):
        a, b = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
        fa = _penalized_loglik(a[:, None] * d, z, counts, means)
        fb = _penalized_loglik(b[:, None] * d, z, counts, means)
        left = fa > fb
        hi, lo = np.where(left, b, hi), np.where(left, lo, a)
    refined = _penalized_loglik(((lo + hi) / 2)[:, None] * d, z, counts, means)
    return np.maximum(refined, values.max(axis=1))


def _profile_interval(
    z: np.ndarray,
    counts: np.ndarray,
    means: np.ndarray,
    coefs: np.ndarray,
    z_point: float,
    code: int,
    confidence: float,
) -> tuple[float, float, bool, bool]:
    """The profile-likelihood interval of the midpoint (standardized scale).

    The set is the union of two inverted likelihood-ratio tests, each with the cut-off
    ``χ²₁(confidence) / 2`` below its maximum: the plain likelihood's (``coefs``: the MLE) and
    Firth's penalized likelihood's ``ℓ + ½ log det I`` (Heinze & Schemper 2002). The plain one
    alone undercovers at few seeds per level (simulated: 0.875 at 3 seeds per level, 0.92-0.93
    at 5, for the steeper curves of ``scripts/coverage.py``); the penalty corrects that, but it
    also favours finite slopes and so would shrink the bracket of separated data (all success,
    then all failure) towards the gap's middle, which the plain set keeps whole.

    The logistic model does not know which way success runs, so with little evidence of a trend
    the set can be two pieces (midpoints below the range with success falling, above it with
    success rising): the interval is the piece that holds the point estimate ``z_point``
    (``code`` -1/+1: the point lies below/above the range), or the set's hull if none does,
    clipped to the tested range ``[z[0], z[-1]]``.

    Returns ``(low, high, low_censored, high_censored)``: an end is censored when the interval
    reaches past that end of the range (probed from 1e-3 to 100 times the range's width beyond
    it); an interval wholly beyond one end gives ``low = high =`` that end."""
    zmin, zmax = float(z[0]), float(z[-1])
    span = zmax - zmin
    inside = np.unique(np.concatenate([np.linspace(zmin, zmax, 121), z]))
    beyond = span * np.logspace(-3, 2, 21)
    grid = np.concatenate([zmin - beyond[::-1], inside, zmax + beyond])
    n_below, n_inside = beyond.size, inside.size
    half = stats.chi2.ppf(confidence, 1) / 2
    plain = _profile_loglik(grid, z, counts, means)
    eta = coefs[0] + coefs[1] * z
    mle = float(np.sum(counts * (means * eta - np.logaddexp(0.0, eta))))
    cut_plain = max(float(plain.max()), mle) - half
    penalized = _profile_penalized(grid, z, counts, means)
    found = optimize.minimize(
        lambda b: -float(_penalized_loglik(b[0] + b[1] * z, z, counts, means)),
        np.zeros(2),
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 2000},
    )
    cut_penalized = max(float(penalized.max()), -float(found.fun)) - half

    def excess(m: float) -> float:  # >= 0 inside the set
        at = np.array([m])
        return max(
            float(_profile_loglik(at, z, counts, means)[0]) - cut_plain,
            float(_profile_penalized(at, z, counts, means)[0]) - cut_penalized,
        )

    ok = (plain >= cut_plain) | (penalized >= cut_penalized)
    at = {-1: 0, 1: grid.size - 1}.get(code, int(np.argmin(np.abs(grid - z_point))))
    if ok[at]:  # the run of grid points in the set around the point
        first, last = at, at
        while first > 0 and ok[first - 1]:
            first -= 1
        while last < grid.size - 1 and ok[last + 1]:
            last += 1
    elif ok.any():
        first, last = np.flatnonzero(ok)[[0, -1]]
    else:  # cannot happen (each maximum is in its set); the whole range, censored
        return zmin, zmax, True, True
    low_censored = bool(first < n_below)
    high_censored = bool(last >= n_below + n_inside)
    low = zmin if low_censored else float(grid[first])
    high = zmax if high_censored else float(grid[last])
    if not low_censored and first > n_below and excess(grid[first - 1]) < 0 <= excess(low):
        low = optimize.brentq(excess, grid[first - 1], low, xtol=1e-9)
    if not high_censored and last < n_below + n_inside - 1:
        if excess(grid[last + 1]) < 0 <= excess(high):
            high = optimize.brentq(excess, high, grid[last + 1], xtol=1e-9)
    low, high = min(max(low, zmin), zmax), max(min(high, zmax), zmin)
    return low, high, low_censored, high_censored


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
    interval: str = "profile",
) -> Frontier:
    """Success over seeds against a difficulty: a maximum-likelihood logistic fit (see
    :func:`fit_logistic`), the difficulty at which half the seeds succeed (H50/d50) and its
    confidence interval.

    What a value means: ``midpoint`` is the difficulty at which the fitted probability that a
    seed succeeds is 1/2, clipped to the tested range. Assumptions: seeds are independent, a
    seed's success probability is a logistic function of the difficulty (monotone, symmetric
    about H50), and the outcomes are binary (a fractional outcome makes the likelihood a
    quasi-likelihood, and the interval's calibration approximate).

    Intervals (``interval``):

    * ``"profile"`` (default): the profile-likelihood interval, every midpoint ``m`` whose
      likelihood maximized over the slope is within ``χ²₁(confidence) / 2`` of the maximum (the
      likelihood-ratio test inverted). It needs no resampling and stays finite for flat and
      separated data: an end of the set that reaches past the tested range is censored there
      (``low_censored`` / ``high_censored``). Measured coverage on synthetic data with a known
      H50 (``scripts/coverage.py``, quoted in the README) is at least 0.93 from 5 seeds per
      level.
    * ``"parametric"``: percentile interval of the midpoints refitted to outcomes simulated
      from the fitted curve (same levels and seeds).
    * ``"bootstrap"``: percentile interval resampling seeds *within* each level (stratified).
      Known to undercover at few seeds per level (about 0.88 at 3, 0.91 at 5).

    In both bootstraps a perfectly separated replicate (every level all-success or all-failure)
    contributes the bracket between the two levels around its switch, and a flat or failed fit
    the whole range: censored at the tested range, never nan. The curve's pointwise band
    (``curve_low`` / ``curve_high``) and ``censored_fraction`` always come from the stratified
    bootstrap of ``reps`` replicates drawn from ``rng``.

    Args:
        difficulty: ``(num_runs,)`` each run's difficulty; at least two levels.
        outcomes: ``(num_runs,)`` per-seed outcome in [0, 1] (binary "solved", or a success
            rate).
        rng: random state for the bootstraps.
        num_points: size of the returned curve grid over the tested range.
        interval: ``"profile"``, ``"parametric"`` or ``"bootstrap"``.
    """
    _check_confidence(confidence)
    if interval not in FRONTIER_INTERVALS:
        raise ValueError(f"interval must be one of {FRONTIER_INTERVALS}, got {interval!r}")
    x = np.asarray(difficulty, dtype=float)
    y = np.asarray(outcomes, dtype=float)
    fit = fit_logistic(x, y)  # validates the input
    levels, counts, rates = _levels(x, y)
    center, scale = float(levels.mean()), float(levels.std())
    zl = (levels - center) / scale
    point_coefs, z_point, _, _, code = _fit_rows(zl, counts, rates[None])

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
    if interval == "profile":
        lo, hi, low_cens, high_cens = _profile_interval(
            zl, counts, rates, point_coefs[0], float(z_point[0]), int(code[0]), confidence
        )
    else:
        if interval == "parametric":
            p = special.expit(point_coefs[0, 0] + point_coefs[0, 1] * zl)
            sim = gen.binomial(counts.astype(int), p, size=(reps, zl.size)) / counts
            _, _, r_lo, r_hi, r_code = _fit_rows(zl, counts, sim)
        else:
            r_lo, r_hi, r_code = z_lo, z_hi, code_boot
        lo = float(np.quantile(r_lo, alpha / 2))
        hi = float(np.quantile(r_hi, 1 - alpha / 2))
        low_cens = bool(np.mean(r_code == -1) > alpha / 2)
        high_cens = bool(np.mean(r_code == 1) > alpha / 2)
    z_mid = float(z_point[0])
    lo, hi = min(lo, z_mid), max(hi, z_mid)

    curve_x = np.linspace(levels[0], levels[-1], num_points)
    zc = (curve_x - center) / scale
    band = special.expit(coefs[:, :1] + coefs[:, 1:] * zc[None])
    band_lo, band_hi = _percentile_ci(band, confidence)
    return Frontier(
        midpoint=float(np.clip(center + scale * z_mid, levels[0], levels[-1])),
        low=float(np.clip(center + scale * lo, levels[0], levels[-1])),
        high=float(np.clip(center + scale * hi, levels[0], levels[-1])),
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
        low_censored=low_cens,
        high_censored=high_cens,
        interval=interval,
    )


@dataclass(frozen=True)
class FrontierShift:
    """The change of H50 (or d50) between two conditions, ``other − base``, with its interval.

    ``base`` and ``other`` are the two midpoints (clipped to their tested ranges, as
    :func:`trainability_frontier`'s); ``censored`` says that at least one of them lies outside
    its range, so that the shift itself is a bound ("at least" when ``other`` is above its range
    or ``base`` below it, "at most" the other way round, "unbounded" both ways).
    ``low_open`` / ``high_open``: that end of the interval is set by a range end, and the true
    end may lie beyond it."""

    shift: float
    low: float
    high: float
    base: float
    other: float
    censored: str  # "", "at least", "at most" or "unbounded"
    low_open: bool = False
    high_open: bool = False


def _bootstrap_midpoints(
    x: np.ndarray, y: np.ndarray, gen: np.random.Generator, reps: int
) -> tuple[float, int, np.ndarray]:
    """The clipped midpoint, its censoring code and ``reps`` stratified-bootstrap midpoints."""
    levels, counts, rates = _levels(x, y)
    if levels.size < 2:
        raise ValueError("each condition needs two difficulty levels or more")
    center, scale = float(levels.mean()), float(levels.std())
    zl = (levels - center) / scale
    _, z_point, _, _, code = _fit_rows(zl, counts, rates[None])
    by_level = [y[x == lv] for lv in levels]
    means = np.column_stack(
        [v[gen.integers(v.size, size=(reps, v.size))].mean(axis=1) for v in by_level]
    )
    _, z_boot, _, _, _ = _fit_rows(zl, counts, means)

    def to_x(z: np.ndarray) -> np.ndarray:
        return np.clip(center + scale * z, levels[0], levels[-1])

    return float(to_x(z_point)[0]), int(code[0]), to_x(z_boot)


def frontier_shift(
    base_difficulty: np.ndarray,
    base_outcomes: np.ndarray,
    difficulty: np.ndarray,
    outcomes: np.ndarray,
    rng: RngLike,
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    interval: str = "profile",
) -> FrontierShift:
    """How far a condition (a remedy) moves the trainability frontier: ``H50(other) −
    H50(base)``, each the midpoint of :func:`trainability_frontier`'s logistic fit.

    What a value means: a positive shift moves the frontier to harder settings (the condition
    trains at longer horizons). Assumptions: as :func:`trainability_frontier`, and the two
    conditions' seeds are independent. A midpoint clipped to its tested range makes the shift a
    bound (``censored``: "at least" when the other condition's H50 lies above its range or the
    base's below it, "at most" the other way round).

    Intervals (``interval``):

    * ``"profile"`` (default): each H50's profile-likelihood interval at the level ``c`` for
      which two independent normal estimates' ``c`` intervals, subtracted end to end, give the
      nominal level for their difference (``c = 2Φ(z/√2) − 1``, 0.834 for 95%), and the shift's
      interval ``[low_other − high_base, high_other − low_base]``; an end of either H50 that
      reaches past its range makes that end of the shift unbounded in the table (censored).
    * ``"bootstrap"``: percentile interval of the difference of stratified-bootstrap midpoints
      (seeds resampled within each level, per condition). It undercovers at few seeds per level
      (measured 0.85-0.89 at 5 seeds per level, about 0.92 at 10: ``scripts/coverage.py``).

    Args:
        base_difficulty, base_outcomes: ``(num_runs,)`` the reference condition's runs.
        difficulty, outcomes: ``(num_runs,)`` the other condition's runs.
    """
    _check_confidence(confidence)
    if interval not in ("profile", "bootstrap"):
        raise ValueError(f"interval must be 'profile' or 'bootstrap', got {interval!r}")
    gen = _rng(rng)
    xa, ya = np.asarray(base_difficulty, float), np.asarray(base_outcomes, float)
    xb, yb = np.asarray(difficulty, float), np.asarray(outcomes, float)
    for name, x, y in (("base", xa, ya), ("other", xb, yb)):
        if x.ndim != 1 or x.shape != y.shape or x.size == 0:
            raise ValueError(f"{name} difficulty and outcomes must be (num_runs,), got {x.shape}")
        if not (np.all(np.isfinite(x)) and np.all((y >= 0) & (y <= 1))):
            raise ValueError(f"{name}: difficulties must be finite and outcomes in [0, 1]")
    if interval == "profile":
        z = stats.norm.ppf(1 - (1 - confidence) / 2)
        each = float(2 * stats.norm.cdf(z / math.sqrt(2)) - 1)
        fa = trainability_frontier(xa, ya, gen, reps=1, confidence=each)
        fb = trainability_frontier(xb, yb, gen, reps=1, confidence=each)
        base, other = fa.midpoint, fb.midpoint
        code_a = {"": 0, "below": -1, "above": 1}[fa.censored]
        code_b = {"": 0, "below": -1, "above": 1}[fb.censored]
        lo, hi = fb.low - fa.high, fb.high - fa.low
        high_open = fb.high_censored or fa.low_censored
        low_open = fb.low_censored or fa.high_censored
    else:
        base, code_a, boot_a = _bootstrap_midpoints(xa, ya, gen, reps)
        other, code_b, boot_b = _bootstrap_midpoints(xb, yb, gen, reps)
        alpha = 1.0 - confidence
        lo, hi = np.quantile(boot_b - boot_a, [alpha / 2, 1 - alpha / 2])
        high_open = low_open = False
    up, down = code_b == 1 or code_a == -1, code_b == -1 or code_a == 1
    high_open = bool(high_open or up)
    low_open = bool(low_open or down)
    shift = other - base
    censored = "" if not (up or down) else ("at least" if up and not down else "at most")
    if up and down:
        censored = "unbounded"
    return FrontierShift(
        shift,
        float(min(lo, shift)),
        float(max(hi, shift)),
        base,
        other,
        censored,
        low_open,
        high_open,
    )


# ---------------------------------------------------------------------------------------------
# Zero signal
# ---------------------------------------------------------------------------------------------


def zero_signal_summary(
    fractions: np.ndarray, rng: RngLike, *, reps: int = 2000, confidence: float = 0.95
) -> Estimate:
    """Mean zero-signal fraction (the share of training batches with no non-zero reward) over
    runs, with a percentile-bootstrap CI over runs (:func:`bootstrap_mean`).

    What a value means: how much of its training a run spent on batches that carried no reward
    signal at all, on average over seeds (as each run's record defines its batches).
    Assumptions: independent runs; the percentile interval is narrow at few seeds.

    Args:
        fractions: ``(num_runs,)`` for one setting, or ``(num_runs × num_settings)``; in [0, 1].
    """
    f = np.asarray(fractions, dtype=float)
    if ((f < 0) | (f > 1)).any():
        raise ValueError("zero-signal fractions must lie in [0, 1]")
    return bootstrap_mean(f, rng, reps=reps, confidence=confidence)
