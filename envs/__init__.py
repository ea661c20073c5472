"""Suites and env presets (YAML), installed as ``rlbench3.data.envs``; see rlbench3/data."""
