"""Validation: the population trainer against SB3's PPO (or A2C), over seeds, with a control.

    python scripts/validate_population.py                        # smoke scale, ~5-10 minutes
    python scripts/validate_population.py --scale full           # 30 seeds each (issue 12)
    python scripts/validate_population.py --envs lock4 --seeds 6 --wrong-setting none
    python scripts/validate_population.py --out /tmp/validation  # also JSON and a figure
    python scripts/validate_population.py --envs reach3 --seeds 50 --exact   # + SB3's streams
    python scripts/validate_population.py --algo a2c --exact     # PopulationA2C against SB3's A2C

For every env (the lock with H = 4 and H = 8, K = 2; SparseReach d = 2; SparseReach d = 3 with
the training preset R, the quick suite's setting; CartPole-R), the same seeds are trained with the
same agent file (``agents/ppo.yaml``, or ``agents/a2c.yaml`` with ``--algo a2c``, resolved for the
env) and budget by

* **SB3**: ``rlbench3.harness.training.train_run`` (the project's own path: DummyVecEnv of
  ``n_envs`` copies, SB3's ``PPO`` / ``A2C``), evaluated by its recorder;
* **population**: :class:`rlbench3.agents.population.PopulationPPO` (``PopulationA2C``), all
  seeds in one process,
  evaluated by train_run's own evaluator (``Evaluator.for_split`` of each seed's run config: the
  same episodes, evaluation seeds and greedy mode as the SB3 record) at the steps train_run's
  recorder evaluates (the start, the first step past every ``every`` steps, the end).

Seed ``s`` starts from the same weights in both (SB3's initialisation for ``s``) and is evaluated
on the same episodes, so the comparison is paired by seed. Three metrics per run: the final
success rate, the final return as a fraction of the task's maximum (500 for CartPole-R, 1
otherwise), and the success rate averaged over the learning curve's evaluation points (how fast
it learns: a difference in learning speed that both implementations outgrow by the end of the
budget shows here). Per metric: the mean over seeds of each implementation with a 95% bootstrap
interval, and the mean paired difference (population - SB3) with its interval. A metric is
**consistent** when the interval of the difference contains 0 or lies within +-0.1 (the issue's
criterion), else **DIFFERENT**; an env is DIFFERENT when any of its metrics is. (Three metrics
and several envs at 95% each: a correct implementation is flagged somewhere now and then at
smoke scale; a flag to believe persists at ``--scale full``.) Two tests of equal distributions
per env, unpaired: Fisher's exact test on the seeds solved (final success >= 0.5) and Welch's t
test on the final success rate. Outcomes are often bimodal (a seed solves or never sees the
reward), so 10 seeds can disagree by chance: seeds 0-9 on SparseReach d = 3 R give 5 of 10
against 0 of 10 (Fisher p = 0.03); over 150 and 300 seeds the two are within chance (README).

``--exact`` also trains the population with SB3's own random streams (``streams="sb3"``: SB3's
per-step action draws and single envs seeded as SB3 seeds them), which makes seed ``s`` the same
run as SB3's ``s`` up to float rounding: it reports, per env, the seeds whose learning curve and
final success equal SB3's, and the share of evaluation points that agree before the two runs
part. Rounding can grow until one sampled action differs, after which the runs part for good
(CartPole-R's large returns get there within 30k steps); any difference of algorithm shows up
at once, seed by seed, with no statistics.

The control (``--wrong-setting``, on by default) trains the population once more with a
deliberately wrong setting and compares it with the same SB3 runs: the comparison must flag it
(some env DIFFERENT), or the validation could not have seen a hidden difference either.

* ``action-gain`` (default): the action head initialised with orthogonal gain 1 instead of SB3's
  0.01 (a less random initial policy: slower on SparseReach, faster on CartPole-R);
* ``no-adv-norm``: advantages not normalised per minibatch (PPO only: A2C does not normalise);
* ``none``: no control.

Smoke scale (the default): 10 seeds, budgets 10k (lock H=4) and 30k steps, 20 evaluation
episodes, 5 evaluation points; about 5 minutes on 2 cores, nearly all of it SB3's. Full scale:
30 seeds, budgets 20k / 50k / 50k / 60k, 50 episodes, 10 points.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import rlbench3  # noqa: F401  (registers the ids)
from rlbench3.agents.config import load_agent
from rlbench3.agents.population import TRAINERS, PopulationCallback, PopulationTrainer
from rlbench3.harness.run_config import TRAIN, EvalSpec, RunConfig
from rlbench3.harness.training import Evaluator, train_run


@dataclass(frozen=True)
class Task:
    name: str
    env_id: str
    family: str
    params: dict[str, Any]
    budget: dict[str, int]  # scale -> env steps per seed
    max_return: float = 1.0  # returns are compared as fractions of it


TASKS = {
    "lock4": Task(
        "lock H=4 K=2",
        "rlbench3/CombinationLock-v0",
        "CombinationLock",
        {"horizon": 4, "num_actions": 2},
        {"smoke": 10_000, "full": 20_000},
    ),
    "lock8": Task(
        "lock H=8 K=2",
        "rlbench3/CombinationLock-v0",
        "CombinationLock",
        {"horizon": 8, "num_actions": 2},
        {"smoke": 30_000, "full": 50_000},
    ),
    "reach": Task(
        "SparseReach d=2",
        "rlbench3/SparseReach-v0",
        "SparseReach",
        {"action_dim": 2},
        {"smoke": 30_000, "full": 50_000},
    ),
    "reach3": Task(
        "SparseReach d=3 R",
        "rlbench3/SparseReach-v0",
        "SparseReach",
        {"action_dim": 3, "preset": "R"},
        {"smoke": 30_000, "full": 30_000},  # the quick suite's budget
    ),
    "cartpole": Task(
        "CartPole-R",
        "rlbench3/CartPole-R-v0",
        "CartPole",
        {},
        {"smoke": 30_000, "full": 60_000},
        max_return=500.0,
    ),
}
SCALES = {  # seeds, evaluation episodes, evaluation points
    "smoke": {"seeds": 10, "episodes": 20, "points": 5},
    "full": {"seeds": 30, "episodes": 50, "points": 10},
}


# -- training -------------------------------------------------------------------------------


def run_config(
    task: Task, seed: int, budget: int, every: int, episodes: int, agent: str = "ppo"
) -> RunConfig:
    return RunConfig(
        suite="validate-population",
        experiment=task.name,
        env_id=task.env_id,
        family=task.family,
        setting={},
        splits={"train": dict(task.params)},
        agent=load_agent(agent).resolve(task.env_id, task.family),
        seed=seed,
        budget=budget,
        eval=EvalSpec(every=every, episodes=episodes),
    )


def sb3_run(config: RunConfig) -> dict[str, Any]:
    record, _ = train_run(config)
    return {
        "curve": [(p["step"], p["success_rate"], p["mean_return"]) for p in record["curve"]],
        "success": float(np.mean(record["final"]["train"]["successes"])),
        "return": float(np.mean(record["final"]["train"]["returns"])),
        "seconds": record["meta"]["train_seconds"],
    }


class Recorder(PopulationCallback):
    """train_run's evaluation of every seed: its evaluator (``Evaluator.for_split`` of the
    seed's run config: the same episodes, seeds and mode as SB3's record) at its schedule (the
    start, the first step at or past every ``every`` steps that SB3's ``_on_step`` sees, the
    end)."""

    def __init__(self, configs: list[RunConfig]):
        self.configs = configs
        self.budget, self.every = configs[0].budget, configs[0].eval.every
        self.next_eval = 0
        self.curves: list[list[tuple[int, float, float]]] = [[] for _ in configs]
        self.final: list[tuple[float, float]] = []
        self.eval_seconds = 0.0

    def evaluate(self, trainer: PopulationTrainer, step: int) -> None:
        start = time.perf_counter()
        self.final = []
        for j, evaluator in enumerate(self.evaluators):
            returns, successes, _ = evaluator(trainer.member(j))
            success, ret = float(successes.mean()), float(returns.mean())
            self.curves[j].append((step, success, ret))
            self.final.append((success, ret))
        self.eval_seconds += time.perf_counter() - start
        self.next_eval = step + self.every

    def on_training_start(self, trainer: PopulationTrainer) -> None:
        self.evaluators = [Evaluator.for_split(config, TRAIN) for config in self.configs]
        self.evaluate(trainer, 0)

    def on_rollout_start(self, trainer: PopulationTrainer) -> None:
        n, start = trainer.n_envs, trainer.num_timesteps
        while True:  # the steps of this rollout at which SB3's recorder would evaluate
            step = max(start + n, math.ceil(self.next_eval / n) * n)
            if step > start + trainer.settings.rollout_size or step >= self.budget:
                return
            self.evaluate(trainer, step)

    def on_training_end(self, trainer: PopulationTrainer) -> None:
        self.evaluate(trainer, trainer.num_timesteps)
        for evaluator in self.evaluators:
            evaluator.close()


def population_runs(
    task: Task, configs: list[RunConfig], wrong: str, streams: str = "batched"
) -> list[dict[str, Any]]:
    """The runs of ``configs`` (one per seed, as SB3's) by one population."""
    agent = configs[0].agent
    hyperparams = dict(agent.hyperparams)
    if wrong == "no-adv-norm":
        hyperparams["normalize_advantage"] = False
    trainer_class = TRAINERS[agent.algo]
    settings = trainer_class.SETTINGS.from_hyperparams(hyperparams, agent.n_envs)
    seeds = [config.seed for config in configs]
    torch.set_num_threads(1)
    trainer = trainer_class(task.env_id, seeds, settings, configs[0].splits[TRAIN], streams=streams)
    if wrong == "action-gain":
        with torch.no_grad():
            for j, seed in enumerate(seeds):
                weight = trainer.params["action_net.weight"][j]
                generator = torch.Generator().manual_seed(seed)
                weight.copy_(torch.nn.init.orthogonal_(torch.empty(weight.shape), 1.0, generator))
    recorder = Recorder(configs)
    start = time.perf_counter()
    trainer.learn(configs[0].budget, recorder)
    seconds = time.perf_counter() - start - recorder.eval_seconds
    trainer.close()
    return [
        {"curve": curve, "success": success, "return": ret, "seconds": seconds / len(seeds)}
        for curve, (success, ret) in zip(recorder.curves, recorder.final)
    ]


# -- statistics -----------------------------------------------------------------------------


def bootstrap_mean(values: np.ndarray, rng: np.random.Generator, n: int = 10_000) -> tuple:
    """Mean and its 95% percentile-bootstrap interval."""
    samples = rng.choice(values, size=(n, len(values)), replace=True).mean(axis=1)
    return (
        float(values.mean()),
        float(np.quantile(samples, 0.025)),
        float(np.quantile(samples, 0.975)),
    )


def iqm(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Interquartile mean (the middle 50%, as rliable's IQM)."""
    from scipy import stats

    return stats.trim_mean(values, 0.25, axis=axis)


def verdict(low: float, high: float, tolerance: float = 0.1) -> str:
    contains_zero = low <= 0.0 <= high
    return (
        "consistent" if contains_zero or (-tolerance <= low and high <= tolerance) else "DIFFERENT"
    )


def curve_mean(run: dict[str, Any]) -> float:
    """The success rate averaged over the learning curve's evaluation points (a normalised area
    under the curve: how fast a run learns, where the final point only says where it ends)."""
    return float(np.mean([point[1] for point in run["curve"]]))


# metric -> (what it is, the value of a run given the task's maximum return)
METRICS: dict[str, tuple[str, Any]] = {
    "success": ("final success rate", lambda run, top: run["success"]),
    "return": ("final return / max return", lambda run, top: run["return"] / top),
    "curve": ("success rate averaged over the learning curve", lambda run, top: curve_mean(run)),
}


def compare(
    sb3: list[dict[str, Any]], pop: list[dict[str, Any]], max_return: float, seed: int = 0
) -> dict[str, Any]:
    """Per metric: the mean over seeds of each implementation and of the paired difference
    (population - SB3), with 95% intervals and its verdict; the env's verdict is DIFFERENT if
    any metric's is."""
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    for metric, (_, value) in METRICS.items():
        a = np.array([value(r, max_return) for r in sb3])
        b = np.array([value(r, max_return) for r in pop])
        difference = bootstrap_mean(b - a, rng)  # paired by seed
        out[metric] = {
            "sb3": bootstrap_mean(a, rng),
            "population": bootstrap_mean(b, rng),
            "difference": difference,
            "verdict": verdict(*difference[1:]),
        }
    flagged = [m for m in METRICS if out[m]["verdict"] != "consistent"]
    out["verdict"] = "DIFFERENT" if flagged else "consistent"
    out["flagged_by"] = flagged
    out["tests"] = distribution_tests(
        np.array([r["success"] for r in sb3]), np.array([r["success"] for r in pop])
    )
    return out


def distribution_tests(a: np.ndarray, b: np.ndarray, solved: float = 0.5) -> dict[str, Any]:
    """Unpaired tests that final success rates ``a`` and ``b`` (one per seed) come from one
    distribution: Fisher's exact test on the seeds solved (success >= ``solved``) and Welch's t
    test on the rates (NaN when both samples are constant)."""
    from scipy import stats

    solved_a, solved_b = int((a >= solved).sum()), int((b >= solved).sum())
    table = [[solved_a, len(a) - solved_a], [solved_b, len(b) - solved_b]]
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # constant samples: NaN, said above
        welch = stats.ttest_ind(a, b, equal_var=False).pvalue
    return {
        "solved": [solved_a, solved_b],
        "seeds": [len(a), len(b)],
        "fisher_p": float(stats.fisher_exact(table).pvalue),
        "welch_p": float(welch),
    }


def exact_agreement(sb3: list[dict[str, Any]], exact: list[dict[str, Any]]) -> dict[str, Any]:
    """Seed by seed, SB3's runs against the population's with SB3's streams (the same runs):
    how many have the same learning curve (success and return at every evaluation point), how
    many the same final success, and the largest difference in final success."""
    a = np.array([r["success"] for r in sb3])
    b = np.array([r["success"] for r in exact])
    leading = []  # per seed: the share of evaluation points equal before the first difference
    for x, y in zip(sb3, exact):
        equal = np.isclose(np.array(x["curve"], dtype=float), np.array(y["curve"], dtype=float))
        points = equal.all(axis=1)
        leading.append(len(points) if points.all() else int(np.argmin(points)))
        leading[-1] /= len(points)
    return {
        "equal_curves": int(sum(share == 1.0 for share in leading)),
        "leading_equal_share": float(np.mean(leading)),
        "equal_final": int((a == b).sum()),
        "seeds": len(a),
        "max_abs_difference": float(np.abs(a - b).max()),
    }


def format_interval(estimate: tuple, digits: int = 2) -> str:
    mean, low, high = estimate
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def print_table(title: str, rows: dict[str, dict[str, Any]], population: str) -> None:
    print(f"\n{title}")
    sides = (("sb3", "SB3"), ("population", population), ("difference", "difference"))
    for metric, (what, _) in METRICS.items():
        print(f"  {what}:")
        print(f"    {'env':<18}" + "".join(f"{label:>26}" for _, label in sides) + "  verdict")
        for name, row in rows.items():
            cells = row[metric]
            text = "".join(f"{format_interval(cells[k]):>26}" for k, _ in sides)
            print(f"    {name:<18}{text}  {cells['verdict']}")
    print("  seeds solved (final success >= 0.5), Fisher's exact p; Welch's t p (final success):")
    for name, row in rows.items():
        t = row["tests"]
        print(
            f"    {name:<18}SB3 {t['solved'][0]}/{t['seeds'][0]}, {population} "
            f"{t['solved'][1]}/{t['seeds'][1]}: Fisher p = {t['fisher_p']:.3g}; "
            f"Welch p = {t['welch_p']:.3g}"
        )
    verdicts = []
    for name, row in rows.items():
        why = f" ({', '.join(row['flagged_by'])})" if row["flagged_by"] else ""
        verdicts.append(f"{name}: {row['verdict']}{why}")
    print("  verdict per env: " + "; ".join(verdicts))


def iqm_curves(runs: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Steps, and the IQM success rate over seeds at each with a 95% bootstrap band (runs share
    their evaluation steps)."""
    steps = np.array([p[0] for p in runs[0]["curve"]])
    scores = np.array([[p[1] for p in r["curve"]] for r in runs])  # (seeds, points)
    rng = np.random.default_rng(0)
    boot = np.stack(
        [iqm(scores[rng.integers(0, len(scores), len(scores))], axis=0) for _ in range(2000)]
    )
    return steps, iqm(scores, axis=0), np.quantile(boot, 0.025, 0), np.quantile(boot, 0.975, 0)


def plot(results: dict[str, dict[str, list]], path: Path, algo: str = "PPO") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4 * len(results), 3.2), squeeze=False)
    for ax, (name, runs) in zip(axes[0], results.items()):
        for label, key in (
            (f"{algo} (SB3)", "sb3"),
            (f"{algo} (population)", "population"),
            ("population, wrong setting", "wrong"),
        ):
            if key not in runs:
                continue
            steps, mid, low, high = iqm_curves(runs[key])
            (line,) = ax.plot(steps, mid, label=label)
            ax.fill_between(steps, low, high, alpha=0.2, color=line.get_color())
        ax.set_title(name)
        ax.set_xlabel("env steps")
        ax.set_ylim(-0.05, 1.05)
    axes[0][0].set_ylabel("success rate (IQM, 95% CI)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


# -- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=list(SCALES), default="smoke")
    parser.add_argument(
        "--algo",
        choices=["ppo", "a2c"],
        default="ppo",
        help="the agent file both run",
    )
    parser.add_argument("--envs", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--seeds", type=int, help="seeds per implementation (default: scale's)")
    parser.add_argument(
        "--wrong-setting", choices=["action-gain", "no-adv-norm", "none"], default="action-gain"
    )
    parser.add_argument("--workers", type=int, default=1, help="processes for the SB3 runs")
    parser.add_argument(
        "--exact",
        action="store_true",
        help="also train the population with SB3's random streams and compare seed by seed",
    )
    parser.add_argument("--out", type=Path, help="write results.json and curves.png here")
    parser.add_argument(
        "--reuse-sb3",
        type=Path,
        metavar="RESULTS_JSON",
        help="take the SB3 runs from an earlier results.json of the same scale and seeds",
    )
    args = parser.parse_args(argv)
    if args.algo == "a2c" and args.wrong_setting == "no-adv-norm":
        parser.error("--wrong-setting no-adv-norm: A2C does not normalise advantages (use PPO)")
    algo = args.algo.upper()
    scale = SCALES[args.scale]
    n_seeds = args.seeds or scale["seeds"]
    seeds = list(range(n_seeds))
    print(
        f"scale {args.scale}: {n_seeds} seeds per implementation, {scale['episodes']} evaluation "
        f"episodes; agents/{args.algo}.yaml; control: {args.wrong_setting}",
        flush=True,
    )
    started = time.perf_counter()
    earlier = json.loads(args.reuse_sb3.read_text()) if args.reuse_sb3 else None
    results: dict[str, dict[str, list]] = {}
    for key in args.envs:
        task = TASKS[key]
        budget = task.budget[args.scale]
        every = budget // scale["points"]
        configs = [run_config(task, s, budget, every, scale["episodes"], args.algo) for s in seeds]
        clock = time.perf_counter()
        if earlier is not None:
            sb3 = earlier["runs"][task.name]["sb3"]
            if (
                len(sb3) != n_seeds
                or earlier["scale"] != args.scale
                or earlier.get("algo", "PPO") != algo
            ):
                raise SystemExit(
                    f"{args.reuse_sb3}: not {n_seeds} {algo} seeds at scale {args.scale}"
                )
        else:
            with ProcessPoolExecutor(args.workers) as pool:
                sb3 = list(pool.map(sb3_run, configs))
        sb3_wall = time.perf_counter() - clock
        clock = time.perf_counter()
        pop = population_runs(task, configs, "none")
        pop_wall = time.perf_counter() - clock
        results[task.name] = {"sb3": sb3, "population": pop}
        line = (
            f"{task.name}: {budget:,} steps/seed; SB3 {sb3_wall:.0f} s wall "
            f"({args.workers} worker(s)), population {pop_wall:.0f} s"
        )
        if args.wrong_setting != "none":
            clock = time.perf_counter()
            wrong = population_runs(task, configs, args.wrong_setting)
            results[task.name]["wrong"] = wrong
            line += f", control {time.perf_counter() - clock:.0f} s"
        if args.exact:
            clock = time.perf_counter()
            results[task.name]["exact"] = population_runs(task, configs, "none", "sb3")
            line += f", SB3's streams {time.perf_counter() - clock:.0f} s"
        print(line, flush=True)

    tops = {TASKS[key].name: TASKS[key].max_return for key in args.envs}
    table = {name: compare(r["sb3"], r["population"], tops[name]) for name, r in results.items()}
    print_table(
        f"{algo} (population) vs {algo} (SB3): mean over seeds [95% bootstrap CI]",
        table,
        "population",
    )
    summary: dict[str, Any] = {
        "scale": args.scale,
        "algo": algo,
        "seeds": n_seeds,
        "episodes": scale["episodes"],
        "comparison": table,
    }
    if args.wrong_setting != "none":
        control = {name: compare(r["sb3"], r["wrong"], tops[name]) for name, r in results.items()}
        print_table(
            f"Control: population with wrong setting '{args.wrong_setting}' vs SB3",
            control,
            f"pop. {args.wrong_setting}",
        )
        flagged = [name for name, row in control.items() if row["verdict"] == "DIFFERENT"]
        print(
            f"control {'FLAGGED' if flagged else 'NOT flagged'}"
            + (f" on: {', '.join(flagged)}" if flagged else " (the comparison lacks power)")
        )
        summary["control"] = {"setting": args.wrong_setting, "rows": control, "flagged": flagged}
    if args.exact:
        print("\nPopulation with SB3's random streams vs SB3, seed by seed (the same runs):")
        summary["exact"] = {}
        for name, r in results.items():
            found = summary["exact"][name] = exact_agreement(r["sb3"], r["exact"])
            print(
                f"  {name:<18}of {found['seeds']} seeds, {found['equal_curves']} have SB3's "
                f"learning curve, {found['equal_final']} its final success; points equal before "
                f"the runs part {found['leading_equal_share']:.0%}; largest difference in final "
                f"success {found['max_abs_difference']:.2f}"
            )
    consistent = all(row["verdict"] == "consistent" for row in table.values())
    print(f"population vs SB3: {'consistent on every env' if consistent else 'DIFFERENT'}")
    print(f"total {time.perf_counter() - started:.0f} s")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps({**summary, "runs": results}, indent=1))
        plot(results, args.out / "curves.png", algo)
        print(f"wrote {args.out / 'results.json'} and {args.out / 'curves.png'}")


if __name__ == "__main__":
    main()
