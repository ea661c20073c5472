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

from rlbench3.envs.batching import (
    BatchedVectorEnv,
    check_preset,
    frozen,
    masked,
    per_copy,
    reset_mask,
    step_before_reset,
)
from rlbench3.envs.parameters import Distribution, EnvParams, choice, number
from rlbench3.envs.presets import resolve_params
from rlbench3.envs.rendering import BLUE, GREEN, GREY, Canvas, check_render_mode

_FIXED = "it fixes the observation and action spaces"
# Bounds (SparseReachEnv, "Arguments"): with every number at most MAX_VALUE and the mass at least
# MIN_MASS, positions stay below H^2 (action_gain / mass) / 2 = 5e29 after H = MAX_HORIZON steps,
# finite in float32 (the observation) and their squares in float64 (the distance).
MAX_ACTION_DIM = 1000
MAX_HORIZON = 10**6
MIN_MASS = 1e-6
MAX_VALUE = 1e6


@dataclass(frozen=True)
class SparseReachParams(EnvParams):
    """Parameters of :class:`SparseReachEnv` (see its docstring for the spec)."""

    family = "SparseReach"

    action_dim: int = number(
        2, ge=1, le=MAX_ACTION_DIM, integer=True, randomizable=False, why_fixed=_FIXED
    )
    horizon: int = number(
        50,
        ge=1,
        le=MAX_HORIZON,
        integer=True,
        randomizable=False,
        why_fixed="it is the episode length",
    )
    goal_distance: float | Distribution = number(1.0, gt=0.0, le=MAX_VALUE)
    tolerance: float | Distribution = number(0.25, gt=0.0, le=MAX_VALUE)
    mass: float | Distribution = number(1.0, ge=MIN_MASS, le=MAX_VALUE)
    damping: float | Distribution = number(0.5, ge=0.0, le=MAX_VALUE)
    action_gain: float | Distribution = number(1.0, gt=0.0, le=MAX_VALUE)
    dt: float | Distribution = number(0.2, gt=0.0, le=1.0)
    reward_mode: str = choice("sparse", ("sparse", "dense"))
    observation_mode: str = choice("standard", ("standard", "distance"))


# The expert (SparseReachEnv.optimal_action): force = EXPERT_KP * (goal - x) - EXPERT_KD * v, then
# scaled down as a whole until every entry is in [-1, 1] (the direction is kept).
EXPERT_KP = 4.0
EXPERT_KD = 2.0


def expert_force(rel: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The expert's action for goal-minus-position ``rel`` and velocity ``v``, both ``(d, ...)``.

    A proportional-derivative push toward the goal, ``4 rel - 2 v``, scaled by
    ``1 / max(1, max_i |u_i|)`` along the first axis so that it lies in ``[-1, 1]^d`` with its
    direction unchanged; float32. A function of the observation alone (its last two blocks),
    the same for every mass, damping and gain, so a policy network can represent it exactly.
    """
    u = EXPERT_KP * rel - EXPERT_KD * v
    scale = np.maximum(np.abs(u).max(axis=0), 1.0)
    return (u / scale).astype(np.float32)


def observation_space(params: SparseReachParams) -> spaces.Box:
    """Position, velocity and goal minus position are unbounded; a distance is at least 0."""
    d = params.action_dim
    low = np.full(3 * d + (params.observation_mode == "distance"), -np.inf, dtype=np.float32)
    low[3 * d :] = 0.0
    return spaces.Box(low, np.full_like(low, np.inf), dtype=np.float32)


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


def render_reach(
    mode: str | None, goal: Any, x: Any, tolerance: float, t: int, horizon: int
) -> str | np.ndarray | None:
    """A frame of a point mass at ``x`` with its ``goal`` (single and batched envs alike).

    ``mode="ansi"``: the step and the distance to the goal; ``"rgb_array"``: the first two
    coordinates seen from above (a 1-D task on the x axis), the goal green with a ring of radius
    ``tolerance``, the origin grey, the mass blue.
    """
    if mode == "ansi":
        return f"step {t}/{horizon}, distance to goal {math.dist(goal, x):.3f}\n"
    if mode == "rgb_array":

        def plane(p: Any) -> tuple[float, float]:
            return (p[0], p[1] if len(p) > 1 else 0.0)

        reach = math.hypot(*plane(goal)) + tolerance
        canvas = Canvas(size=256, extent=2.4 * max(reach, 1e-6))
        canvas.disc(plane(goal), tolerance, GREEN, ring=True)
        canvas.disc((0.0, 0.0), 0.02 * reach, GREY)
        canvas.disc(plane(x), 0.04 * reach, BLUE)
        return canvas.image
    return None


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

    ``observation_mode="distance"`` appends one entry, the Euclidean distance from the mass to
    the goal, ``|goal - position|`` (bounded below by 0; shape ``(3d + 1,)``). It is the
    quantity the dense reward would give, put in the observation while the reward, the episode
    end and the infos stay those of ``"standard"`` for the same seed and actions. It adds no
    information (it is the norm of the last d entries), only a feature the policy need not
    compute itself.

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
    | parameter            | default        | valid values |
    |----------------------|----------------|--------------|
    | ``action_dim``       | ``2``          | an integer >= 1 and <= 1000, fixed |
    | ``horizon``          | ``50``         | an integer >= 1 and <= 1000000, fixed |
    | ``goal_distance``    | ``1.0``        | a number > 0 and <= 1e+06 |
    | ``tolerance``        | ``0.25``       | a number > 0 and <= 1e+06 |
    | ``mass``             | ``1.0``        | a number >= 1e-06 and <= 1e+06 |
    | ``damping``          | ``0.5``        | a number >= 0 and <= 1e+06 |
    | ``action_gain``      | ``1.0``        | a number > 0 and <= 1e+06 |
    | ``dt``               | ``0.2``        | a number > 0 and <= 1 |
    | ``reward_mode``      | ``'sparse'``   | one of 'sparse', 'dense' |
    | ``observation_mode`` | ``'standard'`` | one of 'standard', 'distance' |
    | ``preset``           | ``None``       | None, 'D', 'R' or 'E' |
    | ``render_mode``      | ``None``       | None, 'ansi' or 'rgb_array' |

    The parameters are :class:`SparseReachParams`. A ``fixed`` one cannot be randomized:
    ``action_dim`` fixes the observation and action spaces, ``horizon`` is the episode length. The
    other numbers may be given as distributions (see :mod:`rlbench3.envs.parameters`), drawn at
    every reset. A ``preset`` (see ``envs/presets.yaml``) sets several parameters at once; explicit
    keywords override it.

    The bounds keep the dynamics and the float32 observations finite for every valid combination:
    with no damping, the lightest ``mass`` (1e-6) and the strongest ``action_gain`` (1e6), a
    position grows at most as ``t^2 / 2 * action_gain / mass``, 5e29 after the longest horizon
    (1e6 steps). A lighter mass (say ``5e-324``, whose ``action_gain / mass`` is infinite) or a
    larger number is refused at construction, naming the parameter and its range.

    ## Expert
    ``optimal_action()`` is a deterministic controller that reaches the goal:
    ``4 (goal - x) - 2 v``, scaled down as a whole into ``[-1, 1]^d`` (see :func:`expert_force`;
    a function of the observation alone). It succeeded in every one of 200 episodes for each of
    the presets D, R and E at ``action_dim`` 1, 2, 4 and 8 (default horizon 50).

    ## Version History
    * v0: initial version.
    * v0 (0.3): bounds on every number (``mass >= 1e-6``; at most 1e6, 1000 action dimensions,
      1e6 steps); values outside them gave non-finite observations or could not be allocated.
    * v0 (0.4): ``observation_mode`` (default ``"standard"``, the observation of before;
      ``"distance"`` appends the distance to the goal, rewards unchanged); the expert
      ``optimal_action()``.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 5}

    def __init__(self, render_mode: str | None = None, preset: str | None = None, **kwargs: Any):
        check_preset(SparseReachParams.family, preset)
        self.params: SparseReachParams = resolve_params(SparseReachParams, preset, kwargs)
        check_render_mode(self, render_mode)
        self.render_mode = render_mode
        d = self.action_dim = self.params.action_dim
        self.horizon = self.params.horizon
        self.action_space = spaces.Box(-1.0, 1.0, (d,), np.float32)
        self.observation_space = observation_space(self.params)
        self._sparse = self.params.reward_mode == "sparse"
        self._distance = self.params.observation_mode == "distance"
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
        if self._distance:
            dist2 = 0.0
            for r in rel:  # summed in step()'s order: the batched env's bits
                dist2 += r * r
            return np.array(self._x + self._v + rel + [math.sqrt(dist2)], dtype=np.float32)
        return np.array(self._x + self._v + rel, dtype=np.float32)

    # -- the expert ------------------------------------------------------------------------
    def optimal_action(self) -> np.ndarray:
        """The expert's action in the current state (see "Expert"; valid after ``reset``)."""
        if not self._episode:
            raise RuntimeError("call reset() before optimal_action()")
        rel = np.array([g - x for g, x in zip(self._goal, self._x)])
        return expert_force(rel, np.array(self._v))

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
        tolerance = self._episode.get("tolerance", 0.0)
        return render_reach(self.render_mode, self._goal, self._x, tolerance, self._t, self.horizon)


class SparseReachVectorEnv(BatchedVectorEnv):
    """``num_envs`` copies of :class:`SparseReachEnv` stepped by one numpy operation per update.

    Same dynamics, observations and rewards as the single env: given the same parameter values,
    goals and actions, every copy's trajectory equals the single env's (the same formulas, applied
    row-wise). Autoreset is ``NEXT_STEP``: the step after a copy ends resets it and ignores its
    action. Goals and randomized parameters of resetting copies are drawn together from the vector
    env's own generator (same distribution as the single env, different stream).

    Takes ``num_envs``, ``preset``, ``render_mode``, ``max_episode_steps`` and the parameters of
    the single env; see :class:`SparseReachEnv` for the spec. The vector API is that of
    ``SyncVectorEnv`` over single envs made by ``gymnasium.make`` (see
    :class:`~rlbench3.envs.batching.BatchedVectorEnv`).
    """

    metadata = {**BatchedVectorEnv.metadata, "render_fps": 5}
    params_class = SparseReachParams

    def __init__(
        self,
        num_envs: int = 1,
        preset: str | None = None,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        **kwargs: Any,
    ):
        p: SparseReachParams = self._setup(num_envs, preset, render_mode, max_episode_steps, kwargs)
        n, d = self.num_envs, self.action_dim = self.num_envs, p.action_dim
        self.horizon = self.params.horizon
        limit = self.max_episode_steps
        self._limit = limit if limit is not None and limit <= self.horizon else None
        self.single_action_space = spaces.Box(-1.0, 1.0, (d,), np.float32)
        self.single_observation_space = observation_space(p)
        self.action_space = spaces.Box(-1.0, 1.0, (n, d), np.float32)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, n)
        self._sparse = self.params.reward_mode == "sparse"
        self._distance = p.observation_mode == "distance"
        # Coordinate-major state: rows [x (d), v (d), goal - x (d)] (and the distance to the goal
        # in "distance" mode), one column per copy, so every update below runs over contiguous
        # memory; an observation is the transpose, cast.
        self._state = np.zeros((3 * d + self._distance, n))
        self._x, self._v = self._state[:d], self._state[d : 2 * d]
        self._rel = self._state[2 * d : 3 * d]
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
        self._ready = np.zeros(n, dtype=bool)  # copies reset at least once
        self._started = False  # every copy reset at least once: step() may run
        # The info of the fixed parameters never changes: built once, handed out read-only.
        self._fixed_info = {
            name: frozen(per_copy(getattr(p, name), n))
            for name in ("action_dim", "horizon", *names, "reward_mode", "observation_mode")
            if name not in self._randomized
        }
        self._everyone = frozen(np.ones(n, dtype=bool))
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
        if self._distance:
            self._state[-1, idx] = np.sqrt(self._squared_distances()[idx])
        self._t[idx] = 0

    def _squared_distances(self) -> np.ndarray:
        """``|goal - x|^2`` of every copy, summed in the single env's order (equal bits)."""
        rel = self._rel
        dist2 = rel[0] * rel[0]
        for j in range(1, self.action_dim):
            dist2 += rel[j] * rel[j]
        return dist2

    def optimal_actions(self) -> np.ndarray:
        """The expert's action of every copy, ``(num_envs, d)``: each copy's
        :meth:`SparseReachEnv.optimal_action` in its current state (valid after ``reset``)."""
        if not self._started:
            raise step_before_reset()
        return expert_force(self._rel, self._v).T.copy()

    def _observations(self) -> np.ndarray:
        return self._state.T.astype(np.float32)

    def _reset_info(self, mask: np.ndarray) -> dict[str, Any]:
        """The single env's reset info (``params`` in field order, ``goal``) of the copies in
        ``mask`` (read-only)."""
        params = {
            name: self._fixed_info[name] if name in self._fixed_info else self._values[name].copy()
            for name in (
                "action_dim",
                "horizon",
                "goal_distance",
                "tolerance",
                "mass",
                "damping",
                "action_gain",
                "dt",
                "reward_mode",
                "observation_mode",
            )
        }
        return {
            "params": masked(params, mask),
            "_params": mask,
            "goal": self._goal.T.copy(),
            "_goal": mask,
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            self._np_random, self._np_random_seed = seeding.np_random(seed)
        mask = reset_mask(options, self.num_envs)
        if mask is None:
            mask = self._everyone
        else:
            mask = frozen(mask.copy())
        self._reset_copies(mask)
        self._autoreset[mask] = False
        self._ready |= mask
        self._started = bool(self._ready.all())
        return self._observations(), self._reset_info(mask)

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._started:
            raise step_before_reset()
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
        np.subtract(self._goal, x, out=self._rel)
        dist2 = self._squared_distances()
        if self._distance:
            np.sqrt(dist2, out=self._state[-1])
        self._t += 1
        success = dist2 <= self._tol2
        if any_reset:
            self._t[resetting] = 0
            success &= ~resetting
        truncated = ~success & (self._t >= self.horizon)
        ended = success | truncated  # where the single env gives info["is_success"]
        if self._limit is not None:  # TimeLimit: truncated at N steps, terminal or not
            truncated |= self._t >= self._limit
            self._autoreset = success | truncated
        else:
            self._autoreset = ended.copy()
        if self._sparse:
            rewards = success.astype(np.float64)
        else:
            rewards = -np.sqrt(dist2)
            if any_reset:
                rewards[resetting] = 0.0
        infos: dict[str, Any] = {"is_success": success, "_is_success": ended}
        if any_reset:
            infos.update(self._reset_info(frozen(resetting.copy())))
        return self._observations(), rewards, success, truncated, infos

    def render(self) -> tuple[Any, ...] | None:
        """The copies' frames, as ``SyncVectorEnv.render`` returns them (None without a mode)."""
        if self.render_mode is None:
            return None
        tolerance = self._values["tolerance"]
        return tuple(
            render_reach(
                self.render_mode,
                self._goal[:, i],
                self._x[:, i],
                float(tolerance[i]),
                int(self._t[i]),
                self.horizon,
            )
            for i in range(self.num_envs)
        )
