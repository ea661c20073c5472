"""Mixture: one env whose episodes come from several parameter settings of another.

:class:`MixtureEnv` is the env and its docstring the spec: joint distributions of a family's
parameters (e.g. held-out parameter *combinations*), which independent per-parameter
distributions cannot express.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np


class MixtureEnv(gym.Env):
    """Episodes drawn from several parameter settings (components) of one env id.

    ## Description
    Each parameter of a family is drawn independently from its own distribution, so a *joint*
    distribution (say "light and weak" or "heavy and strong", but never "light and strong") has no
    form as parameters. A mixture expresses it: a list of components, each a set of keyword
    arguments of the same env id; every episode first picks a component (uniformly, or with
    ``weights``), then runs the env with that component's parameters (drawing any distributions in
    them as usual). Training on the union of two corners and testing on the off-diagonal corners
    then measures generalization to held-out *combinations* whose every value was seen in training.

    Each component is made once, at construction, by ``gymnasium.make(env, **keywords)`` (with the
    registered wrappers of ``env``); an error in one names it (``components[i]: ...``). The
    ``params`` attribute is the first component's parameters (for labels and agent overrides);
    ``component`` is the index of the current episode's component, and ``envs`` the component envs.

    ## Action Space
    That of the component envs, which must all be equal (checked at construction: other spaces raise
    ``ValueError``).

    ## Observation Space
    That of the component envs, which must all be equal (checked at construction).

    ## Rewards
    Exactly the chosen component's.

    ## Starting State
    At every reset the mixture draws a component from its own ``np_random`` (with probabilities
    ``weights / sum(weights)``, uniform without ``weights``), then resets that component with a seed
    drawn from the same generator, so one seed fixes everything; the ``options`` of ``reset`` are
    passed on to the component. ``info`` at reset is the component's (its ``info["params"]`` holds
    the component's drawn values), plus ``info["component"]``, the index of the component.

    ## Episode End
    Exactly the chosen component's (including any time limit registered for ``env``).

    ## Arguments
    Mixture has no parameter dataclass of its own; it takes:

    | keyword | default | valid values |
    |---|---|---|
    | ``env`` | ``"rlbench3/SparseReach-v0"`` | an env id: that of every component |
    | ``components`` | ``[{}]`` | a non-empty list of keyword mappings, one per component |
    | ``weights`` | ``None`` | None (uniform), or one non-negative number per component, sum > 0 |
    | ``render_mode`` | ``None`` | None (a mixture does not render) |
    | other keywords | | passed to every component (e.g. ``action_dim=2``); a component's own win |

    The components may differ only in parameters that keep the observation and action spaces.

    ## Version History
    * v0: initial version; ``env`` and ``components`` required.
    * v0 (0.2): ``env`` and ``components`` have defaults (one component of SparseReach at its
      defaults), so the id makes at its registered defaults as every Gymnasium id does.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        env: str = "rlbench3/SparseReach-v0",
        components: Sequence[Mapping[str, Any]] = ({},),
        weights: Sequence[float] | None = None,
        render_mode: str | None = None,
        **shared: Any,
    ):
        if not isinstance(env, str) or not env:
            raise ValueError(
                f"env must be an env id such as 'rlbench3/SparseReach-v0', got {env!r}"
            )
        if (
            not isinstance(components, Sequence)
            or isinstance(components, str)
            or not components
            or not all(isinstance(c, Mapping) for c in components)
        ):
            raise ValueError(
                f"components must be a non-empty list of keyword mappings, got {components!r}"
            )
        if render_mode is not None:
            raise ValueError(f"render_mode must be None for a mixture, got {render_mode!r}")
        if weights is None:
            probs = np.full(len(components), 1.0 / len(components))
        else:
            w = np.asarray(weights, dtype=float)
            if (
                w.shape != (len(components),)
                or not np.all(np.isfinite(w))
                or (w < 0).any()
                or (w.sum() <= 0)
            ):
                raise ValueError(
                    f"weights must be {len(components)} non-negative numbers with a positive "
                    f"sum, got {weights!r}"
                )
            probs = w / w.sum()
        self._probs = probs
        self.envs = []
        for i, component in enumerate(components):
            try:
                self.envs.append(gym.make(env, **{**shared, **copy.deepcopy(dict(component))}))
            except (ValueError, TypeError) as err:
                raise type(err)(f"components[{i}]: {err}") from None
        first = self.envs[0]
        for i, other in enumerate(self.envs[1:], start=1):
            if other.observation_space != first.observation_space or (
                other.action_space != first.action_space
            ):
                raise ValueError(
                    f"components[{i}] has other observation or action spaces than components[0]; "
                    "a mixture's components may differ only in parameters that keep the spaces"
                )
        self.observation_space = first.observation_space
        self.action_space = first.action_space
        # The family's parameters (for labels and agent overrides): those of the first component.
        self.params = getattr(first.unwrapped, "params", None)
        self.component = 0
        self._current = first

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        self.component = int(self.np_random.choice(len(self.envs), p=self._probs))
        self._current = self.envs[self.component]
        # The component is reseeded from the mixture's generator: one seed fixes everything.
        obs, info = self._current.reset(seed=int(self.np_random.integers(2**31)), options=options)
        return obs, {**info, "component": self.component}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        return self._current.step(action)

    def close(self) -> None:
        for env in self.envs:
            env.close()
