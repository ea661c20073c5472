"""Argument checks shared by the numpy-batched vector envs."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_num_envs(num_envs: Any) -> int:
    """``num_envs`` as an int, or a ``ValueError`` naming the valid range."""
    if not isinstance(num_envs, (int, np.integer)) or isinstance(num_envs, bool) or num_envs < 1:
        raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
    return int(num_envs)


def reset_mask(options: dict[str, Any] | None, num_envs: int) -> np.ndarray | None:
    """The boolean ``options["reset_mask"]`` of a partial reset, checked; None for a full reset."""
    if not options or "reset_mask" not in options:
        return None
    mask = np.asarray(options["reset_mask"], dtype=bool)
    if mask.shape != (num_envs,):
        raise ValueError(f"reset_mask must have shape ({num_envs},), got {mask.shape}")
    return mask
