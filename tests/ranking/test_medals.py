"""MLE-bench medal thresholds, checked against values derived by hand from its rule.

Rule: openai/mle-bench ``mlebench/grade_helpers.py`` (``Grader.rank_score`` and its
``get_thresholds``); see the table in :mod:`airlab.ranking.medals`. Leaderboards here are
``n, n-1, ..., 1`` (higher is better), so the score at 1-based position ``p`` is ``n - p + 1``.
"""

from __future__ import annotations

import numpy as np
import pytest

from airlab.ranking.errors import RankingInputError
from airlab.ranking.medals import medal_positions, medal_report

# n: (gold, silver, bronze) positions, worked out by hand
HAND_POSITIONS = {
    1: (1, 1, 1),  # max(1, int(0.1)) ... every threshold is the only entry
    5: (1, 1, 2),  # int(0.5) = 0 -> 1; int(1.0) = 1; int(2.0) = 2
    50: (5, 10, 20),  # 10%, 20%, 40% of 50
    99: (9, 19, 39),  # int(9.9), int(19.8), int(39.6)
    100: (10, 20, 40),  # gold fixed at 10 from 100 teams
    150: (10, 30, 60),
    249: (10, 49, 99),  # int(49.8), int(99.6)
    250: (10, 50, 100),  # 10 + int(0.5); silver and bronze fixed at 50 / 100
    300: (10, 50, 100),  # 10 + int(0.6)
    999: (11, 50, 100),  # 10 + int(1.998)
    1000: (12, 50, 100),  # 10 + int(2.0); 5% and 10% of 1000 happen to be 50 and 100
    1500: (13, 75, 150),  # 10 + int(3.0); 5%, 10%
}


@pytest.mark.parametrize(("n", "positions"), HAND_POSITIONS.items())
def test_positions(n: int, positions: tuple[int, int, int]) -> None:
    assert medal_positions(n) == positions


@pytest.mark.parametrize(
    ("n", "thresholds", "median"),
    [
        (50, (46.0, 41.0, 31.0), 25.5),
        (150, (141.0, 121.0, 91.0), 75.5),
        (300, (291.0, 251.0, 201.0), 150.5),
        (1500, (1488.0, 1426.0, 1351.0), 750.5),
    ],
)
def test_thresholds_and_medals(n: int, thresholds: tuple[float, ...], median: float) -> None:
    lb = np.arange(n, 0, -1, dtype=float)
    rng = np.random.default_rng(n)
    shuffled = rng.permutation(lb)  # the order of the rows does not matter
    rep = medal_report(thresholds[0], shuffled)
    assert (rep.gold_threshold, rep.silver_threshold, rep.bronze_threshold) == thresholds
    assert rep.median_threshold == median
    gold, silver, bronze = thresholds
    assert medal_report(gold, lb).medal == "gold"  # reaching the threshold is enough
    assert medal_report(gold - 0.5, lb).medal == "silver"
    assert medal_report(silver - 0.5, lb).medal == "bronze"
    assert medal_report(bronze - 0.5, lb).medal is None
    assert medal_report(median, lb).above_median is False  # strictly above the median
    assert medal_report(median + 0.5, lb).above_median is True
    assert medal_report(None, lb).medal is None


def test_lower_is_better_mirrors() -> None:
    lb = np.arange(1.0, 51.0)  # error metric: 1 is the best of 50 teams
    rep = medal_report(5.0, lb, higher_is_better=False)
    assert (rep.gold_threshold, rep.silver_threshold, rep.bronze_threshold) == (5.0, 10.0, 20.0)
    assert rep.medal == "gold"
    assert medal_report(5.5, lb, higher_is_better=False).medal == "silver"
    assert medal_report(20.0, lb, higher_is_better=False).medal == "bronze"
    assert medal_report(25.0, lb, higher_is_better=False).above_median is True  # median 25.5


def test_small_leaderboards() -> None:
    # 3 teams: every threshold is the winner's score; only matching it earns (gold) a medal
    lb = np.array([0.9, 0.8, 0.7])
    rep = medal_report(0.85, lb)
    assert (rep.gold_threshold, rep.silver_threshold, rep.bronze_threshold) == (0.9, 0.9, 0.9)
    assert rep.medal is None and rep.above_median
    assert medal_report(0.9, lb).medal == "gold"
    with pytest.raises(RankingInputError):
        medal_positions(0)
