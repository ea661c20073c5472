"""Suite files: validation with file/line/key errors, expansion into run configs, run identity."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from rlbench3.agents.config import AgentSpec
from rlbench3.data import shipped_names
from rlbench3.data.yaml_lines import ConfigError
from rlbench3.harness.run_config import EvalSpec, RunConfig
from rlbench3.harness.suites import Experiment, load_suite, plan_runs

TINY = """\
seeds: 2
budget: 500
eval: {every: 250, episodes: 4}
agents: [ppo, random_search]
experiments:
  - name: lock
    env: rlbench3/CombinationLock-v0
    params: {num_actions: 3}
    grid: {horizon: [2, 3], reward_mode: [sparse, dense]}
    train: D
    splits:
      other: {combination_seed: {low: 10, high: 20}}
  - name: reach
    env: rlbench3/SparseReach-v0
    grid: {action_dim: [1]}
    train: {mass: {low: 0.5, high: 1.5}}
    agents: [sac]
    seeds: 1
    budget: 300
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", shipped_names("envs"))
def test_every_shipped_suite_plans(name):
    runs = plan_runs(load_suite(name))
    assert runs and all(isinstance(r, RunConfig) for r in runs)
    assert len({r.run_id for r in runs}) == len(runs)
    for r in runs:
        json.loads(r.to_json())  # plain JSON data throughout (no YAML nodes)
        assert RunConfig.from_json(r.to_json()) == r


def test_tiny_suite_loads_into_experiments_with_the_defaults_filled_in(tmp_path):
    suite = load_suite(write(tmp_path, TINY))
    assert suite.name == "suite" and suite.path == str(tmp_path / "suite.yaml")
    lock, reach = suite.experiments
    assert all(isinstance(exp, Experiment) for exp in suite.experiments)
    assert (lock.name, lock.env_id, lock.where) == (
        "lock",
        "rlbench3/CombinationLock-v0",
        "experiments[0]",
    )
    assert lock.params == {"num_actions": 3}
    assert lock.grid == {"horizon": [2, 3], "reward_mode": ["sparse", "dense"]}
    assert lock.train == "D"
    assert lock.splits == {"other": {"combination_seed": {"low": 10, "high": 20}}}
    # Suite defaults ...
    assert (lock.seeds, lock.budget, lock.agents) == (2, 500, ("ppo", "random_search"))
    assert lock.eval == EvalSpec(every=250, episodes=4)
    # ... and an experiment's own values.
    assert (reach.name, reach.where, reach.seeds, reach.budget) == (
        "reach",
        "experiments[1]",
        1,
        300,
    )
    assert reach.agents == ("sac",) and reach.eval == lock.eval
    assert reach.train == {"mass": {"low": 0.5, "high": 1.5}} and reach.splits == {}
    # Plain data, not the YAML nodes that remember their lines (those stay in ``node``).
    for exp in suite.experiments:
        for value in (exp.params, exp.grid, exp.splits, *exp.grid.values()):
            assert type(value) in (dict, list)
        assert type(exp.node) is not dict and exp.node["name"] == exp.name


def test_tiny_suite_expands_to_the_cartesian_product(tmp_path):
    runs = plan_runs(load_suite(write(tmp_path, TINY)))
    lock = [r for r in runs if r.experiment == "lock"]
    reach = [r for r in runs if r.experiment == "reach"]
    assert len(runs) == len(lock) + len(reach)
    assert len(lock) == 2 * 2 * 2 * 2  # horizons x reward modes x agents x seeds
    assert len(reach) == 1
    assert {(r.label, r.agent.name, r.seed) for r in lock} == {
        (f"horizon={h}, reward_mode={m}", a, s)
        for h in (2, 3)
        for m in ("sparse", "dense")
        for a in ("ppo", "random_search")
        for s in (0, 1)
    }
    c = lock[0]
    assert (c.suite, c.env_id, c.family) == (
        "suite",
        "rlbench3/CombinationLock-v0",
        "CombinationLock",
    )
    assert c.setting == {"horizon": 2, "reward_mode": "sparse"}
    assert c.label == "horizon=2, reward_mode=sparse"
    assert c.splits["train"] == {
        "preset": "D",
        "num_actions": 3,
        "horizon": 2,
        "reward_mode": "sparse",
    }
    assert c.splits["other"]["combination_seed"] == {"low": 10, "high": 20}
    assert c.eval == EvalSpec(every=250, episodes=4) and c.budget == 500
    assert isinstance(c.agent, AgentSpec) and (c.agent.name, c.agent.algo) == ("ppo", "PPO")
    r = reach[0]
    assert r.agent.algo == "SAC" and r.budget == 300 and r.seed == 0
    assert r.family == "SparseReach" and r.setting == {"action_dim": 1}
    assert r.splits == {"train": {"action_dim": 1, "mass": {"low": 0.5, "high": 1.5}}}
    # The dict shape of a run is exactly the config's fields: no private keys travel with it.
    # (the optional fields, unset here, are left out: a curriculum)
    names = {f.name for f in dataclasses.fields(RunConfig)} - {"curriculum"}
    assert all(set(run.to_dict()) == names for run in runs)


def test_planned_configs_share_no_mutable_state(tmp_path):
    runs = plan_runs(load_suite(write(tmp_path, TINY)))
    before = [r.to_json() for r in runs]
    runs[0].splits["train"]["horizon"] = 99
    runs[0].setting["horizon"] = 99
    assert [r.to_json() for r in runs[1:]] == before[1:]


def test_planned_configs_share_no_agent_settings(tmp_path):
    runs = plan_runs(load_suite(write(tmp_path, TINY)))
    before = [r.to_json() for r in runs]
    runs[0].agent.hyperparams["n_steps"] = 7
    assert [r.to_json() for r in runs[1:]] == before[1:]


def test_cli_style_overrides(tmp_path):
    suite = load_suite(write(tmp_path, TINY))
    runs = plan_runs(suite, agents=["a2c"], seeds=1, budget=99)
    assert {r.agent.name for r in runs} == {"a2c"}
    assert {r.seed for r in runs} == {0}
    assert {r.budget for r in runs} == {99}


def test_run_id_is_the_hash_of_the_resolved_config(tmp_path):
    a = plan_runs(load_suite(write(tmp_path, TINY)))
    b = plan_runs(load_suite(write(tmp_path, TINY)))
    assert a == b
    assert [r.run_id for r in a] == [r.run_id for r in b]
    for r in a:
        assert r.run_id == hashlib.sha256(r.to_json().encode()).hexdigest()[:16]
        assert RunConfig.from_json(r.to_json()).run_id == r.run_id
    changed = plan_runs(load_suite(write(tmp_path, TINY.replace("budget: 500", "budget: 501"))))
    assert not {r.run_id for r in changed if r.experiment == "lock"} & {r.run_id for r in a}
    # The experiment that overrides the budget is the same run.
    assert [r.run_id for r in changed if r.experiment == "reach"] == [
        r.run_id for r in a if r.experiment == "reach"
    ]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("    grid: {horizon: [2, 3]", "    grid: {horizn: [2, 3]"),
            r"suite.yaml:\d+: experiments\[0\] \(lock, horizn=2, .*\): unknown parameter 'horizn'",
        ),
        (
            ("    grid: {horizon: [2, 3]", "    grid: {horizon: [0, 3]"),
            r"experiments\[0\] \(lock, horizon=0.*horizon must be an integer >= 1.*got 0",
        ),
        (
            ("    train: D", "    trian: D"),
            r"suite.yaml:10: experiments\[0\].trian: unknown key \(did you mean 'train'\?\)",
        ),
        (("    train: D", "    train: X"), r"preset must be one of D, R, E"),
        (
            ("env: rlbench3/CombinationLock-v0", "env: rlbench3/Nope-v0"),
            r"suite.yaml:7: experiments\[0\].env: unknown env id 'rlbench3/Nope-v0'",
        ),
        (("agents: [sac]", "agents: [dqn]"), r"DQN cannot be trained on a Box action space"),
        (("agents: [sac]", "agents: [nope]"), r"no shipped agent .nope."),
        (("seeds: 2", "seeds: 0"), r"suite.yaml:1: seeds: expected an integer >= 1, got 0"),
        (("budget: 500", "budget: lots"), r"suite.yaml:2: budget: expected an integer >= 1"),
        (
            ("eval: {every: 250, episodes: 4}", "eval: {every: 250, episode: 4}"),
            r"suite.yaml:3: eval.episode: unknown key \(did you mean 'episodes'\?\)",
        ),
        (("      other:", "      train:"), r"'train' is the training distribution itself"),
        (("  - name: reach", "  - name: lock"), r"duplicate experiment name 'lock'"),
        (
            ("    grid: {action_dim: [1]}", "    grid: {action_dim: []}"),
            r"experiments\[1\].grid.action_dim: needs at least one value",
        ),
        (("experiments:", "experimentz:"), r"suite.yaml:5: experimentz: unknown key"),
        # 12: a split must keep the train split's action and observation spaces
        (
            ("other: {combination_seed: {low: 10, high: 20}}", "other: {num_actions: 4}"),
            r"suite.yaml:12: experiments\[0\] \(lock, horizon=2, reward_mode=sparse, split "
            r"'other'\): its action space Discrete\(4\) differs from the train split's "
            r"Discrete\(3\)",
        ),
        (
            ("other: {combination_seed: {low: 10, high: 20}}", "other: {horizon: 5}"),
            r"split 'other'\): its observation space .* differs from the train split's",
        ),
        # integers beyond 64 bits, NaN, numbers YAML reads as strings
        (
            (
                "{combination_seed: {low: 10, high: 20}}",
                "{combination_seed: {low: 10, high: 100000000000000000000000}}",
            ),
            r"suite.yaml:12: experiments\[0\].splits.other.combination_seed.high: "
            r"100000000000000000000000 is beyond the range of 64-bit integers",
        ),
        (
            ("train: {mass: {low: 0.5, high: 1.5}}", "train: {mass: {low: 5e-1, high: 1.5}}"),
            r"experiments\[1\].train.mass.low: '5e-1' is a string, not a number.*write 5.0e-1",
        ),
        (("train: {mass: {low: 0.5,", "train: {mass: {low: .nan,"), r"NaN is not a parameter"),
        # empty lists, duplicates
        (("agents: [ppo, random_search]", "agents: []"), r"suite.yaml:4: agents: needs at least"),
        (("agents: [sac]", "agents: [sac, sac]"), r"agent 'sac' is listed twice"),
        (
            ("grid: {horizon: [2, 3]", "grid: {horizon: [2, 3, 2.0]"),
            r"suite.yaml:9: experiments\[0\].grid.horizon: the value 2.0 is listed twice",
        ),
        # env ids: registered ones only, never module:id (Gymnasium would import the module)
        (
            ("env: rlbench3/SparseReach-v0", "env: rlbench3/SparseRech-v0"),
            r"unknown env id 'rlbench3/SparseRech-v0' \(did you mean 'rlbench3/SparseReach-v0'",
        ),
        (
            ("env: rlbench3/SparseReach-v0", "env: os:SparseReach-v0"),
            r"suite.yaml:14: experiments\[1\].env: 'os:SparseReach-v0' is a module-qualified "
            r"id: Gymnasium would import 'os'",
        ),
    ],
)
def test_invalid_suites_name_file_line_and_key(tmp_path, edit, message):
    old, new = edit
    assert old in TINY
    with pytest.raises(ConfigError, match=message):
        plan_runs(load_suite(write(tmp_path, TINY.replace(old, new, 1))))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"suite.yaml: a suite file must be a mapping .* but it is empty"),
        ("- name: a\n", r"suite.yaml: a suite file must be a mapping .* but it is a list"),
        ("experiments: []\n", r"suite.yaml:1: experiments: needs at least one experiment"),
    ],
)
def test_empty_and_list_shaped_suites_name_the_file(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_suite(write(tmp_path, text))


MIXTURE = """agents: [ppo]
experiments:
  - name: mix
    env: rlbench3/Mixture-v0
    params: {{env: {inner}, components: [{{mass: 1.0}}, {{mass: 2.0}}]}}
"""


def test_a_mixture_of_a_module_qualified_id_is_refused_without_importing_it(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "evil_envs.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).touch()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    path = write(tmp_path, MIXTURE.format(inner="evil_envs:Evil-v0"))
    with pytest.raises(ConfigError, match=r"suite.yaml:5: experiments\[0\].params.env: "
                       r"'evil_envs:Evil-v0' is a module-qualified id"):  # fmt: skip
        plan_runs(load_suite(path))
    assert not marker.exists()
    with pytest.raises(ConfigError, match=r"params.env: unknown env id 'rlbench3/Nope-v0'"):
        load_suite(write(tmp_path, MIXTURE.format(inner="rlbench3/Nope-v0")))
    runs = plan_runs(load_suite(write(tmp_path, MIXTURE.format(inner="rlbench3/SparseReach-v0"))))
    assert len(runs) == 3


def test_a_plan_over_the_limit_needs_to_be_asked_for(tmp_path):
    from rlbench3.harness.suites import MAX_RUNS, PlanTooLarge, plan_size
    from rlbench3.harness.sweep import plan_suite

    huge = TINY.replace("seeds: 2", "seeds: 100000000")
    suite = load_suite(write(tmp_path, huge))
    assert plan_size(suite) == {"lock": 2 * 2 * 2 * 10**8, "reach": 1}
    with pytest.raises(PlanTooLarge, match=r"plans 800,000,001 runs, more than the limit of "
                       r"10,000 \('lock': 800,000,000 runs\).*--yes"):  # fmt: skip
        plan_runs(suite)
    with pytest.raises(PlanTooLarge):
        plan_suite(write(tmp_path, TINY), seeds=10**8)
    # a 10^6-point grid is refused before a single env is made
    grid = "[" + ", ".join(str(i) for i in range(1, 1001)) + "]"
    wide = TINY.replace("reward_mode: [sparse, dense]", f"num_actions: {grid}, length: {grid}")
    with pytest.raises(PlanTooLarge, match="more than the limit"):
        plan_runs(load_suite(write(tmp_path, wide.replace("params: {num_actions: 3}", ""))))
    # under the limit, or with the limit lifted, it plans
    tiny = load_suite(write(tmp_path, TINY))
    assert sum(plan_size(tiny).values()) == 17 and MAX_RUNS == 10_000
    assert len(plan_runs(tiny, max_runs=17)) == 17
    with pytest.raises(PlanTooLarge, match="plans 17 runs, more than the limit of 16"):
        plan_runs(tiny, max_runs=16)
    three = plan_runs(load_suite(write(tmp_path, TINY)), seeds=3, max_runs=None)
    assert len(three) == 2 * 2 * 2 * 3 + 3


def test_unknown_suite_lists_known_suites():
    with pytest.raises(ConfigError, match=r"shipped suites: .*quick"):
        load_suite("no_such_suite")


# --------------------------------------------------------------------------------------------
# curriculum: a schedule of a training-env parameter (issue 14)

CURRICULUM = """\
seeds: 2
budget: 1000
agents: [ppo, a2c]
experiments:
  - name: plain
    env: rlbench3/CombinationLock-v0
    params: {num_actions: 2}
    grid: {horizon: [8, 10]}
  - name: curriculum
    env: rlbench3/CombinationLock-v0
    params: {num_actions: 2}
    grid: {horizon: [8, 10]}
    splits:
      unseen: {combination_seed: 5}
    curriculum:
      parameter: start_step
      stages: [[0.0, 0.75], [0.25, 0.5], [0.5, 0.25], [0.75, 0.0]]
"""


def test_a_curriculum_is_resolved_per_grid_point_and_only_in_its_runs(tmp_path):
    from rlbench3.harness.run_config import Curriculum

    suite = load_suite(write(tmp_path, CURRICULUM))
    assert suite.experiments[1].curriculum == {
        "parameter": "start_step",
        "stages": [[0.0, 0.75], [0.25, 0.5], [0.5, 0.25], [0.75, 0.0]],
    }
    runs = plan_runs(suite)
    by = {(r.experiment, r.setting["horizon"], r.agent.name, r.seed): r for r in runs}
    # floor(value * H): H = 8 -> 6, 4, 2, 0; H = 10 -> 7, 5, 2, 0
    assert by["curriculum", 8, "ppo", 0].curriculum == Curriculum(
        "start_step", ((0.0, 6), (0.25, 4), (0.5, 2), (0.75, 0))
    )
    assert by["curriculum", 10, "a2c", 1].curriculum == Curriculum(
        "start_step", ((0.0, 7), (0.25, 5), (0.5, 2), (0.75, 0))
    )
    # The splits keep their parameters: evaluation never sees the schedule.
    assert by["curriculum", 8, "ppo", 0].splits == {
        "train": {"preset": "D", "num_actions": 2, "horizon": 8},
        "unseen": {"num_actions": 2, "horizon": 8, "combination_seed": 5},
    }
    assert all(r.curriculum is None for r in runs if r.experiment == "plain")
    # The curriculum is in the run id; without one, a run's id is that of a suite that never
    # heard of curricula (the same experiment written without the key).
    plain = plan_runs(load_suite(write(tmp_path, CURRICULUM.split("    curriculum:")[0])))
    for run, before in zip((r for r in runs if r.experiment == "curriculum"), plain[8:]):
        assert dataclasses.replace(run, curriculum=None).run_id == before.run_id != run.run_id
        assert RunConfig.from_json(run.to_json()) == run


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("parameter: start_step", "parameter: horizon"),
            r"suite.yaml:16: experiments\[1\].curriculum.parameter: rlbench3/CombinationLock-v0 "
            r"cannot change 'horizon' during training \(a curriculum can schedule start_step\)",
        ),
        (
            ("parameter: start_step", "parameter: start_stp"),
            r"curriculum.parameter: 'start_stp' is not a parameter of rlbench3/CombinationLock-v0 "
            r"\(did you mean 'start_step'\?\); a curriculum can schedule start_step",
        ),
        (("parameter: start_step", "parameter: [start_step]"), r"expected a parameter name"),
        (
            ("      parameter: start_step\n", ""),
            r"suite.yaml:16: experiments\[1\].curriculum: missing required key 'parameter'",
        ),
        (
            ("      stages:", "      stage:"),
            r"experiments\[1\].curriculum.stage: unknown key \(did you mean 'stages'\?\)",
        ),
        (("[[0.0, 0.75], [0.25", "[[0.1, 0.75], [0.25"), r"the first stage starts at 0, got 0.1"),
        (
            ("[0.25, 0.5], [0.5, 0.25]", "[0.5, 0.5], [0.25, 0.25]"),
            r"suite.yaml:17: experiments\[1\].curriculum.stages\[2\]: stage starts must increase "
            r"strictly, got 0.25 after 0.5",
        ),
        (
            ("[0.75, 0.0]]", "[0.75, 1.0]]"),
            r"curriculum.stages\[3\]: a stage is \[start, value\], two fractions >= 0 and < 1",
        ),
        (("[0.75, 0.0]]", "[1.0, 0.0]]"), r"curriculum.stages\[3\]: a stage is \[start, value\]"),
        (("[0.75, 0.0]]", "[0.75]]"), r"curriculum.stages\[3\]: a stage is \[start, value\]"),
        (("[0.75, 0.0]]", "[0.75, true]]"), r"curriculum.stages\[3\]: a stage is"),
        (
            ("[0.75, 0.0]]", "[0.75, 5e-1]]"),
            r"suite.yaml:17: experiments\[1\].curriculum.stages\[3\]\[1\]: '5e-1' is a string",
        ),
        (("[0.75, 0.0]]", "[0.75, 0.0]]}"), r"not valid YAML"),
        (
            ("stages: [[0.0, 0.75], [0.25, 0.5], [0.5, 0.25], [0.75, 0.0]]", "stages: {a: 1}"),
            r"suite.yaml:17: experiments\[1\].curriculum.stages: expected a list",
        ),
        (
            ("stages: [[0.0, 0.75], [0.25, 0.5], [0.5, 0.25], [0.75, 0.0]]", "stages: []"),
            r"curriculum.stages: needs at least one stage",
        ),
        (("    curriculum:\n", "    curriculum: 3\n"), r"curriculum: expected a mapping"),
        # agents that cannot follow a schedule are refused when the suite is planned
        (
            ("agents: [ppo, a2c]", "agents: [ppo, random_search]"),
            r"suite.yaml: experiments\[1\] \(curriculum\), agent 'random_search': "
            r"'random_search' \(random_search\) cannot follow a curriculum: it ranks candidates",
        ),
        (
            ("agents: [ppo, a2c]", "agents: [ppo_population]"),
            r"'ppo_population' \(PPO_population\) cannot follow a curriculum: the population "
            r"trainer",
        ),
    ],
)
def test_invalid_curricula_name_file_line_and_key(tmp_path, edit, message):
    old, new = edit
    assert old in CURRICULUM
    text = CURRICULUM.replace(old, new, 1)
    if new == "    curriculum: 3\n":
        text = text.split("    curriculum: 3\n")[0] + "    curriculum: 3\n"
    with pytest.raises(ConfigError, match=message):
        plan_runs(load_suite(write(tmp_path, text)))


def test_a_curriculum_needs_an_env_that_can_schedule_the_parameter(tmp_path):
    text = """\
agents: [sac]
experiments:
  - name: reach
    env: rlbench3/SparseReach-v0
    curriculum: {parameter: action_dim, stages: [[0.0, 0.5]]}
"""
    with pytest.raises(
        ConfigError,
        match=r"suite.yaml:5: experiments\[0\].curriculum.parameter: rlbench3/SparseReach-v0 "
        r"cannot change 'action_dim' during training \(a curriculum can schedule none of its "
        r"parameters\)",
    ):
        plan_runs(load_suite(write(tmp_path, text)))


def test_external_agents_cannot_follow_a_curriculum(tmp_path):
    from rlbench3.agents.config import AgentConfig

    external = AgentConfig("mine", "external", "", 4)
    with pytest.raises(ConfigError, match=r"'mine' \(external\) cannot follow a curriculum"):
        plan_runs(load_suite(write(tmp_path, CURRICULUM)), agents=[external], external=True)
