"""RunConfig: a typed, frozen run config with a JSON round trip whose hash is the run's id."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlbench3.agents.config import AgentSpec
from rlbench3.harness.run_config import Curriculum, EvalSpec, RunConfig, setting_label


def explicit_config() -> RunConfig:
    """Written out in full (not through the shared builder), so the pinned id below depends on
    nothing but RunConfig itself."""
    return RunConfig(
        suite="unit",
        experiment="lock",
        env_id="rlbench3/CombinationLock-v0",
        family="CombinationLock",
        setting={"horizon": 4, "num_actions": 2},
        splits={
            "train": {"preset": "D", "horizon": 4, "num_actions": 2},
            "unseen": {"horizon": 4, "num_actions": 2, "combination_seed": {"low": 10, "high": 20}},
        },
        agent=AgentSpec(
            "ppo",
            "PPO",
            "MlpPolicy",
            4,
            {"learning_rate": "lin_3.0e-4", "policy_kwargs": {"net_arch": [64, 64]}},
        ),
        seed=3,
        budget=20_000,
        eval=EvalSpec(every=5000, episodes=20),
    )


# --------------------------------------------------------------------------------------------
# JSON round trip


def test_json_round_trip(make_config):
    for config in (explicit_config(), make_config(), make_config(setting={}, hyperparams={})):
        text = config.to_json()
        back = RunConfig.from_json(text)
        assert back == config
        assert isinstance(back.agent, AgentSpec) and isinstance(back.eval, EvalSpec)
        assert back.to_json() == text  # canonical: a second round trip changes nothing
        assert back.run_id == config.run_id
        assert RunConfig.from_dict(config.to_dict()) == config


def test_to_json_is_canonical_json_of_plain_data():
    config = explicit_config()
    text = config.to_json()
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, separators=(",", ":"))
    assert data == config.to_dict()
    # every field but the optional ones left unset (a curriculum, demonstrations)
    assert set(data) == {f.name for f in dataclasses.fields(RunConfig)} - {"curriculum"}
    assert data["agent"] == {
        "name": "ppo",
        "algo": "PPO",
        "policy": "MlpPolicy",
        "n_envs": 4,
        "hyperparams": {"learning_rate": "lin_3.0e-4", "policy_kwargs": {"net_arch": [64, 64]}},
    }
    assert data["eval"] == {"every": 5000, "episodes": 20, "deterministic": True}
    assert data["env_id"] == "rlbench3/CombinationLock-v0" and data["family"] == "CombinationLock"


def test_to_dict_and_from_dict_copy(make_config):
    config = make_config(hyperparams={"policy_kwargs": {"net_arch": [64, 64]}})
    before = config.to_json()
    data = config.to_dict()
    data["splits"]["train"]["horizon"] = 99
    data["agent"]["hyperparams"]["policy_kwargs"]["net_arch"].append(1)
    data["setting"]["horizon"] = 99
    assert config.to_json() == before  # the dict is a copy, not a view
    source = config.to_dict()
    back = RunConfig.from_dict(source)
    source["splits"]["train"]["horizon"] = 99
    source["agent"]["hyperparams"]["policy_kwargs"]["net_arch"].append(1)
    assert back.to_json() == before  # ... and from_dict does not keep the caller's dicts


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
PARAMS = st.dictionaries(st.text(min_size=1, max_size=8), JSON_VALUES, max_size=4)


@settings(max_examples=60, deadline=None)
@given(setting=PARAMS, train=PARAMS, hyperparams=PARAMS, seed=st.integers(0, 2**31))
def test_any_json_config_round_trips(make_config, setting, train, hyperparams, seed):
    config = make_config(
        setting=setting, splits={"train": train}, hyperparams=hyperparams, seed=seed
    )
    back = RunConfig.from_json(config.to_json())
    assert back == config and back.run_id == config.run_id


# --------------------------------------------------------------------------------------------
# The run id


def test_run_id_is_the_hash_of_the_canonical_json():
    config = explicit_config()
    assert config.run_id == hashlib.sha256(config.to_json().encode()).hexdigest()[:16]
    assert re.fullmatch(r"[0-9a-f]{16}", config.run_id)


def test_run_id_is_pinned():
    # Every results folder names its records by this hash: if it changes, no earlier record is
    # found again. A change of the config's shape must come with a new storage.FORMAT (and a
    # new value here).
    # Format 4 changed the records (evaluation seeds, zero-signal unit), not the config's shape.
    assert explicit_config().run_id == "bdd855bb02fe1dc9"  # formats 3 and 4


def test_equal_configs_have_equal_ids(make_config):
    a = explicit_config()
    b = explicit_config()
    assert a is not b and a == b and a.run_id == b.run_id
    # Key order is not part of the identity (canonical JSON sorts keys).
    c = dataclasses.replace(
        a,
        setting=dict(reversed(list(a.setting.items()))),
        splits={name: dict(reversed(list(p.items()))) for name, p in reversed(a.splits.items())},
        agent=dataclasses.replace(
            a.agent, hyperparams=dict(reversed(list(a.agent.hyperparams.items())))
        ),
    )
    assert c == a and c.run_id == a.run_id
    # The shared builder is deterministic too.
    assert make_config(seed=2).run_id == make_config(seed=2).run_id


def _with_agent(**changes):
    return lambda c: dataclasses.replace(c, agent=dataclasses.replace(c.agent, **changes))


def _with_eval(**changes):
    return lambda c: dataclasses.replace(c, eval=dataclasses.replace(c.eval, **changes))


def _replace(**changes):
    return lambda c: dataclasses.replace(c, **changes)


# Field path -> one or more changes of it; every field of the config is covered (checked below).
CHANGES = {
    "suite": [_replace(suite="other")],
    "experiment": [_replace(experiment="lock-2")],
    "env_id": [_replace(env_id="rlbench3/SparseReach-v0")],
    "family": [_replace(family="SparseReach")],
    "setting": [
        _replace(setting={"horizon": 5, "num_actions": 2}),
        _replace(setting={"horizon": 4}),
        _replace(setting={"horizon": 4, "num_actions": 2, "reward_mode": "dense"}),
    ],
    "splits": [
        lambda c: dataclasses.replace(
            c, splits={**c.splits, "train": {**c.splits["train"], "preset": "R"}}
        ),
        lambda c: dataclasses.replace(
            c, splits={**c.splits, "extreme": {**c.splits["train"], "preset": "E"}}
        ),
        lambda c: dataclasses.replace(c, splits={"train": c.splits["train"]}),
        lambda c: dataclasses.replace(
            c, splits={"train": c.splits["train"], "other": c.splits["unseen"]}
        ),
    ],
    "agent.name": [_with_agent(name="ppo-big")],
    "agent.algo": [_with_agent(algo="A2C")],
    "agent.policy": [_with_agent(policy="CnnPolicy")],
    "agent.n_envs": [_with_agent(n_envs=8)],
    "agent.hyperparams": [
        _with_agent(hyperparams={"learning_rate": "lin_1.0e-4", "policy_kwargs": {}}),
        lambda c: _with_agent(hyperparams={**c.agent.hyperparams, "ent_coef": 0.01})(c),
        lambda c: _with_agent(
            hyperparams={**c.agent.hyperparams, "policy_kwargs": {"net_arch": [64, 32]}}
        )(c),
    ],
    "seed": [_replace(seed=4)],
    "budget": [_replace(budget=20_001)],
    "eval.every": [_with_eval(every=2500)],
    "eval.episodes": [_with_eval(episodes=21)],
    "eval.deterministic": [_with_eval(deterministic=False)],
    "curriculum": [
        _replace(curriculum=Curriculum("start_step", ((0.0, 2),))),
        _replace(curriculum=Curriculum("start_step", ((0.0, 2), (0.5, 0)))),
    ],
    "agent.demonstrations": [
        _with_agent(demonstrations={"episodes": 1}),
        _with_agent(demonstrations={"episodes": 1, "epochs": 3}),
    ],
}


def test_the_changes_cover_every_field():
    nested = {"agent": AgentSpec, "eval": EvalSpec}
    paths = set()
    for f in dataclasses.fields(RunConfig):
        if f.name in nested:
            paths |= {f"{f.name}.{g.name}" for g in dataclasses.fields(nested[f.name])}
        else:
            paths.add(f.name)
    assert set(CHANGES) == paths


@pytest.mark.parametrize(
    "change",
    [(path, i) for path, changes in CHANGES.items() for i in range(len(changes))],
    ids=lambda change: f"{change[0]}-{change[1]}",
)
def test_any_field_change_changes_the_id(change):
    path, i = change
    config = explicit_config()
    changed = CHANGES[path][i](config)
    assert changed != config
    assert changed.run_id != config.run_id
    assert RunConfig.from_json(changed.to_json()).run_id == changed.run_id


def test_every_change_gives_a_distinct_id():
    ids = [explicit_config().run_id]
    ids += [change(explicit_config()).run_id for changes in CHANGES.values() for change in changes]
    assert len(set(ids)) == len(ids)


# --------------------------------------------------------------------------------------------
# from_dict refuses what is not a config


def _drop(key):
    return lambda d: d.pop(key)


def _nested(part, edit):
    return lambda d: edit(d[part])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(extra=1), r"run config: unknown keys \['extra'\], missing keys \[\]"),
        (lambda d: d.update(env={"id": "x"}), r"run config: unknown keys \['env'\]"),
        (_drop("seed"), r"run config: unknown keys \[\], missing keys \['seed'\]"),
        (_drop("env_id"), r"missing keys \['env_id'\]"),
        (_drop("eval"), r"missing keys \['eval'\]"),  # a default in Python, required in data
        (_nested("agent", lambda a: a.update(lr=1)), r"agent: unknown keys \['lr'\]"),
        (_nested("agent", lambda a: a.pop("policy")), r"agent: .*missing keys \['policy'\]"),
        (_nested("agent", lambda a: a.pop("hyperparams")), r"missing keys \['hyperparams'\]"),
        (_nested("eval", lambda e: e.update(every_=1)), r"eval: unknown keys \['every_'\]"),
        (_nested("eval", lambda e: e.pop("episodes")), r"eval: .*missing keys \['episodes'\]"),
        (lambda d: d.update(agent="ppo"), r"agent: expected a mapping, got str"),
        (lambda d: d.update(eval=None), r"eval: expected a mapping, got NoneType"),
        (lambda d: d.update(splits={"test": {}}), r"needs a 'train' split, got \['test'\]"),
    ],
)
def test_from_dict_refuses_unknown_and_missing_keys(make_config, edit, message):
    data = make_config().to_dict()
    edit(data)
    with pytest.raises(ValueError, match=message):
        RunConfig.from_dict(data)
    with pytest.raises(ValueError, match=message):
        RunConfig.from_json(json.dumps(data))


def test_from_dict_refuses_a_non_mapping():
    with pytest.raises(ValueError, match="run config: expected a mapping, got list"):
        RunConfig.from_dict([])  # type: ignore[arg-type]


def test_a_config_needs_a_train_split(make_config):
    with pytest.raises(ValueError, match=r"needs a 'train' split, got \['D', 'R'\]"):
        make_config(splits={"D": {"preset": "D"}, "R": {"preset": "R"}})


# --------------------------------------------------------------------------------------------
# Label, immutability


def test_label_is_the_setting_as_text(make_config):
    assert make_config(setting={}).label == "default" == setting_label({})
    config = make_config(setting={"horizon": 4, "num_actions": 2})
    assert config.label == "horizon=4, num_actions=2"
    assert make_config(setting={"reward_mode": "dense"}).label == "reward_mode=dense"


def test_configs_are_frozen(make_config):
    config = make_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.agent.n_envs = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.eval.every = 1  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# Optional fields: a curriculum and an agent's demonstrations (issue 14)


def test_unset_optional_fields_leave_the_json_and_the_run_id_as_before():
    config = explicit_config()
    data = config.to_dict()
    assert "curriculum" not in data and "demonstrations" not in data["agent"]
    assert config.run_id == "bdd855bb02fe1dc9"  # the pinned id: old folders resume as they are
    assert RunConfig.from_dict(data) == config  # a record written before the fields existed


def test_a_curriculum_and_demonstrations_round_trip_and_make_new_runs():
    base = explicit_config()
    curriculum = Curriculum("start_step", ((0, 3), (0.5, 0)))
    assert curriculum.stages == ((0.0, 3), (0.5, 0))  # starts as floats: 0 and 0.0 are one
    with_curriculum = dataclasses.replace(base, curriculum=curriculum)
    demo = {"episodes": 10, "epochs": 50, "batch_size": 64, "learning_rate": 1e-3, "fit_std": False}
    with_demos = dataclasses.replace(
        base, agent=dataclasses.replace(base.agent, demonstrations=demo)
    )
    ids = {base.run_id, with_curriculum.run_id, with_demos.run_id}
    assert len(ids) == 3
    for config in (with_curriculum, with_demos):
        back = RunConfig.from_json(config.to_json())
        assert back == config and back.run_id == config.run_id
        assert back.to_json() == config.to_json()
    assert json.loads(with_curriculum.to_json())["curriculum"] == {
        "parameter": "start_step",
        "stages": [[0.0, 3], [0.5, 0]],
    }
    assert with_curriculum.curriculum.begins(1000) == [0, 500]
    assert with_curriculum.curriculum.label == "start_step 3, 0 from 50% of the budget"


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        ((), r"curriculum.stages must be a non-empty list of \[start, value\] pairs"),
        (((0.0, 1, 2),), r"curriculum.stages must be a non-empty list of \[start, value\] pairs"),
        (((0.1, 1),), r"each start must be a fraction of the budget >= 0 and < 1, the first 0"),
        (((0.0, 1), (1.0, 0)), r"each start must be a fraction .*, got \[0.0, 1.0\]"),
        (((0.0, 1), (True, 0)), r"each start must be a fraction"),
        (((0.0, 1), (0.5, 0), (0.5, 2)), r"starts must increase strictly, got \[0.0, 0.5, 0.5\]"),
    ],
)
def test_a_bad_curriculum_is_refused(stages, message):
    with pytest.raises(ValueError, match=message):
        Curriculum("start_step", stages)
    with pytest.raises(ValueError, match=r"curriculum.parameter must be a parameter name"):
        Curriculum("", ((0.0, 1),))


def test_demonstration_seeds_are_above_every_evaluation_and_training_seed():
    from rlbench3.harness.run_config import (
        DEMO_SEED_HIGH,
        EVAL_SEED_HIGH,
        demonstration_seed,
        eval_seed,
    )

    seeds = [demonstration_seed(s) for s in range(2000)]
    assert all(EVAL_SEED_HIGH <= s < DEMO_SEED_HIGH for s in seeds)
    assert len(set(seeds)) == len(seeds)  # independent draws per run seed
    assert demonstration_seed(3) == demonstration_seed(3) == explicit_config().demonstration_seed()
    assert all(eval_seed(s, "train") < EVAL_SEED_HIGH for s in range(100))
    with pytest.raises(ValueError, match=r"a run seed must be an integer >= 0, got -1"):
        demonstration_seed(-1)
