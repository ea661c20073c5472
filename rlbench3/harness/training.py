"""One run: train an agent on an env setting with one seed, evaluate, return a plain-data record.

:func:`train_run` is a pure function of its :class:`~rlbench3.harness.run_config.RunConfig`: every
random number generator is seeded from the config's seed and torch uses one thread, so the same
config gives the same record wherever it runs (local process pool or Ray worker), up to the
wall-clock fields in ``meta``.

Evaluation (:class:`Evaluator`) follows the config's protocol: ``eval.episodes`` episodes per split
on the run's own evaluation seeds (:meth:`RunConfig.eval_seed`: disjoint across seeds, shared by
agents with the same seed, never a training seed), acting greedily or by sampling
(``eval.deterministic``). Its random draws are forked from training's, so evaluating more or less
often leaves training unchanged. The record's ``meta`` states the mode and the seeds.

The zero-signal fraction (``record["zero_signal"]``) is the fraction of the batches the agent
learned from that held no non-zero reward. Its ``unit`` says which batches:

* ``"rollout"`` (PPO, A2C, TRPO, ARS, random search): each rollout an update (or a comparison of
  candidates) is computed from, i.e. ``n_envs`` x ``n_steps`` env steps, an ARS round, a
  random-search candidate;
* ``"replay_batch"`` (off-policy agents: DQN, SAC, TD3): each minibatch a gradient step sampled
  from the replay buffer. A rollout of ``train_freq`` env steps is not what their gradient sees:
  once one reward is in the buffer, most minibatches may hold it, or none, whatever the last
  rollout held.

An agent whose ``algo`` is a class by import path (``my_pkg.algos:MyPPO``) is trained exactly
as the built-in SB3 algorithms are (:func:`make_model` imports the class); ``meta.versions`` adds
its package's version.

Demonstrations (an agent's ``demonstrations:``, PPO and A2C): :func:`train_run` clones
``episodes`` expert episodes of the train split into the freshly built model
(:func:`~rlbench3.agents.imitation.warm_start`) before ``learn``, so the first evaluation point
(step 0) is the cloned policy's. The expert episodes are seeded by
:meth:`RunConfig.demonstration_seed` (never an evaluation or training seed). Their env steps are
*not* counted in the budget: ``meta.demonstration_steps`` states them, and ``meta.demonstrations``
the episodes, the expert's success on them, the (observation, action) pairs and the seconds
cloning took (not part of ``train_seconds``).

A curriculum (:attr:`RunConfig.curriculum`, a suite experiment's ``curriculum:``) sets a
parameter of the training env's copies (``env_method("set_params", ...)``) before ``learn`` and
at the first env step at or past each stage's start; each copy takes it at its next reset.
Evaluation always uses the splits' parameters. ``meta.curriculum`` records the stages applied and
the step at which each was set. Only agents trained through SB3 callbacks on the harness's
training env honour it: the population trainer, random search and external agents are refused
when a suite is planned.

Agents of the population backend (``algo: PPO_population`` or ``A2C_population``, see
:mod:`rlbench3.agents.config`) are trained by :func:`train_population`: the runs of one setting
that differ only in their seed, trained together by
:class:`~rlbench3.agents.population.PopulationPPO` (``PopulationA2C``), each writing the record
:func:`train_run` writes (the same evaluation schedule, episodes and seeds, zero-signal unit
``"rollout"``, an SB3 ``ActorCriticPolicy`` saved as its policy). A seed's record does not depend
on the population it was trained in, up to the wall-clock fields.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import math
import platform
import socket
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from rlbench3.harness.evaluation import policy_randomness, run_episodes
from rlbench3.harness.run_config import TRAIN, RunConfig

ROLLOUT, REPLAY_BATCH = "rollout", "replay_batch"  # units of the zero-signal fraction


class Evaluator:
    """Evaluation on one split: ``episodes`` episodes stepped together, one per vector-env copy.

    Args:
        env_id, params: the split's env.
        episodes: episodes per evaluation.
        seed: the env seed (copy ``i`` is reset with ``seed + i``); also seeds the policy's own
            random draws (see :func:`~rlbench3.harness.evaluation.policy_randomness`).
        deterministic: act with the policy's mode (``predict(obs, deterministic=True)``: greedy)
            or sample from its distribution (SB3's DQN samples epsilon-greedily at its current
            exploration rate).

    Every call resets with the same seed and reseeds the policy's draws alike, so each evaluation
    point of a learning curve sees the same episodes (common random numbers: differences between
    points are the policy's). The policy's draws come from generators forked from the caller's and
    restored afterwards, so an evaluation does not change what training draws next.
    """

    def __init__(
        self,
        env_id: str,
        params: dict[str, Any],
        episodes: int,
        seed: int,
        *,
        deterministic: bool = True,
    ):
        self.envs = gym.make_vec(env_id, num_envs=episodes, **params)
        self.episodes, self.seed, self.deterministic = episodes, seed, deterministic

    @classmethod
    def for_split(cls, config: RunConfig, split: str) -> Evaluator:
        """The evaluator :func:`train_run` uses for ``split`` of ``config`` (its episodes, its
        evaluation seed, its mode): reproduces a run's recorded evaluation of a reloaded policy."""
        return cls(
            config.env_id,
            config.splits[split],
            config.eval.episodes,
            config.eval_seed(split),
            deterministic=config.eval.deterministic,
        )

    def __call__(self, model: Any) -> tuple[np.ndarray, np.ndarray, int]:
        """Per-episode returns and successes, and the env steps it took."""
        deterministic = self.deterministic
        with policy_randomness(self.seed, model):
            result = run_episodes(
                self.envs,
                lambda obs: model.predict(obs, deterministic=deterministic)[0],
                seed=self.seed,
            )
        return result.returns[:, 0], result.successes[:, 0], result.steps

    def close(self) -> None:
        self.envs.close()


def _reward_signal_monitor() -> type:
    from stable_baselines3.common.vec_env import VecEnvWrapper

    class RewardSignalMonitor(VecEnvWrapper):
        """Counts training steps on which any copy received a non-zero reward."""

        def __init__(self, venv: Any):
            super().__init__(venv)
            self.signal_steps = 0

        def reset(self) -> Any:
            return self.venv.reset()

        def step_wait(self) -> Any:
            obs, rewards, dones, infos = self.venv.step_wait()
            # ndarray.any(): non-zero is true; ~3x cheaper per step than np.any(rewards != 0.0)
            if rewards.any():
                self.signal_steps += 1
            return obs, rewards, dones, infos

    return RewardSignalMonitor


class ReplayBatchCounter:
    """Counts the minibatches an off-policy algorithm samples from its replay buffer (one per
    gradient step) and those without a non-zero reward.

    It wraps ``buffer.sample`` on the instance (the class's method is untouched); counting draws
    no random numbers, so training is unchanged.
    """

    def __init__(self, buffer: Any):
        self.batches = self.empty_batches = 0
        sample = buffer.sample

        def counted_sample(*args: Any, **kwargs: Any) -> Any:
            batch = sample(*args, **kwargs)
            self.batches += 1
            self.empty_batches += not bool((batch.rewards != 0).any())
            return batch

        buffer.sample = counted_sample


def _recorder(
    evaluators: dict[str, Evaluator], every: int, budget: int, monitor: Any, clock: Callable
) -> Any:
    from stable_baselines3.common.callbacks import BaseCallback

    class RunRecorder(BaseCallback):
        """Periodic evaluation on every split, and the zero-signal count of rollout batches."""

        def __init__(self) -> None:
            super().__init__()
            self.curve: list[dict[str, Any]] = []
            self.next_eval = 0
            self.batches = self.empty_batches = 0
            self.eval_seconds = 0.0
            self.eval_steps = 0
            self._signal_at_start = 0
            self.last_episodes: dict[str, tuple[np.ndarray, np.ndarray]] = {}

        def evaluate(self) -> None:
            start = time.perf_counter()
            for split, evaluate in evaluators.items():
                returns, success, steps = evaluate(self.model)
                self.eval_steps += steps
                self.last_episodes[split] = (returns, success)
                self.curve.append(
                    {
                        "step": int(self.model.num_timesteps),
                        "split": split,
                        "mean_return": float(returns.mean()),
                        "success_rate": float(success.mean()),
                        "wall_time": round(clock(), 4),
                    }
                )
            self.eval_seconds += time.perf_counter() - start
            self.next_eval = self.model.num_timesteps + every

        def _on_training_start(self) -> None:
            self.evaluate()

        def _on_step(self) -> bool:
            # Steps at or past the budget belong to the last rollout, before the last update (or
            # random search's last comparison): the final evaluation after learn() covers them.
            if budget > self.model.num_timesteps >= self.next_eval:
                self.evaluate()
            return True

        def _on_rollout_start(self) -> None:
            self._signal_at_start = monitor.signal_steps

        def _on_rollout_end(self) -> None:
            self.batches += 1
            self.empty_batches += monitor.signal_steps == self._signal_at_start

    return RunRecorder()


def zero_signal_entry(unit: str, batches: int, empty: int) -> dict[str, Any]:
    """The record's zero-signal entry: ``empty`` of ``batches`` batches (of kind ``unit``) held
    no non-zero reward."""
    return {
        "unit": unit,
        "batches": batches,
        "empty_batches": empty,
        "fraction": empty / batches if batches else None,
    }


def package_versions(algo: str | None = None) -> dict[str, str]:
    """The versions a record states; with ``algo`` a class by import path, also its top-level
    package's (its distribution's version, else its ``__version__``, else ``"unknown"``)."""
    import sb3_contrib
    import stable_baselines3
    import torch

    from rlbench3.agents.config import is_import_path

    versions = {
        "rlbench3": importlib.metadata.version("rlbench3"),
        "gymnasium": gym.__version__,
        "stable_baselines3": stable_baselines3.__version__,
        "sb3_contrib": sb3_contrib.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
    if algo is not None and is_import_path(algo):
        top = algo.split(":")[0].split(".")[0]
        versions.setdefault(top, _module_version(top))
    return versions


def _module_version(top: str) -> str:
    """The version of the distribution that provides the top-level module ``top``."""
    import sys

    for dist in importlib.metadata.packages_distributions().get(top, []):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return str(getattr(sys.modules.get(top), "__version__", "unknown"))


def saved_policy(policy: Any) -> tuple[bytes | None, dict[str, Any]]:
    """``policy`` as a weights-only policy file, and the record's ``meta`` entries for it:
    ``policy_class``, ``policy_sha256``, and, when its class has no weights-only format (a
    custom policy of a class given by import path), ``policy_sha256: None`` and
    ``policy_file`` (why there is no file)."""
    from rlbench3.agents.policy_files import PolicyFileError, policy_bytes

    name = f"{type(policy).__module__}:{type(policy).__qualname__}"
    try:
        saved = policy_bytes(policy)
    except PolicyFileError as err:
        return None, {"policy_class": name, "policy_sha256": None, "policy_file": f"none: {err}"}
    return saved, {"policy_class": name, "policy_sha256": hashlib.sha256(saved).hexdigest()}


def _curriculum_callback(config: RunConfig, venv: Any) -> Any:
    """An SB3 callback that applies ``config.curriculum`` to ``venv``'s copies: its first stage at
    once (the copies take it at their first reset, in ``learn``), each later one at the first
    ``_on_step`` at or past its start. ``applied`` lists ``{"step", "value"}`` of each stage set
    (a stage overtaken by the next within one step is skipped)."""
    from stable_baselines3.common.callbacks import BaseCallback

    curriculum = config.curriculum
    assert curriculum is not None
    begins = curriculum.begins(config.budget)

    class CurriculumCallback(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.applied: list[dict[str, Any]] = []
            self.stage = -1
            self.advance(0)

        def advance(self, step: int) -> None:
            due = max(i for i, begin in enumerate(begins) if begin <= step)
            if due > self.stage:
                value = curriculum.stages[due][1]
                venv.env_method("set_params", **{curriculum.parameter: value})
                self.applied.append({"step": int(step), "value": value})
                self.stage = due

        def _on_step(self) -> bool:
            self.advance(self.model.num_timesteps)
            return True

    return CurriculumCallback()


def _warm_start(config: RunConfig, model: Any) -> dict[str, Any]:
    """Clone the agent's demonstrations into ``model`` (see the module docstring); the record's
    ``meta`` entries for them (none without demonstrations)."""
    from rlbench3.agents.config import imitation_settings
    from rlbench3.agents.imitation import warm_start

    settings = imitation_settings(config.agent)
    if settings is None:
        return {}
    start = time.perf_counter()
    demonstrations = warm_start(
        model, config.env_id, config.splits[TRAIN], settings, config.demonstration_seed()
    )
    return {
        "demonstrations": {
            "episodes": demonstrations.episodes,
            "expert_success": demonstrations.success_rate,
            "pairs": len(demonstrations),
            "seconds": round(time.perf_counter() - start, 3),
        },
        "demonstration_steps": len(demonstrations),  # env steps outside the budget
    }


def training_env(config: RunConfig) -> Any:
    """The run's training envs: an SB3 ``DummyVecEnv`` of ``agent.n_envs`` copies of the train
    split, seeded as ``make_vec_env(seed=config.seed)`` seeds them."""
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv

    return make_vec_env(
        functools.partial(gym.make, config.env_id, **config.splits[TRAIN]),
        n_envs=config.agent.n_envs,
        seed=config.seed,
        vec_env_cls=DummyVecEnv,
    )


def make_model(config: RunConfig, venv: Any) -> Any:
    """The run's model (an SB3 / sb3-contrib algorithm or random search) on ``venv``, built from
    the agent's settings and seeded with the run's seed, on the CPU."""
    from rlbench3.agents.config import algorithm_class, constructor_kwargs

    agent, space = config.agent, venv.action_space
    action_dim = int(np.prod(space.shape)) if space.shape else None
    return algorithm_class(agent.algo)(
        agent.policy,
        venv,
        seed=config.seed,
        verbose=0,
        device="cpu",
        **constructor_kwargs(agent.hyperparams, action_dim),
    )


def train_run(config: RunConfig) -> tuple[dict[str, Any], bytes | None]:
    """Train and evaluate one run: its record and its final policy, serialised.

    The policy bytes are a weights-only policy file (arrays and JSON, no pickle; see
    :mod:`rlbench3.agents.policy_files`); ``record["meta"]["policy_class"]`` names the class that
    loads them (see :func:`rlbench3.analysis.results.load_policy`). They are ``None`` when the
    policy's class has no weights-only format (see :func:`saved_policy`).

    With demonstrations, the policy is warm-started between building the model and ``learn``;
    the expert's env steps are not counted in ``budget`` (``meta.demonstration_steps``). With a
    curriculum, the training env's copies follow its stages (``meta.curriculum``); evaluation
    does not.
    """
    import torch
    from stable_baselines3.common.callbacks import CallbackList
    from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
    from stable_baselines3.common.utils import set_random_seed

    from rlbench3.agents.config import (
        POPULATION_ALGORITHMS,
        null_logger,
    )

    if config.agent.algo in POPULATION_ALGORITHMS:
        return train_population([config])[0]
    torch.set_num_threads(1)  # faster for small MLPs, and identical results in every worker
    seed = config.seed
    set_random_seed(seed)
    if config.curriculum is not None and config.agent.algo == "random_search":
        raise ValueError(f"run {config.run_id}: random search cannot follow a curriculum")
    monitor = _reward_signal_monitor()(training_env(config))
    model = make_model(config, monitor)
    demonstration_meta = _warm_start(config, model)
    callbacks: list[Any] = []
    if config.curriculum is not None:
        callbacks.append(_curriculum_callback(config, monitor))
    replay = (
        ReplayBatchCounter(model.replay_buffer) if isinstance(model, OffPolicyAlgorithm) else None
    )
    evaluators = {split: Evaluator.for_split(config, split) for split in config.splits}
    started = time.perf_counter()
    recorder = _recorder(
        evaluators,
        config.eval.every,
        config.budget,
        monitor,
        lambda: time.perf_counter() - started,
    )
    model.set_logger(null_logger())  # no empty /tmp/SB3-* folder per run
    model.learn(
        total_timesteps=config.budget,
        callback=CallbackList([recorder, *callbacks]) if callbacks else recorder,
    )
    recorder.evaluate()  # the final point: the policy learn() returns, at the steps taken
    total_seconds = time.perf_counter() - started
    for evaluate in evaluators.values():
        evaluate.close()
    monitor.close()
    train_seconds = total_seconds - recorder.eval_seconds
    saved, policy_meta = saved_policy(model.policy)
    record = {
        "curve": recorder.curve,
        "final": {
            split: {"returns": returns.tolist(), "successes": success.astype(int).tolist()}
            for split, (returns, success) in recorder.last_episodes.items()
        },
        "zero_signal": (
            zero_signal_entry(REPLAY_BATCH, replay.batches, replay.empty_batches)
            if replay is not None
            else zero_signal_entry(ROLLOUT, recorder.batches, recorder.empty_batches)
        ),
        "meta": {
            "steps": int(model.num_timesteps),
            "train_seconds": round(train_seconds, 3),
            "eval_seconds": round(recorder.eval_seconds, 3),
            "eval_env_steps": recorder.eval_steps,
            "eval_mode": config.eval.mode,
            "eval_seeds": config.eval_seeds,
            "steps_per_second": round(model.num_timesteps / max(train_seconds, 1e-9), 1),
            "host": socket.gethostname(),
            "versions": package_versions(config.agent.algo),
            **policy_meta,
            **demonstration_meta,
        },
    }
    if callbacks:
        assert config.curriculum is not None
        record["meta"]["curriculum"] = {
            "parameter": config.curriculum.parameter,
            "stages": callbacks[0].applied,
        }
    return record, saved


# --------------------------------------------------------------------------------------------
# A population of seeds


def _population_recorder(
    configs: list[RunConfig], evaluators: list[dict[str, Evaluator]], clock: Callable
) -> Any:
    from rlbench3.agents.population import PopulationCallback

    budget, every = configs[0].budget, configs[0].eval.every

    class PopulationRecorder(PopulationCallback):
        """:func:`train_run`'s recorder for every seed: each seed's evaluators at the steps SB3's
        ``_on_step`` would evaluate (the start, the first step at or past every ``every`` steps
        before the budget; the policy does not change within a rollout), the final point added
        by the caller."""

        def __init__(self) -> None:
            self.curves: list[list[dict[str, Any]]] = [[] for _ in configs]
            self.last_episodes: list[dict[str, tuple[np.ndarray, np.ndarray]]] = [
                {} for _ in configs
            ]
            self.eval_steps = [0] * len(configs)
            self.eval_seconds = 0.0
            self.next_eval = 0

        def evaluate(self, trainer: Any, step: int) -> None:
            start = time.perf_counter()
            for j, seed_evaluators in enumerate(evaluators):
                model = trainer.member(j)
                for split, evaluate in seed_evaluators.items():
                    returns, success, steps = evaluate(model)
                    self.eval_steps[j] += steps
                    self.last_episodes[j][split] = (returns, success)
                    self.curves[j].append(
                        {
                            "step": int(step),
                            "split": split,
                            "mean_return": float(returns.mean()),
                            "success_rate": float(success.mean()),
                            "wall_time": round(clock(), 4),
                        }
                    )
            self.eval_seconds += time.perf_counter() - start
            self.next_eval = step + every

        def on_training_start(self, trainer: Any) -> None:
            self.evaluate(trainer, trainer.num_timesteps)

        def on_rollout_start(self, trainer: Any) -> None:
            n, start = trainer.n_envs, trainer.num_timesteps
            end = start + trainer.settings.rollout_size
            while True:  # the steps of this rollout at which train_run's recorder evaluates
                step = max(start + n, math.ceil(self.next_eval / n) * n)
                if step > end or step >= budget:
                    return
                self.evaluate(trainer, step)

    return PopulationRecorder()


def _check_population(configs: list[RunConfig]) -> None:
    from rlbench3.agents.config import POPULATION_ALGORITHMS

    if not configs:
        raise ValueError("train_population needs at least one run config")
    first = configs[0]
    if first.agent.algo not in POPULATION_ALGORITHMS:
        raise ValueError(
            f"run {first.run_id}: agent {first.agent.name!r} ({first.agent.algo}) is not trained "
            "by the population trainer"
        )
    shared = population_key(first)
    for config in configs[1:]:
        if population_key(config) != shared:
            raise ValueError(
                f"runs {first.run_id} and {config.run_id} differ in more than their seed: they "
                "cannot be trained as one population"
            )
    if first.curriculum is not None or first.agent.demonstrations:
        raise ValueError(
            f"run {first.run_id}: the population trainer follows no curriculum and clones no "
            "demonstrations"
        )
    seeds = [config.seed for config in configs]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"a population's seeds must be distinct, got {seeds}")


def population_key(config: RunConfig) -> str:
    """What runs trained as one population share: the run config without its seed (JSON)."""
    import json

    data = config.to_dict()
    data.pop("seed")
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def train_population(configs: list[RunConfig]) -> list[tuple[dict[str, Any], bytes]]:
    """Train runs that differ only in their seed as one population; each run's record and
    policy bytes, in the order of ``configs``, as :func:`train_run` returns them.

    ``meta.train_seconds`` is the run's share of the population's training time (the
    population's divided by its size), so ``meta.steps_per_second`` (the run's steps over its
    share) is the population's env steps per second; ``meta.population_size`` and
    ``meta.population_train_seconds`` give the whole.
    """
    import torch

    from rlbench3.agents.config import algorithm_class, population_settings
    from rlbench3.agents.policy_files import policy_bytes

    _check_population(configs)
    torch.set_num_threads(1)
    first = configs[0]
    settings = population_settings(first.agent)
    size = len(configs)
    trainer = algorithm_class(first.agent.algo)(
        first.env_id, [config.seed for config in configs], settings, first.splits[TRAIN]
    )
    evaluators = [
        {split: Evaluator.for_split(config, split) for split in config.splits} for config in configs
    ]
    started = time.perf_counter()
    recorder = _population_recorder(configs, evaluators, lambda: time.perf_counter() - started)
    try:
        trainer.learn(first.budget, recorder)
        recorder.evaluate(trainer, trainer.num_timesteps)  # the final point, as train_run's
        total_seconds = time.perf_counter() - started
    finally:
        for seed_evaluators in evaluators:
            for evaluate in seed_evaluators.values():
                evaluate.close()
        trainer.close()
    population_seconds = total_seconds - recorder.eval_seconds
    train_seconds = population_seconds / size
    steps = int(trainer.num_timesteps)
    versions = package_versions()
    host = socket.gethostname()
    out = []
    for j, config in enumerate(configs):
        policy = trainer.export_policy(j)
        saved = policy_bytes(policy)
        record = {
            "curve": recorder.curves[j],
            "final": {
                split: {"returns": returns.tolist(), "successes": success.astype(int).tolist()}
                for split, (returns, success) in recorder.last_episodes[j].items()
            },
            "zero_signal": zero_signal_entry(
                ROLLOUT, int(trainer.rollouts), int(trainer.empty_rollouts[j])
            ),
            "meta": {
                "steps": steps,
                "train_seconds": round(train_seconds, 3),
                "eval_seconds": round(recorder.eval_seconds / size, 3),
                "eval_env_steps": recorder.eval_steps[j],
                "eval_mode": config.eval.mode,
                "eval_seeds": config.eval_seeds,
                "steps_per_second": round(steps / max(train_seconds, 1e-9), 1),
                "population_size": size,
                "population_train_seconds": round(population_seconds, 3),
                "host": host,
                "versions": versions,
                "policy_class": f"{type(policy).__module__}:{type(policy).__qualname__}",
                "policy_sha256": hashlib.sha256(saved).hexdigest(),
            },
        }
        out.append((record, saved))
    return out
