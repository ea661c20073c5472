"""PPO and A2C over a population of seeds: S independent runs of SB3's PPO (or A2C) in one
process.

Every seed is one run of Stable-Baselines3's ``PPO("MlpPolicy", ...)`` (``A2C("MlpPolicy", ...)``):
the same algorithm, the same agent-file keys (``agents/ppo.yaml``, ``agents/a2c.yaml``), the same
networks and initial weights. What changes is the arithmetic's shape: every parameter of SB3's
policy is stacked on a leading seed axis (``mlp_extractor.policy_net.0.weight`` is ``(S, 64,
obs_dim)``), so a forward pass, a backward pass and an optimizer step are one batched call for all
seeds (``torch.bmm`` for the layers), and the env is one population of ``S × n_envs`` copies
(:mod:`rlbench3.agents.population_envs`). Batching turns SB3's per-call overhead on 4-row tensors
into work on ``4·S``-row tensors (``scripts/bench_training.py`` measures it). Torch runs on one
thread inside :meth:`learn`.

Read top to bottom, as CleanRL's ``ppo.py``:

1. :class:`PPOSettings` and :class:`A2CSettings` (sharing :class:`OnPolicySettings`): the
   hyperparameters (SB3's names and defaults), validated; an agent-file key that cannot be
   honoured is an error, never ignored.
2. The policy: :class:`StackedPolicy` (SB3's ``ActorCriticPolicy`` with stacked weights) and the
   action distributions (categorical, diagonal Gaussian with state-independent ``log_std``).
3. The rollout: :class:`RolloutBuffer`, :func:`bootstrap_truncated` (SB3's value bootstrap on
   time limits) and :func:`compute_gae` (SB3's ``compute_returns_and_advantage``).
4. The update: :func:`ppo_loss` (clipped surrogate, optional value clipping, entropy bonus,
   per-minibatch advantage normalisation), :func:`a2c_loss` (policy gradient, value error,
   entropy bonus, on the whole rollout) and :func:`clip_grad_norm_per_seed`.
5. :class:`PopulationTrainer`: the loop (collect, compute advantages, update), hooks for the
   harness, ``predict`` and the export of one seed's policy as an SB3 ``ActorCriticPolicy``;
   :class:`PopulationPPO` and :class:`PopulationA2C` add their update (:data:`TRAINERS`).

**Seeds stay independent.** Seed ``s`` of a population computes exactly what it computes alone (a
population of one with the same seed), bit for bit: nothing couples the seeds. Its initial weights
are SB3's for that seed (SB3's own policy class built right after ``torch.manual_seed(s)``, as
``PPO(seed=s)`` builds it), its actions are sampled from its own torch generator (continuing the
stream SB3's initialisation left, as SB3 samples from the global one), its minibatches are shuffled
by its own ``np.random.RandomState(s)`` (the permutations SB3 draws from the global numpy generator
after ``set_random_seed(s)``), its gradient is clipped by its own global norm, and Adam and RMSprop
are elementwise (one ``torch.optim.Adam`` over stacked parameters is S Adams). Losses are reduced
per seed and summed for one backward pass (the gradient of a sum is each seed's own). Bit-equality
also needs every kernel to round a seed's numbers the same way whatever S is: measured true of CPU
``bmm`` except at a width of 1 (see :meth:`StackedPolicy._linear`), of the reductions used, and of
Adam's and RMSprop's ``foreach`` paths (not of Adam's ``fused`` one).
``tests/agents/test_population.py`` checks a seed's weights after training alone and in a
population, in each env layout.

**Random streams** (``streams``). SB3 samples each step's actions with ``torch.multinomial`` /
``Normal.rsample`` on the global generator and steps ``n_envs`` single envs seeded ``s, s+1, ...``.
With ``streams="batched"`` (the default, the fast path) actions come from noise drawn once per
rollout (inverse CDF / ``mean + std * eps``) and batched envs have one generator per VectorEnv: the
same distributions, other random numbers, so a seed's run is another draw than SB3's run with that
seed (``scripts/validate_population.py`` compares the two over seeds). With ``streams="sb3"`` each
step's actions are drawn exactly as SB3 draws them (the same calls, in SB3's shapes, on the seed's
generator) and the envs are single envs seeded as SB3 seeds them (layout ``sync``): seed ``s`` then
reproduces SB3's ``PPO(seed=s)`` (``A2C(seed=s)``) run of the harness, to float rounding
(``tests/agents/test_population.py`` checks a short run; slower, for validation).

Not supported (an error names the key): ``use_sde``, ``target_kl``, custom rollout buffers, feature
extractors, optimizers other than Adam (PPO) and RMSprop or Adam (A2C); observation spaces other
than ``Box``; action spaces other than ``Discrete`` and ``Box``."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
import torch
from gymnasium import spaces

from rlbench3.agents.config import linear_schedule
from rlbench3.agents.population_envs import PopulationEnvs
from rlbench3.agents.threads import torch_threads
from rlbench3.data.yaml_lines import ConfigError

# ============================================================================================
# 1. Hyperparameters


# SB3 constructor arguments this trainer cannot honour, with SB3's default: a value other than
# the default is an error (the default is what the trainer does anyway).
ONLY_AT_DEFAULT: dict[str, Any] = {
    "use_sde": False,
    "sde_sample_freq": -1,
    "rollout_buffer_class": None,
    "rollout_buffer_kwargs": None,
    "stats_window_size": 100,
}
# policy_kwargs it honours (the rest of ActorCriticPolicy's keywords are errors).
POLICY_KWARGS = (
    "net_arch",
    "activation_fn",
    "ortho_init",
    "log_std_init",
    "share_features_extractor",
    "optimizer_kwargs",
)
# The settings fields that come from policy_kwargs, not from a hyperparams key of their own.
POLICY_FIELDS = (
    "net_arch_pi",
    "net_arch_vf",
    "activation_fn",
    "ortho_init",
    "log_std_init",
    "share_features_extractor",
    "optimizer_kwargs",
)
ADAM_KWARGS = ("eps", "betas", "weight_decay", "amsgrad")
STREAMS = ("batched", "sb3")  # a trainer's random streams (module docstring)

Rule = tuple[tuple[str, ...], Callable[[Any], bool], str]


class SettingError(ConfigError):
    """An agent-file key or value the population trainer cannot honour."""


def _is_schedule(value: Any) -> bool:
    """A number, or rl-zoo's ``lin_<number>`` (linear decay to 0)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, str) and value.startswith("lin_"):
        try:
            float(value[4:])
        except ValueError:
            return False
        return True
    return False


def make_schedule(value: float | str) -> Callable[[float], float]:
    """Progress remaining (1 -> 0) -> value, as SB3's ``FloatSchedule`` of the YAML value."""
    if isinstance(value, str):
        linear = linear_schedule(float(value[4:]))
        return lambda progress: float(linear(progress))
    return lambda progress: float(value)


@dataclass(frozen=True)
class OnPolicySettings:
    """What SB3's on-policy algorithms (``OnPolicyAlgorithm``: PPO, A2C) share: the rollout,
    the loss weights, gradient clipping and the network. Subclasses set SB3's defaults of their
    algorithm and add its own settings.

    The network is SB3's ``MlpPolicy``: separate actor and critic MLPs (``net_arch_pi``,
    ``net_arch_vf``) with ``activation_fn`` (a ``torch.nn`` class name), then a linear action
    head (logits, or the Gaussian mean with a state-independent ``log_std``) and a linear value
    head. ``learning_rate`` is a number or ``"lin_<number>"``.
    """

    ALGO: ClassVar[str] = ""  # the SB3 algorithm (its class name)
    ONLY_AT_DEFAULT: ClassVar[dict[str, Any]] = ONLY_AT_DEFAULT

    n_envs: int = 1
    n_steps: int = 2048
    gamma: float = 0.99
    gae_lambda: float = 0.95
    learning_rate: float | str = 3e-4
    normalize_advantage: bool = True
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    net_arch_pi: tuple[int, ...] = (64, 64)
    net_arch_vf: tuple[int, ...] = (64, 64)
    activation_fn: str = "Tanh"
    ortho_init: bool = True
    log_std_init: float = 0.0
    share_features_extractor: bool = True
    optimizer_kwargs: dict[str, Any] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        for key in ("net_arch_pi", "net_arch_vf"):  # lists (as YAML writes them) -> tuples
            if isinstance(getattr(self, key), list):
                object.__setattr__(self, key, tuple(getattr(self, key)))
        for keys, ok, what in self._rules():
            for key in keys:
                if not ok(getattr(self, key)):
                    raise SettingError(f"{key}: expected {what}, got {getattr(self, key)!r}")

    def _rules(self) -> list[Rule]:
        """(keys, test, what a valid value is) for every field."""
        rules: list[Rule] = [
            (("n_envs", "n_steps"), _positive_int, "an integer >= 1"),
            (("gamma", "gae_lambda"), lambda v: _number(v) and 0 <= v <= 1, "a number in [0, 1]"),
            (("ent_coef", "vf_coef", "log_std_init"), _number, "a number"),
            (("max_grad_norm",), lambda v: _number(v) and v > 0, "a number > 0"),
            (("learning_rate",), _is_schedule, "a number or 'lin_<number>'"),
            (
                ("normalize_advantage", "ortho_init", "share_features_extractor"),
                lambda v: isinstance(v, bool),
                "true or false",
            ),
            (("net_arch_pi", "net_arch_vf"), _widths, "a list of layer widths >= 1"),
            (("activation_fn",), _activation, "the name of a torch.nn activation (Tanh, ReLU)"),
            (("optimizer_kwargs",), _adam_kwargs, f"None or a mapping with keys in {ADAM_KWARGS}"),
        ]
        if self.normalize_advantage:  # a 1-sample batch has no std
            rules.append((("n_steps",), lambda v: v * self.n_envs > 1, "n_steps * n_envs > 1"))
        return rules

    @classmethod
    def from_hyperparams(cls, hyperparams: Mapping[str, Any], n_envs: int = 1) -> OnPolicySettings:
        """Settings from an agent file's ``hyperparams`` (YAML values: numbers, ``lin_`` strings,
        ``policy_kwargs`` with ``activation_fn`` by name); a key it cannot honour raises
        :class:`SettingError` naming the key."""
        own = {f.name for f in fields(cls)} - set(POLICY_FIELDS) - {"n_envs"}
        values: dict[str, Any] = {"n_envs": n_envs}
        for key, value in hyperparams.items():
            if key in own:
                values[key] = value
            elif key == "policy_kwargs":
                values.update(_policy_settings(value))
            elif key in cls.ONLY_AT_DEFAULT:
                if value != cls.ONLY_AT_DEFAULT[key]:
                    raise SettingError(
                        f"hyperparams.{key}={value!r}: the population trainer does not support "
                        f"it (only SB3's default {cls.ONLY_AT_DEFAULT[key]!r})"
                    )
            else:
                known = sorted(own | {"policy_kwargs", *cls.ONLY_AT_DEFAULT})
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise SettingError(
                    f"hyperparams.{key}: not a setting of the population {cls.ALGO} trainer{hint}"
                )
        return cls(**values)

    @classmethod
    def from_agent(cls, agent: Any) -> OnPolicySettings:
        """Settings from a resolved agent (:class:`rlbench3.agents.config.AgentSpec`) of
        ``algo: <ALGO>`` with ``policy: MlpPolicy``."""
        if agent.algo != cls.ALGO or agent.policy != "MlpPolicy":
            raise SettingError(
                f"agent {agent.name!r}: the population trainer runs {cls.ALGO} with MlpPolicy, "
                f"got algo {agent.algo!r} with policy {agent.policy!r}"
            )
        return cls.from_hyperparams(agent.hyperparams, agent.n_envs)

    # -- derived ----------------------------------------------------------------------------
    @property
    def rollout_size(self) -> int:
        """Env steps per seed per rollout (SB3's ``n_steps * n_envs``)."""
        return self.n_steps * self.n_envs

    def policy_kwargs(self) -> dict[str, Any]:
        """The keywords of SB3's ``ActorCriticPolicy`` for this network, as the algorithm
        builds it."""
        kwargs: dict[str, Any] = {
            "net_arch": {"pi": list(self.net_arch_pi), "vf": list(self.net_arch_vf)},
            "activation_fn": getattr(torch.nn, self.activation_fn),
            "ortho_init": self.ortho_init,
            "log_std_init": float(self.log_std_init),
            "share_features_extractor": self.share_features_extractor,
        }
        if self.optimizer_kwargs is not None:
            kwargs["optimizer_kwargs"] = dict(self.optimizer_kwargs)
        return kwargs

    def optimizer(self) -> tuple[type[torch.optim.Optimizer], dict[str, Any]]:
        """The policy's optimizer class and keywords, as SB3 builds them (without ``lr``)."""
        return torch.optim.Adam, self.adam_kwargs()

    def adam_kwargs(self) -> dict[str, Any]:
        """SB3's Adam: ``eps=1e-5`` unless ``optimizer_kwargs`` are given (then torch's)."""
        if self.optimizer_kwargs is None:
            return {"eps": 1e-5}
        kwargs = dict(self.optimizer_kwargs)
        if "betas" in kwargs:
            kwargs["betas"] = tuple(kwargs["betas"])
        return kwargs


@dataclass(frozen=True)
class PPOSettings(OnPolicySettings):
    """PPO's hyperparameters, with SB3's names and defaults (``stable_baselines3.PPO``); the
    shared ones are :class:`OnPolicySettings`'. Build one from an agent file's ``hyperparams``
    and ``n_envs`` with :meth:`from_hyperparams`. Schedules (``learning_rate``, ``clip_range``,
    ``clip_range_vf``) are numbers or ``"lin_<number>"``.
    """

    ALGO: ClassVar[str] = "PPO"
    ONLY_AT_DEFAULT: ClassVar[dict[str, Any]] = {**ONLY_AT_DEFAULT, "target_kl": None}

    batch_size: int = 64
    n_epochs: int = 10
    clip_range: float | str = 0.2
    clip_range_vf: float | str | None = None

    def _rules(self) -> list[Rule]:
        rules = super()._rules() + [
            (("batch_size", "n_epochs"), _positive_int, "an integer >= 1"),
            (("clip_range",), _is_schedule, "a number or 'lin_<number>'"),
            (("clip_range_vf",), _optional_clip, "None, a number > 0 or 'lin_<number>'"),
        ]
        if self.normalize_advantage:  # SB3's assertion: a 1-sample minibatch has no std
            rules.append((("batch_size",), lambda v: v > 1, "> 1 with normalize_advantage"))
        return rules


@dataclass(frozen=True)
class A2CSettings(OnPolicySettings):
    """A2C's hyperparameters, with SB3's names and defaults (``stable_baselines3.A2C``: 5-step
    rollouts, GAE lambda 1, no advantage normalisation, RMSprop); the shared ones are
    :class:`OnPolicySettings`'. With ``use_rms_prop`` the optimizer is RMSprop (alpha 0.99,
    ``eps=rms_prop_eps``), else SB3's Adam (and ``policy_kwargs.optimizer_kwargs``).
    """

    ALGO: ClassVar[str] = "A2C"

    n_steps: int = 5
    gae_lambda: float = 1.0
    learning_rate: float | str = 7e-4
    normalize_advantage: bool = False
    rms_prop_eps: float = 1e-5
    use_rms_prop: bool = True

    def _rules(self) -> list[Rule]:
        rules = super()._rules() + [
            (("rms_prop_eps",), lambda v: _number(v) and v > 0, "a number > 0"),
            (("use_rms_prop",), lambda v: isinstance(v, bool), "true or false"),
        ]
        if self.use_rms_prop is True:  # SB3's A2C would replace them by RMSprop's, silently
            rules.append(
                (
                    ("optimizer_kwargs",),
                    lambda v: v is None,
                    "None with use_rms_prop (A2C's optimizer is then RMSprop with alpha 0.99 "
                    "and eps rms_prop_eps; set use_rms_prop: false for Adam with these keywords)",
                )
            )
        return rules

    def optimizer(self) -> tuple[type[torch.optim.Optimizer], dict[str, Any]]:
        if self.use_rms_prop:
            return torch.optim.RMSprop, {"alpha": 0.99, "eps": self.rms_prop_eps, "weight_decay": 0}
        return super().optimizer()

    def policy_kwargs(self) -> dict[str, Any]:
        kwargs = super().policy_kwargs()
        if self.use_rms_prop:  # as A2C's constructor sets them
            kwargs["optimizer_class"], kwargs["optimizer_kwargs"] = self.optimizer()
        return kwargs


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _optional_clip(value: Any) -> bool:
    return value is None or (_is_schedule(value) and (isinstance(value, str) or value > 0))


def _widths(value: Any) -> bool:
    return isinstance(value, tuple) and all(_positive_int(w) for w in value)


def _activation(value: Any) -> bool:
    cls = getattr(torch.nn, str(value), None)
    return isinstance(cls, type) and issubclass(cls, torch.nn.Module)


def _adam_kwargs(value: Any) -> bool:
    return value is None or (isinstance(value, dict) and set(value) <= set(ADAM_KWARGS))


def _policy_settings(policy_kwargs: Any) -> dict[str, Any]:
    if not isinstance(policy_kwargs, Mapping):
        raise SettingError(f"hyperparams.policy_kwargs: expected a mapping, got {policy_kwargs!r}")
    out: dict[str, Any] = {}
    for key, value in policy_kwargs.items():
        if key not in POLICY_KWARGS:
            raise SettingError(
                f"hyperparams.policy_kwargs.{key}: not supported by the population trainer "
                f"(it supports {', '.join(POLICY_KWARGS)})"
            )
        if key == "net_arch":
            pi, vf = _net_arch(value)
            out["net_arch_pi"], out["net_arch_vf"] = pi, vf
        elif key == "activation_fn":
            out[key] = value if isinstance(value, str) else getattr(value, "__name__", value)
        else:
            out[key] = value
    return out


def _net_arch(value: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """SB3's ``net_arch``: a list (the same for actor and critic) or ``{pi: [...], vf: [...]}``."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if value and isinstance(value[0], Mapping):  # SB3 < 1.8's [dict(pi=..., vf=...)]
            value = value[0]
        else:
            return tuple(value), tuple(value)
    if isinstance(value, Mapping) and set(value) <= {"pi", "vf"}:
        return tuple(value.get("pi", ())), tuple(value.get("vf", ()))
    raise SettingError(
        f"hyperparams.policy_kwargs.net_arch: expected a list of widths or {{pi: [...], "
        f"vf: [...]}}, got {value!r}"
    )


# ============================================================================================
# 2. The policy: SB3's ActorCriticPolicy with every parameter stacked over seeds


def make_sb3_policy(
    observation_space: spaces.Space, action_space: spaces.Space, settings: OnPolicySettings
) -> Any:
    """SB3's own ``ActorCriticPolicy`` for these settings (as ``PPO("MlpPolicy")`` builds it;
    it draws its initial weights from torch's global generator)."""
    from stable_baselines3.common.policies import ActorCriticPolicy

    lr = make_schedule(settings.learning_rate)
    return ActorCriticPolicy(observation_space, action_space, lr, **settings.policy_kwargs())


def sb3_initial_parameters(
    seed: int,
    observation_space: spaces.Space,
    action_space: spaces.Space,
    settings: OnPolicySettings,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """SB3's initial weights for ``PPO(seed=seed)`` (its policy built right after
    ``torch.manual_seed(seed)``), and the state of torch's generator after them (where SB3's
    action sampling continues). Torch's global generator is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        policy = make_sb3_policy(observation_space, action_space, settings)
        state = torch.get_rng_state()
    return {name: p.detach().clone() for name, p in policy.named_parameters()}, state


def _in_place(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The ``torch.nn`` activation ``name``, applied in place where torch has an in-place form
    (fewer large temporaries: the MLPs' activations are ``S * batch * width`` floats)."""
    if name == "Tanh":
        return torch.Tensor.tanh_
    module = getattr(torch.nn, name)
    try:
        return module(inplace=True)
    except TypeError:
        return module()


def _stack(tensors: list[torch.Tensor]) -> torch.Tensor:
    """Stack over seeds. A weight ``(S, out, in)`` (SB3's shape) is laid out in memory as
    ``(S, in, out)``, so ``weight.transpose(1, 2)`` is contiguous for ``bmm``."""
    stacked = torch.stack(tensors)
    if stacked.dim() == 3:
        stacked = stacked.transpose(1, 2).contiguous().transpose(1, 2)
    return stacked


class StackedPolicy:
    """SB3's ``MlpPolicy`` for S seeds at once.

    ``params`` maps SB3's parameter names (in SB3's order) to tensors with a leading seed axis:
    ``mlp_extractor.policy_net.{0,2,...}`` and ``mlp_extractor.value_net.{0,2,...}`` (the actor
    and critic MLPs), ``action_net``, ``value_net`` and, for a ``Box``, ``log_std``. Inputs are
    ``(S, B, obs_dim)``.
    """

    def __init__(self, params: dict[str, torch.Tensor], settings: OnPolicySettings, discrete: bool):
        self.params, self.settings, self.discrete = params, settings, discrete
        self.activation = _in_place(settings.activation_fn)

        def layers(prefix: str, depth: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
            return [
                (params[f"{prefix}.{2 * i}.weight"], params[f"{prefix}.{2 * i}.bias"])
                for i in range(depth)
            ]

        self.pi_layers = layers("mlp_extractor.policy_net", len(settings.net_arch_pi))
        self.vf_layers = layers("mlp_extractor.value_net", len(settings.net_arch_vf))
        self.action_head = (params["action_net.weight"], params["action_net.bias"])
        self.value_head = (params["value_net.weight"], params["value_net.bias"])
        self.log_std = params.get("log_std")  # (S, A), Box only

    def seed(self, index: int) -> StackedPolicy:
        """Seed ``index`` alone (views of its parameters, a population of one)."""
        own = {name: p[index : index + 1] for name, p in self.params.items()}
        return StackedPolicy(own, self.settings, self.discrete)

    @staticmethod
    def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """SB3's ``Linear``, ``x @ W^T + b``, for every seed: ``(S, B, in) x (S, out, in)^T``.

        A width of 1 (the value head; a 1-D observation or action) is padded with zeros to 2:
        torch's CPU ``bmm`` takes a different kernel for a width of 1 depending on the number of
        matrices, so seed ``s`` would round differently alone and in a population.
        """
        w = weight.transpose(1, 2)
        if w.shape[1] == 1:
            x, w = torch.nn.functional.pad(x, (0, 1)), torch.nn.functional.pad(w, (0, 0, 0, 1))
        if w.shape[2] == 1:
            return torch.bmm(x, torch.nn.functional.pad(w, (0, 1)))[..., :1] + bias.unsqueeze(1)
        # The bias is added in place (baddbmm would first copy it to the output's shape).
        return torch.bmm(x, w).add_(bias.unsqueeze(1))

    def _mlp(
        self, x: torch.Tensor, layers: list[tuple[torch.Tensor, torch.Tensor]]
    ) -> torch.Tensor:
        for weight, bias in layers:
            x = self.activation(self._linear(x, weight, bias))
        return x

    def actor(self, obs: torch.Tensor) -> torch.Tensor:
        """The action head's output ``(S, B, A)``: logits, or the Gaussian's mean."""
        return self._linear(self._mlp(obs, self.pi_layers), *self.action_head)

    def critic(self, obs: torch.Tensor) -> torch.Tensor:
        """Values ``(S, B)``."""
        return self._linear(self._mlp(obs, self.vf_layers), *self.value_head).squeeze(-1)

    # -- the action distribution (SB3's CategoricalDistribution / DiagGaussianDistribution) ----
    def log_prob_entropy(
        self, out: torch.Tensor, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities of ``actions`` and entropies, ``(S, B)`` each."""
        if self.discrete:
            log_p = categorical_log_probs(out)
            return log_p.gather(-1, actions.unsqueeze(-1)).squeeze(-1), categorical_entropy(log_p)
        std = gaussian_std(out, self.log_std)
        return gaussian_log_prob(out, std, actions), gaussian_entropy(std)

    def sample(self, out: torch.Tensor, noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Actions drawn with ``noise`` (uniform ``(S, B)`` for a categorical, standard normal
        ``(S, B, A)`` for a Gaussian) and their log-probabilities."""
        if self.discrete:
            log_p = categorical_log_probs(out)
            cdf = log_p.exp().cumsum(-1)
            actions = (noise.unsqueeze(-1) >= cdf).sum(-1).clamp_(max=out.shape[-1] - 1)
            return actions, log_p.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        std = gaussian_std(out, self.log_std)
        actions = out + noise * std
        return actions, gaussian_log_prob(out, std, actions)

    def mode(self, out: torch.Tensor) -> torch.Tensor:
        """Deterministic actions: SB3's ``argmax(probs)`` / the mean."""
        if self.discrete:
            return categorical_log_probs(out).softmax(-1).argmax(-1)
        return out


LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


def categorical_log_probs(logits: torch.Tensor) -> torch.Tensor:
    """``torch.distributions.Categorical(logits=...).logits``: normalised log-probabilities."""
    return logits - logits.logsumexp(dim=-1, keepdim=True)


def categorical_entropy(log_p: torch.Tensor) -> torch.Tensor:
    """``Categorical.entropy()`` (its clamp of ``-inf`` log-probabilities included)."""
    min_real = torch.finfo(log_p.dtype).min
    return -(log_p.clamp(min=min_real) * log_p.exp()).sum(-1)


def gaussian_std(mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """SB3's ``ones_like(mean) * log_std.exp()``, ``log_std`` ``(S, A)`` broadcast over rows."""
    return torch.ones_like(mean) * log_std.exp().unsqueeze(1)


def gaussian_log_prob(mean: torch.Tensor, std: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """``Normal(mean, std).log_prob(actions)`` summed over action dimensions."""
    var = std**2
    return (-((actions - mean) ** 2) / (2 * var) - std.log() - LOG_SQRT_2PI).sum(-1)


def gaussian_entropy(std: torch.Tensor) -> torch.Tensor:
    """``Normal(mean, std).entropy()`` summed over action dimensions."""
    return (0.5 + 0.5 * math.log(2 * math.pi) + torch.log(std)).sum(-1)


# ============================================================================================
# 3. The rollout


@dataclass
class RolloutBuffer:
    """One rollout of every seed: ``(n_steps, S, n_envs, ...)`` float32 arrays (SB3's
    ``RolloutBuffer`` with a seed axis), filled one step at a time."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    episode_starts: np.ndarray
    values: np.ndarray
    log_probs: np.ndarray
    advantages: np.ndarray
    returns: np.ndarray

    @classmethod
    def allocate(
        cls,
        n_steps: int,
        num_seeds: int,
        n_envs: int,
        obs_shape: tuple[int, ...],
        action_shape: tuple[int, ...],
        discrete: bool,
    ) -> RolloutBuffer:
        shape = (n_steps, num_seeds, n_envs)
        return cls(
            obs=np.zeros((*shape, *obs_shape), dtype=np.float32),
            actions=np.zeros((*shape, *action_shape), dtype=np.int64 if discrete else np.float32),
            **{
                name: np.zeros(shape, dtype=np.float32)
                for name in (
                    "rewards",
                    "episode_starts",
                    "values",
                    "log_probs",
                    "advantages",
                    "returns",
                )
            },
        )

    def flattened(self) -> dict[str, torch.Tensor]:
        """Per seed, the samples in SB3's order (``swap_and_flatten``: env-major, index
        ``env * n_steps + step``), as ``(S, n_envs * n_steps, ...)`` tensors."""
        out = {}
        for name in ("obs", "actions", "values", "log_probs", "advantages", "returns"):
            array = getattr(self, name)
            t, s, n = array.shape[:3]
            moved = np.moveaxis(array, 0, 2)  # (S, n_envs, n_steps, ...)
            out[name] = torch.from_numpy(
                np.ascontiguousarray(moved).reshape(s, n * t, *array.shape[3:])
            )
        return out


def bootstrap_truncated(
    rewards: np.ndarray, truncated: np.ndarray, final_values: np.ndarray, gamma: float
) -> np.ndarray:
    """SB3's bootstrap on time limits (its GitHub issue 633): where an episode was cut by a
    time limit (``truncated``), add ``gamma * V(final observation)`` to the step's reward."""
    rewards = rewards.copy()
    rewards[truncated] += gamma * final_values[truncated]
    return rewards


def compute_gae(
    rewards: np.ndarray,
    values: np.ndarray,
    episode_starts: np.ndarray,
    last_values: np.ndarray,
    dones: np.ndarray,
    gamma: float,
    gae_lambda: float,
) -> tuple[np.ndarray, np.ndarray]:
    """SB3's ``RolloutBuffer.compute_returns_and_advantage``, the same float32 operations in
    the same order: advantages and returns, the shape of ``rewards`` ``(n_steps, ...)``.

    ``episode_starts[t]`` marks an observation that began an episode, ``last_values`` and
    ``dones`` are the values and done flags after the rollout's last step.
    """
    n_steps = len(rewards)
    advantages = np.zeros_like(rewards)
    last_gae_lam: Any = 0
    for step in reversed(range(n_steps)):
        if step == n_steps - 1:
            next_non_terminal = 1.0 - dones.astype(np.float32)
            next_values = last_values
        else:
            next_non_terminal = 1.0 - episode_starts[step + 1]
            next_values = values[step + 1]
        delta = rewards[step] + gamma * next_values * next_non_terminal - values[step]
        last_gae_lam = delta + gamma * gae_lambda * next_non_terminal * last_gae_lam
        advantages[step] = last_gae_lam
    return advantages, advantages + values


# ============================================================================================
# 4. The update


def ppo_loss(
    policy: StackedPolicy,
    batch: Mapping[str, torch.Tensor],
    settings: PPOSettings,
    clip_range: float,
    clip_range_vf: float | None,
) -> torch.Tensor:
    """SB3's PPO loss of one minibatch, per seed ``(S,)``: clipped surrogate, value loss
    (clipped around the old values with ``clip_range_vf``), entropy bonus; advantages
    normalised within each seed's minibatch."""
    obs = batch["obs"]
    log_prob, entropy = policy.log_prob_entropy(policy.actor(obs), batch["actions"])
    values = policy.critic(obs)
    advantages = batch["advantages"]
    if settings.normalize_advantage and advantages.shape[1] > 1:
        mean = advantages.mean(dim=1, keepdim=True)
        advantages = (advantages - mean) / (advantages.std(dim=1, keepdim=True) + 1e-8)
    ratio = torch.exp(log_prob - batch["log_probs"])
    policy_loss_1 = advantages * ratio
    policy_loss_2 = advantages * torch.clamp(ratio, 1 - clip_range, 1 + clip_range)
    policy_loss = -torch.min(policy_loss_1, policy_loss_2).mean(dim=1)
    if clip_range_vf is None:
        values_pred = values
    else:
        old = batch["values"]
        values_pred = old + torch.clamp(values - old, -clip_range_vf, clip_range_vf)
    value_loss = ((batch["returns"] - values_pred) ** 2).mean(dim=1)
    entropy_loss = -entropy.mean(dim=1)
    return policy_loss + settings.ent_coef * entropy_loss + settings.vf_coef * value_loss


def a2c_loss(
    policy: StackedPolicy, batch: Mapping[str, torch.Tensor], settings: OnPolicySettings
) -> torch.Tensor:
    """SB3's A2C loss of the whole rollout, per seed ``(S,)``: the policy gradient
    ``-(advantage * log_prob)``, the squared value error and the entropy bonus; advantages
    normalised within each seed's rollout only with ``normalize_advantage``."""
    obs = batch["obs"]
    log_prob, entropy = policy.log_prob_entropy(policy.actor(obs), batch["actions"])
    values = policy.critic(obs)
    advantages = batch["advantages"]
    if settings.normalize_advantage:
        mean = advantages.mean(dim=1, keepdim=True)
        advantages = (advantages - mean) / (advantages.std(dim=1, keepdim=True) + 1e-8)
    policy_loss = -(advantages * log_prob).mean(dim=1)
    value_loss = ((batch["returns"] - values) ** 2).mean(dim=1)
    entropy_loss = -entropy.mean(dim=1)
    return policy_loss + settings.ent_coef * entropy_loss + settings.vf_coef * value_loss


def clip_grad_norm_per_seed(params: Sequence[torch.Tensor], max_norm: float) -> torch.Tensor:
    """``torch.nn.utils.clip_grad_norm_`` for each seed: the norm of the per-parameter norms of
    the seed's gradients; gradients scaled by ``min(1, max_norm / (norm + 1e-6))``. Returns the
    norms ``(S,)``."""
    grads = [p.grad for p in params]
    norms = torch.stack([torch.linalg.vector_norm(g.flatten(1), dim=1) for g in grads], dim=1)
    total = torch.linalg.vector_norm(norms, dim=1)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.view(-1, *([1] * (g.dim() - 1))))
    return total


# ============================================================================================
# 5. The trainer


class PopulationCallback:
    """Hooks of :meth:`PopulationTrainer.learn`; override what you need.

    ``on_rollout_start`` sees the policy that will collect the rollout (the policy SB3's
    ``_on_step`` would see during it); ``on_rollout_end`` comes after the collection and before
    the update, when :attr:`PopulationTrainer.last_rollout_signal` and
    :attr:`PopulationTrainer.empty_rollouts` are up to date. Returning ``False`` from
    ``on_rollout_end`` stops training (SB3's ``_on_step`` returning False).
    """

    def on_training_start(self, trainer: PopulationTrainer) -> None: ...

    def on_rollout_start(self, trainer: PopulationTrainer) -> None: ...

    def on_rollout_end(self, trainer: PopulationTrainer) -> bool | None: ...

    def on_training_end(self, trainer: PopulationTrainer) -> None: ...


class PopulationTrainer:
    """S seeds of one of SB3's on-policy algorithms trained together; see the module docstring.
    Subclasses (:class:`PopulationPPO`, :class:`PopulationA2C`) give the update (:meth:`train`)
    and their settings class (:attr:`SETTINGS`); the rollout, the hooks, ``predict`` and the
    export are shared, as SB3's ``OnPolicyAlgorithm`` shares them.

    Args:
        env_id: a registered Gymnasium id.
        seeds: the runs' seeds (seed ``seeds[j]`` is population member ``j``).
        settings: the hyperparameters (``SETTINGS.from_hyperparams``).
        env_kwargs: the env's parameters (``gym.make_vec(env_id, **env_kwargs)``).
        layout: how the env copies are laid out (:mod:`rlbench3.agents.population_envs`).
        streams: ``"batched"`` (fast) or ``"sb3"`` (SB3's own random streams, layout ``sync``);
            see the module docstring.

    Attributes:
        num_timesteps: env steps so far, per seed (SB3's ``num_timesteps``).
        rollouts: rollouts collected so far.
        empty_rollouts: ``(S,)`` rollouts in which none of a seed's copies got a non-zero reward
            (the harness's zero-signal batches).
        last_rollout_signal: ``(S,)`` whether the last rollout had a non-zero reward, per seed.
    """

    SETTINGS: type[OnPolicySettings] = OnPolicySettings

    def __init__(
        self,
        env_id: str,
        seeds: Sequence[int],
        settings: OnPolicySettings,
        env_kwargs: Mapping[str, Any] | None = None,
        layout: str = "auto",
        streams: str = "batched",
    ):
        if not isinstance(settings, self.SETTINGS):
            raise TypeError(
                f"{type(self).__name__} takes {self.SETTINGS.__name__}, got "
                f"{type(settings).__name__}"
            )
        if len(seeds) < 1 or len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be distinct and at least one, got {list(seeds)}")
        if streams not in STREAMS:
            raise ValueError(f"streams must be one of {STREAMS}, got {streams!r}")
        if streams == "sb3":
            if layout not in ("auto", "sync"):
                raise ValueError(
                    f"streams='sb3' steps single envs as SB3 does (layout 'sync'), got "
                    f"layout={layout!r}"
                )
            layout = "sync"
        self.streams = streams
        self.seeds, self.settings = [int(s) for s in seeds], settings
        self.envs = PopulationEnvs(
            env_id, dict(env_kwargs or {}), self.seeds, settings.n_envs, layout
        )
        self.observation_space = self.envs.single_observation_space
        self.action_space = self.envs.single_action_space
        if not isinstance(self.observation_space, spaces.Box):
            raise SettingError(f"{env_id}: observation space {self.observation_space} is not a Box")
        if not isinstance(self.action_space, (spaces.Discrete, spaces.Box)):
            raise SettingError(f"{env_id}: action space {self.action_space} is not Discrete/Box")
        self.discrete = isinstance(self.action_space, spaces.Discrete)
        self.num_seeds, self.n_envs = len(self.seeds), settings.n_envs

        with torch_threads(1):
            initial = [
                sb3_initial_parameters(s, self.observation_space, self.action_space, settings)
                for s in self.seeds
            ]
        self.params = {
            name: _stack([weights[name] for weights, _ in initial]).requires_grad_()
            for name in initial[0][0]
        }
        self.policy = StackedPolicy(self.params, settings, self.discrete)
        # One Adam (or RMSprop) over the stacked parameters is S of them: the update is
        # elementwise, and every seed shares the step count and the learning rate. (Adam's
        # fused=True is faster but rounds a tensor's elements differently by position, so a seed
        # would not be bit-equal alone.)
        optimizer_class, optimizer_kwargs = settings.optimizer()
        self.optimizer = optimizer_class(
            self.params.values(),
            lr=make_schedule(settings.learning_rate)(1.0),
            foreach=True,
            **optimizer_kwargs,
        )
        self.action_generators = [torch.Generator().set_state(state) for _, state in initial]
        self.shuffle_rngs = [np.random.RandomState(s) for s in self.seeds]
        self.lr_schedule = make_schedule(settings.learning_rate)
        action_shape = () if self.discrete else self.action_space.shape
        self.buffer = RolloutBuffer.allocate(
            settings.n_steps,
            self.num_seeds,
            self.n_envs,
            self.observation_space.shape,
            action_shape,
            self.discrete,
        )
        self.num_timesteps = 0
        self.rollouts = 0
        self.empty_rollouts = np.zeros(self.num_seeds, dtype=np.int64)
        self.last_rollout_signal = np.zeros(self.num_seeds, dtype=bool)
        self._last_obs: np.ndarray | None = None
        self._last_episode_starts = np.ones(self.envs.num_envs, dtype=bool)
        self._seed_rows = torch.arange(self.num_seeds).unsqueeze(1)

    # -- the loop -----------------------------------------------------------------------------
    def learn(
        self, total_timesteps: int, callback: PopulationCallback | None = None
    ) -> PopulationTrainer:
        """Train every seed for ``total_timesteps`` env steps (as SB3's ``learn``: whole
        rollouts until the count reaches the budget)."""
        callback = callback or PopulationCallback()
        with torch_threads(1):
            if self._last_obs is None:
                self._last_obs = self.envs.reset()
            callback.on_training_start(self)
            while self.num_timesteps < total_timesteps:
                callback.on_rollout_start(self)
                self.collect_rollout()
                if callback.on_rollout_end(self) is False:
                    break
                self.train(1.0 - float(self.num_timesteps) / float(total_timesteps))
            callback.on_training_end(self)
        return self

    def _obs_tensor(self, obs: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(obs).view(self.num_seeds, self.n_envs, -1)

    def _draw_noise(self) -> torch.Tensor:
        """This rollout's sampling noise, ``(n_steps, S, n_envs[, A])``, each seed's from its own
        generator."""
        shape = (self.settings.n_steps, self.n_envs)
        if self.discrete:
            draws = [torch.rand(shape, generator=g) for g in self.action_generators]
        else:
            shape += self.action_space.shape
            draws = [torch.randn(shape, generator=g) for g in self.action_generators]
        return torch.stack(draws, dim=1)

    def _sample_as_sb3(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step's actions drawn as SB3 draws them, each seed's from its own generator: a
        Gaussian's ``Normal.rsample`` (``empty(n_envs, *A).normal_()``, then
        ``mean + eps * std``), a categorical's ``Categorical.sample`` (``torch.multinomial`` of
        the probabilities, one draw with replacement per row); and their log-probabilities."""
        generators = self.action_generators
        if not self.discrete:
            shape = out.shape[1:]
            noise = [torch.empty(shape).normal_(generator=g) for g in generators]
            return self.policy.sample(out, torch.stack(noise))
        log_p = categorical_log_probs(out)
        probs = log_p.softmax(-1)  # Categorical(logits=...).probs
        actions = torch.stack(
            [torch.multinomial(p, 1, True, generator=g)[:, 0] for p, g in zip(probs, generators)]
        )
        return actions, log_p.gather(-1, actions.unsqueeze(-1)).squeeze(-1)

    def _env_actions(self, actions: torch.Tensor) -> np.ndarray:
        """Actions for the env, one row per copy; a Box's clipped to its bounds as SB3 does."""
        array = actions.numpy().reshape(self.envs.num_envs, *self.action_space.shape)
        if self.discrete:
            return array
        return np.clip(array, self.action_space.low, self.action_space.high)

    @torch.no_grad()
    def collect_rollout(self) -> None:
        """SB3's ``collect_rollouts`` for every seed: ``n_steps`` steps of every copy, with the
        time-limit bootstrap, then advantages and returns."""
        s, n, gamma = self.num_seeds, self.n_envs, self.settings.gamma
        buf, policy = self.buffer, self.policy
        noise = self._draw_noise() if self.streams == "batched" else None
        signal = np.zeros(s, dtype=bool)
        obs = self._last_obs
        assert obs is not None
        for t in range(self.settings.n_steps):
            obs_t = self._obs_tensor(obs)
            out = policy.actor(obs_t)
            values = policy.critic(obs_t)
            if noise is None:
                actions, log_probs = self._sample_as_sb3(out)
            else:
                actions, log_probs = policy.sample(out, noise[t])
            step = self.envs.step(self._env_actions(actions))
            rewards = step.rewards
            signal |= rewards.reshape(s, n).any(axis=1)
            if step.truncated.any():
                final_values = policy.critic(self._obs_tensor(step.final_obs)).numpy().ravel()
                rewards = bootstrap_truncated(rewards, step.truncated, final_values, gamma)
            buf.obs[t] = obs.reshape(buf.obs.shape[1:])
            buf.actions[t] = actions.numpy()
            buf.rewards[t] = rewards.reshape(s, n)
            buf.episode_starts[t] = self._last_episode_starts.reshape(s, n)
            buf.values[t] = values.numpy()
            buf.log_probs[t] = log_probs.numpy()
            obs, self._last_episode_starts = step.obs, step.dones
        self._last_obs = obs
        last_values = policy.critic(self._obs_tensor(obs)).numpy()
        buf.advantages[:], buf.returns[:] = compute_gae(
            buf.rewards,
            buf.values,
            buf.episode_starts,
            last_values,
            self._last_episode_starts.reshape(s, n),
            gamma,
            self.settings.gae_lambda,
        )
        self.envs.check_independent()
        self.num_timesteps += self.settings.rollout_size
        self.rollouts += 1
        self.last_rollout_signal = signal
        self.empty_rollouts += ~signal

    def train(self, progress_remaining: float) -> None:
        """The algorithm's update on the rollout just collected (a subclass's)."""
        raise NotImplementedError

    def _set_learning_rate(self, progress_remaining: float) -> None:
        """SB3's ``_update_learning_rate``: the schedule's value at this point of training."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr_schedule(progress_remaining)

    def _step(self, loss: torch.Tensor) -> None:
        """One optimizer step for every seed on its own loss (``loss``: ``(S,)``)."""
        params = list(self.params.values())
        for p in params:
            p.grad = None
        loss.sum().backward()
        clip_grad_norm_per_seed(params, self.settings.max_grad_norm)
        self.optimizer.step()

    def _permutations(self) -> torch.Tensor:
        """``(S, rollout_size)``: each seed's shuffle of its rollout, from its own generator
        (SB3's ``RolloutBuffer.get`` draws one from numpy's global generator)."""
        size = self.settings.rollout_size
        return torch.from_numpy(np.stack([rng.permutation(size) for rng in self.shuffle_rngs]))

    # -- using the policies -------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, obs: np.ndarray, seed_index: int, deterministic: bool = True) -> np.ndarray:
        """Seed ``seed_index``'s actions for ``obs`` (one observation or a batch), as SB3's
        ``policy.predict(obs, deterministic=...)[0]``: a Box's clipped to its bounds. Stochastic
        actions draw from torch's global generator, not the seed's training stream."""
        obs = np.asarray(obs, dtype=np.float32)
        single = obs.shape == self.observation_space.shape
        x = torch.from_numpy(obs.reshape(1, -1, *self.observation_space.shape))
        policy = self.policy.seed(seed_index)
        with torch_threads(1):
            out = policy.actor(x)
            if deterministic:
                actions = policy.mode(out)
            elif self.discrete:
                actions = policy.sample(out, torch.rand(out.shape[:2]))[0]
            else:
                actions = policy.sample(out, torch.randn(out.shape))[0]
        array = actions[0].numpy()
        if not self.discrete:
            array = np.clip(array, self.action_space.low, self.action_space.high)
        return array[0] if single else array

    def member(self, seed_index: int) -> PopulationMember:
        """Seed ``seed_index`` as an SB3-style model (``predict`` and ``action_space``), for code
        that evaluates models, such as the harness's ``Evaluator``."""
        return PopulationMember(self, seed_index)

    def export_policy(self, seed_index: int) -> Any:
        """Seed ``seed_index``'s policy as SB3's ``ActorCriticPolicy`` (the same architecture,
        its weights copied): ``policy.save`` / ``ActorCriticPolicy.load`` and every tool that
        takes an SB3 policy work on it."""
        with torch.random.fork_rng(devices=[]), torch_threads(1):
            policy = make_sb3_policy(self.observation_space, self.action_space, self.settings)
        policy.load_state_dict(
            {name: p[seed_index].detach().clone() for name, p in self.params.items()}
        )
        policy.set_training_mode(False)
        return policy

    def close(self) -> None:
        self.envs.close()


class PopulationPPO(PopulationTrainer):
    """S seeds of SB3's PPO trained together (:class:`PopulationTrainer`, :class:`PPOSettings`)."""

    SETTINGS = PPOSettings
    settings: PPOSettings

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        settings = self.settings
        self.clip_range = make_schedule(settings.clip_range)
        self.clip_range_vf = (
            None if settings.clip_range_vf is None else make_schedule(settings.clip_range_vf)
        )

    def train(self, progress_remaining: float) -> None:
        """SB3's ``PPO.train`` for every seed: ``n_epochs`` passes over the rollout in shuffled
        minibatches (each seed its own permutation), one Adam step per minibatch."""
        settings = self.settings
        self._set_learning_rate(progress_remaining)
        clip_range = self.clip_range(progress_remaining)
        clip_range_vf = (
            None if self.clip_range_vf is None else self.clip_range_vf(progress_remaining)
        )
        data = self.buffer.flattened()
        for _ in range(settings.n_epochs):
            order = self._permutations()
            for start in range(0, settings.rollout_size, settings.batch_size):
                index = order[:, start : start + settings.batch_size]
                batch = {name: array[self._seed_rows, index] for name, array in data.items()}
                self._step(ppo_loss(self.policy, batch, settings, clip_range, clip_range_vf))


class PopulationA2C(PopulationTrainer):
    """S seeds of SB3's A2C trained together (:class:`PopulationTrainer`, :class:`A2CSettings`)."""

    SETTINGS = A2CSettings
    settings: A2CSettings

    def train(self, progress_remaining: float) -> None:
        """SB3's ``A2C.train`` for every seed: one gradient step on the whole rollout (taken in
        the shuffled order SB3's ``RolloutBuffer.get(batch_size=None)`` yields it, which only
        changes float rounding)."""
        self._set_learning_rate(progress_remaining)
        data = self.buffer.flattened()
        order = self._permutations()
        batch = {name: array[self._seed_rows, order] for name, array in data.items()}
        self._step(a2c_loss(self.policy, batch, self.settings))


# The population trainer of each SB3 algorithm it runs.
TRAINERS: dict[str, type[PopulationTrainer]] = {"PPO": PopulationPPO, "A2C": PopulationA2C}


class PopulationMember:
    """One seed of a :class:`PopulationTrainer` with SB3's model interface:
    ``predict(obs, deterministic) -> (actions, None)`` and ``action_space``."""

    def __init__(self, trainer: PopulationTrainer, seed_index: int):
        self.trainer, self.seed_index = trainer, seed_index
        self.action_space = trainer.action_space

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, None]:
        return self.trainer.predict(obs, self.seed_index, deterministic), None
