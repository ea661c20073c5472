"""Randomized locomotion: Gymnasium's HalfCheetah-v5 and Hopper-v5 (MuJoCo) with the actuator
power, density and friction of Packer et al. (2018), "Assessing Generalization in Deep
Reinforcement Learning" (arXiv 1810.12282), re-sampled at every reset.

Each env (:class:`HalfCheetahEnv`, :class:`HopperEnv`; their docstrings are the specs) is
Gymnasium's own v5 task, a subclass of Gymnasium's env with all of its defaults: same
observations, actions, rewards, termination (Hopper's health checks), starting-state noise and
1000-step time limit. Three physical parameters change, written into the compiled MuJoCo model
in place at every reset (drawn from the env's ``np_random``, before the starting state is
drawn); ``info["params"]`` at reset holds the episode's values. Success is Packer et al.'s speed
over the episode's duration (see "Success").

## Presets
| task | parameter | D | R | E |
|---|---|---|---|---|
| HalfCheetah | ``power`` | 0.90 | [0.70, 1.10] | [0.50, 0.70] U [1.10, 1.30] |
| HalfCheetah | ``density`` | 1000 | [750, 1250] | [500, 750] U [1250, 1500] |
| HalfCheetah | ``friction`` | 0.8 | [0.5, 1.1] | [0.2, 0.5] U [1.1, 1.4] |
| Hopper | ``power`` | 0.75 | [0.60, 0.90] | [0.40, 0.60] U [0.90, 1.10] |
| Hopper | ``density`` | 1000 | [750, 1250] | [500, 750] U [1250, 1500] |
| Hopper | ``friction`` | 0.8 | [0.5, 1.1] | [0.2, 0.5] U [1.1, 1.4] |

``rlbench3/<Task>-v0`` takes them as ``preset=``; ``rlbench3/<Task>-<D|R|E>-v0`` has the preset
built in.

## The parameters in the MuJoCo model
What each one means (``*0`` are the values of Gymnasium's compiled model; each env's docstring
gives its own gears, masses and frictions):

* ``power`` p: ``actuator_gear[:, 0] = p * gear0``, so the torque is ``p * gear0 * action``. This
  is Packer et al.'s definition: their Roboschool envs applied ``power * gear * clip(action)``,
  with the same gears as Gymnasium's XML. ``p = 1`` is Gymnasium's HalfCheetah-v5 and Hopper-v5.
* ``density`` rho (kg/m^3): every body's mass *and* rotational inertia are ``rho / 1000`` times
  ``body_mass0`` / ``body_inertia0`` (scaling a rigid body's density scales both by the same
  factor; the centres of mass do not move). 1000 is MuJoCo's default geom density, from which
  both models' masses are computed. Every body is scaled (Packer et al.'s code set the density of
  the torso body's own geoms only, an XPath quirk; the paper describes the robot's density).
* ``friction`` mu: ``geom_friction[:, 0] = mu`` for every geom, the floor included, so every
  contact's sliding friction (MuJoCo takes the larger of the two geoms') is exactly mu; torsional
  and rolling friction keep the model's values. This is an absolute coefficient, like Packer et
  al.'s (they set the default geom friction to "mu .1 .1").

After the change the derived constants are recomputed (``mj_setConst``, and the statistics
``stat.meaninertia`` / ``stat.meanmass`` that the compiler would derive), so the in-place model
equals a freshly compiled one with these values.

## Success: Packer et al.'s speed
Packer et al.'s criterion, "walk 20 m", was set for Roboschool episodes of 1000 steps of 0.0165 s,
i.e. 20 m in 16.5 s, a mean speed of 1.21 m/s. Gymnasium's episodes last longer (HalfCheetah) or
shorter (Hopper), so a fixed 20 m would ask for a different speed in each task. Here the torso must
travel ``success_distance = success_speed * episode_seconds`` metres forward (``x - x_start``,
``x = qpos[0]``), where ``episode_seconds`` is the full episode, 1000 steps of ``dt``, and
``success_speed`` defaults to Packer et al.'s ``20 / 16.5`` m/s, i.e. 20 m scaled by
``episode_seconds / 16.5 s``:

| task | ``dt`` | episode | ``success_distance`` (default) | a fixed 20 m would need |
|---|---|---|---|---|
| HalfCheetah | 0.05 s | 50 s | 60.6 m | 0.40 m/s |
| Hopper | 0.008 s | 8 s | 9.70 m | 2.50 m/s |

``info["is_success"]`` is given on every step; its value on the episode's last step is the
outcome. The distance is that of the registered 1000-step episode: ``gymnasium.make(...,
max_episode_steps=N)`` shortens the episode but not the distance (give ``success_speed * 1000 / N``
to keep the speed). The criterion tests distance, not control: an open-loop sine wave on
HalfCheetah-D (one frequency, a phase per joint, tuned by a short hill climb) walks 80-82 m in 50 s
(about 1.6 m/s) from 4 of 5 starting states, so it passes at Packer et al.'s speed too.

## Deviations from Packer et al.
Results on these tasks are comparable to Packer et al.'s in protocol, not in absolute numbers:

* Simulator: MuJoCo with Gymnasium's v5 models, not Roboschool (Bullet) with its own models.
* ``density`` scales every body (the paper's "density of the robot"); their code changed the
  torso body's own geoms only.
* ``friction`` is set on every geom, the floor included; their code set the default friction of
  the robot's geoms (its XML), not the floor's.
* Success is their speed over Gymnasium's episode duration (above), not 20 m.

## Extreme sampling and variants
``extreme_sampling`` (``"length"`` default | ``"equal"``) and ``variant_seed`` (default ``-1``,
off) work exactly as in :mod:`rlbench3.envs.classic_control`: the first is how the unions of
``E`` are sampled (uniform over their length as in Packer et al.'s code, or each side with
probability 1/2), the second makes the randomized parameters a fixed set of seeded variants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np
from gymnasium import utils
from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv as _GymHalfCheetah
from gymnasium.envs.mujoco.hopper_v5 import HopperEnv as _GymHopper

from rlbench3.envs._randomized import (
    RandomizedTask,
    extreme_sampling_field,
    resolve_task_params,
    variant_seed_field,
)
from rlbench3.envs.parameters import Distribution, EnvParams, number
from rlbench3.envs.rendering import check_render_mode

# Packer et al.'s "walk 20 m" in a Roboschool episode of 1000 steps of 0.0165 s: 1.21 m/s.
PACKER_DISTANCE = 20.0  # m
PACKER_EPISODE_SECONDS = 1000 * 0.0165  # s
PACKER_SPEED = PACKER_DISTANCE / PACKER_EPISODE_SECONDS  # m/s, the default success_speed
EPISODE_STEPS = 1000  # Gymnasium's time limit of HalfCheetah-v5 and Hopper-v5, as registered
PACKER_DEVIATIONS = (
    "HalfCheetah and Hopper deviate from Packer et al.: MuJoCo with Gymnasium's v5 models, not "
    "Roboschool; success is their 1.21 m/s over the episode (60.6 m in 50 s, 9.70 m in 8 s), "
    "not 20 m; density scales every body, not the torso's geoms only; friction is set on every "
    "geom, the floor included"
)
"""One sentence for captions of tables that show these tasks beside Packer et al.'s numbers."""
DEFAULT_DENSITY = 1000.0  # MuJoCo's default geom density, kg/m^3
# Every parameter lies in [MIN_VALUE, MAX_VALUE] (friction may be 0), far beyond any preset on
# both sides (Hopper's state overflowed to NaN with a friction of 1e300).
MIN_VALUE = 1e-6
MAX_VALUE = 1e6

_SETTOTALMASS = re.compile(r'\s+settotalmass\s*=\s*"([^"]*)"')


def success_speed_field() -> Any:
    """The ``success_speed`` field (m/s) of both tasks: Packer et al.'s by default."""
    return number(
        PACKER_SPEED,
        gt=0.0,
        le=MAX_VALUE,
        randomizable=False,
        why_fixed="it is the task's success criterion",
    )


@dataclass(frozen=True)
class HalfCheetahParams(EnvParams):
    """Parameters of :class:`HalfCheetahEnv` (see its docstring)."""

    family = "HalfCheetah"

    power: float | Distribution = number(0.9, ge=MIN_VALUE, le=MAX_VALUE)
    density: float | Distribution = number(1000.0, ge=MIN_VALUE, le=MAX_VALUE)
    friction: float | Distribution = number(0.8, ge=0.0, le=MAX_VALUE)
    success_speed: float = success_speed_field()
    extreme_sampling: str = extreme_sampling_field()
    variant_seed: int | Distribution = variant_seed_field()


@dataclass(frozen=True)
class HopperParams(EnvParams):
    """Parameters of :class:`HopperEnv` (see its docstring)."""

    family = "Hopper"

    power: float | Distribution = number(0.75, ge=MIN_VALUE, le=MAX_VALUE)
    density: float | Distribution = number(1000.0, ge=MIN_VALUE, le=MAX_VALUE)
    friction: float | Distribution = number(0.8, ge=0.0, le=MAX_VALUE)
    success_speed: float = success_speed_field()
    extreme_sampling: str = extreme_sampling_field()
    variant_seed: int | Distribution = variant_seed_field()


def mean_inertia(model: mujoco.MjModel) -> float:
    """``stat.meaninertia`` as MuJoCo's compiler derives it: the mean diagonal of M at qpos0."""
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    full = np.zeros((model.nv, model.nv))
    mujoco.mj_fullM(model, data, full)
    return float(np.diag(full).mean())


class _RandomizedLocomotion(RandomizedTask):
    """Parameter handling shared by the two locomotion envs (a mixin over Gymnasium's env)."""

    params: EnvParams
    model: mujoco.MjModel
    data: mujoco.MjData
    fullpath: str
    width: int
    height: int

    def _initialize_simulation(self) -> tuple[mujoco.MjModel, mujoco.MjData]:
        with open(self.fullpath) as fh:
            xml = fh.read()
        match = _SETTOTALMASS.search(xml)
        if match is None:
            return super()._initialize_simulation()  # type: ignore[misc]
        model = mujoco.MjModel.from_xml_string(xml[: match.start()] + xml[match.end() :])
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, self.width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, self.height)
        data = mujoco.MjData(model)
        mujoco.mj_setTotalmass(model, float(match.group(1)))
        mujoco.mj_setConst(model, data)
        model.stat.meaninertia = mean_inertia(model)
        model.stat.meanmass = float(model.body_mass[1:].mean())
        return model, data

    params_class: type[EnvParams]

    def __init__(self, render_mode: str | None = None, preset: str | None = None, **kwargs: Any):
        self.params = resolve_task_params(self.params_class, preset, kwargs)
        check_render_mode(self, render_mode)
        super().__init__(render_mode=render_mode)  # type: ignore[call-arg]
        # Pickling and deep copies rebuild the env from these arguments (Gymnasium's EzPickle).
        utils.EzPickle.__init__(self, render_mode=render_mode, preset=preset, **kwargs)
        self._record_defaults()

    def _record_defaults(self) -> None:
        m = self.model
        self._gear0 = m.actuator_gear[:, 0].copy()
        self._mass0 = m.body_mass.copy()
        self._inertia0 = m.body_inertia.copy()
        self._meanmass0 = float(m.stat.meanmass)
        # diag(M) is linear in the bodies' masses and inertias, plus the joints' armature.
        self._armature_mean = float(m.dof_armature.mean())
        self._body_meaninertia0 = float(m.stat.meaninertia) - self._armature_mean
        self._x_start = 0.0

    def _apply(self, ep: dict[str, Any]) -> None:
        """Write the episode's power, density and friction into the compiled model."""
        m = self.model
        scale = ep["density"] / DEFAULT_DENSITY
        m.actuator_gear[:, 0] = ep["power"] * self._gear0
        m.body_mass[:] = scale * self._mass0
        m.body_inertia[:] = scale * self._inertia0
        m.geom_friction[:, 0] = ep["friction"]
        mujoco.mj_setConst(m, self.data)
        m.stat.meaninertia = scale * self._body_meaninertia0 + self._armature_mean
        m.stat.meanmass = scale * self._meanmass0

    @property
    def episode_seconds(self) -> float:
        """Simulated time of a full episode: :data:`EPISODE_STEPS` steps of ``dt`` seconds."""
        return EPISODE_STEPS * float(self.dt)  # type: ignore[attr-defined]

    @property
    def success_distance(self) -> float:
        """Metres the torso must travel forward to succeed: ``success_speed * episode_seconds``
        (with the default speed, Packer et al.'s 20 m scaled by ``episode_seconds / 16.5``)."""
        return float(self.params.success_speed) * self.episode_seconds  # type: ignore[attr-defined]

    def _start(self) -> None:
        self._x_start = float(self.data.qpos[0])
        self._distance = self.success_distance

    def _success(self, terminated: bool) -> bool:
        return float(self.data.qpos[0]) - self._x_start >= self._distance


class HalfCheetahEnv(_RandomizedLocomotion, _GymHalfCheetah):
    """Gymnasium's HalfCheetah-v5 with power, density and friction randomized (Packer et al.).

    ## Description
    Gymnasium's ``HalfCheetahEnv`` (v5, all of Gymnasium's defaults): a planar two-legged robot of 9
    body parts and 8 joints must run forward as fast as it can. Here ``power``, ``density`` and
    ``friction`` are drawn at every reset and written into the compiled MuJoCo model (see
    "Randomization"); everything else is Gymnasium's. One step is 5 MuJoCo steps, 0.05 s.

    ## Action Space
    ``Box(-1, 1, (6,), float32)``: the controls of the back thigh, shin and foot and of the front
    thigh, shin and foot; the torque is ``power * gear0 * action``.

    ## Observation Space
    ``Box(-inf, inf, (17,), float64)``: the joint positions without the root's x position (8), then
    the joint velocities (9).

    ## Rewards
    ``x_velocity - 0.1 * sum(action^2)``: the forward velocity of the root over the step, minus a
    control cost on the action (not on the torque, so it does not depend on ``power``).

    ## Starting State
    Gymnasium's: the initial positions plus noise uniform in [-0.1, 0.1], the initial velocities
    plus 0.1 times standard normal noise, drawn after the episode's parameters.

    ## Episode End
    Never ``terminated``; ``truncated`` at 1000 steps by the registered ``max_episode_steps``.

    ## Randomization
    Packer et al.'s presets and the meaning of the three parameters in the model are in
    :mod:`rlbench3.envs.locomotion`. For HalfCheetah:

    * ``power``: the gears are 120/90/60/120/60/30 (Gymnasium's XML, the same as Packer et al.'s
      Roboschool envs); ``D``'s 0.90, Packer et al.'s default, is therefore 10% weaker than
      Gymnasium's HalfCheetah-v5 (``p = 1``).
    * ``density``: the model's masses are computed from MuJoCo's default density and then rescaled
      by its XML's ``settotalmass="14"``, so ``rho = 1000`` means "Gymnasium's 14 kg cheetah" and
      ``rho`` scales its total mass to ``14 * rho / 1000`` kg.
    * ``friction``: Gymnasium's model has 0.4 everywhere, so ``D``'s 0.8 is not Gymnasium's.

    HalfCheetah's XML uses MuJoCo's deprecated ``settotalmass``, which makes every compilation warn
    on stderr and append to ``MUJOCO_LOG.TXT`` in the working directory. The model is compiled
    without that attribute and then given the same total mass with ``mj_setTotalmass`` +
    ``mj_setConst``, which yields the same masses, inertias and derived constants bit for bit.

    ## Rendering
    Gymnasium's MuJoCo rendering: ``render_mode`` ``'human'``, ``'rgb_array'``,
    ``'depth_array'`` or ``'rgbd_tuple'``.

    ## Success
    ``info["is_success"]``, given on every step: the torso has travelled at least
    ``success_distance = success_speed * 50 s`` forward (60.6 m at the default 1.21 m/s, Packer et
    al.'s "walk 20 m" in 16.5 s; see "Success" in :mod:`rlbench3.envs.locomotion`),
    ``x - x_start >= success_distance`` with ``x = qpos[0]`` (the root's x position) and
    ``x_start`` its value after reset. Its value on the last step (truncation at the time limit)
    is the episode's outcome.

    ## Arguments
    | parameter            | default                | valid values |
    |----------------------|------------------------|--------------|
    | ``power``            | ``0.9``                | a number >= 1e-06 and <= 1e+06 |
    | ``density``          | ``1000.0``             | a number >= 1e-06 and <= 1e+06 |
    | ``friction``         | ``0.8``                | a number >= 0 and <= 1e+06 |
    | ``success_speed``    | ``1.2121212121212122`` | a number > 0 and <= 1e+06, fixed |
    | ``extreme_sampling`` | ``'length'``           | one of 'length', 'equal' |
    | ``variant_seed``     | ``-1``                 | an integer >= -1 and <= 9223372036854775807 |
    | ``preset``           | ``None``               | None, 'D', 'R' or 'E' |
    | ``render_mode``      | ``None``               | None or one of Gymnasium's (see "Rendering") |

    The parameters are :class:`HalfCheetahParams`. Every number may be given as a distribution (see
    :mod:`rlbench3.envs.parameters`), drawn at every reset; ``variant_seed`` as an integer range
    (see "Extreme sampling and variants" in :mod:`rlbench3.envs.locomotion`). A ``preset`` sets the
    three physical parameters at once (``rlbench3/HalfCheetah-<D|R|E>-v0`` have it built in);
    explicit keywords override it. ``success_speed`` (m/s) sets the success criterion and is
    a fixed number. Gymnasium's other constructor arguments (reward weights, reset
    noise...) stay at their defaults and are not accepted: unknown names are an error.

    The numbers are bounded far beyond the presets (``power`` and ``density`` 1e-6 to 1e6,
    ``friction`` 0 to 1e6: a friction of 1e300 overflowed Hopper's state to NaN). A
    ``variant_seed`` is a numpy seed (< 2**63).

    ## Version History
    * v0, revised: success is ``success_speed`` (default Packer et al.'s 1.21 m/s) over the
      50 s episode, 60.6 m, instead of a fixed 20 m (0.40 m/s); the ``success_speed``
      parameter is new. Dynamics, rewards and presets are unchanged, and the id is kept:
      success rates recorded before the revision used 20 m.
    * v0: initial version.
    """

    params_class = HalfCheetahParams
    params: HalfCheetahParams


class HopperEnv(_RandomizedLocomotion, _GymHopper):
    """Gymnasium's Hopper-v5 with power, density and friction randomized (Packer et al.).

    ## Description
    Gymnasium's ``HopperEnv`` (v5, all of Gymnasium's defaults): a planar one-legged robot (torso,
    thigh, leg and foot) must hop forward without falling. Here ``power``, ``density`` and
    ``friction`` are drawn at every reset and written into the compiled MuJoCo model (see
    "Randomization"); everything else is Gymnasium's. One step is 4 MuJoCo steps, 0.008 s.

    ## Action Space
    ``Box(-1, 1, (3,), float32)``: the controls of the thigh, leg and foot joints; the torque is
    ``power * gear0 * action``.

    ## Observation Space
    ``Box(-inf, inf, (11,), float64)``: the joint positions without the root's x position (5), then
    the joint velocities clipped to [-10, 10] (6).

    ## Rewards
    ``healthy + x_velocity - 0.001 * sum(action^2)``: a healthy reward of 1 while the hopper is
    healthy (0 on the step it falls), plus the forward velocity of the root over the step, minus a
    control cost on the action (not on the torque, so it does not depend on ``power``).

    ## Starting State
    Gymnasium's: the initial positions and velocities plus noise uniform in [-0.005, 0.005], drawn
    after the episode's parameters.

    ## Episode End
    ``terminated`` when the hopper is unhealthy (Gymnasium's health checks: the height ``qpos[1]``
    must stay above 0.7, the torso angle ``qpos[2]`` inside (-0.2, 0.2), and the other positions and
    all velocities inside (-100, 100)); ``truncated`` at 1000 steps by the registered
    ``max_episode_steps``.

    ## Randomization
    Packer et al.'s presets and the meaning of the three parameters in the model are in
    :mod:`rlbench3.envs.locomotion`. For Hopper:

    * ``power``: the gears are 200 (Gymnasium's XML, the same as Packer et al.'s Roboschool envs);
      ``D``'s 0.75, Packer et al.'s default, is therefore 25% weaker than Gymnasium's Hopper-v5
      (``p = 1``).
    * ``density``: the model's masses are computed from MuJoCo's default density directly (total
      15.8 kg at ``rho = 1000``).
    * ``friction``: Gymnasium's model has 0.9 for the body and 2.0 for the foot against a floor of
      1.0, so ``D``'s 0.8 is neither.

    ## Rendering
    Gymnasium's MuJoCo rendering: ``render_mode`` ``'human'``, ``'rgb_array'``,
    ``'depth_array'`` or ``'rgbd_tuple'``.

    ## Success
    ``info["is_success"]``, given on every step: the torso has travelled at least
    ``success_distance = success_speed * 8 s`` forward (9.70 m at the default 1.21 m/s, Packer et
    al.'s "walk 20 m" in 16.5 s; see "Success" in :mod:`rlbench3.envs.locomotion`),
    ``x - x_start >= success_distance`` with ``x = qpos[0]`` (the root's x position) and
    ``x_start`` its value after reset. Its value on the last step (``terminated`` when unhealthy,
    or truncation at the time limit) is the episode's outcome.

    ## Arguments
    | parameter            | default                | valid values |
    |----------------------|------------------------|--------------|
    | ``power``            | ``0.75``               | a number >= 1e-06 and <= 1e+06 |
    | ``density``          | ``1000.0``             | a number >= 1e-06 and <= 1e+06 |
    | ``friction``         | ``0.8``                | a number >= 0 and <= 1e+06 |
    | ``success_speed``    | ``1.2121212121212122`` | a number > 0 and <= 1e+06, fixed |
    | ``extreme_sampling`` | ``'length'``           | one of 'length', 'equal' |
    | ``variant_seed``     | ``-1``                 | an integer >= -1 and <= 9223372036854775807 |
    | ``preset``           | ``None``               | None, 'D', 'R' or 'E' |
    | ``render_mode``      | ``None``               | None or one of Gymnasium's (see "Rendering") |

    The parameters are :class:`HopperParams`. Every number may be given as a distribution (see
    :mod:`rlbench3.envs.parameters`), drawn at every reset; ``variant_seed`` as an integer range
    (see "Extreme sampling and variants" in :mod:`rlbench3.envs.locomotion`). A ``preset`` sets the
    three physical parameters at once (``rlbench3/Hopper-<D|R|E>-v0`` have it built in); explicit
    keywords override it. ``success_speed`` (m/s) sets the success criterion and is a fixed
    number. Gymnasium's other constructor arguments (reward weights, reset noise...)
    stay at their defaults and are not accepted: unknown names are an error.

    The numbers are bounded far beyond the presets (``power`` and ``density`` 1e-6 to 1e6,
    ``friction`` 0 to 1e6: a friction of 1e300 overflowed Hopper's state to NaN). A
    ``variant_seed`` is a numpy seed (< 2**63).

    ## Version History
    * v0, revised: success is ``success_speed`` (default Packer et al.'s 1.21 m/s) over the
      8 s episode, 9.70 m, instead of a fixed 20 m (2.50 m/s); the ``success_speed``
      parameter is new. Dynamics, rewards and presets are unchanged, and the id is kept:
      success rates recorded before the revision used 20 m.
    * v0: initial version.
    """

    params_class = HopperParams
    params: HopperParams
