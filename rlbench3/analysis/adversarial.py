"""Adversarial and random perturbations of a trained policy's observations and actions.

* :func:`fgsm_observations`: the fast gradient sign method (Goodfellow et al. 2015) applied to a
  policy's observations, as Huang et al. (2017), "Adversarial Attacks on Neural Network
  Policies": ``obs' = obs + ε · sign(∇_obs L)`` with ``L`` a loss that the perturbation should
  increase (an L∞ perturbation of size ε).
* :func:`perturbed_returns`: per-episode returns and successes of a model's deterministic policy
  under FGSM observations, Gaussian observation noise, or action noise, the last two from the
  wrappers of :mod:`rlbench3.envs.wrappers` (so they mean exactly what they mean there).

## The FGSM losses

* **Discrete actions** (PPO/A2C/TRPO categorical policies, DQN): the cross-entropy of the
  policy's logits (for DQN, its Q-values taken as logits, as Huang et al.) against the *clean*
  deterministic action ``a* = argmax``: increasing it makes ``a*`` less likely.
* **Continuous actions** (PPO/A2C/TRPO Gaussian policies: the mean; SAC: the deterministic,
  squashed action; TD3: the actor's action): the squared distance ``||μ(obs') − μ(obs)||²``
  between perturbed and clean action, to be maximised (i.e. the loss is its negative, minimised).
  Its gradient is exactly zero at ``obs' = obs``, so it is taken at a random start
  ``obs + δ0``, ``δ0 ~ U(-ε, ε)`` per dimension (Wong, Rice & Kolter 2020, "Fast is better than
  free": FGSM with a random initialisation; here with step ``2ε`` then projection onto the
  ε-ball, which is ``obs' = obs + ε · sign(∇)`` again).

Components whose gradient is exactly 0 are left unperturbed (``sign(0) = 0``). Observations are
not clipped to the observation space's bounds: the perturbation models a corrupted sensor.
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

import rlbench3.envs  # noqa: F401  (registers the ids)
from rlbench3.agents.threads import torch_threads
from rlbench3.harness.evaluation import run_episodes

KINDS = ("fgsm", "obs_noise", "action_noise")


def _policy_of(model: Any) -> Any:
    """The torch policy of an SB3 algorithm (or RandomSearch), or the policy itself."""
    return model if isinstance(model, torch.nn.Module) else model.policy


def _supported(policy: Any) -> bool:
    from stable_baselines3.common.policies import ActorCriticPolicy
    from stable_baselines3.dqn.policies import DQNPolicy
    from stable_baselines3.sac.policies import SACPolicy
    from stable_baselines3.td3.policies import TD3Policy

    return isinstance(policy, (ActorCriticPolicy, DQNPolicy, SACPolicy, TD3Policy))


def _action_output(policy: Any, obs: torch.Tensor) -> tuple[str, torch.Tensor]:
    """``("logits", (n, K))`` or ``("action", (n, d))``: what the deterministic action is of."""
    from stable_baselines3.common.distributions import (
        CategoricalDistribution,
        DiagGaussianDistribution,
    )
    from stable_baselines3.common.policies import ActorCriticPolicy
    from stable_baselines3.dqn.policies import DQNPolicy
    from stable_baselines3.sac.policies import SACPolicy
    from stable_baselines3.td3.policies import TD3Policy

    if isinstance(policy, ActorCriticPolicy):
        if policy.use_sde:
            raise NotImplementedError("FGSM on gSDE policies (use_sde=True) is not supported")
        dist = policy.get_distribution(obs)
        if isinstance(dist, CategoricalDistribution):
            return "logits", dist.distribution.logits
        if isinstance(dist, DiagGaussianDistribution):
            return "action", dist.distribution.mean
        raise TypeError(f"FGSM needs a categorical or Gaussian policy, got {type(dist).__name__}")
    if isinstance(policy, DQNPolicy):
        return "logits", policy.q_net(obs)
    if isinstance(policy, SACPolicy):
        return "action", policy.actor(obs, deterministic=True)
    if isinstance(policy, TD3Policy):
        return "action", policy.actor(obs)
    raise TypeError(f"unsupported policy {type(policy).__name__}")


def fgsm_observations(
    policy: Any,
    obs: np.ndarray,
    epsilon: float,
    *,
    rng: np.random.Generator | int = 0,
) -> np.ndarray:
    """FGSM-perturbed observations ``obs + ε · sign(∇_obs L)`` (see the module docstring).

    Args:
        policy: an SB3 algorithm (PPO, A2C, TRPO, DQN, SAC, TD3, RandomSearch) or its policy.
        obs: ``(n, *obs_shape)`` a batch of observations, or one observation ``obs_shape``.
        epsilon: the L∞ size of the perturbation, ``>= 0``; 0 returns ``obs`` unchanged.
        rng: generator (or seed) of the random start, used for continuous actions only.

    Returns:
        the perturbed observations, the shape and dtype of ``obs``.
    """
    epsilon = float(epsilon)
    if not np.isfinite(epsilon) or epsilon < 0:
        raise ValueError(f"epsilon must be finite and >= 0, got {epsilon}")
    policy = _policy_of(policy)
    if not _supported(policy):
        raise TypeError(
            "fgsm_observations needs an SB3 ActorCriticPolicy, DQNPolicy, SACPolicy or "
            f"TD3Policy (or an algorithm holding one), got {type(policy).__name__}"
        )
    if not isinstance(policy.observation_space, spaces.Box):
        raise TypeError(f"FGSM needs a Box observation space, got {policy.observation_space}")
    obs = np.asarray(obs)
    if epsilon == 0.0:
        return obs.copy()
    single = obs.shape == policy.observation_space.shape
    x = torch.as_tensor(obs[None] if single else obs, dtype=torch.float32)
    policy.set_training_mode(False)
    with torch.no_grad():
        kind, clean = _action_output(policy, x)
    if kind == "logits":
        start = x.clone().requires_grad_(True)
        _, logits = _action_output(policy, start)
        loss = torch.nn.functional.cross_entropy(logits, clean.argmax(dim=-1), reduction="sum")
    else:
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        delta0 = torch.as_tensor(gen.uniform(-epsilon, epsilon, size=x.shape), dtype=x.dtype)
        start = (x + delta0).requires_grad_(True)
        _, action = _action_output(policy, start)
        loss = ((action - clean) ** 2).sum()
    (grad,) = torch.autograd.grad(loss, start)
    out = (x + epsilon * grad.sign()).numpy()
    out = out[0] if single else out
    return out.astype(obs.dtype if np.issubdtype(obs.dtype, np.floating) else np.float32)


def perturbed_returns(
    model: Any,
    env_id: str,
    env_kwargs: dict[str, Any] | None,
    episodes: int,
    seed: int,
    kind: str,
    epsilon: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-episode returns ``(episodes,)`` and successes ``(episodes,)`` (bool) of ``model``'s
    deterministic policy under a perturbation of size ``epsilon``.

    Kinds:
        * ``"fgsm"``: every observation the policy sees is :func:`fgsm_observations` of the
          true one (L∞ size ``epsilon``; the random starts of continuous-action policies are
          drawn from a generator seeded by ``seed``).
        * ``"obs_noise"``: :class:`rlbench3.envs.wrappers.ObservationNoise`, ``obs + ε · N(0, 1)``.
        * ``"action_noise"``: :class:`rlbench3.envs.wrappers.ActionNoise`: for Box actions Gaussian
          noise of standard deviation ``epsilon``, clipped to the bounds; for Discrete actions
          a uniform random action with probability ``epsilon`` (then in ``[0, 1]``).

    ``epsilon = 0`` is the clean evaluation for every kind. The ``episodes`` episodes are stepped
    together in a ``SyncVectorEnv`` of single envs reset with ``seed`` (sub-env ``i`` with
    ``seed + i``), each running exactly one episode. The noise wrappers draw from their own
    generators, so for one ``seed`` every kind and every ``epsilon`` meets the same episodes
    (the same goals, parameters, combinations): differences are the perturbation's.
    """
    from rlbench3.envs.wrappers import ActionNoise, ObservationNoise

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if episodes < 1:
        raise ValueError(f"episodes must be an integer >= 1, got {episodes}")
    wrappers = []
    if kind == "obs_noise":
        wrappers.append(functools.partial(ObservationNoise, scale=epsilon))
    elif kind == "action_noise":
        wrappers.append(functools.partial(ActionNoise, scale=epsilon))
    elif not np.isfinite(epsilon) or epsilon < 0:
        raise ValueError(f"epsilon must be finite and >= 0, got {epsilon}")
    envs = gym.make_vec(
        env_id,
        num_envs=episodes,
        vectorization_mode="sync",
        wrappers=wrappers,
        **(env_kwargs or {}),
    )
    rng = np.random.default_rng(seed)

    def act(obs: np.ndarray) -> np.ndarray:
        seen = fgsm_observations(model, obs, epsilon, rng=rng) if kind == "fgsm" else obs
        return model.predict(seen, deterministic=True)[0]

    try:
        with torch_threads(1):
            result = run_episodes(envs, act, seed=seed)
    finally:
        envs.close()
    return result.returns[:, 0], result.successes[:, 0]
