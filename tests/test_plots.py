"""Every kind of figure, rendered headless to PNG and PDF from a small synthetic results folder
(records of the shape the planner and the runner write, made by hand with the shared builders of
``conftest.py``: no training here). The numbers drawn are checked in
``tests/analysis/test_figures.py``; here: every figure draws, from a folder or from computed data,
and ``plots.py`` itself computes nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rlbench3 import plots
from rlbench3.analysis import figures as F
from rlbench3.analysis.landscape import landscape_probe, landscape_slice
from rlbench3.analysis.results import CURVE_COLUMNS, RUN_COLUMNS, load, load_episodes
from rlbench3.analysis.tables import run_scores
from rlbench3.harness.storage import RunStore

EPISODES = 10
ALGOS = {"ppo": "PPO", "random_search": "random_search"}
HYPERPARAMS = {
    "ppo": {"n_steps": 64, "policy_kwargs": {"net_arch": [16, 16]}},
    "random_search": {"policy_from": "PPO", "policy_kwargs": {"net_arch": [16, 16]}},
}
# Final train success per experiment, agent, grid value and seed; held-out success is half.
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


def eval_steps(budget: int) -> list[int]:
    """Five evaluation points over the budget; steps jitter past the schedule as in real runs."""
    return [0] + [budget * i // 4 + 8 for i in range(1, 5)]


def write_results(out: Path, make_config, make_record) -> None:
    store = RunStore(out)
    for exp, (env_id, family, param, by_agent) in EXPERIMENTS.items():
        held_out = "unseen" if family == "CombinationLock" else "extreme"
        for agent, by_value in by_agent.items():
            for value, rates in by_value.items():
                base = {param: value}
                if family == "SparseReach":
                    other = {**base, "preset": "E"}
                else:
                    other = {**base, "combination_seed": {"low": 1000, "high": 1999}}
                splits = {"train": {"preset": "D", **base}, held_out: other}
                for seed, rate in enumerate(rates):
                    budget = 2000 if seed < 2 else 1000  # runs of two lengths, as in real folders
                    config = make_config(
                        suite="synthetic",
                        experiment=exp,
                        env_id=env_id,
                        family=family,
                        setting=base,
                        splits=splits,
                        agent=agent,
                        algo=ALGOS[agent],
                        hyperparams=HYPERPARAMS[agent],
                        n_envs=2,
                        seed=seed,
                        budget=budget,
                        every=500,
                        episodes=EPISODES,
                    )
                    record = make_record(
                        {"train": rate, held_out: rate * 0.5},
                        steps=eval_steps(budget),
                        episodes=EPISODES,
                        zero_signal=0.5,
                        ramp=True,
                    )
                    store.write(config, record)


@pytest.fixture(scope="module")
def results(tmp_path_factory, make_config, make_record) -> Path:
    out = tmp_path_factory.mktemp("results")
    write_results(out, make_config, make_record)
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


def test_plot_functions_draw_computed_data(results, tmp_path):
    curves = load(results)
    scores = run_scores(curves, load_episodes(results))
    data = F.learning_curves(curves, reps=50, split="extreme")
    assert data.panels == (("reach-dimension", "action_dim=1"), ("reach-dimension", "action_dim=2"))
    assert_image(plots.plot_curves(data, tmp_path / "c.png"), ".png")
    frontiers = F.trainability_frontiers(scores, reps=50, solved_at=0.8)
    assert_image(plots.plot_frontier(frontiers, tmp_path / "f.png"), ".png")
    assert_image(
        plots.plot_gaps(F.generalization_gaps(scores, reps=100), tmp_path / "g.png"), ".png"
    )
    profiles = F.experiment_profiles(scores, reps=50)
    assert_image(plots.plot_profiles(profiles, tmp_path / "p.png"), ".png")
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


def test_bad_arguments(results, tmp_path):
    with pytest.raises(ValueError, match="kind must be one of"):
        plots.render_plot(results, "violin", tmp_path / "x.png")
    with pytest.raises(ValueError, match="out_path must end in"):
        plots.render_plot(results, "curves", tmp_path / "x.svg")
    with pytest.raises(ValueError, match="mean_returns must be"):
        plots.plot_landscape(np.zeros((2, 3)), np.zeros(3), np.zeros(3), tmp_path / "x.png")
    with pytest.raises(TypeError):  # keywords go to the figures function of the kind
        plots.render_plot(results, "gaps", tmp_path / "x.png", split="unseen")


def test_empty_inputs_draw_a_message(tmp_path):
    curves = pd.DataFrame(columns=RUN_COLUMNS + CURVE_COLUMNS)
    scores = run_scores(curves)
    drawn = [
        plots.plot_curves(F.learning_curves(curves), tmp_path / "c.png"),
        plots.plot_frontier(F.trainability_frontiers(scores), tmp_path / "f.png"),
        plots.plot_profiles(F.experiment_profiles(scores), tmp_path / "p.png"),
        plots.plot_gaps(F.generalization_gaps(scores), tmp_path / "g.png"),
    ]
    for out in drawn:
        assert out.exists() and out.stat().st_size > 1000


def test_plots_only_draws():
    """plots.py imports no statistics, probes or suite files: figures.py computes."""
    tree = ast.parse(Path(plots.__file__).read_text())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module or "")
            if node.module == "rlbench3.analysis.tables":
                assert all(not alias.name.startswith("_") for alias in node.names)
    for forbidden in ("rliable", "scipy", "landscape", "probes", "suites", "zlib", "warnings"):
        assert not any(forbidden in m for m in modules), (forbidden, modules)
    assert not hasattr(plots, "landscape_for_results")  # moved to rlbench3.analysis.figures


def test_label_levels_stack_close_points_only():
    # three coincident points stack 0, 1, 2; a far one and a near-but-apart-in-y one stay at 0
    x = np.array([1.0, 1.0, 1.0, 0.1, 1.0])
    y = np.array([0.0, 0.0, 0.0, 0.0, 0.5])
    assert plots._label_levels(x, y) == [0, 1, 2, 0, 0]
    # points 0.2 apart in x share a row of labels otherwise: the second moves up
    assert plots._label_levels(np.array([0.1, 0.3, 0.7]), np.zeros(3)) == [0, 1, 0]


def test_report_card_labels_do_not_overlap(tmp_path):
    from matplotlib import pyplot as plt
    from matplotlib.text import Text

    rows = pd.DataFrame(
        {
            "family": ["SparseReach", "SparseReach", "CombinationLock", "ArmReach"],
            "setting": ["action_dim=4", "action_dim=8", "horizon=12", "n_joints=2"],
            "agent": ["ppo"] * 4,
            "expressivity": [1.0, 1.0, 1.0, 0.3],
            "trainability": [0.0, 0.0, 0.0, 0.0],
        }
    )
    for name in ("expressivity", "trainability"):
        rows[f"{name}_low"], rows[f"{name}_high"] = rows[name], rows[name]
    drawn: list = []
    show = plt.Figure.savefig

    def capture(fig, *args, **kwargs):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        drawn.extend(  # the text's own box, without the leader line of a stacked label
            Text.get_window_extent(t, renderer)
            for t in fig.axes[0].texts
            if t.get_text() in set(rows["setting"])
        )
        return show(fig, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plt.Figure, "savefig", capture)
        assert_image(plots.plot_report_card(rows, tmp_path / "card.png"), ".png")
    assert len(drawn) == 4
    for i, a in enumerate(drawn):
        for b in drawn[i + 1 :]:
            assert not a.overlaps(b)
