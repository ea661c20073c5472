"""Orbit: a spacecraft with bounded thrust in the Newtonian field of N bodies (pure numpy).

:class:`OrbitEnv` is the env and its docstring the spec; :class:`OrbitParams` holds its
parameters, and :class:`OrbitVectorEnv` steps many copies of it at once. The law of motion is the
same in every setting; only the regime changes (one star or a binary, near-circular or eccentric
orbits, light or heavy stars). The held-out splits of ``envs/orbit.yaml`` and the Copernican test
(:mod:`rlbench3.analysis.copernican`) are built on that.

Units are nondimensional: with the defaults G = 1 and the primary's mass is 1, so the default
initial orbit (radius 1) has circular speed 1 and period 2 pi.

The shared pieces (:func:`body_configuration`, :func:`episode_constants`,
:func:`initial_craft_state`) work on arrays of parameter values, one entry per copy. The single
env calls them with one-entry arrays and the batched env with many, and both then integrate with
the same floating-point operations in the same order, so a copy of the batched env and a single
env given the same parameters and angles agree bit for bit.

Both integrate the velocity scaled by the substep, ``w = h v`` (the displacement per substep):
a drift is then ``x += w`` and a kick ``w += h^2 (thrust - pull)`` with the ``h^2`` folded into
per-episode constants, two multiplications fewer per substep than with ``v``. Velocities are
``w / h`` wherever they are observed.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding

from rlbench3.envs.batching import (
    BatchedVectorEnv,
    check_preset,
    frozen,
    masked,
    per_copy,
    reset_mask,
    step_before_reset,
)
from rlbench3.envs.parameters import Distribution, EnvParams, choice, number
from rlbench3.envs.presets import resolve_params
from rlbench3.envs.rendering import BLUE, DARK, GREEN, GREY, Canvas, check_render_mode

TAU = 2.0 * math.pi
# Finite valid ranges for every number: a value beyond them cannot be meant and is refused at
# construction. MIN_RADIUS bounds the field, G M / body_radius^2 <= 1e24.
MAX_BODIES = 8
MAX_STEPS = 10**6
MAX_SUBSTEPS = 1000
MAX_VALUE = 1e6
MIN_RADIUS = 1e-6
# The angles drawn at every reset, in this order (uniform on [0, 2 pi)).
ANGLES = ("periapsis_angle", "true_anomaly", "body_angle", "target_angle")
# Reductions as ufunc calls, without the Python wrapper of ndarray.max / any / all.
_largest, _some, _every = np.maximum.reduce, np.logical_or.reduce, np.logical_and.reduce
# A floor under the divisors that can be zero: the craft's distance to the barycentre (only
# inside the primary, an episode that has just ended) and a step's requested velocity change.
_TINY = 1e-300
# The numeric parameters that enter the physics, one value per copy in the batched env.
PHYSICAL = (
    "gravitational_constant",
    "primary_mass",
    "companion_mass",
    "companion_distance",
    "body_radius",
    "initial_radius",
    "initial_eccentricity",
    "initial_inclination",
    "target_radius",
    "tolerance",
    "hold_steps",
    "thrust_gain",
    "fuel",
    "dt",
)


@dataclass(frozen=True)
class OrbitParams(EnvParams):
    """Parameters of :class:`OrbitEnv` (see its docstring for the spec)."""

    family = "Orbit"

    dim: int = number(
        2, ge=2, le=3, integer=True, randomizable=False, why_fixed="it fixes the spaces"
    )
    task: str = choice("orbit", ("orbit", "rendezvous"))
    n_bodies: int = number(
        1,
        ge=1,
        le=MAX_BODIES,
        integer=True,
        randomizable=False,
        why_fixed="it fixes the observation space",
    )
    horizon: int = number(
        200,
        ge=1,
        le=MAX_STEPS,
        integer=True,
        randomizable=False,
        why_fixed="it is the episode length",
    )
    substeps: int = number(
        3,
        ge=1,
        le=MAX_SUBSTEPS,
        integer=True,
        randomizable=False,
        why_fixed="the batched env integrates every copy with the same substeps",
    )
    reward_mode: str = choice("sparse", ("sparse", "dense"))
    gravitational_constant: float | Distribution = number(1.0, gt=0.0, le=MAX_VALUE)
    primary_mass: float | Distribution = number(1.0, gt=0.0, le=MAX_VALUE)
    companion_mass: float | Distribution = number(0.1, ge=0.0, le=MAX_VALUE)
    companion_distance: float | Distribution = number(0.25, gt=0.0, le=MAX_VALUE)
    body_radius: float | Distribution = number(0.05, ge=MIN_RADIUS, le=MAX_VALUE)
    initial_radius: float | Distribution = number(1.0, gt=0.0, le=MAX_VALUE)
    initial_eccentricity: float | Distribution = number(0.0, ge=0.0, lt=1.0)
    initial_inclination: float | Distribution = number(0.2, ge=0.0, le=math.pi)
    target_radius: float | Distribution = number(1.5, gt=0.0, le=MAX_VALUE)
    tolerance: float | Distribution = number(0.05, gt=0.0, le=MAX_VALUE)
    hold_steps: int | Distribution = number(10, ge=1, le=MAX_STEPS, integer=True)
    thrust_gain: float | Distribution = number(0.2, gt=0.0, le=MAX_VALUE)
    fuel: float | Distribution = number(0.5, ge=0.0, le=MAX_VALUE)
    dt: float | Distribution = number(0.1, gt=0.0, le=1.0)


# --------------------------------------------------------------------------------------------
# Shared pieces: arrays of parameter values in, arrays out (one entry per copy)


def _cos_sin(angles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosine and sine with the C library's functions, one angle at a time.

    numpy's vectorised (SIMD) trigonometry may differ from the C library in the last bit, and
    the batched env would then draw other initial states than the single env. Trigonometry is
    only needed at reset, so the loop costs little; an array of one repeated value (a fixed
    parameter in the batched env) costs one call.
    """
    flat = np.asarray(angles, dtype=np.float64).ravel()
    if flat.size > 1 and (flat == flat[0]).all():
        first = float(flat[0])
        cos = np.full(np.shape(angles), math.cos(first))
        return cos, np.full(np.shape(angles), math.sin(first))
    values = flat.tolist()
    cos = np.array([math.cos(a) for a in values]).reshape(np.shape(angles))
    sin = np.array([math.sin(a) for a in values]).reshape(np.shape(angles))
    return cos, sin


def ring_coefficient(n_companions: int) -> float:
    """``c`` in ``omega^2 = G (M + c m) / d^3``, for the bodies of :func:`body_configuration`.

    One companion: the two bodies circle their barycentre, ``c = 1``. Two or more: a ring of
    equal companions around the primary; the pull of the other companions on one of them adds
    ``m / (4 d^2) * sum_j 1 / sin(pi j / n)`` to the primary's ``M / d^2``.
    """
    if n_companions <= 0:
        return 0.0
    if n_companions == 1:
        return 1.0
    return 0.25 * sum(1.0 / math.sin(math.pi * j / n_companions) for j in range(1, n_companions))


def body_configuration(
    n_bodies: int,
    gravitational_constant: np.ndarray,
    primary_mass: np.ndarray,
    companion_mass: np.ndarray,
    companion_distance: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Masses, barycentric positions at phase 0 and angular speed of the bodies.

    Body 0 is the primary; bodies 1 .. N-1 are equal companions at ``companion_distance`` from it,
    evenly spaced in angle (one companion: a binary). Each configuration is a relative
    equilibrium of Newton's N-body equations (a "central configuration"): the bodies turn rigidly
    about their barycentre, at the origin, with angular speed ``omega`` in the x-y plane.

    Args: arrays of shape ``(k,)``, one entry per copy.

    Returns:
        ``masses (N, k)``, ``qx (N, k)``, ``qy (N, k)`` (positions at phase 0) and
        ``omega (k,)`` (0 for a single body).
    """
    g, big, small, d = (
        np.asarray(a, dtype=np.float64)
        for a in (gravitational_constant, primary_mass, companion_mass, companion_distance)
    )
    k, n = big.shape[0], n_bodies - 1
    masses = np.empty((n_bodies, k))
    masses[0] = big
    masses[1:] = small
    qx = np.zeros((n_bodies, k))
    qy = np.zeros((n_bodies, k))
    if n == 0:
        return masses, qx, qy, np.zeros(k)
    if n == 1:
        total = big + small
        qx[0] = -(small * d) / total
        qx[1] = (big * d) / total
    else:
        cos, sin = _cos_sin(TAU * np.arange(1, n_bodies) / n)
        qx[1:] = d * cos[:, None]
        qy[1:] = d * sin[:, None]
    omega = np.sqrt(g * (big + ring_coefficient(n) * small) / (d * d * d))
    return masses, qx, qy, omega


def episode_constants(values: Mapping[str, np.ndarray], n_bodies: int, substeps: int) -> dict:
    """Everything the integration needs that stays fixed over an episode, one entry per copy.

    Args:
        values: every name of :data:`PHYSICAL` -> an array ``(k,)`` of its values.

    Returns a dict of arrays ``(k,)``, or ``(N, k)`` for the per-body ``mass``, ``gm``
    (G times the mass), ``gm_h2`` and ``gm_h2_half`` (``gm`` times ``h2`` and ``h2_half``) and
    ``qx``, ``qy`` (positions at phase 0): ``h`` (the substep), ``inv_h``, ``h2`` (``h^2``, the
    change of ``w = h v`` per unit acceleration over a substep), ``h2_half`` (half of it),
    ``radius2`` (``body_radius^2``), ``omega`` and ``spin_cos``/``spin_sin`` (the bodies' angular
    speed and turn per substep), ``mu`` (G times the total mass), ``circular_speed`` at the
    target radius and ``inv_speed``, ``inv_radius`` (1 / ``target_radius``), ``target_rate`` and
    ``target_cos``/``target_sin`` (the rendezvous point's angular speed and turn per step),
    ``gain`` (``thrust_gain``) and ``gain_dt`` (the velocity change of a unit action over a
    step).
    """
    v = {name: np.asarray(values[name], dtype=np.float64) for name in PHYSICAL}
    g = v["gravitational_constant"]
    masses, qx, qy, omega = body_configuration(
        n_bodies, g, v["primary_mass"], v["companion_mass"], v["companion_distance"]
    )
    h = v["dt"] / substeps
    h2, h2_half = h * h, h * (0.5 * h)
    gm = g * masses
    spin_cos, spin_sin = _cos_sin(omega * h)
    mu = g * (v["primary_mass"] + (n_bodies - 1) * v["companion_mass"])
    radius = v["target_radius"]
    circular_speed = np.sqrt(mu / radius)
    target_rate = circular_speed / radius
    target_cos, target_sin = _cos_sin(target_rate * v["dt"])
    return {
        "h": h,
        "inv_h": 1.0 / h,
        "h2": h2,
        "h2_half": h2_half,
        "mass": masses,
        "gm": gm,
        "gm_h2": gm * h2,
        "gm_h2_half": gm * h2_half,
        "qx": qx,
        "qy": qy,
        "omega": omega,
        "spin_cos": spin_cos,
        "spin_sin": spin_sin,
        "radius2": v["body_radius"] * v["body_radius"],
        "mu": mu,
        "circular_speed": circular_speed,
        "inv_speed": 1.0 / circular_speed,
        "inv_radius": 1.0 / radius,
        "gain": v["thrust_gain"],
        "gain_dt": v["thrust_gain"] * v["dt"],
        "target_rate": target_rate,
        "target_cos": target_cos,
        "target_sin": target_sin,
    }


def initial_craft_state(
    values: Mapping[str, np.ndarray], mu: np.ndarray, angles: np.ndarray, dim: int
) -> tuple[np.ndarray, np.ndarray]:
    """The craft's position and velocity ``(dim, k)`` on its initial Keplerian orbit.

    The orbit has semi-major axis ``initial_radius`` and eccentricity ``initial_eccentricity``
    about the total gravitational parameter ``mu`` (exact for one body, the osculating orbit
    about the barycentre for several); its periapsis points at ``periapsis_angle`` and the craft
    starts at ``true_anomaly``, moving counter-clockwise. In 3-D the orbital plane is tilted by
    ``initial_inclination`` about the x axis.

    Args:
        angles: ``(k, 4)`` in the order of :data:`ANGLES`.
    """
    a = np.asarray(values["initial_radius"], dtype=np.float64)
    e = np.asarray(values["initial_eccentricity"], dtype=np.float64)
    cos_nu, sin_nu = _cos_sin(angles[:, 1])
    cos_th, sin_th = _cos_sin(angles[:, 0] + angles[:, 1])
    p = a * (1.0 - e * e)  # semi-latus rectum
    r = p / (1.0 + e * cos_nu)
    speed = np.sqrt(mu / p)
    radial, tangential = speed * e * sin_nu, speed * (1.0 + e * cos_nu)
    x = np.zeros((dim, a.shape[0]))
    v = np.zeros((dim, a.shape[0]))
    x[0], x[1] = r * cos_th, r * sin_th
    v[0] = radial * cos_th - tangential * sin_th
    v[1] = radial * sin_th + tangential * cos_th
    if dim == 3:
        cos_i, sin_i = _cos_sin(np.asarray(values["initial_inclination"], dtype=np.float64))
        x[1], x[2] = x[1] * cos_i, x[1] * sin_i
        v[1], v[2] = v[1] * cos_i, v[1] * sin_i
    return x, v


def observation_layout(params: OrbitParams) -> dict[str, Any]:
    """Where each quantity sits in an observation: slices ``position``, ``velocity``, ``task``,
    ``fuel``, ``hold``, and per body (lists of slices, body 0 first) ``body_mass``,
    ``body_position``, ``body_velocity``."""
    d, n = params.dim, params.n_bodies
    task = 1 if params.task == "orbit" else 2 * d
    start = 2 * d + task + 2
    per_body = 1 + 2 * d
    return {
        "position": slice(0, d),
        "velocity": slice(d, 2 * d),
        "task": slice(2 * d, 2 * d + task),
        "fuel": slice(2 * d + task, 2 * d + task + 1),
        "hold": slice(2 * d + task + 1, 2 * d + task + 2),
        "body_mass": [slice(start + i * per_body, start + i * per_body + 1) for i in range(n)],
        "body_position": [
            slice(start + i * per_body + 1, start + i * per_body + 1 + d) for i in range(n)
        ],
        "body_velocity": [
            slice(start + i * per_body + 1 + d, start + (i + 1) * per_body) for i in range(n)
        ],
    }


def observation_size(params: OrbitParams) -> int:
    """The length of an observation of an env with ``params``."""
    d = params.dim
    return 2 * d + (1 if params.task == "orbit" else 2 * d) + 2 + params.n_bodies * (1 + 2 * d)


def _given_angles(options: dict[str, Any] | None) -> dict[int, float]:
    """``{index in ANGLES: value}`` of the angles set by ``reset(options=...)``, checked."""
    out = {}
    for i, name in enumerate(ANGLES):
        if options and name in options:
            value = options[name]
            number_like = isinstance(value, (int, float, np.integer, np.floating))
            if not number_like or isinstance(value, bool) or not math.isfinite(value):
                raise ValueError(f"options[{name!r}] must be a finite number, got {value!r}")
            out[i] = float(value)
    return out


# --------------------------------------------------------------------------------------------
# The batched env's force law and orbit error (the single env's operations, on arrays)


def _row_sum(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a[0] + a[1] (+ a[2])``, in that order (the single env's order)."""
    out = np.add(a[0], a[1], out=out)
    for row in a[2:]:
        out += row
    return out


def workspace(dim: int, k: int) -> dict[str, np.ndarray]:
    """Scratch arrays for :func:`batched_pull` and :func:`batched_error` on ``k`` copies.

    The batched env's updates write into these (numpy's ``out=``) instead of allocating a new
    array per operation, which at 1024 copies costs about as much again as the arithmetic.
    """
    buffers = {name: np.empty(k) for name in ("r2", "k", "tmp", "bx", "by", "r", "err")}
    return {**buffers, "sq": np.empty((dim, k))}


def batched_pull(
    x: np.ndarray,
    phase_cos: np.ndarray,
    phase_sin: np.ndarray,
    gm: np.ndarray,
    const: Mapping[str, np.ndarray],
    pull: np.ndarray,
    closest: np.ndarray,
    work: Mapping[str, np.ndarray],
    *,
    massless: Sequence[bool] = (),
    on_x_axis: bool = False,
) -> None:
    """``pull := sum_i gm_i (x - p_i) / r_i^3`` at positions ``x (dim, k)`` (inside a body,
    the pull of a uniform ball), ``closest := min(closest, min_i r_i^2)``.

    ``gm (N, k)`` is G times the masses, scaled as the caller needs (the env passes
    ``gm_h2_half`` or ``gm_h2``, so that the pull is already the change of ``w``).

    Shortcuts that leave every value unchanged (up to the sign of a zero): ``massless[i]``
    says companion ``i`` (``i >= 1``) has ``gm = 0`` in every copy, so its pull (``0 * dx``) is
    not computed, only its distance (a collision with a marker still counts); ``on_x_axis``
    says every body's phase-0 position has ``qy = 0`` (one companion), so the products with
    ``qy`` are left out.
    """
    dim, n_bodies, r2min = x.shape[0], gm.shape[0], const["radius2"]
    r2, k, tmp = work["r2"], work["k"], work["tmp"]
    if n_bodies == 1:  # the primary rests at the origin
        _row_sum(np.multiply(x, x, out=work["sq"]), out=r2)
        np.minimum(closest, r2, out=closest)
        np.maximum(r2, r2min, out=k)
        k *= np.sqrt(k, out=tmp)
        np.divide(gm[0], k, out=k)
        np.multiply(k, x, out=pull)
        return
    dx, dy = work["bx"], work["by"]
    for i in range(n_bodies):
        qx, qy = const["qx"][i], const["qy"][i]
        np.multiply(phase_cos, qx, out=dx)  # the body at cos * qx - sin * qy, sin * qx + cos * qy
        if not on_x_axis:
            dx -= np.multiply(phase_sin, qy, out=tmp)
        np.subtract(x[0], dx, out=dx)
        np.multiply(phase_sin, qx, out=dy)
        if not on_x_axis:
            dy += np.multiply(phase_cos, qy, out=tmp)
        np.subtract(x[1], dy, out=dy)
        np.multiply(dx, dx, out=r2)
        r2 += np.multiply(dy, dy, out=tmp)
        if dim == 3:
            r2 += np.multiply(x[2], x[2], out=tmp)
        np.minimum(closest, r2, out=closest)
        if i > 0 and i < len(massless) and massless[i]:
            continue
        np.maximum(r2, r2min, out=k)
        k *= np.sqrt(k, out=tmp)
        np.divide(gm[i], k, out=k)
        if i == 0:
            np.multiply(k, dx, out=pull[0])
            np.multiply(k, dy, out=pull[1])
            if dim == 3:
                np.multiply(k, x[2], out=pull[2])
        else:
            pull[0] += np.multiply(k, dx, out=tmp)
            pull[1] += np.multiply(k, dy, out=tmp)
            if dim == 3:
                pull[2] += np.multiply(k, x[2], out=tmp)


def batched_error(
    x: np.ndarray,
    v: np.ndarray,
    target_x: np.ndarray,
    target_y: np.ndarray,
    const: Mapping[str, np.ndarray],
    target_radius: np.ndarray,
    orbit_task: bool,
    work: Mapping[str, np.ndarray],
    r2: np.ndarray | None = None,
) -> np.ndarray:
    """The orbit error ``err`` of the spec at positions and velocities ``x, v (dim, k)``, into
    ``work["err"]``; ``r2``: ``x.x`` if already known."""
    inv_radius, speed, inv_speed = const["inv_radius"], const["circular_speed"], const["inv_speed"]
    sq, r, tmp, err = work["sq"], work["r"], work["tmp"], work["err"]
    if orbit_task:
        if r2 is None:
            r2 = _row_sum(np.multiply(x, x, out=sq), out=work["r2"])
        radial = _row_sum(np.multiply(x, v, out=sq), out=work["k"])
        vt = _row_sum(np.multiply(v, v, out=sq), out=work["bx"])
        np.sqrt(r2, out=r)
        radial /= np.maximum(r, _TINY, out=tmp)
        vt -= np.multiply(radial, radial, out=tmp)
        np.sqrt(np.maximum(vt, 0.0, out=vt), out=vt)
        vt -= speed
        np.maximum(np.abs(radial, out=radial), np.abs(vt, out=vt), out=err)
        err *= inv_speed
        r -= target_radius
        np.abs(r, out=r)
        r *= inv_radius
        return np.maximum(r, err, out=err)
    w = const["target_rate"]
    dx, dy = x[0] - target_x, x[1] - target_y
    dvx, dvy = v[0] - (-w * target_y), v[1] - w * target_x
    dist2, miss2 = dx * dx + dy * dy, dvx * dvx + dvy * dvy
    if x.shape[0] == 3:
        dist2 += x[2] * x[2]
        miss2 += v[2] * v[2]
    return np.maximum(np.sqrt(dist2) * inv_radius, np.sqrt(miss2) * inv_speed, out=err)


def render_orbit(
    mode: str | None,
    t: int,
    horizon: int,
    craft: tuple[float, float, float],
    err: float,
    fuel: float,
    episode: Mapping[str, Any],
    target: tuple[float, float] | None,
    bodies: Any,
    masses: Any,
) -> str | np.ndarray | None:
    """A frame of one copy (single and batched envs alike); see ``OrbitEnv``, "Rendering".

    ``craft``: the craft's position (z = 0.0 in the plane); ``episode``: the episode's
    ``target_radius``, ``tolerance``, ``initial_radius``, ``companion_distance`` and
    ``body_radius``; ``target``: the rendezvous point (None for ``task="orbit"``); ``bodies``:
    each body's ``(x, y, ...)``; ``masses``: the bodies' masses.
    """
    if mode == "ansi":
        r = math.hypot(*craft)
        return f"step {t}/{horizon}, radius {r:.3f}, error {err:.3f}, fuel {fuel:.3f}\n"
    if mode == "rgb_array":
        radius = episode["target_radius"]
        spread = episode["companion_distance"] * (len(masses) > 1)
        span = max(radius, episode["initial_radius"], spread)
        canvas = Canvas(size=256, extent=2.6 * span)
        if target is None:
            canvas.disc((0.0, 0.0), radius, GREEN, ring=True)
        else:
            canvas.disc(target, episode["tolerance"] * radius, GREEN, ring=True)
        for mass, (bx, by, *_) in zip(masses, bodies):
            canvas.disc((bx, by), episode["body_radius"], DARK if mass > 0 else GREY)
        canvas.disc((craft[0], craft[1]), 0.03 * span, BLUE)
        return canvas.image
    return None


class OrbitEnv(gym.Env):
    """Steer a spacecraft with bounded thrust onto a target orbit around one star or several.

    ## Description
    A spacecraft of negligible mass moves in the Newtonian gravitational field of ``n_bodies``
    bodies (a primary, or a primary with equal companions: a binary star for two) and fires a
    thruster of bounded acceleration, limited by a fuel budget. With the default ``task="orbit"``
    it must reach the circular orbit of radius ``target_radius`` about the barycentre and hold it
    for ``hold_steps`` consecutive steps within ``horizon`` steps; with ``task="rendezvous"`` it
    must reach and hold a rendezvous point moving on that circle. The law of motion (inverse-square
    attraction, Newton's second law) is the same for every parameter value, only the regime
    changes: train on one star and test on binaries, on near-circular and test on eccentric
    orbits, on a mass range and test outside it (``envs/orbit.yaml``).

    ## Dynamics
    Units are nondimensional: by default G = 1 and the primary's mass is 1, so the default
    initial orbit (radius 1) has speed 1 and period 2 pi. The craft's acceleration is
    ``sum_i G m_i (p_i - x) / |p_i - x|^3 + thrust_gain * s * a``, with the action ``a`` held over
    a step of length ``dt`` and ``s`` the fraction of it the fuel allows (below). Each step is
    ``substeps`` steps of the symplectic leapfrog (velocity Verlet, kick-drift-kick; consecutive
    half kicks merged), which keeps the energy of a coasting orbit within a bounded error, with no
    drift, and its angular momentum about a single body exact to rounding. At the defaults
    (``dt = 0.1``, 3 substeps: 189 per period) the relative energy error over 100 periods stays
    below 3.1e-7 on a circular orbit, 1.2e-4 at eccentricity 0.1 and 3e-3 at 0.5 (it peaks at
    periapsis and shrinks as the substep squared): raise ``substeps`` for eccentric orbits.

    The bodies move on exact solutions of Newton's N-body equations, evaluated in closed form,
    not integrated: body 0 (mass ``primary_mass``) and ``n_bodies - 1`` companions of mass
    ``companion_mass``, evenly spaced at ``companion_distance`` from it, turn rigidly about their
    barycentre (the origin) in the x-y plane, at angular speed ``omega`` with ``omega^2 = G (M +
    c m) / d^3`` (c = 1 for a binary, ``c = sum_j 1 / (4 sin(pi j / n))`` for a ring of n
    companions; one body stays at rest). These central configurations are exact for every mass
    ratio; in closed form they cost O(N) per substep rather than O(N^2), cannot drift from each
    other or collide, and give the same field in the single and the batched env. (They are
    dynamically unstable for some mass ratios in the true N-body problem, which the closed form
    ignores.) Each body pulls like a point mass outside ``body_radius`` and like a uniform ball
    inside it, so the field is bounded; a craft within ``body_radius`` of a body at any substep
    has collided.

    Fuel is a velocity budget: a step's action costs ``thrust_gain * |a| * dt`` of ``fuel``. When
    less is left, the thrust is scaled down to spend exactly what is left (``s < 1``); with an
    empty tank the thruster does nothing.

    ## Action Space
    ``Box(-1, 1, (dim,), float32)``: the thrust per axis, in units of ``thrust_gain``. Actions
    outside the box raise ``ValueError`` (never clipped).

    ## Observation Space
    A ``float32`` ``Box(-inf, inf)``, all in the barycentric (inertial) frame, which is the
    primary's frame when ``n_bodies = 1``; with several bodies the primary moves, and a frame
    attached to it would add fictitious forces. d = ``dim``:

    | index | observation |
    |---|---|
    | 0 .. d-1 | the craft's position |
    | d .. 2d-1 | the craft's velocity |
    | task: 1 entry (orbit) | ``target_radius`` |
    | task: 2d entries (rendezvous) | rendezvous point minus craft: position, then velocity |
    | next | fuel left |
    | next | steps held within tolerance, divided by ``hold_steps`` |
    | per body (0 first), 1 + 2d | its mass, position, velocity |

    :func:`observation_layout` gives the slices. The bodies' masses are observed and G is not,
    so a randomized mass keeps the task Markov (a randomized G does not).

    ## Rewards
    The orbit error ``err`` is, for ``task="orbit"``, the largest of ``|r - R| / R``,
    ``|v_r| / v_c`` and ``|v_t - v_c| / v_c`` (r the distance to the barycentre, v_r and v_t the
    radial and tangential speeds, R = ``target_radius``, ``v_c = sqrt(G M_total / R)`` the circular
    speed there); for ``task="rendezvous"``, the larger of ``|x - x_T| / R`` and
    ``|v - v_T| / v_c`` (x_T, v_T the rendezvous point's position and velocity). A step is within
    tolerance when ``err <= tolerance``.

    * ``reward_mode="sparse"``: 1.0 on the step that completes ``hold_steps`` consecutive steps
      within tolerance, else 0.0.
    * ``reward_mode="dense"``: the sparse reward plus the decrease of ``min(err, 1)`` over the
      step. The shaping telescopes over an episode (it is potential-based), so ending an episode
      early by a collision earns nothing.

    ## Starting State
    The craft on a Keplerian orbit about the total mass with semi-major axis ``initial_radius``
    and eccentricity ``initial_eccentricity``, its periapsis at ``periapsis_angle``, at true
    anomaly ``true_anomaly``, counter-clockwise (prograde with the bodies); in 3-D its orbital
    plane is tilted by ``initial_inclination`` about the x axis. The bodies at phase
    ``body_angle``, the rendezvous point at angle ``target_angle`` on its circle, a full tank.
    The four angles are drawn uniformly on [0, 2 pi) at every reset (after the randomized
    parameters); ``reset(options={name: value})`` sets any of them instead.
    ``info["params"]`` (the parameter values drawn for the episode) and ``info["angles"]`` are
    given at reset.

    ## Episode End
    ``terminated`` on success (``hold_steps`` consecutive steps within tolerance) or on a
    collision with a body (no reward); ``truncated`` after ``horizon`` steps otherwise.
    ``info["is_success"]`` and ``info["collided"]`` are given on the last step.

    ## Rendering
    ``render_mode="ansi"``: the step, the distance to the barycentre, the orbit error and the fuel
    left. ``render_mode="rgb_array"``: the x-y plane from above: the target circle (or the
    rendezvous point with its tolerance) green, the bodies dark (a massless one grey), the craft
    blue.

    ## Arguments
    | parameter                  | default      | valid values |
    |----------------------------|--------------|--------------|
    | ``dim``                    | ``2``        | an integer >= 2 and <= 3, fixed |
    | ``task``                   | ``'orbit'``  | one of 'orbit', 'rendezvous' |
    | ``n_bodies``               | ``1``        | an integer >= 1 and <= 8, fixed |
    | ``horizon``                | ``200``      | an integer >= 1 and <= 1000000, fixed |
    | ``substeps``               | ``3``        | an integer >= 1 and <= 1000, fixed |
    | ``reward_mode``            | ``'sparse'`` | one of 'sparse', 'dense' |
    | ``gravitational_constant`` | ``1.0``      | a number > 0 and <= 1e+06 |
    | ``primary_mass``           | ``1.0``      | a number > 0 and <= 1e+06 |
    | ``companion_mass``         | ``0.1``      | a number >= 0 and <= 1e+06 |
    | ``companion_distance``     | ``0.25``     | a number > 0 and <= 1e+06 |
    | ``body_radius``            | ``0.05``     | a number >= 1e-06 and <= 1e+06 |
    | ``initial_radius``         | ``1.0``      | a number > 0 and <= 1e+06 |
    | ``initial_eccentricity``   | ``0.0``      | a number >= 0 and < 1 |
    | ``initial_inclination``    | ``0.2``      | a number >= 0 and <= 3.14159 |
    | ``target_radius``          | ``1.5``      | a number > 0 and <= 1e+06 |
    | ``tolerance``              | ``0.05``     | a number > 0 and <= 1e+06 |
    | ``hold_steps``             | ``10``       | an integer >= 1 and <= 1000000 |
    | ``thrust_gain``            | ``0.2``      | a number > 0 and <= 1e+06 |
    | ``fuel``                   | ``0.5``      | a number >= 0 and <= 1e+06 |
    | ``dt``                     | ``0.1``      | a number > 0 and <= 1 |
    | ``preset``                 | ``None``     | None, 'D', 'R' or 'E' |
    | ``render_mode``            | ``None``     | None, 'ansi' or 'rgb_array' |

    The parameters are :class:`OrbitParams`. A ``fixed`` one cannot be randomized: ``dim`` fixes
    the action and observation spaces, ``n_bodies`` the observation space, ``horizon`` is the
    episode length, and the batched env takes the same ``substeps`` for every copy. The other
    numbers may be given as distributions (see :mod:`rlbench3.envs.parameters`), drawn at every
    reset. ``companion_mass`` and ``companion_distance`` matter only with ``n_bodies >= 2``,
    ``initial_inclination`` only in 3-D; ``companion_mass=0`` keeps a massless marker body, so one
    observation space covers a single star and a binary. A ``preset`` (see ``envs/presets.yaml``)
    sets several parameters at once; explicit keywords override it.

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 20}

    def __init__(self, render_mode: str | None = None, preset: str | None = None, **kwargs: Any):
        check_preset(OrbitParams.family, preset)
        self.params: OrbitParams = resolve_params(OrbitParams, preset, kwargs)
        check_render_mode(self, render_mode)
        self.render_mode = render_mode
        p = self.params
        d = self.dim = p.dim
        self.horizon, self.n_bodies = p.horizon, p.n_bodies
        self.action_space = spaces.Box(-1.0, 1.0, (d,), np.float32)
        self.observation_space = spaces.Box(-np.inf, np.inf, (observation_size(p),), np.float32)
        self._sparse = p.reward_mode == "sparse"
        self._orbit_task = p.task == "orbit"
        self._substeps = p.substeps
        self._episode: dict[str, Any] = {}
        # The state is kept in Python floats, three components even in the plane (z stays 0.0
        # exactly, and adding 0.0 changes no sum): for a handful of numbers float arithmetic
        # beats numpy's per-call overhead many times over. The operations and their order are
        # those of the batched env, so the two agree bit for bit.
        self._craft = [0.0] * 6  # position, then w = h * velocity
        self._pull = [0.0] * 3  # h2_half * sum_i G m_i (x - p_i) / r_i^3 at the current state
        self._phase = (1.0, 0.0)  # (cos, sin) of the bodies' rotation
        self._target = (0.0, 0.0)
        self._fuel = 0.0
        self._hold = 0
        self._err = 0.0
        self._t = 0

    # -- state --------------------------------------------------------------------------------
    def _velocity(self) -> tuple[float, float, float]:
        inv_h = self._inv_h
        return self._craft[3] * inv_h, self._craft[4] * inv_h, self._craft[5] * inv_h

    @property
    def craft_state(self) -> tuple[np.ndarray, np.ndarray]:
        """The craft's position and velocity (float64, barycentric), for analyses and tests."""
        return np.array(self._craft[: self.dim]), np.array(self._velocity()[: self.dim])

    @property
    def fuel_left(self) -> float:
        """The velocity change the fuel left can still buy."""
        return self._fuel

    def body_positions(self) -> np.ndarray:
        """The bodies' positions ``(n_bodies, dim)`` (float64, barycentric)."""
        cp, sp = self._phase
        out = np.zeros((self.n_bodies, self.dim))
        for i, (qx, qy) in enumerate(self._body_offsets):
            out[i, 0], out[i, 1] = cp * qx - sp * qy, sp * qx + cp * qy
        return out

    def _body_entries(self) -> list[float]:
        """The bodies' part of the observation: mass, position, velocity per body."""
        if self.n_bodies == 1:
            return self._primary_entries
        cp, sp = self._phase
        w, d3 = self._omega, self.dim == 3
        out: list[float] = []
        for mass, (qx, qy) in zip(self._masses, self._body_offsets):
            bx, by = cp * qx - sp * qy, sp * qx + cp * qy
            if d3:
                out += [mass, bx, by, 0.0, -w * by, w * bx, 0.0]
            else:
                out += [mass, bx, by, -w * by, w * bx]
        return out

    def _observation(self, velocity: tuple[float, float, float]) -> np.ndarray:
        x, y, z = self._craft[:3]
        vx, vy, vz = velocity
        progress = [self._fuel, self._hold / self._hold_steps]
        if self._orbit_task and self.dim == 2 and self.n_bodies == 1:  # the defaults, fast
            return np.array(
                [x, y, vx, vy, self._radius, *progress, *self._primary_entries], dtype=np.float32
            )
        if self._orbit_task:
            task = [self._radius]
        else:
            (tx, ty), w = self._target, self._target_rate
            task = [tx - x, ty - y, 0.0 - z, -w * ty - vx, w * tx - vy, 0.0 - vz]
        if self.dim == 2:
            motion = [x, y, vx, vy]
            task = task if self._orbit_task else [task[0], task[1], task[3], task[4]]
        else:
            motion = [x, y, z, vx, vy, vz]
        return np.array(motion + task + progress + self._body_entries(), dtype=np.float32)

    def _orbit_error(self, velocity: tuple[float, float, float]) -> float:
        """``err`` of the spec at the current state (the batched env's operations)."""
        x, y, z = self._craft[:3]
        vx, vy, vz = velocity
        if self._orbit_task:
            speed = self._speed
            r = math.sqrt(x * x + y * y + z * z)
            radial = (x * vx + y * vy + z * vz) / (r if r > _TINY else _TINY)
            vt2 = (vx * vx + vy * vy + vz * vz) - radial * radial
            vt = math.sqrt(vt2) if vt2 > 0.0 else 0.0
            miss = max(abs(radial), abs(vt - speed)) * self._inv_speed
            return max(abs(r - self._radius) * self._inv_radius, miss)
        tx, ty = self._target
        w = self._target_rate
        dx, dy, dvx, dvy = x - tx, y - ty, vx - (-w * ty), vy - w * tx
        dist = math.sqrt(dx * dx + dy * dy + z * z)
        miss = math.sqrt(dvx * dvx + dvy * dvy + vz * vz)
        return max(dist * self._inv_radius, miss * self._inv_speed)

    def _set_pull(self) -> None:
        """The pull (scaled for a half kick) at the current state: the batched env's force."""
        x, y, z = self._craft[:3]
        r2min = self._radius2
        if self.n_bodies == 1:
            r2 = x * x + y * y + z * z
            r2 = r2 if r2 > r2min else r2min
            k = self._gm_half[0] / (r2 * math.sqrt(r2))
            self._pull = [k * x, k * y, k * z]
            return
        cp, sp = self._phase
        px = py = pz = 0.0
        for i, (gm, (qx, qy)) in enumerate(zip(self._gm_half, self._body_offsets)):
            dx, dy = x - (cp * qx - sp * qy), y - (sp * qx + cp * qy)
            r2 = dx * dx + dy * dy + z * z
            r2 = r2 if r2 > r2min else r2min
            k = gm / (r2 * math.sqrt(r2))
            if i == 0:
                px, py, pz = k * dx, k * dy, k * z
            else:
                px, py, pz = px + k * dx, py + k * dy, pz + k * z
        self._pull = [px, py, pz]

    # -- gymnasium API ------------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        ep = self._episode = self.params.sample(self.np_random)
        angles = self.np_random.random((1, len(ANGLES))) * TAU
        for i, value in _given_angles(options).items():
            angles[0, i] = value
        values = {name: np.array([ep[name]], dtype=np.float64) for name in PHYSICAL}
        consts = episode_constants(values, self.n_bodies, self._substeps)
        x, v = initial_craft_state(values, consts["mu"], angles, self.dim)
        one = {key: float(array[0]) for key, array in consts.items() if array.ndim == 1}
        self._h2, self._h2_half, self._inv_h = one["h2"], one["h2_half"], one["inv_h"]
        self._radius2, self._omega = one["radius2"], one["omega"]
        self._spin = (one["spin_cos"], one["spin_sin"])
        self._speed, self._inv_speed = one["circular_speed"], one["inv_speed"]
        self._inv_radius, self._gain_dt = one["inv_radius"], one["gain_dt"]
        self._target_rate = one["target_rate"]
        self._target_turn = (one["target_cos"], one["target_sin"])
        self._masses = consts["mass"][:, 0].tolist()
        self._gm_full = consts["gm_h2"][:, 0].tolist()
        self._gm_half = consts["gm_h2_half"][:, 0].tolist()
        self._body_offsets = list(zip(consts["qx"][:, 0].tolist(), consts["qy"][:, 0].tolist()))
        self._primary_entries = [self._masses[0]] + [0.0] * (2 * self.dim)
        self._radius, self._tolerance = ep["target_radius"], ep["tolerance"]
        self._hold_steps, self._gain = ep["hold_steps"], ep["thrust_gain"]
        w = consts["h"] * v  # the displacement per substep
        position, scaled = x[:, 0].tolist(), w[:, 0].tolist()
        if self.dim == 2:
            position.append(0.0)
            scaled.append(0.0)
        self._craft = position + scaled
        (body_cos, target_cos), (body_sin, target_sin) = _cos_sin(angles[0, 2:])
        self._phase = (float(body_cos), float(body_sin))
        self._target = (self._radius * float(target_cos), self._radius * float(target_sin))
        self._set_pull()
        self._fuel = ep["fuel"]
        self._hold, self._t = 0, 0
        velocity = self._velocity()
        self._err = min(self._orbit_error(velocity), 1.0)
        drawn = {name: float(angles[0, i]) for i, name in enumerate(ANGLES)}
        return self._observation(velocity), {"params": dict(ep), "angles": drawn}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = np.asarray(action)
        if a.shape == (2,) and self.dim == 2:
            ax, ay = a.tolist()
            az, valid = 0.0, -1.0 <= ax <= 1.0 and -1.0 <= ay <= 1.0  # NaN is invalid too
        elif a.shape == (3,) and self.dim == 3:
            ax, ay, az = a.tolist()
            valid = -1.0 <= ax <= 1.0 and -1.0 <= ay <= 1.0 and -1.0 <= az <= 1.0
        else:
            valid = False
        if not valid:
            raise ValueError(
                f"action must be an array of shape ({self.dim},) with entries in [-1, 1], "
                f"got {action!r}"
            )
        # Fuel: the step's velocity change gain * dt * |a|, scaled down to what is left (the
        # batched env's operations: spend / need is 1.0 exactly while the tank lasts).
        need = math.sqrt(ax * ax + ay * ay + az * az) * self._gain_dt
        spend = need if need < self._fuel else self._fuel
        self._fuel -= spend
        thrust = spend / (need if need > _TINY else _TINY) * self._gain
        ux, uy, uz = thrust * ax, thrust * ay, thrust * az
        # The thrust's change of w over a substep, and over half of one.
        h2, h2_half = self._h2, self._h2_half
        fx, fy, fz = h2 * ux, h2 * uy, h2 * uz
        hx, hy, hz = h2_half * ux, h2_half * uy, h2_half * uz
        x, y, z, wx, wy, wz = self._craft
        px, py, pz = self._pull
        r2min = self._radius2
        # Kick-drift-kick leapfrog; the last half kick of a substep and the first of the next
        # are merged into one full kick, and the pull at the end of a step is reused at the
        # next. A kick is w += (thrust - pull) scaled; a drift is x += w.
        wx, wy, wz = (wx - px) + hx, (wy - py) + hy, (wz - pz) + hz
        last, hit = self._substeps - 1, False
        if self.n_bodies == 1:
            full, half = self._gm_full[0], self._gm_half[0]
            for j in range(last + 1):
                x, y, z = x + wx, y + wy, z + wz
                r2 = x * x + y * y + z * z
                if r2 < r2min:
                    hit, r2 = True, r2min
                if j < last:
                    k = full / (r2 * math.sqrt(r2))
                    px, py, pz = k * x, k * y, k * z
                    wx, wy, wz = (wx - px) + fx, (wy - py) + fy, (wz - pz) + fz
                else:
                    k = half / (r2 * math.sqrt(r2))
                    px, py, pz = k * x, k * y, k * z
                    wx, wy, wz = (wx - px) + hx, (wy - py) + hy, (wz - pz) + hz
        else:
            cp, sp = self._phase
            ch, sh = self._spin
            for j in range(last + 1):
                x, y, z = x + wx, y + wy, z + wz
                cp, sp = cp * ch - sp * sh, sp * ch + cp * sh
                scaled_gm = self._gm_full if j < last else self._gm_half
                for i, (gm, (qx, qy)) in enumerate(zip(scaled_gm, self._body_offsets)):
                    dx, dy = x - (cp * qx - sp * qy), y - (sp * qx + cp * qy)
                    r2 = dx * dx + dy * dy + z * z
                    if r2 < r2min:
                        hit, r2 = True, r2min
                    k = gm / (r2 * math.sqrt(r2))
                    if i == 0:
                        px, py, pz = k * dx, k * dy, k * z
                    else:
                        px, py, pz = px + k * dx, py + k * dy, pz + k * z
                if j < last:
                    wx, wy, wz = (wx - px) + fx, (wy - py) + fy, (wz - pz) + fz
                else:
                    wx, wy, wz = (wx - px) + hx, (wy - py) + hy, (wz - pz) + hz
            self._phase = (cp, sp)
        self._craft = [x, y, z, wx, wy, wz]
        self._pull = [px, py, pz]
        if not self._orbit_task:
            tx, ty = self._target
            tc, ts = self._target_turn
            self._target = (tc * tx - ts * ty, ts * tx + tc * ty)
        velocity = self._velocity()
        err = self._orbit_error(velocity)
        self._hold = self._hold + 1 if err <= self._tolerance else 0
        self._t += 1
        success = not hit and self._hold >= self._hold_steps
        terminated = success or hit
        truncated = not terminated and self._t >= self.horizon
        reward = 1.0 if success else 0.0
        capped = err if err < 1.0 else 1.0
        if not self._sparse:
            reward += self._err - capped
        self._err = capped
        info = {"is_success": success, "collided": hit} if terminated or truncated else {}
        return self._observation(velocity), reward, terminated, truncated, info

    def render(self) -> str | np.ndarray | None:
        return render_orbit(
            self.render_mode,
            self._t,
            self.horizon,
            (self._craft[0], self._craft[1], self._craft[2]),
            self._err,
            self._fuel,
            self._episode,
            None if self._orbit_task else self._target,
            self.body_positions(),
            self._masses,
        )


class OrbitVectorEnv(BatchedVectorEnv):
    """``num_envs`` copies of :class:`OrbitEnv` stepped by one numpy operation per update.

    Same dynamics, observations and rewards as the single env: given the same parameter values,
    angles and actions, every copy's trajectory equals the single env's bit for bit (the same
    formulas, applied row-wise). Autoreset is ``NEXT_STEP``: the step after a copy ends resets it
    and ignores its action. Randomized parameters and angles of resetting copies are drawn from
    the vector env's own generator (the single env's distribution, a different stream).

    :meth:`get_state` / :meth:`set_state` save and restore every copy's complete state (e.g. to
    roll a model and the true simulator forward from the same states); :meth:`observe64` is the
    observation before its cast to float32.

    Takes ``num_envs``, ``preset``, ``render_mode``, ``max_episode_steps`` and the parameters of
    the single env; see :class:`OrbitEnv` for the spec. The vector API is that of
    ``SyncVectorEnv`` over single envs made by ``gymnasium.make`` (see
    :class:`~rlbench3.envs.batching.BatchedVectorEnv`).
    """

    metadata = {**BatchedVectorEnv.metadata, "render_fps": 20}
    params_class = OrbitParams

    def __init__(
        self,
        num_envs: int = 1,
        preset: str | None = None,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        **kwargs: Any,
    ):
        p: OrbitParams = self._setup(num_envs, preset, render_mode, max_episode_steps, kwargs)
        n, d = self.num_envs, self.dim = self.num_envs, p.dim
        self.horizon, self.n_bodies = p.horizon, p.n_bodies
        # A time limit only matters when it cuts an episode short.
        limit = self.max_episode_steps
        self._limit = limit if limit is not None and limit <= p.horizon else None
        size = observation_size(p)
        self.single_action_space = spaces.Box(-1.0, 1.0, (d,), np.float32)
        self.single_observation_space = spaces.Box(-np.inf, np.inf, (size,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (n, d), np.float32)
        self.observation_space = spaces.Box(-np.inf, np.inf, (n, size), np.float32)
        self._sparse = p.reward_mode == "sparse"
        self._orbit_task = p.task == "orbit"
        self._layout = observation_layout(p)
        self._randomized = [name for name in PHYSICAL if name in p.randomized]
        # Per-episode values and constants, one column per copy; a randomized value holds its
        # lowest (valid) value until the first reset.
        self._values = {
            name: np.full(
                n,
                value.low if isinstance(value := getattr(p, name), Distribution) else value,
                dtype=np.float64,
            )
            for name in PHYSICAL
        }
        self._const = episode_constants(self._values, p.n_bodies, p.substeps)
        # The dynamic state, coordinate-major (one row per axis, one column per copy), so every
        # update below runs over contiguous memory.
        self._state = {
            "x": np.zeros((d, n)),
            "w": np.zeros((d, n)),  # the velocity times the substep h
            "pull": np.zeros((d, n)),  # the pull at x, scaled for a half kick (h2_half)
            "phase_cos": np.ones(n),
            "phase_sin": np.zeros(n),
            "target_x": np.zeros(n),
            "target_y": np.zeros(n),
            "fuel": np.zeros(n),
            "hold": np.zeros(n),  # a count, in floats: it is divided and compared with floats
            "err": np.zeros(n),
            "t": np.zeros(n, dtype=np.int64),
            "autoreset": np.zeros(n, dtype=bool),
        }
        self._angles = np.zeros((n, len(ANGLES)))
        # The observations in float64, one row per entry: constant rows are written at reset,
        # the others at every step, and a step's observations are one cast of this array. The
        # velocity rows are also the velocities the orbit error reads; the position and fuel
        # rows are the state itself (views), never copied.
        self._rows = np.zeros((size, n))
        self._state["x"] = self._rows[self._layout["position"]]
        self._state["fuel"] = self._rows[self._layout["fuel"]][0]
        self._velocity = self._rows[self._layout["velocity"]]
        self._hold_row = self._rows[self._layout["hold"]][0]
        self._work = workspace(d, n)
        self._actions = np.zeros((d, n))
        self._kick_full = np.zeros((d, n))
        self._kick_half = np.zeros((d, n))
        self._closest = np.zeros(n)
        self._turned = np.zeros((2, n))  # the bodies' next phase (cos, sin)
        self._massless: list[bool] = []  # per body: gm = 0 in every copy (see batched_pull)
        self._on_x_axis = False  # every body's phase-0 position has qy = 0
        self._inside = np.zeros(n, dtype=bool)
        # Per-copy constants repeated on every axis: a product of two (dim, n) arrays runs
        # about twice as fast as one that broadcasts an (n,) array over the axes.
        self._axes = {name: np.zeros((d, n)) for name in ("h", "inv_h", "h2", "h2_half", "gain")}
        self._ready = np.zeros(n, dtype=bool)  # copies reset at least once
        self._started = False  # every copy reset at least once: step() may run
        # The info of the fixed parameters never changes: built once, handed out read-only.
        self._fields = tuple(f.name for f in fields(p))
        self._fixed_info = {
            name: frozen(per_copy(getattr(p, name), n))
            for name in self._fields
            if name not in self._randomized
        }
        # A randomized integer is drawn as an int by the single env (kept in floats here).
        self._integer = {name for name in self._randomized if getattr(p, name).integer}
        self._everyone = frozen(np.ones(n, dtype=bool))
        self._np_random, self._np_random_seed = seeding.np_random()

    # -- state --------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """A copy of the complete state: every copy's dynamic state, drawn values and constants,
        and the generator that draws the next resets."""
        return {
            "state": {key: array.copy() for key, array in self._state.items()},
            "values": {key: array.copy() for key, array in self._values.items()},
            "const": {key: array.copy() for key, array in self._const.items()},
            "angles": self._angles.copy(),
            "generator": copy.deepcopy(self._np_random.bit_generator.state),
        }

    def set_state(self, saved: Mapping[str, Any]) -> None:
        """Restore a state saved by :meth:`get_state` of an env with as many copies."""
        for part in ("state", "values", "const"):
            own = getattr(self, f"_{part}")
            for key, array in saved[part].items():
                if own[key].shape != np.shape(array):
                    raise ValueError(
                        f"saved {part}[{key!r}] has shape {np.shape(array)}, "
                        f"this env's is {own[key].shape}"
                    )
                own[key][...] = array
        self._angles[...] = saved["angles"]
        self._ready[:] = True
        self._started = True
        self._np_random.bit_generator.state = copy.deepcopy(saved["generator"])
        everyone = np.arange(self.num_envs)
        for name, axes in self._axes.items():
            axes[:] = self._const[name]
        np.multiply(self._state["w"], self._axes["inv_h"], out=self._velocity)
        self._write_constant_rows(everyone)
        self._update_shortcuts()
        self._write_rows()

    def body_positions(self) -> np.ndarray:
        """The bodies' positions in the x-y plane ``(n_bodies, 2, num_envs)`` (float64)."""
        s, c = self._state, self._const
        cp, sp = s["phase_cos"], s["phase_sin"]
        return np.stack((cp * c["qx"] - sp * c["qy"], sp * c["qx"] + cp * c["qy"]), axis=1)

    def observe64(self) -> np.ndarray:
        """The current observations ``(num_envs, size)`` before their cast to float32."""
        return self._rows.T.copy()

    def _write_constant_rows(self, idx: np.ndarray) -> None:
        rows, lay = self._rows, self._layout
        if self._orbit_task:
            rows[lay["task"], idx] = self._values["target_radius"][idx]
        for i in range(self.n_bodies):
            rows[lay["body_mass"][i], idx] = self._const["mass"][i, idx]

    def _write_rows(self) -> None:
        """The observation rows that change over an episode (the velocities are kept)."""
        s, c, lay, rows, d = self._state, self._const, self._layout, self._rows, self.dim
        np.divide(s["hold"], self._values["hold_steps"], out=self._hold_row)
        if not self._orbit_task:
            (x, v), task = (s["x"], self._velocity), rows[lay["task"]]
            w, tx, ty = c["target_rate"], s["target_x"], s["target_y"]
            np.subtract(tx, x[0], out=task[0])
            np.subtract(ty, x[1], out=task[1])
            np.subtract(-w * ty, v[0], out=task[d])
            np.subtract(w * tx, v[1], out=task[d + 1])
            if d == 3:
                np.subtract(0.0, x[2], out=task[2])
                np.subtract(0.0, v[2], out=task[5])
        if self.n_bodies > 1:
            positions, w = self.body_positions(), c["omega"]
            for i in range(self.n_bodies):
                pos, vel = rows[lay["body_position"][i]], rows[lay["body_velocity"][i]]
                pos[0], pos[1] = positions[i]
                np.multiply(-w, positions[i, 1], out=vel[0])
                np.multiply(w, positions[i, 0], out=vel[1])

    def _observations(self) -> np.ndarray:
        self._write_rows()
        return self._rows.T.astype(np.float32)

    # -- reset --------------------------------------------------------------------------------
    def _reset_copies(self, mask: np.ndarray) -> None:
        idx = np.flatnonzero(mask)
        k = len(idx)
        vals, p, s = self._values, self.params, self._state
        for name in self._randomized:  # in field order, as the single env draws them
            vals[name][idx] = getattr(p, name).sample(self._np_random, size=k)
        angles = self._np_random.random((k, len(ANGLES))) * TAU
        self._angles[idx] = angles
        values = {name: vals[name][idx] for name in PHYSICAL}
        const = episode_constants(values, self.n_bodies, p.substeps)
        for key, array in const.items():
            self._const[key][..., idx] = array
        for name, axes in self._axes.items():
            axes[:, idx] = const[name]
        x, v = initial_craft_state(values, const["mu"], angles, self.dim)
        w = const["h"] * v  # the displacement per substep
        velocity = w * const["inv_h"]  # the velocity the single env observes
        s["x"][:, idx], s["w"][:, idx], self._velocity[:, idx] = x, w, velocity
        # The bodies' phase matters only with companions, the rendezvous point only in its task
        # (a lone primary rests at the origin; the orbit task has no point): the trigonometry,
        # one C-library call per copy, is skipped where its result is never read.
        if self.n_bodies > 1:
            phase_cos, phase_sin = _cos_sin(angles[:, 2])
        else:
            phase_cos, phase_sin = np.ones(k), np.zeros(k)
        s["phase_cos"][idx], s["phase_sin"][idx] = phase_cos, phase_sin
        if self._orbit_task:
            target_cos, target_sin = np.ones(k), np.zeros(k)
        else:
            target_cos, target_sin = _cos_sin(angles[:, 3])
        radius = values["target_radius"]
        target_x, target_y = radius * target_cos, radius * target_sin
        s["target_x"][idx], s["target_y"][idx] = target_x, target_y
        s["fuel"][idx] = values["fuel"]
        s["hold"][idx] = 0.0
        s["t"][idx] = 0
        s["autoreset"][idx] = False
        work, pull = workspace(self.dim, k), np.empty_like(x)
        closest = np.full(k, np.inf)
        batched_pull(x, phase_cos, phase_sin, const["gm_h2_half"], const, pull, closest, work)
        s["pull"][:, idx] = pull
        err = batched_error(x, velocity, target_x, target_y, const, radius, self._orbit_task, work)
        s["err"][idx] = np.minimum(err, 1.0)
        self._write_constant_rows(idx)
        self._update_shortcuts()

    def _update_shortcuts(self) -> None:
        """:func:`batched_pull`'s shortcuts, from every copy's episode constants."""
        gm = self._const["gm"]
        self._massless = [i > 0 and not gm[i].any() for i in range(self.n_bodies)]
        self._on_x_axis = not self._const["qy"].any()

    def _reset_info(self, mask: np.ndarray) -> dict[str, Any]:
        """The single env's reset info (``params`` in field order, ``angles``) of the copies in
        ``mask`` (read-only)."""
        params: dict[str, Any] = {}
        for name in self._fields:
            if name in self._fixed_info:
                params[name] = self._fixed_info[name]
            elif name in self._integer:
                params[name] = self._values[name].astype(int)
            else:
                params[name] = self._values[name].copy()
        angles = {name: self._angles[:, i].copy() for i, name in enumerate(ANGLES)}
        return {
            "params": masked(params, mask),
            "_params": mask,
            "angles": masked(angles, mask),
            "_angles": mask,
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            self._np_random, self._np_random_seed = seeding.np_random(seed)
        mask = reset_mask(options, self.num_envs)
        if mask is None:
            mask = self._everyone
        else:
            mask = frozen(mask.copy())
        self._reset_copies(mask)
        self._ready |= mask
        self._started = bool(self._ready.all())
        return self._observations(), self._reset_info(mask)

    # -- step ---------------------------------------------------------------------------------
    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._started:  # as the single env's OrderEnforcing wrapper does
            raise step_before_reset()
        a, shape, given = self._actions, (self.num_envs, self.dim), np.asarray(actions)
        s, c, vals, work = self._state, self._const, self._values, self._work
        sq, r2, k, tmp = work["sq"], work["r2"], work["k"], work["tmp"]
        if given.shape == shape:
            np.copyto(a, given.T)  # coordinate-major like the state; float32 -> 64 is exact
        if given.shape != shape or not _largest(np.abs(a, out=sq), axis=None) <= 1.0:  # NaN too
            raise ValueError(f"actions must be an array of shape {shape} with entries in [-1, 1]")
        x, w, pull, axes = s["x"], s["w"], s["pull"], self._axes
        # Fuel, as in the single env: the step's velocity change, scaled down to what is left.
        need = _row_sum(np.multiply(a, a, out=sq), out=r2)
        np.sqrt(need, out=need)
        need *= c["gain_dt"]
        fuel = s["fuel"]
        if _every(np.less_equal(need, fuel, out=self._inside)):
            # Every tank lasts the step: spend = need, the single env's factor spend / need is
            # 1.0 exactly, and the thrust is thrust_gain * a (one product of (dim, n) arrays).
            fuel -= need
            u = np.multiply(axes["gain"], a, out=a)
        else:
            spend = np.minimum(need, fuel, out=k)
            fuel -= spend
            spend /= np.maximum(need, _TINY, out=need)  # 1.0 exactly unless the tank runs dry
            spend *= vals["thrust_gain"]
            u = np.multiply(spend, a, out=a)
        # Kick-drift-kick leapfrog, as in the single env: the thrust's change of w over a
        # substep and over half of one, then a kick is w += (thrust - pull), a drift x += w.
        full = np.multiply(axes["h2"], u, out=self._kick_full)
        half = np.multiply(axes["h2_half"], u, out=self._kick_half)
        w -= pull
        w += half
        closest = self._closest
        closest.fill(np.inf)
        last = self.params.substeps - 1
        if self.n_bodies == 1:
            # batched_pull's single-body force law, inlined: this loop is most of the cost of a
            # step, and a call per substep would cost as much again as one array operation.
            rows, r2min = tuple(sq), c["radius2"]
            gm_full, gm_half = c["gm_h2"][0], c["gm_h2_half"][0]
            mul, sqrt = np.multiply, np.sqrt
            for j in range(last + 1):
                x += w
                mul(x, x, out=sq)
                np.add(rows[0], rows[1], out=r2)
                for row in rows[2:]:
                    r2 += row
                np.minimum(closest, r2, out=closest)
                np.maximum(r2, r2min, out=k)  # r2 itself is kept: x.x for the orbit error
                k *= sqrt(k, out=tmp)
                np.divide(gm_full if j < last else gm_half, k, out=k)
                w -= mul(k, x, out=pull)
                w += full if j < last else half
            known_r2: np.ndarray | None = r2
        else:
            spin_cos, spin_sin = c["spin_cos"], c["spin_sin"]
            cp, sp, turned = s["phase_cos"], s["phase_sin"], self._turned
            massless, on_x_axis = self._massless, self._on_x_axis
            for j in range(last + 1):
                x += w
                # The bodies turn: (cp, sp) <- (cp c - sp s, sp c + cp s), as the single env.
                np.multiply(cp, spin_cos, out=turned[0])
                turned[0] -= np.multiply(sp, spin_sin, out=tmp)
                np.multiply(sp, spin_cos, out=turned[1])
                turned[1] += np.multiply(cp, spin_sin, out=tmp)
                cp[...], sp[...] = turned
                gm = c["gm_h2"] if j < last else c["gm_h2_half"]
                batched_pull(
                    x, cp, sp, gm, c, pull, closest, work, massless=massless, on_x_axis=on_x_axis
                )
                w -= pull
                w += full if j < last else half
            known_r2 = None
        if not self._orbit_task:
            tc, ts, tx, ty = c["target_cos"], c["target_sin"], s["target_x"], s["target_y"]
            s["target_x"], s["target_y"] = tc * tx - ts * ty, ts * tx + tc * ty
        velocity = np.multiply(w, axes["inv_h"], out=self._velocity)
        err = batched_error(
            x,
            velocity,
            s["target_x"],
            s["target_y"],
            c,
            vals["target_radius"],
            self._orbit_task,
            work,
            known_r2,
        )
        hit = closest < c["radius2"]
        hold = s["hold"]
        hold += 1.0
        hold *= np.less_equal(err, vals["tolerance"], out=self._inside)
        s["t"] += 1
        success = hold >= vals["hold_steps"]
        if _some(hit):
            success &= ~hit
        terminated = success | hit
        truncated = s["t"] >= self.horizon
        np.greater(truncated, terminated, out=truncated)  # and not terminated
        rewards = success.astype(np.float64)
        capped = np.minimum(err, 1.0, out=err)
        if not self._sparse:
            rewards += np.subtract(s["err"], capped, out=tmp)
        np.copyto(s["err"], capped)
        any_reset = bool(_some(s["autoreset"]))
        if any_reset:
            resetting = s["autoreset"].copy()
            # Copies that ended at the previous step were integrated above like the others,
            # from their final state; they are reset now, and their step does not count.
            self._reset_copies(resetting)
            success[resetting] = terminated[resetting] = truncated[resetting] = False
            hit[resetting] = False
            rewards[resetting] = 0.0
        # Where the single env gives info["is_success"] and info["collided"].
        ended = np.logical_or(terminated, truncated, out=s["autoreset"]).copy()
        if self._limit is not None:  # TimeLimit: truncated at N steps, terminal or not
            truncated |= s["t"] >= self._limit
            np.logical_or(terminated, truncated, out=s["autoreset"])
        infos: dict[str, Any] = {
            "is_success": success,
            "_is_success": ended,
            "collided": hit,
            "_collided": ended,
        }
        if any_reset:
            infos.update(self._reset_info(frozen(resetting)))
        return self._observations(), rewards, terminated, truncated, infos

    def render(self) -> tuple[Any, ...] | None:
        """The copies' frames, as ``SyncVectorEnv.render`` returns them (None without a mode)."""
        if self.render_mode is None:
            return None
        s, vals, bodies = self._state, self._values, self.body_positions()
        masses = self._const["mass"]
        names = ("target_radius", "tolerance", "initial_radius", "companion_distance")
        frames = []
        for i in range(self.num_envs):
            x = s["x"][:, i].tolist() + [0.0] * (3 - self.dim)
            episode = {name: float(vals[name][i]) for name in (*names, "body_radius")}
            target = (float(s["target_x"][i]), float(s["target_y"][i]))
            frames.append(
                render_orbit(
                    self.render_mode,
                    int(s["t"][i]),
                    self.horizon,
                    (x[0], x[1], x[2]),
                    float(s["err"][i]),
                    float(s["fuel"][i]),
                    episode,
                    None if self._orbit_task else target,
                    bodies[:, :, i],
                    masses[:, i].tolist(),
                )
            )
        return tuple(frames)
