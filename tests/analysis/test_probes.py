"""Random-policy probes: the exact binomial interval and the hit-probability estimator."""

from __future__ import annotations

import pytest
from scipy import stats

from rlbench3.analysis.probes import clopper_pearson, hit_probability

LOCK = "rlbench3/CombinationLock-v0"


@pytest.mark.parametrize(("hits", "trials"), [(0, 10), (10, 10), (3, 17), (500, 1000), (1, 10**6)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.999])
def test_clopper_pearson_matches_scipy(hits, trials, confidence):
    expected = stats.binomtest(hits, trials).proportion_ci(confidence, method="exact")
    low, high = clopper_pearson(hits, trials, confidence)
    assert low == pytest.approx(expected.low, abs=1e-12)
    assert high == pytest.approx(expected.high, abs=1e-12)


def test_clopper_pearson_hand_worked_edge_case():
    # 0 hits in n trials: the upper bound solves (1 - p)^n = alpha / 2.
    low, high = clopper_pearson(0, 20, 0.95)
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** (1 / 20))


@pytest.mark.parametrize(
    ("hits", "trials", "confidence"), [(1, 0, 0.95), (5, 3, 0.95), (1, 3, 1.0)]
)
def test_clopper_pearson_rejects_bad_input(hits, trials, confidence):
    with pytest.raises(ValueError):
        clopper_pearson(hits, trials, confidence)


def test_same_seed_same_estimate_and_episodes_rounded_up_to_whole_batches():
    a = hit_probability("rlbench3/CombinationLock-v0", 5000, seed=3, num_envs=64, horizon=4)
    b = hit_probability("rlbench3/CombinationLock-v0", 5000, seed=3, num_envs=64, horizon=4)
    assert a == b and a.episodes == 5056  # 79 episodes for each of 64 copies
    c = hit_probability("rlbench3/CombinationLock-v0", 5000, seed=4, num_envs=64, horizon=4)
    assert c.hits != a.hits


def test_batched_and_single_env_paths_agree():
    # SparseReach episodes end early on success: each copy runs whole episodes, so the batched
    # estimate is not biased toward short (successful) episodes.
    kwargs = dict(action_dim=2, horizon=30)
    batched = hit_probability("rlbench3/SparseReach-v0", 60_000, seed=0, **kwargs)
    # The single-env path is the one ArmReach uses; force it through a wrapper-free id copy.
    import gymnasium as gym

    spec = gym.spec("rlbench3/SparseReach-v0")
    gym.register("rlbench3-test/SparseReachSingle-v0", entry_point=spec.entry_point)
    try:
        single = hit_probability("rlbench3-test/SparseReachSingle-v0", 6_000, seed=0, **kwargs)
    finally:
        gym.registry.pop("rlbench3-test/SparseReachSingle-v0")
    assert batched.low <= single.high and single.low <= batched.high


def test_bad_episode_count():
    with pytest.raises(ValueError, match="episodes must be an integer >= 1, got 0"):
        hit_probability("rlbench3/CombinationLock-v0", 0)


def test_policy_hit_probability_samples_by_default_and_says_so():
    # An untrained PPO policy on a 6-step, 2-action lock is near uniform: sampling from it hits
    # at about 2^-6 per episode; its greedy actions form one fixed sequence, which hits never (or
    # always). The estimate states which mode it measured.
    import gymnasium as gym
    import torch
    from stable_baselines3 import PPO

    from rlbench3.analysis.probes import policy_hit_probability

    lock = dict(horizon=6, num_actions=2)
    model = PPO("MlpPolicy", gym.make(LOCK, **lock), seed=0, device="cpu")
    before = torch.get_rng_state()
    sampled = policy_hit_probability(LOCK, model, 10_000, seed=0, **lock)
    assert torch.equal(torch.get_rng_state(), before)  # the caller's stream is left alone
    greedy = policy_hit_probability(LOCK, model, 2048, seed=0, deterministic=True, **lock)
    assert sampled.mode == "sampled" and greedy.mode == "greedy"
    assert policy_hit_probability(LOCK, model, 10_000, seed=0, **lock) == sampled
    assert 0.005 < sampled.low < 2**-6 * 1.2 and 2**-6 / 1.2 < sampled.high < 0.05
    assert greedy.hits in (0, greedy.episodes)
    assert hit_probability(LOCK, 1000, seed=0, **lock).mode == "uniform"
