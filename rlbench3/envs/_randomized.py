"""Helpers shared by the randomized Gymnasium tasks (:mod:`rlbench3.envs.classic_control` and
:mod:`rlbench3.envs.locomotion`): their common parameter fields, preset resolution with
``extreme_sampling``, and the per-episode draw with ``variant_seed`` variants."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import gymnasium as gym
import numpy as np

from rlbench3.envs.batching import check_preset
from rlbench3.envs.parameters import (
    MAX_SEED,
    WEIGHTINGS,
    ChoiceSpec,
    Distribution,
    EnvParams,
    choice,
    number,
)
from rlbench3.envs.presets import resolve_params

# Separates variant generators from every other use of the same integer as a seed (e.g. a
# reset(seed=v)), so variant v's parameters are not the draws of an episode seeded with v.
_VARIANT_STREAM = 0x76617269


def extreme_sampling_field() -> Any:
    """The ``extreme_sampling`` field every randomized task declares."""
    return choice("length", WEIGHTINGS)


def variant_seed_field() -> Any:
    """The ``variant_seed`` field every randomized task declares (-1: no variants; a seed is at
    most :data:`~rlbench3.envs.parameters.MAX_SEED`, as every seed)."""
    return number(-1, ge=-1, le=MAX_SEED, integer=True)


def resolve_task_params(params_cls: type, preset: str | None, kwargs: dict[str, Any]) -> Any:
    """The task's parameters: preset, then keywords, unions weighted by ``extreme_sampling``."""
    check_preset(params_cls.family, preset)
    sampling = kwargs.get("extreme_sampling", "length")
    ChoiceSpec(WEIGHTINGS).validate("extreme_sampling", sampling)
    return resolve_params(params_cls, preset, kwargs, union_weighting=sampling)


def variant_rng(variant_seed: int) -> np.random.Generator:
    """The generator that variant ``variant_seed`` draws its parameters from (a pure function)."""
    return np.random.default_rng(np.random.SeedSequence(variant_seed, spawn_key=(_VARIANT_STREAM,)))


def draw_episode_params(params: EnvParams, rng: np.random.Generator) -> dict[str, Any]:
    """Every parameter's value for one episode.

    ``variant_seed`` is drawn first from ``rng``; the other randomized parameters are then drawn,
    in field order, from ``rng`` (``variant_seed == -1``) or from :func:`variant_rng` of the
    variant (so a variant's values do not depend on anything but its seed and distributions).
    """
    seed = params.variant_seed
    seed = seed.sample(rng) if isinstance(seed, Distribution) else seed
    source = rng if seed < 0 else variant_rng(seed)
    out: dict[str, Any] = {}
    for f in fields(params):
        value = getattr(params, f.name)
        if f.name == "variant_seed":
            out[f.name] = seed
        else:
            out[f.name] = value.sample(source) if isinstance(value, Distribution) else value
    return out


class RandomizedTask:
    """The reset and step of a Gymnasium task whose parameters are drawn at every reset.

    A mixin listed before the Gymnasium class in the bases. A subclass writes an episode's drawn
    values into the simulator in ``_apply(ep)`` (before Gymnasium's reset draws the starting
    state), starts its success bookkeeping in ``_start()`` and gives ``info["is_success"]`` after
    every step from ``_success(terminated)``. ``info["params"]`` at reset holds the episode's
    values of every parameter.
    """

    params: EnvParams

    def _apply(self, ep: dict[str, Any]) -> None:
        raise NotImplementedError

    def _start(self) -> None:
        raise NotImplementedError

    def _success(self, terminated: bool) -> bool:
        raise NotImplementedError

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        gym.Env.reset(self, seed=seed)  # type: ignore[arg-type]
        ep = draw_episode_params(self.params, self.np_random)  # type: ignore[attr-defined]
        self._apply(ep)
        obs, info = super().reset(options=options)  # type: ignore[misc]
        self._start()
        return obs, {**info, "params": ep}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = super().step(action)  # type: ignore[misc]
        info["is_success"] = self._success(terminated)
        return obs, reward, terminated, truncated, info
