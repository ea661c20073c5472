"""The Copernican test (T7) at tiny sizes: the floor, the law's fit, the ratios, the table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rlbench3.analysis import copernican as C
from rlbench3.harness.run_config import TRAIN
from rlbench3.harness.suites import load_suite


@pytest.fixture(scope="module")
def regimes():
    return C.regimes()


def test_regimes_come_from_the_orbit_suite(regimes):
    assert list(regimes) == [TRAIN, "binary-star", "eccentric", "mass-outside"]
    train = regimes[TRAIN]
    assert train["n_bodies"] == 2 and train["companion_mass"] == 0.0
    assert regimes["binary-star"]["companion_mass"] == {"low": 0.2, "high": 0.4}
    assert (
        regimes["eccentric"]["initial_eccentricity"]["low"] > train["initial_eccentricity"]["high"]
    )
    with pytest.raises(ValueError, match="no experiment 'nope'"):
        C.regimes(experiment="nope")


def test_true_simulator_has_zero_error(regimes):
    starts = np.array([0, 3, 7])
    for name in (TRAIN, "binary-star"):
        data = C.collect(regimes[name], copies=4, steps=12, seed=3, snapshot_at=starts)
        for k in (1, 5):
            predicted = C.SimulatorModel().rollout(data, starts, k)
            relative, counted = C.window_errors(predicted, data, starts, k)
            assert counted.any() and (relative[counted] == 0.0).all()


def test_law_model_recovers_gm_on_clean_data(regimes):
    # With one substep the simulator's step is the law model's kick-drift-kick step, so least
    # squares recovers the constants to rounding: K times the observed mass is G M.
    params = {
        **regimes["binary-star"],
        "substeps": 1,
        "gravitational_constant": 0.8,
        "primary_mass": 1.7,
        "thrust_gain": 0.15,
    }
    data = C.collect(params, copies=8, steps=40, seed=0)
    gravity, gain = C.LawModel().fit(data).constants
    assert gravity * 1.7 == pytest.approx(0.8 * 1.7, rel=1e-9)
    assert gain == pytest.approx(0.15, rel=1e-9)
    # With the regime's 6 substeps the one-step model is slightly off, by under 1%.
    gravity, gain = C.LawModel().fit(C.collect(regimes[TRAIN], 8, 40, seed=0)).constants
    assert gravity == pytest.approx(1.0, rel=1e-2) and gain == pytest.approx(0.2, rel=1e-2)


def test_window_errors_are_relative_to_the_start():
    craft = np.zeros((3, 1, 4))
    craft[0, 0] = [2.0, 0.0, 0.0, 0.5]  # |x0| = 2, |v0| = 0.5
    craft[2, 0] = [0.0, 2.0, -0.5, 0.0]
    data = C.Trajectories(
        craft=craft,
        bodies=np.zeros((3, 1, 1, 4)),
        masses=np.ones((1, 1)),
        actions=np.zeros((2, 1, 2)),
        alive=np.ones((3, 1), dtype=bool),
        dt=np.full(1, 0.1),
        params={},
    )
    predicted = craft[2][None].copy()
    predicted[0, 0, :2] += [0.2, 0.0]  # position off by 0.2 = 0.1 |x0|
    predicted[0, 0, 2:] += [0.0, 0.15]  # velocity off by 0.15 = 0.3 |v0|
    relative, counted = C.window_errors(predicted, data, np.array([0]), 2)
    assert counted.all() and relative[0, 0] == pytest.approx(math.sqrt((0.1**2 + 0.3**2) / 2))


def test_extrapolation_ratio_on_hand_made_cases():
    same = C.extrapolation_ratio([1.0, 2.0, 4.0], [10.0, 20.0, 40.0], rng=0)
    assert same.point == pytest.approx(10.0) and same.low == pytest.approx(10.0)
    assert same.high == pytest.approx(10.0)
    spread = C.extrapolation_ratio([1.0, 1.0], [2.0, 8.0], rng=0)
    assert spread.point == pytest.approx(4.0)  # the geometric mean of 2 and 8
    assert 2.0 - 1e-9 <= spread.low < 4.0 < spread.high <= 8.0 + 1e-9
    again = C.extrapolation_ratio([1.0, 1.0], [2.0, 8.0], rng=0)
    assert (again.low, again.high) == (spread.low, spread.high)  # explicit seed: reproducible
    with pytest.raises(ValueError, match="positive errors"):
        C.extrapolation_ratio([0.0, 1.0], [1.0, 1.0], rng=0)
    with pytest.raises(ValueError, match=r"two \(num_seeds,\) arrays"):
        C.extrapolation_ratio([1.0, 1.0], [1.0], rng=0)


def test_mlp_learns_the_one_step_map(regimes):
    data = C.collect(regimes[TRAIN], copies=8, steps=40, seed=1)
    model = C.MLPModel(hidden=32, updates=300, batch=128, seed=0).fit(data)
    assert np.mean(model.losses[-20:]) < 0.2 * np.mean(model.losses[:20])
    starts = np.array([0, 10])
    relative, counted = C.window_errors(model.rollout(data, starts, 1), data, starts, 1)
    assert np.median(relative[counted]) < 0.1


HELDOUT = ("binary-star", "eccentric", "mass-outside")


def episodes_frame(agent: str, successes: dict[str, list[list[int]]]) -> pd.DataFrame:
    """A load_episodes-like frame: ``successes[split][run]`` the run's episodes (run i: seed i)."""
    rows = []
    for split, runs in successes.items():
        for seed, outcomes in enumerate(runs):
            for episode, ok in enumerate(outcomes):
                rows.append(
                    {
                        "experiment": "exp",
                        "agent": agent,
                        "run_id": f"{agent}-{seed}",
                        "seed": seed,
                        "budget": 1000,
                        "split": split,
                        "episode": episode,
                        "success": bool(ok),
                    }
                )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def agents():
    # "good" succeeds in every training episode, never on the binary star, always on eccentric
    # orbits, and in half of them (run 0) or a quarter (run 1) outside the masses; "idle" never.
    good = episodes_frame(
        "good",
        {
            TRAIN: [[1, 1, 1, 1], [1, 1, 1, 1]],
            "binary-star": [[0, 0, 0, 0], [0, 0, 0, 0]],
            "eccentric": [[1, 1, 1, 1], [1, 1, 1, 1]],
            "mass-outside": [[1, 1, 0, 0], [1, 0, 0, 0]],
        },
    )
    idle = episodes_frame("idle", {name: [[0, 0], [0, 0]] for name in (TRAIN, *HELDOUT)})
    return C.gaps_from_episodes(pd.concat([good, idle]), HELDOUT, bootstrap_seed=0)


def test_agent_gaps_on_hand_made_runs(agents):
    good, idle = agents  # sorted by (experiment, agent)
    assert (good.agent, good.seeds, good.episodes, good.budget) == ("good", 2, 4, 1000)
    assert good.learned and good.train.point == 1.0
    assert good.gap["binary-star"].point == 1.0 and good.retention["binary-star"].point == 0.0
    assert good.gap["eccentric"].point == 0.0
    assert good.retention["eccentric"] == C.Estimate(1.0, 1.0, 1.0)  # nothing varies
    # Per-run means 0.5 and 0.25: gap 1 - 0.375, retention 0.375 within the runs' [0.25, 0.5].
    assert good.gap["mass-outside"].point == pytest.approx(0.625)
    retention = good.retention["mass-outside"]
    assert retention.point == pytest.approx(0.375)
    assert 0.25 <= retention.low <= retention.high <= 0.5
    for name in HELDOUT:
        assert good.gap[name].contains(good.gap[name].point)
    assert not idle.learned and idle.train.point == 0.0
    assert all(idle.retention[name] is None for name in HELDOUT)
    assert all(idle.gap[name].point == 0.0 for name in HELDOUT)


def test_agent_gaps_need_every_split():
    frame = episodes_frame("a", {TRAIN: [[1]], "binary-star": [[0]]})
    with pytest.raises(ValueError, match=r"exp/a: no evaluation on split\(s\) \['eccentric'"):
        C.gaps_from_episodes(frame, HELDOUT)


def test_success_retention_closed_form_and_errors():
    same = C.success_retention([np.ones(4), np.ones(4)], [np.full(4, 0.5), np.full(4, 0.5)], 0)
    assert same == C.Estimate(0.5, 0.5, 0.5)
    paired = C.success_retention([np.ones(2), np.full(2, 0.5)], [np.ones(2), np.zeros(2)], 0)
    assert paired.point == pytest.approx(1 / 1.5)  # 0.5 / 0.75
    assert 0.0 <= paired.low < paired.point < paired.high <= 1.0
    with pytest.raises(ValueError, match="some training success"):
        C.success_retention([np.zeros(3)], [np.ones(3)], 0)
    with pytest.raises(ValueError, match="paired runs needed"):
        C.success_retention([np.ones(3)], [np.ones(3), np.ones(3)], 0)


def test_the_suite_trains_ppo_and_sac_on_the_t7_regimes():
    suite, regimes = load_suite(C.SUITE), C.regimes()
    agents = set()
    for exp in suite.experiments:
        assert {**exp.params, **exp.train} == regimes[TRAIN]
        assert {name: {**exp.params, **split} for name, split in exp.splits.items()} == {
            name: regimes[name] for name in HELDOUT
        }
        assert exp.seeds >= 10
        agents.update(exp.agents)
    assert agents == {"ppo_population", "sac"}


def test_tiny_run_and_its_table(agents):
    result = C.run_t7("tiny", seed=4, k_steps=(1, 5))
    assert result.regimes == [TRAIN, "binary-star", "eccentric", "mass-outside"]
    for regime in result.regimes:
        assert (result.errors["simulator"][5][regime] == 0.0).all()
        assert (result.errors["law"][1][regime] > 0.0).all()
    assert np.allclose(result.constants, [1.0, 0.2], rtol=0.05)
    table = C.t7_table(result, agents)
    assert "seeds 4..5" in table and "percentile-bootstrap" in table
    assert "good: 2 seeds x 1000 steps, 4 episodes per split" in table
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + len(C.MODELS) * 2 + 2  # header, a row per model and k, per agent
    assert rows[0] == "| model | k | train | binary-star | eccentric | mass-outside |"
    assert rows[-2].startswith("| agent: good | — | success 1.00 [")
    assert "retention 1 [1, 1]; success 1.00 [" in rows[-2]
    assert rows[-1].count("gap undefined (train success < 0.05)") == 3
    assert len(C.t7_table(result).splitlines()) == len(table.splitlines()) - 2
    with pytest.raises(ValueError, match="needs episodes of at least as many steps"):
        C.run_t7("tiny", k_steps=(100,))
