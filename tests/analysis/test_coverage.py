"""Coverage of the tables' intervals by simulation (``scripts/coverage.py``, reduced): slow.

Run with ``.venv/bin/python -m pytest -m slow tests/analysis/test_coverage.py`` (``make test``
deselects it). The README quotes the full run of the script; this checks that a smaller one,
with fixed seeds, agrees with the documented figures: every H50 interval and every success-rate
cell from 5 seeds on covers at least 0.93 (not significantly less, at the 95% level of the
simulation's own Clopper-Pearson interval), and below 5 seeds the documented shortfall (the
reason the tables warn) is real.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "coverage.py"


@pytest.fixture(scope="module")
def coverage():
    name = "rlbench3_coverage_script"
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


@pytest.mark.parametrize(("h50", "scale"), [(6.3, 1.5), (5.0, 0.8), (4.5, 0.1)])
def test_h50_interval_covers_at_five_seeds_per_level(coverage, h50, scale):
    result = coverage.h50_coverage(h50, scale, 5, 250, seed=1)
    assert result.interval()[1] >= 0.93, (result.coverage, result.sims)
    assert result.coverage >= 0.90


@pytest.mark.parametrize("seeds", [5, 10])
@pytest.mark.parametrize("index", range(4))
def test_success_cells_cover_from_five_seeds(coverage, index, seeds):
    scenario = coverage.SUCCESS_SCENARIOS[index]
    result = coverage.success_coverage(scenario, seeds, 300, seed=1, reps=500)
    assert result.interval()[1] >= 0.93, (scenario.name, result.coverage)


def test_three_seeds_fall_short_where_the_tables_warn(coverage):
    # Three seeds of a bimodal population (a seed learns the task or not): a quarter of the
    # time every seed lands in one mode, and no interval built from them can hold the mean.
    bimodal = coverage.SUCCESS_SCENARIOS[3]
    result = coverage.success_coverage(bimodal, 3, 300, seed=1, reps=500)
    assert result.interval()[1] < 0.9
    assert coverage.main(["--sims", "3", "--reps", "50"]) == 0


@pytest.mark.parametrize(("base", "other"), [(6.0, 6.0), (5.0, 8.0)])
def test_h50_shift_interval_covers_at_five_seeds_per_level(coverage, base, other):
    result = coverage.shift_coverage(base, other, 1.0, 5, 150, seed=1)
    assert result.interval()[1] >= 0.93, (result.coverage, result.sims)
