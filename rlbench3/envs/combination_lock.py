"""CombinationLock: the sparse-reward horizon testbed.

:class:`CombinationLockEnv` is the env and its docstring the spec; :class:`CombinationLockParams`
holds its parameters, and :class:`CombinationLockVectorEnv` steps many copies of it at once.
"""

from __future__ import annotations

import functools
import math
import operator
from dataclasses import dataclass, fields
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
from rlbench3.envs.parameters import MAX_SEED, Distribution, EnvParams, _show, choice, number
from rlbench3.envs.presets import resolve_params
from rlbench3.envs.rendering import GREEN, GREY, RED, Canvas, check_render_mode

_FIXED_SHAPE = "it fixes the observation space"
# Upper bounds (CombinationLockEnv, "Arguments"): the single env keeps a table of its
# 2 (H + 1) observations, (H + 1) * 2 * (H + 2) float32 (8 MB at H = 1000); actions must fit an
# int32; distractors are drawn for every copy at every step.
MAX_HORIZON = 1000
MAX_NUM_ACTIONS = 2**31 - 1
MAX_DISTRACTOR_DIMS = 10_000
MAX_DISTRACTOR_STD = 1e6
# The parameters that fix the observation or action space (set_params cannot change them).
SPACE_PARAMETERS = ("horizon", "num_actions", "distractor_dims", "observation_mode")


@dataclass(frozen=True)
class CombinationLockParams(EnvParams):
    """Parameters of :class:`CombinationLockEnv` (see its docstring for the spec)."""

    family = "CombinationLock"

    horizon: int = number(
        10, ge=1, le=MAX_HORIZON, integer=True, randomizable=False, why_fixed=_FIXED_SHAPE
    )
    num_actions: int = number(
        2,
        ge=2,
        le=MAX_NUM_ACTIONS,
        integer=True,
        randomizable=False,
        why_fixed="it fixes the action space",
    )
    combination_seed: int | Distribution = number(0, ge=0, le=MAX_SEED, integer=True)
    reward_mode: str = choice("sparse", ("sparse", "dense"))
    failure_mode: str = choice("absorbing", ("absorbing", "continue"))
    distractor_dims: int = number(
        0, ge=0, le=MAX_DISTRACTOR_DIMS, integer=True, randomizable=False, why_fixed=_FIXED_SHAPE
    )
    distractor_std: float | Distribution = number(1.0, ge=0.0, le=MAX_DISTRACTOR_STD)
    observation_mode: str = choice("standard", ("standard", "feedback"))
    start_step: int = number(
        0,
        ge=0,
        le=MAX_HORIZON - 1,
        integer=True,
        randomizable=False,
        why_fixed="the copies of the batched env start in lockstep; schedule it instead",
    )

    # What a training curriculum (a suite experiment's ``curriculum:``) may schedule; see
    # :meth:`scheduled_value`.
    schedulable = ("start_step",)

    def _check(self) -> None:
        if self.start_step >= self.horizon:
            raise ValueError(
                f"start_step must be an integer >= 0 and < horizon ({self.horizon}), "
                f"got {self.start_step}"
            )

    def scheduled_value(self, name: str, fraction: float) -> int:
        """The value of ``name`` at a curriculum stage written as ``fraction`` in [0, 1):
        ``start_step = floor(fraction * horizon)`` (rounded to 9 decimals first, so ``0.3 * 10``
        is 3), which is < ``horizon`` for every horizon: ``ceil((1 - fraction) * horizon)``
        digits are left to enter."""
        if name not in self.schedulable:
            raise ValueError(
                f"a curriculum cannot schedule {name!r} of {self.family}; it can schedule "
                f"{', '.join(self.schedulable)}"
            )
        if not (isinstance(fraction, (int, float)) and not isinstance(fraction, bool)) or not (
            0.0 <= fraction < 1.0
        ):
            raise ValueError(
                f"a {name} stage value must be a fraction >= 0 and < 1, got {fraction!r}"
            )
        return math.floor(round(fraction * self.horizon, 9))


@functools.lru_cache(maxsize=4096)
def _combination_tuple(seed: int, horizon: int, num_actions: int) -> tuple[int, ...]:
    rng = np.random.default_rng(seed)
    return tuple(int(x) for x in rng.integers(num_actions, size=horizon))


def combination(seed: int, horizon: int, num_actions: int) -> np.ndarray:
    """The secret combination of a lock: ``horizon`` digits in ``[0, num_actions)``.

    A pure function of its arguments (its own generator seeded by ``seed``), so a combination is
    the same in every process and every run.
    """
    return np.array(_combination_tuple(seed, horizon, num_actions), dtype=np.int64)


def uniform_hit_probability(horizon: int, num_actions: int) -> float:
    """Closed form: a uniform random policy opens the lock with probability ``K ** -H``."""
    return float(num_actions) ** -horizon


def render_lock(
    mode: str | None, horizon: int, entered: Any, dead: bool
) -> str | np.ndarray | None:
    """A frame of a lock whose ``len(entered)`` digits so far were right (True) or wrong.

    ``mode="ansi"``: one line of marks, ``+`` right, ``x`` wrong, ``.`` not yet entered, the step
    and whether the lock is dead; ``"rgb_array"``: one cell per digit, green right, red wrong, grey
    not yet entered. The single and the batched env both draw their frames with it.
    """
    t = len(entered)
    if mode == "ansi":
        marks = "".join("+" if r else "x" for r in entered) + "." * (horizon - t)
        return f"[{marks}] step {t}/{horizon}{', dead' if dead else ''}\n"
    if mode == "rgb_array":
        canvas = Canvas(size=256, extent=horizon + 1.0, center=(horizon / 2, 0.0))
        for i in range(horizon):
            color = GREY if i >= t else (GREEN if entered[i] else RED)
            canvas.box((i + 0.05, -0.45), (i + 0.95, 0.45), color)
        return canvas.image
    return None


def observation_space(params: CombinationLockParams) -> spaces.Box:
    """Step one-hot, dead flag and feedback bit lie in [0, 1]; Gaussian distractors are
    unbounded."""
    end = params.horizon + 2 + params.distractor_dims
    low = np.zeros(end + (params.observation_mode == "feedback"), dtype=np.float32)
    high = np.ones_like(low)
    low[params.horizon + 2 : end], high[params.horizon + 2 : end] = -np.inf, np.inf
    return spaces.Box(low, high, dtype=np.float32)


class CombinationLockEnv(gym.Env):
    """Enter a secret combination of H digits, one per step: the lock opens if all are right.

    ## Description
    An agent must enter a secret combination of ``horizon`` (H) digits, each one of ``num_actions``
    (K) values, one digit per step. The combination is drawn from ``combination_seed``, so different
    seeds are different tasks and whole sets of combinations can be held out. With the sparse
    reward the only signal is at step H, and only if all H digits were right: a uniform random
    policy opens the lock with probability exactly ``K ** -H``, the "swiss cheese" landscape in its
    purest form. With ``start_step`` (s) > 0 an episode starts at step s, the first s digits
    already entered right, so only H - s digits remain and a uniform policy opens it with
    probability ``K ** -(H - s)``: the same observation space at a shorter effective horizon,
    what a curriculum over the horizon schedules (see :meth:`set_params`).

    ## Action Space
    ``Discrete(K)``: the digit entered at this step, an element of the space as Gymnasium's
    ``Discrete.contains`` takes it: a Python or numpy integer, or a 0-d integer array (bools are
    refused). Anything else (``1.5``, ``"1"``, ``-1``, ``K``) raises ``ValueError``, as the batched
    env does; nothing is rounded or cast.

    ## Observation Space
    A ``float32`` ``Box`` of shape ``(H + 2 + distractor_dims,)`` (one more with
    ``observation_mode="feedback"``), bounded by [0, 1] except for the distractors, which are
    unbounded:

    | index | observation |
    |---|---|
    | 0 .. H | one-hot of the step t (t = H is the terminal observation) |
    | H + 1 | 1.0 in the dead state (after a wrong digit, ``failure_mode="absorbing"``) |
    | H + 2 .. | ``distractor_dims`` dims of fresh i.i.d. Gaussian noise, std ``distractor_std`` |
    | last | ``observation_mode="feedback"`` only: the feedback bit (below) |

    With ``failure_mode="continue"`` mistakes are not revealed: index H + 1 is always 0.0.

    ``observation_mode="feedback"`` makes the observation informative while the reward stays as
    it is: one more entry, last, that is 1.0 when the digit entered at the previous step equals
    the combination's digit at that step, else 0.0 (0.0 at t = 0). It is the match of that one
    digit, whether or not the lock is already dead: after a mistake in ``"absorbing"`` mode it
    still tells which later digits would have been right, and in ``"continue"`` mode it reveals
    each mistake. Nothing else changes: the other entries, the rewards, the episode end and the
    infos are those of ``"standard"`` for the same seed and actions.

    ## Rewards
    * ``reward_mode="sparse"``: 1.0 at step H if all H digits were right, else 0.0.
    * ``reward_mode="dense"``: 1/H for each right digit (in absorbing mode, none after a mistake);
      the ``start_step`` digits entered before the episode pay nothing.

    ## Starting State
    Step t = ``start_step`` (0 by default), not dead, the first ``start_step`` digits counted as
    right (the feedback bit is 1.0 at reset when ``start_step`` > 0: the previous digit matched).
    The randomized parameters are drawn at every reset, and the combination is that of the
    episode's ``combination_seed`` (a pure function of the seed, H and K; see
    :func:`combination`). ``info["params"]`` at reset holds the parameter values drawn for the
    episode.

    ## Episode End
    Always exactly H - ``start_step`` steps: ``terminated`` is True at step H (the lock is a
    finite-horizon task and the step is observed). ``info["is_success"]`` is given on the last
    step: all digits right.

    ## Rendering
    ``render_mode="ansi"``: one line with a mark per digit (``+`` right, ``x`` wrong, ``.`` not yet
    entered), the step and whether the lock is dead. ``render_mode="rgb_array"``: an image of one
    cell per digit, green right, red wrong, grey not yet entered.

    ## Arguments
    | parameter            | default         | valid values |
    |----------------------|-----------------|--------------|
    | ``horizon``          | ``10``          | an integer >= 1 and <= 1000, fixed |
    | ``num_actions``      | ``2``           | an integer >= 2 and <= 2147483647, fixed |
    | ``combination_seed`` | ``0``           | an integer >= 0 and <= 9223372036854775807 |
    | ``reward_mode``      | ``'sparse'``    | one of 'sparse', 'dense' |
    | ``failure_mode``     | ``'absorbing'`` | one of 'absorbing', 'continue' |
    | ``distractor_dims``  | ``0``           | an integer >= 0 and <= 10000, fixed |
    | ``distractor_std``   | ``1.0``         | a number >= 0 and <= 1e+06 |
    | ``observation_mode`` | ``'standard'``  | one of 'standard', 'feedback' |
    | ``start_step``       | ``0``           | an integer >= 0 and <= 999, fixed |
    | ``preset``           | ``None``        | None, 'D', 'R' or 'E' |
    | ``render_mode``      | ``None``        | None, 'ansi' or 'rgb_array' |

    The parameters are :class:`CombinationLockParams`. A ``fixed`` one cannot be randomized:
    ``horizon`` and ``distractor_dims`` fix the observation space, ``num_actions`` the action space.
    ``start_step`` must also be < ``horizon``; it is not randomized (the batched env steps its
    copies in lockstep from it), but :meth:`set_params` changes it between episodes.
    The other numbers may be given as distributions (see :mod:`rlbench3.envs.parameters`), drawn at
    every reset: integer intervals of ``combination_seed`` hold out whole sets of combinations. A
    ``preset`` (see ``envs/presets.yaml``) sets several parameters at once; explicit keywords
    override it; a ``preset`` that is not one of the names is refused.

    The upper bounds are what can work, not what is sensible: the env keeps a table of its
    ``2 (H + 1)`` observations (8 MB at ``H = 1000``); actions fit an int32; seeds are numpy seeds,
    kept in int64 by the batched env; distractors are drawn for every copy at every step, and stay
    finite in float32. A value beyond them (``horizon=10**30``, ``num_actions=1e30``,
    ``combination_seed=2**70``) is refused at construction, naming the parameter and its range.

    ## Version History
    * v0: initial version.
    * v0 (0.3): upper bounds on ``horizon``, ``num_actions``, ``combination_seed``,
      ``distractor_dims`` and ``distractor_std`` (see "Arguments"; the dynamics are unchanged);
      actions must be elements of ``Discrete(K)`` (``1.5`` or ``"1"`` were truncated by ``int()``).
    * v0 (0.4): ``observation_mode`` (default ``"standard"``, the observation of before);
      ``"feedback"`` adds the previous digit's match to the observation, rewards unchanged.
    * v0 (0.4): ``start_step`` (default 0, the episodes of before) and :meth:`set_params`.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, render_mode: str | None = None, preset: str | None = None, **kwargs: Any):
        check_preset(CombinationLockParams.family, preset)
        self.params: CombinationLockParams = resolve_params(CombinationLockParams, preset, kwargs)
        check_render_mode(self, render_mode)
        self.render_mode = render_mode
        p = self.params
        self.horizon, self.num_actions = p.horizon, p.num_actions
        self.action_space = spaces.Discrete(p.num_actions)
        self.observation_space = observation_space(p)
        # Observations without distractors are one of 2 (H + 1) rows: index [t, dead].
        table = np.zeros((p.horizon + 1, 2, p.horizon + 2), dtype=np.float32)
        table[np.arange(p.horizon + 1), :, np.arange(p.horizon + 1)] = 1.0
        table[:, 1, p.horizon + 1] = 1.0
        self._obs_table = table
        self._feedback = p.observation_mode == "feedback"
        self._pending: CombinationLockParams | None = None  # set_params, applied at reset
        self._use(p)
        self._t = 0
        self._dead = False
        self._correct = 0
        self._matched = False  # the previous digit equalled the combination's (feedback mode)
        self._entered: list[bool] = []

    def _use(self, p: CombinationLockParams) -> None:
        """Take ``p`` as the parameters of the episodes from now on (the spaces stay)."""
        self.params = p
        self._absorbing = p.failure_mode == "absorbing"
        self._sparse = p.reward_mode == "sparse"
        self._randomized = bool(p.randomized)
        self._episode = p.sample(np.random.default_rng(0)) if not self._randomized else None
        self._combination: tuple[int, ...] = ()

    def set_params(self, **changes: Any) -> None:
        """Change parameters from the next ``reset`` on (the episode under way is unchanged).

        Validated as at construction (``start_step=H`` or ``reward_mode="x"`` raise
        ``ValueError`` naming the parameter and its range). The parameters that fix a space
        (``horizon``, ``num_actions``, ``distractor_dims``, ``observation_mode``) cannot change.
        A training curriculum calls it on every copy of the training env (``env_method``).
        """
        fixed = sorted(set(changes) & set(SPACE_PARAMETERS))
        if fixed:
            raise ValueError(
                f"set_params cannot change {', '.join(fixed)}: it fixes the observation or "
                "action space; make a new env instead"
            )
        base = self._pending or self.params
        current = {f.name: getattr(base, f.name) for f in fields(base)}
        self._pending = CombinationLockParams.from_kwargs(**{**current, **changes})

    # -- the expert ------------------------------------------------------------------------
    def optimal_action(self) -> int:
        """The right digit for the current step (the expert policy; valid after ``reset``)."""
        if self._t >= self.horizon:
            raise RuntimeError("the episode has ended; call reset() first")
        return self._combination[self._t]

    @property
    def combination(self) -> np.ndarray:
        """The combination of the current episode."""
        return np.array(self._combination, dtype=np.int64)

    # -- gymnasium API ------------------------------------------------------------------------
    def _observation(self) -> np.ndarray:
        obs = self._obs_table[self._t, int(self._dead)]
        parts = [obs]
        if self.params.distractor_dims:
            noise = self.np_random.normal(
                0.0, self._episode["distractor_std"], self.params.distractor_dims
            )
            parts.append(noise.astype(np.float32))
        if self._feedback:
            parts.append(np.array([float(self._matched)], dtype=np.float32))
        return np.concatenate(parts) if len(parts) > 1 else obs.copy()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if self._pending is not None:
            self._use(self._pending)
            self._pending = None
        if self._randomized or not self._combination:
            if self._randomized:
                self._episode = self.params.sample(self.np_random)
            self._combination = _combination_tuple(
                self._episode["combination_seed"], self.horizon, self.num_actions
            )
        start = self.params.start_step
        self._t, self._dead, self._correct = start, False, start
        self._matched = start > 0  # as if the digit before step start_step was entered right
        self._entered = [True] * start
        return self._observation(), {"params": dict(self._episode)}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        # What Discrete.contains accepts (but bools): an int, a numpy integer, a 0-d int array;
        # operator.index takes exactly these (and bool, refused here), never a float or a str.
        kind = type(action)
        if kind is int:
            a = action
        elif kind is bool:  # (bool cannot be subclassed)
            a = -1
        else:
            try:
                a = operator.index(action)
            except TypeError:
                a = -1
        if not 0 <= a < self.num_actions:
            raise ValueError(
                f"action must be an integer in [0, {self.num_actions}) (an int, a numpy integer "
                f"or a 0-d integer array), got {_show(action)}"
            )
        t = self._t
        if t >= self.horizon:
            raise RuntimeError("step() called after the episode ended; call reset() first")
        self._matched = a == self._combination[t]
        right = not self._dead and self._matched
        if right:
            self._correct += 1
        elif self._absorbing:
            self._dead = True
        self._t = t = t + 1
        self._entered.append(right)
        terminated = t == self.horizon
        if self._sparse:
            reward = 1.0 if terminated and self._correct == self.horizon else 0.0
        else:
            reward = 1.0 / self.horizon if right else 0.0
        info = {"is_success": self._correct == self.horizon} if terminated else {}
        return self._observation(), reward, terminated, False, info

    def render(self) -> str | np.ndarray | None:
        return render_lock(self.render_mode, self.horizon, self._entered, self._dead)


class CombinationLockVectorEnv(BatchedVectorEnv):
    """``num_envs`` copies of :class:`CombinationLockEnv` stepped by one numpy operation.

    Same dynamics, observations and rewards as the single env: given the same parameter values and
    actions, every copy's trajectory equals the single env's. Autoreset is ``NEXT_STEP`` (the
    Gymnasium 1.x default): the step after a copy terminates resets it and ignores its action.
    Randomized parameters are drawn for all resetting copies at once from the vector env's own
    generator, so they follow the same distribution as the single env's but a different stream.

    Takes ``num_envs``, ``preset``, ``render_mode``, ``max_episode_steps`` and the parameters of
    the single env; see :class:`CombinationLockEnv` for the spec. The vector API is that of
    ``SyncVectorEnv`` over single envs made by ``gymnasium.make`` (see
    :class:`~rlbench3.envs.batching.BatchedVectorEnv`).
    """

    metadata = {**BatchedVectorEnv.metadata, "render_fps": 4}
    params_class = CombinationLockParams

    def __init__(
        self,
        num_envs: int = 1,
        preset: str | None = None,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        **kwargs: Any,
    ):
        p: CombinationLockParams = self._setup(
            num_envs, preset, render_mode, max_episode_steps, kwargs
        )
        n = self.num_envs
        self.horizon, self.num_actions = p.horizon, p.num_actions
        self.single_action_space = spaces.Discrete(p.num_actions)
        self.single_observation_space = observation_space(p)
        self.action_space = spaces.MultiDiscrete(np.full(n, p.num_actions))
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, n)
        self._absorbing = p.failure_mode == "absorbing"
        self._sparse = p.reward_mode == "sparse"
        self._feedback = p.observation_mode == "feedback"
        # Every episode runs from step start_step to H. A time limit only matters when it cuts an
        # episode short (or ends it at H too); _limit is the step t at which it truncates.
        self._start = p.start_step
        limit = self.max_episode_steps
        cut = None if limit is None else self._start + limit
        self._limit = cut if cut is not None and cut <= p.horizon else None
        self._end = self._limit or p.horizon  # the step t at which every episode ends
        self._rows = np.arange(n)
        self._t = np.zeros(n, dtype=np.int64)
        self._dead = np.zeros(n, dtype=bool)
        self._correct = np.zeros(n, dtype=np.int64)
        self._matched = np.zeros(n, dtype=bool)  # the previous digit was the right one
        # Indexed [step, copy]: a step's digits of all copies are one contiguous row.
        self._combination_by_step = np.zeros((p.horizon, n), dtype=np.int64)
        self._std = np.zeros(n)
        self._seed_of = np.zeros(n, dtype=np.int64)
        self._autoreset = np.zeros(n, dtype=bool)
        # Which digits each copy got right, kept only to render (the same [step, copy] layout).
        self._entered = np.zeros((p.horizon, n), dtype=bool) if render_mode else None
        self._synced_t: int | None = None  # the common step of all copies, when they share one
        self._ready = np.zeros(n, dtype=bool)  # copies reset at least once
        self._started = False  # every copy reset at least once: step() may run
        # The info of the fixed parameters never changes: built once, handed out read-only.
        fixed = (
            "horizon",
            "num_actions",
            "reward_mode",
            "failure_mode",
            "distractor_dims",
            "observation_mode",
            "start_step",
        )
        self._fixed_info = {name: frozen(per_copy(getattr(p, name), n)) for name in fixed}
        self._everyone = frozen(np.ones(n, dtype=bool))
        self._np_random, self._np_random_seed = seeding.np_random()

    def _reset_copies(self, mask: np.ndarray) -> None:
        k = int(mask.sum())
        p = self.params
        if isinstance(p.combination_seed, Distribution):
            seeds = p.combination_seed.sample(self._np_random, size=k)
            unique, inverse = np.unique(seeds, return_inverse=True)
            codes = [_combination_tuple(int(s), p.horizon, p.num_actions) for s in unique]
            table = np.array(codes, dtype=np.int64).reshape(len(unique), p.horizon)
            self._combination_by_step[:, mask] = table[inverse].T
        else:
            seeds = p.combination_seed
            code = _combination_tuple(seeds, p.horizon, p.num_actions)
            self._combination_by_step[:, mask] = np.array(code, dtype=np.int64)[:, None]
        if isinstance(p.distractor_std, Distribution):
            self._std[mask] = p.distractor_std.sample(self._np_random, size=k)
        else:
            self._std[mask] = p.distractor_std
        self._seed_of[mask] = seeds
        start = self._start
        self._t[mask] = start
        self._dead[mask] = False
        self._correct[mask] = start
        self._matched[mask] = start > 0
        if self._entered is not None:
            self._entered[:start, mask] = True
            self._entered[start:, mask] = False

    def _observations(self, t: int | np.ndarray) -> np.ndarray:
        p = self.params
        obs = np.zeros((self.num_envs, self.single_observation_space.shape[0]), dtype=np.float32)
        if isinstance(t, np.ndarray):
            obs[self._rows, t] = 1.0
        else:
            obs[:, t] = 1.0
        obs[:, p.horizon + 1] = self._dead
        if p.distractor_dims:
            noise = self._np_random.standard_normal((self.num_envs, p.distractor_dims))
            obs[:, p.horizon + 2 : p.horizon + 2 + p.distractor_dims] = noise * self._std[:, None]
        if self._feedback:
            obs[:, -1] = self._matched
        return obs

    def _params_info(self, mask: np.ndarray) -> dict[str, Any]:
        """``info["params"]`` of the copies in ``mask`` (read-only), as the single env's reset."""
        fixed = self._fixed_info
        values = {
            "horizon": fixed["horizon"],
            "num_actions": fixed["num_actions"],
            "combination_seed": self._seed_of.copy(),
            "reward_mode": fixed["reward_mode"],
            "failure_mode": fixed["failure_mode"],
            "distractor_dims": fixed["distractor_dims"],
            "distractor_std": self._std.copy(),
            "observation_mode": fixed["observation_mode"],
            "start_step": fixed["start_step"],
        }
        return {"params": masked(values, mask), "_params": mask}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            self._np_random, self._np_random_seed = seeding.np_random(seed)
        mask = reset_mask(options, self.num_envs)
        if mask is not None:
            if self._synced_t is not None:  # leave the synchronised path: copies now differ
                self._t[:] = self._synced_t
                self._autoreset[:] = self._synced_t == self._end
                self._synced_t = None
            self._reset_copies(mask)
            self._autoreset[mask] = False
            self._ready |= mask
            self._started = bool(self._ready.all())
            return self._observations(self._t), self._params_info(frozen(mask.copy()))
        self._reset_copies(np.ones(self.num_envs, dtype=bool))
        self._synced_t = self._start
        self._ready[:] = True
        self._started = True
        return self._observations(self._start), self._params_info(self._everyone)

    def _check_actions(self, actions: Any) -> np.ndarray:
        a = np.asarray(actions)
        if a.shape != (self.num_envs,) or not np.issubdtype(a.dtype, np.integer):
            raise ValueError(
                f"actions must be an integer array of shape ({self.num_envs},), "
                f"got shape {a.shape} dtype {a.dtype}"
            )
        if a.min() < 0 or a.max() >= self.num_actions:
            raise ValueError(f"actions must be in [0, {self.num_actions}), got {a!r}")
        return a

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._started:
            raise step_before_reset()
        a = self._check_actions(actions)
        if self._synced_t is None:
            return self._step_unsynchronised(a)
        # Every episode lasts exactly min(H - start_step, max_episode_steps) steps, so copies
        # reset together stay in lockstep: one step index for all, a row of the combinations,
        # no gathers.
        n, horizon = self.num_envs, self.horizon
        no = np.zeros(n, dtype=bool)
        if self._synced_t == self._end:  # NEXT_STEP autoreset of every copy; actions ignored
            self._reset_copies(np.ones(n, dtype=bool))
            self._synced_t = self._start
            return (
                self._observations(self._start),
                np.zeros(n),
                no,
                no.copy(),
                self._params_info(self._everyone),
            )
        t = self._synced_t
        right = a == self._combination_by_step[t]
        if self._feedback:
            self._matched[:] = right
        if self._absorbing:
            right &= ~self._dead
            self._dead |= ~right
        self._correct += right
        if self._entered is not None:
            self._entered[t] = right
        self._synced_t = t = t + 1
        if t == horizon:
            terminated = np.ones(n, dtype=bool)
            success = self._correct == horizon
        else:
            terminated = success = no
        truncated = np.ones(n, dtype=bool) if t == self._limit else no.copy()
        rewards = success.astype(np.float64) if self._sparse else right / horizon
        infos = {"is_success": success, "_is_success": terminated}
        return self._observations(t), rewards, terminated, truncated, infos

    def _step_unsynchronised(
        self, a: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """The general path, for copies at different steps (after a masked reset)."""
        resetting = self._autoreset
        any_reset = resetting.any()
        if any_reset:
            self._reset_copies(resetting)
        active = ~resetting
        t = np.minimum(self._t, self.horizon - 1)
        matched = active & (a == self._combination_by_step[t, self._rows])
        if self._feedback:  # (a resetting copy keeps the bit its reset set)
            np.copyto(self._matched, matched, where=active)
        right = matched & ~self._dead
        self._correct += right
        if self._absorbing:
            self._dead |= active & ~right
        if self._entered is not None:  # (a resetting copy writes False at its step 0)
            self._entered[t, self._rows] = right
        self._t += active
        terminated = active & (self._t == self.horizon)
        success = terminated & (self._correct == self.horizon)
        if self._limit is None:
            truncated = np.zeros(self.num_envs, dtype=bool)
        else:
            truncated = active & (self._t == self._limit)
        rewards = success.astype(np.float64) if self._sparse else right / self.horizon
        self._autoreset = terminated | truncated
        infos: dict[str, Any] = {"is_success": success, "_is_success": terminated}
        if any_reset:
            infos.update(self._params_info(frozen(resetting.copy())))
        return self._observations(self._t), rewards, terminated, truncated, infos

    def render(self) -> tuple[Any, ...] | None:
        """The copies' frames, as ``SyncVectorEnv.render`` returns them (None without a mode)."""
        if self.render_mode is None:
            return None
        t = self._t if self._synced_t is None else np.full(self.num_envs, self._synced_t)
        assert self._entered is not None
        return tuple(
            render_lock(self.render_mode, self.horizon, self._entered[: t[i], i], self._dead[i])
            for i in range(self.num_envs)
        )
