"""Run records on disk: one JSON file per run, written atomically, verified when read.

Layout of a results folder::

    OUT/runs/<run_id>.json          a finished run: config, record, checksum
    OUT/runs/<run_id>.failed.json   the last failure of a run (traceback), until it succeeds
    OUT/runs/<run_id>.json.corrupt-<time>   a record that failed verification, set aside
    OUT/plan.json                   the runs the folder is meant to hold (run id -> labels)
    OUT/policies/<run_id>.pt        the run's final policy, weights only (a zip of ``.npy``
                                    arrays and JSON, see rlbench3.agents.policy_files: loading
                                    it never unpickles); its sha256 is in the record. Runs of
                                    external agents (rlbench3.harness.external), and policies of
                                    a class without that format, have none (meta.policy_sha256
                                    is null, meta.policy_file says why)
    OUT/.lock                       held (``flock``) by the one ``rlbench3 run`` writing here

A record is written to a temporary file in the same folder (``.<name>.<pid>.tmp``), flushed and
fsynced, then renamed over its final name (``os.replace`` is atomic on POSIX), so a sweep killed
at any moment leaves either the whole record or none. Reading re-computes the checksum and checks
the run id against the config: a truncated, edited or misplaced file is reported, never used as
data. A finished run whose policy file is missing or does not match the record's sha256 is
"damaged" (:meth:`RunStore.status`), and a sweep does it again.

One writer at a time: :meth:`RunStore.lock` takes an exclusive ``flock`` on ``OUT/.lock`` for
the whole of a sweep; a second sweep on the same folder stops at once with :class:`FolderLocked`
(naming the folder and the process holding it) instead of duplicating runs and racing on
``plan.json``. The lock dies with its process (the kernel releases it), so a killed sweep never
leaves a stale lock. Under the lock a sweep removes temporary files that killed writers left, and
rebuilds a damaged ``plan.json`` from the records. Readers (``ls``, ``table``, ...) take no lock:
every file they read is replaced atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlbench3.harness.run_config import RunConfig

# The shape of a record file. Bump it whenever the record or the run config changes shape:
# readers refuse other versions (UnknownFormat) instead of guessing.
#   1: configs as nested dicts (env.id, env.family, env.setting, eval.every/episodes)
#   2: configs are RunConfig.to_dict() (env_id, family, setting at the top level)
#   3: eval.deterministic in the config
#   4: the same config shape, a new protocol and record: evaluation episodes seeded per run and
#      split (RunConfig.eval_seed, was 10_000 + seed for every split), sampled evaluation seeded;
#      meta.eval_mode and meta.eval_seeds; zero_signal.unit ("replay_batch" for off-policy agents,
#      whose fraction was counted per rollout before); policies saved weights-only
#      (rlbench3.agents.policy_files, never unpickled; SB3 pickle files are refused)
#   Format 4 also holds runs of agents by import path and of external agents (the same shape:
#   agent.algo is "module:Class" or "external"; meta may add policy_file, policy_modes,
#   eval_mode_note, steps_counted, trained_by; policy_sha256 is null where no policy file was
#   saved; zero_signal.unit "update" for external runs), so older readers read them.
FORMAT = 4


class CorruptRecord(ValueError):
    """A record file exists but cannot be trusted."""


class UnknownFormat(ValueError):
    """A record written in a format this version of rlbench3 does not read."""


class FolderLocked(RuntimeError):
    """Another process is writing to the results folder (it holds ``OUT/.lock``)."""


class NoPolicyFile(CorruptRecord):
    """A finished run that saved no policy file (its record says why). The record itself is
    sound; this is a :class:`CorruptRecord` so that readers which skip runs without a usable
    policy (``rlbench3 robust``) skip these too."""


class StorageError(RuntimeError):
    """The results folder cannot be written (disk full, permissions, a file where a folder
    should be): fatal for a sweep, which stops at once and keeps every finished record."""


# Every state :meth:`RunStore.status` reports, in the order tables show them.
STATES = ("finished", "failed", "corrupt", "damaged", "missing")
# A temporary file of :func:`atomic_write_bytes`: ``.<name>.<pid>.tmp``.
TEMP_FILE = re.compile(r"^\..+\.\d+\.tmp$")


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
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename); a write that fails
    (disk full) removes its temporary file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where supported
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@dataclass(frozen=True)
class RunStatus:
    run_id: str
    state: str  # one of STATES
    detail: str = ""


# Locks this process holds: resolved folder -> [open lock file, depth]. flock locks belong to an
# open file, so a second open in the same process would block itself: nested lock() calls (run_suite
# calling execute) share the first one.
_HELD: dict[str, list[Any]] = {}
_HELD_GUARD = threading.Lock()


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

    def write_plan(self, runs: list[RunConfig], warn: Callable[[str], None] | None = None) -> None:
        """Remember which runs the folder is meant to hold (merged across invocations).

        It takes the folder's :meth:`lock` (re-entrant). A damaged ``plan.json`` is set aside
        (``plan.json.corrupt-<time>``) and rebuilt from the records, with a warning to ``warn``;
        without ``warn`` it raises :class:`CorruptRecord` and is left as it is.
        """
        with self.lock():
            self._write_plan(runs, warn)

    def _write_plan(self, runs: list[RunConfig], warn: Callable[[str], None] | None) -> None:
        try:
            plan = self.read_plan()
        except CorruptRecord as err:
            if warn is None:
                raise
            plan = self.rebuilt_plan()
            kept = self.plan.with_name(f"plan.json.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
            os.replace(self.plan, kept)
            warn(
                f"{err}; rebuilt it from the {len(plan)} records in {self.root} "
                f"(the damaged file is kept as {kept.name})"
            )
        for config in runs:
            plan[config.run_id] = plan_entry(config)
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.plan, json.dumps(plan, indent=1, sort_keys=True) + "\n")

    def read_plan(self) -> dict[str, dict[str, Any]]:
        """The plan; ``{}`` without one; :class:`CorruptRecord` if it is damaged."""
        if not self.plan.exists():
            return {}
        try:
            plan = json.loads(self.plan.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise CorruptRecord(f"{self.plan}: not valid JSON ({err})") from None
        keys = ("experiment", "setting", "agent", "seed")
        if not isinstance(plan, dict) or not all(
            isinstance(entry, dict) and all(k in entry for k in keys) for entry in plan.values()
        ):
            raise CorruptRecord(f"{self.plan}: not a mapping run id -> {', '.join(keys)}")
        return plan

    def plan_or_rebuilt(self, warn: Callable[[str], None]) -> dict[str, dict[str, Any]]:
        """The plan, or, if it is damaged, one rebuilt from the records (with a warning); the
        file is not touched (readers take no lock)."""
        try:
            return self.read_plan()
        except CorruptRecord as err:
            plan = self.rebuilt_plan()
            warn(
                f"{err}; using a plan rebuilt from the {len(plan)} records "
                "(`rlbench3 run` rewrites it)"
            )
            return plan

    def rebuilt_plan(self) -> dict[str, dict[str, Any]]:
        """A plan made from what the folder holds: the verified records and the failure reports
        (runs planned but never started are not in it until their suite is run again)."""
        plan: dict[str, dict[str, Any]] = {}
        for run_id in self.finished_ids():
            with contextlib.suppress(CorruptRecord, UnknownFormat):
                plan[run_id] = plan_entry(self.read(run_id).config)
        for run_id in self.failed_ids():
            with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
                config = RunConfig.from_dict(
                    json.loads(self.failure_path(run_id).read_text())["config"]
                )
                if config.run_id == run_id:
                    plan.setdefault(run_id, plan_entry(config))
        return plan

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder's write lock (``flock`` on ``OUT/.lock``) for the block; raises
        :class:`FolderLocked` at once if another process holds it. Re-entrant in a process."""
        key = str(self.root.resolve())
        with _HELD_GUARD:
            held = _HELD.get(key)
            if held is not None:
                held[1] += 1
        if held is None:
            self._acquire(key)
        try:
            yield
        finally:
            with _HELD_GUARD:
                entry = _HELD[key]
                entry[1] -= 1
                if entry[1] == 0:
                    del _HELD[key]
                    entry[0].close()  # closing the file releases the flock

    def _acquire(self, key: str) -> None:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock (documented)
            fcntl = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fh = open(self.root / ".lock", "a+")  # held until released
        except OSError as err:
            raise StorageError(f"cannot lock the results folder {self.root}: {err}") from None
        if fcntl is not None:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                fh.close()
                raise FolderLocked(
                    f"the results folder {self.root} is in use by another rlbench3 run "
                    f"({holder}); wait for it to finish, or write to another folder with -r"
                ) from None
            except OSError as err:
                fh.close()
                raise StorageError(f"cannot lock the results folder {self.root}: {err}") from None
        fh.seek(0)
        fh.truncate()
        fh.write(
            f"pid {os.getpid()} on {socket.gethostname()}, since "
            f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n"
        )
        fh.flush()
        with _HELD_GUARD:
            _HELD[key] = [fh, 1]

    def remove_temp_files(self) -> list[Path]:
        """Delete the temporary files of writes that never finished (a killed sweep's); call it
        under :meth:`lock`, when no other writer can be mid-write. The paths removed."""
        removed = []
        for folder in (self.root, self.runs, self.root / "policies"):
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if TEMP_FILE.match(path.name) and path.is_file():
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        removed.append(path)
        return removed

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
        """The verified bytes of a run's saved policy (checked against the record's sha256);
        :class:`NoPolicyFile` for a run that saved none (an external agent's callable, a policy
        class without a weights-only format: ``meta.policy_file`` says which)."""
        record = self.read(run_id).record
        expected = _policy_sha256(record)
        if expected is None:
            meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
            why = meta.get("policy_file", "its record names no policy file")
            raise NoPolicyFile(f"run {run_id} saved no policy file ({why})")
        try:
            data = self.policy_path(run_id).read_bytes()
        except OSError as err:
            raise CorruptRecord(f"{self.policy_path(run_id)}: unreadable ({err})") from None
        if expected is None or hashlib.sha256(data).hexdigest() != expected:
            raise CorruptRecord(f"{self.policy_path(run_id)}: does not match its record's sha256")
        return data

    def policy_problem(self, run_id: str, record: dict[str, Any]) -> str | None:
        """Why the policy file of a verified record is not the one it names (missing, unreadable
        or another sha256); ``None`` when it is, or when the record names no policy."""
        expected = _policy_sha256(record)
        if expected is None:
            return None
        path = self.policy_path(run_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return f"{path}: the policy file is missing"
        except OSError as err:
            return f"{path}: the policy file is unreadable ({err.strerror or err})"
        if hashlib.sha256(data).hexdigest() != expected:
            return f"{path}: the policy file does not match its record's sha256 (damaged)"
        return None

    def set_aside_policy(self, run_id: str) -> Path | None:
        """Move a damaged policy file aside (kept for inspection); where it went, if it existed."""
        path = self.policy_path(run_id)
        target = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(path, target)
        except FileNotFoundError:
            return None
        return target

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
        """The run's state: ``finished`` (a verified record, and the policy file it names),
        ``damaged`` (a verified record whose policy file is missing or altered), ``corrupt`` (a
        record that fails verification), ``failed`` (a failure report) or ``missing``."""
        if self.path(run_id).exists():
            try:
                stored = self.read(run_id)
            except (CorruptRecord, UnknownFormat) as err:
                return RunStatus(run_id, "corrupt", str(err))
            problem = self.policy_problem(run_id, stored.record)
            if problem is not None:
                return RunStatus(run_id, "damaged", problem)
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


def _policy_sha256(record: dict[str, Any]) -> str | None:
    meta = record.get("meta")
    value = meta.get("policy_sha256") if isinstance(meta, dict) else None
    return value if isinstance(value, str) else None


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
