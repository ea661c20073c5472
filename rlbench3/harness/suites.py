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
        curriculum:                       # optional: a schedule of a training-env parameter
          parameter: start_step
          stages: [[0.0, 0.75], [0.5, 0.25], [0.75, 0.0]]

**Curricula.** ``curriculum: {parameter: P, stages: [[start, value], ...]}`` changes parameter
``P`` of the *training* env over the run's budget
(:class:`~rlbench3.harness.run_config.Curriculum`): stage ``[start, value]`` begins at the
first env step at or past ``start * budget`` (``start`` a fraction in [0, 1); the first stage
starts at 0; starts strictly increasing), and each training copy takes the stage's value at its
next reset. A ``value`` is a fraction in [0, 1) that the env
family turns into the parameter's value for each grid point, so that one curriculum fits a grid
of horizons: the lock's ``start_step`` is ``floor(value * horizon)`` (``value`` 0.75 at H = 8
starts episodes at step 6, two digits before the end; 0 is the whole lock). ``P`` must be one the
family schedules (``schedulable`` of its parameters: ``start_step`` of CombinationLock). The
evaluation splits, ``train`` included, keep their parameters: a curriculum changes what the agent
trains on, never what it is scored on. The resolved stages are part of each run's config (its
run id and captions); an experiment without ``curriculum`` plans the runs, and run ids, of
before. Agents that train through SB3 callbacks on the harness's env follow it; the population
trainer, random search and external agents are refused when the suite is planned.

Each (experiment, grid point, agent, seed) is one run, identified by the hash of its resolved
config. Everything that can be checked is checked before anything runs, each error naming the
file, line and key:

* the structure (unknown keys with a did-you-mean, types, empty ``experiments`` or ``agents``,
  duplicate grid values, numbers that YAML read as strings such as ``1e-3``, integers beyond
  64 bits);
* env ids: registered ids only. A module-qualified id (``mod:Env-v0``, which Gymnasium resolves
  by importing ``mod``) is refused, in ``env:`` and in a Mixture's ``env`` parameter alike, so
  loading or dry-running a suite never imports code named by the suite;
* the size: a plan of more than :data:`MAX_RUNS` runs is refused before it is expanded
  (:class:`PlanTooLarge`), unless the caller lifts the limit (``rlbench3 run --yes``);
* every env setting (grid point × split) is constructed once, so the env's own checks apply
  (parameters, ranges, distribution bounds), and every evaluation split must have the train
  split's action space and observation shape (a trained policy acts in those);
* every agent can act in the action space, and its file is valid (see
  :mod:`rlbench3.agents.config`).

Agents by import path. An agent file whose ``algo`` names a class by import path
(``"my_pkg.algos:MyPPO"``) imports that module when it is loaded. A suite file may not cause
that: an agent in a suite's own ``agents:`` list whose file has such an ``algo`` is refused before
anything is imported. Name it yourself instead, as an agent passed to :func:`plan_runs`
(``rlbench3 run SUITE --agents my_ppo.yaml``, ``run_suite(..., agents=["my_ppo.yaml"])``), which
replaces the suite's list.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import json
import math
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym

import rlbench3.envs  # noqa: F401  (registers the ids)
from rlbench3.agents.config import (
    EXTERNAL,
    POPULATION_ALGORITHMS,
    AgentConfig,
    check_compatible,
    check_numeric_strings,
    load_agent,
)
from rlbench3.data import load_mapping
from rlbench3.data.yaml_lines import (
    ConfigError,
    Node,
    check_keys,
    check_type,
    fail,
    plain_data,
)
from rlbench3.harness.run_config import TRAIN, Curriculum, EvalSpec, RunConfig, setting_label

# A plan larger than this is refused unless the caller lifts the limit (``rlbench3 run --yes``):
# at a second per run it is hours of work, and a typo (seeds: 100000000) should not start it.
MAX_RUNS = 10_000
INT64 = (-(2**63), 2**63 - 1)


class PlanTooLarge(ConfigError):
    """A suite plans more runs than the limit (see :data:`MAX_RUNS`)."""


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
    "curriculum",
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
    curriculum: dict[str, Any] | None = None  # as written: {parameter, stages: [[start, value]]}
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


def _fraction(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and 0 <= x < 1


def _check_curriculum(node: Any, parent: Any, path: str) -> dict[str, Any]:
    """A curriculum's structure (the env's own checks come when the suite is planned)."""
    check_keys(node, path, required=("parameter", "stages"))
    parameter = check_type(
        node["parameter"], node, f"{path}.parameter", str, "a parameter name", "parameter"
    )
    stages = node["stages"]
    where = f"{path}.stages"
    check_type(stages, node, where, list, "a list of [start, value] pairs", "stages")
    if not stages:
        raise fail(node, where, "needs at least one stage [start, value]", "stages")
    previous = None
    for i, stage in enumerate(stages):
        check_numeric_strings(stage, node, f"{where}[{i}]", "stages")
        if not (isinstance(stage, list) and len(stage) == 2 and all(map(_fraction, stage))):
            raise fail(
                node,
                f"{where}[{i}]",
                "a stage is [start, value], two fractions >= 0 and < 1 (start of the budget, "
                f"value of the parameter's range), got {stage!r}",
                "stages",
            )
        start = stage[0]
        if previous is None and start != 0:
            raise fail(node, f"{where}[0]", f"the first stage starts at 0, got {start!r}", "stages")
        if previous is not None and start <= previous:
            raise fail(
                node,
                f"{where}[{i}]",
                f"stage starts must increase strictly, got {start!r} after {previous!r}",
                "stages",
            )
        previous = start
    return {"parameter": parameter, "stages": plain_data(stages)}


def _check_agents(node: Any, parent: Any, path: str) -> tuple[str, ...]:
    check_type(node, parent, path, list, "a list of agent names", "agents")
    if not node:
        raise fail(parent, path, "needs at least one agent (e.g. [ppo])", "agents")
    for name in node:
        check_type(name, parent, path, str, "agent names (strings)", "agents")
        if node.count(name) > 1:
            raise fail(parent, path, f"agent {name!r} is listed twice", "agents")
    return tuple(node)


def _check_env_id(env_id: str, parent: Any, path: str, key: str) -> None:
    """A registered id; never ``module:id`` (Gymnasium would import ``module``)."""
    if ":" in env_id:
        module = env_id.split(":", 1)[0]
        raise fail(
            parent,
            path,
            f"{env_id!r} is a module-qualified id: Gymnasium would import {module!r} to find "
            "it, so suites refuse it (a suite file must not run code); use a registered id "
            "such as rlbench3/CombinationLock-v0 (import the package that registers yours "
            "before calling rlbench3's Python API)",
            key,
        )
    if env_id not in gym.registry:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise fail(parent, path, f"unknown env id {env_id!r}{hint}", key)


def _check_values(value: Any, parent: Any, path: str, key: str | None) -> None:
    """Env keywords anywhere in an experiment: inner env ids registered (a Mixture's ``env``),
    integers within 64 bits, no numbers that YAML read as strings."""
    if isinstance(value, dict):
        for k, v in value.items():
            where = f"{path}.{k}"
            if k == "env" and isinstance(v, str):
                _check_env_id(v, value, where, k)
            else:
                _check_values(v, value, where, k)
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check_values(v, parent, f"{path}[{i}]", key)
        return
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT64[0] <= value <= INT64[1]:
            raise fail(parent, path, f"{value} is beyond the range of 64-bit integers", key)
        return
    if isinstance(value, float) and math.isnan(value):
        raise fail(parent, path, "NaN is not a parameter value", key)
    check_numeric_strings(value, parent, path, key)


def _canonical(value: Any) -> str:
    """A value as comparable text (2 and 2.0 are the same grid value)."""

    def norm(v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): norm(x) for k, x in v.items()}
        if isinstance(v, list):
            return [norm(x) for x in v]
        if isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 2**53:
            return float(v)
        return v

    return json.dumps(norm(value), sort_keys=True)


def load_suite(name_or_path: str | Path) -> Suite:
    """Read and validate a suite file (structure only; see :func:`plan_runs` for the runs)."""
    path, data = load_mapping("envs", name_or_path, "suite", "an 'experiments:' list")
    check_keys(data, "", required=("experiments",), optional=SUITE_KEYS)
    defaults: dict[str, Any] = {
        "seeds": _check_positive_int(data.get("seeds", 3), data, "seeds", "seeds"),
        "budget": _check_positive_int(data.get("budget", 20_000), data, "budget", "budget"),
        "eval": _check_eval(data.get("eval", {}), data, "eval"),
        "agents": _check_agents(data.get("agents", ["ppo"]), data, "agents"),
    }
    experiments = data["experiments"]
    check_type(experiments, data, "experiments", list, "a list of experiments", "experiments")
    if not experiments:
        raise fail(data, "experiments", "needs at least one experiment", "experiments")
    resolved, names = [], set()
    for i, exp in enumerate(experiments):
        where = f"experiments[{i}]"
        check_keys(exp, where, required=("name", "env"), optional=EXPERIMENT_KEYS)
        name = check_type(exp["name"], exp, f"{where}.name", str, "a name", "name")
        if name in names:
            raise fail(exp, f"{where}.name", f"duplicate experiment name {name!r}", "name")
        names.add(name)
        env_id = check_type(exp["env"], exp, f"{where}.env", str, "an env id", "env")
        _check_env_id(env_id, exp, f"{where}.env", "env")
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
            seen = set()
            for value in values:
                text = _canonical(value)
                if text in seen:
                    raise fail(
                        grid,
                        f"{where}.grid.{key}",
                        f"the value {value!r} is listed twice (it would be the same runs)",
                        key,
                    )
                seen.add(text)
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
        for key in ("params", "grid", "train", "splits"):
            if key in exp:
                _check_values(exp[key], exp, f"{where}.{key}", key)
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
                curriculum=_check_curriculum(exp["curriculum"], exp, f"{where}.curriculum")
                if "curriculum" in exp
                else None,
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


AgentRef = str | Path | AgentConfig
"""An agent as a caller names it: a shipped name (``ppo``), an agent file's path, or a loaded
:class:`~rlbench3.agents.config.AgentConfig` (e.g. an external agent made in code)."""


def agent_label(agent: AgentRef) -> str:
    """How an agent is named in messages: its name, or the file as given."""
    return agent.name if isinstance(agent, AgentConfig) else str(agent)


def plan_runs(
    suite: Suite,
    *,
    agents: list[AgentRef] | None = None,
    seeds: int | None = None,
    budget: int | None = None,
    max_runs: int | None = MAX_RUNS,
    experiments: list[str] | None = None,
    external: bool = False,
) -> list[RunConfig]:
    """Expand a suite into run configs (experiment × grid point × agent × seed), in suite order.

    ``agents`` replaces the suite's agent lists (see :data:`AgentRef`; an agent file named here
    may name its class by import path, one named by the suite may not); ``experiments`` keeps
    only the experiments of those names. External agents (``algo: external``) are planned only
    with ``external=True`` (:mod:`rlbench3.harness.external`, whose caller trains them); elsewhere
    they are an error, as a sweep cannot train them.

    Raises :class:`ConfigError` naming the suite file, experiment and parameter when a grid
    point, split or agent is invalid for its env (constructed here once, before anything runs),
    and :class:`PlanTooLarge` before expanding a plan of more than ``max_runs`` runs (``None``:
    no limit).
    """
    if agents is not None:
        if not agents:
            raise ConfigError("agents: needs at least one agent")
        labels = [agent_label(a) for a in agents]
        for name in labels:
            if labels.count(name) > 1:
                raise ConfigError(f"agents: {name!r} is listed twice")
    chosen = _chosen_experiments(suite, experiments)
    if max_runs is not None:
        _check_size(suite, agents, seeds, max_runs, experiments)
    agent_cache: dict[str, AgentConfig] = {}
    runs = []
    for exp in chosen:
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
            family, action_space, params = _check_splits(exp, setting_label(setting), splits)
            curriculum = _resolve_curriculum(exp, setting_label(setting), splits[TRAIN], params)
            for ref in agents if agents is not None else exp.agents:
                label = agent_label(ref)
                where = f"{suite.path}: {exp.where} ({exp.name}), agent {label!r}"
                if label not in agent_cache:
                    agent_cache[label] = _load(ref, suite_named=agents is None, where=where)
                agent = agent_cache[label]
                if (agent.algo == EXTERNAL) != external:
                    raise ConfigError(_external_message(agent, where, external))
                if curriculum is not None and agent.algo in NO_CURRICULUM:
                    raise ConfigError(
                        f"{where}: {agent.name!r} ({agent.algo}) cannot follow a curriculum: "
                        f"{NO_CURRICULUM[agent.algo]}; remove the agent or the curriculum"
                    )
                check_compatible(agent.algo, action_space, where)
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
                            curriculum=curriculum,
                        )
                    )
    return runs


# Algorithms a curriculum cannot be applied to, and why.
NO_CURRICULUM = {
    **{
        algo: "the population trainer steps its own batched envs, without SB3 callbacks"
        for algo in POPULATION_ALGORITHMS
    },
    "random_search": "it ranks candidates by their returns, which a schedule makes incomparable",
    EXTERNAL: "your own loop trains it on envs rlbench3 does not step",
}


def _resolve_curriculum(
    exp: Experiment, label: str, train: dict[str, Any], params: Any
) -> Curriculum | None:
    """The experiment's curriculum for one grid point: each stage's value turned into the
    parameter's value by the env family, and checked by making the training env with it."""
    if exp.curriculum is None:
        return None
    node = exp.node["curriculum"] if isinstance(exp.node, Node) else exp.node
    where = f"{exp.where}.curriculum"
    parameter = exp.curriculum["parameter"]
    schedulable = tuple(getattr(type(params), "schedulable", ()))
    if parameter not in schedulable:
        names = [f.name for f in fields(params)] if is_dataclass(params) else []
        can = (
            f"a curriculum can schedule {', '.join(schedulable)}"
            if schedulable
            else "a curriculum can schedule none of its parameters"
        )
        if parameter in names:
            message = f"{exp.env_id} cannot change {parameter!r} during training ({can})"
        else:
            close = difflib.get_close_matches(parameter, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            message = f"{parameter!r} is not a parameter of {exp.env_id}{hint}; {can}"
        raise fail(node, f"{where}.parameter", message, "parameter")
    stages = []
    for start, fraction in exp.curriculum["stages"]:
        value = params.scheduled_value(parameter, fraction)
        try:
            gym.make(exp.env_id, **{**train, parameter: value}).close()
        except ENV_ERRORS as err:
            message = " ".join(str(err).split()) or type(err).__name__
            raise fail(
                node, f"{where} ({exp.name}, {label})", f"stage value {fraction}: {message}"
            ) from None
        stages.append((start, value))
    return Curriculum(parameter, tuple(stages))


def _load(ref: AgentRef, *, suite_named: bool, where: str) -> AgentConfig:
    """An agent as named; one named by the suite file itself may not import code."""
    if isinstance(ref, AgentConfig):
        return ref
    try:
        return load_agent(ref, imports=not suite_named)
    except ConfigError as err:
        if suite_named and "would import user code" in str(err):
            raise ConfigError(f"{where}: {err}") from None
        raise


def _external_message(agent: AgentConfig, where: str, external: bool) -> str:
    if external:
        return (
            f"{where}: the loop API trains external agents only (algo: external), and "
            f"{agent.name!r} is {agent.algo}: run it with rlbench3 run / run_suite"
        )
    return (
        f"{where}: {agent.name!r} is an external agent (algo: external): your own loop trains "
        "its runs through rlbench3.harness.external.suite_runs; a sweep cannot"
    )


def _chosen_experiments(suite: Suite, names: list[str] | None) -> tuple[Experiment, ...]:
    """The suite's experiments, or those named (in suite order); a clear error for a name the
    suite does not have."""
    if names is None:
        return suite.experiments
    known = [exp.name for exp in suite.experiments]
    if isinstance(names, str) or not names:
        raise ConfigError(f"experiments: expected a non-empty list of names, got {names!r}")
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"{suite.path}: no experiment {name!r}{hint}; experiments: {', '.join(known)}"
            )
    return tuple(exp for exp in suite.experiments if exp.name in names)


def plan_size(
    suite: Suite,
    agents: list[AgentRef] | None = None,
    seeds: int | None = None,
    experiments: list[str] | None = None,
) -> dict[str, int]:
    """Runs per experiment (grid points × agents × seeds), without expanding anything."""
    sizes = {}
    for exp in _chosen_experiments(suite, experiments):
        points = math.prod(len(values) for values in exp.grid.values())
        n_agents = len(agents) if agents is not None else len(exp.agents)
        sizes[exp.name] = points * n_agents * (seeds if seeds is not None else exp.seeds)
    return sizes


def _check_size(
    suite: Suite,
    agents: list[AgentRef] | None,
    seeds: int | None,
    max_runs: int,
    experiments: list[str] | None = None,
) -> None:
    sizes = plan_size(suite, agents, seeds, experiments)
    total = sum(sizes.values())
    if total > max_runs:
        biggest = max(sizes, key=sizes.__getitem__)
        raise PlanTooLarge(
            f"{suite.path}: the suite plans {total:,} runs, more than the limit of "
            f"{max_runs:,} ({biggest!r}: {sizes[biggest]:,} runs); check grid and seeds, or pass "
            "--yes (max_runs=None) to plan it anyway"
        )


def _spaces_match(train: gym.Space, other: gym.Space, actions: bool) -> bool:
    """Whether a policy trained in ``train`` can act (``actions``) or observe in ``other``:
    the same action space (bounds included: SB3 rescales to them), the same observation kind,
    shape and dtype (bounds may differ)."""
    if actions:
        return train == other
    if type(train) is not type(other):
        return False
    if isinstance(train, gym.spaces.Dict):
        return list(train.spaces) == list(other.spaces) and all(
            _spaces_match(train[k], other[k], False) for k in train.spaces
        )
    if isinstance(train, gym.spaces.Tuple):
        return len(train) == len(other) and all(
            _spaces_match(a, b, False) for a, b in zip(train, other)
        )
    if isinstance(train, gym.spaces.Box):
        return train.shape == other.shape and train.dtype == other.dtype
    return train == other


# What constructing an env with a suite's parameters may raise for a bad parameter.
ENV_ERRORS = (ValueError, TypeError, OverflowError, MemoryError, gym.error.Error)


def _check_splits(
    exp: Experiment, label: str, splits: dict[str, dict[str, Any]]
) -> tuple[str, gym.Space, Any]:
    """Make every split's env once (errors name the file and experiment); the family, the
    training action space and the training env's parameters (``None`` for an env without)."""
    envs = {}
    try:
        for split, params in splits.items():
            where = f"{exp.where} ({exp.name}, {label}, split {split!r})"
            try:
                envs[split] = gym.make(exp.env_id, **params)
            except ENV_ERRORS as err:
                message = " ".join(str(err).split()) or type(err).__name__
                raise fail(exp.node, where, message) from None
            if split == TRAIN:
                continue
            train = envs[TRAIN]
            for kind in ("action", "observation"):
                mine = getattr(envs[split], f"{kind}_space")
                theirs = getattr(train, f"{kind}_space")
                if not _spaces_match(theirs, mine, kind == "action"):
                    raise fail(
                        _split_node(exp, split),
                        where,
                        f"its {kind} space {mine} differs from the train split's {theirs}: a "
                        f"policy trained on the train split cannot be evaluated on it",
                        split,
                    )
        train = envs[TRAIN]
        params = getattr(train.unwrapped, "params", None)
        return _family(train, exp.env_id), train.action_space, params
    finally:
        for env in envs.values():
            env.close()


def _split_node(exp: Experiment, split: str) -> Any:
    splits = exp.node.get("splits") if isinstance(exp.node, Node) else None
    return splits if isinstance(splits, Node) and split in splits else exp.node
