"""Randomized classic control: Gymnasium's CartPole, MountainCar, Acrobot and Pendulum with the
physical parameters of Packer et al. (2018), "Assessing Generalization in Deep Reinforcement
Learning" (arXiv 1810.12282), re-sampled at every reset.

## Description
Each env here is Gymnasium's own task (a subclass of its ``CartPoleEnv``, the discrete
``MountainCarEnv``, ``AcrobotEnv`` and ``PendulumEnv``): same observations, actions, rewards,
termination and starting states. Only the listed physical parameters change. They are a frozen
:class:`~rlbench3.envs.parameters.EnvParams` dataclass per task, so each one may be a fixed number, a
uniform range, or a union of disjoint intervals (see :mod:`rlbench3.envs.parameters`). At every reset
the randomized ones are drawn from the env's ``np_random`` (in field order) and written into the
simulator before the starting state is drawn. ``info["params"]`` at reset holds the episode's
values of every parameter. Pendulum keeps Gymnasium's action space, ``Box(-2, 2)`` (torque in
N m): Gymnasium's and SB3's env checkers warn that it is not normalized to ``[-1, 1]``, as they
do for Gymnasium's own Pendulum-v1.

Each task has the presets of Packer et al.'s Table 1 (``envs/presets.yaml``): ``D`` (the
deterministic defaults, the values below), ``R`` (uniform on the training range) and ``E`` (the
extremes: uniform on the union of two intervals, one on each side of ``R``).

| task | parameter | D | R | E |
|---|---|---|---|---|
| CartPole | ``force_mag`` | 10 | [5, 15] | [1, 5] U [15, 20] |
| CartPole | ``length`` (half the pole) | 0.5 | [0.25, 0.75] | [0.05, 0.25] U [0.75, 1] |
| CartPole | ``masspole`` | 0.1 | [0.05, 0.5] | [0.01, 0.05] U [0.5, 1] |
| MountainCar | ``force`` | 0.001 | [0.0005, 0.005] | [0.0001, 0.0005] U [0.005, 0.01] |
| MountainCar | ``gravity`` | 0.0025 | [0.001, 0.005] | [0.0005, 0.001] U [0.005, 0.01] |
| Acrobot | ``link_length`` | 1 | [0.75, 1.25] | [0.5, 0.75] U [1.25, 1.5] |
| Acrobot | ``link_mass`` | 1 | [0.75, 1.25] | [0.5, 0.75] U [1.25, 1.5] |
| Acrobot | ``link_moi`` | 1 | [0.75, 1.25] | [0.5, 0.75] U [1.25, 1.5] |
| Pendulum | ``length`` | 1 | [0.75, 1.25] | [0.5, 0.75] U [1.25, 1.5] |
| Pendulum | ``mass`` | 1 | [0.75, 1.25] | [0.5, 0.75] U [1.25, 1.5] |

The simulator attributes they set (Gymnasium's names):

* CartPole: ``force_mag``; ``length`` -> ``length``, ``polemass_length``; ``masspole`` ->
  ``masspole``, ``total_mass``, ``polemass_length``.
* MountainCar: ``force``; ``gravity`` (Packer et al.'s "mass").
* Acrobot: ``link_length`` -> ``LINK_LENGTH_1``, ``LINK_LENGTH_2``; ``link_mass`` ->
  ``LINK_MASS_1``, ``LINK_MASS_2``; ``link_moi`` -> ``LINK_MOI`` (both links).
* Pendulum: ``length`` -> ``l``; ``mass`` -> ``m``.

Notes on applying them:

* CartPole: Gymnasium caches ``total_mass = masspole + masscart`` and ``polemass_length =
  masspole * length``; both are recomputed from the drawn values (forgetting them is the classic
  bug: the pole mass would then change only half of the equations).
* MountainCar: the velocity update is ``v += (a - 1) * force - cos(3 x) * gravity``. Packer et
  al. call the second coefficient the car's "mass"; it is Gymnasium's ``gravity`` attribute and is
  named so here.
* Acrobot: three independent draws per episode, one for the length, one for the mass and one for
  the moment of inertia, each shared by both links (as Packer et al.'s code did, so results are
  comparable; independent per-link draws would be a different, six-parameter task). Gymnasium's
  equations (Sutton & Barto's book version) use the length of link 1 only: link 2's length enters
  only the drawing, and the centres of mass stay at ``LINK_COM_POS_1 = LINK_COM_POS_2 = 0.5``, as
  in Packer et al. The goal test is Gymnasium's (``-cos(t1) - cos(t1 + t2) > 1``, the tip of two
  unit links above the bar), independent of the drawn length.
* Pendulum: Gymnasium's ``dtheta' = 3 g / (2 l) sin(theta) + 3 / (m l^2) u``; ``l`` and ``m`` are
  the drawn ``length`` and ``mass``.

## Extreme sampling
``extreme_sampling`` (``"length"``, the default, or ``"equal"``) is how every union of intervals
written without its own ``weighting`` is sampled, in the preset and in the keywords alike:
``"length"`` is uniform over the union's total length (what Packer et al.'s code did: their
``uniform_exclude_inner`` rejects draws inside ``R``), so the wider side dominates, e.g. 92.6%
(= 0.005 / 0.0054) of ``E`` MountainCar forces land on the high side; ``"equal"`` picks each side
with probability 1/2, then uniformly inside it. It is an env keyword, so it is part of a run's
config, and ``info["params"]["extreme_sampling"]`` records it.

## Variants
``variant_seed`` (default ``-1``: off) turns the randomized parameters into a fixed set of
*variants* (Cobbe et al. 2019's "train on K levels"): with ``variant_seed = v >= 0`` the episode's
randomized parameters are drawn from a generator seeded by ``v`` alone (see :func:`rlbench3.envs._randomized.variant_rng`),
so variant ``v`` is the same parameter vector in every episode, process and run. Give
``variant_seed`` as an integer range to draw a variant per episode: ``{low: 0, high: K - 1}``
trains on K variants; ``{low: 1000000, high: 1999999}`` tests on a million disjoint ones; ``-1``
draws fresh values every episode (K = infinity). A variant's values depend only on ``v`` and on
the parameter distributions (not on ``variant_seed``'s own range), so the first 10 variants are
the same whether K is 10 or 1000. ``info["params"]["variant_seed"]`` is the episode's variant.

## Success (``info["is_success"]``)
Given on every step: whether the episode so far meets the task's criterion (Packer et al.'s
definitions); its value on the episode's last step (terminated, or truncated by the registered
time limit) is the episode's outcome, SB3's convention.

* CartPole: the episode lasted at least 195 steps (the step on which the pole falls counted, i.e.
  an undiscounted return >= 195, as in Packer et al.'s code).
* MountainCar: the car reached the goal (``terminated``) within 110 steps.
* Acrobot: the tip reached the goal height (``terminated``) within 80 steps (the paper's number;
  their code used 90).
* Pendulum: the pole was within pi/3 of upright (``|angle| <= pi/3`` after the step) on each of
  the last 100 steps, so at the 200-step time limit: the last 100 of 200 steps.

## Episode end
Gymnasium's, with its time limits registered as ``max_episode_steps``: CartPole 500, MountainCar
200, Acrobot 500, Pendulum 200. The horizon is not a parameter here (it stays Gymnasium's; the
parameters that vary are physical), so a registered ``TimeLimit`` is safe.

## Arguments
Every task takes the parameters in its table row (each ``> 0``, randomizable), plus
``extreme_sampling`` (``"length"`` | ``"equal"``) and ``variant_seed`` (integer ``>= -1``,
randomizable as an integer range). A ``preset`` keyword (``"D"``, ``"R"``, ``"E"``) sets the task's
parameters at once; explicit keywords override it. Unknown names are an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.acrobot import AcrobotEnv as _GymAcrobot
from gymnasium.envs.classic_control.cartpole import CartPoleEnv as _GymCartPole
from gymnasium.envs.classic_control.mountain_car import MountainCarEnv as _GymMountainCar
from gymnasium.envs.classic_control.pendulum import PendulumEnv as _GymPendulum

from rlbench3.envs._randomized import (
    draw_episode_params,
    extreme_sampling_field,
    resolve_task_params,
    variant_seed_field,
)
from rlbench3.envs.parameters import Distribution, EnvParams, number
from rlbench3.envs.rendering import check_render_mode

CARTPOLE_SUCCESS_STEPS = 195
MOUNTAINCAR_SUCCESS_STEPS = 110
ACROBOT_SUCCESS_STEPS = 80
PENDULUM_UPRIGHT_ANGLE = math.pi / 3
PENDULUM_UPRIGHT_STEPS = 100


# --------------------------------------------------------------------------------------------
# Parameters


@dataclass(frozen=True)
class CartPoleParams(EnvParams):
    """Parameters of :class:`CartPoleEnv` (see the module docstring)."""

    family = "CartPole"

    force_mag: float | Distribution = number(10.0, gt=0.0)
    length: float | Distribution = number(0.5, gt=0.0)
    masspole: float | Distribution = number(0.1, gt=0.0)
    extreme_sampling: str = extreme_sampling_field()
    variant_seed: int | Distribution = variant_seed_field()


@dataclass(frozen=True)
class MountainCarParams(EnvParams):
    """Parameters of :class:`MountainCarEnv` (see the module docstring)."""

    family = "MountainCar"

    force: float | Distribution = number(0.001, gt=0.0)
    gravity: float | Distribution = number(0.0025, gt=0.0)
    extreme_sampling: str = extreme_sampling_field()
    variant_seed: int | Distribution = variant_seed_field()


@dataclass(frozen=True)
class AcrobotParams(EnvParams):
    """Parameters of :class:`AcrobotEnv` (see the module docstring)."""

    family = "Acrobot"

    link_length: float | Distribution = number(1.0, gt=0.0)
    link_mass: float | Distribution = number(1.0, gt=0.0)
    link_moi: float | Distribution = number(1.0, gt=0.0)
    extreme_sampling: str = extreme_sampling_field()
    variant_seed: int | Distribution = variant_seed_field()


@dataclass(frozen=True)
class PendulumParams(EnvParams):
    """Parameters of :class:`PendulumEnv` (see the module docstring)."""

    family = "Pendulum"

    length: float | Distribution = number(1.0, gt=0.0)
    mass: float | Distribution = number(1.0, gt=0.0)
    extreme_sampling: str = extreme_sampling_field()
    variant_seed: int | Distribution = variant_seed_field()


# --------------------------------------------------------------------------------------------
# The envs


class CartPoleEnv(_GymCartPole):
    __doc__ = __doc__

    def __init__(self, render_mode: str | None = None, preset: str | None = None, **kwargs: Any):
        self.params: CartPoleParams = resolve_task_params(CartPoleParams, preset, kwargs)
        check_render_mode(self, render_mode)
        super().__init__(render_mode=render_mode)
        self._t = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        gym.Env.reset(self, seed=seed)
        ep = draw_episode_params(self.params, self.np_random)
        self.force_mag = ep["force_mag"]
        self.length = ep["length"]
        self.masspole = ep["masspole"]
        self.total_mass = self.masspole + self.masscart
        self.polemass_length = self.masspole * self.length
        obs, info = super().reset(options=options)
        self._t = 0
        return obs, {**info, "params": ep}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = super().step(action)
        self._t += 1
        info["is_success"] = self._t >= CARTPOLE_SUCCESS_STEPS
        return obs, reward, terminated, truncated, info


class MountainCarEnv(_GymMountainCar):
    __doc__ = __doc__

    def __init__(self, render_mode: str | None = None, preset: str | None = None, **kwargs: Any):
        self.params: MountainCarParams = resolve_task_params(MountainCarParams, preset, kwargs)
        check_render_mode(self, render_mode)
        super().__init__(render_mode=render_mode)
        self._t = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        gym.Env.reset(self, seed=seed)
        ep = draw_episode_params(self.params, self.np_random)
        self.force = ep["force"]
        self.gravity = ep["gravity"]
        obs, info = super().reset(options=options)
        self._t = 0
        return obs, {**info, "params": ep}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = super().step(action)
        self._t += 1
        info["is_success"] = terminated and self._t <= MOUNTAINCAR_SUCCESS_STEPS
        return obs, reward, terminated, truncated, info


class AcrobotEnv(_GymAcrobot):
    __doc__ = __doc__

    def __init__(self, render_mode: str | None = None, preset: str | None = None, **kwargs: Any):
        self.params: AcrobotParams = resolve_task_params(AcrobotParams, preset, kwargs)
        check_render_mode(self, render_mode)
        super().__init__(render_mode=render_mode)
        self._t = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        gym.Env.reset(self, seed=seed)
        ep = draw_episode_params(self.params, self.np_random)
        # Instance attributes shadow Gymnasium's class constants, which _dsdt reads.
        self.LINK_LENGTH_1 = self.LINK_LENGTH_2 = ep["link_length"]
        self.LINK_MASS_1 = self.LINK_MASS_2 = ep["link_mass"]
        self.LINK_MOI = ep["link_moi"]
        obs, info = super().reset(options=options)
        self._t = 0
        return obs, {**info, "params": ep}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = super().step(action)
        self._t += 1
        info["is_success"] = terminated and self._t <= ACROBOT_SUCCESS_STEPS
        return obs, reward, terminated, truncated, info


class PendulumEnv(_GymPendulum):
    __doc__ = __doc__

    def __init__(self, render_mode: str | None = None, preset: str | None = None, **kwargs: Any):
        self.params: PendulumParams = resolve_task_params(PendulumParams, preset, kwargs)
        check_render_mode(self, render_mode)
        super().__init__(render_mode=render_mode)
        self._upright = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        gym.Env.reset(self, seed=seed)
        ep = draw_episode_params(self.params, self.np_random)
        self.l = ep["length"]
        self.m = ep["mass"]
        obs, info = super().reset(options=options)
        self._upright = 0
        return obs, {**info, "params": ep}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = super().step(action)
        upright = abs(pendulum_angle(float(self.state[0]))) <= PENDULUM_UPRIGHT_ANGLE
        self._upright = self._upright + 1 if upright else 0
        info["is_success"] = self._upright >= PENDULUM_UPRIGHT_STEPS
        return obs, reward, terminated, truncated, info


def pendulum_angle(theta: float) -> float:
    """The pendulum's angle from upright, in ``[-pi, pi)`` (Gymnasium's ``angle_normalize``)."""
    return ((theta + math.pi) % (2 * math.pi)) - math.pi
