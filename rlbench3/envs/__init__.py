"""Environment families, their parameters and presets; importing this package registers every id.

See :mod:`rlbench3.envs.registration` for the list of ids.
"""

from rlbench3.envs.registration import register_all, registered_ids

register_all()

__all__ = ["register_all", "registered_ids"]
