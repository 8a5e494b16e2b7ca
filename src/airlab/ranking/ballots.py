"""Voters' ballots (each task, or each task/seed, ranks the agents) and pairwise counts.

A :class:`Ballots` holds, for every voter, a value per agent where higher means preferred:

* a finite value: the agent's oriented score on that voter;
* ``-inf``: the agent is missing and the ``"worst"`` policy ranks it last, tied with the other
  missing agents of that voter;
* ``NaN``: the agent is missing and the ``"ignore"`` policy leaves it unranked (partial ballot).

Two agents are *compared* by a voter when both values are not NaN; ``-inf`` vs ``-inf`` is a tie.
``wins[i, j]`` counts (weighted) voters that strictly prefer ``i`` to ``j``; ``ties[i, j]`` counts
voters that compare them and tie. Ties therefore never move a margin ``wins - wins.T``; methods
that hand out points (Borda, Elo, Bradley-Terry) give half a point each for a tie.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from airlab.ranking.errors import DegenerateDataError, RankingInputError
from airlab.ranking.table import MissingPolicy, ScoreMatrix

# Upper bound on the number of booleans materialised at once when counting pairs.
_PAIR_CHUNK = 4_000_000


@dataclass(frozen=True)
class Ballots:
    """Voters x agents preference values (see the module docstring) and voter weights."""

    agents: tuple[str, ...]
    values: np.ndarray
    weights: np.ndarray
    voter_labels: tuple[str, ...] = ()

    @property
    def n_agents(self) -> int:
        return len(self.agents)

    @property
    def n_voters(self) -> int:
        return int(self.values.shape[0])

    @property
    def total_weight(self) -> float:
        return float(self.weights.sum())

    @property
    def ranked(self) -> np.ndarray:
        """Bool ``(V, A)``: the voter ranks this agent (possibly last, under ``"worst"``)."""
        return ~np.isnan(self.values)

    @cached_property
    def _pairs(self) -> tuple[np.ndarray, np.ndarray]:
        return pairwise_counts(self.values, self.weights)

    @property
    def wins(self) -> np.ndarray:
        """``wins[i, j]``: weight of voters strictly preferring agent i to agent j."""
        return self._pairs[0]

    @property
    def ties(self) -> np.ndarray:
        """``ties[i, j]``: weight of voters ranking both i and j and tying them."""
        return self._pairs[1]

    @property
    def margins(self) -> np.ndarray:
        """Antisymmetric ``wins - wins.T``."""
        w = self.wins
        return w - w.T

    def positions(self) -> np.ndarray:
        """Average 0-based position of each ranked agent in each ballot (ties share the mean).

        Returns ``(V, A)`` floats, NaN where unranked. Position 0 is the top.
        """
        v = self.values
        ranked = ~np.isnan(v)
        filled = np.where(ranked, v, -np.inf)
        # better[v, a] = number of ranked agents strictly above a; equal[v, a] includes a itself.
        better = np.zeros(v.shape)
        equal = np.zeros(v.shape)
        step = max(1, _PAIR_CHUNK // max(1, v.shape[1] ** 2))
        for start in range(0, v.shape[0], step):
            blk = filled[start : start + step]
            rk = ranked[start : start + step]
            better[start : start + step] = (
                (blk[:, None, :] > blk[:, :, None]) & rk[:, None, :]
            ).sum(2)
            equal[start : start + step] = (
                (blk[:, None, :] == blk[:, :, None]) & rk[:, None, :]
            ).sum(2)
        pos = better + (equal - 1.0) / 2.0
        return np.where(ranked, pos, np.nan)


def pairwise_counts(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted strict-preference and tie counts from a ``(V, A)`` value matrix (NaN = unranked)."""
    n_voters, n_agents = values.shape
    wins = np.zeros((n_agents, n_agents))
    ties = np.zeros((n_agents, n_agents))
    uniform = n_voters > 0 and bool(np.all(weights == weights[0]))
    step = max(1, _PAIR_CHUNK // max(1, n_agents * n_agents))
    for start in range(0, n_voters, step):
        blk = values[start : start + step]
        gt = blk[:, :, None] > blk[:, None, :]  # NaN compares False: unranked never wins
        eq = blk[:, :, None] == blk[:, None, :]  # -inf == -inf: missing agents tie
        if uniform:  # integer counting is ~20x faster than a weighted float contraction
            wins += gt.sum(axis=0, dtype=np.int64) * float(weights[0])
            ties += eq.sum(axis=0, dtype=np.int64) * float(weights[0])
        else:
            w = weights[start : start + step]
            wins += (w @ gt.reshape(len(blk), -1).astype(np.float64)).reshape(wins.shape)
            ties += (w @ eq.reshape(len(blk), -1).astype(np.float64)).reshape(ties.shape)
    np.fill_diagonal(ties, 0.0)
    return wins, ties


def ballots_from_matrix(matrix: ScoreMatrix, missing: MissingPolicy = "worst") -> Ballots:
    """Apply the missing policy to a score matrix; drop voters that rank nobody."""
    if missing not in ("worst", "ignore"):
        raise RankingInputError(f"missing must be 'worst' or 'ignore', not {missing!r}")
    values = matrix.scores.T.copy()  # (V, A)
    has_valid = np.isfinite(values).any(axis=1)
    if missing == "worst":
        values = np.where(np.isnan(values), -np.inf, values)
    keep = has_valid
    labels = tuple(lbl for lbl, k in zip(matrix.voters, keep, strict=True) if k)
    return Ballots(
        agents=matrix.agents,
        values=values[keep],
        weights=np.ones(int(keep.sum())),
        voter_labels=labels,
    )


def ballots_from_rankings(
    rankings: Sequence[Sequence[int]] | np.ndarray,
    n_agents: int,
    weights: Sequence[float] | None = None,
    agents: Sequence[str] | None = None,
) -> Ballots:
    """Ballots from strict rankings given as agent indices, best first.

    Agents absent from a ranking are unranked by it (NaN). Used to feed preference profiles
    (e.g. open-spiel's) to the same methods.
    """
    values = np.full((len(rankings), n_agents), np.nan)
    lengths = {len(r) for r in rankings}
    if len(lengths) == 1 and len(rankings):
        # rectangular input (e.g. complete rankings): one vectorised assignment
        arr = np.asarray(rankings, dtype=np.int64)
        srt = np.sort(arr, axis=1)
        if arr.shape[1] > 1 and bool((srt[:, 1:] == srt[:, :-1]).any()):
            raise RankingInputError("a ranking lists an agent twice")
        width = arr.shape[1]
        values[np.arange(len(arr))[:, None], arr] = np.arange(width, 0, -1, dtype=float)[None, :]
    else:
        for v, ranking in enumerate(rankings):
            order = np.asarray(ranking, dtype=np.int64)
            if len(set(order.tolist())) != len(order):
                raise RankingInputError(f"ranking {v} lists an agent twice")
            values[v, order] = np.arange(len(order), 0, -1, dtype=float)
    w = np.ones(len(rankings)) if weights is None else np.asarray(weights, dtype=float)
    names = tuple(agents) if agents is not None else tuple(f"a{i}" for i in range(n_agents))
    return Ballots(agents=names, values=values, weights=w)


def require_agents(ballots: Ballots, minimum: int = 2) -> None:
    """Raise :class:`DegenerateDataError` unless enough agents and voters carry information."""
    if ballots.n_voters == 0:
        raise DegenerateDataError("no voter ranks any agent (every entry is missing)")
    if ballots.n_agents < minimum:
        raise DegenerateDataError(f"need at least {minimum} agents, have {ballots.n_agents}")
