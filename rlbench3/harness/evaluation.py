"""The one evaluation loop: whole episodes of a policy on a Gymnasium vector env.

In the manner of SB3's ``evaluate_policy``, but for any action function and with what rlbench3
measures per episode: the return, the success (``info["is_success"]`` on the episode's last
step) and the reward signal (any non-zero reward). Training's evaluator, the probes, the landscape
and the robustness checks all step their episodes through :func:`run_episodes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode

Act = Callable[[np.ndarray], np.ndarray]
"""Observations of every copy ``(num_envs, *obs_shape)`` -> their actions."""

StepHook = Callable[[np.ndarray, np.ndarray], None]
"""Called after every step with the rewards ``(num_envs,)`` and which copies were live (stepping
an episode that counts, not an autoreset step or an episode beyond their quota)."""


@dataclass(frozen=True)
class Episodes:
    """Per-episode results, ``(num_envs, episodes_per_env)``: episode ``j`` of copy ``i``."""

    returns: np.ndarray
    successes: np.ndarray  # bool: info["is_success"] on the episode's last step
    signal: np.ndarray  # bool: any non-zero reward in the episode
    steps: int  # env steps of the counted episodes


def run_episodes(
    envs: Any,
    act: Act,
    *,
    episodes_per_env: int = 1,
    seed: int | None = None,
    on_step: StepHook | None = None,
) -> Episodes:
    """Step ``envs`` until each copy has finished ``episodes_per_env`` whole episodes.

    Args:
        envs: a Gymnasium ``VectorEnv`` (``NEXT_STEP`` or ``SAME_STEP`` autoreset).
        act: the policy, see :data:`Act`; it sees every copy's observation, including those of
            copies that are done (their actions are ignored).
        episodes_per_env: episodes counted per copy; every copy runs the same number of whole
            episodes, so short episodes (e.g. early successes) are not over-represented.
        seed: passed to ``envs.reset``.
        on_step: see :data:`StepHook`.
    """
    if episodes_per_env < 1:
        raise ValueError(f"episodes_per_env must be an integer >= 1, got {episodes_per_env}")
    mode = envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
        raise ValueError(f"run_episodes needs NEXT_STEP or SAME_STEP autoreset, got {mode}")
    n, k = envs.num_envs, episodes_per_env
    returns, successes = np.zeros((n, k)), np.zeros((n, k), dtype=bool)
    signal = np.zeros((n, k), dtype=bool)
    episode_return, episode_signal = np.zeros(n), np.zeros(n, dtype=bool)
    finished = np.zeros(n, dtype=np.int64)
    resetting = np.zeros(n, dtype=bool)  # NEXT_STEP: this step only resets the copy
    copies = np.arange(n)
    steps = 0
    obs, _ = envs.reset(seed=seed)
    while (finished < k).any():
        obs, rewards, terminated, truncated, infos = envs.step(act(obs))
        live = ~resetting & (finished < k)
        steps += int(live.sum())
        episode_return += np.where(live, rewards, 0.0)
        episode_signal |= live & (rewards != 0.0)
        if on_step is not None:
            on_step(rewards, live)
        done = terminated | truncated
        ended = live & done
        if ended.any():
            i = copies[ended]
            j = finished[ended]
            returns[i, j] = episode_return[ended]
            signal[i, j] = episode_signal[ended]
            successes[i, j] = _success(infos, n)[ended]
            finished[ended] += 1
        episode_return[done] = 0.0
        episode_signal[done] = False
        resetting = done if mode == AutoresetMode.NEXT_STEP else resetting
    return Episodes(returns, successes, signal, steps)


def _success(infos: dict[str, Any], n: int) -> np.ndarray:
    """``info["is_success"]`` of every copy (False where a copy did not report it)."""
    if "is_success" not in infos:
        return np.zeros(n, dtype=bool)
    value = np.broadcast_to(np.asarray(infos["is_success"], dtype=bool), (n,))
    return value & np.asarray(infos.get("_is_success", True), dtype=bool)
