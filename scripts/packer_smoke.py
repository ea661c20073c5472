"""Smoke check of Packer et al. (2018)'s D/R/E protocol on randomized CartPole.

PPO (agents/ppo.yaml) is trained on CartPole-D, -R and -E, and every trained policy is evaluated
on D, R and E, sampling its actions from the policy as Packer et al. did (``--greedy``: the
policy's mode instead). Each run and split has its own evaluation episodes
(``RunConfig.eval_seed``: disjoint across seeds, shared by the three train settings of one seed).

Prints, as Markdown:

* the 3 x 3 train x test table of success rates (%): the mean over seeds with a 95% two-level
  bootstrap interval (seeds, then each seed's final episodes; expanded-percentile ends) and n,
  computed as ``rlbench3 table --kind gen`` computes its Packer cells
  (``rlbench3.analysis.metrics.two_level_estimates``);
* Packer et al.'s summary, Default = DD, Interpolation = RR, Extrapolation = geometric mean of DR,
  DE and RE, with intervals (``packer_summary``), beside their published PPO row;

and checks the protocol's basic claim: trained on R, PPO succeeds on R at least as often as
trained on D. Exit status 0 if it holds, 1 if not.

    .venv/bin/python scripts/packer_smoke.py                    # 16 min on 2 busy shared cores
    .venv/bin/python scripts/packer_smoke.py --budget 100000 --seeds 20
    .venv/bin/python scripts/packer_smoke.py --budget 512 --seeds 1 --episodes 4  # does it run?
"""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import time

import numpy as np

from rlbench3.agents.config import load_agent
from rlbench3.analysis import metrics as M
from rlbench3.harness.run_config import EvalSpec, RunConfig, eval_mode
from rlbench3.harness.training import train_run

ENV_ID = "rlbench3/CartPole-v0"
FAMILY = "CartPole"
PRESETS = ("D", "R", "E")
SPLITS = {
    "D": {"preset": "D"},
    "R": {"preset": "R"},
    "E": {"preset": "E", "extreme_sampling": "length"},
}
# Packer et al. (2018), Table 2, CartPole, PPO: Default / Interpolation / Extrapolation success
# (%), the mean of 5 runs, sampled actions over 1000 evaluation trials.
PACKER_PPO = {"default": 100.0, "interpolation": 100.0, "extrapolation": 86.20}
SUMMARY = (("default", "Default (DD)"), ("interpolation", "Interpolation (RR)"),
           ("extrapolation", "Extrapolation (DR, DE, RE)"))  # fmt: skip
BOOTSTRAP_SEED = 0


def run_config(train: str, seed: int, budget: int, episodes: int, deterministic: bool) -> RunConfig:
    """Run ``seed`` of PPO trained on preset ``train``, evaluated on D, R and E at the end."""
    return RunConfig(
        suite="packer-smoke",
        experiment=f"cartpole-train-{train}",
        env_id=ENV_ID,
        family=FAMILY,
        setting={},
        splits={"train": {"preset": train}, **SPLITS},
        agent=load_agent("ppo").resolve(ENV_ID, FAMILY),
        seed=seed,
        budget=budget,
        eval=EvalSpec(every=budget, episodes=episodes, deterministic=deterministic),
    )


def train_and_evaluate(args: tuple[str, int, int, int, bool]) -> tuple[str, int, dict]:
    """``(train, seed, {split: (episodes,) final successes})`` of one run."""
    train, seed, budget, episodes, deterministic = args
    record, _policy = train_run(run_config(train, seed, budget, episodes, deterministic))
    finals = {s: np.array(record["final"][s]["successes"], dtype=float) for s in PRESETS}
    return train, seed, finals


def cell_estimates(results: dict[str, dict[str, list[np.ndarray]]]) -> dict[str, M.Estimate]:
    """``"<train><test>"`` -> mean success over seeds with its two-level interval."""
    out = {}
    for t in PRESETS:
        for s in PRESETS:
            rng = M.rng_for(BOOTSTRAP_SEED, "packer-cell", t, s)
            out[t + s] = M.two_level_estimates(results[t][s], rng)["mean"]
    return out


def summary_estimates(results: dict[str, dict[str, list[np.ndarray]]]) -> dict[str, M.Estimate]:
    """Packer et al.'s Default, Interpolation and Extrapolation with two-level intervals."""
    cells = ("DD", "DR", "DE", "RR", "RE")
    episodes = {c: results[c[0]][c[1]] for c in cells}
    return M.packer_summary(
        {c: np.array([e.mean() for e in episodes[c]]) for c in cells},
        M.rng_for(BOOTSTRAP_SEED, "packer"),
        episodes=episodes,
        interval="expanded",
    )


def percent(est: M.Estimate) -> str:
    return f"{100 * est.point:.1f} [{100 * est.low:.1f}, {100 * est.high:.1f}]"


def markdown(
    results: dict[str, dict[str, list[np.ndarray]]], args: argparse.Namespace, seconds: float
) -> str:
    """The 3 x 3 table and the summary beside Packer et al.'s row, as Markdown."""
    cells, summary = cell_estimates(results), summary_estimates(results)
    mode = eval_mode(args.greedy)
    lines = [
        f"PPO on `{ENV_ID}`, {args.budget:,} env steps per run, {args.seeds} seeds per train "
        f"preset, {args.episodes} final evaluation episodes per run and split, {mode} actions "
        f"({seconds / 60:.1f} min with {args.workers} workers). Success rate (%): mean over "
        "seeds [95% two-level bootstrap CI: seeds, then each seed's episodes; expanded-percentile "
        "ends]; n = seeds.",
        "",
        "| trained on | n | tested on D | tested on R | tested on E |",
        "|---|---|---|---|---|",
    ]
    for t in PRESETS:
        row = " | ".join(percent(cells[t + s]) for s in PRESETS)
        lines.append(f"| {t} | {len(results[t]['D'])} | {row} |")
    lines += [
        "",
        "| Packer et al.'s summary | this run (n = D-/R-trained seeds "
        f"{len(results['D']['D'])}/{len(results['R']['R'])}) | Packer et al., PPO |",
        "|---|---|---|",
    ]
    for key, label in SUMMARY:
        lines.append(f"| {label} | {percent(summary[key])} | {PACKER_PPO[key]:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=60_000, help="env steps per run")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per train preset")
    parser.add_argument("--episodes", type=int, default=100, help="evaluation episodes per split")
    parser.add_argument("--workers", type=int, default=2, help="runs in parallel")
    parser.add_argument(
        "--greedy",
        action="store_true",
        help="evaluate the policy's mode (default: sample actions, as Packer et al.)",
    )
    args = parser.parse_args(argv)
    for name in ("budget", "seeds", "episodes", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}")

    started = time.perf_counter()
    jobs = [
        (t, s, args.budget, args.episodes, args.greedy) for t in PRESETS for s in range(args.seeds)
    ]
    results: dict[str, dict[str, list[np.ndarray]]] = {t: {s: [] for s in PRESETS} for t in PRESETS}
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.workers) as pool:
        for train, _, finals in sorted(pool.map(train_and_evaluate, jobs), key=lambda r: r[:2]):
            for split in PRESETS:
                results[train][split].append(finals[split])
    print(markdown(results, args, time.perf_counter() - started))

    print("\nper seed (success rate on each split's episodes):")
    for train in PRESETS:
        for split in PRESETS:
            rates = " ".join(f"{r.mean():.2f}" for r in results[train][split])
            print(f"  train {train} test {split}: {rates}")
    rr, dr = (float(np.mean([r.mean() for r in results[t]["R"]])) for t in ("R", "D"))
    ok = rr >= dr
    print(
        f"\ncheck: trained on R, success on R ({rr:.3f}) >= trained on D ({dr:.3f}): "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
