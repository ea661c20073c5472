"""Builders of hand-made run configs and records, of the shape the planner and the runner write,
shared by the tests of storage, tables, figures and the CLI (no training happens through them).

Use them as fixtures: ``def test_x(make_config, make_record): ...``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from rlbench3.agents.config import AgentSpec
from rlbench3.harness.run_config import EvalSpec, RunConfig

LOCK = "rlbench3/CombinationLock-v0"


def build_config(
    *,
    suite: str = "unit",
    experiment: str = "lock",
    env_id: str = LOCK,
    family: str = "CombinationLock",
    setting: Mapping[str, Any] | None = None,
    splits: Mapping[str, Mapping[str, Any]] | None = None,
    agent: str = "ppo",
    algo: str = "PPO",
    hyperparams: Mapping[str, Any] | None = None,
    n_envs: int = 4,
    seed: int = 0,
    budget: int = 512,
    every: int = 256,
    episodes: int = 4,
) -> RunConfig:
    """A run config; by default a 2-step lock trained on its ``D`` preset."""
    setting = dict(setting if setting is not None else {"horizon": 2})
    if splits is None:
        splits = {"train": {"preset": "D", "num_actions": 2, **setting}}
    return RunConfig(
        suite=suite,
        experiment=experiment,
        env_id=env_id,
        family=family,
        setting=setting,
        splits={name: dict(params) for name, params in splits.items()},
        agent=AgentSpec(agent, algo, "MlpPolicy", n_envs, dict(hyperparams or {})),
        seed=seed,
        budget=budget,
        eval=EvalSpec(every=every, episodes=episodes),
    )


def build_record(
    rates: Mapping[str, float] | float = 0.5,
    *,
    steps: Sequence[int] = (0, 256, 512),
    episodes: int = 4,
    zero_signal: float = 0.0,
    ramp: bool = False,
) -> dict[str, Any]:
    """A run's record: per split (``rates``: split -> final success; a number: the train split),
    a learning curve over ``steps`` that ends at the rate (flat, or rising from 0 with
    ``ramp``), and ``episodes`` final episodes of which ``round(rate * episodes)`` succeed
    (return 1) and the rest fail (return 0)."""
    rates = {"train": rates} if isinstance(rates, (int, float)) else dict(rates)
    curve, final = [], {}
    last = len(steps) - 1
    for split, rate in rates.items():
        for i, step in enumerate(steps):
            value = round(rate * i / last, 3) if ramp and last else rate
            point = {"step": int(step), "split": split, "wall_time": 0.1 * i}
            curve.append({**point, "mean_return": value, "success_rate": value})
        k = round(rate * episodes)
        final[split] = {
            "returns": [1.0] * k + [0.0] * (episodes - k),
            "successes": [1] * k + [0] * (episodes - k),
        }
    batches = 10
    empty = round(batches * zero_signal)
    return {
        "curve": curve,
        "final": final,
        "zero_signal": {"batches": batches, "empty_batches": empty, "fraction": empty / batches},
        "meta": {"steps": int(steps[-1]), "steps_per_second": 1000.0, "host": "test"},
    }


@pytest.fixture(scope="session")
def make_config() -> Callable[..., RunConfig]:
    """:func:`build_config`."""
    return build_config


@pytest.fixture(scope="session")
def make_record() -> Callable[..., dict[str, Any]]:
    """:func:`build_record`."""
    return build_record
