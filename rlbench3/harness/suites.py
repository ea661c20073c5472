"""Suites are data: ``envs/<suite>.yaml`` declares experiments; this module expands them to runs.

A suite file (in the manner of bsuite's ``experiments/<name>/sweep.py``, a tuple of settings)::

    description: what the suite measures
    seeds: 3                       # defaults for every experiment; the CLI may override them
    budget: 20000                  # environment steps per run
    eval: {every: 5000, episodes: 20}
    agents: [ppo, random_search]   # names of agents/<name>.yaml
    experiments:
      - name: lock-horizon
        env: rlbench3/CombinationLock-v0
        params: {num_actions: 2}          # fixed for every grid point
        grid: {horizon: [2, 4, 6]}        # the cartesian product of these lists
        train: D                          # a preset name, or a mapping of parameters
        splits:                           # evaluation splits besides "train"
          extreme: {preset: E}
        # seeds / budget / eval / agents may be overridden here too

Each (experiment, grid point, agent, seed) is one run, identified by the hash of its resolved
config. Every env setting is constructed once while the suite is loaded, so a parameter error
points at the suite file and key before anything runs.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import gymnasium as gym

import rlbench3.envs  # noqa: F401  (registers the ids)
from rlbench3.agents.config import AgentConfig, check_compatible, load_agent
from rlbench3.data import find
from rlbench3.data.yaml_lines import check_keys, check_type, fail, load_yaml, plain_data
from rlbench3.harness.run_config import TRAIN, EvalSpec, RunConfig, setting_label

SUITE_KEYS = ("description", "seeds", "budget", "eval", "agents", "experiments")
EXPERIMENT_KEYS = (
    "name",
    "env",
    "params",
    "grid",
    "train",
    "splits",
    "seeds",
    "budget",
    "eval",
    "agents",
)


@dataclass(frozen=True)
class Experiment:
    """One experiment of a suite, validated, with the suite's defaults filled in.

    ``node`` and ``where`` locate it in its file (for errors raised while planning).
    """

    name: str
    env_id: str
    params: dict[str, Any]
    grid: dict[str, list[Any]]
    train: str | dict[str, Any]
    splits: dict[str, dict[str, Any]]
    seeds: int
    budget: int
    eval: EvalSpec
    agents: tuple[str, ...]
    node: Any = field(default=None, repr=False, compare=False)
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class Suite:
    name: str
    path: str
    description: str
    experiments: tuple[Experiment, ...]


def _check_positive_int(node: Any, parent: Any, path: str, key: str) -> int:
    check_type(node, parent, path, int, "an integer >= 1", key)
    if node < 1:
        raise fail(parent, path, f"expected an integer >= 1, got {node}", key)
    return node


def _check_eval(node: Any, parent: Any, path: str) -> EvalSpec:
    names = [f.name for f in fields(EvalSpec)]
    check_keys(node, path, optional=names)
    values = {}
    for f in fields(EvalSpec):
        if f.name not in node:
            continue
        where = f"{path}.{f.name}"
        if f.type in (bool, "bool"):
            values[f.name] = check_type(node[f.name], node, where, bool, "true or false", f.name)
        else:
            values[f.name] = _check_positive_int(node[f.name], node, where, f.name)
    return EvalSpec(**values)


def _check_agents(node: Any, parent: Any, path: str) -> tuple[str, ...]:
    check_type(node, parent, path, list, "a list of agent names", "agents")
    for name in node:
        check_type(name, parent, path, str, "agent names (strings)", "agents")
    return tuple(node)


def load_suite(name_or_path: str | Path) -> Suite:
    """Read and validate a suite file (structure only; see :func:`plan_runs` for the runs)."""
    path = find("envs", name_or_path, "suite")
    data = load_yaml(path)
    check_keys(data, "", required=("experiments",), optional=SUITE_KEYS)
    defaults: dict[str, Any] = {
        "seeds": _check_positive_int(data.get("seeds", 3), data, "seeds", "seeds"),
        "budget": _check_positive_int(data.get("budget", 20_000), data, "budget", "budget"),
        "eval": _check_eval(data.get("eval", {}), data, "eval"),
        "agents": _check_agents(data.get("agents", ["ppo"]), data, "agents"),
    }
    experiments = data["experiments"]
    check_type(experiments, data, "experiments", list, "a list of experiments", "experiments")
    resolved, names = [], set()
    for i, exp in enumerate(experiments):
        where = f"experiments[{i}]"
        check_keys(exp, where, required=("name", "env"), optional=EXPERIMENT_KEYS)
        name = check_type(exp["name"], exp, f"{where}.name", str, "a name", "name")
        if name in names:
            raise fail(exp, f"{where}.name", f"duplicate experiment name {name!r}", "name")
        names.add(name)
        env_id = check_type(exp["env"], exp, f"{where}.env", str, "an env id", "env")
        try:
            gym.spec(env_id)
        except gym.error.Error as err:
            raise fail(exp, f"{where}.env", f"unknown env id {env_id!r} ({err})", "env") from None
        params = check_type(
            exp.get("params", {}),
            exp,
            f"{where}.params",
            dict,
            "a mapping of env parameters",
            "params",
        )
        grid = check_type(
            exp.get("grid", {}),
            exp,
            f"{where}.grid",
            dict,
            "a mapping parameter -> list of values",
            "grid",
        )
        for key, values in grid.items():
            check_type(values, grid, f"{where}.grid.{key}", list, "a list of values", key)
            if not values:
                raise fail(grid, f"{where}.grid.{key}", "needs at least one value", key)
        train = exp.get("train", "D")
        check_type(
            train,
            exp,
            f"{where}.train",
            (str, dict),
            "a preset name or a mapping of parameters",
            "train",
        )
        splits = check_type(
            exp.get("splits", {}),
            exp,
            f"{where}.splits",
            dict,
            "a mapping split name -> parameters",
            "splits",
        )
        for split, overrides in splits.items():
            if split == "train":
                raise fail(
                    splits,
                    f"{where}.splits.train",
                    "'train' is the training distribution itself; choose another name",
                    split,
                )
            check_type(
                overrides, splits, f"{where}.splits.{split}", dict, "a mapping of parameters", split
            )
        resolved.append(
            Experiment(
                name=name,
                env_id=env_id,
                params=plain_data(params),
                grid={k: plain_data(v) for k, v in grid.items()},
                train=plain_data(train),
                splits=plain_data(splits),
                seeds=_check_positive_int(exp["seeds"], exp, f"{where}.seeds", "seeds")
                if "seeds" in exp
                else defaults["seeds"],
                budget=_check_positive_int(exp["budget"], exp, f"{where}.budget", "budget")
                if "budget" in exp
                else defaults["budget"],
                eval=_check_eval(exp["eval"], exp, f"{where}.eval")
                if "eval" in exp
                else defaults["eval"],
                agents=_check_agents(exp["agents"], exp, f"{where}.agents")
                if "agents" in exp
                else defaults["agents"],
                node=exp,
                where=where,
            )
        )
    description = data.get("description", "")
    return Suite(path.name.rsplit(".", 1)[0], str(path), str(description), tuple(resolved))


def _family(env: gym.Env, env_id: str) -> str:
    params = getattr(env.unwrapped, "params", None)
    family = getattr(type(params), "family", "") if params is not None else ""
    return family or env_id.split("/")[-1].split("-")[0]


def plan_runs(
    suite: Suite,
    *,
    agents: list[str] | None = None,
    seeds: int | None = None,
    budget: int | None = None,
) -> list[RunConfig]:
    """Expand a suite into run configs (experiment × grid point × agent × seed), in suite order.

    Raises :class:`ConfigError` naming the suite file, experiment and parameter when a grid
    point, split or agent is invalid for its env (constructed here once, before anything runs).
    """
    agent_cache: dict[str, AgentConfig] = {}
    runs = []
    for exp in suite.experiments:
        keys = list(exp.grid)
        for values in itertools.product(*(exp.grid[k] for k in keys)):
            setting = dict(zip(keys, values))
            base = {**exp.params, **setting}
            train = exp.train
            splits = {
                TRAIN: {"preset": train, **base} if isinstance(train, str) else {**base, **train}
            }
            for split, overrides in exp.splits.items():
                splits[split] = {**base, **overrides}
            family, action_space = _check_splits(exp, setting_label(setting), splits)
            for agent_name in agents if agents is not None else exp.agents:
                if agent_name not in agent_cache:
                    agent_cache[agent_name] = load_agent(agent_name)
                agent = agent_cache[agent_name]
                check_compatible(
                    agent.algo,
                    action_space,
                    f"{suite.path}: {exp.where} ({exp.name}), agent {agent_name!r}",
                )
                resolved_agent = agent.resolve(exp.env_id, family)
                for seed in range(seeds if seeds is not None else exp.seeds):
                    runs.append(
                        RunConfig(
                            suite=suite.name,
                            experiment=exp.name,
                            env_id=exp.env_id,
                            family=family,
                            setting=copy.deepcopy(setting),
                            splits=copy.deepcopy(splits),
                            agent=copy.deepcopy(resolved_agent),
                            seed=seed,
                            budget=budget if budget is not None else exp.budget,
                            eval=exp.eval,
                        )
                    )
    return runs


def _check_splits(
    exp: Experiment, label: str, splits: dict[str, dict[str, Any]]
) -> tuple[str, gym.Space]:
    """Make every split's env once (errors name the file and experiment); the family and the
    training action space."""
    envs = {}
    try:
        for split, params in splits.items():
            try:
                envs[split] = gym.make(exp.env_id, **params)
            except (ValueError, TypeError) as err:
                raise fail(
                    exp.node, f"{exp.where} ({exp.name}, {label}, split {split!r})", str(err)
                ) from None
        return _family(envs[TRAIN], exp.env_id), envs[TRAIN].action_space
    finally:
        for env in envs.values():
            env.close()
