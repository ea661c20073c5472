"""Run records on disk: atomic writes, verification on read, quarantine, failure reports.

These tests use hand-made configs and records (the shared ``make_config`` / ``make_record``
fixtures of conftest.py, of the shape ``plan_runs`` and ``train_run`` produce), so no training
happens here (see test_sweep.py for records made by real runs).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rlbench3.analysis.results import load, load_episodes, status_table
from rlbench3.harness import storage
from rlbench3.harness.run_config import RunConfig
from rlbench3.harness.storage import (
    CorruptRecord,
    RunStore,
    StoredRun,
    UnknownFormat,
    atomic_write_text,
    read_record,
)


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "out")


@pytest.fixture
def write_one(store, make_config, make_record) -> Callable[..., str]:
    """Write the record of ``make_config(seed=seed)`` with train success ``success``; its id."""

    def write(seed: int = 0, success: float = 0.5) -> str:
        config = make_config(seed=seed)
        store.write(config, make_record(success))
        return config.run_id

    return write


def seal(body: dict[str, Any]) -> dict[str, Any]:
    """A record file's contents with a valid checksum (sha256 of the canonical JSON of the rest):
    what a writer that meant to write ``body`` writes, so only the other checks can refuse it."""
    body = {k: v for k, v in body.items() if k != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return {**body, "checksum": hashlib.sha256(canonical.encode()).hexdigest()}


def reseal(path: Path, edit: Callable[[dict[str, Any]], Any]) -> None:
    """Edit a record file in place and give it a valid checksum again."""
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(seal(data), indent=1, sort_keys=True) + "\n")


def test_reseal_alone_keeps_a_record_valid(store, write_one):
    # The helper matches the writer's checksum: the tests below that reseal a record refuse it
    # for their edit, not for the resealing.
    rid = write_one()
    before = store.read(rid)
    reseal(store.path(rid), lambda data: None)
    assert store.read(rid) == before


# --------------------------------------------------------------------------------------------
# Round trip


def test_write_then_read_round_trips(store, write_one, make_config, make_record):
    config, record = make_config(), make_record(0.5)
    rid = config.run_id
    path = store.write(config, record)
    assert path == store.runs / f"{rid}.json"
    data = store.read(rid)
    assert data == StoredRun(rid, config, record)
    assert isinstance(data.config, RunConfig) and data.config.run_id == rid
    on_disk = json.loads(path.read_text())
    assert "checksum" in on_disk  # on disk, not in what read() returns
    assert on_disk["format"] == storage.FORMAT
    assert on_disk["run_id"] == rid and on_disk["config"] == config.to_dict()
    assert on_disk["record"] == record
    assert store.status(rid) == storage.RunStatus(rid, "finished")
    assert list(store.finished_ids()) == [rid]
    assert list(store.failed_ids()) == []
    # A second run does not disturb the first.
    other = write_one(seed=1, success=1.0)
    assert sorted(store.finished_ids()) == sorted([rid, other])
    assert store.read(rid).record == record
    assert store.read(other).record["curve"][0]["success_rate"] == 1.0
    assert store.read(other).config == make_config(seed=1)


def test_a_stored_config_keeps_its_label_and_split_order(store, make_config, make_record):
    setting = {"reward_mode": "sparse", "horizon": 2}  # grid order, not alphabetical
    config = make_config(
        setting=setting,
        splits={"train": {"preset": "D", **setting}, "extreme": {"preset": "E", **setting}},
    )
    store.write_plan([config])
    store.write(config, make_record({"train": 0.5, "extreme": 0.0}))
    stored = store.read(config.run_id).config
    assert stored == config and stored.run_id == config.run_id  # the same run ...
    planned_label = store.read_plan()[config.run_id]["setting"]  # what `rlbench3 ls` shows
    # Key order is not part of a config: labels name the grid parameters alphabetically.
    assert planned_label == config.label == "horizon=2, reward_mode=sparse"
    assert set(load(store.root)["setting"]) == {planned_label}  # ... what the tables show
    assert stored.label == config.label
    assert list(stored.splits) == list(config.splits)


def test_status_of_an_unknown_run_is_missing(store):
    assert store.status("0123456789abcdef").state == "missing"
    assert list(store.finished_ids()) == []  # no runs/ folder yet: nothing, no error
    with pytest.raises(CorruptRecord, match="unreadable"):
        store.read("0123456789abcdef")


# --------------------------------------------------------------------------------------------
# Damaged files are detected, never used


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.99])
def test_a_truncated_record_is_corrupt(store, write_one, keep):
    rid = write_one()
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


def test_binary_garbage_is_corrupt(store, write_one):
    rid = write_one()
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
        (f'"format": {storage.FORMAT}', '"format": 1'),  # the format edited: a checksum mismatch
    ],
)
def test_an_edited_value_fails_the_checksum(store, write_one, old, new):
    rid = write_one()
    path = store.path(rid)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    json.loads(path.read_text())  # still valid JSON: only the checksum can tell
    with pytest.raises(CorruptRecord, match="checksum mismatch"):
        store.read(rid)
    assert store.status(rid).state == "corrupt"


def test_a_record_whose_id_is_not_its_config_hash_is_corrupt(store, write_one):
    rid = write_one()
    wrong = "0123456789abcdef"
    assert rid != wrong
    # A self-consistent checksum, the wrong identity, under the name of that identity.
    reseal(store.path(rid), lambda data: data.update(run_id=wrong))
    store.path(rid).replace(store.path(wrong))
    with pytest.raises(CorruptRecord, match="run id does not match the hash of its config"):
        store.read(wrong)
    with pytest.raises(CorruptRecord, match="run id does not match the hash of its config"):
        read_record(store.path(wrong))
    assert store.status(wrong).state == "corrupt"


def test_a_record_whose_config_was_edited_and_resealed_is_corrupt(store, write_one):
    rid = write_one(seed=0)
    reseal(store.path(rid), lambda data: data["config"].update(seed=7))
    with pytest.raises(CorruptRecord, match="run id does not match the hash of its config"):
        store.read(rid)


def test_a_record_under_another_runs_name_is_corrupt(store, write_one, make_config):
    rid = write_one(seed=0)
    other = make_config(seed=1).run_id
    store.path(rid).replace(store.path(other))  # a valid record, misplaced
    with pytest.raises(CorruptRecord, match=f"holds run {rid}, expected {other}"):
        store.read(other)
    assert read_record(store.path(other)).run_id == rid  # by itself the file is fine
    assert read_record(store.path(other)).config == make_config(seed=0)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda data: data.pop("record"), r"missing fields \['record'\]"),
        (lambda data: data.pop("format"), r"missing fields \['format'\]"),
        (lambda data: data.update(record=[1, 2]), "the record is not a JSON object"),
        (lambda data: data["config"].update(extra=1), r"not a run config .*unknown keys"),
        (lambda data: data["config"].pop("budget"), r"not a run config .*missing keys"),
        (lambda data: data["config"]["agent"].pop("algo"), r"not a run config \(agent: "),
        (lambda data: data.update(config=[1]), "not a run config"),
    ],
)
def test_structurally_wrong_records_are_corrupt(store, write_one, edit, message):
    rid = write_one()
    reseal(store.path(rid), edit)  # a valid checksum: only the structure is wrong
    with pytest.raises(CorruptRecord, match=message):
        store.read(rid)
    assert store.status(rid).state == "corrupt"


def test_a_missing_checksum_is_corrupt(store, write_one):
    rid = write_one()
    data = json.loads(store.path(rid).read_text())
    del data["checksum"]
    store.path(rid).write_text(json.dumps(data))
    with pytest.raises(CorruptRecord, match=r"missing fields \['checksum'\]"):
        store.read(rid)


def test_a_json_array_is_corrupt(store):
    store.ensure()
    store.path("0123456789abcdef").write_text("[1, 2]")
    with pytest.raises(CorruptRecord, match="expected a JSON object"):
        store.read("0123456789abcdef")


# --------------------------------------------------------------------------------------------
# Records of another format are refused, never read as this format nor skipped


def format_1_record(make_record) -> tuple[str, dict[str, Any]]:
    """A record as rlbench3 wrote it before RunConfig (format 1): a nested config, its id the
    hash of that config, and a valid checksum."""
    config = {
        "suite": "unit",
        "experiment": "lock",
        "env": {
            "id": "rlbench3/CombinationLock-v0",
            "family": "CombinationLock",
            "setting": {"horizon": 2},
        },
        "splits": {"train": {"preset": "D", "horizon": 2, "num_actions": 2}},
        "agent": {"name": "ppo", "algo": "PPO", "policy": "MlpPolicy", "n_envs": 4},
        "seed": 0,
        "budget": 512,
        "eval": {"every": 256, "episodes": 4},
    }
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
    rid = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    body = {"format": 1, "run_id": rid, "config": config, "record": make_record(0.5)}
    return rid, seal(body)


def test_a_format_1_record_is_refused_with_the_format_this_version_reads(store, make_record):
    assert storage.FORMAT != 1
    rid, data = format_1_record(make_record)
    store.ensure()
    store.path(rid).write_text(json.dumps(data, indent=1, sort_keys=True))
    with pytest.raises(UnknownFormat) as err:
        read_record(store.path(rid))
    assert not isinstance(err.value, CorruptRecord)  # not damaged: written by another version
    message = str(err.value)
    assert str(store.path(rid)) in message
    assert "record format 1" in message
    assert f"reads format {storage.FORMAT} only" in message
    with pytest.raises(UnknownFormat, match=f"reads format {storage.FORMAT}"):
        store.read(rid)
    # The store reports it (`rlbench3 ls`), with the reason.
    status = store.status(rid)
    assert status.state == "corrupt" and "record format 1" in status.detail


@pytest.mark.parametrize("version", [0, 2, 99, "3", None])
def test_any_other_format_is_refused(store, write_one, version):
    rid = write_one()
    reseal(store.path(rid), lambda data: data.update(format=version))
    with pytest.raises(UnknownFormat, match=rf"record format {re.escape(repr(version))}; "):
        store.read(rid)


def test_load_raises_on_a_record_of_another_format(store, write_one, make_record, capsys):
    good = write_one()
    rid, data = format_1_record(make_record)
    store.path(rid).write_text(json.dumps(data))
    assert good != rid
    for on_corrupt in ("warn", "raise"):
        with pytest.raises(UnknownFormat, match="record format 1"):
            load(store.root, on_corrupt=on_corrupt)
        with pytest.raises(UnknownFormat, match="record format 1"):
            load_episodes(store.root, on_corrupt=on_corrupt)
    assert "skipping" not in capsys.readouterr().err  # not skipped silently, nor with a warning


# --------------------------------------------------------------------------------------------
# A killed writer leaves the old file or the new one, and its temp file is ignored


def test_leftover_temp_files_are_ignored(store, write_one, make_config):
    rid = write_one()
    pending = make_config(seed=1).run_id
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


def test_a_write_killed_before_its_rename_keeps_the_old_record(
    store, monkeypatch, make_config, make_record
):
    config = make_config()
    rid = config.run_id
    store.write(config, make_record(0.5))
    before = store.path(rid).read_bytes()

    def killed(src, dst):
        raise KeyboardInterrupt  # stands in for the process dying between write and rename

    monkeypatch.setattr(storage.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        store.write(config, make_record(1.0))
    monkeypatch.undo()
    assert store.path(rid).read_bytes() == before  # never a mix of old and new
    assert store.read(rid).record["curve"][0]["success_rate"] == 0.5
    # A write that fails (here interrupted) removes its own temp file; one killed outright
    # leaves it, and the next sweep removes it (test_stale_temp_files_are_removed_...).
    leftovers = [p.name for p in store.runs.iterdir() if p.name != f"{rid}.json"]
    assert leftovers == []
    assert list(store.finished_ids()) == [rid]
    # The next successful write of the same run replaces both.
    store.write(config, make_record(1.0))
    assert store.read(rid).record["curve"][0]["success_rate"] == 1.0
    assert sorted(p.name for p in store.runs.iterdir()) == [f"{rid}.json"]


def test_a_failed_write_removes_its_temp_file_and_raises(store, monkeypatch, make_config):
    config = make_config()

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        store.write(config, {"meta": {}})
    assert sorted(p.name for p in store.runs.iterdir()) == []


def test_remove_temp_files_removes_only_ours(store, write_one):
    rid = write_one()
    (store.root / "policies").mkdir()
    ours = [
        store.runs / f".{rid}.json.4242.tmp",
        store.root / "policies" / f".{rid}.pt.17.tmp",
        store.root / ".plan.json.3.tmp",
    ]
    theirs = [store.runs / "notes.tmp", store.runs / ".hidden", store.root / "x.4.tmp"]
    for path in ours + theirs:
        path.write_text("x")
    assert sorted(store.remove_temp_files()) == sorted(ours)
    assert all(p.exists() for p in theirs) and not any(p.exists() for p in ours)
    assert store.status(rid).state == "finished"


def test_atomic_write_text_replaces_whole_file(tmp_path):
    path = tmp_path / "plan.json"
    atomic_write_text(path, "old\n")
    atomic_write_text(path, "new\n")
    assert path.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


# --------------------------------------------------------------------------------------------
# Quarantine


def test_quarantine_moves_a_corrupt_record_aside(store, write_one):
    rid = write_one()
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
    write_one()
    assert store.status(rid).state == "finished"
    assert moved.exists()


# --------------------------------------------------------------------------------------------
# Failure reports


def test_a_failure_is_recorded_then_cleared_by_success(store, make_config, make_record):
    config = make_config()
    rid = config.run_id
    error = 'Traceback (most recent call last):\n  File "x.py", line 1\nRuntimeError: boom\n'
    store.write_failure(config, error)
    status = store.status(rid)
    assert status.state == "failed"
    assert status.detail == "RuntimeError: boom"
    assert list(store.failed_ids()) == [rid]
    assert list(store.finished_ids()) == []  # a failure report is not a record
    report = json.loads(store.failure_path(rid).read_text())
    assert report["error"] == error and report["run_id"] == rid
    assert report["config"] == config.to_dict()
    assert RunConfig.from_dict(report["config"]) == config
    # A later failure replaces the report.
    store.write_failure(config, "ValueError: again\n")
    assert store.status(rid).detail == "ValueError: again"
    # Success clears it.
    store.write(config, make_record())
    assert not store.failure_path(rid).exists()
    assert store.status(rid).state == "finished"
    assert list(store.failed_ids()) == []


def test_an_unreadable_failure_report_still_counts_as_failed(store, make_config):
    config = make_config()
    rid = config.run_id
    store.write_failure(config, "RuntimeError: boom")
    store.failure_path(rid).write_text('{"error": "Runt')
    status = store.status(rid)
    assert status == storage.RunStatus(rid, "failed", "(unreadable failure report)")


# --------------------------------------------------------------------------------------------
# The plan


def test_write_plan_labels_runs_and_merges_across_calls(store, make_config):
    assert store.read_plan() == {}  # no plan yet: empty, no error
    first = [make_config(seed=s) for s in range(2)]
    second = [make_config(seed=s, setting={"horizon": 3}) for s in range(2)]
    store.write_plan(first)
    assert store.read_plan() == {
        c.run_id: {"experiment": "lock", "setting": "horizon=2", "agent": "ppo", "seed": c.seed}
        for c in first
    }
    # A second invocation (another suite, or the same one with more seeds) adds to the plan ...
    store.write_plan(second + first[:1])
    plan = store.read_plan()
    assert set(plan) == {c.run_id for c in first + second}
    for c in first + second:
        assert plan[c.run_id] == storage.plan_entry(c)
        assert plan[c.run_id]["setting"] == c.label
    # ... and an empty one changes nothing.
    before = store.plan.read_text()
    store.write_plan([])
    assert store.plan.read_text() == before
    assert json.loads(before) == plan
    # no temp file left; the write lock's file (see test_the_lock_...)
    assert sorted(p.name for p in store.root.iterdir()) == [".lock", "plan.json"]


def test_a_damaged_plan_is_reported(store, make_config):
    store.write_plan([make_config()])
    store.plan.write_text(store.plan.read_text()[:-5])
    with pytest.raises(CorruptRecord, match="plan.json: not valid JSON"):
        store.read_plan()
    with pytest.raises(CorruptRecord, match="plan.json: not valid JSON"):
        store.write_plan([make_config(seed=1)])  # without warn: never overwritten silently


@pytest.mark.parametrize("damage", ["{", "[1, 2]", '{"x": 3}', '{"x": {"agent": "a"}}'])
def test_a_damaged_plan_is_rebuilt_from_the_records(store, make_config, make_record, damage):
    finished, failed, planned_only = (make_config(seed=s) for s in range(3))
    store.write_plan([finished, failed, planned_only])
    store.write(finished, make_record())
    store.write_failure(failed, "RuntimeError: boom")
    store.plan.write_text(damage)
    warnings: list[str] = []
    rebuilt = store.plan_or_rebuilt(warnings.append)  # readers: in memory, file untouched
    assert set(rebuilt) == {finished.run_id, failed.run_id}
    assert store.plan.read_text() == damage and "rebuilt from the 2 records" in warnings[0]
    extra = make_config(seed=5)
    store.write_plan([extra], warn=warnings.append)  # writers: set aside, rebuilt, merged
    assert "plan.json: not" in warnings[1] and "kept as plan.json.corrupt-" in warnings[1]
    assert set(store.read_plan()) == {finished.run_id, failed.run_id, extra.run_id}
    (kept,) = store.root.glob("plan.json.corrupt-*")
    assert kept.read_text() == damage


# --------------------------------------------------------------------------------------------
# The tables built on the store


def test_status_table_counts_each_state(store, make_config, make_record):
    configs = [make_config(seed=s) for s in range(5)]
    store.write_plan(configs)
    finished, failed, corrupt, damaged, _missing = (c.run_id for c in configs)
    store.write(configs[0], make_record())
    store.write_failure(configs[1], "RuntimeError: boom")
    store.write(configs[2], make_record())
    store.path(corrupt).write_text("{")
    with_policy = make_record()
    with_policy["meta"]["policy_sha256"] = hashlib.sha256(b"weights").hexdigest()
    store.write(configs[3], with_policy)  # its policy file was never written: damaged
    table = status_table(store.root)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["experiment"], row["setting"], row["agent"]) == ("lock", "horizon=2", "ppo")
    assert list(table.columns[3:]) == ["finished", "failed", "corrupt", "damaged", "missing"]
    assert row[["finished", "failed", "corrupt", "damaged", "missing"]].tolist() == [1] * 5
    assert store.status(finished).state == "finished" and store.status(failed).state == "failed"
    assert store.status(damaged) == storage.RunStatus(
        damaged, "damaged", f"{store.policy_path(damaged)}: the policy file is missing"
    )
    store.write_policy(damaged, b"weights")
    assert store.status(damaged).state == "finished"
    store.write_policy(damaged, b"weights, altered")
    assert "does not match its record's sha256" in store.status(damaged).detail
    assert store.set_aside_policy(damaged).name.startswith(f"{damaged}.pt.damaged-")
    assert store.set_aside_policy(damaged) is None


def test_status_table_labels_records_outside_the_plan(store, make_config, make_record):
    planned = make_config(seed=0)
    store.write_plan([planned])
    store.write(planned, make_record())
    extra = make_config(seed=1, setting={"horizon": 3}, experiment="lock-3")
    store.write(extra, make_record())  # a record the plan does not know: labelled by its config
    table = status_table(store.root).set_index(["experiment", "setting", "agent"])
    assert table.loc[("lock", "horizon=2", "ppo"), "finished"] == 1
    assert table.loc[("lock-3", "horizon=3", "ppo"), "finished"] == 1


def test_load_skips_corrupt_records_or_raises(store, write_one, capsys):
    good = write_one(seed=0)
    bad = write_one(seed=1)
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


def test_load_reads_the_typed_config_into_columns(store, make_config, make_record):
    config = make_config(setting={"horizon": 3, "num_actions": 2}, seed=2, budget=768)
    store.write(config, make_record(0.5))
    row = load(store.root, on_corrupt="raise").iloc[-1]
    expected = {
        "run_id": config.run_id,
        "suite": "unit",
        "experiment": "lock",
        "env_id": config.env_id,
        "family": "CombinationLock",
        "setting": "horizon=3, num_actions=2",
        "param_horizon": 3,
        "param_num_actions": 2,
        "agent": "ppo",
        "algo": "PPO",
        "seed": 2,
        "budget": 768,
        "zero_signal_fraction": 0.0,
        "steps_per_second": 1000.0,
    }
    assert {k: row[k] for k in expected} == expected


def test_load_of_a_folder_without_records_has_the_columns(store):
    store.ensure()
    curves = load(store.root)
    assert len(curves) == 0
    assert {"run_id", "step", "split", "success_rate", "is_final"} <= set(curves.columns)
    assert curves[curves["run_id"].isin({"x"})].empty  # what `rlbench3 run` does next
    assert {"run_id", "return", "success"} <= set(load_episodes(store.root).columns)
    with pytest.raises(FileNotFoundError, match="no runs/ folder"):
        load(store.root / "elsewhere")
