"""The training environments of a population: S seeds × ``n_envs`` copies, stepped as SB3 steps.

:class:`PopulationEnvs` is what :class:`rlbench3.agents.population.PopulationPPO` trains on. Row
``s * n_envs + i`` is copy ``i`` of seed ``s``: each seed owns a contiguous slice. A step has
SB3's ``DummyVecEnv`` semantics, not Gymnasium's ``NEXT_STEP`` autoreset: a copy that ends an
episode is reset on the same step, the observation returned for it is the new episode's first,
and the episode's last observation is kept in :attr:`Step.final_obs` (SB3's
``info["terminal_observation"]``), with :attr:`Step.truncated` saying where the end was a time
limit (SB3's ``info["TimeLimit.truncated"]``: truncated and not terminated).

Seeds stay independent: seed ``s``'s copies see exactly the env random numbers they would see in
a population of one. Three layouts get there (``layout="auto"`` picks one):

* ``"shared"``: one batched VectorEnv of ``S * n_envs`` copies (the family's own, through
  ``gym.make_vec``). Only for an env that draws no random numbers (the deterministic lock): a
  batched env has one generator for all its copies, so a stochastic env would make seed ``s``'s
  episodes depend on the other seeds. ``auto`` chooses it when a reset draws nothing, and every
  rollout checks that the generator is still untouched (a ``RuntimeError`` otherwise, never a
  silent coupling).
* ``"per_seed"``: one batched VectorEnv of ``n_envs`` copies per seed, reset with ``seed=s`` (its
  one generator seeded with the run's seed, as ``gym.make_vec`` would be for a run alone). One
  numpy step per seed and step: slower than ``shared`` for large S, exact for any env.
* ``"sync"``: for families without a batched env, one Gymnasium ``SyncVectorEnv`` of
  ``S * n_envs`` single envs; copy ``i`` of seed ``s`` is reset with seed ``s + i``, exactly as
  SB3's ``make_vec_env(seed=s)`` seeds its own copies, so a seed's env streams equal SB3's.

A batched env has one generator for its ``n_envs`` copies where SB3's ``make_vec_env`` seeds
``n_envs`` single envs ``s, s+1, ...``: same distribution of episodes, different streams (and
no stream shared between runs, where SB3 seeds copy ``i`` of run ``s`` and copy ``i - 1`` of run
``s + 1`` alike). ``PopulationPPO(streams="sb3")`` uses ``sync`` to reproduce SB3's streams.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

LAYOUTS = ("auto", "shared", "per_seed", "sync")


@dataclass(frozen=True)
class Step:
    """One step of every copy, ``(S * n_envs, ...)`` arrays, SB3's ``VecEnv.step`` semantics."""

    obs: np.ndarray  # float32; the next episode's first observation where the copy was done
    rewards: np.ndarray  # float32, as SB3's DummyVecEnv stores them
    dones: np.ndarray  # bool: terminated or truncated
    truncated: np.ndarray  # bool: truncated and not terminated (SB3's "TimeLimit.truncated")
    final_obs: np.ndarray  # the observations the step itself returned: rows where done are final


def _generator_state(env: Any) -> Any:
    return env.np_random.bit_generator.state


class PopulationEnvs:
    """``len(seeds) * n_envs`` env copies, seed ``seeds[j]`` owning rows ``j*n_envs ...``.

    Args:
        env_id: a registered id.
        env_kwargs: keywords of ``gym.make_vec`` / ``gym.make`` (the env's parameters).
        seeds: one per population member.
        n_envs: copies per seed.
        layout: see the module docstring.
    """

    def __init__(
        self,
        env_id: str,
        env_kwargs: dict[str, Any],
        seeds: list[int],
        n_envs: int,
        layout: str = "auto",
    ):
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        self.env_id, self.seeds, self.n_envs = env_id, list(seeds), int(n_envs)
        self.num_seeds = len(self.seeds)
        self.num_envs = self.num_seeds * self.n_envs
        batched = gym.spec(env_id).vector_entry_point is not None
        if layout == "auto":
            layout = "sync" if not batched else self._choose(env_id, env_kwargs)
        if layout in ("shared", "per_seed") and not batched:
            raise ValueError(f"layout {layout!r} needs a batched env; {env_id} has none (sync)")
        self.layout = layout
        if layout == "sync":
            self._envs = [
                gym.make_vec(
                    env_id, num_envs=self.num_envs, vectorization_mode="sync", **env_kwargs
                )
            ]
        elif layout == "shared":
            self._envs = [gym.make_vec(env_id, num_envs=self.num_envs, **env_kwargs)]
        else:
            self._envs = [
                gym.make_vec(env_id, num_envs=self.n_envs, **env_kwargs) for _ in self.seeds
            ]
        first = self._envs[0]
        self.single_observation_space = first.single_observation_space
        self.single_action_space = first.single_action_space
        self._untouched: Any = None  # layout "shared": the generator state no draw may change

    @staticmethod
    def _choose(env_id: str, env_kwargs: dict[str, Any]) -> str:
        """``shared`` where a reset draws no random numbers, else ``per_seed``."""
        probe = gym.make_vec(env_id, num_envs=2, **env_kwargs)
        try:
            probe.reset(seed=0)
            untouched = np.random.default_rng(0).bit_generator.state
            return "shared" if _generator_state(probe) == untouched else "per_seed"
        finally:
            probe.close()

    def reset(self) -> np.ndarray:
        """Seed every copy (see the module docstring) and return the first observations."""
        if self.layout == "sync":
            seeds = [s + i for s in self.seeds for i in range(self.n_envs)]
            obs, _ = self._envs[0].reset(seed=seeds)
        elif self.layout == "shared":
            env = self._envs[0]
            obs, _ = env.reset(seed=self.seeds[0])
            self._untouched = _generator_state(env)
        else:
            obs = np.concatenate([env.reset(seed=s)[0] for env, s in zip(self._envs, self.seeds)])
        return np.asarray(obs, dtype=np.float32)

    def check_independent(self) -> None:
        """Raise if the shared env has drawn random numbers (the seeds would be coupled)."""
        if self.layout == "shared" and _generator_state(self._envs[0]) != self._untouched:
            raise RuntimeError(
                f"{self.env_id} drew random numbers in the shared layout, so the seeds of the "
                "population were not independent; use layout='per_seed'"
            )

    def step(self, actions: np.ndarray) -> Step:
        if len(self._envs) == 1:
            return Step(*self._step_one(self._envs[0], actions))
        n = self.n_envs
        parts = [
            self._step_one(env, actions[j * n : (j + 1) * n]) for j, env in enumerate(self._envs)
        ]
        return Step(*(np.concatenate(arrays) for arrays in zip(*parts)))

    @staticmethod
    def _step_one(env: Any, actions: np.ndarray) -> tuple[np.ndarray, ...]:
        """Step one vector env and reset its finished copies at once (SB3's autoreset); the
        fields of :class:`Step`, in order."""
        obs, rewards, terminated, truncated, _ = env.step(actions)
        final_obs = np.asarray(obs, dtype=np.float32)
        dones = terminated | truncated
        if dones.all():
            obs, _ = env.reset()  # all copies: the batched envs keep their fast lockstep path
        elif dones.any():
            obs, _ = env.reset(options={"reset_mask": dones})
        obs = np.asarray(obs, dtype=np.float32)
        return obs, rewards.astype(np.float32), dones, truncated & ~terminated, final_obs

    def close(self) -> None:
        for env in self._envs:
            env.close()
