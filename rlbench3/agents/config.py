"""Agents configured from YAML: Stable-Baselines3 / sb3-contrib algorithms, random search, your
own SB3-compatible class, or an external agent trained by your own loop.

An agent file ``agents/<name>.yaml`` (in the manner of rl-baselines3-zoo's hyperparameter files)::

    algo: PPO                 # PPO A2C DQN SAC TD3 (stable-baselines3), ARS TRPO (sb3-contrib),
                              # random_search (rlbench3's policy-search baseline),
                              # "my_pkg.algos:MyPPO" (your class, by import path) or external
    description: what it is   # optional, for people (not part of a run's config)
    policy: MlpPolicy
    n_envs: 4                 # training env copies (an SB3 DummyVecEnv)
    hyperparams:              # passed straight to the algorithm's constructor
      n_steps: 128
      learning_rate: lin_3.0e-4          # zoo-style linear schedule
      policy_kwargs: {net_arch: [64, 64], activation_fn: Tanh}
    overrides:                # merged over the above, by env family or by env id
      CombinationLock: {hyperparams: {ent_coef: 0.01}}
    demonstrations: {episodes: 10}   # PPO and A2C only: behaviour-cloning warm start

**Demonstrations.** ``demonstrations:`` warm-starts the policy by behaviour cloning on ``episodes``
expert episodes of the training env before RL (:mod:`rlbench3.agents.imitation`; the harness
calls :func:`~rlbench3.agents.imitation.warm_start` between building the model and ``learn``).
Its keys are the fields of :class:`~rlbench3.agents.imitation.ImitationSettings` (``episodes``,
``epochs``, ``batch_size``, ``learning_rate``, ``fit_std``), each checked when the file is loaded.
The run's config holds every field, defaults filled in (:attr:`AgentSpec.demonstrations`), so
changing one makes new runs; ``episodes: 0`` is no warm start, the same config as no key at all.
Only PPO and A2C (SB3 ``ActorCriticPolicy`` models) can be warm-started: any other algorithm,
the population trainer and classes by import path included, is refused with the file and line.

Every hyperparameter name is checked against the algorithm's constructor signature when the file
is loaded, so a misspelled argument fails with the file, line and key instead of being ignored.
So are the keys of ``overrides`` (an env family such as ``CombinationLock``, or a registered id)
and numbers that YAML reads as strings (``3e-4`` is a string in YAML 1.1: write ``3.0e-4``).

**Your own class by import path.** ``algo: "my_pkg.algos:MyPPO"`` (``module:attribute``) names
any SB3-compatible algorithm class: a subclass of an SB3 / sb3-contrib algorithm, or a class with
the same interface (``Class(policy, env, seed=..., verbose=..., device=...)``, ``learn`` that calls
SB3 callbacks, ``predict``, ``set_logger``, ``num_timesteps`` and ``policy``). Loading such a file
*imports that module* (user code runs): the only import an agent file can cause, and only for the
file asked for (:func:`load_agent`; a suite's own agent list may not name one, see
:mod:`rlbench3.harness.suites`). It is validated like the built-in algorithms, each error naming
the file, line and key: the module and attribute must import, the attribute must be a class with
``learn``, ``predict`` and ``set_logger`` and a constructor the harness can call, and every
hyperparameter must be a keyword of its constructor (of its bases too, where it passes
``**kwargs`` on). The action spaces it supports are those of the SB3 algorithm it derives from
(any space otherwise: its constructor decides when the run starts). A sweep imports the class in
every worker, so the package must be importable there (installed, or on ``PYTHONPATH``).

**External agents.** ``algo: external`` is an agent trained by the caller's own code (CleanRL,
JAX, anything) through :mod:`rlbench3.harness.external`; rlbench3 plans its runs, evaluates the
policy it hands back and writes the records. Its ``hyperparams`` are free-form plain data, handed
to the caller and kept in each run's config (so changing them makes new runs); ``n_envs`` is the
default number of training env copies; it has no ``policy``.

**The population backend.** ``algo: PPO_population`` (``A2C_population``) is PPO (A2C) trained
by rlbench3's own population trainer (:mod:`rlbench3.agents.population`: a run's seed trained
alongside the other seeds of its setting, in one process) instead of by Stable-Baselines3: the same
agent-file keys (SB3's names and defaults) and the same ``MlpPolicy`` networks, so
``agents/ppo_population.yaml`` is ``agents/ppo.yaml`` with only ``algo`` changed (and
``agents/a2c_population.yaml`` is ``agents/a2c.yaml``). It is its own algorithm key, so records and
tables keep the two implementations apart ("PPO" and "PPO_population" rows), and run configs keep
their shape. A key the population trainer cannot honour (``use_sde``, ``target_kl``, a policy
other than ``MlpPolicy``, ...) is an error when the file is loaded, as for any agent; so is a value
it rejects (e.g. ``n_steps: 0``), checked for the defaults and for every override.

Trained policies are saved in a weights-only format (:mod:`rlbench3.agents.policy_files`,
re-exported here as :func:`policy_bytes` and :func:`load_policy_bytes`): loading one never
unpickles anything.
"""

from __future__ import annotations

import copy
import difflib
import functools
import importlib
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlbench3.agents.policy_files import load_policy_bytes, policy_bytes
from rlbench3.data import load_mapping
from rlbench3.data.yaml_lines import (
    ConfigError,
    Node,
    check_keys,
    check_type,
    fail,
    plain_data,
)

__all__ = [
    "ALGORITHMS",
    "EXTERNAL",
    "POPULATION_ALGORITHMS",
    "AgentConfig",
    "AgentSpec",
    "algorithm_class",
    "check_compatible",
    "constructor_kwargs",
    "load_agent",
    "load_policy_bytes",
    "null_logger",
    "imitation_settings",
    "override_targets",
    "parse_agent",
    "is_import_path",
    "policy_bytes",
    "population_settings",
    "supported_action_spaces",
]

# algorithm -> (module, supported action spaces)
ALGORITHMS: dict[str, tuple[str, frozenset[str]]] = {
    "PPO": ("stable_baselines3", frozenset({"Discrete", "Box"})),
    "A2C": ("stable_baselines3", frozenset({"Discrete", "Box"})),
    "DQN": ("stable_baselines3", frozenset({"Discrete"})),
    "SAC": ("stable_baselines3", frozenset({"Box"})),
    "TD3": ("stable_baselines3", frozenset({"Box"})),
    "ARS": ("sb3_contrib", frozenset({"Discrete", "Box"})),
    "TRPO": ("sb3_contrib", frozenset({"Discrete", "Box"})),
    "random_search": ("rlbench3.agents.random_search", frozenset({"Discrete", "Box"})),
    "PPO_population": ("rlbench3.agents.population", frozenset({"Discrete", "Box"})),
    "A2C_population": ("rlbench3.agents.population", frozenset({"Discrete", "Box"})),
    # trained by the caller (rlbench3.harness.external), in any action space
    "external": ("", frozenset()),
}
# The algorithm key of agents trained by the caller's own loop (see rlbench3.harness.external).
EXTERNAL = "external"
# ``module.sub:Attribute``: an algorithm class named by import path.
IMPORT_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
# What the harness calls on an algorithm object besides its constructor.
REQUIRED_METHODS = ("learn", "predict", "set_logger")
# Algorithms trained by rlbench3's population trainer (runs of one setting that differ only in
# their seed are trained together; see rlbench3.harness.training.train_population).
# ``<ALGO>_population`` is SB3's <ALGO> (rlbench3.agents.population.TRAINERS).
POPULATION_ALGORITHMS = frozenset({"PPO_population", "A2C_population"})
POPULATION_SUFFIX = "_population"
# Algorithms whose policy the harness can warm-start by behaviour cloning (``demonstrations:``).
DEMONSTRATION_ALGORITHMS = ("PPO", "A2C")
# Constructor arguments the harness sets itself.
RESERVED = ("policy", "env", "seed", "verbose", "device", "tensorboard_log", "_init_setup_model")


@dataclass(frozen=True)
class AgentSpec:
    """An agent's settings resolved for one env (an agent file with its overrides applied).

    Attributes:
        name: the agent file's name (``ppo`` for ``agents/ppo.yaml``).
        algo: a key of :data:`ALGORITHMS`, or an import path ``module:Class``.
        policy: the SB3 policy name (``""`` for an external agent).
        n_envs: training env copies.
        hyperparams: the algorithm's constructor keywords, as written in YAML.
        demonstrations: the behaviour-cloning warm start, every field of
            :class:`~rlbench3.agents.imitation.ImitationSettings` (see :func:`imitation_settings`);
            empty for none, and then not part of the run's JSON (run ids of agents without it
            are those of before it existed).
    """

    name: str
    algo: str
    policy: str = "MlpPolicy"
    n_envs: int = 1
    hyperparams: dict[str, Any] = field(default_factory=dict)
    demonstrations: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Its own sorted copy: key order is not part of the settings (records store sorted
        # JSON), and no two specs share a mutable mapping.
        object.__setattr__(self, "hyperparams", plain_data(self.hyperparams, sort_keys=True))
        object.__setattr__(self, "demonstrations", plain_data(self.demonstrations, sort_keys=True))


@dataclass(frozen=True)
class AgentConfig:
    """One agent file, validated (``description`` is for people: runs do not record it)."""

    name: str
    algo: str
    policy: str = "MlpPolicy"
    n_envs: int = 1
    hyperparams: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""
    demonstrations: dict[str, Any] = field(default_factory=dict)

    def resolve(self, env_id: str, family: str) -> AgentSpec:
        """The settings for one env: defaults, then the family's, then the id's override."""
        out: dict[str, Any] = {
            "policy": self.policy,
            "n_envs": self.n_envs,
            "hyperparams": plain_data(self.hyperparams),
        }
        for key in (family, env_id):
            for k, v in self.overrides.get(key, {}).items():
                if k == "hyperparams":
                    out["hyperparams"].update(plain_data(v))
                else:
                    out[k] = v
        return AgentSpec(self.name, self.algo, **out, demonstrations=self.demonstrations)


def imitation_settings(agent: AgentSpec) -> Any:
    """The agent's warm start, an :class:`~rlbench3.agents.imitation.ImitationSettings`, or
    ``None`` without demonstrations (or with ``episodes: 0``); ``ValueError`` for settings an
    agent file could not hold (an algorithm that cannot be warm-started, a bad value)."""
    if not agent.demonstrations:
        return None
    if agent.algo not in DEMONSTRATION_ALGORITHMS:
        raise ValueError(
            f"agent {agent.name!r}: demonstrations need {' or '.join(DEMONSTRATION_ALGORITHMS)}, "
            f"got {agent.algo}"
        )
    from rlbench3.agents.imitation import ImitationSettings

    settings = ImitationSettings.from_config(agent.demonstrations)
    return settings if settings.episodes else None


def is_import_path(algo: Any) -> bool:
    """Whether ``algo`` names a class by import path (``"my_pkg.algos:MyPPO"``)."""
    return isinstance(algo, str) and IMPORT_PATH.match(algo) is not None


def algorithm_class(algo: str) -> type:
    """The class of an algorithm key or import path (importing it); ``ValueError`` with a
    one-line reason when an import path cannot be used, or for an external agent."""
    if is_import_path(algo):
        return imported_class(algo)
    if algo == EXTERNAL:
        raise ValueError(
            "an external agent (algo: external) has no class: its runs are trained by your own "
            "loop through rlbench3.harness.external.suite_runs"
        )
    module, _ = ALGORITHMS[algo]
    if algo == "random_search":
        return importlib.import_module(module).RandomSearch
    if algo in POPULATION_ALGORITHMS:
        return importlib.import_module(module).TRAINERS[algo.removesuffix(POPULATION_SUFFIX)]
    return getattr(importlib.import_module(module), algo)


def _flat(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def imported_class(path: str) -> type:
    """The SB3-compatible class named by ``module:Attribute``, imported and checked (see the
    module docstring); ``ValueError`` with a one-line reason otherwise."""
    if not is_import_path(path):
        raise ValueError(f"{path!r} is not an import path of the form 'package.module:Class'")
    module_name, _, attribute = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and (module_name + ".").startswith(err.name + "."):
            raise ValueError(
                f"cannot import {path!r}: no module named {err.name!r} (the package must be "
                "importable here and on every worker of a sweep: install it, or add its folder "
                "to PYTHONPATH)"
            ) from None
        raise ValueError(
            f"cannot import {path!r}: importing {module_name!r} failed: "
            f"{type(err).__name__}: {_flat(err)}"
        ) from None
    except Exception as err:  # noqa: BLE001 - user code: any error is reported in one line
        raise ValueError(
            f"cannot import {path!r}: importing {module_name!r} failed: "
            f"{type(err).__name__}: {_flat(err)}"
        ) from None
    owner = module_name
    for part in attribute.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(obj) if not n.startswith("_")]
            close = difflib.get_close_matches(part, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"cannot import {path!r}: {owner!r} has no attribute {part!r}{hint}")
        obj, owner = getattr(obj, part), f"{owner}.{part}"
    _check_sb3_compatible(obj, path)
    return obj


def _check_sb3_compatible(obj: Any, path: str) -> None:
    if not isinstance(obj, type):
        raise ValueError(f"{path!r} is a {type(obj).__name__}, not an algorithm class")
    missing = [m for m in REQUIRED_METHODS if not callable(getattr(obj, m, None))]
    if missing:
        raise ValueError(
            f"{path!r} is not SB3-compatible: it has no {', '.join(missing)} (the harness calls "
            f"{', '.join(REQUIRED_METHODS)}, as on stable_baselines3's BaseAlgorithm)"
        )
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return  # no signature to check (a C class): its constructor decides when the run starts
    try:
        signature.bind("MlpPolicy", None, seed=0, verbose=0, device="cpu")
    except TypeError as err:
        raise ValueError(
            f"{path!r} is not SB3-compatible: the harness calls {obj.__name__}(policy, env, "
            f"seed=..., verbose=..., device=...), which its constructor refuses ({_flat(err)})"
        ) from None


@functools.cache
def constructor_arguments(algo: str) -> tuple[str, ...] | None:
    """The keywords an agent file may set for ``algo``: its constructor's parameters, and those
    of its bases for as long as each passes ``**kwargs`` on; ``None`` when the chain ends in
    ``**kwargs`` that no base names (any keyword is accepted)."""
    cls = algorithm_class(algo)
    names: list[str] = []
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        if klass is object:
            return None
        try:
            params = inspect.signature(klass.__init__).parameters.values()
        except (TypeError, ValueError):
            return None
        named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        names += [p.name for p in params if p.kind in named and p.name not in names]
        if not any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params):
            break
    return tuple(n for n in names if n not in ("self", *RESERVED))


def supported_action_spaces(algo: str) -> frozenset[str] | None:
    """The action-space kinds (``"Box"``, ``"Discrete"``) ``algo`` can act in; ``None``: any
    (an external agent, or a class by import path that derives from no known algorithm)."""
    if algo == EXTERNAL:
        return None
    if not is_import_path(algo):
        return ALGORITHMS[algo][1]
    for base in algorithm_class(algo).__mro__:
        for key, (module, spaces) in ALGORITHMS.items():
            if module.startswith(("stable_baselines3", "sb3_contrib")) and base.__name__ == key:
                if base.__module__.split(".")[0] == module:
                    return spaces
    return None


# A number with an exponent that YAML 1.1 (PyYAML) reads as a string: it wants a decimal point
# and a signed exponent (``3.0e-4``, ``1.0e+6``), so ``3e-4``, ``1e6`` and ``1.0e6`` are text.
_EXPONENT = re.compile(r"^([-+]?)(\d+)(?:\.(\d*))?[eE]([-+]?)(\d+)$")
# Any decimal number written as text (``"0.5"`` quoted in YAML).
_DECIMAL = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)$")


def numeric_string_hint(value: Any) -> str | None:
    """For a string that YAML should have read as a number (``"3e-4"``), the spelling that it
    reads as one (``3.0e-4``); ``None`` for any other value."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _EXPONENT.match(text)
    if match:
        sign, whole, fraction, exponent_sign, exponent = match.groups()
        return f"{sign}{whole}.{fraction or '0'}e{exponent_sign or '+'}{exponent}"
    return text if _DECIMAL.match(text) else None


def check_numeric_strings(value: Any, parent: Any, path: str, key: str | None) -> None:
    """Raise a clear error for a number that YAML read as a string, anywhere in ``value``."""
    if isinstance(value, dict):
        for k, v in value.items():
            check_numeric_strings(v, value, f"{path}.{k}", k)
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            check_numeric_strings(v, parent, f"{path}[{i}]", key)
        return
    hint = numeric_string_hint(value)
    if hint is not None:
        raise fail(
            parent,
            path,
            f"{value!r} is a string, not a number (YAML reads a quoted number, or an exponent "
            f"without a decimal point or sign, as text); write {hint}",
            key,
        )


def population_settings(agent: AgentSpec) -> Any:
    """The population trainer's settings (:class:`rlbench3.agents.population.PPOSettings` or
    ``A2CSettings``) of a resolved ``PPO_population`` / ``A2C_population`` agent;
    :class:`ConfigError` for one it cannot honour."""
    if agent.policy != "MlpPolicy":
        raise ConfigError(
            f"agent {agent.name!r}: the population trainer runs MlpPolicy, got {agent.policy!r}"
        )
    return algorithm_class(agent.algo).SETTINGS.from_hyperparams(agent.hyperparams, agent.n_envs)


def _check_population(data: Node, config: AgentConfig) -> None:
    """Every setting of a population agent (its defaults, and each override applied) is one the
    population trainer honours; the error points at the file's line."""
    from rlbench3.agents.population import SettingError

    for key in ("", *config.overrides):
        spec = config.resolve(key, key) if key else config.resolve("", "")
        node: Any = data
        path = "hyperparams"
        if key:
            override = data["overrides"][key]
            node = override.get("hyperparams", override)
            path = f"overrides.{key}" + (".hyperparams" if "hyperparams" in override else "")
        elif "hyperparams" in data:
            node = data["hyperparams"]
        try:
            population_settings(spec)
        except (SettingError, ConfigError) as err:
            message = str(err)
            bad = re.match(r"hyperparams\.(\w+)", message)
            at = bad.group(1) if bad and isinstance(node, dict) and bad.group(1) in node else None
            raise fail(
                node,
                f"{path}.{at}" if at else path,
                f"{message} ({config.algo} is "
                f"{config.algo.removesuffix(POPULATION_SUFFIX)} trained by rlbench3's population "
                "trainer)",
                at,
            ) from None


def _check_hyperparams(algo: str, hyperparams: Any, parent: Node, path: str) -> dict[str, Any]:
    check_type(hyperparams, parent, path, dict, "a mapping of constructor arguments", "hyperparams")
    if algo == EXTERNAL:  # the caller's own settings: plain data, any keys
        for key in hyperparams:
            check_numeric_strings(hyperparams[key], hyperparams, f"{path}.{key}", key)
        return dict(hyperparams)
    if algo in POPULATION_ALGORITHMS:  # checked as a whole by _check_population
        for key in hyperparams:
            if key in RESERVED:
                raise fail(
                    hyperparams, f"{path}.{key}", "is set by the harness, not by agent files", key
                )
            check_numeric_strings(hyperparams[key], hyperparams, f"{path}.{key}", key)
        return dict(hyperparams)
    valid = constructor_arguments(algo)
    for key in hyperparams:
        if key in RESERVED:
            raise fail(
                hyperparams, f"{path}.{key}", "is set by the harness, not by agent files", key
            )
        if valid is not None and key not in valid:
            close = difflib.get_close_matches(str(key), valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise fail(hyperparams, f"{path}.{key}", f"not a {algo} argument{hint}", key)
        check_numeric_strings(hyperparams[key], hyperparams, f"{path}.{key}", key)
    return dict(hyperparams)


@functools.cache
def override_targets() -> tuple[str, ...]:
    """What an agent's ``overrides:`` may be keyed by: every registered Gymnasium id and every
    env family (the name of an id without namespace, variant and version: ``CombinationLock``
    for ``rlbench3/CombinationLock-v0``, ``CartPole`` for ``rlbench3/CartPole-D-v0``)."""
    import gymnasium as gym

    import rlbench3.envs  # noqa: F401  (registers the ids)

    ids = set(gym.registry)
    families = {env_id.split("/")[-1].split("-")[0] for env_id in ids}
    return tuple(sorted(ids | families))


def parse_agent(data: Any, name: str, *, imports: bool = True) -> AgentConfig:
    """Validate the contents of one agent file. An ``algo`` given by import path is imported
    (see the module docstring); with ``imports=False`` it is refused instead."""
    if not isinstance(data, dict):
        source = data.file if isinstance(data, Node) else name
        shape = "empty" if data is None else f"a {type(data).__name__}"
        raise ConfigError(
            f"{source}: an agent file must be a mapping with at least 'algo:', but it is {shape}"
        )
    check_keys(
        data,
        "",
        required=("algo",),
        optional=("description", "policy", "n_envs", "hyperparams", "overrides", "demonstrations"),
    )
    algo = _check_algo(data, imports)
    description = check_type(
        data.get("description", ""), data, "description", str, "text", "description"
    )
    if algo == EXTERNAL and "policy" in data:
        raise fail(data, "policy", "an external agent has no SB3 policy: remove it", "policy")
    policy = check_type(
        data.get("policy", "" if algo == EXTERNAL else "MlpPolicy"),
        data,
        "policy",
        str,
        "a policy name",
        "policy",
    )
    n_envs = check_type(data.get("n_envs", 1), data, "n_envs", int, "an integer >= 1", "n_envs")
    if n_envs < 1:
        raise fail(data, "n_envs", f"expected an integer >= 1, got {n_envs}", "n_envs")
    hyperparams = _check_hyperparams(algo, data.get("hyperparams", {}), data, "hyperparams")
    overrides = data.get("overrides", {})
    check_type(
        overrides, data, "overrides", dict, "a mapping env family/id -> settings", "overrides"
    )
    targets = override_targets()
    for key, override in overrides.items():
        path = f"overrides.{key}"
        if key not in targets:
            close = difflib.get_close_matches(str(key), targets, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise fail(
                overrides,
                path,
                f"not an env family or registered env id{hint}; an override applies to the envs "
                "of a family (e.g. CombinationLock) or to one id (e.g. rlbench3/ArmReach-v0)",
                key,
            )
        keys = (
            ("n_envs", "hyperparams") if algo == EXTERNAL else ("policy", "n_envs", "hyperparams")
        )
        check_keys(override, path, optional=keys)
        if "hyperparams" in override:
            _check_hyperparams(algo, override["hyperparams"], override, f"{path}.hyperparams")
    demonstrations = _check_demonstrations(data, algo)
    config = AgentConfig(
        name,
        algo,
        policy,
        n_envs,
        hyperparams,
        dict(overrides),
        description.strip(),
        demonstrations,
    )
    if algo in POPULATION_ALGORITHMS:
        _check_population(data, config)
    return config


def _check_demonstrations(data: Node, algo: str) -> dict[str, Any]:
    """The file's ``demonstrations:`` as every field of ``ImitationSettings`` (``{}`` without the
    key or with ``episodes: 0``); each error names the file, line and key."""
    if "demonstrations" not in data:
        return {}
    from dataclasses import asdict, fields

    from rlbench3.agents.imitation import ImitationSettings

    node = data["demonstrations"]
    if algo not in DEMONSTRATION_ALGORITHMS:
        kind = "a class by import path" if is_import_path(algo) else algo
        raise fail(
            data,
            "demonstrations",
            f"only {' and '.join(DEMONSTRATION_ALGORITHMS)} agents can be warm-started by "
            f"behaviour cloning (an SB3 ActorCriticPolicy the harness fits), not {kind}",
            "demonstrations",
        )
    check_type(
        node, data, "demonstrations", dict, "a mapping such as {episodes: 10}", "demonstrations"
    )
    check_keys(node, "demonstrations", optional=[f.name for f in fields(ImitationSettings)])
    for key, value in node.items():
        path = f"demonstrations.{key}"
        check_numeric_strings(value, node, path, key)
        try:
            ImitationSettings(**{key: value})
        except ValueError as err:
            raise fail(node, path, str(err), key) from None
    settings = ImitationSettings(**plain_data(node))
    return asdict(settings) if settings.episodes else {}


def _check_algo(data: Node, imports: bool) -> str:
    """The file's ``algo``: a known key, or an import path whose class imports and is
    SB3-compatible (imported only when ``imports``)."""
    algo = check_type(data["algo"], data, "algo", str, "an algorithm name", "algo")
    if is_import_path(algo):
        if not imports:
            raise fail(
                data,
                "algo",
                f"{algo!r} would import user code, which only an agent file you name yourself "
                "may do (pass it as an agent: rlbench3 run SUITE --agents FILE, or agents=[FILE])",
                "algo",
            )
        try:
            imported_class(algo)
        except ValueError as err:
            raise fail(data, "algo", str(err), "algo") from None
        return algo
    if ":" in algo:
        raise fail(
            data,
            "algo",
            f"{algo!r} is not an import path of the form 'package.module:Class'",
            "algo",
        )
    if algo not in ALGORITHMS:
        close = difflib.get_close_matches(str(algo), list(ALGORITHMS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise fail(
            data,
            "algo",
            f"unknown algorithm {algo!r}{hint}; known: {', '.join(ALGORITHMS)}, or a class by "
            "import path ('package.module:Class')",
            "algo",
        )
    return algo


def load_agent(name_or_path: str | Path, *, imports: bool = True) -> AgentConfig:
    """Load a shipped agent by name (``ppo``: ``agents/ppo.yaml``) or an agent file by path.

    An agent file whose ``algo`` is an import path imports that module (user code runs); with
    ``imports=False`` such a file is refused instead, before anything is imported."""
    path, data = load_mapping("agents", name_or_path, "agent", "at least 'algo:'")
    return parse_agent(data, path.name.rsplit(".", 1)[0], imports=imports)


def check_compatible(algo: str, action_space: Any, where: str) -> None:
    """Raise a clear error when ``algo`` cannot act in ``action_space`` (e.g. DQN on a Box)."""
    kind = type(action_space).__name__
    supported = supported_action_spaces(algo)
    if supported is not None and kind not in supported:
        raise ConfigError(
            f"{where}: {algo} cannot be trained on a {kind} action space "
            f"(it supports {', '.join(sorted(supported))})"
        )


# --------------------------------------------------------------------------------------------
# From plain-data settings to constructor arguments


def linear_schedule(initial: float) -> Any:
    """rl-zoo's ``lin_<value>``: decays linearly from ``initial`` to 0 over training."""

    def schedule(progress_remaining: float) -> float:
        return progress_remaining * initial

    return schedule


def null_logger() -> Any:
    """An SB3 logger that writes nothing anywhere. SB3 creates an empty ``/tmp/SB3-<time>``
    folder for every model whose logger is not set (``configure_logger`` with no folder);
    ``model.set_logger(null_logger())`` before ``learn`` avoids it."""
    from stable_baselines3.common.logger import Logger

    return Logger(folder=None, output_formats=[])


def constructor_kwargs(hyperparams: dict[str, Any], action_dim: int | None) -> dict[str, Any]:
    """Turn YAML values into objects: schedules, activation classes, action noise."""
    import torch

    kwargs = copy.deepcopy(hyperparams)
    for key in ("learning_rate", "clip_range", "clip_range_vf"):
        value = kwargs.get(key)
        if isinstance(value, str) and value.startswith("lin_"):
            kwargs[key] = linear_schedule(float(value[4:]))
    policy_kwargs = kwargs.get("policy_kwargs")
    if isinstance(policy_kwargs, dict) and isinstance(policy_kwargs.get("activation_fn"), str):
        policy_kwargs["activation_fn"] = getattr(torch.nn, policy_kwargs["activation_fn"])
    noise = kwargs.get("action_noise")
    if isinstance(noise, dict) and action_dim is not None:
        import numpy as np
        from stable_baselines3.common.noise import NormalActionNoise

        kwargs["action_noise"] = NormalActionNoise(
            np.zeros(action_dim), float(noise.get("normal", 0.1)) * np.ones(action_dim)
        )
    return kwargs
