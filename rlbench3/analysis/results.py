"""Loading a results folder as tables.

``load(DIR)`` gives one row per run × evaluation point × split (the learning curves);
``load_episodes(DIR)`` one row per run × split × final evaluation episode. Only verified records
are read: a corrupt file is reported (``on_corrupt="warn"``, the default) or raises, and is never
part of the data.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from rlbench3.harness.storage import (
    STATES,
    CorruptRecord,
    RunStore,
    StoredRun,
    UnknownFormat,
    plan_entry,
    read_record,
)

# Columns of an empty table (no verified records yet), so callers can still select and filter.
RUN_COLUMNS = [
    "run_id",
    "suite",
    "experiment",
    "env_id",
    "family",
    "setting",
    "agent",
    "algo",
    "seed",
    "budget",
    "zero_signal_fraction",
    "steps_per_second",
]
CURVE_COLUMNS = ["step", "split", "mean_return", "success_rate", "wall_time", "is_final"]
EPISODE_COLUMNS = ["split", "episode", "return", "success"]


def stored_runs(out: str | Path, *, on_corrupt: str = "warn") -> list[StoredRun]:
    """Every verified record of a results folder, by run id. A corrupt record is reported
    (``on_corrupt="warn"``) or raises (``"raise"``); a record in a format this version does not
    read always raises :class:`~rlbench3.harness.storage.UnknownFormat`."""
    if on_corrupt not in ("warn", "raise"):
        raise ValueError(f"on_corrupt must be 'warn' or 'raise', got {on_corrupt!r}")
    store = RunStore(out)
    if not store.runs.is_dir():
        raise FileNotFoundError(f"no results in {out} (no runs/ folder)")
    records = []
    for rid in store.finished_ids():
        try:
            records.append(read_record(store.path(rid), rid))
        except CorruptRecord as err:
            if on_corrupt == "raise":
                raise
            print(f"rlbench3: skipping {err}", file=sys.stderr)
    return records


def _run_columns(run: StoredRun) -> dict[str, Any]:
    config, record = run.config, run.record
    return {
        "run_id": run.run_id,
        "suite": config.suite,
        "experiment": config.experiment,
        "env_id": config.env_id,
        "family": config.family,
        "setting": config.label,
        **{f"param_{k}": v for k, v in config.setting.items()},
        "agent": config.agent.name,
        "algo": config.agent.algo,
        "seed": config.seed,
        "budget": config.budget,
        "zero_signal_fraction": record["zero_signal"]["fraction"],
        "steps_per_second": record["meta"]["steps_per_second"],
    }


def load(out: str | Path, *, on_corrupt: str = "warn") -> pd.DataFrame:
    """Learning curves: a row per run × evaluation point × split.

    Columns: run identity (``run_id``, ``suite``, ``experiment``, ``env_id``, ``family``,
    ``setting`` and one ``param_<name>`` per grid parameter, ``agent``, ``algo``, ``seed``,
    ``budget``), ``step``, ``split``, ``mean_return``, ``success_rate``, ``wall_time``,
    ``is_final`` (the run's last evaluation), ``zero_signal_fraction``, ``steps_per_second``.
    """
    return curves_frame(stored_runs(out, on_corrupt=on_corrupt))


def curves_frame(runs: Iterable[StoredRun]) -> pd.DataFrame:
    """:func:`load`'s frame from records already read."""
    rows = []
    for run in runs:
        base = _run_columns(run)
        curve = run.record["curve"]
        last_step = max(point["step"] for point in curve)
        for point in curve:
            rows.append({**base, **point, "is_final": point["step"] == last_step})
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=RUN_COLUMNS + CURVE_COLUMNS)


def load_episodes(out: str | Path, *, on_corrupt: str = "warn") -> pd.DataFrame:
    """Final evaluation episodes: a row per run × split × episode (``return``, ``success``)."""
    return episodes_frame(stored_runs(out, on_corrupt=on_corrupt))


def episodes_frame(runs: Iterable[StoredRun]) -> pd.DataFrame:
    """:func:`load_episodes`'s frame from records already read."""
    rows = []
    for run in runs:
        base = _run_columns(run)
        for split, episodes in run.record["final"].items():
            for i, (ret, ok) in enumerate(zip(episodes["returns"], episodes["successes"])):
                rows.append(
                    {**base, "split": split, "episode": i, "return": ret, "success": bool(ok)}
                )
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=RUN_COLUMNS + EPISODE_COLUMNS)


def status_table(out: str | Path) -> pd.DataFrame:
    """Per experiment × setting × agent: how many runs are finished, failed, corrupt, damaged
    (a record whose policy file is missing or altered) and missing. A damaged ``plan.json`` is
    reported on stderr and replaced, for this table, by one rebuilt from the records."""
    store = RunStore(out)
    plan = store.plan_or_rebuilt(lambda message: print(f"rlbench3: {message}", file=sys.stderr))
    ids = set(plan) | set(store.finished_ids()) | set(store.failed_ids())
    rows = []
    for rid in sorted(ids):
        label = plan.get(rid)
        if label is None:  # a record outside the plan: label it from its own config
            try:
                label = plan_entry(store.read(rid).config)
            except (CorruptRecord, UnknownFormat):
                label = {"experiment": "?", "setting": "?", "agent": "?"}
        rows.append(
            {
                **{k: label[k] for k in ("experiment", "setting", "agent")},
                "state": store.status(rid).state,
            }
        )
    if not rows:
        return pd.DataFrame(columns=["experiment", "setting", "agent", *STATES])
    frame = pd.DataFrame(rows)
    table = (
        frame.groupby(["experiment", "setting", "agent", "state"])
        .size()
        .unstack("state", fill_value=0)
    )
    for state in STATES:
        if state not in table:
            table[state] = 0
    return table[list(STATES)].reset_index()


def load_policy(out: str | Path, run_id: str) -> Any:
    """The final policy of a finished run (an SB3 policy with ``.predict``), on the CPU.

    The file is checked against the sha256 in the run's record, then read as a weights-only
    policy file (:mod:`rlbench3.agents.policy_files`: JSON and ``.npy`` arrays, no pickle), of
    the class the record names. Anything else is refused: :class:`CorruptRecord` for a file that
    does not match its record, :class:`~rlbench3.agents.policy_files.PolicyFileError` for one
    that is not a weights-only policy file (such as SB3's pickle format of older rlbench3
    versions, which could run code when loaded).
    """
    from rlbench3.agents.policy_files import PolicyFileError, load_policy_bytes

    store = RunStore(out)
    data = store.read_policy(run_id)
    expected = store.read(run_id).record["meta"].get("policy_class")
    try:
        return load_policy_bytes(data, expected_class=expected)
    except PolicyFileError as err:
        raise PolicyFileError(f"{store.policy_path(run_id)}: {err}") from None
