"""Statistics of rlbench3.analysis.metrics: hand-worked answers on tiny arrays, and oracles (rliable
called directly, scipy, simulation with known truth)."""

from __future__ import annotations

import itertools
import math
import warnings
import zlib

import numpy as np
import pytest
from rliable import library as rly
from rliable import metrics as rm
from scipy import special, stats

from rlbench3.analysis import metrics as M

RLIABLE = {
    "iqm": rm.aggregate_iqm,
    "mean": rm.aggregate_mean,
    "median": rm.aggregate_median,
    "optimality_gap": rm.aggregate_optimality_gap,
}


def _rliable_direct(score_dict, func, seed, reps):
    """The oracle: rliable itself, seeded the only way rliable 1.2 honours (the global RNG)."""
    np.random.seed(seed)  # noqa: NPY002
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return rly.get_interval_estimates(
            score_dict, func, reps=reps, random_state=np.random.RandomState(seed)
        )


@pytest.fixture
def score_dict():
    rng = np.random.default_rng(7)
    return {"ppo": rng.random((5, 3)), "ars": rng.beta(2, 5, size=(6, 3))}


# --- rliable wrappers -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(RLIABLE))
def test_aggregates_identical_to_rliable(score_dict, name):
    ours = M.aggregate_estimates(score_dict, 123, reps=300)
    points, cis = _rliable_direct(score_dict, lambda x: np.array([RLIABLE[name](x)]), 123, 300)
    for algo in score_dict:
        est = ours[algo][name]
        assert est.point == points[algo][0]
        assert (est.low, est.high) == (cis[algo][0, 0], cis[algo][1, 0])


def test_aggregates_with_a_generator_and_global_rng_left_alone(score_dict):
    np.random.seed(99)  # noqa: NPY002
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    ours = M.aggregate_estimates(score_dict, np.random.default_rng(5), metrics=("iqm",), reps=200)
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    seed = int(np.random.default_rng(5).integers(2**32))
    points, cis = _rliable_direct(score_dict, lambda x: np.array([rm.aggregate_iqm(x)]), seed, 200)
    assert ours["ppo"]["iqm"] == M.Estimate(points["ppo"][0], cis["ppo"][0, 0], cis["ppo"][1, 0])
    with pytest.raises(ValueError, match="unknown metrics"):
        M.aggregate_estimates(score_dict, 0, metrics=("mode",))


def test_probability_of_improvement_identical_to_rliable(score_dict):
    x, y = score_dict["ppo"], score_dict["ars"]
    ours = M.probability_of_improvement(x, y, 3, reps=200)
    points, cis = _rliable_direct(
        {"x,y": [x, y]}, lambda a, b: np.array([rm.probability_of_improvement(a, b)]), 3, 200
    )
    assert (ours.point, ours.low, ours.high) == (points["x,y"][0], *cis["x,y"][:, 0])
    # Hand-worked: every x above every y -> 1; identical -> 1/2.
    assert M.probability_of_improvement([2.0, 3.0], [0.0, 1.0], 0, reps=50).point == 1.0
    assert M.probability_of_improvement([1.0, 2.0], [1.0, 2.0], 0, reps=50).point == 0.5


def test_performance_profiles_identical_to_rliable(score_dict):
    taus = np.linspace(0, 1, 6)
    ours = M.performance_profiles(score_dict, taus, 11, reps=100)
    np.random.seed(11)  # noqa: NPY002
    profiles, cis = rly.create_performance_profile(score_dict, taus, reps=100)
    for algo in score_dict:
        np.testing.assert_array_equal(ours[algo].point, profiles[algo])
        np.testing.assert_array_equal(ours[algo].low, cis[algo][0])
        np.testing.assert_array_equal(ours[algo].high, cis[algo][1])


def test_iqm_curve_identical_to_rliable_per_point():
    scores = np.random.default_rng(4).random((7, 5))  # (num_seeds × num_points)
    np.random.seed(21)  # noqa: NPY002
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    ours = M.iqm_curve(scores, 8, reps=150)
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    # point: rliable's IQM of each point's runs; all points share each replicate's resample
    for k in range(scores.shape[1]):
        assert ours.point[k] == rm.aggregate_iqm(scores[:, [k]])
    points, cis = _rliable_direct(
        {"x": scores[:, None, :]},
        lambda s: np.array([rm.aggregate_iqm(s[..., k]) for k in range(s.shape[-1])]),
        8,
        150,
    )
    np.testing.assert_array_equal(ours.point, points["x"])
    np.testing.assert_array_equal(ours.low, cis["x"][0])
    np.testing.assert_array_equal(ours.high, cis["x"][1])
    assert ours.point.shape == ours.low.shape == ours.high.shape == (5,)
    # a Generator is used as the aggregates use it: one integer seed drawn from it
    seed = int(np.random.default_rng(2).integers(2**32))
    np.testing.assert_array_equal(
        M.iqm_curve(scores, np.random.default_rng(2), reps=50).low,
        M.iqm_curve(scores, seed, reps=50).low,
    )
    with pytest.raises(ValueError, match="confidence"):
        M.iqm_curve(scores, 0, confidence=1.5)


def test_rng_for_is_keyed_by_the_row():
    draw = M.rng_for(3, "gaps", "lock", 2).random(4)
    np.testing.assert_array_equal(draw, M.rng_for(3, "gaps", "lock", 2).random(4))
    expected = np.random.default_rng([3, zlib.crc32(b"gaps\x1flock\x1f2")]).random(4)
    np.testing.assert_array_equal(draw, expected)
    assert not np.array_equal(draw, M.rng_for(3, "gaps", "lock", 3).random(4))
    assert not np.array_equal(draw, M.rng_for(4, "gaps", "lock", 2).random(4))


# --- spread, Welch, split test ----------------------------------------------------------------


def test_seed_spread_by_hand():
    s = M.seed_spread(np.array([1.0, 2.0, 3.0, 6.0]))
    assert s.mean == 3.0 and s.std == pytest.approx(math.sqrt(14 / 3))
    assert s.cv == pytest.approx(math.sqrt(14 / 3) / 3)
    assert (s.min, s.max, s.range) == (1.0, 6.0, 5.0)
    m = M.seed_spread(np.array([[1.0, 0.0], [3.0, 0.0]]))
    np.testing.assert_allclose(m.std, [math.sqrt(2), 0.0])
    assert m.cv[0] == pytest.approx(math.sqrt(2) / 2) and np.isnan(m.cv[1])


def test_std_interval_chi_square_by_hand():
    x = np.array([1.0, 2.0, 3.0, 6.0])  # s² = 14/3, n - 1 = 3
    est = M.std_interval(x, 0.95)
    assert est.low == pytest.approx(math.sqrt(14 / stats.chi2.ppf(0.975, 3)))
    assert est.high == pytest.approx(math.sqrt(14 / stats.chi2.ppf(0.025, 3)))


@pytest.mark.parametrize(("na", "nb"), [(2, 2), (3, 5), (10, 4)])
def test_welch_matches_scipy(na, nb):
    rng = np.random.default_rng(na * 10 + nb)
    a, b = rng.normal(0, 1, (7, na)), rng.normal(0.5, 3, (7, nb))
    t, df, p = M.welch_t_test(a, b)
    ref = stats.ttest_ind(a, b, axis=1, equal_var=False)
    np.testing.assert_allclose(t, ref.statistic, rtol=1e-12)
    np.testing.assert_allclose(df, ref.df, rtol=1e-12)
    np.testing.assert_allclose(p, ref.pvalue, rtol=1e-10)


def test_welch_zero_variance_like_scipy():
    for a, b in ([1.0, 1.0], [2.0, 2.0]), ([1.0, 1.0], [1.0, 1.0]):
        with warnings.catch_warnings():  # scipy's notice about identical data
            warnings.simplefilter("ignore", RuntimeWarning)
            ref = stats.ttest_ind(a, b, equal_var=False)
        t, df, p = M.welch_t_test(np.array(a), np.array(b))
        np.testing.assert_equal([t, p], [ref.statistic, ref.pvalue])


def test_split_test_identical_seeds_never_significant():
    assert M.split_test_fraction(np.full(8, 0.7), 0) == 0.0
    # Two copies of one sample, [1, 2, 1, 2]: a split into identical halves {1, 2} | {1, 2}
    # (first half at positions {0,1}, {2,3}, {0,3} or {1,2}) has t = 0, p = 1.
    p = M.split_test_pvalues(np.array([1.0, 2.0, 1.0, 2.0]), 0, exhaustive=True)
    halves = itertools.combinations(range(4), 2)
    identical = [set(c) in ({0, 1}, {2, 3}, {0, 3}, {1, 2}) for c in halves]
    assert np.all(p[identical] == 1.0)


@pytest.mark.parametrize(
    "scores", [[0.0, 0.1, 0.2, 10.0, 10.1, 10.2], [0.0, 0.1, 10.0, 10.1], [5.0, 0.0, 5.1, 0.1, 5.2]]
)
def test_split_test_two_clusters_enumerated_by_hand(scores):
    x = np.array(scores)
    low = {i for i, v in enumerate(x) if v < 1}
    high = set(range(len(x))) - low
    halves = list(itertools.combinations(range(len(x)), len(x) // 2))
    # Only a split that puts each cluster in its own half is significant; with an odd count
    # no split does that (the halves differ in size), and a mixed split is not significant.
    separating = sum(set(h) in (low, high) for h in halves)
    expected = separating / len(halves)
    assert M.split_test_fraction(x, 0, exhaustive=True) == expected
    assert M.split_test_fraction(x, 0) == expected  # few partitions: enumerated automatically


def test_split_test_random_partitions_estimate_the_enumerated_fraction():
    x = np.array([0.0, 0.1, 0.2, 10.0, 10.1, 10.2])  # 2 of 20 choices separate: 0.1
    frac = M.split_test_fraction(x, np.random.default_rng(1), n_partitions=4000, exhaustive=False)
    assert frac == pytest.approx(0.1, abs=3 * math.sqrt(0.09 / 4000))
    with pytest.raises(ValueError, match="at least 4 seeds"):
        M.split_test_fraction(x[:3], 0)


# --- seeds needed -----------------------------------------------------------------------------


def test_seeds_needed_by_hand():
    # std 1, half-width 1: n = 6 gives t(0.975, 5) / sqrt(6) = 2.571 / 2.449 = 1.050 > 1;
    # n = 7 gives t(0.975, 6) / sqrt(7) = 2.447 / 2.646 = 0.925 <= 1.
    assert M.seeds_needed(1.0, 1.0) == 7
    # std 0.5, half-width 0.1: the normal answer is ceil(96.04) = 97; the t quantile adds two.
    assert M.seeds_needed(0.5, 0.1) == 99
    assert stats.t.ppf(0.975, 97) * 0.5 / math.sqrt(98) > 0.1
    assert stats.t.ppf(0.975, 98) * 0.5 / math.sqrt(99) <= 0.1
    out = M.seeds_needed(np.array([[0.0, np.nan], [1.0, 0.5]]), 0.1)
    assert out.shape == (2, 2) and out[0, 0] == 2 and np.isnan(out[0, 1])


def test_seeds_needed_bootstrap_agrees_with_t_for_normal_scores():
    x = stats.norm.ppf((np.arange(400) + 0.5) / 400)  # a normal sample, std ~ 1
    t_answer = float(M.seeds_needed(x.std(ddof=1), 0.25))  # 64
    boot = M.seeds_needed_bootstrap(x, 0.25, 0, reps=4000)
    assert abs(boot - t_answer) <= 0.15 * t_answer
    assert M.seeds_needed_bootstrap(np.full(5, 0.3), 0.1, 0) == 2


# --- generalization ---------------------------------------------------------------------------


def test_gap_point_and_degenerate_interval_by_hand():
    est = M.generalization_gap([1.0, 0.8, 0.6], [0.5, 0.3, 0.1], 0)
    assert est.point == pytest.approx(0.5) and est.low == pytest.approx(0.5)
    assert est.high == pytest.approx(0.5)
    with pytest.raises(ValueError, match="paired"):
        M.generalization_gap([1.0, 0.8], [0.5], 0)


def test_gap_interval_covers_the_true_gap():
    # 200 simulated data sets (columns) of 30 seeds, each run scored on train and test; the
    # per-seed gap is 0.2 plus noise, so the true mean gap is 0.2.
    rng = np.random.default_rng(2024)
    train = rng.uniform(0.5, 1.0, (30, 200))
    test = train - 0.2 + rng.normal(0, 0.15, (30, 200))
    est = M.generalization_gap(train, test, 1, reps=1000)
    np.testing.assert_allclose(est.point, (train - test).mean(axis=0))
    coverage = np.mean(est.contains(0.2))
    assert coverage >= 0.90


def test_packer_extrapolation_is_the_geometric_mean():
    cells = {
        "DD": np.array([1.0, 1.0]),
        "DR": np.array([0.5, 0.5]),
        "DE": np.array([0.25, 0.25]),
        "RR": np.array([0.8, 0.8, 0.8]),
        "RE": np.array([1.0, 1.0, 1.0]),
    }
    out = M.packer_summary(cells, 0, reps=100)
    assert out["default"].point == 1.0 and out["interpolation"].point == pytest.approx(0.8)
    # (0.5 · 0.25 · 1.0)^(1/3) = 0.125^(1/3) = 0.5
    assert out["extrapolation"].point == pytest.approx(0.5)
    assert (out["extrapolation"].low, out["extrapolation"].high) == pytest.approx((0.5, 0.5))
    varied = dict(cells, DR=np.array([0.4, 0.6]))
    est = M.packer_summary(varied, 0, reps=500)["extrapolation"]
    assert est.low < est.point < est.high
    assert M.packer_metrics({c: v.mean() for c, v in varied.items()})["extrapolation"] == (
        pytest.approx((0.5 * 0.25) ** (1 / 3))
    )
    with pytest.raises(ValueError, match="same runs"):
        M.packer_summary(dict(cells, DR=np.array([0.5])), 0)


# --- trainability frontier --------------------------------------------------------------------


def test_logistic_fit_exact_on_noise_free_rates():
    x = np.arange(1.0, 9.0)
    p = special.expit(2.0 - 0.5 * x)  # midpoint 4
    fit = M.fit_logistic(x, p)
    assert fit.intercept == pytest.approx(2.0, abs=1e-5)
    assert fit.slope == pytest.approx(-0.5, abs=1e-5)
    assert fit.midpoint == pytest.approx(4.0, abs=1e-5)


def test_frontier_recovers_a_known_midpoint():
    rng = np.random.default_rng(0)
    x = np.repeat(np.arange(2.0, 13.0, 2.0), 1000)  # 6 levels, 1000 seeds each
    solved = (rng.random(x.size) < special.expit(-(x - 6.3) / 1.5)).astype(float)
    fr = M.trainability_frontier(x, solved, 1, reps=300)
    assert fr.midpoint == pytest.approx(6.3, abs=0.2)
    assert fr.low < 6.3 < fr.high and fr.high - fr.low < 0.5
    assert fr.censored == "" and fr.fit.slope == pytest.approx(-1 / 1.5, rel=0.15)
    assert fr.curve.shape == fr.curve_x.shape == fr.curve_low.shape
    assert np.all(np.diff(fr.curve) < 0)
    np.testing.assert_array_equal(fr.counts, 1000)


def test_frontier_separated_and_censored_by_hand():
    x = np.repeat([1.0, 2.0, 3.0], 3)
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0.0])
    # All solved at 1, none at 2 or 3: the midpoint is somewhere in (1, 2); the MLE limit is 1.5.
    # Each bootstrap replicate that is separated contributes that whole bracket.
    for interval in ("bootstrap", "parametric"):
        sep = M.trainability_frontier(x, y, 0, reps=200, interval=interval)
        assert sep.midpoint == pytest.approx(1.5, abs=1e-3) and (sep.low, sep.high) == (1.0, 2.0)
        assert not sep.low_censored and not sep.high_censored and sep.censored == ""
    # The profile likelihood, from 3 seeds per level, cannot rule out a midpoint a little below
    # level 1 or past level 2: an interval holding the whole gap, censored below, finite.
    sep = M.trainability_frontier(x, y, 0, reps=200)
    assert sep.interval == "profile" and sep.midpoint == pytest.approx(1.5, abs=1e-3)
    assert sep.low == 1.0 and sep.low_censored and 2.0 < sep.high < 3.0 and not sep.high_censored
    # ... and from 20 seeds per level, only the gap.
    many = M.trainability_frontier(np.repeat([1.0, 2.0, 3.0], 20), np.repeat(y[::3], 20), 0)
    assert (many.low, many.high) == pytest.approx((1.0, 2.0), abs=0.05)
    assert not many.low_censored and not many.high_censored
    none = M.trainability_frontier(x, np.zeros(9), 0, reps=50)
    assert none.censored == "below" and none.midpoint == 1.0 and none.low_censored
    every = M.trainability_frontier(x, np.ones(9), 0, reps=50)
    assert every.censored == "above" and every.midpoint == 3.0 and every.high_censored
    # Quasi-separation (a mixed level between all-success and all-failure levels): the MLE's
    # midpoint tends to the mixed level.
    quasi = M.fit_logistic(x, np.array([1, 1, 1, 1, 0, 1, 0, 0, 0.0]))
    assert quasi.midpoint == pytest.approx(2.0, abs=0.1)
    with pytest.raises(ValueError, match="two difficulty levels"):
        M.fit_logistic(np.ones(4), np.array([0, 1, 0, 1.0]))


# --- zero signal, determinism -----------------------------------------------------------------


def test_zero_signal_summary():
    f = np.array([0.0, 0.5, 1.0, 0.5])
    est = M.zero_signal_summary(f, 0, reps=500)
    assert est.point == 0.5 and 0.0 <= est.low <= 0.5 <= est.high <= 1.0
    assert M.zero_signal_summary(f, 0, reps=500) == est
    per_setting = M.zero_signal_summary(np.column_stack([f, np.ones(4)]), 0)
    np.testing.assert_array_equal(per_setting.point, [0.5, 1.0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        M.zero_signal_summary(np.array([1.5]), 0)
    with pytest.raises(TypeError, match="rng is required"):
        M.bootstrap_mean(f, None)


# --- two levels: seeds, then episodes ----------------------------------------------------------


def test_two_level_point_is_rliables_aggregate_on_seed_means():
    rng = np.random.default_rng(5)
    episodes = [(rng.random(n) < p).astype(float) for n, p in [(20, 0.2), (30, 0.7), (20, 0.5)]]
    episodes += [(rng.random(20) < 0.9).astype(float) for _ in range(4)]
    means = np.array([e.mean() for e in episodes])[:, None]
    out = M.two_level_estimates(episodes, 0, metrics=M.AGGREGATES, reps=500)
    for name, func in RLIABLE.items():
        # rliable's one-task median is the mean over runs; here it is the median over seeds
        expected = np.median(means) if name == "median" else func(means)
        assert out[name].point == pytest.approx(expected, abs=1e-15)
        assert out[name].low <= out[name].point <= out[name].high
    assert out == M.two_level_estimates(episodes, 0, metrics=M.AGGREGATES, reps=500)
    with pytest.raises(ValueError, match="unknown metrics"):
        M.two_level_estimates(episodes, 0, metrics=("mode",))
    with pytest.raises(ValueError, match="interval"):
        M.two_level_estimates(episodes, 0, interval="bca")


def test_two_level_binomial_shortcut_is_the_episode_resample():
    # 0/1 episodes are resampled through Binomial(n, k/n); any other values episode by episode.
    # The same episodes scaled by 2 take the general path: the replicates agree in law.
    rng = np.random.default_rng(1)
    episodes = [(rng.random(n) < p).astype(float) for n, p in [(10, 0.3), (25, 0.6), (5, 0.8)]]
    fast = M._resample_seed_means(episodes, np.random.default_rng(2), 20000)
    slow = M._resample_seed_means([2 * e for e in episodes], np.random.default_rng(3), 20000) / 2
    assert fast.shape == slow.shape == (20000, 3)
    np.testing.assert_allclose(fast.mean(), slow.mean(), atol=0.01)
    np.testing.assert_allclose(fast.mean(axis=1).std(), slow.mean(axis=1).std(), rtol=0.03)
    # Within a replicate a seed drawn twice gets two independent episode resamples.
    one = M._resample_seed_means([np.array([0.0, 1.0])], np.random.default_rng(4), 4000)
    assert set(np.unique(one)) == {0.0, 0.5, 1.0}


def test_two_level_interval_holds_episode_noise_and_bounds():
    # Seeds that agree exactly (5 of 20 each): seeds alone give [0.25, 0.25].
    episodes = [np.repeat([1.0, 0.0], [5, 15]) for _ in range(5)]
    est = M.two_level_estimates(episodes, 0, reps=2000)["mean"]
    assert est.point == 0.25 and est.low < 0.2 and est.high > 0.3
    seeds_only = M.two_level_estimates([[0.25]] * 5, 0, reps=200)["mean"]
    assert (seeds_only.low, seeds_only.high) == (0.25, 0.25)
    # Every episode a success: no resample varies; the pooled Clopper-Pearson interval instead.
    solved = M.two_level_estimates([np.ones(20)] * 3, 0, metrics=("mean", "optimality_gap"))
    assert solved["mean"].high == 1.0 and solved["mean"].low == pytest.approx(0.025 ** (1 / 60))
    assert solved["optimality_gap"].low == 0.0
    assert solved["optimality_gap"].high == pytest.approx(1 - 0.025 ** (1 / 60))


def test_expanded_alpha_by_hand():
    # n = 10: z = sqrt(10/9) t(0.975, 9) = 1.0541 · 2.2622 = 2.3846 -> alpha' = 0.0171.
    z = math.sqrt(10 / 9) * stats.t.ppf(0.975, 9)
    assert M.expanded_alpha(10, 0.95) == pytest.approx(2 * stats.norm.sf(z))
    assert M.expanded_alpha(10, 0.95) == pytest.approx(0.0171, abs=1e-4)
    assert M.expanded_alpha(1, 0.95) == pytest.approx(0.05)  # nothing to expand
    assert M.expanded_alpha(100_000, 0.95) == pytest.approx(0.05, abs=1e-4)
    # Wider than the percentile interval, the same replicates otherwise.
    episodes = [np.repeat([1.0, 0.0], [k, 20 - k]) for k in (2, 9, 14, 17)]
    wide = M.two_level_estimates(episodes, 7, reps=4000)["mean"]
    plain = M.two_level_estimates(episodes, 7, reps=4000, interval="percentile")["mean"]
    assert wide.low < plain.low and wide.high > plain.high and wide.point == plain.point


def test_two_level_gap_is_paired():
    train = [np.repeat([1.0, 0.0], [k, 20 - k]) for k in (18, 16, 20, 19)]
    test = [np.repeat([1.0, 0.0], [k, 20 - k]) for k in (8, 6, 10, 9)]  # 0.5 below each run
    est = M.two_level_gap(train, test, 0, reps=2000)
    assert est.point == pytest.approx(0.5) and est.low < 0.5 < est.high
    assert est.high - est.low < 0.5  # pairing removes the runs' shared level
    with pytest.raises(ValueError, match="paired"):
        M.two_level_gap(train, test[:3], 0)
    # Every episode failed on both splits: not [0, 0] but the pooled Clopper-Pearson bounds.
    zeros = [np.zeros(20)] * 4
    none = M.two_level_gap(zeros, zeros, 0)
    edge = 1 - 0.025 ** (1 / 80)
    assert none.point == 0 and (none.low, none.high) == pytest.approx((-edge, edge))


def test_packer_summary_with_episodes_resamples_them():
    cells = {c: np.full(3, 0.5) for c in ("DD", "DR", "DE", "RR", "RE")}
    episodes = {c: [np.repeat([1.0, 0.0], [10, 10])] * 3 for c in cells}
    seeds_only = M.packer_summary(cells, 0, reps=500)
    assert (seeds_only["default"].low, seeds_only["default"].high) == (0.5, 0.5)
    both = M.packer_summary(cells, 0, reps=500, episodes=episodes, interval="expanded")
    for key in ("default", "interpolation", "extrapolation"):
        assert both[key].point == pytest.approx(0.5)
        assert both[key].low < 0.5 < both[key].high
    with pytest.raises(ValueError, match="runs of cell"):
        M.packer_summary(cells, 0, episodes={"DD": episodes["DD"][:2]})


def test_central_aggregate_is_the_mean_below_the_minimum():
    assert [M.central_aggregate(n) for n in (1, 3, 4, 5, 10)] == ["mean"] * 3 + ["iqm"] * 2
    assert M.MIN_SEEDS == 5
    # Why: rliable's IQM of 3 values trims nothing (the mean), of 4 it is the median.
    assert rm.aggregate_iqm(np.array([[0.0], [0.3], [1.0]])) == pytest.approx(1.3 / 3)
    assert rm.aggregate_iqm(np.array([[0.0], [0.2], [0.4], [1.0]])) == pytest.approx(0.3)


# --- ranges: std and seeds needed ----------------------------------------------------------------


def test_std_interval_respects_the_score_range():
    # [1, 1, 0]: the chi-square interval reaches 3.63 for scores in [0, 1].
    chi2 = M.std_interval(np.array([1.0, 1.0, 0.0]))
    assert chi2.high == pytest.approx(3.628, abs=1e-3)
    # Bernoulli model: sigma = sqrt(p (1 - p)) over the Clopper-Pearson interval of p (2 of 3).
    est = M.std_interval(np.array([1.0, 1.0, 0.0]), bounds=(0, 1))
    p_lo, p_hi = stats.beta.ppf(0.025, 2, 2), stats.beta.ppf(0.975, 3, 1)
    assert est.point == pytest.approx(math.sqrt(2 / 9))
    assert est.low == pytest.approx(min(math.sqrt(p * (1 - p)) for p in (p_lo, p_hi)))
    assert est.high == 0.5  # p = 1/2 lies in [p_lo, p_hi]
    # All solved, 10 seeds: p >= 0.025^(1/10) = 0.69, so sigma <= sqrt(0.69 · 0.31).
    ten = M.std_interval(np.ones(10), bounds=(0, 1))
    p_lo = 0.025 ** (1 / 10)
    assert ten.point == 0 and ten.high == pytest.approx(math.sqrt(p_lo * (1 - p_lo)))
    # No spread in rates that are not 0/1: the range's bound, not [0, 0].
    flat = M.std_interval(np.full(4, 0.3), bounds=(0, 1))
    assert (flat.point, flat.low, flat.high) == (0.0, 0.0, 0.5)
    # Otherwise chi-square, capped at half the range (Popoviciu).
    capped = M.std_interval(np.array([0.2, 0.5, 0.9]), bounds=(0, 1))
    raw = M.std_interval(np.array([0.2, 0.5, 0.9]))
    assert capped.point == raw.point and capped.low == raw.low and capped.high == 0.5 < raw.high
    with pytest.raises(ValueError, match="bounds"):
        M.std_interval(np.array([0.2, 1.5]), bounds=(0, 1))


def test_seeds_needed_interval_never_says_two_when_nothing_varied():
    flat = M.seeds_needed_interval(M.std_interval(np.full(4, 1.0), bounds=(0, 1)), 0.1)
    assert math.isnan(flat.point) and flat.low == 2 and flat.high == M.seeds_needed(0.5, 0.1)
    # Unbounded scores with no spread: nothing to say at all.
    none = M.seeds_needed_interval(M.std_interval(np.full(4, 3.0)), 0.1)
    assert math.isnan(none.point) and math.isnan(none.low) and math.isnan(none.high)
    est = M.seeds_needed_interval(M.Estimate(0.3, 0.2, 0.5), 0.1)
    assert (est.point, est.low, est.high) == tuple(M.seeds_needed(np.array([0.3, 0.2, 0.5])))
    many = M.seeds_needed_interval(
        M.Estimate(np.array([0.0, 0.3]), np.array([0.0, 0.2]), np.array([0.5, 0.5])), 0.1
    )
    assert np.isnan(many.point[0]) and many.point[1] == M.seeds_needed(0.3)


def test_split_test_null_depends_on_the_outcome_distribution():
    # The docstring's reference: seeds of Bernoulli(0.5) outcomes, no real difference, every
    # outcome of 4 seeds enumerated: E[fraction] = 6/16 (two 1s and two 0s) x 2/6 (splits
    # {1, 1} | {0, 0}) = 0.125 = 2.5 alpha.
    fractions = [
        M.split_test_fraction(np.array(bits, float), 0, exhaustive=True)
        for bits in itertools.product([0, 1], repeat=4)
    ]
    assert np.mean(fractions) == pytest.approx(0.125)


# --- frontier: the issue's cases, statsmodels, the profile likelihood ---------------------------


def issue_frontier_data():
    """Levels 2-12, 10 seeds each, 7/7/3/4/2/5 solved (issue 10, point 4)."""
    x = np.repeat(np.arange(2.0, 13.0, 2.0), 10)
    y = np.concatenate([np.repeat([1.0, 0.0], [k, 10 - k]) for k in (7, 7, 3, 4, 2, 5)])
    return x, y


def test_frontier_flat_replicates_are_censored_never_nan():
    x, y = issue_frontier_data()
    for interval in M.FRONTIER_INTERVALS:
        for seed in range(20 if interval == "bootstrap" else 3):
            fr = M.trainability_frontier(x, y, seed, reps=200, interval=interval)
            assert fr.midpoint == pytest.approx(6.01, abs=0.01)
            assert np.isfinite([fr.low, fr.high]).all(), (interval, seed)
            assert 2.0 <= fr.low <= fr.midpoint <= fr.high <= 12.0
            assert np.isfinite(fr.curve_low).all() and np.isfinite(fr.curve_high).all()
    # A replicate flat at exactly 1/2 (every level's rate 1/2) locates no midpoint: it
    # contributes the whole range.
    coefs, z_mid, z_lo, z_hi, code = M._fit_rows(
        np.array([-1.0, 0.0, 1.0]), np.full(3, 2.0), np.array([[0.5, 0.5, 0.5], [1.0, 0.5, 0.0]])
    )
    assert (z_lo[0], z_hi[0], code[0]) == (-1.0, 1.0, 0) and np.isfinite(z_mid).all()
    flat = M.trainability_frontier(np.repeat([1.0, 2.0, 3.0], 2), np.tile([1.0, 0.0], 3), 0)
    assert (flat.low, flat.high) == (1.0, 3.0) and flat.low_censored and flat.high_censored


def test_logistic_point_estimate_equals_statsmodels_logit():
    sm = pytest.importorskip("statsmodels.api")
    x, y = issue_frontier_data()
    rng = np.random.default_rng(3)
    x2 = np.repeat(np.arange(1.0, 9.0), 5)
    y2 = (rng.random(x2.size) < special.expit(2.0 - 0.5 * x2)).astype(float)
    for xs, ys in ((x, y), (x2, y2)):
        ref = sm.Logit(ys, sm.add_constant(xs)).fit(disp=0).params
        fit = M.fit_logistic(xs, ys)
        assert (fit.intercept, fit.slope) == pytest.approx(tuple(ref), abs=1e-5)
        assert M.trainability_frontier(xs, ys, 0, reps=10).midpoint == pytest.approx(
            -ref[0] / ref[1], abs=1e-4
        )


def _lr_statistics(x, y, m):
    """Independent oracle: the plain and Firth-penalized likelihood-ratio statistics of the
    midpoint m (difficulty units), from scipy's bounded scalar search and Nelder-Mead."""
    from scipy import optimize

    def loglik(b0, b1, penalized):
        eta = b0 + b1 * x
        value = np.sum(y * eta - np.logaddexp(0.0, eta))
        if penalized:
            w = special.expit(eta) * (1 - special.expit(eta))
            X = np.column_stack([np.ones_like(x), x])
            value += 0.5 * np.log(max(np.linalg.det(X.T @ (w[:, None] * X)), 1e-300))
        return value

    out = []
    for penalized in (False, True):
        best = -optimize.minimize(
            lambda b, pen=penalized: -loglik(b[0], b[1], pen),
            np.zeros(2),
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
        ).fun
        at = -optimize.minimize_scalar(
            lambda s, pen=penalized: -loglik(-s * m, s, pen),
            bounds=(-50, 50),
            method="bounded",
            options={"xatol": 1e-10},
        ).fun
        out.append(2 * (best - at))
    return out


def test_profile_interval_ends_are_where_the_likelihood_ratio_crosses():
    rng = np.random.default_rng(11)
    x = np.repeat(np.arange(2.0, 13.0, 2.0), 8)
    y = (rng.random(x.size) < special.expit(-(x - 6.3) / 1.5)).astype(float)
    fr = M.trainability_frontier(x, y, 0, reps=10)
    assert not fr.low_censored and not fr.high_censored and fr.low < fr.midpoint < fr.high
    cut = stats.chi2.ppf(0.95, 1)
    for end in (fr.low, fr.high):
        plain, penalized = _lr_statistics(x, y, end)
        # The interval is the union of the two sets: at an end, the looser test is at its cut.
        assert min(plain, penalized) == pytest.approx(cut, abs=2e-3)
    inside = _lr_statistics(x, y, fr.midpoint)
    assert min(inside) < cut


def test_two_level_median_point_is_the_median_over_seeds():
    # rliable's one-task median is the mean over runs; the table's median is over seeds
    seeds = [np.array([v]) for v in (0.0, 0.0, 0.0, 0.1, 1.0, 1.0)]
    est = M.two_level_estimates(seeds, 0, metrics=("median", "mean"), reps=200)
    assert est["median"].point == pytest.approx(0.05)
    assert est["mean"].point == pytest.approx(2.1 / 6)


def test_packer_summary_all_failures_gets_the_clopper_pearson_floor():
    cells = {c: np.zeros(3) for c in ("DD", "DR", "DE", "RR", "RE")}
    episodes = {c: [np.zeros(20)] * 3 for c in cells}
    out = M.packer_summary(cells, 0, reps=200, episodes=episodes)
    upper = 1 - 0.025 ** (1 / 60)  # 0 of 60 pooled episodes
    for key in ("default", "interpolation", "extrapolation"):
        assert out[key].point == 0.0 and out[key].low == 0.0
        assert out[key].high == pytest.approx(upper)


def _frontier_data(h50, seeds=10, seed=0):
    rng = np.random.default_rng(seed)
    x = np.repeat(np.arange(2.0, 13.0, 2.0), seeds)
    return x, (rng.random(x.size) < special.expit(-(x - h50))).astype(float)


def test_frontier_shift_of_a_condition_against_itself_is_zero_and_symmetric():
    x, y = _frontier_data(6.3)
    shift = M.frontier_shift(x, y, x, y, 0)
    assert shift.shift == 0.0 and shift.low == pytest.approx(-shift.high)
    assert shift.low < 0 < shift.high and shift.censored == ""


def test_frontier_shift_profile_ends_are_the_two_h50_intervals_at_the_paired_level():
    xa, ya = _frontier_data(5.0, seed=1)
    xb, yb = _frontier_data(8.5, seed=2)
    shift = M.frontier_shift(xa, ya, xb, yb, 0)
    each = 2 * stats.norm.cdf(stats.norm.ppf(0.975) / np.sqrt(2)) - 1
    assert each == pytest.approx(0.834, abs=1e-3)
    fa = M.trainability_frontier(xa, ya, 0, reps=1, confidence=each)
    fb = M.trainability_frontier(xb, yb, 0, reps=1, confidence=each)
    assert shift.shift == pytest.approx(fb.midpoint - fa.midpoint)
    assert (shift.low, shift.high) == pytest.approx((fb.low - fa.high, fb.high - fa.low))
    assert shift.low <= 3.5 <= shift.high


def test_frontier_shift_bounds_and_errors():
    x, y = _frontier_data(6.0)
    solved_everywhere = np.ones_like(y)
    shift = M.frontier_shift(x, y, x, solved_everywhere, 0)
    assert shift.censored == "at least" and shift.high_open
    boot = M.frontier_shift(x, y, x, y, 0, reps=200, interval="bootstrap")
    assert boot.low <= 0 <= boot.high
    with pytest.raises(ValueError, match="interval must be"):
        M.frontier_shift(x, y, x, y, 0, interval="wald")
    with pytest.raises(ValueError, match="outcomes in"):
        M.frontier_shift(x, y, x, y + 2, 0)
