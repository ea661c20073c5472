"""Weak-generalization perturbations: Gymnasium wrappers that perturb what an agent sees or does.

Packer et al. (2018) hold the environment's parameters out; these wrappers instead perturb the
agent's interface to an unchanged environment (the "weak" generalization of noisy sensors and
actuators). They wrap any env whose spaces fit:

| wrapper | spaces | perturbation |
|---|---|---|
| :class:`ObservationNoise` | Box observations | ``obs + scale * N(0, 1)`` per dimension |
| :class:`ObservationDropout` | Box observations | each dimension 0 with probability ``p`` |
| :class:`ActionNoise` | Box actions | ``clip(action + scale * N(0, 1), low, high)`` |
| :class:`ActionNoise` | Discrete actions | a uniform random action with probability ``scale`` |

Observation perturbations apply to the observations of ``reset`` and of every ``step``.

## Definitions
* ``scale`` (Gaussian) is a standard deviation: one number for every dimension, or an array of
  the space's shape (per dimension). It must be finite and ``>= 0``.
* Box action noise is *clipped to the action bounds*: that is part of this perturbation's
  definition (the actuator saturates: the env only ever receives valid actions, and noise near a
  bound is one-sided), not a silent repair of bad input. An agent's own out-of-bounds action is
  clipped along with the noise.
* Discrete action noise: with probability epsilon (``scale``, in ``[0, 1]``) the action is
  replaced by one drawn uniformly from all ``n`` actions (which may be the chosen one again), so a
  different action is executed with probability ``epsilon * (n - 1) / n``.
* Dropout zeroes each observation dimension independently with probability ``p`` in ``[0, 1]``
  (a sensor returning 0, not a rescaled "inverted" dropout).

A zero ``scale`` / ``p`` is the identity: the env's observations and actions pass through
untouched and no random number is drawn. Otherwise the observation space is widened honestly:
dimensions with Gaussian noise become unbounded, and dropout extends bounds to include 0 where
they did not.

## Randomness
Each wrapper draws from its own generator, seeded from ``reset(seed=...)`` (a stream of its own
for each wrapper kind and position in the wrapper stack, separate from the env's ``np_random``,
so stacked wrappers do not share draws): the same seed gives the same perturbations, and a
trajectory of ``env.reset(seed=s)`` and the same actions is reproducible. Before any seeded reset
the generator is seeded from the OS entropy, like Gymnasium's ``np_random``. ``reset()`` without
a seed continues the stream.

Bad arguments (negative, non-finite, a probability outside [0, 1], an array of the wrong shape,
an unsupported space) raise ``ValueError`` / ``TypeError`` at construction.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

_OBS_NOISE_STREAM, _ACTION_NOISE_STREAM, _DROPOUT_STREAM = 0x6F6E, 0x616E, 0x6F64


def _scale_array(name: str, scale: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``scale`` validated and broadcast to ``shape`` (a float64 array)."""
    try:
        arr = np.asarray(scale, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers, got {scale!r}") from None
    if arr.ndim and arr.shape != shape:
        raise ValueError(
            f"{name} must be one number or an array of the space's shape {shape}, "
            f"got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {scale!r}")
    return np.broadcast_to(arr, shape).copy()


def _probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a probability (a number in [0, 1]), got {value!r}")
    if not 0.0 <= float(value) <= 1.0:  # NaN fails too
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def _box(name: str, space: gym.Space, what: str) -> spaces.Box:
    if not isinstance(space, spaces.Box):
        raise TypeError(f"{name} needs a Box {what} space, got {space!r}")
    return space


class _Perturbation(gym.Wrapper):
    """A wrapper with its own generator, seeded from ``reset(seed=...)``."""

    _stream = 0

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.perturbation_rng = np.random.default_rng()
        # The stream of a seed: this wrapper's kind and its depth in the wrapper stack, so that
        # two wrappers of one kind stacked on one env draw independent noise.
        depth, inner = 0, env
        while isinstance(inner, gym.Wrapper):
            depth, inner = depth + 1, inner.env
        self._spawn_key = (self._stream, depth)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if seed is not None:
            self.perturbation_rng = np.random.default_rng(
                np.random.SeedSequence(seed, spawn_key=self._spawn_key)
            )
        return self.env.reset(seed=seed, options=options)


class _ObservationPerturbation(_Perturbation):
    """A perturbation of every observation the agent sees, at reset and after each step."""

    def _perturb(self, obs: Any) -> Any:
        raise NotImplementedError

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = super().reset(**kwargs)
        return self._perturb(obs), info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._perturb(obs), reward, terminated, truncated, info


class ObservationNoise(_ObservationPerturbation):
    """Gaussian observation noise: ``obs + scale * N(0, 1)`` (see the module docstring)."""

    _stream = _OBS_NOISE_STREAM

    def __init__(self, env: gym.Env, scale: Any):
        super().__init__(env)
        space = _box("ObservationNoise", env.observation_space, "observation")
        self.scale = _scale_array("scale", scale, space.shape)
        self._active = bool(np.any(self.scale > 0))
        if self._active:
            noisy = self.scale > 0
            low = np.where(noisy, -np.inf, space.low).astype(space.dtype)
            high = np.where(noisy, np.inf, space.high).astype(space.dtype)
            self.observation_space = spaces.Box(low, high, dtype=space.dtype)

    def _perturb(self, obs: Any) -> Any:
        if not self._active:
            return obs
        noise = self.perturbation_rng.standard_normal(self.scale.shape) * self.scale
        return (np.asarray(obs, dtype=np.float64) + noise).astype(
            self.observation_space.dtype, copy=False
        )


class ObservationDropout(_ObservationPerturbation):
    """Each observation dimension set to 0 with probability ``p`` (see the module docstring)."""

    _stream = _DROPOUT_STREAM

    def __init__(self, env: gym.Env, p: float):
        super().__init__(env)
        space = _box("ObservationDropout", env.observation_space, "observation")
        self.p = _probability("p", p)
        self._shape = space.shape
        if self.p > 0:
            low = np.minimum(space.low, 0).astype(space.dtype)
            high = np.maximum(space.high, 0).astype(space.dtype)
            self.observation_space = spaces.Box(low, high, dtype=space.dtype)

    def _perturb(self, obs: Any) -> Any:
        if self.p == 0:
            return obs
        dropped = self.perturbation_rng.random(self._shape) < self.p
        return np.where(dropped, 0, obs).astype(self.observation_space.dtype, copy=False)


class ActionNoise(_Perturbation):
    """Action noise: Gaussian then clipped (Box), or epsilon-random (Discrete).

    ``scale`` is the Gaussian standard deviation for a Box action space (a number, or an array
    of the action shape) and the replacement probability epsilon for a Discrete one.
    """

    _stream = _ACTION_NOISE_STREAM

    def __init__(self, env: gym.Env, scale: Any):
        super().__init__(env)
        space = env.action_space
        if isinstance(space, spaces.Box):
            self.scale = _scale_array("scale", scale, space.shape)
            self._active = bool(np.any(self.scale > 0))
            self._low = space.low.astype(np.float64)
            self._high = space.high.astype(np.float64)
        elif isinstance(space, spaces.Discrete):
            self.scale = _probability("scale (the probability epsilon of a random action)", scale)
            self._active = self.scale > 0
        else:
            raise TypeError(f"ActionNoise needs a Box or Discrete action space, got {space!r}")

    def perturb(self, action: Any) -> Any:
        """The action the env receives for the agent's ``action`` (draws from the generator)."""
        if not self._active:
            return action
        space = self.action_space
        rng = self.perturbation_rng
        if isinstance(space, spaces.Discrete):
            if rng.random() < self.scale:
                return space.start + rng.integers(space.n)
            return action
        noisy = np.asarray(action, dtype=np.float64) + self.scale * rng.standard_normal(
            self.scale.shape
        )
        return np.clip(noisy, self._low, self._high).astype(space.dtype)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        return self.env.step(self.perturb(action))
