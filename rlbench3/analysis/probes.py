"""Random-policy probes of the "swiss cheese" landscape.

``hit_probability`` estimates, by Monte Carlo, the probability that a uniformly random policy gets
any non-zero reward in an episode, with an exact (Clopper-Pearson) binomial interval. It steps the
family's batched vector env when one is registered (``make_vec`` with a ``vector_entry_point``), so
millions of episodes are cheap, and otherwise a ``SyncVectorEnv`` of a few copies of the single
env. ``policy_hit_probability`` does the same for any policy with SB3's ``predict``, acting by
sampling from it (the default: the probability that the policy *as it explores* finds a reward)
or greedily (whether its mode does); its estimate says which. Both step their episodes through
:func:`rlbench3.harness.evaluation.run_episodes`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from scipy import stats

import rlbench3.envs  # noqa: F401  (registers the ids)
from rlbench3.harness.evaluation import Act, policy_randomness, run_episodes
from rlbench3.harness.run_config import eval_mode

# Copies stepped together, as a SyncVectorEnv of single envs, for ids without a batched vector env
# (one Python env step per copy: more copies only amortise the policy's call per step).
SYNC_COPIES = 16


@dataclass(frozen=True)
class HitEstimate:
    """A binomial proportion with its exact two-sided interval.

    ``mode`` says how the actions were chosen: ``"uniform"`` (:func:`hit_probability`: uniform
    random actions), ``"sampled"`` or ``"greedy"`` (:func:`policy_hit_probability`: drawn from the
    policy's distribution, or its mode), ``None`` where the estimate is not of a policy's episodes
    (e.g. the landscape's fraction of candidate policies).
    """

    hits: int
    episodes: int
    confidence: float
    low: float
    high: float
    mode: str | None = None

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


def _uniform_policy(space: spaces.Space, rng: np.random.Generator, n: int) -> Act:
    """An ``act`` drawing ``n`` uniform random actions per step in one draw (``Space.sample`` per
    copy is far slower; the space is checked once, not per step)."""
    if isinstance(space, spaces.Discrete):
        start, k = space.start, space.n
        return lambda _: start + rng.integers(k, size=n)
    if isinstance(space, spaces.Box) and space.is_bounded():
        low, high, shape, dtype = space.low, space.high, (n, *space.shape), space.dtype
        return lambda _: rng.uniform(low, high, size=shape).astype(dtype)
    raise TypeError(f"no uniform random policy for action space {space}")


def _episode_envs(
    env_id: str, episodes: int, num_envs: int, env_kwargs: dict[str, Any]
) -> tuple[Any, int]:
    """The vector env of a probe and the episodes per copy: the family's batched vector env with
    up to ``num_envs`` copies, else a ``SyncVectorEnv`` of up to :data:`SYNC_COPIES` single envs;
    ``episodes`` is rounded up to a multiple of the copies."""
    batched = gym.spec(env_id).vector_entry_point is not None
    copies = max(1, min(num_envs if batched else min(num_envs, SYNC_COPIES), episodes))
    if batched:
        envs = gym.make_vec(env_id, num_envs=copies, **env_kwargs)
    else:  # copy=False: the probes' policies use each step's observations at once, keep none
        envs = gym.make_vec(
            env_id,
            num_envs=copies,
            vectorization_mode="sync",
            vector_kwargs={"copy": False},
            **env_kwargs,
        )
    return envs, -(-episodes // copies)


def _hits(envs: Any, make_act: Callable[[Any], Act], per_copy: int, seed: int) -> tuple[int, int]:
    """Episodes with any non-zero reward, and episodes run, of ``make_act(envs)``; closes
    ``envs``."""
    try:
        result = run_episodes(envs, make_act(envs), episodes_per_env=per_copy, seed=seed)
    finally:
        envs.close()
    return int(result.signal.sum()), result.signal.size


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
        num_envs: copies stepped together on the batched path (at most :data:`SYNC_COPIES` for
            ids without a batched vector env).
        confidence: level of the Clopper-Pearson interval.
        **env_kwargs: env parameters (e.g. ``horizon=8``, ``preset="R"``).

    Every copy runs the same number of whole episodes, so episodes that end early (a success, in
    families that terminate on success) are not over-represented.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be an integer >= 1, got {episodes}")
    envs, per_copy = _episode_envs(env_id, episodes, num_envs, env_kwargs)
    rng = np.random.default_rng(seed)
    hits, total = _hits(
        envs, lambda e: _uniform_policy(e.single_action_space, rng, e.num_envs), per_copy, seed
    )
    low, high = clopper_pearson(hits, total, confidence)
    return HitEstimate(hits, total, confidence, low, high, mode="uniform")


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
    deterministic: bool = False,
    num_envs: int = 1024,
    confidence: float = 0.95,
    **env_kwargs: Any,
) -> HitEstimate:
    """Probability that ``policy`` gets any non-zero reward in an episode (exact binomial CI).

    What a value means depends on the action mode, which the estimate states (``mode``):

    * sampled (``deterministic=False``, the default): actions are drawn from the policy's
      distribution, as the policy acts while it collects experience. The value is the chance
      that one episode of exploration with this policy meets a reward at all. An untrained
      policy is near uniform, so its value is near K^-H on a K-action, H-step lock (an untrained
      PPO policy, 6-step 2-action lock: 0.0186, against 2^-6 = 0.0156).
    * greedy (``deterministic=True``): the policy's mode (argmax, a Gaussian's mean). On a
      deterministic env each initial state then hits always or never, so the value is the
      fraction of initial states (env draws) whose greedy trajectory is rewarded; for an untrained
      policy it is usually 0 or 1 (the same PPO policy: 0.0000), not a chance of finding the
      reward by exploring.

    Args:
        env_id: a registered id, e.g. ``"rlbench3/CombinationLock-v0"``.
        policy: anything with SB3's ``predict(observations, deterministic=...)`` for a batch of
            observations (an SB3 algorithm, an SB3 ``BasePolicy``, or a plain object); it may
            return ``actions`` or SB3's ``(actions, state)``.
        episodes: Monte-Carlo episodes (rounded up to a multiple of the copies used).
        seed: seeds the environment, and the generators ``predict`` draws from for the
            duration of the call (torch's, numpy's and the policy's action space's, restored
            afterwards; see :func:`~rlbench3.harness.evaluation.policy_randomness`), so a
            sampling ``predict`` is reproducible: same seed -> same estimate.
        deterministic: passed to ``predict``: False samples, True acts greedily (see above).
        num_envs: copies stepped together (one ``predict`` call per step for all of them; at
            most :data:`SYNC_COPIES` for ids without a batched vector env).
        confidence: level of the Clopper-Pearson interval.
        **env_kwargs: env parameters.

    As :func:`hit_probability`, every copy runs the same number of whole episodes.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be an integer >= 1, got {episodes}")
    envs, per_copy = _episode_envs(env_id, episodes, num_envs, env_kwargs)
    with policy_randomness(seed, policy):
        act = functools.partial(_act, policy, deterministic=deterministic)
        hits, total = _hits(envs, lambda _: act, per_copy, seed)
    low, high = clopper_pearson(hits, total, confidence)
    return HitEstimate(hits, total, confidence, low, high, mode=eval_mode(deterministic))
