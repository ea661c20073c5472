"""The ``rlbench3`` command line.

Commands (``rlbench3 COMMAND --help`` lists a command's options)::

    rlbench3 envs                             registered environments, parameters, presets
    rlbench3 hit ENV_ID [-p KEY=VALUE ...]    random-policy hit probability of one env setting
    rlbench3 survey                           the env list, then a hit-probability table
    rlbench3 run SUITE [-r DIR]               run a suite: train, evaluate, record (resumable)
    rlbench3 ls -r DIR                        finished/failed/corrupt/missing runs of DIR
    rlbench3 table -r DIR --kind KIND         trainability, seed-variance or gen. tables
    rlbench3 plot -r DIR --kind KIND -o FILE  one figure: curves, frontier, landscape, ...
    rlbench3 robust -r DIR --kind KIND        trained policies under obs/action noise or FGSM
    rlbench3 paper TABLE [--scale S] [-r DIR] one paper table (T1-T7): run, then write it
    rlbench3 report -r DIR -o FILE.html       one self-contained HTML page of tables and figures

Folders and files, the same on every command (in the manner of rl-baselines3-zoo's
``-f/--log-folder``):

* ``-r/--results DIR``: the results folder a command reads or writes. ``run`` writes into it
  (default ``results/<suite name>``); ``ls``, ``table``, ``plot``, ``robust`` and ``report``
  read it.
* ``-o/--output FILE``: a file a command writes: the figure of ``plot`` (``.png``/``.pdf``,
  required), the page of ``report`` (``.html``, required), the table of ``table`` and
  ``robust`` (optional; default: standard output).

Mistakes (a bad suite or agent file, a bad env parameter, a missing results folder, records in a
format this version does not read, a results folder another ``run`` is writing, a full disk, a
policy file that is not weights-only) exit with status 2 and one ``rlbench3: error: ...`` line;
``--debug`` (anywhere on the command line) prints the traceback as well. Numbers out of range
(``--seeds 0``) are rejected while parsing, naming the flag; every other argument is checked
before any work starts. Ctrl-C or SIGTERM stop a command with status 130 or 143 (``run`` keeps
every finished run and stops its workers).

``python -m rlbench3.cli`` puts the current folder first on Python's import path, where a file
named like a module (``pandas.py``) would be imported instead of the real one. This module drops
that entry as soon as it starts, so the modules commands import later come from the installed
packages; but the modules ``rlbench3`` itself imports first (gymnasium, numpy) were already found
by then. Use the ``rlbench3`` command, or ``python -P -m rlbench3.cli`` (Python >= 3.11), in a
folder you do not trust.

Heavy modules (pandas, torch, matplotlib, the analysis modules) are imported by the command that
needs them, so ``rlbench3 --help`` starts quickly.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
import math
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __name__ == "__main__" and sys.path and sys.path[0] in ("", os.getcwd()):
    # `python -m rlbench3.cli`: Python put the current folder first on the import path; drop it
    # before any command imports more (see the module docstring), unless it is where rlbench3
    # itself comes from (a source checkout run in place: workers must find the package there).
    _package = sys.modules.get("rlbench3")
    _home = getattr(_package, "__file__", None)
    if _home is None or Path(_home).resolve().parents[1] != Path(sys.path[0] or ".").resolve():
        del sys.path[0]

import rlbench3  # noqa: E402
from rlbench3.data.yaml_lines import ConfigError  # noqa: E402
from rlbench3.harness.storage import FolderLocked, StorageError, UnknownFormat  # noqa: E402

# The survey table: one difficulty knob per family, everything else at the defaults.
SURVEY_HIT_TABLE: tuple[tuple[str, str, tuple[int, ...], int], ...] = (
    ("rlbench3/CombinationLock-v0", "horizon", (1, 2, 4, 6, 8, 10, 12), 200_000),
    ("rlbench3/SparseReach-v0", "action_dim", (1, 2, 3, 4, 6), 100_000),
    ("rlbench3/ArmReach-v0", "n_joints", (1, 2, 3, 5), 1_000),
)

# Ids built from other ids, with no parameters of their own to list.
COMPOSITE_IDS = {"rlbench3/Mixture-v0": "env=ID, components=[{...}, ...], weights=[...]"}


# ---------------------------------------------------------------------------------------------
# Argument types
# ---------------------------------------------------------------------------------------------


class ModuleConstant(Sequence):
    """A module's tuple of names (``rlbench3.plots.KINDS``), imported when first used.

    Used as ``choices=``: argparse only looks inside when it checks a value or formats that
    command's help, so ``rlbench3 --help`` and the other commands never import the module.
    """

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    @functools.cached_property
    def values(self) -> tuple[str, ...]:
        return tuple(getattr(importlib.import_module(self.module), self.name))

    def __getitem__(self, index: Any) -> Any:
        return self.values[index]

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return f"{self.module}.{self.name}"


TABLE_KINDS = ModuleConstant("rlbench3.analysis.tables", "KINDS")
TABLE_FORMATS = ModuleConstant("rlbench3.analysis.tables", "FORMATS")
PLOT_KINDS = ModuleConstant("rlbench3.plots", "KINDS")
ROBUST_KINDS = ModuleConstant("rlbench3.analysis.robustness", "KINDS")
BACKENDS = ModuleConstant("rlbench3.harness.sweep", "BACKENDS")
PAPER_TABLES = ModuleConstant("rlbench3.paper", "KEYS")
PAPER_SCALES = ModuleConstant("rlbench3.paper", "SCALES")


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse ``type=``: an integer >= ``low`` (argparse adds the flag to the message)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {low}, got {text!r}"
            ) from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def nonnegative_float(text: str) -> float:
    """An argparse ``type=``: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def parse_assignment(text: str) -> tuple[str, Any]:
    """``key=value`` with the value read as YAML (numbers, strings, ``{low: 1, high: 2}``); a
    number that YAML 1.1 reads as text (``1e-3``, ``2.5e6``) is a number here."""
    import yaml

    from rlbench3.agents.config import numeric_string_hint

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError as err:
        message = " ".join(str(err).split())
        raise argparse.ArgumentTypeError(
            f"{text!r}: the value is not valid YAML ({message})"
        ) from None
    if isinstance(parsed, str) and value.strip() == parsed and numeric_string_hint(parsed):
        if any(c in parsed for c in "eE"):
            parsed = float(parsed)
    return key.strip(), parsed


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------


def env_table() -> str:
    """Registered ids, their parameters (default and valid range) and presets, as text."""
    import gymnasium as gym

    from rlbench3.envs.presets import all_presets

    lines = []
    presets = all_presets()
    for env_id in rlbench3.registered_ids():
        if env_id in COMPOSITE_IDS:
            lines.append(f"{env_id}  (composite: {COMPOSITE_IDS[env_id]})")
            continue
        params = gym.make(env_id).unwrapped.params
        family = type(params).family
        lines.append(f"{env_id}  (presets: {', '.join(presets.get(family, {}))})")
        for name, text in type(params).describe().items():
            lines.append(f"    {name:<18} {text}")
    return "\n".join(lines)


def hit_table(rows: Sequence[tuple[str, str, Sequence[int], int]], seed: int = 0) -> Any:
    """Random-policy hit probability (95% Clopper-Pearson CI) per env setting (a DataFrame)."""
    import gymnasium as gym
    import pandas as pd

    from rlbench3.analysis.probes import hit_probability

    records = []
    for env_id, knob, values, episodes in rows:
        for value in values:
            start = time.perf_counter()
            est = hit_probability(env_id, episodes, seed=seed, **{knob: value})
            record = {
                "env": env_id.split("/")[1],
                "setting": f"{knob}={value}",
                "episodes": est.episodes,
                "hit probability": f"{est.probability:.4g}",
                "95% CI": f"[{est.low:.3g}, {est.high:.3g}]",
                "seconds": round(time.perf_counter() - start, 2),
            }
            if env_id.startswith("rlbench3/CombinationLock"):
                num_actions = gym.make(env_id).unwrapped.num_actions
                record["closed form"] = f"{num_actions**-value:.4g}"
            records.append(record)
    return pd.DataFrame.from_records(records).fillna("")


def results_folder(path: str | Path) -> Path:
    """An existing results folder (one holding ``runs/`` or ``plan.json``), or
    :class:`FileNotFoundError`."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"no results folder {folder}")
    if not (folder / "runs").is_dir() and not (folder / "plan.json").exists():
        raise FileNotFoundError(
            f"{folder} is not a results folder (no runs/ or plan.json; `rlbench3 run` makes one)"
        )
    return folder


def output_file(path: str | None) -> str | None:
    """Check an ``-o/--output`` FILE before any work: not a folder, and its folder is (or can
    be made) a folder."""
    if path is None:
        return None
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"-o/--output {path!r} is a folder; give a file name")
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"-o/--output {path!r}: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK):
                raise ValueError(f"-o/--output {path!r}: cannot write into {parent}")
            break
    return path


def check_env_id(env_id: str, what: str) -> None:
    """A registered env id (``module:id`` would make Gymnasium import ``module``)."""
    import gymnasium as gym

    if ":" in env_id:
        raise ValueError(
            f"{what} {env_id!r} is module-qualified: Gymnasium would import "
            f"{env_id.split(':', 1)[0]!r}; use a registered id (rlbench3 envs lists them)"
        )
    if env_id not in gym.registry:
        import difflib

        close = difflib.get_close_matches(env_id, list(gym.registry), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{what} {env_id!r} is not a registered env id{hint}")


def emit(text: str, output: str | None) -> None:
    """Print ``text``, or write it to ``output`` (and print where)."""
    if output is None:
        print(text, end="" if text.endswith("\n") else "\n")
        return
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n")
    print(path)


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def cmd_envs(args: argparse.Namespace) -> int:
    print(env_table())
    return 0


def cmd_hit(args: argparse.Namespace) -> int:
    import gymnasium as gym

    from rlbench3.analysis.probes import hit_probability

    params = dict(args.param)
    check_env_id(args.env_id, "ENV_ID")
    if isinstance(params.get("env"), str):  # a Mixture's inner id
        check_env_id(params["env"], "-p env=")
    try:  # the env's own checks: unknown ids and parameters are the user's mistakes
        gym.make(args.env_id, **params).close()
    except (TypeError, OverflowError, MemoryError, gym.error.Error) as err:
        raise ValueError(" ".join(str(err).split()) or type(err).__name__) from None
    est = hit_probability(args.env_id, args.episodes, seed=args.seed, **params)
    print(
        f"{args.env_id} {params}: hit probability {est.probability:.6g} "
        f"({est.hits}/{est.episodes}), 95% CI [{est.low:.4g}, {est.high:.4g}]"
    )
    return 0


def cmd_survey(args: argparse.Namespace) -> int:
    print("# Registered environments\n")
    print(env_table())
    print("\n# Random-policy hit probability (sparse reward, 95% Clopper-Pearson CI)\n")
    print(hit_table(SURVEY_HIT_TABLE, seed=args.seed).to_markdown(index=False))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from rlbench3.analysis.tables import render_results
    from rlbench3.harness.suites import MAX_RUNS
    from rlbench3.harness.sweep import check_execution, plan_suite, run_suite

    if args.ray_address is not None and args.backend != "ray":
        raise ValueError("--ray-address is only used with --backend ray")
    check_execution(args.workers, args.backend, args.ray_address)
    limit = max(64, 4 * (os.cpu_count() or 1))
    if args.backend == "process" and args.workers > limit:
        raise ValueError(
            f"--workers {args.workers} is more than 4 x the CPU count (at most {limit} here)"
        )
    if args.backend == "ray" and importlib.util.find_spec("ray") is None:
        raise ValueError("--backend ray needs Ray: pip install 'rlbench3[ray]'")
    if args.results is not None and Path(args.results).exists():
        if not Path(args.results).is_dir():
            raise ValueError(f"-r/--results {args.results!r} is a file, not a folder")
    max_runs = None if args.yes else MAX_RUNS
    if args.dry_run:
        suite, runs = plan_suite(
            args.suite, agents=args.agents, seeds=args.seeds, budget=args.budget, max_runs=max_runs
        )
        print(dry_run_text(suite, runs, args.results, args.workers))
        return 0
    start = time.perf_counter()
    done = run_suite(
        args.suite,
        args.results,
        agents=args.agents,
        seeds=args.seeds,
        budget=args.budget,
        workers=args.workers,
        backend=args.backend,
        ray_address=args.ray_address,
        progress=not args.no_progress,
        max_runs=max_runs,
    )
    report = done.report
    print(
        f"{done.suite.name}: {report.planned} runs planned, {report.skipped} already finished, "
        f"{report.finished} run now, {len(report.failed)} failed, {len(report.corrupt)} corrupt "
        f"records re-run, {len(report.damaged)} damaged runs redone "
        f"({time.perf_counter() - start:.0f} s); results in {done.out}\n"
    )
    # Exactly `rlbench3 table -r DIR --kind swiss`, restricted to this suite's runs.
    print(render_results(done.out, "swiss", run_ids={r.run_id for r in done.runs}), end="")
    return 1 if report.failed else 0


def dry_run_text(suite: Any, runs: list[Any], results: str | None, workers: int) -> str:
    """The plan (one row per run, with its state in the results folder) and a cost estimate."""
    import pandas as pd

    from rlbench3.analysis.results import load
    from rlbench3.harness.storage import RunStore
    from rlbench3.harness.sweep import default_out, estimate_seconds

    out = Path(results) if results is not None else default_out(suite)
    store = RunStore(out)
    states = (
        [store.status(r.run_id).state for r in runs] if out.is_dir() else ["missing"] * len(runs)
    )
    frame = pd.DataFrame(
        [
            {
                "run_id": r.run_id,
                "experiment": r.experiment,
                "setting": r.label,
                "agent": r.agent.name,
                "seed": r.seed,
                "budget": r.budget,
                "state": state,
            }
            for r, state in zip(runs, states)
        ]
    )
    todo = [r for r, state in zip(runs, states) if state != "finished"]
    measured = {}
    if out.is_dir() and next(store.finished_ids(), None) is not None:  # their measured speeds
        measured = load(out).groupby("algo")["steps_per_second"].median().to_dict()
    minutes = estimate_seconds(todo, workers, measured) / 60
    steps = sum(r.budget for r in todo)
    return (
        f"{frame.to_markdown(index=False)}\n\n"
        f"{len(runs)} runs, {len(runs) - len(todo)} already finished in {out}; "
        f"{len(todo)} to run, {steps:,} env steps: roughly {minutes:.1f} min on "
        f"{workers} worker(s), before evaluation"
    )


def cmd_ls(args: argparse.Namespace) -> int:
    from rlbench3.analysis.results import status_table

    folder = results_folder(args.results)
    table = status_table(folder)
    print(table.to_markdown(index=False) if len(table) else f"no runs in {folder}")
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    from rlbench3.analysis.tables import render_results

    output_file(args.output)
    folder = results_folder(args.results)
    emit(
        render_results(folder, args.kind, args.format, reps=args.reps, seed=args.seed), args.output
    )
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from rlbench3.plots import FORMATS, render_plot

    if Path(args.output).suffix.lower() not in FORMATS:
        raise ValueError(f"-o/--output must end in {' or '.join(FORMATS)}, got {args.output!r}")
    output_file(args.output)
    print(render_plot(results_folder(args.results), args.kind, args.output))
    return 0


def cmd_robust(args: argparse.Namespace) -> int:
    from rlbench3.analysis.robustness import perturbation_scores, robustness_table
    from rlbench3.analysis.tables import render_sections

    output_file(args.output)
    folder = results_folder(args.results)
    scores = perturbation_scores(folder, args.kind, args.eps, episodes=args.episodes)
    title = (
        f"Final success under {args.kind} of size ε (train distribution; mean over seeds, "
        "95% percentile-bootstrap CI)"
    )
    # One titled section, written as `rlbench3 table` writes its sections.
    emit(render_sections({title: robustness_table(scores)}, args.format), args.output)
    return 0


def cmd_paper(args: argparse.Namespace) -> int:
    from rlbench3.analysis.tables import render_sections
    from rlbench3.harness.sweep import check_execution
    from rlbench3.paper import run_paper_table

    if args.ray_address is not None and args.backend != "ray":
        raise ValueError("--ray-address is only used with --backend ray")
    check_execution(args.workers, args.backend, args.ray_address)
    if args.results is not None and Path(args.results).exists():
        if not Path(args.results).is_dir():
            raise ValueError(f"-r/--results {args.results!r} is a file, not a folder")
    result = run_paper_table(
        args.table,
        args.scale,
        args.results,
        workers=args.workers,
        backend=args.backend,
        ray_address=args.ray_address,
        progress=not args.no_progress,
        max_runs=None if args.yes else 10_000,
        say=lambda text: print(text, file=sys.stderr),
    )
    print(render_sections(result.sections, "md"))
    print(result.reading)
    print(
        f"rlbench3: wrote {result.folder} (Markdown, LaTeX, CSV, figures, section.json) in "
        f"{result.wall_seconds:.0f} s",
        file=sys.stderr,
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from rlbench3.report import write_report

    if Path(args.output).suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"-o/--output must end in .html, got {args.output!r}")
    output_file(args.output)
    folder = Path(args.results)
    if not folder.is_dir():
        raise FileNotFoundError(f"no results folder {folder}")
    print(write_report(folder, args.output, reps=args.reps, seed=args.seed))
    return 0


# ---------------------------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------------------------

RESULTS_HELP = "results folder (from rlbench3 run)"
DEBUG_HELP = "on an error, print the traceback as well as the one-line message"


def _results(parser: argparse.ArgumentParser, *, required: bool = True, help: str = "") -> None:
    parser.add_argument(
        "-r", "--results", required=required, metavar="DIR", help=help or RESULTS_HELP
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``rlbench3`` parser; each command's handler is its ``func`` default."""
    parser = argparse.ArgumentParser(
        prog="rlbench3",
        allow_abbrev=False,  # flags are spelled out: adding one never changes another's meaning
        description="rlbench3: a benchmark suite that measures why reinforcement learning fails.",
        epilog="Results folders are -r/--results DIR and written files -o/--output FILE on "
        "every command. 'rlbench3 COMMAND --help' describes a command.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {rlbench3.__version__}",
        help="print the version and exit",
    )
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], text: str) -> Any:
        description = text[0].upper() + text[1:] + "."
        p = sub.add_parser(name, help=text, description=description, allow_abbrev=False)
        p.set_defaults(func=func)
        # also after the command; SUPPRESS keeps a --debug given before it
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
        return p

    command("envs", cmd_envs, "list registered environments, their parameters and presets")

    hit = command("hit", cmd_hit, "random-policy hit probability of one env setting")
    hit.add_argument(
        "env_id", metavar="ENV_ID", help="a registered id, e.g. rlbench3/CombinationLock-v0"
    )
    hit.add_argument(
        "-p",
        "--param",
        action="append",
        type=parse_assignment,
        default=[],
        metavar="KEY=VALUE",
        help="env parameter, value read as YAML (repeatable), e.g. -p horizon=8",
    )
    hit.add_argument(
        "--episodes",
        type=int_at_least(1),
        default=100_000,
        metavar="N",
        help="Monte-Carlo episodes (default: %(default)s)",
    )
    hit.add_argument(
        "--seed", type=int_at_least(0), default=0, help="seed of env and policy (default: 0)"
    )

    survey = command(
        "survey", cmd_survey, "the env list, then a random-policy hit-probability table"
    )
    survey.add_argument(
        "--seed", type=int_at_least(0), default=0, help="seed of env and policy (default: 0)"
    )

    run = command("run", cmd_run, "run a suite: train, evaluate, record (resumable)")
    run.add_argument(
        "suite", metavar="SUITE", help="a shipped suite name (e.g. quick) or a path to a .yaml file"
    )
    _results(run, required=False, help="results folder to write (default: results/SUITE)")
    run.add_argument(
        "--agents",
        nargs="+",
        metavar="NAME",
        help="agent names or .yaml paths (default: the suite's)",
    )
    run.add_argument(
        "--seeds",
        type=int_at_least(1),
        metavar="N",
        help="seeds per setting (default: the suite's)",
    )
    run.add_argument(
        "--budget",
        type=int_at_least(1),
        metavar="STEPS",
        help="env steps per run (default: the suite's)",
    )
    run.add_argument(
        "--workers",
        type=int_at_least(1),
        default=os.cpu_count() or 1,
        metavar="N",
        help="runs in parallel (default: the CPU count, %(default)s)",
    )
    run.add_argument(
        "--backend",
        choices=BACKENDS,
        default="process",
        metavar="BACKEND",
        help="where runs execute: process (a local pool) or ray (default: %(default)s)",
    )
    run.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="address of a running Ray cluster (with --backend ray; default: start one)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="only list the runs, their state in the results folder and a cost estimate",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument(
        "--yes",
        action="store_true",
        help="run (or list) a plan larger than the limit of 10,000 runs",
    )

    ls = command("ls", cmd_ls, "finished, failed, corrupt and missing runs of a results folder")
    _results(ls)

    table = command("table", cmd_table, "trainability, seed-variance or generalization tables")
    _results(table)
    table.add_argument(
        "--kind",
        choices=TABLE_KINDS,
        required=True,
        metavar="KIND",
        help="which table: %(choices)s",
    )
    table.add_argument(
        "--format",
        choices=TABLE_FORMATS,
        default="md",
        metavar="FORMAT",
        help="%(choices)s (default: %(default)s)",
    )
    table.add_argument(
        "--reps",
        type=int_at_least(1),
        default=2000,
        metavar="N",
        help="bootstrap resamples (default: %(default)s)",
    )
    table.add_argument(
        "--seed", type=int_at_least(0), default=0, help="seed of the bootstrap (default: 0)"
    )
    table.add_argument(
        "-o", "--output", metavar="FILE", help="write the table to FILE (default: standard output)"
    )

    plot = command("plot", cmd_plot, "one figure: curves, frontier, landscape, profiles or gaps")
    _results(plot)
    plot.add_argument(
        "--kind",
        choices=PLOT_KINDS,
        required=True,
        metavar="KIND",
        help="which figure: %(choices)s",
    )
    plot.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="the figure file, FILE.png or FILE.pdf",
    )

    robust = command("robust", cmd_robust, "trained policies under obs/action noise or FGSM")
    _results(robust)
    robust.add_argument(
        "--kind",
        choices=ROBUST_KINDS,
        required=True,
        metavar="KIND",
        help="which perturbation: %(choices)s",
    )
    robust.add_argument(
        "--eps",
        type=nonnegative_float,
        nargs="+",
        default=[0.0, 0.05, 0.1, 0.2, 0.5],
        metavar="EPS",
        help="perturbation sizes (default: 0 0.05 0.1 0.2 0.5)",
    )
    robust.add_argument(
        "--episodes",
        type=int_at_least(1),
        default=50,
        metavar="N",
        help="evaluation episodes per run and size (default: %(default)s)",
    )
    robust.add_argument(
        "--format",
        choices=TABLE_FORMATS,
        default="md",
        metavar="FORMAT",
        help="%(choices)s (default: %(default)s)",
    )
    robust.add_argument(
        "-o", "--output", metavar="FILE", help="write the table to FILE (default: standard output)"
    )

    paper = command(
        "paper", cmd_paper, "run one paper table at a scale (resumable), then write it"
    )
    paper.add_argument(
        "table", choices=PAPER_TABLES, metavar="TABLE", help="which table: %(choices)s"
    )
    paper.add_argument(
        "--scale",
        choices=PAPER_SCALES,
        default="smoke",
        metavar="SCALE",
        help="micro (seconds), smoke (minutes on 2 cores) or paper (a cluster) "
        "(default: %(default)s)",
    )
    _results(paper, required=False, help="results folder (default: results/<table>-<scale>)")
    paper.add_argument(
        "--workers",
        type=int_at_least(1),
        default=os.cpu_count() or 1,
        metavar="N",
        help="runs in parallel (default: the CPU count, %(default)s)",
    )
    paper.add_argument(
        "--backend",
        choices=BACKENDS,
        default="process",
        metavar="BACKEND",
        help="where runs execute: process (a local pool) or ray (default: %(default)s)",
    )
    paper.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="address of a running Ray cluster (with --backend ray; default: start one)",
    )
    paper.add_argument("--no-progress", action="store_true", help="no progress bar")
    paper.add_argument(
        "--yes", action="store_true", help="run a plan larger than the limit of 10,000 runs"
    )

    report = command(
        "report", cmd_report, "one self-contained HTML page of a results folder's tables"
    )
    _results(
        report,
        help="results folder: a suite's (from rlbench3 run) and/or one holding section.json files",
    )
    report.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the page to write, FILE.html"
    )
    report.add_argument(
        "--reps",
        type=int_at_least(1),
        default=2000,
        metavar="N",
        help="bootstrap resamples of the suite tables (default: %(default)s)",
    )
    report.add_argument(
        "--seed", type=int_at_least(0), default=0, help="seed of the bootstrap (default: 0)"
    )
    return parser


def expected_errors() -> tuple[type[BaseException], ...]:
    """What a command raises for the user's mistakes or the machine's state (one line, status
    2): bad data files and arguments (ConfigError and the libraries' ValueError, among them
    corrupt records and refused policy files), records of another format, a missing folder, a
    locked or unwritable results folder (disk full), a backend that cannot start, and
    Gymnasium's own errors (unknown ids)."""
    import gymnasium as gym

    from rlbench3.harness.sweep import BackendError

    return (
        ConfigError,
        UnknownFormat,
        ValueError,
        FileNotFoundError,
        FolderLocked,
        StorageError,
        BackendError,
        OSError,
        gym.error.Error,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    try:
        return args.func(args)
    except KeyboardInterrupt as err:
        # Ctrl-C, or SIGTERM/SIGHUP during `run` (SweepInterrupted): the workers are stopped and
        # every finished record kept; the usual 128 + signal number status.
        signum = getattr(err, "signum", signal.SIGINT)
        if debug:
            traceback.print_exc()
        where = "; finished runs are kept in the results folder" if args.command == "run" else ""
        name = signal.Signals(signum).name
        print(f"rlbench3: interrupted ({name}){where}", file=sys.stderr)
        return 128 + int(signum)
    except expected_errors() as err:
        if debug:
            traceback.print_exc()
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"rlbench3: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
