"""Check an installed (non-editable) rlbench3 from outside the source tree, as a user would.

Run it with the interpreter of a fresh venv into which rlbench3 was installed with ``pip install
PATH`` (``make install-check`` does exactly that), from a directory outside the repository: every
registered id makes and resets, every preset of every randomized family works, and the shipped
suites and agent files are found through the installed package.
"""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym

import rlbench3
from rlbench3.data import shipped_names
from rlbench3.envs.presets import all_presets
from rlbench3.harness.sweep import plan_suite


def main() -> int:
    installed = Path(rlbench3.__file__).resolve().parent
    if (installed.parent / "pyproject.toml").exists():
        print(f"rlbench3 is imported from a source tree ({installed}), not an install")
        return 1
    ids = rlbench3.registered_ids()
    for env_id in ids:
        env = gym.make(env_id)
        env.reset(seed=0)
        env.close()
    presets = 0
    for env_id in ids:
        params = getattr(gym.make(env_id).unwrapped, "params", None)
        family = type(params).family if params is not None else None
        for name in all_presets().get(family, {}) if family else ():
            env = gym.make(env_id, preset=name)
            env.reset(seed=0)
            env.close()
            presets += 1
    suites = {name: len(plan_suite(name)[1]) for name in shipped_names("envs")}
    print(
        f"rlbench3 {rlbench3.__version__} from {installed}: {len(ids)} ids make and reset, "
        f"{presets} preset= settings work, suites {suites}, agents {shipped_names('agents')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
