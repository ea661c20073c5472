"""Weak generalization of trained policies: perturbation scores and their table."""

from __future__ import annotations

import numpy as np
import pytest

from rlbench3.analysis.adversarial import perturbed_returns
from rlbench3.analysis.results import load_policy
from rlbench3.analysis.robustness import perturbation_scores, robustness_table
from rlbench3.cli import main
from rlbench3.harness.storage import RunStore

SUITE = """\
seeds: 2
budget: 1024
eval: {every: 512, episodes: 4}
agents: [ppo]
experiments:
  - name: lock
    env: rlbench3/CombinationLock-v0
    params: {num_actions: 2}
    grid: {horizon: [2]}
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("robust")
    (root / "suite.yaml").write_text(SUITE)
    out = root / "out"
    assert (
        main(["run", str(root / "suite.yaml"), "-r", str(out), "--workers", "1", "--no-progress"])
        == 0
    )
    return out


def test_scores_per_run_and_epsilon_match_a_direct_evaluation(results):
    scores = perturbation_scores(results, "obs_noise", [0.0, 2.0], episodes=8, seed=5)
    assert len(scores) == 2 * 2 and list(scores["epsilon"]) == [0.0, 2.0, 0.0, 2.0]
    assert list(scores["seed"]) == [0, 0, 1, 1]
    row = scores.iloc[1]
    config = RunStore(results).read(row["run_id"]).config
    assert (config.seed, config.label) == (row["seed"], row["setting"])
    returns, successes = perturbed_returns(
        load_policy(results, row["run_id"]),
        config.env_id,
        config.splits["train"],
        8,
        5,
        "obs_noise",
        2.0,
    )
    assert row["success_rate"] == np.mean(successes) and row["mean_return"] == np.mean(returns)


def test_table_has_a_cell_with_interval_per_epsilon(results):
    scores = perturbation_scores(results, "action_noise", [0.0, 1.0], episodes=8)
    table = robustness_table(scores, reps=200)
    assert list(table.columns) == ["experiment", "setting", "agent", "seeds", "ε=0", "ε=1"]
    assert table["seeds"].tolist() == [2]
    # Action noise of probability 1 is a uniform random policy: 2^-2 on average, so below 1.
    assert table["ε=1"][0].count("[") == 1
    assert (scores[scores.epsilon == 1.0]["success_rate"] < 1.0).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sideways", [0.1]), "kind must be one of"),
        (("fgsm", []), "epsilons must be"),
        (("fgsm", [-0.1]), "epsilons must be"),
    ],
)
def test_bad_arguments(results, args, message):
    with pytest.raises(ValueError, match=message):
        perturbation_scores(results, *args)


def test_cli_robust_and_plot_commands(results, tmp_path, capsys):
    assert (
        main(
            ["robust", "-r", str(results), "--kind", "fgsm", "--eps", "0", "0.5", "--episodes", "4"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "ε=0.5" in out and "| lock " in out
    path = tmp_path / "curves.png"
    assert main(["plot", "-r", str(results), "--kind", "curves", "-o", str(path)]) == 0
    assert path.stat().st_size > 10_000
