from __future__ import annotations

import numpy as np
import pytest

from airlab.ranking.lotteries import iterative_maximal_lotteries, maximal_lotteries

from ._helpers import ballots, random_rankings

ABC = ("a", "b", "c")


def test_condorcet_winner_gets_probability_one() -> None:
    rng = np.random.default_rng(1)
    b = ballots(random_rankings(rng, 5, 31, noise=0.5), 5)
    m = b.margins
    winner = int(np.flatnonzero([(np.delete(m[i], i) > 0).all() for i in range(5)])[0])
    out = maximal_lotteries(m, b.agents)
    assert out.scores[winner] == pytest.approx(1.0, abs=1e-7)


def test_rock_paper_scissors_lottery() -> None:
    # margins a>b 1, b>c 1, c>a 1 -> uniform; with c>a 3 the lottery is (3, 1, 1)/5
    sym = np.array([[0, 1, -1], [-1, 0, 1], [1, -1, 0]], dtype=float)
    assert maximal_lotteries(sym, ABC).scores == pytest.approx([1 / 3] * 3, abs=1e-7)
    skew = np.array([[0, 1, -3], [-1, 0, 1], [3, -1, 0]], dtype=float)
    p = maximal_lotteries(skew, ABC).scores
    # p is an optimal strategy: no pure strategy beats it in expectation
    assert (skew.T @ p >= -1e-8).all()
    assert p == pytest.approx([1 / 5, 3 / 5, 1 / 5], abs=1e-6)


def test_clones_share_probability_equally() -> None:
    # a and a' are clones (identical margins, tie between them); RPS with b, c
    m = np.array([[0, 0, 1, -1], [0, 0, 1, -1], [-1, -1, 0, 1], [1, 1, -1, 0]], dtype=float)
    p = maximal_lotteries(m, ("a", "a2", "b", "c")).scores
    assert p[0] == pytest.approx(p[1], abs=1e-7)
    assert p[0] + p[1] == pytest.approx(1 / 3, abs=1e-6)


def test_iterative_lotteries_levels() -> None:
    # cycle a,b,c on top of d, which beats e
    rankings = [[0, 1, 2, 3, 4], [1, 2, 0, 3, 4], [2, 0, 1, 3, 4]]
    b = ballots(rankings, 5)
    out = iterative_maximal_lotteries(b.margins, ("a", "b", "c", "d", "e"))
    assert [sorted(lv) for lv in out.details["levels"]] == [["a", "b", "c"], ["d"], ["e"]]
    assert out.scores[:3] == pytest.approx([2 + 1 / 3] * 3, abs=1e-6)
    # d wins the lottery of {d, e} (level base 1 + probability 1); e is alone at the bottom
    assert out.scores[3:] == pytest.approx([2.0, 1.0])


def test_lottery_is_optimal_on_random_profiles() -> None:
    rng = np.random.default_rng(7)
    for _ in range(5):
        b = ballots(random_rankings(rng, 7, 10, noise=None), 7)
        p = maximal_lotteries(b.margins, b.agents).scores
        assert p.sum() == pytest.approx(1.0)
        assert (b.margins.T @ p >= -1e-7 * b.total_weight).all()
