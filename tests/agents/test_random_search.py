"""RandomSearch: the best-of-N random-policy baseline.

What is provable, and tested here:

* With ``deterministic=True`` on the deterministic lock, ``episodes_per_candidate=1`` and one env,
  a candidate costs exactly H env steps, so the search draws exactly ``N = ceil(budget / H)``
  i.i.d. policies from PPO's initial distribution and finds the lock iff one of them opens it:
  ``P(found) = 1 - (1 - q)^N``, where ``q`` is the probability that one PPO-initialised
  *deterministic* policy opens the lock. ``q`` is measured independently (policies built here
  with SB3's own class, not through RandomSearch), and the fraction of seeds that find the lock
  must agree with the prediction, and fall with H.
* With ``deterministic=False`` every episode is a fresh sample of a stochastic policy whose initial
  action probabilities are within a few percent of uniform (SB3 initialises the action head with
  gain 0.01), so the per-episode hit rate is K^-H up to a few percent: a closed form.
"""

from __future__ import annotations

import functools
import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv

import rlbench3  # noqa: F401  (registers the ids)
from rlbench3.agents.random_search import RandomSearch
from rlbench3.analysis.probes import clopper_pearson
from rlbench3.envs.combination_lock import combination

ID = "rlbench3/CombinationLock-v0"
NET = {"net_arch": [64, 64]}
CONFIDENCE = 0.999


@pytest.fixture(autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def lock_venv(n_envs: int = 1, seed: int = 0, **params) -> DummyVecEnv:
    return make_vec_env(
        functools.partial(gym.make, ID, **params), n_envs=n_envs, seed=seed, vec_env_cls=DummyVecEnv
    )


def search(horizon: int, num_actions: int, *, n_envs: int = 1, seed: int = 0, **kwargs):
    env = lock_venv(n_envs, seed, horizon=horizon, num_actions=num_actions)
    kwargs.setdefault("policy_kwargs", NET)
    return RandomSearch("MlpPolicy", env, seed=seed, **kwargs)


def opens_lock(model, horizon: int, num_actions: int) -> bool:
    """One deterministic episode on a fresh single env (not the search's own env)."""
    env = gym.make(ID, horizon=horizon, num_actions=num_actions)
    obs, _ = env.reset(seed=123)
    done, reward, info = False, 0.0, {}
    while not done:
        action, _ = model.predict(obs, deterministic=True)
        obs, reward, terminated, truncated, info = env.step(int(action))
        done = terminated or truncated
    return reward == 1.0 and bool(info["is_success"])


def parameters(policy) -> list[torch.Tensor]:
    return [p.detach().clone() for p in policy.parameters()]


def same_parameters(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(parameters(a), parameters(b)))


# ------------------------------------------------------------------------------------------
# Finds the lock at small H


@pytest.mark.parametrize(("horizon", "seed"), [(2, 0), (3, 0), (3, 1)])
def test_finds_small_lock_and_keeps_the_first_policy_that_opens_it(horizon, seed):
    # The agent file's settings: 4 envs, 4 episodes per candidate, deterministic policies.
    rs = search(horizon, 2, n_envs=4, seed=seed, episodes_per_candidate=4)
    budget = 2000
    rs.learn(budget)
    per_candidate = 4 * horizon  # 4 envs x one H-step episode each
    n = math.ceil(budget / per_candidate)
    assert rs.candidates_evaluated == len(rs.candidate_returns) == n
    assert rs.num_timesteps == n * per_candidate
    # P(no candidate of n opens a 2^-H lock) ~ (1 - 2^-H)^n < 1e-9 here.
    assert rs.best_return == 1.0
    assert opens_lock(rs, horizon, 2)
    # Deterministic policy on a deterministic lock: every score is exactly 0 or 1; ties keep the
    # first, so the returned policy is the first candidate that opened the lock.
    assert set(rs.candidate_returns) <= {0.0, 1.0}
    first = rs.candidate_returns.index(1.0)
    assert same_parameters(rs.policy, rs.candidate(first))
    assert all(not opens_lock_policy(rs.candidate(i), horizon) for i in range(first))


def opens_lock_policy(policy, horizon: int) -> bool:
    obs = np.zeros((horizon, horizon + 2), dtype=np.float32)
    obs[np.arange(horizon), np.arange(horizon)] = 1.0
    actions, _ = policy.predict(obs, deterministic=True)
    return bool(np.array_equal(actions, combination(0, horizon, 2)))


# ------------------------------------------------------------------------------------------
# Success falls as the hit probability predicts


def deterministic_hit_probability(horizon: int, num_actions: int, samples: int) -> int:
    """Hits among ``samples`` PPO-initialised deterministic policies, built here with SB3's own
    policy class and kwargs (independently of RandomSearch): does argmax follow the code?"""
    env = gym.make(ID, horizon=horizon, num_actions=num_actions)
    policy_class = PPO.policy_aliases["MlpPolicy"]
    obs = np.zeros((horizon, horizon + 2), dtype=np.float32)
    obs[np.arange(horizon), np.arange(horizon)] = 1.0  # the success path: step t, not dead
    code = combination(0, horizon, num_actions)
    hits = 0
    for j in range(samples):
        torch.default_generator.manual_seed(10**8 + 7919 * horizon + j)
        policy = policy_class(env.observation_space, env.action_space, lambda _: 3e-4, **NET).eval()
        actions, _ = policy.predict(obs, deterministic=True)
        hits += bool(np.array_equal(actions, code))
    return hits


def test_success_rate_follows_one_minus_one_minus_q_to_the_n_and_falls_with_horizon():
    budget, seeds, samples = 120, 30, 800
    horizons = (3, 6, 9)
    found, predicted = {}, {}
    for h in horizons:
        n = math.ceil(budget / h)
        hits_found = 0
        for seed in range(seeds):
            rs = search(h, 2, seed=seed, episodes_per_candidate=1)
            rs.learn(budget)
            assert rs.candidates_evaluated == n and rs.num_timesteps == n * h
            hits_found += rs.best_return == 1.0
        found[h] = hits_found
        q_low, q_high = clopper_pearson(
            deterministic_hit_probability(h, 2, samples), samples, CONFIDENCE
        )
        predicted[h] = (1 - (1 - q_low) ** n, 1 - (1 - q_high) ** n)
        low, high = clopper_pearson(hits_found, seeds, CONFIDENCE)
        # The observed fraction and the prediction (q's interval pushed through 1-(1-q)^N)
        # must overlap.
        assert low <= predicted[h][1] and predicted[h][0] <= high, (h, hits_found, predicted[h])
    # Monotone fall: fewer candidates (N = budget / H) of a rarer event (q ~ 2^-H).
    assert found[3] > found[6] > found[9], found
    assert predicted[3][0] > predicted[6][1] and predicted[6][0] > predicted[9][0], predicted
    assert (
        clopper_pearson(found[3], seeds, CONFIDENCE)[0]
        > clopper_pearson(found[9], seeds, CONFIDENCE)[1]
    )


@pytest.mark.parametrize("horizon", [2, 4, 6])
def test_stochastic_candidates_hit_at_the_uniform_rate(horizon):
    """deterministic=False: each episode samples a near-uniform policy, so hits ~ K^-H."""
    k, n_envs, episodes = 2, 8, 3200
    rs = search(horizon, k, n_envs=n_envs, episodes_per_candidate=n_envs, deterministic=False)
    rs.learn(episodes * horizon)
    assert rs.candidates_evaluated == episodes // n_envs
    per_candidate = np.rint(np.array(rs.candidate_returns) * n_envs).astype(int)
    np.testing.assert_allclose(per_candidate, np.array(rs.candidate_returns) * n_envs)
    low, high = clopper_pearson(int(per_candidate.sum()), episodes, CONFIDENCE)
    assert low <= k**-horizon <= high, (per_candidate.sum(), episodes, k**-horizon)
    if horizon == 2:
        # Episodes of one candidate are independent samples, not one repeated action sequence:
        # a deterministic policy would score every episode alike (0 or 8 hits of 8).
        mixed = np.mean((per_candidate > 0) & (per_candidate < n_envs))
        assert mixed > 0.5


# ------------------------------------------------------------------------------------------
# Reproducibility


@pytest.mark.parametrize("deterministic", [True, False])
def test_same_seed_same_search_different_seed_different_candidates(deterministic):
    def run(seed):
        # Dense rewards give graded returns (digits right before the first mistake).
        env = lock_venv(2, seed, horizon=4, num_actions=3, reward_mode="dense")
        rs = RandomSearch(
            "MlpPolicy",
            env,
            episodes_per_candidate=2,
            deterministic=deterministic,
            policy_kwargs=NET,
            seed=seed,
        )
        torch.manual_seed(999 + seed)  # global RNG state must not matter
        np.random.seed(999 + seed)  # noqa: NPY002  (SB3 seeds the legacy global generator)
        return rs.learn(400)

    a, b, c = run(5), run(5), run(6)
    assert a.candidate_returns == b.candidate_returns
    assert len(set(a.candidate_returns)) > 1  # informative: returns vary between candidates
    assert a.best_return == b.best_return
    assert same_parameters(a.policy, b.policy)
    for i in range(3):
        assert same_parameters(a.candidate(i), b.candidate(i))
        assert not same_parameters(a.candidate(i), c.candidate(i))
    assert not same_parameters(a.candidate(0), a.candidate(1))
    assert a.candidate_returns != c.candidate_returns


# ------------------------------------------------------------------------------------------
# Arguments


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"episodes_per_candidate": 0}, "episodes_per_candidate"),
        ({"episodes_per_candidate": 2.5}, "episodes_per_candidate"),
        ({"policy_from": "DQN"}, "policy_from"),
    ],
)
def test_bad_arguments_raise_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        RandomSearch("MlpPolicy", lock_venv(horizon=2), **kwargs)


@pytest.mark.parametrize("source", ["A2C", "TRPO"])
def test_other_policy_sources(source):
    rs = search(2, 2, seed=0, policy_from=source)
    rs.learn(200)
    assert type(rs.policy).__name__ == "ActorCriticPolicy"
    assert rs.best_return == 1.0 and opens_lock(rs, 2, 2)


# ------------------------------------------------------------------------------------------
# Scoring: whole episodes, every env step counted


class FixedLength(gym.Env):
    """Reward 1 per step, episodes of a fixed length: an episode's return is its length."""

    observation_space = spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, length: int):
        self.length, self.t = length, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        return np.zeros(1, dtype=np.float32), 1.0, self.t == self.length, False, {}


class Counter(BaseCallback):
    def __init__(self, stop_at: int | None = None):
        super().__init__()
        self.stop_at = stop_at
        self.rollouts = self.rollout_ends = 0
        self.dones: list[np.ndarray] = []

    def _on_rollout_start(self) -> None:
        self.rollouts += 1

    def _on_rollout_end(self) -> None:
        self.rollout_ends += 1

    def _on_step(self) -> bool:
        self.dones.append(np.array(self.locals["dones"]))
        return self.stop_at is None or self.n_calls < self.stop_at


def fixed_length_search(lengths, episodes_per_candidate):
    env = DummyVecEnv([functools.partial(FixedLength, n) for n in lengths])
    return RandomSearch(
        "MlpPolicy", env, episodes_per_candidate=episodes_per_candidate, policy_kwargs=NET
    )


def test_scores_the_first_episodes_to_start_and_counts_every_step():
    # Envs of episode lengths 1, 1, 6 and 4 episodes per candidate. The 4 counted episodes are
    # the 3 started at reset and the one env 0 starts at t=1 (env 0 is handled before env 1):
    # returns 1, 1, 1, 6 -> 2.25, and the candidate ends at t=6, when env 2's episode ends.
    # (Counting the first 4 episodes to *finish* would give 1.0 at t=2.)  Meanwhile env 1 runs
    # uncounted episodes; all 3 envs x 6 steps count toward the budget.
    rs = fixed_length_search([1, 1, 6], 4)
    callback = Counter()
    rs.learn(18, callback=callback)  # one candidate exactly spends 18 steps
    assert rs.candidate_returns == [2.25]
    assert rs.num_timesteps == 18
    assert callback.n_calls == 6 and callback.rollouts == callback.rollout_ends == 1
    assert callback.dones[-1].tolist() == [True, True, True]

    rs = fixed_length_search([1, 1, 6], 4)
    rs.learn(19)  # one step over -> a second whole candidate
    assert rs.candidate_returns == [2.25, 2.25] and rs.num_timesteps == 36


@pytest.mark.parametrize(
    ("lengths", "episodes", "mean", "steps"),
    [
        ([3, 5], 1, 3.0, 3 * 2),  # env 1's episode is never counted, its steps are
        ([3, 5], 2, 4.0, 5 * 2),
        ([3, 5], 3, (3 + 5 + 3) / 3, 6 * 2),  # env 0 runs two counted episodes
        ([2], 3, 2.0, 6),
    ],
)
def test_candidate_scores_whole_episodes(lengths, episodes, mean, steps):
    rs = fixed_length_search(lengths, episodes)
    rs.learn(1)
    assert rs.candidate_returns == [pytest.approx(mean)]
    assert rs.num_timesteps == steps


def test_a_callback_returning_false_stops_the_search():
    rs = fixed_length_search([1, 1, 6], 4)
    callback = Counter(stop_at=3)
    rs.learn(10_000, callback=callback)
    assert callback.n_calls == 3  # on_step is not called again once it returned False
    assert rs.num_timesteps == 9
    assert rs.candidates_evaluated == 0 and rs.candidate_returns == []
