"""FGSM observation attacks and perturbed evaluation, on hand-built linear SB3 policies."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import DQN, PPO, SAC, TD3
from stable_baselines3.common.policies import ActorCriticPolicy

from rlbench3.agents.threads import torch_threads
from rlbench3.analysis.adversarial import fgsm_observations, perturbed_returns
from rlbench3.envs.combination_lock import combination

LOCK = "rlbench3/CombinationLock-v0"
REACH = "rlbench3/SparseReach-v0"


def linear_policy(obs_dim: int, action_space: spaces.Space, weight, bias=None):
    """An SB3 ActorCriticPolicy with no hidden layers: logits (or mean) = W obs + b."""
    policy = ActorCriticPolicy(
        spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32),
        action_space,
        lambda _: 0.0,
        net_arch=[],
    )
    with torch.no_grad():
        policy.action_net.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        policy.action_net.bias.copy_(
            torch.zeros(len(weight)) if bias is None else torch.as_tensor(bias)
        )
    return policy.eval()


def expert_lock_model(horizon: int, seed: int = 0) -> PPO:
    """PPO whose linear policy enters the combination: logit 1 for the right digit at step t."""
    model = PPO("MlpPolicy", gym.make(LOCK, horizon=horizon), policy_kwargs={"net_arch": []})
    weight = np.zeros((2, horizon + 2), dtype=np.float32)
    weight[combination(0, horizon, 2), np.arange(horizon)] = 1.0
    with torch.no_grad():
        model.policy.action_net.weight.copy_(torch.as_tensor(weight))
        model.policy.action_net.bias.zero_()
    return model


def test_zero_epsilon_is_the_clean_observation():
    policy = linear_policy(4, spaces.Discrete(3), np.arange(12.0).reshape(3, 4))
    obs = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    assert np.array_equal(fgsm_observations(policy, obs, 0.0), obs)
    with pytest.raises(ValueError, match="epsilon"):
        fgsm_observations(policy, obs, -0.1)


def test_discrete_gradient_direction_matches_the_analytic_cross_entropy_gradient():
    rng = np.random.default_rng(1)
    w, b = rng.standard_normal((3, 4)), rng.standard_normal(3)
    policy = linear_policy(4, spaces.Discrete(3), w, b)
    obs = rng.standard_normal((50, 4)).astype(np.float32)
    logits = obs @ w.T + b
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(3)[logits.argmax(axis=1)]
    grad = (p - onehot) @ w  # d CE(W x + b, a*) / dx
    out = fgsm_observations(policy, obs, 0.05)
    np.testing.assert_allclose(out, obs + 0.05 * np.sign(grad), atol=1e-6)
    one = fgsm_observations(policy, obs[0], 0.05)  # a single observation keeps its shape
    np.testing.assert_allclose(one, out[0], atol=1e-7)


def test_continuous_gradient_direction_from_the_random_start():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((2, 5))
    policy = linear_policy(5, spaces.Box(-1, 1, (2,), np.float32), w)
    obs = rng.standard_normal((20, 5)).astype(np.float32)
    eps = 0.1
    delta0 = np.random.default_rng(7).uniform(-eps, eps, size=obs.shape).astype(np.float32)
    grad = 2 * (delta0 @ w.T) @ w  # d ||W (x + d0) - W x||^2 / dx
    out = fgsm_observations(policy, obs, eps, rng=7)
    np.testing.assert_allclose(out, obs + eps * np.sign(grad), atol=1e-6)
    # The attack moves the mean action more than a random sign perturbation of the same size.
    noise = obs + eps * np.sign(np.random.default_rng(3).standard_normal(obs.shape))
    moved = np.linalg.norm((out - obs) @ w.T, axis=1)
    random_moved = np.linalg.norm((noise - obs) @ w.T, axis=1)
    assert moved.mean() > random_moved.mean()


def test_fgsm_flips_actions_that_random_perturbations_of_the_same_size_rarely_flip():
    dim, eps = 20, 0.1
    policy = linear_policy(dim, spaces.Discrete(2), np.stack([np.zeros(dim), np.ones(dim)]))
    rng = np.random.default_rng(0)
    # Observations whose logit margin (action 1 over 0) is 1.0: FGSM moves it by eps * 20 = 2,
    # a random sign perturbation by eps * (sum of 20 signs), std 0.45.
    obs = rng.standard_normal((500, dim))
    obs += (1.0 - obs.sum(axis=1, keepdims=True)) / dim
    obs = obs.astype(np.float32)
    clean = policy.predict(obs, deterministic=True)[0]
    assert (clean == 1).all()
    attacked = policy.predict(fgsm_observations(policy, obs, eps), deterministic=True)[0]
    noisy_obs = obs + eps * np.sign(rng.standard_normal(obs.shape)).astype(np.float32)
    noisy = policy.predict(noisy_obs, deterministic=True)[0]
    assert (attacked != clean).mean() == 1.0
    assert (noisy != clean).mean() < 0.1


@pytest.mark.parametrize(
    ("algo", "env_id", "kwargs"),
    [
        (PPO, LOCK, {"horizon": 3}),
        (DQN, LOCK, {"horizon": 3}),
        (PPO, REACH, {"action_dim": 2}),
        (SAC, REACH, {"action_dim": 2}),
        (TD3, REACH, {"action_dim": 2}),
    ],
)
def test_every_supported_policy_kind(algo, env_id, kwargs):
    env = gym.make(env_id, **kwargs)
    model = algo("MlpPolicy", env, seed=0, device="cpu", policy_kwargs={"net_arch": [16]})
    obs = np.random.default_rng(0).uniform(-1, 1, (6, *env.observation_space.shape))
    obs = obs.astype(np.float32)
    out = fgsm_observations(model, obs, 0.2)
    assert out.shape == obs.shape and out.dtype == np.float32
    assert np.abs(out - obs).max() == pytest.approx(0.2, rel=1e-5)
    assert np.array_equal(fgsm_observations(model.policy, obs, 0.2), out)


def test_unsupported_policies_are_rejected():
    with pytest.raises(TypeError, match="fgsm_observations needs"):
        fgsm_observations(torch.nn.Linear(3, 2), np.zeros((1, 3), np.float32), 0.1)


def test_zero_epsilon_equals_clean_evaluation_for_every_kind():
    model = PPO("MlpPolicy", gym.make(REACH, action_dim=2), seed=1, device="cpu")
    kwargs = {"action_dim": 2, "horizon": 15, "reward_mode": "dense"}
    runs = [
        perturbed_returns(model, REACH, kwargs, 6, 3, kind, 0.0)
        for kind in ("fgsm", "obs_noise", "action_noise")
    ]
    # The clean rollout, by hand, on the same episodes.
    envs = gym.make_vec(REACH, num_envs=6, vectorization_mode="sync", **kwargs)
    obs, _ = envs.reset(seed=3)
    returns = np.zeros(6)
    with torch_threads(1):  # as perturbed_returns: float results depend on torch's threads
        for _ in range(15):
            obs, r, *_ = envs.step(model.predict(obs, deterministic=True)[0])
            returns += r
    for ret, success in runs:
        assert np.array_equal(ret, runs[0][0]) and np.array_equal(success, runs[0][1])
    np.testing.assert_array_equal(runs[0][0], returns)
    noisy = perturbed_returns(model, REACH, kwargs, 6, 3, "obs_noise", 0.5)
    assert not np.array_equal(noisy[0], returns)
    assert np.array_equal(
        noisy[0], perturbed_returns(model, REACH, kwargs, 6, 3, "obs_noise", 0.5)[0]
    )


def test_fgsm_breaks_an_expert_that_survives_noise_of_the_same_size():
    model = expert_lock_model(4)
    kwargs = {"horizon": 4}
    clean_ret, clean_ok = perturbed_returns(model, LOCK, kwargs, 40, 0, "fgsm", 0.0)
    assert clean_ok.all() and (clean_ret == 1.0).all()
    # FGSM shifts every step's logit margin (1) by -0.3 per step column, -1.2 in all: all flip.
    _, fgsm_ok = perturbed_returns(model, LOCK, kwargs, 40, 0, "fgsm", 0.3)
    _, noise_ok = perturbed_returns(model, LOCK, kwargs, 40, 0, "obs_noise", 0.3)
    assert not fgsm_ok.any()
    assert noise_ok.mean() > 0.5
    # Discrete action noise: epsilon is the probability of a uniform random action.
    _, all_random = perturbed_returns(model, LOCK, kwargs, 200, 0, "action_noise", 1.0)
    assert 0 < all_random.mean() < 0.2  # a uniform random policy: 1/16
    with pytest.raises(ValueError, match="kind must be one of"):
        perturbed_returns(model, LOCK, kwargs, 4, 0, "dropout", 0.1)
