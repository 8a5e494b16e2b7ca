from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from airlab.ranking.errors import RankingInputError
from airlab.ranking.medals import medal_positions, medal_thresholds, medals
from airlab.ranking.normalise import (
    airs_normalised_runs,
    airs_normalised_scores,
    percentile_against,
    valid_submission_rate,
)
from airlab.ranking.table import load_results


def test_airs_normalised_score_formula() -> None:
    # accuracy task (optimum 1): worst valid 0.5 -> 0, best known 0.9 -> 1
    df = pd.DataFrame(
        {
            "agent": ["a", "b", "c", "d"],
            "task": ["t"] * 4,
            "score": [0.5, 0.9, 0.8, 0.7],
            "valid": [True, True, True, False],
            "best_known": [0.9] * 4,
        }
    )
    ns = airs_normalised_runs(load_results(df))[:, 0, 0]
    phi = lambda s: -np.log10(abs(s - 1.0))  # noqa: E731
    expected_c = (phi(0.8) - phi(0.5)) / (phi(0.9) - phi(0.5))
    assert ns.tolist() == pytest.approx([0.0, 1.0, expected_c, 0.0])


def test_airs_lower_is_better_default_optimum_and_seed_average() -> None:
    df = pd.DataFrame(
        {
            "agent": ["a", "a", "b", "b"],
            "task": ["mae"] * 4,
            "seed": [0, 1, 0, 1],
            "score": [1.0, 0.1, 0.01, 0.01],
            "higher_is_better": [False] * 4,
        }
    )
    per_task = airs_normalised_scores(load_results(df))
    # s_opt = 0, worst = 1 (phi 0), best observed = 0.01 (phi 2): a's runs -> 0 and 0.5
    assert per_task[:, 0].tolist() == pytest.approx([0.25, 1.0])


def test_airs_needs_optimum_for_unbounded_metric() -> None:
    df = pd.DataFrame({"agent": ["a", "b"], "task": ["reward"] * 2, "score": [10.0, 20.0]})
    with pytest.raises(RankingInputError, match="optimum"):
        airs_normalised_runs(load_results(df))


def test_percentile_ties_are_averaged() -> None:
    lb = np.array([1.0, 2.0, 2.0, 3.0])
    assert percentile_against(np.array([2.0, 0.0, 4.0]), lb).tolist() == [0.5, 0.0, 1.0]


@pytest.mark.parametrize(
    ("n", "positions"),
    [
        (50, (5, 10, 20)),
        (9, (1, 1, 3)),
        (150, (10, 30, 60)),
        (500, (11, 50, 100)),
        (2000, (14, 100, 200)),
    ],
)
def test_medal_positions_follow_mle_bench(n: int, positions: tuple[int, int, int]) -> None:
    assert medal_positions(n) == positions


def test_medals_from_leaderboard() -> None:
    lb = np.arange(100, 0, -1, dtype=float)  # 100 teams, best score 100
    assert medal_thresholds(lb).tolist() == [91.0, 81.0, 61.0]
    df = pd.DataFrame(
        {"agent": ["g", "s", "b", "n"], "task": ["t"] * 4, "score": [95.0, 85.0, 61.0, 10.0]}
    )
    m = load_results(df).matrix()
    assert medals(m, {"t": lb})[:, 0].tolist() == [0, 1, 2, 3]
    # lower-is-better: flip everything
    df2 = df.assign(score=-df["score"], higher_is_better=False)
    assert medals(load_results(df2).matrix(), {"t": -lb})[:, 0].tolist() == [0, 1, 2, 3]


def test_valid_submission_rate() -> None:
    df = pd.DataFrame(
        {
            "agent": ["a", "a", "b", "a"],
            "task": ["t", "t", "t", "u"],
            "seed": [0, 1, 0, 0],
            "score": [1.0, np.nan, 2.0, 3.0],
        }
    )
    cube = load_results(df)
    # slots: (t,0), (t,1), (u,0); a has 2 valid of 3, b 1 of 3 (worst) / 1 of 1 (ignore)
    assert valid_submission_rate(cube, "worst").tolist() == pytest.approx([2 / 3, 1 / 3])
    assert valid_submission_rate(cube, "ignore").tolist() == pytest.approx([2 / 3, 1.0])


def test_airs_bench_worked_numbers() -> None:
    """Hand-worked NS on two real AIRS-Bench tasks (facebookresearch/airs-bench, README formula;
    optimum and SOTA from each task's ``metadata.yaml``): SICK Spearman (higher is better,
    optimum 1, SOTA 0.854) and ZINC MAE (lower is better, optimum 0, SOTA 0.017).

    SICK, worst valid 0.60: phi = -log10(1 - s): phi(0.6) = 0.39794, phi(0.854) = 0.83565,
    NS(0.8) = (0.69897 - 0.39794) / 0.43771 = 0.68774, NS(0.7) = 0.12494 / 0.43771 = 0.28544.
    ZINC, worst 0.10: phi = -log10(s): phi(0.1) = 1, phi(0.017) = 1.76955,
    NS(0.05) = 0.30103 / 0.76955 = 0.39118, NS(0.08) = 0.09691 / 0.76955 = 0.12593, and the exact
    hit 0.0 counts as distance 0.001: NS = (3 - 1) / 0.76955 = 2.59892.
    """
    from airlab.ranking import rank

    runs = [
        ("A", "sick", 0, 0.80, True), ("A", "sick", 1, 0.70, True),
        ("B", "sick", 0, 0.60, True), ("B", "sick", 1, 0.99, False),
        ("A", "zinc", 0, 0.05, True), ("A", "zinc", 1, 0.00, True),
        ("B", "zinc", 0, 0.10, True), ("B", "zinc", 1, 0.08, True),
    ]  # fmt: skip
    df = pd.DataFrame(runs, columns=["agent", "task", "seed", "score", "valid"])
    df["higher_is_better"] = df["task"] == "sick"
    df["optimum"] = np.where(df["task"] == "sick", 1.0, 0.0)
    df["best_known"] = np.where(df["task"] == "sick", 0.854, 0.017)
    ns = airs_normalised_runs(load_results(df))
    assert ns[0, 0].tolist() == pytest.approx([0.68774, 0.28544], abs=5e-5)
    assert ns[1, 0].tolist() == pytest.approx([0.0, 0.0])  # worst valid run, invalid run
    assert ns[0, 1].tolist() == pytest.approx([0.39118, 2.59892], abs=5e-5)
    assert ns[1, 1].tolist() == pytest.approx([0.0, 0.12593], abs=5e-5)
    # benchmark score: mean over seeds, then over tasks
    scores = {row.agent: row.score for row in rank(df, "airs")["airs"].agents}
    assert scores["A"] == pytest.approx((0.48659 + 1.49505) / 2, abs=5e-5)
    assert scores["B"] == pytest.approx((0.0 + 0.06297) / 2, abs=5e-5)


def test_airs_negative_ns_is_floored_at_zero() -> None:
    # a score beyond the optimum (1.5 on a [0, 1] metric) is farther from it than the worst 0.6
    df = pd.DataFrame(
        {"agent": ["a", "b"], "task": ["t"] * 2, "score": [1.5, 0.6], "optimum": [1.0] * 2,
         "best_known": [0.9] * 2}
    )
    assert airs_normalised_runs(load_results(df))[:, 0, 0].tolist() == [0.0, 0.0]
