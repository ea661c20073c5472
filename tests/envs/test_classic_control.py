"""Randomized classic control: Packer et al.'s ranges, parameters that really change the dynamics,
success criteria, the E-sampling choice and seeded variants."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import rlbench3  # noqa: F401  (registers the ids)
from rlbench3.envs._randomized import variant_rng
from rlbench3.envs.classic_control import (
    AcrobotParams,
    CartPoleEnv,
    CartPoleParams,
    MountainCarEnv,
    MountainCarParams,
    PendulumEnv,
    PendulumParams,
)
from rlbench3.envs.parameters import Distribution
from rlbench3.envs.presets import all_presets, resolve_params

# Packer et al. (2018), Table 1: parameter -> (D, R, (E low side, E high side)).
TABLE = {
    "CartPole": {
        "force_mag": (10.0, (5.0, 15.0), ((1.0, 5.0), (15.0, 20.0))),
        "length": (0.5, (0.25, 0.75), ((0.05, 0.25), (0.75, 1.0))),
        "masspole": (0.1, (0.05, 0.5), ((0.01, 0.05), (0.5, 1.0))),
    },
    "MountainCar": {
        "force": (0.001, (0.0005, 0.005), ((0.0001, 0.0005), (0.005, 0.01))),
        "gravity": (0.0025, (0.001, 0.005), ((0.0005, 0.001), (0.005, 0.01))),
    },
    "Acrobot": {
        name: (1.0, (0.75, 1.25), ((0.5, 0.75), (1.25, 1.5)))
        for name in ("link_length", "link_mass", "link_moi")
    },
    "Pendulum": {
        name: (1.0, (0.75, 1.25), ((0.5, 0.75), (1.25, 1.5))) for name in ("length", "mass")
    },
}
PARAMS = {
    "CartPole": CartPoleParams,
    "MountainCar": MountainCarParams,
    "Acrobot": AcrobotParams,
    "Pendulum": PendulumParams,
}
GYM_IDS = {
    "CartPole": "CartPole-v1",
    "MountainCar": "MountainCar-v0",
    "Acrobot": "Acrobot-v1",
    "Pendulum": "Pendulum-v1",
}


@pytest.mark.parametrize("task", TABLE)
def test_presets_are_packer_et_al_table_1(task):
    cls = PARAMS[task]
    d = resolve_params(cls, "D", {})
    r = resolve_params(cls, "R", {})
    e = resolve_params(cls, "E", {})
    assert not d.randomized
    assert set(r.randomized) == set(e.randomized) == set(TABLE[task])
    for name, (default, train, extreme) in TABLE[task].items():
        assert getattr(d, name) == default == getattr(cls(), name)
        assert getattr(r, name).intervals == (train,)
        assert getattr(e, name).intervals == extreme
        (lo_side, hi_side) = extreme
        # E surrounds R: touching it on both sides, never overlapping it.
        assert lo_side[0] < lo_side[1] == train[0] < train[1] == hi_side[0] < hi_side[1]
    assert all_presets()[task]["D"] == {}


@pytest.mark.parametrize("task", TABLE)
def test_ids_carry_the_preset_and_gymnasiums_time_limit(task):
    limit = gym.spec(GYM_IDS[task]).max_episode_steps
    for preset in (None, "D", "R", "E"):
        env_id = f"rlbench3/{task}{'' if preset is None else '-' + preset}-v0"
        spec = gym.spec(env_id)
        assert spec.max_episode_steps == limit
        assert spec.kwargs == ({} if preset is None else {"preset": preset})
    env = gym.make(f"rlbench3/{task}-R-v0")
    assert isinstance(env.unwrapped.params.randomized, tuple) and env.unwrapped.params.randomized
    # The keyword form and the -R- id are the same env.
    _, a = gym.make(f"rlbench3/{task}-v0", preset="R").reset(seed=5)
    _, b = env.reset(seed=5)
    assert a["params"] == b["params"]


# --------------------------------------------------------------------------------------------
# Every parameter changes the dynamics


def trajectory(env_id, steps=40, seed=0, **kwargs):
    env = gym.make(env_id, **kwargs)
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    out = [obs]
    for _ in range(steps):
        if isinstance(env.action_space, gym.spaces.Discrete):
            action = int(rng.integers(env.action_space.n))
        else:
            action = rng.uniform(-2.0, 2.0, size=(1,)).astype(np.float32)
        obs, _, terminated, truncated, _ = env.step(action)
        out.append(obs)
        if terminated or truncated:
            break
    return np.array(out)


@pytest.mark.parametrize(
    "task, name", [(task, name) for task, names in TABLE.items() for name in names]
)
def test_every_parameter_changes_the_dynamics(task, name):
    default, (low, high), _ = TABLE[task][name]
    env_id = f"rlbench3/{task}-v0"
    base = trajectory(env_id, **{name: default})
    assert np.array_equal(base, trajectory(env_id, **{name: default}))  # deterministic
    for value in (low, high):
        other = trajectory(env_id, **{name: value})
        assert other.shape != base.shape or not np.allclose(other, base), (name, value)


def test_cartpole_pole_mass_updates_the_derived_masses():
    # From rest, upright, one push: x_dot after a step is tau * xacc with the cart-pole's total
    # mass. A stale total_mass or polemass_length (Gymnasium caches both) would change it.
    masspole, length, force = 0.5, 0.75, 15.0
    env = CartPoleEnv(masspole=masspole, length=length, force_mag=force)
    env.reset(seed=0, options={"low": 0.0, "high": 0.0})
    assert env.total_mass == masspole + 1.0
    assert env.polemass_length == masspole * length
    obs, *_ = env.step(1)
    total = 1.0 + masspole
    temp = force / total
    thetaacc = -temp / (length * (4.0 / 3.0 - masspole / total))
    xacc = temp - masspole * length * thetaacc / total
    assert obs[1] == pytest.approx(0.02 * xacc, rel=1e-6)
    assert obs[3] == pytest.approx(0.02 * thetaacc, rel=1e-6)


def test_mountain_car_force_and_gravity_enter_the_velocity_update():
    env = MountainCarEnv(force=0.004, gravity=0.003)
    env.reset(seed=0, options={"low": -0.5, "high": -0.5})
    obs, *_ = env.step(2)
    assert obs[1] == pytest.approx(0.004 - math.cos(3 * -0.5) * 0.003, rel=1e-6)


def test_pendulum_length_and_mass_enter_the_torque_equation():
    env = PendulumEnv(length=1.4, mass=0.6)
    env.reset(seed=0, options={"x_init": 0.0, "y_init": 0.0})
    env.unwrapped.state = np.array([0.3, 0.0])
    obs, *_ = env.step(np.array([1.5], dtype=np.float32))
    thdot = (3 * 10.0 / (2 * 1.4) * math.sin(0.3) + 3.0 / (0.6 * 1.4**2) * 1.5) * 0.05
    assert obs[2] == pytest.approx(thdot, rel=1e-5)


def test_acrobot_draws_are_shared_by_both_links():
    env = gym.make("rlbench3/Acrobot-v0", preset="R")
    _, info = env.reset(seed=1)
    u = env.unwrapped
    p = info["params"]
    assert u.LINK_LENGTH_1 == u.LINK_LENGTH_2 == p["link_length"]
    assert u.LINK_MASS_1 == u.LINK_MASS_2 == p["link_mass"]
    assert u.LINK_MOI == p["link_moi"]
    assert len({p["link_length"], p["link_mass"], p["link_moi"]}) == 3  # independent draws


# --------------------------------------------------------------------------------------------
# Parameter errors


def test_unknown_and_invalid_parameters_are_errors():
    with pytest.raises(TypeError, match="unknown parameter 'force' for CartPole.*force_mag"):
        gym.make("rlbench3/CartPole-v0", force=10.0)
    with pytest.raises(TypeError, match="unknown parameter 'pole_length'"):
        CartPoleEnv(pole_length=1.0)
    with pytest.raises(ValueError, match="masspole must be a number >= 1e-06 and <= 1e\\+06"):
        CartPoleEnv(masspole=-0.1)
    with pytest.raises(ValueError, match="gravity must be a number >= 1e-06 .* everywhere"):
        MountainCarEnv(gravity={"low": -1.0, "high": 1.0})
    with pytest.raises(ValueError, match="extreme_sampling must be one of"):
        MountainCarEnv(preset="E", extreme_sampling="uniform")
    with pytest.raises(ValueError, match="variant_seed must be an integer >= -1"):
        PendulumEnv(variant_seed=-2)
    with pytest.raises(ValueError, match="preset must be one of D, R, E"):
        PendulumEnv(preset="X")
    with pytest.raises(ValueError, match="render_mode"):
        CartPoleEnv(render_mode="ansi")


# --------------------------------------------------------------------------------------------
# Success criteria on constructed trajectories


def run(env, policy, seed=0, options=None, on_step=None):
    """Steps of one episode: (obs, terminated, truncated, info) per step."""
    obs, _ = env.reset(seed=seed, options=options)
    steps = []
    while True:
        if on_step is not None:
            on_step(env, len(steps))
        obs, _, terminated, truncated, info = env.step(policy(obs))
        steps.append((obs, terminated, truncated, info))
        if terminated or truncated:
            return steps


def balance(obs):
    return int(obs[2] + 0.5 * obs[3] + 0.01 * obs[0] + 0.1 * obs[1] > 0)


def test_cartpole_success_is_195_steps_balanced():
    steps = run(gym.make("rlbench3/CartPole-D-v0"), balance)
    assert len(steps) == 500 and steps[-1][2] and steps[-1][3]["is_success"]
    assert [s[3]["is_success"] for s in steps].index(True) == 194  # from the 195th step on
    falling = run(gym.make("rlbench3/CartPole-D-v0"), lambda obs: 1)
    assert len(falling) < 195 and falling[-1][1] and not falling[-1][3]["is_success"]


@pytest.mark.parametrize("length, success", [(194, False), (195, True)])
def test_cartpole_success_counts_the_step_on_which_the_pole_falls(length, success):
    def push_over(env, t):
        if t == length - 1:  # far past the angle threshold: this step terminates
            env.unwrapped.state = np.array([0.0, 0.0, 0.3, 3.0])

    steps = run(gym.make("rlbench3/CartPole-v0"), balance, on_step=push_over)
    assert len(steps) == length and steps[-1][1]
    assert steps[-1][3]["is_success"] is success


def pump(obs):
    return 2 if obs[1] > 0 else 0


MC_START = {"low": -0.4, "high": -0.4}


def test_mountain_car_success_is_the_top_within_110_steps():
    steps = run(gym.make("rlbench3/MountainCar-v0"), pump, options=MC_START)
    assert len(steps) <= 110 and steps[-1][1] and steps[-1][3]["is_success"]
    assert not any(s[3]["is_success"] for s in steps[:-1])
    # The same controller with a weaker engine reaches the top, but too late.
    late = run(gym.make("rlbench3/MountainCar-v0", force=0.0008), pump, options=MC_START)
    assert len(late) > 110 and late[-1][1] and not late[-1][3]["is_success"]
    # Never reaching the top: truncated at Gymnasium's 200 steps, not a success.
    never = run(gym.make("rlbench3/MountainCar-v0"), lambda obs: 1, options=MC_START)
    assert len(never) == 200 and never[-1][2] and not never[-1][3]["is_success"]


def acrobot_goal_at(step):
    def inject(env, t):
        if t == step - 1:  # link 1 straight up: the tip is at height 2, above the goal line
            env.unwrapped.state = np.array([math.pi, 0.0, 0.0, 0.0])

    return inject


@pytest.mark.parametrize("step, success", [(1, True), (80, True), (81, False), (300, False)])
def test_acrobot_success_is_the_goal_height_within_80_steps(step, success):
    steps = run(gym.make("rlbench3/Acrobot-v0"), lambda obs: 1, on_step=acrobot_goal_at(step))
    assert len(steps) == step and steps[-1][1]
    assert steps[-1][3]["is_success"] is success


def test_acrobot_energy_pumping_reaches_the_goal_in_time():
    steps = run(
        gym.make("rlbench3/Acrobot-v0"),
        lambda obs: 0 if obs[4] > 0 else 2,
        options={"low": 0.0, "high": 0.0},
    )
    assert len(steps) <= 80 and steps[-1][3]["is_success"]
    timeout = run(gym.make("rlbench3/Acrobot-v0"), lambda obs: 1)
    assert len(timeout) == 500 and not timeout[-1][3]["is_success"]


def hold_upright(obs):
    theta = math.atan2(obs[1], obs[0])
    return np.array([np.clip(-10.0 * theta - 2.0 * obs[2], -2.0, 2.0)], dtype=np.float32)


NEAR_UPRIGHT = {"x_init": 0.1, "y_init": 0.1}
zero = np.zeros(1, dtype=np.float32)


class HoldThenPush:
    """Holds the pole upright for ``hold`` steps, then pushes it over."""

    def __init__(self, hold):
        self.hold, self.t = hold, 0

    def __call__(self, obs):
        self.t += 1
        return hold_upright(obs) if self.t <= self.hold else np.full(1, 2.0, dtype=np.float32)


def test_pendulum_success_is_upright_for_the_last_100_of_200_steps():
    steps = run(gym.make("rlbench3/Pendulum-R-v0"), HoldThenPush(200), options=NEAR_UPRIGHT)
    assert len(steps) == 200 and steps[-1][2] and steps[-1][3]["is_success"]
    # Pushed over after 150 upright steps: 100 were upright once, but not the last 100.
    pushed = run(gym.make("rlbench3/Pendulum-v0"), HoldThenPush(150), options=NEAR_UPRIGHT)
    assert pushed[149][3]["is_success"] and not pushed[-1][3]["is_success"]
    falls = run(gym.make("rlbench3/Pendulum-v0"), lambda obs: zero, options=NEAR_UPRIGHT)
    assert not any(s[3]["is_success"] for s in falls)


@pytest.mark.parametrize("upright_from, success", [(100, True), (101, False)])
def test_pendulum_counts_exactly_the_last_100_steps(upright_from, success):
    def inject(env, t):
        if t == upright_from:
            env.unwrapped.state = np.array([0.0, 0.0])  # the unstable equilibrium: stays up

    steps = run(gym.make("rlbench3/Pendulum-v0"), lambda obs: zero, on_step=inject)
    assert len(steps) == 200 and steps[-1][3]["is_success"] is success


# --------------------------------------------------------------------------------------------
# Sampling of the extreme unions


def high_side_fraction(sampling, n=4000):
    env = gym.make("rlbench3/MountainCar-E-v0", extreme_sampling=sampling)
    env.reset(seed=0)
    forces = np.array([env.reset()[1]["params"]["force"] for _ in range(n)])
    assert np.all((forces <= 0.0005) | (forces >= 0.005))
    return float(np.mean(forces >= 0.005)), n


@pytest.mark.parametrize("sampling, expected", [("length", 0.005 / 0.0054), ("equal", 0.5)])
def test_extreme_sampling_sets_the_side_frequencies(sampling, expected):
    fraction, n = high_side_fraction(sampling)
    sigma = math.sqrt(expected * (1 - expected) / n)
    assert abs(fraction - expected) < 4 * sigma, (fraction, expected)


def test_extreme_sampling_is_recorded_and_applies_to_every_union():
    env = gym.make("rlbench3/CartPole-E-v0", extreme_sampling="equal")
    params = env.unwrapped.params
    assert all(getattr(params, n).weighting == "equal" for n in params.randomized)
    _, info = env.reset(seed=0)
    assert info["params"]["extreme_sampling"] == "equal"
    assert gym.make("rlbench3/CartPole-E-v0").reset(seed=0)[1]["params"]["extreme_sampling"] == (
        "length"
    )
    # Unions given as keywords follow it too; an explicit weighting is kept.
    env = CartPoleEnv(extreme_sampling="equal", force_mag=[[1.0, 5.0], [15.0, 20.0]])
    assert env.params.force_mag.weighting == "equal"
    env = CartPoleEnv(
        preset="E",
        extreme_sampling="equal",
        length={"intervals": [[0.05, 0.25], [0.75, 1.0]], "weighting": "length"},
    )
    assert env.params.length.weighting == "length" and env.params.masspole.weighting == "equal"


def test_resolve_params_without_union_weighting_is_unchanged():
    r = resolve_params(CartPoleParams, "E", {})
    assert all(getattr(r, n).weighting == "length" for n in r.randomized)
    with pytest.raises(ValueError, match="union weighting must be one of"):
        resolve_params(CartPoleParams, "E", {}, union_weighting="both")


# --------------------------------------------------------------------------------------------
# Variants


def episode_params(env, n, seed=0):
    env.reset(seed=seed)
    return [env.reset()[1]["params"] for _ in range(n)]


def test_a_variant_is_a_fixed_draw_of_its_seed():
    a = episode_params(gym.make("rlbench3/CartPole-R-v0", variant_seed=7), 5, seed=0)
    b = episode_params(gym.make("rlbench3/CartPole-R-v0", variant_seed=7), 5, seed=99)
    assert all(p == a[0] for p in a + b)
    assert a[0] != episode_params(gym.make("rlbench3/CartPole-R-v0", variant_seed=8), 1)[0]
    params = gym.make("rlbench3/CartPole-R-v0").unwrapped.params
    for name in params.randomized:
        assert getattr(params, name).contains(a[0][name])
    # The values are those of the variant's own generator, in field order.
    rng = variant_rng(7)
    assert [a[0][n] for n in ("force_mag", "length", "masspole")] == [
        getattr(params, n).sample(rng) for n in ("force_mag", "length", "masspole")
    ]


def test_k_variants_and_disjoint_test_variants():
    k10 = episode_params(
        gym.make("rlbench3/Pendulum-R-v0", variant_seed={"low": 0, "high": 9}), 300
    )
    seeds = {p["variant_seed"] for p in k10}
    assert seeds == set(range(10))
    by_seed = {p["variant_seed"]: (p["length"], p["mass"]) for p in k10}
    assert len({(p["length"], p["mass"]) for p in k10}) == 10
    assert all(by_seed[p["variant_seed"]] == (p["length"], p["mass"]) for p in k10)
    # Variant v is the same whatever K: the first ten of K = 1000 are the ten above.
    k1000 = episode_params(
        gym.make("rlbench3/Pendulum-R-v0", variant_seed={"low": 0, "high": 999}), 300
    )
    for p in k1000:
        if p["variant_seed"] < 10:
            assert by_seed[p["variant_seed"]] == (p["length"], p["mass"])
    test = episode_params(
        gym.make("rlbench3/Pendulum-R-v0", variant_seed={"low": 10**6, "high": 2 * 10**6 - 1}), 50
    )
    assert not {(p["length"], p["mass"]) for p in test} & set(by_seed.values())
    # -1 (the default): fresh values every episode, K = infinity.
    fresh = episode_params(gym.make("rlbench3/Pendulum-R-v0"), 50)
    assert len({p["length"] for p in fresh}) == 50 and {p["variant_seed"] for p in fresh} == {-1}


def test_variant_seed_is_a_parameter_like_any_other():
    params = CartPoleParams(variant_seed={"low": 0, "high": 9})
    assert isinstance(params.variant_seed, Distribution) and params.variant_seed.integer
    assert params.to_config()["variant_seed"] == {"low": 0, "high": 9}


# --------------------------------------------------------------------------------------------
# Values that cannot work are refused at construction (issue 11, point 13)


@pytest.mark.parametrize(
    ("env_id", "kwargs", "message"),
    [
        # Each of these gave NaN observations (that never end the episode), a ZeroDivisionError
        # or a hang in Gymnasium's simulator before the bounds.
        ("rlbench3/CartPole-v0", {"force_mag": 1e300}, r"force_mag must be a number >= 1e-06"),
        ("rlbench3/CartPole-v0", {"length": 5e-324}, r"length must be a number >= 1e-06"),
        ("rlbench3/CartPole-v0", {"length": 1e300}, r"length must be a number >= 1e-06"),
        ("rlbench3/Pendulum-v0", {"length": 5e-324}, r"length must be a number >= 1e-06"),
        (
            "rlbench3/Acrobot-v0",
            {"link_length": 10.0, "link_mass": 10.0, "link_moi": 0.1},
            r"link_length must be a number >= 0.2 and <= 5, got 10.0",
        ),
        ("rlbench3/Acrobot-v0", {"link_moi": 5e-324}, r"link_moi must be a number >= 0.2 and <= 5"),
        (
            "rlbench3/MountainCar-v0",
            {"variant_seed": 2**70},
            r"variant_seed must be an integer >= -1 and <= 9223372036854775807",
        ),
        ("rlbench3/MountainCar-v0", {"preset": ["R"]}, r"preset must be one of D, R, E for Mou"),
    ],
)
def test_values_that_cannot_work_are_refused_naming_the_range(env_id, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        gym.make(env_id, **kwargs)


@pytest.mark.parametrize(
    ("env_id", "low", "high"),
    [
        ("rlbench3/CartPole-v0", 1e-6, 1e6),
        ("rlbench3/MountainCar-v0", 1e-6, 1e6),
        ("rlbench3/Pendulum-v0", 1e-6, 1e6),
        ("rlbench3/Acrobot-v0", 0.2, 5.0),
    ],
)
def test_every_corner_of_the_valid_ranges_stays_finite(env_id, low, high):
    import itertools

    names = [
        n for n in gym.make(env_id).unwrapped.params.describe() if "number" in _spec(env_id, n)
    ]
    for corner in itertools.product((low, high), repeat=len(names)):
        env = gym.make(env_id, **dict(zip(names, corner)))
        obs, _ = env.reset(seed=0)
        env.action_space.seed(0)
        for _ in range(200):
            obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            assert np.isfinite(obs).all() and np.isfinite(reward), (corner, obs)
            if terminated or truncated:
                obs, _ = env.reset()


def _spec(env_id, name):
    return gym.make(env_id).unwrapped.params.describe()[name]
