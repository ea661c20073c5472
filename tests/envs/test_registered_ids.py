"""Contracts every registered rlbench3 environment must meet."""

from __future__ import annotations

import subprocess
import sys
import warnings
from dataclasses import fields

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import rlbench3
from rlbench3.envs.parameters import ChoiceSpec, Distribution
from rlbench3.envs.presets import all_presets

# Every family; the Mixture id composes other ids and has its own tests (test_mixture.py).
IDS = [i for i in rlbench3.registered_ids() if i != "rlbench3/Mixture-v0"]
# Honest warnings: unbounded observations (Gaussian distractors, positions) are unbounded.
EXPECTED_WARNINGS = ("infinity",)


def params_class(env_id):
    return type(gym.make(env_id).unwrapped.params)


def check_both(env):
    """Both env checkers; any warning other than the expected ones fails the test."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped, warn=True)
    expected = EXPECTED_WARNINGS
    if env.spec is not None and "Pendulum" in env.spec.id:
        # Gymnasium's own Pendulum acts in [-2, 2]; SB3's checker warns for Pendulum-v1 as well.
        expected = (*expected, "symmetric and normalized")
    unexpected = [str(w.message) for w in caught if not any(e in str(w.message) for e in expected)]
    assert not unexpected, unexpected


def test_every_family_is_registered():
    tasks = ("CartPole", "MountainCar", "Acrobot", "Pendulum", "HalfCheetah", "Hopper")
    expected = {
        "rlbench3/ArmReach-v0",
        "rlbench3/CombinationLock-v0",
        "rlbench3/Orbit-v0",
        "rlbench3/SparseReach-v0",
    }
    expected |= {f"rlbench3/{t}{v}-v0" for t in tasks for v in ("", "-D", "-R", "-E")}
    assert set(IDS) == expected


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("preset", [None, "D", "R", "E"])
def test_checkers_pass_at_defaults_and_presets(env_id, preset):
    check_both(gym.make(env_id, **({} if preset is None else {"preset": preset})))


def valid_kwargs(params_cls):
    """A hypothesis strategy of valid keyword sets, derived from the dataclass's declared ranges.

    Ranges are capped around the defaults (x/4 .. 4x) to keep episodes small and physical.
    """
    strategies = {}
    for f in fields(params_cls):
        spec = f.metadata["spec"]
        if isinstance(spec, ChoiceSpec):
            strategies[f.name] = st.sampled_from(spec.options)
            continue
        default = f.default
        if isinstance(default, Distribution):
            default = (default.low + default.high) / 2
        low = spec.ge if spec.ge is not None else (spec.gt if spec.gt is not None else -10.0)
        high = spec.le if spec.le is not None else (spec.lt if spec.lt is not None else np.inf)
        if spec.integer:
            low = int(low) + (spec.gt is not None)
            if f.name == "horizon":
                # Gymnasium's check_env rejects an env that truncates after its first step, which
                # is what a horizon of 1 correctly does.
                low = max(low, 2)
            high = int(min(high - (spec.lt is not None), max(low + 3, 2 * default)))
            value = st.integers(low, high)
        else:
            if default > 0:
                low, high = max(low, default / 4), min(high, default * 4)
            else:
                high = min(high, low + 1.0)
            value = st.floats(
                low,
                high,
                exclude_min=spec.gt is not None and low == spec.gt,
                exclude_max=spec.lt is not None and high == spec.lt,
            )
        if spec.randomizable:
            interval = (
                st.tuples(value, value).map(sorted).map(lambda lh: {"low": lh[0], "high": lh[1]})
            )
            value = st.one_of(value, interval)
        strategies[f.name] = value
    return st.fixed_dictionaries({}, optional=strategies)


@pytest.mark.parametrize("env_id", IDS)
def test_checkers_pass_at_random_valid_parameters(env_id):
    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(kwargs=valid_kwargs(params_class(env_id)))
    def check(kwargs):
        check_both(gym.make(env_id, **kwargs))

    check()


def rollout(env, seed, steps=120):
    """Observations, rewards and drawn parameters of ``steps`` steps under seeded random actions."""
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    env.action_space.seed(seed)
    trace = [("reset", obs, info["params"])]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        trace.append(("step", obs, reward, terminated, truncated))
        if terminated or truncated:
            obs, info = env.reset()
            trace.append(("reset", obs, info["params"]))
    rng.random()
    return trace


def same_trace(a, b):
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, np.ndarray):
                if not np.array_equal(u, v):
                    return False
            elif u != v:
                return False
    return True


@pytest.mark.parametrize("env_id", IDS)
def test_same_seed_gives_identical_trajectories(env_id):
    a = rollout(gym.make(env_id, preset="R"), seed=3)
    b = rollout(gym.make(env_id, preset="R"), seed=3)
    assert same_trace(a, b)
    assert not same_trace(a, rollout(gym.make(env_id, preset="R"), seed=4))


@pytest.mark.parametrize("env_id", IDS)
def test_different_seeds_draw_different_randomized_parameters(env_id):
    draws = [gym.make(env_id, preset="R").reset(seed=s)[1]["params"] for s in range(5)]
    params = gym.make(env_id, preset="R").unwrapped.params
    assert params.randomized, "preset R must randomize something"
    for name in params.randomized:
        values = [repr(d[name]) for d in draws]
        assert len(set(values)) > 1, f"{name} did not vary across seeds: {values}"
    # ...and every draw lies inside the declared distribution.
    for d in draws:
        for name in params.randomized:
            dist = getattr(params, name)
            for v in np.atleast_1d(d[name]):
                assert dist.contains(v)


@pytest.mark.parametrize("env_id", IDS)
def test_every_family_has_presets_whose_extreme_range_surrounds_the_training_range(env_id):
    family = params_class(env_id).family
    presets = all_presets()[family]
    assert set(presets) >= {"D", "R", "E"} and not presets["D"]
    r = params_class(env_id)(**presets["R"])
    e = params_class(env_id)(**presets["E"])
    assert set(e.randomized) == set(r.randomized)
    for name in r.randomized:
        train, extreme = getattr(r, name), getattr(e, name)
        assert len(extreme.intervals) == 2, f"{name}: E must be two intervals"
        (lo_side, hi_side) = extreme.intervals
        assert lo_side[1] <= train.low and hi_side[0] >= train.high, f"{name}: E overlaps R"


def test_colon_route_imports_rlbench3_for_code_that_never_does():
    code = (
        "import sys, gymnasium as gym\n"
        "assert 'rlbench3' not in sys.modules\n"
        "env = gym.make('rlbench3:rlbench3/CombinationLock-v0', horizon=12, num_actions=3)\n"
        "assert env.observation_space.shape == (14,)\n"
        "envs = gym.make_vec('rlbench3:rlbench3/SparseReach-v0', num_envs=4)\n"
        "print(type(envs).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "SparseReachVectorEnv"


def test_gymnasium_async_vector_env_with_spawned_workers():
    envs = gym.make_vec(
        "rlbench3/SparseReach-v0",
        num_envs=2,
        vectorization_mode="async",
        vector_kwargs={"context": "spawn"},
        action_dim=3,
    )
    try:
        obs, _ = envs.reset(seed=0)
        obs, rewards, *_ = envs.step(np.zeros((2, 3), dtype=np.float32))
        assert obs.shape == (2, 9) and rewards.shape == (2,)
    finally:
        envs.close()


def test_sb3_subproc_vec_env_with_spawned_workers():
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    # Plain ids vanish in a spawned worker, which never imported rlbench3; the "rlbench3:" prefix
    # makes gymnasium import it there first.
    envs = make_vec_env(
        "rlbench3:rlbench3/CombinationLock-v0",
        n_envs=2,
        vec_env_cls=SubprocVecEnv,
        vec_env_kwargs={"start_method": "spawn"},
        env_kwargs={"horizon": 3},
    )
    try:
        obs = envs.reset()
        assert obs.shape == (2, 5)
        obs, rewards, dones, infos = envs.step(np.array([0, 1]))
        assert rewards.shape == (2,)
    finally:
        envs.close()
