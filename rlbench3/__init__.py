"""rlbench3: a benchmark suite that measures why reinforcement learning fails.

Importing the package registers every environment with Gymnasium under ``rlbench3/...``::

    import gymnasium as gym
    import rlbench3  # noqa: F401  (registers the ids)

    env = gym.make("rlbench3/CombinationLock-v0", horizon=12, num_actions=3)

Code that never imports rlbench3 can use ``gym.make("rlbench3:rlbench3/CombinationLock-v0")``:
Gymnasium imports the module named before the colon first.
"""

from importlib.metadata import version

from rlbench3.envs import register_all, registered_ids

__version__ = version("rlbench3")

__all__ = ["__version__", "register_all", "registered_ids"]
