"""Randomized MuJoCo locomotion: Packer et al.'s ranges, parameters applied to the model exactly as
a fresh compilation would, success at Packer et al.'s speed over the episode, E sampling and
variants."""

from __future__ import annotations

import copy
import pickle
import xml.etree.ElementTree as ET

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import rlbench3  # noqa: F401  (registers the ids)
from rlbench3.envs.locomotion import (
    PACKER_DEVIATIONS,
    PACKER_SPEED,
    HalfCheetahEnv,
    HalfCheetahParams,
    HopperEnv,
    HopperParams,
)
from rlbench3.envs.presets import resolve_params

TABLE = {
    "HalfCheetah": {
        "power": (0.9, (0.7, 1.1), ((0.5, 0.7), (1.1, 1.3))),
        "density": (1000.0, (750.0, 1250.0), ((500.0, 750.0), (1250.0, 1500.0))),
        "friction": (0.8, (0.5, 1.1), ((0.2, 0.5), (1.1, 1.4))),
    },
    "Hopper": {
        "power": (0.75, (0.6, 0.9), ((0.4, 0.6), (0.9, 1.1))),
        "density": (1000.0, (750.0, 1250.0), ((500.0, 750.0), (1250.0, 1500.0))),
        "friction": (0.8, (0.5, 1.1), ((0.2, 0.5), (1.1, 1.4))),
    },
}
PARAMS = {"HalfCheetah": HalfCheetahParams, "Hopper": HopperParams}
ENVS = {"HalfCheetah": HalfCheetahEnv, "Hopper": HopperEnv}
# Arrays of the compiled model that the three parameters, or what MuJoCo derives from them, touch.
DERIVED = (
    "actuator_gear",
    "actuator_acc0",
    "body_mass",
    "body_inertia",
    "body_subtreemass",
    "body_invweight0",
    "dof_invweight0",
    "dof_M0",
    "geom_friction",
)


@pytest.mark.parametrize("task", TABLE)
def test_presets_are_packer_et_al_table_1(task):
    cls = PARAMS[task]
    d, r, e = (resolve_params(cls, p, {}) for p in ("D", "R", "E"))
    assert not d.randomized
    assert set(r.randomized) == set(e.randomized) == set(TABLE[task])
    for name, (default, train, extreme) in TABLE[task].items():
        assert getattr(d, name) == default == getattr(cls(), name)
        assert getattr(r, name).intervals == (train,)
        assert getattr(e, name).intervals == extreme
        (lo_side, hi_side) = extreme
        assert lo_side[0] < lo_side[1] == train[0] < train[1] == hi_side[0] < hi_side[1]


@pytest.mark.parametrize("task", TABLE)
def test_ids_carry_the_preset_and_gymnasiums_time_limit(task):
    for preset in (None, "D", "R", "E"):
        spec = gym.spec(f"rlbench3/{task}{'' if preset is None else '-' + preset}-v0")
        assert spec.max_episode_steps == gym.spec(f"{task}-v5").max_episode_steps == 1000
        assert spec.kwargs == ({} if preset is None else {"preset": preset})


# --------------------------------------------------------------------------------------------
# The model: Gymnasium's at the identity, a fresh compilation's elsewhere


def rollout(env, steps=30, seed=0):
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    actions = rng.uniform(-1, 1, size=(steps, env.action_space.shape[0])).astype(np.float32)
    out = [obs]
    for a in actions:
        obs, reward, terminated, *_ = env.step(a)
        out.append(obs)
        if terminated:
            break
    return np.array(out)


def test_halfcheetah_at_the_identity_is_gymnasiums_halfcheetah_v5(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # Gymnasium's settotalmass warning writes MUJOCO_LOG.TXT here
    theirs = gym.make("HalfCheetah-v5").unwrapped
    ours = HalfCheetahEnv(power=1.0, density=1000.0, friction=0.4)
    ours.reset(seed=0)
    for name in DERIVED:
        assert np.array_equal(getattr(ours.model, name), getattr(theirs.model, name)), name
    assert ours.model.stat.meaninertia == pytest.approx(theirs.model.stat.meaninertia, rel=1e-12)
    assert ours.model.stat.meanmass == pytest.approx(theirs.model.stat.meanmass, rel=1e-12)
    assert np.array_equal(rollout(ours), rollout(theirs))


def test_hopper_at_unit_power_has_gymnasiums_masses_and_gears():
    theirs = gym.make("Hopper-v5").unwrapped
    ours = HopperEnv(power=1.0, density=1000.0)
    ours.reset(seed=0)
    for name in DERIVED[:-1]:
        assert np.array_equal(getattr(ours.model, name), getattr(theirs.model, name)), name


def fresh_model(task, power, density):
    """The task's model compiled from an edited XML: gears x power, geoms of that density."""
    env = ENVS[task]()
    tree = ET.parse(env.fullpath)
    root = tree.getroot()
    total = None
    compiler = root.find("compiler")
    if "settotalmass" in compiler.attrib:  # HalfCheetah: rescaled to 14 kg at density 1000
        total = float(compiler.attrib.pop("settotalmass"))
    for motor in root.iter("motor"):
        if "gear" in motor.attrib:
            motor.set("gear", repr(power * float(motor.get("gear"))))
    geom_default = root.find("default/geom")
    geom_default.set("density", "1000")
    if total is not None:
        raw = mujoco.MjModel.from_xml_string(ET.tostring(root, encoding="unicode"))
        density = density * total / float(raw.body_mass.sum())
    geom_default.set("density", repr(density))
    return mujoco.MjModel.from_xml_string(ET.tostring(root, encoding="unicode"))


@pytest.mark.parametrize("task", TABLE)
@pytest.mark.parametrize("power, density", [(0.5, 700.0), (1.25, 1400.0)])
def test_in_place_parameters_equal_a_fresh_compilation(task, power, density):
    env = ENVS[task](power=power, density=density, friction=1.1)
    env.reset(seed=0)
    fresh = fresh_model(task, power, density)
    fresh.geom_friction[:, 0] = 1.1  # no derived constants: set in place in both
    for name in DERIVED:
        np.testing.assert_allclose(getattr(env.model, name), getattr(fresh, name), rtol=1e-10)
    assert env.model.stat.meaninertia == pytest.approx(fresh.stat.meaninertia, rel=1e-10)
    assert env.model.stat.meanmass == pytest.approx(fresh.stat.meanmass, rel=1e-10)
    # ...and the same motion from the same state under the same controls.
    data = mujoco.MjData(fresh)
    data.qpos[:], data.qvel[:] = env.data.qpos, env.data.qvel
    rng = np.random.default_rng(1)
    for _ in range(20):
        action = rng.uniform(-1, 1, size=env.action_space.shape).astype(np.float32)
        env.step(action)
        data.ctrl[:] = action
        mujoco.mj_step(fresh, data, nstep=env.frame_skip)
    np.testing.assert_allclose(env.data.qpos, data.qpos, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("task", TABLE)
def test_what_each_parameter_writes(task):
    base = ENVS[task](power=1.0, density=1000.0)
    base.reset(seed=0)
    env = ENVS[task](power=0.6, density=1300.0, friction=0.25)
    env.reset(seed=0)
    np.testing.assert_allclose(env.model.actuator_gear[:, 0], 0.6 * base.model.actuator_gear[:, 0])
    # Density scales every body's mass and rotational inertia by the same factor.
    np.testing.assert_allclose(env.model.body_mass, 1.3 * base.model.body_mass)
    np.testing.assert_allclose(env.model.body_inertia, 1.3 * base.model.body_inertia)
    assert np.all(env.model.geom_friction[:, 0] == 0.25)
    np.testing.assert_array_equal(env.model.geom_friction[:, 1:], base.model.geom_friction[:, 1:])
    # Values are re-written at every reset, not accumulated.
    env.reset()
    np.testing.assert_allclose(env.model.body_mass, 1.3 * base.model.body_mass)


@pytest.mark.parametrize(
    "task, name", [(task, name) for task, names in TABLE.items() for name in names]
)
def test_every_parameter_changes_the_dynamics(task, name):
    default, (low, high), _ = TABLE[task][name]
    env_id = f"rlbench3/{task}-v0"
    base = rollout(gym.make(env_id, **{name: default}))
    assert np.array_equal(base, rollout(gym.make(env_id, **{name: default})))
    for value in (low, high):
        other = rollout(gym.make(env_id, **{name: value}))
        assert other.shape != base.shape or not np.allclose(other, base), (name, value)


def test_randomized_parameters_are_drawn_per_reset_and_recorded():
    env = gym.make("rlbench3/HalfCheetah-E-v0", extreme_sampling="equal")
    _, info = env.reset(seed=3)
    p = info["params"]
    assert p["extreme_sampling"] == "equal" and p["variant_seed"] == -1
    model = env.unwrapped.model
    assert np.all(model.geom_friction[:, 0] == p["friction"])
    assert model.body_mass.sum() == pytest.approx(14.0 * p["density"] / 1000.0)
    assert model.actuator_gear[0, 0] == pytest.approx(120.0 * p["power"])
    assert env.reset()[1]["params"] != p


def test_variants_on_mujoco():
    env = gym.make("rlbench3/Hopper-R-v0", variant_seed=4)
    a = env.reset(seed=0)[1]["params"]
    b = gym.make("rlbench3/Hopper-R-v0", variant_seed=4).reset(seed=1)[1]["params"]
    assert a == b


def test_unknown_parameters_are_errors():
    with pytest.raises(TypeError, match="unknown parameter 'gear' for HalfCheetah"):
        HalfCheetahEnv(gear=1.0)
    with pytest.raises(TypeError, match="unknown parameter 'ctrl_cost_weight' for Hopper"):
        gym.make("rlbench3/Hopper-v0", ctrl_cost_weight=0.1)
    with pytest.raises(ValueError, match="friction must be a number >= 0"):
        HopperEnv(friction=-0.1)


# --------------------------------------------------------------------------------------------
# Success: Packer et al.'s 20 m in 1000 x 0.0165 s, scaled to the episode's duration

# Simulated seconds of the registered 1000-step episode, from Gymnasium's XML timestep and frame
# skip (HalfCheetah 0.01 s x 5, Hopper 0.002 s x 4).
EPISODE_SECONDS = {"HalfCheetah": 1000 * 0.01 * 5, "Hopper": 1000 * 0.002 * 4}


def carry(env, moved):
    """Step once after carrying the robot ``moved`` metres forward (x is not observed)."""
    u = env.unwrapped
    u.data.qpos[0] = u._x_start + moved
    mujoco.mj_forward(u.model, u.data)
    return env.step(np.zeros(env.action_space.shape, np.float32))[4]


@pytest.mark.parametrize("task", TABLE)
def test_success_distance_is_20_metres_scaled_by_the_episode_duration(task):
    env = gym.make(f"rlbench3/{task}-v0")
    u = env.unwrapped
    assert PACKER_SPEED == 20.0 / 16.5
    assert u.episode_seconds == pytest.approx(EPISODE_SECONDS[task], rel=1e-12)
    assert u.episode_seconds == env.spec.max_episode_steps * u.model.opt.timestep * u.frame_skip
    assert u.success_distance == pytest.approx(20.0 * EPISODE_SECONDS[task] / 16.5, rel=1e-12)
    fast = gym.make(f"rlbench3/{task}-v0", success_speed=2.5).unwrapped
    assert fast.success_distance == pytest.approx(2.5 * EPISODE_SECONDS[task], rel=1e-12)
    assert u.success_distance == pytest.approx({"HalfCheetah": 60.61, "Hopper": 9.697}[task], 1e-3)


def test_the_caption_sentence_states_the_distances_the_envs_use():
    cheetah, hopper = HalfCheetahEnv(), HopperEnv()
    text = PACKER_DEVIATIONS
    assert f"{PACKER_SPEED:.2f} m/s" in text
    assert f"{cheetah.success_distance:.1f} m in {cheetah.episode_seconds:.0f} s" in text
    assert f"{hopper.success_distance:.2f} m in {hopper.episode_seconds:.0f} s" in text


@pytest.mark.parametrize("task", TABLE)
@pytest.mark.parametrize("speed", [None, 0.4])
@pytest.mark.parametrize("fraction, success", [(0.25, False), (0.995, False), (1.005, True)])
def test_success_is_the_distance_from_the_start(task, speed, fraction, success):
    kwargs = {} if speed is None else {"success_speed": speed}
    env = gym.make(f"rlbench3/{task}-v0", **kwargs)
    env.reset(seed=0)
    u = env.unwrapped
    assert not env.step(np.zeros(env.action_space.shape, np.float32))[4]["is_success"]
    distance = (PACKER_SPEED if speed is None else speed) * EPISODE_SECONDS[task]
    start = u._x_start
    info = carry(env, fraction * distance)
    assert info["is_success"] is success
    assert info["x_position"] - start == pytest.approx(fraction * distance, abs=0.05)
    # The start is the episode's: a new reset measures from the new position.
    env.reset(seed=1)
    assert not carry(env, 0.9 * distance)["is_success"]


def sine_walk(phases, frequency, amplitude, seed=0, **kwargs):
    """Distance and outcome of an open-loop sine gait over a full HalfCheetah-D episode."""
    env = gym.make("rlbench3/HalfCheetah-D-v0", **kwargs)
    env.reset(seed=seed)
    u = env.unwrapped
    x0 = float(u.data.qpos[0])
    for t in range(1000):
        action = amplitude * np.sin(2 * np.pi * frequency * t * u.dt + np.asarray(phases))
        _, _, terminated, truncated, info = env.step(action.astype(np.float32))
        assert not terminated
    assert truncated
    return float(u.data.qpos[0]) - x0, info["is_success"]


def test_an_open_loop_gait_that_walked_20_m_no_longer_succeeds():
    gait = ([2.48, 5.49, 2.97, 5.73, 4.81, 5.75], 2.0, 1.0)  # about 39 m in 50 s
    distance, success = sine_walk(*gait)
    assert 20.0 < distance < 20.0 * 50.0 / 16.5 and not success
    assert sine_walk(*gait, success_speed=20.0 / 50.0) == (distance, True)  # the old criterion


def test_a_tuned_open_loop_gait_passes_at_packers_speed():
    # The criterion tests distance, not feedback control (the module docstring says so).
    gait = ([2.93, 5.03, 2.69, 5.87, 4.51, 7.01], 2.3, 0.86)  # about 80 m in 50 s
    distance, success = sine_walk(*gait)
    assert distance > 20.0 * 50.0 / 16.5 and success


@pytest.mark.parametrize("value", [0.0, -1.0, 2e6, {"low": 1.0, "high": 2.0}])
def test_success_speed_is_a_fixed_positive_number(value):
    with pytest.raises(ValueError, match=r"success_speed (must be|cannot be randomized)"):
        HopperEnv(success_speed=value)


def test_pickle_and_deepcopy_rebuild_the_same_env():
    env = HopperEnv(preset="R", friction=0.3)
    for clone in (pickle.loads(pickle.dumps(env)), copy.deepcopy(env)):
        assert clone.params == env.params
        assert clone.reset(seed=2)[1]["params"] == env.reset(seed=2)[1]["params"]


@pytest.mark.parametrize(
    ("env_id", "kwargs", "message"),
    [
        # Hopper's state overflowed to NaN with a friction of 1e300 before the bounds.
        ("rlbench3/Hopper-v0", {"friction": 1e300}, r"friction must be a number >= 0 and <= 1e"),
        ("rlbench3/HalfCheetah-v0", {"density": 5e-324}, r"density must be a number >= 1e-06"),
        ("rlbench3/HalfCheetah-v0", {"power": 10**30}, r"power must be a number >= 1e-06 and"),
        ("rlbench3/Hopper-v0", {"variant_seed": 2**70}, r"variant_seed must be an integer >= -1"),
        ("rlbench3/Hopper-v0", {"preset": ["R"]}, r"preset must be one of D, R, E for Hopper"),
    ],
)
def test_values_that_cannot_work_are_refused_naming_the_range(env_id, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        gym.make(env_id, **kwargs)
