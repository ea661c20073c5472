"""train_run: one run of every agent kind, end to end, at tiny budgets.

Every run comes from a suite file through ``plan_runs`` (so configs are exactly what a sweep
executes). Checked for each: the learning curve's schedule, every split at every point, the final
per-episode lists, the zero-signal count against the algorithm's rollout-batch size (gradient
steps for the off-policy agents), the evaluator's step count against the lock's fixed episode
length, the saved policy, and bit-for-bit reproducibility. Then the evaluation protocol (seeds,
greedy or sampled, training untouched by it) and the off-policy zero-signal count.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import math
from collections import defaultdict

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv

from rlbench3.agents.random_search import RandomSearch
from rlbench3.analysis.results import load_policy
from rlbench3.harness.run_config import RunConfig
from rlbench3.harness.storage import RunStore
from rlbench3.harness.suites import load_suite, plan_runs
from rlbench3.harness.training import Evaluator, train_run

LOCK = "rlbench3/CombinationLock-v0"
REACH = "rlbench3/SparseReach-v0"
SUITE = """
seeds: 1
budget: 1500
eval: {every: 500, episodes: 6}
experiments:
  - name: lock
    env: rlbench3/CombinationLock-v0
    params: {num_actions: 2, horizon: 2}
    train: R                      # a combination drawn per episode: copies' rewards differ
    splits:
      unseen: {combination_seed: {low: 1000, high: 1999}}
    agents: [ppo, a2c, dqn, trpo, ars, random_search]
  - name: reach
    env: rlbench3/SparseReach-v0
    params: {action_dim: 1}
    train: R
    splits:
      extreme: {preset: E}
    budget: 300
    eval: {every: 150, episodes: 4}
    agents: [sac, td3]
  # 4^-12 per uniform episode: ~170 episodes of a near-uniform policy open it with probability
  # ~1e-5, so every batch is empty.
  - name: unreachable
    env: rlbench3/CombinationLock-v0
    params: {num_actions: 4, horizon: 12}
    budget: 2048
    agents: [ppo]
  # One-step lock: each step is an episode that pays 1 with probability ~1/2, so a batch of
  # 512 steps is empty with probability ~2^-512.
  - name: frequent
    env: rlbench3/CombinationLock-v0
    params: {num_actions: 2, horizon: 1}
    budget: 1024
    agents: [ppo]
"""
# Env steps per rollout batch of each agent file (n_envs x n_steps; DQN's train_freq; SAC/TD3
# train every step; ARS: 2 * n_delta candidates x one H=2 episode; random search: 4 envs x one
# H=2 episode per candidate). The off-policy agents' zero-signal count is per replay batch.
BATCH = {
    ("lock", "ppo"): 4 * 128,
    ("lock", "a2c"): 4 * 8,
    ("lock", "trpo"): 4 * 256,
    ("lock", "dqn"): 4,
    ("lock", "ars"): 2 * 8 * 2,
    ("lock", "random_search"): 4 * 2,
    ("reach", "sac"): 1,
    ("reach", "td3"): 1,
    ("unreachable", "ppo"): 512,
    ("frequent", "ppo"): 512,
}
KEYS = list(BATCH)
OFF_POLICY = ("DQN", "SAC", "TD3")


def gradient_steps(config, steps):
    """Replay batches an off-policy run samples: ``gradient_steps`` after each rollout that ends
    past ``learning_starts`` (SB3's OffPolicyAlgorithm.learn)."""
    hp = config.agent.hyperparams
    batch = config.agent.n_envs * hp["train_freq"]
    return (steps // batch - hp["learning_starts"] // batch) * hp["gradient_steps"]


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    path = tmp_path_factory.mktemp("suite") / "tiny.yaml"
    path.write_text(SUITE)
    out = {}
    for config in plan_runs(load_suite(path)):
        assert isinstance(config, RunConfig)
        if config.agent.algo in ("SAC", "TD3"):
            hyperparams = {**config.agent.hyperparams, "learning_starts": 100}
            config = dataclasses.replace(
                config, agent=dataclasses.replace(config.agent, hyperparams=hyperparams)
            )
            assert config.agent.hyperparams["learning_starts"] == 100
        out[(config.experiment, config.agent.name)] = config
    assert sorted(out) == sorted(KEYS)
    return out


@pytest.fixture(scope="module")
def trained(configs):
    """key -> (record, policy bytes); each config checked unchanged by its training."""
    out = {}
    for key, config in configs.items():
        before = config.to_json()
        out[key] = train_run(config)
        assert config.to_json() == before, key
    return out


@pytest.fixture(scope="module")
def records(trained):
    return {key: record for key, (record, _) in trained.items()}


def points(record):
    by_step = defaultdict(list)
    for point in record["curve"]:
        by_step[point["step"]].append(point)
    return by_step


@pytest.mark.parametrize("key", KEYS, ids=["-".join(k) for k in KEYS])
def test_record_shape(key, configs, records):
    config, record = configs[key], records[key]
    splits = sorted(config.splits)
    episodes, every = config.eval.episodes, config.eval.every
    steps = record["meta"]["steps"]
    batch = BATCH[key]

    # Budget: whole rollout batches until the budget is reached.
    assert steps == math.ceil(config.budget / batch) * batch

    # Curve: starts at 0, ends at the steps taken, every split exactly once at every point,
    # in split order, on the schedule (first step >= previous + every; n_envs steps at a time).
    by_step = points(record)
    eval_steps = list(by_step)
    assert eval_steps[0] == 0 and eval_steps[-1] == steps
    assert eval_steps == sorted(set(eval_steps))
    for step, group in by_step.items():
        assert sorted(p["split"] for p in group) == splits, step
        for p in group:
            assert 0.0 <= p["success_rate"] <= 1.0 and p["wall_time"] >= 0.0
    n_envs = config.agent.n_envs
    for a, b in zip(eval_steps[:-2], eval_steps[1:-1]):
        assert every <= b - a < every + n_envs
    # Points during learning stop short of the budget; the last point is evaluated after learn()
    # returns (the policy after its last update), at the steps actually taken.
    assert eval_steps[-2] < config.budget <= eval_steps[-1]
    assert eval_steps[-2] >= config.budget - every - n_envs

    # Final: per-episode lists of the eval length, equal to the curve's last point.
    last = {p["split"]: p for p in by_step[steps]}
    assert sorted(record["final"]) == splits
    for split, final in record["final"].items():
        assert len(final["returns"]) == len(final["successes"]) == episodes
        assert set(final["successes"]) <= {0, 1}
        # Sparse rewards: return 1 exactly on the success step, so return == success.
        assert final["returns"] == [float(s) for s in final["successes"]]
        assert sum(final["returns"]) / episodes == pytest.approx(last[split]["mean_return"])
        assert sum(final["successes"]) / episodes == pytest.approx(last[split]["success_rate"])

    # Zero-signal: one count per rollout batch, or per replay batch of a gradient step.
    zero = record["zero_signal"]
    if config.agent.algo in OFF_POLICY:
        assert zero["unit"] == "replay_batch"
        assert zero["batches"] == gradient_steps(config, steps) > 0
    else:
        assert zero["unit"] == "rollout"
        assert zero["batches"] == steps // batch
    assert 0 <= zero["empty_batches"] <= zero["batches"]
    assert 0.0 <= zero["fraction"] <= 1.0
    assert zero["fraction"] == zero["empty_batches"] / zero["batches"]

    meta = record["meta"]
    assert meta["train_seconds"] > 0 and meta["eval_seconds"] >= 0
    assert meta["eval_mode"] == "greedy"
    assert meta["eval_seeds"] == {split: config.eval_seed(split) for split in splits}
    if config.env_id == LOCK:  # fixed-length episodes: H steps each
        horizon = config.splits["train"]["horizon"]
        assert meta["eval_env_steps"] == len(by_step) * len(splits) * episodes * horizon
    assert json.loads(json.dumps(record)) == record


def test_zero_signal_is_one_when_the_reward_is_out_of_reach(records):
    record = records[("unreachable", "ppo")]
    zero = record["zero_signal"]
    assert zero == {"unit": "rollout", "batches": 4, "empty_batches": 4, "fraction": 1.0}
    assert all(p["success_rate"] == 0.0 for p in record["curve"])


def test_zero_signal_is_low_when_rewards_are_frequent(records):
    zero = records[("frequent", "ppo")]["zero_signal"]
    assert zero["batches"] == 2 and zero["fraction"] < 1.0
    assert zero["empty_batches"] == 0


def test_zero_signal_matches_the_search_itself(configs, records):
    """Random search: a batch is one candidate, 4 envs x one episode each, and it has a reward
    exactly when one of its episodes opens the lock (score > 0). With a combination drawn per
    episode, scores between 0 and 1 occur, so "any env rewarded" and "all envs rewarded" differ.
    Replay the same search outside the harness."""
    config = configs[("lock", "random_search")]
    agent, train = config.agent, config.splits["train"]
    env = make_vec_env(
        functools.partial(gym.make, LOCK, **train),
        n_envs=agent.n_envs,
        seed=config.seed,
        vec_env_cls=DummyVecEnv,
    )
    rs = RandomSearch(agent.policy, env, seed=config.seed, **agent.hyperparams)
    rs.learn(config.budget)
    zero = records[("lock", "random_search")]["zero_signal"]
    assert zero["batches"] == rs.candidates_evaluated
    assert zero["empty_batches"] == rs.candidate_returns.count(0.0)
    assert 0 < zero["empty_batches"] < zero["batches"]  # informative: both kinds occur
    assert any(0.0 < r < 1.0 for r in rs.candidate_returns)


def without_timings(record):
    out = copy.deepcopy(record)
    for point in out["curve"]:
        del point["wall_time"]
    for key in ("train_seconds", "eval_seconds", "steps_per_second"):
        del out["meta"][key]
    return out


@pytest.mark.parametrize("key", KEYS, ids=["-".join(k) for k in KEYS])
def test_same_config_same_record(key, configs, records):
    again, _ = train_run(configs[key])
    assert without_timings(again) == without_timings(records[key])


def test_a_config_rebuilt_from_json_trains_to_the_same_record(configs, records):
    # As a record read back from disk holds it. Reach is the case where sorting the split names
    # changes their order ("extreme" < "train").
    key = ("reach", "sac")
    config = RunConfig.from_json(configs[key].to_json())
    assert config == configs[key] and config.run_id == configs[key].run_id
    again, _ = train_run(config)
    assert without_timings(again) == without_timings(records[key])


@pytest.mark.parametrize(
    "key",
    KEYS,
    ids=["-".join(k) for k in KEYS],
)
def test_the_saved_policy_reloads_and_acts_as_evaluated(key, configs, trained, tmp_path):
    config, (record, policy) = configs[key], trained[key]
    assert isinstance(policy, bytes) and policy
    assert hashlib.sha256(policy).hexdigest() == record["meta"]["policy_sha256"]
    # Stored as a sweep stores it, then reloaded (verified) as the analysis reloads it.
    store = RunStore(tmp_path)
    store.write_policy(config.run_id, policy)
    store.write(config, record)
    loaded = load_policy(tmp_path, config.run_id)
    module, _, name = record["meta"]["policy_class"].partition(":")
    assert type(loaded).__module__ == module and type(loaded).__qualname__ == name
    # The saved policy is the trained one: it acts as in the recorded final evaluation.
    evaluate = Evaluator.for_split(config, "train")
    returns, successes, _ = evaluate(loaded)
    evaluate.close()
    assert returns.tolist() == record["final"]["train"]["returns"]
    assert successes.astype(int).tolist() == record["final"]["train"]["successes"]


# ------------------------------------------------------------------------------------------
# The evaluator, on episodes of different lengths


class HalfGreedy:
    """Copies 0..n/2-1 push at unit force straight at the goal, the others do nothing."""

    def __init__(self, dim: int):
        self.dim = dim

    def predict(self, obs, deterministic=True):
        delta = obs[:, 2 * self.dim :]
        actions = delta / np.linalg.norm(delta, axis=1, keepdims=True)
        actions[len(obs) // 2 :] = 0.0
        return actions.astype(np.float32), None


def steps_to_goal(dim: int, seed: int) -> int:
    env = gym.make(REACH, action_dim=dim)
    obs, _ = env.reset(seed=seed)
    for t in range(1, 1000):
        delta = obs[2 * dim :]
        obs, reward, terminated, truncated, _ = env.step(delta / np.linalg.norm(delta))
        if terminated or truncated:
            assert terminated and reward == 1.0
            return t
    raise AssertionError("never reached")


def test_evaluator_counts_each_episode_once_up_to_its_own_end():
    # Straight-line unit force under isotropic dynamics: every goal direction takes the same T
    # steps (measured on a single env), T < horizon = 50; the idle copies are truncated at 50.
    # The greedy copies are auto-reset and reach the goal again while the idle ones still run:
    # those steps and rewards must not count.
    dim, episodes = 2, 8
    horizon_steps = steps_to_goal(dim, seed=1)
    assert steps_to_goal(dim, seed=2) == horizon_steps < 25
    evaluate = Evaluator(REACH, {"action_dim": dim}, episodes, seed=7)
    for _ in range(2):  # the same episodes at every call
        returns, success, steps = evaluate(HalfGreedy(dim))
        assert returns.tolist() == [1.0] * 4 + [0.0] * 4
        assert success.tolist() == [True] * 4 + [False] * 4
        assert steps == 4 * horizon_steps + 4 * 50
    evaluate.close()


# ------------------------------------------------------------------------------------------
# The evaluation protocol: greedy or sampled, seeded, and invisible to training

PROTOCOL_SUITE = """
seeds: 1
experiments:
  - name: lock
    env: rlbench3/CombinationLock-v0
    params: {num_actions: 2, horizon: 4}
    train: D
    splits:
      unseen: {combination_seed: {low: 1000, high: 1999}}
    agents: [ppo, dqn]
"""
PROTOCOL_BUDGET = {"ppo": 1024, "dqn": 1500}  # 2 PPO rollouts; DQN learns from step 1000 on


def protocol_config(tmp_path, agent: str, every: int, deterministic: bool) -> RunConfig:
    path = tmp_path / "protocol.yaml"
    path.write_text(PROTOCOL_SUITE)
    config = next(c for c in plan_runs(load_suite(path)) if c.agent.name == agent)
    spec = dataclasses.replace(config.eval, every=every, episodes=20, deterministic=deterministic)
    return dataclasses.replace(config, budget=PROTOCOL_BUDGET[agent], eval=spec)


@pytest.mark.parametrize("agent", ["ppo", "dqn"])
def test_training_is_the_same_however_often_and_however_it_is_evaluated(agent, tmp_path):
    # Sampled evaluation draws from torch's generator (PPO) or numpy's and the action space's
    # (DQN's epsilon-greedy predict), the very generators training draws from: they are forked
    # and restored, so the trained policy does not depend on the evaluation schedule or mode.
    budget = PROTOCOL_BUDGET[agent]
    trained = {}
    for every, deterministic in [(budget, True), (100, True), (100, False), (37, False)]:
        record, policy = train_run(protocol_config(tmp_path, agent, every, deterministic))
        trained[(every, deterministic)] = (policy, record["zero_signal"], record["meta"]["steps"])
        assert record["meta"]["eval_mode"] == ("greedy" if deterministic else "sampled")
    assert len({hashlib.sha256(p).hexdigest() for p, _, _ in trained.values()}) == 1
    assert len({json.dumps(rest) for _, *rest in trained.values()}) == 1


def test_sampled_evaluation_is_reproducible_and_replays_from_the_saved_policy(tmp_path):
    config = protocol_config(tmp_path, "ppo", 256, deterministic=False)
    (record, policy), (again, _) = train_run(config), train_run(config)
    assert without_timings(record) == without_timings(again)
    assert record["meta"]["eval_mode"] == "sampled"
    assert record["meta"]["eval_seeds"] == config.eval_seeds
    store = RunStore(tmp_path / "out")
    store.write_policy(config.run_id, policy)
    store.write(config, record)
    loaded = load_policy(tmp_path / "out", config.run_id)
    for split in config.splits:
        evaluate = Evaluator.for_split(config, split)
        returns, successes, _ = evaluate(loaded)
        assert returns.tolist() == record["final"][split]["returns"]
        assert successes.astype(int).tolist() == record["final"][split]["successes"]
        # The mode is applied: on the fixed lock (preset D, no distractors) every greedy episode
        # is the same trajectory; the sampled ones are not.
        greedy = Evaluator(config.env_id, config.splits[split], config.eval.episodes, evaluate.seed)
        if split == "train":
            assert len(set(greedy(loaded)[1].tolist())) == 1
            assert set(successes.tolist()) == {False, True}
        greedy.close()
        evaluate.close()


def test_off_policy_zero_signal_counts_the_replay_batches_the_gradient_used(tmp_path, monkeypatch):
    """DQN on a 3-step lock: the recorded fraction is that of the minibatches sampled from the
    replay buffer without a reward (recomputed here from every sampled batch), not that of the
    rollouts of train_freq env steps (recomputed from the buffer's rewards in order)."""
    from stable_baselines3.common.buffers import ReplayBuffer

    path = tmp_path / "dqn.yaml"
    path.write_text(
        PROTOCOL_SUITE.replace("horizon: 4", "horizon: 3").replace("[ppo, dqn]", "[dqn]")
    )
    config = dataclasses.replace(plan_runs(load_suite(path))[0], budget=2000)
    hp = config.agent.hyperparams
    assert config.agent.n_envs == 1 and hp["train_freq"] == 4 and hp["buffer_size"] > 2000

    empty, buffers = [], set()
    original = ReplayBuffer.sample

    def spy(self, *args, **kwargs):
        batch = original(self, *args, **kwargs)
        assert batch.rewards.shape == (hp["batch_size"], 1)
        empty.append(not (batch.rewards != 0).any().item())
        buffers.add(self)
        return batch

    monkeypatch.setattr(ReplayBuffer, "sample", spy)
    record, _ = train_run(config)
    zero = record["zero_signal"]
    assert zero["unit"] == "replay_batch"
    assert zero["batches"] == len(empty) == (2000 - hp["learning_starts"]) // 4  # 250
    assert zero["empty_batches"] == sum(empty)
    assert zero["fraction"] == pytest.approx(np.mean(empty), abs=1e-15)
    # The old count: rollouts of train_freq = 4 steps without a reward (the buffer holds every
    # transition in order; nothing was overwritten).
    (buffer,) = buffers
    rewards = buffer.rewards[: buffer.pos, 0]
    assert buffer.pos == record["meta"]["steps"] == 2000
    rollout_fraction = float(np.mean(~rewards.reshape(-1, 4).astype(bool).any(axis=1)))
    assert zero["fraction"] < 0.05 < 0.3 < rollout_fraction


# --------------------------------------------------------------------------------------------
# Remedies (issue 14): demonstrations before RL, a curriculum over the lock's horizon

REMEDIES = """
seeds: 1
budget: 256
eval: {every: 256, episodes: 20}
experiments:
  - name: lock
    env: rlbench3/CombinationLock-v0
    params: {num_actions: 2, horizon: 6}
    agents: [ppo, ppo_demo100]
"""
CLOCK = ("train_seconds", "eval_seconds", "steps_per_second")


def without_clock(record):
    """A record without its wall-clock fields."""
    record = copy.deepcopy(record)
    for key in CLOCK:
        record["meta"].pop(key)
    record["meta"].get("demonstrations", {}).pop("seconds", None)
    for point in record["curve"]:
        point.pop("wall_time")
    return record


def remedy_runs(tmp_path, text=REMEDIES, agents=None):
    path = tmp_path / "remedies.yaml"
    path.write_text(text)
    return {c.agent.name: c for c in plan_runs(load_suite(path), agents=agents)}


def test_a_hundred_demonstrations_open_the_lock_before_any_rl_step(tmp_path):
    runs = remedy_runs(tmp_path)
    (demo, _), (plain, _) = train_run(runs["ppo_demo100"]), train_run(runs["ppo"])
    first = [p for p in demo["curve"] if p["step"] == 0 and p["split"] == "train"]
    assert first[0]["success_rate"] >= 0.95  # the expert's success (1) within 20 episodes
    assert [p["success_rate"] for p in plain["curve"]][0] == 0.0  # a fresh policy does not
    meta = demo["meta"]
    assert meta["demonstrations"]["episodes"] == 100
    assert meta["demonstrations"]["expert_success"] == 1.0
    assert meta["demonstrations"]["pairs"] == meta["demonstration_steps"] == 100 * 6
    assert meta["demonstrations"]["seconds"] > 0
    # the expert's steps are outside the budget: the same RL steps and evaluation as plain PPO
    assert meta["steps"] == plain["meta"]["steps"]
    assert meta["eval_env_steps"] == plain["meta"]["eval_env_steps"]
    assert "demonstrations" not in plain["meta"] and "demonstration_steps" not in plain["meta"]


def test_zero_demonstrations_are_plain_ppo_to_the_last_number(tmp_path):
    from rlbench3.data import load_mapping

    path, _ = load_mapping("agents", "ppo", "agent", "")
    runs = remedy_runs(tmp_path)
    mine = tmp_path / "mine" / "ppo.yaml"  # named ppo: the same agent name, so the same run
    mine.parent.mkdir()
    text = path.read_text()
    mine.write_text(text + "demonstrations: {episodes: 0, epochs: 7}\n")
    zero = remedy_runs(tmp_path, agents=[str(mine)])["ppo"]
    assert zero == runs["ppo"] and zero.run_id == runs["ppo"].run_id
    assert without_clock(train_run(zero)[0]) == without_clock(train_run(runs["ppo"])[0])
    # ... while a single demonstration is a different run with a different record
    mine.write_text(text + "demonstrations: {episodes: 1}\n")
    one = remedy_runs(tmp_path, agents=[str(mine)])["ppo"]
    assert one.run_id != zero.run_id
    record = train_run(one)[0]
    assert record["meta"]["demonstration_steps"] == 6
    assert without_clock(record)["curve"] != without_clock(train_run(zero)[0])["curve"]


CURRICULUM = """
seeds: 1
budget: 1024
eval: {every: 512, episodes: 8}
agents: [ppo]
experiments:
  - name: lock
    env: rlbench3/CombinationLock-v0
    params: {num_actions: 2, horizon: 6}
    curriculum: {parameter: start_step, stages: [[0.0, 0.75], [0.5, 0.0]]}
"""


def test_a_curriculum_changes_the_training_env_and_never_the_evaluation(tmp_path, monkeypatch):
    from rlbench3.envs.combination_lock import CombinationLockEnv, CombinationLockVectorEnv

    config = remedy_runs(tmp_path, CURRICULUM)["ppo"]
    plain = dataclasses.replace(config, curriculum=None)
    starts, eval_starts = [], []
    reset, reset_copies = CombinationLockEnv.reset, CombinationLockVectorEnv._reset_copies

    def spy_reset(self, **kwargs):
        out = reset(self, **kwargs)
        starts.append(int(out[0].argmax()))  # the one-hot of the step the episode starts at
        return out

    def spy_reset_copies(self, mask):
        eval_starts.append(self._start)
        return reset_copies(self, mask)

    monkeypatch.setattr(CombinationLockEnv, "reset", spy_reset)
    monkeypatch.setattr(CombinationLockVectorEnv, "_reset_copies", spy_reset_copies)
    record, _ = train_run(config)
    # floor(0.75 * 6) = 4 from the start, 0 from step 512 on (the first step at or past it)
    assert record["meta"]["curriculum"] == {
        "parameter": "start_step",
        "stages": [{"step": 0, "value": 4}, {"step": 512, "value": 0}],
    }
    # 4 copies: 2-step episodes first (128 per copy in the first 512 steps), whole ones after
    assert starts[:4] == [4] * 4 and starts[-4:] == [0] * 4
    assert starts.count(4) == 4 + 4 * 64 and starts.count(0) == len(starts) - starts.count(4)
    # evaluation: the split's parameters at every point, so the same episodes as without
    assert set(eval_starts) == {0}
    starts.clear()
    base, _ = train_run(plain)
    assert set(starts) == {0} and "curriculum" not in base["meta"]
    assert record["meta"]["eval_env_steps"] == base["meta"]["eval_env_steps"] == 3 * 8 * 6
    assert without_clock(record)["curve"][0] == without_clock(base)["curve"][0]


def test_the_population_trainer_refuses_a_curriculum_and_demonstrations(make_config):
    from rlbench3.harness.run_config import Curriculum
    from rlbench3.harness.training import train_population

    config = make_config(agent="ppo_population", algo="PPO_population")
    with_curriculum = dataclasses.replace(config, curriculum=Curriculum("start_step", ((0, 1),)))
    agent = dataclasses.replace(config.agent, demonstrations={"episodes": 2})
    for bad in (with_curriculum, dataclasses.replace(config, agent=agent)):
        with pytest.raises(ValueError, match=r"follows no curriculum and clones no demonstrations"):
            train_population([bad])
