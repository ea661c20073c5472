"""Behaviour cloning from the families' experts.

What is provable, and tested here:

* Maximum likelihood has closed forms: cloning one observation whose expert actions are 70% one
  digit and 30% another gives a categorical policy of exactly those frequencies; cloning Gaussian
  actions gives their sample mean (and, with ``fit_std``, their sample standard deviation).
* BC with k = 100 expert episodes reaches the expert's success on the training distribution before
  any RL step (the lock H = 6, K = 2 and SparseReach d = 2, presets D and R), from an initial
  policy that never succeeds; k = 0 leaves the model bit for bit as it was.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import A2C, DQN, PPO

import rlbench3  # noqa: F401  (registers the ids)
from rlbench3.agents.imitation import (
    Demonstrations,
    ImitationSettings,
    behaviour_clone,
    expert_episodes,
    warm_start,
)
from rlbench3.agents.threads import torch_threads
from rlbench3.envs.combination_lock import combination

LOCK = "rlbench3/CombinationLock-v0"
REACH = "rlbench3/SparseReach-v0"


def make_model(env_id, params, algo=PPO, seed=0):
    with torch_threads(1):
        return algo("MlpPolicy", gym.make(env_id, **params), seed=seed, device="cpu")


def greedy_success(model, env_id, params, episodes, seed):
    """The success rate of the model's greedy actions (``predict(deterministic=True)``)."""
    env = gym.make(env_id, **params)
    obs, _ = env.reset(seed=seed)
    successes = 0
    for episode in range(episodes):
        if episode:
            obs, _ = env.reset()
        while True:
            action, _ = model.predict(obs, deterministic=True)
            obs, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                successes += bool(info.get("is_success", False))
                break
    return successes / episodes


def weights(model):
    return {k: v.detach().clone() for k, v in model.policy.state_dict().items()}


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# -- the demonstrations ------------------------------------------------------------------------


def test_expert_episodes_record_what_the_expert_did():
    demos = expert_episodes(LOCK, {"horizon": 4, "num_actions": 3}, 5, seed=0)
    assert demos.observations.shape == (20, 6) and demos.observations.dtype == np.float32
    assert demos.actions.shape == (20,) and demos.actions.dtype == np.int64
    assert demos.episodes == 5 and demos.successes == 5 and demos.success_rate == 1.0
    assert demos.actions.tolist() == combination(0, 4, 3).tolist() * 5
    assert (demos.observations[:4, :4] == np.eye(4)).all()  # the step one-hot, step by step


def test_expert_episodes_are_deterministic_given_the_seed():
    params = {"action_dim": 3, "preset": "R"}
    a, b = expert_episodes(REACH, params, 4, seed=1), expert_episodes(REACH, params, 4, seed=1)
    c = expert_episodes(REACH, params, 4, seed=2)
    assert np.array_equal(a.observations, b.observations) and np.array_equal(a.actions, b.actions)
    assert a.actions.shape[1:] == (3,) and a.actions.dtype == np.float32
    assert not np.array_equal(a.observations[:1], c.observations[:1])  # other goals


def test_zero_episodes_give_empty_demonstrations_of_the_right_shapes():
    demos = expert_episodes(REACH, {"action_dim": 2}, 0, seed=0)
    assert demos.observations.shape == (0, 6) and demos.actions.shape == (0, 2)
    assert len(demos) == 0 and np.isnan(demos.success_rate)


def test_env_without_expert_and_bad_counts_are_refused():
    with pytest.raises(ValueError, match=r"rlbench3/CartPole-v0 has no expert"):
        expert_episodes("rlbench3/CartPole-v0", {}, 1, seed=0)
    with pytest.raises(ValueError, match=r"episodes must be an integer >= 0 and <= 1000000"):
        expert_episodes(LOCK, {}, -1, seed=0)
    with pytest.raises(ValueError, match=r"observations and actions must pair up"):
        Demonstrations(np.zeros((3, 2)), np.zeros(2), 1, 1)


# -- maximum likelihood: closed forms ------------------------------------------------------------


def test_categorical_cloning_converges_to_the_empirical_action_frequencies():
    # One observation (step 0 of a one-digit lock), expert digits 7 x 0 and 3 x 1: the maximum
    # likelihood categorical policy is (0.7, 0.3).
    model = make_model(LOCK, {"horizon": 1})
    obs = np.tile(gym.make(LOCK, horizon=1).reset(seed=0)[0], (10, 1))
    demos = Demonstrations(obs, np.array([0] * 7 + [1] * 3), episodes=10, successes=0)
    losses = behaviour_clone(model, demos, 300, batch_size=10, learning_rate=1e-2)
    with torch.no_grad():
        dist = model.policy.get_distribution(torch.as_tensor(obs[:1]))
        probs = dist.distribution.probs[0].numpy()
    assert probs == pytest.approx([0.7, 0.3], abs=0.01)
    entropy = -(0.7 * np.log(0.7) + 0.3 * np.log(0.3))  # the minimum of the cross-entropy
    assert losses[-1] == pytest.approx(entropy, abs=1e-3) and losses[0] > losses[-1]


@pytest.mark.parametrize("fit_std", [False, True])
def test_gaussian_cloning_fits_the_sample_mean_and_with_fit_std_the_sample_std(fit_std):
    model = make_model(REACH, {"action_dim": 2})
    obs = np.tile(gym.make(REACH).reset(seed=0)[0], (200, 1))
    rng = np.random.default_rng(0)
    actions = np.clip(rng.normal([0.3, -0.5], [0.2, 0.1], (200, 2)), -1, 1).astype(np.float32)
    log_std = model.policy.log_std.detach().clone()
    demos = Demonstrations(obs, actions, episodes=1, successes=0)
    behaviour_clone(model, demos, 400, batch_size=200, learning_rate=1e-2, fit_std=fit_std)
    with torch.no_grad():
        dist = model.policy.get_distribution(torch.as_tensor(obs[:1])).distribution
    assert dist.mean[0].numpy() == pytest.approx(actions.mean(axis=0), abs=0.01)
    if fit_std:
        assert dist.stddev[0].numpy() == pytest.approx(actions.std(axis=0), rel=0.05)
    else:
        assert torch.equal(model.policy.log_std, log_std)


# -- BC reaches the expert ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env_id", "params"),
    [
        (LOCK, {"horizon": 6, "num_actions": 2}),
        (REACH, {"action_dim": 2}),
        (REACH, {"action_dim": 2, "preset": "R"}),
    ],
    ids=["lock-H6-K2", "reach-d2-D", "reach-d2-R"],
)
def test_bc_on_100_expert_episodes_reaches_the_experts_success(env_id, params):
    model = make_model(env_id, params)
    assert greedy_success(model, env_id, params, 20, seed=10**6) == 0.0  # nothing to start with
    demos = warm_start(model, env_id, params, ImitationSettings(episodes=100), seed=0)
    expert = demos.success_rate
    assert expert == 1.0
    # Fresh episodes of the same distribution (other seeds than the demonstrations').
    assert greedy_success(model, env_id, params, 200, seed=10**6) >= expert - 0.02


def test_bc_with_zero_episodes_leaves_the_model_unchanged():
    model = make_model(REACH, {"action_dim": 2})
    before = weights(model)
    optimizer = model.policy.optimizer.state_dict()
    demos = warm_start(model, REACH, {"action_dim": 2}, ImitationSettings(episodes=0), seed=0)
    assert len(demos) == 0 and same_weights(before, weights(model))
    assert model.policy.optimizer.state_dict() == optimizer
    # A non-empty cloning does change it (so the comparison above can fail).
    warm_start(model, REACH, {"action_dim": 2}, ImitationSettings(episodes=1, epochs=1), seed=0)
    assert not same_weights(before, weights(model))


def test_bc_is_deterministic_given_the_seed_and_leaves_the_value_net_alone():
    params = {"horizon": 4}
    demos = expert_episodes(LOCK, params, 10, seed=0)
    models = [make_model(LOCK, params, algo=A2C) for _ in range(3)]
    value_before = weights(models[0])
    for model, seed in zip(models, (0, 0, 1)):
        behaviour_clone(model, demos, 5, batch_size=8, seed=seed)
    a, b, c = (weights(m) for m in models)
    assert same_weights(a, b) and not same_weights(a, c)
    for name in a:
        if name.startswith(("value_net", "mlp_extractor.value_net")):
            assert torch.equal(a[name], value_before[name])


# -- bad input --------------------------------------------------------------------------------


def test_models_and_demonstrations_that_do_not_fit_are_refused():
    demos = expert_episodes(LOCK, {"horizon": 2}, 1, seed=0)
    with torch_threads(1):
        dqn = DQN("MlpPolicy", gym.make(LOCK, horizon=2), device="cpu")
    with pytest.raises(TypeError, match=r"needs an on-policy .* got DQN"):
        behaviour_clone(dqn, demos)
    with pytest.raises(ValueError, match=r"observations of shape \(4,\), the policy expects \(5,"):
        behaviour_clone(make_model(LOCK, {"horizon": 3}), demos)
    with pytest.raises(ValueError, match=r"actions of shape \(\), the policy expects \(2,\)"):
        behaviour_clone(
            make_model(REACH, {"action_dim": 2}),
            Demonstrations(np.zeros((2, 6), np.float32), np.zeros(2, np.int64), 1, 1),
        )
    with pytest.raises(ValueError, match=r"epochs must be an integer >= 1"):
        behaviour_clone(make_model(LOCK, {"horizon": 2}), demos, 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"episodes": -1}, r"episodes must be an integer >= 0 and <= 1000000, got -1"),
        ({"episodes": 1.5}, r"episodes must be an integer >= 0"),
        ({"epochs": 0}, r"epochs must be an integer >= 1 and <= 100000, got 0"),
        ({"batch_size": True}, r"batch_size must be an integer >= 1"),
        ({"learning_rate": 0.0}, r"learning_rate must be a number > 0 and <= 1, got 0.0"),
        ({"learning_rate": float("nan")}, r"learning_rate must be a number > 0 and <= 1"),
        ({"fit_std": "yes"}, r"fit_std must be True or False, got 'yes'"),
    ],
)
def test_imitation_settings_are_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ImitationSettings(**kwargs)


def test_imitation_settings_from_config():
    assert ImitationSettings.from_config({"episodes": 10}) == ImitationSettings(episodes=10)
    with pytest.raises(ValueError, match=r"unknown imitation settings \['epoch'\]; valid keys"):
        ImitationSettings.from_config({"epoch": 3})
    with pytest.raises(AttributeError):
        ImitationSettings().episodes = 3  # frozen
