"""Loading a results folder as tables.

``load(DIR)`` gives one row per run × evaluation point × split (the learning curves);
``load_episodes(DIR)`` one row per run × split × final evaluation episode. Only verified records
are read: a corrupt file is reported (``on_corrupt="warn"``, the default) or raises, and is never
part of the data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from rlbench3.harness.storage import CorruptRecord, RunStore, atomic_write_text, read_record

PLAN_FILE = "plan.json"
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


def _records(out: str | Path, on_corrupt: str) -> list[dict[str, Any]]:
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


def _run_columns(data: dict[str, Any]) -> dict[str, Any]:
    config, record = data["config"], data["record"]
    setting = config["env"]["setting"]
    return {
        "run_id": data["run_id"],
        "suite": config["suite"],
        "experiment": config["experiment"],
        "env_id": config["env"]["id"],
        "family": config["env"]["family"],
        "setting": ", ".join(f"{k}={v}" for k, v in setting.items()) or "default",
        **{f"param_{k}": v for k, v in setting.items()},
        "agent": config["agent"]["name"],
        "algo": config["agent"]["algo"],
        "seed": config["seed"],
        "budget": config["budget"],
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
    rows = []
    for data in _records(out, on_corrupt):
        base = _run_columns(data)
        curve = data["record"]["curve"]
        last_step = max(point["step"] for point in curve)
        for point in curve:
            rows.append({**base, **point, "is_final": point["step"] == last_step})
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=RUN_COLUMNS + CURVE_COLUMNS)


def load_episodes(out: str | Path, *, on_corrupt: str = "warn") -> pd.DataFrame:
    """Final evaluation episodes: a row per run × split × episode (``return``, ``success``)."""
    rows = []
    for data in _records(out, on_corrupt):
        base = _run_columns(data)
        for split, episodes in data["record"]["final"].items():
            for i, (ret, ok) in enumerate(zip(episodes["returns"], episodes["successes"])):
                rows.append(
                    {**base, "split": split, "episode": i, "return": ret, "success": bool(ok)}
                )
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=RUN_COLUMNS + EPISODE_COLUMNS)


def write_plan(out: str | Path, runs: list[dict[str, Any]]) -> None:
    """Remember which runs a results folder is meant to hold (merged across invocations)."""
    path = Path(out) / PLAN_FILE
    plan = read_plan(out)
    for item in runs:
        c = item["config"]
        plan[item["run_id"]] = {
            "experiment": c["experiment"],
            "setting": ", ".join(f"{k}={v}" for k, v in c["env"]["setting"].items()) or "default",
            "agent": c["agent"]["name"],
            "seed": c["seed"],
        }
    Path(out).mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(plan, indent=1, sort_keys=True) + "\n")


def read_plan(out: str | Path) -> dict[str, dict[str, Any]]:
    path = Path(out) / PLAN_FILE
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise CorruptRecord(f"{path}: not valid JSON ({err})") from None


def status_table(out: str | Path) -> pd.DataFrame:
    """Per experiment × setting × agent: how many runs are finished, failed, corrupt, missing."""
    store = RunStore(out)
    plan = read_plan(out)
    ids = set(plan) | set(store.finished_ids()) | set(store.failed_ids())
    rows = []
    for rid in sorted(ids):
        label = plan.get(rid)
        if label is None:  # a record outside the plan: label it from its own config
            try:
                c = store.read(rid)["config"]
                label = {
                    "experiment": c["experiment"],
                    "agent": c["agent"]["name"],
                    "setting": ", ".join(f"{k}={v}" for k, v in c["env"]["setting"].items())
                    or "default",
                }
            except CorruptRecord:
                label = {"experiment": "?", "setting": "?", "agent": "?"}
        rows.append(
            {
                **{k: label[k] for k in ("experiment", "setting", "agent")},
                "state": store.status(rid).state,
            }
        )
    if not rows:
        return pd.DataFrame(
            columns=["experiment", "setting", "agent", "finished", "failed", "corrupt", "missing"]
        )
    frame = pd.DataFrame(rows)
    table = (
        frame.groupby(["experiment", "setting", "agent", "state"])
        .size()
        .unstack("state", fill_value=0)
    )
    for state in ("finished", "failed", "corrupt", "missing"):
        if state not in table:
            table[state] = 0
    return table[["finished", "failed", "corrupt", "missing"]].reset_index()


def iqm_summary(
    curves: pd.DataFrame, *, metric: str = "success_rate", reps: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Per experiment × setting × agent × split: IQM of the final ``metric`` across seeds, with
    a 95% stratified-bootstrap CI (rliable), from the rows of :func:`load`. Reproducible for a
    given ``seed`` (see :func:`rlbench3.analysis.metrics.aggregate_estimates` on rliable's RNG)."""
    from rlbench3.analysis.metrics import aggregate_estimates

    final = curves[curves["is_final"]]
    rows = []
    keys = ["experiment", "setting", "agent", "split"]
    for key, group in final.groupby(keys, sort=True):
        scores = group.sort_values("seed")[metric].to_numpy(dtype=float)[:, None]
        iqm = aggregate_estimates({"agent": scores}, seed, metrics=("iqm",), reps=reps)
        estimate = iqm["agent"]["iqm"]
        rows.append(
            {
                **dict(zip(keys, key)),
                "seeds": len(scores),
                "iqm": float(estimate.point),
                "ci_low": float(estimate.low),
                "ci_high": float(estimate.high),
            }
        )
    return pd.DataFrame(rows)


def load_policy(out: str | Path, run_id: str) -> Any:
    """The final policy of a finished run (an SB3 policy with ``.predict``), on the CPU.

    The file is verified against the sha256 in the run's record before it is unpickled.
    """
    import importlib
    import io

    store = RunStore(out)
    data = store.read_policy(run_id)
    module, _, name = store.read(run_id)["record"]["meta"]["policy_class"].partition(":")
    policy_class = getattr(importlib.import_module(module), name)
    return policy_class.load(io.BytesIO(data), device="cpu")
