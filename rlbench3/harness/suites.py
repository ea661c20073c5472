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
import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym

import rlbench3  # noqa: F401  (registers the ids)
from rlbench3.agents.config import AgentConfig, check_compatible, load_agent
from rlbench3.data import find
from rlbench3.data.yaml_lines import check_keys, check_type, fail, load_yaml

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
DEFAULT_EVAL = {"every": 5000, "episodes": 20}


@dataclass(frozen=True)
class Suite:
    name: str
    path: str
    description: str
    experiments: tuple[dict[str, Any], ...]


def _check_positive_int(node: Any, parent: Any, path: str, key: str) -> int:
    check_type(node, parent, path, int, "an integer >= 1", key)
    if node < 1:
        raise fail(parent, path, f"expected an integer >= 1, got {node}", key)
    return node


def _check_eval(node: Any, parent: Any, path: str) -> dict[str, int]:
    check_keys(node, path, optional=("every", "episodes"))
    out = dict(DEFAULT_EVAL)
    for key in ("every", "episodes"):
        if key in node:
            out[key] = _check_positive_int(node[key], node, f"{path}.{key}", key)
    return out


def _check_agents(node: Any, parent: Any, path: str) -> list[str]:
    check_type(node, parent, path, list, "a list of agent names", "agents")
    for name in node:
        check_type(name, parent, path, str, "agent names (strings)", "agents")
    return list(node)


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
            {
                "name": name,
                "env": env_id,
                "params": dict(params),
                "grid": {k: list(v) for k, v in grid.items()},
                "train": copy.deepcopy(train),
                "splits": copy.deepcopy(dict(splits)),
                "seeds": _check_positive_int(exp["seeds"], exp, f"{where}.seeds", "seeds")
                if "seeds" in exp
                else defaults["seeds"],
                "budget": _check_positive_int(exp["budget"], exp, f"{where}.budget", "budget")
                if "budget" in exp
                else defaults["budget"],
                "eval": _check_eval(exp["eval"], exp, f"{where}.eval")
                if "eval" in exp
                else defaults["eval"],
                "agents": _check_agents(exp["agents"], exp, f"{where}.agents")
                if "agents" in exp
                else defaults["agents"],
                "_node": exp,
                "_where": where,
            }
        )
    description = data.get("description", "")
    return Suite(path.name.rsplit(".", 1)[0], str(path), str(description), tuple(resolved))


def run_id(config: dict[str, Any]) -> str:
    """A run's identity: the hash of its resolved config (canonical JSON)."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    """YAML nodes -> plain dicts/lists, so configs are JSON-able and hash the same."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


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
) -> list[dict[str, Any]]:
    """Expand a suite into resolved run configs (experiment × grid point × agent × seed).

    Raises :class:`ConfigError` naming the suite file, experiment and parameter when a grid
    point, split or agent is invalid for its env (constructed here once, before anything runs).
    """
    agent_cache: dict[str, AgentConfig] = {}
    runs = []
    for exp in suite.experiments:
        node, where = exp["_node"], exp["_where"]
        keys = list(exp["grid"])
        for values in itertools.product(*(exp["grid"][k] for k in keys)):
            setting = dict(zip(keys, values))
            base = {**exp["params"], **setting}
            train = exp["train"]
            split_params = {
                "train": {"preset": train, **base} if isinstance(train, str) else {**base, **train}
            }
            for split, overrides in exp["splits"].items():
                split_params[split] = {**base, **overrides}
            label = ", ".join(f"{k}={v}" for k, v in setting.items()) or "no grid"
            envs = {}
            for split, params in split_params.items():
                try:
                    envs[split] = gym.make(exp["env"], **params)
                except (ValueError, TypeError) as err:
                    raise fail(
                        node, f"{where} ({exp['name']}, {label}, split {split!r})", str(err)
                    ) from None
            family = _family(envs["train"], exp["env"])
            action_space = envs["train"].action_space
            for env in envs.values():
                env.close()
            for agent_name in agents if agents is not None else exp["agents"]:
                if agent_name not in agent_cache:
                    agent_cache[agent_name] = load_agent(agent_name)
                agent = agent_cache[agent_name]
                check_compatible(
                    agent.algo,
                    action_space,
                    f"{suite.path}: {where} ({exp['name']}), agent {agent_name!r}",
                )
                resolved_agent = agent.resolve(exp["env"], family)
                for seed in range(seeds if seeds is not None else exp["seeds"]):
                    config = _plain(
                        {
                            "suite": suite.name,
                            "experiment": exp["name"],
                            "env": {"id": exp["env"], "family": family, "setting": setting},
                            "splits": split_params,
                            "agent": resolved_agent,
                            "seed": seed,
                            "budget": budget if budget is not None else exp["budget"],
                            "eval": exp["eval"],
                        }
                    )
                    runs.append({"run_id": run_id(config), "config": config})
    return runs
