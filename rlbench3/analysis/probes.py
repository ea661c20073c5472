"""Random-policy probes of the "swiss cheese" landscape.

``hit_probability`` estimates, by Monte Carlo, the probability that a uniformly random policy gets
any non-zero reward in an episode, with an exact (Clopper-Pearson) binomial interval. It steps the
family's batched vector env when one is registered (``make_vec`` with a ``vector_entry_point``), so
millions of episodes are cheap, and falls back to a single-env loop otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from scipy import stats

import rlbench3  # noqa: F401  (registers the ids)


@dataclass(frozen=True)
class HitEstimate:
    """A binomial proportion with its exact two-sided interval."""

    hits: int
    episodes: int
    confidence: float
    low: float
    high: float

    @property
    def probability(self) -> float:
        return self.hits / self.episodes

    def contains(self, p: float) -> bool:
        return self.low <= p <= self.high


def clopper_pearson(hits: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact two-sided binomial interval for ``hits`` successes in ``trials`` trials."""
    if trials < 1 or not 0 <= hits <= trials:
        raise ValueError(f"need 0 <= hits <= trials and trials >= 1, got {hits}/{trials}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    alpha = 1.0 - confidence
    low = 0.0 if hits == 0 else float(stats.beta.ppf(alpha / 2, hits, trials - hits + 1))
    high = 1.0 if hits == trials else float(stats.beta.ppf(1 - alpha / 2, hits + 1, trials - hits))
    return low, high


def _uniform_actions(space: spaces.Space, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniform random actions in one draw (``Space.sample`` per copy is far slower)."""
    if isinstance(space, spaces.Discrete):
        return space.start + rng.integers(space.n, size=n)
    if isinstance(space, spaces.Box) and space.is_bounded():
        return rng.uniform(space.low, space.high, size=(n, *space.shape)).astype(space.dtype)
    raise TypeError(f"no uniform random policy for action space {space}")


def hit_probability(
    env_id: str,
    episodes: int = 10_000,
    *,
    seed: int = 0,
    num_envs: int = 1024,
    confidence: float = 0.95,
    **env_kwargs: Any,
) -> HitEstimate:
    """Probability that a uniform random policy gets any non-zero reward in an episode.

    Args:
        env_id: a registered id, e.g. ``"rlbench3/CombinationLock-v0"``.
        episodes: number of Monte-Carlo episodes (rounded up to a multiple of the copies used).
        seed: seeds both the environment and the policy; same seed -> same estimate.
        num_envs: copies stepped together on the batched path.
        confidence: level of the Clopper-Pearson interval.
        **env_kwargs: env parameters (e.g. ``horizon=8``, ``preset="R"``).

    Every copy runs the same number of whole episodes, so episodes that end early (a success, in
    families that terminate on success) are not over-represented.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be an integer >= 1, got {episodes}")
    spec = gym.spec(env_id)
    rng = np.random.default_rng(seed)
    if spec.vector_entry_point is None:
        hits = _single_env_hits(gym.make(env_id, **env_kwargs), episodes, seed, rng)
        total = episodes
    else:
        copies = max(1, min(num_envs, episodes))
        per_copy = -(-episodes // copies)
        envs = gym.make_vec(env_id, num_envs=copies, **env_kwargs)
        hits = _batched_hits(envs, per_copy, seed, rng)
        total = per_copy * copies
        envs.close()
    low, high = clopper_pearson(hits, total, confidence)
    return HitEstimate(hits, total, confidence, low, high)


def _single_env_hits(env: gym.Env, episodes: int, seed: int, rng: np.random.Generator) -> int:
    hits = 0
    env.reset(seed=seed)
    for _ in range(episodes):
        got_reward, done = False, False
        actions = iter(())
        while not done:
            action = next(actions, None)
            if action is None:
                actions = iter(_uniform_actions(env.action_space, rng, 256))
                action = next(actions)
            _, reward, terminated, truncated, _ = env.step(action)
            got_reward |= reward != 0.0
            done = terminated or truncated
        hits += got_reward
        env.reset()
    env.close()
    return hits


def _batched_hits(envs: Any, per_copy: int, seed: int, rng: np.random.Generator) -> int:
    n = envs.num_envs
    envs.reset(seed=seed)
    got_reward = np.zeros(n, dtype=bool)
    finished = np.zeros(n, dtype=np.int64)
    hits = 0
    while (finished < per_copy).any():
        actions = _uniform_actions(envs.single_action_space, rng, n)
        _, rewards, terminated, truncated, _ = envs.step(actions)
        got_reward |= rewards != 0.0
        ended = (terminated | truncated) & (finished < per_copy)
        hits += int((got_reward & ended).sum())
        finished += ended
        got_reward[terminated | truncated] = False
    return hits


def _act(policy: Any, obs: np.ndarray, deterministic: bool) -> np.ndarray:
    """Actions of an object with SB3's ``predict(obs, deterministic=...)`` for a batch of obs."""
    out = policy.predict(obs, deterministic=deterministic)
    return np.asarray(out[0] if isinstance(out, tuple) else out)


def policy_hit_probability(
    env_id: str,
    policy: Any,
    episodes: int = 10_000,
    *,
    seed: int = 0,
    deterministic: bool = True,
    num_envs: int = 1024,
    confidence: float = 0.95,
    **env_kwargs: Any,
) -> HitEstimate:
    """Probability that ``policy`` gets any non-zero reward in an episode (exact binomial CI).

    Args:
        env_id: a registered id, e.g. ``"rlbench3/CombinationLock-v0"``.
        policy: anything with SB3's ``predict(observations, deterministic=...)`` for a batch of
            observations (an SB3 algorithm, an SB3 ``BasePolicy``, or a plain object); it may
            return ``actions`` or SB3's ``(actions, state)``.
        episodes: Monte-Carlo episodes (rounded up to a multiple of the copies used).
        seed: seeds the environment, and torch's global generator for the duration of the call
            (so SB3's stochastic ``predict`` is reproducible); same seed -> same estimate.
        deterministic: passed to ``predict``.
        num_envs: copies stepped together on the batched path (one ``predict`` call per step for
            all of them).
        confidence: level of the Clopper-Pearson interval.
        **env_kwargs: env parameters.

    As :func:`hit_probability`, every copy runs the same number of whole episodes, and families
    without a batched env are stepped one episode at a time (``predict`` on a batch of one).
    """
    import torch

    if episodes < 1:
        raise ValueError(f"episodes must be an integer >= 1, got {episodes}")
    spec = gym.spec(env_id)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        if spec.vector_entry_point is None:
            env = gym.make(env_id, **env_kwargs)
            hits = _single_env_policy_hits(env, policy, episodes, seed, deterministic)
            total = episodes
        else:
            copies = max(1, min(num_envs, episodes))
            per_copy = -(-episodes // copies)
            envs = gym.make_vec(env_id, num_envs=copies, **env_kwargs)
            hits = _batched_policy_hits(envs, policy, per_copy, seed, deterministic)
            total = per_copy * copies
            envs.close()
    low, high = clopper_pearson(hits, total, confidence)
    return HitEstimate(hits, total, confidence, low, high)


def _single_env_policy_hits(
    env: gym.Env, policy: Any, episodes: int, seed: int, deterministic: bool
) -> int:
    hits = 0
    obs, _ = env.reset(seed=seed)
    for _ in range(episodes):
        got_reward, done = False, False
        while not done:
            action = _act(policy, np.asarray(obs)[None], deterministic)[0]
            obs, reward, terminated, truncated, _ = env.step(action)
            got_reward |= reward != 0.0
            done = terminated or truncated
        hits += got_reward
        obs, _ = env.reset()
    env.close()
    return hits


def _batched_policy_hits(
    envs: Any, policy: Any, per_copy: int, seed: int, deterministic: bool
) -> int:
    n = envs.num_envs
    obs, _ = envs.reset(seed=seed)
    got_reward = np.zeros(n, dtype=bool)
    finished = np.zeros(n, dtype=np.int64)
    hits = 0
    while (finished < per_copy).any():
        actions = _act(policy, obs, deterministic)
        obs, rewards, terminated, truncated, _ = envs.step(actions)
        got_reward |= rewards != 0.0
        ended = (terminated | truncated) & (finished < per_copy)
        hits += int((got_reward & ended).sum())
        finished += ended
        got_reward[terminated | truncated] = False
    return hits
