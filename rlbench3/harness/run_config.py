"""One run's resolved configuration: a typed, frozen value with its own JSON round trip.

A suite (:mod:`rlbench3.harness.suites`) expands into :class:`RunConfig` values, one per
experiment × grid point × agent × seed. A run config is everything a worker needs to train and
evaluate (:func:`rlbench3.harness.training.train_run`), and its hash is the run's identity
(:attr:`RunConfig.run_id`), so the same config is never run twice into one results folder. The
model is Gymnasium's ``EnvSpec``: a dataclass whose fields are documented, ``to_json`` /
``from_json``, and nothing hidden.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from rlbench3.agents.config import AgentSpec
from rlbench3.data.yaml_lines import plain_data

TRAIN = "train"  # the split a run trains on; every run config has it


def setting_label(setting: Mapping[str, Any]) -> str:
    """A grid point as text, ``"horizon=4, num_actions=2"``; ``"default"`` for no grid."""
    return ", ".join(f"{k}={v}" for k, v in setting.items()) or "default"


@dataclass(frozen=True)
class EvalSpec:
    """How a run is evaluated: every ``every`` env steps and at the end, ``episodes`` episodes
    per split, acting with the policy's mode (``deterministic: true``, greedy) or sampling from
    it (``false``)."""

    every: int = 5000
    episodes: int = 20
    deterministic: bool = True

    def __post_init__(self) -> None:
        for name in ("every", "episodes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"eval.{name} must be an integer >= 1, got {value!r}")
        if not isinstance(self.deterministic, bool):
            raise ValueError(
                f"eval.deterministic must be true or false, got {self.deterministic!r}"
            )

    @property
    def mode(self) -> str:
        """``"greedy"`` or ``"sampled"``: how the evaluated policy acts, for captions."""
        return "greedy" if self.deterministic else "sampled"


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines one run.

    Attributes:
        suite: the suite's name.
        experiment: the experiment's name within the suite.
        env_id: the registered Gymnasium id.
        family: the env family (``CombinationLock``), for agent overrides and tables.
        setting: the experiment's grid point, parameter -> value (empty without a grid).
        splits: split name -> env keywords; ``"train"`` is the training distribution, the others
            are evaluation-only (held-out) distributions.
        agent: the resolved agent.
        seed: seeds every generator of the run.
        budget: env steps of training.
        eval: the evaluation schedule.
    """

    suite: str
    experiment: str
    env_id: str
    family: str
    setting: dict[str, Any]
    splits: dict[str, dict[str, Any]]
    agent: AgentSpec
    seed: int
    budget: int
    eval: EvalSpec = field(default_factory=EvalSpec)

    def __post_init__(self) -> None:
        if TRAIN not in self.splits:
            raise ValueError(f"a run config needs a {TRAIN!r} split, got {list(self.splits)}")
        # Key order is not part of a config (records store sorted JSON): hold every mapping
        # sorted, so a config read back labels, evaluates and hashes exactly as planned.
        object.__setattr__(self, "setting", plain_data(self.setting, sort_keys=True))
        object.__setattr__(self, "splits", plain_data(self.splits, sort_keys=True))

    @property
    def label(self) -> str:
        """The grid point as text (see :func:`setting_label`)."""
        return setting_label(self.setting)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (a deep copy)."""
        return copy.deepcopy(asdict(self))

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no spaces (what :attr:`run_id` hashes)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @property
    def run_id(self) -> str:
        """The run's identity: the first 16 hex digits of the sha256 of :meth:`to_json`."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        """The inverse of :meth:`to_dict`; unknown or missing keys raise ``ValueError``."""
        values = _fields_of(cls, data, "run config")
        values["agent"] = AgentSpec(**_fields_of(AgentSpec, values["agent"], "agent"))
        values["eval"] = EvalSpec(**_fields_of(EvalSpec, values["eval"], "eval"))
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        return cls.from_dict(json.loads(text))


def _fields_of(cls: type, data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"{what}: expected a mapping, got {type(data).__name__}")
    names = [f.name for f in fields(cls)]
    unknown, missing = set(data) - set(names), set(names) - set(data)
    if unknown or missing:
        raise ValueError(f"{what}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    return {name: copy.deepcopy(data[name]) for name in names}
