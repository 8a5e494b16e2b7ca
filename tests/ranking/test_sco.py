from __future__ import annotations

import numpy as np
import pytest

from airlab.ranking.ballots import ballots_from_rankings
from airlab.ranking.errors import RankingInputError
from airlab.ranking.kemeny import kemeny
from airlab.ranking.sco import (
    _loss_and_grad,
    fenchel_young_ratings,
    sigmoid_loss,
    soft_condorcet_optimization,
)

from ._helpers import ballots, kendall_tau_distance, random_rankings

MEEPLE = [[0, 1, 2], [0, 2, 1], [2, 0, 1], [2, 0, 1], [1, 2, 0]]  # VasE paper: C > A > B


def test_loss_is_the_sum_of_sigmoids_over_ballot_pairs() -> None:
    rankings = [[0, 1, 2], [2, 1, 0], [1, 0, 2]]
    b = ballots(rankings, 3)
    theta = np.array([0.3, -1.2, 2.0])
    tau = 0.7
    brute = 0.0
    for r in rankings:
        for i in range(3):
            for j in range(i + 1, 3):
                a, c = r[i], r[j]  # a preferred to c
                brute += 1.0 / (1.0 + np.exp(-(theta[c] - theta[a]) / tau))
    assert sigmoid_loss(theta, b.wins, tau) == pytest.approx(brute)


def test_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    b = ballots(random_rankings(rng, 6, 20), 6)
    theta = rng.normal(size=6)
    wins = b.wins
    _, grad = _loss_and_grad(theta, wins, wins - wins.T, 0.8, b.total_weight)
    eps = 1e-6
    for k in range(6):
        e = np.zeros(6)
        e[k] = eps
        up = _loss_and_grad(theta + e, wins, wins - wins.T, 0.8, b.total_weight)[0]
        down = _loss_and_grad(theta - e, wins, wins - wins.T, 0.8, b.total_weight)[0]
        assert grad[k] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("optimizer", ["lbfgs", "gd", "sgd"])
def test_meeple_pentathlon_orders_like_condorcet(optimizer: str) -> None:
    b = ballots(MEEPLE, 3)
    res = soft_condorcet_optimization(
        b, optimizer=optimizer, iterations=3000, learning_rate=0.1, batch_size=4
    )
    assert res.ratings[2] > res.ratings[0] > res.ratings[1]


def test_ratings_respect_bounds_and_full_batch_matches_the_paper_update() -> None:
    # With every ballot in the batch the update is deterministic: compare against a plain
    # per-ballot implementation of the paper's gradient step.
    rng = np.random.default_rng(4)
    rankings = random_rankings(rng, 5, 9, noise=None)
    b = ballots(rankings, 5)
    theta = np.zeros(5)
    for _ in range(200):
        grad = np.zeros(5)
        for r in rankings:
            for i in range(5):
                for j in range(i + 1, 5):
                    a, c = r[i], r[j]
                    s = 1.0 / (1.0 + np.exp(-(theta[c] - theta[a])))
                    grad[a] -= s * (1 - s)
                    grad[c] += s * (1 - s)
        theta = np.clip(theta - 0.5 * grad / len(rankings), -2.0, 2.0)
    res = soft_condorcet_optimization(
        b, optimizer="gd", iterations=200, learning_rate=0.5, lower=-2.0, upper=2.0
    )
    assert res.ratings == pytest.approx(theta, abs=1e-9)
    assert res.ratings.min() >= -2.0 and res.ratings.max() <= 2.0


def test_partial_ballots_only_compare_ranked_agents() -> None:
    # agent 2 appears in a single ballot, above agent 0; it must end above 0
    b = ballots_from_rankings([[0, 1], [0, 1], [2, 0]], 3)
    r = soft_condorcet_optimization(b).ratings
    assert r[0] > r[1] and r[2] > r[0]


def test_close_to_kemeny_on_noisy_profiles() -> None:
    rng = np.random.default_rng(11)
    dists = []
    for _ in range(10):
        b = ballots(random_rankings(rng, 8, 200, noise=1.5), 8)
        dists.append(
            kendall_tau_distance(soft_condorcet_optimization(b).ratings, kemeny(b.wins).order)
        )
    assert np.mean(dists) < 0.02


def test_fenchel_young_orders_meeple_like_the_paper() -> None:
    b = ballots(MEEPLE, 3)
    r = fenchel_young_ratings(b, sigma=5.0, iterations=3000, batch_size=4).ratings
    # like Elo, A (most top-2 placements) beats B, and C beats B
    assert r[0] > r[1] and r[2] > r[1]


def test_invalid_bounds() -> None:
    with pytest.raises(RankingInputError):
        soft_condorcet_optimization(ballots(MEEPLE, 3), lower=1.0, upper=0.0)
