"""Weak generalization: how trained policies degrade under perturbations of size ε.

For every finished run of a results folder, its saved final policy is evaluated on its training
distribution under observation noise, action noise or an FGSM adversarial observation
perturbation (see :func:`rlbench3.analysis.adversarial.perturbed_returns`), at each ε. The same
episodes are used for every ε of a run, so each curve isolates the perturbation's effect.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rlbench3.analysis.adversarial import KINDS
from rlbench3.analysis.ordering import setting_order, sort_rows
from rlbench3.harness.run_config import TRAIN


def perturbation_scores(
    out: str | Path,
    kind: str,
    epsilons: Sequence[float],
    *,
    episodes: int = 50,
    seed: int = 20_000,
) -> pd.DataFrame:
    """A row per run × ε: ``success_rate`` and ``mean_return`` of the run's final policy.

    Columns: ``run_id``, ``experiment``, ``setting``, ``agent``, ``seed``, ``kind``,
    ``epsilon``, ``success_rate``, ``mean_return``.
    """
    from rlbench3.analysis.adversarial import perturbed_returns
    from rlbench3.analysis.results import load, load_policy
    from rlbench3.harness.storage import CorruptRecord, RunStore

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not epsilons or any(not np.isfinite(e) or e < 0 for e in epsilons):
        raise ValueError(f"epsilons must be a non-empty list of numbers >= 0, got {epsilons!r}")
    if episodes < 1:
        raise ValueError(f"episodes must be an integer >= 1, got {episodes}")
    curves = load(out)
    store = RunStore(out)
    rows = []
    for run_id, run in curves.groupby("run_id", sort=False):
        first = run.iloc[0]
        config = store.read(run_id).config
        try:
            policy = load_policy(out, run_id)
        except CorruptRecord as err:
            print(f"rlbench3: skipping run {run_id}: {err}", file=sys.stderr)
            continue
        for epsilon in epsilons:
            returns, successes = perturbed_returns(
                policy,
                config.env_id,
                config.splits[TRAIN],
                episodes,
                seed,
                kind,
                float(epsilon),
            )
            rows.append(
                {
                    "run_id": run_id,
                    "experiment": first["experiment"],
                    "setting": first["setting"],
                    "agent": first["agent"],
                    "seed": int(first["seed"]),
                    "kind": kind,
                    "epsilon": float(epsilon),
                    "success_rate": float(np.mean(successes)),
                    "mean_return": float(np.mean(returns)),
                }
            )
    if not rows:
        raise ValueError(f"no run in {out} has a saved policy to perturb")
    frame = pd.DataFrame(rows)
    return sort_rows(frame, setting_order(curves), ("agent", "seed", "epsilon"))


def robustness_table(
    scores: pd.DataFrame, *, metric: str = "success_rate", reps: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Per experiment × setting × agent: the mean ``metric`` over seeds at each ε, with a 95%
    percentile-bootstrap CI over seeds (``x [low, high]`` cells, one column per ε)."""
    from rlbench3.analysis.metrics import bootstrap_mean

    rows = []
    keys = ["experiment", "setting", "agent"]
    for key, group in scores.groupby(keys, sort=False):
        row = dict(zip(keys, key))
        row["seeds"] = group["seed"].nunique()
        for epsilon, cell in group.groupby("epsilon"):
            est = bootstrap_mean(cell[metric].to_numpy(dtype=float), seed, reps=reps)
            row[f"ε={epsilon:g}"] = (
                f"{float(np.squeeze(est.point)):.2f} "
                f"[{float(np.squeeze(est.low)):.2f}, {float(np.squeeze(est.high)):.2f}]"
            )
        rows.append(row)
    return pd.DataFrame(rows)
