"""Run records on disk: atomic writes, verification on read, quarantine, failure reports.

These tests use hand-made configs and records of the shape ``plan_runs`` and ``execute_run``
produce, so no training happens here (see test_sweep.py for records made by real runs).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from rlbench3.analysis.results import load, load_episodes, status_table, write_plan
from rlbench3.harness import storage
from rlbench3.harness.storage import CorruptRecord, RunStore, atomic_write_text, read_record
from rlbench3.harness.suites import run_id


def make_config(seed: int = 0, horizon: int = 2) -> dict:
    return {
        "suite": "unit",
        "experiment": "lock",
        "env": {
            "id": "rlbench3/CombinationLock-v0",
            "family": "CombinationLock",
            "setting": {"horizon": horizon},
        },
        "splits": {"train": {"preset": "D", "horizon": horizon, "num_actions": 2}},
        "agent": {"name": "ppo", "algo": "PPO", "policy": "MlpPolicy", "n_envs": 4},
        "seed": seed,
        "budget": 512,
        "eval": {"every": 256, "episodes": 4},
    }


def make_record(success: float = 0.5) -> dict:
    return {
        "curve": [
            {
                "step": step,
                "split": "train",
                "mean_return": success,
                "success_rate": success,
                "wall_time": 0.01 * i,
            }
            for i, step in enumerate((0, 256, 512))
        ],
        "final": {"train": {"returns": [1.0, 0.0, 1.0, 0.0], "successes": [1, 0, 1, 0]}},
        "zero_signal": {"batches": 1, "empty_batches": 0, "fraction": 0.0},
        "meta": {"steps": 512, "steps_per_second": 1000.0, "host": "test"},
    }


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "out")


def write_one(store: RunStore, seed: int = 0, success: float = 0.5) -> str:
    config = make_config(seed)
    rid = run_id(config)
    store.write(rid, config, make_record(success))
    return rid


# --------------------------------------------------------------------------------------------
# Round trip


def test_write_then_read_round_trips(store):
    config, record = make_config(), make_record()
    rid = run_id(config)
    path = store.write(rid, config, record)
    assert path == store.runs / f"{rid}.json"
    data = store.read(rid)
    assert data == {"format": storage.FORMAT, "run_id": rid, "config": config, "record": record}
    assert "checksum" in json.loads(path.read_text())  # on disk, not in what read() returns
    assert store.status(rid) == storage.RunStatus(rid, "finished")
    assert list(store.finished_ids()) == [rid]
    assert list(store.failed_ids()) == []
    # A second run does not disturb the first.
    other = write_one(store, seed=1, success=1.0)
    assert sorted(store.finished_ids()) == sorted([rid, other])
    assert store.read(rid)["record"] == record
    assert store.read(other)["record"]["curve"][0]["success_rate"] == 1.0


def test_status_of_an_unknown_run_is_missing(store):
    assert store.status("0123456789abcdef").state == "missing"
    assert list(store.finished_ids()) == []  # no runs/ folder yet: nothing, no error
    with pytest.raises(CorruptRecord, match="unreadable"):
        store.read("0123456789abcdef")


# --------------------------------------------------------------------------------------------
# Damaged files are detected, never used


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.99])
def test_a_truncated_record_is_corrupt(store, keep):
    rid = write_one(store)
    path = store.path(rid)
    text = path.read_text()
    cut = int(len(text.rstrip()) * keep)  # strictly before the closing brace
    path.write_text(text[:cut])
    with pytest.raises(CorruptRecord, match=r"not valid JSON, truncated") as err:
        store.read(rid)
    assert str(path) in str(err.value)
    status = store.status(rid)
    assert status.state == "corrupt"
    assert "truncated" in status.detail


def test_binary_garbage_is_corrupt(store):
    rid = write_one(store)
    store.path(rid).write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CorruptRecord, match="unreadable|not valid JSON"):
        store.read(rid)
    assert store.status(rid).state == "corrupt"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"success_rate": 0.5', '"success_rate": 0.75'),  # a result edited by hand
        ('"seed": 0', '"seed": 7'),  # the config edited (the id check would catch it too)
        ('"host": "test"', '"host": "elsewhere"'),
    ],
)
def test_an_edited_value_fails_the_checksum(store, old, new):
    rid = write_one(store)
    path = store.path(rid)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    json.loads(path.read_text())  # still valid JSON: only the checksum can tell
    with pytest.raises(CorruptRecord, match="checksum mismatch"):
        store.read(rid)
    assert store.status(rid).state == "corrupt"


def test_a_record_whose_id_is_not_its_config_hash_is_corrupt(store):
    config = make_config()
    wrong = "0123456789abcdef"
    assert run_id(config) != wrong
    store.write(wrong, config, make_record())  # self-consistent checksum, wrong identity
    with pytest.raises(CorruptRecord, match="run id does not match the hash of its config"):
        store.read(wrong)
    assert store.status(wrong).state == "corrupt"


def test_a_record_under_another_runs_name_is_corrupt(store):
    rid = write_one(store, seed=0)
    other = run_id(make_config(seed=1))
    store.path(rid).replace(store.path(other))  # a valid record, misplaced
    with pytest.raises(CorruptRecord, match=f"holds run {rid}, expected {other}"):
        store.read(other)
    assert read_record(store.path(other))["run_id"] == rid  # by itself the file is fine


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda data: data.pop("record"), r"missing fields \['record'\]"),
        (lambda data: data.update(format=99), "record format 99"),
    ],
)
def test_structurally_wrong_records_are_corrupt(store, edit, message):
    rid = write_one(store)
    data = json.loads(store.path(rid).read_text())
    edit(data)
    store.path(rid).write_text(json.dumps(data))
    with pytest.raises(CorruptRecord, match=message):
        store.read(rid)


def test_a_json_array_is_corrupt(store):
    store.ensure()
    store.path("0123456789abcdef").write_text("[1, 2]")
    with pytest.raises(CorruptRecord, match="expected a JSON object"):
        store.read("0123456789abcdef")


# --------------------------------------------------------------------------------------------
# A killed writer leaves the old file or the new one, and its temp file is ignored


def test_leftover_temp_files_are_ignored(store):
    rid = write_one(store)
    pending = run_id(make_config(seed=1))
    full = (store.path(rid)).read_text()
    # What a writer killed before its rename leaves: a hidden, partial temp file.
    (store.runs / f".{pending}.json.4242.tmp").write_text(full[: len(full) // 2])
    (store.runs / f".{rid}.json.4243.tmp").write_text(full[:10])
    (store.runs / f".{pending}.failed.json.4244.tmp").write_text("{")
    assert list(store.finished_ids()) == [rid]
    assert list(store.failed_ids()) == []
    assert store.status(rid).state == "finished"
    assert store.status(pending).state == "missing"
    curves = load(store.root, on_corrupt="raise")
    assert set(curves["run_id"]) == {rid}


def test_a_write_killed_before_its_rename_keeps_the_old_record(store, monkeypatch):
    config = make_config()
    rid = run_id(config)
    store.write(rid, config, make_record(0.5))
    before = store.path(rid).read_bytes()

    def killed(src, dst):
        raise KeyboardInterrupt  # stands in for the process dying between write and rename

    monkeypatch.setattr(storage.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        store.write(rid, config, make_record(1.0))
    monkeypatch.undo()
    assert store.path(rid).read_bytes() == before  # never a mix of old and new
    assert store.read(rid)["record"]["curve"][0]["success_rate"] == 0.5
    leftovers = [p.name for p in store.runs.iterdir() if p.name != f"{rid}.json"]
    assert leftovers == [f".{rid}.json.{os.getpid()}.tmp"]
    assert list(store.finished_ids()) == [rid]
    # The next successful write of the same run replaces both.
    store.write(rid, config, make_record(1.0))
    assert store.read(rid)["record"]["curve"][0]["success_rate"] == 1.0
    assert sorted(p.name for p in store.runs.iterdir()) == [f"{rid}.json"]


def test_atomic_write_text_replaces_whole_file(tmp_path):
    path = tmp_path / "plan.json"
    atomic_write_text(path, "old\n")
    atomic_write_text(path, "new\n")
    assert path.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


# --------------------------------------------------------------------------------------------
# Quarantine


def test_quarantine_moves_a_corrupt_record_aside(store):
    rid = write_one(store)
    damaged = store.path(rid).read_text()[:100]
    store.path(rid).write_text(damaged)
    assert store.status(rid).state == "corrupt"
    moved = store.quarantine(rid)
    assert moved.parent == store.runs
    assert re.fullmatch(rf"{rid}\.json\.corrupt-\d{{8}}-\d{{6}}", moved.name)
    assert moved.read_text() == damaged  # kept for inspection, unchanged
    assert not store.path(rid).exists()
    assert store.status(rid).state == "missing"
    assert list(store.finished_ids()) == []
    assert store.status(rid).state == "missing"
    # ... and a fresh record of the run is then accepted.
    write_one(store)
    assert store.status(rid).state == "finished"
    assert moved.exists()


# --------------------------------------------------------------------------------------------
# Failure reports


def test_a_failure_is_recorded_then_cleared_by_success(store):
    config = make_config()
    rid = run_id(config)
    error = 'Traceback (most recent call last):\n  File "x.py", line 1\nRuntimeError: boom\n'
    store.write_failure(rid, config, error)
    status = store.status(rid)
    assert status.state == "failed"
    assert status.detail == "RuntimeError: boom"
    assert list(store.failed_ids()) == [rid]
    assert list(store.finished_ids()) == []  # a failure report is not a record
    report = json.loads(store.failure_path(rid).read_text())
    assert report["error"] == error and report["config"] == config and report["run_id"] == rid
    # A later failure replaces the report.
    store.write_failure(rid, config, "ValueError: again\n")
    assert store.status(rid).detail == "ValueError: again"
    # Success clears it.
    store.write(rid, config, make_record())
    assert not store.failure_path(rid).exists()
    assert store.status(rid).state == "finished"
    assert list(store.failed_ids()) == []


def test_an_unreadable_failure_report_still_counts_as_failed(store):
    config = make_config()
    rid = run_id(config)
    store.write_failure(rid, config, "RuntimeError: boom")
    store.failure_path(rid).write_text('{"error": "Runt')
    status = store.status(rid)
    assert status == storage.RunStatus(rid, "failed", "(unreadable failure report)")


# --------------------------------------------------------------------------------------------
# The tables built on the store


def test_status_table_counts_each_state(store):
    configs = [make_config(seed=s) for s in range(4)]
    runs = [{"run_id": run_id(c), "config": c} for c in configs]
    write_plan(store.root, runs)
    finished, failed, corrupt, _missing = (r["run_id"] for r in runs)
    store.write(finished, configs[0], make_record())
    store.write_failure(failed, configs[1], "RuntimeError: boom")
    store.write(corrupt, configs[2], make_record())
    store.path(corrupt).write_text("{")
    table = status_table(store.root)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["experiment"], row["setting"], row["agent"]) == ("lock", "horizon=2", "ppo")
    assert row[["finished", "failed", "corrupt", "missing"]].tolist() == [1, 1, 1, 1]


def test_load_skips_corrupt_records_or_raises(store, capsys):
    good = write_one(store, seed=0)
    bad = write_one(store, seed=1)
    store.path(bad).write_text(store.path(bad).read_text().replace("0.5", "0.9", 1))
    curves = load(store.root)
    assert set(curves["run_id"]) == {good}
    assert len(curves) == 3
    assert curves["is_final"].tolist() == [False, False, True]
    assert f"skipping {store.path(bad)}: checksum mismatch" in capsys.readouterr().err
    episodes = load_episodes(store.root)
    assert set(episodes["run_id"]) == {good} and len(episodes) == 4
    with pytest.raises(CorruptRecord, match="checksum mismatch"):
        load(store.root, on_corrupt="raise")
    with pytest.raises(ValueError, match="on_corrupt"):
        load(store.root, on_corrupt="ignore")


def test_load_of_a_folder_without_records_has_the_columns(store):
    store.ensure()
    curves = load(store.root)
    assert len(curves) == 0
    assert {"run_id", "step", "split", "success_rate", "is_final"} <= set(curves.columns)
    assert curves[curves["run_id"].isin({"x"})].empty  # what `rlbench3 run` does next
    assert {"run_id", "return", "success"} <= set(load_episodes(store.root).columns)
    with pytest.raises(FileNotFoundError, match="no runs/ folder"):
        load(store.root / "elsewhere")
