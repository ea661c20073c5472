"""Your own training loop on rlbench3's suites: you train, rlbench3 plans, evaluates and records.

For agents that are not SB3 classes (a CleanRL script, a JAX agent, hand-written code), in the
manner of bsuite's ``load_and_record``::

    from rlbench3.harness.external import suite_runs

    for run in suite_runs("quick", agent="cleanrl_ppo", results="results/quick",
                          experiments=["lock-horizon"]):
        policy = my_train(run.make_vec_env(), run.budget, run.seed,
                          callback=run.evaluate_if_due)     # callback(policy, step)
        run.finish(policy)

:func:`suite_runs` plans the suite for one external agent (``algo: external``: an agent file, or
:func:`external_agent` in code) exactly as a sweep plans it, so every run has a run config whose
``agent`` names it and a run id, and yields the runs that the results folder does not hold yet (a
loop run again resumes: finished runs are skipped, none is done twice). Each
:class:`ExternalRun` gives the training env (:meth:`~ExternalRun.make_env`,
:meth:`~ExternalRun.make_vec_env`), the budget, the seed and the agent's ``hyperparams``; you hand
back a policy. rlbench3 evaluates it by the suite's protocol (:class:`~rlbench3.harness.training.
Evaluator`: the same episodes, seeds and mode as every other agent's runs) at ``eval.every``
steps through the callback and at the end, and :meth:`~ExternalRun.finish` writes one record
(:class:`~rlbench3.harness.storage.RunStore`: atomic, checksummed), so the runs sit in the same
tables as PPO's.

**Policies.** A policy is any of

* ``policy(obs, deterministic: bool) -> actions``: acts greedily or by sampling, as asked;
* ``policy(obs) -> actions``: taken to be *deterministic-only*. Under a sampled protocol
  (``eval.deterministic: false``) it is evaluated as it is, and the record says so
  (``meta.eval_mode: "greedy"``, ``meta.policy_modes: ["greedy"]``, ``meta.eval_mode_note``);
* an object with SB3's ``predict(obs, deterministic=...)`` (an SB3 model or policy).

``obs`` is a batch ``(n, *obs_shape)`` (numpy), ``actions`` a batch ``(n, *action_shape)``
(numpy, or a torch tensor); Box actions are clipped to the action space's bounds, as SB3's
``predict`` clips them. Sampled evaluation seeds torch's, numpy's and Python's global
generators for its episodes (:func:`~rlbench3.harness.evaluation.policy_randomness`); a policy
that samples from its own generator (a JAX key) is reproducible only if it seeds that itself.
An SB3 policy of a known class is saved as the run's policy file; a callable has none
(``meta.policy_file`` says so).

**Steps and zero signal.** Envs made by :meth:`~ExternalRun.make_env` / :meth:`~ExternalRun.
make_vec_env` count their steps (a vector env's ``step`` counts one per copy) and notice
non-zero rewards; use them for training only. The count is the record's ``meta.steps`` and the
default step of a curve point. Call the callback once per update (after each rollout and its
gradient steps): the zero-signal fraction is then the share of updates whose env steps held no
non-zero reward (``zero_signal.unit: "update"``), PPO's rollout fraction for a PPO loop. Training
envs that you make yourself are not counted: pass ``step`` to the callback and ``steps`` to
``finish``; the zero-signal fraction is then unknown (``null``).

**Locking.** Iterating holds the results folder's lock (:meth:`RunStore.lock`) until the loop
ends, so no sweep writes there meanwhile; :meth:`ExternalRun.finish` writes under it (and takes it
again for a run finished after its loop ended, e.g. from ``list(suite_runs(...))``). A run never
finished stays pending: the next loop yields it again. Runs are trained where your code runs, in
this process (the process pool and Ray are for agent classes, see
:mod:`rlbench3.harness.sweep`).
"""

from __future__ import annotations

import inspect
import json
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlbench3.agents.config import EXTERNAL, AgentConfig, load_agent
from rlbench3.data import shipped_names
from rlbench3.data.yaml_lines import plain_data
from rlbench3.harness.run_config import TRAIN, RunConfig, eval_mode
from rlbench3.harness.storage import RunStore, StorageError
from rlbench3.harness.suites import MAX_RUNS, Suite
from rlbench3.harness.sweep import SweepReport, default_out, pending_runs, plan_suite
from rlbench3.harness.training import (
    Evaluator,
    package_versions,
    saved_policy,
    zero_signal_entry,
)

__all__ = [
    "UPDATE",
    "ExternalRun",
    "PolicyAdapter",
    "SuiteRuns",
    "external_agent",
    "suite_runs",
]

UPDATE = "update"  # the zero-signal unit of external runs: the steps between two callbacks
GREEDY, SAMPLED = eval_mode(True), eval_mode(False)


def external_agent(
    name: str,
    *,
    hyperparams: dict[str, Any] | None = None,
    n_envs: int = 1,
    description: str = "",
) -> AgentConfig:
    """An external agent made in code (instead of an agent file with ``algo: external``).

    ``name`` labels its runs in records and tables; it may not be the name of a shipped agent
    that is not external (its rows would mix with that agent's). ``hyperparams`` (plain JSON
    data) are kept in every run's config and handed back as :attr:`ExternalRun.hyperparams`;
    ``n_envs`` is the default number of copies of :meth:`ExternalRun.make_vec_env`."""
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise ValueError(
            f"name must be a non-empty string without surrounding spaces, got {name!r}"
        )
    if name in shipped_names("agents") and load_agent(name).algo != EXTERNAL:
        raise ValueError(
            f"name {name!r} is a shipped agent's ({load_agent(name).algo}): its runs would be "
            "labelled as that agent's in tables; choose another name"
        )
    if not isinstance(n_envs, int) or isinstance(n_envs, bool) or n_envs < 1:
        raise ValueError(f"n_envs must be an integer >= 1, got {n_envs!r}")
    if hyperparams is not None and not isinstance(hyperparams, dict):
        raise ValueError(f"hyperparams must be a mapping, got {type(hyperparams).__name__}")
    if not isinstance(description, str):
        raise ValueError(f"description must be a string, got {description!r}")
    data = plain_data(hyperparams or {})
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"hyperparams must be plain JSON data (they are recorded): {err}"
        ) from None
    return AgentConfig(name, EXTERNAL, "", n_envs, data, {}, description)


# --------------------------------------------------------------------------------------------
# Policies


class PolicyAdapter:
    """A user's policy with SB3's ``predict`` interface, for :class:`Evaluator`.

    ``modes`` is ``("greedy", "sampled")`` for a policy that takes ``deterministic``, or
    ``("greedy",)`` for a deterministic-only one (called as ``policy(obs)``)."""

    def __init__(self, policy: Any, action_space: gym.Space):
        if not callable(policy) and not callable(getattr(policy, "predict", None)):
            raise TypeError(
                f"policy must be callable as policy(obs[, deterministic]) or have SB3's predict, "
                f"got {type(policy).__name__}"
            )
        self.policy, self.space = policy, action_space
        # the space a sampling SB3 policy draws from (DQN's epsilon), for policy_randomness
        self.action_space = getattr(policy, "action_space", None)
        if callable(getattr(policy, "predict", None)):
            self.kind, self.modes = "predict", (GREEDY, SAMPLED)
        elif _takes_deterministic(policy):
            self.kind, self.modes = "callable", (GREEDY, SAMPLED)
        else:
            self.kind, self.modes = "callable", (GREEDY,)

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, None]:
        if self.kind == "predict":
            actions = self.policy.predict(obs, deterministic=deterministic)[0]
        elif len(self.modes) == 2:
            actions = self.policy(obs, deterministic=deterministic)
        else:
            actions = self.policy(obs)
        return self.actions(actions, len(obs)), None

    def actions(self, actions: Any, n: int) -> np.ndarray:
        """``actions`` as a numpy batch of ``n`` actions of the space (Box: clipped to it)."""
        if hasattr(actions, "detach"):  # a torch tensor
            actions = actions.detach().cpu().numpy()
        actions = np.asarray(actions)
        space = self.space
        expected = (n, *space.shape)
        if actions.shape != expected:
            raise ValueError(
                f"the policy returned actions of shape {actions.shape} for {n} observations; "
                f"expected {expected} ({space})"
            )
        if isinstance(space, gym.spaces.Box):
            return np.clip(actions, space.low, space.high).astype(space.dtype, copy=False)
        if isinstance(space, gym.spaces.Discrete | gym.spaces.MultiDiscrete) and not (
            np.issubdtype(actions.dtype, np.integer)
        ):
            raise ValueError(
                f"the policy returned {actions.dtype} actions for {space}: expected integers"
            )
        return actions


def _takes_deterministic(policy: Any) -> bool:
    try:
        params = inspect.signature(policy).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.name == "deterministic" and p.kind != inspect.Parameter.POSITIONAL_ONLY for p in params
    ) or any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params)


# --------------------------------------------------------------------------------------------
# Counted training envs


@dataclass
class _Tally:
    """Env steps of the run's training envs, and rewards seen since the last update."""

    steps: int = 0
    stepped: bool = False  # since the last update
    signal: bool = False  # a non-zero reward since the last update
    envs: int = 0  # training envs made
    updates: int = 0
    empty_updates: int = 0

    def add(self, n: int, rewards: Any) -> None:
        self.steps += n
        self.stepped = True
        if np.any(rewards):
            self.signal = True

    def close_update(self) -> None:
        if self.stepped:
            self.updates += 1
            self.empty_updates += not self.signal
        self.stepped = self.signal = False


class _CountedEnv(gym.Wrapper):
    def __init__(self, env: gym.Env, tally: _Tally):
        super().__init__(env)
        self._tally = tally

    def step(self, action: Any) -> Any:
        out = self.env.step(action)
        self._tally.add(1, out[1])
        return out


class _CountedVecEnv(gym.vector.VectorWrapper):
    def __init__(self, env: gym.vector.VectorEnv, tally: _Tally):
        super().__init__(env)
        self._tally = tally

    def step(self, actions: Any) -> Any:
        out = self.env.step(actions)
        self._tally.add(self.num_envs, out[1])
        return out


# --------------------------------------------------------------------------------------------
# One run


class ExternalRun:
    """One planned run of an external agent: what to train on, and where its results go.

    Attributes:
        config: the run's :class:`~rlbench3.harness.run_config.RunConfig` (its identity).
        run_id, experiment, setting, env_id, seed, budget: from the config.
        env_params: the train split's env keywords.
        hyperparams: the agent's settings for this env (its file's, overrides applied).
        n_envs: the agent's number of training env copies (:meth:`make_vec_env`'s default).
    """

    def __init__(
        self,
        config: RunConfig,
        store: RunStore,
        warn: Callable[[str], None],
        on_finish: Callable[[ExternalRun], None] | None = None,
    ):
        self.config = config
        self.run_id, self.experiment, self.env_id = config.run_id, config.experiment, config.env_id
        self.setting = dict(config.setting)
        self.seed, self.budget = config.seed, config.budget
        self.env_params = dict(config.splits[TRAIN])
        self.hyperparams = plain_data(config.agent.hyperparams)
        self.n_envs = config.agent.n_envs
        self._store, self._warn, self._on_finish = store, warn, on_finish
        self._tally = _Tally()
        self._evaluators: dict[str, Evaluator] | None = None
        self._curve: list[dict[str, Any]] = []
        self._last: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._last_step = -1
        self._next_eval = 0
        self._eval_seconds = 0.0
        self._eval_steps = 0
        self._modes: tuple[str, ...] | None = None
        self._started = time.perf_counter()
        self.finished = False

    def __repr__(self) -> str:
        return (
            f"ExternalRun({self.run_id}: {self.experiment}, {self.config.label}, "
            f"agent {self.config.agent.name!r}, seed {self.seed}, budget {self.budget})"
        )

    # training envs ----------------------------------------------------------------------

    def make_env(self) -> gym.Env:
        """A training env (the train split), counted; reset it with ``seed=run.seed`` (plus
        the copy's index for several copies)."""
        self._tally.envs += 1
        return _CountedEnv(gym.make(self.env_id, **self.env_params), self._tally)

    def make_vec_env(self, num_envs: int | None = None) -> gym.vector.VectorEnv:
        """``num_envs`` (default :attr:`n_envs`) training envs as one Gymnasium vector env
        (``gym.make_vec``: batched where the env has a batched version), counted; reset it
        with ``seed=run.seed`` (copy ``i`` gets ``seed + i``)."""
        num_envs = self.n_envs if num_envs is None else num_envs
        if not isinstance(num_envs, int) or isinstance(num_envs, bool) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        self._tally.envs += 1
        envs = gym.make_vec(self.env_id, num_envs=num_envs, **self.env_params)
        return _CountedVecEnv(envs, self._tally)

    @property
    def steps(self) -> int:
        """Env steps taken so far by the training envs this run made."""
        return self._tally.steps

    # evaluation ---------------------------------------------------------------------------

    def evaluate_if_due(self, policy: Any, step: int | None = None) -> bool:
        """The training loop's callback: call it once per update with the current policy.

        It evaluates ``policy`` on every split when a point is due, as a sweep's recorder does:
        at the first call (call it before training: the initial policy), then at the first call
        at or past every ``eval.every`` steps, never at or past the budget (:meth:`finish` makes
        the final point). ``step``: env steps trained so far (default: :attr:`steps`). Whether
        it evaluated."""
        self._check_not_finished()
        step = self._step(step)
        self._tally.close_update()
        if not (self.budget > step >= self._next_eval) and self._curve:
            return False
        self._evaluate(policy, step)
        return True

    def finish(self, policy: Any, steps: int | None = None) -> Path:
        """Evaluate the final ``policy`` and write the run's record; the record's path.

        ``steps``: env steps trained (default: :attr:`steps`, counted by the run's training
        envs). It writes under the results folder's lock (:meth:`RunStore.lock`: already held
        while the loop runs; taken again for a run finished after its loop ended). After this
        the run is closed."""
        self._check_not_finished()
        steps = self._step(steps)
        self._tally.close_update()
        adapter = self._evaluate(policy, steps)
        saved, policy_meta = self._policy_file(policy)
        total = time.perf_counter() - self._started
        train_seconds = max(total - self._eval_seconds, 0.0)
        record = {
            "curve": self._curve,
            "final": {
                split: {"returns": r.tolist(), "successes": s.astype(int).tolist()}
                for split, (r, s) in self._last.items()
            },
            "zero_signal": zero_signal_entry(
                UPDATE, self._tally.updates, self._tally.empty_updates
            ),
            "meta": {
                "steps": int(steps),
                "steps_counted": self._tally.steps if self._tally.envs else None,
                "train_seconds": round(train_seconds, 3),
                "eval_seconds": round(self._eval_seconds, 3),
                "eval_env_steps": self._eval_steps,
                **self._mode_meta(adapter),
                "eval_seeds": self.config.eval_seeds,
                "steps_per_second": round(steps / max(train_seconds, 1e-9), 1),
                "host": socket.gethostname(),
                "versions": package_versions(),
                "trained_by": "caller (rlbench3.harness.external)",
                **policy_meta,
            },
        }
        self._close_evaluators()
        if steps > self.budget:
            self._warn(
                f"run {self.run_id} trained {steps} env steps, more than its budget of "
                f"{self.budget} (recorded as meta.steps)"
            )
        with self._store.lock():
            try:
                if saved is not None:
                    self._store.write_policy(self.run_id, saved)
                path = self._store.write(self.config, record)
            except OSError as err:
                raise StorageError(
                    f"cannot write to the results folder {self._store.root}: {err}"
                ) from None
        self.finished = True
        if self._on_finish is not None:
            self._on_finish(self)
        return path

    def _step(self, step: int | None) -> int:
        if step is None:
            if not self._tally.envs:
                raise ValueError(
                    f"run {self.run_id}: pass the env steps trained so far (step=...): its "
                    "training envs were not made by run.make_env / run.make_vec_env, so "
                    "rlbench3 cannot count them"
                )
            step = self._tally.steps
        if not isinstance(step, int | np.integer) or isinstance(step, bool) or step < 0:
            raise ValueError(f"step must be an integer >= 0 (env steps trained), got {step!r}")
        if step < self._last_step:
            raise ValueError(
                f"step must not decrease: got {step} after {self._last_step} (env steps trained)"
            )
        return int(step)

    def _evaluate(self, policy: Any, step: int) -> PolicyAdapter:
        """One point of the curve on every split; nothing is kept if the policy fails."""
        if self._evaluators is None:
            self._evaluators = {s: Evaluator.for_split(self.config, s) for s in self.config.splits}
        adapter = PolicyAdapter(policy, self._evaluators[TRAIN].envs.single_action_space)
        start = time.perf_counter()
        points, last, env_steps = [], {}, 0
        for split, evaluate in self._evaluators.items():
            returns, success, n = evaluate(adapter)
            env_steps += n
            last[split] = (returns, success)
            points.append(
                {
                    "step": step,
                    "split": split,
                    "mean_return": float(returns.mean()),
                    "success_rate": float(success.mean()),
                    "wall_time": round(time.perf_counter() - self._started, 4),
                }
            )
        if self._modes is None and self.config.eval.mode not in adapter.modes:
            self._warn(
                f"run {self.run_id}: the protocol samples actions, but the policy takes no "
                "'deterministic' argument: evaluated as deterministic-only (the record says so)"
            )
        self._modes = adapter.modes
        self._curve += points
        self._last.update(last)
        self._eval_steps += env_steps
        self._eval_seconds += time.perf_counter() - start
        self._last_step, self._next_eval = step, step + self.config.eval.every
        return adapter

    def _mode_meta(self, adapter: PolicyAdapter) -> dict[str, Any]:
        wanted = self.config.eval.mode
        meta: dict[str, Any] = {"policy_modes": list(adapter.modes)}
        if wanted in adapter.modes:
            return {"eval_mode": wanted, **meta}
        return {
            "eval_mode": GREEDY,
            **meta,
            "eval_mode_note": (
                f"the protocol asks for {wanted} actions; the policy takes no 'deterministic' "
                "argument, so it was taken as deterministic-only and evaluated as it acts"
            ),
        }

    @staticmethod
    def _policy_file(policy: Any) -> tuple[bytes | None, dict[str, Any]]:
        from stable_baselines3.common.base_class import BaseAlgorithm
        from stable_baselines3.common.policies import BasePolicy

        if isinstance(policy, BaseAlgorithm):
            policy = policy.policy
        if isinstance(policy, BasePolicy):
            return saved_policy(policy)
        kind = type(policy)
        name = getattr(policy, "__qualname__", None) or kind.__qualname__
        module = getattr(policy, "__module__", None) or kind.__module__
        return None, {
            "policy_class": f"{module}:{name}",
            "policy_sha256": None,
            "policy_file": "none: an external agent's policy callable is not saved",
        }

    def _check_not_finished(self) -> None:
        if self.finished:
            raise RuntimeError(f"run {self.run_id} is finished: its record is written")

    def _close_evaluators(self) -> None:
        for evaluate in (self._evaluators or {}).values():
            evaluate.close()
        self._evaluators = None


# --------------------------------------------------------------------------------------------
# A suite's runs


@dataclass
class SuiteRuns:
    """The runs of a suite for one external agent; iterate it to train the pending ones.

    Attributes:
        suite: the loaded suite.
        runs: every planned run config (finished or not).
        out: the results folder.
        report: counts, filled while iterating: ``planned``, ``skipped`` (finished before),
            ``finished`` (by this loop), ``corrupt`` / ``damaged`` (set aside, then redone).
    """

    suite: Suite
    runs: list[RunConfig]
    out: Path
    warn: Callable[[str], None]
    report: SweepReport = field(default_factory=SweepReport)

    def __iter__(self) -> Iterator[ExternalRun]:
        store = RunStore(self.out)
        with store.lock():
            store.check_format()
            try:
                store.remove_temp_files()
                store.ensure()
                store.write_plan(self.runs, warn=self.warn)
            except OSError as err:
                raise StorageError(
                    f"cannot write to the results folder {self.out}: {err}"
                ) from None
            self.report = report = SweepReport()
            todo = pending_runs(self.runs, store, report, self.warn)

            def count(_: ExternalRun) -> None:
                report.finished += 1

            for config in todo:
                yield ExternalRun(config, store, self.warn, count)

    def __len__(self) -> int:
        return len(self.runs)


def _warn(message: str) -> None:
    print(f"rlbench3: {message}", file=sys.stderr)


def suite_runs(
    suite: str | Path,
    agent: str | Path | AgentConfig,
    results: str | Path | None = None,
    *,
    experiments: list[str] | None = None,
    seeds: int | None = None,
    budget: int | None = None,
    max_runs: int | None = MAX_RUNS,
    warn: Callable[[str], None] | None = None,
) -> SuiteRuns:
    """Plan ``suite`` for the external ``agent`` and return its runs, to iterate.

    Args:
        suite: a shipped suite name or a suite file.
        agent: an agent with ``algo: external``: a shipped name, an agent file, or
            :func:`external_agent`.
        results: the results folder (default ``results/<suite>``), shared with the suite's
            other agents' runs.
        experiments: keep only these experiments of the suite.
        seeds, budget: override the suite's (as ``rlbench3 run --seeds/--budget``).
        max_runs: refuse a larger plan (``None``: no limit).
        warn: where warnings go (default: stderr).

    The suite and agent are validated and planned now (errors name file, line and key);
    iterating the result takes the folder's lock and yields each :class:`ExternalRun` not
    finished yet, in suite order.
    """
    loaded, runs = plan_suite(
        suite,
        agents=[agent],
        seeds=seeds,
        budget=budget,
        max_runs=max_runs,
        experiments=experiments,
        external=True,
    )
    folder = Path(results) if results is not None else default_out(loaded)
    if folder.exists() and not folder.is_dir():
        raise StorageError(f"the results folder {folder} is a file, not a folder")
    return SuiteRuns(loaded, runs, folder, warn or _warn)
