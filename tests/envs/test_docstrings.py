"""Each registered env class documents itself in Gymnasium's shape, and its ``## Arguments``
table is the one :func:`~rlbench3.envs.parameters.arguments_table` renders from its parameter
dataclass, so a docstring cannot silently fall out of date with the parameters."""

from __future__ import annotations

import importlib
import inspect
import sys
from dataclasses import dataclass

import gymnasium as gym
import pytest

import rlbench3
from rlbench3.envs.mixture import MixtureEnv
from rlbench3.envs.parameters import EnvParams, arguments_table, choice, number

SECTIONS = (
    "## Description",
    "## Action Space",
    "## Observation Space",
    "## Rewards",
    "## Starting State",
    "## Episode End",
    "## Arguments",
    "## Version History",
)


def load(entry_point: str) -> type:
    module, name = entry_point.split(":")
    return getattr(importlib.import_module(module), name)


def _classes(kind: str) -> dict[str, type]:
    """``{entry point: class}`` over every registered id (each class once)."""
    out = {}
    for env_id in rlbench3.registered_ids():
        entry_point = getattr(gym.spec(env_id), kind)
        if isinstance(entry_point, str):
            out.setdefault(entry_point, load(entry_point))
    return out


ENV_CLASSES = _classes("entry_point")
VECTOR_CLASSES = _classes("vector_entry_point")
# Mixture composes other ids: it has no parameter dataclass, its arguments are written by hand.
PARAMETRIZED = [c for c in ENV_CLASSES.values() if c is not MixtureEnv]


def doc(cls: type) -> list[str]:
    """The class docstring's lines, without the indentation of the source."""
    assert cls.__dict__.get("__doc__"), f"{cls.__name__} has no docstring of its own"
    return inspect.cleandoc(cls.__doc__).splitlines()


def arguments_rows(cls: type) -> list[str]:
    """The lines of the first table of the ``## Arguments`` section."""
    lines = doc(cls)
    start = lines.index("## Arguments") + 1
    while not lines[start].startswith("|"):
        start += 1
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return lines[start:end]


def params_class(cls: type) -> type[EnvParams]:
    env = cls()
    try:
        return type(env.params)
    finally:
        env.close()


def test_every_registered_family_is_covered():
    names = {c.__name__ for c in ENV_CLASSES.values()}
    assert {"CombinationLockEnv", "SparseReachEnv", "ArmReachEnv", "MixtureEnv"} <= names
    assert {"CartPoleEnv", "MountainCarEnv", "AcrobotEnv", "PendulumEnv"} <= names
    assert {"HalfCheetahEnv", "HopperEnv"} <= names
    assert {c.__name__ for c in VECTOR_CLASSES.values()} == {
        "CombinationLockVectorEnv",
        "SparseReachVectorEnv",
        "OrbitVectorEnv",
    }


@pytest.mark.parametrize("cls", ENV_CLASSES.values(), ids=lambda c: c.__name__)
def test_class_docstring_has_gymnasium_sections_in_order(cls):
    lines = doc(cls)
    missing = [s for s in SECTIONS if s not in lines]
    assert not missing, f"{cls.__name__} docstring lacks {missing}"
    positions = [lines.index(s) for s in SECTIONS]
    assert positions == sorted(positions), f"{cls.__name__}: sections out of order"
    assert lines[0] and not lines[0].startswith("#"), "a one-line summary comes first"


@pytest.mark.parametrize("cls", PARAMETRIZED, ids=lambda c: c.__name__)
def test_arguments_table_matches_the_parameter_dataclass(cls):
    table = arguments_table(params_class(cls)).splitlines()
    rows = arguments_rows(cls)
    assert rows[: len(table)] == table, (
        f"the ## Arguments table of {cls.__name__} is out of date; paste this in its place "
        f"(then the rows of its other keywords):\n{chr(10).join(table)}"
    )


@pytest.mark.parametrize("cls", ENV_CLASSES.values(), ids=lambda c: c.__name__)
def test_every_constructor_keyword_is_in_the_arguments_table(cls):
    documented = {row.split("|")[1].strip().strip("`") for row in arguments_rows(cls)[2:]}
    signature = inspect.signature(cls.__init__).parameters.values()
    named = {p.name for p in signature if p.name != "self" and p.kind is not p.VAR_KEYWORD}
    assert named <= documented, f"{cls.__name__}: undocumented keywords {named - documented}"


@pytest.mark.parametrize("cls", VECTOR_CLASSES.values(), ids=lambda c: c.__name__)
def test_vector_env_docstring_points_to_the_single_env(cls):
    single = cls.__name__.replace("VectorEnv", "Env")
    text = " ".join(doc(cls))
    assert f":class:`{single}`" in text and "spec" in text


@pytest.mark.parametrize("cls", ENV_CLASSES.values(), ids=lambda c: c.__name__)
def test_module_docstring_is_an_overview_not_a_spec(cls):
    module_doc = sys.modules[cls.__module__].__doc__.lower()
    assert "## arguments" not in module_doc and "## episode end" not in module_doc


@dataclass(frozen=True)
class ToyParams(EnvParams):
    family = "Toy"

    size: int = number(3, ge=1, integer=True, randomizable=False)
    mass: float = number(1.0, gt=0.0)
    mode: str = choice("a", ("a", "bb"))


def test_arguments_table_renders_describe_as_a_padded_markdown_table():
    assert arguments_table(ToyParams) == "\n".join(
        [
            "| parameter | default | valid values |",
            "|-----------|---------|--------------|",
            "| ``size``  | ``3``   | an integer >= 1, fixed |",
            "| ``mass``  | ``1.0`` | a number > 0 |",
            "| ``mode``  | ``'a'`` | one of 'a', 'bb' |",
        ]
    )
