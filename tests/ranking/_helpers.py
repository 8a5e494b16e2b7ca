"""Shared helpers for the ranking tests: random preference profiles and distances."""

from __future__ import annotations

import numpy as np

from airlab.ranking.ballots import Ballots, ballots_from_rankings


def random_rankings(
    rng: np.random.Generator, m: int, n_votes: int, noise: float | None = 1.5
) -> list[list[int]]:
    """Strict complete rankings: noisy utilities (``noise``) or impartial culture (None)."""
    if noise is None:
        utilities = rng.normal(size=(n_votes, m))
    else:
        utilities = rng.normal(size=m)[None, :] + noise * rng.normal(size=(n_votes, m))
    return np.argsort(-utilities, axis=1).tolist()


def ballots(rankings: list[list[int]], m: int) -> Ballots:
    return ballots_from_rankings(rankings, m, agents=[f"a{i}" for i in range(m)])


def kendall_tau_distance(ratings: np.ndarray, order: np.ndarray) -> float:
    """Normalised Kendall-tau distance between ratings and a reference order (ties count 1/2)."""
    m = len(order)
    pos = np.empty(m)
    pos[np.asarray(order)] = np.arange(m)
    above = pos[:, None] < pos[None, :]
    r = np.asarray(ratings, dtype=float)
    wrong = above & (r[:, None] < r[None, :])
    tied = above & (r[:, None] == r[None, :])
    return float((wrong.sum() + 0.5 * tied.sum()) / (m * (m - 1) / 2))
