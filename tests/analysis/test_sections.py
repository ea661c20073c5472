"""Report sections: the file round trip, refused files, and the sections of a suite folder."""

from __future__ import annotations

import json
import math
import os

import pytest

from rlbench3.analysis import sections as S
from rlbench3.analysis.sections import (
    FigureBlock,
    Section,
    SectionError,
    TableBlock,
    UnknownSectionFormat,
    read_section,
    write_section,
)
from rlbench3.harness.storage import RunStore

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16  # a signature is all the section layer checks


def make_section(**changes) -> Section:
    values = {
        "title": "T1: Swiss cheese vs horizon",
        "command": "rlbench3 paper t1 --scale smoke",
        "reading": "PPO's H50 is 7.2 [6.5, 8.1].\n\nRandom search's 5.1 [4.0, 6.0].",
        "tables": (TableBlock("T1 caption", "| a | b |\n|:--|--:|\n| 1 | 2 |", "a,b\n1,2\n"),),
        "figures": (FigureBlock("success vs H", "figures/t1.png"),),
        "protocol": "greedy actions, 50 episodes",
        "wall_s": 123.5,
        "config": {"horizons": [1, 2, 3], "agents": {"ppo": {"n_steps": 128}}},
        "versions": {"rlbench3": "0.2.0", "torch": "2.13.0"},
    }
    return Section(**{**values, **changes})


def write_example(folder, section=None):
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    (folder / "figures" / "t1.png").write_bytes(PNG)
    return write_section(folder, section or make_section())


# --------------------------------------------------------------------------------------------
# The value and its file


def test_round_trip(tmp_path):
    section = make_section()
    path = write_example(tmp_path, section)
    assert path == tmp_path / "section.json"
    assert read_section(path) == section
    assert read_section(tmp_path) == section  # a folder: its section.json
    assert json.loads(path.read_text())["format"] == S.SECTION_FORMAT
    assert Section.from_dict(section.to_dict()) == section
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, nothing left behind


def test_lists_become_tuples_and_wall_s_a_float():
    section = make_section(tables=[], figures=[], wall_s=3)
    assert section.tables == () and section.figures == ()
    assert isinstance(section.wall_s, float) and section.wall_s == 3.0
    assert make_section(wall_s=None).wall_s is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": " "}, "section.title must not be empty"),
        ({"reading": None}, "section.reading must be text"),
        ({"wall_s": -1.0}, "section.wall_s must be finite and >= 0"),
        ({"wall_s": math.nan}, "section.wall_s must be finite and >= 0"),
        ({"wall_s": True}, "section.wall_s must be a number or None"),
        ({"config": {"x": math.nan}}, "section.config must be plain JSON data"),
        ({"config": {"x": object()}}, "section.config must be plain JSON data"),
        ({"config": [1]}, "section.config must be a mapping"),
        ({"versions": {"torch": 2}}, "section.versions must map package names to version text"),
        ({"tables": "abc"}, "section.tables must be a sequence of TableBlock"),
        ({"figures": (TableBlock("a", "b"),)}, "section.figures must hold FigureBlock values"),
    ],
)
def test_bad_values_are_named(changes, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        make_section(**changes)


@pytest.mark.parametrize("path", ["../x.png", "/etc/x.png", "a/../../x.png", "a\\x.png"])
def test_figure_paths_stay_inside_the_folder(path):
    with pytest.raises(ValueError, match="relative path inside the section's folder"):
        FigureBlock("x", path)


def test_figures_are_png_files():
    with pytest.raises(ValueError, match="must end in .png"):
        FigureBlock("x", "a.svg")
    with pytest.raises(ValueError, match="must not be empty"):
        FigureBlock("x", "")


def test_table_block_of_a_built_section():
    import pandas as pd

    frame = pd.DataFrame(
        {"agent": ["ppo"], "seeds": [10], "gap": [0.72], "gap_low": [0.65], "gap_high": [0.81]}
    )
    block = S.table_block("Gaps", frame)
    assert block.caption == "Gaps"
    assert block.markdown.splitlines()[2] == "| ppo     | 10      | 0.72 [0.65, 0.81] (n=10) |"
    assert block.csv == "agent,seeds,gap,gap_low,gap_high\nppo,10,0.72,0.65,0.81\n"
    assert S.table_block("Empty", frame.iloc[:0]).markdown == "(none)"


def test_write_needs_the_figures_first(tmp_path):
    with pytest.raises(FileNotFoundError, match="figure 'figures/t1.png' is not in"):
        write_section(tmp_path, make_section())
    assert not (tmp_path / "section.json").exists()


# --------------------------------------------------------------------------------------------
# Damaged and foreign files


def edited(tmp_path, edit):
    """Write the example section, apply ``edit`` to its JSON data, write it back."""
    path = write_example(tmp_path)
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("reading"), r"unknown keys \[\], missing keys \['reading'\]"),
        (lambda d: d.update(colour="red"), r"unknown keys \['colour'\], missing keys \[\]"),
        (lambda d: d.update(tables={}), "section.tables must be a list"),
        (lambda d: d["tables"][0].update(caption=3), "table.caption must be text"),
        (lambda d: d["tables"][0].pop("csv"), r"tables\[0\]: unknown keys \[\], missing keys"),
        (lambda d: d["figures"].append("x.png"), r"figures\[1\] must be a JSON object"),
        (lambda d: d["figures"][0].update(png_path="../../etc/passwd.png"), "relative path"),
        (lambda d: d.update(wall_s="12"), "section.wall_s must be a number or None"),
        (lambda d: d.update(versions=["torch"]), "section.versions must map"),
        (lambda d: d.pop("format"), "not a section file \\(no 'format' key\\)"),
    ],
)
def test_damaged_files_are_errors_naming_the_file(tmp_path, edit, message):
    path = edited(tmp_path, edit)
    with pytest.raises(SectionError, match=message) as info:
        read_section(path)
    assert str(info.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    "text",
    [
        b'{"format": 1, "title": ',
        b"[1, 2]",
        b"\xff\xfe{}",
        b'{"format": 1, "wall_s": NaN}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_files_that_are_not_json_sections_are_refused(tmp_path, text):
    path = tmp_path / "section.json"
    path.write_bytes(text)
    with pytest.raises(SectionError, match=f"^{path}: not a section file"):
        read_section(path)


@pytest.mark.parametrize("version", [2, 0, "1", 1.0, True, None])
def test_other_format_versions_are_refused(tmp_path, version):
    path = edited(tmp_path, lambda d: d.update(format=version))
    with pytest.raises(UnknownSectionFormat, match="this rlbench3 reads format 1 only"):
        read_section(path)


def test_huge_and_missing_files(tmp_path, monkeypatch):
    path = write_example(tmp_path)
    monkeypatch.setattr(S, "MAX_SECTION_BYTES", 100)
    with pytest.raises(SectionError, match="more than a section file may hold"):
        read_section(path)
    with pytest.raises(FileNotFoundError, match="no section file"):
        read_section(tmp_path / "nope")


def test_section_files_in_order_skipping_records_hidden_folders_and_links(tmp_path):
    for name in ("T2", "T1", "T1/sub", "runs", "policies", ".hidden", "deep/T10"):
        write_example(tmp_path / name)
    write_example(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    write_example(outside)
    os.symlink(outside, tmp_path / "linked")
    (tmp_path / "T3").mkdir()
    os.symlink(outside / "section.json", tmp_path / "T3" / "section.json")
    found = [p.parent.relative_to(tmp_path).as_posix() for p in S.section_files(tmp_path)]
    assert found == [".", "T1", "T1/sub", "T2", "deep/T10"]


# --------------------------------------------------------------------------------------------
# A suite results folder


def write_runs(folder, make_config, make_record, *, seeds=2, heldout=False, meta=None):
    store = RunStore(folder)
    for agent in ("ppo", "a2c"):
        for h in (1, 2, 3):
            splits = {"train": {"preset": "D", "num_actions": 2, "horizon": h}}
            if heldout:
                splits["heldout"] = {"num_actions": 2, "horizon": h, "combination_seed": 3}
            for seed in range(seeds):
                config = make_config(setting={"horizon": h}, splits=splits, seed=seed, agent=agent)
                rate = max(0.0, 1.0 - 0.4 * (h - 1) - 0.25 * seed)
                rates = {"train": rate, "heldout": rate / 2} if heldout else rate
                record = make_record(rates)
                record["meta"].update(meta or {})
                store.write(config, record)


def test_applicable_kinds(tmp_path, make_config, make_record):
    from rlbench3.analysis.results import load, load_episodes
    from rlbench3.analysis.tables import run_scores

    write_runs(tmp_path / "one", make_config, make_record, seeds=1)
    write_runs(tmp_path / "two", make_config, make_record, seeds=2, heldout=True)
    for name, kinds in (("one", ("swiss",)), ("two", ("swiss", "seeds", "gen"))):
        scores = run_scores(load(tmp_path / name), load_episodes(tmp_path / name))
        assert S.applicable_kinds(scores) == kinds
        assert S.applicable_kinds(scores.iloc[:0]) == ()


def test_suite_sections(tmp_path, make_config, make_record):
    versions = {"torch": "2.13.0", "rlbench3": "0.2.0"}
    meta = {"train_seconds": 1.5, "eval_seconds": 0.25, "versions": versions}
    write_runs(tmp_path, make_config, make_record, seeds=2, heldout=True, meta=meta)
    found = S.sections_from_results(tmp_path, reps=50, seed=3)
    assert [f.folder for f in found] == [None, None, None]
    swiss, seeds, gen = (f.section for f in found)
    assert swiss.title == S.SUITE_TITLES["swiss"]
    assert swiss.command == f"rlbench3 table -r {tmp_path} --kind swiss --reps 50 --seed 3"
    assert [g.png_path for g in swiss.figures] == ["curves.png", "frontier.png"]
    assert [g.png_path for g in seeds.figures] == ["profiles.png"]
    assert [g.png_path for g in gen.figures] == ["gaps.png"]
    assert len(swiss.tables) == 2 and swiss.tables[1].caption.startswith("Trainability frontier")
    assert swiss.tables[0].markdown.startswith("| experiment")
    assert swiss.tables[0].csv.startswith("experiment,setting,agent,seeds,aggregate,")
    assert "ppo's falls from" in swiss.reading and "H50" in swiss.reading
    assert swiss.protocol == (
        "evaluation: greedy actions, 4 final episodes per run and split; training budget 512 "
        "env steps per run, evaluated every 256 env steps and at the end"
    )
    assert swiss.versions == {"rlbench3": "0.2.0", "torch": "2.13.0"}
    runs_seconds = 12 * 1.75
    assert swiss.config["timing"]["runs_seconds"] == runs_seconds
    assert runs_seconds < swiss.wall_s < runs_seconds + 60
    config = swiss.config
    assert config["runs"] == 12 and config["seeds"] == [0, 1] and config["budget"] == 512
    assert config["experiments"]["lock"]["settings"] == ["horizon=1", "horizon=2", "horizon=3"]
    assert config["experiments"]["lock"]["splits"] == {
        "heldout": {"combination_seed": 3, "num_actions": 2},
        "train": {"num_actions": 2, "preset": "D"},
    }
    assert set(config["agents"]) == {"a2c", "ppo"}
    assert config["bootstrap"] == {"reps": 50, "seed": 3}
    json.dumps(config, allow_nan=False)


def test_suite_sections_without_timing_or_second_seed(tmp_path, make_config, make_record):
    write_runs(tmp_path, make_config, make_record, seeds=1)
    (found,) = S.sections_from_results(tmp_path)  # the default bootstrap: no flags
    assert found.section.wall_s is None and found.section.versions == {}
    assert found.section.command == f"rlbench3 table -r {tmp_path} --kind swiss"


def test_sections_from_results_adds_section_files(tmp_path, make_config, make_record):
    write_runs(tmp_path, make_config, make_record, seeds=1)
    write_example(tmp_path / "T1")
    found = S.sections_from_results(tmp_path, reps=20)
    assert [f.folder for f in found] == [None, tmp_path / "T1"]
    assert found[1].section == make_section()
    # A folder of section files only (no runs) is a results folder too.
    only = S.sections_from_results(tmp_path / "T1")
    assert [f.folder for f in only] == [tmp_path / "T1"]


def test_nothing_to_report(tmp_path):
    with pytest.raises(FileNotFoundError, match="no results folder"):
        S.sections_from_results(tmp_path / "missing")
    (tmp_path / "runs").mkdir()
    with pytest.raises(FileNotFoundError, match="nothing to report"):
        S.sections_from_results(tmp_path)


def test_a_damaged_section_file_stops_the_report(tmp_path):
    write_example(tmp_path / "T1")
    (tmp_path / "T2").mkdir()
    (tmp_path / "T2" / "section.json").write_text("{")
    with pytest.raises(SectionError, match="T2/section.json: not a section file"):
        S.sections_from_results(tmp_path)
