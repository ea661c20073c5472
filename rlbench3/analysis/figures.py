"""What every figure shows, computed; :mod:`rlbench3.plots` only draws it.

Small functions from the frames of :func:`rlbench3.analysis.results.load` (learning curves) and
:func:`rlbench3.analysis.tables.run_scores` (one final score per run × split) to plain frozen
dataclasses of arrays, one per kind of figure:

* :func:`learning_curves`: per experiment × setting × agent, each run's curve and the IQM over
  runs on a common step grid with a stratified-bootstrap band (:func:`iqm_band`, through
  :func:`rlbench3.analysis.metrics.iqm_curve`).
* :func:`trainability_frontiers`: per experiment × numeric grid parameter (× values of the other
  grid parameters) × agent, the fraction of seeds that solved each level with exact
  Clopper-Pearson intervals (:func:`fraction_solved`) and
  :func:`rlbench3.analysis.metrics.trainability_frontier`'s logistic fit, H50/d50 and its
  profile-likelihood interval (the ``swiss`` table's numbers, censored at the tested range
  where they reach past it).
* :func:`experiment_profiles`: per experiment,
  :func:`rlbench3.analysis.metrics.performance_profiles` of every agent over its settings.
* :func:`generalization_gaps`: per experiment × held-out split × setting × agent,
  :func:`rlbench3.analysis.metrics.generalization_gap` (paired train − split).
* :func:`landscape_for_results`: a landscape slice and a hole-fraction probe of a results
  folder's first experiment (:mod:`rlbench3.analysis.landscape`).

Every order (experiments, settings) is :mod:`rlbench3.analysis.ordering`'s, agents are sorted by
name. Every bootstrap takes an explicit ``seed`` and draws from
:func:`rlbench3.analysis.metrics.rng_for` of that seed and the row's key, as the tables do, so a
row's numbers do not change when other runs are added to the folder; a frontier's key is the one
of the ``swiss`` table, so the figure and the table agree at equal ``reps``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rlbench3.analysis import metrics as M
from rlbench3.analysis.ordering import (
    difficulty_columns,
    experiments,
    fixed_label,
    grid_columns,
    ordered_settings,
    value_key,
)
from rlbench3.analysis.probes import clopper_pearson
from rlbench3.harness.run_config import TRAIN

if TYPE_CHECKING:
    from rlbench3.analysis.landscape import LandscapeProbe, LandscapeSlice

__all__ = [
    "CurveBand",
    "Curves",
    "FrontierCurve",
    "FrontierPanel",
    "Frontiers",
    "GapPanel",
    "Gaps",
    "LandscapeData",
    "ProfilePanel",
    "Profiles",
    "RunLine",
    "SolvedFraction",
    "experiment_profiles",
    "fraction_solved",
    "generalization_gaps",
    "iqm_band",
    "landscape_for_results",
    "learning_curves",
    "score_matrix",
    "step_grid",
    "trainability_frontiers",
]

GAP_COLUMNS = ["setting", "agent", "seeds", "gap", "gap_low", "gap_high"]


def _agents(frame: pd.DataFrame) -> tuple[str, ...]:
    return tuple(sorted(str(a) for a in pd.unique(frame["agent"]))) if len(frame) else ()


# ---------------------------------------------------------------------------------------------
# Learning curves
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunLine:
    """One run's learning curve."""

    run_id: str
    steps: np.ndarray  # (num_evals,) ascending evaluation steps
    values: np.ndarray  # (num_evals,) the metric at each


@dataclass(frozen=True)
class CurveBand:
    """The runs of one experiment × setting × agent and their IQM on a common step grid."""

    experiment: str
    setting: str
    agent: str
    runs: tuple[RunLine, ...]  # by run id
    grid: np.ndarray  # (num_points,) the common step grid, 0 .. the longest run's last step
    runs_at: np.ndarray  # (num_points,) runs that reached each grid point (the IQM's runs)
    iqm: M.Estimate  # of (num_points,) arrays: IQM over those runs, bootstrap interval


@dataclass(frozen=True)
class Curves:
    """Everything :func:`rlbench3.plots.plot_curves` draws."""

    metric: str
    split: str
    confidence: float
    agents: tuple[str, ...]  # every agent of the split, by name (one colour each)
    experiments: tuple[str, ...]  # the rows of panels, in order
    panels: tuple[tuple[str, str], ...]  # (experiment, setting), in order
    bands: tuple[CurveBand, ...]  # per panel × agent: panels' order, then by agent

    def bands_of(self, experiment: str, setting: str) -> list[CurveBand]:
        """The bands of one panel, by agent."""
        return [b for b in self.bands if (b.experiment, b.setting) == (experiment, setting)]


def step_grid(last_steps: np.ndarray, points: int) -> np.ndarray:
    """``(max(2, points),)`` evenly spaced steps from 0 to the largest of ``last_steps``
    (``(num_runs,)`` each run's last evaluation step)."""
    return np.linspace(0.0, float(np.max(last_steps)), max(2, int(points)))


def iqm_band(
    runs: Sequence[RunLine],
    grid: np.ndarray,
    *,
    seed: int,
    key: Sequence[Any] = (),
    reps: int = 500,
    confidence: float = 0.95,
) -> tuple[M.Estimate, np.ndarray]:
    """IQM over runs at every point of ``grid`` (``(num_points,)``), with a stratified-bootstrap
    interval (:func:`rlbench3.analysis.metrics.iqm_curve`).

    Each run is linearly interpolated onto the grid points it reached (up to its last step):
    runs of different lengths (budgets) leave the later points to the longer runs. Consecutive
    points with the same runs are one bootstrap, seeded with ``rng_for(seed, *key, start)``
    where ``start`` is the index of the span's first point.

    Returns:
        the :class:`~rlbench3.analysis.metrics.Estimate` of ``(num_points,)`` arrays and
        ``(num_points,)`` the number of runs behind each point.
    """
    grid = np.asarray(grid, dtype=float)
    last = np.array([float(r.steps.max()) for r in runs])
    covered = grid[None, :] <= last[:, None]  # (num_runs, num_points)
    mid, low, high = (np.full(grid.size, np.nan) for _ in range(3))
    start = 0
    for k in range(1, grid.size + 1):
        if k < grid.size and np.array_equal(covered[:, k], covered[:, start]):
            continue
        span = slice(start, k)
        values = np.array(
            [np.interp(grid[span], r.steps, r.values) for r, c in zip(runs, covered[:, start]) if c]
        )
        if len(values):
            est = M.iqm_curve(
                values, M.rng_for(seed, *key, start), reps=reps, confidence=confidence
            )
            mid[span], low[span], high[span] = est.point, est.low, est.high
        start = k
    return M.Estimate(mid, low, high), covered.sum(axis=0)


def learning_curves(
    curves: pd.DataFrame,
    *,
    metric: str = "success_rate",
    split: str = TRAIN,
    reps: int = 500,
    confidence: float = 0.95,
    seed: int = 0,
    points: int | None = None,
) -> Curves:
    """Learning curves of one split, per experiment × setting × agent.

    Args:
        curves: the frame of :func:`rlbench3.analysis.results.load`.
        metric: ``"success_rate"`` or ``"mean_return"``.
        split: the evaluation split.
        reps, confidence, seed: the bootstrap of the IQM band (see :func:`iqm_band`; the key of
            a band is ``("curves", experiment, setting, agent)``).
        points: size of each common step grid (default: the most evaluation points of a run of
            the band); the grid spans 0 .. the band's longest run.
    """
    if metric not in ("success_rate", "mean_return"):
        raise ValueError(f"metric must be 'success_rate' or 'mean_return', got {metric!r}")
    data = curves[curves["split"] == split] if len(curves) else curves
    if data.empty:
        return Curves(metric, split, confidence, (), (), (), ())
    exps = experiments(data)
    panels = [(e, s) for e in exps for s in ordered_settings(data, e)]
    bands = []
    for exp, setting in panels:
        group = data[(data["experiment"] == exp) & (data["setting"] == setting)]
        for agent, by_agent in group.groupby("agent", sort=True):
            runs = []
            for rid, run in by_agent.groupby("run_id"):
                run = run.sort_values("step")
                steps, values = run["step"].to_numpy(float), run[metric].to_numpy(float)
                runs.append(RunLine(str(rid), steps, values))
            last = np.array([r.steps.max() for r in runs])
            grid = step_grid(last, points or max(len(r.steps) for r in runs))
            est, runs_at = iqm_band(
                runs,
                grid,
                seed=seed,
                key=("curves", exp, setting, agent),
                reps=reps,
                confidence=confidence,
            )
            bands.append(CurveBand(exp, setting, str(agent), tuple(runs), grid, runs_at, est))
    return Curves(
        metric, split, confidence, _agents(data), tuple(exps), tuple(panels), tuple(bands)
    )


# ---------------------------------------------------------------------------------------------
# Trainability frontier
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SolvedFraction:
    """Per difficulty level, the seeds that solved it and an exact interval on the fraction."""

    levels: np.ndarray  # (num_levels,) the distinct difficulties, ascending
    seeds: np.ndarray  # (num_levels,) runs at each level
    solved: np.ndarray  # (num_levels,) runs whose score >= solved_at
    fraction: np.ndarray  # (num_levels,) solved / seeds
    low: np.ndarray  # (num_levels,) Clopper-Pearson interval of the fraction
    high: np.ndarray  # (num_levels,)


def fraction_solved(
    difficulty: np.ndarray,
    scores: np.ndarray,
    *,
    solved_at: float = 0.5,
    confidence: float = 0.95,
) -> SolvedFraction:
    """The fraction of seeds that solved each difficulty level, with exact (Clopper-Pearson)
    intervals (:func:`rlbench3.analysis.probes.clopper_pearson`).

    Args:
        difficulty: ``(num_runs,)`` each run's difficulty.
        scores: ``(num_runs,)`` each run's final success; a run solved its level when its score
            is at least ``solved_at``.
    """
    x = np.asarray(difficulty, dtype=float)
    y = np.asarray(scores, dtype=float)
    if x.ndim != 1 or x.shape != y.shape or x.size == 0:
        raise ValueError(f"difficulty and scores must be (num_runs,), got {x.shape}, {y.shape}")
    solved = y >= solved_at
    levels = np.unique(x)
    seeds = np.array([int(np.sum(x == v)) for v in levels])
    hits = np.array([int(np.sum(solved[x == v])) for v in levels])
    ci = np.array([clopper_pearson(int(h), int(n), confidence) for h, n in zip(hits, seeds)])
    return SolvedFraction(levels, seeds, hits, hits / seeds, ci[:, 0], ci[:, 1])


@dataclass(frozen=True)
class FrontierCurve:
    """One agent on one frontier panel."""

    agent: str
    difficulty: np.ndarray  # (num_runs,) each run's difficulty
    scores: np.ndarray  # (num_runs,) each run's final train success
    solved: SolvedFraction
    fit: M.Frontier | None  # logistic fit, H50/d50 and its interval; None below two levels


@dataclass(frozen=True)
class FrontierPanel:
    """Success against one difficulty, the other grid parameters held at ``fixed``."""

    experiment: str
    parameter: str  # the difficulty: a grid parameter (without ``param_``)
    fixed: str  # the other grid parameters, ``"name=value, ..."`` ("" when there are none)
    levels: np.ndarray  # (num_levels,) every level of the panel, any agent
    curves: tuple[FrontierCurve, ...]  # by agent
    # vertical reference lines (difficulty, label), e.g. T1's H* where B/H * K^-H = 1
    marks: tuple[tuple[float, str], ...] = ()


@dataclass(frozen=True)
class Frontiers:
    """Everything :func:`rlbench3.plots.plot_frontier` draws."""

    solved_at: float
    confidence: float
    agents: tuple[str, ...]  # every agent of the train split, by name (one colour each)
    panels: tuple[FrontierPanel, ...]  # experiments in order, then parameters, then fixed values


def trainability_frontiers(
    scores: pd.DataFrame,
    *,
    solved_at: float = 0.5,
    reps: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Frontiers:
    """Final train success against difficulty: one panel per experiment × numeric grid
    parameter × values of the other grid parameters, one :class:`FrontierCurve` per agent.

    Args:
        scores: :func:`rlbench3.analysis.tables.run_scores` rows (one per run × split; the train
            split is used), with the ``param_*`` grid columns.
        solved_at: a seed solved a level when its final train success is at least this.
        reps, confidence, seed: :func:`rlbench3.analysis.metrics.trainability_frontier`'s
            (its H50 interval is the profile likelihood's; ``reps`` and ``seed``, with the key
            ``("frontier", experiment, "param_<name>", fixed, agent)`` as the ``swiss``
            table's, draw the bootstrap band of the curve) and the Clopper-Pearson intervals'
            confidence.
    """
    train = scores[scores["split"] == TRAIN] if len(scores) else scores
    panels = []
    for exp in experiments(train) if len(train) else []:
        group = train[train["experiment"] == exp]
        params = grid_columns(group)
        for p in difficulty_columns(group):
            others = [q for q in params if q != p]
            if others:
                groups = [
                    (k if isinstance(k, tuple) else (k,), g)
                    for k, g in group.groupby(others, sort=False)
                ]
                groups.sort(key=lambda item: tuple(value_key(v) for v in item[0]))
            else:
                groups = [((), group)]
            for fixed, g in groups:
                x_all = pd.to_numeric(g[p]).to_numpy(float)
                key_label = fixed_label(others, fixed)
                curves = []
                for agent, rows in g.groupby("agent", sort=True):
                    x = pd.to_numeric(rows[p]).to_numpy(float)
                    y = rows["score"].to_numpy(float)
                    solved = fraction_solved(x, y, solved_at=solved_at, confidence=confidence)
                    fit = None
                    if solved.levels.size >= 2:
                        fit = M.trainability_frontier(
                            x,
                            (y >= solved_at).astype(float),
                            M.rng_for(seed, "frontier", exp, p, key_label, agent),
                            reps=reps,
                            confidence=confidence,
                        )
                    curves.append(FrontierCurve(str(agent), x, y, solved, fit))
                panels.append(
                    FrontierPanel(
                        exp,
                        p[len("param_") :],
                        ", ".join(f"{q[6:]}={v}" for q, v in zip(others, fixed)),
                        np.unique(x_all),
                        tuple(curves),
                    )
                )
    return Frontiers(solved_at, confidence, _agents(train), tuple(panels))


# ---------------------------------------------------------------------------------------------
# Performance profiles
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfilePanel:
    """Performance profiles of one experiment."""

    experiment: str
    settings: tuple[str, ...]  # the tasks, in order
    seeds: dict[str, int]  # agent -> seeds per task used (agents with every setting, by name)
    profiles: dict[str, M.Estimate]  # agent -> Estimate of (num_taus,) arrays


@dataclass(frozen=True)
class Profiles:
    """Everything :func:`rlbench3.plots.plot_profiles` draws."""

    split: str
    confidence: float
    taus: np.ndarray  # (num_taus,) success thresholds
    agents: tuple[str, ...]  # every agent of the split, by name (one colour each)
    panels: tuple[ProfilePanel, ...]  # experiments in order


def score_matrix(group: pd.DataFrame, settings: Sequence[str]) -> np.ndarray:
    """``(num_seeds × num_tasks)`` final scores of one agent: column ``j`` is setting
    ``settings[j]``'s runs by seed, every column cut to the fewest seeds any setting has (the
    lowest-numbered seeds)."""
    columns = [
        group[group["setting"] == t].sort_values("seed")["score"].to_numpy(float) for t in settings
    ]
    n = min(len(c) for c in columns)
    return np.column_stack([c[:n] for c in columns])


def experiment_profiles(
    scores: pd.DataFrame,
    *,
    split: str = TRAIN,
    reps: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    taus: np.ndarray | None = None,
) -> Profiles:
    """Per experiment, the fraction of runs (over seeds and settings) whose final score exceeds
    each threshold τ, per agent, with stratified-bootstrap bands
    (:func:`rlbench3.analysis.metrics.performance_profiles`, key ``("profiles", experiment)``).

    rliable needs a full ``(num_seeds × num_tasks)`` matrix per agent (:func:`score_matrix`): an
    agent without runs in every setting of the experiment is left out of its panel.

    Args:
        scores: :func:`rlbench3.analysis.tables.run_scores` rows.
        taus: ``(num_taus,)`` thresholds (default: 101 points on [0, 1]).
    """
    taus = np.linspace(0.0, 1.0, 101) if taus is None else np.asarray(taus, dtype=float)
    data = scores[scores["split"] == split] if len(scores) else scores
    panels = []
    for exp in experiments(data) if len(data) else []:
        group = data[data["experiment"] == exp]
        settings = ordered_settings(group, exp)
        matrices, seeds = {}, {}
        for agent, g in group.groupby("agent", sort=True):
            if set(g["setting"]) >= set(settings):
                matrices[str(agent)] = score_matrix(g, settings)
                seeds[str(agent)] = matrices[str(agent)].shape[0]
        profiles = (
            M.performance_profiles(
                matrices,
                taus,
                M.rng_for(seed, "profiles", exp),
                reps=reps,
                confidence=confidence,
            )
            if matrices
            else {}
        )
        panels.append(ProfilePanel(exp, tuple(settings), seeds, profiles))
    return Profiles(split, confidence, taus, _agents(data), tuple(panels))


# ---------------------------------------------------------------------------------------------
# Generalization gaps
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GapPanel:
    """The gaps train − ``split`` of one experiment."""

    experiment: str
    split: str
    settings: tuple[str, ...]  # every setting of the experiment, in order (the x positions)
    rows: pd.DataFrame  # GAP_COLUMNS, one row per setting × agent with paired runs, in order


@dataclass(frozen=True)
class Gaps:
    """Everything :func:`rlbench3.plots.plot_gaps` draws."""

    confidence: float
    agents: tuple[str, ...]  # every agent, by name (one colour each)
    panels: tuple[GapPanel, ...]  # experiments in order, then held-out splits by name

    def table(self) -> pd.DataFrame:
        """All panels' rows in one frame, with ``experiment`` and ``split`` columns."""
        frames = [p.rows.assign(experiment=p.experiment, split=p.split) for p in self.panels]
        columns = ["experiment", "split", *GAP_COLUMNS]
        return (
            pd.concat(frames, ignore_index=True)[columns]
            if frames
            else pd.DataFrame(columns=columns)
        )


def generalization_gaps(
    scores: pd.DataFrame,
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Gaps:
    """Per experiment × held-out split × setting × agent, the generalization gap train − split
    of the final score: :func:`rlbench3.analysis.metrics.generalization_gap` over the runs
    evaluated on both (paired per run, percentile bootstrap over seeds; key ``("gaps",
    experiment, split, setting, agent)``).

    Args:
        scores: :func:`rlbench3.analysis.tables.run_scores` rows.
    """
    panels = []
    for exp in experiments(scores) if len(scores) else []:
        group = scores[scores["experiment"] == exp]
        settings = ordered_settings(group, exp)
        for split in sorted(set(group["split"]) - {TRAIN}):
            rows = []
            for setting in settings:
                for agent, g in group[group["setting"] == setting].groupby("agent", sort=True):
                    wide = g.pivot_table(
                        index="run_id", columns="split", values="score", aggfunc="first"
                    )
                    if TRAIN not in wide or split not in wide:
                        continue
                    paired = wide[[TRAIN, split]].dropna()
                    if paired.empty:
                        continue
                    est = M.generalization_gap(
                        paired[TRAIN].to_numpy(float),
                        paired[split].to_numpy(float),
                        M.rng_for(seed, "gaps", exp, split, setting, agent),
                        reps=reps,
                        confidence=confidence,
                    )
                    rows.append(
                        {
                            "setting": setting,
                            "agent": str(agent),
                            "seeds": len(paired),
                            "gap": float(est.point),
                            "gap_low": float(est.low),
                            "gap_high": float(est.high),
                        }
                    )
            frame = pd.DataFrame(rows, columns=GAP_COLUMNS)
            panels.append(GapPanel(exp, split, tuple(settings), frame))
    return Gaps(confidence, _agents(scores), tuple(panels))


# ---------------------------------------------------------------------------------------------
# Landscape
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LandscapeData:
    """A landscape slice and a hole-fraction probe of one env of a results folder."""

    slice: LandscapeSlice  # (grid × grid) returns around a fresh initialisation
    probe: LandscapeProbe  # sampled initial policies and the hole fraction
    experiment: str
    env_id: str
    setting: str  # the run config's setting label
    params: dict[str, Any]  # the train split's env keywords
    policy_kwargs: dict[str, Any]  # of the policies (the PPO-family agent's, or PPO's default)


def landscape_for_results(
    results_dir: str | Path,
    *,
    grid: int = 21,
    radius: float = 1.0,
    episodes: int = 8,
    n_policies: int = 256,
    seed: int = 0,
) -> LandscapeData:
    """The slice and the probe that ``render_plot(..., "landscape")`` draws: the first
    experiment's env (by name) at its first setting (by grid value), train parameters, a fresh
    initialisation of the PPO-family agent's policy (its ``policy_kwargs``; PPO's default
    otherwise), deterministic actions as RandomSearch and the evaluator use.

    Args:
        grid, radius, episodes, seed: :func:`rlbench3.analysis.landscape.landscape_slice`'s.
        n_policies: policies of :func:`rlbench3.analysis.landscape.landscape_probe` (with the
            same ``episodes`` and ``seed``).
    """
    from rlbench3.analysis import landscape
    from rlbench3.analysis.results import stored_runs

    configs = [run.config for run in stored_runs(results_dir)]
    if not configs:
        raise FileNotFoundError(f"no finished runs in {results_dir}")
    frame = pd.DataFrame(
        [
            {
                "experiment": c.experiment,
                "setting": c.label,
                **{f"param_{k}": v for k, v in c.setting.items()},
            }
            for c in configs
        ]
    )
    first = experiments(frame)[0]
    settings = ordered_settings(frame, first)
    runs = sorted(
        (c for c in configs if c.experiment == first),
        key=lambda c: (settings.index(c.label), c.agent.name, c.seed),
    )
    config = runs[0]
    env_id, params = config.env_id, dict(config.splits[TRAIN])
    policy_kwargs: dict[str, Any] = {}
    for c in runs:
        source = c.agent.hyperparams.get("policy_from", c.agent.algo)
        if source in ("PPO", "A2C", "TRPO"):
            policy_kwargs = dict(c.agent.hyperparams.get("policy_kwargs") or {})
            break
    sl = landscape.landscape_slice(
        env_id,
        grid=grid,
        radius=radius,
        episodes=episodes,
        seed=seed,
        policy_kwargs=policy_kwargs,
        **params,
    )
    probe = landscape.landscape_probe(
        env_id, n_policies, episodes, seed=seed, policy_kwargs=policy_kwargs, **params
    )
    return LandscapeData(sl, probe, first, env_id, config.label, params, policy_kwargs)
