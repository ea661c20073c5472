"""Figures from a results folder: learning curves, trainability frontiers, landscape slices,
performance profiles and generalization gaps.

This module only draws. Every ``plot_*`` function takes what :mod:`rlbench3.analysis.figures`
computed (or, for :func:`plot_landscape`, the arrays of :mod:`rlbench3.analysis.landscape`) and
an output path; the format follows its suffix (``.png`` or ``.pdf``). ``render_plot(DIR, kind,
OUT)`` loads a results folder, computes one kind with :mod:`rlbench3.analysis.figures` and draws
it: ``"curves"``, ``"frontier"``, ``"landscape"``, ``"profiles"`` or ``"gaps"``.

Figures are drawn on matplotlib ``Figure`` objects with the Agg canvas (no pyplot, no display, no
global backend change). What they show (statistics from rliable and
:mod:`rlbench3.analysis.metrics`, computed in :mod:`rlbench3.analysis.figures`):

* curves: faint per-seed lines and the IQM over seeds at each step (rliable ``aggregate_iqm``)
  with a 95% stratified-bootstrap band (rliable ``get_interval_estimates``, as in rliable's
  sample-efficiency curves); runs' evaluation steps are aligned by linear interpolation onto a
  common grid, each point's IQM over the runs that reached it.
* frontier: per agent, the fraction of seeds that solved each level (final train success
  >= ``solved_at``, as in the ``swiss`` table) with exact Clopper-Pearson intervals, and
  :func:`rlbench3.analysis.metrics.trainability_frontier`'s logistic fit, bootstrap band and
  H50/d50.
* profiles: :func:`rlbench3.analysis.metrics.performance_profiles` (rliable
  ``create_performance_profile``).
* gaps: :func:`rlbench3.analysis.metrics.generalization_gap` (paired train - split, bootstrap CI).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rlbench3.analysis import figures as F

KINDS = ("curves", "frontier", "landscape", "profiles", "gaps")
FORMATS = (".png", ".pdf")
_PANEL = (3.6, 2.7)  # inches per panel
_DPI = 120


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _check_path(out_path: str | Path) -> Path:
    path = Path(out_path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"out_path must end in one of {FORMATS}, got {str(out_path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _save(fig: Figure, out_path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(out_path, dpi=_DPI, bbox_inches="tight")
    return out_path


def _figure(rows: int, cols: int, *, panel: tuple[float, float] = _PANEL, **kwargs: Any):
    fig = Figure(figsize=(panel[0] * cols, panel[1] * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, **kwargs)
    return fig, axes


def _empty(out_path: Path, message: str) -> Path:
    fig, axes = _figure(1, 1)
    axes[0, 0].text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    axes[0, 0].set_axis_off()
    return _save(fig, out_path)


def _colors(agents: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return {a: cmap(i % 10) for i, a in enumerate(sorted(agents))}


def _finish(
    fig: Figure, title: str, colors: dict[str, Any], out_path: Path, extra: Sequence[Any] = ()
) -> Path:
    """Title, the agents' legend below the panels, and the file."""
    fig.suptitle(title, fontsize=10)
    _legend(fig, colors, extra)
    return _save(fig, out_path)


def _legend(fig: Figure, colors: dict[str, Any], extra: Sequence[Any] = ()) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, lw=2, label=a) for a, c in colors.items()]
    fig.legend(
        handles=[*handles, *extra],
        loc="outside lower center",
        ncols=min(6, len(handles) + len(extra)),
        frameon=False,
    )


# ---------------------------------------------------------------------------------------------
# Learning curves
# ---------------------------------------------------------------------------------------------


def plot_curves(data: F.Curves, out_path: str | Path) -> Path:
    """Learning curves, one panel per experiment × setting (a row per experiment), one colour
    per agent.

    Args:
        data: :func:`rlbench3.analysis.figures.learning_curves`.
    """
    out_path = _check_path(out_path)
    if not data.bands:
        return _empty(out_path, f"no learning curves for split {data.split!r}")
    metric, panels, experiments = data.metric, list(data.panels), list(data.experiments)
    cols = max(sum(e == exp for e, _ in panels) for exp in experiments)
    fig, axes = _figure(len(experiments), cols, sharey=metric == "success_rate")
    colors = _colors(data.agents)
    used = set()
    for exp, setting in panels:
        row = experiments.index(exp)
        col = sum(1 for e, s in panels[: panels.index((exp, setting))] if e == exp)
        ax = axes[row, col]
        used.add((row, col))
        for band in data.bands_of(exp, setting):
            color = colors[band.agent]
            for run in band.runs:
                ax.plot(run.steps, run.values, color=color, alpha=0.25, lw=0.8)
            ax.plot(band.grid, band.iqm.point, color=color, lw=2)
            ax.fill_between(band.grid, band.iqm.low, band.iqm.high, color=color, alpha=0.2, lw=0)
        ax.set_title(f"{exp}: {setting}", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.xaxis.get_offset_text().set_fontsize(7)
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
        if metric == "success_rate":
            ax.set_ylim(-0.03, 1.03)
        if col == 0:
            ax.set_ylabel(metric.replace("_", " "), fontsize=8)
        ax.set_xlabel("env steps", fontsize=8)
    for r in range(len(experiments)):
        for c in range(cols):
            if (r, c) not in used:
                axes[r, c].set_axis_off()
    title = (
        f"Learning curves ({data.split} split): per-run lines; IQM over the runs that reached "
        f"each step, {data.confidence:.0%} stratified-bootstrap band (rliable)"
    )
    return _finish(fig, title, colors, out_path)


# ---------------------------------------------------------------------------------------------
# Trainability frontier
# ---------------------------------------------------------------------------------------------


def plot_frontier(data: F.Frontiers, out_path: str | Path) -> Path:
    """Success against difficulty: one panel per experiment × numeric grid parameter (× values
    of the other grid parameters).

    Args:
        data: :func:`rlbench3.analysis.figures.trainability_frontiers`.

    Points: the fraction of seeds that solved each level, with exact Clopper-Pearson
    intervals; dashed vertical lines: the panel's ``marks``; faint crosses: each seed's final
    success. Curve and band:
    :func:`rlbench3.analysis.metrics.trainability_frontier` (logistic MLE, percentile-bootstrap
    band resampling seeds within levels) with its H50/d50 and CI marked at 1/2 unless the
    midpoint lies outside the tested range.
    """
    out_path = _check_path(out_path)
    panels = data.panels
    if not panels:
        return _empty(out_path, "no experiment with a numeric grid of two levels or more")
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = _figure(rows, cols, panel=(3.8, 3.2))
    colors = _colors(data.agents)
    agents = sorted(colors)
    offsets = {a: (i - (len(agents) - 1) / 2) for i, a in enumerate(agents)}
    for k, panel in enumerate(panels):
        ax = axes[k // cols, k % cols]
        levels = panel.levels
        spread = 0.025 * (levels[-1] - levels[0])
        for curve in panel.curves:
            agent = curve.agent
            color = colors[agent]
            shift = offsets[agent] * spread
            ax.scatter(
                curve.difficulty + shift,
                curve.scores,
                marker="x",
                s=12,
                color=color,
                alpha=0.35,
                lw=0.8,
            )
            solved = curve.solved
            frac = solved.fraction
            ax.errorbar(
                solved.levels + shift,
                frac,
                yerr=[frac - solved.low, solved.high - frac],
                fmt="o",
                ms=4,
                color=color,
                capsize=2,
                lw=1,
            )
            fr = curve.fit
            if fr is not None:
                ax.plot(fr.curve_x, fr.curve, color=color, lw=1.5)
                ax.fill_between(
                    fr.curve_x, fr.curve_low, fr.curve_high, color=color, alpha=0.15, lw=0
                )
                if not fr.censored:
                    # H50 with its CI, at 1/2 (nudged per agent so the intervals stay apart)
                    ax.errorbar(
                        [fr.midpoint],
                        [0.5 + 0.04 * offsets[agent]],
                        xerr=[[fr.midpoint - fr.low], [fr.high - fr.midpoint]],
                        fmt="D",
                        ms=4,
                        color=color,
                        mfc="white",
                        capsize=3,
                        lw=1,
                    )
        for x, text in panel.marks:
            ax.axvline(x, color="black", lw=1, ls="--")
            ax.annotate(
                text,
                (x, 0.98),
                xytext=(3, 0),
                textcoords="offset points",
                fontsize=7,
                va="top",
                ha="left",
                rotation=90,
            )
        ax.set_title(
            f"{panel.experiment}" + (f" ({panel.fixed})" if panel.fixed else ""), fontsize=9
        )
        ax.set_xlabel(panel.parameter, fontsize=8)
        ax.set_xticks(levels)
        ax.tick_params(labelsize=7)
        ax.set_ylim(-0.05, 1.05)
        ax.axhline(0.5, color="grey", lw=0.5, ls=":")
        if k % cols == 0:
            ax.set_ylabel(f"seeds solved (success >= {data.solved_at:g})", fontsize=8)
    for k in range(len(panels), rows * cols):
        axes[k // cols, k % cols].set_axis_off()
    from matplotlib.lines import Line2D

    extra = [
        Line2D([], [], color="k", marker="o", ls="", ms=4, label="fraction solved (exact CI)"),
        Line2D([], [], color="k", marker="x", ls="", ms=4, label="seed's final success"),
        Line2D([], [], color="k", lw=1.5, label="logistic fit (bootstrap band)"),
        Line2D([], [], color="k", marker="D", mfc="white", ls="-", ms=4, label="H50 / d50 (CI)"),
    ]
    title = "Trainability frontier: final train success against difficulty"
    return _finish(fig, title, colors, out_path, extra)


# ---------------------------------------------------------------------------------------------
# Landscape
# ---------------------------------------------------------------------------------------------


def plot_landscape(
    mean_returns: np.ndarray,
    alphas: np.ndarray,
    betas: np.ndarray,
    out_path: str | Path,
    *,
    probe_returns: np.ndarray | None = None,
    hole_fraction: Any = None,
    title: str = "",
) -> Path:
    """A landscape slice as a heatmap (and, optionally, the returns of sampled initial policies).

    Args:
        mean_returns: ``(G, G)`` mean return at ``(alphas[i], betas[j])`` (a
            :class:`rlbench3.analysis.landscape.LandscapeSlice`'s ``mean_returns``).
        alphas, betas: ``(G,)`` the grid coordinates.
        probe_returns: ``(N, M)`` optional returns of sampled initial policies (a
            :class:`~rlbench3.analysis.landscape.LandscapeProbe`'s ``returns``): a histogram of
            their mean returns in a second panel.
        hole_fraction: an optional :class:`rlbench3.analysis.probes.HitEstimate`, written on
            that panel.
    """
    out_path = _check_path(out_path)
    z = np.asarray(mean_returns, dtype=float)
    a, b = np.asarray(alphas, float), np.asarray(betas, float)
    if z.shape != (a.size, b.size):
        raise ValueError(f"mean_returns must be {(a.size, b.size)}, got {z.shape}")
    panels = 2 if probe_returns is not None else 1
    fig, axes = _figure(1, panels, panel=(4.6, 3.6))
    fig.get_layout_engine().set(wspace=0.12)
    ax = axes[0, 0]
    da = (a[-1] - a[0]) / max(1, a.size - 1) / 2
    db = (b[-1] - b[0]) / max(1, b.size - 1) / 2
    lo, hi = float(np.nanmin(z)), float(np.nanmax(z))
    if lo == hi:  # a flat slice: keep the colour scale readable
        lo, hi = lo - 0.5, hi + 0.5
    image = ax.imshow(
        z.T,
        origin="lower",
        extent=(a[0] - da, a[-1] + da, b[0] - db, b[-1] + db),
        aspect="auto",
        cmap="viridis",
        vmin=lo,
        vmax=hi,
        interpolation="nearest",
    )
    ax.plot([0], [0], marker="+", color="red", ms=10, mew=2)
    ax.set_xlabel("α (filter-normalised direction 1)", fontsize=8)
    ax.set_ylabel("β (filter-normalised direction 2)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title("mean return on θ0 + α d1 + β d2 (+: θ0)", fontsize=9)
    cbar = fig.colorbar(image, ax=ax, shrink=0.9)
    cbar.set_label("mean return", fontsize=8)
    cbar.ax.tick_params(labelsize=7)
    if probe_returns is not None:
        ax = axes[0, 1]
        means = np.asarray(probe_returns, float).mean(axis=1)
        span = means.max() - means.min()
        bins = 20 if span > 0 else np.linspace(means.min() - 0.5, means.max() + 0.5, 11)
        counts, edges, bars = ax.hist(means, bins=bins, color="tab:blue", alpha=0.8)
        for count, bar in zip(counts, bars):  # counts written on the bars: holes can be rare
            if count:
                ax.annotate(
                    f"{int(count)}",
                    (bar.get_x() + bar.get_width() / 2, count),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
        ax.set_ylim(0, counts.max() * 1.35)
        ax.set_xlabel("mean return of a sampled initial policy", fontsize=8)
        ax.set_ylabel("policies", fontsize=8)
        ax.tick_params(labelsize=7)
        text = f"{len(means)} initial policies"
        if hole_fraction is not None:
            h = hole_fraction
            text += (
                f"\nwith any reward: {h.hits}/{h.episodes} = {h.probability:.3g}"
                f"\n{h.confidence:.0%} CI [{h.low:.3g}, {h.high:.3g}]"
            )
        ax.set_title("hole fraction of the initial distribution", fontsize=9)
        ax.text(
            0.97,
            0.97,
            text,
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=8,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
        )
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, out_path)


# ---------------------------------------------------------------------------------------------
# Performance profiles
# ---------------------------------------------------------------------------------------------


def plot_profiles(data: F.Profiles, out_path: str | Path) -> Path:
    """Performance profiles per experiment: the fraction of runs (over seeds and settings) whose
    final success exceeds τ, per agent, with stratified-bootstrap bands; each panel says how
    many seeds per setting went in (rliable needs the same number in every setting).

    Args:
        data: :func:`rlbench3.analysis.figures.experiment_profiles`.
    """
    out_path = _check_path(out_path)
    panels = data.panels
    if not panels:
        return _empty(out_path, f"no final scores for split {data.split!r}")
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = _figure(rows, cols)
    colors = _colors(data.agents)
    taus = data.taus
    for k, panel in enumerate(panels):
        ax = axes[k // cols, k % cols]
        for agent, est in panel.profiles.items():
            color = colors[agent]
            ax.plot(taus, est.point, color=color, lw=2, drawstyle="steps-post")
            ax.fill_between(taus, est.low, est.high, color=color, alpha=0.2, lw=0, step="post")
        n = ", ".join(f"{a}: {s}" for a, s in panel.seeds.items())
        ax.set_title(f"{panel.experiment}\n({len(panel.settings)} settings; seeds {n})", fontsize=9)
        ax.set_xlabel("final success threshold τ", fontsize=8)
        if k % cols == 0:
            ax.set_ylabel("fraction of runs with success > τ", fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.02, 1.02)
        ax.tick_params(labelsize=7)
    for k in range(len(panels), rows * cols):
        axes[k // cols, k % cols].set_axis_off()
    title = (
        f"Performance profiles ({data.split} split, {data.confidence:.0%} stratified-bootstrap "
        "bands, rliable)"
    )
    return _finish(fig, title, colors, out_path)


# ---------------------------------------------------------------------------------------------
# Generalization gaps
# ---------------------------------------------------------------------------------------------


def plot_gaps(data: F.Gaps, out_path: str | Path) -> Path:
    """Generalization gap train − split of final success, one panel per experiment × held-out
    split, bars per setting and agent with their CIs (paired per run, percentile bootstrap over
    seeds).

    Args:
        data: :func:`rlbench3.analysis.figures.generalization_gaps`.
    """
    out_path = _check_path(out_path)
    panels = data.panels
    if not panels:
        return _empty(out_path, "no held-out splits to compare with train")
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = _figure(rows, cols)
    colors = _colors(data.agents)
    agents = sorted(colors)
    width = 0.8 / len(agents)
    for k, panel in enumerate(panels):
        ax = axes[k // cols, k % cols]
        settings = list(panel.settings)
        for i, agent in enumerate(agents):
            bars = panel.rows[panel.rows["agent"] == agent]
            if bars.empty:
                continue
            xs = [settings.index(s) + (i - (len(agents) - 1) / 2) * width for s in bars["setting"]]
            gaps = bars["gap"].to_numpy(float)
            lo = gaps - bars["gap_low"].to_numpy(float)
            hi = bars["gap_high"].to_numpy(float) - gaps
            ax.bar(xs, gaps, width=width * 0.95, color=colors[agent], alpha=0.85)
            # a marker at each gap, so that a zero gap is still seen
            ax.errorbar(
                xs,
                gaps,
                yerr=[lo, hi],
                fmt="o",
                ms=3,
                color=colors[agent],
                mec="k",
                mew=0.5,
                ecolor="k",
                capsize=2,
                lw=0.8,
            )
        ax.axhline(0.0, color="k", lw=0.6)
        ax.set_xticks(range(len(settings)))
        ax.set_xticklabels(settings, fontsize=7, rotation=20 if len(settings) > 3 else 0)
        ax.set_title(f"{panel.experiment}: train − {panel.split}", fontsize=9)
        ax.set_ylim(-1.05, 1.05)
        ax.tick_params(labelsize=7)
        if k % cols == 0:
            ax.set_ylabel("gap in final success", fontsize=8)
    for k in range(len(panels), rows * cols):
        axes[k // cols, k % cols].set_axis_off()
    title = (
        f"Generalization gap (mean over seeds of the paired train − split success, "
        f"{data.confidence:.0%} percentile-bootstrap CI)"
    )
    return _finish(fig, title, colors, out_path)


# ---------------------------------------------------------------------------------------------
# From a results folder
# ---------------------------------------------------------------------------------------------


def _landscape_title(data: F.LandscapeData) -> str:
    sl = data.slice
    return (
        f"{data.experiment}: {data.env_id.split('/')[-1]} {data.setting}, fresh "
        f"PPO init, deterministic policy, {sl.returns.shape[-1]} episodes per point; "
        f"1-D parameters: direction {sl.bias}"
    )


def plot_report_card(card: Any, out_path: str | Path, *, expressive_at: float = 0.8) -> Path:
    """Trainability against expressivity, one point per report-card row (T5), with their
    intervals; the shaded corner is the "trainability bottleneck" (expressive, rarely trained).

    Args:
        card: :func:`rlbench3.analysis.report_card.report_card` (rows without an expressivity
            estimate are left out).
    """
    out_path = _check_path(out_path)
    rows = card[card["expressivity"].notna()]
    if not len(rows):
        return _empty(out_path, "no row with an expressivity estimate")
    fig, axes = _figure(1, 1, panel=(5.0, 4.2))
    ax = axes[0, 0]
    ax.axvspan(expressive_at, 1.05, ymin=0, ymax=(0.5 + 0.05) / 1.1, color="tab:red", alpha=0.08)
    ax.text(
        expressive_at + 0.01,
        0.48,
        "trainability\nbottleneck",
        fontsize=7,
        color="tab:red",
        va="top",
    )
    families = sorted(rows["family"].unique())
    markers = dict(zip(families, "osD^v<>"))
    colors = _colors(families)
    agents = sorted(rows["agent"].unique())
    levels = _label_levels(rows["expressivity"].to_numpy(), rows["trainability"].to_numpy())
    for (_, r), level in zip(rows.iterrows(), levels):
        ax.errorbar(
            r["expressivity"],
            r["trainability"],
            xerr=[
                [r["expressivity"] - r["expressivity_low"]],
                [r["expressivity_high"] - r["expressivity"]],
            ],
            yerr=[
                [r["trainability"] - r["trainability_low"]],
                [r["trainability_high"] - r["trainability"]],
            ],
            fmt=markers[r["family"]],
            color=colors[r["family"]],
            ms=5,
            capsize=2,
            lw=0.8,
        )
        # labels of points near the right edge go to their left; near points' labels stack
        right = r["expressivity"] > 0.6
        ax.annotate(
            r["setting"] if len(agents) == 1 else f"{r['setting']} ({r['agent']})",
            (r["expressivity"], r["trainability"]),
            xytext=(-5 if right else 5, 4 + LABEL_STEP * level),
            textcoords="offset points",
            ha="right" if right else "left",
            fontsize=6,
            color=colors[r["family"]],
            arrowprops=dict(arrowstyle="-", lw=0.4, color="0.6") if level else None,
        )
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("expressivity: cloned network's success", fontsize=8)
    ax.set_ylabel("trainability: share of RL seeds that succeed", fontsize=8)
    ax.tick_params(labelsize=7)
    title = "Expressivity vs trainability (report card)"
    if len(agents) == 1:
        title += f": {agents[0]}"
    return _finish(fig, title, colors, out_path)


# Vertical distance (points) between the stacked labels of nearby points.
LABEL_STEP = 8.0


def _label_levels(
    x: np.ndarray, y: np.ndarray, near: tuple[float, float] = (0.3, 0.06)
) -> list[int]:
    """A stacking level per point: a point within ``near`` (data units, x and y) of a point
    already labelled at a level moves up one, so labels of close points do not overlap."""
    levels = [0] * len(x)
    placed: list[tuple[float, float, int]] = []
    for i in sorted(range(len(x)), key=lambda i: (y[i], x[i])):
        level = 0
        while any(
            lv == level and abs(x[i] - px) < near[0] and abs(y[i] - py) < near[1]
            for px, py, lv in placed
        ):
            level += 1
        levels[i] = level
        placed.append((float(x[i]), float(y[i]), level))
    return levels


def render_plot(results_dir: str | Path, kind: str, out_path: str | Path, **kwargs: Any) -> Path:
    """Draw one kind of figure from a results folder to ``out_path`` (``.png`` or ``.pdf``).

    ``kwargs`` go to the :mod:`rlbench3.analysis.figures` function of the kind:
    :func:`~rlbench3.analysis.figures.learning_curves` (``"curves"``),
    :func:`~rlbench3.analysis.figures.trainability_frontiers` (``"frontier"``),
    :func:`~rlbench3.analysis.figures.landscape_for_results` (``"landscape"``),
    :func:`~rlbench3.analysis.figures.experiment_profiles` (``"profiles"``) or
    :func:`~rlbench3.analysis.figures.generalization_gaps` (``"gaps"``).
    """
    from rlbench3.analysis.results import curves_frame, episodes_frame, stored_runs
    from rlbench3.analysis.tables import run_scores

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    out_path = _check_path(out_path)
    if kind == "landscape":
        data = F.landscape_for_results(results_dir, **kwargs)
        return plot_landscape(
            data.slice.mean_returns,
            data.slice.alphas,
            data.slice.betas,
            out_path,
            probe_returns=data.probe.returns,
            hole_fraction=data.probe.hole_fraction,
            title=_landscape_title(data),
        )
    runs = stored_runs(results_dir)
    curves = curves_frame(runs)
    if kind == "curves":
        return plot_curves(F.learning_curves(curves, **kwargs), out_path)
    scores = run_scores(curves, episodes_frame(runs))
    if kind == "frontier":
        return plot_frontier(F.trainability_frontiers(scores, **kwargs), out_path)
    if kind == "profiles":
        return plot_profiles(F.experiment_profiles(scores, **kwargs), out_path)
    return plot_gaps(F.generalization_gaps(scores, **kwargs), out_path)
