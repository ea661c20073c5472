"""The package's folders are its architecture: a module imports only from its own layer or below.

data -> envs -> agents -> harness -> analysis -> plots -> paper -> report -> cli. Every import
counts, including those inside functions (a lazy import is still a dependency). A layer may have
no module yet (``paper``): it still orders the layers around it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import rlbench3

PACKAGE = Path(rlbench3.__file__).parent
LAYERS = ("data", "envs", "agents", "harness", "analysis", "plots", "paper", "report", "cli")


def layer_of(module: str) -> str:
    """``rlbench3.harness.sweep`` -> ``harness``; the package's own ``__init__`` -> ``""``."""
    parts = module.split(".")
    assert parts[0] == "rlbench3", module
    return parts[1] if len(parts) > 1 else ""


def target_layer(module: str) -> str:
    """The layer an import of ``module`` reaches: the package's face (``import rlbench3``)
    registers the envs and re-exports their registry, so it counts as ``envs``."""
    return layer_of(module) or "envs"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """``(line, module)`` of every rlbench3 module that the code ``source`` of ``module``
    imports, anywhere in it (relative imports resolved)."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if base == "rlbench3":  # from rlbench3 import harness: the submodules themselves
                found += [(node.lineno, f"rlbench3.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
    return [(line, name) for line, name in found if name.split(".")[0] == "rlbench3"]


def upward_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    own = layer_of(module)
    # The package's face registers the envs and nothing more.
    allowed = {"data", "envs"} if own == "" else set(LAYERS[: LAYERS.index(own) + 1])
    return [
        f"line {line}: {name}"
        for line, name in imported_modules(source, module, is_package)
        if target_layer(name) not in allowed
    ]


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_sits_in_a_layer():
    for path in MODULES:
        layer = layer_of(module_name(path))
        assert layer == "" or layer in LAYERS, f"{path} is outside the layers {LAYERS}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_from_a_layer_above_its_own(path):
    module = module_name(path)
    upward = upward_imports(path.read_text(), module, path.name == "__init__.py")
    assert not upward, f"{module} imports from a layer above its own: {upward}"


@pytest.mark.parametrize(
    "source, module, expected",
    [
        ("def f():\n    from rlbench3.analysis import tables\n", "rlbench3.envs.x", ["line 2"]),
        ("import rlbench3.cli\n", "rlbench3.plots", ["line 1"]),
        ("from rlbench3 import harness\n", "rlbench3.agents.x", ["line 1"]),
        ("from ..harness import sweep\n", "rlbench3.agents.x", ["line 1"]),
        ("import rlbench3\n", "rlbench3.data.x", ["line 1"]),
        ("import rlbench3\n", "rlbench3.harness.x", []),
        ("from rlbench3.envs import parameters\n", "rlbench3.analysis.x", []),
        ("from . import metrics\n", "rlbench3.analysis.tables", []),
        ("from rlbench3.envs import registration\n", "rlbench3", []),
    ],
)
def test_the_walker_finds_upward_imports(source, module, expected):
    found = [text.split(":")[0] for text in upward_imports(source, module)]
    assert found == expected
