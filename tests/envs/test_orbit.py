"""Orbit: conservation laws, Kepler's closed form, the bodies' motion, the batched path, the task.

Numbers measured at the defaults (dt = 0.1, 3 substeps, G M = 1, orbit radius 1, period 2 pi),
coasting 100 periods: relative energy error at most 3.1e-7 on a circular orbit (1.2e-4 at
e = 0.1, 3.0e-3 at e = 0.5, bounded, no drift), relative angular momentum error at most 2e-14
(exact to rounding: a central force). Against Kepler's closed form over 10 periods: period
within 3.7e-4 (e = 0), 6.1e-4 (e = 0.3); radius within 5.5e-4 (e = 0) and 7.4e-3 (e = 0.3) of the
initial conditions' ellipse; both shrink as h^2 (16x with 12 substeps). The scripted
Hohmann-like controller below succeeds in 100 of 100 episodes at D and at R (about 49 steps,
0.24 of the 0.5 fuel).
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import rlbench3  # noqa: F401
from rlbench3.envs.orbit import (
    ANGLES,
    OrbitEnv,
    OrbitVectorEnv,
    body_configuration,
    observation_layout,
)

ID = "rlbench3/Orbit-v0"
COAST = dict(fuel=0.0, horizon=10**6, body_radius=1e-3)


def energy_and_momentum(env: OrbitEnv, mu: float = 1.0) -> tuple[float, np.ndarray]:
    x, v = env.craft_state
    x3, v3 = np.pad(x, (0, 3 - len(x))), np.pad(v, (0, 3 - len(v)))
    return 0.5 * v @ v - mu / np.linalg.norm(x), np.cross(x3, v3)


def coast(env: OrbitEnv, steps: int):
    zero = np.zeros(env.dim, dtype=np.float32)
    for _ in range(steps):
        yield env.step(zero)


@pytest.mark.parametrize(
    ("eccentricity", "energy_tolerance"), [(0.0, 1e-6), (0.1, 3e-4), (0.5, 6e-3)]
)
def test_energy_and_angular_momentum_are_conserved_over_100_periods(eccentricity, energy_tolerance):
    env = OrbitEnv(initial_eccentricity=eccentricity, **COAST)
    env.reset(seed=0)
    e0, l0 = energy_and_momentum(env)
    steps = round(100 * 2 * math.pi / 0.1)
    errors, momentum = [], 0.0
    for i, _ in enumerate(coast(env, steps)):
        if i % 7 == 0:
            e, ell = energy_and_momentum(env)
            errors.append(abs(e / e0 - 1))
            momentum = max(momentum, np.linalg.norm(ell - l0) / np.linalg.norm(l0))
    assert max(errors) < energy_tolerance
    assert momentum < 1e-12
    # Bounded, no drift: the last ten periods err no more than the first ten (plus slack).
    tenth = len(errors) // 10
    assert max(errors[-tenth:]) < 1.5 * max(errors[:tenth]) + 1e-12


def test_angular_momentum_vector_is_conserved_in_3d():
    env = OrbitEnv(dim=3, initial_eccentricity=0.2, initial_inclination=0.7, **COAST)
    env.reset(seed=1)
    _, l0 = energy_and_momentum(env)
    assert abs(l0[2] / np.linalg.norm(l0) - math.cos(0.7)) < 1e-12  # the tilted plane
    for _ in coast(env, 2000):
        pass
    _, ell = energy_and_momentum(env)
    assert np.linalg.norm(ell - l0) / np.linalg.norm(l0) < 1e-12


def kepler_elements(x: np.ndarray, v: np.ndarray, mu: float = 1.0):
    """Semi-major axis, eccentricity, periapsis angle of the two-body orbit through x, v."""
    r = np.linalg.norm(x)
    a = -mu / (2 * (0.5 * v @ v - mu / r))
    e_vec = ((v @ v - mu / r) * x - (x @ v) * v) / mu
    return a, np.linalg.norm(e_vec), math.atan2(e_vec[1], e_vec[0])


def kepler_errors(eccentricity: float, substeps: int, periods: int = 10):
    """Largest relative deviation from the initial conditions' ellipse and the relative period
    error of a coasting orbit."""
    dt = 0.1
    env = OrbitEnv(initial_eccentricity=eccentricity, substeps=substeps, dt=dt, **COAST)
    env.reset(seed=0, options={"periapsis_angle": 0.3, "true_anomaly": 1.0})
    a, e, varpi = kepler_elements(*env.craft_state)
    p, period = a * (1 - e * e), 2 * math.pi * math.sqrt(a**3)
    x, _ = env.craft_state
    angles, shape = [math.atan2(x[1], x[0])], 0.0
    for _ in coast(env, int(periods * period / dt) + 20):
        x, _ = env.craft_state
        angle = math.atan2(x[1], x[0])
        angles.append(angle)
        shape = max(shape, abs(np.linalg.norm(x) * (1 + e * math.cos(angle - varpi)) / p - 1))
    turned = np.unwrap(angles) - angles[0]
    k = int(np.searchsorted(turned, 2 * math.pi * periods))
    fraction = (2 * math.pi * periods - turned[k - 1]) / (turned[k] - turned[k - 1])
    return shape, abs((k - 1 + fraction) * dt / periods / period - 1)


def test_initial_state_is_on_the_requested_keplerian_orbit():
    for seed in range(20):
        env = OrbitEnv(initial_radius=1.7, initial_eccentricity=0.45, primary_mass=2.5)
        _, info = env.reset(seed=seed)
        a, e, varpi = kepler_elements(*env.craft_state, mu=2.5)
        assert a == pytest.approx(1.7, rel=1e-12) and e == pytest.approx(0.45, abs=1e-12)
        periapsis = info["angles"]["periapsis_angle"]
        assert math.cos(varpi - periapsis) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("eccentricity", "shape_tolerance", "period_tolerance"), [(0.0, 1e-3, 1e-3), (0.3, 1e-2, 1e-3)]
)
def test_two_body_orbit_matches_keplers_closed_form(
    eccentricity, shape_tolerance, period_tolerance
):
    shape, period = kepler_errors(eccentricity, substeps=3)
    assert shape < shape_tolerance and period < period_tolerance
    # Second order: four times the substeps, about sixteen times smaller errors.
    fine_shape, fine_period = kepler_errors(eccentricity, substeps=12)
    assert fine_shape < shape / 10 and fine_period < period / 10


@pytest.mark.parametrize("n_bodies", [2, 3, 4, 6])
def test_bodies_move_on_exact_solutions_of_newtons_equations(n_bodies):
    # A rigid rotation is a solution if each body's Newtonian acceleration is the centripetal
    # -omega^2 q_i (and the barycentre is at rest at the origin).
    rng = np.random.default_rng(n_bodies)
    g, big, small, d = rng.uniform(0.5, 2.0, (4, 3))
    masses, qx, qy, omega = body_configuration(n_bodies, g, big, small, d)
    q = np.stack((qx, qy), axis=-1)  # (N, k, 2)
    assert np.allclose((masses[..., None] * q).sum(axis=0), 0.0, atol=1e-14)
    for i in range(n_bodies):
        acc = sum(
            g[:, None]
            * masses[j][:, None]
            * (q[j] - q[i])
            / np.linalg.norm(q[j] - q[i], axis=-1, keepdims=True) ** 3
            for j in range(n_bodies)
            if j != i
        )
        assert np.allclose(acc, -(omega**2)[:, None] * q[i], rtol=1e-12, atol=1e-14)


def test_binary_bodies_turn_rigidly_at_their_rate():
    env = OrbitEnv(n_bodies=2, companion_mass=0.3, companion_distance=0.4, **COAST)
    env.reset(seed=0)
    start = env.body_positions()
    omega = math.sqrt(1.3 / 0.4**3)
    steps = 37
    for _ in coast(env, steps):
        pass
    turn = omega * steps * 0.1
    rotation = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    assert np.allclose(env.body_positions(), start @ rotation.T, atol=1e-12)
    assert np.linalg.norm(start[1] - start[0]) == pytest.approx(0.4, rel=1e-12)


# --------------------------------------------------------------------------------------------
# The task


def hohmann_controller(obs: np.ndarray, layout: dict, band: float = 0.02) -> np.ndarray:
    """Raise the apoapsis to the target radius R by prograde burns, coast to it, then circularise
    at R with a velocity feedback law (which then also holds the orbit). Assumes G = 1 and the
    planar orbit task; reads mu from the observed masses."""
    x = obs[layout["position"]].astype(np.float64)
    v = obs[layout["velocity"]].astype(np.float64)
    mu = float(sum(obs[s][0] for s in layout["body_mass"]))
    target = float(obs[layout["task"]][0])
    r = np.linalg.norm(x)
    energy = 0.5 * v @ v - mu / r
    a = -mu / (2 * energy) if energy < 0 else math.inf
    momentum = x[0] * v[1] - x[1] * v[0]
    e = math.sqrt(max(0.0, 1 + 2 * energy * momentum**2 / mu**2))
    if abs(r - target) < band * target and a * (1 + e) >= (1 - band) * target:
        circular = math.sqrt(mu / target) * np.array([-x[1], x[0]]) / r
        command = 20.0 * (circular - v)
    elif a * (1 + e) < target:
        command = v / np.abs(v).max()
    else:
        command = np.zeros(2)
    return np.clip(command, -1, 1).astype(np.float32)


def run_controller(env, seed: int) -> list[tuple]:
    layout = observation_layout(env.unwrapped.params)
    obs, _ = env.reset(seed=seed)
    steps = []
    while True:
        obs, reward, terminated, truncated, info = env.step(hohmann_controller(obs, layout))
        steps.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            return steps


@pytest.mark.parametrize("preset", ["D", "R"])
def test_scripted_controller_solves_the_task(preset):
    env = gym.make(ID, preset=preset)
    finals = [run_controller(env, seed)[-1] for seed in range(30)]
    rate = np.mean([info["is_success"] for *_, info in finals])
    assert rate == 1.0  # 100 of 100 seeds in the measurements of the module docstring


def test_sparse_reward_only_on_success_after_holding():
    env = OrbitEnv()
    steps = run_controller(env, seed=3)
    *before, last = steps
    assert all(r == 0.0 and not t and not tr for _, r, t, tr, _ in before)
    obs, reward, terminated, truncated, info = last
    assert reward == 1.0 and terminated and info == {"is_success": True, "collided": False}
    hold = observation_layout(env.params)["hold"]
    assert obs[hold][0] == 1.0
    assert [o[hold][0] for o, *_ in steps[-10:]] == pytest.approx([i / 10 for i in range(1, 11)])


def test_dense_reward_is_shaping_that_telescopes():
    env = OrbitEnv(reward_mode="dense")
    env.reset(seed=3)
    start = env._err  # min(err, 1) at reset
    steps = run_controller(env, seed=3)
    total = sum(r for _, r, *_ in steps)
    assert total == pytest.approx(start - env._err + 1.0, abs=1e-12)


def test_collision_ends_the_episode_without_reward():
    # Falling straight in: no tangential speed (eccentricity -> 1), aimed at the primary.
    env = OrbitEnv(initial_eccentricity=0.999999, body_radius=0.1, reward_mode="sparse")
    env.reset(seed=0, options={"true_anomaly": math.pi})  # at apoapsis, about to fall
    for step in coast(env, 200):
        obs, reward, terminated, truncated, info = step
        if terminated or truncated:
            break
    assert terminated and not truncated and reward == 0.0
    assert info == {"is_success": False, "collided": True}
    assert np.isfinite(obs).all()


def test_thrust_uses_fuel_and_stops_when_empty():
    env = OrbitEnv(fuel=0.05, thrust_gain=0.2, dt=0.1, horizon=100)
    env.reset(seed=0)
    full = np.array([1.0, 1.0], dtype=np.float32)
    env.step(full)
    assert env.fuel_left == pytest.approx(0.05 - 0.2 * 0.1 * math.sqrt(2), abs=1e-15)
    env.step(full)  # needs 0.028, has 0.022: a partial burn empties the tank
    assert env.fuel_left == 0.0
    # With an empty tank thrust does nothing: the orbit coasts exactly as with zero action.
    twin = OrbitEnv(fuel=0.05, thrust_gain=0.2, dt=0.1, horizon=100)
    twin.reset(seed=0)
    twin.step(full)
    twin.step(full)
    for _ in range(5):
        a, *_ = env.step(full)
        b, *_ = twin.step(np.zeros(2, dtype=np.float32))
        assert np.array_equal(a, b)


def test_observation_layout_and_truncation():
    env = OrbitEnv(dim=3, n_bodies=2, task="rendezvous", horizon=5)
    obs, info = env.reset(seed=0)
    layout = observation_layout(env.params)
    assert env.observation_space.shape == obs.shape == (3 + 3 + 6 + 2 + 2 * 7,)
    x, v = env.craft_state
    assert np.allclose(obs[layout["position"]], x) and np.allclose(obs[layout["velocity"]], v)
    assert obs[layout["fuel"]][0] == pytest.approx(0.5)
    assert [obs[s][0] for s in layout["body_mass"]] == pytest.approx([1.0, 0.1])
    assert set(info["angles"]) == set(ANGLES)
    flags = [step[2:4] for step in coast(env, 5)]
    assert flags[:-1] == [(False, False)] * 4 and flags[-1] == (False, True)


def test_reset_can_set_the_angles():
    env = OrbitEnv()
    obs, info = env.reset(seed=0, options={"periapsis_angle": 0.0, "true_anomaly": 0.0})
    assert obs[:4] == pytest.approx([1.0, 0.0, 0.0, 1.0], abs=1e-7)
    assert info["angles"]["periapsis_angle"] == 0.0
    with pytest.raises(ValueError, match=r"options\['true_anomaly'\] must be a finite number"):
        env.reset(options={"true_anomaly": math.nan})


@pytest.mark.parametrize(
    "action", [np.array([1.5, 0.0]), np.array([np.nan, 0.0]), np.zeros(3), np.zeros((1, 2))]
)
def test_invalid_actions_raise_instead_of_clipping(action):
    env = OrbitEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be an array of shape \(2,\) .*\[-1, 1\]"):
        env.step(action)


@pytest.mark.parametrize(
    "actions",
    [np.full((3, 2), 1.5), np.full((3, 2), np.nan), np.zeros((3, 3)), np.zeros((2, 2))],
)
def test_invalid_batched_actions_raise(actions):
    envs = OrbitVectorEnv(3)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions must be an array of shape \(3, 2\) .*\[-1, 1\]"):
        envs.step(actions)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dim": 1}, r"dim must be an integer >= 2 and <= 3, got 1"),
        ({"dim": 4}, r"dim must be an integer >= 2 and <= 3, got 4"),
        ({"n_bodies": 0}, r"n_bodies must be an integer >= 1 and <= 8, got 0"),
        ({"n_bodies": {"low": 1, "high": 2}}, r"n_bodies cannot be randomized"),
        ({"substeps": 0}, r"substeps must be an integer >= 1 and <= 1000, got 0"),
        ({"substeps": 1001}, r"substeps must be an integer >= 1 and <= 1000, got 1001"),
        ({"horizon": 0}, r"horizon must be an integer >= 1 and <= 1000000, got 0"),
        ({"task": "land"}, r"task must be one of 'orbit', 'rendezvous'"),
        ({"reward_mode": "shaped"}, r"reward_mode must be one of 'sparse', 'dense'"),
        ({"gravitational_constant": 0.0}, r"gravitational_constant must be a number > 0 and <="),
        ({"primary_mass": -1.0}, r"primary_mass must be a number > 0 and <= 1e\+06, got -1.0"),
        ({"primary_mass": 1e7}, r"primary_mass must be a number > 0 and <= 1e\+06, got 1000"),
        ({"companion_mass": -0.1}, r"companion_mass must be a number >= 0 and <= 1e\+06, got -0"),
        ({"body_radius": 0.0}, r"body_radius must be a number >= 1e-06 and <= 1e\+06, got 0.0"),
        ({"initial_eccentricity": 1.0}, r"initial_eccentricity must be a number >= 0 and < 1"),
        ({"initial_inclination": 4.0}, r"initial_inclination must be a number >= 0 and <= 3.14"),
        ({"tolerance": 0}, r"tolerance must be a number > 0 and <= 1e\+06, got 0"),
        ({"hold_steps": 0.5}, r"hold_steps must be an integer >= 1 and <= 1000000, got 0.5"),
        ({"fuel": -1}, r"fuel must be a number >= 0 and <= 1e\+06, got -1"),
        ({"dt": 2.0}, r"dt must be a number > 0 and <= 1, got 2.0"),
        ({"primary_mass": {"low": 0.0, "high": 1.0}}, r"primary_mass must be .* everywhere in"),
        ({"target_radius": {"low": 2.0, "high": 1.0}}, r"target_radius: interval low must be <="),
        ({"n_body": 2}, r"unknown parameter 'n_body' .* did you mean 'n_bodies'"),
        ({"preset": ["R"]}, r"preset must be one of D, R, E for Orbit, got \['R'\]"),
    ],
)
def test_bad_input_fails_at_construction(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        gym.make(ID, **kwargs)
    with pytest.raises((ValueError, TypeError), match=message):
        OrbitVectorEnv(num_envs=2, **kwargs)


def trace(env, seed: int, steps: int = 400) -> list:
    rng = np.random.default_rng(seed)
    out = [env.reset(seed=seed)[0]]
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(
            rng.uniform(-1, 1, env.dim).astype(np.float32)
        )
        out += [obs, reward, terminated, truncated]
        if terminated or truncated:
            out.append(env.reset()[0])
    return out


def test_same_seed_gives_identical_episodes():
    kwargs = dict(preset="R", n_bodies=2, companion_mass={"low": 0.0, "high": 0.3}, horizon=60)
    a, b = trace(OrbitEnv(**kwargs), 7), trace(OrbitEnv(**kwargs), 7)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    c = trace(OrbitEnv(**kwargs), 8)
    assert not all(np.array_equal(u, v) for u, v in zip(a, c, strict=True))


# --------------------------------------------------------------------------------------------
# The batched path


def test_one_copy_vector_env_equals_single_env_across_episodes():
    kwargs = dict(preset="R", reward_mode="dense", horizon=40, initial_eccentricity=0.6)
    env, envs = OrbitEnv(**kwargs), OrbitVectorEnv(1, **kwargs)
    o1, i1 = env.reset(seed=5)
    o2, i2 = envs.reset(seed=5)
    assert np.array_equal(o1, o2[0])
    for name in ("primary_mass", "target_radius", "thrust_gain", "fuel"):
        assert i1["params"][name] == i2["params"][name][0]
    rng = np.random.default_rng(0)
    episodes = 0
    for _ in range(400):
        a = rng.uniform(-1, 1, 2).astype(np.float32)
        o1, r1, t1, tr1, _ = env.step(a)
        o2, r2, t2, tr2, _ = envs.step(a[None])
        assert np.array_equal(o1, o2[0]) and (r1, t1, tr1) == (r2[0], t2[0], tr2[0])
        if t1 or tr1:
            episodes += 1
            o1, _ = env.reset()
            o2, r2, t2, tr2, _ = envs.step(a[None])
            assert np.array_equal(o1, o2[0]) and (r2[0], t2[0], tr2[0]) == (0.0, False, False)
    assert episodes >= 8


def copy_info(info: dict, i: int) -> tuple[dict, dict]:
    """Copy ``i``'s ``params`` and ``angles`` from a batched reset info (vector convention)."""

    def entry(values: dict) -> dict:
        assert all(values[f"_{k}"][i] for k in values if not k.startswith("_"))
        return {
            k: v[i].item() if isinstance(v[i], np.generic) else v[i]
            for k, v in values.items()
            if not k.startswith("_")
        }

    return entry(info["params"]), entry(info["angles"])


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"dim": 3},
        {"n_bodies": 2, "companion_mass": 0.3, "reward_mode": "dense"},
        # Massless markers: the batched env skips their pull but still detects collisions.
        {"n_bodies": 2, "companion_mass": 0.0, "reward_mode": "dense", "substeps": 6},
        {"n_bodies": 3, "companion_mass": 0.0, "dim": 3},
        {"n_bodies": 4, "dim": 3, "task": "rendezvous", "reward_mode": "dense"},
        {"task": "rendezvous", "initial_eccentricity": {"low": 0.0, "high": 0.9}, "fuel": 0.1},
        {"preset": "E", "n_bodies": 2, "companion_mass": {"low": 0.0, "high": 0.5}},
    ],
)
def test_batched_copies_equal_the_single_env_bit_for_bit(kwargs):
    # Each copy of a 12-copy batch is replayed by a single env with the copy's parameters and
    # angles; the episodes are short, so every copy ends one (by truncation at the latest).
    n, steps = 12, 60
    kwargs = {"horizon": 50, "body_radius": 0.2, **kwargs}
    envs = OrbitVectorEnv(n, **kwargs)
    _, info = envs.reset(seed=0)
    rng = np.random.default_rng(1)
    actions = rng.uniform(-1, 1, (steps, n, envs.dim)).astype(np.float32)
    record = [envs.step(a)[:4] for a in actions]
    ended = collided = 0
    for i in range(n):
        params, angles = copy_info(info, i)
        env = OrbitEnv(**params)
        env.reset(seed=0, options=angles)
        for t, a in enumerate(actions):
            obs, reward, terminated, truncated, step_info = env.step(a[i])
            b_obs, b_reward, b_terminated, b_truncated = (x[i] for x in record[t])
            assert np.array_equal(obs, b_obs) and reward == b_reward
            assert (terminated, truncated) == (b_terminated, b_truncated)
            if terminated or truncated:
                ended += 1
                collided += step_info["collided"]
                break
    assert ended == n


def test_massless_marker_collisions_match_the_single_env():
    # The marker circles at the craft's radius with a body radius of 0.9: about a third of the
    # copies start inside it and collide at once, in both envs (the batched env skips a massless
    # body's pull, not its distance).
    kwargs = dict(
        n_bodies=2,
        companion_mass=0.0,
        companion_distance=1.0,
        body_radius=0.9,
        initial_radius=1.0,
        initial_eccentricity=0.0,
    )
    n = 64
    envs = OrbitVectorEnv(n, **kwargs)
    _, info = envs.reset(seed=0)
    actions = np.zeros((n, 2), dtype=np.float32)
    _, _, terminated, _, step_info = envs.step(actions)
    assert 5 <= terminated.sum() < n and step_info["collided"][terminated].all()
    for i in range(n):
        params, angles = copy_info(info, i)
        env = OrbitEnv(**params)
        env.reset(seed=0, options=angles)
        _, _, single_terminated, _, single_info = env.step(actions[i])
        assert single_terminated == terminated[i]
        assert single_info.get("collided", False) == bool(terminated[i])


def test_state_can_be_saved_and_restored():
    envs = OrbitVectorEnv(8, preset="R", n_bodies=2, companion_mass=0.2, horizon=30)
    envs.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(10):
        envs.step(rng.uniform(-1, 1, (8, 2)).astype(np.float32))
    saved, before = envs.get_state(), envs.observe64()
    actions = rng.uniform(-1, 1, (25, 8, 2)).astype(np.float32)
    first = [envs.step(a) for a in actions]
    envs.set_state(saved)
    assert np.array_equal(envs.observe64(), before)
    again = [envs.step(a) for a in actions]
    for (o1, r1, t1, tr1, _), (o2, r2, t2, tr2, _) in zip(first, again, strict=True):
        assert np.array_equal(o1, o2) and np.array_equal(r1, r2)
        assert np.array_equal(t1, t2) and np.array_equal(tr1, tr2)


def test_batched_step_before_reset_raises():
    with pytest.raises(gym.error.ResetNeeded, match="before calling reset"):
        OrbitVectorEnv(2).step(np.zeros((2, 2), dtype=np.float32))


def test_batched_env_is_selected_by_make_vec():
    envs = gym.make_vec(ID, num_envs=4, dim=3)
    assert isinstance(envs, OrbitVectorEnv)
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (4, 6 + 1 + 2 + 7) and obs.dtype == np.float32


@pytest.mark.parametrize("mode", ["ansi", "rgb_array"])
def test_batched_frames_are_the_single_envs_frames(mode):
    kwargs = {"n_bodies": 2, "dim": 3, "task": "rendezvous", "preset": "R", "horizon": 50}
    envs = OrbitVectorEnv(3, render_mode=mode, **kwargs)
    _, info = envs.reset(seed=0)
    actions = np.random.default_rng(0).uniform(-1, 1, (4, 3, 3)).astype(np.float32)
    for a in actions:
        envs.step(a)
    frames = envs.render()
    assert len(frames) == 3
    for i, frame in enumerate(frames):
        params, angles = copy_info(info, i)
        env = OrbitEnv(render_mode=mode, **params)
        env.reset(seed=0, options=angles)
        for a in actions:
            env.step(a[i])
        if mode == "ansi":
            assert frame == env.render()
        else:
            assert np.array_equal(frame, env.render())


def test_batched_env_refuses_other_render_modes_and_takes_a_time_limit():
    with pytest.raises(ValueError, match=r"render_mode must be one of \['ansi', 'rgb_array'\]"):
        OrbitVectorEnv(2, render_mode="human")
    envs = OrbitVectorEnv(2, max_episode_steps=3)
    envs.reset(seed=0)
    zeros = np.zeros((2, 2), dtype=np.float32)
    truncated = [envs.step(zeros)[3].tolist() for _ in range(4)]
    assert truncated == [[False, False], [False, False], [True, True], [False, False]]


def test_rendering_headless():
    env = OrbitEnv(n_bodies=2, render_mode="rgb_array")
    env.reset(seed=0)
    image = env.render()
    assert image.shape == (256, 256, 3) and image.dtype == np.uint8
    assert (image == (60, 90, 200)).all(axis=-1).any()  # the craft
    assert (image == (60, 170, 80)).all(axis=-1).any()  # the target circle
    assert (image == (40, 40, 40)).all(axis=-1).any()  # the bodies
    text = OrbitEnv(render_mode="ansi")
    text.reset(seed=0)
    assert text.render().startswith("step 0/200, radius 1.000")
