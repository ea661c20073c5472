"""Evaluation seeds: one per run and split, so runs with different seeds never share a held-out
episode, runs with the same seed (other agents, other grid points) share all of theirs (common
random numbers), and no evaluation episode is a training episode."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pytest

from rlbench3.data import find, shipped_names
from rlbench3.data.yaml_lines import load_yaml
from rlbench3.harness.run_config import EVAL_SEED_HIGH, EVAL_SEED_LOW, RunConfig, eval_seed
from rlbench3.harness.sweep import plan_suite
from rlbench3.harness.training import Evaluator

SUITES = shipped_names("envs")


def episode_seeds(config: RunConfig, split: str) -> frozenset[int]:
    """The env seeds of a run's evaluation episodes on ``split``: copy ``i`` of the evaluation
    vector env is reset with ``eval_seed + i``."""
    base = config.eval_seed(split)
    return frozenset(range(base, base + config.eval.episodes))


def training_seeds(runs: list[RunConfig]) -> set[int]:
    """Every env seed training uses: SB3's make_vec_env(seed=s) seeds copy i with s + i."""
    return {run.seed + i for run in runs for i in range(run.agent.n_envs)}


@pytest.mark.parametrize("seeds", [None, 20], ids=["shipped-seeds", "20-seeds"])
@pytest.mark.parametrize("name", SUITES)
def test_no_two_seeds_share_an_evaluation_episode(name, seeds):
    _, runs = plan_suite(name, seeds=seeds)
    training = training_seeds(runs)
    # experiment x setting x split -> run seed -> the episode seeds of each of its runs
    groups: dict[tuple[str, str, str], dict[int, set[frozenset[int]]]] = defaultdict(
        lambda: defaultdict(set)
    )
    for run in runs:
        for split in run.splits:
            groups[(run.experiment, run.label, split)][run.seed].add(episode_seeds(run, split))
    assert groups
    for key, by_seed in groups.items():
        # Runs with the same seed (the agents compared) evaluate on the same episodes ...
        assert all(len(sets) == 1 for sets in by_seed.values()), key
        episodes = {seed: next(iter(sets)) for seed, sets in by_seed.items()}
        # ... runs with different seeds on disjoint ones, none of them a training episode.
        for a, b in itertools.combinations(episodes, 2):
            assert not episodes[a] & episodes[b], (key, a, b)
        for seed, chosen in episodes.items():
            assert not chosen & training, (key, seed)
            assert EVAL_SEED_LOW <= min(chosen) and max(chosen) < EVAL_SEED_HIGH
    # Within a run, every split has its own episodes too.
    for run in runs:
        for a, b in itertools.combinations(run.splits, 2):
            assert not episode_seeds(run, a) & episode_seeds(run, b), (run.experiment, a, b)


def test_the_recorded_seeds_are_the_configs():
    # The derivation is pinned: a record's meta.eval_seeds can be recomputed from its config.
    assert eval_seed(0, "train") == 7978157348464412
    assert eval_seed(1, "train") == 7433764834309024
    assert eval_seed(0, "E") == 3188674235916794


def test_the_seed_depends_on_the_run_seed_and_the_split_name_only(make_config):
    lock = {"preset": "D", "horizon": 2}
    one = make_config(seed=3, splits={"train": lock})
    more = make_config(
        seed=3,
        agent="a2c",
        algo="A2C",
        setting={"horizon": 4},
        splits={"train": {**lock, "horizon": 4}, "E": {"preset": "E"}, "R": {"preset": "R"}},
    )
    assert one.eval_seed("train") == more.eval_seed("train") == eval_seed(3, "train")
    assert more.eval_seeds == {s: eval_seed(3, s) for s in ("E", "R", "train")}
    assert list(more.eval_seeds) == ["E", "R", "train"]
    assert len({eval_seed(s, split) for s in range(50) for split in ("train", "E", "R")}) == 150
    with pytest.raises(KeyError, match="no split 'E'"):
        one.eval_seed("E")
    for bad in (-1, 1.0, True):
        with pytest.raises(ValueError, match="a run seed must be an integer >= 0"):
            eval_seed(bad, "train")


def test_five_seeds_evaluate_on_250_distinct_parameter_draws():
    """The issue's measurement: Packer CartPole, split R, 5 seeds x 50 episodes. With the old
    seeds (10_000 + run seed, copy i at + i) they held 54 distinct parameter draws; now 250."""
    _, runs = plan_suite("packer")
    runs = [r for r in runs if r.experiment == "cartpole-train-R" and r.agent.name == "ppo"]
    assert [r.seed for r in runs] == [0, 1, 2, 3, 4] and runs[0].eval.episodes == 50

    def draws(config: RunConfig, seed: int) -> set[tuple[float, ...]]:
        evaluate = Evaluator.for_split(config, "R")
        try:
            _, info = evaluate.envs.reset(seed=seed)
        finally:
            evaluate.close()
        p = info["params"]
        return set(zip(*(np.asarray(p[k]).tolist() for k in ("force_mag", "length", "masspole"))))

    new = [draws(r, r.eval_seed("R")) for r in runs]
    old = [draws(r, 10_000 + r.seed) for r in runs]
    assert all(len(d) == 50 for d in new + old)
    assert len(set().union(*new)) == 250
    assert len(set().union(*old)) == 54


@pytest.mark.parametrize(
    ("name", "deterministic"),
    [("packer", False), ("quick", True), ("heldout", True), ("variants", True)],
)
def test_the_shipped_suites_state_their_evaluation_mode(name, deterministic):
    # Packer et al. evaluated by sampling from the policy; the others evaluate greedily. Each
    # file says so in every `eval:` (an experiment's `eval:` replaces the suite's).
    data = load_yaml(find("envs", name, "suite"))
    blocks = [data["eval"]] + [exp["eval"] for exp in data["experiments"] if "eval" in exp]
    assert all(block["deterministic"] is deterministic for block in blocks)
    _, runs = plan_suite(name)
    assert {run.eval.deterministic for run in runs} == {deterministic}
    assert {run.eval.mode for run in runs} == {"greedy" if deterministic else "sampled"}
