"""The "swiss cheese" landscape of an algorithm's initial policies, probed by sampling.

Three probes of how much reward signal a policy-search or policy-gradient method can see before it
has learned anything:

* :func:`landscape_probe`: draw ``N`` policies from the very distribution an SB3 algorithm
  initialises them from (candidate ``i`` is :class:`rlbench3.agents.random_search.RandomSearch`'s
  candidate ``i`` for the same seed), run ``M`` episodes of each, and report the returns
  ``(N × M)`` and the *hole fraction*: the share of sampled parameter vectors with any reward
  signal (any episode with a non-zero reward), with an exact Clopper-Pearson interval.
* :func:`landscape_slice`: returns on a ``G × G`` grid of ``θ0 + α d1 + β d2`` around an
  initialisation ``θ0``, along two random *filter-normalised* directions (Li et al. 2018,
  "Visualizing the Loss Landscape of Neural Nets"; see :func:`filter_normalized_direction`).
* :func:`gradient_snr`: the signal-to-noise ratio of the REINFORCE policy-gradient estimator at a
  policy (Roberts & Tedrake 2009); exactly 0 where no batch sees a reward.

Policies are SB3 ``ActorCriticPolicy`` objects (PPO, A2C, TRPO; ``MlpPolicy`` by default, no
gSDE). All candidates are evaluated together: the parameters of many policies are stacked and one
``torch.func.vmap``-ed forward pass computes the actions of every episode of every candidate, on
the family's numpy-batched vector env (``gymnasium.make_vec``). Every function takes an explicit
seed: the same seed and arguments give the same arrays.

Actions are those of SB3's ``predict``: ``deterministic=True`` takes the mode (the arg-max logit,
or the Gaussian mean), ``deterministic=False`` samples (Gumbel-max for a categorical, mean + std
· N(0, 1) for a Gaussian) from numpy generators seeded here; Box actions are clipped to the
action space, as SB3's ``predict`` does.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

import rlbench3.envs  # noqa: F401  (registers the ids)
from rlbench3.agents.threads import torch_threads
from rlbench3.analysis.probes import HitEstimate, clopper_pearson
from rlbench3.harness.evaluation import run_episodes

# Rows (episodes x candidates) per vmapped forward pass when candidates do not share episodes.
ROWS_PER_CHUNK = 16_384
# Candidates per chunk when they share episodes (one small vector env per candidate).
CANDIDATES_PER_CHUNK = 512
BIAS_MODES = ("zero", "filter")
_CRITIC = ("value_net.", "mlp_extractor.value_net.", "vf_features_extractor.")


# ---------------------------------------------------------------------------------------------
# Candidate policies
# ---------------------------------------------------------------------------------------------


def sample_policies(
    env_id: str,
    n: int,
    *,
    seed: int = 0,
    policy_from: str = "PPO",
    policy: str = "MlpPolicy",
    policy_kwargs: Mapping[str, Any] | None = None,
    **env_kwargs: Any,
) -> list[Any]:
    """``n`` policies from an SB3 algorithm's initial distribution.

    Exactly :class:`~rlbench3.agents.random_search.RandomSearch`'s candidates ``0 .. n-1`` for the
    same ``seed``, ``policy_from``, ``policy`` and ``policy_kwargs`` (a template model gives the
    policy class and its arguments; candidate ``i`` is ``RandomSearch.candidate(i)``, built under
    torch seed ``seed * 1_000_003 + i``).
    """
    from stable_baselines3.common.vec_env import DummyVecEnv

    from rlbench3.agents.random_search import RandomSearch

    if n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n}")
    venv = DummyVecEnv([functools.partial(gym.make, env_id, **env_kwargs)])
    # The template model seeds the global generators (SB3's set_random_seed): put them back.
    saved = random.getstate(), np.random.get_state()  # noqa: NPY002
    with torch_threads(1), torch.random.fork_rng():
        try:
            search = RandomSearch(
                policy,
                venv,
                policy_from=policy_from,
                policy_kwargs=dict(policy_kwargs or {}),
                seed=seed,
            )
        finally:
            random.setstate(saved[0])
            np.random.set_state(saved[1])  # noqa: NPY002
    with torch_threads(1):
        out = [search.policy] + [search.candidate(i) for i in range(1, n)]
    venv.close()
    return out


def _check_policy(policy: Any) -> Any:
    from stable_baselines3.common.policies import ActorCriticPolicy

    policy = getattr(policy, "policy", policy)  # an algorithm (PPO(...), RandomSearch): its policy
    if not isinstance(policy, ActorCriticPolicy):
        raise TypeError(f"need an SB3 ActorCriticPolicy (PPO, A2C, TRPO), got {type(policy)}")
    if policy.use_sde:
        raise NotImplementedError("gSDE policies (use_sde=True) are not supported")
    if not isinstance(policy.action_space, (spaces.Discrete, spaces.Box)):
        raise TypeError(f"need a Discrete or Box action space, got {policy.action_space}")
    return policy


def policy_parameters(policy: Any) -> dict[str, torch.Tensor]:
    """A policy's parameters (detached copies), by name."""
    policy = _check_policy(policy)
    return {name: p.detach().clone() for name, p in policy.named_parameters()}


def stack_parameters(policies: Sequence[Any]) -> dict[str, torch.Tensor]:
    """The parameters of policies of one architecture, stacked: name -> ``(N, *shape)``."""
    params = [policy_parameters(p) for p in policies]
    return {name: torch.stack([p[name] for p in params]) for name in params[0]}


class _ActionHead(torch.nn.Module):
    """The actor of an ActorCriticPolicy up to its action-distribution parameters (logits or
    Gaussian mean): what ``functional_call`` + ``vmap`` evaluate for many parameter sets."""

    def __init__(self, policy: Any):
        super().__init__()
        self.policy = policy

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        from stable_baselines3.common.policies import BaseModel

        p = self.policy
        features = BaseModel.extract_features(p, obs, p.pi_features_extractor)
        return p.action_net(p.mlp_extractor.forward_actor(features))


def _batched_head(template: Any) -> Any:
    """``f(params (N, ...), obs (N, M, D)) -> (N, M, out)`` for stacked parameter sets."""
    from torch.func import functional_call, vmap

    head = _ActionHead(template).eval()

    def one(params: dict[str, torch.Tensor], obs: torch.Tensor) -> torch.Tensor:
        return functional_call(head, {f"policy.{k}": v for k, v in params.items()}, (obs,))

    return vmap(one)


class _Actor:
    """Actions of many candidates (stacked parameters) for their own batches of observations."""

    def __init__(self, template: Any, params: Mapping[str, torch.Tensor], deterministic: bool):
        self.template = _check_policy(template)
        self.space = self.template.action_space
        self.deterministic = deterministic
        self.forward = _batched_head(self.template)
        # The critic's parameters do not act: leave them out of the vmapped call.
        self.params = {k: v for k, v in params.items() if not k.startswith(_CRITIC)}
        self.n = next(iter(self.params.values())).shape[0]
        self.discrete = isinstance(self.space, spaces.Discrete)
        if not self.discrete:
            self.std = self.params["log_std"].exp().numpy()[:, None, :]  # (N, 1, d)
            self.low = self.space.low.reshape(-1)
            self.high = self.space.high.reshape(-1)

    @property
    def noise_shape(self) -> tuple[int, ...]:
        return (self.space.n,) if self.discrete else (int(np.prod(self.space.shape)),)

    def draw(self, rng: np.random.Generator, lead: tuple[int, ...]) -> np.ndarray | None:
        if self.deterministic:
            return None
        if self.discrete:
            return rng.gumbel(size=(*lead, *self.noise_shape))
        return rng.standard_normal((*lead, *self.noise_shape))

    def __call__(self, rows: slice, obs: np.ndarray, noise: np.ndarray | None) -> np.ndarray:
        """Actions ``(n, M, ...)`` of candidates ``rows`` for obs ``(n, M, D)``; ``noise`` is
        ``(n, M, k)`` or ``(M, k)`` (the same for every candidate) or None (deterministic)."""
        params = {k: v[rows] for k, v in self.params.items()}
        with torch.no_grad():
            out = self.forward(params, torch.as_tensor(obs, dtype=torch.float32)).numpy()
        if self.discrete:
            if noise is not None:
                out = out + noise  # Gumbel-max: an exact sample of softmax(logits)
            return self.space.start + out.argmax(axis=-1)
        actions = out if noise is None else out + self.std[rows] * noise
        actions = np.clip(actions, self.low, self.high).astype(self.space.dtype)
        return actions.reshape(*actions.shape[:2], *self.space.shape)


class _CommonEpisodes(VectorEnv):
    """Several vector envs of one id (``NEXT_STEP`` autoreset) stepped as one: copy ``i * m + j``
    is copy ``j`` of part ``i`` (``m`` copies each). ``reset(seed=s)`` resets every part with the
    same ``s``, so all parts run the same episodes while they get the same actions (common random
    numbers).

    Thin on purpose: its infos are only ``is_success`` / ``_is_success`` (what
    :func:`~rlbench3.harness.evaluation.run_episodes` reads), and only on steps on which an
    episode ends; closing it leaves the parts open (their owner closes them).
    """

    def __init__(self, parts: Sequence[Any]):
        self.parts = list(parts)
        first = self.parts[0]
        self.m = first.num_envs
        self.num_envs = len(self.parts) * self.m
        mode = first.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if mode != AutoresetMode.NEXT_STEP:
            raise ValueError(f"_CommonEpisodes needs NEXT_STEP autoreset, got {mode}")
        self.metadata = {"autoreset_mode": mode}
        self.single_observation_space = first.single_observation_space
        self.single_action_space = first.single_action_space

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        return np.concatenate([part.reset(seed=seed)[0] for part in self.parts]), {}

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        m = self.m
        steps = [part.step(actions[i * m : (i + 1) * m]) for i, part in enumerate(self.parts)]
        obs, rewards, terminated, truncated, infos = zip(*steps)
        terminated, truncated = np.concatenate(terminated), np.concatenate(truncated)
        merged: dict[str, Any] = {}
        if (terminated | truncated).any() and any("is_success" in info for info in infos):
            none, every = np.zeros(m, dtype=bool), np.ones(m, dtype=bool)
            merged["is_success"] = np.concatenate([info.get("is_success", none) for info in infos])
            merged["_is_success"] = np.concatenate(
                [info.get("_is_success", every if "is_success" in info else none) for info in infos]
            )
        return np.concatenate(obs), np.concatenate(rewards), terminated, truncated, merged


def _candidates_act(
    actor: _Actor, rows: slice, episodes: int, rng: np.random.Generator, shared_noise: bool
) -> Any:
    """The ``act`` of :func:`run_episodes` for candidates ``rows``, ``episodes`` copies each
    (copy ``i * episodes + j`` is episode ``j`` of candidate ``rows.start + i``). Action noise,
    drawn from ``rng`` once per step: per copy, or (``shared_noise``) per episode ``j``, the same
    for every candidate."""
    k = rows.stop - rows.start
    lead = (episodes,) if shared_noise else (k, episodes)

    def act(obs: np.ndarray) -> np.ndarray:
        actions = actor(rows, obs.reshape(k, episodes, -1), actor.draw(rng, lead))
        return actions.reshape(k * episodes, *actions.shape[2:])

    return act


def _evaluate_shared(
    actor: _Actor, env_id: str, episodes: int, seed: int, env_kwargs: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Common random numbers: every candidate gets its own ``episodes``-copy vector env, all
    reset with the same seed, and the same action noise: the same episodes for every one. Chunks
    of candidates are stepped as one :class:`_CommonEpisodes` env."""
    n = actor.n
    returns = np.zeros((n, episodes))
    signal = np.zeros((n, episodes), dtype=bool)
    chunk = min(n, CANDIDATES_PER_CHUNK)
    parts = [gym.make_vec(env_id, num_envs=episodes, **env_kwargs) for _ in range(chunk)]
    try:
        for start in range(0, n, chunk):
            rows = slice(start, min(n, start + chunk))
            k = rows.stop - rows.start
            rng = np.random.default_rng([seed, 0x5EED])  # the same noise stream for every chunk
            act = _candidates_act(actor, rows, episodes, rng, shared_noise=True)
            result = run_episodes(_CommonEpisodes(parts[:k]), act, seed=seed)
            returns[rows] = result.returns.reshape(k, episodes)
            signal[rows] = result.signal.reshape(k, episodes)
    finally:
        for part in parts:
            part.close()
    return returns, signal


def _evaluate_independent(
    actor: _Actor, env_id: str, episodes: int, seed: int, env_kwargs: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Independent episodes: chunks of candidates share one vector env of ``k × episodes``
    copies (copy ``i * episodes + j`` is episode ``j`` of the chunk's candidate ``i``); chunk
    ``c`` is seeded from ``(seed, c)``."""
    n = actor.n
    chunk = max(1, min(n, ROWS_PER_CHUNK // episodes))
    returns = np.zeros((n, episodes))
    signal = np.zeros((n, episodes), dtype=bool)
    envs = None
    try:
        for c, start in enumerate(range(0, n, chunk)):
            rows = slice(start, min(n, start + chunk))
            k = rows.stop - rows.start
            if envs is None or envs.num_envs != k * episodes:
                if envs is not None:
                    envs.close()
                envs = gym.make_vec(env_id, num_envs=k * episodes, **env_kwargs)
            stream = np.random.SeedSequence([seed, c])
            env_seed = int(stream.generate_state(1)[0] >> 1)
            act = _candidates_act(actor, rows, episodes, np.random.default_rng(stream), False)
            result = run_episodes(envs, act, seed=env_seed)
            returns[rows] = result.returns.reshape(k, episodes)
            signal[rows] = result.signal.reshape(k, episodes)
    finally:
        if envs is not None:
            envs.close()
    return returns, signal


def evaluate_parameters(
    template: Any,
    params: Mapping[str, torch.Tensor],
    env_id: str,
    episodes: int,
    *,
    seed: int = 0,
    deterministic: bool = True,
    common_episodes: bool = False,
    **env_kwargs: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Returns ``(N × M)`` and reward signal ``(N × M)`` (any non-zero reward in the episode) of
    ``N`` parameter sets of ``template``'s architecture, ``M = episodes`` episodes each.

    Args:
        template: an ActorCriticPolicy (or an algorithm holding one) giving the architecture.
        params: name -> ``(N, *shape)`` (see :func:`stack_parameters`); names as in
            ``template.named_parameters()``.
        episodes: whole episodes per parameter set, stepped together with all other sets'.
        seed: seeds the envs and the action noise.
        deterministic: act with the mode (True) or sample.
        common_episodes: True: every parameter set sees the same ``M`` episodes (the same env
            seed and action noise; common random numbers, for comparing parameter sets such as
            grid points of a slice; one small vector env per set). False: independent episodes
            (faster: one large vector env per chunk of sets); the draws then depend on the chunk
            layout, a fixed function of ``N`` and ``M``.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be an integer >= 1, got {episodes}")
    actor = _Actor(template, params, deterministic)
    evaluate = _evaluate_shared if common_episodes else _evaluate_independent
    with torch_threads(1):
        return evaluate(actor, env_id, episodes, seed, env_kwargs)


def policy_returns(
    policies: Sequence[Any],
    env_id: str,
    episodes: int,
    *,
    seed: int = 0,
    deterministic: bool = True,
    common_episodes: bool = False,
    **env_kwargs: Any,
) -> np.ndarray:
    """Returns ``(N × M)`` of ``N`` policies of one architecture (see
    :func:`evaluate_parameters`)."""
    policies = [_check_policy(p) for p in policies]
    returns, _ = evaluate_parameters(
        policies[0],
        stack_parameters(policies),
        env_id,
        episodes,
        seed=seed,
        deterministic=deterministic,
        common_episodes=common_episodes,
        **env_kwargs,
    )
    return returns


# ---------------------------------------------------------------------------------------------
# Hole fraction
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LandscapeProbe:
    """Sampled initial policies: their returns and how many see any reward signal."""

    returns: np.ndarray  # (N, M) return of episode j of candidate i
    signal: np.ndarray  # (N, M) episode j of candidate i had a non-zero reward
    hole_fraction: HitEstimate  # candidates with any signal, out of N, exact interval

    @property
    def mean_returns(self) -> np.ndarray:
        """``(N,)`` each candidate's mean return over its episodes."""
        return self.returns.mean(axis=1)


def landscape_probe(
    env_id: str,
    n_policies: int = 256,
    episodes: int = 16,
    *,
    seed: int = 0,
    deterministic: bool = True,
    policy_from: str = "PPO",
    policy: str = "MlpPolicy",
    policy_kwargs: Mapping[str, Any] | None = None,
    confidence: float = 0.95,
    **env_kwargs: Any,
) -> LandscapeProbe:
    """Hole fraction of an algorithm's initial policy distribution.

    Draws ``n_policies`` parameter vectors as :func:`sample_policies` (RandomSearch's candidates),
    runs ``episodes`` independent episodes of each, and reports the share of candidates with any
    reward signal (at least one episode with a non-zero reward) with a Clopper-Pearson interval
    at ``confidence`` (candidates are i.i.d. draws, so the interval is exact).

    With ``deterministic=True`` (RandomSearch's and the evaluator's default) a candidate on an env
    without per-episode randomness repeats one episode, so ``episodes=1`` suffices there.
    """
    policies = sample_policies(
        env_id,
        n_policies,
        seed=seed,
        policy_from=policy_from,
        policy=policy,
        policy_kwargs=policy_kwargs,
        **env_kwargs,
    )
    returns, signal = evaluate_parameters(
        policies[0],
        stack_parameters(policies),
        env_id,
        episodes,
        seed=seed,
        deterministic=deterministic,
        **env_kwargs,
    )
    hits = int(signal.any(axis=1).sum())
    low, high = clopper_pearson(hits, n_policies, confidence)
    return LandscapeProbe(returns, signal, HitEstimate(hits, n_policies, confidence, low, high))


# ---------------------------------------------------------------------------------------------
# 2-D slice
# ---------------------------------------------------------------------------------------------


def filter_normalized_direction(
    reference: Mapping[str, torch.Tensor], generator: torch.Generator, *, bias: str = "zero"
) -> dict[str, torch.Tensor]:
    """A random direction in parameter space, filter-normalised to ``reference`` (Li et al. 2018).

    Each tensor's entries are drawn i.i.d. N(0, 1) (``torch.randn`` with ``generator``, in the
    order of ``reference``). For a tensor of 2 or more dimensions every *filter* (row ``d[i]``, the
    weights into output unit ``i`` of a Linear layer; a whole output channel of a conv kernel) is
    rescaled to the norm of the same row of the reference: ``d[i] <- d[i] / (||d[i]|| + 1e-10) ·
    ||θ0[i]||``. 1-D tensors (biases, SB3's Gaussian ``log_std``):

    * ``bias="zero"`` (default): the direction is 0 there (Li et al.'s code, ``ignore="biasbn"``);
      biases stay at θ0's values along the slice.
    * ``bias="filter"``: the whole vector is one filter, rescaled to the norm of θ0's vector
      (so a zero-initialised bias, as in SB3's initialisation, still gets a zero direction).
    """
    if bias not in BIAS_MODES:
        raise ValueError(f"bias must be one of {BIAS_MODES}, got {bias!r}")
    out = {}
    for name, ref in reference.items():
        d = torch.randn(ref.shape, generator=generator, dtype=ref.dtype)
        if ref.dim() <= 1:
            if bias == "zero":
                d = torch.zeros_like(ref)
            else:
                d = d * (ref.norm() / (d.norm() + 1e-10))
        else:
            rows_d = d.reshape(ref.shape[0], -1)
            rows_ref = ref.reshape(ref.shape[0], -1)
            scale = rows_ref.norm(dim=1) / (rows_d.norm(dim=1) + 1e-10)
            d = (rows_d * scale[:, None]).reshape(ref.shape)
        out[name] = d
    return out


@dataclass(frozen=True)
class LandscapeSlice:
    """Returns on the grid ``θ0 + α d1 + β d2``: ``returns[i, j]`` at ``(alphas[i], betas[j])``."""

    alphas: np.ndarray  # (G,)
    betas: np.ndarray  # (G,)
    returns: np.ndarray  # (G, G, M) per-episode returns (the same M episodes at every point)
    signal: np.ndarray  # (G, G, M) any non-zero reward in the episode
    bias: str  # how 1-D parameters were treated (see filter_normalized_direction)

    @property
    def mean_returns(self) -> np.ndarray:
        """``(G, G)``: the heatmap, indexed ``[alpha, beta]``."""
        return self.returns.mean(axis=-1)

    @property
    def center(self) -> tuple[int, int]:
        """Grid index of θ0 itself (α = β = 0) for an odd grid size."""
        g = len(self.alphas) // 2
        return g, g


def slice_coordinates(grid: int, radius: float) -> np.ndarray:
    """``grid`` points on ``[-radius, radius]``; for an odd grid the middle one is exactly 0."""
    values = radius * np.linspace(-1.0, 1.0, grid)
    if grid % 2:
        values[grid // 2] = 0.0
    return values


def landscape_slice(
    env_id: str,
    *,
    policy: Any = None,
    grid: int = 21,
    radius: float = 1.0,
    episodes: int = 16,
    seed: int = 0,
    deterministic: bool = True,
    bias: str = "zero",
    policy_from: str = "PPO",
    policy_kwargs: Mapping[str, Any] | None = None,
    **env_kwargs: Any,
) -> LandscapeSlice:
    """Returns on a ``grid × grid`` slice ``θ0 + α d1 + β d2``, ``(α, β) ∈ [-radius, radius]²``.

    Args:
        policy: θ0, an ActorCriticPolicy (or an algorithm holding one); default: a fresh
            initialisation, :func:`sample_policies` candidate 0 for ``seed``.
        grid: points per axis; odd, so that the centre is θ0 itself.
        radius: the extent of the slice, in units of the filter-normalised directions (at
            ``α = 1`` every filter has moved by its own norm).
        episodes: episodes per grid point; every grid point sees the same episodes (common random
            numbers), so the centre's returns are exactly θ0's own (as
            ``policy_returns([θ0], ..., common_episodes=True)``).
        seed: seeds θ0 (when not given), the directions (a torch generator, ``d1`` then ``d2``)
            and the episodes.
        bias: 1-D parameters, see :func:`filter_normalized_direction`.
    """
    if grid < 1 or grid % 2 == 0:
        raise ValueError(f"grid must be an odd integer >= 1, got {grid}")
    if policy is None:
        policy = sample_policies(
            env_id,
            1,
            seed=seed,
            policy_from=policy_from,
            policy_kwargs=policy_kwargs,
            **env_kwargs,
        )[0]
    template = _check_policy(policy)
    theta0 = policy_parameters(template)
    generator = torch.Generator().manual_seed(seed)
    d1 = filter_normalized_direction(theta0, generator, bias=bias)
    d2 = filter_normalized_direction(theta0, generator, bias=bias)
    coords = slice_coordinates(grid, radius)
    a = torch.as_tensor(np.repeat(coords, grid), dtype=torch.float32)
    b = torch.as_tensor(np.tile(coords, grid), dtype=torch.float32)
    params = {}
    for name, t0 in theta0.items():
        shape = (-1,) + (1,) * t0.dim()
        params[name] = t0[None] + a.view(shape) * d1[name][None] + b.view(shape) * d2[name][None]
    returns, signal = evaluate_parameters(
        template,
        params,
        env_id,
        episodes,
        seed=seed,
        deterministic=deterministic,
        common_episodes=True,
        **env_kwargs,
    )
    return LandscapeSlice(
        alphas=coords.copy(),
        betas=coords.copy(),
        returns=returns.reshape(grid, grid, episodes),
        signal=signal.reshape(grid, grid, episodes),
        bias=bias,
    )


# ---------------------------------------------------------------------------------------------
# Policy-gradient signal-to-noise ratio
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradientSNR:
    """Per-batch policy-gradient estimates at one policy and their signal-to-noise ratio."""

    snr: float  # ||mean g||^2 / tr(Cov g), for ONE batch's estimate (see gradient_snr)
    per_parameter: np.ndarray  # (P,) mean_k^2 / var_k
    mean_gradient: np.ndarray  # (P,)
    gradients: np.ndarray  # (B, P) one estimate per batch
    zero_batches: int  # batches in which no episode had a non-zero reward: g_b == 0 exactly
    batches: int
    episodes_per_batch: int

    @property
    def snr_of_mean(self) -> float:
        """SNR of the average of all ``B`` batch estimates: ``B`` times :attr:`snr`."""
        return self.batches * self.snr


def _ratio(signal: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """signal / noise with 0/0 = 0 (no signal, no noise) and x/0 = inf."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(noise > 0, signal / np.where(noise > 0, noise, 1.0), np.inf)
    return np.where((signal == 0) & (noise == 0), 0.0, out)


def gradient_snr(
    policy: Any,
    env_id: str,
    *,
    batches: int = 32,
    episodes_per_batch: int = 16,
    seed: int = 0,
    gamma: float = 1.0,
    **env_kwargs: Any,
) -> GradientSNR:
    """Signal-to-noise ratio of the REINFORCE policy-gradient estimator at ``policy``.

    ``B = batches`` independent rollout batches of ``n = episodes_per_batch`` whole episodes of the
    stochastic policy are collected (one vector env of ``B · n`` copies, one episode each), and
    each batch gives one gradient estimate of the expected return

        g_b = (1/n) Σ_episodes Σ_t ∇θ log π_θ(a_t | s_t) · G_t,    G_t = Σ_{t' ≥ t} γ^(t'-t) r_t'

    (REINFORCE with reward-to-go, no baseline; at θ = θ_old this is also the gradient of PPO's
    clipped surrogate with advantages G_t). Only this policy-gradient term is used: the entropy
    bonus and the value loss of PPO/A2C are excluded, so a batch in which no episode has a
    non-zero reward has G_t = 0 everywhere and g_b is exactly 0. The parameters are the actor's
    (those ``log π`` depends on).

    The SNR is that of Roberts & Tedrake (2009), "Signal-to-noise ratio analysis of policy
    gradient algorithms" (NeurIPS 2008): for an estimator g,
    ``SNR = ||E[g]||² / E[||g − E[g]||²] = ||E[g]||² / tr Cov(g)``, estimated by the plug-in
    ``||ḡ||² / tr(Σ̂)`` with ``ḡ`` the mean of the ``B`` estimates and ``Σ̂`` their sample
    covariance (``ddof=1``). It is the SNR of *one batch's* estimate; the mean of all ``B``
    batches has ``B`` times that (:attr:`GradientSNR.snr_of_mean`, i.e. ``||ḡ||² / (tr Σ̂ /
    B)``). ``||ḡ||²`` is biased upwards by ``tr Σ / B``, so with few batches a small SNR is
    overstated. The per-parameter version is ``ḡ_k² / Σ̂_kk``. With no signal and no noise
    (every batch reward-free) the SNR is defined as 0.

    Args:
        policy: an ActorCriticPolicy, or an algorithm holding one (PPO, A2C, TRPO, RandomSearch).
        seed: seeds the envs and torch's generator for the action samples.
        gamma: discount of the reward-to-go.
    """
    policy = _check_policy(policy)
    if batches < 2:
        raise ValueError(f"batches must be an integer >= 2 (a covariance), got {batches}")
    if episodes_per_batch < 1:
        raise ValueError(f"episodes_per_batch must be an integer >= 1, got {episodes_per_batch}")
    with torch_threads(1):
        return _gradient_snr(policy, env_id, batches, episodes_per_batch, seed, gamma, env_kwargs)


def _gradient_snr(
    policy: Any,
    env_id: str,
    batches: int,
    episodes_per_batch: int,
    seed: int,
    gamma: float,
    env_kwargs: Mapping[str, Any],
) -> GradientSNR:
    policy.set_training_mode(False)
    copies = batches * episodes_per_batch
    envs = gym.make_vec(env_id, num_envs=copies, **env_kwargs)
    # The rollout, step by step: act keeps the observations and sampled actions, the step hook
    # the rewards of live copies and which copies were live.
    obs_list, action_list, reward_list, live_list = [], [], [], []
    space = policy.action_space

    def act(obs: np.ndarray) -> np.ndarray:
        obs_t = torch.tensor(obs, dtype=torch.float32)  # a copy: kept after the env steps on
        with torch.no_grad():
            actions = policy.get_distribution(obs_t).get_actions(deterministic=False)
        obs_list.append(obs_t)
        action_list.append(actions)
        a = actions.numpy()
        if isinstance(space, spaces.Box):  # clipped for the env; the log-prob is of `a`
            return np.clip(a, space.low, space.high).reshape(copies, *space.shape)
        return a.reshape(copies)

    def on_step(rewards: np.ndarray, live: np.ndarray) -> None:
        reward_list.append(np.where(live, rewards, 0.0))
        live_list.append(live)

    try:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            run_episodes(envs, act, seed=seed, on_step=on_step)
    finally:
        envs.close()
    rewards = np.array(reward_list)  # (T, C)
    live = np.array(live_list)
    to_go = np.zeros_like(rewards)
    acc = np.zeros(copies)
    for t in range(len(rewards) - 1, -1, -1):
        acc = rewards[t] + gamma * acc
        to_go[t] = acc
    hit = (rewards != 0.0).any(axis=0).reshape(batches, episodes_per_batch).any(axis=1)

    params = list(policy.parameters())
    steps = len(rewards)
    log_prob = policy.get_distribution(torch.cat(obs_list)).log_prob(torch.cat(action_list))
    log_prob = log_prob.reshape(steps, copies)
    # Which parameters log π depends on (the actor's): a gradient of the plain sum of log-probs.
    used = torch.autograd.grad(log_prob.sum(), params, retain_graph=True, allow_unused=True)
    actor = [p for p, g in zip(params, used) if g is not None]
    size = sum(p.numel() for p in actor)
    weights = torch.as_tensor(to_go * live, dtype=log_prob.dtype)
    per_episode = (log_prob * weights).sum(dim=0).reshape(batches, episodes_per_batch)
    surrogate = per_episode.mean(dim=1)  # (B,)
    grads = np.zeros((batches, size))
    for b in np.flatnonzero(hit):
        g = torch.autograd.grad(surrogate[b], actor, retain_graph=True)
        grads[b] = torch.cat([x.reshape(-1) for x in g]).double().numpy()
    mean = grads.mean(axis=0)
    var = grads.var(axis=0, ddof=1)
    return GradientSNR(
        snr=float(_ratio(np.array(mean @ mean), np.array(var.sum()))),
        per_parameter=_ratio(mean**2, var),
        mean_gradient=mean,
        gradients=grads,
        zero_batches=int(batches - hit.sum()),
        batches=batches,
        episodes_per_batch=episodes_per_batch,
    )
