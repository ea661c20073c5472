"""Agent files (YAML), installed as ``rlbench3.data.agents``; see rlbench3/data."""
