"""Readings of tables: exact sentences from hand-made sections, and agreement with real tables."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from rlbench3.analysis import readings as R
from rlbench3.analysis.results import load, load_episodes
from rlbench3.analysis.tables import build_tables, display_frame
from rlbench3.harness.storage import RunStore

NAN = math.nan


def estimate(name: str, point: float, low: float, high: float) -> dict[str, float]:
    return {name: point, f"{name}_low": low, f"{name}_high": high}


def swiss_frame(values: dict[str, list[float]], zero: dict[str, list[float]]) -> pd.DataFrame:
    """One experiment, settings horizon=2, 4, 8; per agent final successes and zero-signal."""
    rows = []
    for i, h in enumerate((2, 4, 8)):
        for agent in values:
            v, z = values[agent][i], zero[agent][i]
            rows.append(
                {
                    "experiment": "lock",
                    "setting": f"horizon={h}",
                    "agent": agent,
                    "seeds": 10,
                    "aggregate": "IQM",
                    **estimate("final_success", v, max(v - 0.1, 0), min(v + 0.1, 1)),
                    **estimate("zero_signal", z, z, z),
                }
            )
    return pd.DataFrame(rows)


def test_swiss_reading_by_hand():
    frame = swiss_frame(
        {"ppo": [1.0, 0.9, 0.2], "rs": [0.5, 0.5, 0.5]},
        {"ppo": [0.0, 0.1, 0.8], "rs": [0.5, 0.5, 0.5]},
    )
    assert R.swiss_reading(frame) == (
        "lock: the final train success (IQM over seeds; n = 10 seeds per cell): ppo's falls from "
        "1.00 [0.90, 1.00] at horizon=2 to 0.20 [0.10, 0.30] at horizon=8; rs's is "
        "0.50 [0.40, 0.60] at horizon=2 and 0.50 [0.40, 0.60] at horizon=8. The largest drop "
        "between consecutive settings is ppo's, horizon=4 to horizon=8 (0.90 to 0.20). The "
        "fraction of training batches with no reward at all: ppo's ranges from 0.00 [0.00, 0.00] "
        "at horizon=2 to 0.80 [0.80, 0.80] at horizon=8; rs's is 0.50 everywhere."
    )


def test_swiss_reading_follows_the_numbers():
    rising = swiss_frame({"ppo": [0.1, 0.5, 0.9]}, {"ppo": [0.0, 0.0, 0.0]})
    text = R.swiss_reading(rising)
    assert "ppo's rises from 0.10 [0.00, 0.20] at horizon=2 to 0.90 [0.80, 1.00]" in text
    assert "largest drop" not in text  # nothing fell
    assert "ppo's is 0.00 everywhere" in text
    assert R.swiss_reading(rising.iloc[:0]) == ""


def frontier_row(agent: str, h50: tuple[float, float, float], censored: str = "", **flags):
    return {
        "experiment": "lock",
        "agent": agent,
        "difficulty": "horizon",
        "fixed": "-",
        "levels": "2, 4, 8, 12",
        "seeds": 5,
        "solved": "5/5, 5/5, 2/5, 0/5",
        **estimate("h50", *h50),
        "h50_censored": censored,
        "h50_low_censored": flags.get("low", False),
        "h50_high_censored": flags.get("high", False),
    }


def test_frontier_reading_by_hand_with_censoring():
    frame = pd.DataFrame(
        [
            frontier_row("ppo", (7.2, 6.5, 8.1)),
            frontier_row("rs", (12.0, 12.0, 12.0), "above", high=True),
        ]
    )
    assert R.frontier_reading(frame) == (
        "lock, horizon: the horizon at which half the seeds succeed. ppo's H50 is 7.2 [6.5, 8.1] "
        "(n = 5 seeds per level, levels 2, 4, 8, 12); rs's H50 is >12 [>=12, >=12] (n = 5 seeds "
        "per level, levels 2, 4, 8, 12). ('<' or '>': half the seeds succeed only outside the "
        "tested levels.)"
    )
    # Without censoring, no note; another difficulty is named by its parameter.
    plain = pd.DataFrame([{**frontier_row("ppo", (2.5, 2.0, 3.0)), "difficulty": "action_dim"}])
    assert R.frontier_reading(plain) == (
        "lock, action_dim: the action_dim at which half the seeds succeed. ppo's d50 is "
        "2.5 [2, 3] (n = 5 seeds per level, levels 2, 4, 8, 12)."
    )


def seeds_row(setting: str, std: float, split: float, needed: float, n: int = 10):
    return {
        "experiment": "lock",
        "setting": setting,
        "agent": "ppo",
        "seeds": n,
        "aggregate": "IQM",
        **estimate("central", 0.5, 0.4, 0.6),
        **estimate("mean", 0.5, 0.4, 0.6),
        **estimate("median", 0.5, 0.4, 0.6),
        **estimate("optimality_gap", 0.5, 0.4, 0.6),
        **estimate("std", std, std / 2, std * 2),
        "cv": std / 0.5,
        "min": 0.0,
        "max": 1.0,
        "split_test": split,
        "partitions": 126,
        **estimate("seeds_needed", needed, needed - 5, needed + 5),
    }


def test_seeds_reading_by_hand():
    frame = pd.DataFrame(
        [seeds_row("horizon=2", 0.1, 0.0, 10), seeds_row("horizon=4", 0.4, 0.25, 60)]
    )
    assert R.seeds_reading(frame) == (
        "The spread over seeds is widest for ppo at lock horizon=4: std 0.40 [0.20, 0.80], seeds "
        "from 0.00 to 1.00 (n = 10 seeds). Split into two equal halves, one configuration's "
        "seeds differ 'significantly' (Welch t-test) in up to 25% of the 126 splits (ppo at lock "
        "horizon=4). The most seeds needed for the target interval width is 60 [55, 65], for "
        "ppo at lock horizon=4."
    )
    quiet = pd.DataFrame([seeds_row("horizon=2", 0.1, 0.0, 10)])
    assert "No split of any cell's seeds into two halves differs" in R.seeds_reading(quiet)
    single = pd.DataFrame([seeds_row("horizon=2", NAN, NAN, NAN, n=1)])
    assert R.seeds_reading(single) == (
        "Every cell has one seed: there is no spread over seeds to report."
    )


def poi_row(setting: str, p: tuple[float, float, float]):
    return {
        "experiment": "lock",
        "setting": setting,
        "x": "a2c",
        "y": "ppo",
        "seeds_x": 5,
        "seeds_y": 5,
        **estimate("p_x_better", *p),
    }


def test_improvement_reading_by_hand():
    frame = pd.DataFrame(
        [
            poi_row("horizon=2", (0.9, 0.7, 1.0)),  # a2c better
            poi_row("horizon=4", (0.5, 0.3, 0.7)),  # undecided
            poi_row("horizon=8", (0.1, 0.0, 0.3)),  # ppo better
        ]
    )
    assert R.improvement_reading(frame) == (
        "In 2 of 3 comparisons the interval of P(x > y) excludes 0.5: a2c over ppo at lock "
        "horizon=2 (P(a2c > ppo) = 0.90 [0.70, 1.00]) and ppo over a2c at lock horizon=8 "
        "(P(a2c > ppo) = 0.10 [0.00, 0.30])."
    )
    assert R.improvement_reading(frame.iloc[[1]]).startswith(
        "In none of the 1 comparisons does the interval of P(x > y) exclude 0.5"
    )


def test_listing_stops_after_a_few():
    assert R._listed(["a"]) == "a"
    assert R._listed(["a", "b"]) == "a and b"
    assert R._listed(list("abcdef")) == "a, b, c, d and 2 more"


def gen_row(setting: str, train: float, test: float, gap: tuple[float, float, float]):
    return {
        "experiment": "lock",
        "setting": setting,
        "agent": "ppo",
        "split": "heldout",
        "seeds": 5,
        **estimate("train", train, train - 0.1, train),
        **estimate("test", test, max(test - 0.1, 0), test + 0.1),
        **estimate("gap", *gap),
    }


def test_gen_reading_by_hand():
    frame = pd.DataFrame(
        [
            gen_row("horizon=2", 1.0, 0.25, (0.75, 0.6, 0.9)),
            gen_row("horizon=4", 0.5, 0.5, (0.0, -0.1, 0.1)),
            gen_row("horizon=8", 0.2, 0.4, (-0.2, -0.3, -0.1)),
        ]
    )
    assert R.gen_reading(frame) == (
        "1 of 3 gaps (train minus held-out split) have an interval wholly above 0 and 1 wholly "
        "below 0. The largest is ppo's at lock horizon=2 on heldout: train 1.00 [0.90, 1.00], "
        "heldout 0.25 [0.15, 0.35], gap 0.75 [0.60, 0.90] (n = 5 seeds)."
    )


def test_packer_reading_by_hand():
    frame = pd.DataFrame(
        [
            {
                "env": "rlbench3/CartPole-v0",
                "setting": "-",
                "agent": "ppo",
                "experiments": "d / r",
                "seeds": "5/5",
                **estimate("default", 0.9, 0.8, 1.0),
                **estimate("interpolation", 0.7, 0.6, 0.8),
                **estimate("extrapolation", 0.3, 0.2, 0.4),
            }
        ]
    )
    assert R.packer_reading(frame) == (
        "ppo on CartPole-v0 (-): Default 0.90 [0.80, 1.00], Interpolation 0.70 [0.60, 0.80], "
        "Extrapolation 0.30 [0.20, 0.40] (seeds trained on D/R: 5/5)."
    )


def test_seeds_text():
    assert R._seeds([10, 10]) == "n = 10 seeds per cell"
    assert R._seeds([3, 10]) == "n = 3-10 seeds per cell"
    assert R._seeds(["3-5"], "seeds per level") == "n = 3-5 seeds per level"
    assert R._seeds([]) == "n unknown seeds per cell"


@pytest.fixture(scope="module")
def tiny_tables(tmp_path_factory, make_config, make_record):
    """Real sections of a hand-written results folder: 2 agents × horizons 1, 2, 3 × 4 seeds,
    with a held-out split."""
    folder = tmp_path_factory.mktemp("readings")
    store = RunStore(folder)
    rates = {1: [1.0, 1.0, 1.0, 0.75], 2: [1.0, 0.5, 0.75, 0.0], 3: [0.0, 0.0, 0.25, 0.0]}
    splits = lambda h: {  # noqa: E731
        "train": {"preset": "D", "num_actions": 2, "horizon": h},
        "heldout": {"num_actions": 2, "horizon": h, "combination_seed": 7},
    }
    for agent, shift in (("ppo", 0.0), ("a2c", 0.25)):
        for h, by_seed in rates.items():
            for seed, rate in enumerate(by_seed):
                config = make_config(
                    setting={"horizon": h}, splits=splits(h), seed=seed, agent=agent
                )
                rate = max(rate - shift, 0.0)
                store.write(config, make_record({"train": rate, "heldout": rate / 2}))
    curves, episodes = load(folder), load_episodes(folder)
    return {
        kind: build_tables(curves, episodes, kind, reps=100, seed=1)
        for kind in ("swiss", "seeds", "gen")
    }


def test_every_real_section_gets_a_reading_that_quotes_its_table(tiny_tables):
    for kind, sections in tiny_tables.items():
        for title, frame in sections.items():
            text = R.table_reading(frame)
            assert text, (kind, title)
            cells = " ".join(display_frame(frame).astype(str).to_numpy().ravel())
            # Every interval the reading quotes is an interval of the table.
            quoted = re.findall(r"[<>]?-?\d+(?:\.\d+)? \[[^\]]+\]", text)
            assert quoted, (title, text)
            for interval in quoted:
                assert interval in cells, (title, interval)


def test_a_section_without_a_reading_gets_none():
    assert R.table_reading(pd.DataFrame({"env": ["x"], "D": [1.0]})) == ""
