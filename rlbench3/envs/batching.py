"""Argument checks and info helpers shared by the env families, the numpy-batched vector envs
above all.

The vector envs follow Gymnasium's conventions for a :class:`~gymnasium.vector.VectorEnv`:

* infos as ``SyncVectorEnv`` builds them from the single envs' infos: every key an array with one
  entry per copy (a fixed parameter too) and its boolean ``_key`` mask of the copies that have
  it, nested dicts alike (:func:`per_copy`, :func:`masked`), so that
  :class:`gymnasium.wrappers.vector.DictInfoToList` gives back the single envs' infos;
* ``max_episode_steps`` truncates as the ``TimeLimit`` of ``gymnasium.make_vec(...,
  vectorization_mode="sync", max_episode_steps=N)`` does (:func:`check_max_episode_steps`);
* ``step()`` before ``reset()`` raises :class:`gymnasium.error.ResetNeeded`, as the single envs'
  ``OrderEnforcing`` wrapper does (Gymnasium's own ``CartPoleVectorEnv`` asserts).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode, VectorEnv

from rlbench3.envs.parameters import _show
from rlbench3.envs.presets import all_presets, resolve_params
from rlbench3.envs.rendering import check_render_mode

# The most copies one numpy-batched env steps (about a million: far beyond what one CPU process
# steps usefully, and a bound that turns a typo such as num_envs=10**9 into a clear error).
MAX_NUM_ENVS = 2**20
# A max_episode_steps beyond this could not be counted in the envs' int64 step counters.
MAX_EPISODE_STEPS = 2**62


def check_num_envs(num_envs: Any) -> int:
    """``num_envs`` as an int, or a ``ValueError`` naming the valid range."""
    if (
        not isinstance(num_envs, (int, np.integer))
        or isinstance(num_envs, bool)
        or not 1 <= num_envs <= MAX_NUM_ENVS
    ):
        raise ValueError(
            f"num_envs must be an integer >= 1 and <= {MAX_NUM_ENVS}, got {_show(num_envs)}"
        )
    return int(num_envs)


def check_max_episode_steps(value: Any) -> int | None:
    """``max_episode_steps`` as ``gymnasium.make`` takes it: None or -1 (no limit), or N >= 1."""
    if value is None or (isinstance(value, (int, np.integer)) and value == -1):
        return None
    if (
        not isinstance(value, (int, np.integer))
        or isinstance(value, bool)
        or not 1 <= value <= MAX_EPISODE_STEPS
    ):
        raise ValueError(
            f"max_episode_steps must be None, -1 (no limit) or an integer >= 1 and "
            f"<= {MAX_EPISODE_STEPS}, got {_show(value)}"
        )
    return int(value)


def check_preset(family: str, preset: Any) -> None:
    """Reject a preset that is not None or the name of one of ``family``'s presets."""
    if preset is None:
        return
    names = list(all_presets().get(family, {}))
    if not isinstance(preset, str) or preset not in names:
        error = ValueError if isinstance(preset, str) else TypeError
        raise error(f"preset must be one of {', '.join(names)} for {family}, got {_show(preset)}")


def reset_mask(options: dict[str, Any] | None, num_envs: int) -> np.ndarray | None:
    """The boolean ``options["reset_mask"]`` of a partial reset, checked; None for a full reset."""
    if not options or "reset_mask" not in options:
        return None
    mask = np.asarray(options["reset_mask"], dtype=bool)
    if mask.shape != (num_envs,):
        raise ValueError(f"reset_mask must have shape ({num_envs},), got {mask.shape}")
    return mask


def step_before_reset() -> ResetNeeded:
    """The error of ``step()`` before the first ``reset()``."""
    return ResetNeeded("Cannot call step() before calling reset()")


def per_copy(value: Any, num_envs: int) -> np.ndarray:
    """``value`` repeated for every copy, typed as ``VectorEnv._add_info`` types a single env's
    info value: Python and numpy numbers in an array of their type, arrays stacked, anything
    else (strings, tuples) in an object array."""
    if type(value) in (int, float, bool) or isinstance(value, np.number):
        return np.full(num_envs, value, dtype=type(value))
    if isinstance(value, np.ndarray):
        return np.broadcast_to(value, (num_envs, *value.shape)).copy()
    out = np.empty(num_envs, dtype=object)
    out.fill(value)
    return out


def frozen(array: np.ndarray) -> np.ndarray:
    """``array``, made read-only so that it can be handed out in every info without a copy."""
    array.flags.writeable = False
    return array


def masked(values: dict[str, Any], mask: np.ndarray) -> dict[str, Any]:
    """``values`` with the ``_key`` mask ``mask`` beside every key (nested dicts alike)."""
    out: dict[str, Any] = {}
    for key, value in values.items():  # (type() is dict: an ABC check costs a microsecond)
        out[key] = masked(value, mask) if type(value) is dict else value
        out["_" + key] = mask
    return out


class BatchedVectorEnv(VectorEnv):
    """The constructor arguments and conventions every numpy-batched family shares.

    A subclass sets ``params_class`` and ``metadata["render_fps"]``; its ``__init__`` calls
    :meth:`_setup` first. Its vector API is that of ``SyncVectorEnv`` over single envs made by
    ``gymnasium.make`` (see this module's docstring): per-copy infos with ``_key`` masks,
    ``max_episode_steps=N`` truncating as ``TimeLimit`` does (None or -1: no limit beyond the
    horizon), ``render_mode`` ``"ansi"`` or ``"rgb_array"`` returning a tuple of the copies'
    frames drawn as the single env draws them, and ``ResetNeeded`` on a step before a reset.
    """

    metadata: dict[str, Any] = {
        "autoreset_mode": AutoresetMode.NEXT_STEP,
        "render_modes": ["ansi", "rgb_array"],
    }
    params_class: type

    def _setup(
        self,
        num_envs: Any,
        preset: Any,
        render_mode: Any,
        max_episode_steps: Any,
        kwargs: dict[str, Any],
    ) -> Any:
        """Check the shared arguments and build the parameters (returned, and ``self.params``)."""
        self.num_envs = check_num_envs(num_envs)
        check_preset(self.params_class.family, preset)
        self.params = resolve_params(self.params_class, preset, kwargs)
        check_render_mode(self, render_mode)
        self.render_mode = render_mode
        self.max_episode_steps = check_max_episode_steps(max_episode_steps)
        return self.params
