"""Weak-generalization perturbations: statistics, identity at zero, seeding, validation."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import rlbench3  # noqa: F401  (registers the ids)
from rlbench3.envs.wrappers import ActionNoise, ObservationDropout, ObservationNoise

N = 20_000


class Recorder(gym.Env):
    """Observes ones in [0, 2]^3 forever; records every action it receives."""

    def __init__(self, action_space=None):
        self.observation_space = spaces.Box(0.0, 2.0, (3,), np.float32)
        self.action_space = action_space or spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.received = []

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.ones(3, np.float32), {}

    def step(self, action):
        self.received.append(action)
        return np.ones(3, np.float32), 0.0, False, False, {}


def observations(env, n=N, seed=0):
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for _ in range(n - 1):
        out.append(env.step(env.action_space.sample())[0])
    return np.array(out)


def within(value, expected, sigma, k=4.0):
    return abs(value - expected) < k * sigma


def test_observation_noise_has_the_stated_statistics():
    scale = np.array([0.1, 0.5, 0.0])
    env = ObservationNoise(Recorder(), scale)
    obs = observations(env)
    assert obs.dtype == np.float32
    noise = obs.astype(np.float64) - 1.0
    for j, s in enumerate(scale):
        if s == 0:
            assert np.all(noise[:, j] == 0.0)
            continue
        assert within(noise[:, j].mean(), 0.0, s / math.sqrt(N))
        assert within(noise[:, j].std(), s, s / math.sqrt(2 * N))
    assert abs(np.corrcoef(noise[:, 0], noise[:, 1])[0, 1]) < 4 / math.sqrt(N)  # independent
    # Noisy dimensions are unbounded now; the noiseless one keeps its bounds.
    assert np.array_equal(env.observation_space.low, np.array([-np.inf, -np.inf, 0.0], np.float32))
    assert np.array_equal(env.observation_space.high, np.array([np.inf, np.inf, 2.0], np.float32))
    assert all(env.observation_space.contains(o) for o in obs[:100])


def test_observation_dropout_zeroes_each_dimension_with_probability_p():
    p = 0.3
    env = ObservationDropout(Recorder(), p)
    obs = observations(env)
    dropped = obs == 0.0
    assert np.all(obs[~dropped] == 1.0)
    for j in range(3):
        assert within(dropped[:, j].mean(), p, math.sqrt(p * (1 - p) / N))
    both = (dropped[:, 0] & dropped[:, 1]).mean()
    assert within(both, p * p, math.sqrt(p * p * (1 - p * p) / N))  # independent dimensions
    # Bounds that excluded 0 are extended to include it.
    shifted = Recorder()
    shifted.observation_space = spaces.Box(0.5, 2.0, (3,), np.float32)
    assert np.all(ObservationDropout(shifted, 0.1).observation_space.low == 0.0)


def box_actions(env, action, n=N, seed=0):
    env.reset(seed=seed)
    for _ in range(n):
        env.step(np.asarray(action, dtype=np.float32))
    return np.array(env.unwrapped.received)


def test_box_action_noise_is_gaussian_then_clipped_to_the_bounds():
    env = ActionNoise(Recorder(), 0.2)
    got = box_actions(env, [0.0, 1.0])
    assert got.dtype == np.float32 and got.shape == (N, 2)
    assert within(got[:, 0].mean(), 0.0, 0.2 / math.sqrt(N))
    assert within(got[:, 0].std(), 0.2, 0.2 / math.sqrt(2 * N))
    # At the upper bound: half the noise is clipped onto the bound, the rest is below it.
    assert got[:, 1].max() == 1.0 and got[:, 1].min() >= -1.0
    assert within((got[:, 1] == 1.0).mean(), 0.5, math.sqrt(0.25 / N))
    below = 1.0 - got[got[:, 1] < 1.0, 1].astype(np.float64)
    assert within(below.mean(), 0.2 * math.sqrt(2 / math.pi), 0.2 / math.sqrt(N / 2))


def test_box_action_noise_per_dimension_scale():
    got = box_actions(ActionNoise(Recorder(), [0.0, 0.1]), [0.5, 0.0], n=5000)
    assert np.all(got[:, 0] == 0.5) and within(got[:, 1].std(), 0.1, 0.1 / math.sqrt(10_000))


@pytest.mark.parametrize("n, start", [(4, 0), (3, 5)])
def test_discrete_action_noise_replaces_with_probability_epsilon(n, start):
    eps = 0.3
    env = ActionNoise(Recorder(spaces.Discrete(n, start=start)), eps)
    env.reset(seed=0)
    for _ in range(N):
        env.step(start)
    got = np.array(env.unwrapped.received)
    assert set(np.unique(got)) <= set(range(start, start + n))
    changed = eps * (n - 1) / n  # a replacement may draw the chosen action again
    assert within((got != start).mean(), changed, math.sqrt(changed * (1 - changed) / N))
    counts = np.bincount(got - start, minlength=n)[1:]
    assert counts.min() > 0.8 * counts.mean()  # uniform over the other actions


# --------------------------------------------------------------------------------------------
# Identity at zero, reproducibility


def trace(env, seed, steps=60):
    obs, info = env.reset(seed=seed)
    env.action_space.seed(seed)
    out = [obs]
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        out.append(obs)
        if terminated or truncated:
            out.append(env.reset()[0])
    return np.array(out)


@pytest.mark.parametrize(
    "env_id, wrap",
    [
        ("rlbench3/CartPole-R-v0", lambda e: ObservationNoise(e, 0.0)),
        ("rlbench3/CartPole-R-v0", lambda e: ObservationDropout(e, 0.0)),
        ("rlbench3/CartPole-R-v0", lambda e: ActionNoise(e, 0.0)),
        ("rlbench3/Pendulum-R-v0", lambda e: ActionNoise(e, np.zeros(1))),
        ("rlbench3/Pendulum-R-v0", lambda e: ObservationNoise(e, [0.0, 0.0, 0.0])),
    ],
)
def test_zero_scale_is_the_identity(env_id, wrap):
    wrapped = wrap(gym.make(env_id))
    assert wrapped.observation_space == gym.make(env_id).observation_space
    assert np.array_equal(trace(wrapped, 3), trace(gym.make(env_id), 3))


def noisy(env_id="rlbench3/Pendulum-R-v0"):
    return ActionNoise(ObservationDropout(ObservationNoise(gym.make(env_id), 0.05), 0.1), 0.3)


def test_same_seed_same_perturbations():
    a, b = trace(noisy(), 7), trace(noisy(), 7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, trace(noisy(), 8))
    assert not np.array_equal(a, trace(gym.make("rlbench3/Pendulum-R-v0"), 7))
    env = noisy("rlbench3/CartPole-v0")
    assert np.array_equal(trace(env, 1), trace(env, 1))  # re-seeding restarts the streams


def test_stacked_wrappers_of_one_kind_draw_independent_noise():
    env = ObservationNoise(ObservationNoise(Recorder(), 1.0), 1.0)
    noise = observations(env, n=5000).astype(np.float64) - 1.0
    assert within(noise.std(), math.sqrt(2.0), 0.05)  # not 2.0: the draws are not shared


def test_observation_noise_applies_at_reset():
    env = ObservationNoise(Recorder(), 0.5)
    first = {float(env.reset(seed=s)[0][0]) for s in range(5)}
    assert len(first) == 5


# --------------------------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize("scale", [-0.1, float("nan"), float("inf"), [0.1, -0.1, 0.0]])
def test_bad_gaussian_scales_are_rejected(scale):
    with pytest.raises(ValueError, match="scale must be finite and >= 0"):
        ObservationNoise(Recorder(), scale)


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match=r"shape \(3,\), got shape \(2,\)"):
        ObservationNoise(Recorder(), [0.1, 0.2])
    with pytest.raises(TypeError, match="scale must be a number"):
        ActionNoise(Recorder(), "big")
    with pytest.raises(ValueError, match=r"shape \(2,\), got shape \(3,\)"):
        ActionNoise(Recorder(), [0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="probability epsilon of a random action.*in \\[0, 1\\]"):
        ActionNoise(Recorder(spaces.Discrete(3)), 1.5)
    with pytest.raises(ValueError, match="p must be a probability in"):
        ObservationDropout(Recorder(), -0.2)
    with pytest.raises(TypeError, match="p must be a probability"):
        ObservationDropout(Recorder(), True)
    with pytest.raises(TypeError, match="ActionNoise needs a Box or Discrete action space"):
        ActionNoise(Recorder(spaces.MultiDiscrete([2, 2])), 0.1)
    discrete = Recorder()
    discrete.observation_space = spaces.Discrete(3)
    with pytest.raises(TypeError, match="ObservationNoise needs a Box observation space"):
        ObservationNoise(discrete, 0.1)
    with pytest.raises(TypeError, match="ObservationDropout needs a Box observation space"):
        ObservationDropout(discrete, 0.1)
