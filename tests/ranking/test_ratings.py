from __future__ import annotations

import numpy as np
import pytest

from airlab.ranking.ballots import ballots_from_rankings
from airlab.ranking.ratings import (
    ELO_SCALE,
    bradley_terry,
    elo_ratings,
    game_results,
    openskill_ratings,
)

from ._helpers import ballots, random_rankings


def test_game_results_scores_wins_draws_and_missing() -> None:
    vals = np.array([[2.0, 2.0, 1.0, np.nan]])
    res, played = game_results(vals)
    assert res[0, 0, 1] == 0.5 and res[0, 0, 2] == 1.0 and res[0, 2, 0] == 0.0
    assert not played[0, 0, 3] and not played[0, 0, 0]


def test_elo_single_period_update() -> None:
    # one voter, a beats b: both start at 1000, E = 0.5, K = 16 -> +8 / -8
    b = ballots([[0, 1]], 2)
    mean, std = elo_ratings(b, k=16, permutations=0)
    assert mean.tolist() == [1008.0, 992.0]
    assert std.tolist() == [0.0, 0.0]


def test_elo_is_order_dependent_but_permutation_average_is_stable() -> None:
    rankings = [[0, 1, 2]] * 5 + [[2, 1, 0]] * 5
    b = ballots(rankings, 3)
    forward, _ = elo_ratings(b, permutations=0)
    reverse, _ = elo_ratings(ballots(rankings[::-1], 3), permutations=0)
    assert forward[0] < forward[2] and reverse[0] > reverse[2]  # last results weigh more
    avg, _ = elo_ratings(b, permutations=400, seed=1)
    assert avg[0] == pytest.approx(avg[2], abs=3.0)


def test_bradley_terry_recovers_strengths() -> None:
    beta_true = np.array([1.0, 0.0, -0.5, -0.5])
    p = 1 / (1 + np.exp(-(beta_true[:, None] - beta_true[None, :])))
    wins = 10_000 * p
    np.fill_diagonal(wins, 0.0)
    beta = bradley_terry(wins, prior=1e-9)
    assert beta == pytest.approx(beta_true - beta_true.mean(), abs=1e-6)


def test_bradley_terry_prior_keeps_undefeated_and_disconnected_finite() -> None:
    wins = np.array([[0, 5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 3], [0, 0, 0, 0]], dtype=float)
    beta = bradley_terry(wins, prior=0.01)
    assert np.isfinite(beta).all()
    assert beta[0] > beta[1] and beta[2] > beta[3]
    assert beta.mean() == pytest.approx(0.0)


def test_bradley_terry_agrees_with_open_spiel_elo() -> None:
    pytest.importorskip("pyspiel")
    from open_spiel.python.voting import base
    from open_spiel.python.voting import elo as os_elo

    rng = np.random.default_rng(0)
    for _ in range(4):
        rankings = random_rankings(rng, 6, 60, noise=1.0)
        b = ballots(rankings, 6)
        if (b.wins.sum(axis=0) == 0).any() or (b.wins.sum(axis=1) == 0).any():
            continue  # an undefeated/winless agent has no finite MLE; the two regularise apart
        profile = base.PreferenceProfile(
            votes=[[f"a{i}" for i in r] for r in rankings], alternatives=list(b.agents)
        )
        theirs = os_elo.compute_ratings_from_preference_profile(profile)
        ours = ELO_SCALE * bradley_terry(b.wins, prior=1e-6)
        t = np.array([theirs[a] for a in b.agents])
        assert ours - ours.mean() == pytest.approx(t - t.mean(), abs=3.0)


def test_openskill_ranks_consistent_winner_first() -> None:
    pytest.importorskip("openskill")
    b = ballots(([[2, 0, 1]] * 3 + [[2, 1, 0]]) * 2, 3)  # online: interleave the results
    for model in ("plackett-luce", "thurstone-mosteller"):
        mu, sigma = openskill_ratings(b, model)  # type: ignore[arg-type]
        assert np.argmax(mu) == 2 and mu[0] > mu[1]
        assert (sigma < 25 / 3).all()  # uncertainty shrinks from the prior
    partial = ballots_from_rankings([[0, 1], [1, 0], [2, 0]], 3)
    mu, _ = openskill_ratings(partial)
    assert mu[2] > 25.0
