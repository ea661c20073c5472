"""Each paper table at its micro scale: runs, writes a well-formed table and figure, resumes."""

import io
import json

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from rlbench3 import paper
from rlbench3.data.yaml_lines import ConfigError
from rlbench3.harness.sweep import plan_suite


@pytest.fixture(scope="module")
def micro_runs(tmp_path_factory):
    """Every table at micro scale, run once for the module (tens of seconds in all)."""
    out = {}
    for key in paper.TABLES:
        folder = tmp_path_factory.mktemp(key.lower())
        out[key] = paper.run_paper_table(key, "micro", folder, progress=False, say=lambda _: None)
    return out


@pytest.mark.parametrize("key", sorted(paper.TABLES))
def test_micro_table_is_well_formed(micro_runs, key):
    result = micro_runs[key]
    md = (result.folder / f"{key.lower()}.md").read_text()
    assert md.count("### ") == len(result.sections) >= 1
    assert "evaluation:" in md  # the protocol is in the captions
    csv = (result.folder / f"{key.lower()}.csv").read_text()
    for block in csv.split("\n# ")[0:]:
        body = "\n".join(line for line in block.splitlines() if not line.startswith("#"))
        if body.strip():
            assert len(pd.read_csv(io.StringIO(body))) >= 1
    tex = (result.folder / f"{key.lower()}.tex").read_text()
    assert "\\begin{tabular}" in tex
    for section in result.sections.values():
        estimates = [c for c in section.columns if f"{c}_low" in section.columns]
        for column in estimates:  # every estimate has its interval
            ok = section[column].isna() | (
                (section[f"{column}_low"] <= section[column] + 1e-12)
                & (section[column] <= section[f"{column}_high"] + 1e-12)
            )
            assert ok.all(), column
    assert result.reading and "nan" not in result.reading


@pytest.mark.parametrize("key", sorted(paper.TABLES))
def test_micro_figures_decode(micro_runs, key):
    result = micro_runs[key]
    for figure in paper.TABLES[key].figures:
        image = matplotlib.image.imread(result.folder / f"{figure.name}.png")
        assert image.shape[0] > 100 and image.shape[1] > 100
        assert (result.folder / f"{figure.name}.pdf").stat().st_size > 1000


def test_micro_rerun_only_renders(micro_runs):
    first = micro_runs["T1"]
    records = sorted(p.name for p in (first.folder.parent / "runs").iterdir())
    again = paper.run_paper_table(
        "T1", "micro", first.folder.parent, progress=False, say=lambda _: None
    )
    assert sorted(p.name for p in (first.folder.parent / "runs").iterdir()) == records
    assert render(again) == render(first)
    # the section reports the time that trained the runs, not the rerun's few seconds
    from rlbench3.analysis.sections import read_section

    section = read_section(first.folder / "section.json")
    assert section.wall_s == pytest.approx(first.wall_seconds)


def render(result):
    return {title: frame.to_json() for title, frame in result.sections.items()}


def test_t1_has_the_collapse_horizon_and_the_probes(micro_runs):
    sections = micro_runs["T1"].sections
    frontier = next(f for t, f in sections.items() if t.startswith("Trainability frontier"))
    # micro: budget 600, K = 2 -> H* solves 600 / H * 2^-H = 1
    assert frontier["collapse_h"].iloc[0] == pytest.approx(paper.P.collapse_horizon(600, 2))
    probes = next(f for t, f in sections.items() if t.startswith("What an untrained policy"))
    assert list(probes["uniform_closed_form"]) == [0.5, 0.25]
    p, n = probes["uniform_closed_form"], probes["uniform_episodes"]
    assert ((probes["uniform_hit"] - p).abs() < 4 * (p * (1 - p) / n) ** 0.5).all()
    assert (probes["policies"] == 16).all() and probes["hole_fraction"].between(0, 1).all()


def test_suite_written_beside_the_table_is_the_scaled_one(micro_runs):
    result = micro_runs["T2"]
    _, runs = plan_suite(result.folder / "suite.yaml")
    stored = json.loads((result.folder.parent / "plan.json").read_text())
    assert len(runs) == len(stored) == 2 * 2 * 2 * 2  # 2 exps x 2 dims x 2 agents x 2 seeds


def test_every_scale_plans(tmp_path):
    for key, table in paper.TABLES.items():
        for scale in table.scales:
            data = paper.resized_suite(table, scale)
            path = tmp_path / f"{key.lower()}.yaml"
            path.write_text(paper.yaml.safe_dump(data))
            _, runs = plan_suite(path, max_runs=None)
            assert runs, (key, scale)
            if scale != "micro":  # honest intervals need seeds
                assert min(_seeds(runs)) >= 10, (key, scale)


def _seeds(runs):
    counts = {}
    for config in runs:
        cell = (config.experiment, config.label, config.agent.name)
        counts[cell] = counts.get(cell, 0) + 1
    return counts.values()


def test_bad_table_and_scale_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="table must be one of"):
        paper.run_paper_table("T9", "micro", tmp_path)
    with pytest.raises(ConfigError, match="scale must be one of"):
        paper.run_paper_table("T1", "huge", tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("key", sorted(paper.TABLES))
def test_micro_section_is_readable_by_the_report(micro_runs, key):
    from rlbench3.analysis.sections import read_section

    section = read_section(micro_runs[key].folder / "section.json")
    assert section.title.startswith(key)
    assert section.reading == micro_runs[key].reading
    assert len(section.tables) == len(micro_runs[key].sections)
    assert section.wall_s is not None and section.wall_s > 0
    assert "evaluation:" in section.protocol


def test_t6_rows_name_each_remedy_against_its_base_agent(micro_runs):
    rows = next(f for t, f in micro_runs["T6"].sections.items() if t.startswith("Remedies"))
    remedies = set(zip(rows["remedy"], rows["agent"], rows["runs_as"]))
    assert ("none", "ppo", "ppo") in remedies and (
        "none",
        "random_search",
        "random_search",
    ) in remedies
    for k in (1, 10, 100):
        assert (f"demonstrations k={k}", "ppo", f"ppo_demo{k}") in remedies
    for name in ("feedback-observation", "dense-reward", "curriculum"):
        assert (name, "ppo", "ppo") in remedies
    base = rows[rows["remedy"] == "none"]
    assert base["delta_h50"].isna().all()
    others = rows[rows["remedy"] != "none"]
    assert others["delta_h50"].notna().all()


def test_t3_reading_explains_each_kind_of_smallest_p():
    splits = pd.DataFrame(
        {
            "experiment": ["lock", "lock", "reach"],
            "agent": ["a", "b", "a"],
            "fraction": [0.0, 0.018, 0.007],
            "seeds": [60, 60, 60],
            "min_p": [np.nan, 0.0, 0.0088],
        }
    )
    text = paper.t3_reading({"split test: Welch p over splits": splits})
    assert "lock a: 0.000 of the splits" in text and "every seed scored the same" in text
    assert "smallest p 0: a split put constant, different scores on each side" in text
    assert "reach a: 0.007 of the splits of its 60 identical-procedure seeds" in text
    assert "smallest p 0.0088" in text
