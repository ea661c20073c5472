"""ArmReach: kinematics, checkers, determinism, parameters, rewards and episode end."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import rlbench3  # noqa: F401  (registers the ids)
from rlbench3.envs.arm_reach import (
    ArmReachEnv,
    ArmReachParams,
    arm_mjcf,
    forward_kinematics,
    reachable_annulus,
    target_angle,
)
from rlbench3.envs.parameters import Distribution
from rlbench3.envs.presets import resolve_params

ID = "rlbench3/ArmReach-v0"
RANDOMIZED = ("link_length", "link_mass", "joint_damping", "joint_armature", "gear")


def zeros(n):
    return np.zeros(n, dtype=np.float32)


def rollout(env, seed, actions):
    """Observations and rewards of one episode (at most ``len(actions)`` steps)."""
    obs, info = env.reset(seed=seed)
    observations, rewards = [obs], []
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(a)
        observations.append(obs)
        rewards.append(reward)
        if terminated or truncated:
            break
    return np.array(observations), np.array(rewards), info


def fixed_actions(n, steps=40, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (steps, n)).astype(np.float32)


# -- kinematics --------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 10),
    data=st.data(),
    low=st.floats(0.01, 0.5),
    width=st.floats(0.0, 0.5),
)
def test_fingertip_site_equals_forward_kinematics(n, data, low, width):
    # Per-link lengths come from a distribution, so this also checks the in-place model update.
    env = ArmReachEnv(n_joints=n, link_length={"low": low, "high": low + width}, tolerance=0.001)
    env.reset(seed=data.draw(st.integers(0, 2**16)))
    q = np.array(data.draw(st.lists(st.floats(-20, 20), min_size=n, max_size=n)))
    env.data.qpos[:] = q
    mujoco.mj_kinematics(env.model, env.data)
    expected = forward_kinematics(q, env.link_lengths)
    assert np.allclose(env.fingertip_position(), expected, atol=1e-9)


def test_forward_kinematics_closed_forms_and_broadcasting():
    assert np.allclose(forward_kinematics([0.0, 0.0], [1.0, 2.0]), [3.0, 0.0])
    assert np.allclose(forward_kinematics([math.pi / 2, -math.pi / 2], 1.0), [1.0, 1.0])
    assert np.allclose(forward_kinematics([0.0, math.pi], [2.0, 0.5]), [1.5, 0.0])
    batch = forward_kinematics(np.zeros((4, 3, 2)), 0.5)
    assert batch.shape == (4, 3, 2) and np.allclose(batch[..., 0], 1.0)
    assert reachable_annulus([1.0, 1.0]) == (0.0, 2.0)
    assert reachable_annulus([3.0, 1.0]) == (2.0, 4.0)
    assert reachable_annulus([0.2]) == (0.2, 0.2)


def test_observation_after_steps_matches_the_current_state():
    env = ArmReachEnv(n_joints=3, preset="R")
    obs, info = env.reset(seed=5)
    for a in fixed_actions(3, 20):
        obs, *_ = env.step(a)
    q, target = env.data.qpos, info["target"]
    assert np.allclose(obs[:3], np.cos(q), atol=1e-6)
    assert np.allclose(obs[3:6], np.sin(q), atol=1e-6)
    assert np.allclose(obs[6:9], env.data.qvel, rtol=1e-6)
    tip = forward_kinematics(q, env.link_lengths)
    assert np.allclose(obs[9:11], tip - target, atol=1e-6)
    assert np.allclose(obs[11:13], target, atol=1e-7)
    assert obs.dtype == np.float32 and obs.shape == env.observation_space.shape


def test_in_place_link_update_equals_a_freshly_compiled_model():
    env = ArmReachEnv(n_joints=4, preset="E")
    actions = fixed_actions(4, 100)
    for seed in (1, 2):
        env.reset(seed=seed)
        ep = env._episode
        fresh = mujoco.MjModel.from_xml_string(
            arm_mjcf(
                ep["link_length"],
                ep["link_mass"],
                ep["joint_damping"],
                ep["joint_armature"],
                ep["gear"],
                env.params.timestep / env.substeps,
            )
        )
        for name in (
            "body_pos",
            "body_ipos",
            "body_mass",
            "body_inertia",
            "dof_damping",
            "dof_armature",
            "actuator_gear",
            "body_subtreemass",
            "dof_invweight0",
        ):
            assert np.array_equal(getattr(env.model, name), getattr(fresh, name)), name
        d2 = mujoco.MjData(fresh)
        for a in actions:
            env.data.ctrl[:] = a
            d2.ctrl[:] = a
            mujoco.mj_step(env.model, env.data, nstep=2)
            mujoco.mj_step(fresh, d2, nstep=2)
        assert np.array_equal(env.data.qpos, d2.qpos) and np.array_equal(env.data.qvel, d2.qvel)


# -- checkers ----------------------------------------------------------------------------------


def check_both(env):
    """Both env checkers; any warning except the unbounded-observation one fails."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped, warn=True)
    unexpected = [str(w.message) for w in caught if "infinity" not in str(w.message)]
    assert not unexpected, unexpected


@pytest.mark.parametrize("preset", [None, "D", "R", "E"])
def test_checkers_pass_at_defaults_and_presets(preset):
    check_both(gym.make(ID, **({} if preset is None else {"preset": preset})))
    check_both(ArmReachEnv(preset=preset, n_joints=5))


def value_or_range(lo, hi):
    value = st.floats(lo, hi)
    ranged = st.tuples(value, value).map(sorted).map(lambda v: {"low": v[0], "high": v[1]})
    return st.one_of(value, ranged)


@st.composite
def valid_kwargs(draw):
    # horizon >= 2: truncating after one step is correct, but gymnasium's checker objects to it.
    # (joint_damping from 0.0005: with gear 0.4 and timestep 0.02, 40 substeps of at most 100.)
    kwargs = dict(
        n_joints=draw(st.integers(1, 10)),
        horizon=draw(st.integers(2, 300)),
        link_length=draw(value_or_range(0.02, 0.3)),
        link_mass=draw(value_or_range(0.02, 0.5)),
        joint_damping=draw(value_or_range(0.0005, 0.01)),
        joint_armature=draw(value_or_range(1e-5, 1e-3)),
        gear=draw(value_or_range(0.01, 0.4)),
        target_distance=draw(value_or_range(0.0, 1.0)),
        reward_mode=draw(st.sampled_from(["sparse", "dense"])),
        frame_skip=draw(st.integers(1, 4)),
        timestep=draw(st.floats(0.001, 0.02)),
    )
    length = kwargs["link_length"]
    low = length["low"] if isinstance(length, dict) else length
    bound = max(2, kwargs["n_joints"]) * low
    kwargs["tolerance"] = draw(value_or_range(0.01 * bound, 0.99 * bound))
    return kwargs


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kwargs=valid_kwargs())
def test_checkers_pass_at_random_valid_parameters(kwargs):
    check_both(gym.make(ID, **kwargs))


# -- seeding and randomization -----------------------------------------------------------------


def test_same_seed_gives_identical_trajectories():
    actions = fixed_actions(2, 150)
    for make in (lambda: gym.make(ID, preset="R"), lambda: ArmReachEnv(preset="R")):
        o1, r1, i1 = rollout(make(), 7, actions)
        o2, r2, i2 = rollout(make(), 7, actions)
        assert np.array_equal(o1, o2) and np.array_equal(r1, r2) and i1["params"] == i2["params"]
        o3, _, _ = rollout(make(), 8, actions)
        assert o3.shape != o1.shape or not np.array_equal(o1, o3)


def test_different_seeds_draw_different_parameters_under_preset_r():
    env = gym.make(ID, preset="R", n_joints=3)
    draws = [env.reset(seed=s)[1]["params"] for s in range(6)]
    params = env.unwrapped.params
    assert set(params.randomized) == {*RANDOMIZED, "target_distance"} - {"joint_armature"}
    for name in params.randomized:
        assert len({repr(d[name]) for d in draws}) == 6, name
        for d in draws:
            values = np.atleast_1d(d[name])
            assert all(getattr(params, name).contains(v) for v in values), name
    # Each link's length and mass is drawn on its own.
    assert all(len(set(d["link_length"])) == 3 and len(d["link_mass"]) == 3 for d in draws)


def test_reset_redraws_parameters_and_target_every_episode():
    env = ArmReachEnv(preset="R")
    env.reset(seed=0)
    firsts = [env.reset()[1] for _ in range(3)]
    assert len({d["params"]["gear"] for d in firsts}) == 3
    assert len({tuple(d["target"]) for d in firsts}) == 3
    # The model follows the draw.
    assert env.model.actuator_gear[0, 0] == firsts[-1]["params"]["gear"]
    assert env.model.dof_damping[0] == firsts[-1]["params"]["joint_damping"]
    assert np.allclose(env.model.body_mass[1:], firsts[-1]["params"]["link_mass"])


@pytest.mark.parametrize(
    "name, a, b",
    [
        ("link_length", 0.1, 0.12),
        ("link_mass", 0.1, 0.13),
        ("joint_damping", 0.003, 0.005),
        ("joint_armature", 1e-4, 3e-4),
        ("gear", 0.1, 0.12),
        ("target_distance", 0.5, 0.7),
    ],
)
def test_each_randomizable_parameter_changes_the_trajectory(name, a, b):
    actions = fixed_actions(3, 30)
    o1, _, _ = rollout(gym.make(ID, n_joints=3, horizon=30, **{name: a}), 3, actions)
    o2, _, _ = rollout(gym.make(ID, n_joints=3, horizon=30, **{name: b}), 3, actions)
    n = min(len(o1), len(o2))
    assert not np.allclose(o1[:n], o2[:n])
    # Given as a (narrow) distribution, the value drawn at reset reaches the dynamics too.
    o3, _, _ = rollout(
        gym.make(ID, n_joints=3, horizon=30, **{name: {"low": b, "high": b}}), 3, actions
    )
    n = min(len(o1), len(o3))
    assert not np.allclose(o1[:n], o3[:n])


def test_target_lies_on_the_annulus_radius_and_never_starts_within_tolerance():
    env = ArmReachEnv(n_joints=3, preset="E")
    for seed in range(50):
        obs, info = env.reset(seed=seed)
        lengths = info["params"]["link_length"]
        r_in, r_out = reachable_annulus(lengths)
        radius = r_in + info["params"]["target_distance"] * (r_out - r_in)
        assert np.linalg.norm(info["target"]) == pytest.approx(radius, rel=1e-9, abs=1e-12)
        assert np.linalg.norm(obs[9:11]) > info["params"]["tolerance"]
    # A tolerance just below the bound leaves only a small arc of valid angles (one link).
    env = ArmReachEnv(n_joints=1, link_length=0.1, tolerance=0.199)
    distances = [np.linalg.norm(env.reset(seed=s)[0][3:5]) for s in range(200)]
    assert min(distances) > 0.199
    # Angles are uniform on the circle when no angle is within tolerance.
    assert target_angle(0.25, 0.05, 0.2, 0.01) == pytest.approx(math.pi / 2)


def test_chosen_target_through_reset_options():
    env = ArmReachEnv()
    obs, info = env.reset(seed=0, options={"target": (0.0, 0.1)})
    assert np.allclose(info["target"], (0.0, 0.1)) and np.allclose(obs[-2:], (0.0, 0.1))
    for bad in [(0.0, 0.5), (0.195, 0.0), (1.0,), ("x", 0.0)]:
        with pytest.raises(ValueError, match="options\\['target'\\]"):
            env.reset(options={"target": bad})


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_joints": 0}, ValueError, "n_joints"),
        ({"n_joints": 11}, ValueError, "n_joints"),
        ({"n_joints": 2.5}, TypeError, "n_joints"),
        ({"n_joints": "2"}, TypeError, "n_joints"),
        ({"n_joints": {"low": 1, "high": 3}}, ValueError, "n_joints cannot be randomized"),
        ({"horizon": 0}, ValueError, "horizon"),
        ({"horizon": 1.5}, TypeError, "horizon"),
        ({"horizon": {"low": 10, "high": 20}}, ValueError, "horizon cannot be randomized"),
        ({"tolerance": 0.0}, ValueError, "tolerance"),
        ({"tolerance": float("nan")}, ValueError, "tolerance"),
        ({"tolerance": 0.2}, ValueError, "tolerance must be below"),
        ({"tolerance": {"low": 0.01, "high": 0.3}}, ValueError, "tolerance must be below"),
        (
            {"n_joints": 1, "tolerance": 0.15, "link_length": {"low": 0.05, "high": 0.1}},
            ValueError,
            "tolerance",
        ),
        ({"link_length": 0.0}, ValueError, "link_length"),
        ({"link_length": float("inf")}, ValueError, "link_length"),
        ({"link_length": {"low": -0.1, "high": 0.1}}, ValueError, "link_length"),
        ({"link_mass": -1.0}, ValueError, "link_mass"),
        ({"link_mass": "heavy"}, TypeError, "link_mass"),
        ({"joint_damping": -0.001}, ValueError, "joint_damping"),
        ({"joint_damping": 0.0}, ValueError, "joint_damping"),
        ({"joint_armature": -1e-4}, ValueError, "joint_armature"),
        ({"joint_armature": 0.0}, ValueError, "joint_armature"),
        # More than 100 RK4 substeps per physics step, at the extremes of distributions.
        (
            {"joint_damping": {"low": 1e-5, "high": 0.003}},
            ValueError,
            r"gear, joint_damping, joint_armature and timestep would need 125 RK4 substeps",
        ),
        (
            {"joint_armature": {"low": 1e-7, "high": 1e-4}, "joint_damping": 0.005},
            ValueError,
            r"would need 1000 RK4 .* joint_damping / joint_armature \* timestep = 0.005 / 1e-07",
        ),
        ({"gear": 0.0}, ValueError, "gear"),
        ({"gear": {"low": 0.2, "high": 0.1}}, ValueError, "gear"),
        ({"target_distance": 1.5}, ValueError, "target_distance"),
        (
            {"target_distance": [{"low": 0.0, "high": 0.6}, {"low": 0.5, "high": 1.0}]},
            ValueError,
            "target_distance",
        ),
        ({"reward_mode": "shaped"}, ValueError, "reward_mode"),
        ({"frame_skip": 0}, ValueError, "frame_skip"),
        ({"frame_skip": {"low": 1, "high": 3}}, ValueError, "frame_skip cannot be randomized"),
        ({"timestep": 0.0}, ValueError, "timestep"),
        ({"timestep": 0.05}, ValueError, "timestep"),
        ({"link_lenght": 0.1}, TypeError, "did you mean 'link_length'"),
        ({"preset": "X"}, ValueError, "preset"),
        ({"render_mode": "ansi"}, ValueError, "render_mode"),
    ],
)
def test_bad_input_raises_naming_the_parameter(kwargs, error, match):
    with pytest.raises(error, match=match):
        ArmReachEnv(**kwargs)
    with pytest.raises(error, match=match), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gymnasium's own warning about an unknown render_mode
        gym.make(ID, **kwargs)


@pytest.mark.parametrize(
    "action",
    [
        np.zeros(3, dtype=np.float32),
        np.zeros((1, 2), dtype=np.float32),
        np.array([1.5, 0.0]),
        np.array([0.0, -1.0001]),
        np.array([np.nan, 0.0]),
        np.array([np.inf, 0.0]),
        "left",
        None,
    ],
)
def test_invalid_actions_raise_naming_the_valid_range(action):
    env = ArmReachEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        env.step(action)
    env.step(np.array([1.0, -1.0], dtype=np.float32))  # the bounds themselves are valid


def test_substeps_follow_the_documented_limits():
    # Defaults: 0.1 / 0.003 * 0.01 = 0.33 rad per step; 0.003 / 1e-4 * 0.01 = 0.3.
    assert [ArmReachEnv(n_joints=n).substeps for n in (1, 3, 4, 10)] == [1, 1, 1, 1]
    # R: 0.12 / 0.0025 * 0.01 = 0.48 rad, over the 0.4 of arms of 4 or more joints.
    assert [ArmReachEnv(preset="R", n_joints=n).substeps for n in (3, 4)] == [1, 2]
    # E: 0.16 / 0.001 * 0.01 = 1.6 rad; exactly at a limit takes the fewer substeps.
    assert [ArmReachEnv(preset="E", n_joints=n).substeps for n in (3, 4)] == [2, 4]
    assert ArmReachEnv(gear=0.16, joint_damping=0.002).substeps == 1
    assert ArmReachEnv(joint_damping=0.006, joint_armature=0.00004).substeps == 3
    # Substeps split the physics step; the control period and the parameters stay as given.
    env = ArmReachEnv(n_joints=5, preset="E", timestep=0.005, frame_skip=4)
    assert env.substeps == 2 and env.model.opt.timestep == 0.0025
    assert env.dt == pytest.approx(0.02) and env.params.timestep == 0.005
    env.reset(seed=0)
    t0 = env.data.time
    env.step(np.ones(5))
    assert env.data.time - t0 == pytest.approx(0.02)


def test_substeps_change_the_cost_not_the_dynamics():
    # Two substeps of a 0.01 s physics step are exactly two physics steps of 0.005 s.
    actions = fixed_actions(2, 150)
    fast = dict(gear=0.16, joint_damping=0.001, joint_armature=4e-4)
    split = ArmReachEnv(**fast)
    assert split.substeps == 2
    finer = ArmReachEnv(**fast, timestep=0.005, frame_skip=4)
    assert finer.substeps == 1
    o2, r2, _ = rollout(split, 3, actions)
    o1, r1, _ = rollout(finer, 3, actions)
    assert np.array_equal(o1, o2) and np.array_equal(r1, r2)
    # One RK4 step of 0.01 s already follows the arm closely: 4x finer steps barely differ.
    o1, _, _ = rollout(ArmReachEnv(n_joints=3), 3, fixed_actions(3, 150))
    o4, _, _ = rollout(
        ArmReachEnv(n_joints=3, timestep=0.0025, frame_skip=8), 3, fixed_actions(3, 150)
    )
    assert len(o1) == len(o4) and np.abs(o1 - o4).max() < 0.05


def test_unstable_simulation_raises_instead_of_silently_resetting():
    # Parameters are simulated within the stability limits, so push the compiled model past
    # them: a 3x larger gear and a 2x longer step, 2 rad per step at the terminal speed (>> 0.4).
    env = ArmReachEnv(n_joints=4, horizon=10_000, tolerance=1e-9)
    env.reset(seed=0)
    env.model.actuator_gear[:, 0] = 0.3
    env.model.opt.timestep = 0.02
    with pytest.raises(RuntimeError, match="unstable"):
        for _ in range(10_000):
            env.step(np.where(env.data.qvel >= 0.0, 1.0, -1.0))
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(4))


def fastest_corner(preset):
    """The preset's fastest parameters: each link at the low or the high end of its length and
    mass ranges (drawn independently per link), lowest joint_damping, highest gear."""
    params = resolve_params(ArmReachParams, preset, {})
    kwargs = {"preset": preset}
    for name in ("link_length", "link_mass"):
        v = getattr(params, name)
        if isinstance(v, Distribution):
            kwargs[name] = {"intervals": [[v.low, v.low], [v.high, v.high]], "weighting": "equal"}
    kwargs["joint_damping"] = getattr(params.joint_damping, "low", params.joint_damping)
    kwargs["gear"] = getattr(params.gear, "high", params.gear)
    return kwargs


def bang_bang_policies(n, rng):
    """Adversarial sequences at the corners of [-1, 1]^n: ``policy(t, dq/dt) -> action``."""
    signs = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return {
        "constant": lambda t, v: signs,
        "all +1": lambda t, v: np.ones(n),
        "random every step": lambda t, v: np.where(rng.random(n) < 0.5, -1.0, 1.0),
        "flip every step": lambda t, v: signs * (-1.0) ** t,
        "flip every 10": lambda t, v: signs * (-1.0) ** (t // 10),
        "flip every 40": lambda t, v: signs * (-1.0) ** (t // 40),
        # Torque along each joint's motion: the most power the motors can put in.
        "sign(dq/dt)": lambda t, v: np.where(v >= 0.0, 1.0, -1.0),
    }


@pytest.mark.parametrize("preset", ["D", "R", "E"])
def test_bang_bang_actions_never_destabilise_the_presets(preset):
    # Regression: with MuJoCo's implicit integrator at 0.01 s, such sequences blew up preset R
    # (10 joints) and E (5) within an episode, and ran D (5) at 7x the terminal speed
    # gear / joint_damping. Episodes here are 4x the default horizon, on draws of the preset and
    # on its fastest corner (light and heavy links mixed, lowest damping, highest gear); joint
    # speeds must stay within a few times the terminal speed (at most about 3.5x seen).
    steps = 600
    for n in (2, 3, 5, 10):
        for k, kwargs in enumerate(({"preset": preset}, fastest_corner(preset))):
            env = ArmReachEnv(n_joints=n, horizon=steps, tolerance=1e-9, **kwargs)
            p = env.params
            terminal = getattr(p.gear, "high", p.gear) / getattr(
                p.joint_damping, "low", p.joint_damping
            )
            rng = np.random.default_rng([n, k])
            for name, policy in bang_bang_policies(n, rng).items():
                env.reset(seed=int(rng.integers(2**31)))
                fastest = 0.0
                for t in range(steps):
                    env.step(policy(t, env.data.qvel))
                    fastest = max(fastest, float(np.abs(env.data.qvel).max()))
                assert np.isfinite(env.data.qpos).all(), (n, kwargs, name)
                assert fastest <= 5.0 * terminal, (n, kwargs, name, fastest, terminal)


# -- rewards and episode end -------------------------------------------------------------------


def place_fingertip_at_distance(env, distance):
    """One link: put the fingertip ``distance`` from the target (on the circle), at rest."""
    (length,) = env.link_lengths
    theta = math.atan2(env.target_position[1], env.target_position[0])
    env.data.qpos[0] = theta + 2.0 * math.asin(distance / (2.0 * length))
    env.data.qvel[:] = 0.0


@pytest.mark.parametrize("reward_mode", ["sparse", "dense"])
@pytest.mark.parametrize("factor, success", [(0.0, True), (0.99, True), (1.01, False)])
def test_reward_and_termination_exactly_at_tolerance(reward_mode, factor, success):
    tol = 0.01
    env = ArmReachEnv(n_joints=1, tolerance=tol, reward_mode=reward_mode)
    env.reset(seed=0, options={"target": (0.0, 0.1)})
    place_fingertip_at_distance(env, factor * tol)
    obs, reward, terminated, truncated, info = env.step(zeros(1))  # at rest, no torque: no motion
    distance = np.linalg.norm(obs[3:5])
    assert distance == pytest.approx(factor * tol, abs=1e-9)
    assert terminated is success and truncated is False and info["is_success"] is success
    if reward_mode == "sparse":
        assert reward == (1.0 if success else 0.0)
    else:
        assert reward == pytest.approx(-distance, abs=1e-7)
    if success:
        with pytest.raises(RuntimeError, match="reset"):
            env.step(zeros(1))


def test_rewards_follow_distance_along_random_episodes():
    for reward_mode in ("sparse", "dense"):
        env = ArmReachEnv(n_joints=1, reward_mode=reward_mode, horizon=150)
        env.reset(seed=1)
        rng = np.random.default_rng(1)
        successes = 0
        for _ in range(20):
            env.reset()
            while True:
                obs, reward, terminated, truncated, info = env.step(rng.uniform(-1, 1, 1))
                inside = info["distance"] <= env.params.tolerance
                assert terminated == inside == info["is_success"]
                assert np.linalg.norm(obs[3:5]) == pytest.approx(info["distance"], abs=1e-6)
                if reward_mode == "sparse":
                    assert reward == float(inside)
                else:
                    assert reward == -info["distance"]
                if terminated or truncated:
                    successes += terminated
                    break
        assert successes > 0


def test_truncation_at_the_horizon():
    for env in (ArmReachEnv(horizon=5), gym.make(ID, horizon=5)):
        env.reset(seed=0)
        for t in range(1, 6):
            _, reward, terminated, truncated, info = env.step(zeros(2))  # the arm stays put
            assert (terminated, truncated, reward) == (False, t == 5, 0.0)
            assert info["is_success"] is False
        with pytest.raises(RuntimeError, match="reset"):
            env.step(zeros(2))
        env.reset()
        env.step(zeros(2))


def test_random_policy_success_falls_with_the_number_of_joints():
    def success_rate(n, episodes=150):
        env = ArmReachEnv(n_joints=n)
        env.reset(seed=0)
        actions = np.random.default_rng(n).uniform(-1, 1, (episodes, env.horizon, n))
        hits = 0
        for ep in range(episodes):
            env.reset()
            for a in actions[ep]:
                _, _, terminated, truncated, _ = env.step(a)
                if terminated or truncated:
                    hits += terminated
                    break
        return hits / episodes

    rates = [success_rate(n) for n in (1, 2, 5)]
    assert rates[0] > rates[1] > rates[2]
    assert 0.04 <= rates[1] <= 0.4


def test_render_rgb_array_headless():
    env = gym.make(ID, render_mode="rgb_array", n_joints=3)
    env.reset(seed=0)
    image = env.render()
    assert image.shape == (256, 256, 3) and image.dtype == np.uint8 and image.std() > 0
    assert ArmReachEnv().render() is None
    assert env.metadata["render_fps"] == 50


def test_params_dataclass_describes_every_parameter():
    described = ArmReachParams.describe()
    for name in (
        "n_joints",
        "horizon",
        "tolerance",
        "link_length",
        "link_mass",
        "joint_damping",
        "gear",
        "reward_mode",
        "target_distance",
        "frame_skip",
        "timestep",
    ):
        assert name in described
    params = ArmReachParams(link_length={"low": 0.08, "high": 0.12})
    assert isinstance(params.link_length, Distribution)
    assert params.to_config()["link_length"] == {"low": 0.08, "high": 0.12}


# -- copy and pickle (issue 11, point 1) -------------------------------------------------------


def _trajectory(env, actions):
    """Observations, rewards and flags of ``actions`` from the env's current state (resets after
    an episode ends, so the generator and the in-place model changes are exercised too)."""
    out = []
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        out.append((obs, reward, terminated, truncated, info["distance"]))
        if terminated or truncated:
            obs, info = env.reset()
            out.append((obs, info["params"]["link_length"], tuple(info["target"])))
    return out


def _same(a, b):
    return len(a) == len(b) and all(
        all(np.array_equal(u, v) for u, v in zip(x, y, strict=True))
        for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize("route", ["deepcopy", "pickle", "cloudpickle"])
@pytest.mark.parametrize("first", ["original", "copy"])
def test_copies_and_unpickled_envs_step_as_the_original_from_the_same_state(route, first):
    import copy
    import pickle

    import cloudpickle

    # Preset R with 3 joints: per-link lengths and masses written into the model in place, a
    # generator in mid-stream, a state in mid-episode; short episodes to cross resets.
    env = ArmReachEnv(preset="R", n_joints=3, horizon=15)
    env.reset(seed=4)
    actions = fixed_actions(3, steps=120, seed=1)
    _trajectory(env, actions[:7])
    dumps, loads = {
        "deepcopy": (copy.deepcopy, lambda x: x),
        "pickle": (pickle.dumps, pickle.loads),
        "cloudpickle": (cloudpickle.dumps, cloudpickle.loads),
    }[route]
    clone = loads(dumps(env))
    assert np.array_equal(clone.fingertip_position(), env.fingertip_position())
    if first == "original":  # stepping one must not move the other (no shared views)
        a, b = _trajectory(env, actions), _trajectory(clone, actions)
    else:
        b, a = _trajectory(clone, actions), _trajectory(env, actions)
    assert _same(a, b)
    assert sum(len(x) == 3 for x in a) >= 5  # several resets crossed


def test_a_copy_keeps_its_own_instability_counter():
    import copy

    env = ArmReachEnv()
    env.reset(seed=0)
    clone = copy.deepcopy(env)
    clone.data.qvel[:] = 1e200  # blow the copy up: its own MuJoCo warning must fire
    with pytest.raises(RuntimeError, match="numerically unstable"):
        clone.step(zeros(2))
    env.step(zeros(2))  # the original is untouched


def test_gymnasium_made_env_deepcopies_and_pickles():
    import copy
    import pickle

    env = gym.make(ID)
    env.reset(seed=0)
    for clone in (copy.deepcopy(env), pickle.loads(pickle.dumps(env))):
        a = env.unwrapped.fingertip_position()
        assert np.array_equal(clone.unwrapped.fingertip_position(), a)
        o1 = clone.step(np.full(2, 0.5, dtype=np.float32))[0]
        o2 = copy.deepcopy(env).step(np.full(2, 0.5, dtype=np.float32))[0]
        assert np.array_equal(o1, o2)


# -- bounds (issue 11, point 13) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"joint_damping": 5e-324}, r"would need (inf|\S+e\+\d+) RK4 substeps"),
        ({"joint_armature": 5e-324}, r"would need (inf|\S+e\+\d+) RK4 substeps"),
        ({"timestep": 5e-324}, r"timestep must be a number >= 0.0001 and <= 0.02, got 5e-324"),
        ({"link_mass": 1e-12}, r"link_mass must be a number >= 1e-06 and <= 1e\+06, got 1e-12"),
        ({"link_length": 1e300}, r"link_length must be a number >= 0.001 and <= 1000"),
        ({"gear": 1e300}, r"gear must be a number > 0 and <= 1e\+06"),
        ({"horizon": 10**30}, r"horizon must be an integer >= 1 and <= 1000000"),
        ({"preset": ["R"]}, r"preset must be one of D, R, E for ArmReach, got \['R'\]"),
    ],
)
def test_values_that_cannot_work_are_refused_naming_the_range(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ArmReachEnv(**kwargs)


# -- the expert (issue 13) -----------------------------------------------------------------------


def expert_success(preset, n_joints, episodes, seed=0):
    env = ArmReachEnv(n_joints=n_joints, preset=preset)
    env.reset(seed=seed)
    successes = 0
    for episode in range(episodes):
        if episode:
            env.reset()
        while True:
            _, _, terminated, truncated, _ = env.step(env.optimal_action())
            if terminated or truncated:
                successes += terminated
                break
    return successes / episodes


@pytest.mark.parametrize("preset", ["D", "R", "E"])
@pytest.mark.parametrize("n_joints", [1, 2, 3])
def test_expert_reaches_the_target_with_short_arms(preset, n_joints):
    assert expert_success(preset, n_joints, 20) == 1.0


def expert_table_in_docstring():
    """``{preset: [rate per n_joints]}`` and the ``n_joints`` of the "Expert" table."""
    lines = [line.strip() for line in ArmReachEnv.__doc__.splitlines()]
    start = lines.index("## Expert")
    header = next(line for line in lines[start:] if line.startswith("| ``n_joints``"))
    joints = [int(x) for x in header.split("|")[2:-1]]
    rows = {}
    for line in lines[lines.index(header) + 2 : lines.index(header) + 5]:
        preset, *rates = (x.strip() for x in line.strip("|").split("|"))
        rows[preset] = [float(r) for r in rates]
    return joints, rows


@pytest.mark.slow
def test_expert_success_table_in_the_docstring_is_what_the_expert_does():
    joints, rows = expert_table_in_docstring()
    assert set(rows) == {"D", "R", "E"} and joints == [1, 2, 3, 5, 10]
    for preset, rates in rows.items():
        for n, rate in zip(joints, rates, strict=True):
            assert expert_success(preset, n, 100) == pytest.approx(rate, abs=0.005), (preset, n)


def test_expert_is_deterministic_and_leaves_the_simulation_alone():
    env, twin = ArmReachEnv(n_joints=3, preset="R"), ArmReachEnv(n_joints=3, preset="R")
    env.reset(seed=1)
    twin.reset(seed=1)
    for _ in range(30):
        a = env.optimal_action()
        assert a.dtype == np.float32 and env.action_space.contains(a)
        assert np.array_equal(a, env.optimal_action())  # asking twice changes nothing
        o1, _, terminated, truncated, _ = env.step(a)
        o2, *_ = twin.step(a)  # a twin never asked steps the same
        assert np.array_equal(o1, o2)
        if terminated or truncated:
            break
    assert terminated
    with pytest.raises(RuntimeError, match="reset"):
        ArmReachEnv().optimal_action()


def test_expert_moves_the_fingertip_toward_the_target_from_the_first_step():
    env = ArmReachEnv(n_joints=2)
    env.reset(seed=0, options={"target": (0.0, 0.15)})
    distances = []
    for _ in range(5):
        distances.append(env.step(env.optimal_action())[4]["distance"])
    assert all(b < a for a, b in zip(distances, distances[1:]))


def test_env_copies_after_the_expert_was_asked():
    import copy
    import pickle

    env = ArmReachEnv(n_joints=2, preset="R")
    env.reset(seed=3)
    env.optimal_action()
    for clone in (copy.deepcopy(env), pickle.loads(pickle.dumps(env))):
        assert np.array_equal(clone.optimal_action(), env.optimal_action())
        a = env.optimal_action()
        assert np.array_equal(copy.deepcopy(env).step(a)[0], clone.step(a)[0])
