"""Figures from a results folder: learning curves, trainability frontiers, landscape slices,
performance profiles and generalization gaps.

Every ``plot_*`` function takes data (the frames of :mod:`rlbench3.analysis.results` /
:func:`rlbench3.analysis.tables.run_scores`, or the arrays of :mod:`rlbench3.analysis.landscape`) and an output
path; the format follows its suffix (``.png`` or ``.pdf``). ``render_plot(DIR, kind, OUT)`` loads
a results folder and draws one kind: ``"curves"``, ``"frontier"``, ``"landscape"``,
``"profiles"`` or ``"gaps"``.

Figures are drawn on matplotlib ``Figure`` objects with the Agg canvas (no pyplot, no display, no
global backend change). Statistics come from rliable and :mod:`rlbench3.analysis.metrics`; nothing is
re-implemented here:

* curves: faint per-seed lines and the IQM over seeds at each step (rliable ``aggregate_iqm``)
  with a 95% stratified-bootstrap band (rliable ``get_interval_estimates``, as in rliable's
  sample-efficiency curves); runs' evaluation steps are aligned by linear interpolation onto a
  common grid that every run covers.
* frontier: per agent, the fraction of seeds that solved each level (final train success
  >= ``solved_at``, as in the ``swiss`` table) with exact Clopper-Pearson intervals, and
  :func:`rlbench3.analysis.metrics.trainability_frontier`'s logistic fit, bootstrap band and H50/d50.
* profiles: :func:`rlbench3.analysis.metrics.performance_profiles` (rliable ``create_performance_profile``).
* gaps: :func:`rlbench3.analysis.metrics.generalization_gap` (paired train - split, bootstrap CI).
"""

from __future__ import annotations

import contextlib
import warnings
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rlbench3.analysis import metrics as M
from rlbench3.analysis.probes import clopper_pearson

KINDS = ("curves", "frontier", "landscape", "profiles", "gaps")
FORMATS = (".png", ".pdf")
TRAIN = "train"
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


@contextlib.contextmanager
def _rliable_seed(seed: int) -> Iterator[None]:
    """rliable 1.2 resamples with numpy's global generator: seed it, then put it back."""
    saved = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        np.random.set_state(saved)  # noqa: NPY002


def _key_seed(seed: int, *key: Any) -> int:
    return (seed * 1_000_003 + zlib.crc32("\x1f".join(map(str, key)).encode())) % 2**32


def _param_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("param_") and frame[c].notna().all()]


def _order_value(v: Any) -> tuple[int, Any]:
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return (0, float(v))
    return (1, str(v))


def _suite_order(suite: str) -> list[str]:
    from rlbench3.harness.suites import load_suite

    try:
        return [e["name"] for e in load_suite(suite).experiments]
    except Exception:  # noqa: BLE001  (a suite file that moved or changed: fall back to names)
        return []


def _experiments(frame: pd.DataFrame) -> list[str]:
    """Experiments in the order of their suite file when there is one suite and its file can be
    read (as ``rlbench3 run`` lists them), otherwise by name."""
    names = sorted(pd.unique(frame["experiment"]))
    suites = pd.unique(frame["suite"]) if "suite" in frame else []
    declared = _suite_order(str(suites[0])) if len(suites) == 1 else []
    return [n for n in declared if n in names] + [n for n in names if n not in declared]


def _panels(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """(experiment, setting) pairs, experiments in suite order, settings by grid value."""
    out = []
    for exp in _experiments(frame):
        group = frame[frame["experiment"] == exp]
        params = _param_columns(group)
        settings = group.drop_duplicates("setting")
        keys = {
            row["setting"]: tuple(_order_value(row[p]) for p in params)
            for _, row in settings.iterrows()
        }
        out += [(exp, s) for s in sorted(keys, key=lambda s: (keys[s], s))]
    return out


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


def _iqm_band(
    values: np.ndarray, reps: int, seed: int, confidence: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IQM over seeds at every grid point, ``values`` ``(num_seeds × num_points)``, with a
    stratified-bootstrap interval (rliable, one call for all points)."""
    from rliable import library as rly
    from rliable import metrics as rm

    scores = values[:, None, :]  # (runs, 1 task, points): rliable's sample-efficiency layout

    def iqm(s: np.ndarray) -> np.ndarray:
        return np.array([rm.aggregate_iqm(s[..., k]) for k in range(s.shape[-1])])

    with _rliable_seed(seed):
        point, interval = rly.get_interval_estimates(
            {"x": scores},
            iqm,
            reps=reps,
            confidence_interval_size=confidence,
            random_state=np.random.RandomState(seed),
        )
    return point["x"], interval["x"][0], interval["x"][1]


def plot_curves(
    curves: pd.DataFrame,
    out_path: str | Path,
    *,
    metric: str = "success_rate",
    split: str = TRAIN,
    reps: int = 500,
    confidence: float = 0.95,
    seed: int = 0,
    points: int | None = None,
) -> Path:
    """Learning curves, one panel per experiment × setting, one colour per agent.

    Args:
        curves: the frame of :func:`rlbench3.analysis.results.load`.
        metric: ``"success_rate"`` or ``"mean_return"``.
        split: the evaluation split drawn.
        reps, confidence, seed: the bootstrap of the IQM band.
        points: size of the common step grid (default: the most evaluation points of a run).
    """
    out_path = _check_path(out_path)
    data = curves[curves["split"] == split] if len(curves) else curves
    if data.empty:
        return _empty(out_path, f"no learning curves for split {split!r}")
    panels = _panels(data)
    experiments = _experiments(data)
    cols = max(sum(e == exp for e, _ in panels) for exp in experiments)
    fig, axes = _figure(len(experiments), cols, sharey=metric == "success_rate")
    colors = _colors(list(pd.unique(data["agent"])))
    used = set()
    for exp, setting in panels:
        row = experiments.index(exp)
        col = sum(1 for e, s in panels[: panels.index((exp, setting))] if e == exp)
        ax = axes[row, col]
        used.add((row, col))
        group = data[(data["experiment"] == exp) & (data["setting"] == setting)]
        for agent, runs in group.groupby("agent", sort=True):
            color = colors[agent]
            per_run = [r.sort_values("step") for _, r in runs.groupby("run_id")]
            for r in per_run:
                ax.plot(r["step"], r[metric], color=color, alpha=0.25, lw=0.8)
            last = np.array([float(r["step"].max()) for r in per_run])
            n = points or max(len(r) for r in per_run)
            grid = np.linspace(0.0, last.max(), max(2, n))
            # Runs of different lengths (budgets): each grid point's IQM is over the runs that
            # reached it; consecutive points with the same runs share one rliable call.
            covered = grid[None, :] <= last[:, None]
            mid, low, high = (np.empty(grid.size) for _ in range(3))
            start = 0
            for k in range(1, grid.size + 1):
                if k < grid.size and np.array_equal(covered[:, k], covered[:, start]):
                    continue
                span = slice(start, k)
                values = np.array(
                    [
                        np.interp(grid[span], r["step"], r[metric])
                        for r, c in zip(per_run, covered[:, start])
                        if c
                    ]
                )
                mid[span], low[span], high[span] = _iqm_band(
                    values,
                    reps,
                    _key_seed(seed, "curves", exp, setting, agent, start),
                    confidence,
                )
                start = k
            ax.plot(grid, mid, color=color, lw=2)
            ax.fill_between(grid, low, high, color=color, alpha=0.2, lw=0)
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
    fig.suptitle(
        f"Learning curves ({split} split): per-run lines; IQM over the runs that reached each "
        f"step, {confidence:.0%} stratified-bootstrap band (rliable)",
        fontsize=10,
    )
    _legend(fig, colors)
    return _save(fig, out_path)


# ---------------------------------------------------------------------------------------------
# Trainability frontier
# ---------------------------------------------------------------------------------------------


def _numeric_params(group: pd.DataFrame) -> list[str]:
    out = []
    for p in _param_columns(group):
        values = group[p]
        if values.map(lambda v: isinstance(v, (bool, np.bool_))).any():
            continue
        numeric = pd.to_numeric(values, errors="coerce")
        if not numeric.isna().any() and numeric.nunique() >= 2:
            out.append(p)
    return out


def plot_frontier(
    scores: pd.DataFrame,
    out_path: str | Path,
    *,
    solved_at: float = 0.5,
    reps: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Path:
    """Success against difficulty: one panel per experiment × numeric grid parameter.

    Args:
        scores: :func:`rlbench3.analysis.tables.run_scores` rows (one per run × split; the train split is
            used), with the ``param_*`` grid columns.
        solved_at: a seed solved a level when its final train success is at least this.

    Points: the fraction of seeds that solved each level, with exact Clopper-Pearson
    intervals; faint crosses: each seed's final success. Curve and band:
    :func:`rlbench3.analysis.metrics.trainability_frontier` (logistic MLE, percentile-bootstrap band
    resampling seeds within levels) with its H50/d50 and CI marked at 1/2, when metrics provides
    it; otherwise the raw points only.
    """
    out_path = _check_path(out_path)
    train = scores[scores["split"] == TRAIN] if len(scores) else scores
    frontier = getattr(M, "trainability_frontier", None)
    jobs = []
    for exp in _experiments(train) if len(train) else []:
        group = train[train["experiment"] == exp]
        for p in _numeric_params(group):
            others = [q for q in _param_columns(group) if q != p]
            for fixed, g in group.groupby(others) if others else [((), group)]:
                fixed = fixed if isinstance(fixed, tuple) else (fixed,)
                label = ", ".join(f"{q[6:]}={v}" for q, v in zip(others, fixed))
                jobs.append((exp, p, label, g))
    if not jobs:
        return _empty(out_path, "no experiment with a numeric grid of two levels or more")
    cols = min(3, len(jobs))
    rows = -(-len(jobs) // cols)
    fig, axes = _figure(rows, cols, panel=(3.8, 3.2))
    colors = _colors(list(pd.unique(train["agent"])))
    agents = sorted(colors)
    offsets = {a: (i - (len(agents) - 1) / 2) for i, a in enumerate(agents)}
    for k, (exp, p, label, g) in enumerate(jobs):
        ax = axes[k // cols, k % cols]
        x_all = pd.to_numeric(g[p]).to_numpy(float)
        levels = np.unique(x_all)
        spread = 0.025 * (levels[-1] - levels[0])
        for agent, rows_a in g.groupby("agent", sort=True):
            color = colors[agent]
            x = pd.to_numeric(rows_a[p]).to_numpy(float)
            y = rows_a["score"].to_numpy(float)
            solved = (y >= solved_at).astype(float)
            shift = offsets[agent] * spread
            ax.scatter(x + shift, y, marker="x", s=12, color=color, alpha=0.35, lw=0.8)
            lv = np.unique(x)
            frac, lo, hi = [], [], []
            for v in lv:
                s = solved[x == v]
                a, b = clopper_pearson(int(s.sum()), len(s), confidence)
                frac.append(s.mean())
                lo.append(a)
                hi.append(b)
            frac, lo, hi = map(np.asarray, (frac, lo, hi))
            ax.errorbar(
                lv + shift,
                frac,
                yerr=[frac - lo, hi - frac],
                fmt="o",
                ms=4,
                color=color,
                capsize=2,
                lw=1,
            )
            if frontier is not None and lv.size >= 2:
                fr = frontier(
                    x,
                    solved,
                    _key_seed(seed, "frontier", exp, p, label, agent),
                    reps=reps,
                    confidence=confidence,
                )
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
        name = p[len("param_") :]
        ax.set_title(f"{exp}" + (f" ({label})" if label else ""), fontsize=9)
        ax.set_xlabel(name, fontsize=8)
        ax.set_xticks(levels)
        ax.tick_params(labelsize=7)
        ax.set_ylim(-0.05, 1.05)
        ax.axhline(0.5, color="grey", lw=0.5, ls=":")
        if k % cols == 0:
            ax.set_ylabel(f"seeds solved (success >= {solved_at:g})", fontsize=8)
    for k in range(len(jobs), rows * cols):
        axes[k // cols, k % cols].set_axis_off()
    from matplotlib.lines import Line2D

    extra = [
        Line2D([], [], color="k", marker="o", ls="", ms=4, label="fraction solved (exact CI)"),
        Line2D([], [], color="k", marker="x", ls="", ms=4, label="seed's final success"),
    ]
    if frontier is not None:
        extra += [
            Line2D([], [], color="k", lw=1.5, label="logistic fit (bootstrap band)"),
            Line2D(
                [], [], color="k", marker="D", mfc="white", ls="-", ms=4, label="H50 / d50 (CI)"
            ),
        ]
    fig.suptitle("Trainability frontier: final train success against difficulty", fontsize=10)
    _legend(fig, colors, extra)
    return _save(fig, out_path)


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
            :class:`~rlbench3.analysis.landscape.LandscapeProbe`'s ``returns``): a histogram of their
            mean returns in a second panel.
        hole_fraction: an optional :class:`rlbench3.analysis.probes.HitEstimate`, written on that panel.
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


def _score_matrix(group: pd.DataFrame, tasks: list[str]) -> tuple[np.ndarray, int]:
    """``(num_seeds × num_tasks)`` of one agent, seeds truncated to the fewest any task has."""
    columns = [
        group[group["setting"] == t].sort_values("seed")["score"].to_numpy(float) for t in tasks
    ]
    n = min(len(c) for c in columns)
    return np.column_stack([c[:n] for c in columns]), n


def plot_profiles(
    scores: pd.DataFrame,
    out_path: str | Path,
    *,
    split: str = TRAIN,
    reps: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Path:
    """Performance profiles per experiment: the fraction of runs (over seeds and settings) whose
    final success exceeds τ, per agent, with stratified-bootstrap bands (rliable, via
    :func:`rlbench3.analysis.metrics.performance_profiles`).

    rliable needs a full ``(num_seeds × num_tasks)`` matrix per agent: where settings have
    different numbers of seeds, the lowest-numbered seeds common to all are used (the panel says
    how many).
    """
    out_path = _check_path(out_path)
    data = scores[scores["split"] == split] if len(scores) else scores
    if data.empty:
        return _empty(out_path, f"no final scores for split {split!r}")
    experiments = _experiments(data)
    cols = min(3, len(experiments))
    rows = -(-len(experiments) // cols)
    fig, axes = _figure(rows, cols)
    colors = _colors(list(pd.unique(data["agent"])))
    taus = np.linspace(0.0, 1.0, 101)
    for k, exp in enumerate(experiments):
        ax = axes[k // cols, k % cols]
        group = data[data["experiment"] == exp]
        tasks = [s for e, s in _panels(group)]
        matrices, seeds = {}, {}
        for agent, g in group.groupby("agent", sort=True):
            if set(g["setting"]) >= set(tasks):
                matrices[agent], seeds[agent] = _score_matrix(g, tasks)
        profiles = M.performance_profiles(
            matrices, taus, _key_seed(seed, "profiles", exp), reps=reps, confidence=confidence
        )
        for agent, est in profiles.items():
            color = colors[agent]
            ax.plot(taus, est.point, color=color, lw=2, drawstyle="steps-post")
            ax.fill_between(taus, est.low, est.high, color=color, alpha=0.2, lw=0, step="post")
        n = ", ".join(f"{a}: {s}" for a, s in seeds.items())
        ax.set_title(f"{exp}\n({len(tasks)} settings; seeds {n})", fontsize=9)
        ax.set_xlabel("final success threshold τ", fontsize=8)
        if k % cols == 0:
            ax.set_ylabel("fraction of runs with success > τ", fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.02, 1.02)
        ax.tick_params(labelsize=7)
    for k in range(len(experiments), rows * cols):
        axes[k // cols, k % cols].set_axis_off()
    fig.suptitle(
        f"Performance profiles ({split} split, {confidence:.0%} stratified-bootstrap bands, "
        "rliable)",
        fontsize=10,
    )
    _legend(fig, colors)
    return _save(fig, out_path)


# ---------------------------------------------------------------------------------------------
# Generalization gaps
# ---------------------------------------------------------------------------------------------


def plot_gaps(
    scores: pd.DataFrame,
    out_path: str | Path,
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Path:
    """Generalization gap train − split of final success, one panel per experiment × held-out
    split, bars per setting and agent with the CI of :func:`rlbench3.analysis.metrics.generalization_gap`
    (paired per run, percentile bootstrap over seeds)."""
    out_path = _check_path(out_path)
    if scores.empty or not (scores["split"] != TRAIN).any():
        return _empty(out_path, "no held-out splits to compare with train")
    jobs = []
    for exp in _experiments(scores):
        group = scores[scores["experiment"] == exp]
        for split in sorted(set(group["split"]) - {TRAIN}):
            jobs.append((exp, split, group))
    cols = min(3, len(jobs))
    rows = -(-len(jobs) // cols)
    fig, axes = _figure(rows, cols)
    colors = _colors(list(pd.unique(scores["agent"])))
    agents = sorted(colors)
    width = 0.8 / len(agents)
    for k, (exp, split, group) in enumerate(jobs):
        ax = axes[k // cols, k % cols]
        settings = [s for _, s in _panels(group)]
        for i, agent in enumerate(agents):
            xs, gaps, lo, hi = [], [], [], []
            for j, setting in enumerate(settings):
                g = group[(group["setting"] == setting) & (group["agent"] == agent)]
                wide = g.pivot_table(index="run_id", columns="split", values="score")
                if TRAIN not in wide or split not in wide:
                    continue
                paired = wide[[TRAIN, split]].dropna()
                if paired.empty:
                    continue
                est = M.generalization_gap(
                    paired[TRAIN].to_numpy(float),
                    paired[split].to_numpy(float),
                    _key_seed(seed, "gaps", exp, split, setting, agent),
                    reps=reps,
                    confidence=confidence,
                )
                xs.append(j + (i - (len(agents) - 1) / 2) * width)
                gaps.append(float(est.point))
                lo.append(float(est.point - est.low))
                hi.append(float(est.high - est.point))
            if xs:
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
        ax.set_title(f"{exp}: train − {split}", fontsize=9)
        ax.set_ylim(-1.05, 1.05)
        ax.tick_params(labelsize=7)
        if k % cols == 0:
            ax.set_ylabel("gap in final success", fontsize=8)
    for k in range(len(jobs), rows * cols):
        axes[k // cols, k % cols].set_axis_off()
    fig.suptitle(
        f"Generalization gap (mean over seeds of the paired train − split success, "
        f"{confidence:.0%} percentile-bootstrap CI)",
        fontsize=10,
    )
    _legend(fig, colors)
    return _save(fig, out_path)


# ---------------------------------------------------------------------------------------------
# From a results folder
# ---------------------------------------------------------------------------------------------


def landscape_for_results(
    results_dir: str | Path,
    *,
    grid: int = 21,
    radius: float = 1.0,
    episodes: int = 8,
    n_policies: int = 256,
    seed: int = 0,
) -> dict[str, Any]:
    """The slice and the probe that ``render_plot(..., "landscape")`` draws: the first
    experiment's env (suite order) at its first (easiest-valued) setting, train parameters, a
    fresh initialisation of the PPO-family agent's policy (its ``policy_kwargs``; PPO's default
    otherwise), deterministic actions as RandomSearch and the evaluator use."""
    from rlbench3.analysis import landscape
    from rlbench3.analysis.tables import load_configs

    configs = load_configs(results_dir)
    if not configs:
        raise FileNotFoundError(f"no finished runs in {results_dir}")
    frame = pd.DataFrame(
        [{"experiment": c.experiment, "suite": c.suite} for c in configs.values()]
    )
    first = _experiments(frame)[0]
    runs = [c for c in configs.values() if c.experiment == first]
    runs.sort(key=lambda c: tuple(_order_value(v) for v in c.setting.values()))
    config = runs[0]
    env_id, params = config.env_id, dict(config.splits[TRAIN])
    policy_kwargs: dict[str, Any] = {}
    for c in runs:
        agent = c.agent
        source = agent.hyperparams.get("policy_from", agent.algo)
        if source in ("PPO", "A2C", "TRPO"):
            policy_kwargs = dict(agent.hyperparams.get("policy_kwargs") or {})
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
    setting = config.label
    return {
        "slice": sl,
        "probe": probe,
        "experiment": first,
        "env_id": env_id,
        "setting": setting,
        "params": params,
    }


def render_plot(results_dir: str | Path, kind: str, out_path: str | Path, **kwargs: Any) -> Path:
    """Draw one kind of figure from a results folder to ``out_path`` (``.png`` or ``.pdf``).

    ``kwargs`` go to the ``plot_*`` function of the kind (for ``"landscape"``, to
    :func:`landscape_for_results`).
    """
    from rlbench3.analysis.results import load, load_episodes
    from rlbench3.analysis.tables import run_scores

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    out_path = _check_path(out_path)
    if kind == "landscape":
        data = landscape_for_results(results_dir, **kwargs)
        sl, probe = data["slice"], data["probe"]
        title = (
            f"{data['experiment']}: {data['env_id'].split('/')[-1]} {data['setting']}, fresh "
            f"PPO init, deterministic policy, {sl.returns.shape[-1]} episodes per point; "
            f"1-D parameters: direction {sl.bias}"
        )
        return plot_landscape(
            sl.mean_returns,
            sl.alphas,
            sl.betas,
            out_path,
            probe_returns=probe.returns,
            hole_fraction=probe.hole_fraction,
            title=title,
        )
    curves = load(results_dir)
    if kind == "curves":
        return plot_curves(curves, out_path, **kwargs)
    scores = run_scores(curves, load_episodes(results_dir))
    plot = {"frontier": plot_frontier, "profiles": plot_profiles, "gaps": plot_gaps}[kind]
    return plot(scores, out_path, **kwargs)
