"""The command line."""

from __future__ import annotations

import rlbench3
from rlbench3.cli import hit_table, main


def test_envs_lists_every_id_with_parameters(capsys):
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    for env_id in rlbench3.registered_ids():
        assert env_id in out
    assert "horizon            10 (an integer >= 1, fixed)" in out


def test_hit_reads_yaml_parameters(capsys):
    main(
        [
            "hit",
            "rlbench3/CombinationLock-v0",
            "-p",
            "horizon=3",
            "-p",
            "num_actions=2",
            "--episodes",
            "20000",
        ]
    )
    out = capsys.readouterr().out
    assert "{'horizon': 3, 'num_actions': 2}" in out and "95% CI" in out


def test_hit_table_includes_the_closed_form():
    table = hit_table([("rlbench3/CombinationLock-v0", "horizon", (1, 3), 4096)])
    assert table["closed form"].tolist() == ["0.5", "0.125"]
    assert table["setting"].tolist() == ["horizon=1", "horizon=3"]
    assert (table["episodes"] == 4096).all()
