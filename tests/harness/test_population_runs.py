"""Population PPO (and A2C) as one agent among the others: a suite with
``agents: [ppo_population]`` runs through the sweep (in-process and on a two-worker pool), writes
one ordinary record per seed that the tables read, saves policies that reload as SB3 policies,
gives each seed the record it gets when trained alone, and resumes by training only the missing
seeds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rlbench3.analysis.results import load, load_policy
from rlbench3.harness.storage import RunStore
from rlbench3.harness.sweep import plan_jobs, plan_suite, run_suite
from rlbench3.harness.training import train_population, train_run

# Fields of a record's meta that measure the machine or the grouping, not the run.
NOT_THE_RUN = (
    "train_seconds",
    "eval_seconds",
    "steps_per_second",
    "host",
    "population_size",
    "population_train_seconds",
)


def write_suite(directory: Path, seeds: int = 3, agent: str = "ppo_population") -> Path:
    path = directory / "pop.yaml"
    path.write_text(
        f"""\
description: population PPO, tiny
seeds: {seeds}
budget: 512
eval: {{every: 256, episodes: 4}}
agents: [{agent}]
experiments:
  - name: lock
    env: rlbench3/CombinationLock-v0
    params: {{num_actions: 2, horizon: 2}}
    train: R
    splits:
      unseen: {{combination_seed: {{low: 1000, high: 1999}}}}
"""
    )
    return path


def comparable(record: dict) -> dict:
    """A record without its wall-clock fields."""
    out = json.loads(json.dumps(record))
    for point in out["curve"]:
        point.pop("wall_time")
    for key in NOT_THE_RUN:
        out["meta"].pop(key, None)
    return out


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The suite run in-process (workers=1: one population of 3) and on two workers (2 + 1)."""
    root = tmp_path_factory.mktemp("population")
    suite = write_suite(root)
    one = run_suite(suite, root / "one", progress=False)
    two = run_suite(suite, root / "two", workers=2, progress=False)
    return suite, one, two


def test_a_population_suite_writes_one_record_per_seed(swept):
    _, one, two = swept
    for result in (one, two):
        assert result.report.finished == 3 and not result.report.failed
        frame = load(result.out)
        assert sorted(frame["seed"].unique()) == [0, 1, 2]
        assert set(frame["agent"]) == {"ppo_population"}
        assert set(frame["algo"]) == {"PPO_population"}
        store = RunStore(result.out)
        for config in result.runs:
            record = store.read(config.run_id).record
            assert record["zero_signal"]["unit"] == "rollout"
            assert record["zero_signal"]["batches"] == 512 // (128 * 4) + (512 % 512 > 0)
            assert record["meta"]["eval_seeds"] == config.eval_seeds
            assert [p["step"] for p in record["curve"] if p["split"] == "train"] == [0, 256, 512]
            assert record["meta"]["policy_class"].endswith(":ActorCriticPolicy")
            policy = load_policy(result.out, config.run_id)
            action, _ = policy.predict(np.zeros(policy.observation_space.shape, np.float32))
            assert policy.action_space.contains(action)


def test_records_do_not_depend_on_the_grouping(swept):
    """workers=1 trains the 3 seeds as one population, workers=2 as 2 + 1; train_run trains a
    seed alone (a population of 1): the same records, up to the wall clock."""
    _, one, two = swept
    a, b = RunStore(one.out), RunStore(two.out)
    config = one.runs[1]
    (alone, alone_policy) = train_run(config)
    for c in one.runs:
        assert comparable(a.read(c.run_id).record) == comparable(b.read(c.run_id).record)
    assert comparable(a.read(config.run_id).record) == comparable(alone)
    assert a.read_policy(config.run_id) == alone_policy


def test_jobs_group_the_seeds_of_a_setting(swept):
    suite, _, _ = swept
    _, runs = plan_suite(suite)
    assert [len(job) for job in plan_jobs(runs)] == [3]
    assert [len(job) for job in plan_jobs(runs, workers=2)] == [2, 1]
    assert [len(job) for job in plan_jobs(runs, max_population=2)] == [2, 1]
    assert [len(job) for job in plan_jobs(runs, train=train_run)] == [1, 1, 1]
    records = train_population(runs[:2])
    assert len(records) == 2
    with pytest.raises(ValueError, match="distinct"):
        train_population([runs[0], runs[0]])


def test_a_resumed_population_trains_only_the_missing_seed(swept, tmp_path):
    suite, one, _ = swept
    import shutil

    out = tmp_path / "resume"
    shutil.copytree(one.out, out)
    store = RunStore(out)
    missing = one.runs[2]
    before = {c.run_id: store.path(c.run_id).stat().st_mtime_ns for c in one.runs[:2]}
    store.path(missing.run_id).unlink()
    again = run_suite(suite, out, progress=False)
    assert again.report.skipped == 2 and again.report.finished == 1
    for rid, mtime in before.items():
        assert store.path(rid).stat().st_mtime_ns == mtime
    assert comparable(store.read(missing.run_id).record) == comparable(
        RunStore(one.out).read(missing.run_id).record
    )


def test_an_a2c_population_suite_writes_the_records_of_its_seeds_alone(tmp_path):
    suite = write_suite(tmp_path, seeds=2, agent="a2c_population")
    result = run_suite(suite, tmp_path / "a2c", progress=False)
    assert result.report.finished == 2 and not result.report.failed
    frame = load(result.out)
    assert set(frame["algo"]) == {"A2C_population"}
    store = RunStore(result.out)
    config = result.runs[1]
    record = store.read(config.run_id).record
    assert record["zero_signal"]["batches"] == 512 // (8 * 4)  # a rollout is n_steps * n_envs
    (alone, alone_policy) = train_run(config)
    assert comparable(record) == comparable(alone)
    assert store.read_policy(config.run_id) == alone_policy
