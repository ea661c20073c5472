"""What the figures show (rlbench3.analysis.figures): hand-worked numbers on tiny frames, and
oracles (rliable called directly, the metrics functions with the row's key, the swiss table)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from rliable import metrics as rm

from rlbench3.analysis import figures as F
from rlbench3.analysis import metrics as M
from rlbench3.analysis.results import load, load_episodes
from rlbench3.analysis.tables import build_tables, run_scores
from rlbench3.harness.storage import RunStore

A = 0.025  # alpha / 2 at 95%


def score_rows(rows: list[tuple]) -> pd.DataFrame:
    """A run_scores-like frame from (experiment, agent, {param: value}, seed, split, score)."""
    out = []
    for exp, agent, setting, seed, split, score in rows:
        label = ", ".join(f"{k}={v}" for k, v in setting.items())
        out.append(
            {
                "run_id": f"{exp}/{agent}/{label}/{seed}",
                "experiment": exp,
                "setting": label,
                **{f"param_{k}": v for k, v in setting.items()},
                "agent": agent,
                "seed": seed,
                "split": split,
                "score": score,
            }
        )
    return pd.DataFrame(out)


def curve_rows(runs: dict[tuple, tuple[list, list]], split: str = "train") -> pd.DataFrame:
    """A results.load-like frame from (experiment, agent, horizon, seed) -> (steps, values)."""
    out = []
    for (exp, agent, horizon, seed), (steps, values) in runs.items():
        for step, value in zip(steps, values):
            out.append(
                {
                    "run_id": f"{exp}/{agent}/{horizon}/{seed}",
                    "experiment": exp,
                    "setting": f"horizon={horizon}",
                    "param_horizon": horizon,
                    "agent": agent,
                    "seed": seed,
                    "split": split,
                    "step": step,
                    "success_rate": value,
                    "mean_return": value,
                }
            )
    return pd.DataFrame(out)


# --- fraction solved --------------------------------------------------------------------------


def test_fraction_solved_and_clopper_pearson_by_hand():
    x = np.array([4, 2, 2, 2, 4, 4, 6, 6, 6, 4])
    y = np.array([0.6, 1.0, 1.0, 0.9, 0.5, 0.2, 0.0, 0.1, 0.0, 0.49])
    sf = F.fraction_solved(x, y, solved_at=0.5)
    assert sf.levels.tolist() == [2, 4, 6]
    assert sf.seeds.tolist() == [3, 4, 3]
    assert sf.solved.tolist() == [3, 2, 0]  # 0.5 counts as solved, 0.49 does not
    assert sf.fraction.tolist() == [1.0, 0.5, 0.0]
    # 3/3: low solves p^3 = alpha/2; high = 1.
    assert sf.low[0] == pytest.approx(A ** (1 / 3), abs=1e-9) and sf.high[0] == 1.0
    # 2/4: the exact ends solve P(X >= 2 | low) = alpha/2 and P(X <= 2 | high) = alpha/2.
    lo, hi = sf.low[1], sf.high[1]
    assert 1 - (1 - lo) ** 4 - 4 * lo * (1 - lo) ** 3 == pytest.approx(A, abs=1e-9)
    assert (1 - hi) ** 4 + 4 * hi * (1 - hi) ** 3 + 6 * hi**2 * (1 - hi) ** 2 == pytest.approx(
        A, abs=1e-9
    )
    # 0/3: low = 0; high solves (1 - p)^3 = alpha/2.
    assert sf.low[2] == 0.0 and sf.high[2] == pytest.approx(1 - A ** (1 / 3), abs=1e-9)


def test_fraction_solved_rejects_bad_shapes():
    with pytest.raises(ValueError, match="num_runs"):
        F.fraction_solved(np.array([1.0, 2.0]), np.array([1.0]))


# --- learning curves --------------------------------------------------------------------------


def test_iqm_band_is_rliables_iqm_at_each_point():
    rng = np.random.default_rng(3)
    steps = np.array([0.0, 100.0, 200.0, 300.0])
    values = rng.random((6, 4))
    runs = [F.RunLine(str(i), steps, v) for i, v in enumerate(values)]
    est, runs_at = F.iqm_band(runs, steps, seed=7, key=("k", 1), reps=200)
    for k in range(4):
        assert est.point[k] == pytest.approx(rm.aggregate_iqm(values[:, [k]]))
    assert runs_at.tolist() == [6, 6, 6, 6]
    # the band is metrics.iqm_curve's, seeded from the key and the span's first point
    oracle = M.iqm_curve(values, M.rng_for(7, "k", 1, 0), reps=200)
    for name in ("point", "low", "high"):
        np.testing.assert_array_equal(getattr(est, name), getattr(oracle, name))
    assert np.all(est.low <= est.point) and np.all(est.point <= est.high)


def test_iqm_band_interpolates_and_leaves_late_points_to_longer_runs():
    long = [
        F.RunLine(f"l{i}", np.array([0.0, 100.0, 200.0]), np.array([0.0, v, 2 * v]))
        for i, v in enumerate([0.2, 0.4, 0.6, 0.8])
    ]
    short = F.RunLine("s", np.array([0.0, 100.0]), np.array([1.0, 1.0]))
    grid = F.step_grid(np.array([200.0, 200.0, 200.0, 200.0, 100.0]), 5)
    assert grid.tolist() == [0.0, 50.0, 100.0, 150.0, 200.0]
    est, runs_at = F.iqm_band([*long, short], grid, seed=0, reps=100)
    assert runs_at.tolist() == [5, 5, 5, 4, 4]
    # at step 50 every run is interpolated halfway: the long runs at v / 2, the short one at 1
    at_50 = np.array([0.1, 0.2, 0.3, 0.4, 1.0])
    assert est.point[1] == pytest.approx(rm.aggregate_iqm(at_50[:, None]))
    # at 150 only the long runs: 1.5 v; IQM of four values = mean of the middle two
    assert est.point[3] == pytest.approx((0.6 + 0.9) / 2)


def test_learning_curves_panels_in_the_one_order():
    runs = {}
    for exp in ("b-lock", "a-lock"):
        for horizon in (10, 2, 4):
            for agent in ("zeta", "alpha"):
                for seed in range(2):
                    runs[(exp, agent, horizon, seed)] = ([0, 50, 100], [0.0, 0.5, 1.0])
    curves = curve_rows(runs)
    data = F.learning_curves(curves, reps=20, points=3)
    assert data.experiments == ("a-lock", "b-lock")
    assert [s for e, s in data.panels if e == "a-lock"] == [
        "horizon=2",
        "horizon=4",
        "horizon=10",  # by value, not as text
    ]
    assert data.agents == ("alpha", "zeta")
    assert [(b.setting, b.agent) for b in data.bands_of("b-lock", "horizon=4")] == [
        ("horizon=4", "alpha"),
        ("horizon=4", "zeta"),
    ]
    band = data.bands[0]
    assert band.grid.tolist() == [0.0, 50.0, 100.0]
    np.testing.assert_allclose(band.iqm.point, [0.0, 0.5, 1.0])
    assert [r.run_id for r in band.runs] == ["a-lock/alpha/2/0", "a-lock/alpha/2/1"]
    empty = F.learning_curves(curves, split="unseen")
    assert empty.bands == () and empty.split == "unseen"
    with pytest.raises(ValueError, match="metric"):
        F.learning_curves(curves, metric="reward")


# --- frontier ---------------------------------------------------------------------------------


def frontier_scores() -> pd.DataFrame:
    rows = []
    by_agent = {
        "ppo": {2: [1.0, 1.0, 0.9], 4: [1.0, 0.6, 0.2], 10: [0.0, 0.1, 0.0]},
        "rs": {2: [1.0, 1.0, 1.0], 4: [1.0, 0.0, 0.0], 10: [0.0, 0.0, 0.0]},
    }
    for agent, levels in by_agent.items():
        for h, scores in levels.items():
            for seed, s in enumerate(scores):
                rows.append(("lock", agent, {"horizon": h}, seed, "train", s))
                rows.append(("lock", agent, {"horizon": h}, seed, "unseen", s / 2))
    return score_rows(rows)


def test_frontier_points_and_fit_by_hand():
    data = F.trainability_frontiers(frontier_scores(), solved_at=0.5, reps=200, seed=3)
    assert data.agents == ("ppo", "rs")
    (panel,) = data.panels
    assert (panel.experiment, panel.parameter, panel.fixed) == ("lock", "horizon", "")
    assert panel.levels.tolist() == [2.0, 4.0, 10.0]
    ppo, rs = panel.curves
    assert (ppo.agent, rs.agent) == ("ppo", "rs")
    assert ppo.solved.solved.tolist() == [3, 2, 0] and rs.solved.solved.tolist() == [3, 1, 0]
    assert ppo.solved.fraction.tolist() == pytest.approx([1.0, 2 / 3, 0.0])
    # 1/3: low solves P(X >= 1 | p) = 1 - (1 - p)^3 = alpha/2, high solves
    # P(X <= 1 | p) = (1 - p)^3 + 3 p (1 - p)^2 = alpha/2.
    lo, hi = rs.solved.low[1], rs.solved.high[1]
    assert lo == pytest.approx(1 - (1 - A) ** (1 / 3), abs=1e-9)
    assert (1 - hi) ** 3 + 3 * hi * (1 - hi) ** 2 == pytest.approx(A, abs=1e-9)
    # the fit is metrics.trainability_frontier on the solved indicators, seeded by the row's key
    x = np.repeat([2.0, 4.0, 10.0], 3)
    oracle = M.trainability_frontier(
        x,
        np.array([1, 1, 1, 1, 1, 0, 0, 0, 0], float),
        M.rng_for(3, "frontier", "lock", "param_horizon", "", "ppo"),
        reps=200,
    )
    assert ppo.fit.midpoint == oracle.midpoint
    assert (ppo.fit.low, ppo.fit.high) == (oracle.low, oracle.high)
    np.testing.assert_array_equal(ppo.fit.curve_low, oracle.curve_low)
    np.testing.assert_array_equal(ppo.difficulty, x)


def test_frontier_panels_hold_other_parameters_fixed_in_numeric_order():
    rows = []
    for n in (10, 2):
        for h in (2, 4):
            for seed in range(2):
                rows.append(("lock", "ppo", {"horizon": h, "n": n}, seed, "train", 1.0 / h))
    rows.append(("lock", "ppo", {"horizon": 3, "n": 7}, 0, "train", 1.0))  # one level only
    data = F.trainability_frontiers(score_rows(rows), reps=50)
    labels = [(p.parameter, p.fixed) for p in data.panels]
    assert labels == [
        ("horizon", "n=2"),
        ("horizon", "n=7"),
        ("horizon", "n=10"),
        ("n", "horizon=2"),
        ("n", "horizon=3"),
        ("n", "horizon=4"),
    ]
    single = data.panels[1].curves[0]
    assert single.fit is None and single.solved.levels.tolist() == [3.0]


def test_frontier_agrees_with_the_swiss_table(tmp_path, make_config, make_record):
    store = RunStore(tmp_path)
    rates = {2: [1.0, 1.0, 0.5], 4: [1.0, 0.5, 0.0], 6: [0.0, 0.0, 0.25]}
    for h, by_seed in rates.items():
        for seed, rate in enumerate(by_seed):
            config = make_config(setting={"horizon": h}, seed=seed)
            store.write(config, make_record(rate, episodes=4))
    curves, episodes = load(tmp_path), load_episodes(tmp_path)
    data = F.trainability_frontiers(run_scores(curves, episodes), reps=300, seed=5)
    (table,) = [
        t
        for title, t in build_tables(curves, episodes, "swiss", reps=300, seed=5).items()
        if title.startswith("Trainability frontier")
    ]
    fit = data.panels[0].curves[0].fit
    row = table.iloc[0]
    assert (row["h50"], row["h50_low"], row["h50_high"]) == (fit.midpoint, fit.low, fit.high)
    assert (row["h50_low_censored"], row["h50_high_censored"]) == (
        fit.low_censored,
        fit.high_censored,
    )
    assert row["seeds"] == 3  # per level, shown beside the interval as "n=3/level"


def test_frontier_of_the_issues_flat_case_is_finite_and_agrees_with_the_table(
    tmp_path, make_config, make_record
):
    # Issue 10, point 4: levels 2-12, 10 seeds each, 7/7/3/4/2/5 solved gave "[nan, nan]".
    store = RunStore(tmp_path)
    for h, k in zip(range(2, 13, 2), (7, 7, 3, 4, 2, 5)):
        for seed in range(10):
            config = make_config(setting={"horizon": h}, seed=seed)
            store.write(config, make_record(1.0 if seed < k else 0.0, episodes=4))
    curves, episodes = load(tmp_path), load_episodes(tmp_path)
    fit = F.trainability_frontiers(run_scores(curves, episodes), reps=100).panels[0].curves[0].fit
    assert np.isfinite([fit.midpoint, fit.low, fit.high]).all()
    assert fit.midpoint == pytest.approx(6.01, abs=0.01)
    sections = build_tables(curves, episodes, "swiss", reps=100)
    (table,) = [t for title, t in sections.items() if title.startswith("Trainability frontier")]
    row = table.iloc[0]
    assert (row["h50"], row["h50_low"], row["h50_high"]) == (fit.midpoint, fit.low, fit.high)


# --- profiles and gaps ------------------------------------------------------------------------


def test_score_matrix_cuts_to_the_fewest_seeds():
    rows = [("e", "a", {"h": 2}, s, "train", v) for s, v in [(1, 0.2), (0, 0.1), (2, 0.3)]]
    rows += [("e", "a", {"h": 4}, s, "train", v) for s, v in [(1, 0.5), (0, 0.4)]]
    matrix = F.score_matrix(score_rows(rows), ["h=4", "h=2"])
    np.testing.assert_array_equal(matrix, [[0.4, 0.1], [0.5, 0.2]])


def test_profiles_per_experiment():
    rows = []
    for h, v in ((10, 0.0), (2, 1.0), (4, 0.5)):
        for seed in range(3):
            rows.append(("e", "full", {"h": h}, seed, "train", v))
    rows.append(("e", "partial", {"h": 2}, 0, "train", 1.0))  # misses settings: left out
    data = F.experiment_profiles(score_rows(rows), reps=100, seed=2, taus=np.array([0.25, 0.75]))
    assert data.agents == ("full", "partial")
    (panel,) = data.panels
    assert panel.settings == ("h=2", "h=4", "h=10")
    assert panel.seeds == {"full": 3}
    est = panel.profiles["full"]
    np.testing.assert_allclose(est.point, [2 / 3, 1 / 3])  # runs above 0.25: 1 and 0.5
    matrix = np.repeat([[1.0, 0.5, 0.0]], 3, axis=0)
    oracle = M.performance_profiles(
        {"full": matrix}, np.array([0.25, 0.75]), M.rng_for(2, "profiles", "e"), reps=100
    )["full"]
    np.testing.assert_array_equal(est.low, oracle.low)
    np.testing.assert_array_equal(est.high, oracle.high)


def test_gaps_paired_by_run():
    rows = []
    for h, pairs in ((10, [(1.0, 0.5), (0.5, 0.5)]), (2, [(1.0, 0.0), (0.8, 0.2), (0.6, 0.6)])):
        for seed, (tr, te) in enumerate(pairs):
            rows.append(("lock", "ppo", {"horizon": h}, seed, "train", tr))
            rows.append(("lock", "ppo", {"horizon": h}, seed, "unseen", te))
    rows.append(("lock", "ppo", {"horizon": 2}, 9, "train", 1.0))  # no held-out score: unpaired
    data = F.generalization_gaps(score_rows(rows), reps=300, seed=1)
    (panel,) = data.panels
    assert (panel.experiment, panel.split) == ("lock", "unseen")
    assert panel.settings == ("horizon=2", "horizon=10")
    assert panel.rows["setting"].tolist() == ["horizon=2", "horizon=10"]
    assert panel.rows["seeds"].tolist() == [3, 2]
    assert panel.rows["gap"].tolist() == pytest.approx([(1.0 + 0.6 + 0.0) / 3, 0.25])
    oracle = M.generalization_gap(
        np.array([1.0, 0.8, 0.6]),
        np.array([0.0, 0.2, 0.6]),
        M.rng_for(1, "gaps", "lock", "unseen", "horizon=2", "ppo"),
        reps=300,
    )
    first = panel.rows.iloc[0]
    assert (first["gap_low"], first["gap_high"]) == (oracle.low, oracle.high)
    table = data.table()
    assert table.columns[:2].tolist() == ["experiment", "split"] and len(table) == 2
    assert F.generalization_gaps(frontier_scores().query("split == 'train'")).panels == ()


# --- landscape --------------------------------------------------------------------------------


def test_landscape_uses_the_first_experiment_setting_and_the_agents_policy(
    tmp_path, make_config, make_record
):
    store = RunStore(tmp_path)
    agents = {  # name -> (algo, hyperparams); the DQN agent's policy is not PPO's
        "dqn": ("DQN", {"policy_kwargs": {"net_arch": [4]}}),
        "rs": ("random_search", {"policy_from": "PPO", "policy_kwargs": {"net_arch": [8]}}),
    }
    for exp in ("b-lock", "a-lock"):
        for h in (10, 2):
            for agent, (algo, hyperparams) in agents.items():
                config = make_config(
                    experiment=exp,
                    setting={"horizon": h},
                    splits={"train": {"preset": "D", "horizon": h}},
                    agent=agent,
                    algo=algo,
                    hyperparams=hyperparams,
                )
                store.write(config, make_record(0.0))
    data = F.landscape_for_results(tmp_path, grid=3, episodes=1, n_policies=4)
    assert data.experiment == "a-lock"  # by name
    assert data.setting == "horizon=2"  # by value: "horizon=10" sorts first as text
    assert data.params == {"preset": "D", "horizon": 2}
    assert data.policy_kwargs == {"net_arch": [8]}  # the random-search agent's PPO policy
    assert data.slice.returns.shape == (3, 3, 1)
    assert data.probe.returns.shape == (4, 1)
    assert math.isfinite(data.probe.hole_fraction.high)
    with pytest.raises(FileNotFoundError):
        F.landscape_for_results(tmp_path / "nothing")


def test_no_global_random_state_touched():
    np.random.seed(11)  # noqa: NPY002
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # the rliable workaround silences arch
        F.experiment_profiles(frontier_scores(), reps=20)
        F.learning_curves(curve_rows({("e", "a", 2, 0): ([0, 10], [0.0, 1.0])}), reps=20)
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002
