"""T5: the Expressivity / Trainability / Generalization report card.

One row per (agent, env family, difficulty setting) of a results folder:

* **expressivity**: can the agent's own policy network represent a solution? A fresh network of
  the agent's architecture is fitted by behaviour cloning to ``k`` episodes of the family's
  expert (:func:`rlbench3.agents.imitation.warm_start`) and evaluated greedily on the training
  distribution. ``n`` independent cloning seeds, each evaluated on its own episodes; two-level
  interval. Only families with an expert (lock, point mass, arm) and agents whose policy is an
  SB3 actor-critic network (PPO, A2C, the population PPO, random search over PPO networks).
* **trainability**: the share of the RL seeds whose final train success is at least
  ``solved_at`` (Clopper-Pearson interval).
* **weak generalization**: the area under each run's success-vs-ε curve under Gaussian
  observation noise, divided by the largest ε (the mean success over perturbations up to
  ``ε_max``; 1 = unaffected and perfect), mean over seeds with a bootstrap interval.
* **strong generalization**: the extrapolation gap, train success minus held-out success on the
  run's first held-out split (paired two-level interval); "n/a" where the experiment has none.

``bottleneck`` flags the essay's "trainability bottleneck": the network can represent the
solution (expressivity's lower bound >= ``expressive_at``) but fewer than half the RL seeds find
it (trainability's point < 0.5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rlbench3.analysis import metrics as M
from rlbench3.analysis.probes import clopper_pearson
from rlbench3.analysis.tables import TableOptions, episode_values, put_estimate, run_scores
from rlbench3.harness.run_config import TRAIN, RunConfig

EXPERT_FAMILIES = ("CombinationLock", "SparseReach", "ArmReach")
# algorithms whose policy is an ActorCriticPolicy
CLONABLE = ("PPO", "A2C", "PPO_population", "A2C_population")


@dataclass(frozen=True)
class CardSettings:
    """The report card's measurement sizes (validated).

    Attributes:
        demonstrations: expert episodes cloned (``k``).
        clone_seeds: independent cloning runs per row (the ``n`` of expressivity).
        clone_episodes: greedy evaluation episodes per cloning run.
        epsilons: observation-noise levels of the weak-generalization curve (the first is 0).
        noise_episodes: episodes per run and ε.
        solved_at: a seed is trained when its final train success is at least this.
        expressive_at: expressivity's lower bound needed to flag a bottleneck.
    """

    demonstrations: int = 100
    clone_seeds: int = 3
    clone_episodes: int = 50
    epsilons: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2)
    noise_episodes: int = 20
    solved_at: float = 0.5
    expressive_at: float = 0.8

    def __post_init__(self) -> None:
        for name in ("demonstrations", "clone_seeds", "clone_episodes", "noise_episodes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        eps = self.epsilons
        if len(eps) < 2 or eps[0] != 0 or any(b <= a for a, b in zip(eps, eps[1:])):
            raise ValueError(f"epsilons must start at 0 and increase, got {eps!r}")
        for name in ("solved_at", "expressive_at"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)!r}")


def family(env_id: str) -> str:
    """``rlbench3/SparseReach-v0`` -> ``SparseReach``."""
    return env_id.split("/")[-1].split("-v")[0]


def _nan() -> M.Estimate:
    return M.Estimate(np.nan, np.nan, np.nan)


def clone_success(config: RunConfig, settings: CardSettings, clone_seed: int) -> np.ndarray:
    """``(clone_episodes,)`` greedy successes of a fresh network of ``config``'s agent, cloned
    from the expert of its training distribution with seed ``clone_seed``."""
    import gymnasium as gym
    import stable_baselines3

    from rlbench3.agents.imitation import ImitationSettings, warm_start
    from rlbench3.agents.threads import torch_threads
    from rlbench3.harness.training import Evaluator

    params = dict(config.splits[TRAIN])
    algo = config.agent.algo.split("_")[0]
    cls = {"PPO": stable_baselines3.PPO, "A2C": stable_baselines3.A2C}[algo]
    kwargs = dict(config.agent.hyperparams.get("policy_kwargs") or {})
    with torch_threads(1):
        env = gym.make(config.env_id, **params)
        model = cls(config.agent.policy, env, policy_kwargs=kwargs, seed=clone_seed, device="cpu")
        warm_start(
            model,
            config.env_id,
            params,
            ImitationSettings(episodes=settings.demonstrations),
            seed=clone_seed,
        )
        # evaluation episodes of their own: seeds far from the cloning episodes' and the runs'
        evaluator = Evaluator(
            config.env_id,
            params,
            settings.clone_episodes,
            seed=50_000_000 + 1000 * clone_seed,
            deterministic=True,
        )
        try:
            _, successes, _ = evaluator(model)
        finally:
            evaluator.close()
            env.close()
    return successes.astype(float)


def _clonable(config: RunConfig) -> bool:
    source = str(config.agent.hyperparams.get("policy_from", config.agent.algo))
    return family(config.env_id) in EXPERT_FAMILIES and (
        config.agent.algo in CLONABLE or (config.agent.algo == "random_search" and source == "PPO")
    )


def _noise_auc(frame: pd.DataFrame, epsilons: Sequence[float]) -> pd.Series:
    """Per run, the area under success vs ε divided by the largest ε."""
    out = {}
    eps = np.asarray(epsilons, float)
    for run_id, group in frame.groupby("run_id"):
        s = group.set_index("epsilon")["success_rate"].reindex(eps).to_numpy(float)
        out[run_id] = float(np.sum((s[1:] + s[:-1]) / 2 * np.diff(eps)) / eps[-1])
    return pd.Series(out)


def report_card(
    results_dir: str | Path,
    options: TableOptions,
    settings: CardSettings | None = None,
) -> pd.DataFrame:
    """The report card of a results folder (see the module docstring); one row per
    (experiment, setting, agent), in the tables' order."""
    from rlbench3.analysis.ordering import setting_order, sort_rows
    from rlbench3.analysis.results import curves_frame, episodes_frame, stored_runs
    from rlbench3.analysis.robustness import perturbation_scores

    settings = settings or CardSettings()
    runs = stored_runs(results_dir)
    configs = {run.run_id: run.config for run in runs}
    episodes = episodes_frame(runs)
    scores = run_scores(curves_frame(runs), episodes)
    values = episode_values(episodes)
    noise = perturbation_scores(
        results_dir,
        "obs_noise",
        list(settings.epsilons),
        episodes=settings.noise_episodes,
    )
    auc = _noise_auc(noise, settings.epsilons)
    train = scores[scores["split"] == TRAIN]
    rows = []
    for (exp, setting, agent), group in train.groupby(["experiment", "setting", "agent"]):
        group = group.sort_values("seed")
        ids = [str(r) for r in group["run_id"]]
        first = configs[ids[0]]
        n = len(ids)
        row: dict[str, Any] = {
            "experiment": exp,
            "family": family(first.env_id),
            "setting": setting,
            "agent": agent,
            "seeds": n,
        }
        key = (exp, setting, agent)
        # expressivity
        if _clonable(first):
            clones = [clone_success(first, settings, s) for s in range(settings.clone_seeds)]
            est = M.two_level_estimates(
                clones, M.rng_for(options.seed, "card-express", *key), reps=options.reps
            )["mean"]
        else:
            est = _nan()
        put_estimate(row, "expressivity", est)
        row["expressivity_n"] = settings.clone_seeds if _clonable(first) else 0
        # trainability
        solved = int((group["score"].to_numpy(float) >= settings.solved_at).sum())
        low, high = clopper_pearson(solved, n, options.confidence)
        put_estimate(row, "trainability", M.Estimate(solved / n, low, high))
        # weak generalization
        weak = auc.reindex(ids).to_numpy(float)
        if np.isnan(weak).any():
            put_estimate(row, "weak_auc", _nan())
        else:
            est = M.bootstrap_mean(
                weak, M.rng_for(options.seed, "card-weak", *key), reps=options.reps
            )
            put_estimate(
                row, "weak_auc", M.Estimate(*(float(np.squeeze(v)) for v in est.__dict__.values()))
            )
        # strong generalization
        held_out = [s for s in first.splits if s != TRAIN]
        if held_out:
            split = held_out[0]
            tr = [values.get((r, TRAIN), np.array([np.nan])) for r in ids]
            te = [values.get((r, split), np.array([np.nan])) for r in ids]
            if all(np.isfinite(a).all() for a in tr + te):
                gap = M.two_level_gap(
                    tr, te, M.rng_for(options.seed, "card-gap", *key), reps=options.reps
                )
            else:
                gap = _nan()
            row["held_out"] = split
        else:
            gap, row["held_out"] = _nan(), "-"
        put_estimate(row, "strong_gap", gap)
        row["bottleneck"] = (
            "yes"
            if row["expressivity_low"] >= settings.expressive_at and row["trainability"] < 0.5
            else ""
        )
        rows.append(row)
    return sort_rows(rows, setting_order(scores), ("agent",))


def card_title(settings: CardSettings, protocol: str, options: TableOptions) -> str:
    pct = f"{options.confidence:.0%}"
    return (
        "Expressivity / Trainability / Generalization report card. expressivity: greedy success "
        f"of the agent's network cloned from {settings.demonstrations} expert episodes "
        f"(n = {settings.clone_seeds} cloning seeds x {settings.clone_episodes} episodes, "
        f"{pct} two-level CI); trainability: share of RL seeds with final train success >= "
        f"{settings.solved_at:g} ({pct} Clopper-Pearson); weak_auc: mean success under Gaussian "
        f"observation noise over eps in {list(settings.epsilons)} (area / eps_max; "
        f"{settings.noise_episodes} episodes per run and eps); strong_gap: train minus held-out "
        f"success (paired two-level CI); bottleneck: expressivity's lower bound >= "
        f"{settings.expressive_at:g} and trainability < 0.5. {protocol}"
    )


def card_counts(card: pd.DataFrame) -> Mapping[str, int]:
    """How many rows are bottlenecks, out of how many with an expressivity estimate."""
    measured = card["expressivity"].notna()
    return {
        "rows": len(card),
        "measured": int(measured.sum()),
        "bottlenecks": int((card["bottleneck"] == "yes").sum()),
    }
