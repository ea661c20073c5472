"""One command per paper table: ``rlbench3 paper T1 --scale smoke -r results/t1``.

A paper table is a shipped suite (``envs/t1.yaml``, ...: the smoke scale), a set of scales that
resize it (:data:`TABLES`: seeds, budget, grid values, agents; ``micro`` for seconds, ``smoke``
for minutes on a 2-core laptop, ``paper`` for a cluster), the function that computes its sections
(:mod:`rlbench3.analysis.paper`), its figures and a plain-language reading generated from its
numbers. :func:`run_paper_table` runs the resized suite into the results folder (resumable: a
rerun only renders), then writes ``<results>/<key>/``: the table as Markdown, LaTeX and CSV,
each figure as PNG and PDF, the suite it ran (``suite.yaml``) and ``section.json`` for the report
page.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from rlbench3.analysis import figures as F
from rlbench3.analysis import paper as P
from rlbench3.analysis import report_card as RC
from rlbench3.analysis import sections as S
from rlbench3.analysis import seed_study as SS
from rlbench3.analysis.tables import TableOptions, render_sections, run_scores
from rlbench3.data import find
from rlbench3.data.yaml_lines import ConfigError
from rlbench3.harness.storage import atomic_write_text
from rlbench3.harness.sweep import estimate_seconds, plan_suite, run_suite
from rlbench3.plots import plot_frontier, plot_gaps, plot_profiles, plot_report_card

SCALES = ("micro", "smoke", "paper")
# T6's experiments (envs/t6.yaml): no remedy, then one remedy of the env or training each
T6_EXPERIMENTS = ("none", "feedback-observation", "dense-reward", "curriculum")
FORMATS = {"md": "md", "latex": "tex", "csv": "csv"}


@dataclass(frozen=True)
class Scale:
    """How a paper table's suite is resized; ``None`` keeps the suite's value.

    Attributes:
        seeds, budget: of every experiment.
        grid: experiment name -> grid parameter -> the values to use instead of the suite's.
        agents: the agents to run instead of the suite's.
        experiments: the suite's experiments to keep (all when ``None``).
        eval_every, eval_episodes, eval_deterministic: the evaluation schedule, final
            episodes per split and action mode (greedy or sampled).
        probe_episodes, probe_policies: Monte-Carlo size of T1's uniform-policy and
            initial-policy probes.
        card: T5's measurement sizes (cloning, perturbations).
        study: T3's study sizes (splits, subsampling draws, ranking draws).
        copernican, k_steps: T7's dynamics-model scale
            (:data:`rlbench3.analysis.copernican.SCALES`) and prediction horizons.
        reps: bootstrap replicates of every interval.
    """

    seeds: int | None = None
    budget: int | None = None
    grid: Mapping[str, Mapping[str, tuple[Any, ...]]] = field(default_factory=dict)
    agents: tuple[str, ...] | None = None
    experiments: tuple[str, ...] | None = None
    eval_every: int | None = None
    eval_episodes: int | None = None
    eval_deterministic: bool | None = None
    probe_episodes: int = 20_000
    probe_policies: int = 256
    card: RC.CardSettings = field(default_factory=RC.CardSettings)
    study: SS.StudySettings = field(default_factory=SS.StudySettings)
    copernican: str = "smoke"
    k_steps: tuple[int, ...] = (1, 10, 100)
    reps: int = 2000


# What every micro scale shares (seconds per table, for CI); a table's micro scale overrides it.
MICRO = {"seeds": 2, "budget": 600, "eval_every": 300, "eval_episodes": 8, "reps": 200}


def micro(**changes: Any) -> Scale:
    """A micro scale: :data:`MICRO` with ``changes``."""
    return Scale(**{**MICRO, **changes})


@dataclass(frozen=True)
class Figure:
    """One figure of a table: its file stem, caption and how it is drawn into a path (from the
    results and the table's sections)."""

    name: str
    caption: str
    draw: Callable[[P.ResultsData, dict[str, pd.DataFrame], Path], Path]


@dataclass(frozen=True)
class PaperTable:
    """A paper table: the shipped suites behind it (run together, as one suite named after
    the table), its scales, its sections, figures and reading."""

    key: str
    title: str
    suites: tuple[str, ...]
    scales: Mapping[str, Scale]
    sections: Callable[[P.ResultsData, TableOptions, Scale], dict[str, pd.DataFrame]]
    figures: tuple[Figure, ...]
    reading: Callable[[dict[str, pd.DataFrame]], str]


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def _frontier_figure(marks: bool) -> Callable[..., Path]:
    def draw(data: P.ResultsData, sections: dict[str, pd.DataFrame], out: Path) -> Path:
        scores = run_scores(data.curves, data.episodes)
        frontiers = F.trainability_frontiers(scores)
        if marks:
            frontiers = dataclasses.replace(
                frontiers, panels=tuple(_collapse_mark(p, data) for p in frontiers.panels)
            )
        return plot_frontier(frontiers, out)

    return draw


def _collapse_mark(panel: F.FrontierPanel, data: P.ResultsData) -> F.FrontierPanel:
    """A lock panel gains a vertical line at H*, where B/H * K^-H = 1."""
    if panel.parameter != "horizon":
        return panel
    configs = [c for c in data.configs.values() if c.experiment == panel.experiment]
    budgets = {c.budget for c in configs}
    if len(budgets) != 1:
        return panel
    k = P._fixed_value(panel.fixed, "num_actions", 2)
    h_star = P.collapse_horizon(budgets.pop(), k)
    if math.isnan(h_star):
        return panel
    return dataclasses.replace(panel, marks=((h_star, f"B/H·K^-H = 1 (H* = {h_star:.1f})"),))


def _gaps_figure(data: P.ResultsData, sections: dict[str, pd.DataFrame], out: Path) -> Path:
    return plot_gaps(F.generalization_gaps(run_scores(data.curves, data.episodes)), out)


# ---------------------------------------------------------------------------------------------
# Readings: generated from the sections' numbers
# ---------------------------------------------------------------------------------------------


def _estimate(row: pd.Series, name: str, digits: int = 2) -> str:
    point, low, high = row[name], row[f"{name}_low"], row[f"{name}_high"]
    if any(pd.isna(v) for v in (point, low, high)):
        return "n/a"
    return f"{point:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _section(sections: Mapping[str, pd.DataFrame], prefix: str) -> pd.DataFrame | None:
    for title, frame in sections.items():
        if prefix in title and len(frame):
            return frame
    return None


def _h50_text(row: pd.Series) -> str:
    censored = row.get("h50_censored", "")
    if censored == "below":
        return f"below the tested range ({row['levels'].split(', ')[0]})"
    if censored == "above":
        return f"above the tested range ({row['levels'].split(', ')[-1]})"
    return _estimate(row, "h50", 1)


def t1_reading(sections: Mapping[str, pd.DataFrame]) -> str:
    """Each agent's H50 beside H*, and where a uniform policy stops seeing rewards."""
    parts = []
    frontier = _section(sections, "Trainability frontier")
    if frontier is not None:
        for fixed, group in frontier.groupby("fixed", sort=True):
            h_star = group["collapse_h"].iloc[0] if "collapse_h" in group else math.nan
            where = f" ({fixed})" if fixed != "-" else ""
            text = ", ".join(
                f"{row['agent']} {_h50_text(row)} (n = {row['seeds']} per level)"
                for _, row in group.iterrows()
            )
            star = (
                f"; the uniform policy expects one rewarded episode in the budget at H* = "
                f"{h_star:.1f}"
                if not pd.isna(h_star)
                else ""
            )
            parts.append(f"H50, the horizon where half the seeds succeed{where}: {text}{star}.")
    probes = _section(sections, "What an untrained policy gets")
    if probes is not None:
        dry = probes[probes["expected_rewarded"] < 1]
        if len(dry):
            first = dry.iloc[0]
            parts.append(
                f"From {first['setting']} on, a uniform policy expects "
                f"{first['expected_rewarded']:.2g} rewarded episodes in its {first['budget']} "
                f"steps, and {_estimate(first, 'hole_fraction')} of initial policies open the "
                "lock."
            )
    return " ".join(parts) or "No finished runs."


def t2_reading(sections: Mapping[str, pd.DataFrame]) -> str:
    """Each agent's largest single-dimension drop, and whether a >80% -> 10% cliff occurs."""
    drops = _section(sections, "action-dimension cliff")
    if drops is None:
        return "No action-dimension grid with two levels or more."
    parts = []
    for (exp, agent), group in drops.groupby(["experiment", "agent"], sort=True):
        row = group.loc[group["drop"].idxmax()]
        parts.append(
            f"{exp}, {agent}: largest drop {_estimate(row, 'drop')} from {row['dimension']} = "
            f"{row['from']:g} ({row['success_from']:.2f}) to {row['to']:g} "
            f"({row['success_to']:.2f}), n = {row['seeds']} seeds."
        )
    cliff = drops[(drops["success_from"] > 0.8) & (drops["success_to"] <= 0.1)]
    parts.append(
        "A drop of the essay's size (above 80% to 10% or less in one added dimension) occurs "
        + (
            "for " + ", ".join(f"{r['agent']} on {r['experiment']}" for _, r in cliff.iterrows())
            if len(cliff)
            else "nowhere here"
        )
        + "."
    )
    return " ".join(parts)


def t4_reading(sections: Mapping[str, pd.DataFrame]) -> str:
    """Ours beside Packer et al.'s published Default / Interpolation / Extrapolation."""
    summary = _section(sections, "Packer et al. (2018) summary")
    if summary is None:
        return "No task was trained on both D and R and evaluated on D, R and E."
    parts = []
    for _, row in summary.iterrows():
        ours = "/".join(f"{row[k]:.2f}" for k in ("default", "interpolation", "extrapolation"))
        theirs = "/".join(
            f"{row[f'published_{k}']:.2f}"
            for k in ("default", "interpolation", "extrapolation")
            if not pd.isna(row[f"published_{k}"])
        )
        task = P.packer_task(row["env"])
        parts.append(
            f"{task} {row['agent']}: Default/Interpolation/Extrapolation {ours} here "
            f"(Extrapolation {_estimate(row, 'extrapolation')}, n = {row['seeds']} seeds D/R)"
            + (f", {theirs} published." if theirs else ".")
        )
    return " ".join(parts)


def t5_reading(sections: Mapping[str, pd.DataFrame]) -> str:
    """Where the network can represent the solution but RL does not find it."""
    card = _section(sections, "report card")
    if card is None:
        return "No finished runs."
    parts = []
    for _, row in card.iterrows():
        if row["bottleneck"] == "yes":
            parts.append(
                f"{row['experiment']} {row['setting']} ({row['agent']}): expressivity "
                f"{_estimate(row, 'expressivity')} but trainability "
                f"{_estimate(row, 'trainability')} (n = {row['seeds']} seeds)"
            )
    counts = RC.card_counts(card)
    head = (
        f"{counts['bottlenecks']} of the {counts['measured']} rows with an expressivity estimate "
        "are trainability bottlenecks (the network can represent the expert, fewer than half "
        "the RL seeds find a solution)"
    )
    return head + (": " + "; ".join(parts) + "." if parts else ".")


def _card_sections(
    data: P.ResultsData, options: TableOptions, scale: Scale
) -> dict[str, pd.DataFrame]:
    card = RC.report_card(data.folder, options, scale.card)
    return {RC.card_title(scale.card, data.protocol, options): card}


def _card_figure(data: P.ResultsData, sections: dict[str, pd.DataFrame], out: Path) -> Path:
    card = _section(sections, "report card")
    return plot_report_card(card if card is not None else pd.DataFrame(), out)


def t3_reading(sections: Mapping[str, pd.DataFrame]) -> str:
    """The split test's false positives and the seeds needed for a right ranking."""
    parts = []
    splits = _section(sections, "split test")
    if splits is not None:
        for _, row in splits.iterrows():
            if pd.isna(row["min_p"]):
                smallest = "every seed scored the same"
            elif row["min_p"] == 0:  # Welch's t is infinite: two constant, different halves
                smallest = "smallest p 0: a split put constant, different scores on each side"
            else:
                smallest = f"smallest p {row['min_p']:.2g}"
            parts.append(
                f"{row['experiment']} {row['agent']}: {row['fraction']:.3f} of the splits of its "
                f"{row['seeds']} identical-procedure seeds differ at p < 0.05 ({smallest})."
            )
    ranking = _section(sections, "Ranking error")
    if ranking is not None:
        for (exp, pair), group in ranking.groupby(["experiment", "pair"], sort=True):
            text = ", ".join(
                f"N = {int(r['seeds'])}: {_estimate(r, 'wrong')}"
                for _, r in group.iterrows()
                if not pd.isna(r["wrong"])
            )
            parts.append(f"Probability of ranking {pair} wrongly on {exp}: {text}.")
    return " ".join(parts) or "No cell with enough seeds."


def _study_sections(
    data: P.ResultsData, options: TableOptions, scale: Scale
) -> dict[str, pd.DataFrame]:
    scores = run_scores(data.curves, data.episodes)
    cells, skipped = SS.seed_cells(scores, scale.study.min_seeds)
    for line in skipped:
        print(f"rlbench3: T3 leaves out {line}", file=sys.stderr)
    if not cells:
        return {}
    sections, _ = SS.study(cells, scale.study, data.protocol)
    return sections


def _profiles_figure(data: P.ResultsData, sections: dict[str, pd.DataFrame], out: Path) -> Path:
    return plot_profiles(F.experiment_profiles(run_scores(data.curves, data.episodes)), out)


def t6_reading(sections: Mapping[str, pd.DataFrame]) -> str:
    """Which remedies move H50, by how much."""
    rows = _section(sections, "Remedies as shifts")
    if rows is None:
        return "No horizon grid with two levels or more."
    parts = []
    for agent, group in rows.groupby("agent", sort=True):
        base = group[group["remedy"] == "none"]
        if len(base):
            parts.append(f"{agent} without a remedy: H50 {_h50_text(base.iloc[0])}.")
        for _, row in group[group["remedy"] != "none"].iterrows():
            bound = row["delta_bound"].split(";")[0] + " " if row["delta_bound"] else ""
            bound = bound if bound.startswith("at ") else ""
            moved = (
                "moves it"
                if row["delta_h50_low"] > 0 or row["delta_h50_high"] < 0
                else "does not move it detectably"
            )
            parts.append(
                f"{row['remedy']} {moved}: H50 {_h50_text(row)}, change {bound}"
                f"{_estimate(row, 'delta_h50', 1)} (n = {row['seeds']} seeds per level)."
            )
    return " ".join(parts)


def _remedy_figure(data: P.ResultsData, sections: dict[str, pd.DataFrame], out: Path) -> Path:
    return plot_frontier(P.remedy_frontiers(data, TableOptions(reps=500)), out)


def t7_reading(sections: Mapping[str, pd.DataFrame]) -> str:
    """Which models extrapolate, and which an agent's gap resembles."""
    models = _section(sections, "The Copernican test")
    if models is None:
        return "No dynamics models were fitted."
    regimes = [c for c in models.columns if f"{c}_low" in models.columns]
    parts = []
    for model, group in models.groupby("model", sort=False):
        values = group[regimes].to_numpy(float)
        if np.isnan(values).all():
            continue
        parts.append(
            f"{model}: held-out / training error ratios {np.nanmin(values):.2g} to "
            f"{np.nanmax(values):.2g} over k = {', '.join(str(k) for k in group['k'])} and the "
            f"{len(regimes)} held-out regimes."
        )
    agents = _section(sections, "The agents on the same regimes")
    if agents is not None:
        for _, row in agents.iterrows():
            cells = [
                f"{r} {_estimate(row, f'{r}_retention')}"
                for r in regimes
                if f"{r}_retention" in row and not pd.isna(row[f"{r}_retention"])
            ]
            parts.append(
                f"{row['agent']} ({row['experiment']}, n = {row['seeds']} seeds): training "
                f"success {_estimate(row, 'train')}"
                + (f"; retention {'; '.join(cells)}." if cells else "; gap undefined.")
            )
    return " ".join(parts)


def _copernican_sections(
    data: P.ResultsData, options: TableOptions, scale: Scale
) -> dict[str, pd.DataFrame]:
    from rlbench3.analysis import copernican as C

    result = C.run_t7(scale.copernican, seed=options.seed, k_steps=scale.k_steps)
    agents = C.gaps_from_episodes(data.episodes, result.regimes[1:], options.seed)
    sections = C.t7_sections(result, agents, options.seed)
    # the agents' section states their evaluation protocol, as every table of runs does
    return {
        (f"{title}. {data.protocol}" if title.startswith("The agents") else title): frame
        for title, frame in sections.items()
    }


# ---------------------------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------------------------

TABLES: dict[str, PaperTable] = {
    t.key: t
    for t in (
        PaperTable(
            key="T1",
            title="T1: the swiss cheese against the horizon (combination lock)",
            suites=("t1",),
            scales={
                "micro": micro(
                    grid={"lock-horizon": {"horizon": (1, 2)}},
                    agents=("ppo_population", "random_search"),
                    probe_episodes=2000,
                    probe_policies=16,
                ),
                "smoke": Scale(),
                "paper": Scale(
                    seeds=20,
                    budget=100_000,
                    agents=("ppo", "ppo_population", "a2c", "dqn", "random_search"),
                    grid={"lock-horizon": {"horizon": tuple(range(1, 13)), "num_actions": (2, 3)}},
                    eval_every=20_000,
                    probe_episodes=100_000,
                    probe_policies=1024,
                ),
            },
            sections=lambda data, options, scale: P.t1_tables(
                data,
                options,
                probe_episodes=scale.probe_episodes,
                probe_policies=scale.probe_policies,
            ),
            figures=(
                Figure(
                    "frontier",
                    "Seeds that solved each horizon (exact CIs), the logistic frontier with H50, "
                    "and H*, where a uniform policy expects one rewarded episode in the budget.",
                    _frontier_figure(marks=True),
                ),
            ),
            reading=t1_reading,
        ),
        PaperTable(
            key="T2",
            title="T2: the action-dimension cliff (point mass and planar arm)",
            suites=("t2",),
            scales={
                "micro": micro(
                    grid={
                        "reach-dimension": {"action_dim": (1, 2)},
                        "arm-joints": {"n_joints": (1, 2)},
                    },
                    agents=("ppo_population", "ars"),
                ),
                "smoke": Scale(),
                "paper": Scale(
                    seeds=20,
                    budget=200_000,
                    grid={
                        "reach-dimension": {"action_dim": tuple(range(1, 9))},
                        "arm-joints": {"n_joints": tuple(range(1, 9))},
                    },
                    agents=("ppo", "ppo_population", "sac", "ars"),
                    eval_every=50_000,
                ),
            },
            sections=lambda data, options, scale: P.t2_tables(data, options),
            figures=(
                Figure(
                    "frontier",
                    "Seeds that solved each action dimension (exact CIs) and the logistic "
                    "frontier with d50.",
                    _frontier_figure(marks=False),
                ),
            ),
            reading=t2_reading,
        ),
        PaperTable(
            key="T3",
            title="T3: seed variance (Henderson et al. 2018; Agarwal et al. 2021)",
            suites=("t3",),
            scales={
                "micro": micro(
                    seeds=6,
                    experiments=("lock",),
                    study=SS.StudySettings(
                        sizes=(3, 5),
                        reps=20,
                        boot_reps=100,
                        rank_reps=50,
                        normal_sims=20,
                        min_seeds=6,
                    ),
                    reps=200,
                ),
                "smoke": Scale(study=SS.StudySettings(sizes=(3, 5, 10, 20))),
                "paper": Scale(seeds=200, budget=100_000, eval_every=50_000),
            },
            sections=lambda data, options, scale: _study_sections(data, options, scale),
            figures=(
                Figure(
                    "profiles",
                    "Performance profiles (rliable): the fraction of runs whose final score "
                    "exceeds each threshold, per experiment and agent.",
                    _profiles_figure,
                ),
            ),
            reading=t3_reading,
        ),
        PaperTable(
            key="T4",
            title="T4: generalization in Packer et al.'s layout (D, R, E) and against the "
            "number of training variants K",
            suites=("packer", "variants"),
            scales={
                "micro": micro(
                    agents=("ppo",),
                    experiments=("cartpole-train-D", "cartpole-train-R", "cartpole-variants"),
                    grid={"cartpole-variants": {"variant_seed": (0, -1)}},
                    eval_deterministic=False,
                ),
                "smoke": Scale(
                    seeds=10,
                    budget=50_000,
                    experiments=(
                        "cartpole-train-D",
                        "cartpole-train-R",
                        "cartpole-variants",
                    ),  # the other tasks (Acrobot's 500-step episodes above all) at paper scale
                    # K = 1, 10, 100 and infinity (-1: fresh parameters every episode)
                    grid={
                        "cartpole-variants": {
                            "variant_seed": (
                                0,
                                {"low": 0, "high": 9},
                                {"low": 0, "high": 99},
                                -1,
                            )
                        }
                    },
                    eval_every=50_000,  # the final evaluation only
                    eval_deterministic=False,  # the whole table samples, as Packer et al.
                ),
                "paper": Scale(seeds=10, eval_deterministic=False),
            },
            sections=lambda data, options, scale: P.t4_tables(data, options),
            figures=(
                Figure(
                    "gaps",
                    "Generalization gaps (train minus held-out success) per split and agent.",
                    _gaps_figure,
                ),
            ),
            reading=t4_reading,
        ),
        PaperTable(
            key="T5",
            title="T5: the Expressivity / Trainability / Generalization report card",
            suites=("t5",),
            scales={
                "micro": micro(
                    grid={
                        "lock-horizon": {"horizon": (2,)},
                        "reach-dimension": {"action_dim": (1,)},
                    },
                    experiments=("lock-horizon", "reach-dimension"),
                    card=RC.CardSettings(
                        demonstrations=5,
                        clone_seeds=2,
                        clone_episodes=8,
                        noise_episodes=4,
                        epsilons=(0.0, 0.2),
                    ),
                    reps=200,
                ),
                "smoke": Scale(),
                "paper": Scale(
                    seeds=20,
                    budget=200_000,
                    agents=("ppo", "ppo_population", "a2c"),
                    card=RC.CardSettings(clone_seeds=5, clone_episodes=100, noise_episodes=50),
                ),
            },
            sections=_card_sections,
            figures=(
                Figure(
                    "card",
                    "Trainability against expressivity per row; the shaded corner is the "
                    "trainability bottleneck.",
                    _card_figure,
                ),
            ),
            reading=t5_reading,
        ),
        PaperTable(
            key="T6",
            title="T6: what restores trainability? Remedies as shifts of the frontier",
            suites=("t6",),
            scales={
                "micro": micro(
                    grid={name: {"horizon": (1, 2)} for name in T6_EXPERIMENTS},
                ),
                "smoke": Scale(),
                "paper": Scale(
                    seeds=20,
                    budget=100_000,
                    grid={name: {"horizon": tuple(range(2, 21, 2))} for name in T6_EXPERIMENTS},
                    eval_every=50_000,
                ),
            },
            sections=lambda data, options, scale: P.t6_tables(data, options),
            figures=(
                Figure(
                    "remedies",
                    "Seeds that solved each horizon, one curve per remedy (exact CIs, logistic "
                    "fit, H50), one panel per agent.",
                    _remedy_figure,
                ),
            ),
            reading=t6_reading,
        ),
        PaperTable(
            key="T7",
            title="T7: the Copernican test (Orbit: the law fixed, the regime changed)",
            suites=("orbit",),
            scales={
                "micro": micro(
                    eval_every=600,
                    copernican="tiny",
                    k_steps=(1, 10),
                ),
                "smoke": Scale(),
                "paper": Scale(seeds=20, budget=200_000, eval_every=100_000, copernican="full"),
            },
            sections=_copernican_sections,
            figures=(
                Figure(
                    "gaps",
                    "The agents' generalization gaps (train minus held-out success) per regime.",
                    _gaps_figure,
                ),
            ),
            reading=t7_reading,
        ),
    )
}
KEYS = tuple(TABLES)


# ---------------------------------------------------------------------------------------------
# Running one
# ---------------------------------------------------------------------------------------------


SUITE_DEFAULTS = ("seeds", "budget", "eval", "agents")


def _merged_suites(table: PaperTable) -> dict[str, Any]:
    """The table's shipped suites as one suite's YAML data: every experiment carries its own
    suite's defaults (seeds, budget, eval, agents) explicitly, so suites with different
    protocols keep them."""
    merged: dict[str, Any] = {"description": "", "experiments": []}
    descriptions = []
    for name in table.suites:
        data = yaml.safe_load(find("envs", name, "suite").read_text())
        descriptions.append(str(data.get("description", name)).strip())
        for key in SUITE_DEFAULTS:
            if key in data:
                merged.setdefault(key, data[key])
        for exp in data["experiments"]:
            for key in SUITE_DEFAULTS:
                if key in data and key not in exp:
                    exp[key] = data[key]
            merged["experiments"].append(exp)
    merged["description"] = " ".join(descriptions)
    return merged


def resized_suite(table: PaperTable, scale: str) -> dict[str, Any]:
    """The table's shipped suite as YAML data, resized to ``scale``."""
    if scale not in table.scales:
        raise ConfigError(f"scale must be one of {sorted(table.scales)}, got {scale!r}")
    sc = table.scales[scale]
    data = _merged_suites(table)
    if sc.agents is not None:
        data["agents"] = list(sc.agents)
    if sc.seeds is not None:
        data["seeds"] = sc.seeds
    if sc.budget is not None:
        data["budget"] = sc.budget
    names = {e["name"] for e in data["experiments"]}
    unknown = sorted((set(sc.grid) | set(sc.experiments or ())) - names)
    if unknown:
        raise ConfigError(f"{table.key} scale {scale!r}: no experiment named {unknown}")
    if sc.experiments is not None:
        data["experiments"] = [e for e in data["experiments"] if e["name"] in sc.experiments]
    for exp in data["experiments"]:
        for key in ("seeds", "budget", "agents"):
            if getattr(sc, key) is not None:
                exp.pop(key, None)
        if exp["name"] in sc.grid:
            exp["grid"] = {
                **exp.get("grid", {}),
                **{k: list(v) for k, v in sc.grid[exp["name"]].items()},
            }
        for node in (data, exp):
            if "eval" in node:
                ev = dict(node["eval"])
                for key, value in (
                    ("every", sc.eval_every),
                    ("episodes", sc.eval_episodes),
                    ("deterministic", sc.eval_deterministic),
                ):
                    if value is not None:
                        ev[key] = value
                node["eval"] = ev
    return data


@dataclass(frozen=True)
class PaperResult:
    """What :func:`run_paper_table` wrote and measured."""

    key: str
    folder: Path
    files: tuple[Path, ...]
    sections: dict[str, pd.DataFrame]
    reading: str
    wall_seconds: float


def run_paper_table(
    key: str,
    scale: str = "smoke",
    results: str | Path | None = None,
    *,
    workers: int = 1,
    backend: str = "process",
    ray_address: str | None = None,
    progress: bool = True,
    max_runs: int | None = 10_000,
    say: Callable[[str], None] = print,
) -> PaperResult:
    """Run one paper table at one scale into ``results`` (default ``results/<key>-<scale>``)
    and write its files; see the module docstring."""
    key = key.upper()
    if key not in TABLES:
        raise ConfigError(f"table must be one of {sorted(TABLES)}, got {key!r}")
    table = TABLES[key]
    started = time.perf_counter()
    suite_data = resized_suite(table, scale)
    folder = Path(results) if results is not None else Path("results") / f"{key.lower()}-{scale}"
    with tempfile.TemporaryDirectory() as tmp:
        suite_path = Path(tmp) / f"{key.lower()}.yaml"
        suite_text = yaml.safe_dump(suite_data, sort_keys=False)
        suite_path.write_text(suite_text)
        _, runs = plan_suite(suite_path, max_runs=max_runs)
        say(
            f"{key} at scale {scale}: {len(runs)} runs, roughly "
            f"{estimate_seconds(runs, workers) / 60:.1f} min of training on {workers} worker(s)"
        )
        done = run_suite(
            suite_path,
            folder,
            workers=workers,
            backend=backend,
            ray_address=ray_address,
            progress=progress,
            max_runs=max_runs,
        )
    trained = done.report.finished + len(done.report.failed)
    sc = table.scales[scale]
    data = P.ResultsData.load(folder)
    options = TableOptions(reps=sc.reps)
    sections = table.sections(data, options, sc)
    out = folder / key.lower()
    out.mkdir(parents=True, exist_ok=True)
    files = []
    (out / "suite.yaml").write_text(suite_text)
    for fmt, ext in FORMATS.items():
        path = out / f"{key.lower()}.{ext}"
        path.write_text(render_sections(sections, fmt))
        files.append(path)
    for figure in table.figures:
        for ext in ("png", "pdf"):
            files.append(figure.draw(data, sections, out / f"{figure.name}.{ext}"))
    reading = table.reading(sections)
    wall = time.perf_counter() - started
    total = _table_seconds(out, wall, trained)
    _write_section(table, scale, out, sections, reading, total, suite_data, data)
    return PaperResult(key, out, tuple(files), sections, reading, wall)


TIMING_FILE = "timing.json"


def _table_seconds(out: Path, wall: float, trained: int) -> float:
    """The table's wall time: the sum over the invocations that trained runs (an interrupted
    table resumed later adds both), rendering included; an invocation that only rendered
    reports that sum, not its own few seconds (``<out>/timing.json`` keeps it)."""
    path = out / TIMING_FILE
    previous = {"seconds": 0.0, "runs_trained": 0}
    if path.is_file():
        try:
            loaded = json.loads(path.read_text())
            previous = {
                "seconds": float(loaded["seconds"]),
                "runs_trained": int(loaded["runs_trained"]),
            }
        except (ValueError, KeyError, TypeError):
            pass  # a damaged timing file is rebuilt from this invocation
    if trained == 0 and previous["runs_trained"] > 0:
        return previous["seconds"]
    total = {
        "seconds": previous["seconds"] + wall,
        "runs_trained": previous["runs_trained"] + trained,
    }
    atomic_write_text(path, json.dumps(total))
    return total["seconds"]


def _write_section(
    table: PaperTable,
    scale: str,
    out: Path,
    sections: dict[str, pd.DataFrame],
    reading: str,
    wall: float,
    suite_data: dict[str, Any],
    data: P.ResultsData,
) -> None:
    """``section.json`` for the report page (written last: its presence means the files are)."""
    S.write_section(
        out,
        S.Section(
            title=table.title,
            command=f"rlbench3 paper {table.key} --scale {scale} -r {out.parent}",
            reading=reading,
            tables=tuple(S.table_block(title, frame) for title, frame in sections.items()),
            figures=tuple(S.FigureBlock(f.caption, f"{f.name}.png") for f in table.figures),
            protocol=data.protocol,
            wall_s=wall,
            config=suite_data,
            versions=S.run_versions(data.runs),
        ),
    )
