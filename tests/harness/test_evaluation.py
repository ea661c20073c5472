"""run_episodes, the one evaluation loop: whole episodes, counted exactly, under both autoresets."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import rlbench3  # noqa: F401  (registers the ids)
from rlbench3.analysis.probes import clopper_pearson
from rlbench3.envs.combination_lock import combination, uniform_hit_probability
from rlbench3.harness.evaluation import run_episodes

LOCK = "rlbench3/CombinationLock-v0"


def lock_expert(horizon: int, num_actions: int):
    """Enters ``combination[t]``, t read from the one-hot step of the observation."""
    code = combination(0, horizon, num_actions)

    def act(obs: np.ndarray) -> np.ndarray:
        t = np.minimum(obs[:, : horizon + 1].argmax(axis=1), horizon - 1)
        return code[t]

    return act


class Countdown(gym.Env):
    """Episode ``e`` (0, 1, ...) after ``reset(seed=s)`` lasts ``1 + (s + e) % 3`` steps, with
    reward 1 per step; it succeeds iff it lasts 2 steps. The observation is the steps left."""

    observation_space = spaces.Box(0.0, 3.0, (1,), np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            self.s, self.e = seed, 0
        else:
            self.e += 1
        self.length = self.left = 1 + (self.s + self.e) % 3
        return np.array([self.left], np.float32), {}

    def step(self, action):
        self.left -= 1
        done = self.left == 0
        info = {"is_success": self.length == 2} if done else {}
        return np.array([self.left], np.float32), 1.0, done, False, info


def countdowns(n: int, mode: AutoresetMode) -> SyncVectorEnv:
    return SyncVectorEnv([Countdown for _ in range(n)], autoreset_mode=mode)


def expected_lengths(n: int, k: int, seed: int) -> np.ndarray:
    """Copy i is reset with seed + i: episode j lasts 1 + (seed + i + j) % 3 steps."""
    return 1 + (seed + np.arange(n)[:, None] + np.arange(k)[None, :]) % 3


@pytest.mark.parametrize("vectorization", ["batched", "sync"])
def test_the_expert_opens_every_lock(vectorization):
    horizon, num_actions, n, k = 5, 3, 4, 3
    kwargs = {} if vectorization == "batched" else {"vectorization_mode": "sync"}
    envs = gym.make_vec(LOCK, num_envs=n, horizon=horizon, num_actions=num_actions, **kwargs)
    result = run_episodes(envs, lock_expert(horizon, num_actions), episodes_per_env=k, seed=0)
    envs.close()
    assert result.returns.shape == result.successes.shape == result.signal.shape == (n, k)
    assert (result.returns == 1.0).all() and result.successes.all() and result.signal.all()
    assert result.steps == horizon * n * k  # the NEXT_STEP reset steps are not counted


def test_the_expert_is_the_envs_own_optimal_action():
    horizon, num_actions = 4, 2
    envs = gym.make_vec(LOCK, num_envs=3, vectorization_mode="sync", horizon=horizon)

    def act(obs: np.ndarray) -> np.ndarray:
        # obs[:, horizon] == 1: the episode has ended, this step only resets the copy.
        return np.array(
            [0 if o[horizon] else e.unwrapped.optimal_action() for e, o in zip(envs.envs, obs)]
        )

    result = run_episodes(envs, act, episodes_per_env=2, seed=1)
    assert result.successes.all() and (result.returns == 1.0).all()
    assert result.steps == horizon * 3 * 2
    expert = run_episodes(envs, lock_expert(horizon, num_actions), episodes_per_env=2, seed=1)
    assert np.array_equal(expert.returns, result.returns)
    envs.close()


@pytest.mark.parametrize(("horizon", "num_actions"), [(3, 2), (2, 3)])
def test_uniform_policy_hits_at_k_to_the_minus_h(horizon, num_actions):
    n, k = 4096, 2
    envs = gym.make_vec(LOCK, num_envs=n, horizon=horizon, num_actions=num_actions)
    rng = np.random.default_rng(0)
    result = run_episodes(envs, lambda _: rng.integers(num_actions, size=n), episodes_per_env=k)
    envs.close()
    hits = int(result.signal.sum())
    low, high = clopper_pearson(hits, n * k, 0.999)
    assert low <= uniform_hit_probability(horizon, num_actions) <= high
    # The sparse lock: a reward is the success, and its return is 1.
    assert np.array_equal(result.signal, result.successes)
    assert np.array_equal(result.returns, result.successes.astype(float))
    assert result.steps == horizon * n * k


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_every_copy_runs_exactly_its_whole_episodes(mode):
    n, k, seed = 5, 4, 7
    envs = countdowns(n, mode)
    calls = []
    result = run_episodes(
        envs,
        lambda obs: calls.append(obs.copy()) or np.zeros(n, dtype=np.int64),
        episodes_per_env=k,
        seed=seed,
    )
    lengths = expected_lengths(n, k, seed)
    assert np.array_equal(result.returns, lengths.astype(float))  # reward 1 per step
    assert np.array_equal(result.successes, lengths == 2)
    assert result.signal.all() and result.steps == lengths.sum()
    # The loop stops on the step on which the last copy's last episode ends; NEXT_STEP spends
    # one more step per episode after the first on resetting.
    resets = k - 1 if mode == AutoresetMode.NEXT_STEP else 0
    assert len(calls) == (lengths.sum(axis=1) + resets).max()
    assert all(obs.shape == (n, 1) for obs in calls)  # act sees every copy, every step
    envs.close()


def test_same_step_and_next_step_give_the_same_episodes():
    n, k = 3, 5
    a = run_episodes(
        countdowns(n, AutoresetMode.NEXT_STEP),
        lambda _: np.zeros(n, int),
        episodes_per_env=k,
        seed=2,
    )
    b = run_episodes(
        countdowns(n, AutoresetMode.SAME_STEP),
        lambda _: np.zeros(n, int),
        episodes_per_env=k,
        seed=2,
    )
    assert np.array_equal(a.returns, b.returns) and np.array_equal(a.successes, b.successes)
    assert a.successes.any() and not a.successes.all() and a.steps == b.steps


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_the_step_hook_sees_the_counted_steps(mode):
    n, k, seed = 4, 3, 0
    seen = []
    result = run_episodes(
        countdowns(n, mode),
        lambda _: np.zeros(n, dtype=np.int64),
        episodes_per_env=k,
        seed=seed,
        on_step=lambda rewards, live: seen.append((rewards, live)),
    )
    rewards = np.array([r for r, _ in seen])
    live = np.array([m for _, m in seen])
    assert rewards.shape == live.shape == (len(seen), n) and live.dtype == bool
    assert live.sum() == result.steps
    # Per copy, the live steps are exactly its counted episodes' steps.
    np.testing.assert_array_equal(live.sum(axis=0), expected_lengths(n, k, seed).sum(axis=1))
    np.testing.assert_array_equal((rewards * live).sum(axis=0), result.returns.sum(axis=1))
    # Before a copy's last counted step, only NEXT_STEP's reset steps (one after each episode
    # but the last) are not live; after it, none is.
    resets = k - 1 if mode == AutoresetMode.NEXT_STEP else 0
    for i in range(n):
        last = np.flatnonzero(live[:, i])[-1]
        assert (~live[:last, i]).sum() == resets and not live[last + 1 :, i].any()


def test_the_step_hook_and_act_record_a_whole_rollout():
    horizon, n = 3, 6
    envs = gym.make_vec(LOCK, num_envs=n, horizon=horizon, reward_mode="dense")
    rng = np.random.default_rng(1)
    observations, actions, rewards, live = [], [], [], []

    def act(obs: np.ndarray) -> np.ndarray:
        observations.append(obs.copy())
        actions.append(rng.integers(2, size=n))
        return actions[-1]

    result = run_episodes(
        envs, act, seed=0, on_step=lambda r, m: (rewards.append(r), live.append(m))
    )
    envs.close()
    assert len(observations) == len(actions) == len(rewards) == len(live) == horizon
    code = combination(0, horizon, 2)
    right = np.cumprod([a == code[t] for t, a in enumerate(actions)], axis=0)  # absorbing lock
    np.testing.assert_allclose(np.array(rewards), right / horizon)
    np.testing.assert_allclose(result.returns[:, 0], right.sum(axis=0) / horizon)


def test_bad_arguments():
    envs = countdowns(2, AutoresetMode.NEXT_STEP)
    with pytest.raises(ValueError, match="episodes_per_env must be an integer >= 1, got 0"):
        run_episodes(envs, lambda _: np.zeros(2, int), episodes_per_env=0)
    disabled = SyncVectorEnv([Countdown], autoreset_mode=AutoresetMode.DISABLED)
    with pytest.raises(ValueError, match="NEXT_STEP or SAME_STEP"):
        run_episodes(disabled, lambda _: np.zeros(1, int))
