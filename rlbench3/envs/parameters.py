"""Tunable, validated, randomizable environment parameters.

Every env family describes its parameters as one frozen dataclass deriving from
:class:`EnvParams`. Each field is declared with :func:`number` or :func:`choice`, which record
the valid range; :meth:`EnvParams.__post_init__` checks every value against it, so bad input fails
at construction with an error that names the parameter and its range.

Domain randomization is one mechanism for all families: any field declared ``randomizable`` may
be given either as a fixed number or as a :class:`Distribution`:

* ``{"low": a, "high": b}`` -- uniform on ``[a, b]``;
* a list of intervals ``[{"low": a, "high": b}, {"low": c, "high": d}]`` (or ``[[a, b], [c, d]]``)
  -- uniform on the union of disjoint intervals, so that an "extreme" held-out range can surround a
  training range on both sides;
* ``{"intervals": [...], "weighting": "length" | "equal"}`` -- the same, choosing how a union is
  sampled: ``"length"`` is uniform over the union's total length (what Packer et al. 2018's code
  did), ``"equal"`` picks each interval with equal probability, then uniformly inside it.

Integer fields sample integers uniformly from the closed intervals.

Every numeric field has a finite valid range on both sides (see :data:`MAX_SEED` for seeds): a
value that cannot work (an int64 overflow, an absurd allocation, non-finite dynamics) is refused at
construction, naming the parameter and its range, instead of failing later or silently.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

WEIGHTINGS = ("length", "equal")
# The largest seed a parameter may hold: numpy's batched paths keep seeds in int64 arrays, and
# integer distributions are sampled in int64.
MAX_SEED = 2**63 - 1
_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class Distribution:
    """Uniform distribution over a union of disjoint closed intervals.

    Attributes:
        intervals: ``((low, high), ...)`` sorted by ``low``, each with ``low <= high``, pairwise
            disjoint (they may touch at an endpoint, a set of measure zero).
        weighting: ``"length"`` (uniform over the union) or ``"equal"`` (each interval equally
            likely, then uniform inside it).
        integer: sample integers uniformly from the closed intervals instead of reals.
    """

    intervals: tuple[tuple[float, float], ...]
    weighting: str = "length"
    integer: bool = False

    def __post_init__(self) -> None:
        # Weights are fixed by the intervals: compute them once, not at every reset.
        sizes = np.array(
            [(hi - lo + 1) if self.integer else (hi - lo) for lo, hi in self.intervals], dtype=float
        )
        if self.weighting == "equal" or sizes.sum() == 0.0:
            sizes = np.ones(len(self.intervals))
        object.__setattr__(self, "_probs", sizes / sizes.sum())
        # Integer bounds stay exact (int64; a float would round bounds above 2**53).
        dtype = np.int64 if self.integer else float
        object.__setattr__(self, "_lows", np.array([lo for lo, _ in self.intervals], dtype=dtype))
        object.__setattr__(self, "_highs", np.array([hi for _, hi in self.intervals], dtype=dtype))

    @property
    def low(self) -> float:
        return self.intervals[0][0]

    @property
    def high(self) -> float:
        return self.intervals[-1][1]

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        """Draw one value (``size=None``, a Python number) or an array of ``size`` values."""
        n = 1 if size is None else size
        k = (
            np.zeros(n, dtype=np.intp)
            if len(self.intervals) == 1
            else rng.choice(len(self.intervals), size=n, p=self._probs)
        )
        lows, highs = self._lows[k], self._highs[k]
        if self.integer:  # (endpoint=True draws what [low, high + 1) drew, without overflow)
            values = rng.integers(lows, highs, endpoint=True)
        else:
            values = lows + (highs - lows) * rng.random(n)
        if size is None:
            return int(values[0]) if self.integer else float(values[0])
        return values

    def contains(self, value: float) -> bool:
        return any(lo <= value <= hi for lo, hi in self.intervals)

    def to_config(self) -> Any:
        """The plain-data form this distribution was (or could have been) written in."""
        ivs = [{"low": lo, "high": hi} for lo, hi in self.intervals]
        if self.weighting != "length":
            return {"intervals": ivs, "weighting": self.weighting}
        return ivs[0] if len(ivs) == 1 else ivs


# --------------------------------------------------------------------------------------------
# Parameter specifications


@dataclass(frozen=True)
class NumberSpec:
    """Valid range of a numeric parameter (``None`` bounds are unbounded)."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    integer: bool = False
    randomizable: bool = True
    why_fixed: str = "it fixes the observation or action space"

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a number"
        bounds = [
            f"{op} {_fmt(bound)}"
            for op, bound in ((">=", self.ge), (">", self.gt), ("<=", self.le), ("<", self.lt))
            if bound is not None
        ]
        return f"{kind} {' and '.join(bounds)}".strip()

    def in_range(self, x: float) -> bool:
        return (
            (self.ge is None or x >= self.ge)
            and (self.gt is None or x > self.gt)
            and (self.le is None or x <= self.le)
            and (self.lt is None or x < self.lt)
        )

    def validate(self, name: str, value: Any) -> Any:
        if isinstance(value, (Mapping, Distribution)) or (
            isinstance(value, Sequence) and not isinstance(value, str)
        ):
            if not self.randomizable:
                raise ValueError(
                    f"{name} cannot be randomized ({self.why_fixed}); "
                    f"give {self.describe()}, got {_show(value)}"
                )
            dist = parse_distribution(name, value, integer=self.integer)
            for lo, hi in dist.intervals:
                if not (self.in_range(lo) and self.in_range(hi)):
                    raise ValueError(
                        f"{name} must be {self.describe()} everywhere in its distribution, "
                        f"got interval [{_fmt(lo)}, {_fmt(hi)}]"
                    )
            return dist
        if not _is_number(value) or (self.integer and not _is_integral(value)):
            raise TypeError(f"{name} must be {self.describe()}, got {_show(value)}")
        if not _is_finite(value) or not self.in_range(value):
            raise ValueError(f"{name} must be {self.describe()}, got {_show(value)}")
        return int(value) if self.integer else float(value)


@dataclass(frozen=True)
class ChoiceSpec:
    options: tuple[str, ...]

    def describe(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.options)

    def validate(self, name: str, value: Any) -> str:
        if not isinstance(value, str) or value not in self.options:
            raise ValueError(f"{name} must be {self.describe()}, got {_show(value)}")
        return value


def number(
    default: Any,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    integer: bool = False,
    randomizable: bool = True,
    why_fixed: str = "it fixes the observation or action space",
) -> Any:
    """A dataclass field holding a number (or, if ``randomizable``, a distribution)."""
    spec = NumberSpec(ge, gt, le, lt, integer, randomizable, why_fixed)
    return field(default=default, metadata={"spec": spec})


def choice(default: str, options: Sequence[str]) -> Any:
    """A dataclass field holding one of a fixed set of strings."""
    return field(default=default, metadata={"spec": ChoiceSpec(tuple(options))})


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _is_integral(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) or (
        isinstance(x, (float, np.floating)) and math.isfinite(x) and float(x).is_integer()
    )


def _is_finite(x: Any) -> bool:
    """A number that is finite as a float (Python ints beyond a float's range are not)."""
    try:
        return math.isfinite(x)
    except OverflowError:
        return False


def _fmt(x: Any) -> str:
    """A bound or interval end in a message: integers exactly, floats as ``%g``."""
    if isinstance(x, (int, np.integer)):
        return _show(int(x))
    return f"{x:g}"


def _show(value: Any, limit: int = 80) -> str:
    """``repr(value)`` for a message, shortened; never fails (huge integers have no repr)."""
    try:
        text = repr(value)
    except ValueError:  # an int of more than sys.get_int_max_str_digits() digits (in a list...)
        if isinstance(value, (int, np.integer)):
            return f"an integer of {int(value).bit_length()} bits"
        return f"a {type(value).__name__} holding an integer too long to print"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parse_interval(name: str, item: Any, integer: bool) -> tuple[float, float]:
    if isinstance(item, Mapping):
        unknown = set(item) - {"low", "high"}
        if unknown or not {"low", "high"} <= set(item):
            raise ValueError(
                f"{name}: an interval is written {{'low': a, 'high': b}}, got {_show(dict(item))}"
            )
        lo, hi = item["low"], item["high"]
    elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2:
        lo, hi = item
    else:
        raise ValueError(
            f"{name}: an interval is written {{'low': a, 'high': b}} or [a, b], got {_show(item)}"
        )
    for bound, v in (("low", lo), ("high", hi)):
        if not _is_number(v) or not _is_finite(v) or (integer and not _is_integral(v)):
            kind = "a finite integer" if integer else "a finite number"
            raise TypeError(f"{name}: interval {bound} must be {kind}, got {_show(v)}")
        if integer and not _INT64[0] <= v <= _INT64[1]:
            raise ValueError(
                f"{name}: integer interval {bound} must be in [{_INT64[0]}, {_INT64[1]}] "
                f"(int64), got {_show(v)}"
            )
    if lo > hi:
        raise ValueError(
            f"{name}: interval low must be <= high, got low={_show(lo)} > high={_show(hi)}"
        )
    cast = int if integer else float
    return cast(lo), cast(hi)


def parse_distribution(name: str, value: Any, *, integer: bool = False) -> Distribution:
    """Turn the plain-data form of a distribution into a :class:`Distribution`.

    Raises:
        ValueError / TypeError naming ``name`` when the form is not understood, an interval has
        ``low > high``, or intervals of a union overlap.
    """
    if isinstance(value, Distribution):
        return (
            value
            if value.integer == integer
            else parse_distribution(
                name,
                {"intervals": list(value.intervals), "weighting": value.weighting},
                integer=integer,
            )
        )
    weighting = "length"
    if isinstance(value, Mapping) and "intervals" in value:
        unknown = set(value) - {"intervals", "weighting"}
        if unknown:
            raise ValueError(
                f"{name}: unknown distribution keys {sorted(unknown)}; "
                "valid keys are 'intervals', 'weighting' (or 'low', 'high')"
            )
        weighting = value.get("weighting", "length")
        if not isinstance(weighting, str) or weighting not in WEIGHTINGS:
            raise ValueError(
                f"{name}: weighting must be one of {WEIGHTINGS}, got {_show(weighting)}"
            )
        items = value["intervals"]
    elif isinstance(value, Mapping):
        items = [value]
    else:
        items = value
    if not isinstance(items, Sequence) or isinstance(items, str) or len(items) == 0:
        raise ValueError(f"{name}: a distribution needs at least one interval, got {_show(value)}")
    if len(items) == 2 and all(_is_number(x) for x in items):
        raise ValueError(
            f"{name}: ambiguous [a, b]; write {{'low': a, 'high': b}} for a uniform range"
        )
    intervals = sorted(_parse_interval(name, it, integer) for it in items)
    for (lo1, hi1), (lo2, hi2) in zip(intervals, intervals[1:]):
        if hi1 > lo2 or (integer and hi1 >= lo2):
            raise ValueError(
                f"{name}: the intervals of a union must be disjoint, "
                f"but [{_fmt(lo1)}, {_fmt(hi1)}] overlaps [{_fmt(lo2)}, {_fmt(hi2)}]"
            )
    return Distribution(tuple(intervals), weighting=weighting, integer=integer)


# --------------------------------------------------------------------------------------------
# The base class of every family's parameter dataclass


@dataclass(frozen=True)
class EnvParams:
    """Base of each family's frozen parameter dataclass.

    Subclasses declare fields with :func:`number` / :func:`choice`. Construction validates every
    field; distributions given as plain data are parsed into :class:`Distribution` objects.
    """

    family: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = f.metadata["spec"].validate(f.name, getattr(self, f.name))
            object.__setattr__(self, f.name, value)
        self._check()

    def _check(self) -> None:
        """Cross-parameter checks of a subclass (each field is already valid on its own)."""

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> EnvParams:
        """Construct from keywords, rejecting unknown names with the list of valid ones."""
        names = [f.name for f in fields(cls)]
        for key in kwargs:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise TypeError(
                    f"unknown parameter {key!r} for {cls.family or cls.__name__}{hint} "
                    f"Valid parameters: {', '.join(names)}"
                )
        return cls(**kwargs)

    @classmethod
    def describe(cls) -> dict[str, str]:
        """``{name: "default (valid range)"}`` for every parameter, for help and listings."""
        out = {}
        for f in fields(cls):
            spec = f.metadata["spec"]
            default = f.default.to_config() if isinstance(f.default, Distribution) else f.default
            extra = "" if not isinstance(spec, NumberSpec) or spec.randomizable else ", fixed"
            out[f.name] = f"{default!r} ({spec.describe()}{extra})"
        return out

    @property
    def randomized(self) -> tuple[str, ...]:
        """Names of the parameters given as distributions."""
        return tuple(
            f.name for f in fields(self) if isinstance(getattr(self, f.name), Distribution)
        )

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """All parameter values, with every distribution replaced by one draw from ``rng``.

        Draws are made in field order, so the same generator state gives the same values.
        """
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.sample(rng) if isinstance(v, Distribution) else v
        return out

    def to_config(self) -> dict[str, Any]:
        """Plain-data form (numbers, strings, lists, dicts) of every parameter."""
        return {
            f.name: (v.to_config() if isinstance(v := getattr(self, f.name), Distribution) else v)
            for f in fields(self)
        }


def arguments_table(params_cls: type[EnvParams]) -> str:
    """The parameters of ``params_cls`` as a Markdown table, for the ``## Arguments`` of an env.

    One row per field, in field order: its name, its default and its valid values, as
    :meth:`EnvParams.describe` gives them (``fixed``: a number that cannot be given as a
    distribution). The first two columns are padded to a common width, so the table reads well in
    source and in ``help()``; the last is left ragged, so that rows written by hand after it (the
    env's other keywords, such as ``preset``) can follow without re-padding the table. No
    indentation, no trailing newline: each env class pastes it literally into its docstring, and a
    test checks that it is still there.
    """
    rows = [("parameter", "default", "valid values")]
    for name, text in params_cls.describe().items():
        # describe() writes "default (valid)": the valid values are in the last parentheses.
        default, sep, valid = text.rpartition(" (")
        if not sep or not valid.endswith(")"):
            raise ValueError(f"cannot split the description of {name!r}: {text!r}")
        rows.append((f"``{name}``", f"``{default}``", valid[:-1]))
    name_width = max(len(row[0]) for row in rows)
    default_width = max(len(row[1]) for row in rows)

    def line(name: str, default: str, valid: str) -> str:
        return f"| {name.ljust(name_width)} | {default.ljust(default_width)} | {valid} |"

    rule = f"|{'-' * (name_width + 2)}|{'-' * (default_width + 2)}|{'-' * 14}|"
    return "\n".join([line(*rows[0]), rule, *(line(*row) for row in rows[1:])])
