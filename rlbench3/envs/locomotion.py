"""Randomized locomotion: Gymnasium's HalfCheetah-v5 and Hopper-v5 (MuJoCo) with the actuator
power, density and friction of Packer et al. (2018), "Assessing Generalization in Deep
Reinforcement Learning" (arXiv 1810.12282), re-sampled at every reset.

## Description
Each env is Gymnasium's own v5 task (a subclass of its ``HalfCheetahEnv`` / ``HopperEnv``, with
all of Gymnasium's defaults): same observations, actions, rewards, termination (Hopper's health
checks) and starting-state noise. Three physical parameters change, written into the compiled
MuJoCo model in place at every reset (drawn from the env's ``np_random``, before the starting
state is drawn); ``info["params"]`` at reset holds the episode's values.

| task | parameter | D | R | E |
|---|---|---|---|---|
| HalfCheetah | ``power`` | 0.90 | [0.70, 1.10] | [0.50, 0.70] U [1.10, 1.30] |
| HalfCheetah | ``density`` | 1000 | [750, 1250] | [500, 750] U [1250, 1500] |
| HalfCheetah | ``friction`` | 0.8 | [0.5, 1.1] | [0.2, 0.5] U [1.1, 1.4] |
| Hopper | ``power`` | 0.75 | [0.60, 0.90] | [0.40, 0.60] U [0.90, 1.10] |
| Hopper | ``density`` | 1000 | [750, 1250] | [500, 750] U [1250, 1500] |
| Hopper | ``friction`` | 0.8 | [0.5, 1.1] | [0.2, 0.5] U [1.1, 1.4] |

What each one means in the MuJoCo model (``*0`` are the values of Gymnasium's compiled model):

* ``power`` p: ``actuator_gear[:, 0] = p * gear0``, so the torque is ``p * gear0 * action``. This
  is Packer et al.'s definition: their Roboschool envs applied ``power * gear * clip(action)``,
  with the same gears as Gymnasium's XML (HalfCheetah 120/90/60/120/60/30, Hopper 200) and
  defaults 0.90 (HalfCheetah) and 0.75 (Hopper). ``p = 1`` is Gymnasium's HalfCheetah-v5 and
  Hopper-v5; ``D`` is therefore 10% (HalfCheetah) and 25% (Hopper) weaker than Gymnasium's models.
* ``density`` rho (kg/m^3): every body's mass *and* rotational inertia are ``rho / 1000`` times
  ``body_mass0`` / ``body_inertia0`` (scaling a rigid body's density scales both by the same
  factor; the centres of mass do not move). 1000 is MuJoCo's default geom density, from which both
  models' masses are computed: Hopper's directly (total 15.8 kg), HalfCheetah's then rescaled by
  its XML's ``settotalmass="14"``, so for HalfCheetah ``rho = 1000`` means "Gymnasium's 14 kg
  cheetah" and ``rho`` scales its total mass to ``14 * rho / 1000`` kg. Every body is scaled
  (Packer et al.'s code set the density of the torso body's own geoms only, an XPath quirk; the
  paper describes the robot's density).
* ``friction`` mu: ``geom_friction[:, 0] = mu`` for every geom, the floor included, so every
  contact's sliding friction (MuJoCo takes the larger of the two geoms') is exactly mu; torsional
  and rolling friction keep the model's values. This is an absolute coefficient, like Packer et
  al.'s (they set the default geom friction to "mu .1 .1"). Gymnasium's own models differ: 0.4
  everywhere in HalfCheetah, and in Hopper 0.9 for the body and 2.0 for the foot against a floor
  of 1.0; so ``D``'s 0.8 is neither.

After the change the derived constants are recomputed (``mj_setConst``, and the statistics
``stat.meaninertia`` / ``stat.meanmass`` that the compiler would derive), so the in-place model
equals a freshly compiled one with these values.

HalfCheetah's XML uses MuJoCo's deprecated ``settotalmass``, which makes every compilation warn
on stderr and append to ``MUJOCO_LOG.TXT`` in the working directory. The model is compiled without
that attribute and then given the same total mass with ``mj_setTotalmass`` + ``mj_setConst``,
which yields the same masses, inertias and derived constants bit for bit.

## Extreme sampling and variants
``extreme_sampling`` (``"length"`` default | ``"equal"``) and ``variant_seed`` (default ``-1``,
off) work exactly as in :mod:`rlbench3.envs.classic_control`: the first is how the unions of ``E`` are
sampled (uniform over their length as in Packer et al.'s code, or each side with probability
1/2), the second makes the randomized parameters a fixed set of seeded variants.

## Success (``info["is_success"]``)
Given on every step: the torso has travelled at least 20 m forward, ``x - x_start >= 20`` with
``x = qpos[0]`` (the root's x position) and ``x_start`` its value after reset (Packer et al.: "walk
20 m"; their Roboschool check was the body's x position >= 20 from a start at about 0). Its value
on the last step (Hopper's ``terminated`` when unhealthy, or truncation at the time limit) is the
episode's outcome.

## Episode end
Gymnasium's: HalfCheetah never terminates; Hopper terminates when unhealthy; both are truncated
at 1000 steps by the registered ``max_episode_steps``.

## Arguments
| parameter | default | valid | randomizable |
|---|---|---|---|
| ``power`` | 0.90 (HalfCheetah), 0.75 (Hopper) | > 0 | yes |
| ``density`` | 1000 | > 0 | yes |
| ``friction`` | 0.8 | >= 0 | yes |
| ``extreme_sampling`` | ``"length"`` | ``"length"``, ``"equal"`` | no |
| ``variant_seed`` | -1 | integer >= -1 | yes (integer ranges) |

A ``preset`` keyword (``"D"``, ``"R"``, ``"E"``) sets the three physical parameters at once;
explicit keywords override it. Gymnasium's other constructor arguments (reward weights, reset
noise...) stay at their defaults and are not accepted: unknown names are an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import utils
from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv as _GymHalfCheetah
from gymnasium.envs.mujoco.hopper_v5 import HopperEnv as _GymHopper

from rlbench3.envs._randomized import (
    draw_episode_params,
    extreme_sampling_field,
    resolve_task_params,
    variant_seed_field,
)
from rlbench3.envs.parameters import Distribution, EnvParams, number
from rlbench3.envs.rendering import check_render_mode

SUCCESS_DISTANCE = 20.0
DEFAULT_DENSITY = 1000.0  # MuJoCo's default geom density, kg/m^3

_SETTOTALMASS = re.compile(r'\s+settotalmass\s*=\s*"([^"]*)"')


@dataclass(frozen=True)
class HalfCheetahParams(EnvParams):
    """Parameters of :class:`HalfCheetahEnv` (see the module docstring)."""

    family = "HalfCheetah"

    power: float | Distribution = number(0.9, gt=0.0)
    density: float | Distribution = number(1000.0, gt=0.0)
    friction: float | Distribution = number(0.8, ge=0.0)
    extreme_sampling: str = extreme_sampling_field()
    variant_seed: int | Distribution = variant_seed_field()


@dataclass(frozen=True)
class HopperParams(EnvParams):
    """Parameters of :class:`HopperEnv` (see the module docstring)."""

    family = "Hopper"

    power: float | Distribution = number(0.75, gt=0.0)
    density: float | Distribution = number(1000.0, gt=0.0)
    friction: float | Distribution = number(0.8, ge=0.0)
    extreme_sampling: str = extreme_sampling_field()
    variant_seed: int | Distribution = variant_seed_field()


def mean_inertia(model: mujoco.MjModel) -> float:
    """``stat.meaninertia`` as MuJoCo's compiler derives it: the mean diagonal of M at qpos0."""
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    full = np.zeros((model.nv, model.nv))
    mujoco.mj_fullM(model, data, full)
    return float(np.diag(full).mean())


class _RandomizedLocomotion:
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

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        gym.Env.reset(self, seed=seed)  # type: ignore[arg-type]
        ep = draw_episode_params(self.params, self.np_random)  # type: ignore[attr-defined]
        self._apply(ep)
        obs, info = super().reset(options=options)  # type: ignore[misc]
        self._x_start = float(self.data.qpos[0])
        return obs, {**info, "params": ep}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = super().step(action)  # type: ignore[misc]
        info["is_success"] = float(self.data.qpos[0]) - self._x_start >= SUCCESS_DISTANCE
        return obs, reward, terminated, truncated, info


class HalfCheetahEnv(_RandomizedLocomotion, _GymHalfCheetah):
    __doc__ = __doc__

    def __init__(self, render_mode: str | None = None, preset: str | None = None, **kwargs: Any):
        self.params: HalfCheetahParams = resolve_task_params(HalfCheetahParams, preset, kwargs)
        check_render_mode(self, render_mode)
        super().__init__(render_mode=render_mode)
        # Pickling and deep copies rebuild the env from these arguments (Gymnasium's EzPickle).
        utils.EzPickle.__init__(self, render_mode=render_mode, preset=preset, **kwargs)
        self._record_defaults()


class HopperEnv(_RandomizedLocomotion, _GymHopper):
    __doc__ = __doc__

    def __init__(self, render_mode: str | None = None, preset: str | None = None, **kwargs: Any):
        self.params: HopperParams = resolve_task_params(HopperParams, preset, kwargs)
        check_render_mode(self, render_mode)
        super().__init__(render_mode=render_mode)
        utils.EzPickle.__init__(self, render_mode=render_mode, preset=preset, **kwargs)
        self._record_defaults()
