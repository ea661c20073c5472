import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rlbench3.analysis import metrics as M
from rlbench3.analysis import paper as P
from rlbench3.analysis.tables import TableOptions


@pytest.mark.parametrize("budget, k", [(20_000, 2), (100_000, 3), (1_000, 2), (5, 5)])
def test_collapse_horizon_is_where_one_rewarded_episode_is_expected(budget, k):
    h = P.collapse_horizon(budget, k)
    assert P.expected_rewarded_episodes(budget, h, k) == pytest.approx(1.0, rel=1e-9)
    assert (
        P.expected_rewarded_episodes(budget, h + 0.5, k)
        < 1
        < (P.expected_rewarded_episodes(budget, max(1.0, h - 0.5), k) if h > 1.5 else 2)
    )


def test_collapse_horizon_hand_worked():
    # B = 2^10 * 10 with K = 2: B / H * 2^-H = 1 exactly at H = 10.
    assert P.collapse_horizon(10 * 2**10, 2) == pytest.approx(10.0, abs=1e-9)
    assert P.expected_rewarded_episodes(20_000, 4, 2) == 20_000 / 4 / 16


def test_collapse_horizon_undefined_cases():
    assert math.isnan(P.collapse_horizon(1, 2))  # even H = 1 expects 1/2 < 1
    assert math.isnan(P.collapse_horizon(1000, 1))  # K = 1: every episode is rewarded
    with pytest.raises(ValueError, match="budget"):
        P.collapse_horizon(0, 2)


def _scores(rows):
    frame = pd.DataFrame(rows)
    return frame.assign(split="train", experiment="exp")


def test_dimension_drops_hand_worked():
    # d = 1: four seeds all solved; d = 2: two of four; d = 3: none.
    rows = []
    for d, scores in ((1, [1, 1, 1, 1]), (2, [1, 1, 0, 0]), (3, [0, 0, 0, 0])):
        for seed, s in enumerate(scores):
            rows.append(
                {
                    "run_id": f"r{d}{seed}",
                    "agent": "ppo",
                    "seed": seed,
                    "param_action_dim": d,
                    "score": float(s),
                }
            )
    frame = P.dimension_drops(_scores(rows), {}, TableOptions(reps=500))
    assert list(frame["from"]) == [1, 2] and list(frame["to"]) == [2, 3]
    assert frame["drop"].tolist() == [0.5, 0.5]
    assert frame["success_from"].tolist() == [1.0, 0.5]
    assert list(frame["seeds"]) == ["4/4", "4/4"]
    assert (frame["drop_low"] <= frame["drop"]).all() and (
        frame["drop"] <= frame["drop_high"]
    ).all()
    assert frame["largest"].tolist().count("yes") == 1


def test_dimension_drops_ignores_other_axes():
    rows = [
        {"run_id": f"r{h}{s}", "agent": "ppo", "seed": s, "param_horizon": h, "score": 1.0}
        for h in (2, 4)
        for s in range(3)
    ]
    assert P.dimension_drops(_scores(rows), {}, TableOptions(reps=100)).empty


def test_two_level_difference_matches_a_normal_approximation_for_many_seeds():
    rng = np.random.default_rng(0)
    a = [rng.binomial(1, 0.8, size=50).astype(float) for _ in range(200)]
    b = [rng.binomial(1, 0.3, size=50).astype(float) for _ in range(200)]
    est = M.two_level_difference(a, b, 1, reps=4000, interval="percentile")
    ma, mb = np.array([x.mean() for x in a]), np.array([x.mean() for x in b])
    # Two levels: the spread of seed means plus, again, each seed's binomial episode noise.
    within = [np.mean(m * (1 - m) / 50) for m in (ma, mb)]
    se = math.sqrt(sum((m.var() + w) / m.size for m, w in zip((ma, mb), within)))
    z = stats.norm.ppf(0.975)
    assert est.point == pytest.approx(ma.mean() - mb.mean())
    assert est.high - est.low == pytest.approx(2 * z * se, rel=0.1)


def test_two_level_difference_all_successes_vs_all_failures():
    est = M.two_level_difference([np.ones(10)] * 3, [np.zeros(10)] * 3, 0)
    assert est.point == 1.0
    # 30/30 vs 0/30: Clopper-Pearson 95% bounds 0.025^(1/30) and 1 - 0.025^(1/30)
    low = 0.025 ** (1 / 30)
    assert est.low == pytest.approx(low - (1 - low)) and est.high == 1.0


def test_packer_published_values_and_task_names():
    assert P.PACKER_PUBLISHED[("CartPole", "PPO")] == (100.0, 100.0, 86.20)
    assert P.packer_task("rlbench3/HalfCheetah-v0") == "HalfCheetah"
    assert len(P.PACKER_PUBLISHED) == 12
