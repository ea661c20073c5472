"""Agent files: validation with file/line/key errors, overrides, compatibility."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest

from rlbench3.agents.config import (
    ALGORITHMS,
    check_compatible,
    constructor_kwargs,
    load_agent,
)
from rlbench3.data import shipped_names
from rlbench3.data.yaml_lines import ConfigError


@pytest.mark.parametrize("name", shipped_names("agents"))
def test_every_shipped_agent_file_is_valid(name):
    agent = load_agent(name)
    assert agent.name == name and agent.algo in ALGORITHMS


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("algo: PPOO\n", r"agent.yaml:1: algo: unknown algorithm 'PPOO' \(did you mean 'PPO'\?\)"),
        (
            "algo: PPO\nhyperparams:\n  n_step: 64\n",
            r"agent.yaml:3: hyperparams.n_step: not a PPO argument \(did you mean 'n_steps'\?\)",
        ),
        ("algo: PPO\nhyperparams:\n  seed: 3\n", r"hyperparams.seed: is set by the harness"),
        ("algo: PPO\nn_envs: 0\n", r"agent.yaml:2: n_envs: expected an integer >= 1, got 0"),
        ("algo: PPO\nn_envs: two\n", r"n_envs: expected an integer >= 1, got 'two'"),
        ("algo: PPO\nhyperparms: {}\n", r"agent.yaml:2: hyperparms: unknown key \(did you mean"),
        ("policy: MlpPolicy\n", r"missing required key 'algo'"),
        (
            "algo: DQN\noverrides:\n  CombinationLock:\n    hyperparams:\n      n_epochs: 3\n",
            r"agent.yaml:5: overrides.CombinationLock.hyperparams.n_epochs: not a DQN argument",
        ),
        ("algo: PPO\nalgo: A2C\n", r"agent.yaml:2: duplicate key 'algo'"),
        ("algo: [PPO\n", r"not valid YAML"),
        # overrides are keyed by env family or registered id; a typo is not silently ignored
        (
            "algo: PPO\noverrides:\n  ArmRech:\n    n_envs: 2\n",
            r"agent.yaml:3: overrides.ArmRech: not an env family or registered env id "
            r"\(did you mean 'ArmReach'\?\)",
        ),
        ("algo: PPO\noverrides:\n  Nothing-v9: {}\n", r"overrides.Nothing-v9: not an env family"),
        # numbers YAML reads as strings
        (
            "algo: PPO\nhyperparams:\n  learning_rate: 3e-4\n",
            r"agent.yaml:3: hyperparams.learning_rate: '3e-4' is a string, not a number .*"
            r"write 3.0e-4",
        ),
        (
            "algo: PPO\nhyperparams:\n  policy_kwargs: {log_std_init: '-1'}\n",
            r"hyperparams.policy_kwargs.log_std_init: '-1' is a string.*write -1",
        ),
        (
            "algo: SAC\noverrides:\n  SparseReach:\n    hyperparams: {tau: 5e-3}\n",
            r"agent.yaml:4: overrides.SparseReach.hyperparams.tau: '5e-3' is a string",
        ),
        # not a mapping at all
        ("", r"agent.yaml: an agent file must be a mapping .* but it is empty"),
        ("- algo: PPO\n", r"agent.yaml: an agent file must be a mapping .* but it is a list"),
    ],
)
def test_invalid_agent_files_name_file_line_and_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_agent(write(tmp_path, text))


def test_strings_that_are_not_numbers_and_schedules_stay_accepted(tmp_path):
    agent = load_agent(
        write(
            tmp_path,
            "algo: SAC\nhyperparams:\n  ent_coef: auto_0.1\n  learning_rate: lin_3e-4\n"
            "overrides:\n  rlbench3/SparseReach-v0: {n_envs: 2}\n  CartPole: {n_envs: 3}\n",
        )
    )
    assert agent.hyperparams == {"ent_coef": "auto_0.1", "learning_rate": "lin_3e-4"}
    assert set(agent.overrides) == {"rlbench3/SparseReach-v0", "CartPole"}


def test_null_logger_writes_nowhere():
    from rlbench3.agents.config import null_logger

    logger = null_logger()
    assert logger.dir is None and logger.output_formats == []
    logger.record("x", 1)
    logger.dump(0)


def test_unknown_agent_name_lists_known_agents():
    with pytest.raises(ConfigError, match=r"shipped agents: .*ppo"):
        load_agent("no_such_agent")


def test_overrides_merge_by_family_then_id(tmp_path):
    agent = load_agent(
        write(
            tmp_path,
            (
                "algo: PPO\nn_envs: 2\nhyperparams: {n_steps: 64, gamma: 0.9}\n"
                "overrides:\n"
                "  SparseReach: {n_envs: 8, hyperparams: {n_steps: 32}}\n"
                "  rlbench3/SparseReach-v0: {hyperparams: {gamma: 0.5}}\n"
            ),
        )
    )
    resolved = agent.resolve("rlbench3/SparseReach-v0", "SparseReach")
    assert resolved.n_envs == 8
    assert resolved.hyperparams == {"n_steps": 32, "gamma": 0.5}
    other = agent.resolve("rlbench3/CombinationLock-v0", "CombinationLock")
    assert other.n_envs == 2 and other.hyperparams == {"n_steps": 64, "gamma": 0.9}
    assert agent.hyperparams == {"n_steps": 64, "gamma": 0.9}  # resolving copies, never mutates


def test_incompatible_action_space_is_a_clear_error():
    box = gym.make("rlbench3/SparseReach-v0").action_space
    with pytest.raises(ConfigError, match=r"DQN cannot be trained on a Box action space"):
        check_compatible("DQN", box, "here")
    discrete = gym.make("rlbench3/CombinationLock-v0").action_space
    with pytest.raises(ConfigError, match=r"SAC cannot be trained on a Discrete action space"):
        check_compatible("SAC", discrete, "here")
    check_compatible("PPO", box, "here")
    check_compatible("random_search", discrete, "here")


def test_constructor_kwargs_builds_schedules_activations_and_noise():
    import torch

    kwargs = constructor_kwargs(
        {
            "learning_rate": "lin_1.0e-3",
            "policy_kwargs": {"activation_fn": "Tanh"},
            "action_noise": {"normal": 0.2},
            "gamma": 0.9,
        },
        action_dim=3,
    )
    assert kwargs["learning_rate"](1.0) == pytest.approx(1e-3)
    assert kwargs["learning_rate"](0.25) == pytest.approx(2.5e-4)
    assert kwargs["policy_kwargs"]["activation_fn"] is torch.nn.Tanh
    assert kwargs["action_noise"]._sigma.tolist() == [0.2, 0.2, 0.2]
    assert kwargs["gamma"] == 0.9


def test_the_population_agent_is_ppo_with_the_same_settings():
    from rlbench3.agents.config import POPULATION_ALGORITHMS, population_settings

    sb3, population = load_agent("ppo"), load_agent("ppo_population")
    assert population.algo in POPULATION_ALGORITHMS and sb3.algo == "PPO"
    assert (population.policy, population.n_envs) == (sb3.policy, sb3.n_envs)
    assert population.hyperparams == sb3.hyperparams
    assert population.overrides == sb3.overrides
    settings = population_settings(population.resolve("rlbench3/ArmReach-v0", "ArmReach"))
    assert (settings.n_steps, settings.gamma, settings.n_envs) == (256, 0.98, 4)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "algo: PPO_population\nhyperparams:\n  n_steps: 64\n  use_sde: true\n",
            r"agent.yaml:4: hyperparams.use_sde: .*does not support it",
        ),
        (
            "algo: PPO_population\nhyperparams:\n  n_step: 64\n",
            r"agent.yaml:3: hyperparams.n_step: .*not a setting .*did you mean 'n_steps'",
        ),
        (
            "algo: PPO_population\noverrides:\n  CombinationLock:\n"
            "    hyperparams: {target_kl: 0.01}\n",
            r"agent.yaml:4: overrides.CombinationLock.hyperparams.target_kl: .*does not support it",
        ),
        ("algo: PPO_population\npolicy: CnnPolicy\n", r"runs MlpPolicy, got 'CnnPolicy'"),
        ("algo: PPO_population\nhyperparams:\n  n_steps: 0\n", r"agent.yaml:3: .*n_steps"),
        ("algo: PPO_population\nhyperparams:\n  seed: 3\n", r"hyperparams.seed: is set by"),
    ],
)
def test_settings_the_population_trainer_cannot_honour_fail_at_load(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_agent(write(tmp_path, text))
