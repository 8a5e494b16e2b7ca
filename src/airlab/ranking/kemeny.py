"""Exact Kemeny-Young rankings without enumerating the m! orders.

The Kemeny ranking maximises the *agreement* ``sum_{i before j} wins[i, j]``: the number of
(weighted) voter-pair preferences it respects, i.e. it minimises the total Kendall-tau distance
to the ballots. Tied pairs in a ballot add the same amount to every order, so they are ignored;
missing entries follow the ballots' missing policy.

Two exact solvers:

* ``"dp"``: dynamic programme over subsets (Held-Karp style). ``best[S]`` is the best agreement
  of an order of the agent set ``S`` placed on top of the ranking; appending ``x`` below ``S``
  gains ``sum_{j in S} wins[j, x]``. Subsets are processed one popcount layer at a time and each
  layer is a handful of vectorised numpy operations, so the cost is ``O(2^m m^2)`` flops and
  ``O(2^m)`` memory — exact up to ~20 agents in seconds. It also counts the optimal orders.
* ``"ilp"``: binary programme over ``x[i, j] = 1`` iff ``i`` is ranked above ``j`` (``i < j``) with
  the ``C(m, 3)`` transitivity constraints, solved by HiGHS through ``scipy.optimize.milp``.
  Used automatically above ``DP_MAX_AGENTS`` agents.

Among several optimal orders the DP returns a deterministic one (when several agents can be
appended last with the same value, the highest index is placed last, which keeps earlier agents
higher); ``n_optimal`` reports how many optimal orders exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from airlab.ranking._threads import single_threaded
from airlab.ranking.errors import DegenerateDataError, RankingInputError
from airlab.ranking.outcome import Outcome, order_to_scores

DP_MAX_AGENTS = 13
"""Above this many agents ``solver="auto"`` switches from the subset DP to the ILP."""

_DP_HARD_LIMIT = 24


@dataclass(frozen=True)
class KemenyResult:
    order: np.ndarray
    """Agent indices, best first."""
    agreement: float
    """``sum_{i above j} wins[i, j]`` of the returned order (maximal)."""
    n_optimal: int | None
    """Number of optimal orders (DP only; ``None`` for the ILP)."""
    solver: str


def agreement(wins: np.ndarray, order: np.ndarray | list[int]) -> float:
    """Agreement of an order (best first) with the pairwise preference counts."""
    o = np.asarray(order, dtype=np.int64)
    w = wins[np.ix_(o, o)]
    return float(np.triu(w, k=1).sum())


def _popcount(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint64)
    count = np.zeros(x.shape, dtype=np.int64)
    while np.any(x):
        count += (x & np.uint64(1)).astype(np.int64)
        x = x >> np.uint64(1)
    return count


@single_threaded
def kemeny_dp(wins: np.ndarray) -> KemenyResult:
    """Exact Kemeny order by dynamic programming over subsets (see the module docstring)."""
    m = wins.shape[0]
    if m > _DP_HARD_LIMIT:
        raise RankingInputError(f"the subset DP is limited to {_DP_HARD_LIMIT} agents; use 'ilp'")
    if m == 0:
        return KemenyResult(np.zeros(0, dtype=np.int64), 0.0, 1, "dp")
    n_sets = 1 << m
    best = np.full(n_sets, -np.inf)
    best[0] = 0.0
    count = np.zeros(n_sets)
    count[0] = 1.0
    last = np.zeros(n_sets, dtype=np.int8)
    subsets = np.arange(n_sets, dtype=np.int64)
    layers = np.argsort(_popcount(subsets), kind="stable")
    sizes = np.bincount(_popcount(subsets), minlength=m + 1)
    bit_values = (np.int64(1) << np.arange(m, dtype=np.int64))[None, :]
    tol = 1e-9 * max(1.0, float(np.abs(wins).sum()))
    start = 1
    for k in range(1, m + 1):
        sets = layers[start : start + sizes[k]]
        start += sizes[k]
        bits = (sets[:, None] & bit_values) != 0  # (L, m)
        gain = bits.astype(np.float64) @ wins  # gain[S, x] = sum_{j in S} wins[j, x]
        prev = sets[:, None] ^ bit_values  # S without x (only meaningful where x in S)
        prev = np.where(bits, prev, 0)
        cand = np.where(bits, best[prev] + gain, -np.inf)
        top = cand.max(axis=1)
        best[sets] = top
        tied = cand >= top[:, None] - tol
        # Highest index among the optimal "last" agents, so earlier agents stay higher.
        last[sets] = (m - 1 - np.argmax(tied[:, ::-1], axis=1)).astype(np.int8)
        count[sets] = np.where(tied, count[prev], 0.0).sum(axis=1)
    full = n_sets - 1
    order_rev: list[int] = []
    s = full
    while s:
        x = int(last[s])
        order_rev.append(x)
        s ^= 1 << x
    order = np.asarray(order_rev[::-1], dtype=np.int64)
    return KemenyResult(order, float(best[full]), round(float(count[full])), "dp")


@single_threaded
def kemeny_ilp(wins: np.ndarray, time_limit: float | None = None) -> KemenyResult:
    """Exact Kemeny order as a binary linear programme with transitivity constraints."""
    m = wins.shape[0]
    if m <= 1:
        return KemenyResult(np.arange(m, dtype=np.int64), 0.0, None, "ilp")
    iu, ju = np.triu_indices(m, k=1)
    var = -np.ones((m, m), dtype=np.int64)
    var[iu, ju] = np.arange(len(iu))
    n_var = len(iu)
    # maximise sum_{i<j} wins[i,j] x_ij + wins[j,i] (1 - x_ij)  ->  minimise -(w_ij - w_ji) x_ij
    c = -(wins[iu, ju] - wins[ju, iu])
    a_idx, b_idx, c_idx = (
        np.array(
            [(a, b, cc) for a in range(m) for b in range(a + 1, m) for cc in range(b + 1, m)],
            dtype=np.int64,
        )
        .reshape(-1, 3)
        .T
    )
    n_tri = len(a_idx)
    constraints = []
    if n_tri:
        # 0 <= x_ab + x_bc - x_ac <= 1 forbids both 3-cycles a>b>c>a and a<b<c<a
        rows = np.repeat(np.arange(n_tri), 3)
        cols = np.stack([var[a_idx, b_idx], var[b_idx, c_idx], var[a_idx, c_idx]], axis=1).ravel()
        vals = np.tile(np.array([1.0, 1.0, -1.0]), n_tri)
        mat = coo_matrix((vals, (rows, cols)), shape=(n_tri, n_var)).tocsr()
        constraints.append(LinearConstraint(mat, 0.0, 1.0))
    options: dict[str, Any] = {"disp": False}
    if time_limit is not None:
        options["time_limit"] = time_limit
    res = milp(
        c,
        constraints=constraints,
        integrality=np.ones(n_var),
        bounds=Bounds(0.0, 1.0),
        options=options,
    )
    if res.x is None or res.status != 0:
        raise DegenerateDataError(f"Kemeny ILP did not reach an optimum: {res.message}")
    x = np.round(res.x).astype(bool)
    above = np.zeros((m, m), dtype=bool)
    above[iu, ju] = x
    above[ju, iu] = ~x
    order = np.argsort(-above.sum(axis=1), kind="stable")
    return KemenyResult(order.astype(np.int64), agreement(wins, order), None, "ilp")


def kemeny(wins: np.ndarray, solver: Literal["auto", "dp", "ilp"] = "auto") -> KemenyResult:
    """Exact Kemeny-Young order; ``auto`` uses the DP up to ``DP_MAX_AGENTS`` agents."""
    if solver == "auto":
        solver = "dp" if wins.shape[0] <= DP_MAX_AGENTS else "ilp"
    if solver == "dp":
        return kemeny_dp(wins)
    if solver == "ilp":
        return kemeny_ilp(wins)
    raise RankingInputError(f"unknown Kemeny solver {solver!r}; use auto, dp or ilp")


def kemeny_outcome(
    wins: np.ndarray, agents: tuple[str, ...], solver: Literal["auto", "dp", "ilp"] = "auto"
) -> Outcome:
    """Kemeny order as an :class:`Outcome` (score = number of agents ranked below)."""
    res = kemeny(wins, solver)
    return Outcome(
        scores=order_to_scores(res.order, len(agents)),
        details={
            "order": [agents[i] for i in res.order],
            "agreement": res.agreement,
            "n_optimal_orders": res.n_optimal,
            "solver": res.solver,
        },
    )
