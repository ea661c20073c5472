"""Every rlbench3 environment id, registered with Gymnasium on ``import rlbench3``.

The list below is the whole registry: add an entry per family; bump ``-vN`` whenever dynamics or
rewards change, so results recorded under an old id keep their meaning.

The horizon is an env parameter (``horizon=``), enforced by the env itself, not by a registered
``max_episode_steps``: a registered TimeLimit would silently cut a ``horizon=50`` episode at the
registered default. ``gymnasium.make(id, max_episode_steps=N)`` still adds a TimeLimit on top.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

NAMESPACE = "rlbench3"

ENVIRONMENTS = (
    dict(
        id="rlbench3/CombinationLock-v0",
        entry_point="rlbench3.envs.combination_lock:CombinationLockEnv",
        vector_entry_point="rlbench3.envs.combination_lock:CombinationLockVectorEnv",
    ),
    dict(
        id="rlbench3/SparseReach-v0",
        entry_point="rlbench3.envs.sparse_reach:SparseReachEnv",
        vector_entry_point="rlbench3.envs.sparse_reach:SparseReachVectorEnv",
    ),
    dict(
        id="rlbench3/Orbit-v0",
        entry_point="rlbench3.envs.orbit:OrbitEnv",
        vector_entry_point="rlbench3.envs.orbit:OrbitVectorEnv",
    ),
    dict(
        id="rlbench3/ArmReach-v0",
        entry_point="rlbench3.envs.arm_reach:ArmReachEnv",
    ),
    # Episodes drawn from several parameter settings of another id (joint distributions, e.g.
    # held-out parameter combinations); needs env= and components= (see rlbench3/envs/mixture.py).
    dict(
        id="rlbench3/Mixture-v0",
        entry_point="rlbench3.envs.mixture:MixtureEnv",
    ),
    # Randomized Gymnasium tasks (Packer et al. 2018): rlbench3/<Task>-v0 takes preset="D"|"R"|"E"
    # (or any parameters), rlbench3/<Task>-<D|R|E>-v0 has the preset built in. Their horizon is
    # Gymnasium's and not a parameter, so it is registered as a TimeLimit as Gymnasium does.
    *(
        dict(
            id=f"rlbench3/{task}{'' if preset is None else '-' + preset}-v0",
            entry_point=entry_point,
            max_episode_steps=max_episode_steps,
            kwargs={} if preset is None else {"preset": preset},
        )
        for task, entry_point, max_episode_steps in (
            ("CartPole", "rlbench3.envs.classic_control:CartPoleEnv", 500),
            ("MountainCar", "rlbench3.envs.classic_control:MountainCarEnv", 200),
            ("Acrobot", "rlbench3.envs.classic_control:AcrobotEnv", 500),
            ("Pendulum", "rlbench3.envs.classic_control:PendulumEnv", 200),
            ("HalfCheetah", "rlbench3.envs.locomotion:HalfCheetahEnv", 1000),
            ("Hopper", "rlbench3.envs.locomotion:HopperEnv", 1000),
        )
        for preset in (None, "D", "R", "E")
    ),
)


def register_all() -> None:
    """Register every id once (idempotent, so re-imports and spawned workers are safe)."""
    for entry in ENVIRONMENTS:
        if entry["id"] not in registry:
            register(**entry)


def registered_ids() -> list[str]:
    """The rlbench3 ids currently in Gymnasium's registry."""
    return sorted(env_id for env_id in registry if env_id.startswith(NAMESPACE + "/"))
