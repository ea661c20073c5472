"""Report sections: one table (or a few) with its reading, figures and provenance, as plain data.

A :class:`Section` is what the report page (:mod:`rlbench3.report`) shows for one table: its
title, the command that produced it, a plain-language reading generated from its numbers, the
table(s) as Markdown and CSV, its figures (PNG files), the evaluation protocol, the wall time, the
configuration and the package versions.

Two sources:

* A command that writes a table into ``RESULTS/<name>/`` writes its tables and figures there and
  then one ``section.json`` with :func:`write_section` (atomic; figure paths relative to that
  folder); :func:`table_block` turns a built table section into a :class:`TableBlock`.
  :func:`read_section` reads it back as JSON only, validating every key and type; a damaged
  file is an error naming it, a file of another format version is refused.
* :func:`suite_sections` computes the sections of a plain suite results folder (written by
  ``rlbench3 run``): one per applicable table kind of :mod:`rlbench3.analysis.tables` (``swiss``;
  ``seeds`` when a cell has 2 seeds or more; ``gen`` when runs were evaluated on a held-out
  split), each read by :mod:`rlbench3.analysis.readings`. Their figures are drawn by
  :mod:`rlbench3.plots`, a higher layer: each figure's ``png_path`` is ``<kind>.png`` for a kind
  of :func:`rlbench3.plots.render_plot`, and the page builder draws it into a folder of its own.

:func:`sections_from_results` gives both, suite tables first, then every ``section.json`` under
the folder (its own first, then subfolders by path; ``runs/``, ``policies/`` and hidden folders
are skipped, symbolic links are not followed).
"""

from __future__ import annotations

import json
import math
import os
import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from rlbench3.analysis.ordering import value_key
from rlbench3.analysis.readings import table_reading
from rlbench3.analysis.results import curves_frame, episodes_frame, stored_runs
from rlbench3.analysis.tables import (
    build_tables,
    display_frame,
    protocol_text,
    run_scores,
)
from rlbench3.harness.run_config import TRAIN, setting_label
from rlbench3.harness.storage import StoredRun, atomic_write_text

SECTION_FILE = "section.json"
SECTION_FORMAT = 1
# A section file larger than this is refused unread (a results folder is not trusted).
MAX_SECTION_BYTES = 16 * 2**20
# Folders of a results folder that never hold sections (records and policies).
SKIPPED_FOLDERS = frozenset({"runs", "policies"})

SUITE_TITLES = {
    "swiss": "Swiss-cheese trainability: final success, zero-signal batches, H50/d50 frontier",
    "seeds": "Seed variance: aggregates, spread, Henderson split test, seeds needed",
    "gen": "Generalization: held-out splits and gaps (Packer layout where trained on D and R)",
}
# The figures of each suite table: (rlbench3.plots kind, what it shows).
SUITE_FIGURES = {
    "swiss": (
        (
            "curves",
            "Learning curves: final-policy train success of each seed (faint) and the IQM over "
            "seeds with a 95% stratified-bootstrap band, per experiment, setting and agent.",
        ),
        (
            "frontier",
            "Trainability frontier: the fraction of seeds that solved each level (exact 95% "
            "Clopper-Pearson intervals) and the logistic fit with its H50/d50.",
        ),
    ),
    "seeds": (
        (
            "profiles",
            "Performance profiles (rliable): the fraction of runs whose final score exceeds each "
            "threshold, per experiment and agent.",
        ),
    ),
    "gen": (
        (
            "gaps",
            "Generalization gaps: train minus held-out split success, paired by run, with 95% "
            "bootstrap intervals.",
        ),
    ),
}


class SectionError(ValueError):
    """A section file that cannot be used (invalid JSON, a missing or mistyped key)."""


class UnknownSectionFormat(SectionError):
    """A section file of a format version this rlbench3 does not read."""


def _check_text(owner: str, name: str, value: Any, *, empty: bool = True) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{owner}.{name} must be text, got {type(value).__name__}")
    if not empty and not value.strip():
        raise ValueError(f"{owner}.{name} must not be empty")


@dataclass(frozen=True)
class TableBlock:
    """One table of a section.

    Attributes:
        caption: what the table shows, its statistics and protocol.
        markdown: the table as a Markdown pipe table (what the page renders).
        csv: the same table as CSV (the page offers it as a download).
    """

    caption: str
    markdown: str
    csv: str = ""

    def __post_init__(self) -> None:
        for name in ("caption", "markdown", "csv"):
            _check_text("table", name, getattr(self, name))


@dataclass(frozen=True)
class FigureBlock:
    """One figure of a section.

    Attributes:
        caption: what the figure shows.
        png_path: the PNG file, relative to the section's folder (``frontier.png``,
            ``figures/t1.png``); never absolute, never through ``..``.
    """

    caption: str
    png_path: str

    def __post_init__(self) -> None:
        _check_text("figure", "caption", self.caption)
        _check_text("figure", "png_path", self.png_path, empty=False)
        path = PurePosixPath(self.png_path)
        if path.is_absolute() or ".." in path.parts or "\\" in self.png_path:
            raise ValueError(
                f"figure.png_path must be a relative path inside the section's folder, "
                f"got {self.png_path!r}"
            )
        if path.suffix.lower() != ".png":
            raise ValueError(f"figure.png_path must end in .png, got {self.png_path!r}")


def _json_data(owner: str, value: Any) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{owner} must be plain JSON data (no NaN or infinity): {err}") from None


@dataclass(frozen=True)
class Section:
    """What the report page shows for one table.

    Attributes:
        title: the section's heading.
        command: the command that produced it (``rlbench3 table -r results/quick --kind swiss``).
        reading: a few plain sentences generated from the table's numbers; paragraphs are
            separated by a blank line.
        tables: its tables.
        figures: its figures (PNG paths relative to the section's folder).
        protocol: the evaluation protocol (actions greedy or sampled, episodes, seeds, budget).
        wall_s: seconds of wall time that produced it, or ``None`` when unknown.
        config: the configuration that produced it, plain JSON data.
        versions: package -> version.
    """

    title: str
    command: str
    reading: str
    tables: tuple[TableBlock, ...] = ()
    figures: tuple[FigureBlock, ...] = ()
    protocol: str = ""
    wall_s: float | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_text("section", "title", self.title, empty=False)
        for name in ("command", "reading", "protocol"):
            _check_text("section", name, getattr(self, name))
        for name, kind in (("tables", TableBlock), ("figures", FigureBlock)):
            items = getattr(self, name)
            if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
                raise ValueError(f"section.{name} must be a sequence of {kind.__name__}")
            if not all(isinstance(item, kind) for item in items):
                raise ValueError(f"section.{name} must hold {kind.__name__} values only")
            object.__setattr__(self, name, tuple(items))
        wall = self.wall_s
        if wall is not None:
            if isinstance(wall, bool) or not isinstance(wall, (int, float)):
                raise ValueError(f"section.wall_s must be a number or None, got {wall!r}")
            if not math.isfinite(wall) or wall < 0:
                raise ValueError(f"section.wall_s must be finite and >= 0, got {wall!r}")
            object.__setattr__(self, "wall_s", float(wall))
        if not isinstance(self.config, Mapping):
            raise ValueError(f"section.config must be a mapping, got {type(self.config).__name__}")
        _json_data("section.config", dict(self.config))
        if not isinstance(self.versions, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.versions.items()
        ):
            raise ValueError("section.versions must map package names to version text")
        object.__setattr__(self, "config", dict(self.config))
        object.__setattr__(self, "versions", dict(self.versions))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (the body of ``section.json`` without its format number)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["tables"] = [{f.name: getattr(t, f.name) for f in fields(t)} for t in self.tables]
        data["figures"] = [{f.name: getattr(g, f.name) for f in fields(g)} for g in self.figures]
        return json.loads(json.dumps(data))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Section:
        """The inverse of :meth:`to_dict`; an unknown, missing or mistyped key is a
        ``ValueError`` naming it."""
        values = _exact_keys(data, cls, "section")
        for name, kind in (("tables", TableBlock), ("figures", FigureBlock)):
            items = values[name]
            if not isinstance(items, list):
                raise ValueError(f"section.{name} must be a list, got {type(items).__name__}")
            values[name] = tuple(
                kind(**_exact_keys(item, kind, f"{name}[{i}]")) for i, item in enumerate(items)
            )
        return cls(**values)


def _exact_keys(data: Any, cls: type, what: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"{what} must be a JSON object, got {type(data).__name__}")
    names = [f.name for f in fields(cls)]
    unknown, missing = sorted(set(data) - set(names)), sorted(set(names) - set(data))
    if unknown or missing:
        raise ValueError(f"{what}: unknown keys {unknown}, missing keys {missing}")
    return {name: data[name] for name in names}


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def write_section(folder: str | Path, section: Section) -> Path:
    """Write ``section`` as ``folder/section.json`` (atomically; the folder is made if needed).
    Its figures must already be in ``folder``. Returns the file's path."""
    if not isinstance(section, Section):
        raise TypeError(f"section must be a Section, got {type(section).__name__}")
    folder = Path(folder)
    for figure in section.figures:
        if not (folder / figure.png_path).is_file():
            raise FileNotFoundError(
                f"figure {figure.png_path!r} is not in {folder}: write the figures first"
            )
    folder.mkdir(parents=True, exist_ok=True)
    body = {"format": SECTION_FORMAT, **section.to_dict()}
    path = folder / SECTION_FILE
    atomic_write_text(path, json.dumps(body, indent=1, allow_nan=False) + "\n")
    return path


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def read_section(path: str | Path) -> Section:
    """Read a section file (or ``path/section.json`` when ``path`` is a folder) as JSON only.

    Raises :class:`FileNotFoundError` when there is none, :class:`UnknownSectionFormat` for a
    format version other than :data:`SECTION_FORMAT`, and :class:`SectionError` naming the file
    for anything else that is wrong with it (too large, not JSON, a missing, unknown or mistyped
    key)."""
    path = Path(path)
    if path.is_dir():
        path = path / SECTION_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no section file {path}")
    size = path.stat().st_size
    if size > MAX_SECTION_BYTES:
        raise SectionError(f"{path}: {size} bytes, more than a section file may hold")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise SectionError(f"{path}: not a section file (invalid JSON: {err})") from None
    if not isinstance(data, dict) or "format" not in data:
        raise SectionError(f"{path}: not a section file (no 'format' key)")
    found = data.pop("format")
    if type(found) is not int or found != SECTION_FORMAT:
        raise UnknownSectionFormat(
            f"{path}: section format {found!r}; this rlbench3 reads format {SECTION_FORMAT} only"
        )
    try:
        return Section.from_dict(data)
    except (TypeError, ValueError) as err:
        raise SectionError(f"{path}: {err}") from None


def section_files(folder: str | Path) -> list[Path]:
    """Every ``section.json`` under ``folder``: its own first, then by path (``runs/``,
    ``policies/`` and hidden folders skipped; symbolic links not followed)."""
    root = Path(folder)
    found = []
    for here, dirs, files in os.walk(root, followlinks=False):
        top = Path(here) == root
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and not (top and d in SKIPPED_FOLDERS)
        )
        if SECTION_FILE in files and not (Path(here) / SECTION_FILE).is_symlink():
            found.append(Path(here) / SECTION_FILE)
    return sorted(found, key=lambda p: (p.parent != root, p.relative_to(root).parts))


# ---------------------------------------------------------------------------------------------
# A suite results folder
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FoundSection:
    """A section and where its figures are.

    Attributes:
        section: the section.
        folder: the folder its figure paths are relative to; ``None`` for a suite table computed
            here, whose figures the page builder draws (``<kind>.png``, a
            :func:`rlbench3.plots.render_plot` kind) into a folder of its own.
    """

    section: Section
    folder: Path | None


def applicable_kinds(scores: pd.DataFrame) -> tuple[str, ...]:
    """The table kinds worth showing for run scores (:func:`rlbench3.analysis.tables.run_scores`):
    ``swiss`` with any train score, ``seeds`` when some cell has 2 seeds or more, ``gen`` when
    runs were evaluated on a held-out split."""
    train = scores[scores["split"] == TRAIN]
    if train.empty:
        return ()
    kinds = ["swiss"]
    if train.groupby(["experiment", "setting", "agent"]).size().max() >= 2:
        kinds.append("seeds")
    if (scores["split"] != TRAIN).any():
        kinds.append("gen")
    return tuple(kinds)


def table_block(title: str, frame: pd.DataFrame) -> TableBlock:
    """A built table section as a block: Markdown as ``rlbench3 table`` shows it, CSV with
    every estimate's ``_low`` and ``_high`` columns."""
    shown = display_frame(frame)
    markdown = shown.to_markdown(index=False, disable_numparse=True) if len(shown) else "(none)"
    return TableBlock(title, markdown, frame.to_csv(index=False, float_format="%.6g"))


def _distinct(values: Sequence[Any]) -> Any:
    """One value when all are equal, else the sorted distinct ones."""
    unique = sorted({json.dumps(v, sort_keys=True) for v in values})
    parsed = [json.loads(u) for u in unique]
    return parsed[0] if len(parsed) == 1 else parsed


def _setting_labels(settings: Sequence[Mapping[str, Any]]) -> list[str]:
    """Distinct grid points as labels, in the one order (by their values)."""
    unique = {setting_label(s): s for s in settings}
    return sorted(
        unique, key=lambda k: (tuple(value_key(v) for _, v in sorted(unique[k].items())), k)
    )


def suite_config(runs: Sequence[StoredRun]) -> dict[str, Any]:
    """The configuration behind a suite folder's runs: suites, experiments (env, settings, the
    splits' parameters apart from the grid's), agents, seeds, budgets, evaluation."""
    experiments: dict[str, dict[str, Any]] = {}
    agents: dict[str, list[Any]] = {}
    for run in runs:
        c = run.config
        exp = experiments.setdefault(c.experiment, {"env_id": [], "settings": [], "splits": []})
        exp["env_id"].append(c.env_id)
        exp["settings"].append(c.setting)
        exp["splits"].append(
            {
                name: {k: v for k, v in params.items() if k not in c.setting}
                for name, params in c.splits.items()
            }
        )
        a = c.agent
        agents.setdefault(a.name, []).append(
            {"algo": a.algo, "policy": a.policy, "n_envs": a.n_envs, "hyperparams": a.hyperparams}
        )
    return {
        "suite": _distinct([r.config.suite for r in runs]),
        "runs": len(runs),
        "experiments": {
            name: {
                "env_id": _distinct(e["env_id"]),
                "settings": _setting_labels(e["settings"]),
                "splits": _distinct(e["splits"]),
            }
            for name, e in sorted(experiments.items())
        },
        "agents": {name: _distinct(specs) for name, specs in sorted(agents.items())},
        "seeds": sorted({r.config.seed for r in runs}),
        "budget": _distinct([r.config.budget for r in runs]),
        "eval": _distinct(
            [
                {
                    "every": r.config.eval.every,
                    "episodes": r.config.eval.episodes,
                    "deterministic": r.config.eval.deterministic,
                }
                for r in runs
            ]
        ),
    }


def run_versions(runs: Sequence[StoredRun]) -> dict[str, str]:
    """Package -> version recorded by the runs (``"a, b"`` where runs differ)."""
    seen: dict[str, set[str]] = {}
    for run in runs:
        versions = run.record.get("meta", {}).get("versions", {})
        if isinstance(versions, Mapping):
            for name, version in versions.items():
                seen.setdefault(str(name), set()).add(str(version))
    return {name: ", ".join(sorted(v)) for name, v in sorted(seen.items())}


def run_seconds(runs: Sequence[StoredRun]) -> float | None:
    """The runs' training and evaluation seconds summed (``None`` if a run did not record
    them)."""
    total = 0.0
    for run in runs:
        meta = run.record.get("meta", {})
        parts = [meta.get("train_seconds"), meta.get("eval_seconds")]
        if not all(isinstance(p, (int, float)) and math.isfinite(p) for p in parts):
            return None
        total += sum(parts)
    return total


def _span(values: list[int]) -> str:
    return f"{values[0]:,}" if len(values) == 1 else f"{values[0]:,} to {values[-1]:,}"


def suite_protocol(runs: Sequence[StoredRun]) -> str:
    """The evaluation protocol of the runs (as in every table's caption) with the budget and the
    evaluation schedule."""
    configs = {r.run_id: r.config for r in runs}
    budgets = _span(sorted({r.config.budget for r in runs}))
    every = _span(sorted({r.config.eval.every for r in runs}))

    return (
        f"{protocol_text(list(configs), configs)}; training budget {budgets} env steps "
        f"per run, evaluated every {every} env steps and at the end"
    )


def suite_sections(
    results_dir: str | Path, *, reps: int = 2000, seed: int = 0
) -> list[FoundSection]:
    """The sections of a suite results folder (verified records only): one per
    :func:`applicable_kinds` table, with its reading, its figures to draw, the command that
    prints it, the runs' configuration, versions and protocol. ``wall_s`` is the runs'
    training and evaluation seconds summed (parallel workers overlap them) plus the seconds this
    table took; ``reps`` and ``seed`` are the bootstraps' (as ``rlbench3 table`` takes them)."""
    folder = Path(results_dir)
    runs = stored_runs(folder)
    if not runs:
        return []
    configs = {r.run_id: r.config for r in runs}
    curves, episodes = curves_frame(runs), episodes_frame(runs)
    kinds = applicable_kinds(run_scores(curves, episodes))
    config = suite_config(runs)
    versions = run_versions(runs)
    protocol = suite_protocol(runs)
    trained = run_seconds(runs)
    flags = "" if (reps, seed) == (2000, 0) else f" --reps {reps} --seed {seed}"
    found = []
    for kind in kinds:
        start = time.perf_counter()
        built = build_tables(curves, episodes, kind, configs=configs, reps=reps, seed=seed)
        blocks = tuple(table_block(title, frame) for title, frame in built.items())
        reading = "\n\n".join(r for r in map(table_reading, built.values()) if r)
        seconds = time.perf_counter() - start
        figures = tuple(
            FigureBlock(caption, f"{name}.png")
            for name, caption in SUITE_FIGURES[kind]
            if name != "frontier" or any(t.startswith("Trainability frontier") for t in built)
        )
        timing = {
            "runs_seconds": None if trained is None else round(trained, 1),
            "table_seconds": round(seconds, 2),
            "wall_s": "the runs' training and evaluation seconds summed, plus the table's",
        }
        section = Section(
            title=SUITE_TITLES[kind],
            command=f"rlbench3 table -r {shlex.quote(str(folder))} --kind {kind}{flags}",
            reading=reading,
            tables=blocks,
            figures=figures,
            protocol=protocol,
            wall_s=None if trained is None else trained + seconds,
            config={**config, "timing": timing, "bootstrap": {"reps": reps, "seed": seed}},
            versions=versions,
        )
        found.append(FoundSection(section, None))
    return found


def sections_from_results(
    results_dir: str | Path, *, reps: int = 2000, seed: int = 0
) -> list[FoundSection]:
    """Every section of a results folder: its suite tables (:func:`suite_sections`, when it has
    a ``runs/`` folder), then every ``section.json`` under it (:func:`section_files`). A folder
    with neither is a :class:`FileNotFoundError`."""
    folder = Path(results_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"no results folder {folder}")
    found = []
    if (folder / "runs").is_dir():
        found += suite_sections(folder, reps=reps, seed=seed)
    found += [FoundSection(read_section(p), p.parent) for p in section_files(folder)]
    if not found:
        raise FileNotFoundError(
            f"{folder}: nothing to report (no finished runs in runs/ and no {SECTION_FILE} "
            "in it or its subfolders)"
        )
    return found
