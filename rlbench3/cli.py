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

Folders and files, the same on every command (in the manner of rl-baselines3-zoo's
``-f/--log-folder``):

* ``-r/--results DIR``: the results folder a command reads or writes. ``run`` writes into it
  (default ``results/<suite name>``); ``ls``, ``table``, ``plot`` and ``robust`` read it.
* ``-o/--output FILE``: a file a command writes: the figure of ``plot`` (``.png``/``.pdf``,
  required), the table of ``table`` and ``robust`` (optional; default: standard output).

Mistakes (a bad suite or agent file, a bad env parameter, a missing results folder, records in a
format this version does not read) exit with status 2 and one ``rlbench3: error: ...`` line.
Numbers out of range (``--seeds 0``) are rejected while parsing, naming the flag.

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
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import rlbench3
from rlbench3.data.yaml_lines import ConfigError
from rlbench3.harness.storage import UnknownFormat

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
    """``key=value`` with the value read as YAML (numbers, strings, ``{low: 1, high: 2}``)."""
    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), yaml.safe_load(value)
    except yaml.YAMLError as err:
        raise argparse.ArgumentTypeError(f"{text!r}: the value is not valid YAML ({err})") from None


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
    """An existing results folder, or :class:`FileNotFoundError`."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"no results folder {folder}")
    return folder


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
    try:  # the env's own checks: unknown ids and parameters are the user's mistakes
        gym.make(args.env_id, **params).close()
    except (TypeError, gym.error.Error) as err:
        raise ValueError(str(err)) from None
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
    from rlbench3.harness.sweep import plan_suite, run_suite

    if args.backend == "ray" and importlib.util.find_spec("ray") is None:
        raise ValueError("--backend ray needs Ray: pip install 'rlbench3[ray]'")
    if args.dry_run:
        suite, runs = plan_suite(
            args.suite, agents=args.agents, seeds=args.seeds, budget=args.budget
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
    )
    report = done.report
    print(
        f"{done.suite.name}: {report.planned} runs planned, {report.skipped} already finished, "
        f"{report.finished} run now, {len(report.failed)} failed, {len(report.corrupt)} corrupt "
        f"records re-run ({time.perf_counter() - start:.0f} s); results in {done.out}\n"
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
    states = [store.status(r.run_id).state for r in runs]
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
    if next(store.finished_ids(), None) is not None:  # earlier runs: their measured speeds
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

    folder = results_folder(args.results)
    emit(
        render_results(folder, args.kind, args.format, reps=args.reps, seed=args.seed), args.output
    )
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from rlbench3.plots import FORMATS, render_plot

    if Path(args.output).suffix.lower() not in FORMATS:
        raise ValueError(f"-o/--output must end in {' or '.join(FORMATS)}, got {args.output!r}")
    print(render_plot(results_folder(args.results), args.kind, args.output))
    return 0


def cmd_robust(args: argparse.Namespace) -> int:
    from rlbench3.analysis.robustness import perturbation_scores, robustness_table
    from rlbench3.analysis.tables import render_sections

    folder = results_folder(args.results)
    scores = perturbation_scores(folder, args.kind, args.eps, episodes=args.episodes)
    title = (
        f"Final success under {args.kind} of size ε (train distribution; mean over seeds, "
        "95% percentile-bootstrap CI)"
    )
    # One titled section, written as `rlbench3 table` writes its sections.
    emit(render_sections({title: robustness_table(scores)}, args.format), args.output)
    return 0


# ---------------------------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------------------------

RESULTS_HELP = "results folder (from rlbench3 run)"


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
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], text: str) -> Any:
        description = text[0].upper() + text[1:] + "."
        p = sub.add_parser(name, help=text, description=description, allow_abbrev=False)
        p.set_defaults(func=func)
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, UnknownFormat, ValueError, FileNotFoundError) as err:
        # Expected mistakes: bad data files, records of another format, bad parameters (the
        # libraries raise ValueError), a missing results folder. One line, no traceback.
        message = " ".join(str(err).split("\n"))
        print(f"rlbench3: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
