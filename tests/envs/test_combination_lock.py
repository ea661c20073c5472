"""CombinationLock: closed forms, the expert, reward modes, the batched path."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rlbench3  # noqa: F401
from rlbench3.analysis.probes import hit_probability
from rlbench3.envs.combination_lock import (
    CombinationLockEnv,
    CombinationLockVectorEnv,
    combination,
    uniform_hit_probability,
)

ID = "rlbench3/CombinationLock-v0"


def run_episode(env, policy):
    obs, info = env.reset()
    rewards, observations = [], [obs]
    done = False
    while not done:
        obs, reward, terminated, truncated, info = env.step(policy(env))
        rewards.append(reward)
        observations.append(obs)
        done = terminated or truncated
    return rewards, observations, info, terminated


@settings(max_examples=30, deadline=None)
@given(
    horizon=st.integers(1, 15),
    num_actions=st.integers(2, 6),
    seed=st.integers(0, 10_000),
    reward_mode=st.sampled_from(["sparse", "dense"]),
    failure_mode=st.sampled_from(["absorbing", "continue"]),
)
def test_expert_always_succeeds_with_total_reward_one(
    horizon, num_actions, seed, reward_mode, failure_mode
):
    env = CombinationLockEnv(
        horizon=horizon,
        num_actions=num_actions,
        combination_seed=seed,
        reward_mode=reward_mode,
        failure_mode=failure_mode,
    )
    env.reset(seed=0)
    rewards, _, info, terminated = run_episode(env, lambda e: e.optimal_action())
    assert len(rewards) == horizon and terminated and info["is_success"]
    assert sum(rewards) == pytest.approx(1.0)
    if reward_mode == "sparse":
        assert rewards[:-1] == [0.0] * (horizon - 1)


def test_combination_is_a_pure_function_of_its_seed():
    a = combination(5, 20, 3)
    assert np.array_equal(a, combination(5, 20, 3))
    assert not np.array_equal(a, combination(6, 20, 3))
    assert a.min() >= 0 and a.max() < 3
    env = CombinationLockEnv(horizon=20, num_actions=3, combination_seed=5)
    env.reset(seed=123)
    assert np.array_equal(env.combination, a)


@pytest.mark.parametrize(("horizon", "num_actions"), [(1, 2), (3, 2), (4, 3), (8, 2), (5, 4)])
def test_uniform_policy_hits_with_probability_k_to_the_minus_h(horizon, num_actions):
    est = hit_probability(ID, 400_000, seed=1, horizon=horizon, num_actions=num_actions)
    # 99.9% interval, so the 5 cases together fail by chance less than 1% of the time.
    from rlbench3.analysis.probes import clopper_pearson

    low, high = clopper_pearson(est.hits, est.episodes, 0.999)
    assert low <= uniform_hit_probability(horizon, num_actions) <= high


def test_uniform_policy_single_env_loop_matches_closed_form():
    # The unbatched route, episode by episode: a check independent of the vector env.
    env = CombinationLockEnv(horizon=3, num_actions=3, combination_seed=2)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    hits = sum(
        run_episode(env, lambda e: int(rng.integers(3)))[0][-1] == 1.0 for _ in range(20_000)
    )
    from rlbench3.analysis.probes import clopper_pearson

    low, high = clopper_pearson(hits, 20_000, 0.999)
    assert low <= 3.0**-3 <= high


def test_absorbing_failure_hides_later_rewards_and_flags_death():
    env = CombinationLockEnv(horizon=4, num_actions=2, reward_mode="dense")
    env.reset(seed=0)
    code = env.combination
    wrong_first = [1 - code[0], *code[1:]]
    it = iter(wrong_first)
    rewards, observations, info, _ = run_episode(env, lambda e: next(it))
    assert rewards == [0.0, 0.0, 0.0, 0.0] and not info["is_success"]
    assert [o[5] for o in observations] == [0.0, 1.0, 1.0, 1.0, 1.0]  # dead flag at index H+1

    env = CombinationLockEnv(horizon=4, num_actions=2, reward_mode="dense", failure_mode="continue")
    env.reset(seed=0)
    it = iter(wrong_first)
    rewards, observations, info, _ = run_episode(env, lambda e: next(it))
    assert rewards == [0.0, 0.25, 0.25, 0.25] and not info["is_success"]
    assert all(o[5] == 0.0 for o in observations)


def test_observation_is_step_one_hot_then_distractors():
    env = CombinationLockEnv(horizon=3, distractor_dims=4, distractor_std=2.0)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3 + 2 + 4,) and obs.dtype == np.float32
    assert obs[:5].tolist() == [1, 0, 0, 0, 0]
    noise = np.array([env.step(0)[0][5:] for _ in range(3)])
    assert noise.std() > 0.5  # fresh noise each step, of roughly the given scale
    env = CombinationLockEnv(horizon=3, distractor_dims=4, distractor_std=0.0)
    env.reset(seed=0)
    assert np.all(env.step(0)[0][5:] == 0.0)


def test_step_after_end_and_invalid_actions_raise():
    env = CombinationLockEnv(horizon=1, num_actions=3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be an integer in \[0, 3\)"):
        env.step(3)
    env.step(0)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    with pytest.raises(RuntimeError, match="reset"):
        env.optimal_action()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0}, r"horizon must be an integer >= 1 and <= 1000, got 0"),
        ({"horizon": 2.5}, r"horizon must be an integer >= 1"),
        ({"horizon": {"low": 2, "high": 4}}, r"horizon cannot be randomized"),
        ({"num_actions": 1}, r"num_actions must be an integer >= 2 and <= 2147483647, got 1"),
        (
            {"combination_seed": -1},
            r"combination_seed must be an integer >= 0 and <= 9223372036854775807, got -1",
        ),
        ({"combination_seed": {"low": 3, "high": 1}}, r"combination_seed: interval low must be"),
        ({"reward_mode": "shaped"}, r"reward_mode must be one of 'sparse', 'dense'"),
        ({"failure_mode": "reset"}, r"failure_mode must be one of 'absorbing', 'continue'"),
        ({"distractor_dims": -1}, r"distractor_dims must be an integer >= 0 and <= 10000"),
        ({"distractor_std": -0.1}, r"distractor_std must be a number >= 0 and <= 1e\+06, got -0.1"),
        ({"distractor_std": [[0, 1], [0.5, 2]]}, r"distractor_std: .* overlaps"),
        ({"horizn": 3}, r"unknown parameter 'horizn' .* did you mean 'horizon'"),
        ({"preset": "X"}, r"preset must be one of D, R, E for CombinationLock, got 'X'"),
        ({"render_mode": "svg"}, r"render_mode must be one of"),
    ],
)
def test_bad_input_fails_at_construction(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        gym.make(ID, **kwargs)
    with pytest.raises((ValueError, TypeError), match=message):
        CombinationLockEnv(**kwargs)


def test_held_out_preset_draws_only_unseen_combinations():
    seen = {
        gym.make(ID, preset="R").reset(seed=s)[1]["params"]["combination_seed"] for s in range(200)
    }
    held_out = {
        gym.make(ID, preset="E").reset(seed=s)[1]["params"]["combination_seed"] for s in range(200)
    }
    assert seen <= set(range(100, 200)) and held_out.isdisjoint(seen)
    assert min(held_out) < 100 and max(held_out) > 199  # E lies on both sides of R


# --------------------------------------------------------------------------------------------
# The batched path


def test_make_vec_selects_the_batched_env():
    envs = gym.make_vec(ID, num_envs=8, horizon=5)
    assert isinstance(envs, CombinationLockVectorEnv) and envs.num_envs == 8
    assert envs.single_observation_space == CombinationLockEnv(horizon=5).observation_space


@pytest.mark.parametrize("failure_mode", ["absorbing", "continue"])
@pytest.mark.parametrize("reward_mode", ["sparse", "dense"])
def test_batched_copies_follow_single_env_dynamics(reward_mode, failure_mode):
    kwargs = dict(
        horizon=4,
        num_actions=2,
        combination_seed=3,
        reward_mode=reward_mode,
        failure_mode=failure_mode,
    )
    n, steps = 16, 40
    envs = CombinationLockVectorEnv(num_envs=n, **kwargs)
    rng = np.random.default_rng(0)
    actions = rng.integers(2, size=(steps, n))
    obs, _ = envs.reset(seed=0)
    batched = [(obs, None, None)]
    for a in actions:
        obs, rew, term, trunc, _ = envs.step(a)
        assert not trunc.any()
        batched.append((obs, rew, term))
    for i in range(n):
        env = CombinationLockEnv(**kwargs)
        obs, _ = env.reset(seed=0)
        assert np.array_equal(obs, batched[0][0][i])
        just_ended = False
        for t, a in enumerate(actions):
            if just_ended:  # NEXT_STEP autoreset: this step resets the copy, ignoring its action
                obs, _ = env.reset()
                rew, term = 0.0, False
                just_ended = False
            else:
                obs, rew, term, _, _ = env.step(a[i])
                just_ended = term
            b_obs, b_rew, b_term = batched[t + 1]
            assert np.array_equal(obs, b_obs[i]) and rew == b_rew[i] and term == b_term[i]


def test_one_copy_vector_env_equals_single_env_even_when_randomized():
    kwargs = dict(preset="R", horizon=3, num_actions=3, distractor_dims=2)
    env, envs = CombinationLockEnv(**kwargs), CombinationLockVectorEnv(1, **kwargs)
    o1, i1 = env.reset(seed=11)
    o2, i2 = envs.reset(seed=11)
    assert np.array_equal(o1, o2[0])
    assert i1["params"]["combination_seed"] == i2["params"]["combination_seed"][0]
    assert i1["params"]["distractor_std"] == i2["params"]["distractor_std"][0]
    rng = np.random.default_rng(0)
    for _ in range(30):
        a = int(rng.integers(3))
        o1, r1, t1, _, _ = env.step(a)
        o2, r2, t2, _, _ = envs.step(np.array([a]))
        assert np.array_equal(o1, o2[0]) and r1 == r2[0] and t1 == t2[0]
        if t1:
            o1, _ = env.reset()
            o2, *_ = envs.step(np.array([a]))
            assert np.array_equal(o1, o2[0])


def test_batched_reset_mask_and_bad_actions():
    envs = CombinationLockVectorEnv(num_envs=3, horizon=3)
    envs.reset(seed=0)
    envs.step(np.array([0, 0, 0]))
    obs, _ = envs.reset(options={"reset_mask": np.array([True, False, False])})
    assert obs[0, 0] == 1.0 and obs[1, 1] == 1.0 and obs[2, 1] == 1.0
    with pytest.raises(ValueError, match=r"actions must be an integer array of shape \(3,\)"):
        envs.step(np.array([0, 1]))
    with pytest.raises(ValueError, match=r"actions must be in \[0, 2\)"):
        envs.step(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"num_envs must be an integer >= 1 and <= \d+, got 0"):
        CombinationLockVectorEnv(num_envs=0)


def test_rendering_shows_right_wrong_and_pending_digits():
    env = CombinationLockEnv(horizon=3, render_mode="rgb_array", failure_mode="continue")
    env.reset(seed=0)
    env.step(env.optimal_action())
    env.step(1 - env.optimal_action())
    image = env.render()
    assert image.shape == (256, 256, 3) and image.dtype == np.uint8
    row = image[128]
    colours = {tuple(c) for c in row}
    assert {(60, 170, 80), (220, 60, 60), (170, 170, 170)} <= colours  # green, red, grey
    text = CombinationLockEnv(horizon=3, render_mode="ansi")
    text.reset(seed=0)
    assert text.render() == "[...] step 0/3\n"


def test_copies_at_different_steps_after_a_masked_reset_stay_correct():
    # A masked reset desynchronises the copies (the general, per-copy path); the expert must
    # still open every lock at that copy's own step H.
    envs = CombinationLockVectorEnv(num_envs=6, horizon=4, num_actions=3, preset="R")
    _, info = envs.reset(seed=0)
    envs.step(np.zeros(6, dtype=np.int64))
    envs.step(np.zeros(6, dtype=np.int64))
    mask = np.array([True, True, True, False, False, False])
    _, info = envs.reset(options={"reset_mask": mask})
    seeds = info["params"]["combination_seed"]
    step = np.where(mask, 0, 2)
    for s in range(2, 6):
        # Copies 3..5 finish their (failed or lucky) episode first, then autoreset at s == 4.
        code = np.array([combination(int(seed), 4, 3) for seed in seeds])
        actions = code[np.arange(6), np.minimum(step, 3)]
        _, rewards, terminated, _, info = envs.step(actions)
        if s < 4:
            assert terminated.tolist() == [False] * 3 + [s == 3] * 3
        step = step + 1
        if s == 4:  # copies 3..5 were reset by this step: new seeds, back to step 0
            seeds = np.where(info["_params"], info["params"]["combination_seed"], seeds)
            step = np.where(mask, step, 0)
    # Copies 0..2 entered their full combination: exactly one success each, at their step H.
    assert terminated[:3].all() and (rewards[:3] == 1.0).all()


# --------------------------------------------------------------------------------------------
# Actions are elements of the action space (issue 11, point 4)


@pytest.mark.parametrize("action", [1.5, -0.5, 1.0, "1", True, None, [1], np.array([1]), 2, -1])
def test_single_env_refuses_what_is_not_an_element_of_the_action_space(action):
    env = CombinationLockEnv(horizon=3, num_actions=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be an integer in \[0, 2\)"):
        env.step(action)
    assert env.step(0)[0][1] == 1.0  # nothing was entered by the refused action


@pytest.mark.parametrize("action", [1, np.int64(1), np.uint8(1), np.int32(1), np.array(1)])
def test_single_env_takes_what_discrete_contains(action):
    env = CombinationLockEnv(horizon=3, num_actions=2)
    assert env.action_space.contains(action)
    env.reset(seed=0)
    env.step(action)


# --------------------------------------------------------------------------------------------
# The batched env's vector API (issue 11, point 3)


def test_batched_infos_follow_gymnasium_vector_convention():
    from gymnasium.wrappers.vector import DictInfoToList

    envs = CombinationLockVectorEnv(num_envs=3, horizon=2, preset="R")
    _, infos = envs.reset(seed=0)
    params = infos["params"]
    assert infos["_params"].tolist() == [True] * 3
    for name in ("horizon", "num_actions", "reward_mode", "failure_mode", "distractor_dims"):
        assert params[name].shape == (3,) and params[f"_{name}"].tolist() == [True] * 3
    assert params["horizon"].tolist() == [2, 2, 2] and params["reward_mode"][0] == "sparse"
    listed = DictInfoToList(envs)
    _, per_copy = listed.reset(seed=0)
    assert per_copy[1]["params"]["horizon"] == 2 and set(per_copy[1]) == {"params"}
    listed.step(np.zeros(3, dtype=np.int64))
    _, _, terminated, _, per_copy = listed.step(np.zeros(3, dtype=np.int64))
    assert terminated.all() and all(set(i) == {"is_success"} for i in per_copy)
    _, _, _, _, per_copy = listed.step(np.zeros(3, dtype=np.int64))  # the autoreset step
    assert all(set(i) == {"params"} for i in per_copy)
    # A partial reset gives the reset copies' params only, as SyncVectorEnv does.
    _, infos = envs.reset(options={"reset_mask": np.array([False, True, False])})
    assert infos["_params"].tolist() == [False, True, False]
    assert infos["params"]["_horizon"].tolist() == [False, True, False]


def test_batched_step_before_reset_raises():
    envs = CombinationLockVectorEnv(num_envs=2)
    with pytest.raises(gym.error.ResetNeeded, match="reset"):
        envs.step(np.zeros(2, dtype=np.int64))
    envs.reset(options={"reset_mask": np.array([True, False])})
    with pytest.raises(gym.error.ResetNeeded):  # copy 1 has never been reset
        envs.step(np.zeros(2, dtype=np.int64))
    envs.reset(options={"reset_mask": np.array([False, True])})
    envs.step(np.zeros(2, dtype=np.int64))


@pytest.mark.parametrize("limit", [1, 3, 4, 6])
@pytest.mark.parametrize("masked_first", [False, True])
def test_batched_max_episode_steps_truncates_as_sync_time_limit(limit, masked_first):
    kwargs = dict(horizon=4, num_actions=2, reward_mode="dense", failure_mode="continue")
    native = gym.make_vec(ID, num_envs=1, max_episode_steps=limit, **kwargs)
    sync = gym.make_vec(
        ID, num_envs=1, vectorization_mode="sync", max_episode_steps=limit, **kwargs
    )
    native.reset(seed=0)
    sync.reset(seed=0)
    if masked_first:  # the per-copy path instead of the lockstep one
        native.reset(options={"reset_mask": np.array([True])})
    actions = np.random.default_rng(0).integers(2, size=(30, 1))
    ends = 0
    for a in actions:
        got, want = native.step(a), sync.step(a)
        for x, y in zip(got[:4], want[:4]):
            assert np.array_equal(x, y)
        ends += bool(got[2][0] or got[3][0])
        if limit <= 4:
            assert not got[2][0] or limit == 4  # the limit comes first, or together
    assert ends == 30 // (min(limit, 4) + 1)


def test_max_episode_steps_is_validated():
    with pytest.raises(ValueError, match=r"max_episode_steps must be None, -1"):
        CombinationLockVectorEnv(num_envs=2, max_episode_steps=0)
    assert CombinationLockVectorEnv(num_envs=2, max_episode_steps=-1).max_episode_steps is None


@pytest.mark.parametrize("mode", ["rgb_array", "ansi"])
def test_batched_rendering_draws_each_copy_as_the_single_env(mode):
    kwargs = dict(horizon=3, num_actions=2, failure_mode="continue")
    envs = CombinationLockVectorEnv(num_envs=2, render_mode=mode, **kwargs)
    single = CombinationLockEnv(render_mode=mode, **kwargs)
    envs.reset(seed=0)
    single.reset(seed=0)
    for a in ([0, 1], [1, 1]):
        envs.step(np.array(a))
        single.step(a[0])
    frames = envs.render()
    assert len(frames) == 2
    assert np.array_equal(frames[0], single.render())
    if mode == "ansi":
        assert frames[1].startswith("[") and "step 2/3" in frames[1]
    envs.reset(options={"reset_mask": np.array([False, True])})  # the per-copy path
    envs.step(np.array([0, 0]))
    single.step(0)
    assert np.array_equal(envs.render()[0], single.render())
    with pytest.raises(ValueError, match=r"render_mode must be one of \['ansi', 'rgb_array'\]"):
        CombinationLockVectorEnv(num_envs=2, render_mode="human")
    assert CombinationLockVectorEnv(num_envs=2).render() is None


# --------------------------------------------------------------------------------------------
# Keywords that cannot work are refused at construction (issue 11, point 13)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"preset": ["R"]}, r"preset must be one of D, R, E for CombinationLock, got \['R'\]"),
        ({"preset": {"R": 1}}, r"preset must be one of D, R, E for CombinationLock"),
        ({"horizon": 10**30}, r"horizon must be an integer >= 1 and <= 1000, got 10{30}"),
        ({"horizon": 1e6}, r"horizon must be an integer >= 1 and <= 1000, got 1000000.0"),
        ({"horizon": 10**5000}, r"horizon must be an integer .*, got an integer of 16610 bits"),
        ({"num_actions": 1e30}, r"num_actions must be an integer >= 2 and <= 2147483647"),
        ({"num_actions": 2**31}, r"num_actions must be an integer >= 2 and <= 2147483647"),
        ({"combination_seed": 2**70}, r"combination_seed must be an integer >= 0 and <= 9223"),
        ({"combination_seed": 2**63}, r"combination_seed must be an integer >= 0 and <= 9223"),
        (
            {"combination_seed": {"low": 0, "high": 2**70}},
            r"combination_seed: integer interval high must be in \[.*\] \(int64\)",
        ),
        ({"combination_seed": {"low": 0, "high": 1e300}}, r"combination_seed: integer interval"),
        ({"distractor_dims": 10**9}, r"distractor_dims must be an integer >= 0 and <= 10000"),
        ({"distractor_std": 1e300}, r"distractor_std must be a number >= 0 and <= 1e\+06"),
        ({"distractor_std": 10**400}, r"distractor_std must be a number >= 0 and <= 1e\+06"),
        ({"reward_mode": ["sparse"]}, r"reward_mode must be one of 'sparse', 'dense'"),
    ],
)
def test_keywords_that_cannot_work_are_refused_naming_the_range(kwargs, message):
    for make in (CombinationLockEnv, lambda **kw: CombinationLockVectorEnv(2, **kw)):
        with pytest.raises((ValueError, TypeError), match=message):
            make(**kwargs)


def test_largest_valid_values_work():
    env = CombinationLockEnv(horizon=1000, num_actions=2**31 - 1, combination_seed=2**63 - 1)
    env.reset(seed=0)
    assert env.step(env.optimal_action())[0][1] == 1.0
    envs = CombinationLockVectorEnv(
        num_envs=2, horizon=3, combination_seed={"low": 2**63 - 10, "high": 2**63 - 1}
    )
    _, info = envs.reset(seed=0)
    seeds = info["params"]["combination_seed"]
    assert ((seeds >= 2**63 - 10) & (seeds <= 2**63 - 1)).all()
    with pytest.raises(ValueError, match=r"num_envs must be an integer >= 1 and <= 1048576"):
        CombinationLockVectorEnv(num_envs=10**12)


# --------------------------------------------------------------------------------------------
# Informative observations, sparse reward unchanged (issue 14)


def random_episodes(env, seed, episodes):
    """Transitions of ``episodes`` episodes of seeded uniform actions (the same for every mode)."""
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    out = [(obs, info)]
    for _ in range(episodes):
        done = False
        while not done:
            a = int(rng.integers(env.unwrapped.num_actions))
            obs, reward, terminated, truncated, info = env.step(a)
            out.append((a, obs, reward, terminated, truncated, info))
            done = terminated or truncated
        obs, info = env.reset()
        out.append((obs, info))
    return out


@pytest.mark.parametrize("failure_mode", ["absorbing", "continue"])
@pytest.mark.parametrize("reward_mode", ["sparse", "dense"])
@pytest.mark.parametrize("preset", [None, "R"])
def test_feedback_observation_changes_only_the_observation(failure_mode, reward_mode, preset):
    kwargs = dict(
        horizon=3,
        num_actions=2,
        failure_mode=failure_mode,
        reward_mode=reward_mode,
        preset=preset,
        distractor_dims=2,
    )
    standard = random_episodes(gym.make(ID, **kwargs), seed=4, episodes=60)
    feedback_env = gym.make(ID, observation_mode="feedback", **kwargs)
    feedback = random_episodes(feedback_env, seed=4, episodes=60)
    assert feedback_env.observation_space.shape == (3 + 2 + 2 + 1,)
    assert len(standard) == len(feedback)
    code, successes, bits = None, 0, []
    for s, f in zip(standard, feedback):
        if len(s) == 2:  # a reset: the same observation plus a feedback bit of 0
            assert np.array_equal(s[0], f[0][:-1]) and f[0][-1] == 0.0
            assert s[1]["params"] == {**f[1]["params"], "observation_mode": "standard"}
            code, t = combination(f[1]["params"]["combination_seed"], 3, 2), 0
            continue
        a, *s_rest = s
        _, f_obs, *f_rest = f
        assert s_rest[1:] == f_rest  # reward, terminated, truncated, info
        assert np.array_equal(s_rest[0], f_obs[:-1])
        assert f_obs[-1] == float(a == code[t])  # the previous digit's match, dead or not
        bits.append(f_obs[-1])
        successes += f_rest[1] and f_rest[-1]["is_success"]
        t += 1
    assert 0 < sum(bits) < len(bits) and successes > 0  # both bits and some successes were seen


def test_feedback_bit_reveals_matches_after_death_in_absorbing_mode():
    env = CombinationLockEnv(horizon=4, num_actions=2, observation_mode="feedback")
    env.reset(seed=0)
    code = env.combination
    observations = [env.step(int(a))[0] for a in (1 - code[0], code[1], 1 - code[2], code[3])]
    assert [o[5] for o in observations] == [1.0] * 4  # dead from the first digit on
    assert [o[6] for o in observations] == [0.0, 1.0, 0.0, 1.0]


@pytest.mark.parametrize("observation_mode", ["standard", "feedback"])
@pytest.mark.parametrize("failure_mode", ["absorbing", "continue"])
@pytest.mark.parametrize("masked", [False, True])
def test_batched_feedback_equals_single_env(observation_mode, failure_mode, masked):
    # One copy, a fixed combination and no distractors: nothing random, so the per-copy path (a
    # masked reset first) and the lockstep path must both replay the single env exactly.
    kwargs = dict(
        horizon=4,
        num_actions=2,
        combination_seed=7,
        failure_mode=failure_mode,
        observation_mode=observation_mode,
    )
    env, envs = CombinationLockEnv(**kwargs), CombinationLockVectorEnv(1, **kwargs)
    o1, i1 = env.reset(seed=0)
    o2, i2 = envs.reset(seed=0)
    if masked:
        o2, i2 = envs.reset(options={"reset_mask": np.array([True])})
    assert np.array_equal(o1, o2[0]) and i2["params"]["observation_mode"][0] == observation_mode
    assert envs.single_observation_space == env.observation_space
    rng = np.random.default_rng(0)
    for _ in range(40):
        a = int(rng.integers(2))
        o1, r1, t1, _, _ = env.step(a)
        o2, r2, t2, _, _ = envs.step(np.array([a]))
        assert np.array_equal(o1, o2[0]) and r1 == r2[0] and t1 == t2[0]
        if t1:
            o1, _ = env.reset()
            o2, *_ = envs.step(np.array([a]))
            assert np.array_equal(o1, o2[0])


def test_batched_feedback_copies_follow_the_single_env():
    n, steps = 8, 30
    kwargs = dict(horizon=3, num_actions=2, preset="R", observation_mode="feedback")
    envs = CombinationLockVectorEnv(n, **kwargs)
    _, info = envs.reset(seed=0)
    seeds = info["params"]["combination_seed"].copy()
    actions = np.random.default_rng(1).integers(2, size=(steps, n))
    observations = [envs.step(a)[0] for a in actions[:3]]  # the first episode of every copy
    for i in range(n):
        env = CombinationLockEnv(**{**kwargs, "preset": None}, combination_seed=int(seeds[i]))
        env.reset(seed=0)
        for t in range(3):
            assert np.array_equal(env.step(int(actions[t, i]))[0], observations[t][i])


@pytest.mark.parametrize("observation_mode", ["standard", "feedback"])
@pytest.mark.parametrize("preset", [None, "R", "E"])
def test_checkers_pass_in_every_observation_mode(observation_mode, preset):
    import warnings

    from gymnasium.utils.env_checker import check_env as gym_check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make(ID, observation_mode=observation_mode, preset=preset, distractor_dims=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped, warn=True)
    assert all("infinity" in str(w.message) for w in caught)


def test_bad_observation_mode_is_refused():
    with pytest.raises(ValueError, match=r"observation_mode must be one of 'standard', 'feedback'"):
        gym.make(ID, observation_mode="progress")
    with pytest.raises(ValueError, match=r"observation_mode must be one of"):
        CombinationLockVectorEnv(2, observation_mode=True)


# --------------------------------------------------------------------------------------------
# start_step: an episode that starts with its first digits entered (a curriculum over H)


@pytest.mark.parametrize(("horizon", "start", "num_actions"), [(8, 5, 2), (6, 0, 2), (5, 2, 3)])
def test_uniform_policy_opens_a_started_lock_with_probability_k_to_the_minus_remaining(
    horizon, start, num_actions
):
    kwargs = dict(horizon=horizon, num_actions=num_actions, start_step=start)
    est = hit_probability(ID, 200_000, seed=2, **kwargs)
    from rlbench3.analysis.probes import clopper_pearson

    low, high = clopper_pearson(est.hits, est.episodes, 0.999)
    assert low <= float(num_actions) ** -(horizon - start) <= high
    # the unbatched route, episode by episode
    env = CombinationLockEnv(**kwargs, combination_seed=4)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    episodes = [run_episode(env, lambda e: int(rng.integers(num_actions))) for _ in range(20_000)]
    assert all(len(rewards) == horizon - start for rewards, *_ in episodes)
    hits = sum(rewards[-1] == 1.0 for rewards, *_ in episodes)
    low, high = clopper_pearson(hits, 20_000, 0.999)
    assert low <= float(num_actions) ** -(horizon - start) <= high


@pytest.mark.parametrize("reward_mode", ["sparse", "dense"])
def test_a_started_episode_is_the_end_of_a_full_one(reward_mode):
    horizon, start = 6, 4
    kwargs = dict(horizon=horizon, num_actions=3, combination_seed=9, reward_mode=reward_mode)
    full, started = CombinationLockEnv(**kwargs), CombinationLockEnv(**kwargs, start_step=start)
    full.reset(seed=0)
    obs, info = started.reset(seed=0)
    assert info["params"]["start_step"] == start
    code = full.combination
    for t in range(start):
        full_obs, *_ = full.step(int(code[t]))
    assert np.array_equal(obs, full_obs) and obs.argmax() == start
    for a in (code[4], code[5]):  # the expert's digits from step start_step on
        assert started.optimal_action() == a
        got, want = started.step(int(a)), full.step(int(a))
        assert np.array_equal(got[0], want[0]) and got[2:] == want[2:]
        if reward_mode == "sparse":
            assert got[1] == want[1]
        else:  # the digits entered before the episode paid nothing in it
            assert got[1] == want[1] == 1 / horizon
    assert got[2] and got[4] == {"is_success": True}
    # one wrong digit after the start: no success, dead in absorbing mode
    started.reset()
    _, reward, _, _, info = started.step(int(1 - code[4]) % 3)
    assert reward == 0.0 and started.step(int(code[5]))[4] == {"is_success": False}


def test_feedback_bit_and_rendering_count_the_started_digits_as_right():
    env = CombinationLockEnv(
        horizon=4, start_step=2, observation_mode="feedback", render_mode="ansi"
    )
    obs, _ = env.reset(seed=0)
    assert obs[-1] == 1.0 and env.render() == "[++..] step 2/4\n"
    assert CombinationLockEnv(horizon=4, observation_mode="feedback").reset(seed=0)[0][-1] == 0.0


@pytest.mark.parametrize("start", [0, 1, 3])
@pytest.mark.parametrize("observation_mode", ["standard", "feedback"])
@pytest.mark.parametrize("failure_mode", ["absorbing", "continue"])
@pytest.mark.parametrize("masked", [False, True])
def test_batched_started_lock_equals_single_env(start, observation_mode, failure_mode, masked):
    kwargs = dict(
        horizon=4,
        num_actions=2,
        combination_seed=7,
        failure_mode=failure_mode,
        observation_mode=observation_mode,
        start_step=start,
        reward_mode="dense",
    )
    env, envs = CombinationLockEnv(**kwargs), CombinationLockVectorEnv(1, **kwargs)
    o1, i1 = env.reset(seed=0)
    o2, i2 = envs.reset(seed=0)
    if masked:  # the per-copy path instead of the lockstep one
        o2, i2 = envs.reset(options={"reset_mask": np.array([True])})
    assert np.array_equal(o1, o2[0]) and i2["params"]["start_step"][0] == start
    rng = np.random.default_rng(0)
    lengths, t = [], 0
    for _ in range(40):
        a = int(rng.integers(2))
        o1, r1, t1, _, f1 = env.step(a)
        o2, r2, t2, _, f2 = envs.step(np.array([a]))
        assert np.array_equal(o1, o2[0]) and r1 == r2[0] and t1 == t2[0]
        t += 1
        if t1:
            assert f1["is_success"] == f2["is_success"][0]
            lengths.append(t)
            t = 0
            o1, _ = env.reset()
            o2, *_ = envs.step(np.array([a]))
            assert np.array_equal(o1, o2[0])
    assert set(lengths) == {4 - start}


@pytest.mark.parametrize("start", [0, 2])
def test_batched_started_copies_follow_single_env_dynamics(start):
    kwargs = dict(horizon=4, num_actions=2, preset="R", start_step=start)
    n, steps = 12, 30
    envs = CombinationLockVectorEnv(n, **kwargs)
    _, info = envs.reset(seed=0)
    seeds = info["params"]["combination_seed"].copy()
    actions = np.random.default_rng(1).integers(2, size=(steps, n))
    results = [envs.step(a) for a in actions[: 4 - start]]  # the first episode of every copy
    for i in range(n):
        env = CombinationLockEnv(**{**kwargs, "preset": None}, combination_seed=int(seeds[i]))
        env.reset(seed=0)
        for t, (obs, rew, term, _, _) in enumerate(results):
            o, r, done, _, _ = env.step(int(actions[t, i]))
            assert np.array_equal(o, obs[i]) and r == rew[i] and done == term[i]


@pytest.mark.parametrize("limit", [1, 2, 3, 5])
@pytest.mark.parametrize("masked_first", [False, True])
def test_batched_started_lock_truncates_as_sync_time_limit(limit, masked_first):
    kwargs = dict(horizon=4, num_actions=2, failure_mode="continue", start_step=1)
    native = gym.make_vec(ID, num_envs=1, max_episode_steps=limit, **kwargs)
    sync = gym.make_vec(
        ID, num_envs=1, vectorization_mode="sync", max_episode_steps=limit, **kwargs
    )
    native.reset(seed=0)
    sync.reset(seed=0)
    if masked_first:
        native.reset(options={"reset_mask": np.array([True])})
    ends = 0
    for a in np.random.default_rng(0).integers(2, size=(30, 1)):
        got, want = native.step(a), sync.step(a)
        for x, y in zip(got[:4], want[:4]):
            assert np.array_equal(x, y)
        ends += bool(got[2][0] or got[3][0])
    assert ends == 30 // (min(limit, 3) + 1)


def test_set_params_takes_effect_at_the_next_reset():
    env = gym.make(ID, horizon=5, num_actions=2)
    env.reset(seed=0)
    env.step(0)
    env.unwrapped.set_params(start_step=3)
    obs, *_ = env.step(0)
    assert obs.argmax() == 2  # the episode under way goes on
    obs, info = env.reset()
    assert obs.argmax() == 3 and info["params"]["start_step"] == 3
    env.unwrapped.set_params(start_step=0, reward_mode="dense")
    env.unwrapped.set_params(combination_seed=5)  # on top of the pending change
    obs, info = env.reset()
    assert obs.argmax() == 0 and info["params"]["reward_mode"] == "dense"
    assert np.array_equal(env.unwrapped.combination, combination(5, 5, 2))
    # the generator is untouched: the same episodes as an env made with those values
    fresh = gym.make(ID, horizon=5, num_actions=2, combination_seed=5, reward_mode="dense")
    fresh.reset(seed=0)
    assert np.array_equal(fresh.unwrapped.combination, env.unwrapped.combination)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start_step": 5}, r"start_step must be an integer >= 0 and < horizon \(5\), got 5"),
        ({"start_step": -1}, r"start_step must be an integer >= 0 and <= 999, got -1"),
        ({"start_step": 1.5}, r"start_step must be an integer >= 0 and <= 999, got 1.5"),
        ({"horizon": 6}, r"set_params cannot change horizon: it fixes the observation"),
        ({"observation_mode": "feedback"}, r"set_params cannot change observation_mode"),
        ({"start_stp": 1}, r"unknown parameter 'start_stp' for CombinationLock; did you mean"),
    ],
)
def test_set_params_refuses_what_construction_refuses(changes, message):
    env = CombinationLockEnv(horizon=5)
    with pytest.raises((ValueError, TypeError), match=message):
        env.set_params(**changes)
    assert env.reset(seed=0)[0].argmax() == 0  # nothing pending after a refusal


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"horizon": 4, "start_step": 4},
            r"start_step must be an integer >= 0 and < horizon \(4\)",
        ),
        ({"start_step": -1}, r"start_step must be an integer >= 0 and <= 999, got -1"),
        ({"start_step": {"low": 0, "high": 2}}, r"start_step cannot be randomized"),
    ],
)
def test_bad_start_step_is_refused_by_both_envs(kwargs, message):
    for make in (CombinationLockEnv, lambda **kw: CombinationLockVectorEnv(2, **kw)):
        with pytest.raises((ValueError, TypeError), match=message):
            make(**kwargs)


def test_scheduled_start_step_is_a_floored_fraction_of_the_horizon():
    from rlbench3.envs.combination_lock import CombinationLockParams

    for horizon in range(1, 40):
        params = CombinationLockParams(horizon=horizon)
        for fraction in (0.0, 0.1, 0.25, 0.3, 0.5, 0.7, 0.75, 0.9, 0.999):
            value = params.scheduled_value("start_step", fraction)
            assert value == int(round(fraction * horizon, 9) // 1) and 0 <= value < horizon
            CombinationLockParams(horizon=horizon, start_step=value)  # valid
    assert CombinationLockParams(horizon=10).scheduled_value("start_step", 0.3) == 3
    with pytest.raises(ValueError, match=r"cannot schedule 'horizon' of CombinationLock"):
        params.scheduled_value("horizon", 0.5)
    with pytest.raises(ValueError, match=r"stage value must be a fraction >= 0 and < 1, got 1.0"):
        params.scheduled_value("start_step", 1.0)
