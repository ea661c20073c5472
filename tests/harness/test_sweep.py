"""Sweeps end to end: plan -> execute -> records -> tables; resuming, backends, determinism.

Every suite here is tiny (CombinationLock, horizon 2-4, a few hundred steps per run), so a run
takes well under a second; most of the time goes into starting processes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from rlbench3.analysis.results import load, status_table
from rlbench3.cli import main
from rlbench3.data.yaml_lines import ConfigError
from rlbench3.harness.run_config import RunConfig
from rlbench3.harness.storage import CorruptRecord, RunStore, read_record
from rlbench3.harness.suites import load_suite, plan_runs
from rlbench3.harness.sweep import execute, plan_suite, run_suite
from rlbench3.harness.training import train_run

# Columns of results.load() that measure the machine, not the run.
WALL_CLOCK_COLUMNS = ["wall_time", "steps_per_second"]
# Fields of a record's meta that measure the machine, not the run.
WALL_CLOCK_META = ("train_seconds", "eval_seconds", "steps_per_second", "host")


def write_suite(
    directory: Path,
    name: str = "tiny",
    *,
    horizons: tuple[int, ...] = (2, 3),
    seeds: int = 1,
    budget: int = 512,
    every: int = 256,
) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(
        f"""\
description: a tiny suite for the tests
seeds: {seeds}
budget: {budget}
eval: {{every: {every}, episodes: 4}}
agents: [ppo, random_search]
experiments:
  - name: lock
    env: rlbench3/CombinationLock-v0
    params: {{num_actions: 2}}
    grid: {{horizon: {list(horizons)}}}
    train: D
    splits:
      unseen: {{combination_seed: {{low: 1000, high: 1999}}}}
"""
    )
    return path


def comparable(curves: pd.DataFrame) -> pd.DataFrame:
    """A results table without its wall-clock columns, in a canonical row order."""
    return (
        curves.drop(columns=WALL_CLOCK_COLUMNS)
        .sort_values(["run_id", "split", "step"])
        .reset_index(drop=True)
    )


def strip_wall_clock(record: dict) -> dict:
    return {
        **record,
        "curve": [{k: v for k, v in p.items() if k != "wall_time"} for p in record["curve"]],
        "meta": {k: v for k, v in record["meta"].items() if k not in WALL_CLOCK_META},
    }


def snapshot(runs_dir: Path) -> dict[str, tuple[bytes, int]]:
    """Record files (not temp or quarantined files): name -> (bytes, mtime_ns)."""
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns)
        for p in runs_dir.glob("*.json")
        if not p.name.endswith(".failed.json")
    }


def markdown_rows(text: str) -> list[dict[str, str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    return [dict(zip(header, row)) for row in cells]


def summary_counts(stdout: str) -> tuple[int, int, int, int]:
    """(planned, already finished, run now, corrupt) from the line `rlbench3 run` prints."""
    match = re.search(
        r"(\d+) runs planned, (\d+) already finished, (\d+) run now, 0 failed, (\d+) corrupt",
        stdout,
    )
    assert match, stdout
    return tuple(int(g) for g in match.groups())  # type: ignore[return-value]


def cli(*argv: str) -> int:
    """The exit status of ``rlbench3 ARGV``: what main returns, or argparse's exit status when
    it refuses the arguments."""
    try:
        return main(list(argv))
    except SystemExit as exit:
        return exit.code  # type: ignore[return-value]


def run_cli(suite: Path, out: Path, *extra: str) -> int:
    return cli("run", str(suite), "-r", str(out), "--no-progress", *extra)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny suite (2 horizons x 2 agents x 1 seed) run once, in-process, on 1 worker."""
    root = tmp_path_factory.mktemp("reference")
    suite = write_suite(root)
    out = root / "out"
    assert run_cli(suite, out, "--workers", "1") == 0
    return suite, out, plan_runs(load_suite(suite))


# --------------------------------------------------------------------------------------------
# End to end through the CLI


def test_a_suite_runs_end_to_end_and_a_rerun_does_nothing(reference, capsys):
    suite, out, runs = reference
    assert len(runs) == 4
    store = RunStore(out)
    assert all(isinstance(r, RunConfig) for r in runs)
    ids = {r.run_id for r in runs}
    configs = {r.run_id: r for r in runs}
    # Every planned run has exactly one verified record, of its own config; nothing else.
    assert snapshot(store.runs).keys() == {f"{rid}.json" for rid in ids}
    assert sorted(p.name for p in store.runs.iterdir()) == sorted(f"{rid}.json" for rid in ids)
    for rid in ids:
        data = store.read(rid)
        assert data.config == configs[rid] and data.run_id == rid
        assert store.status(rid).state == "finished"
    # ... its policy beside it, matching the record's sha256; and the plan names every run.
    for rid in ids:
        policy = store.policy_path(rid).read_bytes()
        assert hashlib.sha256(policy).hexdigest() == store.read(rid).record["meta"]["policy_sha256"]
    assert sorted(p.name for p in (out / "policies").iterdir()) == sorted(f"{r}.pt" for r in ids)
    plan = store.read_plan()
    assert set(plan) == ids
    for rid, entry in plan.items():
        c = configs[rid]
        assert entry == {"experiment": "lock", "setting": c.label, "agent": c.agent.name, "seed": 0}

    curves = load(out, on_corrupt="raise")
    assert set(curves["run_id"]) == ids
    assert {
        "run_id",
        "suite",
        "experiment",
        "env_id",
        "family",
        "setting",
        "param_horizon",
        "agent",
        "algo",
        "seed",
        "budget",
        "step",
        "split",
        "mean_return",
        "success_rate",
        "wall_time",
        "is_final",
        "zero_signal_fraction",
        "steps_per_second",
    } == set(curves.columns)
    assert set(curves["split"]) == {"train", "unseen"}
    assert set(curves["setting"]) == {"horizon=2", "horizon=3"}
    assert set(curves["agent"]) == {"ppo", "random_search"}
    assert (curves["suite"] == "tiny").all() and (curves["budget"] == 512).all()
    for rid, group in curves.groupby("run_id"):
        record = store.read(rid).record
        assert len(group) == len(record["curve"])  # each point once: no duplicated records
        by_split = {s: sorted(g["step"]) for s, g in group.groupby("split")}
        assert by_split["train"] == by_split["unseen"]
        steps = by_split["train"]
        assert steps[0] == 0 and steps[-1] == record["meta"]["steps"] >= 512
        if configs[rid].agent.name == "ppo":  # 4 envs x 128 steps: exactly on budget
            assert steps == [0, 256, 512]
        final = group[group["is_final"]]
        assert sorted(final["split"]) == ["train", "unseen"]
        assert (final["step"] == steps[-1]).all()
        assert group["success_rate"].between(0, 1).all()

    # `rlbench3 ls` reports every run finished.
    capsys.readouterr()
    assert cli("ls", "-r", str(out)) == 0
    rows = markdown_rows(capsys.readouterr().out)
    assert len(rows) == 4
    for row in rows:
        assert (row["finished"], row["failed"], row["corrupt"], row["missing"]) == (
            "1",
            "0",
            "0",
            "0",
        )

    # Running again does nothing: every run is skipped, no file is touched.
    before = snapshot(store.runs)
    assert run_cli(suite, out, "--workers", "1") == 0
    assert summary_counts(capsys.readouterr().out) == (4, 4, 0, 0)
    report = execute(runs, str(out), workers=2, progress=False)
    assert (report.planned, report.skipped, report.finished) == (4, 4, 0)
    assert report.failed == [] and report.corrupt == []
    assert snapshot(store.runs) == before


def test_the_same_run_twice_gives_the_same_record(reference):
    _, out, runs = reference
    store = RunStore(out)
    for agent in ("ppo", "random_search"):
        config = next(r for r in runs if r.agent.name == agent)
        before = config.to_json()
        (first, policy), (second, _) = train_run(config), train_run(config)
        assert config.to_json() == before  # training leaves its config as it was
        assert len(first["curve"]) >= 6
        assert strip_wall_clock(first) == strip_wall_clock(second)
        assert hashlib.sha256(policy).hexdigest() == first["meta"]["policy_sha256"]
        # ... and the same as the sweep's record and policy, written earlier in this process.
        stored = read_record(store.path(config.run_id))
        assert stored.config == config
        assert strip_wall_clock(stored.record) == strip_wall_clock(first)
        assert store.read_policy(config.run_id) == policy
        # Only wall-clock fields were left out of the comparison.
        assert set(first["meta"]) - set(WALL_CLOCK_META) == {
            "steps",
            "eval_env_steps",
            "eval_mode",
            "eval_seeds",
            "versions",
            "policy_class",
            "policy_sha256",
        }


def test_a_two_worker_pool_matches_one_worker(reference, tmp_path):
    suite, out, runs = reference
    pooled = tmp_path / "pooled"
    report = execute(runs, str(pooled), workers=2, progress=False)
    assert (report.planned, report.finished, report.skipped, report.failed) == (4, 4, 0, [])
    pd.testing.assert_frame_equal(comparable(load(pooled)), comparable(load(out)))


def test_the_ray_backend_matches_the_process_backend(reference, tmp_path, capsys):
    ray = pytest.importorskip("ray")
    suite, out, runs = reference
    on_ray = tmp_path / "ray"
    # No address: sweep.py starts a local Ray with num_cpus=workers, and shuts it down after.
    assert run_cli(suite, on_ray, "--workers", "2", "--backend", "ray") == 0
    assert summary_counts(capsys.readouterr().out) == (4, 0, 4, 0)
    assert not ray.is_initialized()
    pd.testing.assert_frame_equal(comparable(load(on_ray)), comparable(load(out)))


def test_run_suite_plans_remembers_and_resumes_as_a_library_call(reference, tmp_path, monkeypatch):
    suite, out, runs = reference
    loaded, planned = plan_suite(suite)
    assert loaded.name == "tiny" and planned == runs
    # Without ``out``: results/<suite name>, under the working directory. A folder that holds the
    # reference's records already: every run is skipped.
    monkeypatch.chdir(tmp_path)
    shutil.copytree(out, tmp_path / "results" / "tiny")
    done = run_suite(suite, progress=False)
    assert done.out == Path("results") / "tiny" and done.suite == loaded and done.runs == runs
    report = done.report
    assert (report.planned, report.skipped, report.finished, report.failed) == (4, 4, 0, [])
    store = RunStore(done.out)
    assert set(store.read_plan()) == {r.run_id for r in runs}
    # Overrides are planned and run; the plan keeps the runs of the earlier invocation.
    more = run_suite(suite, "results/tiny", agents=["random_search"], budget=256, progress=False)
    assert {(r.agent.name, r.budget) for r in more.runs} == {("random_search", 256)}
    assert len(more.runs) == 2 and (more.report.finished, more.report.skipped) == (2, 0)
    assert set(store.read_plan()) == {r.run_id for r in runs + more.runs}
    assert set(load(done.out, on_corrupt="raise")["run_id"]) == {r.run_id for r in runs + more.runs}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"seeds": 0}, "seeds must be an integer >= 1, got 0"),
        ({"budget": -1}, "budget must be an integer >= 1, got -1"),
        ({"seeds": 1.5}, "seeds must be an integer >= 1, got 1.5"),
    ],
)
def test_plan_suite_and_run_suite_reject_bad_counts(tmp_path, overrides, message):
    suite = write_suite(tmp_path)
    with pytest.raises(ConfigError, match=re.escape(message)):
        plan_suite(suite, **overrides)
    with pytest.raises(ConfigError, match=re.escape(message)):
        run_suite(suite, tmp_path / "out", progress=False, **overrides)
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------
# Killed and resumed


def test_a_killed_sweep_resumes_without_redoing_finished_runs(tmp_path, capsys):
    # Six runs of a few thousand steps each: long enough to kill the sweep between records.
    suite = write_suite(tmp_path, "killed", horizons=(2, 3, 4), budget=6144, every=2048)
    runs = plan_runs(load_suite(suite))
    ids = {r.run_id for r in runs}
    assert len(ids) == 6
    out = tmp_path / "out"
    store = RunStore(out)
    log = (tmp_path / "killed.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rlbench3.cli", "run", str(suite), "-r", str(out)]
        + ["--workers", "1", "--no-progress"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 120
        while not (store.runs.is_dir() and snapshot(store.runs)):
            assert proc.poll() is None, (tmp_path / "killed.log").read_text()
            assert time.monotonic() < deadline, "no record appeared"
            time.sleep(0.005)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()
    assert proc.returncode == -signal.SIGKILL
    before = snapshot(store.runs)  # what was on disk when the sweep died
    assert 1 <= len(before) < 6, "the sweep was not killed part-way"
    for name in before:
        read_record(store.runs / name, name[: -len(".json")])

    capsys.readouterr()
    assert run_cli(suite, out, "--workers", "1") == 0
    planned, skipped, ran, corrupt = summary_counts(capsys.readouterr().out)
    assert (planned, skipped, ran, corrupt) == (6, len(before), 6 - len(before), 0)

    after = snapshot(store.runs)
    assert after.keys() == {f"{rid}.json" for rid in ids}
    for name, (content, mtime) in before.items():  # not redone: same bytes, same mtime
        assert after[name] == (content, mtime)
    for rid in ids:
        assert store.read(rid).config.budget == 6144
    # Whatever else is in runs/ (a killed writer's hidden temp file) is not read as a record.
    for extra in set(p.name for p in store.runs.iterdir()) - after.keys():
        assert extra.startswith(".") and extra.endswith(".tmp"), extra
    curves = load(out, on_corrupt="raise")
    assert set(curves["run_id"]) == ids
    assert curves.groupby("run_id").size().to_dict() == {
        rid: len(store.read(rid).record["curve"]) for rid in ids
    }
    table = status_table(out)
    assert table["finished"].sum() == 6
    assert table[["failed", "corrupt", "missing"]].to_numpy().sum() == 0


# --------------------------------------------------------------------------------------------
# Corrupt records and failed runs


def test_a_corrupt_record_is_set_aside_and_rerun(reference, tmp_path, capsys):
    suite, out, runs = reference
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    store = RunStore(copy)
    victim = runs[1].run_id
    original = store.read(victim)
    text = store.path(victim).read_text()
    store.path(victim).write_text(text[: len(text) // 2])  # a record cut mid-way

    with pytest.raises(CorruptRecord, match="truncated"):
        load(copy, on_corrupt="raise")
    capsys.readouterr()
    partial = load(copy)
    assert "skipping" in capsys.readouterr().err
    assert set(partial["run_id"]) == {r.run_id for r in runs} - {victim}
    assert status_table(copy)["corrupt"].sum() == 1

    untouched = {k: v for k, v in snapshot(store.runs).items() if k != f"{victim}.json"}
    assert run_cli(suite, copy, "--workers", "1") == 0
    captured = capsys.readouterr()
    assert "corrupt record" in captured.err and victim in captured.err
    assert summary_counts(captured.out) == (4, 3, 1, 1)
    kept = list(store.runs.glob(f"{victim}.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == text[: len(text) // 2]
    # The run was done again, to the same result; the others were not touched.
    rerun = store.read(victim)
    assert rerun.config == original.config
    assert strip_wall_clock(rerun.record) == strip_wall_clock(original.record)
    assert {k: v for k, v in snapshot(store.runs).items() if k != f"{victim}.json"} == untouched
    pd.testing.assert_frame_equal(comparable(load(copy, on_corrupt="raise")), comparable(load(out)))


def test_failed_runs_are_recorded_and_retried(reference, tmp_path, capsys, monkeypatch):
    suite, _, runs = reference
    out = tmp_path / "out"

    def broken(config):
        raise RuntimeError(f"broken on purpose (seed {config.seed})")

    monkeypatch.setattr("rlbench3.harness.training.train_run", broken)
    assert run_cli(suite, out, "--workers", "1") == 1  # every run failed: reported, no crash
    err = capsys.readouterr().err
    assert err.count("RuntimeError: broken on purpose (seed 0)") == 4
    store = RunStore(out)
    assert sorted(store.failed_ids()) == sorted(r.run_id for r in runs)
    for config in runs:  # each report holds its run's config, to retry or inspect
        report = json.loads(store.failure_path(config.run_id).read_text())
        assert RunConfig.from_dict(report["config"]) == config
        assert "RuntimeError: broken on purpose" in report["error"]
    assert list(store.finished_ids()) == []
    assert status_table(out)["failed"].sum() == 4

    monkeypatch.undo()
    assert run_cli(suite, out, "--workers", "1") == 0
    assert summary_counts(capsys.readouterr().out) == (4, 0, 4, 0)
    assert list(store.failed_ids()) == []
    assert status_table(out)["finished"].sum() == 4


# --------------------------------------------------------------------------------------------
# Invalid inputs


@pytest.mark.parametrize("option", ["--workers", "--seeds", "--budget"])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_nonpositive_counts_are_rejected_before_anything_runs(tmp_path, capsys, option, value):
    suite = write_suite(tmp_path)
    out = tmp_path / "out"
    assert run_cli(suite, out, option, value) == 2
    err = capsys.readouterr().err
    assert re.search(rf"{option}\b.*integer >= 1, got {value}\b", err), err
    assert not out.exists()


def test_execute_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        execute([], str(tmp_path), workers=0)
    with pytest.raises(ValueError, match=r"backend must be .*'process'.*'ray'.*got 'dask'"):
        execute([], str(tmp_path), backend="dask")


def test_saved_policies_reload_verified_and_act_like_the_evaluation(reference):
    from rlbench3.analysis.results import load_episodes, load_policy
    from rlbench3.harness.storage import CorruptRecord, RunStore
    from rlbench3.harness.training import Evaluator

    _, out, runs = reference
    store = RunStore(out)
    config = runs[0]
    policy = load_policy(out, config.run_id)
    # The reloaded policy reproduces the run's final evaluation episode by episode.
    evaluate = Evaluator.for_split(config, "train")
    returns, _, _ = evaluate(policy)
    evaluate.close()
    episodes = load_episodes(out)
    recorded = episodes[(episodes.run_id == config.run_id) & (episodes.split == "train")]
    assert returns.tolist() == recorded["return"].tolist()
    # A damaged policy file is detected before it is unpickled.
    path = store.policy_path(config.run_id)
    original = path.read_bytes()
    try:
        path.write_bytes(original[:-10])
        with pytest.raises(CorruptRecord, match="sha256"):
            load_policy(out, config.run_id)
    finally:
        path.write_bytes(original)


def population_suite(directory: Path) -> Path:
    path = directory / "pop.yaml"
    path.write_text(
        """\
seeds: 3
budget: 512
eval: {every: 256, episodes: 4}
agents: [ppo_population]
experiments:
  - name: lock
    env: rlbench3/CombinationLock-v0
    params: {num_actions: 2, horizon: 2}
"""
    )
    return path


def test_a_population_job_that_raises_fails_each_of_its_runs(tmp_path):
    from rlbench3.harness.sweep import run_job

    _, runs = plan_suite(population_suite(tmp_path))
    results = run_job([runs[0], runs[0]])  # one seed twice: not a population
    assert [(rid, state) for rid, state, _ in results] == [(runs[0].run_id, "error")] * 2
    assert "distinct" in results[0][2]


def test_population_jobs_run_on_ray_as_on_the_pool(tmp_path):
    ray = pytest.importorskip("ray")
    suite = population_suite(tmp_path)
    pooled = run_suite(suite, tmp_path / "pool", workers=1, progress=False)
    on_ray = run_suite(suite, tmp_path / "ray", workers=2, backend="ray", progress=False)
    assert on_ray.report.finished == 3 and not on_ray.report.failed
    assert not ray.is_initialized()
    pd.testing.assert_frame_equal(comparable(load(on_ray.out)), comparable(load(pooled.out)))
