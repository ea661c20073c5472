"""The YAML that rlbench3 ships, and where to find it.

The files are edited where the repository keeps them, ``envs/`` (presets and suites) and
``agents/`` (agent files) at its top; the build installs them inside the package as
``rlbench3.data.envs`` and ``rlbench3.data.agents`` (``pyproject.toml``), so an installed
rlbench3 finds them through :mod:`importlib.resources`, from any working directory.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from rlbench3.data.yaml_lines import ConfigError

KINDS = ("envs", "agents")
PRESETS = "presets"  # envs/presets.yaml: env presets, not a suite


def folder(kind: str) -> Traversable:
    """The shipped folder of ``kind`` (``"envs"`` or ``"agents"``)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return resources.files(f"rlbench3.data.{kind}")


def shipped_names(kind: str) -> list[str]:
    """The names (file stems) of the shipped YAML files of ``kind``, sorted."""
    names = (p.name[: -len(".yaml")] for p in folder(kind).iterdir() if p.name.endswith(".yaml"))
    return sorted(n for n in names if not (kind == "envs" and n == PRESETS))


def find(kind: str, name_or_path: str | Path, what: str) -> Traversable:
    """A shipped file by name (``ppo`` -> ``agents/ppo.yaml``) or a user's file by path.

    A value ending in ``.yaml``/``.yml`` is a path; anything else names a shipped file. Raises
    :class:`ConfigError` listing the shipped names when there is no such file.
    """
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise ConfigError(f"no {what} file {path}")
        return path
    found = folder(kind) / f"{name_or_path}.yaml"
    if str(name_or_path) == PRESETS or not found.is_file():
        raise ConfigError(
            f"no shipped {what} {str(name_or_path)!r}; shipped {what}s: "
            f"{', '.join(shipped_names(kind))} (or give a path to a .yaml file)"
        )
    return found


def load_mapping(kind: str, name_or_path: str | Path, what: str, needs: str) -> tuple[Any, Any]:
    """``(path, data)`` of a shipped or user YAML file that must hold a mapping (its keys know
    their lines); ``needs`` says what the mapping must contain, for the error message."""
    from rlbench3.data.yaml_lines import load_yaml

    path = find(kind, name_or_path, what)
    data = load_yaml(path)
    if not isinstance(data, dict):
        shape = "empty" if data is None else f"a {type(data).__name__}"
        article = "an" if what[:1] in "aeiou" else "a"
        raise ConfigError(
            f"{path}: {article} {what} file must be a mapping with {needs}, but it is {shape}"
        )
    return path, data
