"""Bring your own agent: an algorithm class by import path in a sweep (process pool, Ray), and the
loop API (rlbench3.harness.external) for agents that are not SB3 classes.

The suites are tiny (a 2-step lock, 2 seeds, 2048 env steps per run). The class by import path
lives in a module written to a temporary folder on ``sys.path`` (spawned pool workers inherit
the driver's ``sys.path``; Ray workers import from the driver's working folder).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rlbench3.analysis.results import load, load_episodes, load_policy
from rlbench3.analysis.tables import render_results
from rlbench3.data.yaml_lines import ConfigError
from rlbench3.harness import storage
from rlbench3.harness.external import external_agent, suite_runs
from rlbench3.harness.storage import NoPolicyFile, RunStore
from rlbench3.harness.sweep import plan_suite, run_suite
from rlbench3.harness.training import Evaluator

MODULE = "rlb3_user_algos"
HELPER = '''
import os
from pathlib import Path

from stable_baselines3 import PPO


class TracedPPO(PPO):
    """SB3's PPO that leaves a file named after its seed and process in ``trace``."""

    def __init__(self, *args, trace: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if trace:
            Path(trace, f"seed{self.seed}-pid{os.getpid()}").touch()

'''


@pytest.fixture(scope="module")
def helper(tmp_path_factory):
    """A folder holding the user's algorithm module, on ``sys.path`` for this module's tests."""
    folder = tmp_path_factory.mktemp("user_code")
    (folder / f"{MODULE}.py").write_text(HELPER)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(folder))
        yield folder
    sys.modules.pop(MODULE, None)


def write_suite(folder: Path, *, deterministic: bool = True, agents: str = "[ppo]") -> Path:
    path = folder / "tiny.yaml"
    path.write_text(
        f"""\
description: a tiny suite for the bring-your-own-agent tests
seeds: 2
budget: 2048
eval: {{every: 1024, episodes: 8, deterministic: {str(deterministic).lower()}}}
agents: {agents}
experiments:
  - name: lock
    env: rlbench3/CombinationLock-v0
    params: {{num_actions: 2}}
    grid: {{horizon: [2]}}
    train: D
    splits:
      unseen: {{combination_seed: {{low: 1000, high: 1999}}}}
  - name: other
    env: rlbench3/CombinationLock-v0
    params: {{num_actions: 2, horizon: 3}}
"""
    )
    return path


def write_agent(folder: Path, trace: Path) -> Path:
    path = folder / "traced_ppo.yaml"
    path.write_text(
        f"""\
algo: "{MODULE}:TracedPPO"
description: SB3's PPO, subclassed in the user's own module
n_envs: 2
hyperparams:
  n_steps: 64
  batch_size: 64
  n_epochs: 2
  trace: {str(trace)!r}
"""
    )
    return path


def record_files(out: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns)
        for p in (out / "runs").glob("*.json")
        if not p.name.endswith(".failed.json")
    }


def swiss_agents(out: Path) -> list[str]:
    text = render_results(out, "swiss", reps=200)
    rows = [line.split("|")[3].strip() for line in text.splitlines() if line.startswith("| lock")]
    return sorted(set(rows))


# --------------------------------------------------------------------------------------------
# A hand-written learner for the loop API: memorise the action sequence that opened the lock


def memorising_train(run, callback_every: int = 64):
    """Random actions until a rewarded episode; then repeat its actions. The lock's observation
    one-hot encodes the step within the episode, so the learned policy is a table."""
    env = run.make_env()
    rng = np.random.default_rng(run.seed)
    table = np.zeros(8, dtype=np.int64)
    solved = False

    def policy(obs, deterministic=True):
        return table[np.argmax(obs, axis=1)]

    run.evaluate_if_due(policy)
    obs, _ = env.reset(seed=run.seed)
    episode, steps = [], 0
    while steps < run.budget:
        action = int(table[np.argmax(obs)]) if solved else int(rng.integers(2))
        episode.append((int(np.argmax(obs)), action))
        obs, reward, terminated, truncated, _ = env.step(action)
        steps += 1
        if reward > 0 and not solved:
            for position, chosen in episode:
                table[position] = chosen
            solved = True
        if terminated or truncated:
            obs, _ = env.reset()
            episode = []
        if steps % callback_every == 0:
            run.evaluate_if_due(policy)
    return policy


# --------------------------------------------------------------------------------------------
# An algorithm class by import path, and the loop API, into one results folder


def test_import_path_agent_and_loop_agent_share_a_results_folder(helper, tmp_path):
    trace = tmp_path / "trace"
    trace.mkdir()
    suite, agent = write_suite(tmp_path), write_agent(tmp_path, trace)
    out = tmp_path / "out"

    done = run_suite(suite, out, agents=[agent], experiments=["lock"], progress=False)
    assert (done.report.finished, done.report.skipped, done.report.failed) == (2, 0, [])
    traces = sorted(p.name for p in trace.iterdir())  # the user's class ran, once per seed
    assert traces == [f"seed0-pid{os.getpid()}", f"seed1-pid{os.getpid()}"]

    runs = suite_runs(suite, external_agent("memo"), out, experiments=["lock"])
    for run in runs:
        assert run.budget == 2048 and run.env_params["horizon"] == 2
        run.finish(memorising_train(run))
    assert (runs.report.planned, runs.report.finished, runs.report.skipped) == (2, 2, 0)

    store = RunStore(out)
    configs = {rid: store.read(rid).config for rid in store.finished_ids()}
    assert len(configs) == 4  # one record per run
    agents = sorted((c.agent.name, c.agent.algo, c.seed) for c in configs.values())
    assert agents == [
        ("memo", "external", 0),
        ("memo", "external", 1),
        ("traced_ppo", f"{MODULE}:TracedPPO", 0),
        ("traced_ppo", f"{MODULE}:TracedPPO", 1),
    ]
    for rid, config in configs.items():
        meta = store.read(rid).record["meta"]
        if config.agent.name == "traced_ppo":
            assert config.agent.hyperparams["trace"] == str(trace)
            assert MODULE in meta["versions"]
            assert load_policy(out, rid).predict(np.zeros((1, 4), np.float32))[0].shape == (1,)
        else:
            assert meta["policy_sha256"] is None and "not saved" in meta["policy_file"]
            with pytest.raises(NoPolicyFile, match=r"saved no policy file"):
                load_policy(out, rid)
    assert swiss_agents(out) == ["memo", "traced_ppo"]

    # Resume: both again, nothing new, no record rewritten.
    before = record_files(out)
    again = run_suite(suite, out, agents=[agent], experiments=["lock"], progress=False)
    assert (again.report.finished, again.report.skipped) == (0, 2)
    rerun = suite_runs(suite, external_agent("memo"), out, experiments=["lock"])
    assert list(rerun) == [] and rerun.report.skipped == 2
    assert record_files(out) == before


def test_the_loop_records_rlbench3s_evaluation_of_a_learned_policy(tmp_path):
    """The memorising learner opens the 2-step lock on every training episode (success 1) and
    transfers to other combinations at chance, 2**-2 per episode; the curve has the protocol's
    points and the steps are the env steps counted."""
    suite, out = write_suite(tmp_path), tmp_path / "out"
    runs = suite_runs(suite, external_agent("memo"), out, experiments=["lock"])
    for run in runs:
        run.finish(memorising_train(run))
    curves, episodes = load(out), load_episodes(out)
    assert sorted(curves["run_id"].unique()) == sorted(c.run_id for c in runs.runs)
    final = episodes.groupby("split")["success"].mean()
    assert final["train"] == 1.0
    unseen = episodes[episodes["split"] == "unseen"]["success"]
    assert len(unseen) == 16 and 0.0 <= unseen.mean() <= 0.75  # chance 0.25, 16 episodes
    for config in runs.runs:
        stored = RunStore(out).read(config.run_id)
        steps = sorted({p["step"] for p in stored.record["curve"]})
        assert steps == [0, 1024, 2048]  # the initial policy, eval.every, the end
        assert stored.record["meta"]["steps"] == stored.record["meta"]["steps_counted"] == 2048
        assert stored.record["zero_signal"]["unit"] == "update"
        assert stored.record["meta"]["eval_seeds"] == config.eval_seeds
        assert stored.record["meta"]["eval_mode"] == "greedy"


def test_an_sb3_policy_handed_back_is_evaluated_as_a_sweep_evaluates_and_saved(tmp_path):
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    suite, out = write_suite(tmp_path), tmp_path / "out"
    (run,) = suite_runs(suite, external_agent("sb3_in_a_loop"), out, experiments=["other"], seeds=1)
    model = PPO("MlpPolicy", DummyVecEnv([run.make_env]), seed=run.seed, device="cpu")
    run.finish(model, steps=0)
    record = RunStore(out).read(run.run_id).record
    for split in run.config.splits:
        returns, successes, _ = Evaluator.for_split(run.config, split)(model)
        assert record["final"][split]["returns"] == returns.tolist()
        assert record["final"][split]["successes"] == successes.astype(int).tolist()
    obs = np.eye(5, dtype=np.float32)[:4]
    loaded = load_policy(out, run.run_id)
    assert (
        loaded.predict(obs, deterministic=True)[0] == model.predict(obs, deterministic=True)[0]
    ).all()
    assert record["meta"]["steps"] == 0 and record["meta"]["steps_counted"] == 0


def test_interrupted_loop_resumes_without_duplicates(tmp_path):
    suite, out = write_suite(tmp_path), tmp_path / "out"
    runs = suite_runs(suite, external_agent("memo"), out)
    with pytest.raises(KeyboardInterrupt):
        for i, run in enumerate(runs):
            if i == 2:
                raise KeyboardInterrupt  # a Ctrl-C in the middle of the third run
            run.finish(memorising_train(run))
    first = record_files(out)
    assert len(first) == 2 and runs.report.finished == 2
    assert str(out.resolve()) not in storage._HELD  # the interrupted loop released the lock

    # the next loop yields the two runs left; one of them is left unfinished
    again = suite_runs(suite, external_agent("memo"), out)
    todo = [run.config.run_id for run in again]
    assert len(todo) == 2 and again.report.skipped == 2
    for run in again:
        if run.config.run_id == todo[1]:
            run.finish(memorising_train(run))
    assert again.report.finished == 1

    final = suite_runs(suite, external_agent("memo"), out)
    (last,) = final  # the loop has ended: finish() takes the folder's lock again
    assert last.config.run_id == todo[0]  # only the one left unfinished
    last.finish(memorising_train(last))
    files = record_files(out)
    assert len(files) == 4 and all(files[name] == first[name] for name in first)
    assert list(suite_runs(suite, external_agent("memo"), out)) == []
    plan = json.loads((out / "plan.json").read_text())
    assert sorted(plan) == sorted(c.run_id for c in final.runs)


KILLED_LOOP = """
import os, signal, sys, time
import numpy as np
from rlbench3.harness.external import external_agent, suite_runs
zeros = lambda obs: np.zeros(len(obs), dtype=np.int64)
for i, run in enumerate(suite_runs(sys.argv[1], external_agent("memo"), sys.argv[2])):
    if i == 1:
        print("training", flush=True)
        time.sleep(60)
    run.finish(zeros, steps=0)
"""


def test_a_killed_loop_leaves_its_finished_runs_and_no_lock(tmp_path):
    import subprocess

    suite, out = write_suite(tmp_path), tmp_path / "out"
    script = tmp_path / "loop.py"
    script.write_text(KILLED_LOOP)
    child = subprocess.Popen(
        [sys.executable, str(script), str(suite), str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "training"
        child.kill()  # SIGKILL in the middle of the second run
    finally:
        child.wait(timeout=30)
    assert len(record_files(out)) == 1
    runs = suite_runs(suite, external_agent("memo"), out)
    left = list(runs)  # the lock died with the process: taking it here does not fail
    assert len(left) == 3 and runs.report.skipped == 1


# --------------------------------------------------------------------------------------------
# Evaluation modes


@pytest.mark.parametrize("deterministic", [True, False])
def test_a_policy_is_asked_for_the_protocols_mode(tmp_path, deterministic):
    suite, out = write_suite(tmp_path, deterministic=deterministic), tmp_path / "out"
    seen: set[bool] = set()

    def policy(obs, deterministic):
        seen.add(deterministic)
        return np.zeros(len(obs), dtype=np.int64)

    (run,) = suite_runs(suite, external_agent("both"), out, experiments=["other"], seeds=1)
    run.finish(policy, steps=0)
    meta = RunStore(out).read(run.run_id).record["meta"]
    assert seen == {deterministic}
    assert meta["eval_mode"] == ("greedy" if deterministic else "sampled")
    assert meta["policy_modes"] == ["greedy", "sampled"] and "eval_mode_note" not in meta


def test_a_deterministic_only_policy_under_a_sampled_protocol_is_recorded_as_such(tmp_path):
    suite, out = write_suite(tmp_path, deterministic=False), tmp_path / "out"
    messages: list[str] = []
    runs = suite_runs(
        suite,
        external_agent("greedy_only"),
        out,
        experiments=["other"],
        seeds=1,
        warn=messages.append,
    )
    (run,) = runs
    run.finish(lambda obs: np.zeros(len(obs), dtype=np.int64), steps=0)
    meta = RunStore(out).read(run.run_id).record["meta"]
    assert meta["eval_mode"] == "greedy" and meta["policy_modes"] == ["greedy"]
    assert "deterministic-only" in meta["eval_mode_note"]
    assert any("deterministic-only" in m for m in messages)


def test_sampled_evaluation_is_reproducible(tmp_path):
    """A policy sampling from numpy's global generator draws the same actions in two runs of the
    same config: evaluation seeds it (and restores it afterwards)."""
    suite = write_suite(tmp_path, deterministic=False)
    drawn: list[list[int]] = []

    def sampler(obs, deterministic):
        actions = np.random.randint(0, 2, size=len(obs))  # noqa: NPY002 - seeded by rlbench3
        drawn[-1].extend(actions.tolist())
        return actions

    for name in ("a", "b"):
        drawn.append([])
        (run,) = suite_runs(
            suite, external_agent("s"), tmp_path / name, experiments=["other"], seeds=1
        )
        state = np.random.get_state()[1].copy()  # noqa: NPY002
        run.finish(sampler, steps=0)
        assert (np.random.get_state()[1] == state).all()  # noqa: NPY002 - restored
    assert drawn[0] == drawn[1] and set(drawn[0]) == {0, 1}


# --------------------------------------------------------------------------------------------
# Bad input


def test_loop_api_bad_input(tmp_path):
    suite, out = write_suite(tmp_path), tmp_path / "out"
    with pytest.raises(ConfigError, match=r"loop API trains external agents only.*'ppo' is PPO"):
        suite_runs(suite, "ppo", out)
    with pytest.raises(ConfigError, match=r"no experiment 'lok' \(did you mean 'lock'\?\)"):
        suite_runs(suite, external_agent("x"), out, experiments=["lok"])
    with pytest.raises(ValueError, match=r"name 'ppo' is a shipped agent's \(PPO\)"):
        external_agent("ppo")
    with pytest.raises(ValueError, match=r"n_envs must be an integer >= 1, got 0"):
        external_agent("x", n_envs=0)
    with pytest.raises(ValueError, match=r"hyperparams must be plain JSON data"):
        external_agent("x", hyperparams={"f": object()})
    with pytest.raises(ConfigError, match=r"'cleanrl_ppo' is an external agent.*a sweep cannot"):
        run_suite(suite, out, agents=["cleanrl_ppo"], progress=False)
    assert not out.exists()  # refused before the folder was touched

    (run, _) = suite_runs(suite, external_agent("x"), out, experiments=["lock"])
    zeros = lambda obs: np.zeros(len(obs), dtype=np.int64)  # noqa: E731
    with pytest.raises(ValueError, match=r"pass the env steps trained so far"):
        run.evaluate_if_due(zeros)
    calls: list[int] = []

    def counted(obs):
        calls.append(len(obs))
        return zeros(obs)

    run.evaluate_if_due(counted, step=100)
    per_split = len(calls) // 2  # both splits: 8 episodes of the 2-step lock

    def fails_on_the_second_split(obs):
        calls.append(len(obs))
        if len(calls) > 2 * per_split + per_split:
            raise RuntimeError("the policy broke")
        return zeros(obs)

    with pytest.raises(ValueError, match=r"step must not decrease: got 50 after 100"):
        run.evaluate_if_due(zeros, step=50)
    with pytest.raises(ValueError, match=r"step must be an integer >= 0"):
        run.evaluate_if_due(zeros, step=-1)
    with pytest.raises(ValueError, match=r"actions of shape \(8, 2\) for 8 observations"):
        run.finish(lambda obs: np.zeros((len(obs), 2), dtype=np.int64), steps=200)
    with pytest.raises(ValueError, match=r"float64 actions for Discrete\(2\): expected integers"):
        run.finish(lambda obs: np.zeros(len(obs)), steps=200)
    with pytest.raises(TypeError, match=r"policy must be callable"):
        run.finish(42, steps=200)
    with pytest.raises(RuntimeError, match=r"the policy broke"):
        run.finish(fails_on_the_second_split, steps=200)
    run.finish(zeros, steps=200)
    with pytest.raises(RuntimeError, match=r"is finished"):
        run.finish(zeros, steps=200)
    curve = RunStore(out).read(run.run_id).record["curve"]  # failed evaluations left no point
    assert [(p["step"], p["split"]) for p in curve] == [
        (100, "train"),
        (100, "unseen"),
        (200, "train"),
        (200, "unseen"),
    ]


def test_a_suite_may_not_name_an_agent_that_imports_code(helper, tmp_path):
    trace = tmp_path / "trace"
    agent = write_agent(tmp_path, trace)
    suite = write_suite(tmp_path, agents=f"[{agent}]")
    sys.modules.pop(MODULE, None)
    with pytest.raises(ConfigError, match=r"tiny.yaml: .*traced_ppo.yaml:1: algo: .*would import"):
        plan_suite(suite)
    assert MODULE not in sys.modules  # refused before anything was imported
    _, runs = plan_suite(suite, agents=[agent])  # named by the caller: imported and planned
    assert {r.agent.algo for r in runs} == {f"{MODULE}:TracedPPO"} and MODULE in sys.modules


# --------------------------------------------------------------------------------------------
# Ray


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["process", "ray"])
def test_import_path_agent_runs_in_workers_as_in_the_driver(helper, tmp_path, backend):
    """The class is imported in every worker (pool: spawned with the driver's sys.path; Ray:
    importable from the driver's working folder) and trains the records the driver trains."""
    if backend == "ray":
        ray = pytest.importorskip("ray")
    trace = tmp_path / "trace"
    trace.mkdir()
    suite, agent = write_suite(tmp_path), write_agent(tmp_path, trace)
    kwargs = {"agents": [agent], "experiments": ["lock"], "progress": False}
    here = run_suite(suite, tmp_path / "here", **kwargs)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(helper)
        there = run_suite(suite, tmp_path / backend, workers=2, backend=backend, **kwargs)
    assert (there.report.finished, there.report.failed) == (2, [])
    if backend == "ray":
        assert not ray.is_initialized()
    pids = {name.split("-pid")[1] for name in (p.name for p in trace.iterdir())}
    assert len(pids) >= 2 and str(os.getpid()) in pids  # the driver's runs, and the workers'
    drop = ["wall_time", "steps_per_second"]
    a, b = (
        load(r.out)
        .drop(columns=drop)
        .sort_values(["run_id", "split", "step"])
        .reset_index(drop=True)
        for r in (here, there)
    )
    pd.testing.assert_frame_equal(a, b)
