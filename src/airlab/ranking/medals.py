"""MLE-bench medals: Kaggle's progression thresholds applied to a competition's leaderboard.

Reference: openai/mle-bench, ``mlebench/grade_helpers.py`` (``Grader.rank_score``). With ``n``
teams on the leaderboard sorted best first, each threshold is the score at a 1-based position:

    ========  ==================  ================  ================
    n         gold                silver            bronze
    ========  ==================  ================  ================
    1-99      max(1, int(0.1 n))  max(1, int(0.2 n))  max(1, int(0.4 n))
    100-249   10                  max(1, int(0.2 n))  max(1, int(0.4 n))
    250-999   10 + int(0.002 n)   50                100
    >= 1000   10 + int(0.002 n)   max(1, int(0.05 n))  max(1, int(0.1 n))
    ========  ==================  ================  ================

A score at least as good as a threshold earns that medal (ties with the threshold count), the
best medal wins; ``above_median`` is strictly better than the leaderboard's median (the mean of
the two middle scores for an even ``n``). MLE-bench rounds a graded score to 5 decimals before
comparing; pass scores already rounded to reproduce its decisions on the boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from airlab.ranking.errors import RankingInputError
from airlab.ranking.table import ScoreMatrix

MEDALS = ("gold", "silver", "bronze")


def medal_positions(n: int) -> tuple[int, int, int]:
    """1-based leaderboard positions of the gold, silver and bronze thresholds."""
    if n < 1:
        raise RankingInputError("a leaderboard needs at least one entry for medals")
    if n < 100:
        return max(1, int(n * 0.1)), max(1, int(n * 0.2)), max(1, int(n * 0.4))
    if n < 250:
        return 10, max(1, int(n * 0.2)), max(1, int(n * 0.4))
    if n < 1000:
        return 10 + int(n * 0.002), 50, 100
    return 10 + int(n * 0.002), max(1, int(n * 0.05)), max(1, int(n * 0.1))


def medal_thresholds(leaderboard_oriented: np.ndarray) -> np.ndarray:
    """Oriented gold/silver/bronze threshold scores of a leaderboard (higher is better)."""
    lb = np.sort(np.asarray(leaderboard_oriented, dtype=float))[::-1]
    return np.array([lb[p - 1] for p in medal_positions(len(lb))])


@dataclass(frozen=True)
class MedalReport:
    """Thresholds in the leaderboard's own units and the medal a score earns."""

    gold_threshold: float
    silver_threshold: float
    bronze_threshold: float
    median_threshold: float
    medal: str | None
    """``"gold"``, ``"silver"``, ``"bronze"`` or ``None``."""
    above_median: bool


def medal_report(
    score: float | None, leaderboard: np.ndarray, higher_is_better: bool = True
) -> MedalReport:
    """MLE-bench's verdict for one score against one leaderboard (raw scores, any order)."""
    lb = np.asarray(leaderboard, dtype=float)
    sign = 1.0 if higher_is_better else -1.0
    gold, silver, bronze = (sign * medal_thresholds(sign * lb)).tolist()
    median = float(np.median(lb))
    medal: str | None = None
    above = False
    if score is not None and np.isfinite(score):
        s = sign * float(score)
        for name, threshold in zip(MEDALS, (gold, silver, bronze), strict=True):
            if s >= sign * threshold:
                medal = name
                break
        above = s > sign * median
    return MedalReport(gold, silver, bronze, median, medal, above)


def medals(matrix: ScoreMatrix, leaderboard: dict[str, np.ndarray]) -> np.ndarray:
    """Medal per (agent, voter): 0 gold, 1 silver, 2 bronze, 3 none (missing = none)."""
    scores = matrix.scores
    out = np.full(scores.shape, 3, dtype=np.int64)
    sign = np.where(matrix.higher_is_better, 1.0, -1.0)
    absent = sorted({matrix.tasks[t] for t in matrix.voter_task} - set(leaderboard))
    if absent:
        raise RankingInputError("leaderboard has no rows for task(s): " + ", ".join(absent))
    for v in range(matrix.n_voters):
        thresholds = medal_thresholds(leaderboard[matrix.tasks[matrix.voter_task[v]]] * sign[v])
        col = scores[:, v]
        ok = np.isfinite(col)
        got = col[ok, None] >= thresholds[None, :]
        first = np.where(got.any(axis=1), np.argmax(got, axis=1), 3)
        out[ok, v] = first
    return out
