"""SparseReach: the "one more action dimension" testbed (pure numpy).

:class:`SparseReachEnv` is the env and its docstring the spec; :class:`SparseReachParams` holds
its parameters, and :class:`SparseReachVectorEnv` steps many copies of it at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv

from rlbench3.envs.batching import check_num_envs, reset_mask
from rlbench3.envs.parameters import Distribution, EnvParams, choice, number
from rlbench3.envs.presets import resolve_params
from rlbench3.envs.rendering import BLUE, GREEN, GREY, Canvas, check_render_mode

_FIXED = "it fixes the observation and action spaces"


@dataclass(frozen=True)
class SparseReachParams(EnvParams):
    """Parameters of :class:`SparseReachEnv` (see its docstring for the spec)."""

    family = "SparseReach"

    action_dim: int = number(2, ge=1, integer=True, randomizable=False, why_fixed=_FIXED)
    horizon: int = number(
        50, ge=1, integer=True, randomizable=False, why_fixed="it is the episode length"
    )
    goal_distance: float | Distribution = number(1.0, gt=0.0)
    tolerance: float | Distribution = number(0.25, gt=0.0)
    mass: float | Distribution = number(1.0, gt=0.0)
    damping: float | Distribution = number(0.5, ge=0.0)
    action_gain: float | Distribution = number(1.0, gt=0.0)
    dt: float | Distribution = number(0.2, gt=0.0, le=1.0)
    reward_mode: str = choice("sparse", ("sparse", "dense"))


def step_coefficients(
    mass: Any, damping: Any, action_gain: Any, dt: Any
) -> tuple[Any, Any, Any, Any]:
    """Exact zero-order-hold coefficients of ``m v' = g a - c v``, ``x' = v`` over ``dt``.

    Returns ``(cxv, cxa, cvv, cva)`` with ``x+ = x + cxv v + cxa a`` and ``v+ = cvv v + cva a``.
    Works elementwise on arrays (the batched path) as on floats.
    """
    k = np.asarray(damping / mass, dtype=np.float64)
    kdt = k * dt
    small = kdt < 1e-6  # series expansion where (1 - e^-kdt)/k would cancel catastrophically
    safe_k = np.where(small, 1.0, k)
    c1 = np.where(small, dt * (1.0 - kdt / 2.0), -np.expm1(-kdt) / safe_k)
    c2 = np.where(small, dt * dt * (0.5 - kdt / 6.0), (dt - c1) / safe_k)
    cvv = np.exp(-kdt)
    force = action_gain / mass
    return c1, c2 * force, cvv, c1 * force


def goal_positions(rng: np.random.Generator, distances: np.ndarray, dim: int) -> np.ndarray:
    """Goals at the given distances from the origin in directions uniform on the unit sphere.

    ``distances`` has shape ``(k,)``; returns ``(k, dim)``. The single and the batched env both
    call this, so a one-copy vector env and a single env seeded alike draw identical goals.
    """
    direction = rng.standard_normal((len(distances), dim))
    norms = np.sqrt(np.add.reduce(direction * direction, axis=1, keepdims=True))
    return direction * (distances[:, None] / norms)


class SparseReachEnv(gym.Env):
    """Push a point mass in R^d to a goal within ``tolerance``; d is the action dimension.

    ## Description
    A point mass in R^d starts at rest at the origin; a goal sits at distance ``goal_distance`` in a
    direction drawn uniformly on the unit sphere at every reset. The action is a force in [-1, 1]^d
    (one dimension per axis, d = ``action_dim``), scaled by ``action_gain``; the mass moves under
    that force and linear damping. The episode is a success when the mass comes within
    ``tolerance`` of the goal. Everything but d held fixed, the set of random action sequences that
    hit the goal shrinks fast with d: the probability that a random policy ever sees the sparse
    reward falls with every added action dimension.

    ## Dynamics
    ``m dv/dt = action_gain * a - damping * v``, ``dx/dt = v``, with the action held constant over a
    step of length ``dt`` and integrated exactly (zero-order hold), so the discretisation is stable
    and exact for every valid mass, damping and ``dt``.

    ## Action Space
    ``Box(-1, 1, (d,), float32)``. Actions outside the box raise ``ValueError`` (never clipped).

    ## Observation Space
    ``Box(-inf, inf, (3d,), float32)``: position (d), velocity (d), goal minus position (d).

    ## Rewards
    * ``reward_mode="sparse"``: 1.0 on the step the goal is reached, else 0.0.
    * ``reward_mode="dense"``: minus the distance to the goal after the step (shaped).

    ## Starting State
    The mass at rest at the origin; the goal at distance ``goal_distance``, in a direction uniform
    on the unit sphere, both drawn at every reset with the randomized parameters.
    ``reset(options={"goal": g})`` places the goal at ``g`` instead of drawing it (e.g. to evaluate
    on chosen or held-out directions); ``info["params"]["goal_distance"]`` is then ``|g|``.
    ``info["params"]`` (the parameter values drawn for the episode) and ``info["goal"]`` are given
    at reset.

    ## Episode End
    ``terminated`` when the goal is reached (both reward modes); ``truncated`` after ``horizon``
    steps otherwise. ``info["is_success"]`` is given on the last step.

    ## Rendering
    ``render_mode="ansi"``: the step and the distance to the goal. ``render_mode="rgb_array"``: the
    first two coordinates seen from above (a 1-D task on the x axis): the goal green with a ring of
    radius ``tolerance``, the origin grey, the mass blue.

    ## Arguments
    | parameter         | default      | valid values |
    |-------------------|--------------|--------------|
    | ``action_dim``    | ``2``        | an integer >= 1, fixed |
    | ``horizon``       | ``50``       | an integer >= 1, fixed |
    | ``goal_distance`` | ``1.0``      | a number > 0 |
    | ``tolerance``     | ``0.25``     | a number > 0 |
    | ``mass``          | ``1.0``      | a number > 0 |
    | ``damping``       | ``0.5``      | a number >= 0 |
    | ``action_gain``   | ``1.0``      | a number > 0 |
    | ``dt``            | ``0.2``      | a number > 0 and <= 1 |
    | ``reward_mode``   | ``'sparse'`` | one of 'sparse', 'dense' |
    | ``preset``        | ``None``     | None, 'D', 'R' or 'E' |
    | ``render_mode``   | ``None``     | None, 'ansi' or 'rgb_array' |

    The parameters are :class:`SparseReachParams`. A ``fixed`` one cannot be randomized:
    ``action_dim`` fixes the observation and action spaces, ``horizon`` is the episode length. The
    other numbers may be given as distributions (see :mod:`rlbench3.envs.parameters`), drawn at
    every reset. A ``preset`` (see ``envs/presets.yaml``) sets several parameters at once; explicit
    keywords override it.

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 5}

    def __init__(self, render_mode: str | None = None, preset: str | None = None, **kwargs: Any):
        self.params: SparseReachParams = resolve_params(SparseReachParams, preset, kwargs)
        check_render_mode(self, render_mode)
        self.render_mode = render_mode
        d = self.action_dim = self.params.action_dim
        self.horizon = self.params.horizon
        self.action_space = spaces.Box(-1.0, 1.0, (d,), np.float32)
        self.observation_space = spaces.Box(-np.inf, np.inf, (3 * d,), np.float32)
        self._sparse = self.params.reward_mode == "sparse"
        # The state is kept in Python floats: for the handful of dimensions of this family, float
        # arithmetic beats numpy's per-call overhead several times (as in Gymnasium's CartPole).
        # The operations and their order are those of the batched path, so the two agree exactly.
        self._x = [0.0] * d
        self._v = [0.0] * d
        self._goal = [0.0] * d
        self._episode: dict[str, Any] = {}
        self._t = 0

    def _observation(self) -> np.ndarray:
        rel = [g - x for g, x in zip(self._goal, self._x)]
        return np.array(self._x + self._v + rel, dtype=np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        ep = self._episode = self.params.sample(self.np_random)
        coefficients = step_coefficients(ep["mass"], ep["damping"], ep["action_gain"], ep["dt"])
        self._cxv, self._cxa, self._cvv, self._cva = (float(c) for c in coefficients)
        self._tol2 = ep["tolerance"] ** 2
        goal = goal_positions(self.np_random, np.array([ep["goal_distance"]]), self.action_dim)[0]
        if options and "goal" in options:
            goal = np.asarray(options["goal"], dtype=np.float64)
            if goal.shape != (self.action_dim,) or not np.isfinite(goal).all():
                raise ValueError(
                    f"options['goal'] must be a finite array of shape ({self.action_dim},), "
                    f"got {options['goal']!r}"
                )
            ep["goal_distance"] = float(np.linalg.norm(goal))
        self._goal = goal.tolist()
        self._x = [0.0] * self.action_dim
        self._v = [0.0] * self.action_dim
        self._t = 0
        return self._observation(), {"params": dict(ep), "goal": goal.copy()}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = np.asarray(action)
        u = a.tolist() if a.shape == (self.action_dim,) else None
        if u is None or not all(-1.0 <= ui <= 1.0 for ui in u):  # NaN fails the test too
            raise ValueError(
                f"action must be an array of shape ({self.action_dim},) with entries in [-1, 1], "
                f"got {action!r}"
            )
        cxv, cxa, cvv, cva = self._cxv, self._cxa, self._cvv, self._cva
        x, v = self._x, self._v
        self._x = x = [xi + (cxv * vi + cxa * ui) for xi, vi, ui in zip(x, v, u)]
        self._v = [cvv * vi + cva * ui for vi, ui in zip(v, u)]
        dist2 = 0.0
        for g, xi in zip(self._goal, x):
            dist2 += (g - xi) * (g - xi)
        self._t += 1
        success = dist2 <= self._tol2
        truncated = not success and self._t >= self.horizon
        if self._sparse:
            reward = 1.0 if success else 0.0
        else:
            reward = -math.sqrt(dist2)
        info = {"is_success": success} if success or truncated else {}
        return self._observation(), reward, success, truncated, info

    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "ansi":
            dist = math.dist(self._goal, self._x)
            return f"step {self._t}/{self.horizon}, distance to goal {dist:.3f}\n"
        if self.render_mode == "rgb_array":
            # The first two coordinates (a 1-D task is drawn on the x axis).
            def plane(p: list[float]) -> tuple[float, float]:
                return (p[0], p[1] if len(p) > 1 else 0.0)

            reach = math.hypot(*plane(self._goal)) + self._episode["tolerance"]
            canvas = Canvas(size=256, extent=2.4 * max(reach, 1e-6))
            canvas.disc(plane(self._goal), self._episode["tolerance"], GREEN, ring=True)
            canvas.disc((0.0, 0.0), 0.02 * reach, GREY)
            canvas.disc(plane(self._x), 0.04 * reach, BLUE)
            return canvas.image
        return None


class SparseReachVectorEnv(VectorEnv):
    """``num_envs`` copies of :class:`SparseReachEnv` stepped by one numpy operation per update.

    Same dynamics, observations and rewards as the single env: given the same parameter values,
    goals and actions, every copy's trajectory equals the single env's (the same formulas, applied
    row-wise). Autoreset is ``NEXT_STEP``: the step after a copy ends resets it and ignores its
    action. Goals and randomized parameters of resetting copies are drawn together from the vector
    env's own generator (same distribution as the single env, different stream).

    Takes ``num_envs``, ``preset`` and the parameters of the single env; ``render_mode`` is accepted
    and ignored (no rendering). See :class:`SparseReachEnv` for the spec.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, preset: str | None = None, **kwargs: Any):
        num_envs = check_num_envs(num_envs)
        kwargs.pop("render_mode", None)
        self.params: SparseReachParams = resolve_params(SparseReachParams, preset, kwargs)
        n, d = self.num_envs, self.action_dim = int(num_envs), self.params.action_dim
        self.horizon = self.params.horizon
        self.single_action_space = spaces.Box(-1.0, 1.0, (d,), np.float32)
        self.single_observation_space = spaces.Box(-np.inf, np.inf, (3 * d,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (n, d), np.float32)
        self.observation_space = spaces.Box(-np.inf, np.inf, (n, 3 * d), np.float32)
        self._sparse = self.params.reward_mode == "sparse"
        # Coordinate-major state: rows [x (d), v (d), goal - x (d)], one column per copy, so every
        # update below runs over contiguous memory; an observation is the transpose, cast.
        self._state = np.zeros((3 * d, n))
        self._x, self._v, self._rel = self._state[:d], self._state[d : 2 * d], self._state[2 * d :]
        self._goal = np.zeros((d, n))
        p = self.params
        names = ("goal_distance", "tolerance", "mass", "damping", "action_gain", "dt")
        self._randomized = [name for name in names if name in p.randomized]
        self._values = {
            name: np.zeros(n) if name in self._randomized else np.full(n, getattr(p, name))
            for name in names
        }
        self._tol2 = self._values["tolerance"] ** 2
        self._coef: tuple[float, ...] | np.ndarray
        if {"mass", "damping", "action_gain", "dt"} & set(self._randomized):
            self._coef = np.zeros((4, n))  # per-copy step coefficients
        else:  # the same physics for every copy: scalar coefficients
            self._coef = tuple(
                float(c) for c in step_coefficients(p.mass, p.damping, p.action_gain, p.dt)
            )
        self._t = np.zeros(n, dtype=np.int64)
        self._autoreset = np.zeros(n, dtype=bool)
        self._np_random, self._np_random_seed = seeding.np_random()

    def _reset_copies(self, mask: np.ndarray) -> None:
        idx = np.flatnonzero(mask)
        vals = self._values
        for name in self._randomized:  # in field order, as the single env draws them
            vals[name][idx] = getattr(self.params, name).sample(self._np_random, size=len(idx))
        if isinstance(self._coef, np.ndarray):
            self._coef[:, idx] = step_coefficients(
                vals["mass"][idx], vals["damping"][idx], vals["action_gain"][idx], vals["dt"][idx]
            )
        if "tolerance" in self._randomized:
            self._tol2[idx] = vals["tolerance"][idx] ** 2
        goals = goal_positions(self._np_random, vals["goal_distance"][idx], self.action_dim).T
        self._goal[:, idx] = goals
        self._state[:, idx] = 0.0
        self._rel[:, idx] = goals
        self._t[idx] = 0

    def _observations(self) -> np.ndarray:
        return self._state.T.astype(np.float32)

    def _params_info(self) -> dict[str, Any]:
        fixed = {k: getattr(self.params, k) for k in ("action_dim", "horizon", "reward_mode")}
        return {
            "params": {
                **{k: v.copy() if k in self._randomized else v[0] for k, v in self._values.items()},
                **fixed,
            },
            "goal": self._goal.T.copy(),
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            self._np_random, self._np_random_seed = seeding.np_random(seed)
        mask = reset_mask(options, self.num_envs)
        if mask is None:
            mask = np.ones(self.num_envs, dtype=bool)
        self._reset_copies(mask)
        self._autoreset[mask] = False
        return self._observations(), self._params_info()

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        a = np.asarray(actions)
        shape = (self.num_envs, self.action_dim)
        if a.shape != shape or not (a.min() >= -1.0 and a.max() <= 1.0):  # NaN fails too
            raise ValueError(f"actions must be an array of shape {shape} with entries in [-1, 1]")
        a = a.T.astype(np.float64)  # coordinate-major like the state; float32 -> 64 is exact
        resetting = self._autoreset
        any_reset = bool(resetting.any())
        if any_reset:
            # A resetting copy is put at rest at the origin and ignores its action; with a zero
            # action the update below then leaves it exactly at rest, so no masking is needed.
            self._reset_copies(resetting)
            a[:, resetting] = 0.0
        cxv, cxa, cvv, cva = self._coef
        x, v = self._x, self._v
        x += cxv * v + cxa * a  # x + (...) with the old v, as in the single env
        v *= cvv
        v += cva * a
        rel = np.subtract(self._goal, x, out=self._rel)
        dist2 = rel[0] * rel[0]
        for j in range(1, self.action_dim):  # summed in the single env's order: equal bits
            dist2 += rel[j] * rel[j]
        self._t += 1
        success = dist2 <= self._tol2
        if any_reset:
            self._t[resetting] = 0
            success &= ~resetting
        truncated = ~success & (self._t >= self.horizon)
        if self._sparse:
            rewards = success.astype(np.float64)
        else:
            rewards = -np.sqrt(dist2)
            if any_reset:
                rewards[resetting] = 0.0
        self._autoreset = success | truncated
        infos: dict[str, Any] = {"is_success": success, "_is_success": self._autoreset.copy()}
        if any_reset:
            infos.update(self._params_info())
            infos["_params"] = infos["_goal"] = resetting.copy()
        return self._observations(), rewards, success, truncated, infos
