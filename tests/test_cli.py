"""The command line: every command's help, argument checking, errors, and `run`'s summary."""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from contextlib import redirect_stdout
from io import StringIO

import pytest

import rlbench3
from rlbench3 import cli
from rlbench3.analysis import robustness, tables
from rlbench3.cli import build_parser, hit_table, main
from rlbench3.harness.storage import RunStore

COMMANDS = ("envs", "hit", "survey", "run", "ls", "table", "plot", "robust", "paper", "report")


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def fails_with(argv: list[str], capsys) -> str:
    """The stderr of a command that must exit with status 2 (from argparse or from main)."""
    with pytest.raises(SystemExit) as exit_info:
        status = main(argv)
        raise SystemExit(status)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def one_line_error(argv: list[str], capsys) -> str:
    """A mistake caught by main: status 2, exactly one `rlbench3: error:` line, no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlbench3: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


# --------------------------------------------------------------------------------------------
# The parser


def test_every_command_is_documented_and_has_a_handler():
    commands = subparsers(build_parser())
    assert set(commands) == set(COMMANDS)
    for name, parser in commands.items():
        assert f"rlbench3 {name}" in cli.__doc__
        assert callable(parser.get_default("func")), name


def test_every_flag_and_positional_has_help():
    for name, parser in subparsers(build_parser()).items():
        for action in parser._actions:
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_works(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: rlbench3 {command}" in capsys.readouterr().out


def test_choices_are_the_modules_constants(capsys):
    commands = subparsers(build_parser())

    def choices(command: str, dest: str) -> tuple:
        (action,) = [a for a in commands[command]._actions if a.dest == dest]
        return tuple(action.choices)

    from rlbench3 import plots

    assert choices("table", "kind") == tables.KINDS
    assert choices("table", "format") == tables.FORMATS
    assert choices("robust", "format") == tables.FORMATS
    assert choices("plot", "kind") == plots.KINDS
    assert choices("robust", "kind") == robustness.KINDS
    with pytest.raises(SystemExit):
        main(["plot", "--help"])
    assert ", ".join(plots.KINDS) in " ".join(capsys.readouterr().out.split())


def test_one_results_flag_everywhere():
    commands = subparsers(build_parser())
    for name in ("run", "ls", "table", "plot", "robust", "report"):
        (action,) = [a for a in commands[name]._actions if a.dest == "results"]
        assert action.option_strings == ["-r", "--results"], name
        assert action.required == (name != "run"), name
        assert not [a for a in commands[name]._actions if a.dest == "out"], name
    for name in ("table", "plot", "robust", "report"):
        (action,) = [a for a in commands[name]._actions if a.dest == "output"]
        assert action.option_strings == ["-o", "--output"], name


def test_help_does_not_import_the_heavy_modules():
    code = (
        "import sys\n"
        "from rlbench3.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ['pandas', 'torch', 'matplotlib', 'rlbench3.analysis.tables', 'rlbench3.plots',\n"
        "         'rlbench3.report']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


# --------------------------------------------------------------------------------------------
# Mistakes: status 2, a clear message


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "quick", "--seeds", "0"], "argument --seeds: expected an integer >= 1, got 0"),
        (["run", "quick", "--budget", "x"], "argument --budget: expected an integer >= 1, got 'x'"),
        (["run", "quick", "--workers", "0"], "argument --workers: expected an integer >= 1"),
        (["run", "quick", "--out", "x"], "unrecognized arguments: --out"),
        (["table", "-r", ".", "--kind", "swiss", "--out", "x"], "unrecognized arguments: --out"),
        (["hit", "rlbench3/CombinationLock-v0", "-p", "horizon"], "expected KEY=VALUE"),
        (["table", "-r", ".", "--kind", "nope"], "argument --kind: invalid choice: 'nope'"),
        (["table", "--kind", "swiss"], "the following arguments are required: -r/--results"),
        (["robust", "-r", ".", "--kind", "fgsm", "--eps", "-1"], "argument --eps: expected"),
        (["robust", "-r", ".", "--kind", "fgsm", "--episodes", "0"], "argument --episodes"),
        (["report", "-r", "."], "the following arguments are required: -o/--output"),
        (["report", "-r", ".", "-o", "r.html", "--reps", "0"], "argument --reps: expected"),
    ],
)
def test_bad_arguments_exit_2_naming_the_flag(argv, message, capsys):
    assert message in fails_with(argv, capsys)


def test_expected_mistakes_are_one_line_errors(tmp_path, capsys, make_config, make_record):
    missing = str(tmp_path / "missing")
    assert "no results folder" in one_line_error(
        ["table", "-r", missing, "--kind", "swiss"], capsys
    )
    assert "no results folder" in one_line_error(["ls", "-r", missing], capsys)
    assert "no shipped suite 'nosuch'" in one_line_error(["run", "nosuch", "--dry-run"], capsys)
    lock = "rlbench3/CombinationLock-v0"
    assert "horizon must be" in one_line_error(["hit", lock, "-p", "horizon=0"], capsys)
    assert "unknown parameter 'foo'" in one_line_error(["hit", lock, "-p", "foo=1"], capsys)
    assert "is not a registered env id" in one_line_error(["hit", "rlbench3/Nope-v0"], capsys)
    png = ["plot", "-r", str(tmp_path), "--kind", "curves", "-o", "x.jpg"]
    assert "-o/--output must end in .png or .pdf" in one_line_error(png, capsys)
    # A suite file with a typo: a ConfigError naming the key.
    suite = tmp_path / "typo.yaml"
    suite.write_text(
        "experiments:\n  - name: a\n    env: rlbench3/CombinationLock-v0\n    grd: {}\n"
    )
    assert "did you mean 'grid'" in one_line_error(["run", str(suite), "--dry-run"], capsys)
    # A record of another format (storage.UnknownFormat).
    store = RunStore(tmp_path / "old")
    path = store.write(make_config(), make_record())
    data = json.loads(path.read_text())
    del data["checksum"]
    data["format"] = 1
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    data["checksum"] = hashlib.sha256(canonical.encode()).hexdigest()
    path.write_text(json.dumps(data))
    err = one_line_error(["table", "-r", str(store.root), "--kind", "swiss"], capsys)
    assert "record format 1" in err


BAD_SUITES = {
    "empty": "",
    "list": "- a\n",
    "no-experiments": "experiments: []\n",
    "typo": "experiments:\n  - name: a\n    env: rlbench3/CombinationLock-v0\n    grd: {}\n",
    "module-env": "experiments:\n  - name: a\n    env: 'os:Evil-v0'\n",
    "no-agents": "agents: []\nexperiments:\n  - name: a\n    env: rlbench3/CombinationLock-v0\n",
    "huge": "seeds: 100000000\nexperiments:\n  - name: a\n    env: rlbench3/CombinationLock-v0\n",
    "tiny": "seeds: 1\nexperiments:\n  - name: a\n    env: rlbench3/CombinationLock-v0\n",
}
LOCK_ID = "rlbench3/CombinationLock-v0"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "{empty}", "--dry-run"], "a suite file must be a mapping"),
        (["run", "{list}", "--dry-run"], "but it is a list"),
        (["run", "{no-experiments}", "--dry-run"], "needs at least one experiment"),
        (["run", "{typo}", "--dry-run"], "did you mean 'grid'"),
        (["run", "{module-env}", "--dry-run"], "is a module-qualified id"),
        (["run", "{no-agents}", "--dry-run"], "agents: needs at least one agent"),
        (["run", "{huge}", "--dry-run"], "more than the limit of 10,000"),
        (["run", "quick", "--seeds", "100000000", "--dry-run"], "pass --yes"),
        (["run", "quick", "--agents", "ppo", "ppo", "--dry-run"], "'ppo' is listed twice"),
        (["run", "quick", "--ray-address", "127.0.0.1:1", "--dry-run"], "only used with --backend"),
        (["run", "quick", "-r", "{file}", "--dry-run"], "is a file, not a folder"),
        (
            [
                "run",
                "{tiny}",
                "-r",
                "{dir}/out",
                "--backend",
                "ray",
                "--ray-address",
                "127.0.0.1:1",
            ],
            "cannot connect to the Ray cluster at 127.0.0.1:1",
        ),
        (["run", "quick", "--workers", "100000"], "more than 4 x the CPU count"),
        (["ls", "-r", "{dir}"], "is not a results folder"),
        (["ls", "-r", "{file}"], "no results folder"),
        (["table", "-r", "{dir}", "--kind", "swiss"], "is not a results folder"),
        (["table", "-r", "{results}", "--kind", "swiss", "-o", "{dir}"], "is a folder"),
        (["table", "-r", "{results}", "--kind", "swiss", "-o", "{file}/t.md"], "is a file, not"),
        (["plot", "-r", "{results}", "--kind", "curves", "-o", "{dir}.png"], "is a folder"),
        (["robust", "-r", "{results}", "--kind", "fgsm", "-o", "{dir}"], "is a folder"),
        (["hit", "os:Evil-v0"], "is module-qualified"),
        (["hit", "rlbench3/Mixture-v0", "-p", "env=os:Evil-v0"], "is module-qualified"),
        (["hit", LOCK_ID, "-p", "horizon=100000000000000000000000"], "horizon must be"),
    ],
)
def test_bad_inputs_are_one_line_errors(argv, message, tmp_path, capsys):
    files = {}
    for name, text in BAD_SUITES.items():
        files[name] = tmp_path / f"{name}.yaml"
        files[name].write_text(text)
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir.png").mkdir()
    (tmp_path / "results" / "runs").mkdir(parents=True)
    places = {
        **{k: str(v) for k, v in files.items()},
        "file": str(tmp_path / "file"),
        "dir": str(tmp_path / "dir"),
        "results": str(tmp_path / "results"),
    }
    argv = [a.format(**places) if "{" in a else a for a in argv]
    assert message in one_line_error(argv, capsys)
    assert not (tmp_path / "dir" / "out").exists()  # nothing written before the error


def test_yaml_errors_in_a_parameter_are_one_line(capsys):
    err = fails_with(["hit", LOCK_ID, "-p", "horizon={a: [}"], capsys)
    assert "argument -p/--param: 'horizon={a: [}': the value is not valid YAML" in err
    lines = err.strip().splitlines()  # argparse's usage, then one error line
    assert lines[0].startswith("usage:") and lines[-1].startswith("rlbench3 hit: error:")
    assert sum("error" in line for line in lines) == 1


def test_numbers_yaml_reads_as_text_are_numbers_in_parameters():
    from rlbench3.cli import parse_assignment

    assert parse_assignment("mass=5e-1") == ("mass", 0.5)
    assert parse_assignment("x=1e6") == ("x", 1e6)
    assert parse_assignment("x='1e6'") == ("x", "1e6")  # quoted: the user meant text
    assert parse_assignment("preset=D") == ("preset", "D")


def test_debug_adds_the_traceback(capsys):
    assert main(["--debug", "hit", "rlbench3/Nope-v0"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.strip().splitlines()[-1].startswith("rlbench3: error: ENV_ID")
    assert main(["hit", "rlbench3/Nope-v0", "--debug"]) == 2  # after the command too
    assert "Traceback" in capsys.readouterr().err
    assert main(["hit", "rlbench3/Nope-v0"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_python_m_does_not_import_from_the_current_folder(tmp_path):
    # A module named like one a command imports later (pandas, by ls): it must not be imported.
    marker = tmp_path / "imported"
    (tmp_path / "pandas.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).touch()\nraise ImportError('fake')\n"
    )
    (tmp_path / "results" / "runs").mkdir(parents=True)
    result = subprocess.run(
        [sys.executable, "-m", "rlbench3.cli", "ls", "-r", "results"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert not marker.exists()


# --------------------------------------------------------------------------------------------
# Commands


def test_envs_lists_every_id_with_parameters(capsys):
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    for env_id in rlbench3.registered_ids():
        assert env_id in out
    assert "horizon            10 (an integer >= 1" in out


def test_hit_reads_yaml_parameters(capsys):
    argv = ["hit", "rlbench3/CombinationLock-v0", "-p", "horizon=3", "-p", "num_actions=2"]
    assert main([*argv, "--episodes", "20000"]) == 0
    out = capsys.readouterr().out
    assert "{'horizon': 3, 'num_actions': 2}" in out and "95% CI" in out


def test_hit_table_includes_the_closed_form():
    table = hit_table([("rlbench3/CombinationLock-v0", "horizon", (1, 3), 4096)])
    assert table["closed form"].tolist() == ["0.5", "0.125"]
    assert table["setting"].tolist() == ["horizon=1", "horizon=3"]
    assert (table["episodes"] == 4096).all()


TINY_SUITE = """\
description: the CLI test suite
seeds: 2
budget: 256
eval: {every: 128, episodes: 4}
agents: [random_search]
experiments:
  - name: lock
    env: rlbench3/CombinationLock-v0
    grid: {horizon: [1, 2]}
"""


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The tiny suite run once through `rlbench3 run` (1 worker): (suite, folder, stdout)."""
    root = tmp_path_factory.mktemp("cli")
    suite = root / "tiny.yaml"
    suite.write_text(TINY_SUITE)
    folder = root / "results"
    stdout = StringIO()
    with redirect_stdout(stdout):
        status = main(["run", str(suite), "-r", str(folder), "--workers", "1", "--no-progress"])
    assert status == 0
    return suite, folder, stdout.getvalue()


def test_run_summary_is_the_swiss_table(tiny_run, capsys):
    from rlbench3.harness.sweep import plan_suite

    suite, folder, out = tiny_run
    _, runs = plan_suite(suite)
    assert len(runs) == 4
    status, summary = out.split("\n\n", 1)
    assert "4 runs planned, 0 already finished, 4 run now, 0 failed" in status
    assert str(folder) in status
    expected = tables.render_results(folder, "swiss", run_ids={r.run_id for r in runs})
    assert summary == expected
    # ... cell for cell what `rlbench3 table --kind swiss` prints for the folder.
    assert main(["table", "-r", str(folder), "--kind", "swiss"]) == 0
    assert capsys.readouterr().out == expected


def test_ls_table_output_and_dry_run_on_a_finished_folder(tiny_run, tmp_path, capsys):
    suite, folder, _ = tiny_run
    assert main(["ls", "-r", str(folder)]) == 0
    assert "| lock" in capsys.readouterr().out
    target = tmp_path / "tables" / "seeds.csv"
    argv = ["table", "-r", str(folder), "--kind", "seeds", "--format", "csv", "--reps", "50"]
    assert main([*argv, "-o", str(target)]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    assert target.read_text().startswith("# ")
    assert main(["run", str(suite), "-r", str(folder), "--dry-run", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("| finished |") == 4
    assert "4 runs, 4 already finished" in out and "0 to run" in out


def test_robust_writes_a_titled_section_like_table(tiny_run, capsys):
    _, folder, _ = tiny_run
    argv = ["robust", "-r", str(folder), "--kind", "action_noise", "--eps", "0", "0.5"]
    assert main([*argv, "--episodes", "4", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# Final success under action_noise")
    assert lines[1] == "experiment,setting,agent,seeds,ε=0,ε=0.5"
    assert len(lines) == 4  # title, header, one row per setting


def test_report_writes_one_page_of_the_folder(tiny_run, tmp_path, capsys):
    _, folder, _ = tiny_run
    target = tmp_path / "pages" / "report.html"
    assert main(["report", "-r", str(folder), "-o", str(target), "--reps", "50"]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # 2 seeds per cell, no held-out split: the swiss and seeds tables, not gen.
    assert page.count("<h3>How it was produced</h3>") == 2
    assert f"rlbench3 table -r {folder} --kind seeds --reps 50 --seed 0" in page
    assert page.count('<img alt="') == 3  # curves, frontier, profiles


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "-r", "{results}", "-o", "{dir}/r.pdf"], "-o/--output must end in .html"),
        (["report", "-r", "{dir}/missing", "-o", "{dir}/r.html"], "no results folder"),
        (["report", "-r", "{file}", "-o", "{dir}/r.html"], "no results folder"),
        (["report", "-r", "{results}", "-o", "{dir}/r.html"], "nothing to report"),
        (["report", "-r", "{dir}", "-o", "{dir}.html"], "is a folder"),
        (["report", "-r", "{dir}", "-o", "{file}/r.html"], "is a file, not a folder"),
        (["report", "-r", "{damaged}", "-o", "{dir}/r.html"], "not a section file"),
    ],
)
def test_report_mistakes_are_one_line_errors(argv, message, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir.html").mkdir()
    (tmp_path / "results" / "runs").mkdir(parents=True)
    (tmp_path / "damaged" / "T1").mkdir(parents=True)
    (tmp_path / "damaged" / "T1" / "section.json").write_text('{"format": 1')
    argv = [
        a.format(**{n: str(tmp_path / n) for n in ("file", "dir", "results", "damaged")})
        for a in argv
    ]
    err = one_line_error(argv, capsys)
    assert message in err
    assert not (tmp_path / "dir" / "r.html").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["paper", "T1", "--ray-address", "x:1"], "--ray-address is only used with"),
        (["paper", "T1", "-r", "{file}"], "is a file, not a folder"),
    ],
)
def test_paper_mistakes_are_one_line_errors(argv, message, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    argv = [a.format(file=str(tmp_path / "file")) for a in argv]
    err = one_line_error(argv, capsys)
    assert message in err


def test_paper_micro_table_through_the_cli(tmp_path, capsys):
    assert (
        main(
            [
                "paper",
                "T1",
                "--scale",
                "micro",
                "-r",
                str(tmp_path),
                "--workers",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert "### Trainability frontier" in out and "H50" in out
    assert "wrote" in err and (tmp_path / "t1" / "section.json").exists()
    assert main(["report", "-r", str(tmp_path), "-o", str(tmp_path / "page.html")]) == 0
    page = (tmp_path / "page.html").read_text()
    assert "T1: the swiss cheese" in page and "data:image/png;base64" in page


@pytest.mark.parametrize(
    "argv, message",
    [
        (["paper", "T9"], "invalid choice: 'T9'"),
        (["paper", "T1", "--scale", "huge"], "invalid choice: 'huge'"),
        (["paper", "T1", "--workers", "0"], "--workers"),
    ],
)
def test_paper_arguments_are_checked_while_parsing(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err
