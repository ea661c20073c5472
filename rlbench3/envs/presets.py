"""Named parameter presets of each env family, read from ``envs/presets.yaml``.

Following Packer et al. (2018), each family has ``D`` (deterministic defaults), ``R`` (the training
range) and ``E`` (the extreme, held-out range, outside ``R`` on both sides). The presets are data,
shipped beside the suites (``envs/presets.yaml``, see :mod:`rlbench3.data`); this module only reads
and applies them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from rlbench3.data import folder as data_folder
from rlbench3.envs.parameters import WEIGHTINGS


@functools.cache
def all_presets() -> dict[str, dict[str, dict[str, Any]]]:
    """``{family: {preset name: {parameter: value or distribution}}}``."""
    path = data_folder("envs") / "presets.yaml"
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"{path}: expected a mapping family -> preset name -> parameters")
    return data


def preset(family: str, name: str) -> dict[str, Any]:
    """The parameter overrides of preset ``name`` of ``family`` (a fresh dict)."""
    presets = all_presets()
    if family not in presets:
        raise ValueError(f"no presets for family {family!r}; families: {', '.join(presets)}")
    if name not in presets[family]:
        raise ValueError(
            f"preset must be one of {', '.join(presets[family])} for {family}, got {name!r}"
        )
    return dict(presets[family][name] or {})


def resolve_params(
    params_cls: Any,
    preset_name: str | None,
    overrides: dict[str, Any],
    *,
    union_weighting: str | None = None,
) -> Any:
    """Build ``params_cls`` from an optional preset, then keyword overrides on top of it.

    ``union_weighting`` (``"length"`` or ``"equal"``, see :mod:`rlbench3.envs.parameters`), when
    given, is how every union of intervals written *without* an explicit ``weighting`` is sampled,
    in the preset and in the overrides alike (e.g. all of an ``E`` preset's two-sided ranges at
    once). A union written as ``{"intervals": [...], "weighting": ...}`` or passed as a
    :class:`~rlbench3.envs.parameters.Distribution` keeps its own weighting. ``None`` (the default)
    leaves every value as written.
    """
    values = preset(params_cls.family, preset_name) if preset_name is not None else {}
    values.update(overrides)
    if union_weighting is not None:
        if union_weighting not in WEIGHTINGS:
            raise ValueError(
                f"union weighting must be one of {', '.join(map(repr, WEIGHTINGS))}, "
                f"got {union_weighting!r}"
            )
        values = {k: _weighted(v, union_weighting) for k, v in values.items()}
    return params_cls.from_kwargs(**values)


def _weighted(value: Any, weighting: str) -> Any:
    """``value`` with ``weighting`` attached if it is a union written without one."""
    if isinstance(value, Mapping) and "intervals" in value and "weighting" not in value:
        return {**value, "weighting": weighting}
    if (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) > 1
        and not all(isinstance(x, (int, float)) for x in value)  # [a, b]: an error, left as is
    ):
        return {"intervals": list(value), "weighting": weighting}
    return value
