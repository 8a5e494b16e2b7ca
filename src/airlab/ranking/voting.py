"""Voting-as-Evaluation: every voter (task, or task/seed) casts a ballot ranking the agents.

Ballots come from :mod:`airlab.ranking.ballots`; see there for missing entries (ranked last and
tied, or unranked) and ties (equal scores). How each rule treats a tie:

* plurality: voters whose top is tied split their vote equally among the tied agents;
* approval: top-``k`` approval; a tie group straddling position ``k`` shares the remaining
  approvals equally; missing entries are never approved. With a threshold (``approve`` matrix,
  e.g. "at least as good as the baseline") each voter approves exactly the agents it marks;
* Borda: an agent earns one point per agent it beats and half a point per agent it ties with
  (the averaged-position Borda count);
* Copeland: one point per pairwise majority win, half a point per pairwise tie (margin 0);
* ranked pairs: majorities are locked in by decreasing margin; a pair with margin 0 is never
  locked. Pairs with *equal* margins are decided together, so the agents' order in the table
  never matters: those that would close a cycle with the pairs already locked are skipped as
  usual, and those that would close a cycle among themselves (with the locked pairs) are all
  left unlocked, which leaves the agents concerned tied. With distinct margins, or equal
  margins that do not conflict, this is Tideman's rule. Score = number of agents below in the
  locked graph;
* Schulze: winning-votes strengths (strict preferences only), score = number of agents beaten
  by the Schulze relation (which is transitive, so equal scores mean Schulze ties);
* STV: Droop quota ``floor(W / (k + 1)) + 1``; one candidate is elected per round (the highest
  tally; ties favour the earlier agent), otherwise the lowest tally is eliminated (ties eliminate
  the later agent). Surplus transfer is fractional (weighted inclusive Gregory, ties in a ballot
  split its weight) by default, or ``transfer="whole"``: whole ballots are removed up to the
  quota in voter order, which is the rule open-spiel implements. The full ranking lists elected
  candidates in election order, then the others in reverse elimination order.

Kemeny-Young lives in :mod:`airlab.ranking.kemeny`, maximal lotteries in
:mod:`airlab.ranking.lotteries`.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Literal

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from airlab.ranking.ballots import Ballots, require_agents
from airlab.ranking.errors import RankingInputError
from airlab.ranking.outcome import Outcome, order_to_scores


def _top_mask(ballots: Ballots, active: np.ndarray | None = None) -> np.ndarray:
    """Bool ``(V, A)``: agent is (one of) the voter's favourites among ``active`` agents."""
    vals = ballots.values
    usable = ~np.isnan(vals)
    if active is not None:
        usable = usable & active[None, :]
    filled = np.where(usable, vals, -np.inf)
    top = filled.max(axis=1, keepdims=True)
    return usable & (filled == top)


def plurality(ballots: Ballots) -> Outcome:
    """Number of voters ranking the agent first (shared equally on a tied top)."""
    require_agents(ballots, 1)
    top = _top_mask(ballots)
    share = top / np.maximum(top.sum(axis=1, keepdims=True), 1)
    return Outcome(scores=ballots.weights @ share)


def approval(ballots: Ballots, k: int | None = None, approve: np.ndarray | None = None) -> Outcome:
    """Approval voting: top-``k`` approval, or an explicit ``(V, A)`` approval mask."""
    require_agents(ballots, 1)
    if approve is not None:
        mask = np.asarray(approve, dtype=float)
        if mask.shape != ballots.values.shape:
            raise RankingInputError("approval mask must have shape (voters, agents)")
        return Outcome(scores=ballots.weights @ mask, details={"rule": "threshold"})
    if k is None:
        k = max(1, ballots.n_agents // 2)
    if k < 1:
        raise RankingInputError("approval k must be at least 1")
    vals = ballots.values
    ranked = ~np.isnan(vals)
    filled = np.where(ranked, vals, -np.inf)
    better = ((filled[:, None, :] > filled[:, :, None]) & ranked[:, None, :]).sum(axis=2)
    equal = ((filled[:, None, :] == filled[:, :, None]) & ranked[:, None, :]).sum(axis=2)
    frac = np.clip((k - better) / np.maximum(equal, 1), 0.0, 1.0)
    frac = np.where(np.isfinite(vals), frac, 0.0)
    return Outcome(scores=ballots.weights @ frac, details={"rule": f"top-{k}", "k": k})


def borda(ballots: Ballots) -> Outcome:
    """Borda count: points = agents beaten + half the agents tied with, summed over voters."""
    require_agents(ballots)
    return Outcome(scores=(ballots.wins + 0.5 * ballots.ties).sum(axis=1))


def copeland(margins: np.ndarray) -> Outcome:
    """Copeland: pairwise majority wins plus half a point per pairwise tie."""
    m = margins.shape[0]
    wins = (margins > 0).sum(axis=1)
    ties = (margins == 0).sum(axis=1) - 1
    scores = wins + 0.5 * ties
    return Outcome(scores=scores.astype(float) if m else np.zeros(0))


def _with_edges(reach: np.ndarray, edges: list[tuple[int, int]]) -> np.ndarray:
    """Transitive closure ``reach`` (reflexive) after adding the edges ``i -> j``."""
    out = reach.copy()
    for i, j in edges:
        out |= np.outer(out[:, i], out[j, :])
    return out


def ranked_pairs(margins: np.ndarray, agents: tuple[str, ...]) -> Outcome:
    """Tideman's ranked pairs on a margin matrix, equal margins decided together."""
    m = margins.shape[0]
    reach = np.eye(m, dtype=bool)  # reach[i, j]: a locked path leads from i to j
    skipped: list[list[str]] = []
    undecided: list[list[str]] = []
    for level in np.unique(margins[margins > 0])[::-1]:
        pairs = [(int(i), int(j)) for i, j in zip(*np.nonzero(margins == level), strict=True)]
        fresh = [(i, j) for i, j in pairs if not reach[j, i]]
        skipped += [[agents[i], agents[j]] for i, j in pairs if reach[j, i]]
        trial = _with_edges(reach, fresh)
        lock = [(i, j) for i, j in fresh if not trial[j, i]]
        undecided += [[agents[i], agents[j]] for i, j in fresh if trial[j, i]]
        reach = _with_edges(reach, lock)
    scores = reach.sum(axis=1) - 1.0
    return Outcome(scores=scores, details={"skipped_pairs": skipped, "undecided_pairs": undecided})


def schulze_strengths(wins: np.ndarray) -> np.ndarray:
    """Strongest-path strengths ``p[i, j]`` (winning votes), by a vectorised Floyd-Warshall."""
    d = np.where(wins > wins.T, wins, 0.0)
    p = d.copy()
    for k in range(p.shape[0]):
        p = np.maximum(p, np.minimum(p[:, k : k + 1], p[k : k + 1, :]))
    np.fill_diagonal(p, 0.0)
    return p


def schulze(wins: np.ndarray) -> Outcome:
    """Schulze's beatpath method; score = number of agents the Schulze relation puts below."""
    p = schulze_strengths(wins)
    beats = p > p.T
    return Outcome(scores=beats.sum(axis=1).astype(float))


def _whole_order(ballots: Ballots) -> tuple[np.ndarray, np.ndarray]:
    """Strict order per ballot (ties broken by agent index) and its length (ranked agents)."""
    vals = ballots.values
    ranked = ~np.isnan(vals)
    key = np.where(ranked, vals, -np.inf)
    # lexsort: last key is primary; sort by -value, then by agent index
    idx = np.broadcast_to(np.arange(vals.shape[1]), vals.shape)
    order = np.lexsort((idx, ~ranked, -key), axis=1)
    return order, ranked.sum(axis=1)


def stv(
    ballots: Ballots,
    num_winners: int | None = None,
    transfer: Literal["fractional", "whole"] = "fractional",
) -> Outcome:
    """Single transferable vote producing a full ranking (see the module docstring)."""
    require_agents(ballots, 1)
    m = ballots.n_agents
    agents = ballots.agents
    if m == 1:
        return Outcome(scores=np.zeros(1), details={"elected": list(agents), "quota": 0.0})
    k = m // 2 if num_winners is None else int(num_winners)
    if not 1 <= k < m:
        raise RankingInputError(f"STV needs 1 <= num_winners < number of agents ({m}), got {k}")
    if transfer not in ("fractional", "whole"):
        raise RankingInputError("STV transfer must be 'fractional' or 'whole'")
    quota = float(np.floor(ballots.total_weight / (k + 1)) + 1)
    active = np.ones(m, dtype=bool)
    winners: list[int] = []
    losers: list[int] = []
    weight = ballots.weights.astype(float).copy()

    order, length = _whole_order(ballots)
    ptr = np.zeros(ballots.n_voters, dtype=np.int64)
    rows = np.arange(ballots.n_voters)

    def advance() -> None:
        # Move every ballot's pointer past decided candidates (at most m steps).
        for _ in range(m + 1):
            live = ptr < length
            cur = order[rows, np.minimum(ptr, m - 1)]
            stuck = live & ~active[cur]
            if not stuck.any():
                return
            ptr[stuck] += 1

    share = np.zeros((ballots.n_voters, m))
    while active.any():
        if transfer == "whole":
            live = ptr < length
            cur = order[rows, np.minimum(ptr, m - 1)]
            tally = np.bincount(cur[live], weights=weight[live], minlength=m)
        else:
            top = _top_mask(ballots, active)
            share = top / np.maximum(top.sum(axis=1, keepdims=True), 1)
            tally = weight @ share
        cand = np.flatnonzero(active)
        best = tally[cand].max()
        if best >= quota:
            a = int(cand[np.flatnonzero(tally[cand] == best)[0]])
            winners.append(a)
            if transfer == "whole":
                sel = np.flatnonzero((ptr < length) & (order[rows, np.minimum(ptr, m - 1)] == a))
                w = weight[sel]
                before = np.concatenate(([0.0], np.cumsum(w)[:-1]))
                weight[sel] = w - np.minimum(w, np.maximum(0.0, quota - before))
            else:
                keep = (tally[a] - quota) / tally[a]
                weight *= 1.0 - share[:, a] * (1.0 - keep)
        else:
            worst = tally[cand].min()
            a = int(cand[np.flatnonzero(tally[cand] == worst)[-1]])
            losers.insert(0, a)
        active[a] = False
        if transfer == "whole":
            advance()
    ranking = winners + losers
    details: dict[str, Any] = {
        "quota": quota,
        "num_winners": k,
        "transfer": transfer,
        "elected": [agents[i] for i in winners],
    }
    return Outcome(scores=order_to_scores(ranking, m), details=details)


def _shortest_cycle(adj: np.ndarray, start: int, members: np.ndarray) -> list[int]:
    """A shortest directed cycle through ``start`` inside ``members`` (BFS)."""
    allowed = np.zeros(adj.shape[0], dtype=bool)
    allowed[members] = True
    parent = {start: -1}
    queue: deque[int] = deque([start])
    while queue:
        u = queue.popleft()
        for nxt in np.flatnonzero(adj[u] & allowed):
            v = int(nxt)
            if v == start:
                path = [u]
                while parent[path[-1]] != -1:
                    path.append(parent[path[-1]])
                return path[::-1]
            if v not in parent:
                parent[v] = u
                queue.append(v)
    return [start]


def condorcet_analysis(margins: np.ndarray, agents: tuple[str, ...]) -> dict[str, Any]:
    """Condorcet winner, weak winners, Smith set and majority cycles.

    ``cycles`` lists one concrete cycle ``[a, b, c]`` (a beats b beats c beats a by strict
    majority) for every strongly connected component of the majority graph with a cycle.
    """
    m = margins.shape[0]
    off = ~np.eye(m, dtype=bool)
    strong = [agents[i] for i in range(m) if np.all(margins[i][off[i]] > 0)]
    weak = [agents[i] for i in range(m) if np.all(margins[i][off[i]] >= 0)]
    beats = margins > 0
    n_comp, labels = connected_components(csr_matrix(beats), directed=True, connection="strong")
    cycles: list[list[str]] = []
    for c in range(n_comp):
        members = np.flatnonzero(labels == c)
        if len(members) >= 3:
            cyc = _shortest_cycle(beats, int(members[0]), members)
            cycles.append([agents[i] for i in cyc])
    # Smith set: the top strongly connected component of the "beats or ties" graph.
    geq = (margins >= 0) & off
    n2, lab2 = connected_components(csr_matrix(geq), directed=True, connection="strong")
    smith: list[str] = []
    for c in range(n2):
        members = np.flatnonzero(lab2 == c)
        outside = np.flatnonzero(lab2 != c)
        if len(outside) == 0 or np.all(margins[np.ix_(members, outside)] > 0):
            smith = [agents[i] for i in members]
            break
    return {
        "condorcet_winner": strong[0] if strong else None,
        "weak_condorcet_winners": weak,
        "smith_set": smith,
        "cycles": cycles,
    }
