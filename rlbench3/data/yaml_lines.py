"""Reading YAML data files with errors that point at the offending key.

Suites (``envs/*.yaml``) and agents (``agents/*.yaml``) are data written by people; a typo must
fail loudly, naming the file, the line and the key path (``experiments[1].grid.horizn``), not
surface later as a silently ignored setting.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A data file is malformed; the message names file, line and key path."""


class Node(dict):
    """A YAML mapping that remembers the file and line of each key."""

    file: str = "<string>"
    line: int = 0
    key_lines: dict[str, int]


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Node:
    mapping = Node()
    mapping.file = loader.name
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise ConfigError(
                f"{loader.name}:{key_node.start_mark.line + 1}: duplicate key {key!r}"
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: str | Path | Traversable) -> Any:
    """Parse a YAML file; mappings become :class:`Node` objects that know their lines."""
    path = Path(path) if isinstance(path, str) else path
    text = path.read_text()
    loader = _LineLoader(text)
    loader.name = str(path)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    finally:
        loader.dispose()


def where(node: Any, key: str | None = None) -> str:
    """``file:line`` of ``node`` (or of ``key`` inside it) for error messages."""
    if isinstance(node, Node):
        line = node.key_lines.get(key, node.line) if key is not None else node.line
        return f"{node.file}:{line}"
    return "<unknown>"


def fail(node: Any, path: str, message: str, key: str | None = None) -> ConfigError:
    return ConfigError(f"{where(node, key)}: {path}: {message}")


def check_keys(
    node: Any, path: str, *, required: Iterable[str] = (), optional: Iterable[str] = ()
) -> None:
    """``node`` must be a mapping with all ``required`` keys and no keys outside both sets."""
    required, optional = list(required), list(optional)
    if not isinstance(node, dict):
        raise fail(node, path, f"expected a mapping, got {type(node).__name__} {node!r}")
    valid = list(dict.fromkeys(required + optional))
    for key in node:
        if key not in valid:
            close = difflib.get_close_matches(str(key), valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise fail(
                node,
                f"{path}.{key}" if path else str(key),
                f"unknown key{hint}; valid keys: {', '.join(valid)}",
                key,
            )
    for key in required:
        if key not in node:
            raise fail(node, path or "<top>", f"missing required key {key!r}")


def check_type(
    node: Any,
    parent: Any,
    path: str,
    types: type | tuple[type, ...],
    what: str,
    key: str | None = None,
) -> Any:
    """``node`` must be an instance of ``types`` (bools are never numbers)."""
    ok = isinstance(node, types) and not (isinstance(node, bool) and bool not in _as_tuple(types))
    if not ok:
        raise fail(parent, path, f"expected {what}, got {node!r}", key)
    return node


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def plain_data(value: Any, *, sort_keys: bool = False) -> Any:
    """A deep copy of ``value`` with YAML nodes turned into plain dicts (string keys) and lists,
    JSON-able; with ``sort_keys``, every mapping's keys sorted (key order is then not data)."""
    if isinstance(value, dict):
        keys = sorted(value, key=str) if sort_keys else list(value)
        return {str(k): plain_data(value[k], sort_keys=sort_keys) for k in keys}
    if isinstance(value, (list, tuple)):
        return [plain_data(v, sort_keys=sort_keys) for v in value]
    return copy.deepcopy(value)
