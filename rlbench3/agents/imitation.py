"""Behaviour cloning: warm-start an on-policy agent's policy from an env's expert.

Three steps, each usable on its own:

* :func:`expert_episodes` runs a family's expert (the env's ``optimal_action()``:
  ``CombinationLock``, ``SparseReach``, ``ArmReach``) for ``k`` episodes and returns the
  (observation, expert action) pairs as :class:`Demonstrations`;
* :func:`behaviour_clone` fits the policy of a Stable-Baselines3 on-policy model (PPO, A2C: an
  ``ActorCriticPolicy`` over a ``Discrete`` or ``Box`` action space) to them by maximum likelihood:
  minus the mean log-probability of the expert's actions under the policy's distribution, which
  is the cross-entropy for a categorical policy and the Gaussian log-likelihood for a continuous
  one;
* :func:`warm_start` does both from an :class:`ImitationSettings` (``k = 0`` leaves the model
  as it is), the form an agent file's ``demonstrations:`` key takes.

Everything is deterministic given the seeds: the expert and the envs are, minibatches are drawn
from a numpy generator, and torch runs on one thread
(:func:`~rlbench3.agents.threads.torch_threads`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from rlbench3.agents.threads import torch_threads

__all__ = [
    "Demonstrations",
    "ImitationSettings",
    "behaviour_clone",
    "expert_episodes",
    "warm_start",
]

MAX_EPISODES = 10**6
MAX_EPOCHS = 10**5
MAX_BATCH_SIZE = 2**20


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if (
        not isinstance(value, (int, np.integer))
        or isinstance(value, bool)
        or not (low <= value <= high)
    ):
        raise ValueError(f"{name} must be an integer >= {low} and <= {high}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class ImitationSettings:
    """How a policy is warm-started by behaviour cloning before RL (validated at construction).

    Attributes:
        episodes: ``k``, the number of expert episodes cloned; 0 (the default) clones nothing.
        epochs: passes over the demonstrations.
        batch_size: (observation, action) pairs per gradient step.
        learning_rate: Adam's step size (a fresh Adam: the model's own optimizer is untouched).
        fit_std: for a Gaussian policy, also fit its ``log_std`` by maximum likelihood (the
            policy then becomes nearly deterministic); by default only the mean is fitted and the
            exploration noise that RL starts from stays as initialised.
    """

    episodes: int = 0
    epochs: int = 50
    batch_size: int = 64
    learning_rate: float = 1e-3
    fit_std: bool = False

    def __post_init__(self) -> None:
        _check_int("episodes", self.episodes, 0, MAX_EPISODES)
        _check_int("epochs", self.epochs, 1, MAX_EPOCHS)
        _check_int("batch_size", self.batch_size, 1, MAX_BATCH_SIZE)
        lr = self.learning_rate
        if (
            not isinstance(lr, (int, float, np.integer, np.floating))
            or isinstance(lr, bool)
            or not (math.isfinite(lr) and 0.0 < lr <= 1.0)
        ):
            raise ValueError(f"learning_rate must be a number > 0 and <= 1, got {lr!r}")
        if not isinstance(self.fit_std, bool):
            raise ValueError(f"fit_std must be True or False, got {self.fit_std!r}")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ImitationSettings:
        """From plain data (an agent file's mapping), refusing unknown keys by name."""
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(config) - set(names))
        if unknown:
            raise ValueError(
                f"unknown imitation settings {unknown}; valid keys are {', '.join(names)}"
            )
        return cls(**config)


@dataclass(frozen=True)
class Demonstrations:
    """(observation, expert action) pairs from ``episodes`` expert episodes.

    Attributes:
        observations: ``(N, *observation_shape)`` float32, the observation each action was
            chosen in.
        actions: ``(N,)`` int64 for a ``Discrete`` action space, ``(N, d)`` float32 for a ``Box``.
        episodes: the number of episodes the pairs come from.
        successes: how many of them ended with ``info["is_success"]`` (the expert's success).
    """

    observations: np.ndarray
    actions: np.ndarray
    episodes: int
    successes: int

    def __post_init__(self) -> None:
        if len(self.observations) != len(self.actions):
            raise ValueError(
                f"observations and actions must pair up, got {len(self.observations)} "
                f"observations and {len(self.actions)} actions"
            )

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def success_rate(self) -> float:
        """The expert's success rate over these episodes (NaN without episodes)."""
        return self.successes / self.episodes if self.episodes else math.nan


def _action_array(space: spaces.Space, actions: list[Any]) -> np.ndarray:
    if isinstance(space, spaces.Discrete):
        return np.array(actions, dtype=np.int64).reshape(len(actions))
    return np.array(actions, dtype=np.float32).reshape(len(actions), *space.shape)


def expert_episodes(
    env_id: str, params: dict[str, Any] | None, episodes: int, seed: int
) -> Demonstrations:
    """Run the expert of ``env_id`` (made with ``params``) for ``episodes`` episodes.

    The first episode is reset with ``seed``, the next ones continue the env's generator, so the
    episodes are those an env made and seeded alike would show. Each step records the observation
    and ``env.unwrapped.optimal_action()``, which is then taken.

    Raises:
        ValueError: ``episodes`` out of range, or the env has no expert (``optimal_action``).
    """
    episodes = _check_int("episodes", episodes, 0, MAX_EPISODES)
    env = gym.make(env_id, **(params or {}))
    try:
        expert = getattr(env.unwrapped, "optimal_action", None)
        if not callable(expert):
            raise ValueError(
                f"{env_id} has no expert: its env defines no optimal_action() (experts exist "
                "for CombinationLock, SparseReach and ArmReach)"
            )
        observations: list[np.ndarray] = []
        actions: list[Any] = []
        successes = 0
        for episode in range(episodes):
            obs, _ = env.reset(seed=seed if episode == 0 else None)
            while True:
                action = expert()
                observations.append(obs)
                actions.append(action)
                obs, _, terminated, truncated, info = env.step(action)
                if terminated or truncated:
                    successes += bool(info.get("is_success", False))
                    break
        shape = env.observation_space.shape
        return Demonstrations(
            observations=np.array(observations, dtype=np.float32).reshape(-1, *shape),
            actions=_action_array(env.action_space, actions),
            episodes=episodes,
            successes=successes,
        )
    finally:
        env.close()


def _check_policy(model: Any, demonstrations: Demonstrations) -> Any:
    from stable_baselines3.common.policies import ActorCriticPolicy

    policy = getattr(model, "policy", None)
    if not isinstance(policy, ActorCriticPolicy):
        raise TypeError(
            "behaviour_clone needs an on-policy Stable-Baselines3 model (PPO, A2C) whose policy "
            f"is an ActorCriticPolicy, got {type(model).__name__} with "
            f"{type(policy).__name__} policy"
        )
    action_space, obs_space = policy.action_space, policy.observation_space
    if not isinstance(action_space, (spaces.Discrete, spaces.Box)):
        raise TypeError(
            f"behaviour_clone supports Discrete and Box action spaces, got {action_space}"
        )
    obs_shape = demonstrations.observations.shape[1:]
    if obs_shape != obs_space.shape:
        raise ValueError(
            f"demonstrations have observations of shape {obs_shape}, the policy expects "
            f"{obs_space.shape}"
        )
    act_shape = demonstrations.actions.shape[1:]
    if act_shape != action_space.shape:
        raise ValueError(
            f"demonstrations have actions of shape {act_shape}, the policy expects "
            f"{action_space.shape}"
        )
    return policy


def behaviour_clone(
    model: Any,
    demonstrations: Demonstrations,
    epochs: int = 50,
    *,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    fit_std: bool = False,
    seed: int = 0,
) -> list[float]:
    """Fit ``model.policy`` to the expert's actions by maximum likelihood; in place.

    Minimises minus the mean log-probability of ``demonstrations.actions`` given
    ``demonstrations.observations`` under the policy's action distribution (cross-entropy for
    ``Discrete``, Gaussian log-likelihood for ``Box``) with a fresh Adam, ``epochs`` passes of
    minibatches of ``batch_size`` drawn by ``numpy.random.default_rng(seed)``. The value network,
    the model's optimizer and, unless ``fit_std``, a Gaussian's ``log_std`` are left alone.
    Without demonstrations nothing changes at all.

    Returns:
        The mean loss of each epoch (empty without demonstrations).

    Raises:
        TypeError: the model is not an on-policy SB3 model with a Discrete or Box action space.
        ValueError: a setting out of range, or demonstrations of another env's shapes.
    """
    ImitationSettings(  # validates the arguments, naming any out of range
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        fit_std=fit_std,
    )
    policy = _check_policy(model, demonstrations)
    n = len(demonstrations)
    if n == 0:
        return []
    discrete = isinstance(policy.action_space, spaces.Discrete)
    rng = np.random.default_rng(seed)
    losses: list[float] = []
    was_training = policy.training
    with torch_threads(1):
        obs = torch.as_tensor(demonstrations.observations, device=policy.device)
        act = torch.as_tensor(
            demonstrations.actions, dtype=torch.long if discrete else torch.float32
        ).to(policy.device)
        trained = [p for name, p in policy.named_parameters() if fit_std or name != "log_std"]
        optimizer = torch.optim.Adam(trained, lr=learning_rate)
        policy.set_training_mode(True)
        try:
            for _ in range(epochs):
                order = torch.as_tensor(rng.permutation(n), device=policy.device)
                total = 0.0
                for start in range(0, n, batch_size):
                    batch = order[start : start + batch_size]
                    _, log_prob, _ = policy.evaluate_actions(obs[batch], act[batch])
                    loss = -log_prob.mean()
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    total += float(loss.detach()) * len(batch)
                losses.append(total / n)
        finally:
            policy.set_training_mode(was_training)
    return losses


def warm_start(
    model: Any,
    env_id: str,
    params: dict[str, Any] | None,
    settings: ImitationSettings,
    seed: int,
) -> Demonstrations:
    """Clone ``settings.episodes`` expert episodes of ``env_id`` into ``model``'s policy.

    The episodes are seeded by ``seed`` and so are the minibatches; with ``episodes = 0`` the
    model is returned untouched. Returns the demonstrations (their ``success_rate`` is the
    expert's on these episodes).
    """
    demonstrations = expert_episodes(env_id, params, settings.episodes, seed)
    behaviour_clone(
        model,
        demonstrations,
        settings.epochs,
        batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        fit_std=settings.fit_std,
        seed=seed,
    )
    return demonstrations
