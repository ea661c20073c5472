"""The numbers of the paper tables (T1, T2, T4) that the generic tables do not compute.

Each ``t*_tables`` function returns the sections of one paper table (title -> numeric DataFrame,
as :func:`rlbench3.analysis.tables.build_tables`; estimates are ``x``, ``x_low``, ``x_high``), so
:func:`rlbench3.analysis.tables.render_sections` writes them as Markdown, LaTeX or CSV:

* **T1, swiss cheese vs horizon** (:func:`t1_tables`): the ``swiss`` table (final success and
  zero-signal fraction per agent, H50 per agent) plus, per lock setting, what a uniform policy
  gets: the closed form ``K^-H``, the measured hit probability, the hole fraction of initial
  policies and the expected number of rewarded episodes in the training budget,
  ``B / H * K^-H`` (:func:`expected_rewarded_episodes`); the frontier section gains the horizon
  where that number crosses 1 (:func:`collapse_horizon`), the essay's predicted collapse.
* **T2, the action-dimension cliff** (:func:`t2_tables`): the ``swiss`` table plus, per agent, the
  drop in success from each action dimension to the next, with a two-level interval
  (:func:`dimension_drops`), the largest marked.
* **T4, generalization** (:func:`t4_tables`): the ``gen`` table's Packer et al. (2018) summary
  with the paper's published row beside each of ours (:data:`PACKER_PUBLISHED`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from rlbench3.analysis import metrics as M
from rlbench3.analysis.ordering import difficulty_columns, fixed_label, grid_columns
from rlbench3.analysis.results import curves_frame, episodes_frame, stored_runs
from rlbench3.analysis.tables import (
    TableOptions,
    build_tables,
    episode_values,
    frontier_columns,
    protocol_text,
    put_estimate,
    run_scores,
)
from rlbench3.harness.run_config import TRAIN, RunConfig
from rlbench3.harness.storage import StoredRun

LOCK_ID = "rlbench3/CombinationLock-v0"
# Action-dimension axes of the T2 families: SparseReach's actuated dims, ArmReach's joints.
DIMENSION_PARAMETERS = ("action_dim", "n_joints")

# Packer et al. (2018), Table 2 (success %, Default / Interpolation / Extrapolation; feed-forward
# 2x64 policies, mean of 5 runs, sampled actions over 1000 trials; millions of steps per run).
PACKER_PUBLISHED: Mapping[tuple[str, str], tuple[float, float, float]] = {
    ("CartPole", "A2C"): (100.0, 100.0, 93.63),
    ("CartPole", "PPO"): (100.0, 100.0, 86.20),
    ("MountainCar", "A2C"): (79.78, 84.10, 89.72),
    ("MountainCar", "PPO"): (99.96, 84.12, 90.21),
    ("Acrobot", "A2C"): (88.52, 72.88, 66.56),
    ("Acrobot", "PPO"): (87.20, 72.78, 64.93),
    ("Pendulum", "A2C"): (100.0, 99.86, 90.27),
    ("Pendulum", "PPO"): (0.0, 31.80, 0.0),
    ("HalfCheetah", "A2C"): (85.06, 91.96, 40.54),
    ("HalfCheetah", "PPO"): (96.62, 95.02, 38.51),
    ("Hopper", "A2C"): (15.46, 11.00, 1.63),
    ("Hopper", "PPO"): (85.54, 39.68, 10.36),
}


@dataclass(frozen=True)
class ResultsData:
    """What the paper tables read from a results folder."""

    folder: Path
    runs: tuple[StoredRun, ...]
    configs: dict[str, RunConfig]
    curves: pd.DataFrame
    episodes: pd.DataFrame

    @classmethod
    def load(cls, results_dir: str | Path) -> ResultsData:
        runs = stored_runs(results_dir)
        return cls(
            Path(results_dir),
            tuple(runs),
            {run.run_id: run.config for run in runs},
            curves_frame(runs),
            episodes_frame(runs),
        )

    def tables(self, kind: str, options: TableOptions) -> dict[str, pd.DataFrame]:
        return build_tables(
            self.curves, self.episodes, kind, configs=self.configs, **_keywords(options)
        )

    @property
    def protocol(self) -> str:
        return protocol_text(list(self.configs), self.configs)


def _keywords(options: TableOptions) -> dict[str, Any]:
    return {name: getattr(options, name) for name in options.__dataclass_fields__}


# ---------------------------------------------------------------------------------------------
# T1: swiss cheese vs horizon
# ---------------------------------------------------------------------------------------------


def expected_rewarded_episodes(budget: float, horizon: float, num_actions: float) -> float:
    """``B / H * K^-H``: the rewarded episodes a uniform random policy expects in a budget of
    ``B`` env steps on an ``H``-step lock with ``K`` actions (every episode lasts ``H`` steps and
    opens the lock with probability ``K^-H``)."""
    if budget <= 0 or horizon <= 0 or num_actions < 1:
        raise ValueError(
            f"need budget > 0, horizon > 0, num_actions >= 1; got {budget}, {horizon}, "
            f"{num_actions}"
        )
    return budget / horizon * float(num_actions) ** -horizon


def collapse_horizon(budget: float, num_actions: float) -> float:
    """The horizon ``H*`` (a real number) at which :func:`expected_rewarded_episodes` equals 1:
    the root of ``log B - log H - H log K = 0`` (the left side falls with ``H``). ``nan`` when
    even ``H = 1`` expects fewer than one rewarded episode (``B < K``) or when ``K = 1``."""
    if budget <= 0 or num_actions < 1:
        raise ValueError(f"need budget > 0 and num_actions >= 1; got {budget}, {num_actions}")
    log_k = math.log(num_actions)
    if log_k == 0.0 or budget < num_actions:
        return math.nan

    def excess(h: float) -> float:
        return math.log(budget) - math.log(h) - h * log_k

    high = 1.0
    while excess(high) > 0:
        high *= 2.0
    return float(optimize.brentq(excess, 1.0, high, xtol=1e-12))


def _lock_settings(configs: Mapping[str, RunConfig]) -> list[RunConfig]:
    """One config per (experiment, setting) of the lock runs, in a stable order."""
    seen: dict[tuple[str, str], RunConfig] = {}
    for config in sorted(configs.values(), key=lambda c: (c.experiment, c.label, c.run_id)):
        if config.env_id == LOCK_ID:
            seen.setdefault((config.experiment, config.label), config)
    return list(seen.values())


def lock_probe_rows(
    configs: Mapping[str, RunConfig],
    *,
    episodes: int = 20_000,
    policies: int = 256,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per lock setting of the runs: what a policy that has not learned gets.

    Columns: ``experiment``, ``setting``, ``horizon``, ``num_actions``, ``budget`` (the runs'
    env steps), ``uniform_closed_form`` (``K^-H``), ``uniform_hit`` (measured over ``episodes``
    uniform-random episodes, Clopper-Pearson interval; ``uniform_episodes`` counts them),
    ``hole_fraction`` (the share of ``policies`` initial PPO-style policies, acting greedily, that
    open the lock at least once; exact interval; ``policies`` counts them) and
    ``expected_rewarded`` (:func:`expected_rewarded_episodes` of the budget).
    """
    from rlbench3.analysis.landscape import landscape_probe
    from rlbench3.analysis.probes import hit_probability
    from rlbench3.envs.combination_lock import CombinationLockParams

    defaults = CombinationLockParams()
    rows = []
    for config in _lock_settings(configs):
        params = dict(config.splits[TRAIN])
        horizon = int(params.get("horizon", defaults.horizon))
        num_actions = int(params.get("num_actions", defaults.num_actions))
        hit = hit_probability(LOCK_ID, episodes, seed=seed, confidence=confidence, **params)
        probe = landscape_probe(
            LOCK_ID,
            policies,
            1,  # greedy initial policies on a fixed lock repeat one episode
            seed=seed,
            confidence=confidence,
            policy_kwargs=_policy_kwargs(configs),
            **params,
        ).hole_fraction
        row: dict[str, Any] = {
            "experiment": config.experiment,
            "setting": config.label,
            "horizon": horizon,
            "num_actions": num_actions,
            "budget": config.budget,
            "uniform_closed_form": float(num_actions) ** -horizon,
        }
        put_estimate(row, "uniform_hit", M.Estimate(hit.probability, hit.low, hit.high))
        row["uniform_episodes"] = hit.episodes
        put_estimate(row, "hole_fraction", M.Estimate(probe.probability, probe.low, probe.high))
        row["policies"] = probe.episodes
        row["expected_rewarded"] = expected_rewarded_episodes(config.budget, horizon, num_actions)
        rows.append(row)
    # the tables' order: by experiment, then the grid's numbers (horizon=10 after horizon=9)
    rows.sort(key=lambda r: (r["experiment"], r["num_actions"], r["horizon"]))
    return pd.DataFrame(rows)


def _policy_kwargs(configs: Mapping[str, RunConfig]) -> dict[str, Any]:
    """The network of the runs' PPO-family agent (PPO's default when there is none)."""
    for config in sorted(configs.values(), key=lambda c: c.run_id):
        source = config.agent.hyperparams.get("policy_from", config.agent.algo)
        if str(source).startswith(("PPO", "A2C", "TRPO")):
            return dict(config.agent.hyperparams.get("policy_kwargs") or {})
    return {}


def t1_tables(
    data: ResultsData,
    options: TableOptions,
    *,
    probe_episodes: int = 20_000,
    probe_policies: int = 256,
) -> dict[str, pd.DataFrame]:
    """T1's sections: the ``swiss`` table, its frontier with the collapse horizon ``H*`` of each
    lock's budget and ``K`` beside every agent's H50, and the uniform-policy probes per setting
    (:func:`lock_probe_rows`)."""
    sections = data.tables("swiss", options)
    out: dict[str, pd.DataFrame] = {}
    for title, frame in sections.items():
        if title.startswith("Trainability frontier") and len(frame):
            frame = _with_collapse(frame, data.configs)
            title = title.replace(
                "Trainability frontier:",
                "Trainability frontier (H* = the horizon where a uniform policy expects one "
                "rewarded episode in the budget, B/H * K^-H = 1):",
                1,
            )
        out[title] = frame
    probes = lock_probe_rows(
        data.configs,
        episodes=probe_episodes,
        policies=probe_policies,
        seed=options.seed,
        confidence=options.confidence,
    )
    if len(probes):
        pct = f"{options.confidence:.0%}"
        out[
            "What an untrained policy gets: K^-H (closed form), the uniform policy's measured hit "
            f"probability ({probe_episodes} episodes), the hole fraction of {probe_policies} "
            "initial PPO-network policies acting greedily (share that opens the lock), both with "
            f"{pct} Clopper-Pearson intervals, and the rewarded episodes a uniform policy expects "
            "in the training budget B (B/H * K^-H)"
        ] = probes
    return out


def _with_collapse(frame: pd.DataFrame, configs: Mapping[str, RunConfig]) -> pd.DataFrame:
    """The frontier rows with ``collapse_h`` (H*) where the axis is a lock's horizon."""
    budgets: dict[tuple[str, int], set[int]] = {}
    defaults_k = 2
    for config in configs.values():
        if config.env_id != LOCK_ID:
            continue
        k = int(config.splits[TRAIN].get("num_actions", defaults_k))
        budgets.setdefault((config.experiment, k), set()).add(config.budget)
    values = []
    for _, row in frame.iterrows():
        h_star = math.nan
        if row["difficulty"] == "horizon":
            k = _fixed_value(str(row["fixed"]), "num_actions", defaults_k)
            found = budgets.get((row["experiment"], k), set())
            if len(found) == 1:
                h_star = collapse_horizon(next(iter(found)), k)
        values.append(h_star)
    return frame.assign(collapse_h=values)


def _fixed_value(label: str, name: str, default: int) -> int:
    """``num_actions=3`` -> 3 from a frontier row's ``fixed`` label."""
    for part in label.split(", "):
        key, _, value = part.partition("=")
        if key == name:
            return int(float(value))
    return default


# ---------------------------------------------------------------------------------------------
# T2: the action-dimension cliff
# ---------------------------------------------------------------------------------------------


def dimension_drops(
    scores: pd.DataFrame,
    values: Mapping[tuple[str, str], np.ndarray],
    options: TableOptions,
) -> pd.DataFrame:
    """Per experiment, fixed grid values and agent, the change in mean final train success from
    each level of an action-dimension axis (:data:`DIMENSION_PARAMETERS`) to the next tested one.

    ``drop`` is ``mean(level) - mean(next level)`` (positive: success fell) with a two-level
    interval (:func:`rlbench3.analysis.metrics.two_level_difference`: seeds resampled at each level
    independently, episodes within seeds); ``largest`` marks each curve's largest drop.

    Args:
        scores: :func:`rlbench3.analysis.tables.run_scores` rows with ``param_*`` columns.
        values: :func:`rlbench3.analysis.tables.episode_values` (may be empty: then each run's
            final score stands for its episodes).
    """
    train = scores[scores["split"] == TRAIN]
    rows = []
    for exp, group in train.groupby("experiment", sort=True):
        params = grid_columns(group)
        for p in difficulty_columns(group):
            name = p[len("param_") :]
            if name not in DIMENSION_PARAMETERS:
                continue
            others = [q for q in params if q != p]
            keyed = (
                group.groupby(["agent", *others], sort=True)
                if others
                else group.groupby("agent", sort=True)
            )
            for key, g in keyed:
                key = key if isinstance(key, tuple) else (key,)
                agent, fixed = key[0], fixed_label(others, key[1:])
                levels = sorted(pd.to_numeric(g[p]).unique())
                curve = []
                for a, b in zip(levels, levels[1:]):
                    ga = g[pd.to_numeric(g[p]) == a]
                    gb = g[pd.to_numeric(g[p]) == b]
                    est = M.two_level_difference(
                        _episodes_of(ga, values),
                        _episodes_of(gb, values),
                        M.rng_for(options.seed, "cliff", exp, name, fixed, agent, a, b),
                        reps=options.reps,
                        confidence=options.confidence,
                    )
                    row: dict[str, Any] = {
                        "experiment": exp,
                        "agent": agent,
                        "dimension": name,
                        "fixed": fixed or "-",
                        "from": a,
                        "to": b,
                        "seeds": f"{len(ga)}/{len(gb)}",
                        "success_from": float(ga["score"].mean()),
                        "success_to": float(gb["score"].mean()),
                    }
                    put_estimate(row, "drop", est)
                    curve.append(row)
                if curve:
                    worst = max(range(len(curve)), key=lambda i: curve[i]["drop"])
                    for i, row in enumerate(curve):
                        row["largest"] = "yes" if i == worst else ""
                rows.extend(curve)
    return pd.DataFrame(rows)


def _episodes_of(
    group: pd.DataFrame, values: Mapping[tuple[str, str], np.ndarray]
) -> list[np.ndarray]:
    """Each run's final train episodes (its score alone when the episodes are not stored)."""
    group = group.sort_values("seed")
    return [
        values.get((str(rid), TRAIN), np.array([score]))
        for rid, score in zip(group["run_id"], group["score"])
    ]


def t2_tables(data: ResultsData, options: TableOptions) -> dict[str, pd.DataFrame]:
    """T2's sections: the ``swiss`` table (final success per d, d50 per agent) and the drop from
    each action dimension to the next (:func:`dimension_drops`)."""
    out = dict(data.tables("swiss", options))
    scores = run_scores(data.curves, data.episodes)
    drops = dimension_drops(scores, episode_values(data.episodes), options)
    if len(drops):
        pct = f"{options.confidence:.0%}"
        out[
            "The action-dimension cliff: mean final train success at each dimension and the next "
            f"tested one, and the drop between them ({pct} two-level bootstrap CI: seeds "
            "resampled at each level independently, episodes within seeds; 'largest': each "
            f"agent's largest drop). {data.protocol}"
        ] = drops
    return out


# ---------------------------------------------------------------------------------------------
# T4: generalization beside Packer et al.
# ---------------------------------------------------------------------------------------------


def packer_task(env_id: str) -> str:
    """``rlbench3/CartPole-v0`` -> ``CartPole``."""
    return env_id.split("/")[-1].split("-v")[0]


def t4_tables(data: ResultsData, options: TableOptions) -> dict[str, pd.DataFrame]:
    """T4's sections: the ``gen`` table's sections, the Packer et al. summary gaining Packer et
    al.'s published Default / Interpolation / Extrapolation (%) for the same task and algorithm
    (``published_*``; blank where the paper has no row)."""
    out: dict[str, pd.DataFrame] = {}
    for title, frame in data.tables("gen", options).items():
        if title.startswith("Packer et al. (2018) summary") and len(frame):
            published = []
            for _, row in frame.iterrows():
                algo = data_algo(data.configs, row["agent"])
                published.append(PACKER_PUBLISHED.get((packer_task(row["env"]), algo)))
            for i, key in enumerate(("default", "interpolation", "extrapolation")):
                frame = frame.assign(
                    **{f"published_{key}": [p[i] / 100.0 if p else math.nan for p in published]}
                )
            title = title.replace(
                "Packer et al. (2018) summary:",
                "Packer et al. (2018) summary beside the paper's published row (published_*: "
                "Table 2, success as a fraction, 5 runs, sampled actions, millions of steps):",
                1,
            )
        out[title] = frame
    return out


def data_algo(configs: Mapping[str, RunConfig], agent: str) -> str:
    """The algorithm of an agent name in these runs (``PPO_population`` counts as ``PPO``)."""
    for config in configs.values():
        if config.agent.name == agent:
            return str(config.agent.algo).split("_")[0]
    return agent.upper()


# ---------------------------------------------------------------------------------------------
# T6: what restores trainability? Remedies as shifts of the frontier
# ---------------------------------------------------------------------------------------------

BASE_EXPERIMENT = "none"  # T6's experiment without a remedy


def demonstration_episodes(config: RunConfig) -> int:
    """The expert episodes an agent clones before RL (0 for an agent without
    ``demonstrations``)."""
    settings = getattr(config.agent, "demonstrations", None) or {}
    return int(settings.get("episodes", 0))


def remedy_of(config: RunConfig, configs: Mapping[str, RunConfig]) -> tuple[str, str]:
    """``(remedy, base agent)`` of a T6 run: the remedy is the experiment's name (an env or
    training-schedule remedy), or ``demonstrations k=K`` for an agent that clones ``K`` expert
    episodes in the base experiment, or ``none``; the base agent is the agent without the remedy
    it is compared with (for a cloning agent, the base experiment's agent of the same algorithm
    without demonstrations)."""
    k = demonstration_episodes(config)
    remedies = [config.experiment] if config.experiment != BASE_EXPERIMENT else []
    if k:
        remedies.append(f"demonstrations k={k}")
    base = config.agent.name
    if k:
        for other in configs.values():
            if other.agent.algo == config.agent.algo and not demonstration_episodes(other):
                base = other.agent.name
                break
    return " + ".join(remedies) or "none", base


def _remedy_groups(
    data: ResultsData,
) -> tuple[dict[tuple[str, str], pd.DataFrame], dict[tuple[str, str], str]]:
    """Final train scores by ``(remedy, base agent)`` (lock runs with a horizon grid), and the
    agent that ran each."""
    scores = run_scores(data.curves, data.episodes)
    train = scores[scores["split"] == TRAIN] if len(scores) else scores
    groups: dict[tuple[str, str], pd.DataFrame] = {}
    runs_as: dict[tuple[str, str], str] = {}
    if not len(train) or "param_horizon" not in train:
        return groups, runs_as
    for (_, agent), group in train.groupby(["experiment", "agent"], sort=True):
        config = data.configs[str(group["run_id"].iloc[0])]
        key = remedy_of(config, data.configs)
        groups[key] = group
        runs_as[key] = str(agent)
    return groups, runs_as


def remedy_frontiers(data: ResultsData, options: TableOptions) -> Any:
    """Success against the horizon, one panel per base agent and one curve per remedy (a
    :class:`rlbench3.analysis.figures.Frontiers` whose "agents" are the remedies)."""
    from rlbench3.analysis import figures as F

    groups, _ = _remedy_groups(data)
    remedies = tuple(sorted({r for r, _ in groups}, key=lambda r: (r != "none", r)))
    panels = []
    for agent in sorted({a for _, a in groups}):
        curves = []
        levels: set[float] = set()
        for remedy in remedies:
            group = groups.get((remedy, agent))
            if group is None:
                continue
            x = pd.to_numeric(group["param_horizon"]).to_numpy(float)
            y = group["score"].to_numpy(float)
            levels |= set(x.tolist())
            solved = F.fraction_solved(x, y, solved_at=options.solved_at)
            fit = None
            if solved.levels.size >= 2:
                fit = M.trainability_frontier(
                    x,
                    (y >= options.solved_at).astype(float),
                    M.rng_for(options.seed, "t6-frontier", remedy, agent),
                    reps=options.reps,
                    confidence=options.confidence,
                )
            curves.append(F.FrontierCurve(remedy, x, y, solved, fit))
        panels.append(
            F.FrontierPanel(
                f"{agent}: remedies", "horizon", "", np.array(sorted(levels)), tuple(curves)
            )
        )
    return F.Frontiers(options.solved_at, options.confidence, remedies, tuple(panels))


def remedy_rows(data: ResultsData, options: TableOptions) -> pd.DataFrame:
    """Per remedy and base agent, H50 of the horizon axis and its shift against the same agent
    without the remedy (:func:`rlbench3.analysis.metrics.frontier_shift`).

    Columns: ``remedy``, ``agent`` (the base agent), ``runs_as`` (the agent that ran),
    ``levels``, ``seeds`` (per level), ``solved`` (per level), ``h50`` (profile-likelihood
    interval, as the frontier tables), ``delta_h50`` (bootstrap interval; ``delta_bound``:
    "at least" / "at most" where a midpoint lies outside the tested range).
    """
    groups, runs_as = _remedy_groups(data)
    rows = []
    order = sorted(groups, key=lambda k: (k[0] != "none", k[0], k[1]))
    for remedy, agent in order:
        group = groups[(remedy, agent)]
        x = pd.to_numeric(group["param_horizon"]).to_numpy(float)
        solved = (group["score"].to_numpy(float) >= options.solved_at).astype(float)
        if np.unique(x).size < 2:
            continue
        fr = M.trainability_frontier(
            x,
            solved,
            M.rng_for(options.seed, "t6-frontier", remedy, agent),
            reps=options.reps,
            confidence=options.confidence,
        )
        row: dict[str, Any] = {
            "remedy": remedy,
            "agent": agent,
            "runs_as": runs_as[(remedy, agent)],
            **frontier_columns(fr),
        }
        base = groups.get(("none", agent))
        if remedy != "none" and base is not None:
            xb = pd.to_numeric(base["param_horizon"]).to_numpy(float)
            yb = (base["score"].to_numpy(float) >= options.solved_at).astype(float)
            shift = M.frontier_shift(
                xb,
                yb,
                x,
                solved,
                M.rng_for(options.seed, "t6-shift", remedy, agent),
                reps=options.reps,
                confidence=options.confidence,
            )
            put_estimate(row, "delta_h50", M.Estimate(shift.shift, shift.low, shift.high))
            opens = [
                f"{end} end open"
                for end, o in (("low", shift.low_open), ("high", shift.high_open))
                if o
            ]
            row["delta_bound"] = "; ".join(([shift.censored] if shift.censored else []) + opens)
        else:
            put_estimate(row, "delta_h50", M.Estimate(np.nan, np.nan, np.nan))
            row["delta_bound"] = ""
        rows.append(row)
    return pd.DataFrame(rows)


def t6_tables(data: ResultsData, options: TableOptions) -> dict[str, pd.DataFrame]:
    """T6's sections: the remedies' H50 and shift (:func:`remedy_rows`), then the ``swiss``
    table of every run (success per horizon and remedy)."""
    out: dict[str, pd.DataFrame] = {}
    rows = remedy_rows(data, options)
    if len(rows):
        pct = f"{options.confidence:.0%}"
        out[
            "Remedies as shifts of the trainability frontier: H50 per remedy and agent (a seed "
            f"succeeds when its final train success >= {options.solved_at:g}; {pct} "
            "profile-likelihood CI, n = seeds per level) and delta_h50 = H50(remedy) - "
            f"H50(none) for the same agent ({pct} interval from the two H50s' "
            "profile-likelihood intervals at the level whose end-to-end difference has the "
            "nominal level; delta_bound: 'at least' / 'at most' where a midpoint lies outside the "
            "tested horizons, 'low/high end open' where an interval end reaches past them). "
            f"{data.protocol}"
        ] = rows
    out.update(data.tables("swiss", options))
    return out
