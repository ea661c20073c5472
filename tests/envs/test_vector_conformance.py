"""Every id with a ``vector_entry_point`` behaves as Gymnasium's ``SyncVectorEnv`` of its single
envs does: infos in the vector convention (``DictInfoToList`` gives back the single envs' infos),
``max_episode_steps`` truncating as the sync mode's ``TimeLimit``, ``step()`` before ``reset()``
raising, and ``render_mode`` honoured (or refused), never silently dropped.

The ids are read from the registry, so a family that registers a vector env is covered here.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers.vector import DictInfoToList

import rlbench3

VECTOR_IDS = [
    env_id
    for env_id in rlbench3.registered_ids()
    if gym.spec(env_id).vector_entry_point is not None
]
STEPS = 300


def test_the_batched_families_are_covered():
    assert {"rlbench3/CombinationLock-v0", "rlbench3/SparseReach-v0"} <= set(VECTOR_IDS)


def make_pair(env_id, num_envs, **kwargs):
    """The native batched env and Gymnasium's SyncVectorEnv of single envs, both as lists."""
    native = gym.make_vec(env_id, num_envs=num_envs, **kwargs)
    sync = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync", **kwargs)
    return native, sync


def same(a, b, path="info"):
    """``a`` equals ``b`` exactly: same keys, types, dtypes, shapes and values."""
    if isinstance(a, dict) or isinstance(b, dict):
        assert isinstance(a, dict) and isinstance(b, dict), path
        assert set(a) == set(b), f"{path}: keys {sorted(a)} != {sorted(b)}"
        for key in a:
            same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), f"{path}: {type(a)} != {type(b)}"
        assert a.dtype == b.dtype and np.array_equal(a, b), f"{path}: {a!r} != {b!r}"
    else:
        assert type(a) is type(b), f"{path}: {type(a)} != {type(b)}"
        assert a == b, f"{path}: {a!r} != {b!r}"


def assert_vector_convention(infos, num_envs, path="infos"):
    """Every key an array of one entry per copy beside a boolean ``_key`` mask of that length."""
    for key, value in infos.items():
        if key.startswith("_"):
            assert key[1:] in infos, f"{path}: mask {key} without its key"
            continue
        mask = infos.get(f"_{key}")
        assert isinstance(mask, np.ndarray) and mask.dtype == np.bool_, f"{path}: no _{key}"
        assert mask.shape == (num_envs,), f"{path}: _{key} has shape {mask.shape}"
        if isinstance(value, dict):
            assert_vector_convention(value, num_envs, f"{path}[{key!r}]")
        else:
            assert isinstance(value, np.ndarray), f"{path}[{key!r}] is a {type(value)}"
            assert value.shape[:1] == (num_envs,), f"{path}[{key!r}] has shape {value.shape}"


def batched_actions(space, num_envs, seed):
    space.seed(seed)
    return [np.stack([space.sample() for _ in range(num_envs)]) for _ in range(STEPS)]


def run_both(env_id, num_envs, **kwargs):
    """Both vector envs under the same actions; yields each step's results of both."""
    native, sync = make_pair(env_id, num_envs, **kwargs)
    assert_vector_convention(native.reset(seed=0)[1], num_envs)
    native_list, sync_list = DictInfoToList(native), DictInfoToList(sync)
    yield native_list.reset(seed=0), sync_list.reset(seed=0)
    for actions in batched_actions(native.single_action_space, num_envs, seed=1):
        a, b = native_list.step(actions), sync_list.step(actions)
        yield a, b
    native.close()
    sync.close()


@pytest.mark.parametrize("env_id", VECTOR_IDS)
@pytest.mark.parametrize("max_episode_steps", [None, 7])
def test_one_copy_equals_sync_vector_env_infos_included(env_id, max_episode_steps):
    # One copy, seeded alike, draws what one single env draws: everything must be equal,
    # DictInfoToList's infos included, over autoresets (every 8 steps with a 7-step limit).
    kwargs = {} if max_episode_steps is None else {"max_episode_steps": max_episode_steps}
    ends = 0
    for step, (a, b) in enumerate(run_both(env_id, 1, **kwargs)):
        if len(a) == 2:
            (obs_a, info_a), (obs_b, info_b) = a, b
            same(obs_a, obs_b, "reset obs")
            same(info_a, info_b, "reset infos")
            continue
        for name, x, y in zip(("obs", "reward", "terminated", "truncated"), a[:4], b[:4]):
            assert np.array_equal(x, y), f"step {step}: {name} {x!r} != {y!r}"
        same(a[4], b[4], f"step {step} infos")
        ends += bool(a[2][0] or a[3][0])
    if max_episode_steps is not None:
        assert ends >= STEPS // (max_episode_steps + 1) - 1
        assert ends > 0


@pytest.mark.parametrize("env_id", VECTOR_IDS)
def test_many_copies_keep_the_vector_convention_and_the_single_envs_keys(env_id):
    # Copies draw from another stream than SyncVectorEnv's sub-envs, so values differ; the infos
    # must still be in the vector convention at every step, and each copy's info must have the
    # keys and value types that a single env's info has.
    num_envs = 3
    native, sync = make_pair(env_id, num_envs, max_episode_steps=9)
    kinds = {}

    def record(info, source, prefix=()):
        for key, value in info.items():
            if isinstance(value, dict):
                record(value, source, (*prefix, key))
            else:
                kinds.setdefault((*prefix, key), {}).setdefault(source, set()).add(
                    type(value).__name__
                )

    _, infos = native.reset(seed=0)
    assert_vector_convention(infos, num_envs)
    sync.reset(seed=0)
    native_list, sync_list = DictInfoToList(native), DictInfoToList(sync)
    for actions in batched_actions(native.single_action_space, num_envs, seed=2):
        *_, infos = native.step(actions)
        assert_vector_convention(infos, num_envs)
        for info in native_list._convert_info_to_list(infos):
            record(info, "native")
        *_, infos = sync.step(actions)
        for info in sync_list._convert_info_to_list(infos):
            record(info, "sync")
    for path, sources in kinds.items():
        assert "sync" in sources, f"{path}: a key that no single env's info has"
        if "native" in sources:
            assert sources["native"] == sources["sync"], f"{path}: {sources}"
    assert any("native" in s for s in kinds.values())


@pytest.mark.parametrize("env_id", VECTOR_IDS)
def test_max_episode_steps_truncates_every_copy_as_time_limit_does(env_id):
    native, sync = make_pair(env_id, 4, max_episode_steps=5)
    native.reset(seed=0)
    steps = np.zeros(4, dtype=int)
    for actions in batched_actions(native.single_action_space, 4, seed=3)[:60]:
        before = steps.copy()
        _, _, terminated, truncated, _ = native.step(actions)
        steps = np.where(before == -1, 0, before + 1)  # -1: the autoreset step that follows an end
        ended = terminated | truncated
        assert (steps <= 5).all()
        assert np.array_equal(truncated | (steps < 5), np.ones(4, dtype=bool)), steps
        steps[ended] = -1


@pytest.mark.parametrize("env_id", VECTOR_IDS)
def test_step_before_reset_raises(env_id):
    native, sync = make_pair(env_id, 2)
    actions = batched_actions(native.single_action_space, 2, seed=0)[0]
    with pytest.raises(gym.error.ResetNeeded):
        sync.step(actions)  # (Gymnasium's own behaviour, the reference)
    with pytest.raises((gym.error.ResetNeeded, AssertionError, RuntimeError)):
        native.step(actions)


@pytest.mark.parametrize("env_id", VECTOR_IDS)
def test_rgb_array_rendering_is_honoured_or_refused(env_id):
    try:
        native = gym.make_vec(env_id, num_envs=2, render_mode="rgb_array")
    except (ValueError, TypeError) as err:  # refused, naming the valid modes
        assert "render_mode" in str(err)
        return
    assert native.render_mode == "rgb_array"
    native.reset(seed=0)
    native.step(batched_actions(native.single_action_space, 2, seed=0)[0])
    frames = native.render()
    assert len(frames) == 2
    for frame in frames:
        assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
        assert frame.ndim == 3 and frame.shape[2] == 3
    # One copy draws the frame its single env draws.
    native, sync = make_pair(env_id, 1, render_mode="rgb_array")
    native.reset(seed=0)
    sync.reset(seed=0)
    actions = batched_actions(native.single_action_space, 1, seed=0)[:5]
    for a in actions:
        native.step(a)
        sync.step(a)
    assert np.array_equal(native.render()[0], sync.render()[0])
