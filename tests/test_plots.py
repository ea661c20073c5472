"""Every kind of figure, rendered headless to PNG and PDF from a small synthetic results folder
(records of the shape the planner and the runner write, made by hand: no training here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rlbench3 import plots
from rlbench3.analysis.landscape import landscape_probe, landscape_slice
from rlbench3.analysis.results import load, load_episodes
from rlbench3.analysis.tables import run_scores
from rlbench3.harness.storage import RunStore
from rlbench3.harness.suites import run_id

EPISODES = 10
AGENTS = {"ppo": "PPO", "random_search": "random_search"}
AGENT_HYPERPARAMS = {
    "ppo": {"n_steps": 64, "policy_kwargs": {"net_arch": [16, 16]}},
    "random_search": {"policy_from": "PPO", "policy_kwargs": {"net_arch": [16, 16]}},
}
# Final train success per experiment, agent, grid value and seed; held-out success is lower.
EXPERIMENTS = {
    "lock-horizon": (
        "rlbench3/CombinationLock-v0",
        "CombinationLock",
        "horizon",
        {
            "ppo": {2: [1.0, 1.0, 0.9], 4: [1.0, 0.6, 0.2], 6: [0.0, 0.1, 0.0]},
            "random_search": {2: [1.0, 1.0, 1.0], 4: [1.0, 0.0, 0.0], 6: [0.0, 0.0, 0.0]},
        },
    ),
    "reach-dimension": (
        "rlbench3/SparseReach-v0",
        "SparseReach",
        "action_dim",
        {
            "ppo": {1: [0.9, 0.8, 1.0], 2: [0.4, 0.6, 0.3]},
            "random_search": {1: [0.3, 0.2, 0.1], 2: [0.0, 0.0, 0.1]},
        },
    ),
}


def make_record(rates: dict[str, float], budget: int) -> dict:
    curve, final = [], {}
    steps = np.linspace(0, budget, 5).astype(int)
    for split, rate in rates.items():
        for i, step in enumerate(steps):
            r = round(rate * i / (len(steps) - 1), 3)
            curve.append(
                {
                    "step": int(step) + (i > 0) * 8,  # evaluation steps jitter as in real runs
                    "split": split,
                    "mean_return": r,
                    "success_rate": r,
                    "wall_time": 0.1 * i,
                }
            )
        k = round(rate * EPISODES)
        final[split] = {
            "returns": [1.0] * k + [0.0] * (EPISODES - k),
            "successes": [1] * k + [0] * (EPISODES - k),
        }
    return {
        "curve": curve,
        "final": final,
        "zero_signal": {"batches": 10, "empty_batches": 5, "fraction": 0.5},
        "meta": {"steps": budget, "steps_per_second": 1000.0, "host": "test"},
    }


def write_results(out: Path) -> None:
    store = RunStore(out)
    for exp, (env_id, family, param, by_agent) in EXPERIMENTS.items():
        held_out = "unseen" if family == "CombinationLock" else "extreme"
        for agent, by_value in by_agent.items():
            for value, rates in by_value.items():
                base = {param: value}
                splits = {
                    "train": {"preset": "D", **base},
                    held_out: {**base, "preset": "E"}
                    if family == "SparseReach"
                    else {**base, "combination_seed": {"low": 1000, "high": 1999}},
                }
                for seed, rate in enumerate(rates):
                    budget = 2000 if seed < 2 else 1000  # runs of two lengths, as in real folders
                    config = {
                        "suite": "synthetic",
                        "experiment": exp,
                        "env": {"id": env_id, "family": family, "setting": base},
                        "splits": splits,
                        "agent": {
                            "name": agent,
                            "algo": AGENTS[agent],
                            "policy": "MlpPolicy",
                            "n_envs": 2,
                            "hyperparams": AGENT_HYPERPARAMS[agent],
                        },
                        "seed": seed,
                        "budget": budget,
                        "eval": {"every": 500, "episodes": EPISODES},
                    }
                    rates_by_split = {"train": rate, held_out: rate * 0.5}
                    store.write(run_id(config), config, make_record(rates_by_split, budget))


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("results")
    write_results(out)
    return out


def assert_image(path: Path, suffix: str) -> None:
    assert path.exists() and path.suffix == suffix
    data = path.read_bytes()
    if suffix == ".png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        from matplotlib.image import imread

        pixels = imread(path)
        assert pixels.shape[0] > 200 and pixels.shape[1] > 300
        assert pixels[..., :3].std() > 0.05  # not a blank canvas
    else:
        assert data[:5] == b"%PDF-"
    assert len(data) > 10_000


FAST = {
    "curves": {"reps": 50},
    "frontier": {"reps": 50},
    "landscape": {"grid": 5, "episodes": 2, "n_policies": 16},
    "profiles": {"reps": 50},
    "gaps": {"reps": 200},
}


@pytest.mark.parametrize("suffix", [".png", ".pdf"])
@pytest.mark.parametrize("kind", plots.KINDS)
def test_render_every_kind(results, tmp_path, kind, suffix):
    out = plots.render_plot(results, kind, tmp_path / "figs" / f"{kind}{suffix}", **FAST[kind])
    assert_image(out, suffix)


def test_plot_functions_take_frames_and_arrays(results, tmp_path):
    curves = load(results)
    scores = run_scores(curves, load_episodes(results))
    assert_image(plots.plot_curves(curves, tmp_path / "c.png", reps=50, split="extreme"), ".png")
    assert_image(plots.plot_frontier(scores, tmp_path / "f.png", reps=50, solved_at=0.8), ".png")
    assert_image(plots.plot_gaps(scores, tmp_path / "g.png", reps=100), ".png")
    assert_image(plots.plot_profiles(scores, tmp_path / "p.png", reps=50), ".png")
    sl = landscape_slice("rlbench3/CombinationLock-v0", grid=5, episodes=1, horizon=2)
    probe = landscape_probe("rlbench3/CombinationLock-v0", 16, 1, horizon=2)
    out = plots.plot_landscape(
        sl.mean_returns,
        sl.alphas,
        sl.betas,
        tmp_path / "l.pdf",
        probe_returns=probe.returns,
        hole_fraction=probe.hole_fraction,
    )
    assert_image(out, ".pdf")
    # A flat slice (every point the same return) still draws.
    flat = plots.plot_landscape(np.zeros((3, 3)), sl.alphas[::2], sl.betas[::2], tmp_path / "z.png")
    assert flat.exists()


def test_landscape_uses_the_first_experiment_and_the_agents_policy(results):
    data = plots.landscape_for_results(results, grid=3, episodes=1, n_policies=4)
    assert data["experiment"] == "lock-horizon"  # first by name: "synthetic" has no suite file
    assert data["setting"] == "horizon=2"
    assert data["slice"].returns.shape == (3, 3, 1)
    assert data["probe"].returns.shape == (4, 1)


def test_bad_arguments(results, tmp_path):
    with pytest.raises(ValueError, match="kind must be one of"):
        plots.render_plot(results, "violin", tmp_path / "x.png")
    with pytest.raises(ValueError, match="out_path must end in"):
        plots.render_plot(results, "curves", tmp_path / "x.svg")
    with pytest.raises(ValueError, match="mean_returns must be"):
        plots.plot_landscape(np.zeros((2, 3)), np.zeros(3), np.zeros(3), tmp_path / "x.png")


def test_empty_inputs_draw_a_message(tmp_path):
    import pandas as pd

    from rlbench3.analysis.results import CURVE_COLUMNS, RUN_COLUMNS

    empty = pd.DataFrame(columns=RUN_COLUMNS + CURVE_COLUMNS)
    out = plots.plot_curves(empty, tmp_path / "e.png")
    assert out.exists() and out.stat().st_size > 1000
