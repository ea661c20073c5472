"""The ``rlbench3`` command line.

rlbench3 envs                         list registered environments and their parameters
rlbench3 hit ID [-p key=value ...]    random-policy hit probability of one env setting
rlbench3 quick                        the main job: the env list, then a hit-probability table
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import pandas as pd
import yaml

import rlbench3
from rlbench3.presets import all_presets
from rlbench3.probes import hit_probability

# The main job's table: one difficulty knob per family, everything else at the defaults.
QUICK_HIT_TABLE: tuple[tuple[str, str, tuple[int, ...], int], ...] = (
    ("rlbench3/CombinationLock-v0", "horizon", (1, 2, 4, 6, 8, 10, 12), 200_000),
    ("rlbench3/SparseReach-v0", "action_dim", (1, 2, 3, 4, 6), 100_000),
    ("rlbench3/ArmReach-v0", "n_joints", (1, 2, 3, 5), 1_000),
)


def parse_assignment(text: str) -> tuple[str, Any]:
    """``key=value`` with the value read as YAML (numbers, strings, ``{low: 1, high: 2}``)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key.strip(), yaml.safe_load(value)


def env_table() -> str:
    """Registered ids, their parameters (default and valid range) and presets, as text."""
    lines = []
    presets = all_presets()
    for env_id in rlbench3.registered_ids():
        params = gym.make(env_id).unwrapped.params
        family = type(params).family
        lines.append(f"{env_id}  (presets: {', '.join(presets.get(family, {}))})")
        for name, text in type(params).describe().items():
            lines.append(f"    {name:<18} {text}")
    return "\n".join(lines)


def hit_table(rows: Sequence[tuple[str, str, Sequence[int], int]], seed: int = 0) -> pd.DataFrame:
    """Random-policy hit probability (95% Clopper-Pearson CI) per env setting."""
    records = []
    for env_id, knob, values, episodes in rows:
        for value in values:
            start = time.perf_counter()
            est = hit_probability(env_id, episodes, seed=seed, **{knob: value})
            record = {
                "env": env_id.split("/")[1],
                "setting": f"{knob}={value}",
                "episodes": est.episodes,
                "hit probability": f"{est.probability:.4g}",
                "95% CI": f"[{est.low:.3g}, {est.high:.3g}]",
                "seconds": round(time.perf_counter() - start, 2),
            }
            if env_id.startswith("rlbench3/CombinationLock"):
                num_actions = gym.make(env_id).unwrapped.num_actions
                record["closed form"] = f"{num_actions**-value:.4g}"
            records.append(record)
    return pd.DataFrame.from_records(records).fillna("")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rlbench3", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("envs", help="list registered environments and their parameters")
    hit = sub.add_parser("hit", help="random-policy hit probability of one env setting")
    hit.add_argument("env_id")
    hit.add_argument(
        "-p",
        "--param",
        action="append",
        type=parse_assignment,
        default=[],
        metavar="KEY=VALUE",
        help="env parameter (repeatable), e.g. -p horizon=8",
    )
    hit.add_argument("--episodes", type=int, default=100_000)
    hit.add_argument("--seed", type=int, default=0)
    quick = sub.add_parser("quick", help="the main job: env list and a hit-probability table")
    quick.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if args.command == "envs":
        print(env_table())
    elif args.command == "hit":
        est = hit_probability(args.env_id, args.episodes, seed=args.seed, **dict(args.param))
        print(
            f"{args.env_id} {dict(args.param)}: hit probability {est.probability:.6g} "
            f"({est.hits}/{est.episodes}), 95% CI [{est.low:.4g}, {est.high:.4g}]"
        )
    elif args.command == "quick":
        print("# Registered environments\n")
        print(env_table())
        print("\n# Random-policy hit probability (sparse reward, 95% Clopper-Pearson CI)\n")
        print(hit_table(QUICK_HIT_TABLE, seed=args.seed).to_markdown(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
