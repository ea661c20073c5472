"""Mixture: one env whose episodes come from several parameter settings of another.

:class:`MixtureEnv` is the env and its docstring the spec: joint distributions of a family's
parameters (e.g. held-out parameter *combinations*), which independent per-parameter
distributions cannot express.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import load_env_creator

from rlbench3.envs.parameters import _show

# The render modes a mixture passes on to its components (each returns one frame per call).
RENDER_MODES = ("rgb_array", "ansi")


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
    | ``weights`` | ``None`` | None (uniform), or one finite number >= 0 per component, sum > 0 |
    | ``render_mode`` | ``None`` | None, or ``'rgb_array'`` or ``'ansi'`` if ``env`` renders so |
    | other keywords | | passed to every component (e.g. ``action_dim=2``); a component's own win |

    The components may differ only in parameters that keep the observation and action spaces.

    ``render_mode`` is passed to every component, and ``render()`` returns the frame of the current
    episode's component. A mode that ``env`` does not declare in its ``metadata["render_modes"]``
    (or one a mixture cannot pass on, such as ``'human'``) raises ``TypeError`` naming the modes
    it can render: SB3's ``make_vec_env``, which asks for ``'rgb_array'``, falls back to no
    rendering on a ``TypeError`` only.

    ## Version History
    * v0: initial version; ``env`` and ``components`` required.
    * v0 (0.2): ``env`` and ``components`` have defaults (one component of SparseReach at its
      defaults), so the id makes at its registered defaults as every Gymnasium id does.
    * v0 (0.3): ``render_mode`` ``'rgb_array'`` and ``'ansi'`` render the current component.
    """

    metadata = {"render_modes": list(RENDER_MODES)}

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
        self._probs = _probabilities(weights, len(components))
        modes = _render_modes(env)
        if render_mode is not None and render_mode not in modes:
            raise TypeError(
                f"render_mode must be None or one of {modes} (the modes of {env} that a "
                f"mixture passes on), got {_show(render_mode)}"
            )
        self.render_mode = render_mode
        if render_mode is not None:
            shared = {**shared, "render_mode": render_mode}
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
        self.metadata = {**self.metadata, "render_modes": modes}
        if "render_fps" in first.metadata:
            self.metadata["render_fps"] = first.metadata["render_fps"]
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

    def render(self) -> Any:
        """The current component's frame (None without a render mode)."""
        return None if self.render_mode is None else self._current.render()

    def close(self) -> None:
        for env in self.envs:
            env.close()


def _probabilities(weights: Any, k: int) -> np.ndarray:
    """The probabilities of the ``k`` components: uniform, or ``weights`` normalised."""
    if weights is None:
        return np.full(k, 1.0 / k)
    numbers = (
        isinstance(weights, (Sequence, np.ndarray))
        and not isinstance(weights, (str, bytes))
        and len(weights) == k
        and all(
            isinstance(w, (int, float, np.integer, np.floating)) and not isinstance(w, bool)
            for w in weights
        )
    )
    if numbers:
        with np.errstate(over="ignore"):
            w = np.array([float(x) if abs(x) < 1e308 else math.inf for x in weights])
            total = w.sum()
    if not numbers or not np.isfinite(w).all() or (w < 0).any() or not 0 < total < math.inf:
        raise ValueError(
            f"weights must be {k} finite non-negative numbers with a positive finite sum, "
            f"got {_show(weights)}"
        )
    return w / total


def _render_modes(env_id: str) -> list[str]:
    """The modes of :data:`RENDER_MODES` that ``env_id``'s env declares (none if unknown)."""
    try:  # ("module:id" names a module to import: gym.make does that, not this lookup)
        creator = gym.spec(env_id.split(":", 1)[-1]).entry_point
        if isinstance(creator, str):
            creator = load_env_creator(creator)
        declared = getattr(creator, "metadata", {}).get("render_modes", [])
    except Exception:  # an unknown id fails below, in gym.make, with Gymnasium's own message
        return []
    return [mode for mode in RENDER_MODES if mode in declared]
