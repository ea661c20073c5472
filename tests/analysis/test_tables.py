"""Result tables from a small synthetic results folder (records of the shape the planner and
the runner write, made by hand: no training here)."""

from __future__ import annotations

import dataclasses
import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rliable import metrics as rm

from rlbench3.analysis import metrics as M
from rlbench3.analysis.results import load, load_episodes
from rlbench3.analysis.tables import (
    MIN_SEEDS,
    build_tables,
    display_frame,
    estimate_columns,
    load_configs,
    packer_cells,
    protocol_text,
    render_results,
    render_table,
    run_scores,
)
from rlbench3.harness.run_config import RunConfig
from rlbench3.harness.storage import RunStore

EPISODES = 20
AGENTS = {"ppo": "PPO", "random_search": "random_search"}
# lock-horizon: final train success per agent, horizon and seed (multiples of 1/20).
LOCK = {
    "ppo": {2: [1.0, 1.0, 1.0, 1.0], 4: [1.0, 1.0, 1.0, 0.0], 8: [0.0, 0.0, 0.2, 0.0]},
    "random_search": {2: [1.0, 1.0, 1.0, 1.0], 4: [1.0, 0.0, 1.0, 0.0], 8: [0.0] * 4},
}
# Packer-style runs of ppo: train preset -> split -> per-seed success.
PACKER = {
    "D": {
        "train": [0.9, 1.0, 0.95],
        "in": [0.9, 1.0, 0.95],
        "wide": [0.6, 0.5, 0.7],
        "far": [0.2, 0.3, 0.25],
        "far-3d": [0.0, 0.0, 0.0],
    },
    "R": {
        "train": [0.8, 0.85, 0.9],
        "in": [0.95, 0.9, 1.0],
        "wide": [0.8, 0.85, 0.9],
        "far": [0.5, 0.4, 0.45],
        "far-3d": [0.05, 0.0, 0.0],
    },
}
# Every synthetic run: 1000 steps evaluated every 500, EPISODES final episodes per split; its
# learning curve rises linearly from 0 to the final success.
RUN = {"n_envs": 4, "budget": 1000, "every": 500, "episodes": EPISODES}
RECORD = {"steps": (0, 500, 1000), "episodes": EPISODES, "ramp": True}
# "point [low, high] (n=seeds)"; the point is "n/a" for seeds_needed where no spread was seen.
NUMBER = r"-?\d+(\.\d+)?"
ESTIMATE_TEXT = re.compile(
    rf"^([<>]?{NUMBER}|n/a) \[(<=|>=)?{NUMBER}, (>=)?{NUMBER}\] "
    r"\(n=(\d+(/\d+)?(/level)?|\d+ vs \d+|\d+-\d+/level)\)$"
)


def lock_runs(make_config, make_record) -> list[tuple[RunConfig, dict]]:
    """The lock-horizon experiment: every agent x horizon x seed of ``LOCK``."""
    runs = []
    for agent, by_h in LOCK.items():
        for horizon, rates in by_h.items():
            base = {"num_actions": 2, "horizon": horizon}
            splits = {
                "train": {"preset": "D", **base},
                "unseen-combination": {**base, "combination_seed": {"low": 1000, "high": 1999}},
            }
            for seed, rate in enumerate(rates):
                config = make_config(
                    suite="synthetic",
                    experiment="lock-horizon",
                    setting={"horizon": horizon},
                    splits=splits,
                    agent=agent,
                    algo=AGENTS[agent],
                    seed=seed,
                    **RUN,
                )
                record = make_record(
                    {"train": rate, "unseen-combination": rate / 4},
                    zero_signal=1.0 - rate / 2,
                    **RECORD,
                )
                runs.append((config, record))
    return runs


def packer_runs(make_config, make_record) -> list[tuple[RunConfig, dict]]:
    """Packer-style reach runs of ppo, trained on D and on R (``PACKER``)."""
    runs = []
    for train, by_split in PACKER.items():
        base = {"action_dim": 2}
        splits = {
            "train": {"preset": train, **base},
            "in": {**base, "preset": "D"},
            "wide": {**base, "preset": "R"},
            "far": {**base, "preset": "E"},
            "far-3d": {"action_dim": 3, "preset": "E"},  # other parameters: not a Packer cell
        }
        for seed in range(3):
            config = make_config(
                suite="synthetic",
                experiment=f"reach-{train}",
                env_id="rlbench3/SparseReach-v0",
                family="SparseReach",
                setting={"action_dim": 2},
                splits=splits,
                seed=seed,
                **RUN,
            )
            record = make_record(
                {s: v[seed] for s, v in by_split.items()}, zero_signal=0.25, **RECORD
            )
            runs.append((config, record))
    return runs


def write_suite(out: Path, make_config, make_record) -> None:
    store = RunStore(out)
    for config, record in lock_runs(make_config, make_record) + packer_runs(
        make_config, make_record
    ):
        store.write(config, record)


@pytest.fixture(scope="module")
def results(tmp_path_factory, make_config, make_record) -> Path:
    out = tmp_path_factory.mktemp("results")
    write_suite(out, make_config, make_record)
    return out


@pytest.fixture(scope="module")
def frames(results):
    return load(results), load_episodes(results), load_configs(results)


def latex_text(cell: str) -> str:
    for plain, tex in (("<=", r"$\leq$"), (">=", r"$\geq$"), ("<", "$<$"), (">", "$>$")):
        cell = cell.replace(plain, tex)
    return cell


def csv_sections(text: str) -> dict[str, pd.DataFrame]:
    sections, title, lines = {}, None, []
    for line in text.splitlines() + ["# end"]:
        if line.startswith("# "):
            if title is not None:
                sections[title] = pd.read_csv(io.StringIO("\n".join(lines)))
            title, lines = line[2:], []
        elif line.strip():
            lines.append(line)
    return sections


@pytest.mark.parametrize("kind", ["swiss", "seeds", "gen"])
def test_every_estimate_carries_its_interval_in_every_format(frames, kind):
    curves, episodes, configs = frames
    sections = build_tables(curves, episodes, kind, configs=configs, reps=100)
    md = render_table(curves, episodes, kind, "md", configs=configs, reps=100)
    latex = render_table(curves, episodes, kind, "latex", configs=configs, reps=100)
    csv = render_table(curves, episodes, kind, "csv", configs=configs, reps=100)
    parsed = csv_sections(csv)
    assert list(parsed) == list(sections) and len(sections) >= 2
    for title, frame in sections.items():
        estimates = estimate_columns(frame)
        assert estimates and len(frame)
        shown = display_frame(frame)
        for column in estimates:
            for cell in shown[column]:
                assert ESTIMATE_TEXT.match(cell), (title, column, cell)
                assert cell in md
                assert latex_text(cell) in latex
            table = parsed[title]
            assert {column, f"{column}_low", f"{column}_high"} <= set(table.columns)
            ok = table[column].notna()
            assert (
                ok.any()
                and (
                    table.loc[ok, f"{column}_low"] <= table.loc[ok, f"{column}_high"] + 1e-12
                ).all()
            )
        assert f"### {title}" in md and f"% {title}" in latex
    assert latex.count(r"\begin{tabular}") == len(sections) and r"random\_search" in latex


def test_swiss_rows_and_frontier(frames):
    curves, episodes, configs = frames
    sections = list(build_tables(curves, episodes, "swiss", reps=200).values())
    main, frontier = sections
    lock = main[main["experiment"] == "lock-horizon"]
    # Settings in numeric order (2, 4, 8), not as strings.
    assert lock["setting"].tolist()[::2] == ["horizon=2", "horizon=4", "horizon=8"]
    row = lock[(lock["setting"] == "horizon=4") & (lock["agent"] == "ppo")].iloc[0]
    # 4 seeds: the aggregate is the mean of 1, 1, 1, 0 and says so (an "IQM" of 4 values would
    # be their median, 1).
    assert row["seeds"] == 4 and row["aggregate"] == "mean" and row["final_success"] == 0.75
    # Two levels: the interval holds the seeds' spread and the episodes' noise.
    assert 0.0 < row["final_success_low"] < 0.75 < row["final_success_high"] <= 1.0
    assert row["zero_signal"] == pytest.approx(np.mean([0.5, 0.5, 0.5, 1.0]))
    by_agent = frontier[frontier["experiment"] == "lock-horizon"].set_index("agent")
    assert by_agent.loc["ppo", "solved"] == "4/4, 3/4, 0/4"
    assert by_agent.loc["random_search", "solved"] == "4/4, 2/4, 0/4"
    for agent in by_agent.index:
        r = by_agent.loc[agent]
        assert 2 <= r["h50_low"] <= r["h50"] <= r["h50_high"] <= 8 and r["h50_censored"] == ""
    # The reach experiments have one level of action_dim: no frontier for them.
    assert set(frontier["experiment"]) == {"lock-horizon"}


def test_seeds_table_matches_metrics(frames):
    curves, episodes, _ = frames
    main, poi = build_tables(curves, episodes, "seeds", reps=200).values()
    row = main[(main["setting"] == "horizon=4") & (main["agent"] == "random_search")].iloc[0]
    s = np.array(LOCK["random_search"][4])
    assert row["mean"] == s.mean() and row["median"] == 0.5 and row["optimality_gap"] == 0.5
    assert row["aggregate"] == "mean" and row["central"] == row["mean"]  # 4 seeds
    # Every seed scored 0 or 1: the Bernoulli model's std, sqrt(p (1 - p)) = 0.5 at p = 1/2,
    # with an interval inside [0, 0.5] (the chi-square one would reach 2.15).
    assert row["std"] == 0.5 and row["std_high"] == 0.5
    assert row["std"] == M.std_interval(s, bounds=(0, 1)).point < s.std(ddof=1)
    assert row["split_test"] == M.split_test_fraction(s, 0, exhaustive=True)
    assert row["partitions"] == 6
    needed = M.seeds_needed(np.array([row["std"], row["std_low"], row["std_high"]]), 0.1)
    assert [row["seeds_needed"], row["seeds_needed_low"], row["seeds_needed_high"]] == list(needed)
    # All four seeds of ppo at horizon 2 solved everything: no spread seen, so no point
    # estimate of the seeds needed ("n/a", never "2 [2, 2]"), only the bound the [0, 1] range
    # allows.
    agree = main[(main["setting"] == "horizon=2") & (main["agent"] == "ppo")].iloc[0]
    assert agree["std"] == 0 and agree["std_high"] > 0
    assert math.isnan(agree["seeds_needed"]) and agree["seeds_needed_high"] > 2
    cell = display_frame(main)["seeds_needed"].iloc[main.index.get_loc(agree.name)]
    assert cell.startswith("n/a [2, ") and cell.endswith("(n=4)")
    three = main[main["experiment"] == "reach-D"].iloc[0]
    assert three["seeds"] == 3 and math.isnan(three["split_test"])  # fewer than 4 seeds
    pair = poi[(poi["setting"] == "horizon=4")].iloc[0]
    assert (pair["x"], pair["y"]) == ("ppo", "random_search")
    # P(ppo > rs): ppo 1,1,1,0 against rs 1,0,1,0 -> (3·(2·0.5 + 2) + 1·(2·0 + 2·0.5)) / 16
    assert pair["p_x_better"] == pytest.approx((3 * 3 + 1) / 16)


def test_gen_gap_and_packer_layout_from_configs(frames):
    curves, episodes, configs = frames
    sections = build_tables(curves, episodes, "gen", configs=configs, reps=200)
    gen, cells, summary = sections.values()
    row = gen[
        (gen["experiment"] == "lock-horizon")
        & (gen["setting"] == "horizon=2")
        & (gen["agent"] == "ppo")
    ].iloc[0]
    assert row["split"] == "unseen-combination"
    assert (row["train"], row["test"], row["gap"]) == pytest.approx((1.0, 0.25, 0.75))
    assert set(gen.loc[gen["experiment"] == "reach-D", "split"]) == {"in", "wide", "far", "far-3d"}

    # Cells come from each split's parameters, not its name: far-3d differs in action_dim.
    d = cells.set_index("train").loc["D"]
    assert d["D"] == pytest.approx(np.mean(PACKER["D"]["train"]))
    assert d["E"] == pytest.approx(np.mean(PACKER["D"]["far"]))
    r = cells.set_index("train").loc["R"]
    assert r["R"] == pytest.approx(np.mean(PACKER["R"]["train"]))
    assert r["D"] == pytest.approx(np.mean(PACKER["R"]["in"]))
    mean = {t: {s: np.mean(v) for s, v in by.items()} for t, by in PACKER.items()}
    s = summary.iloc[0]
    assert s["default"] == pytest.approx(mean["D"]["train"])
    assert s["interpolation"] == pytest.approx(mean["R"]["train"])
    expected = (mean["D"]["wide"] * mean["D"]["far"] * mean["R"]["far"]) ** (1 / 3)
    assert s["extrapolation"] == pytest.approx(expected)
    assert s["experiments"] == "reach-D / reach-R" and s["seeds"] == "3/3"

    # Without configs there is no layout; with the preset names changed there is none either.
    assert len(build_tables(curves, episodes, "gen", reps=50)) == 1
    renamed = {
        k: dataclasses.replace(c, splits={**c.splits, "train": {"preset": "X", "action_dim": 2}})
        for k, c in configs.items()
    }
    assert len(build_tables(curves, episodes, "gen", configs=renamed, reps=50)) == 1


def test_packer_cells_read_the_config(make_config):
    config = make_config(
        experiment="x",
        env_id="rlbench3/SparseReach-v0",
        family="SparseReach",
        setting={},
        splits={
            "train": {"preset": "R", "action_dim": 2},
            "a": {"action_dim": 2, "preset": "E"},
            "b": {"action_dim": 2, "preset": "R"},
            "c": {"action_dim": 2, "preset": "D", "horizon": 10},
        },
    )
    group, train, cells = packer_cells(config)
    assert train == "R" and cells == {"R": "train", "E": "a"}
    assert group == ("rlbench3/SparseReach-v0", '{"action_dim": 2}', "ppo")
    # The agent is part of the group: runs of other agents never share a layout.
    other = dataclasses.replace(config, agent=dataclasses.replace(config.agent, name="a2c"))
    assert packer_cells(other)[0] == ("rlbench3/SparseReach-v0", '{"action_dim": 2}', "a2c")
    with pytest.raises(ValueError, match="not trained on a D/R/E preset"):
        packer_cells(dataclasses.replace(config, splits={"train": {"horizon": 2}}))
    with pytest.raises(ValueError, match="not trained on a D/R/E preset"):
        packer_cells(dataclasses.replace(config, splits={"train": {"preset": "X"}}))


def test_scores_from_episodes_equal_the_last_curve_point(frames):
    curves, episodes, _ = frames
    a = run_scores(curves, episodes).set_index(["run_id", "split"])["score"].sort_index()
    b = run_scores(curves, None).set_index(["run_id", "split"])["score"].sort_index()
    pd.testing.assert_series_equal(a, b, check_names=False)


def test_results_helper_deterministic_and_global_rng_untouched(results):
    np.random.seed(5)  # noqa: NPY002
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    first = render_results(results, "seeds", "md", reps=50)
    assert np.array_equal(np.random.get_state()[1], state)  # noqa: NPY002
    assert render_results(results, "seeds", "md", reps=50) == first
    assert render_results(results, "seeds", "md", reps=50, seed=1) != first
    with pytest.raises(ValueError, match="kind"):
        render_results(results, "cheese", "md")
    with pytest.raises(ValueError, match="fmt"):
        render_results(results, "gen", "html")


def test_packer_cells_ignore_how_extreme_unions_are_sampled(make_config):
    config = make_config(
        env_id="rlbench3/CartPole-v0",
        family="CartPole",
        setting={},
        splits={
            "train": {"preset": "D"},
            "D": {"preset": "D"},
            "R": {"preset": "R"},
            "E": {"preset": "E", "extreme_sampling": "length"},
            "other": {"preset": "E", "force_mag": 3.0},
        },
    )
    group, variant, cells = packer_cells(config)
    assert variant == "D" and cells == {"D": "train", "R": "R", "E": "E"}
    assert group == ("rlbench3/CartPole-v0", "{}", "ppo")


def test_load_configs_gives_each_runs_typed_config(results, make_config, make_record):
    runs = lock_runs(make_config, make_record) + packer_runs(make_config, make_record)
    configs = load_configs(results)
    assert configs == {config.run_id: config for config, _ in runs}
    assert all(isinstance(c, RunConfig) and c.run_id == rid for rid, c in configs.items())


@pytest.mark.parametrize(("kind", "experiments"), [("swiss", "lock"), ("gen", "reach")])
def test_render_results_selects_runs_by_id(results, make_config, make_record, kind, experiments):
    chosen = lock_runs if experiments == "lock" else packer_runs
    ids = {config.run_id for config, _ in chosen(make_config, make_record)}
    text = render_results(results, kind, "csv", run_ids=ids, reps=50)
    # Exactly the table of those runs' rows (and configs), as if the folder held nothing else.
    curves, episodes, configs = load(results), load_episodes(results), load_configs(results)
    expected = render_table(
        curves[curves["run_id"].isin(ids)].reset_index(drop=True),
        episodes[episodes["run_id"].isin(ids)].reset_index(drop=True),
        kind,
        "csv",
        configs={rid: c for rid, c in configs.items() if rid in ids},
        reps=50,
    )
    assert text == expected
    first = next(iter(csv_sections(text).values()))
    assert set(first["experiment"]) == {c.experiment for c in configs.values() if c.run_id in ids}
    # Every run without a selection; none with an empty one.
    every = next(iter(csv_sections(render_results(results, kind, "csv", reps=50)).values()))
    assert set(every["experiment"]) == {"lock-horizon", "reach-D", "reach-R"}
    assert "(no finished runs)" in render_results(results, kind, "md", run_ids=set(), reps=50)


# --- protocol, seeds, two levels -------------------------------------------------------------


def test_titles_state_the_protocol_and_warn_below_the_minimum_seeds(frames, capsys):
    curves, episodes, configs = frames
    sections = build_tables(curves, episodes, "swiss", configs=configs, reps=50)
    err = capsys.readouterr().err
    assert err.count("rlbench3: warning:") == 1 and f"fewer than {MIN_SEEDS} seeds" in err
    for title in sections:
        assert "evaluation: greedy actions, 20 final episodes per run and split" in title
        assert f"WARNING: cells with fewer than {MIN_SEEDS} seeds (fewest: " in title
    main, frontier = sections.values()
    assert set(main["seeds"]) == {3, 4}  # lock: 4 seeds, reach: 3
    assert list(sections)[0].count("seeds per cell: mixed (3, 4)") == 1
    assert "seeds per cell: 4" in list(sections)[1]  # 4 seeds per level
    # Sampled evaluation for some runs: "mixed"; without configs: not recorded, episodes
    # counted from the data.
    ids = list(configs)
    sampled = {
        rid: dataclasses.replace(c, eval=dataclasses.replace(c.eval, deterministic=False))
        for rid, c in configs.items()
    }
    assert protocol_text(ids, sampled) == (
        "evaluation: sampled actions, 20 final episodes per run and split"
    )
    mixed = {**configs, ids[0]: sampled[ids[0]]}
    assert "mixed (greedy and sampled) actions" in protocol_text(ids, mixed)
    longer = dataclasses.replace(configs[ids[0]].eval, episodes=50)
    fewer = {**configs, ids[0]: dataclasses.replace(configs[ids[0]], eval=longer)}
    assert "mixed (20, 50) final episodes" in protocol_text(ids, fewer)
    bare = next(iter(build_tables(curves, episodes, "seeds", reps=50)))
    assert "evaluation: actions not recorded (no run configs), 20 final episodes" in bare


def seeds_folder(tmp_path, make_config, make_record, rates, episodes=20):
    """One cell (lock, horizon=2, ppo) with a seed per rate."""
    store = RunStore(tmp_path)
    for seed, rate in enumerate(rates):
        store.write(make_config(seed=seed, episodes=episodes), make_record(rate, episodes=episodes))
    return load(tmp_path), load_episodes(tmp_path), load_configs(tmp_path)


def test_enough_seeds_give_the_iqm_and_no_warning(tmp_path, make_config, make_record, capsys):
    rates = [0.0, 0.25, 0.5, 0.75, 0.9, 1.0]
    curves, episodes, configs = seeds_folder(tmp_path, make_config, make_record, rates)
    sections = build_tables(curves, episodes, "seeds", configs=configs, reps=200)
    assert capsys.readouterr().err == ""
    title, main = next(iter(sections.items()))
    assert "WARNING" not in title and "seeds per cell: 6" in title
    row = main.iloc[0]
    assert row["aggregate"] == "IQM" and row["central"] == rm.aggregate_iqm(
        np.array(rates)[:, None]
    )
    assert row["central"] != row["mean"]
    # The numbers are metrics.two_level_estimates' on each seed's episodes, with the row's key.
    eps = [np.repeat([1.0, 0.0], [round(r * 20), 20 - round(r * 20)]) for r in rates]
    oracle = M.two_level_estimates(
        eps,
        M.rng_for(0, "final", "lock", "horizon=2", "ppo"),
        metrics=("iqm", "mean", "median", "optimality_gap"),
        reps=200,
    )
    assert (row["central"], row["central_low"], row["central_high"]) == dataclasses.astuple(
        oracle["iqm"]
    )
    assert (row["median_low"], row["median_high"]) == (oracle["median"].low, oracle["median"].high)
    text = render_table(curves, episodes, "seeds", "md", configs=configs, reps=200)
    assert "(n=6)" in text and "| IQM " in text


def test_two_level_interval_shows_episode_noise_when_seeds_agree(
    tmp_path, make_config, make_record
):
    # The "0.28 [0.28, 0.28]": seeds that agree exactly (here 5 of 20 episodes each).
    curves, episodes, configs = seeds_folder(tmp_path, make_config, make_record, [0.25] * 5)
    main = next(iter(build_tables(curves, episodes, "swiss", configs=configs, reps=500).values()))
    row = main.iloc[0]
    assert row["final_success"] == 0.25 and row["aggregate"] == "IQM"
    assert row["final_success_low"] < 0.2 and row["final_success_high"] > 0.3
    # From the learning curves alone (no episodes) only seeds are resampled: no width.
    alone = next(iter(build_tables(curves, None, "swiss", configs=configs, reps=500).values()))
    assert alone.iloc[0]["final_success_low"] == alone.iloc[0]["final_success_high"] == 0.25
    # Every episode solved: the pooled Clopper-Pearson interval, not [1, 1].
    tmp = tmp_path / "solved"
    curves, episodes, _ = seeds_folder(tmp, make_config, make_record, [1.0] * 5)
    main = next(iter(build_tables(curves, episodes, "swiss", reps=100).values()))
    assert main.iloc[0]["final_success_low"] == pytest.approx(0.025 ** (1 / 100))
