"""Landscape probes: a policy's hit probability, the hole fraction of initial policies, 2-D
filter-normalised slices, and the policy-gradient SNR."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import rlbench3.analysis.landscape as L
from rlbench3.agents.threads import torch_threads
from rlbench3.analysis.probes import policy_hit_probability
from rlbench3.envs.combination_lock import combination, uniform_hit_probability

LOCK = "rlbench3/CombinationLock-v0"
REACH = "rlbench3/SparseReach-v0"


class UniformPolicy:
    """SB3-style ``predict`` with uniform random actions."""

    def __init__(self, num_actions: int, seed: int):
        self.k, self.rng = num_actions, np.random.default_rng(seed)

    def predict(self, obs, deterministic=True):
        return self.rng.integers(self.k, size=len(obs)), None


class ExpertPolicy:
    """Enters ``combination[t]``, t read from the one-hot step of the observation."""

    def __init__(self, horizon: int, num_actions: int, seed: int = 0):
        self.code = combination(seed, horizon, num_actions)
        self.h = horizon

    def predict(self, obs, deterministic=True):
        t = np.minimum(np.asarray(obs)[:, : self.h + 1].argmax(axis=1), self.h - 1)
        return self.code[t], None


# -- policy_hit_probability ---------------------------------------------------------------------


@pytest.mark.parametrize(("horizon", "num_actions"), [(4, 2), (3, 3)])
def test_uniform_policy_matches_closed_form(horizon, num_actions):
    est = policy_hit_probability(
        LOCK,
        UniformPolicy(num_actions, 0),
        40_000,
        seed=0,
        horizon=horizon,
        num_actions=num_actions,
    )
    assert est.contains(uniform_hit_probability(horizon, num_actions))
    assert est.episodes == 40_960  # 40 episodes for each of 1024 copies


def test_expert_always_hits_batched_and_sync_vector_env():
    est = policy_hit_probability(LOCK, ExpertPolicy(6, 3), 2000, seed=1, horizon=6, num_actions=3)
    assert est.hits == est.episodes and est.high == 1.0
    spec = gym.spec(LOCK)
    gym.register("rlbench3-test/LockSingle-v0", entry_point=spec.entry_point)
    try:
        single = policy_hit_probability(
            "rlbench3-test/LockSingle-v0", ExpertPolicy(6, 3), 50, horizon=6, num_actions=3
        )
    finally:
        gym.registry.pop("rlbench3-test/LockSingle-v0")
    # Without a batched vector env: SYNC_COPIES = 16 single envs, 50 rounded up to 4 episodes each.
    assert single.hits == single.episodes == 64


def test_sb3_policy_hits_agree_with_the_batched_landscape_evaluator():
    # Deterministic policies on a deterministic lock: each one hits always or never, and the
    # vmapped evaluator agrees with SB3's own predict, policy by policy.
    policies = L.sample_policies(LOCK, 24, seed=2, horizon=2)
    _, signal = L.evaluate_parameters(
        policies[0], L.stack_parameters(policies), LOCK, 1, seed=0, horizon=2
    )
    hits = [
        policy_hit_probability(LOCK, p, 4, num_envs=4, deterministic=True, horizon=2).hits
        for p in policies
    ]
    assert set(hits) <= {0, 4}
    assert [h == 4 for h in hits] == list(signal[:, 0])
    assert 0 < sum(signal[:, 0]) < 24


# -- batched candidate evaluation ------------------------------------------------------------------


@pytest.mark.parametrize(("env_id", "kwargs"), [(LOCK, {"horizon": 4}), (REACH, {"action_dim": 3})])
def test_vmapped_actions_equal_sb3_predict(env_id, kwargs):
    policies = L.sample_policies(env_id, 5, seed=0, **kwargs)
    actor = L._Actor(policies[0], L.stack_parameters(policies), deterministic=True)
    dim = policies[0].observation_space.shape[0]
    obs = np.random.default_rng(0).standard_normal((7, dim)).astype(np.float32)
    actions = actor(slice(0, 5), np.broadcast_to(obs, (5, 7, dim)).copy(), None)
    expected = np.stack([p.predict(obs, deterministic=True)[0] for p in policies])
    np.testing.assert_allclose(actions, expected, rtol=1e-5, atol=1e-6)


def test_chunking_does_not_change_common_episode_returns(monkeypatch):
    policies = L.sample_policies(REACH, 6, seed=1, action_dim=2, horizon=15)
    kwargs = dict(seed=3, deterministic=False, common_episodes=True, action_dim=2, horizon=15)
    whole = L.policy_returns(policies, REACH, 5, **kwargs)
    monkeypatch.setattr(L, "CANDIDATES_PER_CHUNK", 4)
    assert np.array_equal(L.policy_returns(policies, REACH, 5, **kwargs), whole)
    assert whole.shape == (6, 5)
    # Every candidate saw the same five goals: one policy twice gives the same row twice.
    twice = L.policy_returns([policies[0], policies[0]], REACH, 5, **kwargs)
    assert np.array_equal(twice[0], twice[1]) and np.array_equal(twice[0], whole[0])


def test_independent_episodes_over_several_chunks(monkeypatch):
    monkeypatch.setattr(L, "ROWS_PER_CHUNK", 24)  # 3 candidates x 8 episodes per chunk
    policies = L.sample_policies(LOCK, 7, seed=0, horizon=3, reward_mode="dense")
    a = L.policy_returns(
        policies, LOCK, 8, seed=5, deterministic=False, horizon=3, reward_mode="dense"
    )
    b = L.policy_returns(
        policies, LOCK, 8, seed=5, deterministic=False, horizon=3, reward_mode="dense"
    )
    assert a.shape == (7, 8) and np.array_equal(a, b)
    assert len(np.unique(a)) > 1 and ((a >= 0) & (a <= 1 + 1e-12)).all()


# -- hole fraction ---------------------------------------------------------------------------------


def test_hole_fraction_is_high_for_short_locks_and_falls_with_the_horizon():
    # Sampled actions, 16 episodes per candidate: P(signal) ~ 1 - (1 - 2^-H)^16 at PPO's
    # near-uniform initial policy.
    stochastic = {
        h: L.landscape_probe(LOCK, 64, 16, seed=0, deterministic=False, horizon=h).hole_fraction
        for h in (2, 5, 9)
    }
    assert stochastic[2].probability > 0.9
    assert stochastic[2].probability > stochastic[5].probability > stochastic[9].probability
    assert stochastic[9].probability < 0.2
    # The deterministic (arg-max) initial policy opens a fixed lock always or never.
    det = {h: L.landscape_probe(LOCK, 128, 1, seed=0, horizon=h) for h in (1, 3, 6)}
    assert det[1].hole_fraction.probability > 0.3
    assert (
        det[1].hole_fraction.probability
        > det[3].hole_fraction.probability
        > det[6].hole_fraction.probability
    )
    probe = det[3]
    assert probe.returns.shape == probe.signal.shape == (128, 1)
    assert probe.hole_fraction.hits == int(probe.signal.any(axis=1).sum())
    assert probe.hole_fraction.low <= probe.hole_fraction.probability <= probe.hole_fraction.high


def test_probe_reproducible_and_seed_dependent():
    kwargs = dict(deterministic=False, horizon=3)
    a = L.landscape_probe(LOCK, 16, 8, seed=4, **kwargs)
    b = L.landscape_probe(LOCK, 16, 8, seed=4, **kwargs)
    c = L.landscape_probe(LOCK, 16, 8, seed=5, **kwargs)
    assert np.array_equal(a.returns, b.returns) and a.hole_fraction == b.hole_fraction
    assert not np.array_equal(a.returns, c.returns)


def test_candidates_are_random_search_candidates():
    from stable_baselines3.common.vec_env import DummyVecEnv

    from rlbench3.agents.random_search import RandomSearch

    policies = L.sample_policies(LOCK, 3, seed=7, horizon=3)
    venv = DummyVecEnv([lambda: gym.make(LOCK, horizon=3)])
    # One torch thread, as in execute_run (orthogonal init's QR differs in the last bits with 2).
    with torch_threads(1):
        search = RandomSearch("MlpPolicy", venv, seed=7)
        refs = [search.policy, search.candidate(1), search.candidate(2)]
    for p, ref in zip(policies, refs):
        for (name, x), (_, y) in zip(p.named_parameters(), ref.named_parameters()):
            assert torch.equal(x, y), name


# -- filter normalisation and slices ---------------------------------------------------------------


def test_filter_normalisation_on_a_tiny_network():
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 2), torch.nn.Flatten(), torch.nn.Linear(12, 4), torch.nn.Tanh()
    )
    torch.nn.init.normal_(net[2].bias)
    ref = {k: v.detach() for k, v in net.named_parameters()}
    d = L.filter_normalized_direction(ref, torch.Generator().manual_seed(0))
    for name, t in ref.items():
        if t.dim() >= 2:  # every row (output unit / output channel) has the norm of theta0's row
            got = d[name].reshape(t.shape[0], -1).norm(dim=1)
            np.testing.assert_allclose(got, t.reshape(t.shape[0], -1).norm(dim=1), rtol=1e-5)
            assert not torch.allclose(d[name], t)  # a random direction, not theta0 itself
        else:
            assert torch.count_nonzero(d[name]) == 0  # biases: zero direction
    d2 = L.filter_normalized_direction(ref, torch.Generator().manual_seed(0), bias="filter")
    assert torch.allclose(d2["2.bias"].norm(), ref["2.bias"].norm())
    with pytest.raises(ValueError, match="bias must be one of"):
        L.filter_normalized_direction(ref, torch.Generator(), bias="copy")


def test_slice_grid_centre_and_reproducibility():
    # Gaussian distractors make episodes differ; the arg-max policy makes the slice vary (with
    # sampled actions PPO's near-uniform initial policy is nearly flat along the slice).
    kwargs = dict(horizon=3, reward_mode="dense", distractor_dims=2)
    theta0 = L.sample_policies(LOCK, 1, seed=3, **kwargs)[0]
    sl = L.landscape_slice(
        LOCK,
        policy=theta0,
        grid=7,
        radius=2.0,
        episodes=6,
        seed=9,
        **kwargs,
    )
    assert sl.returns.shape == sl.signal.shape == (7, 7, 6)
    assert sl.mean_returns.shape == (7, 7) and sl.alphas.shape == sl.betas.shape == (7,)
    assert sl.alphas[0] == -2.0 and sl.alphas[-1] == 2.0 and sl.center == (3, 3)
    assert sl.alphas[3] == 0.0 and sl.bias == "zero"
    own = L.policy_returns([theta0], LOCK, 6, seed=9, common_episodes=True, **kwargs)
    assert np.array_equal(sl.returns[3, 3], own[0])
    again = L.landscape_slice(
        LOCK,
        policy=theta0,
        grid=7,
        radius=2.0,
        episodes=6,
        seed=9,
        **kwargs,
    )
    assert np.array_equal(again.returns, sl.returns)
    assert len(np.unique(sl.mean_returns)) > 1  # the slice is not flat
    with pytest.raises(ValueError, match="odd"):
        L.landscape_slice(LOCK, grid=4, horizon=2)


def test_slice_default_theta0_is_a_fresh_init():
    a = L.landscape_slice(REACH, grid=3, episodes=2, seed=1, action_dim=2, horizon=10)
    b = L.landscape_slice(REACH, grid=3, episodes=2, seed=1, action_dim=2, horizon=10)
    assert a.returns.shape == (3, 3, 2) and np.array_equal(a.returns, b.returns)


# -- gradient SNR ----------------------------------------------------------------------------------


def test_gradient_snr_positive_at_horizon_one_and_zero_without_signal():
    policy = L.sample_policies(LOCK, 1, seed=0, horizon=1)[0]
    easy = L.gradient_snr(policy, LOCK, batches=16, episodes_per_batch=8, seed=0, horizon=1)
    assert easy.snr > 0 and easy.zero_batches < 16
    g = easy.gradients
    assert g.shape == (16, easy.mean_gradient.size)
    mean, var = g.mean(axis=0), g.var(axis=0, ddof=1)
    assert easy.snr == pytest.approx(mean @ mean / var.sum())
    assert easy.snr_of_mean == pytest.approx(16 * easy.snr)
    # Only the actor's parameters: 2-layer 64x64 MLP on 3 inputs, plus a 2-logit head.
    assert g.shape[1] == (3 * 64 + 64) + (64 * 64 + 64) + (64 * 2 + 2)

    hard_policy = L.sample_policies(LOCK, 1, seed=0, horizon=24)[0]
    hard = L.gradient_snr(hard_policy, LOCK, batches=8, episodes_per_batch=8, seed=0, horizon=24)
    assert hard.zero_batches == 8 and hard.snr == 0.0
    assert not hard.gradients.any() and not hard.per_parameter.any()

    again = L.gradient_snr(policy, LOCK, batches=16, episodes_per_batch=8, seed=0, horizon=1)
    assert np.array_equal(again.gradients, easy.gradients)
    with pytest.raises(ValueError, match="batches"):
        L.gradient_snr(policy, LOCK, batches=1, horizon=1)
