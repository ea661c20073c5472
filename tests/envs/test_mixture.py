"""Mixture: joint (correlated) parameter distributions from several components."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import rlbench3  # noqa: F401

CORNERS = [
    {"mass": {"low": 0.25, "high": 0.5}, "action_gain": {"low": 0.5, "high": 0.75}},
    {"mass": {"low": 2.0, "high": 4.0}, "action_gain": {"low": 1.25, "high": 1.5}},
]


def make(**kwargs):
    return gym.make(
        "rlbench3/Mixture-v0",
        env="rlbench3/SparseReach-v0",
        action_dim=2,
        components=CORNERS,
        **kwargs,
    )


def test_draws_come_only_from_the_components_corners():
    env = make()
    seen = set()
    for seed in range(300):
        _, info = env.reset(seed=seed)
        p = info["params"]
        light, weak = p["mass"] <= 0.5, p["action_gain"] <= 0.75
        assert light == weak  # never light-strong or heavy-weak: a joint distribution
        assert info["component"] == (0 if light else 1)
        assert p["action_dim"] == 2  # shared keywords reach every component
        seen.add(info["component"])
    assert seen == {0, 1}


def test_weights_and_reproducibility():
    env = make(weights=[0.0, 1.0])
    assert {env.reset(seed=s)[1]["component"] for s in range(50)} == {1}
    a, b = make(), make()
    for seed in range(5):
        oa, ia = a.reset(seed=seed)
        ob, ib = b.reset(seed=seed)
        assert np.array_equal(oa, ob) and ia["params"] == ib["params"]
        action = np.full(2, 0.5, dtype=np.float32)
        assert np.array_equal(a.step(action)[0], b.step(action)[0])


def test_passes_both_checkers():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*infinity.*")
        check_env(make().unwrapped, skip_render_check=True)
        sb3_check_env(make().unwrapped)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"env": None, "components": CORNERS}, r"env must be an env id"),
        ({"env": "rlbench3/SparseReach-v0", "components": []}, r"components must be a non-empty"),
        (
            {"env": "rlbench3/SparseReach-v0", "components": CORNERS, "weights": [1.0]},
            r"weights must be 2 finite non-negative numbers",
        ),
        (
            {"env": "rlbench3/SparseReach-v0", "components": CORNERS, "weights": [-1.0, 2.0]},
            r"weights must be 2 finite non-negative numbers",
        ),
        (
            {"env": "rlbench3/SparseReach-v0", "components": [{"mass": -1.0}]},
            r"components\[0\]: mass must be a number >= 1e-06",
        ),
        (
            {
                "env": "rlbench3/SparseReach-v0",
                "components": [{"action_dim": 1}, {"action_dim": 2}],
            },
            r"components\[1\] has other observation or action spaces",
        ),
    ],
)
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make("rlbench3/Mixture-v0", **kwargs)


def test_makes_at_its_registered_defaults_and_passes_both_checkers():
    from gymnasium.utils.env_checker import check_env as gym_check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make("rlbench3/Mixture-v0")
    _, info = env.reset(seed=0)
    assert info["component"] == 0 and env.unwrapped.envs[0].spec.id == "rlbench3/SparseReach-v0"
    gym_check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped)


# -- SB3's make_vec_env and rendering (issue 11, point 2) ---------------------------------------


def test_sb3_make_vec_env_makes_a_mixture():
    from stable_baselines3.common.env_util import make_vec_env

    # make_vec_env asks for render_mode="rgb_array" and falls back only on a TypeError.
    envs = make_vec_env(
        "rlbench3/Mixture-v0",
        n_envs=2,
        env_kwargs={"env": "rlbench3/SparseReach-v0", "action_dim": 2, "components": CORNERS},
    )
    try:
        obs = envs.reset()
        assert obs.shape == (2, 6)
        obs, rewards, dones, infos = envs.step(np.zeros((2, 2), dtype=np.float32))
        assert rewards.shape == (2,)
        assert all(image.shape == (256, 256, 3) for image in envs.get_images())
    finally:
        envs.close()


def test_rgb_array_renders_the_current_component():
    env = make(render_mode="rgb_array")
    assert env.unwrapped.render_mode == "rgb_array"
    _, info = env.reset(seed=3)
    env.step(np.full(2, 0.5, dtype=np.float32))
    component = env.unwrapped.envs[info["component"]]
    assert np.array_equal(env.render(), component.render())
    text = make(render_mode="ansi")
    text.reset(seed=0)
    assert text.render().startswith("step 0/50")
    silent = make()
    silent.reset(seed=0)
    assert silent.render() is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"render_mode": "human"}, r"render_mode must be None or one of \['rgb_array', 'ansi'\]"),
        ({"render_mode": "svg"}, r"render_mode must be None or one of"),
        (
            {"env": "rlbench3/ArmReach-v0", "render_mode": "ansi"},
            r"render_mode must be None or one of \['rgb_array'\] \(the modes of rlbench3/Arm",
        ),
    ],
)
def test_unsupported_render_modes_raise_type_error(kwargs, message):
    from rlbench3.envs.mixture import MixtureEnv

    with pytest.raises(TypeError, match=message):
        MixtureEnv(**kwargs)


# -- bad keywords (issue 11, point 13) ----------------------------------------------------------


@pytest.mark.parametrize(
    "weights",
    ["ab", [1.0, "a"], [True, False], 5, [1e308, 1e308], [10**400, 1.0], [float("nan"), 1.0]],
)
def test_weights_that_are_not_numbers_are_refused_clearly(weights):
    with pytest.raises(ValueError, match=r"weights must be 2 finite non-negative numbers"):
        make(weights=weights)


def test_a_preset_that_is_not_a_name_is_refused_clearly():
    with pytest.raises(TypeError, match=r"components\[0\]: preset must be one of D, R, E"):
        make(preset=["R"])
