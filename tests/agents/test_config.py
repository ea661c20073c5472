"""Agent files: validation with file/line/key errors, overrides, compatibility."""

from __future__ import annotations

import dataclasses
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
        ("algo: [PPO]\n", r"agent.yaml:1: algo: expected an algorithm name, got \['PPO'\]"),
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


# --------------------------------------------------------------------------------------------
# A class by import path; external agents

USER_MODULE = """
from stable_baselines3 import PPO, SAC


class MyPPO(PPO):
    def __init__(self, *args, boost: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.boost = boost


class MySAC(SAC):
    pass


class Standalone:
    def __init__(self, policy, env, seed=None, verbose=0, device="cpu", rate=0.1):
        pass

    def learn(self, total_timesteps, callback=None):
        return self

    def predict(self, obs, deterministic=True):
        return obs, None

    def set_logger(self, logger):
        pass


class NoPredict(Standalone):
    predict = None


class TwoArguments(PPO):
    def __init__(self, env, *, learning_rate=0.1):
        pass


def function():
    pass
"""


@pytest.fixture
def user_module(tmp_path, monkeypatch, request):
    """A module of algorithm classes, importable under a name unique to the test."""
    import sys

    name = f"user_algos_{abs(hash(request.node.nodeid)):x}"
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / f"{name}.py").write_text(USER_MODULE)
    (folder / f"{name}_broken.py").write_text("raise RuntimeError('boom\\nsecond line')\n")
    monkeypatch.syspath_prepend(str(folder))
    yield name
    for module in (name, f"{name}_broken"):
        sys.modules.pop(module, None)


def test_a_class_by_import_path_is_validated_like_a_built_in_one(tmp_path, user_module):
    from rlbench3.agents.config import constructor_arguments

    agent = load_agent(
        write(
            tmp_path,
            f'algo: "{user_module}:MyPPO"\ndescription: mine\n'
            "hyperparams: {boost: 2.0, n_steps: 64, learning_rate: lin_1.0e-3}\n",
        )
    )
    assert agent.algo == f"{user_module}:MyPPO" and agent.description == "mine"
    assert agent.hyperparams == {"boost": 2.0, "n_steps": 64, "learning_rate": "lin_1.0e-3"}
    names = constructor_arguments(agent.algo)  # its own keyword and PPO's, through **kwargs
    assert "boost" in names and "n_steps" in names and "kwargs" not in names
    spec = agent.resolve("rlbench3/CombinationLock-v0", "CombinationLock")
    assert (spec.algo, spec.policy) == (agent.algo, "MlpPolicy")


@pytest.mark.parametrize(
    ("algo", "hyperparams", "message"),
    [
        ("{m}:MyPPO", "{n_step: 64}", r"agent.yaml:2: hyperparams.n_step: not a {m}:MyPPO "
         r"argument \(did you mean 'n_steps'\?\)"),
        ("{m}:MyPPO", "{seed: 1}", r"hyperparams.seed: is set by the harness"),
        ("{m}:Standalone", "{n_steps: 64}", r"hyperparams.n_steps: not a {m}:Standalone arg"),
        ("no_such_pkg_xyz.algos:MyPPO", "{}", r"agent.yaml:1: algo: cannot import "
         r"'no_such_pkg_xyz.algos:MyPPO': no module named 'no_such_pkg_xyz' \(the package must "
         r"be importable here and on every worker"),
        ("{m}_broken:X", "{}", r"algo: cannot import '{m}_broken:X': importing '{m}_broken' "
         r"failed: RuntimeError: boom second line$"),
        ("{m}:MyPP0", "{}", r"algo: cannot import '{m}:MyPP0': '{m}' has no attribute 'MyPP0' "
         r"\(did you mean 'MyPPO'\?\)"),
        ("{m}:function", "{}", r"algo: '{m}:function' is a function, not an algorithm class"),
        ("{m}:NoPredict", "{}", r"'{m}:NoPredict' is not SB3-compatible: it has no predict"),
        ("{m}:TwoArguments", "{}", r"is not SB3-compatible: the harness calls TwoArguments\("
         r"policy, env, seed=..., verbose=..., device=...\), which its constructor refuses"),
        ("{m}:My PPO", "{}", r"algo: '{m}:My PPO' is not an import path"),
        ("{m}:MyPPO:x", "{}", r"is not an import path of the form 'package.module:Class'"),
    ],
)  # fmt: skip
def test_bad_import_paths_and_keywords_are_one_line_errors(
    tmp_path, user_module, algo, hyperparams, message
):
    algo, message = algo.format(m=user_module), message.format(m=user_module)
    with pytest.raises(ConfigError, match=message) as err:
        load_agent(write(tmp_path, f'algo: "{algo}"\nhyperparams: {hyperparams}\n'))
    assert "\n" not in str(err.value)


def test_an_agent_file_imports_code_only_when_allowed(tmp_path, user_module):
    import sys

    path = write(tmp_path, f'algo: "{user_module}:MyPPO"\n')
    with pytest.raises(ConfigError, match=r"agent.yaml:1: algo: .* would import user code"):
        load_agent(path, imports=False)
    assert user_module not in sys.modules
    load_agent(path)
    assert user_module in sys.modules


def test_action_spaces_of_a_class_by_import_path_are_its_sb3_bases(tmp_path, user_module):
    from rlbench3.agents.config import supported_action_spaces

    box = gym.make("rlbench3/SparseReach-v0").action_space
    discrete = gym.make("rlbench3/CombinationLock-v0").action_space
    assert supported_action_spaces(f"{user_module}:MyPPO") == ALGORITHMS["PPO"][1]
    with pytest.raises(ConfigError, match=r"MySAC cannot be trained on a Discrete action space"):
        check_compatible(f"{user_module}:MySAC", discrete, "here")
    check_compatible(f"{user_module}:MySAC", box, "here")
    assert supported_action_spaces(f"{user_module}:Standalone") is None  # its own business
    check_compatible(f"{user_module}:Standalone", discrete, "here")
    check_compatible("external", box, "here")


def test_external_agents_have_free_form_settings_and_no_policy(tmp_path):
    agent = load_agent(
        write(
            tmp_path,
            "algo: external\ndescription: my JAX agent\nn_envs: 8\n"
            "hyperparams: {anything: [1, 2], lr: 1.0e-3}\n"
            "overrides:\n  CombinationLock: {hyperparams: {lr: 0.1}}\n",
        )
    )
    spec = agent.resolve("rlbench3/CombinationLock-v0", "CombinationLock")
    assert (spec.algo, spec.policy, spec.n_envs) == ("external", "", 8)
    assert spec.hyperparams == {"anything": [1, 2], "lr": 0.1}
    with pytest.raises(ConfigError, match=r"agent.yaml:2: policy: an external agent has no SB3"):
        load_agent(write(tmp_path, "algo: external\npolicy: MlpPolicy\n"))
    with pytest.raises(ConfigError, match=r"hyperparams.lr: '1e-3' is a string"):
        load_agent(write(tmp_path, "algo: external\nhyperparams: {lr: 1e-3}\n"))
    with pytest.raises(ConfigError, match=r"overrides.ArmReach.policy: unknown key"):
        load_agent(write(tmp_path, "algo: external\noverrides:\n  ArmReach: {policy: X}\n"))
    with pytest.raises(ValueError, match=r"external agent .* has no class"):
        from rlbench3.agents.config import algorithm_class

        algorithm_class("external")


# --------------------------------------------------------------------------------------------
# demonstrations: a behaviour-cloning warm start (PPO and A2C)


def test_demonstrations_hold_every_imitation_setting_and_reach_the_resolved_agent(tmp_path):
    from rlbench3.agents.config import imitation_settings
    from rlbench3.agents.imitation import ImitationSettings

    agent = load_agent(
        write(tmp_path, "algo: A2C\ndemonstrations: {episodes: 10, learning_rate: 5.0e-4}\n")
    )
    full = {"episodes": 10, "epochs": 50, "batch_size": 64, "learning_rate": 5e-4, "fit_std": False}
    assert agent.demonstrations == full
    spec = agent.resolve("rlbench3/CombinationLock-v0", "CombinationLock")
    assert spec.demonstrations == full
    assert imitation_settings(spec) == ImitationSettings(episodes=10, learning_rate=5e-4)
    # none, or k = 0: no warm start, the same resolved settings as a file without the key
    base = "algo: PPO\nn_envs: 4\nhyperparams: {n_steps: 64}\n"
    plain = load_agent(write(tmp_path, base)).resolve("rlbench3/CombinationLock-v0", "Lock")
    zero = load_agent(write(tmp_path, base + "demonstrations: {episodes: 0, epochs: 3}\n"))
    assert zero.demonstrations == {} and imitation_settings(plain) is None
    assert zero.resolve("rlbench3/CombinationLock-v0", "Lock") == plain


@pytest.mark.parametrize("k", [1, 10, 100])
def test_shipped_demonstration_agents_are_ppo_plus_k_episodes(k):
    demo, ppo = load_agent(f"ppo_demo{k}"), load_agent("ppo")
    assert demo.demonstrations["episodes"] == k
    assert dataclasses.replace(demo, name="ppo", demonstrations={}, description="") == (
        dataclasses.replace(ppo, description="")
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "algo: PPO\ndemonstrations:\n  episode: 10\n",
            r"agent.yaml:3: demonstrations.episode: unknown key \(did you mean 'episodes'\?\)",
        ),
        (
            "algo: PPO\ndemonstrations:\n  episodes: -1\n",
            r"agent.yaml:3: demonstrations.episodes: episodes must be an integer >= 0 and <= "
            r"1000000, got -1",
        ),
        (
            "algo: PPO\ndemonstrations:\n  episodes: 2\n  epochs: 0\n",
            r"agent.yaml:4: demonstrations.epochs: epochs must be an integer >= 1",
        ),
        (
            "algo: PPO\ndemonstrations: {episodes: 2, learning_rate: 1e-3}\n",
            r"agent.yaml:2: demonstrations.learning_rate: '1e-3' is a string.*write 1.0e-3",
        ),
        (
            "algo: PPO\ndemonstrations: {fit_std: 1}\n",
            r"demonstrations.fit_std: fit_std must be True or False, got 1",
        ),
        ("algo: PPO\ndemonstrations: 10\n", r"agent.yaml:2: demonstrations: expected a mapping"),
        (
            "algo: DQN\ndemonstrations: {episodes: 1}\n",
            r"agent.yaml:2: demonstrations: only PPO and A2C agents can be warm-started by "
            r"behaviour cloning .*, not DQN",
        ),
        ("algo: SAC\ndemonstrations: {episodes: 1}\n", r"not SAC"),
        ("algo: PPO_population\ndemonstrations: {episodes: 1}\n", r"not PPO_population"),
        ("algo: random_search\ndemonstrations: {episodes: 1}\n", r"not random_search"),
        ("algo: external\ndemonstrations: {episodes: 1}\n", r"not external"),
        (
            "algo: PPO\noverrides:\n  CombinationLock:\n    demonstrations: {episodes: 1}\n",
            r"agent.yaml:4: overrides.CombinationLock.demonstrations: unknown key",
        ),
    ],
)
def test_bad_demonstrations_name_file_line_and_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_agent(write(tmp_path, text))


def test_a_class_by_import_path_cannot_be_warm_started(tmp_path, user_module):
    path = write(tmp_path, f'algo: "{user_module}:MyPPO"\ndemonstrations: {{episodes: 1}}\n')
    with pytest.raises(ConfigError, match=r"agent.yaml:2: demonstrations: .*not a class by import"):
        load_agent(path)


def test_imitation_settings_refuse_what_an_agent_file_could_not_hold():
    from rlbench3.agents.config import AgentSpec, imitation_settings

    with pytest.raises(ValueError, match=r"agent 'x': demonstrations need PPO or A2C, got DQN"):
        imitation_settings(AgentSpec("x", "DQN", demonstrations={"episodes": 3}))
    with pytest.raises(ValueError, match=r"unknown imitation settings \['k'\]"):
        imitation_settings(AgentSpec("x", "PPO", demonstrations={"k": 3}))
