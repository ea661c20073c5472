"""PopulationPPO and PopulationA2C: S seeds of SB3's PPO (A2C) in one process.

What is tested here (CI-sized; the statistical comparison with SB3 over many seeds is
``scripts/validate_population.py``):

* seed independence: a seed's weights after training are bit-equal alone and in a population,
  in each env layout (shared batched env, one batched env per seed, SyncVectorEnv) and with
  SB3's random streams;
* SB3's algorithm: the initial weights are ``PPO(seed=s)``'s exactly; one update on a rollout SB3
  collected gives SB3's weights after ``PPO.train()`` (to float rounding); with SB3's random
  streams a short run follows SB3's run rollout by rollout (buffers and weights, to float
  rounding; continuous and discrete actions); GAE equals SB3's
  ``RolloutBuffer.compute_returns_and_advantage`` on a hand-worked example; the time-limit
  bootstrap and SB3's autoreset semantics of the population's envs;
* the export of one seed as SB3's ``ActorCriticPolicy`` (same action distribution, saves/loads);
* agent-file keys: unknown or unsupported keys are errors naming the key;
* it learns the 2-step lock, and counts zero-signal rollouts per seed.

A2C (the same rollout, its own update and optimizer) is checked for seed independence, SB3's
initial weights, a whole run with SB3's streams against SB3's ``A2C(seed=s)``, its settings and
learning the 2-step lock.
"""

from __future__ import annotations

import functools
import io

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.buffers import RolloutBuffer as SB3RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import DummyVecEnv

import rlbench3  # noqa: F401  (registers the ids)
from rlbench3.agents.config import constructor_kwargs, load_agent, population_settings
from rlbench3.agents.population import (
    TRAINERS,
    A2CSettings,
    PopulationA2C,
    PopulationCallback,
    PopulationPPO,
    PPOSettings,
    SettingError,
    bootstrap_truncated,
    compute_gae,
)
from rlbench3.agents.population_envs import PopulationEnvs
from rlbench3.agents.threads import torch_threads
from rlbench3.analysis.adversarial import fgsm_observations
from rlbench3.envs.combination_lock import combination

LOCK, REACH, CARTPOLE = (
    "rlbench3/CombinationLock-v0",
    "rlbench3/SparseReach-v0",
    "rlbench3/CartPole-R-v0",
)
SMALL = {
    "n_steps": 16,
    "batch_size": 16,
    "n_epochs": 2,
    "ent_coef": 0.01,
    "learning_rate": "lin_1e-3",
    "clip_range_vf": 0.5,
    "policy_kwargs": {"net_arch": [16, 16]},
}


def settings(n_envs: int = 2, **changes) -> PPOSettings:
    return PPOSettings.from_hyperparams({**SMALL, **changes}, n_envs)


# -- seeds stay independent ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env_id", "params", "layout", "streams"),
    [
        (LOCK, {"horizon": 2}, "shared", "batched"),
        (REACH, {"horizon": 5}, "per_seed", "batched"),  # random goals: a batched env per seed
        (CARTPOLE, {}, "sync", "batched"),  # no batched env: Gymnasium's SyncVectorEnv
        (REACH, {"horizon": 5}, "sync", "sb3"),
        (LOCK, {"horizon": 2}, "sync", "sb3"),
    ],
)
def test_a_seed_alone_equals_the_seed_in_a_population(env_id, params, layout, streams):
    seeds, budget = [3, 8, 5], 3 * 2 * SMALL["n_steps"]
    together = PopulationPPO(env_id, seeds, settings(), params, streams=streams).learn(budget)
    assert together.envs.layout == layout
    for j, seed in enumerate(seeds):
        alone = PopulationPPO(env_id, [seed], settings(), params, streams=streams).learn(budget)
        for name, stacked in together.params.items():
            assert torch.equal(stacked[j], alone.params[name][0]), (seed, name)
        assert together.empty_rollouts[j] == alone.empty_rollouts[0]


def test_a_stochastic_env_in_the_shared_layout_is_an_error_not_a_coupling():
    trainer = PopulationPPO(REACH, [0, 1], settings(), {"horizon": 1}, layout="shared")
    with pytest.raises(RuntimeError, match="drew random numbers.*per_seed"):
        trainer.learn(64)


# -- SB3's algorithm -------------------------------------------------------------------------


def sb3_model(
    env_id: str, params: dict, hyperparams: dict, n_envs: int, seed: int, algo: type = PPO
) -> PPO | A2C:
    """PPO (or ``algo``) as rlbench3.harness.training.train_run builds it."""
    set_random_seed(seed)
    venv = make_vec_env(
        functools.partial(gym.make, env_id, **params),
        n_envs=n_envs,
        seed=seed,
        vec_env_cls=DummyVecEnv,
    )
    space = venv.action_space
    action_dim = int(np.prod(space.shape)) if space.shape else None
    kwargs = constructor_kwargs(hyperparams, action_dim)
    return algo("MlpPolicy", venv, seed=seed, device="cpu", **kwargs)


class NoCallback(BaseCallback):
    def _on_step(self) -> bool:
        return True


def test_initial_weights_are_sb3s_for_the_same_seed():
    with torch_threads(1):
        model = sb3_model(LOCK, {"horizon": 3}, SMALL, 2, seed=7)
    trainer = PopulationPPO(LOCK, [5, 7], settings(), {"horizon": 3})
    sb3 = dict(model.policy.named_parameters())
    assert list(trainer.params) == list(sb3)  # SB3's names, in SB3's order
    for name, stacked in trainer.params.items():
        assert torch.equal(stacked[1], sb3[name].detach()), name


@pytest.mark.parametrize(("env_id", "params"), [(LOCK, {"horizon": 3}), (REACH, {"horizon": 6})])
def test_one_update_on_sb3s_rollout_gives_sb3s_weights(env_id, params):
    """SB3 collects a rollout and trains on it; the population of one trains on the same data
    with the same minibatch permutations: the weights agree to float rounding."""
    seed, budget, n_envs = 4, 256, 2
    with torch_threads(1):
        model = sb3_model(env_id, params, SMALL, n_envs, seed)
        model._setup_learn(budget, None)
        callback = NoCallback()
        callback.init_callback(model)
        model.collect_rollouts(model.env, callback, model.rollout_buffer, model.n_steps)
        model._update_current_progress_remaining(model.num_timesteps, budget)
    trainer = PopulationPPO(env_id, [seed], settings(n_envs), params)
    sb3, ours = model.rollout_buffer, trainer.buffer
    ours.obs[:] = sb3.observations[:, None]
    ours.actions[:] = sb3.actions[:, None].reshape(ours.actions.shape)
    for name in ("values", "log_probs", "advantages", "returns"):
        getattr(ours, name)[:] = getattr(sb3, name)[:, None]
    np.random.seed(11)  # noqa: NPY002  (SB3 shuffles with numpy's global generator)
    trainer.shuffle_rngs[0] = np.random.RandomState(11)
    with torch_threads(1):
        model.train()
        trainer.train(model._current_progress_remaining)
    for name, p in model.policy.named_parameters():
        np.testing.assert_allclose(trainer.params[name][0].detach(), p.detach(), atol=1e-6)
    moved = any(
        not torch.equal(trainer.params[name][0], p) for name, p in model.policy.named_parameters()
    )
    assert moved


class RolloutSnapshots(BaseCallback):
    """SB3's rollout buffer at the end of every rollout (before the update)."""

    def __init__(self):
        super().__init__()
        self.buffers: list[dict[str, np.ndarray]] = []

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        buffer = self.model.rollout_buffer
        names = ("observations", "actions", "rewards", "values", "log_probs", "advantages")
        self.buffers.append({name: getattr(buffer, name).copy() for name in names})


# Point mass with domain randomization (preset R), 3 action dimensions, a goal reachable within
# the 8-step horizon: a few rollouts see actions clipped to the box, successes (termination) and
# time limits (the bootstrap) alike.
REACH3 = {"action_dim": 3, "preset": "R", "horizon": 8, "tolerance": 0.6}


# A2C's settings for the whole-run comparison (large steps, so a wrong update shows).
A2C_SMALL = {
    "n_steps": 16,
    "ent_coef": 0.01,
    "learning_rate": 1e-2,
    "policy_kwargs": {"net_arch": [16, 16]},
}


@pytest.mark.parametrize(
    ("algo", "env_id", "params"),
    [
        ("PPO", REACH, REACH3),
        ("PPO", LOCK, {"horizon": 3}),
        ("A2C", REACH, REACH3),
        ("A2C", LOCK, {"horizon": 3}),
    ],
)
def test_a_run_with_sb3s_streams_reproduces_sb3s_run(algo, env_id, params):
    """Whole runs, not one update: with SB3's random streams (its per-step action draws, its
    single envs seeded s, s+1), a seed's rollouts and weights follow SB3's PPO(seed=s) run rollout
    by rollout, to float rounding. Collection (sampling, log-probabilities, action clipping,
    autoreset, time-limit bootstrap, GAE) and the update are all in the loop."""
    seed, n_envs, rollouts = 3, 2, 4
    hyperparams = {**SMALL, "learning_rate": 1e-2, "n_epochs": 4}  # large steps: clipping acts
    if algo == "A2C":
        hyperparams = A2C_SMALL
    budget = rollouts * n_envs * hyperparams["n_steps"]
    with torch_threads(1):
        model = sb3_model(env_id, params, hyperparams, n_envs, seed, {"PPO": PPO, "A2C": A2C}[algo])
        snapshots = RolloutSnapshots()
        model.learn(budget, callback=snapshots)

    class Buffers(PopulationCallback):
        found: list[dict[str, np.ndarray]] = []

        def on_rollout_end(self, trainer):
            b, theirs_shape = trainer.buffer, snapshots.buffers[0]["actions"].shape
            self.found.append(
                {
                    "observations": b.obs[:, 0].copy(),
                    "actions": b.actions[:, 0].reshape(theirs_shape).copy(),
                    "rewards": b.rewards[:, 0].copy(),
                    "values": b.values[:, 0].copy(),
                    "log_probs": b.log_probs[:, 0].copy(),
                    "advantages": b.advantages[:, 0].copy(),
                }
            )

    trainer = TRAINERS[algo](
        env_id,
        [seed],
        TRAINERS[algo].SETTINGS.from_hyperparams(hyperparams, n_envs),
        params,
        streams="sb3",
    )
    np.random.seed(seed)  # noqa: NPY002  (SB3 shuffles with numpy's global generator...)
    trainer.learn(budget, Buffers())  # (...seeded by set_random_seed; the trainer, its own)
    assert trainer.envs.layout == "sync" and len(Buffers.found) == rollouts
    for k, (ours, theirs) in enumerate(zip(Buffers.found, snapshots.buffers)):
        for name, expected in theirs.items():
            np.testing.assert_allclose(ours[name], expected, atol=2e-5, err_msg=f"{k} {name}")
    for name, p in model.policy.named_parameters():
        np.testing.assert_allclose(trainer.params[name][0].detach(), p.detach(), atol=2e-5)
    rewards = np.concatenate([b["rewards"] for b in snapshots.buffers])
    if env_id == REACH:  # the run exercised what it is meant to
        actions = np.concatenate([b["actions"] for b in snapshots.buffers])
        assert (np.abs(actions) > 1).any(), "no action was clipped"
        assert (rewards == 1.0).any(), "no success"
        assert ((rewards != 0.0) & (rewards != 1.0)).any(), "no time-limit bootstrap"


def test_sb3_streams_need_sb3s_env_layout():
    with pytest.raises(ValueError, match=r"streams='sb3' .*layout 'sync'.*'per_seed'"):
        PopulationPPO(REACH, [0], settings(), {"horizon": 4}, layout="per_seed", streams="sb3")
    with pytest.raises(ValueError, match=r"streams must be one of \('batched', 'sb3'\)"):
        PopulationPPO(REACH, [0], settings(), {"horizon": 4}, streams="numpy")


def test_gae_equals_sb3s_on_a_hand_worked_example():
    """Two copies, three steps, gamma 0.9, lambda 0.8. Copy 0 runs one episode through; copy 1
    starts an episode at step 2 and is done after the last step."""
    rewards = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]], dtype=np.float32)
    values = np.array([[0.5, 0.5], [0.6, 0.6], [0.7, 0.7]], dtype=np.float32)
    starts = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    last_values, dones = np.array([0.8, 0.8], dtype=np.float32), np.array([False, True])
    advantages, returns = compute_gae(rewards, values, starts, last_values, dones, 0.9, 0.8)
    # copy 0: d2 = 1 + .9*.8 - .7 = 1.02; d1 = .9*.7 - .6 = .03; d0 = .9*.6 - .5 = .04
    #         A2 = 1.02, A1 = .03 + .72*1.02 = .7644, A0 = .04 + .72*.7644 = .590368
    # copy 1: A2 = 1 - .7 = .3 (done); A1 = -.6 (next step starts an episode); A0 = .04 - .72*.6
    expected = np.array([[0.590368, -0.392], [0.7644, -0.6], [1.02, 0.3]])
    np.testing.assert_allclose(advantages, expected, atol=1e-6)
    np.testing.assert_allclose(returns, expected + values, atol=1e-6)

    space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    sb3 = SB3RolloutBuffer(3, space, gym.spaces.Discrete(2), "cpu", 0.8, 0.9, n_envs=2)
    sb3.rewards[:], sb3.values[:], sb3.episode_starts[:] = rewards, values, starts
    sb3.compute_returns_and_advantage(torch.tensor(last_values).view(2, 1), dones)
    assert np.array_equal(advantages, sb3.advantages) and np.array_equal(returns, sb3.returns)


def test_a_time_limit_bootstraps_the_value_of_the_final_observation():
    rewards = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    truncated = np.array([False, True, False])
    values = np.array([5.0, 2.0, 7.0], dtype=np.float32)
    out = bootstrap_truncated(rewards, truncated, values, 0.5)
    assert out.tolist() == [1.0, 1.0, 0.0] and rewards.tolist() == [1.0, 0.0, 0.0]


def test_population_envs_reset_finished_copies_on_the_same_step_as_sb3():
    envs = PopulationEnvs(REACH, {"horizon": 2}, seeds=[0, 1], n_envs=2)
    first = envs.reset()
    assert envs.layout == "per_seed" and first.shape == (4, 6)
    push = np.full((4, 2), 0.5, dtype=np.float32)
    step = envs.step(push)
    assert not step.dones.any() and (step.obs[:, :4] != 0).all()
    step = envs.step(push)  # the time limit: truncated, and reset on the same step
    assert step.dones.all() and step.truncated.all()
    assert (step.final_obs[:, :4] != 0).all()  # the episode's last observation: moving
    np.testing.assert_array_equal(step.obs[:, :4], 0.0)  # the next episode's: at rest
    envs.close()


# -- export ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("env_id", "params"), [(LOCK, {"horizon": 3}), (REACH, {"horizon": 6})])
def test_an_exported_seed_acts_as_the_population_does(env_id, params):
    trainer = PopulationPPO(env_id, [2, 9], settings(), params).learn(2 * 2 * SMALL["n_steps"])
    policy = trainer.export_policy(1)
    assert isinstance(policy, ActorCriticPolicy)
    rng = np.random.default_rng(0)
    obs = rng.standard_normal((32, *trainer.observation_space.shape)).astype(np.float32)
    if env_id == LOCK:
        obs = np.eye(5, dtype=np.float32)[rng.integers(0, 3, 32)]
    with torch.no_grad():
        ours = trainer.policy.seed(1).actor(torch.from_numpy(obs)[None])[0]
        theirs = policy.get_distribution(torch.from_numpy(obs)).distribution
    if env_id == LOCK:
        np.testing.assert_allclose(ours.softmax(-1), theirs.probs, atol=1e-6)
    else:
        np.testing.assert_allclose(ours, theirs.mean, atol=1e-6)
        std = trainer.params["log_std"][1].detach().exp().expand_as(ours)
        np.testing.assert_allclose(std, theirs.stddev, atol=1e-6)
    np.testing.assert_array_equal(
        trainer.predict(obs, 1), policy.predict(obs, deterministic=True)[0]
    )
    perturbed = fgsm_observations(policy, obs, 0.1)  # the probes take it as any SB3 policy
    assert perturbed.shape == obs.shape and np.abs(perturbed - obs).max() <= 0.1 + 1e-6
    saved = io.BytesIO()
    policy.save(saved)
    saved.seek(0)
    loaded = ActorCriticPolicy.load(saved)
    np.testing.assert_array_equal(
        loaded.predict(obs, deterministic=True)[0], trainer.predict(obs, 1)
    )


# -- agent files -----------------------------------------------------------------------------


def test_the_shipped_ppo_agent_and_its_overrides_are_accepted():
    agent = load_agent("ppo")
    for family, env_id in (("CombinationLock", LOCK), ("ArmReach", "rlbench3/ArmReach-v0")):
        found = PPOSettings.from_agent(agent.resolve(env_id, family))
        assert found.n_envs == 4 and found.net_arch_pi == found.net_arch_vf == (64, 64)
    assert PPOSettings.from_agent(agent.resolve("rlbench3/ArmReach-v0", "ArmReach")).n_steps == 256


@pytest.mark.parametrize(
    ("hyperparams", "message"),
    [
        ({"n_step": 64}, r"hyperparams\.n_step: not a setting .* \(did you mean 'n_steps'\?\)"),
        ({"target_kl": 0.02}, r"hyperparams\.target_kl=0\.02: .*does not support"),
        ({"use_sde": True}, r"hyperparams\.use_sde=True"),
        ({"policy_kwargs": {"squash_output": True}}, r"policy_kwargs\.squash_output: not supp"),
        ({"policy_kwargs": {"activation_fn": "Tanhh"}}, r"activation_fn: expected the name"),
        ({"learning_rate": "cos_3e-4"}, r"learning_rate: expected a number or 'lin_<number>'"),
        ({"batch_size": 1}, r"batch_size: expected > 1 with normalize_advantage"),
        ({"gamma": 1.5}, r"gamma: expected a number in \[0, 1\], got 1\.5"),
    ],
)
def test_keys_it_cannot_honour_are_errors_naming_the_key(hyperparams, message):
    with pytest.raises(SettingError, match=message):
        PPOSettings.from_hyperparams(hyperparams, 4)


def test_settings_at_sb3s_defaults_are_accepted():
    found = PPOSettings.from_hyperparams({"target_kl": None, "use_sde": False}, 1)
    assert found == PPOSettings()


def test_other_algorithms_are_refused():
    with pytest.raises(SettingError, match="PPO with MlpPolicy"):
        PPOSettings.from_agent(load_agent("a2c").resolve(LOCK, "CombinationLock"))


# -- learning --------------------------------------------------------------------------------


def test_it_learns_the_two_step_lock_for_most_seeds():
    agent = load_agent("ppo").resolve(LOCK, "CombinationLock")
    params = {"horizon": 2, "num_actions": 2}
    seeds = list(range(8))

    class Hooks(PopulationCallback):
        calls: list[str] = []

        def on_rollout_start(self, trainer):
            self.calls.append("start")

        def on_rollout_end(self, trainer):
            self.calls.append("end")

    hooks = Hooks()
    trainer = PopulationPPO(LOCK, seeds, PPOSettings.from_agent(agent), params)
    trainer.learn(4 * 512, hooks)
    assert trainer.num_timesteps == 4 * 512 and hooks.calls == ["start", "end"] * 4
    code = combination(0, 2, 2)
    obs = np.eye(4, dtype=np.float32)[:2]  # step 0 and step 1, alive
    solved = [np.array_equal(trainer.predict(obs, j), code) for j in range(len(seeds))]
    assert sum(solved) >= 6, solved


def test_zero_signal_rollouts_are_counted_per_seed():
    found = PopulationPPO(LOCK, [0, 1], settings(), {"horizon": 1}).learn(3 * 32)
    assert found.rollouts == 3 and found.empty_rollouts.tolist() == [0, 0]  # chance 1/2 a step
    never = PopulationPPO(LOCK, [0, 1], settings(), {"horizon": 14}).learn(3 * 32)
    assert never.empty_rollouts.tolist() == [3, 3]  # chance 2^-14: no signal in 32 steps


# -- A2C -------------------------------------------------------------------------------------


def a2c_settings(n_envs: int = 2, **changes) -> A2CSettings:
    return A2CSettings.from_hyperparams(
        {**A2C_SMALL, "learning_rate": "lin_1e-3", **changes}, n_envs
    )


@pytest.mark.parametrize(
    ("env_id", "params", "layout", "streams"),
    [
        (LOCK, {"horizon": 2}, "shared", "batched"),
        (REACH, {"horizon": 5}, "per_seed", "batched"),
        (REACH, {"horizon": 5}, "sync", "sb3"),
    ],
)
def test_an_a2c_seed_alone_equals_the_seed_in_a_population(env_id, params, layout, streams):
    seeds, budget = [3, 8, 5], 3 * 2 * A2C_SMALL["n_steps"]
    kwargs = {"normalize_advantage": True}  # the per-seed normalisation is in the loop too
    together = PopulationA2C(env_id, seeds, a2c_settings(**kwargs), params, streams=streams)
    together.learn(budget)
    assert together.envs.layout == layout
    for j, seed in enumerate(seeds):
        alone = PopulationA2C(env_id, [seed], a2c_settings(**kwargs), params, streams=streams)
        alone.learn(budget)
        for name, stacked in together.params.items():
            assert torch.equal(stacked[j], alone.params[name][0]), (seed, name)


def test_a2c_starts_from_sb3s_weights_and_uses_its_optimizer():
    with torch_threads(1):
        model = sb3_model(LOCK, {"horizon": 3}, A2C_SMALL, 2, seed=7, algo=A2C)
    trainer = PopulationA2C(LOCK, [5, 7], a2c_settings(), {"horizon": 3})
    sb3 = dict(model.policy.named_parameters())
    assert list(trainer.params) == list(sb3)
    for name, stacked in trainer.params.items():
        assert torch.equal(stacked[1], sb3[name].detach()), name
    theirs, ours = model.policy.optimizer, trainer.optimizer
    assert type(ours) is type(theirs) is torch.optim.RMSprop
    for key in ("alpha", "eps", "weight_decay", "momentum", "centered"):
        assert ours.defaults[key] == theirs.defaults[key], key
    adam = PopulationA2C(LOCK, [0], a2c_settings(use_rms_prop=False), {"horizon": 3})
    assert type(adam.optimizer) is torch.optim.Adam and adam.optimizer.defaults["eps"] == 1e-5
    exported = trainer.export_policy(0)  # built as A2C builds its policy
    assert isinstance(exported.optimizer, torch.optim.RMSprop)


def test_the_shipped_a2c_agents_give_the_same_settings():
    sb3, population = load_agent("a2c"), load_agent("a2c_population")
    for env_id, family in ((LOCK, "CombinationLock"), (REACH, "SparseReach")):
        found = population_settings(population.resolve(env_id, family))
        assert found == A2CSettings.from_agent(sb3.resolve(env_id, family))
        assert found.n_steps == 8 and found.gae_lambda == 1.0 and found.use_rms_prop
    with pytest.raises(SettingError, match="A2C with MlpPolicy"):
        A2CSettings.from_agent(load_agent("ppo").resolve(LOCK, "CombinationLock"))
    with pytest.raises(TypeError, match="PopulationA2C takes A2CSettings, got PPOSettings"):
        PopulationA2C(LOCK, [0], settings(), {"horizon": 2})


@pytest.mark.parametrize(
    ("hyperparams", "message"),
    [
        ({"clip_range": 0.2}, r"hyperparams\.clip_range: not a setting of the population A2C"),
        ({"n_step": 8}, r"\(did you mean 'n_steps'\?\)"),
        ({"rms_prop_eps": 0}, r"rms_prop_eps: expected a number > 0, got 0"),
        (
            {"policy_kwargs": {"optimizer_kwargs": {"eps": 1e-3}}},
            r"optimizer_kwargs: expected None with use_rms_prop .*use_rms_prop: false",
        ),
        ({"normalize_advantage": True, "n_steps": 1}, r"n_steps \* n_envs > 1"),
    ],
)
def test_a2c_keys_it_cannot_honour_are_errors_naming_the_key(hyperparams, message):
    with pytest.raises(SettingError, match=message):
        A2CSettings.from_hyperparams(hyperparams, 1)


def test_a2c_settings_default_to_sb3s():
    assert A2CSettings() == A2CSettings.from_hyperparams({}, 1)
    defaults = A2CSettings()
    assert (defaults.n_steps, defaults.gae_lambda, defaults.learning_rate) == (5, 1.0, 7e-4)
    assert not defaults.normalize_advantage and defaults.use_rms_prop


def test_a2c_learns_the_two_step_lock_for_most_seeds():
    agent = load_agent("a2c").resolve(LOCK, "CombinationLock")
    trainer = PopulationA2C(LOCK, list(range(8)), A2CSettings.from_agent(agent), {"horizon": 2})
    trainer.learn(3000)
    code = combination(0, 2, 2)
    obs = np.eye(4, dtype=np.float32)[:2]
    solved = [np.array_equal(trainer.predict(obs, j), code) for j in range(8)]
    assert sum(solved) >= 6, solved
