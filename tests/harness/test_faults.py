"""Faults a sweep must survive: dead workers, a killed driver, a full disk, Ctrl-C, two drivers on
one folder, damaged plans, records and policies, leftover temp files, SB3's temp folders, and what
a local Ray exposes.

Runs are either real and tiny (a 1-2 step lock, a few hundred env steps) or stand-ins from a
module written into the test's folder (``faultmod``): a ``train`` function that kills its own
worker, sleeps, or notes its process id, importable by the spawned workers (and by Ray workers,
which import from the driver's working folder).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rlbench3.analysis.results import load, status_table
from rlbench3.cli import main
from rlbench3.harness.storage import FolderLocked, RunStore, StorageError
from rlbench3.harness.suites import load_suite, plan_runs
from rlbench3.harness.sweep import execute, run_suite

SUITE = """\
seeds: {seeds}
budget: 256
eval: {{every: 128, episodes: 2}}
agents: [random_search]
experiments:
  - name: lock
    env: rlbench3/CombinationLock-v0
    grid: {{horizon: {horizons}}}
"""

FAULTMOD = '''
"""Stand-in train functions for test_faults (written by the test; imported by workers)."""
import os, signal, sys, time
from pathlib import Path

from rlbench3.harness.training import train_run

LOG = Path({log!r})


def note(config, what):
    with open(LOG / f"{{what}}-{{config.run_id}}-{{os.getpid()}}", "w") as fh:
        fh.write(str(os.getpid()))


def crash_seed0(config):
    """Seed 0 kills its own worker (as a segfault or the OOM killer would); others train."""
    note(config, "attempt")
    if config.seed == 0:
        print("dying on purpose", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    return train_run(config)


def slow(config):
    """Note the worker, then take (nearly) forever."""
    note(config, "started")
    time.sleep(600)
    return train_run(config)


def fast_then_slow(config):
    """Seeds 0 and 1 train at once; the others note their worker and take forever."""
    if config.seed < 2:
        return train_run(config)
    return slow(config)


def listening(config):
    """Record the addresses the Ray processes (this worker's family) listen on, then fail."""
    import json
    driver = int(open(f"/proc/{{os.getppid()}}/stat").read().rsplit(")", 1)[1].split()[1])
    (LOG / "listening.json").write_text(json.dumps(sockets_of(descendants(driver))))
    raise RuntimeError("done looking")


def descendants(root):
    children = {{}}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = open(f"/proc/{{name}}/stat").read()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(name))
    out, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            out.append(child)
            stack.append(child)
    return out


def sockets_of(pids):
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{{pid}}/fd"):
                link = os.readlink(f"/proc/{{pid}}/fd/{{fd}}")
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        except OSError:
            pass
    found = []
    for table in ("tcp", "tcp6"):
        for line in open(f"/proc/net/{{table}}").read().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                found.append([table, fields[1]])
    return found
'''


def write_suite(folder: Path, *, seeds: int = 2, horizons: tuple[int, ...] = (1, 2)) -> Path:
    path = folder / "suite.yaml"
    path.write_text(SUITE.format(seeds=seeds, horizons=list(horizons)))
    return path


@pytest.fixture
def faultmod(tmp_path, monkeypatch):
    """The stand-in module, importable here and in spawned workers; its log folder."""
    log = tmp_path / "log"
    log.mkdir()
    name = f"faultmod_{os.getpid()}_{abs(hash(str(tmp_path))) % 10**8}"
    (tmp_path / f"{name}.py").write_text(FAULTMOD.format(log=str(log)))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__(name)
    module.NAME = name
    return module


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_until(condition, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"timed out waiting for {what}"
        time.sleep(0.1)
    return time.monotonic() - start


def noted(log: Path, what: str) -> dict[str, int]:
    """``{run id: pid}`` of the notes ``what-<run id>-<pid>`` in ``log``."""
    found = {}
    for path in log.glob(f"{what}-*"):
        _, rid, pid = path.name.split("-")
        found[rid] = int(pid)
    return found


# --------------------------------------------------------------------------------------------
# 5. A run that kills its worker


def test_a_run_that_kills_its_worker_is_retried_then_recorded_and_the_sweep_finishes(
    tmp_path, faultmod
):
    suite = write_suite(tmp_path, seeds=2, horizons=(1, 2))
    runs = plan_runs(load_suite(suite))
    out = tmp_path / "out"
    warnings: list[str] = []
    report = execute(
        runs, out, workers=2, progress=False, train=faultmod.crash_seed0, warn=warnings.append
    )
    dying = {r.run_id for r in runs if r.seed == 0}
    assert sorted(report.failed) == sorted(dying) and report.finished == 2
    store = RunStore(out)
    for rid in dying:
        # tried 1 + max_retries = 2 times, each on a fresh worker, then recorded with the cause
        attempts = [p for p in (faultmod.LOG).glob(f"attempt-{rid}-*")]
        assert len(attempts) == 2
        error = json.loads(store.failure_path(rid).read_text())["error"]
        assert "was killed by signal 9 (SIGKILL)" in error and "attempt 2 of 2" in error
        assert "dying on purpose" in error  # the worker's last stderr lines
        assert store.status(rid).state == "failed"
        assert "WorkerDied" in store.status(rid).detail
    assert sum("retrying on a fresh worker" in w for w in warnings) == 2
    for run in runs:
        if run.run_id not in dying:
            assert store.status(run.run_id).state == "finished"
    assert status_table(out)[["finished", "failed"]].sum().tolist() == [2, 2]


def test_max_retries_bounds_the_attempts(tmp_path, faultmod):
    runs = [r for r in plan_runs(load_suite(write_suite(tmp_path, seeds=1))) if r.seed == 0]
    report = execute(
        runs[:1], tmp_path / "out", workers=2, progress=False, train=faultmod.crash_seed0,
        max_retries=0, warn=lambda _: None,
    )  # fmt: skip
    assert len(report.failed) == 1
    assert len(list(faultmod.LOG.glob("attempt-*"))) == 1
    with pytest.raises(ValueError, match="max_retries must be an integer >= 0"):
        execute(runs, tmp_path / "out", max_retries=-1)


def test_on_ray_a_crashing_run_is_recorded_after_bounded_retries(tmp_path, faultmod, monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.chdir(tmp_path)  # Ray workers import from the driver's working folder
    suite = write_suite(tmp_path, seeds=2, horizons=(1,))
    runs = plan_runs(load_suite(suite))
    report = execute(
        runs, tmp_path / "out", workers=2, backend="ray", progress=False,
        train=faultmod.crash_seed0, max_retries=1, warn=lambda _: None,
    )  # fmt: skip
    (dying,) = [r.run_id for r in runs if r.seed == 0]
    assert report.failed == [dying] and report.finished == 1
    assert len(list(faultmod.LOG.glob(f"attempt-{dying}-*"))) == 2  # max_retries=1: 2 tries
    error = json.loads(RunStore(tmp_path / "out").failure_path(dying).read_text())["error"]
    assert re.search(r"(WorkerCrashedError|OutOfMemoryError).*after 2 attempt", error), error


# --------------------------------------------------------------------------------------------
# 6. Killing the driver ends its workers


DRIVER = """
import sys
sys.path.insert(0, {folder!r})
import {module} as faultmod
from rlbench3.harness.sweep import SweepInterrupted, run_suite
try:
    run_suite({suite!r}, {out!r}, workers=2, progress=False, backend={backend!r},
              train=faultmod.{train})
except SweepInterrupted as err:
    print("interrupted by", err.signum, flush=True)
    sys.exit(128 + err.signum)
"""


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{name}/stat").read_text()
                children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def start_driver(tmp_path: Path, faultmod, backend: str, train: str = "slow"):
    suite = write_suite(tmp_path, seeds=2, horizons=(1,))
    code = DRIVER.format(
        folder=str(tmp_path),
        module=faultmod.NAME,
        suite=str(suite),
        out=str(tmp_path / "out"),
        backend=backend,
        train=train,
    )
    log = (tmp_path / "driver.log").open("w")
    driver = subprocess.Popen(
        [sys.executable, "-c", code], stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path
    )
    try:
        wait_until(lambda: len(noted(faultmod.LOG, "started")) == 2, 240, "two busy workers")
    except AssertionError:
        driver.kill()
        raise AssertionError((tmp_path / "driver.log").read_text()) from None
    return driver


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(
    ("backend", "sig"),
    [("process", signal.SIGKILL), ("process", signal.SIGTERM), ("ray", signal.SIGKILL)],
)
def test_killing_the_driver_ends_its_workers(tmp_path, faultmod, backend, sig):
    if backend == "ray":
        pytest.importorskip("ray")
    driver = start_driver(tmp_path, faultmod, backend)
    family = descendants(driver.pid)  # workers, resource tracker; Ray's GCS, raylet, agents
    workers = list(noted(faultmod.LOG, "started").values())
    assert set(workers) <= set(family)
    os.kill(driver.pid, sig)
    driver.wait(timeout=60)
    seconds = wait_until(
        lambda: not any(alive(p) for p in family),
        20 if backend == "ray" else 10,
        f"the driver's processes to end: {[p for p in family if alive(p)]}",
    )
    assert seconds < (15 if backend == "ray" else 8)
    if sig == signal.SIGTERM:  # a clean stop: SweepInterrupted, then the usual status
        assert driver.returncode == 128 + signal.SIGTERM
        assert "interrupted by 15" in (tmp_path / "driver.log").read_text()
    # The folder's lock died with the driver: another sweep may start at once.
    with RunStore(tmp_path / "out").lock():
        pass


# --------------------------------------------------------------------------------------------
# 7. A fatal storage error or Ctrl-C stops the pool at once and keeps finished records


@pytest.mark.parametrize(
    "fault",
    [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()],
    ids=["disk-full", "ctrl-c"],
)
def test_a_fatal_error_stops_the_pool_promptly_and_keeps_finished_records(
    tmp_path, faultmod, monkeypatch, fault
):
    runs = plan_runs(load_suite(write_suite(tmp_path, seeds=4, horizons=(1,))))
    out = tmp_path / "out"
    original = RunStore.write
    writes: list[str] = []

    def write(self, config, record):
        writes.append(config.run_id)
        if len(writes) == 2:
            raise fault
        return original(self, config, record)

    monkeypatch.setattr(RunStore, "write", write)
    start = time.monotonic()
    expected = StorageError if isinstance(fault, OSError) else KeyboardInterrupt
    with pytest.raises(expected) as caught:
        execute(runs, out, workers=2, progress=False, train=faultmod.fast_then_slow)
    elapsed = time.monotonic() - start
    # Seeds 2 and 3 sleep for 10 minutes: the sweep did not wait for them.
    assert elapsed < 120, elapsed
    if expected is StorageError:
        assert "No space left on device" in str(caught.value) and str(out) in str(caught.value)
    busy = noted(faultmod.LOG, "started").values()
    wait_until(lambda: not any(alive(p) for p in busy), 10, "the busy workers to end")
    store = RunStore(out)
    (kept,) = list(store.finished_ids())
    assert kept == writes[0] and store.status(kept).state == "finished"
    assert not [p for p in store.runs.iterdir() if p.name.endswith(".tmp")]


def test_policies_being_a_file_is_a_storage_error_naming_the_folder(tmp_path):
    runs = plan_runs(load_suite(write_suite(tmp_path, seeds=1, horizons=(1,))))
    out = tmp_path / "out"
    out.mkdir()
    (out / "policies").write_text("not a folder")
    with pytest.raises(StorageError, match=rf"cannot write to the results folder {out}"):
        execute(runs, out, workers=1, progress=False)


# --------------------------------------------------------------------------------------------
# 8. One driver per folder; damaged plans rebuilt; leftover temp files removed


HOLDER = """
import sys, time
from rlbench3.harness.storage import RunStore
with RunStore(sys.argv[1]).lock():
    print("locked", flush=True)
    time.sleep(600)
"""


def test_a_second_driver_on_a_folder_stops_with_a_clear_message(tmp_path, capsys):
    suite = write_suite(tmp_path, seeds=1, horizons=(1,))
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["run", str(suite), "-r", str(out), "--workers", "1", "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert (
            f"the results folder {out} is in use by another rlbench3 run (pid {holder.pid}" in err
        )
        assert not (out / "runs").exists() or not list((out / "runs").iterdir())
        with pytest.raises(FolderLocked):
            execute(plan_runs(load_suite(suite)), out, progress=False)
    finally:
        holder.kill()
        holder.wait()
    # The lock died with its holder (SIGKILL): no stale lock to clean up by hand.
    assert main(["run", str(suite), "-r", str(out), "--workers", "1", "--no-progress"]) == 0


def test_the_lock_is_reentrant_in_a_process(tmp_path):
    store = RunStore(tmp_path / "out")
    with store.lock(), store.lock(), RunStore(tmp_path / "out" / ".." / "out").lock():
        pass
    with store.lock():
        pass


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A tiny suite run once (1 worker, in-process): (suite, folder)."""
    root = tmp_path_factory.mktemp("finished")
    suite = write_suite(root, seeds=2, horizons=(1,))
    out = root / "out"
    assert main(["run", str(suite), "-r", str(out), "--workers", "1", "--no-progress"]) == 0
    return suite, out


def copy_of(finished, tmp_path: Path) -> tuple[Path, Path]:
    import shutil

    suite, out = finished
    shutil.copytree(out, tmp_path / "out")
    return suite, tmp_path / "out"


def test_a_damaged_plan_is_rebuilt_by_run_and_tolerated_by_ls(finished, tmp_path, capsys):
    suite, out = copy_of(finished, tmp_path)
    store = RunStore(out)
    plan = store.read_plan()
    store.plan.write_text(store.plan.read_text()[:20])  # truncated mid-way
    capsys.readouterr()
    assert main(["ls", "-r", str(out)]) == 0
    captured = capsys.readouterr()
    assert "plan.json: not valid JSON" in captured.err and "rebuilt" in captured.err
    assert "| lock" in captured.out
    assert main(["run", str(suite), "-r", str(out), "--workers", "1", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "rebuilt it from the 2 records" in captured.err
    assert "2 already finished, 0 run now" in captured.out
    assert store.read_plan() == plan
    assert len(list(out.glob("plan.json.corrupt-*"))) == 1


def test_stale_temp_files_are_removed_when_a_sweep_starts(finished, tmp_path):
    suite, out = copy_of(finished, tmp_path)
    stale = [
        out / "runs" / ".0123456789abcdef.json.4242.tmp",
        out / "policies" / ".0123456789abcdef.pt.4242.tmp",
        out / ".plan.json.4242.tmp",
    ]
    for path in stale:
        path.write_bytes(b"half a file")
    keep = out / "runs" / "notes.tmp"  # not one of ours
    keep.write_text("mine")
    assert main(["run", str(suite), "-r", str(out), "--workers", "1", "--no-progress"]) == 0
    assert not any(p.exists() for p in stale) and keep.read_text() == "mine"


# --------------------------------------------------------------------------------------------
# 9. A missing or damaged policy makes its run "damaged"; run redoes it


def test_missing_or_damaged_policies_are_reported_and_redone(finished, tmp_path, capsys):
    suite, out = copy_of(finished, tmp_path)
    store = RunStore(out)
    deleted, truncated = sorted(store.finished_ids())
    before = {rid: store.policy_path(rid).read_bytes() for rid in (deleted, truncated)}
    store.policy_path(deleted).unlink()
    store.policy_path(truncated).write_bytes(before[truncated][:100])
    assert store.status(deleted).state == "damaged"
    assert "missing" in store.status(deleted).detail
    assert store.status(truncated).state == "damaged"
    assert "sha256" in store.status(truncated).detail
    capsys.readouterr()
    assert main(["ls", "-r", str(out)]) == 0
    (row,) = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| lock")]
    header = "| experiment | setting | agent | finished | failed | corrupt | damaged | missing |"
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[3:] == ["0", "0", "0", "2", "0"], (header, row)
    assert main(["run", str(suite), "-r", str(out), "--workers", "1", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "2 damaged runs redone" in captured.out and captured.err.count("damaged run") == 2
    for rid in (deleted, truncated):
        assert store.status(rid).state == "finished"
        data = store.policy_path(rid).read_bytes()
        assert hashlib.sha256(data).hexdigest() == store.read(rid).record["meta"]["policy_sha256"]
        assert data == before[rid]  # the same run again: the same policy
    assert len(list((out / "policies").glob("*.damaged-*"))) == 1  # the truncated one, kept


# --------------------------------------------------------------------------------------------
# 10. No /tmp/SB3-* folders


@pytest.mark.parametrize("workers", [1, 2])
def test_runs_leave_no_sb3_temp_folders(tmp_path, monkeypatch, workers):
    import tempfile

    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setenv("TMPDIR", str(private))  # spawned workers
    monkeypatch.setattr(tempfile, "tempdir", str(private))  # this process
    runs = plan_runs(load_suite(write_suite(tmp_path, seeds=1, horizons=(1, 2))))
    report = execute(runs, tmp_path / "out", workers=workers, progress=False)
    assert report.finished == 2
    assert sorted(p.name for p in private.iterdir()) == []  # no SB3-*, no rlbench3-* left
    assert len(load(tmp_path / "out")) > 0


# --------------------------------------------------------------------------------------------
# 15. A local Ray listens on 127.0.0.1 only


def is_loopback(table: str, hex_address: str) -> bool:
    host = hex_address.split(":")[0]
    raw = bytes.fromhex(host)
    if table == "tcp":
        address = ipaddress.ip_address(raw[::-1])
    else:  # four 32-bit words, each little-endian
        address = ipaddress.ip_address(b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
    return address.is_loopback


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_local_ray_listens_on_loopback_only(tmp_path, faultmod, monkeypatch):
    ray = pytest.importorskip("ray")
    monkeypatch.chdir(tmp_path)
    runs = plan_runs(load_suite(write_suite(tmp_path, seeds=1, horizons=(1,))))
    report = execute(
        runs, tmp_path / "out", workers=1, backend="ray", progress=False,
        train=faultmod.listening, warn=lambda _: None,
    )  # fmt: skip
    assert len(report.failed) == 1  # the stand-in fails on purpose, after looking
    sockets = json.loads((faultmod.LOG / "listening.json").read_text())
    assert len(sockets) >= 3  # GCS, raylet, workers: something was looked at
    exposed = [s for s in sockets if not is_loopback(*s)]
    assert exposed == [], exposed
    assert not ray.is_initialized()


def test_ray_address_needs_the_ray_backend(tmp_path):
    runs = plan_runs(load_suite(write_suite(tmp_path, seeds=1, horizons=(1,))))
    with pytest.raises(ValueError, match="only used by the ray backend"):
        execute(runs, tmp_path / "out", ray_address="127.0.0.1:6379")
    with pytest.raises(ValueError, match="only used by the ray backend"):
        run_suite(write_suite(tmp_path), tmp_path / "out", ray_address="127.0.0.1:6379")
    assert not (tmp_path / "out").exists()


def test_the_ray_extra_requires_a_version_with_token_authentication():
    text = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    (spec,) = re.findall(r'ray = \["ray>=([\d.]+)"\]', text)
    assert tuple(int(p) for p in spec.split(".")) >= (2, 52)
