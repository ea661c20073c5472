"""Seed variance studies (T3): hand-worked answers on tiny arrays, oracles (scipy's Welch test,
rliable's aggregates, exact enumeration of Bernoulli outcomes) and seeded simulations with a
known truth."""

from __future__ import annotations

import importlib.util
import itertools
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from rliable import metrics as rm
from scipy import stats

from rlbench3.analysis import metrics as M
from rlbench3.analysis import seed_study as S
from rlbench3.harness.storage import RunStore

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "seed_study.py"


# ---------------------------------------------------------------------------------------------
# Henderson splits
# ---------------------------------------------------------------------------------------------


def test_num_splits_counts_unordered_pairs_of_disjoint_groups():
    assert S.num_splits(4, 2) == 3
    assert S.num_splits(10, 5) == 126  # Henderson et al.'s 10 seeds in two groups of 5
    assert S.num_splits(11, 5) == 462 * 6 // 2  # one seed left out of each split
    assert S.num_splits(6, 2) == 15 * 6 // 2


def test_split_groups_enumerates_each_split_once():
    a, b, exhaustive = S.split_groups(6, 2, 0)
    assert exhaustive and a.shape == b.shape == (45, 2)
    splits = {frozenset([tuple(x), tuple(y)]) for x, y in zip(a, b)}
    assert len(splits) == 45  # no split twice, in either order
    assert all(set(x).isdisjoint(y) for x, y in zip(a, b))
    assert np.all(a[:, 0] < b[:, 0])


def test_four_seeds_give_three_splits_with_scipys_welch_pvalues():
    scores = np.array([1.0, 2.0, 4.0, 8.0])
    study = S.henderson_splits(scores, 0, normal_sims=10)
    by_hand = [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))]
    expected = [
        stats.ttest_ind(scores[list(a)], scores[list(b)], equal_var=False).pvalue
        for a, b in by_hand
    ]
    assert study.group_size == 2 and study.exhaustive and study.total_splits == 3
    np.testing.assert_allclose(study.pvalues, expected, rtol=1e-12)
    np.testing.assert_allclose(study.mean_diffs, [1.5 - 6.0, 2.5 - 5.0, 4.5 - 3.0])
    assert study.fraction == np.mean(np.array(expected) < 0.05)
    assert study.min_p == pytest.approx(min(expected))
    assert study.median_abs_diff == pytest.approx(2.5)


def test_half_half_fraction_equals_the_metrics_split_test():
    scores = np.random.default_rng(3).lognormal(size=10)
    study = S.henderson_splits(scores, 0, normal_sims=10)
    assert study.pvalues.size == 126 and study.group_size == 5
    assert study.fraction == pytest.approx(M.split_test_fraction(scores, 0, exhaustive=True))


def test_bernoulli_half_outcomes_of_four_seeds_average_the_documented_0125():
    # Every data set of 4 Bernoulli(0.5) outcomes is equally likely: the mean fraction over them
    # is the exact expected fraction under identical runs (the metrics docstring's 0.125).
    fractions = [
        S.henderson_splits(np.array(bits, float), 0, normal_sims=1).fraction
        for bits in itertools.product([0, 1], repeat=4)
    ]
    assert np.mean(fractions) == pytest.approx(0.125)


def test_bernoulli_expected_fraction_for_five_against_five_is_the_exact_sum():
    # Expected fraction = size of Welch's test at 5 vs 5 for Bernoulli(p) groups, summed exactly
    # over the ones in each group; the mean over random data sets must agree.
    p, g = 0.3, 5

    def rejects(a: int, b: int) -> bool:
        x = np.r_[np.ones(a), np.zeros(g - a)]
        y = np.r_[np.ones(b), np.zeros(g - b)]
        with warnings.catch_warnings():  # scipy warns on constant groups
            warnings.simplefilter("ignore", RuntimeWarning)
            pv = stats.ttest_ind(x, y, equal_var=False).pvalue
        return bool(pv < 0.05)  # nan (both constant, equal) is not significant

    exact = sum(
        stats.binom.pmf(a, g, p) * stats.binom.pmf(b, g, p) * rejects(a, b)
        for a in range(g + 1)
        for b in range(g + 1)
    )
    rng = np.random.default_rng(11)
    data = (rng.random((400, 10)) < p).astype(float)
    mean = np.mean([S.henderson_splits(x, 0, normal_sims=1).fraction for x in data])
    assert exact == pytest.approx(0.0121, abs=5e-5)  # the docstring's value
    assert abs(mean - exact) < 0.006  # 400 data sets: sd of the mean about 0.002


def test_normal_reference_matches_welchs_size_from_scipy():
    # The oracle: scipy's Welch test on independent 5-vs-5 normal samples.
    rng = np.random.default_rng(5)
    x = rng.standard_normal((100_000, 10))
    size = np.mean(stats.ttest_ind(x[:, :5], x[:, 5:], axis=1, equal_var=False).pvalue < 0.05)
    study = S.henderson_splits(rng.standard_normal(10), 1, normal_sims=2000)
    assert abs(study.normal_fraction - size) < 0.004
    assert study.normal_low <= study.normal_fraction <= study.normal_high
    assert study.normal_sims == 2000


def test_two_clusters_give_an_extreme_smallest_p_but_no_excess_fraction():
    # Five solved and five unsolved seeds: the one split that separates them has a tiny p,
    # while the 4-1 / 1-4 splits do not reach 0.05 (Welch's df falls with one tight group).
    scores = np.r_[np.zeros(5), np.ones(5)] + np.random.default_rng(0).normal(0, 0.01, 10)
    study = S.henderson_splits(scores, 0, normal_sims=400)
    assert study.fraction == pytest.approx(1 / 126)
    assert study.fraction <= study.normal_high and study.normal_share > 0.5
    assert study.min_p < 1e-6 and study.normal_min_p < 0.01


def test_constant_scores_are_never_significant():
    study = S.henderson_splits(np.full(10, 0.7), 0, normal_sims=5)
    assert study.fraction == 0.0 and math.isnan(study.min_p) and math.isnan(study.normal_min_p)
    assert study.median_abs_diff == 0.0


def test_many_seeds_sample_the_splits_and_estimate_the_exhaustive_fraction():
    scores = np.random.default_rng(2).exponential(size=12)
    full = S.henderson_splits(scores, 0, max_splits=10_000, normal_sims=5)
    sampled = S.henderson_splits(scores, 1, max_splits=4000, normal_sims=5)
    assert full.exhaustive and full.pvalues.size == S.num_splits(12, 5) == 8316
    assert not sampled.exhaustive and sampled.pvalues.size == 4000
    assert abs(sampled.fraction - full.fraction) < 0.015
    again = S.henderson_splits(scores, 1, max_splits=4000, normal_sims=5)
    np.testing.assert_array_equal(again.pvalues, sampled.pvalues)  # seeded


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scores": np.ones((4, 2))}, "scores must be (num_seeds,)"),
        ({"scores": np.ones(3)}, "num_seeds >= 4"),
        ({"scores": np.r_[np.ones(5), np.nan]}, "scores must be finite"),
        ({"group_size": 6}, "group_size must be an integer in [2, 5]"),
        ({"group_size": 1}, "group_size must be an integer in [2, 5]"),
        ({"alpha": 1.5}, "alpha must be in (0, 1)"),
        ({"max_splits": 0}, "max_splits must be an integer >= 1"),
        ({"normal_sims": 0}, "normal_sims must be an integer >= 1"),
    ],
)
def test_henderson_bad_input_names_the_argument(kwargs, message):
    args = {"scores": np.arange(10.0), **kwargs}
    with pytest.raises(ValueError) as err:
        S.henderson_splits(args.pop("scores"), 0, **args)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_henderson_needs_a_random_state():
    with pytest.raises(TypeError, match="rng is required"):
        S.henderson_splits(np.arange(10.0), None)


# ---------------------------------------------------------------------------------------------
# Aggregates and the subsampling study
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tasks", [1, 3])
def test_aggregate_draws_equal_rliable(tasks):
    draws = np.random.default_rng(4).random((6, 7, tasks))
    for name, func in (("mean", rm.aggregate_mean), ("iqm", rm.aggregate_iqm)):
        np.testing.assert_allclose(S.aggregate_draws(draws, name), [func(d) for d in draws])
    median = S.aggregate_draws(draws, "median")
    if tasks > 1:
        np.testing.assert_allclose(median, [rm.aggregate_median(d) for d in draws])
    else:  # the median over seeds (rliable's one-task median would be the mean)
        np.testing.assert_allclose(median, np.median(draws[:, :, 0], axis=1))


def test_iqm_of_three_is_the_mean_and_of_four_the_median():
    x = np.array([[[0.0], [1.0], [5.0]]])
    assert S.aggregate_draws(x, "iqm")[0] == pytest.approx(2.0)
    y = np.array([[[0.0], [1.0], [3.0], [10.0]]])
    assert S.aggregate_draws(y, "iqm")[0] == pytest.approx(2.0)


def test_mean_interval_covers_near_095_on_normal_data_at_50_seeds():
    # A pool so large that it is the normal population; 400 draws of 50 seeds.
    pool = np.random.default_rng(0).standard_normal(200_000)
    study = S.subsample_study(pool, 1, sizes=(50,), aggregates=("mean",), reps=400, boot_reps=400)
    (row,) = study.rows
    assert row.truth == pytest.approx(pool.mean())
    assert row.coverage_low <= 0.95 <= row.coverage_high
    assert 0.92 <= row.coverage <= 0.98
    # The width of a 95% interval of the mean of 50 unit-normal seeds: 2 · t · 1/sqrt(50).
    assert row.mean_width == pytest.approx(2 * stats.t.ppf(0.975, 49) / math.sqrt(50), rel=0.08)
    assert row.point_sd == pytest.approx(1 / math.sqrt(50), rel=0.12)


def test_subsample_rows_skip_what_the_pool_cannot_supply():
    pool = np.arange(10.0)
    study = S.subsample_study(pool, 0, sizes=(3, 10, 20), reps=5, boot_reps=50)
    by_size = {(r.size, r.aggregate): r for r in study.rows}
    assert len(study.rows) == 9
    assert by_size[(3, "mean")].reps == 5 and not by_size[(3, "mean")].skipped
    assert by_size[(10, "iqm")].skipped == "N=10 is the whole pool: every draw is the pool itself"
    assert by_size[(20, "mean")].skipped == "N=20 exceeds the pool of 10 seeds"
    assert by_size[(20, "mean")].reps == 0 and math.isnan(by_size[(20, "mean")].coverage)
    assert by_size[(3, "median")].truth == pytest.approx(4.5)
    with_replacement = S.subsample_study(pool, 0, sizes=(20,), reps=3, boot_reps=20, replace=True)
    assert all(not r.skipped for r in with_replacement.rows)


def test_subsample_is_seeded_and_rliable_path_handles_tasks():
    pool = np.random.default_rng(1).random((30, 2))
    kwargs = {"sizes": (5,), "reps": 3, "boot_reps": 50, "interval": "rliable"}
    first = S.subsample_study(pool, 7, **kwargs)
    assert first == S.subsample_study(pool, 7, **kwargs)
    assert first.num_tasks == 2 and all(r.mean_width > 0 for r in first.rows)


def test_rliable_one_task_median_interval_is_of_the_median_over_seeds():
    # 90 zeros and 10 tens: the median of 20 seeds (and of their resamples) is 0 but for a
    # vanishing chance; rliable's one-task "median" (the mean, about 1) would never cover 0.
    pool = np.r_[np.zeros(90), np.full(10, 10.0)]
    study = S.subsample_study(
        pool,
        3,
        sizes=(20,),
        aggregates=("median", "mean"),
        reps=10,
        boot_reps=200,
        interval="rliable",
    )
    median, mean = study.rows
    assert median.truth == 0.0 and mean.truth == 1.0
    assert median.mean_point == 0.0 and median.coverage == 1.0
    assert median.mean_width < mean.mean_width


@pytest.mark.parametrize(
    ("pool", "kwargs", "message"),
    [
        (np.r_[np.ones(9), np.nan], {}, "pool must be finite scores"),
        (np.ones((4, 2, 2)), {}, "pool must be (pool_size,) or (pool_size, num_tasks)"),
        (np.ones(1), {}, "pool_size >= 2"),
        (np.arange(10.0), {"sizes": (10, 20)}, "sizes must hold some N with 2 <= N < 10"),
        (np.arange(10.0), {"sizes": (1,)}, "sizes must be a non-empty sequence of integers >= 2"),
        (np.arange(10.0), {"sizes": ()}, "sizes must be a non-empty sequence"),
        (np.arange(10.0), {"aggregates": ("mode",)}, "aggregates must be a non-empty subset"),
        (np.arange(10.0), {"reps": 0}, "reps must be an integer >= 1"),
        (np.arange(10.0), {"boot_reps": 2.5}, "boot_reps must be an integer >= 1"),
        (np.arange(10.0), {"confidence": 1.0}, "confidence must be in (0, 1)"),
        (np.arange(10.0), {"interval": "bca"}, "interval must be one of"),
        (np.ones((10, 2)), {}, "interval='expanded' needs a one-task pool"),
    ],
)
def test_subsample_bad_input_names_the_argument(pool, kwargs, message):
    with pytest.raises(ValueError) as err:
        S.subsample_study(pool, 0, **kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)


# ---------------------------------------------------------------------------------------------
# Ranking error
# ---------------------------------------------------------------------------------------------


def test_ranking_error_is_zero_for_pools_far_apart():
    rng = np.random.default_rng(0)
    study = S.ranking_error(10 + rng.standard_normal(100), rng.standard_normal(100), 1, reps=300)
    assert [r.error for r in study.rows] == [0.0] * 5
    assert all(r.low == 0.0 and 0 < r.high < 0.02 for r in study.rows)
    assert study.value_a > study.value_b


def test_ranking_error_is_one_half_for_identical_pools():
    pool = np.random.default_rng(0).random(100)
    study = S.ranking_error(pool, pool, 1, reps=200, aggregate="mean")
    assert all(r.error == 0.5 and r.low < 0.5 < r.high for r in study.rows)


def test_ranking_error_near_one_half_for_pools_of_one_distribution():
    rng = np.random.default_rng(8)
    study = S.ranking_error(rng.standard_normal(1000), rng.standard_normal(1000), 2, sizes=(3,))
    (row,) = study.rows  # the pools differ a little: just below 0.5, within sampling error
    assert 0.42 < row.error < 0.55 and row.low < 0.5 < row.high


def test_ranking_error_counts_ties_as_half_by_hand():
    # Pool A = [0, 1, 1] (mean 2/3) over pool B = [0.5] * 3. Two seeds of A: {0, 1} (2 of the 3
    # pairs) ties B's 0.5 (counts 1/2), {1, 1} ranks right: error 2/3 · 1/2 = 1/3, ties 2/3.
    study = S.ranking_error(
        np.array([0.0, 1.0, 1.0]), np.full(3, 0.5), 0, sizes=(2,), reps=3000, aggregate="mean"
    )
    (row,) = study.rows
    assert row.low <= 1 / 3 <= row.high and abs(row.error - 1 / 3) < 0.03
    assert abs(row.ties - 2 / 3) < 0.03


def test_ranking_error_bad_input():
    with pytest.raises(ValueError, match="pool_b must have pool_a's 2 tasks"):
        S.ranking_error(np.ones((5, 2)), np.ones((5, 3)), 0)
    with pytest.raises(ValueError, match="pool_a must be finite"):
        S.ranking_error(np.r_[np.ones(5), np.inf], np.ones(6), 0)
    with pytest.raises(ValueError, match="aggregates must be a non-empty subset"):
        S.ranking_error(np.ones(5), np.ones(5), 0, aggregate="max")
    skipped = S.ranking_error(np.arange(8.0), np.arange(20.0), 0, sizes=(3, 8), reps=10)
    assert skipped.rows[1].skipped == "N=8 is the whole pool: every draw is the pool itself"


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sections():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(12), rng.standard_normal(12) + 0.5
    henderson = {("exp", "ppo"): S.henderson_splits(a, 0, normal_sims=20)}
    sub = {("exp", "ppo"): S.subsample_study(a, 0, sizes=(3, 12), reps=4, boot_reps=50)}
    ranking = {("exp", "ppo vs a2c"): S.ranking_error(a, b, 0, sizes=(3, 20), reps=20)}
    names = ("experiment", "agent")
    protocol = "evaluation: greedy actions, 20 final episodes per run and split"
    out = {}
    out.update(S.henderson_section(henderson, key_names=names, protocol=protocol))
    out.update(S.subsample_section(sub, key_names=names, protocol=protocol))
    out.update(S.ranking_section(ranking, key_names=("experiment", "pair"), protocol=protocol))
    return out


def test_sections_have_captions_numbers_and_notes(sections):
    titles = list(sections)
    assert len(titles) == 3 and all(t.endswith("per run and split") for t in titles)
    henderson, sub, ranking = sections.values()
    assert list(henderson.columns[:5]) == ["experiment", "agent", "seeds", "group", "splits"]
    assert henderson.loc[0, "of"] == S.num_splits(12, 5)
    assert {"coverage", "coverage_low", "coverage_high", "width", "truth"} <= set(sub.columns)
    assert sub.loc[sub["seeds"] == 12, "note"].str.contains("whole pool").all()
    assert ranking.loc[1, "note"] == "N=20 exceeds the pool of 12 seeds"


def test_render_formats(sections):
    md = S.render(sections, "md")
    assert md.count("### ") == 3 and "(n=12)" in md and "whole pool" in md
    min_p = next(iter(sections.values())).loc[0, "min_p"]
    assert f"{min_p:.2g}" in md  # p-values keep two significant digits
    latex = S.render(sections, "latex")
    assert latex.count("\\begin{tabular}") == 3
    csv = S.render(sections, "csv")
    assert "coverage_low" in csv and "wrong_high" in csv
    with pytest.raises(ValueError, match="fmt must be one of"):
        S.render(sections, "html")


def test_key_must_match_key_names():
    study = S.henderson_splits(np.arange(10.0), 0, normal_sims=2)
    with pytest.raises(ValueError, match="one label per key_names"):
        S.henderson_section({("a", "b"): study}, key_names=("cell",))


# ---------------------------------------------------------------------------------------------
# The script
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def script():
    name = "rlbench3_seed_study_script"
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


FAST = ["--reps", "3", "--boot-reps", "50", "--rank-reps", "20", "--normal-sims", "20"]


def test_script_synthetic_mode_prints_the_three_tables(script, capsys):
    code = script.main(["--synthetic", "--pool", "30", *FAST, "--sizes", "3", "5", "50"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.count("### ") == 3 and "Henderson" in out and "Ranking error" in out
    assert "N=50 exceeds the pool of 30 seeds" in out
    assert "4 cells of 30 seeds" in err


def test_script_reads_a_results_folder(script, tmp_path, make_config, make_record, capsys):
    # Two agents with 12 seeds each and one with 4 (too few, skipped), 20 episodes per run.
    store = RunStore(tmp_path)
    rates = {"ppo": np.linspace(0.1, 1.0, 12), "a2c": np.linspace(0.0, 0.6, 12), "dqn": [0.5] * 4}
    for agent, values in rates.items():
        for seed, rate in enumerate(values):
            config = make_config(seed=seed, agent=agent, algo=agent.upper(), episodes=20)
            store.write(config, make_record(float(rate), episodes=20))
    code = script.main(["-r", str(tmp_path), *FAST, "--sizes", "3", "5", "--format", "csv"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "skipping lock/horizon=2/dqn: 4 seeds (fewer than 10)" in err
    assert "evaluation: greedy actions, 20 final episodes per run and split" in out
    henderson = out.split("\n# ")[0].splitlines()[1:]
    assert henderson[0].startswith("experiment,setting,agent,seeds,group,splits,of,fraction")
    assert len([line for line in henderson if line.startswith("lock,")]) == 2
    assert "a2c vs ppo" in out
