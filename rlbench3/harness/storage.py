"""Run records on disk: one JSON file per run, written atomically, verified when read.

Layout of a results folder::

    OUT/runs/<run_id>.json          a finished run: config, record, checksum
    OUT/runs/<run_id>.failed.json   the last failure of a run (traceback), until it succeeds
    OUT/runs/<run_id>.json.corrupt-<time>   a record that failed verification, set aside
    OUT/plan.json                   the runs the folder is meant to hold (run id -> labels)
    OUT/policies/<run_id>.pt        the run's final policy (SB3 ``policy.save`` format); its
                                    sha256 is in the record, so a damaged file is detected too

A record is written to a temporary file in the same folder, flushed and fsynced, then renamed
over its final name (``os.replace`` is atomic on POSIX), so a sweep killed at any moment leaves
either the whole record or none. Reading re-computes the checksum and checks the run id against
the config: a truncated, edited or misplaced file is reported, never used as data.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlbench3.harness.run_config import RunConfig

# The shape of a record file. Bump it whenever the record or the run config changes shape:
# readers refuse other versions (UnknownFormat) instead of guessing.
#   1: configs as nested dicts (env.id, env.family, env.setting, eval.every/episodes)
#   2: configs are RunConfig.to_dict() (env_id, family, setting at the top level)
#   3: eval.deterministic in the config
FORMAT = 3


class CorruptRecord(ValueError):
    """A record file exists but cannot be trusted."""


class UnknownFormat(ValueError):
    """A record written in a format this version of rlbench3 does not read."""


@dataclass(frozen=True)
class StoredRun:
    """A verified record: the run's config and what the run recorded."""

    run_id: str
    config: RunConfig
    record: dict[str, Any]


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def _checksum(payload: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a part."""
    atomic_write_bytes(path, text.encode())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    with contextlib.suppress(OSError):  # make the rename itself durable where supported
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@dataclass(frozen=True)
class RunStatus:
    run_id: str
    state: str  # "finished", "failed", "corrupt", "missing"
    detail: str = ""


def plan_entry(config: RunConfig) -> dict[str, Any]:
    """How ``plan.json`` (and ``rlbench3 ls``) labels a run."""
    return {
        "experiment": config.experiment,
        "setting": config.label,
        "agent": config.agent.name,
        "seed": config.seed,
    }


class RunStore:
    """A results directory: its ``runs/``, ``policies/`` and ``plan.json``."""

    def __init__(self, out: str | Path):
        self.root = Path(out)
        self.runs = self.root / "runs"
        self.plan = self.root / "plan.json"

    def write_plan(self, runs: list[RunConfig]) -> None:
        """Remember which runs the folder is meant to hold (merged across invocations)."""
        plan = self.read_plan()
        for config in runs:
            plan[config.run_id] = plan_entry(config)
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.plan, json.dumps(plan, indent=1, sort_keys=True) + "\n")

    def read_plan(self) -> dict[str, dict[str, Any]]:
        if not self.plan.exists():
            return {}
        try:
            return json.loads(self.plan.read_text())
        except json.JSONDecodeError as err:
            raise CorruptRecord(f"{self.plan}: not valid JSON ({err})") from None

    def ensure(self) -> None:
        self.runs.mkdir(parents=True, exist_ok=True)

    def path(self, run_id: str) -> Path:
        return self.runs / f"{run_id}.json"

    def failure_path(self, run_id: str) -> Path:
        return self.runs / f"{run_id}.failed.json"

    def policy_path(self, run_id: str) -> Path:
        return self.root / "policies" / f"{run_id}.pt"

    def write_policy(self, run_id: str, data: bytes) -> None:
        (self.root / "policies").mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.policy_path(run_id), data)

    def read_policy(self, run_id: str) -> bytes:
        """The verified bytes of a run's saved policy (checked against the record's sha256)."""
        expected = self.read(run_id).record["meta"].get("policy_sha256")
        try:
            data = self.policy_path(run_id).read_bytes()
        except OSError as err:
            raise CorruptRecord(f"{self.policy_path(run_id)}: unreadable ({err})") from None
        if expected is None or hashlib.sha256(data).hexdigest() != expected:
            raise CorruptRecord(f"{self.policy_path(run_id)}: does not match its record's sha256")
        return data

    def write(self, config: RunConfig, record: dict[str, Any]) -> Path:
        run_id = config.run_id
        body = {"format": FORMAT, "run_id": run_id, "config": config.to_dict(), "record": record}
        text = json.dumps({**body, "checksum": _checksum(body)}, indent=1, sort_keys=True)
        self.ensure()
        atomic_write_text(self.path(run_id), text + "\n")
        with contextlib.suppress(FileNotFoundError):
            self.failure_path(run_id).unlink()
        return self.path(run_id)

    def write_failure(self, config: RunConfig, error: str) -> None:
        self.ensure()
        run_id = config.run_id
        text = json.dumps(
            {
                "run_id": run_id,
                "config": config.to_dict(),
                "error": error,
                "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
            },
            indent=1,
        )
        atomic_write_text(self.failure_path(run_id), text + "\n")

    def read(self, run_id: str) -> StoredRun:
        """The verified contents of a finished run; raises :class:`CorruptRecord` (or
        :class:`UnknownFormat`) otherwise."""
        return read_record(self.path(run_id), run_id)

    def status(self, run_id: str) -> RunStatus:
        if self.path(run_id).exists():
            try:
                self.read(run_id)
            except (CorruptRecord, UnknownFormat) as err:
                return RunStatus(run_id, "corrupt", str(err))
            return RunStatus(run_id, "finished")
        if self.failure_path(run_id).exists():
            try:
                error = json.loads(self.failure_path(run_id).read_text()).get("error", "")
            except (OSError, ValueError):
                error = "(unreadable failure report)"
            last_line = error.strip().splitlines()[-1] if error.strip() else ""
            return RunStatus(run_id, "failed", last_line)
        return RunStatus(run_id, "missing")

    def quarantine(self, run_id: str) -> Path:
        """Move a corrupt record aside (kept for inspection), so the run is done again."""
        target = self.path(run_id).with_name(
            f"{run_id}.json.corrupt-{time.strftime('%Y%m%d-%H%M%S')}"
        )
        os.replace(self.path(run_id), target)
        return target

    def check_format(self) -> None:
        """Raise :class:`UnknownFormat` if the folder holds a record of another format (so a run
        into an old folder stops before training, not after)."""
        for run_id in self.finished_ids():
            try:
                found = json.loads(self.path(run_id).read_text()).get("format")
            except (OSError, ValueError, AttributeError):
                continue  # damaged: status() reports it, the sweep sets it aside
            if found != FORMAT:
                raise UnknownFormat(
                    f"{self.path(run_id)}: record format {found!r}; this rlbench3 reads format "
                    f"{FORMAT} only (run the suite again into a new results folder)"
                )

    def finished_ids(self) -> Iterator[str]:
        if self.runs.is_dir():
            for path in sorted(self.runs.glob("*.json")):
                if not path.name.endswith(".failed.json"):
                    yield path.stem

    def failed_ids(self) -> Iterator[str]:
        if self.runs.is_dir():
            for path in sorted(self.runs.glob("*.failed.json")):
                yield path.name[: -len(".failed.json")]


def read_record(path: Path, expected_id: str | None = None) -> StoredRun:
    """Read and verify one record file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as err:
        raise CorruptRecord(f"{path}: unreadable ({err})") from None
    except json.JSONDecodeError as err:
        raise CorruptRecord(f"{path}: not valid JSON, truncated or damaged ({err})") from None
    if not isinstance(data, dict):
        raise CorruptRecord(f"{path}: expected a JSON object")
    missing = {"format", "run_id", "config", "record", "checksum"} - set(data)
    if missing:
        raise CorruptRecord(f"{path}: missing fields {sorted(missing)}")
    checksum = data.pop("checksum")
    if _checksum(data) != checksum:
        raise CorruptRecord(f"{path}: checksum mismatch (the file was altered or damaged)")
    if data["format"] != FORMAT:
        raise UnknownFormat(
            f"{path}: record format {data['format']!r}; this rlbench3 reads format {FORMAT} "
            "only (run the suite again into a new results folder)"
        )
    try:
        config = RunConfig.from_dict(data["config"])
    except (ValueError, TypeError) as err:
        raise CorruptRecord(f"{path}: not a run config ({err})") from None
    if config.run_id != data["run_id"]:
        raise CorruptRecord(f"{path}: run id does not match the hash of its config")
    if expected_id is not None and data["run_id"] != expected_id:
        raise CorruptRecord(f"{path}: holds run {data['run_id']}, expected {expected_id}")
    if not isinstance(data["record"], dict):
        raise CorruptRecord(f"{path}: the record is not a JSON object")
    return StoredRun(data["run_id"], config, data["record"])
