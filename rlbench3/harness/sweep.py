"""Executing planned runs: skip what is finished, run the rest on a process pool or on Ray.

Workers only compute: each returns its record to the driver, which writes it atomically as soon
as it arrives. So a finished run is on disk exactly once, a killed sweep loses at most the runs
in flight, and Ray workers on other machines need no shared filesystem.
"""

from __future__ import annotations

import multiprocessing
import sys
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rlbench3.data.yaml_lines import ConfigError
from rlbench3.harness.run_config import RunConfig
from rlbench3.harness.storage import RunStore
from rlbench3.harness.suites import Suite, load_suite, plan_runs

BACKENDS = ("process", "ray")

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
}


def run_safely(config: RunConfig) -> tuple[str, str, Any]:
    """Worker entry point: ``(run_id, "ok", (record, policy bytes))`` or
    ``(run_id, "error", traceback)``."""
    from rlbench3.harness.training import train_run

    try:
        return config.run_id, "ok", train_run(config)
    except Exception:  # noqa: BLE001 - a failed run is recorded, the sweep goes on
        return config.run_id, "error", traceback.format_exc()


@dataclass
class SweepReport:
    planned: int = 0
    skipped: int = 0
    finished: int = 0
    failed: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)


def pending_runs(
    runs: list[RunConfig], store: RunStore, report: SweepReport, warn: Callable[[str], None]
) -> list[RunConfig]:
    """Runs without a verified record; corrupt records are reported and set aside."""
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
        todo.append(item)
    report.planned = len(seen)
    return todo


def _process_backend(todo: list[RunConfig], workers: int) -> Iterator[tuple[str, str, Any]]:
    if workers == 1:  # in-process: no pool start-up, easy to debug and profile
        for item in todo:
            yield run_safely(item)
        return
    # spawn, not fork: each worker starts clean (no inherited torch thread pools or RNG state),
    # as a Ray worker does, so both backends compute the same records.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(run_safely, item) for item in todo}
        while futures:
            done, futures = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()


def _ray_backend(
    todo: list[RunConfig], workers: int, address: str | None
) -> Iterator[tuple[str, str, Any]]:
    try:
        import ray
    except ImportError:
        raise RuntimeError("the ray backend needs Ray: pip install 'rlbench3[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, log_to_driver=False, include_dashboard=False)
    remote = ray.remote(num_cpus=1)(run_safely)
    try:
        pending = [remote.remote(item) for item in todo]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield ray.get(ref)
    finally:
        if started_here:
            ray.shutdown()


def execute(
    runs: list[RunConfig],
    out: str,
    *,
    workers: int = 1,
    backend: str = "process",
    ray_address: str | None = None,
    progress: bool = True,
) -> SweepReport:
    """Run every planned run that has no verified record in ``out``; write each as it finishes."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    store = RunStore(out)
    store.ensure()
    report = SweepReport()

    def warn(message: str) -> None:
        tqdm.write(f"rlbench3: {message}", file=sys.stderr)

    todo = pending_runs(runs, store, report, warn)
    configs = {config.run_id: config for config in todo}
    results = (
        _process_backend(todo, workers)
        if backend == "process"
        else _ray_backend(todo, workers, ray_address)
    )
    bar = tqdm(
        total=len(todo),
        desc="runs",
        unit="run",
        disable=not progress or not todo,
        dynamic_ncols=True,
    )
    with bar:
        for rid, state, payload in results:
            if state == "ok":
                record, policy = payload
                store.write_policy(rid, policy)  # before the record: a record implies its policy
                store.write(configs[rid], record)
                report.finished += 1
            else:
                store.write_failure(configs[rid], payload)
                report.failed.append(rid)
                warn(f"run {rid} failed: {payload.strip().splitlines()[-1]}")
            bar.update(1)
    return report


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
    agents: list[str] | None = None,
    seeds: int | None = None,
    budget: int | None = None,
) -> tuple[Suite, list[RunConfig]]:
    """Load a suite (a shipped name or a path) and plan its runs, with optional overrides."""
    for name, value in (("seeds", seeds), ("budget", budget)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    loaded = load_suite(suite)
    return loaded, plan_runs(loaded, agents=agents, seeds=seeds, budget=budget)


def default_out(suite: Suite) -> Path:
    """Where a suite's results go unless told otherwise: ``results/<suite name>``."""
    return Path("results") / suite.name


def run_suite(
    suite: str | Path,
    out: str | Path | None = None,
    *,
    agents: list[str] | None = None,
    seeds: int | None = None,
    budget: int | None = None,
    workers: int = 1,
    backend: str = "process",
    ray_address: str | None = None,
    progress: bool = True,
) -> SuiteRun:
    """Run a suite into a results folder (default ``results/<suite>``), resuming what is there:
    plan it, remember the plan in the folder, then :func:`execute` the runs not yet finished."""
    loaded, runs = plan_suite(suite, agents=agents, seeds=seeds, budget=budget)
    folder = Path(out) if out is not None else default_out(loaded)
    store = RunStore(folder)
    store.check_format()
    store.write_plan(runs)
    report = execute(
        runs,
        str(folder),
        workers=workers,
        backend=backend,
        ray_address=ray_address,
        progress=progress,
    )
    return SuiteRun(loaded, runs, folder, report)
