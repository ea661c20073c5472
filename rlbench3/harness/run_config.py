"""One run's resolved configuration: a typed, frozen value with its own JSON round trip.

A suite (:mod:`rlbench3.harness.suites`) expands into :class:`RunConfig` values, one per
experiment × grid point × agent × seed. A run config is everything a worker needs to train and
evaluate (:func:`rlbench3.harness.training.train_run`), and its hash is the run's identity
(:attr:`RunConfig.run_id`), so the same config is never run twice into one results folder. The
model is Gymnasium's ``EnvSpec``: a dataclass whose fields are documented, ``to_json`` /
``from_json``, and nothing hidden.

Evaluation episodes. A run evaluates each split on the same ``eval.episodes`` episodes at every
evaluation point (so a learning curve's points differ by the policy only). Those episodes are
fixed by one env seed per run and split, :func:`eval_seed` (``RunConfig.eval_seed(split)``): a
vector env's copy ``i`` is reset with ``eval_seed + i``. The seed is drawn from
``SeedSequence([run seed, split key, EVAL_STREAM])``, so

* runs with different seeds never share a held-out episode (their seeds are independent 53-bit
  draws; a collision of two ranges of ``episodes`` seeds has probability ~``2 * episodes / 2**53``
  per pair, and the shipped suites are checked to have none): seeds are independent samples of
  the test distribution, not the same small test set seen again;
* runs with the same seed but different agents (or grid points) evaluate on *the same* episodes:
  common random numbers, so a paired comparison of two agents seed by seed cancels the episodes'
  share of the variance;
* evaluation never replays a training episode: every evaluation seed is at least 2**32, and
  training resets its ``n_envs`` copies with ``seed .. seed + n_envs - 1`` (small integers).

Demonstrations (an agent's ``demonstrations:``, see :mod:`rlbench3.agents.config`) are expert
episodes seeded by :func:`demonstration_seed`, drawn from its own stream into
``[EVAL_SEED_HIGH, 2**63)``: above every evaluation seed and every training seed, so the expert
never shows the policy an episode it is trained or evaluated on (up to what the env's generator
repeats by chance).

Optional fields (:attr:`RunConfig.curriculum`, :attr:`AgentSpec.demonstrations`) are left out of
the JSON while unset, so a config that does not use them has the run id it had before they
existed: a results folder of such runs resumes without redoing any.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from rlbench3.agents.config import AgentSpec
from rlbench3.data.yaml_lines import plain_data

TRAIN = "train"  # the split a run trains on; every run config has it

# Evaluation env seeds lie in [EVAL_SEED_LOW, EVAL_SEED_HIGH): above every training env seed
# (training resets copy i with run seed + i) and exact in JSON numbers (doubles), so a record's
# meta states them exactly for any reader.
EVAL_SEED_LOW = 2**32
EVAL_SEED_HIGH = 2**53
# The stream of the run's seed sequence that evaluation seeds are drawn from (a constant, so that
# other derived streams, e.g. a future one for exploration, stay independent of it).
EVAL_STREAM = 0xE7A1
# The stream of demonstration (expert-episode) seeds, and their range: above every evaluation
# seed, within numpy's seeds (and int64).
DEMO_STREAM = 0xDE30
DEMO_SEED_HIGH = 2**63


def eval_seed(run_seed: int, split: str) -> int:
    """The env seed of split ``split``'s evaluation episodes in the run with seed ``run_seed``.

    ``SeedSequence([run_seed, crc32(split), EVAL_STREAM])`` drawn into
    ``[EVAL_SEED_LOW, EVAL_SEED_HIGH)``. It depends on the run's seed and the split's name only:
    the same for every agent and grid point (common random numbers), independent across seeds
    and splits, stable when splits are added or renamed elsewhere in a suite. Copy ``i`` of an
    evaluation vector env is reset with ``eval_seed + i`` (Gymnasium's convention; the batched
    vector envs draw every copy from one generator seeded with it).
    """
    if not isinstance(run_seed, int) or isinstance(run_seed, bool) or run_seed < 0:
        raise ValueError(f"a run seed must be an integer >= 0, got {run_seed!r}")
    key = zlib.crc32(split.encode())
    sequence = np.random.SeedSequence([run_seed, key, EVAL_STREAM])
    word = int(sequence.generate_state(1, np.uint64)[0])
    return EVAL_SEED_LOW + word % (EVAL_SEED_HIGH - EVAL_SEED_LOW)


def demonstration_seed(run_seed: int) -> int:
    """The seed of the expert episodes (and of the cloning minibatches) of the run with seed
    ``run_seed``: ``SeedSequence([run_seed, DEMO_STREAM])`` drawn into
    ``[EVAL_SEED_HIGH, 2**63)``, disjoint from every evaluation and training seed."""
    if not isinstance(run_seed, int) or isinstance(run_seed, bool) or run_seed < 0:
        raise ValueError(f"a run seed must be an integer >= 0, got {run_seed!r}")
    sequence = np.random.SeedSequence([run_seed, DEMO_STREAM])
    word = int(sequence.generate_state(1, np.uint64)[0])
    return EVAL_SEED_HIGH + word % (DEMO_SEED_HIGH - EVAL_SEED_HIGH)


def setting_label(setting: Mapping[str, Any]) -> str:
    """A grid point as text, ``"horizon=4, num_actions=2"``; ``"default"`` for no grid."""
    return ", ".join(f"{k}={v}" for k, v in setting.items()) or "default"


@dataclass(frozen=True)
class EvalSpec:
    """How a run is evaluated: every ``every`` env steps and at the end, ``episodes`` episodes
    per split, acting with the policy's mode (``deterministic: true``, greedy) or sampling from
    it (``false``). Which episodes: :meth:`RunConfig.eval_seed` (one seed per run and split)."""

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
        return eval_mode(self.deterministic)


def eval_mode(deterministic: bool) -> str:
    """``"greedy"`` for ``deterministic=True`` (the policy's mode: argmax, or a Gaussian's mean),
    ``"sampled"`` for ``False`` (actions drawn from the policy's distribution)."""
    return "greedy" if deterministic else "sampled"


def _is_fraction(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and 0.0 <= x < 1.0


@dataclass(frozen=True)
class Curriculum:
    """A training-time schedule of one parameter of the training env (a suite's ``curriculum:``,
    resolved for one run by :mod:`rlbench3.harness.suites`).

    Attributes:
        parameter: the env keyword it sets (``start_step`` of the lock).
        stages: ``((start, value), ...)``: from the first env step at or past
            ``start * budget`` on, the training env's copies take ``value`` at their next reset
            (see :meth:`begins`). ``start`` is a fraction of the budget in [0, 1): the first is 0,
            then strictly increasing. Each ``value`` is the env's own value for the run's
            setting (the lock's ``start_step``, for the fraction the suite wrote).

    Only the training env follows it: every split, ``train`` included, is evaluated with the
    split's parameters.
    """

    parameter: str
    stages: tuple[tuple[float, Any], ...]

    def __post_init__(self) -> None:
        stages = tuple(tuple(stage) for stage in self.stages)
        object.__setattr__(self, "stages", stages)
        if not isinstance(self.parameter, str) or not self.parameter:
            raise ValueError(
                f"curriculum.parameter must be a parameter name, got {self.parameter!r}"
            )
        if not stages or any(len(stage) != 2 for stage in stages):
            raise ValueError(
                "curriculum.stages must be a non-empty list of [start, value] pairs, "
                f"got {stages!r}"
            )
        starts = [start for start, _ in stages]
        if not all(_is_fraction(x) for x in starts) or starts[0] != 0:
            raise ValueError(
                "curriculum.stages: each start must be a fraction of the budget >= 0 and < 1, "
                f"the first 0, got {starts}"
            )
        if any(b <= a for a, b in zip(starts, starts[1:])):
            raise ValueError(f"curriculum.stages: starts must increase strictly, got {starts}")
        # starts as floats: 0 and 0.0 are one config (and one run id)
        object.__setattr__(self, "stages", tuple((float(a), v) for a, v in stages))

    def begins(self, budget: int) -> list[int]:
        """The env step at which each stage is due: ``ceil(start * budget)``."""
        return [math.ceil(start * budget) for start, _ in self.stages]

    @property
    def label(self) -> str:
        """For captions: ``"start_step 6, 3 from 50%, 0 from 75% of the budget"``."""
        parts = [f"{self.parameter} {self.stages[0][1]}"]
        parts += [f"{value} from {start:.0%}" for start, value in self.stages[1:]]
        return ", ".join(parts) + (" of the budget" if len(parts) > 1 else "")


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
        curriculum: a schedule of a training-env parameter over the budget, or ``None`` (not in
            the JSON then).
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
    curriculum: Curriculum | None = None

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

    def eval_seed(self, split: str) -> int:
        """The env seed of ``split``'s evaluation episodes (see :func:`eval_seed`): copy ``i`` of
        the evaluation vector env is reset with ``eval_seed + i``."""
        if split not in self.splits:
            raise KeyError(f"no split {split!r} in this run (splits: {sorted(self.splits)})")
        return eval_seed(self.seed, split)

    @property
    def eval_seeds(self) -> dict[str, int]:
        """Split name -> :meth:`eval_seed`, in split order."""
        return {split: self.eval_seed(split) for split in self.splits}

    def demonstration_seed(self) -> int:
        """The seed of this run's expert episodes (see :func:`demonstration_seed`)."""
        return demonstration_seed(self.seed)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (a deep copy); optional fields left unset are left out."""
        data = copy.deepcopy(asdict(self))
        if self.curriculum is None:
            del data["curriculum"]
        else:
            data["curriculum"]["stages"] = [list(stage) for stage in self.curriculum.stages]
        if not self.agent.demonstrations:
            del data["agent"]["demonstrations"]
        return data

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no spaces (what :attr:`run_id` hashes)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @property
    def run_id(self) -> str:
        """The run's identity: the first 16 hex digits of the sha256 of :meth:`to_json`."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        """The inverse of :meth:`to_dict`; unknown or missing keys raise ``ValueError`` (the
        optional ones may be missing)."""
        values = _fields_of(cls, data, "run config", optional=("curriculum",))
        values["agent"] = AgentSpec(
            **_fields_of(AgentSpec, values["agent"], "agent", optional=("demonstrations",))
        )
        values["eval"] = EvalSpec(**_fields_of(EvalSpec, values["eval"], "eval"))
        if values.get("curriculum") is not None:
            values["curriculum"] = Curriculum(
                **_fields_of(Curriculum, values["curriculum"], "curriculum")
            )
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        return cls.from_dict(json.loads(text))


def _fields_of(cls: type, data: Any, what: str, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"{what}: expected a mapping, got {type(data).__name__}")
    names = [f.name for f in fields(cls)]
    unknown, missing = set(data) - set(names), set(names) - set(data) - set(optional)
    if unknown or missing:
        raise ValueError(f"{what}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    return {name: copy.deepcopy(data[name]) for name in names if name in data}
