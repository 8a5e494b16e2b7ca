"""Maximal lotteries (Fishburn) and iterative maximal lotteries.

A maximal lottery is an optimal mixed strategy of the symmetric zero-sum game whose payoff is
the margin matrix ``wins - wins.T`` (normalised by the total voter weight): a lottery ``p`` over
agents that no single agent beats in expectation by a majority. It is found by linear
programming (HiGHS). With an odd number of strict, complete ballots it is unique; otherwise the
set of maximal lotteries can be a polytope and we return its **maximum-entropy** member
(:mod:`airlab.ranking.games`), which is unique and gives clones equal probability.

Iterative maximal lotteries rank in levels: the support of the maximal lottery is the first
level (ordered by probability), it is removed, and the lottery of the remaining agents gives the
next level, and so on. Score = ``(levels below) + probability``, as in open-spiel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from airlab.ranking.games import maxent_optimal_strategy
from airlab.ranking.outcome import Outcome

ZERO_TOLERANCE = 1e-6
"""Probability below which an agent is not in a lottery's support (for levels)."""


def maximal_lottery(margins: np.ndarray) -> tuple[np.ndarray, bool]:
    """Maximal lottery of a margin matrix and whether the maximum-entropy step succeeded."""
    res = maxent_optimal_strategy(np.asarray(margins, dtype=float), value=0.0)
    p = np.clip(res.strategy, 0.0, None)
    return p / p.sum(), res.maxent


def maximal_lotteries(margins: np.ndarray, agents: tuple[str, ...]) -> Outcome:
    """Score = probability of the agent in the maximal lottery."""
    p, maxent = maximal_lottery(margins)
    support = [agents[i] for i in np.flatnonzero(p > ZERO_TOLERANCE)]
    return Outcome(scores=p, details={"support": support, "maxent": maxent})


def iterative_maximal_lotteries(margins: np.ndarray, agents: tuple[str, ...]) -> Outcome:
    """Levels of maximal lotteries; score = levels below + probability within the level."""
    m = margins.shape[0]
    remaining = np.arange(m)
    levels: list[np.ndarray] = []
    probs: list[np.ndarray] = []
    while len(remaining):
        if len(remaining) == 1:
            levels.append(remaining.copy())
            probs.append(np.ones(1))
            break
        p, _ = maximal_lottery(margins[np.ix_(remaining, remaining)])
        win = p > ZERO_TOLERANCE
        levels.append(remaining[win])
        probs.append(p[win])
        remaining = remaining[~win]
    scores = np.zeros(m)
    n_levels = len(levels)
    for depth, (members, p) in enumerate(zip(levels, probs, strict=True)):
        scores[members] = (n_levels - 1 - depth) + p
    details: dict[str, Any] = {"levels": [[agents[i] for i in lv] for lv in levels]}
    return Outcome(scores=scores, details=details)
