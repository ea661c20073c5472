"""ArmReach: the action-dimension testbed (a planar MuJoCo arm with ``n_joints`` motors).

:class:`ArmReachEnv` is the env and its docstring the spec (its "Numerical stability" section
explains the RK4 substeps computed here); :class:`ArmReachParams` holds its parameters. The
arm's kinematics (:func:`forward_kinematics`, :func:`reachable_annulus`), the target's angle
(:func:`target_angle`) and its MJCF (:func:`arm_mjcf`) are plain functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from rlbench3.envs.batching import check_preset
from rlbench3.envs.parameters import Distribution, EnvParams, choice, number
from rlbench3.envs.presets import resolve_params
from rlbench3.envs.rendering import BLUE, DARK, GREEN, GREY, RED, Canvas

MAX_JOINTS = 10
RADIUS_FRACTION = 0.05  # link radius / link length (sets the links' inertia about their axis)
PER_LINK = ("link_length", "link_mass")  # drawn independently for every link
# Numerical stability (ArmReachEnv's docstring): every physics step of ``timestep`` is split
# into as many equal RK4 substeps as it takes for a joint at its terminal speed gear /
# joint_damping to turn at most MAX_TURN_SHORT_ARM radians per substep in arms of up to SHORT_ARM
# joints, MAX_TURN_LONG_ARM in longer ones, and for the fastest damping rate joint_damping /
# joint_armature times the substep to stay at most MAX_DAMPING_PER_STEP.
SHORT_ARM = 3
MAX_TURN_SHORT_ARM = 0.8
MAX_TURN_LONG_ARM = 0.4
MAX_DAMPING_PER_STEP = 0.5
MAX_SUBSTEPS = 100
# Bounds (ArmReachEnv, "Arguments"): links of 1 mm to 1 km and of 1 mg to 1000 t (MuJoCo refuses
# inertias below 1e-15 at compilation); gear, damping and armature at most 1e6; a timestep of
# at least 0.1 ms (a control period of 5e-324 s would never move and has no frame rate).
MAX_HORIZON = 10**6
LINK_LENGTH_RANGE = (1e-3, 1e3)
LINK_MASS_RANGE = (1e-6, 1e6)
MAX_COEFFICIENT = 1e6
MAX_FRAME_SKIP = 1000  # a control period of at most 20 s
# The expert (ArmReachEnv.optimal_action, "Expert" in its docstring): the desired joint velocity
# is EXPERT_POSITION_GAIN times the inertia-weighted damped least-squares step toward the target
# (regularised by EXPERT_REGULARISATION^2 times half the trace of J M^-1 J^T), tracked by computed
# torque with EXPERT_VELOCITY_GAIN (both in 1/s).
EXPERT_POSITION_GAIN = 10.0
EXPERT_VELOCITY_GAIN = 20.0
EXPERT_REGULARISATION = 0.2


def max_turn_per_step(n_joints: int) -> float:
    """The largest ``gear / joint_damping * substep`` (radians) for an arm of ``n_joints``."""
    return MAX_TURN_SHORT_ARM if n_joints <= SHORT_ARM else MAX_TURN_LONG_ARM


@dataclass(frozen=True)
class ArmReachParams(EnvParams):
    """Parameters of :class:`ArmReachEnv` (see its docstring for the spec)."""

    family = "ArmReach"

    n_joints: int = number(
        2,
        ge=1,
        le=MAX_JOINTS,
        integer=True,
        randomizable=False,
        why_fixed="it fixes the action and observation spaces",
    )
    horizon: int = number(
        150,
        ge=1,
        le=MAX_HORIZON,
        integer=True,
        randomizable=False,
        why_fixed="it is the episode length",
    )
    # (below max(2, n_joints) * link_length, checked in _check: at most 10 km)
    tolerance: float | Distribution = number(0.01, gt=0.0, le=MAX_JOINTS * LINK_LENGTH_RANGE[1])
    link_length: float | Distribution = number(
        0.1, ge=LINK_LENGTH_RANGE[0], le=LINK_LENGTH_RANGE[1]
    )
    link_mass: float | Distribution = number(0.1, ge=LINK_MASS_RANGE[0], le=LINK_MASS_RANGE[1])
    joint_damping: float | Distribution = number(0.003, gt=0.0, le=MAX_COEFFICIENT)
    joint_armature: float | Distribution = number(1e-4, gt=0.0, le=MAX_COEFFICIENT)
    gear: float | Distribution = number(0.1, gt=0.0, le=MAX_COEFFICIENT)
    target_distance: float | Distribution = number(0.5, ge=0.0, le=1.0)
    reward_mode: str = choice("sparse", ("sparse", "dense"))
    frame_skip: int = number(
        2,
        ge=1,
        le=MAX_FRAME_SKIP,
        integer=True,
        randomizable=False,
        why_fixed="it fixes the control period",
    )
    timestep: float = number(
        0.01, ge=1e-4, le=0.02, randomizable=False, why_fixed="it fixes the control period"
    )

    def physics_substeps(self) -> int:
        """RK4 substeps per physics step (ArmReachEnv, "Numerical stability"), from the
        extremes of randomized parameters: highest gear and joint_damping, lowest joint_damping
        and joint_armature. Valid parameters need at most ``MAX_SUBSTEPS``."""
        needed = self._substeps_needed()
        if not needed <= MAX_SUBSTEPS:  # (inf or NaN when a ratio overflows)
            raise ValueError(f"these parameters would need {needed:.3g} RK4 substeps")
        return max(1, math.ceil(needed * (1.0 - 1e-9)))  # (exactly at a limit: fewer)

    def _substeps_needed(self) -> float:
        h = self.timestep
        with np.errstate(over="ignore"):  # (a ratio of valid numbers may overflow to inf)
            speed = np.float64(_high(self.gear)) / _low(self.joint_damping)
            turn = speed * h / max_turn_per_step(self.n_joints)
            decay = (
                np.float64(_high(self.joint_damping))
                / _low(self.joint_armature)
                * h
                / MAX_DAMPING_PER_STEP
            )
        return float(max(turn, decay))

    def _check(self) -> None:
        # A target angle away from the starting fingertip (r_out, 0) must exist. The farthest
        # target is at distance r_out + r >= r_out + r_in from it, which is 2 l for one link and
        # at least sum(l) >= n min(l) for more: max(2, n) * min(l) bounds it from below.
        tol = _high(self.tolerance)
        bound = max(2, self.n_joints) * _low(self.link_length)
        if not tol < bound:
            raise ValueError(
                f"tolerance must be below max(2, n_joints) * link_length = {bound:g} (lowest "
                f"link_length), or the arm could start at its target; got tolerance up to {tol:g}"
            )
        # Numerical stability (ArmReachEnv's docstring), at the extremes of randomized parameters.
        substeps = self._substeps_needed()
        if not substeps <= MAX_SUBSTEPS:
            h, gear, damping = self.timestep, _high(self.gear), _low(self.joint_damping)
            high_damping, armature = _high(self.joint_damping), _low(self.joint_armature)
            shown = f"{substeps:.3g}" if substeps >= 1e6 else math.ceil(substeps * (1.0 - 1e-9))
            raise ValueError(
                f"gear, joint_damping, joint_armature and timestep would need {shown} RK4 "
                f"substeps per physics step, more than {MAX_SUBSTEPS}: per timestep={h:g} s, a "
                f"joint under full torque turns up to gear / joint_damping * timestep = {gear:g} "
                f"/ {damping:g} * {h:g} = {gear / damping * h:.3g} rad (highest gear, lowest "
                f"joint_damping; at most {max_turn_per_step(self.n_joints):g} rad per substep "
                f"with n_joints={self.n_joints}) and joint_damping / joint_armature * timestep = "
                f"{high_damping:g} / {armature:g} * {h:g} = {high_damping / armature * h:.3g} "
                f"(at most {MAX_DAMPING_PER_STEP:g} per substep); use a smaller gear or timestep "
                f"or a larger joint_damping or joint_armature"
            )


def _low(v: float | Distribution) -> float:
    return v.low if isinstance(v, Distribution) else v


def _high(v: float | Distribution) -> float:
    return v.high if isinstance(v, Distribution) else v


def forward_kinematics(joint_angles: Any, link_lengths: Any) -> np.ndarray:
    """Fingertip ``(x, y)`` of a planar arm: the sum of the link vectors at cumulative angles.

    Args:
        joint_angles: ``(..., n)`` relative joint angles (radians).
        link_lengths: ``(n,)`` link lengths, or one length for every link.

    Returns:
        ``(..., 2)`` fingertip positions in the base frame.
    """
    q = np.asarray(joint_angles, dtype=np.float64)
    lengths = np.broadcast_to(np.asarray(link_lengths, dtype=np.float64), q.shape[-1:])
    phi = np.cumsum(q, axis=-1)
    return np.stack(
        ((lengths * np.cos(phi)).sum(axis=-1), (lengths * np.sin(phi)).sum(axis=-1)), axis=-1
    )


def reachable_annulus(link_lengths: Any) -> tuple[float, float]:
    """``(r_in, r_out)``: the fingertip can reach exactly the radii in ``[r_in, r_out]``."""
    lengths = np.asarray(link_lengths, dtype=np.float64)
    total = float(lengths.sum())
    return max(0.0, 2.0 * float(lengths.max()) - total), total


def target_angle(u: float, radius: float, r_out: float, tolerance: float) -> float:
    """The target angle for a uniform draw ``u`` in ``[0, 1)``.

    Uniform over the angles that put a target at ``radius`` farther than ``tolerance`` from the
    starting fingertip ``(r_out, 0)``: distance^2 = r_out^2 + radius^2 - 2 r_out radius cos(angle),
    so the excluded arc is ``|angle| <= acos(c)`` with ``c`` below.
    """
    denom = 2.0 * r_out * radius
    c = (r_out * r_out + radius * radius - tolerance * tolerance) / denom if denom > 0 else 2.0
    if c >= 1.0:  # no angle is within tolerance (but the one at exactly c == 1, measure zero)
        return 2.0 * math.pi * u
    half = math.acos(max(c, -1.0))
    angle = half + u * (2.0 * math.pi - 2.0 * half)
    if math.hypot(r_out - radius * math.cos(angle), radius * math.sin(angle)) <= tolerance:
        angle = math.pi  # u == 0 lands on the arc's edge: take the farthest point instead
    return angle


def _inertia(length: float, mass: float) -> tuple[float, float, float]:
    """Principal inertia of a uniform cylinder along x, about its centre."""
    r = RADIUS_FRACTION * length
    side = mass * (3.0 * r * r + length * length) / 12.0
    return 0.5 * mass * r * r, side, side


def arm_mjcf(
    link_lengths: tuple[float, ...],
    link_masses: tuple[float, ...],
    joint_damping: float,
    joint_armature: float,
    gear: float,
    timestep: float,
) -> str:
    """The MJCF of the arm (one link, hinge and motor per entry of ``link_lengths``)."""
    n = len(link_lengths)

    def f(x: float) -> str:  # repr round-trips exactly, so compiled values equal the inputs
        return repr(float(x))

    bodies, closing = [], []
    parent_length = 0.0
    for i, (length, mass) in enumerate(zip(link_lengths, link_masses)):
        ixx, iyy, izz = _inertia(length, mass)
        site = (
            f'<site name="fingertip" pos="{f(length)} 0 0" size="{f(0.1 * length)}"/>'
            if i == n - 1
            else ""
        )
        bodies.append(
            f'<body name="link{i}" pos="{f(parent_length)} 0 0">'
            f'<joint name="joint{i}" type="hinge" axis="0 0 1" damping="{f(joint_damping)}" '
            f'armature="{f(joint_armature)}"/>'
            f'<inertial pos="{f(length / 2)} 0 0" mass="{f(mass)}" '
            f'diaginertia="{f(ixx)} {f(iyy)} {f(izz)}"/>'
            f'<geom name="link{i}" type="capsule" fromto="0 0 0 {f(length)} 0 0" '
            f'size="{f(RADIUS_FRACTION * length)}" contype="0" conaffinity="0"/>{site}'
        )
        closing.append("</body>")
        parent_length = length
    motors = "".join(
        f'<motor name="motor{i}" joint="joint{i}" gear="{f(gear)}" ctrlrange="-1 1"/>'
        for i in range(n)
    )
    return (
        '<mujoco model="arm_reach">'
        '<compiler angle="radian" autolimits="true"/>'
        f'<option timestep="{f(timestep)}" gravity="0 0 0" integrator="RK4">'
        '<flag constraint="disable" gravity="disable" autoreset="disable"/></option>'
        f'<worldbody><site name="target" pos="0 0 0" size="{f(0.01)}"/>'
        + "".join(bodies)
        + "".join(closing)
        + f"</worldbody><actuator>{motors}</actuator></mujoco>"
    )


class ArmReachEnv(gym.Env):
    """Bring the fingertip of a planar arm of ``n_joints`` motors within ``tolerance`` of a target.

    ## Description
    A planar arm of ``n_joints`` (n) links lies in the horizontal plane, its base fixed at the
    origin. Each link is joined to the previous one (the first to the world) by an unlimited hinge
    about the z axis and driven by its own motor, so the action dimension is exactly n. The links
    point along their body's x axis: with all joint angles ``q = 0`` the arm is stretched out along
    the world x axis. The task is to bring the fingertip (a site at the far end of the last link)
    within ``tolerance`` of a target in the plane before ``horizon`` (H) steps have passed.

    The arm is generated as MJCF from the parameters and simulated with the ``mujoco`` bindings.
    Each link is a uniform cylinder of length ``link_length`` and mass ``link_mass`` (radius
    ``0.05 * link_length``, inertia about its centre
    ``diag(m r^2 / 2, m (3 r^2 + l^2) / 12, same)``). Gravity, contacts and joint limits are off:
    the arm moves in the plane only under the motor torques ``gear * action`` and viscous joint
    damping ``joint_damping``; each joint also carries a rotor inertia ``joint_armature`` (MuJoCo's
    armature), which keeps short, light links from becoming numerically stiff. One env step is
    ``frame_skip`` physics steps of ``timestep`` with the action held constant. Each physics step is
    integrated by MuJoCo's fourth-order Runge-Kutta (``RK4``) in ``substeps`` equal steps: one
    unless the parameters make the arm too fast for one (see "Numerical stability"; the env's
    ``substeps`` attribute). Randomized link lengths and masses are written into the compiled model
    in place at reset (no recompilation).

    Forward kinematics is the sum of the link vectors at the cumulative joint angles (see
    :func:`forward_kinematics`); a target at distance ``r`` from the base is reachable exactly when
    ``r_in <= r <= r_out``, with ``r_out = sum(l)`` and ``r_in = max(0, 2 max(l) - sum(l))``.

    ## Action Space
    ``Box(-1, 1, (n,), float32)``: the control of each joint's motor; the torque is
    ``gear * action``. Actions outside ``[-1, 1]``, non-finite, or of the wrong shape raise
    ``ValueError`` (nothing is clipped silently).

    ## Observation Space
    ``Box(-inf, inf, (3 n + 4,), float32)``:

    | index | observation |
    |---|---|
    | 0 .. n-1 | ``cos(q_i)`` of each joint angle (relative to the previous link) |
    | n .. 2n-1 | ``sin(q_i)`` |
    | 2n .. 3n-1 | joint velocities ``dq_i/dt`` (rad/s) |
    | 3n, 3n+1 | fingertip minus target, x and y |
    | 3n+2, 3n+3 | target x and y |

    ## Rewards
    Success is the fingertip within ``tolerance`` of the target (Euclidean distance
    ``<= tolerance``), checked at the end of every env step.

    * ``reward_mode="sparse"``: 1.0 on the step of success, else 0.0.
    * ``reward_mode="dense"``: minus the fingertip-target distance after every step (the success
      step included).

    ## Starting State
    ``q = 0`` and ``dq/dt = 0`` exactly (no noise; the randomness of an episode is the target and
    any randomized parameters). The target is at radius
    ``r = r_in + target_distance * (r_out - r_in)`` and at an angle drawn uniformly on the circle at
    every reset, excluding the arc of angles that would put the target within ``tolerance`` of the
    starting fingertip ``(r_out, 0)`` (the angle is uniform on the rest of the circle: one draw, the
    same as redrawing until it is outside). ``reset(options={"target": (x, y)})`` places the target
    there instead (it must be reachable and farther than ``tolerance`` from the starting fingertip),
    e.g. to evaluate on chosen targets. ``info["params"]`` at reset holds the parameter values of
    the episode, with ``link_length`` and ``link_mass`` always as per-link tuples;
    ``info["target"]`` is the target.

    ## Episode End
    ``terminated`` is True on the step of success. Otherwise, ``truncated`` is True at step H (the
    env enforces its horizon itself). ``info["is_success"]`` and ``info["distance"]``
    (fingertip-target) are given on every step. Calling ``step`` after the episode ended raises
    ``RuntimeError``; so does a simulation that became numerically unstable (MuJoCo's warning of
    huge or non-finite joint accelerations), instead of MuJoCo's silent reset of the state. With the
    substeps below, no action sequence does this with the defaults or presets.

    ## Rendering
    ``render_mode="rgb_array"`` draws the arm from above with the numpy rasteriser of
    :mod:`rlbench3.envs.rendering` (no OpenGL or display needed): links grey, joints blue, fingertip
    red, the target green with a ring of radius ``tolerance``.

    ## Expert
    ``optimal_action()`` is a deterministic controller that reaches the target, computed from the
    current state and the episode's model (link lengths and masses, damping, gear, which the
    observation does not show under randomized parameters). With ``J`` the fingertip's Jacobian
    and ``M`` the joint-space inertia matrix, the desired joint velocity is
    ``10 M^-1 J^T (J M^-1 J^T + 0.04 tr(J M^-1 J^T) / 2 I)^-1 (target - fingertip)`` (a damped
    least-squares step weighted by inertia, so light outer joints move more than heavy inner
    ones); the torque ``M 20 (desired - dq/dt) + joint_damping * desired`` tracks it, divided by
    ``gear`` and clipped to ``[-1, 1]`` joint by joint. Success of the expert over 100 episodes
    each (default horizon 150):

    | ``n_joints`` | 1 | 2 | 3 | 5 | 10 |
    |---|---|---|---|---|---|
    | D | 1.00 | 1.00 | 1.00 | 1.00 | 1.00 |
    | R | 1.00 | 1.00 | 1.00 | 1.00 | 0.97 |
    | E | 1.00 | 1.00 | 1.00 | 0.97 | 0.62 |

    Its failures are episodes that run out of time, not divergences: in preset E the motors
    are weaker (``gear`` down to 0.05) and the links heavier, and a long arm cannot turn its
    heavy inner joints far enough within 3 s for every target.

    ## Numerical stability
    A joint under full torque spins up towards its terminal speed ``S = gear / joint_damping`` (33
    rad/s at the defaults), and bang-bang actions whirl the links faster still (joint speeds up to
    about 3.5 S, e.g. by pushing each joint along its motion). At such speeds the centrifugal and
    Coriolis forces couple the links like springs stiffening with the square of the speed and with
    the length of arm inboard of a link: a link near the end of a long, fast arm whips back and
    forth several times faster than the arm turns, most of all near folded poses. A fixed-step
    integrator diverges once that fastest motion turns about 2-3 radians per step, and gains energy
    well before. MuJoCo's ``implicit`` integrator linearizes the velocity terms implicitly, but it
    is first order and takes the pose dependence of the centrifugal forces explicitly: in one step
    of 0.01 s, bang-bang actions blew it up in presets R (10 joints) and E (5 joints), and before
    that it could run at several times the true speeds without any error (see "Version History").
    MuJoCo's first-order integrators (``Euler``, ``implicit``, ``implicitfast``) still failed at E's
    corners with steps of 0.002-0.0025 s. ``RK4`` resolves these motions with 2-3 times longer
    steps, and the armature keeps the damping non-stiff for it: the fastest decay rate of the joint
    velocities is below ``joint_damping / joint_armature`` (the armature bounds the mass matrix from
    below).

    The number of RK4 ``substeps`` per physics step is the smallest that keeps, per substep
    ``timestep / substeps``,

    * ``S * timestep / substeps <= 0.8`` rad for arms of up to 3 joints and ``<= 0.4`` rad for
      longer ones (the coupling grows with the arm's length), and
    * ``joint_damping / joint_armature * timestep / substeps <= 0.5``,

    at the extremes of randomized parameters (highest ``gear`` and ``joint_damping``, lowest
    ``joint_damping`` and ``joint_armature``). It changes the cost of a step, not the dynamics being
    simulated: the defaults and preset D take 1 substep, preset R 1 (up to 3 joints) or 2, preset E
    2 or 4 (it reaches ``S = 160`` rad/s). Parameters that would need more than 100 substeps raise a
    ``ValueError`` naming them.

    The limits are calibrated on adversarial bang-bang actions (constant, random and alternating
    signs, and ``sign(dq/dt)``, which puts in the most power) held for 30-60 s, on arms whose every
    link is at the low or high end of the length and mass ranges of presets R and E, and on random
    arms over the valid ranges. On the preset-like arms the first divergences appeared at ``S``
    times the step of 1.6 rad with 2-3 joints, 1.0-1.3 with 4-8 and 0.6-0.8 with 9-10; the limits
    are half that or less, except with 9-10 joints (0.4 against 0.6). Through this env, no failure
    was found in about 11,700 such episodes of 3 s and 60 s with 1-10 joints on presets D, R and E.
    With arbitrary links, a few arms right at a limit (a heavy link on light ones, a small armature)
    could still be driven unstable, about once in 1,400 adversarial episodes of 1000 steps with 4-10
    joints (none in 1,600 with 1-3); ``step`` then raises the ``RuntimeError`` above.

    ## Arguments
    | parameter           | default      | valid values |
    |---------------------|--------------|--------------|
    | ``n_joints``        | ``2``        | an integer >= 1 and <= 10, fixed |
    | ``horizon``         | ``150``      | an integer >= 1 and <= 1000000, fixed |
    | ``tolerance``       | ``0.01``     | a number > 0 and <= 10000 |
    | ``link_length``     | ``0.1``      | a number >= 0.001 and <= 1000 |
    | ``link_mass``       | ``0.1``      | a number >= 1e-06 and <= 1e+06 |
    | ``joint_damping``   | ``0.003``    | a number > 0 and <= 1e+06 |
    | ``joint_armature``  | ``0.0001``   | a number > 0 and <= 1e+06 |
    | ``gear``            | ``0.1``      | a number > 0 and <= 1e+06 |
    | ``target_distance`` | ``0.5``      | a number >= 0 and <= 1 |
    | ``reward_mode``     | ``'sparse'`` | one of 'sparse', 'dense' |
    | ``frame_skip``      | ``2``        | an integer >= 1 and <= 1000, fixed |
    | ``timestep``        | ``0.01``     | a number >= 0.0001 and <= 0.02, fixed |
    | ``preset``          | ``None``     | None, 'D', 'R' or 'E' |
    | ``render_mode``     | ``None``     | None or 'rgb_array' |

    The parameters are :class:`ArmReachParams`. A ``fixed`` one cannot be randomized: ``n_joints``
    fixes the action and observation spaces, ``horizon`` is the episode length, ``frame_skip`` and
    ``timestep`` fix the control period. The other numbers may be given as distributions (see
    :mod:`rlbench3.envs.parameters`), drawn at every reset; ``link_length`` and ``link_mass`` are
    then drawn independently for each link. ``target_distance`` is a fraction of the reachable
    annulus (see "Starting State").

    ``tolerance`` must stay below ``max(2, n_joints) * min(link_length)`` (lowest values of
    distributions): then some target angle keeps the starting fingertip out of tolerance.
    ``timestep`` is capped at 0.02 s: the dynamics are tuned at 0.01 s. ``gear``, ``joint_damping``,
    ``joint_armature`` and ``timestep`` together must not need more than 100 substeps (see
    "Numerical stability").

    The defaults give a 2-link, 0.2 m arm with a control period of 0.02 s (as Gymnasium's Reacher),
    a 3 s episode and a 1 cm tolerance (a tenth of a link). Torque, damping and armature are chosen
    so that under a uniform random policy the fingertip moves about a tolerance per step (so success
    is rarely stepped over) and the joints' velocities remember actions for a few steps (outer
    joint, about 7) to tens of steps (base joint of two links, about 46: inertia over damping),
    letting random actions sweep a good part of the workspace within H steps (how far a random
    policy gets grows with the terminal speed ``S``, 33 rad/s). The armature, a third of a default
    link's inertia about its joint, bounds the damping rate at 30/s, 0.3 per physics step; ``S`` is
    0.33 rad per physics step, within the limits for every ``n_joints``, so the defaults run one RK4
    step per physics step. A uniform random policy succeeds in about 81% of sparse episodes with
    ``n_joints=1``, 12% with 2, 8% with 3, 5% with 5 and 1% with 10 (3000 episodes each): the
    workspace grows with the number of links, and the base joints of a longer arm are heavier.

    A ``preset`` (see ``envs/presets.yaml``) sets several parameters at once; explicit keywords
    override it.

    The other bounds are where the model compiles and stays finite: links of 1 mm to 1 km
    (``link_length=1e300`` blew the simulation up) and of 1e-6 to 1e6 kg (MuJoCo refuses inertias
    below 1e-15), gear, damping and armature at most 1e6, a ``timestep`` of at least 0.1 ms and a
    ``frame_skip`` of at most 1000 (a control period of at most 20 s).

    A copy (``copy.deepcopy``) or an unpickled env (``pickle``, ``cloudpickle``) steps exactly as
    the original would from the same state: the MuJoCo model and data are copied whole (with the
    episode's links, damping and gear, the joint state and the warning counters), as are the
    generator and the step counter.

    ## Version History
    * v0: initial version, which integrated each physics step in one step of MuJoCo's ``implicit``
      integrator (0.01 s). Since then, under the same id, each physics step is integrated by
      ``RK4`` in the automatic ``substeps`` of "Numerical stability", as bang-bang actions blew the
      ``implicit`` integrator up in presets R and E.
    * v0 (0.3): bounds on every number (values outside them failed at compilation, overflowed or
      hung); ``copy.deepcopy`` and pickling give an env that steps as the original.
    * v0 (0.4): the expert ``optimal_action()`` (see "Expert"; the env is unchanged).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(self, render_mode: str | None = None, preset: str | None = None, **kwargs: Any):
        check_preset(ArmReachParams.family, preset)
        self.params: ArmReachParams = resolve_params(ArmReachParams, preset, kwargs)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']} or None, "
                f"got {render_mode!r}"
            )
        self.render_mode = render_mode
        p = self.params
        self.metadata = {**self.metadata, "render_fps": round(1.0 / (p.timestep * p.frame_skip))}
        n = self.n_joints = p.n_joints
        self.horizon = p.horizon
        self.action_space = spaces.Box(-1.0, 1.0, (n,), np.float32)
        self._action_shape = (n,)
        self.observation_space = spaces.Box(-np.inf, np.inf, (3 * n + 4,), np.float32)
        self._sparse = p.reward_mode == "sparse"
        self._randomized = bool(p.randomized)
        # Values of the episode; fixed parameters are drawn once here (no randomness involved).
        self._episode = self._draw(np.random.default_rng(0))
        self._lengths: tuple[float, ...] = self._episode["link_length"]
        self._masses: tuple[float, ...] = self._episode["link_mass"]
        # Each physics step of p.timestep is simulated as `substeps` RK4 steps (numerical only).
        self.substeps = p.physics_substeps()
        self.model = mujoco.MjModel.from_xml_string(
            arm_mjcf(
                self._lengths,
                self._masses,
                self._episode["joint_damping"],
                self._episode["joint_armature"],
                self._episode["gear"],
                p.timestep / self.substeps,
            )
        )
        self.data = mujoco.MjData(self.model)
        self._tip_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_SITE, "fingertip")
        self._target_site = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_SITE, "target")
        self.dt = p.timestep * p.frame_skip
        self._nstep = p.frame_skip * self.substeps
        self._target = np.zeros(2)
        self._tolerance = float("nan")
        self._t = 0
        self._done = True
        # The observation is assembled in float64 through fixed views (cast once per step).
        self._obs = np.zeros(3 * n + 4)
        self._bind_views()

    def _bind_views(self) -> None:
        """The views into ``_obs`` and ``data`` that ``step`` writes and reads, bound anew
        whenever those objects are new (construction, copy, unpickling)."""
        n = self.n_joints
        self._obs_cos, self._obs_sin = self._obs[:n], self._obs[n : 2 * n]
        self._obs_vel = self._obs[2 * n : 3 * n]
        self._tip_xpos = self.data.site_xpos[self._tip_id]  # a view, valid for self.data's life
        # MuJoCo's count of non-finite or huge (> 1e10) accelerations, zeroed by mj_resetData.
        self._bad_qacc = self.data.warning[int(mujoco.mjtWarning.mjWARN_BADQACC)]

    # -- copy and pickle ----------------------------------------------------------------------
    _VIEWS = ("_obs_cos", "_obs_sin", "_obs_vel", "_tip_xpos", "_bad_qacc")

    def __getstate__(self) -> dict[str, Any]:
        """Everything but the views into ``_obs`` and ``data`` (``copy.deepcopy``, ``pickle`` and
        ``cloudpickle`` all go through here). MuJoCo's ``MjModel`` and ``MjData`` copy and pickle
        themselves whole: the model with the episode's links, damping and gear written in place,
        the data with the state (``qpos``, ``qvel``, the time, the warning counters). The copy
        then steps exactly as the original would from the same state and generator."""
        state = self.__dict__.copy()
        for name in self._VIEWS:
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._bind_views()

    # -- parameters ---------------------------------------------------------------------------
    def _draw(self, rng: np.random.Generator) -> dict[str, Any]:
        """Every parameter's value for one episode, drawn in field order from ``rng``."""
        n = self.params.n_joints
        out: dict[str, Any] = {}
        for f in fields(self.params):
            v = getattr(self.params, f.name)
            if f.name in PER_LINK:
                values = v.sample(rng, size=n) if isinstance(v, Distribution) else (v,) * n
                out[f.name] = tuple(float(x) for x in values)
            else:
                out[f.name] = v.sample(rng) if isinstance(v, Distribution) else v
        return out

    def _set_links(self, lengths: tuple[float, ...], masses: tuple[float, ...]) -> None:
        """Change link lengths and masses of the compiled model in place (no recompilation).

        Writes what the compiler derives from :func:`arm_mjcf` for these values and recomputes
        the derived constants (``mj_setConst``), so the dynamics equal those of a freshly compiled
        model bit for bit. ``stat.meaninertia``, ``stat.extent`` and ``actuator_acc0`` keep their
        first values: only the constraint solver, the visualiser and actuators with internal
        dynamics read them, and this model has none of these.
        """
        m = self.model
        for i, (length, mass) in enumerate(zip(lengths, masses)):
            body = i + 1
            m.body_pos[body, 0] = lengths[i - 1] if i else 0.0
            m.body_ipos[body, 0] = length / 2
            m.body_mass[body] = mass
            m.body_inertia[body] = _inertia(length, mass)
            m.geom_pos[i, 0] = length / 2
            m.geom_size[i, 0] = RADIUS_FRACTION * length
            m.geom_size[i, 1] = length / 2
            m.geom_rbound[i] = RADIUS_FRACTION * length + length / 2
        m.site_pos[self._tip_id, 0] = lengths[-1]
        m.site_size[self._tip_id, 0] = 0.1 * lengths[-1]
        mujoco.mj_setConst(m, self.data)
        self._lengths, self._masses = lengths, masses

    # -- the expert ---------------------------------------------------------------------------
    def optimal_action(self) -> np.ndarray:
        """The expert's action in the current state (see "Expert"; valid after ``reset``).

        Reads the state only: the inertia matrix and the Jacobian are computed on a separate
        ``MjData``, so the simulation is not touched.
        """
        if self._done:
            raise RuntimeError("optimal_action() needs an episode in progress; call reset() first")
        m, n = self.model, self.n_joints
        d = self.__dict__.get("_expert_data")
        if d is None:
            d = self._expert_data = mujoco.MjData(m)
        d.qpos[:] = self.data.qpos
        d.qvel[:] = self.data.qvel
        mujoco.mj_fwdPosition(m, d)
        inertia = np.zeros((n, n))
        mujoco.mj_fullM(m, d, inertia)
        jacobian = np.zeros((3, n))
        mujoco.mj_jacSite(m, d, jacobian, None, self._tip_id)
        jac = jacobian[:2]
        error = self._target - d.site_xpos[self._tip_id, :2]
        inv_jt = np.linalg.solve(inertia, jac.T)  # M^-1 J^T
        a = jac @ inv_jt
        a += (EXPERT_REGULARISATION**2 * np.trace(a) / 2.0) * np.eye(2)
        desired = EXPERT_POSITION_GAIN * (inv_jt @ np.linalg.solve(a, error))
        torque = inertia @ (EXPERT_VELOCITY_GAIN * (desired - d.qvel)) + m.dof_damping * desired
        return np.clip(torque / m.actuator_gear[:, 0], -1.0, 1.0).astype(np.float32)

    # -- helpers ------------------------------------------------------------------------------
    def fingertip_position(self) -> np.ndarray:
        """The fingertip's ``(x, y)`` now (from MuJoCo's kinematics of the current state)."""
        return self.data.site_xpos[self._tip_id, :2].copy()

    @property
    def target_position(self) -> np.ndarray:
        """The target's ``(x, y)`` in this episode."""
        return self._target.copy()

    @property
    def link_lengths(self) -> tuple[float, ...]:
        return self._lengths

    def _observation(self) -> tuple[np.ndarray, float]:
        d = self.data
        n = self.n_joints
        obs = self._obs
        np.cos(d.qpos, out=self._obs_cos)
        np.sin(d.qpos, out=self._obs_sin)
        self._obs_vel[:] = d.qvel
        tip, target = self._tip_xpos, self._target
        dx = tip[0] - target[0]
        dy = tip[1] - target[1]
        obs[3 * n] = dx
        obs[3 * n + 1] = dy
        return obs.astype(np.float32), math.hypot(dx, dy)

    @staticmethod
    def _chosen_target(target: Any, r_in: float, r_out: float, tol: float) -> np.ndarray:
        try:
            t = np.asarray(target, dtype=np.float64)
        except (TypeError, ValueError):
            t = np.full(1, np.nan)
        if t.shape != (2,) or not np.isfinite(t).all():
            raise ValueError(f"options['target'] must be two finite numbers (x, y), got {target!r}")
        r = math.hypot(t[0], t[1])
        if not r_in - 1e-12 <= r <= r_out + 1e-12:
            raise ValueError(
                f"options['target'] must be reachable, at a distance in [{r_in:g}, {r_out:g}] "
                f"from the base, got {target!r} at distance {r:g}"
            )
        if math.hypot(r_out - t[0], t[1]) <= tol:
            raise ValueError(
                f"options['target'] must be farther than tolerance={tol:g} from the starting "
                f"fingertip ({r_out:g}, 0), got {target!r}"
            )
        return t

    # -- gymnasium API ------------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        rng = self.np_random
        if self._randomized:
            ep = self._episode = self._draw(rng)
            if ep["link_length"] != self._lengths or ep["link_mass"] != self._masses:
                self._set_links(ep["link_length"], ep["link_mass"])
            self.model.dof_damping[:] = ep["joint_damping"]
            self.model.dof_armature[:] = ep["joint_armature"]
            self.model.actuator_gear[:, 0] = ep["gear"]
        ep = self._episode
        self._tolerance = tol = ep["tolerance"]
        mujoco.mj_resetData(self.model, self.data)
        r_in, r_out = reachable_annulus(self._lengths)
        radius = r_in + ep["target_distance"] * (r_out - r_in)
        if options and options.get("target") is not None:
            self._target[:] = self._chosen_target(options["target"], r_in, r_out, tol)
        else:
            angle = target_angle(rng.random(), radius, r_out, tol)
            self._target[:] = (radius * math.cos(angle), radius * math.sin(angle))
        self._obs[3 * self.n_joints + 2 :] = self._target
        self.model.site_pos[self._target_site, :2] = self._target
        mujoco.mj_kinematics(self.model, self.data)
        self._t = 0
        self._done = False
        obs, _ = self._observation()
        return obs, {"params": dict(ep), "target": self._target.copy()}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        try:
            a = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            a = None
        if (
            a is None
            or a.shape != self._action_shape
            or not all(-1.0 <= x <= 1.0 for x in a.tolist())  # (NaN fails the comparison)
        ):
            raise ValueError(
                f"action must be {self.n_joints} finite numbers in [-1, 1] "
                f"(shape ({self.n_joints},)), got {action!r}"
            )
        if self._done:
            raise RuntimeError(
                "step() called before reset() or after the episode ended; call reset() first"
            )
        d = self.data
        d.ctrl[:] = a
        mujoco.mj_step(self.model, d, nstep=self._nstep)
        mujoco.mj_kinematics(self.model, d)
        obs, dist = self._observation()
        if self._bad_qacc.number or not math.isfinite(dist):
            self._done = True
            raise RuntimeError(
                "the simulation became numerically unstable (huge or non-finite joint "
                f"accelerations, joint speeds up to {np.abs(d.qvel).max():.3g} rad/s); use a "
                "smaller timestep or gear, or a larger joint_damping or joint_armature (see "
                '"Numerical stability" in the ArmReach docstring)'
            )
        self._t += 1
        success = dist <= self._tolerance
        truncated = not success and self._t >= self.horizon
        self._done = success or truncated
        if self._sparse:
            reward = 1.0 if success else 0.0
        else:
            reward = -dist
        return obs, reward, success, truncated, {"is_success": success, "distance": dist}

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        reach = self.n_joints * _high(self.params.link_length)
        canvas = Canvas(size=256, extent=2.3 * reach)
        d = self.data
        points = [d.xpos[i + 1, :2] for i in range(self.n_joints)] + [self.fingertip_position()]
        canvas.disc(self._target, self._tolerance, GREEN, ring=True)
        canvas.disc(self._target, 0.01 * reach, GREEN)
        width = RADIUS_FRACTION * 2 * min(self._lengths)
        for start, end in zip(points, points[1:]):
            canvas.segment(start, end, width, GREY)
        for joint in points[:-1]:
            canvas.disc(joint, 0.02 * reach, BLUE)
        canvas.disc(points[0], 0.03 * reach, DARK, ring=True)
        canvas.disc(points[-1], 0.015 * reach, RED)
        return canvas.image
