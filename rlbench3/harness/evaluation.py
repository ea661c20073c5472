"""The one evaluation loop: whole episodes of a policy on a Gymnasium vector env.

In the manner of SB3's ``evaluate_policy``, but for any action function and with what rlbench3
measures per episode: the return, the success (``info["is_success"]`` on the episode's last
step) and the reward signal (any non-zero reward). Training's evaluator, the probes, the landscape
and the robustness checks all step their episodes through :func:`run_episodes`.
:func:`policy_randomness` makes a sampling policy's draws reproducible without touching anyone
else's random streams.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

Act = Callable[[np.ndarray], np.ndarray]
"""Observations of every copy ``(num_envs, *obs_shape)`` -> their actions. Called once per step,
before the step, for every copy (see :func:`run_episodes`)."""

StepHook = Callable[[np.ndarray, np.ndarray], None]
"""Called after every step with the rewards ``(num_envs,)`` and which copies were live (stepping
an episode that counts, not an autoreset step or an episode beyond their quota). Both arrays are
the step's own (the loop does not write to them later), so a hook may keep them."""


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
            copies that are done or resetting (their actions are ignored). It is called once per
            env step, so an ``act`` that draws random numbers draws the same stream for the same
            episodes, and ``act`` paired with ``on_step`` sees each step's observations, actions
            and rewards (e.g. to keep a whole rollout).
        episodes_per_env: episodes counted per copy; every copy runs the same number of whole
            episodes, so short episodes (e.g. early successes) are not over-represented.
        seed: passed to ``envs.reset``.
        on_step: see :data:`StepHook`.

    The loop ends on the step on which the last counted episode ends. With ``SAME_STEP``
    autoreset the success is read from ``infos["final_info"]`` (where Gymnasium puts the last
    step's info of an episode that ended).
    """
    if episodes_per_env < 1:
        raise ValueError(f"episodes_per_env must be an integer >= 1, got {episodes_per_env}")
    mode = envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
        raise ValueError(f"run_episodes needs NEXT_STEP or SAME_STEP autoreset, got {mode}")
    next_step = mode == AutoresetMode.NEXT_STEP
    n, k = envs.num_envs, episodes_per_env
    returns, successes = np.zeros((n, k)), np.zeros((n, k), dtype=bool)
    signal = np.zeros((n, k), dtype=bool)
    episode_return, episode_signal = np.zeros(n), np.zeros(n, dtype=bool)
    finished = np.zeros(n, dtype=np.int64)
    counting, n_counting = np.ones(n, dtype=bool), n  # copies below their quota
    # NEXT_STEP: the copies that this step only resets (None: none). While no copy resets and
    # every copy counts, a step costs a few whole-array operations.
    resetting: np.ndarray | None = None
    steps = 0
    obs, _ = envs.reset(seed=seed)
    while True:
        obs, rewards, terminated, truncated, infos = envs.step(act(obs))
        # Every copy's rewards are summed; those of steps that do not count are dropped: a
        # reset step's here, those of copies past their quota are never recorded.
        episode_return += rewards
        np.logical_or(episode_signal, rewards, out=episode_signal)  # any non-zero reward
        if resetting is None:
            live = None if n_counting == n else counting
            steps += n_counting
        else:
            np.copyto(episode_return, 0.0, where=resetting)
            np.copyto(episode_signal, False, where=resetting)
            live = counting & ~resetting
            steps += int(np.count_nonzero(live))
        if on_step is not None:
            on_step(rewards, np.ones(n, dtype=bool) if live is None else live.copy())
        done = terminated | truncated
        if not done.any():
            resetting = None
            continue
        i = np.flatnonzero(done if live is None else done & live)  # the episodes that ended
        if i.size:
            j = finished[i]
            returns[i, j] = episode_return[i]
            signal[i, j] = episode_signal[i]
            successes[i, j] = _success(infos, i, next_step)
            finished[i] = j + 1
            if j.max() + 1 >= k:
                met = i[j + 1 >= k]
                counting[met] = False
                n_counting -= met.size
                if n_counting == 0:
                    break
        if next_step:
            resetting = done
        else:
            np.copyto(episode_return, 0.0, where=done)
            np.copyto(episode_signal, False, where=done)
    return Episodes(returns, successes, signal, steps)


def _success(infos: dict[str, Any], i: np.ndarray, next_step: bool) -> np.ndarray | bool:
    """``info["is_success"]`` of copies ``i`` on the last step of their episodes (False where a
    copy did not report it). ``SAME_STEP``: from ``infos["final_info"]`` where there is one."""
    if not next_step and "final_info" in infos:
        infos = infos["final_info"]
    if "is_success" not in infos:
        return False
    value = np.asarray(infos["is_success"], dtype=bool)
    value = value[i] if value.ndim else np.full(i.size, value)
    mask = infos.get("_is_success")
    return value if mask is None else value & np.asarray(mask, dtype=bool)[i]


@contextlib.contextmanager
def policy_randomness(seed: int, policy: Any = None) -> Iterator[None]:
    """Seed, for the block, every generator a policy's ``predict`` may draw from; restore them
    after it.

    The generators: torch's global ones (SB3's sampled actions), numpy's and Python's global
    ones, and ``policy.action_space``'s when it has one (SB3 DQN's epsilon-greedy ``predict``
    draws from numpy's global generator and the action space). Each is seeded from
    ``SeedSequence(seed)``, so the same ``seed`` and policy give the same actions, and each is
    put back as it was when the block ends: code around the block (training, whose streams
    were seeded from the run's seed) draws exactly what it would have drawn without it.
    """
    import torch

    torch_seed, np_seed, py_seed, space_seed = (
        int(word) for word in np.random.SeedSequence(seed).generate_state(4, np.uint32)
    )
    space = getattr(policy, "action_space", None)
    # Gymnasium keeps a space's generator in _np_random (created lazily from OS entropy when
    # first used). Swap in a seeded one and put the original object back: no state is copied.
    swap_space = isinstance(space, spaces.Space) and hasattr(space, "_np_random")
    # The legacy global numpy generator is the one SB3 draws from (DQN's epsilon-greedy).
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    saved_space_rng = space._np_random if swap_space else None  # type: ignore[union-attr]
    with torch.random.fork_rng():
        torch.manual_seed(torch_seed)
        np.random.seed(np_seed)  # noqa: NPY002
        random.seed(py_seed)
        if swap_space:
            space._np_random = np.random.default_rng(space_seed)  # type: ignore[union-attr]
        try:
            yield
        finally:
            np.random.set_state(np_state)  # noqa: NPY002
            random.setstate(py_state)
            if swap_space:
                space._np_random = saved_space_rng  # type: ignore[union-attr]
