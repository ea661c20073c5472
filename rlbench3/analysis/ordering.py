"""The one order of rows in every table and figure.

Experiments by name; an experiment's settings by their grid values (numbers by value, so
``horizon=10`` comes after ``horizon=9``, then anything else as text); then whatever columns
the caller adds (agent, split, seed, ...). Tables, figures, the robustness table and the summary
``rlbench3 run`` prints all sort with these functions, so they list rows alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

SettingOrder = Mapping[tuple[str, str], tuple]


def grid_columns(frame: pd.DataFrame) -> list[str]:
    """The grid parameters of the runs in ``frame``: ``param_*`` columns set for all of them."""
    return [c for c in frame.columns if c.startswith("param_") and frame[c].notna().all()]


def difficulty_columns(frame: pd.DataFrame) -> list[str]:
    """The grid columns of ``frame`` (one experiment's rows) that can be a difficulty axis:
    numbers (not booleans) with two distinct values or more."""
    out = []
    for column in grid_columns(frame):
        values = frame[column]
        if values.map(lambda v: isinstance(v, (bool, np.bool_))).any():
            continue
        numeric = pd.to_numeric(values, errors="coerce")
        if not numeric.isna().any() and numeric.nunique() >= 2:
            out.append(column)
    return out


def fixed_label(columns: Sequence[str], values: Sequence[Any]) -> str:
    """The grid parameters held fixed along a difficulty axis, as text: ``num_actions=2``."""
    return ", ".join(
        f"{c[len('param_'):]}={v:g}" if isinstance(v, float) else f"{c[len('param_'):]}={v}"
        for c, v in zip(columns, values)
    )


def value_key(value: Any) -> tuple[int, Any]:
    """Sort key of one grid value: numbers by value first, then everything else as text."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    ):
        return (0, float(value))
    return (1, str(value))


def setting_order(frame: pd.DataFrame) -> dict[tuple[str, str], tuple]:
    """``(experiment, setting) -> sort key`` from the grid columns of a results frame (the rows
    of :func:`rlbench3.analysis.results.load`, or of ``run_scores``)."""
    order = {}
    for experiment, group in frame.groupby("experiment", sort=False):
        params = grid_columns(group)
        for setting, rows in group.groupby("setting", sort=False):
            order[(experiment, setting)] = tuple(value_key(rows[p].iloc[0]) for p in params)
    return order


def sort_rows(
    rows: pd.DataFrame | Sequence[Mapping[str, Any]],
    order: SettingOrder,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """``rows`` (with ``experiment`` and, where it applies, ``setting`` columns) in the one order:
    experiment, then ``order``'s setting key, then the columns ``by``; a fresh index."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if frame.empty:
        return frame.reset_index(drop=True)
    keys = [
        (
            str(r["experiment"]),
            order.get((r["experiment"], r.get("setting")), ()),
            str(r.get("setting", "")),
            *(value_key(r[k]) for k in by),
        )
        for r in frame.to_dict("records")
    ]
    return frame.iloc[sorted(range(len(frame)), key=keys.__getitem__)].reset_index(drop=True)


def ordered_settings(frame: pd.DataFrame, experiment: str) -> list[str]:
    """The settings of one experiment in the one order."""
    order = setting_order(frame[frame["experiment"] == experiment])
    return [s for _, s in sorted(order, key=lambda key: (order[key], key[1]))]


def experiments(frame: pd.DataFrame) -> list[str]:
    """The experiments of a frame in the one order (by name)."""
    return sorted(str(e) for e in pd.unique(frame["experiment"]))
