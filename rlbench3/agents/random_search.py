"""Random policy search: the "cycle through random seeds and policies" baseline.

Sample a policy's parameters from the very initial distribution a Stable-Baselines3 algorithm uses
(its policy class, built under a fresh torch seed), evaluate it for a few episodes, keep the best,
repeat until the environment-step budget is spent. No gradient is ever taken. In sparse-reward
tasks this is the honest baseline for learning: a gradient method that cannot beat it has found
no signal that a random draw would not have found as well.

It exposes the parts of the SB3 algorithm interface the harness uses (``learn`` with SB3
callbacks, ``predict``, ``num_timesteps``, ``get_env``), so it runs, is evaluated and is recorded
exactly like the SB3 agents.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

from rlbench3.agents.config import null_logger

POLICY_SOURCES = ("PPO", "A2C", "TRPO")


class RandomSearch:
    """Best-of-N random policies under a step budget.

    Args:
        policy: policy name of ``policy_from`` (e.g. ``"MlpPolicy"``).
        env: an SB3 ``VecEnv``; candidates are evaluated on it, ``n_envs`` episodes at a time.
        episodes_per_candidate: episodes used to score each candidate (mean return).
        policy_from: the SB3 algorithm whose policy class and initialisation define the
            distribution candidates are drawn from (``PPO``, ``A2C`` or ``TRPO``).
        policy_kwargs: passed to the policy, as for that algorithm.
        deterministic: act with the policy's mode (True) or sample from it.
        seed: seeds candidate draws; same seed and env seed -> same search.
    """

    def __init__(
        self,
        policy: str,
        env: VecEnv,
        episodes_per_candidate: int = 1,
        policy_from: str = "PPO",
        policy_kwargs: dict[str, Any] | None = None,
        deterministic: bool = True,
        seed: int | None = None,
        verbose: int = 0,
        device: str = "cpu",
    ):
        if not isinstance(episodes_per_candidate, int) or episodes_per_candidate < 1:
            raise ValueError(
                f"episodes_per_candidate must be an integer >= 1, got {episodes_per_candidate!r}"
            )
        if policy_from not in POLICY_SOURCES:
            raise ValueError(f"policy_from must be one of {POLICY_SOURCES}, got {policy_from!r}")
        self.env = env
        self.episodes_per_candidate = episodes_per_candidate
        self.deterministic = deterministic
        self.seed = 0 if seed is None else int(seed)
        self.verbose = verbose
        self.num_timesteps = 0
        self.logger = null_logger()  # SB3's configure() would create an empty /tmp/SB3-* folder
        # A template model gives the policy class, its kwargs and learning-rate schedule exactly
        # as the algorithm would build them; each candidate is a fresh policy of that class.
        module = "sb3_contrib" if policy_from == "TRPO" else "stable_baselines3"
        algo = getattr(importlib.import_module(module), policy_from)
        self._template = algo(
            policy, env, policy_kwargs=policy_kwargs or {}, seed=self.seed, device=device
        )
        self.candidates_evaluated = 0
        self.best_return = -np.inf
        self.candidate_returns: list[float] = []
        self.policy = self.candidate(0)

    def candidate(self, index: int) -> Any:
        """Candidate ``index``: a fresh policy of the template's class and arguments, built under
        torch seed ``seed * 1_000_003 + index``: a pure function of the seed and the index (for one
        torch thread count, see :func:`rlbench3.agents.threads.torch_threads`). The search
        evaluates candidates ``0, 1, 2, ...`` in order and starts from candidate 0."""
        t = self._template
        with torch.random.fork_rng():
            torch.manual_seed(self.seed * 1_000_003 + index)
            policy = t.policy_class(
                t.observation_space, t.action_space, t.lr_schedule, **t.policy_kwargs
            )
        return policy.to(t.device).eval()

    def set_logger(self, logger: Any) -> None:
        """SB3's ``set_logger``: where :meth:`learn` records (nothing, by default)."""
        self.logger = logger

    def get_env(self) -> VecEnv:
        return self.env

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, None]:
        return self.policy.predict(observation, state, episode_start, deterministic)

    def _score(self, policy: Any, callback: BaseCallback) -> float | None:
        """Mean return of ``policy`` over ``episodes_per_candidate`` whole episodes.

        ``None`` when the callback asked to stop training (SB3: ``on_step`` returned False).
        """
        env = self.env
        obs = env.reset()
        returns: list[float] = []
        running = np.zeros(env.num_envs)
        # Only the first episodes_per_candidate episodes to *start* count, so short episodes
        # are not favoured: with n envs, envs that would start extra episodes stop counting.
        counting = np.arange(env.num_envs) < self.episodes_per_candidate
        started = int(counting.sum())
        while counting.any():
            actions, _ = policy.predict(obs, deterministic=self.deterministic)
            obs, rewards, dones, infos = env.step(actions)
            self.num_timesteps += env.num_envs
            callback.update_locals({"rewards": rewards, "dones": dones, "infos": infos})
            if not callback.on_step():
                return None
            running += rewards
            for i in np.flatnonzero(dones & counting):
                returns.append(float(running[i]))
                if started < self.episodes_per_candidate:
                    started += 1
                else:
                    counting[i] = False
            running[dones] = 0.0
        return float(np.mean(returns))

    def learn(
        self, total_timesteps: int, callback: BaseCallback | None = None, progress_bar: bool = False
    ) -> RandomSearch:
        from stable_baselines3.common.callbacks import CallbackList

        callback = callback if callback is not None else CallbackList([])
        callback.init_callback(self)  # type: ignore[arg-type]
        callback.on_training_start(locals(), globals())
        best = self.policy
        while self.num_timesteps < total_timesteps:
            candidate = self.candidate(self.candidates_evaluated)
            callback.on_rollout_start()
            score = self._score(candidate, callback)
            if score is None:  # stopped by the callback (as SB3: no on_rollout_end, no score)
                break
            callback.on_rollout_end()
            self.candidates_evaluated += 1
            self.candidate_returns.append(score)
            if score > self.best_return:
                self.best_return, best = score, candidate
                self.policy = best
        self.policy = best
        callback.on_training_end()
        return self
