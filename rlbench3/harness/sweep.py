"""Executing planned runs: skip what is finished, run the rest on a process pool or on Ray.

Workers only compute: each returns its record to the driver, which writes it atomically as soon
as it arrives. So a finished run is on disk exactly once, a killed sweep loses at most the runs
in flight, and Ray workers on other machines need no shared filesystem.

What can go wrong, and what a sweep does about it:

* A run raises: its traceback is recorded (``runs/<id>.failed.json``), the sweep goes on.
* A run kills its worker (a segfault in a native library, the out-of-memory killer): the run is
  tried again, at most ``max_retries`` more times, on a fresh worker; then it is recorded as
  failed with the cause (the signal or exit status, and the worker's last stderr lines) and the
  sweep goes on. On Ray the same bound is the task's ``max_retries``; a ``WorkerCrashedError`` is
  recorded the same way.
* The driver is killed (SIGKILL): each pool worker asks the kernel to kill it when its parent dies
  (``prctl(PR_SET_PDEATHSIG)`` on Linux; elsewhere a thread that watches the parent), so nothing
  keeps computing. SIGTERM, SIGHUP and Ctrl-C stop the sweep cleanly: the workers are terminated,
  a Ray instance the driver started is shut down, queued Ray tasks are cancelled, and
  :class:`SweepInterrupted` (a ``KeyboardInterrupt``) is raised. Pool workers ignore SIGINT: a
  Ctrl-C in the terminal reaches the whole process group, and the driver decides.
* A record cannot be written (disk full, ``policies/`` not a folder): :class:`StorageError`; the
  pool is stopped at once (queued runs are dropped, running ones terminated) and every record
  already written stays.
* Two sweeps on one folder: the second stops with :class:`FolderLocked` (see
  :meth:`RunStore.lock`).

``workers=1`` runs in the driver's own process (no pool: easy to debug and profile); a run that
crashes the interpreter then takes the driver with it. Use two or more workers (or Ray) for runs
that may crash.

**Jobs.** A worker computes a job: one run, or a population chunk: pending runs of a population
agent (``algo: PPO_population``, ``A2C_population``) that differ only in their seed, trained
together by :func:`~rlbench3.harness.training.train_population` (:func:`plan_jobs`; at most
:data:`MAX_POPULATION` seeds, and split further while there are fewer jobs than workers). A job
returns one result per run, and the driver writes each run's record as for any run: a resumed
sweep trains only the seeds still missing. A job whose worker dies is retried as a whole, then
all its runs are recorded as failed; a job that raises records the traceback for each of its runs.
Population runs are grouped only with the default ``train``; a custom ``train`` function gets
each run alone.

A local Ray instance started here binds to 127.0.0.1 only and starts no dashboard; see the README
for running on an existing cluster (``ray_address``).

**Your own algorithm class.** An agent whose ``algo`` is an import path (``my_pkg.algos:MyPPO``,
see :mod:`rlbench3.agents.config`) is imported again in every worker, so its package must be
importable there: pool workers are spawned with the driver's ``sys.path``; Ray workers need it
installed on every node (or shipped with Ray's ``runtime_env``). A worker that cannot import it
records the run as failed, naming the module. Such a class's policy is saved only when
:mod:`rlbench3.agents.policy_files` knows its class; otherwise the record says why
(``meta.policy_file``) and the run has no policy file.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rlbench3.data.yaml_lines import ConfigError
from rlbench3.harness.run_config import RunConfig
from rlbench3.harness.storage import RunStore, StorageError
from rlbench3.harness.suites import MAX_RUNS, AgentRef, Suite, load_suite, plan_runs

BACKENDS = ("process", "ray")
# The most seeds a population job trains together.
MAX_POPULATION = 64
# A run whose worker dies is tried 1 + MAX_RETRIES times before it is recorded as failed.
MAX_RETRIES = 1
# Lines of a dead worker's stderr kept in its run's failure report.
STDERR_LINES = 20

# Rough single-worker env-steps/s with the shipped agent files on a 2-core CPU (PPO and random
# search measured with the quick suite; the others extrapolated from SB3's relative costs). Only
# used by --dry-run when the results folder holds no measured runs of an algorithm yet.
TYPICAL_STEPS_PER_SECOND = {
    "PPO": 6000.0,
    "A2C": 4000.0,
    "TRPO": 4000.0,
    "DQN": 1500.0,
    "SAC": 100.0,
    "TD3": 120.0,
    "ARS": 8000.0,
    "random_search": 8000.0,
    "PPO_population": 6000.0,
    "A2C_population": 6000.0,
}

Result = tuple[str, str, Any]  # (run id, "ok" | "error", (record, policy bytes) | message)
Job = list[RunConfig]  # runs computed together by one worker: one run, or a population chunk


class SweepInterrupted(KeyboardInterrupt):
    """The sweep was stopped by a signal (SIGINT, SIGTERM, SIGHUP); finished records are kept."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class BackendError(RuntimeError):
    """The backend could not start or connect (e.g. no Ray cluster at ``ray_address``)."""


# --------------------------------------------------------------------------------------------
# One run, in a worker


@contextlib.contextmanager
def _sb3_logs_discarded() -> Iterator[None]:
    """SB3 makes an empty ``/tmp/SB3-<time>`` folder for every model without a logger (and
    random search configures one the same way): point ``SB3_LOGDIR`` at a private folder for the
    run, and remove it afterwards."""
    folder = tempfile.mkdtemp(prefix="rlbench3-sb3-")
    previous = os.environ.get("SB3_LOGDIR")
    os.environ["SB3_LOGDIR"] = folder
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SB3_LOGDIR", None)
        else:
            os.environ["SB3_LOGDIR"] = previous
        shutil.rmtree(folder, ignore_errors=True)


def run_safely(config: RunConfig, train: Callable[[RunConfig], Any] | None = None) -> Result:
    """Worker entry point: ``(run_id, "ok", (record, policy bytes))`` or
    ``(run_id, "error", traceback)``. ``train`` computes the run (default
    :func:`~rlbench3.harness.training.train_run`); the policy bytes it returns are written as
    they are (a weights-only file, see :mod:`rlbench3.agents.policy_files`; ``None``: no policy
    file)."""
    if train is None:
        from rlbench3.harness.training import train_run as train
    try:
        with _sb3_logs_discarded():
            record, policy = train(config)
        return config.run_id, "ok", (record, policy)
    except Exception:  # noqa: BLE001 - a failed run is recorded, the sweep goes on
        return config.run_id, "error", traceback.format_exc()


def run_job(job: Job, train: Callable[[RunConfig], Any] | None = None) -> list[Result]:
    """Worker entry point for a job: one :data:`Result` per run, in the job's order. A job of
    several runs is a population chunk (see :func:`plan_jobs`); if training it raises, every run
    of the job gets the traceback."""
    if len(job) == 1:
        return [run_safely(job[0], train)]
    from rlbench3.harness.training import train_population

    try:
        with _sb3_logs_discarded():
            results = train_population(job)
        return [(c.run_id, "ok", payload) for c, payload in zip(job, results, strict=True)]
    except Exception:  # noqa: BLE001 - failed runs are recorded, the sweep goes on
        message = traceback.format_exc()
        return [(config.run_id, "error", message) for config in job]


def _job_name(job: Job) -> str:
    rid = job[0].run_id
    return rid if len(job) == 1 else f"the population of {len(job)} runs {rid}, ..."


def plan_jobs(
    todo: list[RunConfig],
    workers: int = 1,
    train: Callable[[RunConfig], Any] | None = None,
    max_population: int = MAX_POPULATION,
) -> list[Job]:
    """Group pending runs into jobs: population runs (``algo`` in
    :data:`~rlbench3.agents.config.POPULATION_ALGORITHMS`) that differ only in their seed form
    chunks of at most ``max_population`` seeds (near-equal sizes), split further while there are
    fewer jobs than ``workers``; every other run is a job of its own. Only with the default
    ``train`` (a custom one trains runs one at a time)."""
    from rlbench3.agents.config import POPULATION_ALGORITHMS
    from rlbench3.harness.training import population_key

    if max_population < 1:
        raise ValueError(f"max_population must be >= 1, got {max_population}")
    jobs: list[Job] = []
    groups: dict[str, Job] = {}
    for config in todo:
        if train is not None or config.agent.algo not in POPULATION_ALGORITHMS:
            jobs.append([config])
            continue
        key = population_key(config)
        if key not in groups:
            groups[key] = []
            jobs.append(groups[key])
        groups[key].append(config)
    chunked: list[Job] = []
    for job in jobs:
        pieces = -(-len(job) // max_population)
        chunked.extend(_split(job, pieces))
    while len(chunked) < workers:
        largest = max(range(len(chunked)), key=lambda i: len(chunked[i]), default=None)
        if largest is None or len(chunked[largest]) < 2:
            break
        chunked[largest : largest + 1] = _split(chunked[largest], 2)
    return chunked


def _split(job: Job, pieces: int) -> list[Job]:
    """``job`` in ``pieces`` consecutive chunks whose sizes differ by at most one."""
    size, extra = divmod(len(job), pieces)
    out, start = [], 0
    for i in range(pieces):
        end = start + size + (i < extra)
        out.append(job[start:end])
        start = end
    return out


@dataclass
class SweepReport:
    planned: int = 0
    skipped: int = 0
    finished: int = 0
    failed: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)


def pending_runs(
    runs: list[RunConfig], store: RunStore, report: SweepReport, warn: Callable[[str], None]
) -> list[RunConfig]:
    """Runs without a verified record and policy; corrupt records and damaged policies are
    reported and set aside."""
    todo, seen = [], set()
    for item in runs:
        rid = item.run_id
        if rid in seen:
            continue
        seen.add(rid)
        status = store.status(rid)
        if status.state == "finished":
            report.skipped += 1
            continue
        if status.state == "corrupt":
            moved = store.quarantine(rid)
            report.corrupt.append(rid)
            warn(f"corrupt record, re-running: {status.detail} (kept as {moved.name})")
        elif status.state == "damaged":
            moved = store.set_aside_policy(rid)
            report.damaged.append(rid)
            kept = f" (kept as {moved.name})" if moved is not None else ""
            warn(f"damaged run, re-running: {status.detail}{kept}")
        todo.append(item)
    report.planned = len(seen)
    return todo


# --------------------------------------------------------------------------------------------
# The process pool


def _die_with_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid`` (the driver) dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent_pid:  # the driver died before prctl took effect
        os._exit(1)

    def watch() -> None:  # elsewhere (and as a fallback): poll the parent
        while True:
            time.sleep(1.0)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="rlbench3-parent-watch", daemon=True).start()


def _worker_main(conn: Any, parent_pid: int, log_path: str) -> None:
    """A pool worker: run ``(train, config)`` tasks from ``conn`` until ``None`` or EOF."""
    import faulthandler

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver handles Ctrl-C for the group
    _die_with_parent(parent_pid)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)  # stderr (and faulthandler's tracebacks on a crash) to the log
    os.close(fd)
    faulthandler.enable()
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        train, job = task
        conn.send(run_job(job, train))


class _Worker:
    """One spawned worker process and the driver's end of its pipe."""

    def __init__(self, context: Any, log_dir: Path, index: int):
        self.log = log_dir / f"worker-{index}.log"
        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(
            target=_worker_main,
            args=(child, os.getpid(), str(self.log)),
            name=f"rlbench3-worker-{index}",
            daemon=True,
        )
        self.process.start()
        child.close()
        self.task: Job | None = None

    def death(self) -> tuple[str, str]:
        """Why the worker ended (``"was killed by signal 9 (SIGKILL)"``), and the last lines it
        wrote to stderr."""
        self.process.join(timeout=5)
        code = self.process.exitcode
        if code is None:
            cause = "closed its pipe"
        elif code < 0:
            cause = f"was killed by signal {-code} ({signal.Signals(-code).name})"
            if -code == signal.SIGKILL:
                cause += ", as the kernel's out-of-memory killer does"
        else:
            cause = f"exited with status {code}"
        try:
            lines = self.log.read_text(errors="replace").splitlines()[-STDERR_LINES:]
        except OSError:
            lines = []
        return cause, "\n".join(lines).strip()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()


def _stop_workers(pool: list[_Worker]) -> None:
    """End every worker: idle ones are asked to exit, busy ones are terminated (SIGTERM), and
    whatever is left after a grace period is killed."""
    for worker in pool:
        if worker.task is None and worker.process.is_alive():
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        else:
            with contextlib.suppress(OSError, ValueError):
                worker.process.terminate()
    deadline = time.monotonic() + 3.0
    for worker in pool:
        worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
    for worker in pool:
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(timeout=2.0)
        worker.close()


def _process_backend(
    todo: list[Job],
    workers: int,
    train: Callable[[RunConfig], Any] | None,
    max_retries: int,
    warn: Callable[[str], None],
) -> Iterator[Result]:
    if workers == 1:  # in-process: no pool start-up, easy to debug and profile
        for job in todo:
            yield from run_job(job, train)
        return
    # spawn, not fork: each worker starts clean (no inherited torch thread pools or RNG state),
    # as a Ray worker does, so both backends compute the same records.
    context = multiprocessing.get_context("spawn")
    log_dir = Path(tempfile.mkdtemp(prefix="rlbench3-workers-"))
    queue: deque[Job] = deque(todo)
    attempts: dict[str, int] = {}
    pool: list[_Worker] = []
    started = 0
    try:
        while queue or any(w.task is not None for w in pool):
            for worker in list(pool):  # idle workers take the next queued runs
                if worker.task is None and queue:
                    _assign(worker, queue, pool, train)
            while queue and len(pool) < min(workers, len(queue) + _busy(pool)):
                worker = _Worker(context, log_dir, started)
                started += 1
                pool.append(worker)
                _assign(worker, queue, pool, train)
            busy = {w.conn: w for w in pool if w.task is not None}
            busy.update({w.process.sentinel: w for w in pool if w.task is not None})
            handled: set[int] = set()
            for ready in multiprocessing.connection.wait(list(busy)):
                worker = busy[ready]
                if id(worker) in handled or worker.task is None:
                    continue
                handled.add(id(worker))
                results = _receive(worker)
                if results is not None:
                    worker.task = None
                    yield from results
                    continue
                job, worker.task = worker.task, None
                pool.remove(worker)
                cause, stderr = worker.death()
                worker.close()
                rid = job[0].run_id
                attempts[rid] = attempts.get(rid, 0) + 1
                summary = (
                    f"the worker running {_job_name(job)} {cause} "
                    f"(attempt {attempts[rid]} of {max_retries + 1})"
                )
                if attempts[rid] <= max_retries:
                    warn(f"{summary}; retrying on a fresh worker")
                    queue.appendleft(job)
                else:
                    # Laid out like a traceback: what led to it, then one summary line last.
                    tail = stderr or "(nothing)"
                    message = f"The worker's last stderr lines:\n{tail}\nWorkerDied: {summary}"
                    for config in job:
                        yield (config.run_id, "error", message)
    finally:
        _stop_workers(pool)
        shutil.rmtree(log_dir, ignore_errors=True)


def _busy(pool: list[_Worker]) -> int:
    return sum(w.task is not None for w in pool)


def _assign(worker: _Worker, queue: deque[Job], pool: list[_Worker], train: Any) -> None:
    job = queue.popleft()
    try:
        worker.conn.send((train, job))
    except (OSError, ValueError):  # the idle worker is gone: put the job back, drop the worker
        queue.appendleft(job)
        pool.remove(worker)
        worker.process.join(timeout=1)
        worker.close()
        return
    worker.task = job


def _receive(worker: _Worker) -> list[Result] | None:
    """The worker's results, or ``None`` if it died instead."""
    try:
        if worker.conn.poll():
            return worker.conn.recv()
    except Exception:  # noqa: BLE001 - EOF or a message cut off by the worker's death
        return None
    return None


# --------------------------------------------------------------------------------------------
# Ray


# The reaper of a local Ray instance: a small process in its own session. While the driver lives
# it notes, twice a second, every descendant of the driver started after itself (GCS, raylet,
# dashboard and runtime-env agents, workers); when the driver closes its stdin or dies, it
# terminates those still running (SIGTERM, then SIGKILL after 3 s). Ray's agents otherwise outlive
# a killed driver by minutes. Linux only (it reads /proc); elsewhere it only waits.
_RAY_REAPER = """
import os, select, signal, sys, time
driver, me = int(sys.argv[1]), os.getpid()
def table():
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name, "rb") as fh:
                    data = fh.read()
                fields = data[data.rindex(b")") + 2:].split()
                procs[int(name)] = (int(fields[1]), int(fields[19]))
            except (OSError, ValueError, IndexError):
                pass
    return procs
linux = os.path.isdir("/proc/self")
born = table().get(me, (0, 0))[1] if linux else 0
known = {}
def record():
    procs = table()
    children = {}
    for pid, (ppid, start) in procs.items():
        children.setdefault(ppid, []).append(pid)
    stack = [driver] + [p for p in known if procs.get(p, (0, -1))[1] == known[p]]
    while stack:
        for child in children.get(stack.pop(), []):
            start = procs[child][1]
            if child != me and start >= born and known.get(child) != start:
                known[child] = start
                stack.append(child)
    return procs
while True:
    if linux:
        record()
    ready = select.select([0], [], [], 0.5)[0]
    if ready and not os.read(0, 4096):
        break
if linux:
    for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 0.0)):
        procs = record()
        alive = [p for p, start in known.items() if procs.get(p, (0, -1))[1] == start]
        for pid in alive:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + grace
        while alive and time.monotonic() < deadline:
            time.sleep(0.1)
            procs = table()
            alive = [p for p in alive if procs.get(p, (0, -1))[1] == known[p]]
"""


@contextlib.contextmanager
def _local_ray(workers: int) -> Iterator[None]:
    """Start a local Ray for this sweep, on 127.0.0.1 only and without a dashboard, and end it
    afterwards, or when the driver dies (see ``_RAY_REAPER``).

    Ray resolves a node address of 127.0.0.1 to the machine's outside address (and its GCS and
    raylets then listen on every interface) unless multi-node support is off, which is what
    ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` does: every process of this single-node instance then
    binds to the loopback interface. The variable is set for the processes Ray starts and
    restored afterwards.
    """
    import subprocess

    import ray

    constants = None
    with contextlib.suppress(ImportError):
        from ray._private import ray_constants as constants  # type: ignore[no-redef]
    saved = os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")
    previous_flag = getattr(constants, "ENABLE_RAY_CLUSTER", None)
    reaper = subprocess.Popen(
        [sys.executable, "-c", _RAY_REAPER, str(os.getpid())],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # survives a Ctrl-C or killpg of the driver's group
    )
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    if constants is not None and previous_flag is not None:
        constants.ENABLE_RAY_CLUSTER = False
    try:
        ray.init(
            num_cpus=workers,
            log_to_driver=False,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
        )
        yield
    finally:
        with contextlib.suppress(Exception):
            ray.shutdown()
        if saved is None:
            os.environ.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)
        else:
            os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = saved
        if constants is not None and previous_flag is not None:
            constants.ENABLE_RAY_CLUSTER = previous_flag
        with contextlib.suppress(OSError):
            reaper.stdin.close()  # the reaper ends whatever Ray left behind, then exits
        try:
            reaper.wait(timeout=10)
        except subprocess.TimeoutExpired:
            reaper.kill()


def _probe(address: str) -> None:
    """Fail fast when nothing listens at ``HOST:PORT`` (``ray.init`` would retry for minutes)."""
    import socket

    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "://" in address:
        return  # "auto", "ray://...": Ray resolves and reports them itself
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as err:
        raise BackendError(
            f"cannot connect to the Ray cluster at {address}: {err.strerror or err} (is a head "
            f"node running there? `ray start --head --port {port}` starts one)"
        ) from None


@contextlib.contextmanager
def _ray_session(workers: int, address: str | None) -> Iterator[None]:
    import ray

    if ray.is_initialized():  # the caller's own Ray session: use it, leave it running
        yield
        return
    if address is None:
        with _local_ray(workers):
            yield
        return
    _probe(address)
    try:
        ray.init(address=address, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as err:
        message = " ".join(str(err).split())
        raise BackendError(f"cannot connect to the Ray cluster at {address}: {message}") from None
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            ray.shutdown()  # disconnects this driver; the cluster keeps running


def _ray_backend(
    todo: list[Job],
    workers: int,
    address: str | None,
    train: Callable[[RunConfig], Any] | None,
    max_retries: int,
) -> Iterator[Result]:
    try:
        import ray
        from ray.exceptions import RayError
    except ImportError:
        raise BackendError("the ray backend needs Ray: pip install 'rlbench3[ray]'") from None
    with _ray_session(workers, address):
        _reclaim_stop_signals()
        remote = ray.remote(num_cpus=1, max_retries=max_retries)(run_job)
        refs = {remote.remote(job, train): job for job in todo}
        try:
            pending = list(refs)
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    job = refs.pop(ref)
                    try:
                        results = ray.get(ref)
                    except RayError as err:
                        lines = [line for line in str(err).splitlines() if line.strip()]
                        detail = "\n".join(lines[:STDERR_LINES])
                        what = f"run {job[0].run_id}" if len(job) == 1 else _job_name(job)
                        message = (
                            f"{detail}\n{type(err).__name__}: the Ray task of {what} "
                            f"failed after {max_retries + 1} attempt(s) ({_first(lines)})"
                        )
                        results = [(config.run_id, "error", message) for config in job]
                    yield from results
        finally:
            for ref in refs:  # stop what is queued or running (an external cluster keeps going)
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)


# --------------------------------------------------------------------------------------------
# The sweep


_STOP_SIGNALS = ("SIGTERM", "SIGHUP")
_active_handler: list[Any] = []  # the handler of the sweep in progress (main thread only)
_received: list[int] = []  # the stop signal received during the sweep in progress


def _on_stop_signal(signum: int, frame: Any) -> None:
    _received.append(signum)
    raise SweepInterrupted(signum)


def _install_stop_handlers() -> dict[int, Any]:
    previous = {}
    for name in _STOP_SIGNALS:
        if hasattr(signal, name):
            number = getattr(signal, name)
            previous[number] = signal.signal(number, _on_stop_signal)
    return previous


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`SweepInterrupted` (as Ctrl-C raises KeyboardInterrupt),
    so the sweep's cleanup runs; only in the main thread (where Python runs handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = _install_stop_handlers()
    _active_handler.append(_on_stop_signal)
    _received.clear()
    try:
        yield
    except KeyboardInterrupt as err:
        # Ray's waits turn an exception raised by a signal handler into KeyboardInterrupt
        if _received and not isinstance(err, SweepInterrupted):
            raise SweepInterrupted(_received[0]) from err
        raise
    finally:
        _active_handler.pop()
        for number, old in previous.items():
            signal.signal(number, old if old is not None else signal.SIG_DFL)


def _reclaim_stop_signals() -> None:
    """``ray.init`` installs Ray's own SIGTERM handler (it logs and dies): put the sweep's back."""
    if _active_handler and threading.current_thread() is threading.main_thread():
        _install_stop_handlers()


def check_execution(
    workers: Any, backend: Any, ray_address: Any = None, max_retries: Any = MAX_RETRIES
) -> None:
    """Raise ``ValueError`` for arguments :func:`execute` cannot use (before anything runs)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
        raise ValueError(f"max_retries must be an integer >= 0, got {max_retries!r}")
    if ray_address is not None:
        if backend != "ray":
            raise ValueError(
                f"a Ray address ({ray_address!r}) is only used by the ray backend, "
                f"not by {backend!r}"
            )
        if not isinstance(ray_address, str) or not ray_address.strip():
            raise ValueError(f"the Ray address must be HOST:PORT or 'auto', got {ray_address!r}")


def _warn(message: str) -> None:
    tqdm.write(f"rlbench3: {message}", file=sys.stderr)


def execute(
    runs: list[RunConfig],
    out: str | Path,
    *,
    workers: int = 1,
    backend: str = "process",
    ray_address: str | None = None,
    progress: bool = True,
    max_retries: int = MAX_RETRIES,
    train: Callable[[RunConfig], Any] | None = None,
    warn: Callable[[str], None] | None = None,
) -> SweepReport:
    """Run every planned run that has no verified record in ``out``; write each as it finishes.

    It holds the folder's lock (:meth:`RunStore.lock`) throughout, removes temporary files that
    killed writers left, and redoes corrupt or damaged runs. ``max_retries`` bounds the re-runs
    of a run whose worker died; ``train`` replaces :func:`~rlbench3.harness.training.train_run`
    (a module-level function, importable in the workers). Raises :class:`StorageError` when a
    record cannot be written and :class:`SweepInterrupted` on SIGTERM/SIGHUP (KeyboardInterrupt
    on Ctrl-C), after stopping the workers; finished records are always kept.
    """
    check_execution(workers, backend, ray_address, max_retries)
    _check_trainable(runs, train)
    warn = warn or _warn
    store = RunStore(out)
    report = SweepReport()
    with store.lock(), _stop_on_signals():
        try:
            store.remove_temp_files()
            store.ensure()
        except OSError as err:
            raise StorageError(f"cannot write to the results folder {out}: {err}") from None
        todo = pending_runs(runs, store, report, warn)
        configs = {config.run_id: config for config in todo}
        jobs = plan_jobs(todo, workers, train)
        if backend == "process":
            results = _process_backend(jobs, workers, train, max_retries, warn)
        else:
            results = _ray_backend(jobs, workers, ray_address, train, max_retries)
        bar = tqdm(
            total=len(todo),
            desc="runs",
            unit="run",
            disable=not progress or not todo,
            dynamic_ncols=True,
        )
        # closing(): on any exception (a storage error, Ctrl-C) the backend stops its workers
        # now, not whenever the generator is garbage-collected.
        with bar, contextlib.closing(results):
            for rid, state, payload in results:
                try:
                    if state == "ok":
                        record, policy = payload
                        # the policy before the record: a record implies its policy (a run
                        # whose policy class has no weights-only format has none: None)
                        if policy is not None:
                            store.write_policy(rid, policy)
                        store.write(configs[rid], record)
                        report.finished += 1
                    else:
                        store.write_failure(configs[rid], payload)
                        report.failed.append(rid)
                        warn(f"run {rid} failed: {_last_line(payload)}")
                except OSError as err:
                    raise StorageError(
                        f"cannot write to the results folder {out}: {err}; the sweep stopped, "
                        f"{report.finished} run(s) finished now are kept"
                    ) from None
                bar.update(1)
    return report


def _check_trainable(runs: list[RunConfig], train: Callable[[RunConfig], Any] | None) -> None:
    """External agents' runs are trained by their caller's loop, not by a sweep."""
    from rlbench3.agents.config import EXTERNAL

    if train is not None:
        return
    for config in runs:
        if config.agent.algo == EXTERNAL:
            raise ConfigError(
                f"run {config.run_id}: agent {config.agent.name!r} is external (algo: external): "
                "your own loop trains its runs through rlbench3.harness.external.suite_runs; a "
                "sweep cannot"
            )


def _first(lines: list[str]) -> str:
    return lines[0].strip()[:200] if lines else "no message"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


def estimate_seconds(
    runs: list[RunConfig], workers: int, measured: dict[str, float] | None = None
) -> float:
    """A rough wall-clock estimate of ``runs`` on ``workers`` workers (for --dry-run).

    ``measured`` maps an algorithm to env-steps/s observed in earlier runs (e.g. the median
    ``steps_per_second`` of a results folder); :data:`TYPICAL_STEPS_PER_SECOND` fills the gaps.
    """
    rates = {**TYPICAL_STEPS_PER_SECOND, **(measured or {})}
    total = 0.0
    for config in runs:
        total += config.budget / rates.get(config.agent.algo, 1000.0)
    return total / max(1, workers)


@dataclass(frozen=True)
class SuiteRun:
    """What :func:`run_suite` did: the suite, its planned runs, where and how it went."""

    suite: Suite
    runs: list[RunConfig]
    out: Path
    report: SweepReport


def plan_suite(
    suite: str | Path,
    *,
    agents: list[AgentRef] | None = None,
    seeds: int | None = None,
    budget: int | None = None,
    max_runs: int | None = MAX_RUNS,
    experiments: list[str] | None = None,
    external: bool = False,
) -> tuple[Suite, list[RunConfig]]:
    """Load a suite (a shipped name or a path) and plan its runs, with optional overrides (see
    :func:`~rlbench3.harness.suites.plan_runs` for ``agents``, ``experiments`` and
    ``external``).

    A plan of more than ``max_runs`` runs is refused before any run is expanded
    (:class:`~rlbench3.harness.suites.PlanTooLarge`); ``max_runs=None`` lifts the limit (the
    CLI's ``--yes``)."""
    for name, value in (("seeds", seeds), ("budget", budget)):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    loaded = load_suite(suite)
    runs = plan_runs(
        loaded,
        agents=agents,
        seeds=seeds,
        budget=budget,
        max_runs=max_runs,
        experiments=experiments,
        external=external,
    )
    return loaded, runs


def default_out(suite: Suite) -> Path:
    """Where a suite's results go unless told otherwise: ``results/<suite name>``."""
    return Path("results") / suite.name


def run_suite(
    suite: str | Path,
    out: str | Path | None = None,
    *,
    agents: list[AgentRef] | None = None,
    seeds: int | None = None,
    budget: int | None = None,
    experiments: list[str] | None = None,
    workers: int = 1,
    backend: str = "process",
    ray_address: str | None = None,
    progress: bool = True,
    max_runs: int | None = MAX_RUNS,
    max_retries: int = MAX_RETRIES,
    train: Callable[[RunConfig], Any] | None = None,
    warn: Callable[[str], None] | None = None,
) -> SuiteRun:
    """Run a suite into a results folder (default ``results/<suite>``), resuming what is there:
    plan it, then, holding the folder's lock, remember the plan in the folder (rebuilding a
    damaged ``plan.json``) and :func:`execute` the runs not yet finished. ``experiments`` keeps
    only the experiments of those names.

    Every argument is checked, and the whole suite validated and planned, before the folder is
    touched."""
    check_execution(workers, backend, ray_address, max_retries)
    loaded, runs = plan_suite(
        suite,
        agents=agents,
        seeds=seeds,
        budget=budget,
        max_runs=max_runs,
        experiments=experiments,
    )
    folder = Path(out) if out is not None else default_out(loaded)
    if backend == "ray" and ray_address is not None:
        _probe(ray_address)  # before the folder is touched
    if folder.exists() and not folder.is_dir():
        raise StorageError(f"the results folder {folder} is a file, not a folder")
    store = RunStore(folder)
    warn = warn or _warn
    with store.lock():
        store.check_format()
        try:
            store.write_plan(runs, warn=warn)
        except OSError as err:
            raise StorageError(f"cannot write to the results folder {folder}: {err}") from None
        report = execute(
            runs,
            folder,
            workers=workers,
            backend=backend,
            ray_address=ray_address,
            progress=progress,
            max_retries=max_retries,
            train=train,
            warn=warn,
        )
    return SuiteRun(loaded, runs, folder, report)
