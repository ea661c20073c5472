"""Randomized classic control: Gymnasium's CartPole, MountainCar, Acrobot and Pendulum with the
physical parameters of Packer et al. (2018), "Assessing Generalization in Deep Reinforcement
Learning" (arXiv 1810.12282), re-sampled at every reset.

Each env here (:class:`CartPoleEnv`, :class:`MountainCarEnv`, :class:`AcrobotEnv`,
:class:`PendulumEnv`; their docstrings are the specs) is Gymnasium's own task, a subclass of
Gymnasium's env: same observations, actions, rewards, termination and starting states. Only the
listed physical parameters change. They are a frozen
:class:`~rlbench3.envs.parameters.EnvParams` dataclass per task, so each one may be a fixed
number, a uniform range, or a union of disjoint intervals (see :mod:`rlbench3.envs.parameters`).
At every reset the randomized ones are drawn from the env's ``np_random`` (in field order) and
written into the simulator before the starting state is drawn. ``info["params"]`` at reset holds
the episode's values of every parameter. The horizon is not a parameter here (it stays
Gymnasium's; the parameters that vary are physical), so Gymnasium's time limits are registered
as ``max_episode_steps``: a registered ``TimeLimit`` is safe.

## Presets
Each task has the presets of Packer et al.'s Table 1 (``envs/presets.yaml``): ``D`` (the
deterministic defaults, the values below), ``R`` (uniform on the training range) and ``E`` (the
extremes: uniform on the union of two intervals, one on each side of ``R``). ``rlbench3/<Task>-v0``
takes them as ``preset=``; ``rlbench3/<Task>-<D|R|E>-v0`` has the preset built in.

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
*variants* (Cobbe et al. 2019's "train on K levels"): with ``variant_seed = v >= 0`` the
episode's randomized parameters are drawn from a generator seeded by ``v`` alone (see
:func:`rlbench3.envs._randomized.variant_rng`), so variant ``v`` is the same parameter vector in
every episode, process and run. Give ``variant_seed`` as an integer range to draw a variant per
episode: ``{low: 0, high: K - 1}`` trains on K variants; ``{low: 1000000, high: 1999999}`` tests
on a million disjoint ones; ``-1`` draws fresh values every episode (K = infinity). A variant's
values depend only on ``v`` and on the parameter distributions (not on ``variant_seed``'s own
range), so the first 10 variants are the same whether K is 10 or 1000.
``info["params"]["variant_seed"]`` is the episode's variant.

## Success
``info["is_success"]`` is given on every step: whether the episode so far meets the task's
criterion (Packer et al.'s definitions, in each env's docstring); its value on the episode's last
step (terminated, or truncated by the registered time limit) is the episode's outcome, SB3's
convention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gymnasium.envs.classic_control.acrobot import AcrobotEnv as _GymAcrobot
from gymnasium.envs.classic_control.cartpole import CartPoleEnv as _GymCartPole
from gymnasium.envs.classic_control.mountain_car import MountainCarEnv as _GymMountainCar
from gymnasium.envs.classic_control.pendulum import PendulumEnv as _GymPendulum

from rlbench3.envs._randomized import (
    RandomizedTask,
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
# Every physical parameter lies in [MIN_VALUE, MAX_VALUE], far beyond any preset on both sides:
# beyond them the simulators fail (CartPole's state overflowed to NaN with a force or pole length
# of 1e300 and with a pole of 5e-324, Pendulum divided by zero with a length of 5e-324). Acrobot's
# lie in ACROBOT_RANGE: Gymnasium integrates it by one RK4 step of 0.2 s, which diverges for long,
# heavy links of small inertia (e.g. all of 10, 10 and 0.1), and then its angle wrapping (a loop
# subtracting 2 pi) never returns. No divergence was found within the range (its 8 corners and
# 400 random points, random and bang-bang torques).
MIN_VALUE = 1e-6
MAX_VALUE = 1e6
ACROBOT_RANGE = (0.2, 5.0)


# --------------------------------------------------------------------------------------------
# Parameters


@dataclass(frozen=True)
class CartPoleParams(EnvParams):
    """Parameters of :class:`CartPoleEnv` (see its docstring)."""

    family = "CartPole"

    force_mag: float | Distribution = number(10.0, ge=MIN_VALUE, le=MAX_VALUE)
    length: float | Distribution = number(0.5, ge=MIN_VALUE, le=MAX_VALUE)
    masspole: float | Distribution = number(0.1, ge=MIN_VALUE, le=MAX_VALUE)
    extreme_sampling: str = extreme_sampling_field()
    variant_seed: int | Distribution = variant_seed_field()


@dataclass(frozen=True)
class MountainCarParams(EnvParams):
    """Parameters of :class:`MountainCarEnv` (see its docstring)."""

    family = "MountainCar"

    force: float | Distribution = number(0.001, ge=MIN_VALUE, le=MAX_VALUE)
    gravity: float | Distribution = number(0.0025, ge=MIN_VALUE, le=MAX_VALUE)
    extreme_sampling: str = extreme_sampling_field()
    variant_seed: int | Distribution = variant_seed_field()


@dataclass(frozen=True)
class AcrobotParams(EnvParams):
    """Parameters of :class:`AcrobotEnv` (see its docstring)."""

    family = "Acrobot"

    link_length: float | Distribution = number(1.0, ge=ACROBOT_RANGE[0], le=ACROBOT_RANGE[1])
    link_mass: float | Distribution = number(1.0, ge=ACROBOT_RANGE[0], le=ACROBOT_RANGE[1])
    link_moi: float | Distribution = number(1.0, ge=ACROBOT_RANGE[0], le=ACROBOT_RANGE[1])
    extreme_sampling: str = extreme_sampling_field()
    variant_seed: int | Distribution = variant_seed_field()


@dataclass(frozen=True)
class PendulumParams(EnvParams):
    """Parameters of :class:`PendulumEnv` (see its docstring)."""

    family = "Pendulum"

    length: float | Distribution = number(1.0, ge=MIN_VALUE, le=MAX_VALUE)
    mass: float | Distribution = number(1.0, ge=MIN_VALUE, le=MAX_VALUE)
    extreme_sampling: str = extreme_sampling_field()
    variant_seed: int | Distribution = variant_seed_field()


# --------------------------------------------------------------------------------------------
# The envs


class _ClassicTask(RandomizedTask):
    """Construction shared by the four tasks, and the episode's step count for success."""

    params_class: type[EnvParams]

    def __init__(self, render_mode: str | None = None, preset: str | None = None, **kwargs: Any):
        self.params = resolve_task_params(self.params_class, preset, kwargs)
        check_render_mode(self, render_mode)
        super().__init__(render_mode=render_mode)  # type: ignore[call-arg]
        self._t = 0

    def _start(self) -> None:
        self._t = 0

    def _success(self, terminated: bool) -> bool:
        self._t += 1
        return self._solved(terminated)

    def _solved(self, terminated: bool) -> bool:
        raise NotImplementedError


class CartPoleEnv(_ClassicTask, _GymCartPole):
    """Gymnasium's CartPole, its push force and pole length and mass randomized (Packer et al.).

    ## Description
    Gymnasium's ``CartPoleEnv`` (the cart-pole of Barto, Sutton and Anderson): a pole is attached by
    an un-actuated joint to a cart moving along a frictionless track, and must be kept upright by
    pushing the cart left or right. Here ``force_mag``, ``length`` (half the pole) and ``masspole``
    are drawn at every reset; everything else is Gymnasium's. Their presets, extreme sampling and
    variants are those of :mod:`rlbench3.envs.classic_control`.

    ## Action Space
    ``Discrete(2)``: 0 pushes the cart to the left, 1 to the right, with the force ``force_mag``.

    ## Observation Space
    ``Box((4,), float32)``: cart position (bounds +-4.8), cart velocity, pole angle (+-0.418 rad, 24
    degrees) and pole angular velocity (the velocities unbounded).

    ## Rewards
    1.0 for every step, the terminating step included (Gymnasium's default reward).

    ## Starting State
    Gymnasium's: each of the four state variables uniform in (-0.05, 0.05), drawn after the
    episode's parameters (the ``options`` of ``reset`` are Gymnasium's: ``low`` and ``high`` change
    these bounds).

    ## Episode End
    ``terminated`` when the pole angle leaves +-12 degrees or the cart position leaves +-2.4;
    ``truncated`` at 500 steps by the registered ``max_episode_steps``.

    ## Randomization
    The parameters set Gymnasium's simulator attributes: ``force_mag``; ``length`` -> ``length``,
    ``polemass_length``; ``masspole`` -> ``masspole``, ``total_mass``, ``polemass_length``.
    Gymnasium caches ``total_mass = masspole + masscart`` and
    ``polemass_length = masspole * length``; both are recomputed from the drawn values (forgetting
    them is the classic bug: the pole mass would then change only half of the equations).
    ``info["params"]`` at reset holds the episode's values.

    ## Success
    ``info["is_success"]``, given on every step: the episode lasted at least 195 steps (the step on
    which the pole falls counted, i.e. an undiscounted return >= 195, as in Packer et al.'s code).
    Its value on the episode's last step is the outcome.

    ## Arguments
    | parameter            | default      | valid values |
    |----------------------|--------------|--------------|
    | ``force_mag``        | ``10.0``     | a number >= 1e-06 and <= 1e+06 |
    | ``length``           | ``0.5``      | a number >= 1e-06 and <= 1e+06 |
    | ``masspole``         | ``0.1``      | a number >= 1e-06 and <= 1e+06 |
    | ``extreme_sampling`` | ``'length'`` | one of 'length', 'equal' |
    | ``variant_seed``     | ``-1``       | an integer >= -1 and <= 9223372036854775807 |
    | ``preset``           | ``None``     | None, 'D', 'R' or 'E' |
    | ``render_mode``      | ``None``     | None, 'human' or 'rgb_array' |

    The parameters are :class:`CartPoleParams`. Every number may be given as a distribution (see
    :mod:`rlbench3.envs.parameters`), drawn at every reset; ``variant_seed`` as an integer range.
    ``extreme_sampling`` and ``variant_seed`` are explained in :mod:`rlbench3.envs.classic_control`
    ("Extreme sampling", "Variants"). A ``preset`` sets the task's parameters at once
    (``rlbench3/CartPole-<D|R|E>-v0`` have it built in); explicit keywords override it. Unknown
    names are an error: Gymnasium's ``sutton_barto_reward`` is not accepted.

    The numbers are bounded on both sides far beyond the presets (1e-6 to 1e6): outside, Gymnasium's
    simulator overflows to NaN or divides by zero. A ``variant_seed`` is a numpy seed (< 2**63).

    ## Version History
    * v0: initial version.
    """

    params_class = CartPoleParams
    params: CartPoleParams

    def _apply(self, ep: dict[str, Any]) -> None:
        self.force_mag = ep["force_mag"]
        self.length = ep["length"]
        self.masspole = ep["masspole"]
        self.total_mass = self.masspole + self.masscart
        self.polemass_length = self.masspole * self.length

    def _solved(self, terminated: bool) -> bool:
        return self._t >= CARTPOLE_SUCCESS_STEPS


class MountainCarEnv(_ClassicTask, _GymMountainCar):
    """Gymnasium's discrete MountainCar with its force and gravity randomized (Packer et al.).

    ## Description
    Gymnasium's discrete ``MountainCarEnv`` (Moore 1990): a car placed at the bottom of a sinusoidal
    valley must be accelerated, left or right, up to the goal on top of the hill on the right. Here
    ``force`` and ``gravity`` are drawn at every reset; everything else is Gymnasium's. Their
    presets, extreme sampling and variants are those of :mod:`rlbench3.envs.classic_control`.

    ## Action Space
    ``Discrete(3)``: 0 accelerates to the left, 1 does not accelerate, 2 accelerates to the right.

    ## Observation Space
    ``Box([-1.2, -0.07], [0.6, 0.07], (2,), float32)``: the car's position and velocity.

    ## Dynamics
    ``v += (a - 1) * force - cos(3 x) * gravity``, clipped to +-0.07, then ``x += v``, clipped to
    [-1.2, 0.6]; hitting the left end sets a negative velocity to 0 (Gymnasium's transition).

    ## Rewards
    -1.0 for every step.

    ## Starting State
    Gymnasium's: position uniform in [-0.6, -0.4], velocity 0, drawn after the episode's parameters
    (the ``options`` of ``reset`` are Gymnasium's: ``low`` and ``high`` change the position's
    bounds).

    ## Episode End
    ``terminated`` when the car reaches the goal, position >= 0.5 on top of the right hill (with
    velocity >= 0, Gymnasium's default ``goal_velocity``); ``truncated`` at 200 steps by the
    registered ``max_episode_steps``.

    ## Randomization
    The parameters set Gymnasium's simulator attributes ``force`` and ``gravity``, the two
    coefficients of the velocity update above. Packer et al. call the second coefficient the car's
    "mass"; it is Gymnasium's ``gravity`` attribute and is named so here. ``info["params"]`` at
    reset holds the episode's values.

    ## Success
    ``info["is_success"]``, given on every step: the car reached the goal (``terminated``) within
    110 steps. Its value on the episode's last step is the outcome.

    ## Arguments
    | parameter            | default      | valid values |
    |----------------------|--------------|--------------|
    | ``force``            | ``0.001``    | a number >= 1e-06 and <= 1e+06 |
    | ``gravity``          | ``0.0025``   | a number >= 1e-06 and <= 1e+06 |
    | ``extreme_sampling`` | ``'length'`` | one of 'length', 'equal' |
    | ``variant_seed``     | ``-1``       | an integer >= -1 and <= 9223372036854775807 |
    | ``preset``           | ``None``     | None, 'D', 'R' or 'E' |
    | ``render_mode``      | ``None``     | None, 'human' or 'rgb_array' |

    The parameters are :class:`MountainCarParams`. Every number may be given as a distribution (see
    :mod:`rlbench3.envs.parameters`), drawn at every reset; ``variant_seed`` as an integer range.
    ``extreme_sampling`` and ``variant_seed`` are explained in :mod:`rlbench3.envs.classic_control`
    ("Extreme sampling", "Variants"). A ``preset`` sets the task's parameters at once
    (``rlbench3/MountainCar-<D|R|E>-v0`` have it built in); explicit keywords override it. Unknown
    names are an error: Gymnasium's ``goal_velocity`` is not accepted.

    The numbers are bounded on both sides far beyond the presets (1e-6 to 1e6): outside, Gymnasium's
    simulator overflows to NaN or divides by zero. A ``variant_seed`` is a numpy seed (< 2**63).

    ## Version History
    * v0: initial version.
    """

    params_class = MountainCarParams
    params: MountainCarParams

    def _apply(self, ep: dict[str, Any]) -> None:
        self.force = ep["force"]
        self.gravity = ep["gravity"]

    def _solved(self, terminated: bool) -> bool:
        return terminated and self._t <= MOUNTAINCAR_SUCCESS_STEPS


class AcrobotEnv(_ClassicTask, _GymAcrobot):
    """Gymnasium's Acrobot, its links' length, mass and inertia randomized (Packer et al.).

    ## Description
    Gymnasium's ``AcrobotEnv`` (Sutton 1996, with the dynamics of Sutton and Barto's book): two
    links hang in a chain from a fixed end, the joint between them actuated; the free end must be
    swung above a given height. Here ``link_length``, ``link_mass`` and ``link_moi`` are drawn at
    every reset; everything else is Gymnasium's. Their presets, extreme sampling and variants are
    those of :mod:`rlbench3.envs.classic_control`.

    ## Action Space
    ``Discrete(3)``: a torque of -1, 0 or 1 on the actuated joint between the links.

    ## Observation Space
    ``Box((6,), float32)``: ``cos`` and ``sin`` of ``theta1`` (the first link's angle, 0 pointing
    down) and of ``theta2`` (relative to the first link), then the two angular velocities, bounded
    by +-4 pi and +-9 pi rad/s.

    ## Rewards
    -1.0 for every step that does not reach the goal height, 0.0 on the step that does.

    ## Starting State
    Gymnasium's: ``theta1``, ``theta2`` and the two angular velocities uniform in [-0.1, 0.1] (both
    links hanging down), drawn after the episode's parameters (the ``options`` of ``reset`` are
    Gymnasium's: ``low`` and ``high`` change these bounds).

    ## Episode End
    ``terminated`` when the free end reaches the goal height,
    ``-cos(theta1) - cos(theta1 + theta2) > 1``; ``truncated`` at 500 steps by the registered
    ``max_episode_steps``.

    ## Randomization
    The parameters set Gymnasium's simulator attributes: ``link_length`` -> ``LINK_LENGTH_1``,
    ``LINK_LENGTH_2``; ``link_mass`` -> ``LINK_MASS_1``, ``LINK_MASS_2``; ``link_moi`` ->
    ``LINK_MOI`` (both links). These are three independent draws per episode, one for the length,
    one for the mass and one for the moment of inertia, each shared by both links (as Packer et
    al.'s code did, so results are comparable; independent per-link draws would be a different,
    six-parameter task). Gymnasium's equations (Sutton & Barto's book version) use the length of
    link 1 only: link 2's length enters only the drawing, and the centres of mass stay at
    ``LINK_COM_POS_1 = LINK_COM_POS_2 = 0.5``, as in Packer et al. The goal test is Gymnasium's
    (``-cos(t1) - cos(t1 + t2) > 1``, the tip of two unit links above the bar), independent of the
    drawn length. ``info["params"]`` at reset holds the episode's values.

    ## Success
    ``info["is_success"]``, given on every step: the tip reached the goal height (``terminated``)
    within 80 steps (the paper's number; their code used 90). Its value on the episode's last step
    is the outcome.

    ## Arguments
    | parameter            | default      | valid values |
    |----------------------|--------------|--------------|
    | ``link_length``      | ``1.0``      | a number >= 0.2 and <= 5 |
    | ``link_mass``        | ``1.0``      | a number >= 0.2 and <= 5 |
    | ``link_moi``         | ``1.0``      | a number >= 0.2 and <= 5 |
    | ``extreme_sampling`` | ``'length'`` | one of 'length', 'equal' |
    | ``variant_seed``     | ``-1``       | an integer >= -1 and <= 9223372036854775807 |
    | ``preset``           | ``None``     | None, 'D', 'R' or 'E' |
    | ``render_mode``      | ``None``     | None, 'human' or 'rgb_array' |

    The parameters are :class:`AcrobotParams`. Every number may be given as a distribution (see
    :mod:`rlbench3.envs.parameters`), drawn at every reset; ``variant_seed`` as an integer range.
    ``extreme_sampling`` and ``variant_seed`` are explained in :mod:`rlbench3.envs.classic_control`
    ("Extreme sampling", "Variants"). A ``preset`` sets the task's parameters at once
    (``rlbench3/Acrobot-<D|R|E>-v0`` have it built in); explicit keywords override it. Unknown names
    are an error: the names above are all the env takes.

    The three numbers lie in [0.2, 5] (Packer et al.'s ranges lie in [0.5, 1.5]): Gymnasium
    integrates the Acrobot by one RK4 step of 0.2 s, which diverges for long, heavy links of small
    inertia (e.g. 10, 10 and 0.1), and its angle wrapping then never returns. No divergence was
    found within the range. A ``variant_seed`` is a numpy seed (< 2**63).

    ## Version History
    * v0: initial version.
    """

    params_class = AcrobotParams
    params: AcrobotParams

    def _apply(self, ep: dict[str, Any]) -> None:
        # Instance attributes shadow Gymnasium's class constants, which _dsdt reads.
        self.LINK_LENGTH_1 = self.LINK_LENGTH_2 = ep["link_length"]
        self.LINK_MASS_1 = self.LINK_MASS_2 = ep["link_mass"]
        self.LINK_MOI = ep["link_moi"]

    def _solved(self, terminated: bool) -> bool:
        return terminated and self._t <= ACROBOT_SUCCESS_STEPS


class PendulumEnv(_ClassicTask, _GymPendulum):
    """Gymnasium's Pendulum swing-up with the pendulum's length and mass randomized (Packer et al.).

    ## Description
    Gymnasium's ``PendulumEnv``: a pendulum hangs from a fixed point, and a torque must swing it up
    and keep it upright. Here ``length`` and ``mass`` are drawn at every reset; everything else is
    Gymnasium's. Their presets, extreme sampling and variants are those of
    :mod:`rlbench3.envs.classic_control`.

    ## Action Space
    Gymnasium's ``Box(-2, 2, (1,), float32)``: the torque in N m (Gymnasium clips it to the box).
    Gymnasium's and SB3's env checkers warn that it is not normalized to ``[-1, 1]``, as they do for
    Gymnasium's own Pendulum-v1.

    ## Observation Space
    ``Box([-1, -1, -8], [1, 1, 8], (3,), float32)``: ``cos(theta)``, ``sin(theta)`` and the angular
    velocity (theta = 0 upright).

    ## Dynamics
    Gymnasium's ``dtheta' = 3 g / (2 l) sin(theta) + 3 / (m l^2) u``, with ``g = 10`` and steps of
    0.05 s, the angular velocity clipped to +-8; ``l`` and ``m`` are the drawn ``length`` and
    ``mass``.

    ## Rewards
    ``-(theta^2 + 0.1 theta_dot^2 + 0.001 u^2)``, with ``theta`` normalized to [-pi, pi) and ``u``
    the clipped torque (Gymnasium's).

    ## Starting State
    Gymnasium's: ``theta`` uniform in [-pi, pi] and the angular velocity uniform in [-1, 1], drawn
    after the episode's parameters (the ``options`` of ``reset`` are Gymnasium's: ``x_init`` and
    ``y_init`` change these bounds).

    ## Episode End
    Never ``terminated``; ``truncated`` at 200 steps by the registered ``max_episode_steps``.

    ## Randomization
    The parameters set Gymnasium's simulator attributes: ``length`` -> ``l``; ``mass`` -> ``m``.
    ``info["params"]`` at reset holds the episode's values.

    ## Success
    ``info["is_success"]``, given on every step: the pole was within pi/3 of upright
    (``|angle| <= pi/3`` after the step) on each of the last 100 steps, so at the 200-step time
    limit: the last 100 of 200 steps. Its value on the episode's last step is the outcome.

    ## Arguments
    | parameter            | default      | valid values |
    |----------------------|--------------|--------------|
    | ``length``           | ``1.0``      | a number >= 1e-06 and <= 1e+06 |
    | ``mass``             | ``1.0``      | a number >= 1e-06 and <= 1e+06 |
    | ``extreme_sampling`` | ``'length'`` | one of 'length', 'equal' |
    | ``variant_seed``     | ``-1``       | an integer >= -1 and <= 9223372036854775807 |
    | ``preset``           | ``None``     | None, 'D', 'R' or 'E' |
    | ``render_mode``      | ``None``     | None, 'human' or 'rgb_array' |

    The parameters are :class:`PendulumParams`. Every number may be given as a distribution (see
    :mod:`rlbench3.envs.parameters`), drawn at every reset; ``variant_seed`` as an integer range.
    ``extreme_sampling`` and ``variant_seed`` are explained in :mod:`rlbench3.envs.classic_control`
    ("Extreme sampling", "Variants"). A ``preset`` sets the task's parameters at once
    (``rlbench3/Pendulum-<D|R|E>-v0`` have it built in); explicit keywords override it. Unknown
    names are an error: Gymnasium's ``g`` is not accepted.

    The numbers are bounded on both sides far beyond the presets (1e-6 to 1e6): outside, Gymnasium's
    simulator overflows to NaN or divides by zero. A ``variant_seed`` is a numpy seed (< 2**63).

    ## Version History
    * v0: initial version.
    """

    params_class = PendulumParams
    params: PendulumParams

    def _apply(self, ep: dict[str, Any]) -> None:
        self.l = ep["length"]
        self.m = ep["mass"]

    def _start(self) -> None:
        self._upright = 0  # consecutive upright steps

    def _success(self, terminated: bool) -> bool:
        upright = abs(pendulum_angle(float(self.state[0]))) <= PENDULUM_UPRIGHT_ANGLE
        self._upright = self._upright + 1 if upright else 0
        return self._upright >= PENDULUM_UPRIGHT_STEPS


def pendulum_angle(theta: float) -> float:
    """The pendulum's angle from upright, in ``[-pi, pi)`` (Gymnasium's ``angle_normalize``)."""
    return ((theta + math.pi) % (2 * math.pi)) - math.pi
