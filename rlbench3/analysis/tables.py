"""Result tables: the statistics of :mod:`rlbench3.analysis.metrics` over a results folder.

``render_table(curves, episodes, kind, fmt)`` renders one kind of table from the frames of
:func:`rlbench3.analysis.results.load` and :func:`rlbench3.analysis.results.load_episodes`;
``render_results(DIR, kind, fmt)`` loads a results folder (with each run's resolved config) and
does the same. Kinds:

* ``"swiss"``: per experiment × setting × agent, the final train success (IQM over seeds, or
  the mean below :data:`~rlbench3.analysis.metrics.MIN_SEEDS` seeds; the ``aggregate`` column
  says which) and the zero-signal fraction (mean); then, for every numeric grid parameter, the
  trainability frontier per agent: the difficulty at which half the seeds succeed (H50/d50)
  with its profile-likelihood interval.
* ``"seeds"``: per experiment × setting × agent, the central aggregate (as in ``swiss``), mean,
  median and optimality gap, the std over seeds, the Henderson et al. (2018) split test and the
  seeds needed for a ±0.1 CI; then the probability of improvement for every pair of agents.
* ``"gen"``: per experiment × setting × agent × held-out split, mean success on train and on the
  split and the paired gap train − split; then, when the configs show runs trained on D and on R
  that were evaluated on the D/R/E presets, the Packer et al. (2018) layout.

Intervals of final scores are two-level: seeds are resampled and, within each drawn seed, its
final evaluation episodes (:func:`rlbench3.analysis.metrics.two_level_estimates`), so a cell
whose seeds agree still shows the noise of a finite evaluation; the percentile ends are
Hesterberg's expanded ones (wider at few seeds). Without the episode frame (``episodes=None``)
only seeds are resampled.

Every estimate is shown with its interval and the number of seeds behind it, ``0.71 [0.14, 1.00]
(n=10)``; every section's title states the evaluation protocol read from the run configs (greedy
or sampled actions, final episodes per run, seeds per cell; "mixed" where runs differ). A table
with a cell of fewer than :data:`~rlbench3.analysis.metrics.MIN_SEEDS` seeds says so in its
titles and warns on stderr.

Formats: ``"md"`` (pandas ``to_markdown``), ``"latex"`` (``to_latex``) and ``"csv"``. A table is
one or more sections, each headed by its title (``### title`` in Markdown, ``% title`` in LaTeX,
``# title`` in CSV). In CSV an estimate ``x`` is three columns ``x``, ``x_low``, ``x_high`` (the
seeds are the ``seeds`` column). :func:`build_tables` gives the sections as numeric DataFrames.

Every bootstrap is seeded from ``seed`` and the row's key, so a row's numbers do not change when
other runs are added to the folder.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rlbench3.analysis import metrics as M
from rlbench3.analysis.ordering import (
    difficulty_columns,
    fixed_label,
    grid_columns,
    setting_order,
    sort_rows,
)
from rlbench3.analysis.results import curves_frame, episodes_frame, stored_runs
from rlbench3.harness.run_config import TRAIN, RunConfig

KINDS = ("swiss", "seeds", "gen")
FORMATS = ("md", "latex", "csv")
PACKER_VARIANTS = M.PACKER_VARIANTS
MIN_SEEDS = M.MIN_SEEDS
# Columns written as whole numbers; frontiers and probabilities that span decades (T1's lock
# probes) with 3 significant digits; everything else 2 decimals.
_INT_COLUMNS = {
    "seeds",
    "seeds_x",
    "seeds_y",
    "seeds_needed",
    "partitions",
    "budget",
    "horizon",
    "num_actions",
    "uniform_episodes",
    "policies",
}
_SIG_COLUMNS = {
    "h50",
    "collapse_h",
    "uniform_closed_form",
    "uniform_hit",
    "expected_rewarded",
    "train_error",
    "from",
    "to",
    "fraction",
    "min_p",
}
_AGGREGATE_LABEL = {"iqm": "IQM", "mean": "mean"}


@dataclass(frozen=True)
class TableOptions:
    """How a table's statistics are computed.

    Attributes:
        metric: ``success_rate`` or ``mean_return`` (the frontier needs ``success_rate``).
        reps: bootstrap replicates for every interval.
        seed: base seed of every bootstrap (each row derives its own from its key).
        confidence: interval coverage.
        solved_at: a seed "succeeds" on the frontier when its final success is at least this.
        half_width: target CI half-width of ``seeds_needed``.
        alpha: level of the split test.
        n_partitions: random halvings of the split test (all of them when fewer exist).
        interval: the percentile ends of the two-level intervals, ``"expanded"`` (default) or
            ``"percentile"`` (:func:`rlbench3.analysis.metrics.two_level_estimates`).
    """

    metric: str = "success_rate"
    reps: int = 2000
    seed: int = 0
    confidence: float = 0.95
    solved_at: float = 0.5
    half_width: float = 0.1
    alpha: float = 0.05
    n_partitions: int = 1000
    interval: str = "expanded"

    def __post_init__(self) -> None:
        if self.metric not in ("success_rate", "mean_return"):
            raise ValueError(f"metric must be 'success_rate' or 'mean_return', got {self.metric!r}")
        for name in ("reps", "n_partitions"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {getattr(self, name)!r}")
        for name in ("confidence", "alpha"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in (0, 1), got {getattr(self, name)!r}")
        if not self.half_width > 0:
            raise ValueError(f"half_width must be > 0, got {self.half_width!r}")
        if self.interval not in M.INTERVALS:
            raise ValueError(f"interval must be one of {M.INTERVALS}, got {self.interval!r}")

    @classmethod
    def from_keywords(cls, options: Mapping[str, Any]) -> TableOptions:
        """Build from keyword options; an unknown name is an error naming the valid ones."""
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise TypeError(f"unknown table options {unknown}; valid: {', '.join(valid)}")
        return cls(**options)


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def load_configs(out: str | Path) -> dict[str, RunConfig]:
    """The config of every verified run in a results folder (corrupt ones skipped)."""
    return {run.run_id: run.config for run in stored_runs(out)}


def run_scores(
    curves: pd.DataFrame, episodes: pd.DataFrame | None = None, *, metric: str = "success_rate"
) -> pd.DataFrame:
    """One row per run × split with the run's final ``score``: the mean over its final evaluation
    episodes when ``episodes`` is given (``success`` for ``success_rate``, ``return`` for
    ``mean_return``; ``episodes`` then counts them), otherwise the last point of its learning
    curve."""
    if metric not in ("success_rate", "mean_return"):
        raise ValueError(f"metric must be 'success_rate' or 'mean_return', got {metric!r}")
    if episodes is not None and len(episodes):
        column = "success" if metric == "success_rate" else "return"
        frame = episodes.assign(_score=episodes[column].astype(float))
        grouped = frame.groupby(["run_id", "split"], sort=False)
        info = grouped.first().drop(columns=["episode", "return", "success", "_score"])
        info["score"] = grouped["_score"].mean()
        info["episodes"] = grouped["_score"].size()
        return info.reset_index()
    final = curves[curves["is_final"].astype(bool)]
    return final.rename(columns={metric: "score"}).reset_index(drop=True)


def episode_values(
    episodes: pd.DataFrame | None, *, metric: str = "success_rate"
) -> dict[tuple[str, str], np.ndarray]:
    """``(run_id, split)`` -> ``(num_episodes,)`` the run's final evaluation episodes' scores
    (success 0/1, or returns), in episode order; empty without an episode frame."""
    if episodes is None or not len(episodes):
        return {}
    column = "success" if metric == "success_rate" else "return"
    frame = episodes.sort_values(["run_id", "split", "episode"], kind="stable")
    return {
        (str(rid), str(split)): g[column].to_numpy(float)
        for (rid, split), g in frame.groupby(["run_id", "split"], sort=False)
    }


@dataclass(frozen=True)
class _Data:
    """What every kind of table reads: run scores, episodes, configs, options."""

    scores: pd.DataFrame  # run_scores rows
    values: Mapping[tuple[str, str], np.ndarray]  # (run_id, split) -> final episodes' scores
    configs: Mapping[str, RunConfig] | None
    options: TableOptions

    def episodes_of(self, rows: pd.DataFrame) -> list[np.ndarray]:
        """Per row (run × split) its final episodes' scores (its score alone without them)."""
        return [
            self.values.get((str(r.run_id), str(r.split)), np.array([float(r.score)]))
            for r in rows.itertuples()
        ]

    def cell(
        self, rows: pd.DataFrame, rng: np.random.Generator, metrics: Sequence[str]
    ) -> dict[str, M.Estimate]:
        o = self.options
        return M.two_level_estimates(
            self.episodes_of(rows),
            rng,
            metrics=metrics,
            reps=o.reps,
            confidence=o.confidence,
            interval=o.interval,
        )


def put_estimate(row: dict[str, Any], name: str, est: M.Estimate) -> None:
    """Write ``est`` into ``row`` as the columns ``name``, ``name_low``, ``name_high``."""
    row[name], row[f"{name}_low"], row[f"{name}_high"] = (
        float(est.point),
        float(est.low),
        float(est.high),
    )


def _nan_estimate() -> M.Estimate:
    return M.Estimate(math.nan, math.nan, math.nan)


def _label(metric: str) -> str:
    return "success" if metric == "success_rate" else "return"


def _interval_text(o: TableOptions, *, episodes: bool) -> str:
    pct = f"{o.confidence:.0%}"
    levels = "seeds, then each seed's final episodes" if episodes else "seeds"
    ends = "expanded-percentile" if o.interval == "expanded" else "percentile"
    return f"{pct} two-level bootstrap CI ({levels} resampled; {ends} ends)"


def _central_text() -> str:
    return (
        f"aggregate: IQM (25% trimmed mean) over seeds, or the mean below {MIN_SEEDS} seeds "
        "(an IQM of 3 values is their mean, of 4 their median)"
    )


# ---------------------------------------------------------------------------------------------
# swiss
# ---------------------------------------------------------------------------------------------


def _cell_head(exp: str, setting: str, agent: str, n: int) -> tuple[dict[str, Any], str]:
    """A per-cell row's identity columns, and the aggregate ``n`` seeds support."""
    aggregate = M.central_aggregate(n)
    row = {"experiment": exp, "setting": setting, "agent": agent, "seeds": n}
    return {**row, "aggregate": _AGGREGATE_LABEL[aggregate]}, aggregate


def _swiss(data: _Data) -> dict[str, pd.DataFrame]:
    o, scores = data.options, data.scores
    metric, reps, seed, confidence, solved_at = o.metric, o.reps, o.seed, o.confidence, o.solved_at
    train = scores[scores["split"] == TRAIN]
    order = setting_order(scores)
    label = _label(metric)
    rows = []
    for (exp, setting, agent), group in train.groupby(["experiment", "setting", "agent"]):
        group = group.sort_values("seed")
        row, aggregate = _cell_head(exp, setting, agent, len(group))
        est = data.cell(group, M.rng_for(seed, "final", exp, setting, agent), (aggregate,))
        put_estimate(row, f"final_{label}", est[aggregate])
        zs = group["zero_signal_fraction"].to_numpy(float)
        put_estimate(
            row,
            "zero_signal",
            M.zero_signal_summary(
                zs,
                M.rng_for(seed, "swiss-zero", exp, setting, agent),
                reps=reps,
                confidence=confidence,
            ),
        )
        rows.append(row)
    pct = f"{confidence:.0%}"
    sections = {
        f"Swiss cheese: final train {label} ({_central_text()}; "
        f"{_interval_text(o, episodes=bool(data.values))}) and zero-signal fraction of training "
        f"batches (mean over runs, {pct} percentile-bootstrap CI over runs)": sort_rows(
            rows, order, ("agent",)
        )
    }
    if metric == "success_rate":
        frontier = _frontier_rows(
            train, reps=reps, seed=seed, confidence=confidence, solved_at=solved_at
        )
        if frontier is not None:
            sections[
                "Trainability frontier: difficulty at which half the seeds succeed (H50/d50; a "
                f"seed succeeds when its final train success >= {solved_at:g}); logistic MLE, "
                f"{pct} profile-likelihood CI (Firth-penalized; n = seeds per level); values are "
                "clipped to the tested range ('<' / '>': the midpoint lies outside it; '<=' / "
                "'>=': the interval reaches past it)"
            ] = frontier
    return sections


def frontier_columns(fr: M.Frontier) -> dict[str, Any]:
    """A frontier's table columns: its levels, seeds per level, seeds solved per level, and H50
    with its interval and where it is censored ("", "below" or "above" the tested range)."""
    per_level = sorted({int(c) for c in fr.counts})
    row: dict[str, Any] = {
        "levels": ", ".join(f"{v:g}" for v in fr.levels),
        "seeds": per_level[0] if len(per_level) == 1 else f"{per_level[0]}-{per_level[-1]}",
        "solved": ", ".join(f"{int(round(r * c))}/{int(c)}" for r, c in zip(fr.rates, fr.counts)),
    }
    put_estimate(row, "h50", M.Estimate(fr.midpoint, fr.low, fr.high))
    row["h50_censored"] = fr.censored
    row["h50_low_censored"] = fr.low_censored
    row["h50_high_censored"] = fr.high_censored
    return row


def _frontier_rows(
    train: pd.DataFrame, *, reps: int, seed: int, confidence: float, solved_at: float
) -> pd.DataFrame | None:
    rows = []
    for exp, group in train.groupby("experiment"):
        params = grid_columns(group)
        for p in difficulty_columns(group):
            numeric = pd.to_numeric(group[p])
            others = [q for q in params if q != p]
            keys = ["agent", *others]
            for key, g in group.assign(_x=numeric).groupby(keys):
                key = key if isinstance(key, tuple) else (key,)
                agent, fixed = key[0], dict(zip(others, key[1:]))
                x = g["_x"].to_numpy(float)
                if np.unique(x).size < 2:
                    continue
                solved = (g["score"].to_numpy(float) >= solved_at).astype(float)
                label = fixed_label(list(fixed), list(fixed.values()))
                fr = M.trainability_frontier(
                    x,
                    solved,
                    M.rng_for(seed, "frontier", exp, p, label, agent),
                    reps=reps,
                    confidence=confidence,
                )
                row: dict[str, Any] = {
                    "experiment": exp,
                    "agent": agent,
                    "difficulty": p[len("param_") :],
                    "fixed": label or "-",
                    **frontier_columns(fr),
                }
                rows.append(row)
    if not rows:
        return None
    frame = pd.DataFrame(rows)
    return frame.sort_values(["experiment", "difficulty", "fixed", "agent"]).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# seeds
# ---------------------------------------------------------------------------------------------


def _seeds(data: _Data) -> dict[str, pd.DataFrame]:
    o, scores = data.options, data.scores
    metric, reps, seed, confidence = o.metric, o.reps, o.seed, o.confidence
    half_width, alpha, n_partitions = o.half_width, o.alpha, o.n_partitions
    bounds = (0.0, 1.0) if metric == "success_rate" else None
    train = scores[scores["split"] == TRAIN]
    order = setting_order(scores)
    rows, poi_rows = [], []
    for (exp, setting, agent), group in train.groupby(["experiment", "setting", "agent"]):
        group = group.sort_values("seed")
        s = group["score"].to_numpy(float)
        n = len(s)
        row, aggregate = _cell_head(exp, setting, agent, n)
        names = ("mean", "median", "optimality_gap")
        est = data.cell(group, M.rng_for(seed, "final", exp, setting, agent), (aggregate, *names))
        put_estimate(row, "central", est[aggregate])
        for name in names:
            put_estimate(row, name, est[name])
        spread = M.seed_spread(s)
        std = M.std_interval(s, confidence, bounds=bounds) if n >= 2 else _nan_estimate()
        put_estimate(row, "std", std)
        row["cv"], row["min"], row["max"] = spread.cv, spread.min, spread.max
        if n >= 4:
            rng = M.rng_for(seed, "seeds-split", exp, setting, agent)
            exhaustive = M.num_halvings(n) <= n_partitions
            row["split_test"] = M.split_test_fraction(
                s, rng, alpha=alpha, n_partitions=n_partitions, exhaustive=exhaustive
            )
            row["partitions"] = M.num_halvings(n) if exhaustive else n_partitions
        else:
            row["split_test"], row["partitions"] = math.nan, math.nan
        put_estimate(row, "seeds_needed", M.seeds_needed_interval(std, half_width, confidence))
        rows.append(row)
    for (exp, setting), group in train.groupby(["experiment", "setting"]):
        agents = sorted(group["agent"].unique())
        for x, y in itertools.combinations(agents, 2):
            sx = group[group["agent"] == x].sort_values("seed")["score"].to_numpy(float)
            sy = group[group["agent"] == y].sort_values("seed")["score"].to_numpy(float)
            row = {
                "experiment": exp,
                "setting": setting,
                "x": x,
                "y": y,
                "seeds_x": len(sx),
                "seeds_y": len(sy),
            }
            put_estimate(
                row,
                "p_x_better",
                M.probability_of_improvement(
                    sx,
                    sy,
                    M.rng_for(seed, "seeds-poi", exp, setting, x, y),
                    reps=reps,
                    confidence=confidence,
                ),
            )
            poi_rows.append(row)
    pct = f"{confidence:.0%}"
    label = _label(metric)
    model = (
        "Bernoulli model when every seed scored 0 or 1 (Clopper-Pearson), else chi-square "
        "capped at 0.5, the largest std of scores in [0, 1]"
        if bounds
        else "chi-square CI, normal scores"
    )
    sections = {
        f"Seed variance of the final train {label}: central ({_central_text()}), mean, median, "
        f"optimality gap ({_interval_text(o, episodes=bool(data.values))}); std over seeds "
        f"({pct} CI: {model}), CV, min, max; split_test: fraction of half/half splits of the "
        f"seeds whose Welch t-test has p < {alpha:g} (Henderson et al. 2018; over 'partitions' "
        "splits, all of them when few; with no real difference it is not alpha but depends on "
        "the scores' distribution and n, e.g. 0.125 for 4 seeds of Bernoulli(0.5)); "
        f"seeds_needed: seeds for a {pct} t-interval of the mean of half-width {half_width:g}, "
        "from the std and its CI ('n/a' where no spread was observed)": sort_rows(
            rows, order, ("agent",)
        )
    }
    if poi_rows:
        sections[
            f"Probability of improvement P(x > y) of the final train {label} (rliable, {pct} "
            "stratified-bootstrap CI over seeds)"
        ] = sort_rows(poi_rows, order, ("x", "y"))
    return sections


# ---------------------------------------------------------------------------------------------
# gen
# ---------------------------------------------------------------------------------------------


def packer_cells(config: RunConfig) -> tuple[tuple[str, str, str], str, dict[str, str]]:
    """Where a run sits in the Packer et al. (2018) layout, read from its resolved config.

    Returns ``(group, train_variant, {test_variant: split_name})``, or raises ``ValueError`` when
    the run was not trained on a D/R/E preset. ``group`` identifies runs that may share a layout
    (same env, same parameters apart from the preset, same agent); a test variant ``V`` is a
    split whose parameters are the training parameters with ``preset: V`` and any
    ``extreme_sampling`` (the ``train`` split itself counts for the training variant).
    """
    splits = config.splits
    train = splits[TRAIN]
    variant = train.get("preset")
    if variant not in PACKER_VARIANTS:
        raise ValueError("not trained on a D/R/E preset")
    # The preset names the variant; extreme_sampling only says how E's unions are sampled.
    ignored = ("preset", "extreme_sampling")
    base = {k: v for k, v in train.items() if k not in ignored}
    cells = {variant: TRAIN}
    for name, params in splits.items():
        preset = params.get("preset")
        if name == TRAIN or preset not in PACKER_VARIANTS:
            continue
        if {k: v for k, v in params.items() if k not in ignored} == base:
            cells.setdefault(preset, name)
    group = (config.env_id, json.dumps(base, sort_keys=True), config.agent.name)
    return group, variant, cells


def _gen(data: _Data) -> dict[str, pd.DataFrame]:
    o, scores = data.options, data.scores
    metric, seed = o.metric, o.seed
    order = setting_order(scores)
    rows = []
    for (exp, setting, agent), group in scores.groupby(["experiment", "setting", "agent"]):
        by_split = {split: g.set_index("run_id") for split, g in group.groupby("split")}
        if TRAIN not in by_split:
            continue
        for split in sorted(s for s in by_split if s != TRAIN):
            runs = sorted(
                set(by_split[TRAIN].index) & set(by_split[split].index),
                key=lambda r: (by_split[TRAIN].loc[r, "seed"], r),
            )
            if not runs:
                continue
            tr = by_split[TRAIN].loc[runs].reset_index()
            te = by_split[split].loc[runs].reset_index()
            rng = M.rng_for(seed, "gen", exp, setting, agent, split)
            row: dict[str, Any] = {
                "experiment": exp,
                "setting": setting,
                "agent": agent,
                "split": split,
                "seeds": len(runs),
            }
            put_estimate(row, "train", data.cell(tr, rng, ("mean",))["mean"])
            put_estimate(row, "test", data.cell(te, rng, ("mean",))["mean"])
            gap = M.two_level_gap(
                data.episodes_of(tr),
                data.episodes_of(te),
                rng,
                reps=o.reps,
                confidence=o.confidence,
                interval=o.interval,
            )
            put_estimate(row, "gap", gap)
            rows.append(row)
    label = _label(metric)
    sections = {
        f"Generalization: mean final {label} on train and on each held-out split, and the "
        f"paired gap train - split ({_interval_text(o, episodes=bool(data.values))}, runs "
        "paired across splits)": sort_rows(rows, order, ("agent", "split"))
    }
    if data.configs:
        sections.update(_packer(data))
    return sections


def _packer(data: _Data) -> dict[str, pd.DataFrame]:
    o, scores, configs = data.options, data.scores, data.configs or {}
    metric, reps, seed, confidence = o.metric, o.reps, o.seed, o.confidence
    value = scores.set_index(["run_id", "split"])["score"]
    info = scores.drop_duplicates("run_id").set_index("run_id")
    groups: dict[tuple, dict[str, list[tuple[str, dict[str, str]]]]] = {}
    for rid in info.index:
        if rid not in configs:
            continue
        try:
            group, variant, cells = packer_cells(configs[rid])
        except (ValueError, KeyError, AttributeError, TypeError):
            continue
        groups.setdefault(group, {}).setdefault(variant, []).append((rid, cells))
    cell_rows, summary_rows = [], []
    for group, by_train in sorted(groups.items()):
        if not {"D", "R"} <= set(by_train):
            continue
        env_id, _, agent = group
        first = info.loc[by_train["D"][0][0]]
        setting = first["setting"]
        experiments = " / ".join(
            sorted(
                {str(info.loc[rid, "experiment"]) for runs in by_train.values() for rid, _ in runs}
            )
        )
        arrays: dict[str, np.ndarray] = {}
        episodes: dict[str, list[np.ndarray]] = {}
        for variant in PACKER_VARIANTS:
            runs = sorted(
                by_train.get(variant, []),
                key=lambda r: (info.loc[r[0], "experiment"], info.loc[r[0], "seed"]),
            )
            if not runs:
                continue
            tests = set.intersection(*(set(cells) for _, cells in runs))
            row: dict[str, Any] = {
                "env": env_id,
                "setting": setting,
                "agent": agent,
                "train": variant,
                "seeds": len(runs),
            }
            for test in PACKER_VARIANTS:
                if test not in tests:
                    put_estimate(row, test, _nan_estimate())
                    continue
                v = np.array([value.get((rid, cells[test]), np.nan) for rid, cells in runs])
                if np.isnan(v).any():
                    put_estimate(row, test, _nan_estimate())
                    continue
                cell = variant + test
                arrays[cell] = v
                episodes[cell] = [
                    data.values.get((rid, cells[test]), np.array([x]))
                    for (rid, cells), x in zip(runs, v)
                ]
                rng = M.rng_for(seed, "packer-cell", *group, variant, test)
                est = M.two_level_estimates(
                    episodes[cell], rng, reps=reps, confidence=confidence, interval=o.interval
                )
                put_estimate(row, test, est["mean"])
            cell_rows.append(row)
        needed = ("DD", "DR", "DE", "RR", "RE")
        if all(c in arrays for c in needed):
            summary = M.packer_summary(
                {c: arrays[c] for c in needed},
                M.rng_for(seed, "packer", *group),
                reps=reps,
                confidence=confidence,
                episodes={c: episodes[c] for c in needed},
                interval=o.interval,
            )
            row = {
                "env": env_id,
                "setting": setting,
                "agent": agent,
                "experiments": experiments,
                "seeds": f"{len(arrays['DD'])}/{len(arrays['RR'])}",
            }
            for key in ("default", "interpolation", "extrapolation"):
                put_estimate(row, key, summary[key])
            summary_rows.append(row)
    if not cell_rows:
        return {}
    label = _label(metric)
    ci = _interval_text(o, episodes=bool(data.values))
    deviations = ""
    if any(row["env"].split("/")[-1].startswith(("HalfCheetah", "Hopper")) for row in cell_rows):
        from rlbench3.envs.locomotion import PACKER_DEVIATIONS  # imports MuJoCo: only here

        deviations = f"; {PACKER_DEVIATIONS}"

    sections = {
        f"Packer et al. (2018) layout: mean final {label}, trained on the row's preset, tested "
        f"on the column's ({ci}{deviations})": pd.DataFrame(cell_rows)
    }
    if summary_rows:
        sections[
            f"Packer et al. (2018) summary: Default = DD, Interpolation = RR, Extrapolation = "
            f"geometric mean of DR, DE, RE ({ci}, seeds resampled within each training preset; "
            f"seeds = D-trained/R-trained{deviations})"
        ] = pd.DataFrame(summary_rows)
    return sections


# ---------------------------------------------------------------------------------------------
# Building and rendering
# ---------------------------------------------------------------------------------------------


def _counts(values: Collection[Any]) -> str:
    """Distinct counts as text: ``"20"``, or ``"mixed (4, 20)"``."""
    distinct = sorted(set(values))
    if len(distinct) == 1:
        return str(distinct[0])
    return "mixed (" + ", ".join(map(str, distinct)) + ")"


def protocol_text(
    run_ids: Collection[str],
    configs: Mapping[str, RunConfig] | None,
    episode_counts: Collection[int] = (),
) -> str:
    """The evaluation protocol of the runs, for a table's title: how the evaluated policy acted
    (``RunConfig.eval.mode``: greedy or sampled; "mixed" where runs differ) and how many final
    episodes each run was evaluated on per split (from the configs; else from the data)."""
    known = [configs[r] for r in run_ids if configs and r in configs]
    if known:
        modes = sorted({c.eval.mode for c in known})
        mode = f"{modes[0]} actions" if len(modes) == 1 else "mixed (greedy and sampled) actions"
        episodes = _counts([c.eval.episodes for c in known])
        if len(known) < len(set(run_ids)):
            mode += " (runs without a config not counted)"
    else:
        mode = "actions not recorded (no run configs)"
        episodes = _counts(episode_counts) if episode_counts else "unknown"
    return f"evaluation: {mode}, {episodes} final episodes per run and split"


def _section_seeds(frame: pd.DataFrame) -> list[int]:
    """Every seed count of a section's cells (per level for the frontier)."""
    out: list[int] = []
    for column in ("seeds", "seeds_x", "seeds_y"):
        if column not in frame:
            continue
        for v in frame[column]:
            if isinstance(v, str):  # "3/4" (D/R-trained) or "3-5" (per level)
                out.extend(int(p) for p in v.replace("-", "/").split("/") if p.isdigit())
            elif not pd.isna(v):
                out.append(int(v))
    return out


def build_tables(
    curves: pd.DataFrame,
    episodes: pd.DataFrame | None,
    kind: str,
    *,
    configs: Mapping[str, RunConfig] | None = None,
    **options: Any,
) -> dict[str, pd.DataFrame]:
    """The sections of a table (title -> numeric DataFrame; an estimate ``x`` is the columns
    ``x``, ``x_low``, ``x_high``). See :func:`render_table` for the arguments and
    :class:`TableOptions` for ``options``.

    Every title ends with the evaluation protocol (:func:`protocol_text`) and the seeds per cell;
    when a cell has fewer than :data:`MIN_SEEDS` seeds the titles say so and a warning goes to
    stderr."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    o = TableOptions.from_keywords(options)
    scores = run_scores(curves, episodes, metric=o.metric)
    if scores.empty:
        return {"(no finished runs)": pd.DataFrame(columns=["experiment", "setting", "agent"])}
    data = _Data(scores, episode_values(episodes, metric=o.metric), configs, o)
    sections = {"swiss": _swiss, "seeds": _seeds, "gen": _gen}[kind](data)
    counts = scores["episodes"].tolist() if "episodes" in scores else []
    protocol = protocol_text(scores["run_id"].astype(str).unique(), configs, counts)
    fewest = min((n for f in sections.values() for n in _section_seeds(f)), default=None)
    out = {}
    for title, frame in sections.items():
        seeds = _section_seeds(frame)
        text = f"{title}. {protocol}; seeds per cell: {_counts(seeds) if seeds else 'none'}"
        if seeds and min(seeds) < MIN_SEEDS:
            text += (
                f". WARNING: cells with fewer than {MIN_SEEDS} seeds (fewest: {min(seeds)}); "
                "their intervals cover less often than stated (measured coverage: README)"
            )
        out[text] = frame
    if fewest is not None and fewest < MIN_SEEDS:
        print(
            f"rlbench3: warning: the {kind} table has cells of fewer than {MIN_SEEDS} seeds "
            f"(fewest: {fewest}); their intervals are unreliable: run more seeds",
            file=sys.stderr,
        )
    return out


def _number(value: Any, column: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if column in _INT_COLUMNS:
        return f"{value:.0f}"
    if column in _SIG_COLUMNS:
        return f"{value:.3g}"
    return f"{value:.2f}"


def _n_text(row: pd.Series) -> str:
    """The seeds behind a row's estimates: ``n=10``, ``n=4 vs 5``, ``n=3/level``."""
    if "seeds_x" in row and "seeds_y" in row:
        return f"n={row['seeds_x']} vs {row['seeds_y']}"
    if "seeds" not in row:
        return ""
    seeds = row["seeds"]
    if isinstance(seeds, float) and seeds.is_integer():
        seeds = int(seeds)
    per = "/level" if "h50" in row else ""
    return f"n={seeds}{per}"


def _estimate_text(row: pd.Series, name: str) -> str:
    point, low, high = row[name], row[f"{name}_low"], row[f"{name}_high"]
    # an estimate over other units than the row's seeds names its own n (``<name>_n``)
    n = f"n={row[f'{name}_n']:.0f}" if f"{name}_n" in row else _n_text(row)
    suffix = f" ({n})" if n else ""
    if pd.isna(point) and (pd.isna(low) or pd.isna(high)):
        return "n/a" + suffix
    p, lo, hi = _number(point, name), _number(low, name), _number(high, name)
    if name == "h50":  # clipped to the tested range: say so where it was
        p = {"below": f"<{p}", "above": f">{p}"}.get(row["h50_censored"], p)
        if row["h50_low_censored"]:
            lo = f"<={lo}"
        elif row["h50_censored"] == "above" and low == high:  # wholly above the range
            lo = f">={lo}"
        hi = f">={hi}" if row["h50_high_censored"] else hi
    return f"{p} [{lo}, {hi}]{suffix}"


def estimate_columns(frame: pd.DataFrame) -> list[str]:
    """The estimate columns of a numeric section (those with ``_low`` and ``_high`` siblings)."""
    return [
        c for c in frame.columns if f"{c}_low" in frame.columns and f"{c}_high" in frame.columns
    ]


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A section as text: each estimate as ``point [low, high] (n=seeds)``, numbers rounded
    (``n`` is the row's ``seeds``, or the estimate's own ``<name>_n`` column where it has one)."""
    estimates = estimate_columns(frame)
    hidden = {f"{c}_{s}" for c in estimates for s in ("low", "high", "n")}
    if "h50" in estimates:
        hidden |= {"h50_censored", "h50_low_censored", "h50_high_censored"}
    out = {}
    for column in frame.columns:
        if column in hidden:
            continue
        if column in estimates:
            out[column] = [_estimate_text(row, column) for _, row in frame.iterrows()]
        elif pd.api.types.is_float_dtype(frame[column]):
            out[column] = [_number(v, column) for v in frame[column]]
        else:
            out[column] = frame[column].astype(str).tolist()
    return pd.DataFrame(out, columns=list(out))


def _latex_comparisons(text: str) -> str:
    """``<`` and ``>`` are not text characters in LaTeX (OT1 prints them as ¡ and ¿)."""
    for plain, math_mode in (("<=", r"$\leq$"), (">=", r"$\geq$"), ("<", "$<$"), (">", "$>$")):
        text = text.replace(plain, math_mode)
    return text


def render_sections(sections: Mapping[str, pd.DataFrame], fmt: str) -> str:
    """Render built sections in ``fmt`` (``md``, ``latex`` or ``csv``)."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    parts = []
    for title, frame in sections.items():
        if fmt == "csv":
            parts.append(f"# {title}\n" + frame.to_csv(index=False, float_format="%.6g"))
            continue
        shown = display_frame(frame)
        if fmt == "md":
            body = shown.to_markdown(index=False, disable_numparse=True) if len(shown) else "(none)"
            parts.append(f"### {title}\n\n{body}\n")
        else:
            parts.append(
                f"% {title}\n" + _latex_comparisons(shown.to_latex(index=False, escape=True))
            )
    return "\n".join(parts)


def render_table(
    curves: pd.DataFrame,
    episodes: pd.DataFrame | None,
    kind: str,
    fmt: str = "md",
    *,
    configs: Mapping[str, RunConfig] | None = None,
    **options: Any,
) -> str:
    """Render a ``kind`` table (``swiss``, ``seeds``, ``gen``) in ``fmt`` (``md``, ``latex``,
    ``csv``).

    Args:
        curves: :func:`rlbench3.analysis.results.load`'s frame.
        episodes: :func:`rlbench3.analysis.results.load_episodes`'s frame: each run's final
            score is the mean over these episodes (``None``: the last point of the curve).
        configs: run id -> resolved config (see :func:`load_configs`): the evaluation protocol
            in every title, and the Packer layout of ``gen`` (without them the titles say the
            protocol is not recorded).
        options: :class:`TableOptions` fields (``reps``, ``seed``, ...).
    """
    return render_sections(build_tables(curves, episodes, kind, configs=configs, **options), fmt)


def render_results(
    out: str | Path,
    kind: str,
    fmt: str = "md",
    *,
    run_ids: Collection[str] | None = None,
    **kwargs: Any,
) -> str:
    """:func:`render_table` for a results folder (verified records only, configs included);
    ``run_ids``, when given, selects the runs (e.g. those of one suite)."""
    runs = [r for r in stored_runs(out) if run_ids is None or r.run_id in run_ids]
    configs = {run.run_id: run.config for run in runs}
    return render_table(
        curves_frame(runs), episodes_frame(runs), kind, fmt, configs=configs, **kwargs
    )
