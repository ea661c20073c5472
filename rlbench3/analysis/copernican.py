"""The Copernican test (T7): does a dynamics model extrapolate like the law, or only interpolate?

The essay's closing argument: strong generalization is performing on a different distribution
from the same generative process, and a "pre-Copernican" model interpolates shallow statistics
where the law would extrapolate. ``rlbench3/Orbit-v0`` varies the regime while Newton's law stays
fixed; the regimes are those of the suite ``envs/orbit.yaml`` (experiment
``orbit-regimes-dense``): training around one star on near-circular orbits and a mass range;
held out, a binary star, eccentric orbits, primary masses outside the range.

Three models of the craft's motion are compared, each fitted on transitions collected with
random thrust in the training regime:

* ``mlp``: a generic MLP (the "statistical superstition") mapping the craft's position and
  velocity, the bodies' positions, velocities and masses and the action to the change of the
  craft's state over a step (torch, CPU, one thread);
* ``law``: the law's form, ``a = K sum_i m_i (p_i - x) / |p_i - x|^3 + B u``, with the two
  constants K (the gravitational constant) and B (the thrust gain) fitted by linear least
  squares, integrated by one kick-drift-kick leapfrog step per env step (it knows the law, not
  the simulator's substeps, so its error has a floor of the integrator's mismatch);
* ``simulator``: the env itself, restored to the saved state at the start of each window (the
  floor: zero error, which also checks that the saved state is complete).

The bodies are exogenous: every model is given their true positions at every step (their motion
is not what is predicted). The error of a k-step open-loop prediction (k = 1, 10, 100) from a
true state is ``sqrt((|dx|^2 / |x0|^2 + |dv|^2 / |v0|^2) / 2)``, position and velocity errors
relative to the craft's distance and speed at the window's start (scale-free, so regimes of
other masses compare); a model's error in a regime is the median over windows of fresh
episodes. Per seed, the extrapolation / interpolation ratio is the held-out regime's error over
the training regime's; the table gives the geometric mean over seeds with a percentile
bootstrap interval (:func:`rlbench3.analysis.metrics.bootstrap_mean` on log10 ratios, explicit
seeds).

The RL agents' side of the same question: the agents of the suite (PPO by the population trainer
and SAC, trained on the training regime of the same suite) are evaluated on each held-out split,
and :func:`agent_gaps` reads their final evaluation episodes from the results folder
(:func:`rlbench3.analysis.results.load_episodes`): success on the training regime and on each
held-out one, the paired gap train - held-out with the two-level interval of the generalization
tables (:func:`rlbench3.analysis.metrics.two_level_gap`), and the retention held-out / train
success (a ratio of means, seeds resampled in pairs). An agent whose retention is near 1 looks
like the law model; one far below 1, like the MLP. A gap of an agent that never succeeds on its
training regime is 0 by construction: the table says so instead of reporting it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from rlbench3.analysis.metrics import (
    Estimate,
    bootstrap_mean,
    rng_for,
    two_level_estimates,
    two_level_gap,
)
from rlbench3.analysis.results import load_episodes
from rlbench3.envs.orbit import MAX_STEPS, MAX_VALUE, OrbitVectorEnv, observation_layout
from rlbench3.harness.run_config import TRAIN
from rlbench3.harness.suites import load_suite
from rlbench3.harness.sweep import run_suite

SUITE, EXPERIMENT = "orbit", "orbit-regimes-dense"
MODELS = ("mlp", "law", "simulator")
K_STEPS = (1, 10, 100)
# What makes a collection reward-free and endless: no success, no truncation (the horizon is
# set past the episode's end), no empty tank (random thrust spends at most 0.03 per step).
_COLLECTION = {"fuel": MAX_VALUE, "hold_steps": MAX_STEPS, "reward_mode": "sparse"}
# Below this final success on its training regime (mean over seeds) an agent's held-out gap is
# reported as undefined: it learned (almost) nothing that could fail to transfer.
MIN_TRAIN_SUCCESS = 0.05


@dataclass(frozen=True)
class Scale:
    """Sizes of a T7 run: ``seeds`` independent repetitions, each collecting ``copies`` episodes
    of ``steps`` steps per regime for fitting and as many fresh ones for testing, windows
    starting every ``window_every`` steps, and an MLP of ``hidden`` units x 2 layers trained for
    ``updates`` Adam steps on minibatches of ``batch``."""

    seeds: int
    copies: int
    steps: int
    window_every: int
    hidden: int
    updates: int
    batch: int = 512


SCALES = {
    "tiny": Scale(seeds=2, copies=4, steps=24, window_every=8, hidden=16, updates=50, batch=64),
    # About 30 s of CPU per seed, most of it the MLP's 10k Adam steps: 2-3 minutes on 2 free
    # cores, 4.5 at a load of 5 on them.
    "smoke": Scale(seeds=5, copies=128, steps=200, window_every=20, hidden=128, updates=10000),
    "full": Scale(
        seeds=10, copies=256, steps=300, window_every=10, hidden=256, updates=30000, batch=1024
    ),
}


def regimes(suite: str = SUITE, experiment: str = EXPERIMENT) -> dict[str, dict[str, Any]]:
    """``{regime: Orbit parameters}``, the training regime (``"train"``) first, then the held-out
    splits, read from the suite (its experiment's params, then the train or split overrides)."""
    loaded = load_suite(suite)
    exp = next((e for e in loaded.experiments if e.name == experiment), None)
    if exp is None:
        names = ", ".join(e.name for e in loaded.experiments)
        raise ValueError(f"suite {suite!r} has no experiment {experiment!r}; it has {names}")
    if not isinstance(exp.train, dict):
        raise ValueError(f"{suite}/{experiment}: T7 needs train parameters, not a preset")
    out = {TRAIN: {**exp.params, **exp.train}}
    out.update({name: {**exp.params, **split} for name, split in exp.splits.items()})
    return out


# --------------------------------------------------------------------------------------------
# Data


@dataclass
class Trajectories:
    """Episodes of ``n`` copies over ``T`` steps in one regime (float64, barycentric).

    Attributes:
        craft: ``(T + 1, n, 2 d)`` the craft's position, then velocity.
        bodies: ``(T + 1, n, N, 2 d)`` each body's position, then velocity.
        masses: ``(n, N)``.
        actions: ``(T, n, d)``.
        alive: ``(T + 1, n)``: no collision up to that step (later steps are not used).
        dt: ``(n,)`` the step length of each copy.
        params: the env parameters (with :data:`_COLLECTION` and the horizon applied).
        snapshots: ``{t: OrbitVectorEnv.get_state()}`` at the steps asked for.
    """

    craft: np.ndarray
    bodies: np.ndarray
    masses: np.ndarray
    actions: np.ndarray
    alive: np.ndarray
    dt: np.ndarray
    params: dict[str, Any]
    snapshots: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return self.actions.shape[-1]

    def transitions(self) -> np.ndarray:
        """``(T, n)``: the step from t to t + 1 is usable (no collision by t + 1)."""
        return self.alive[1:] & self.alive[:-1]


def collect(
    params: Mapping[str, Any],
    copies: int,
    steps: int,
    seed: int,
    snapshot_at: Sequence[int] = (),
) -> Trajectories:
    """Run ``copies`` episodes of ``steps`` steps with uniform random thrust in ``[-1, 1]^d``.

    The env is seeded with ``seed`` and the actions come from ``numpy.random.default_rng(seed)``
    as well (a different generator); ``snapshot_at`` lists the steps whose full env state is kept
    (for the simulator's own predictions).
    """
    env_params = {**params, **_COLLECTION, "horizon": steps + 1}
    envs = OrbitVectorEnv(copies, **env_params)
    _, info = envs.reset(seed=seed)
    layout, d = observation_layout(envs.params), envs.params.dim
    rng = np.random.default_rng(seed)
    wanted = set(snapshot_at)
    observations, actions = [envs.observe64()], []
    alive = np.ones((steps + 1, copies), dtype=bool)
    snapshots = {}
    for t in range(steps):
        if t in wanted:
            snapshots[t] = envs.get_state()
        action = rng.uniform(-1.0, 1.0, (copies, d))
        _, _, terminated, _, _ = envs.step(action.astype(np.float32))
        observations.append(envs.observe64())
        actions.append(action.astype(np.float32).astype(np.float64))
        alive[t + 1 :] &= ~terminated
    obs = np.array(observations)
    craft = np.concatenate((obs[..., layout["position"]], obs[..., layout["velocity"]]), axis=-1)
    bodies = np.stack(
        [
            np.concatenate((obs[..., p], obs[..., v]), axis=-1)
            for p, v in zip(layout["body_position"], layout["body_velocity"])
        ],
        axis=-2,
    )
    masses = np.stack([obs[0][:, s][:, 0] for s in layout["body_mass"]], axis=-1)
    dt = np.broadcast_to(np.asarray(info["params"]["dt"], dtype=np.float64), (copies,)).copy()
    return Trajectories(craft, bodies, masses, np.array(actions), alive, dt, env_params, snapshots)


def window_errors(
    predicted: np.ndarray, data: Trajectories, starts: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Relative errors ``(S, n)`` of predictions ``(S, n, 2 d)`` of the state ``k`` steps after
    each start, and which windows count (no collision up to their end)."""
    d = data.dim
    start, true = data.craft[starts], data.craft[starts + k]
    position = np.linalg.norm(predicted[..., :d] - true[..., :d], axis=-1)
    velocity = np.linalg.norm(predicted[..., d:] - true[..., d:], axis=-1)
    relative = np.sqrt(
        (
            (position / np.linalg.norm(start[..., :d], axis=-1)) ** 2
            + (velocity / np.linalg.norm(start[..., d:], axis=-1)) ** 2
        )
        / 2.0
    )
    return relative, data.alive[starts + k]


def window_starts(steps: int, k: int, every: int) -> np.ndarray:
    """The windows' first steps: every ``every`` steps while ``k`` steps still fit."""
    return np.arange(0, steps - k + 1, every)


# --------------------------------------------------------------------------------------------
# Models


def inverse_square_field(x: np.ndarray, bodies: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """``sum_i m_i (p_i - x) / |p_i - x|^3`` for ``x (..., d)``, body positions
    ``(..., N, d)`` and masses ``(..., N)``: the law's field without its constant."""
    offset = bodies - x[..., None, :]
    distance3 = np.sum(offset * offset, axis=-1) ** 1.5
    return np.sum(masses[..., None] * offset / distance3[..., None], axis=-2)


class LawModel:
    """The inverse-square law with fitted constants, one leapfrog step per env step.

    ``a = K * inverse_square_field(x, p, m) + B * u``; :meth:`fit` solves for ``(K, B)`` by
    linear least squares on every usable transition, stacking the velocity equation
    ``v1 - v0 = dt/2 (a(x0, p0) + a(x1, p1))`` and the position equation
    ``x1 - x0 - dt v0 = dt^2/2 a(x0, p0)`` of a kick-drift-kick step, which are linear in K, B.
    """

    name = "law"

    def __init__(self) -> None:
        self.constants = (math.nan, math.nan)

    def fit(self, data: Trajectories) -> LawModel:
        d, usable = data.dim, data.transitions()
        x, v = data.craft[..., :d], data.craft[..., d:]
        positions = data.bodies[..., :d]
        dt = data.dt[None, :, None]
        g0 = inverse_square_field(x[:-1], positions[:-1], data.masses[None])
        g1 = inverse_square_field(x[1:], positions[1:], data.masses[None])
        u = data.actions
        velocity_rows = np.stack((dt / 2 * (g0 + g1), dt * u), axis=-1)
        position_rows = np.stack((dt * dt / 2 * g0, dt * dt / 2 * u), axis=-1)
        design = np.concatenate(
            (velocity_rows[usable].reshape(-1, 2), position_rows[usable].reshape(-1, 2))
        )
        target = np.concatenate(
            (
                (v[1:] - v[:-1])[usable].ravel(),
                (x[1:] - x[:-1] - dt * v[:-1])[usable].ravel(),
            )
        )
        solution, *_ = np.linalg.lstsq(design, target, rcond=None)
        self.constants = (float(solution[0]), float(solution[1]))
        return self

    def rollout(self, data: Trajectories, starts: np.ndarray, k: int) -> np.ndarray:
        """Open-loop predictions ``(S, n, 2 d)`` of the state ``k`` steps after each start."""
        (gravity, gain), d = self.constants, data.dim
        x, v = data.craft[starts, :, :d].copy(), data.craft[starts, :, d:].copy()
        dt, masses = data.dt[None, :, None], data.masses[None]
        for j in range(k):
            u = data.actions[starts + j]
            acceleration = gravity * inverse_square_field(
                x, data.bodies[starts + j, ..., :d], masses
            )
            v = v + dt / 2 * (acceleration + gain * u)
            x = x + dt * v
            acceleration = gravity * inverse_square_field(
                x, data.bodies[starts + j + 1, ..., :d], masses
            )
            v = v + dt / 2 * (acceleration + gain * u)
        return np.concatenate((x, v), axis=-1)


class MLPModel:
    """A generic MLP of the craft's change over a step, from the craft's state, the bodies'
    states and masses, and the action (inputs and outputs standardised on the training data;
    a constant input keeps unit scale, so an unseen value of it stays of its own size)."""

    name = "mlp"

    def __init__(self, hidden: int = 128, updates: int = 3000, batch: int = 512, seed: int = 0):
        self.hidden, self.updates, self.batch, self.seed = hidden, updates, batch, seed
        self.net: torch.nn.Module | None = None
        self.losses: list[float] = []

    @staticmethod
    def features(data: Trajectories, t: np.ndarray, craft: np.ndarray) -> np.ndarray:
        """Inputs ``(..., F)`` at steps ``t`` given the craft's (predicted) states."""
        bodies = data.bodies[t].reshape(*data.bodies[t].shape[:-2], -1)
        masses = np.broadcast_to(data.masses, (*craft.shape[:-1], data.masses.shape[-1]))
        return np.concatenate((craft, bodies, masses, data.actions[t]), axis=-1)

    def fit(self, data: Trajectories) -> MLPModel:
        usable = data.transitions()
        steps = np.arange(data.actions.shape[0])
        inputs = self.features(data, steps, data.craft[:-1])[usable]
        targets = (data.craft[1:] - data.craft[:-1])[usable]
        self._in = _standardiser(inputs)
        self._out = _standardiser(targets)
        previous = torch.get_num_threads()
        torch.set_num_threads(1)  # small nets: one thread is fastest, and results are fixed
        try:
            generator = torch.Generator().manual_seed(self.seed)
            torch.manual_seed(self.seed)
            net = torch.nn.Sequential(
                torch.nn.Linear(inputs.shape[1], self.hidden),
                torch.nn.SiLU(),
                torch.nn.Linear(self.hidden, self.hidden),
                torch.nn.SiLU(),
                torch.nn.Linear(self.hidden, targets.shape[1]),
            )
            x = torch.as_tensor((inputs - self._in[0]) / self._in[1], dtype=torch.float32)
            y = torch.as_tensor((targets - self._out[0]) / self._out[1], dtype=torch.float32)
            optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
            schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, self.updates)
            for _ in range(self.updates):
                rows = torch.randint(len(x), (min(self.batch, len(x)),), generator=generator)
                loss = torch.nn.functional.mse_loss(net(x[rows]), y[rows])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
                self.losses.append(loss.item())
        finally:
            torch.set_num_threads(previous)
        self.net = net.eval()
        return self

    def rollout(self, data: Trajectories, starts: np.ndarray, k: int) -> np.ndarray:
        """Open-loop predictions ``(S, n, 2 d)`` of the state ``k`` steps after each start."""
        if self.net is None:
            raise RuntimeError("fit the model first")
        craft = data.craft[starts].copy()
        with torch.no_grad():
            for j in range(k):
                inputs = (self.features(data, starts + j, craft) - self._in[0]) / self._in[1]
                change = self.net(torch.as_tensor(inputs, dtype=torch.float32)).double().numpy()
                craft = craft + (self._out[0] + self._out[1] * change)
        return craft


def _standardiser(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = values.mean(axis=0), values.std(axis=0)
    return mean, np.where(std > 1e-8, std, 1.0)


class SimulatorModel:
    """The true simulator: the env restored to the state saved at each window's start, then
    stepped with the recorded actions."""

    name = "simulator"

    def fit(self, data: Trajectories) -> SimulatorModel:
        return self

    def rollout(self, data: Trajectories, starts: np.ndarray, k: int) -> np.ndarray:
        copies, d = data.craft.shape[1], data.dim
        envs = OrbitVectorEnv(copies, **data.params)
        out = np.empty((len(starts), copies, 2 * d))
        for i, start in enumerate(starts.tolist()):
            if start not in data.snapshots:
                raise ValueError(f"no saved state at step {start}; collect with snapshot_at")
            envs.set_state(data.snapshots[start])
            for j in range(k):
                envs.step(data.actions[start + j].astype(np.float32))
            out[i] = envs.observe64()[:, : 2 * d]
        return out


# --------------------------------------------------------------------------------------------
# The test


def extrapolation_ratio(
    train_errors: np.ndarray, heldout_errors: np.ndarray, rng: Any, reps: int = 2000
) -> Estimate:
    """Geometric mean over seeds of ``heldout / train`` with a 95% percentile-bootstrap interval
    (seeds resampled; :func:`bootstrap_mean` on the log10 ratios, then back).

    Args:
        train_errors, heldout_errors: ``(num_seeds,)``, row i the same seed's models.
        rng: the bootstrap's generator or seed.
    """
    train, heldout = np.asarray(train_errors, float), np.asarray(heldout_errors, float)
    if train.shape != heldout.shape or train.ndim != 1:
        raise ValueError(f"need two (num_seeds,) arrays, got {train.shape} and {heldout.shape}")
    if not (train > 0).all() or not (heldout > 0).all():
        raise ValueError("a ratio of errors needs positive errors (the simulator's are 0)")
    estimate = bootstrap_mean(np.log10(heldout / train), rng, reps=reps)
    return Estimate(*(10.0 ** np.asarray(x) for x in (estimate.point, estimate.low, estimate.high)))


@dataclass
class T7Result:
    """``errors[model][k][regime]``: the median window error of each seed, ``(num_seeds,)``;
    ``constants``: the law model's fitted ``(K, B)`` per seed; and the run's settings."""

    errors: dict[str, dict[int, dict[str, np.ndarray]]]
    constants: np.ndarray
    scale: Scale
    regimes: list[str]
    k_steps: tuple[int, ...]
    seed: int
    transitions: int
    windows: dict[int, int]


def run_t7(
    scale: Scale | str = "smoke",
    *,
    seed: int = 0,
    k_steps: Sequence[int] = K_STEPS,
    regime_params: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Any = None,
) -> T7Result:
    """Collect, fit and evaluate, for seeds ``seed .. seed + scale.seeds - 1``.

    Seed s collects its fitting data with env seed ``1000 s + 1`` and its test data in regime
    number r with ``1000 s + 2 + r``; the MLP's weights and minibatches come from seed s.
    """
    scale = SCALES[scale] if isinstance(scale, str) else scale
    params = dict(regime_params) if regime_params is not None else regimes()
    names = list(params)
    if names[0] != TRAIN:
        raise ValueError(f"the first regime must be {TRAIN!r}, got {names[0]!r}")
    k_steps = tuple(int(k) for k in k_steps)
    if max(k_steps) > scale.steps:
        raise ValueError(f"k up to {max(k_steps)} needs episodes of at least as many steps")
    starts = {k: window_starts(scale.steps, k, scale.window_every) for k in k_steps}
    snapshot_at = sorted({int(t) for s in starts.values() for t in s})
    errors = {m: {k: {r: np.zeros(scale.seeds) for r in names} for k in k_steps} for m in MODELS}
    constants = np.zeros((scale.seeds, 2))
    transitions = 0
    for i in range(scale.seeds):
        s = seed + i
        fitting = collect(params[TRAIN], scale.copies, scale.steps, seed=1000 * s + 1)
        transitions = int(fitting.transitions().sum())
        models = [
            MLPModel(scale.hidden, scale.updates, scale.batch, seed=s).fit(fitting),
            LawModel().fit(fitting),
            SimulatorModel(),
        ]
        constants[i] = models[1].constants
        for r, name in enumerate(names):
            test = collect(
                params[name], scale.copies, scale.steps, 1000 * s + 2 + r, snapshot_at=snapshot_at
            )
            for model in models:
                for k in k_steps:
                    predicted = model.rollout(test, starts[k], k)
                    relative, counted = window_errors(predicted, test, starts[k], k)
                    errors[model.name][k][name][i] = float(np.median(relative[counted]))
            if progress is not None:
                progress(f"seed {s}: {name} done")
    windows = {k: len(starts[k]) * scale.copies for k in k_steps}
    return T7Result(errors, constants, scale, names, k_steps, seed, transitions, windows)


# --------------------------------------------------------------------------------------------
# The agents' held-out gaps


@dataclass(frozen=True)
class AgentGap:
    """One agent of one experiment of the suite: final greedy success over ``seeds`` runs of
    ``budget`` env steps, ``episodes`` evaluation episodes per run and split.

    ``train``, ``heldout[split]``: mean success over seeds with the two-level interval;
    ``gap[split]``: train - held-out, paired by run (:func:`two_level_gap`); ``retention[split]``:
    held-out / train mean success (:func:`success_retention`), None where the training success
    is below :data:`MIN_TRAIN_SUCCESS` (the gap is then undefined, not small)."""

    experiment: str
    agent: str
    budget: int
    seeds: int
    episodes: int
    train: Estimate
    heldout: dict[str, Estimate]
    gap: dict[str, Estimate]
    retention: dict[str, Estimate | None]

    @property
    def learned(self) -> bool:
        """Whether the training success reaches :data:`MIN_TRAIN_SUCCESS`."""
        return float(self.train.point) >= MIN_TRAIN_SUCCESS


def success_retention(
    train_episodes: Sequence[np.ndarray],
    test_episodes: Sequence[np.ndarray],
    rng: Any,
    reps: int = 2000,
) -> Estimate:
    """``mean(test) / mean(train)`` of per-run mean successes with a 95% percentile-bootstrap
    interval (runs resampled in pairs; a resample whose training mean is 0 has no ratio and is
    dropped).

    Args:
        train_episodes, test_episodes: per run, ``(num_episodes,)`` its final episodes' scores.
        rng: the bootstrap's generator or seed.
    """
    train = np.array([np.mean(e) for e in train_episodes], dtype=float)
    test = np.array([np.mean(e) for e in test_episodes], dtype=float)
    if train.shape != test.shape or train.size == 0:
        raise ValueError(f"paired runs needed, got {train.size} and {test.size}")
    if train.mean() <= 0.0:
        raise ValueError("a retention needs some training success (the mean over runs is 0)")
    gen = np.random.default_rng(rng)
    idx = gen.integers(train.size, size=(reps, train.size))
    num, den = test[idx].mean(axis=1), train[idx].mean(axis=1)
    ratios = num[den > 0] / den[den > 0]
    point = float(test.mean() / train.mean())
    low, high = np.quantile(ratios, [0.025, 0.975])
    return Estimate(point, float(min(low, point)), float(max(high, point)))


def _runs_by_split(frame: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    """``split -> run_id -> (num_episodes,)`` successes, in episode order."""
    ordered = frame.sort_values(["split", "run_id", "episode"], kind="stable")
    return {
        str(split): {
            str(run): g["success"].to_numpy(float) for run, g in f.groupby("run_id", sort=False)
        }
        for split, f in ordered.groupby("split", sort=False)
    }


def gaps_from_episodes(
    episodes: pd.DataFrame, heldout: Sequence[str], bootstrap_seed: int = 0
) -> list[AgentGap]:
    """One :class:`AgentGap` per experiment x agent of an episodes frame
    (:func:`rlbench3.analysis.results.load_episodes`), on the held-out splits ``heldout``;
    only runs evaluated on the training split and on every one of them count, in seed order."""
    out = []
    for (experiment, agent), frame in episodes.groupby(["experiment", "agent"], sort=True):
        by_split = _runs_by_split(frame)
        missing = [name for name in (TRAIN, *heldout) if name not in by_split]
        if missing:
            raise ValueError(f"{experiment}/{agent}: no evaluation on split(s) {missing}")
        seed_of = frame.groupby("run_id")["seed"].first()
        runs = sorted(
            set.intersection(*(set(by_split[name]) for name in (TRAIN, *heldout))),
            key=lambda run: (int(seed_of[run]), run),
        )
        train_eps = [by_split[TRAIN][run] for run in runs]
        rng = rng_for(bootstrap_seed, "t7-agents", experiment, agent)
        train = two_level_estimates(train_eps, rng)["mean"]
        learned = float(train.point) >= MIN_TRAIN_SUCCESS
        heldout_est, gap, retention = {}, {}, {}
        for name in heldout:
            test_eps = [by_split[name][run] for run in runs]
            heldout_est[name] = two_level_estimates(test_eps, rng)["mean"]
            gap[name] = two_level_gap(train_eps, test_eps, rng)
            retention[name] = success_retention(train_eps, test_eps, rng) if learned else None
        out.append(
            AgentGap(
                experiment=str(experiment),
                agent=str(agent),
                budget=int(frame["budget"].iloc[0]),
                seeds=len(runs),
                episodes=int(min(e.size for e in train_eps)),
                train=train,
                heldout=heldout_est,
                gap=gap,
                retention=retention,
            )
        )
    return out


def agent_gaps(
    out: str | Path, heldout: Sequence[str] | None = None, bootstrap_seed: int = 0
) -> list[AgentGap]:
    """:func:`gaps_from_episodes` of a results folder of the suite (default held-out splits:
    those of :func:`regimes`)."""
    names = list(heldout) if heldout is not None else list(regimes())[1:]
    return gaps_from_episodes(load_episodes(out), names, bootstrap_seed)


def run_agents(out: str | Path, *, workers: int = 2, progress: bool = False) -> Path:
    """Train and evaluate the suite's agents into ``out`` (:func:`run_suite`: runs already
    finished there are kept), and return the folder."""
    return run_suite(SUITE, out, workers=workers, progress=progress).out


def _estimate_text(estimate: Estimate) -> str:
    return f"{estimate.point:.3g} [{estimate.low:.3g}, {estimate.high:.3g}]"


def t7_table(result: T7Result, agents: Sequence[AgentGap] = (), bootstrap_seed: int = 0) -> str:
    """The T7 table in Markdown, caption first: per model and k, the training regime's median
    error (mean over seeds) and, per held-out regime, the extrapolation / interpolation ratio
    with its interval; then a row per agent (:func:`agent_gaps`): its training success and,
    per held-out regime, its retention, held-out success and gap train - held-out."""
    heldout = result.regimes[1:]
    sc = result.scale
    seeds = f"{result.seed}..{result.seed + sc.seeds - 1}"
    caption = (
        f"**T7, the Copernican test.** Open-loop k-step prediction of the craft's state on "
        f"rlbench3/Orbit-v0 (regimes of envs/orbit.yaml, {EXPERIMENT}). Models fitted on "
        f"{result.transitions} transitions per seed ({sc.copies} episodes x {sc.steps} steps of "
        f"uniform random thrust) in the training regime; evaluated on as many fresh episodes "
        f"per regime, windows every {sc.window_every} steps "
        f"({', '.join(f'{n} at k={k}' for k, n in result.windows.items())}). Error: median over "
        f"windows of the relative state error; 'train' is its mean over seeds. Ratio: held-out "
        f"error / training-regime error, geometric mean over seeds {seeds} with a 95% "
        f"percentile-bootstrap interval over seeds (2000 resamples of log10 ratios, bootstrap "
        f"seed {bootstrap_seed}). mlp: 2 x {sc.hidden} SiLU, {sc.updates} Adam steps; law: "
        f"inverse-square field with fitted K and B, one leapfrog step per env step; simulator: "
        f"the env restored to the window's start (error 0, ratio undefined)."
    )
    if agents:
        caption += (
            " Agents (rows 'agent: ...'), trained on the training regime of the suite: 'train' is "
            "the final greedy success there, each regime's cell its retention held-out / train "
            "success (95% percentile bootstrap over seeds, paired), then the held-out success "
            "and the gap train - held-out (95% two-level bootstrap, seeds then episodes, "
            "expanded-percentile ends); "
            + "; ".join(
                f"{a.agent}: {a.seeds} seeds x {a.budget} steps, {a.episodes} episodes per split"
                for a in agents
            )
            + f". A training success below {MIN_TRAIN_SUCCESS} leaves the gap undefined."
        )
    header = ["model", "k", "train", *heldout]
    lines = [caption, "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for model in MODELS:
        for k in result.k_steps:
            train = result.errors[model][k][TRAIN]
            cells = [model, str(k), f"error {train.mean():.3g}"]
            for regime in heldout:
                test = result.errors[model][k][regime]
                if (train > 0).all() and (test > 0).all():
                    rng = rng_for(bootstrap_seed, model, k, regime)
                    cells.append("ratio " + _estimate_text(extrapolation_ratio(train, test, rng)))
                else:
                    cells.append(f"— (errors {train.max():.2g}, {test.max():.2g})")
            lines.append("| " + " | ".join(cells) + " |")
    lines += [_agent_row(agent, heldout) for agent in agents]
    gravity, gain = result.constants.mean(axis=0)
    lines += [
        "",
        f"Law model's fitted constants (mean over seeds): K = {gravity:.5f} (true G = 1), "
        f"B = {gain:.5f} (true thrust gain = 0.2 unless the regime sets it).",
    ]
    return "\n".join(lines)


def _success_text(estimate: Estimate) -> str:
    return f"{estimate.point:.2f} [{estimate.low:.2f}, {estimate.high:.2f}]"


def _agent_row(agent: AgentGap, heldout: Sequence[str]) -> str:
    """A T7 table row of an agent (see :func:`t7_table`)."""
    cells = [f"agent: {agent.agent}", "—", "success " + _success_text(agent.train)]
    for regime in heldout:
        seen = f"success {_success_text(agent.heldout[regime])}"
        retention = agent.retention[regime]
        if retention is None:
            cells.append(f"gap undefined (train success < {MIN_TRAIN_SUCCESS}); {seen}")
        else:
            gap = _success_text(agent.gap[regime])
            cells.append(f"retention {_estimate_text(retention)}; {seen}; gap {gap}")
    return "| " + " | ".join(cells) + " |"


def t7_sections(
    result: T7Result, agents: Sequence[AgentGap] = (), bootstrap_seed: int = 0
) -> dict[str, pd.DataFrame]:
    """T7 as table sections (title -> numeric DataFrame, estimates as ``x``, ``x_low``,
    ``x_high``; :func:`rlbench3.analysis.tables.render_sections` renders them): the models'
    extrapolation / interpolation ratios per held-out regime (``seeds``: the repetitions), and
    the agents' training success, held-out success, retention and gap per regime. The same
    numbers as :func:`t7_table`."""
    heldout = result.regimes[1:]
    sc = result.scale
    model_rows = []
    for model in MODELS:
        for k in result.k_steps:
            train = result.errors[model][k][TRAIN]
            row: dict[str, Any] = {
                "model": model,
                "k": k,
                "seeds": sc.seeds,
                "train_error": float(train.mean()),
            }
            for regime in heldout:
                test = result.errors[model][k][regime]
                if (train > 0).all() and (test > 0).all():
                    est = extrapolation_ratio(
                        train, test, rng_for(bootstrap_seed, model, k, regime)
                    )
                else:
                    est = Estimate(np.nan, np.nan, np.nan)
                row[regime], row[f"{regime}_low"], row[f"{regime}_high"] = (
                    float(est.point),
                    float(est.low),
                    float(est.high),
                )
            model_rows.append(row)
    sections = {
        f"The Copernican test: open-loop k-step prediction error of the craft's state on "
        f"rlbench3/Orbit-v0, held-out regime / training regime (geometric mean over "
        f"{sc.seeds} seeds, 95% percentile bootstrap over seeds; 'ratio undefined' for the "
        f"simulator, whose error is 0); models fitted on {result.transitions} transitions of "
        f"uniform random thrust in the training regime (mlp: 2 x {sc.hidden} SiLU; law: "
        f"inverse-square field with fitted constants; simulator: the env itself)": pd.DataFrame(
            model_rows
        )
    }
    if agents:
        agent_rows = []
        for agent in agents:
            row = {
                "experiment": agent.experiment,
                "agent": agent.agent,
                "seeds": agent.seeds,
                "budget": agent.budget,
            }
            row["train"], row["train_low"], row["train_high"] = (
                float(agent.train.point),
                float(agent.train.low),
                float(agent.train.high),
            )
            for regime in heldout:
                for name, est in (
                    ("success", agent.heldout[regime]),
                    ("gap", agent.gap[regime] if agent.learned else None),
                    ("retention", agent.retention[regime]),
                ):
                    est = est if est is not None else Estimate(np.nan, np.nan, np.nan)
                    key = f"{regime}_{name}"
                    row[key], row[f"{key}_low"], row[f"{key}_high"] = (
                        float(est.point),
                        float(est.low),
                        float(est.high),
                    )
            agent_rows.append(row)
        sections[
            "The agents on the same regimes: final greedy success on the training regime and on "
            "each held-out one (95% two-level bootstrap), the gap train - held-out (paired, "
            "two-level) and the retention held-out / train (95% percentile bootstrap over "
            f"seeds); gap and retention are n/a where the training success is below "
            f"{MIN_TRAIN_SUCCESS} (nothing learned that could fail to transfer)"
        ] = pd.DataFrame(agent_rows)
    return sections
