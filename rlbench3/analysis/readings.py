"""Plain-language readings of result tables, generated from their numbers.

Each function takes one numeric section of :func:`rlbench3.analysis.tables.build_tables` (an
estimate ``x`` is the columns ``x``, ``x_low``, ``x_high``) and returns a few sentences that
quote its cells exactly as the table shows them (:func:`rlbench3.analysis.tables.display_frame`),
with the seeds behind each number. :func:`table_reading` picks the function from the columns.
Nothing here is typed by hand: a reading changes when the numbers do.

* :func:`swiss_reading`: per experiment, how each agent's final success moves from the first
  setting to the last, the largest drop between consecutive settings, and where training batches
  saw no reward most often.
* :func:`frontier_reading`: each agent's H50/d50 with its interval.
* :func:`seeds_reading`: the widest spread over seeds, the split test, the most seeds needed.
* :func:`improvement_reading`: the agent pairs whose P(x > y) interval excludes 0.5.
* :func:`gen_reading`: the gaps whose interval lies above (or below) 0, and the largest one.
* :func:`packer_reading`: the Packer et al. (2018) Default / Interpolation / Extrapolation row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from rlbench3.analysis.tables import display_frame

# How many items a sentence lists before it says "and N more".
MAX_LISTED = 4
# Two displayed values (2 decimals) are "the same" when they differ by less than this.
_SAME = 0.005


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    """The table's text cells, with the same row index as ``frame``."""
    return display_frame(frame).set_index(frame.index)


def _interval(text: str) -> str:
    """A shown estimate without its ``(n=...)`` suffix: ``0.71 [0.14, 1.00]``."""
    return text.split(" (n=")[0]


def _seeds(values: Sequence[object], unit: str = "seeds per cell") -> str:
    """``n = 10 seeds per cell`` or ``n = 3-10 seeds per cell`` from a ``seeds`` column."""
    counts: list[int] = []
    for v in values:
        if isinstance(v, str):  # "3-5" (per level) or "3/4" (D/R-trained)
            counts += [int(p) for p in v.replace("/", "-").split("-") if p.isdigit()]
        elif not pd.isna(v):
            counts.append(int(v))
    if not counts:
        return f"n unknown {unit}"
    low, high = min(counts), max(counts)
    return f"n = {low} {unit}" if low == high else f"n = {low}-{high} {unit}"


def _listed(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``, ``a, b, c, d and 3 more``."""
    if len(items) > MAX_LISTED:
        items = [*items[:MAX_LISTED], f"{len(items) - MAX_LISTED} more"]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _where(row: pd.Series) -> str:
    """``lock-horizon horizon=8``: a row's experiment and setting."""
    return f"{row['experiment']} {row['setting']}"


def _metric(frame: pd.DataFrame) -> tuple[str, str]:
    """The final-score column of a ``swiss`` section and its word (success or return)."""
    column = "final_success" if "final_success" in frame else "final_return"
    return column, column.removeprefix("final_")


def swiss_reading(frame: pd.DataFrame) -> str:
    """Per experiment: each agent's final train score from its first setting to its last (in the
    table's order), the largest drop between consecutive settings, and the cell whose training
    batches most often had no reward at all."""
    if frame.empty:
        return ""
    column, word = _metric(frame)
    shown = _shown(frame)
    sentences = []
    for exp, rows in frame.groupby("experiment", sort=False):
        aggregates = sorted(set(rows["aggregate"]))
        agg = aggregates[0] if len(aggregates) == 1 else "/".join(aggregates)
        parts, drops = [], []
        for agent, g in rows.groupby("agent", sort=False):
            first, last = g.index[0], g.index[-1]
            if first == last:
                parts.append(
                    f"{agent}'s is {_interval(shown.at[first, column])} at {g.at[first, 'setting']}"
                )
                continue
            a, b = frame.at[first, column], frame.at[last, column]
            verb = "is" if abs(b - a) < _SAME else ("falls from" if b < a else "rises from")
            joint = "and" if verb == "is" else "to"
            parts.append(
                f"{agent}'s {verb} {_interval(shown.at[first, column])} at "
                f"{g.at[first, 'setting']} {joint} {_interval(shown.at[last, column])} at "
                f"{g.at[last, 'setting']}"
            )
            for i, j in zip(g.index[:-1], g.index[1:]):
                drops.append((frame.at[i, column] - frame.at[j, column], agent, i, j))
        text = (
            f"{exp}: the final train {word} ({agg} over seeds; "
            f"{_seeds(rows['seeds'])}): {'; '.join(parts)}."
        )
        if drops:
            size, agent, i, j = max(drops, key=lambda d: d[0])
            if size >= _SAME:
                text += (
                    f" The largest drop between consecutive settings is {agent}'s, "
                    f"{frame.at[i, 'setting']} to {frame.at[j, 'setting']} "
                    f"({shown.at[i, column].split(' [')[0]} to "
                    f"{shown.at[j, column].split(' [')[0]})."
                )
        text += " " + _zero_signal_sentence(frame.loc[rows.index], shown)
        sentences.append(text)
    return "\n\n".join(sentences)


def _zero_signal_sentence(rows: pd.DataFrame, shown: pd.DataFrame) -> str:
    """Per agent, the share of training batches with no reward at all: where it is lowest and
    highest, or that it is the same at every setting."""
    parts = []
    for agent, g in rows.groupby("agent", sort=False):
        zs = g["zero_signal"]
        if zs.isna().all():
            continue
        low, high = zs.idxmin(), zs.idxmax()
        if zs.max() - zs.min() < _SAME:
            parts.append(f"{agent}'s is {shown.at[high, 'zero_signal'].split(' [')[0]} everywhere")
        else:
            parts.append(
                f"{agent}'s ranges from {_interval(shown.at[low, 'zero_signal'])} at "
                f"{g.at[low, 'setting']} to {_interval(shown.at[high, 'zero_signal'])} at "
                f"{g.at[high, 'setting']}"
            )
    if not parts:
        return "No zero-signal fraction was recorded."
    return f"The fraction of training batches with no reward at all: {'; '.join(parts)}."


def _frontier_symbol(difficulty: str) -> str:
    return {"horizon": "H50", "action_dim": "d50", "n_joints": "d50"}.get(
        difficulty, f"{difficulty}50"
    )


def frontier_reading(frame: pd.DataFrame) -> str:
    """Per experiment × difficulty (× fixed parameters): each agent's H50/d50, the difficulty at
    which half the seeds succeed, with its interval ('<'/'>': outside the tested levels)."""
    if frame.empty:
        return ""
    shown = _shown(frame)
    sentences = []
    for (exp, difficulty, fixed), rows in frame.groupby(
        ["experiment", "difficulty", "fixed"], sort=False
    ):
        symbol = _frontier_symbol(str(difficulty))
        where = f"{exp}, {difficulty}" + ("" if fixed == "-" else f" ({fixed})")
        parts = [
            f"{row.agent}'s {symbol} is {_interval(shown.at[i, 'h50'])} "
            f"({_seeds([row.seeds], 'seeds per level')}, levels {row.levels})"
            for i, row in rows.iterrows()
        ]
        censored = rows["h50_censored"].astype(bool).any()
        note = (
            " ('<' or '>': half the seeds succeed only outside the tested levels.)"
            if censored
            else ""
        )
        sentences.append(
            f"{where}: the {difficulty} at which half the seeds succeed. {'; '.join(parts)}.{note}"
        )
    return "\n\n".join(sentences)


def seeds_reading(frame: pd.DataFrame) -> str:
    """The cell with the widest spread over seeds, the cell whose equal halves of seeds differ
    'significantly' most often (Henderson et al.'s split test), and the most seeds needed."""
    if frame.empty:
        return ""
    shown = _shown(frame)
    std = frame["std"]
    if std.isna().all():
        return "Every cell has one seed: there is no spread over seeds to report."
    top = std.idxmax()
    row = frame.loc[top]
    text = (
        f"The spread over seeds is widest for {row['agent']} at {_where(row)}: std "
        f"{_interval(shown.at[top, 'std'])}, seeds from {shown.at[top, 'min']} to "
        f"{shown.at[top, 'max']} (n = {int(row['seeds'])} seeds)."
    )
    split = frame["split_test"]
    if split.notna().any():
        k = split.idxmax()
        r = frame.loc[k]
        if split.max() > 0:
            text += (
                f" Split into two equal halves, one configuration's seeds differ "
                f"'significantly' (Welch t-test) in up to {split.max():.0%} of the "
                f"{int(r['partitions'])} splits ({r['agent']} at {_where(r)})."
            )
        else:
            text += " No split of any cell's seeds into two halves differs 'significantly'."
    needed = frame["seeds_needed"]
    if needed.notna().any():
        k = needed.idxmax()
        r = frame.loc[k]
        text += (
            f" The most seeds needed for the target interval width is "
            f"{_interval(shown.at[k, 'seeds_needed'])}, for {r['agent']} at {_where(r)}."
        )
    return text


def improvement_reading(frame: pd.DataFrame) -> str:
    """The agent pairs whose interval of P(x > y) lies wholly above or below 0.5."""
    if frame.empty:
        return ""
    shown = _shown(frame)
    clear = []
    for i, row in frame.iterrows():
        if row["p_x_better_low"] > 0.5:
            better, worse = row["x"], row["y"]
        elif row["p_x_better_high"] < 0.5:
            better, worse = row["y"], row["x"]
        else:
            continue
        clear.append(
            f"{better} over {worse} at {_where(row)} "
            f"(P({row['x']} > {row['y']}) = {_interval(shown.at[i, 'p_x_better'])})"
        )
    n = len(frame)
    if not clear:
        return (
            f"In none of the {n} comparisons does the interval of P(x > y) exclude 0.5: at these "
            "seeds no agent is reliably better than another on any setting."
        )
    return (
        f"In {len(clear)} of {n} comparisons the interval of P(x > y) excludes 0.5: "
        f"{_listed(clear)}."
    )


def gen_reading(frame: pd.DataFrame) -> str:
    """How many gaps (train - held-out split) lie wholly above or below 0, and the largest."""
    if frame.empty:
        return ""
    shown = _shown(frame)
    n = len(frame)
    above = int((frame["gap_low"] > 0).sum())
    below = int((frame["gap_high"] < 0).sum())
    text = f"{above} of {n} gaps (train minus held-out split) have an interval wholly above 0"
    text += f" and {below} wholly below 0." if below else "."
    gaps = frame["gap"]
    if gaps.notna().any():
        k = gaps.idxmax()
        r = frame.loc[k]
        text += (
            f" The largest is {r['agent']}'s at {_where(r)} on {r['split']}: train "
            f"{_interval(shown.at[k, 'train'])}, {r['split']} {_interval(shown.at[k, 'test'])}, "
            f"gap {_interval(shown.at[k, 'gap'])} (n = {int(r['seeds'])} seeds)."
        )
    return text


def packer_reading(frame: pd.DataFrame) -> str:
    """Each Packer et al. (2018) summary row: Default, Interpolation and Extrapolation."""
    if frame.empty:
        return ""
    shown = _shown(frame)
    parts = [
        f"{row['agent']} on {str(row['env']).split('/')[-1]} ({row['setting']}): Default "
        f"{_interval(shown.at[i, 'default'])}, Interpolation "
        f"{_interval(shown.at[i, 'interpolation'])}, Extrapolation "
        f"{_interval(shown.at[i, 'extrapolation'])} (seeds trained on D/R: {row['seeds']})"
        for i, row in frame.iterrows()
    ]
    return "; ".join(parts) + "."


# Which reading a section gets: the first whose columns it has.
READINGS: tuple[tuple[frozenset[str], Callable[[pd.DataFrame], str]], ...] = (
    (frozenset({"h50", "difficulty", "agent"}), frontier_reading),
    (frozenset({"zero_signal", "aggregate", "setting"}), swiss_reading),
    (frozenset({"central", "std", "split_test", "seeds_needed"}), seeds_reading),
    (frozenset({"p_x_better", "x", "y"}), improvement_reading),
    (frozenset({"gap", "train", "test", "split"}), gen_reading),
    (frozenset({"default", "interpolation", "extrapolation"}), packer_reading),
)


def table_reading(frame: pd.DataFrame) -> str:
    """The reading of one numeric table section, chosen by its columns ('' when none applies,
    e.g. the Packer per-cell layout, which its summary reads)."""
    for columns, reading in READINGS:
        if columns <= set(frame.columns):
            return reading(frame)
    return ""
