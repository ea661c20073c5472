"""SparseReach: exact dynamics, rewards, the dimension effect, the batched path."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rlbench3  # noqa: F401
from rlbench3.analysis.probes import hit_probability
from rlbench3.envs.sparse_reach import SparseReachEnv, SparseReachVectorEnv

ID = "rlbench3/SparseReach-v0"


@settings(max_examples=40, deadline=None)
@given(
    mass=st.floats(0.1, 10.0),
    damping=st.one_of(st.just(0.0), st.floats(1e-9, 5.0)),
    gain=st.floats(0.1, 5.0),
    dt=st.floats(0.01, 1.0),
    force=st.floats(-1.0, 1.0),
    steps=st.integers(1, 40),
)
def test_integration_is_exact_for_a_constant_force(mass, damping, gain, dt, force, steps):
    # m v' = g a - c v from rest has a closed-form solution; the env must reproduce it exactly
    # (up to rounding), whatever the step size.
    env = SparseReachEnv(
        action_dim=1,
        mass=mass,
        damping=damping,
        action_gain=gain,
        dt=dt,
        goal_distance=1e6,
        horizon=1000,
    )
    env.reset(seed=0)
    for _ in range(steps):
        obs, *_ = env.step(np.array([force], dtype=np.float32))
    f = gain * float(np.float32(force)) / mass  # float64: NEP 50 would keep float32
    k, t = damping / mass, steps * dt
    if k * t < 1e-6:
        v, x = f * t, f * t * t / 2
    else:
        v = f / k * (1 - math.exp(-k * t))
        x = f / k * t - f / k * (1 - math.exp(-k * t)) / k
    assert obs[0] == pytest.approx(x, rel=1e-5, abs=1e-6)
    assert obs[1] == pytest.approx(v, rel=1e-5, abs=1e-6)


def test_goal_at_distance_in_every_direction():
    env = SparseReachEnv(action_dim=3, goal_distance=2.0)
    goals = np.array([env.reset(seed=s)[0][6:] for s in range(2000)])
    assert np.allclose(np.linalg.norm(goals, axis=1), 2.0)
    assert np.allclose(goals.mean(axis=0), 0.0, atol=0.1)  # no preferred direction


def drive_to_goal(env, seed=0):
    """A bang-bang controller that pushes toward the goal; returns the episode's transitions."""
    obs, _ = env.reset(seed=seed)
    d = env.unwrapped.action_dim
    out = []
    while True:
        rel = obs[2 * d :]
        action = np.clip(rel / (np.abs(rel).max() + 1e-9), -1, 1).astype(np.float32)
        obs, reward, terminated, truncated, info = env.step(action)
        out.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            return out


def test_sparse_reward_only_on_success_which_terminates():
    steps = drive_to_goal(SparseReachEnv(action_dim=2, horizon=200))
    *before, last = steps
    assert all(r == 0.0 and not t and not tr for _, r, t, tr, _ in before)
    obs, reward, terminated, truncated, info = last
    assert reward == 1.0 and terminated and not truncated and info["is_success"]
    assert np.linalg.norm(obs[4:]) <= 0.25


def test_dense_reward_is_minus_distance():
    steps = drive_to_goal(SparseReachEnv(action_dim=2, horizon=200, reward_mode="dense"))
    for obs, reward, *_ in steps:
        assert reward == pytest.approx(-np.linalg.norm(obs[4:].astype(np.float64)), rel=1e-6)
    assert steps[-1][2] and steps[-1][4]["is_success"]


def test_reset_can_place_the_goal():
    env = SparseReachEnv(action_dim=2)
    obs, info = env.reset(seed=0, options={"goal": [0.3, -0.4]})
    assert obs[4:].tolist() == pytest.approx([0.3, -0.4]) and info["params"]["goal_distance"] == 0.5
    with pytest.raises(ValueError, match=r"options\['goal'\] must be a finite array of shape"):
        env.reset(options={"goal": [1.0, np.nan]})


def test_truncation_at_the_horizon():
    env = SparseReachEnv(action_dim=2, horizon=7)
    env.reset(seed=0)
    flags = [env.step(np.zeros(2, dtype=np.float32))[2:4] for _ in range(7)]
    assert flags[:-1] == [(False, False)] * 6 and flags[-1] == (False, True)


@pytest.mark.parametrize(
    "action", [np.array([1.5, 0.0]), np.array([np.nan, 0.0]), np.zeros(3), np.zeros((1, 2))]
)
def test_invalid_actions_raise_instead_of_clipping(action):
    env = SparseReachEnv(action_dim=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be an array of shape \(2,\) .*\[-1, 1\]"):
        env.step(action)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action_dim": 0}, r"action_dim must be an integer >= 1 and <= 1000, got 0"),
        ({"action_dim": {"low": 1, "high": 3}}, r"action_dim cannot be randomized"),
        ({"horizon": 0}, r"horizon must be an integer >= 1 and <= 1000000, got 0"),
        ({"goal_distance": 0.0}, r"goal_distance must be a number > 0 and <= 1e\+06, got 0.0"),
        ({"tolerance": 0.0}, r"tolerance must be a number > 0 and <= 1e\+06, got 0.0"),
        ({"tolerance": -1}, r"tolerance must be a number > 0"),
        ({"mass": -1.0}, r"mass must be a number >= 1e-06 and <= 1e\+06, got -1.0"),
        ({"mass": {"low": 0.0, "high": 1.0}}, r"mass must be a number >= 1e-06 .* everywhere"),
        ({"damping": -0.5}, r"damping must be a number >= 0 and <= 1e\+06, got -0.5"),
        ({"action_gain": 0}, r"action_gain must be a number > 0 and <= 1e\+06, got 0"),
        ({"dt": 2.0}, r"dt must be a number > 0 and <= 1, got 2.0"),
        ({"dt": {"low": 0.5, "high": 0.1}}, r"dt: interval low must be <= high"),
        ({"reward_mode": "shaped"}, r"reward_mode must be one of 'sparse', 'dense'"),
        ({"mass": [[0.5, 2.0], [1.0, 3.0]]}, r"mass: .* overlaps"),
        ({"action_dims": 2}, r"unknown parameter 'action_dims' .* did you mean 'action_dim'"),
    ],
)
def test_bad_input_fails_at_construction(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        gym.make(ID, **kwargs)
    with pytest.raises((ValueError, TypeError), match=message):
        SparseReachVectorEnv(num_envs=2, **kwargs)


def test_random_hit_probability_falls_with_action_dimension():
    estimates = [hit_probability(ID, 40_000, seed=0, action_dim=d) for d in (1, 2, 3, 4)]
    for easier, harder in zip(estimates, estimates[1:], strict=False):
        assert easier.low > harder.high  # strictly separated intervals
    assert estimates[0].probability > 0.3 and estimates[3].probability < 0.02


# --------------------------------------------------------------------------------------------
# The batched path


def test_one_copy_vector_env_equals_single_env_even_when_randomized():
    kwargs = dict(preset="R", action_dim=3, horizon=20)
    env, envs = SparseReachEnv(**kwargs), SparseReachVectorEnv(1, **kwargs)
    o1, i1 = env.reset(seed=5)
    o2, i2 = envs.reset(seed=5)
    assert np.array_equal(o1, o2[0])
    for name in ("goal_distance", "mass", "damping", "action_gain"):
        assert i1["params"][name] == i2["params"][name][0]
    rng = np.random.default_rng(0)
    episodes = 0
    for _ in range(300):
        a = rng.uniform(-1, 1, 3).astype(np.float32)
        o1, r1, t1, tr1, _ = env.step(a)
        o2, r2, t2, tr2, _ = envs.step(a[None])
        assert np.array_equal(o1, o2[0]) and (r1, t1, tr1) == (r2[0], t2[0], tr2[0])
        if t1 or tr1:
            episodes += 1
            o1, _ = env.reset()
            o2, *_ = envs.step(a[None])
            assert np.array_equal(o1, o2[0])
    assert episodes >= 10


@pytest.mark.parametrize("reward_mode", ["sparse", "dense"])
def test_batched_copies_follow_single_env_dynamics(reward_mode):
    # Each copy of a 16-copy batch is replayed by a single env given the same goal and actions.
    n, steps, d = 16, 120, 2
    kwargs = dict(action_dim=d, horizon=25, reward_mode=reward_mode, tolerance=0.4)
    envs = SparseReachVectorEnv(n, **kwargs)
    rng = np.random.default_rng(1)
    actions = rng.uniform(-1, 1, (steps, n, d)).astype(np.float32)
    _, info = envs.reset(seed=0)
    record = [envs.step(a)[:4] for a in actions]
    ended = 0
    for i in range(n):
        env = SparseReachEnv(**kwargs)
        env.reset(seed=0, options={"goal": info["goal"][i]})  # replay this copy's first episode
        just_ended = False
        for t, a in enumerate(actions):
            if just_ended:
                break  # the next episode has a new goal drawn from the batch's stream
            obs, rew, term, trunc, _ = env.step(a[i])
            b_obs, b_rew, b_term, b_trunc = (x[i] for x in record[t])
            assert np.array_equal(obs, b_obs) and rew == b_rew
            assert (term, trunc) == (b_term, b_trunc)
            just_ended = term or trunc
        ended += just_ended
    assert ended == n


def test_batched_env_is_selected_by_make_vec_and_validates_actions():
    envs = gym.make_vec(ID, num_envs=4, action_dim=2)
    assert isinstance(envs, SparseReachVectorEnv)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions must be an array of shape \(4, 2\)"):
        envs.step(np.full((4, 2), 2.0))


def test_rgb_rendering_draws_goal_and_mass_headless():
    env = SparseReachEnv(action_dim=1, render_mode="rgb_array")
    env.reset(seed=0)
    image = env.render()
    assert image.shape == (256, 256, 3) and image.dtype == np.uint8
    assert (image == (60, 90, 200)).all(axis=-1).any()  # the mass
    assert (image == (60, 170, 80)).all(axis=-1).any()  # the goal's tolerance ring


# --------------------------------------------------------------------------------------------
# The batched env's vector API (issue 11, point 3)


def test_batched_infos_follow_gymnasium_vector_convention():
    envs = SparseReachVectorEnv(3, preset="R", horizon=2)
    _, infos = envs.reset(seed=0)
    params = infos["params"]
    for name in ("action_dim", "horizon", "goal_distance", "tolerance", "dt", "reward_mode"):
        assert params[name].shape == (3,) and params[f"_{name}"].tolist() == [True] * 3
    assert params["tolerance"].dtype == np.float64 and params["reward_mode"][2] == "sparse"
    assert infos["goal"].shape == (3, 2) and infos["_goal"].all() and infos["_params"].all()
    zeros = np.zeros((3, 2), dtype=np.float32)
    envs.step(zeros)
    _, _, _, truncated, infos = envs.step(zeros)
    assert truncated.all() and infos["_is_success"].all() and "params" not in infos
    _, _, _, _, infos = envs.step(zeros)  # the autoreset step: every copy's reset info
    assert infos["_params"].all() and infos["params"]["_mass"].all()
    assert not infos["_is_success"].any()


def test_batched_step_before_reset_raises():
    envs = SparseReachVectorEnv(2)
    with pytest.raises(gym.error.ResetNeeded, match="reset"):
        envs.step(np.zeros((2, 2), dtype=np.float32))


@pytest.mark.parametrize("limit", [1, 4, 25, 30])
def test_batched_max_episode_steps_truncates_as_sync_time_limit(limit):
    kwargs = dict(action_dim=1, horizon=25, tolerance=0.5, max_episode_steps=limit)
    native = gym.make_vec(ID, num_envs=1, **kwargs)
    sync = gym.make_vec(ID, num_envs=1, vectorization_mode="sync", **kwargs)
    native.reset(seed=0)
    sync.reset(seed=0)
    rng = np.random.default_rng(0)
    ends = 0
    for a in rng.uniform(-1, 1, (200, 1, 1)).astype(np.float32):
        got, want = native.step(a), sync.step(a)
        for x, y in zip(got[:4], want[:4]):
            assert np.array_equal(x, y)
        ends += bool(got[2][0] or got[3][0])
    assert ends >= 200 // (min(limit, 25) + 1)


@pytest.mark.parametrize("mode", ["rgb_array", "ansi"])
def test_batched_rendering_draws_each_copy_as_the_single_env(mode):
    envs = SparseReachVectorEnv(1, render_mode=mode, preset="R")
    single = SparseReachEnv(render_mode=mode, preset="R")
    envs.reset(seed=3)
    single.reset(seed=3)
    for _ in range(4):
        a = np.full(2, 0.7, dtype=np.float32)
        envs.step(a[None])
        single.step(a)
    (frame,) = envs.render()
    assert np.array_equal(frame, single.render())
    with pytest.raises(ValueError, match=r"render_mode must be one of \['ansi', 'rgb_array'\]"):
        SparseReachVectorEnv(2, render_mode="human")


# --------------------------------------------------------------------------------------------
# Keywords that cannot work are refused at construction (issue 11, point 13)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mass": 5e-324}, r"mass must be a number >= 1e-06 and <= 1e\+06, got 5e-324"),
        ({"mass": {"low": 1e-300, "high": 1.0}}, r"mass must be a number >= 1e-06"),
        ({"action_gain": 1e300}, r"action_gain must be a number > 0 and <= 1e\+06"),
        ({"goal_distance": 10**400}, r"goal_distance must be a number > 0 and <= 1e\+06"),
        ({"horizon": 10**30}, r"horizon must be an integer >= 1 and <= 1000000"),
        ({"action_dim": 1e30}, r"action_dim must be an integer >= 1 and <= 1000"),
        ({"preset": ["R"]}, r"preset must be one of D, R, E for SparseReach, got \['R'\]"),
    ],
)
def test_keywords_that_cannot_work_are_refused_naming_the_range(kwargs, message):
    for make in (SparseReachEnv, lambda **kw: SparseReachVectorEnv(2, **kw)):
        with pytest.raises((ValueError, TypeError), match=message):
            make(**kwargs)


def test_extreme_valid_parameters_keep_the_dynamics_finite():
    # The lightest mass pushed by the strongest gain without damping for the longest steps: the
    # fastest growth there is. Positions grow as t^2 / 2 * gain / mass, 5e29 at the largest
    # horizon (1e6 steps): finite in float32. Checked here over 2000 steps, then by the formula.
    kwargs = dict(action_dim=1, mass=1e-6, action_gain=1e6, damping=0.0, dt=1.0, goal_distance=1e6)
    env = SparseReachEnv(horizon=10**6, reward_mode="dense", **kwargs)
    env.reset(seed=0)
    for _ in range(2000):
        obs, reward, *_ = env.step(np.ones(1, dtype=np.float32))
    assert np.isfinite(obs).all() and math.isfinite(reward)
    assert obs[0] == pytest.approx(2000**2 / 2 * 1e12, rel=1e-3)
    assert (10**6) ** 2 / 2 * 1e12 < np.finfo(np.float32).max
    # The stiffest damping on the lightest mass: the velocity decays at once, nothing overflows.
    env = SparseReachEnv(horizon=100, action_dim=1, mass=1e-6, damping=1e6, action_gain=1e6)
    env.reset(seed=0)
    obs = [env.step(np.ones(1, dtype=np.float32))[0] for _ in range(50)]
    assert np.isfinite(obs).all()


# --------------------------------------------------------------------------------------------
# The expert and the distance observation (issues 13 and 14)


def expert_success(preset, d, episodes, seed=0, **kwargs):
    """Success rate of the expert over ``episodes`` episodes of the batched env (one per copy)."""
    envs = SparseReachVectorEnv(episodes, preset=preset, action_dim=d, **kwargs)
    envs.reset(seed=seed)
    ended = np.zeros(episodes, dtype=bool)
    success = np.zeros(episodes, dtype=bool)
    while not ended.all():
        _, _, terminated, truncated, _ = envs.step(envs.optimal_actions())
        success |= terminated & ~ended
        ended |= terminated | truncated
    return success.mean()


@pytest.mark.parametrize("preset", ["D", "R", "E"])
@pytest.mark.parametrize("d", [1, 2, 4, 8])
def test_expert_reaches_the_goal_in_every_preset(preset, d):
    # The docstring ("Expert") states 200 of 200 episodes for each of these.
    assert expert_success(preset, d, 200) == 1.0


def test_expert_is_a_deterministic_function_of_the_observation():
    from rlbench3.envs.sparse_reach import expert_force

    env = SparseReachEnv(action_dim=3, preset="R")
    obs, _ = env.reset(seed=2)
    for _ in range(10):
        a = env.optimal_action()
        assert np.array_equal(a, env.optimal_action()) and a.dtype == np.float32
        assert env.action_space.contains(a) and np.abs(a).max() <= 1.0
        # From the float32 observation, the same action up to its rounding.
        assert np.allclose(expert_force(obs[6:9], obs[3:6]), a, atol=1e-5)
        obs, *_ = env.step(a)
    with pytest.raises(RuntimeError, match="reset"):
        SparseReachEnv().optimal_action()


def test_expert_keeps_the_direction_when_it_saturates():
    from rlbench3.envs.sparse_reach import expert_force

    rel, v = np.array([3.0, -1.0]), np.zeros(2)
    assert expert_force(rel, v).tolist() == pytest.approx([1.0, -1.0 / 3.0])
    assert expert_force(np.array([0.1, 0.0]), np.array([0.05, 0.0])).tolist() == pytest.approx(
        [0.3, 0.0]
    )


def test_batched_expert_equals_the_single_env_expert():
    kwargs = dict(action_dim=3, preset="R")
    env, envs = SparseReachEnv(**kwargs), SparseReachVectorEnv(1, **kwargs)
    env.reset(seed=9)
    envs.reset(seed=9)
    with pytest.raises(gym.error.ResetNeeded):
        SparseReachVectorEnv(2).optimal_actions()
    for _ in range(100):
        a, b = env.optimal_action(), envs.optimal_actions()
        assert b.shape == (1, 3) and np.array_equal(a, b[0])
        _, _, t, tr, _ = env.step(a)
        envs.step(b)
        if t or tr:
            env.reset()
            envs.step(b)  # the autoreset step


@pytest.mark.parametrize("reward_mode", ["sparse", "dense"])
@pytest.mark.parametrize("preset", [None, "R"])
def test_distance_observation_changes_only_the_observation(reward_mode, preset):
    kwargs = dict(action_dim=2, horizon=30, reward_mode=reward_mode, preset=preset)
    standard, distance = gym.make(ID, **kwargs), gym.make(ID, observation_mode="distance", **kwargs)
    assert distance.observation_space.shape == (7,) and distance.observation_space.low[6] == 0.0
    rng = np.random.default_rng(0)
    o1, i1 = standard.reset(seed=3)
    o2, i2 = distance.reset(seed=3)
    ends = successes = 0

    def same_reset_info(i1, i2):
        assert i1["params"] == {**i2["params"], "observation_mode": "standard"}
        assert set(i1) == set(i2) and np.array_equal(i1["goal"], i2["goal"])

    same_reset_info(i1, i2)
    for _ in range(600):
        assert np.array_equal(o1, o2[:6])
        assert o2[6] == pytest.approx(np.linalg.norm(o2[4:6].astype(np.float64)), rel=1e-6)
        # Half the steps the expert (successes), half random actions (truncations).
        a = standard.unwrapped.optimal_action() if ends % 2 else rng.uniform(-1, 1, 2)
        a = a.astype(np.float32)
        o1, r1, t1, tr1, i1 = standard.step(a)
        o2, r2, t2, tr2, i2 = distance.step(a)
        assert (r1, t1, tr1, i1) == (r2, t2, tr2, i2)
        if t1 or tr1:
            ends += 1
            successes += t1
            o1, i1 = standard.reset()
            o2, i2 = distance.reset()
            same_reset_info(i1, i2)
    assert ends > 10 and 0 < successes < ends


@pytest.mark.parametrize("reward_mode", ["sparse", "dense"])
def test_batched_distance_observation_equals_single_env(reward_mode):
    kwargs = dict(preset="R", action_dim=3, horizon=20, observation_mode="distance")
    env, envs = SparseReachEnv(**kwargs), SparseReachVectorEnv(1, **kwargs)
    o1, i1 = env.reset(seed=5)
    o2, i2 = envs.reset(seed=5)
    assert envs.single_observation_space == env.observation_space
    assert i2["params"]["observation_mode"][0] == "distance"
    assert np.array_equal(o1, o2[0])
    rng = np.random.default_rng(0)
    for _ in range(200):
        a = rng.uniform(-1, 1, 3).astype(np.float32)
        o1, r1, t1, tr1, _ = env.step(a)
        o2, r2, t2, tr2, _ = envs.step(a[None])
        assert np.array_equal(o1, o2[0]) and (r1, t1, tr1) == (r2[0], t2[0], tr2[0])
        if t1 or tr1:
            o1, _ = env.reset()
            o2, *_ = envs.step(a[None])
            assert np.array_equal(o1, o2[0])


@pytest.mark.parametrize("observation_mode", ["standard", "distance"])
@pytest.mark.parametrize("preset", [None, "R", "E"])
def test_checkers_pass_in_every_observation_mode(observation_mode, preset):
    import warnings

    from gymnasium.utils.env_checker import check_env as gym_check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make(ID, observation_mode=observation_mode, preset=preset)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped, warn=True)
    assert all("infinity" in str(w.message) for w in caught)


def test_bad_observation_mode_is_refused():
    with pytest.raises(ValueError, match=r"observation_mode must be one of 'standard', 'distance'"):
        gym.make(ID, observation_mode="progress")
    with pytest.raises(ValueError, match=r"observation_mode must be one of"):
        SparseReachVectorEnv(2, observation_mode=None)
