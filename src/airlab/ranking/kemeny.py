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

:func:`kemeny` first splits the agents into the strongly connected components of the "beats or
ties" majority graph. Between two components every pair is a strict majority in the same
direction, and every optimal order keeps the components in that order (otherwise some adjacent
pair across them could be swapped for a strict gain), so each component is solved on its own
and the results are concatenated: the solver choice applies per component.

Several orders can be optimal (an exact tie, or a majority cycle with equal margins). The
result then does not single one out: both solvers also return ``can_above[i, j]``, true when
``i`` is ranked above ``j`` in *some* optimal order. Agent ``i`` scores the number of agents it
is above in *every* optimal order, so agents whose relative order the optimum leaves open share
a rank, and the ranks do not depend on the order of the agents in the table.

* DP: a set ``S`` of agents is the top part of some optimal order iff
  ``best[S] + best[~S] + cross(S) = OPT`` (``cross(S)`` = preferences from ``S`` to the rest), so
  ``can_above[i, j]`` holds iff such a set contains ``i`` but not ``j``: one extra pass over the
  subsets. The DP also counts the optimal orders (``n_optimal``).
* ILP: one more solve with a no-good cut tells whether the optimum is unique; only when it is
  not, every still undecided pair is re-solved with its direction reversed.

``order`` is one optimal order (deterministic: among equally good agents the earlier one in the
table is placed higher), useful as an example, not as a tie-break.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from airlab.ranking._threads import single_threaded
from airlab.ranking.errors import DegenerateDataError, RankingInputError
from airlab.ranking.outcome import Outcome

DP_MAX_AGENTS = 13
"""Above this many agents ``solver="auto"`` switches from the subset DP to the ILP."""

TIE_DP_MAX_AGENTS = 20
"""``solver="auto"``: when the ILP finds several optimal orders for a component of at most this
many agents, the DP (seconds at 20 agents) settles which pairs they leave open; beyond it the
ILP re-solves each open candidate pair."""

_DP_HARD_LIMIT = 24


@dataclass(frozen=True)
class KemenyResult:
    order: np.ndarray
    """Agent indices, best first."""
    agreement: float
    """``sum_{i above j} wins[i, j]`` of the returned order (maximal)."""
    n_optimal: int | None
    """Number of optimal orders (DP); for the ILP 1 if unique, else ``None`` (not counted)."""
    solver: str
    can_above: np.ndarray
    """``(m, m)`` bool: ``i`` is above ``j`` in at least one optimal order."""

    @property
    def forced_above(self) -> np.ndarray:
        """``i`` is above ``j`` in every optimal order."""
        return np.asarray(self.can_above & ~self.can_above.T)


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
        return KemenyResult(np.zeros(0, dtype=np.int64), 0.0, 1, "dp", np.zeros((0, 0), bool))
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
    can_above = _dp_can_above(wins, best, tol)
    return KemenyResult(order, float(best[full]), round(float(count[full])), "dp", can_above)


def _dp_can_above(wins: np.ndarray, best: np.ndarray, tol: float, chunk: int = 1 << 15) -> np.ndarray:
    """``can_above`` from the DP table: see the module docstring."""
    m = wins.shape[0]
    full = (1 << m) - 1
    opt = best[full]
    bit_values = (np.int64(1) << np.arange(m, dtype=np.int64))[None, :]
    out_weight = wins.sum(axis=1)
    can = np.zeros((m, m), dtype=np.int64)
    for lo in range(1, full, chunk):
        sets = np.arange(lo, min(lo + chunk, full), dtype=np.int64)
        bits = ((sets[:, None] & bit_values) != 0).astype(np.float64)
        inner = ((bits @ wins) * bits).sum(axis=1)
        cross = bits @ out_weight - inner
        on_path = best[sets] + best[full ^ sets] + cross >= opt - tol
        top = bits[on_path]
        can += (top.T @ (1.0 - top)).astype(np.int64)
    return can > 0


class _KemenyILP:
    """The binary programme of one ``wins`` matrix, re-solvable with extra bounds or cuts."""

    def __init__(self, wins: np.ndarray, time_limit: float | None) -> None:
        m = wins.shape[0]
        self.wins = wins
        self.iu, self.ju = np.triu_indices(m, k=1)
        self.var = -np.ones((m, m), dtype=np.int64)
        self.var[self.iu, self.ju] = np.arange(len(self.iu))
        # maximise sum_{i<j} wins[i,j] x_ij + wins[j,i] (1 - x_ij) -> minimise -(w_ij - w_ji) x_ij
        self.c = -(wins[self.iu, self.ju] - wins[self.ju, self.iu])
        a_idx, b_idx, c_idx = (
            np.array(
                [(a, b, cc) for a in range(m) for b in range(a + 1, m) for cc in range(b + 1, m)],
                dtype=np.int64,
            )
            .reshape(-1, 3)
            .T
        )
        n_tri, n_var = len(a_idx), len(self.iu)
        self.constraints: list[LinearConstraint] = []
        if n_tri:
            # 0 <= x_ab + x_bc - x_ac <= 1 forbids both 3-cycles a>b>c>a and a<b<c<a
            v = self.var
            rows = np.repeat(np.arange(n_tri), 3)
            cols = np.stack([v[a_idx, b_idx], v[b_idx, c_idx], v[a_idx, c_idx]], axis=1).ravel()
            vals = np.tile(np.array([1.0, 1.0, -1.0]), n_tri)
            mat = coo_matrix((vals, (rows, cols)), shape=(n_tri, n_var)).tocsr()
            self.constraints.append(LinearConstraint(mat, 0.0, 1.0))
        self.options: dict[str, Any] = {"disp": False}
        if time_limit is not None:
            self.options["time_limit"] = time_limit

    def solve(
        self,
        lower: np.ndarray | None = None,
        upper: np.ndarray | None = None,
        cut: LinearConstraint | None = None,
    ) -> np.ndarray | None:
        """An optimal order under extra variable bounds / a cut, or None if infeasible."""
        n_var = len(self.c)
        lo = np.zeros(n_var) if lower is None else lower
        hi = np.ones(n_var) if upper is None else upper
        res = milp(
            self.c,
            constraints=[*self.constraints, *([cut] if cut is not None else [])],
            integrality=np.ones(n_var),
            bounds=Bounds(lo, hi),
            options=self.options,
        )
        if res.status == 2:  # infeasible
            return None
        if res.x is None or res.status != 0:
            raise DegenerateDataError(f"Kemeny ILP did not reach an optimum: {res.message}")
        m = self.wins.shape[0]
        x = np.round(res.x).astype(bool)
        above = np.zeros((m, m), dtype=bool)
        above[self.iu, self.ju] = x
        above[self.ju, self.iu] = ~x
        return np.argsort(-above.sum(axis=1), kind="stable").astype(np.int64)

    def assignment(self, order: np.ndarray) -> np.ndarray:
        pos = np.empty(len(order), dtype=np.int64)
        pos[order] = np.arange(len(order))
        return (pos[self.iu] < pos[self.ju]).astype(float)


def _order_pairs(order: np.ndarray) -> np.ndarray:
    """``above[i, j]``: ``i`` precedes ``j`` in ``order``."""
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order))
    return np.asarray(pos[:, None] < pos[None, :])


@single_threaded
def kemeny_ilp(
    wins: np.ndarray, time_limit: float | None = None, resolve_ties: bool = True
) -> KemenyResult:
    """Exact Kemeny order as a binary linear programme with transitivity constraints.

    With ``resolve_ties=False`` a non-unique optimum is only detected (``n_optimal=None``) and
    ``can_above`` holds the returned order's pairs alone.
    """
    m = wins.shape[0]
    if m <= 1:
        return KemenyResult(np.arange(m, dtype=np.int64), 0.0, 1, "ilp", np.zeros((m, m), bool))
    ilp = _KemenyILP(wins, time_limit)
    order = ilp.solve()
    if order is None:
        raise DegenerateDataError("Kemeny ILP is infeasible")
    opt = agreement(wins, order)
    tol = 1e-9 * max(1.0, float(np.abs(wins).sum()))
    can_above = _order_pairs(order)
    # no-good cut: any other order differs in at least one pair
    x_star = ilp.assignment(order)
    row = np.where(x_star > 0.5, -1.0, 1.0)
    cut = LinearConstraint(row[None, :], 1.0 - x_star.sum(), np.inf)
    other = ilp.solve(cut=cut)
    unique = other is None or agreement(wins, other) < opt - tol
    if not unique and resolve_ties:
        for i, j in zip(*np.nonzero(_order_pairs(order)), strict=True):
            if can_above[j, i]:
                continue
            # is there an optimal order with j above i?
            lo, hi = np.zeros(len(x_star)), np.ones(len(x_star))
            k = ilp.var[min(i, j), max(i, j)]
            lo[k] = hi[k] = 1.0 if j < i else 0.0
            alt = ilp.solve(lo, hi)
            if alt is not None and agreement(wins, alt) >= opt - tol:
                can_above |= _order_pairs(alt)
    return KemenyResult(order, opt, 1 if unique else None, "ilp", can_above)


def _components(wins: np.ndarray) -> list[np.ndarray]:
    """Strong components of the "beats or ties" graph, best first (see the module docstring)."""
    n, labels = connected_components(csr_matrix(wins >= wins.T), directed=True, connection="strong")
    blocks = [np.flatnonzero(labels == c) for c in range(n)]
    beats = wins > wins.T
    # the components form a transitive tournament: each beats every agent of the later ones
    return sorted(blocks, key=lambda b: -int(beats[b[0]][labels != labels[b[0]]].sum()))


def _solve_block(wins: np.ndarray, solver: str) -> KemenyResult:
    m = wins.shape[0]
    if solver == "dp" or (solver == "auto" and m <= DP_MAX_AGENTS):
        return kemeny_dp(wins)
    if solver == "auto" and m <= TIE_DP_MAX_AGENTS:
        res = kemeny_ilp(wins, resolve_ties=False)
        if res.n_optimal == 1:
            return res
        dp = kemeny_dp(wins)
        return KemenyResult(res.order, res.agreement, dp.n_optimal, "ilp+dp", dp.can_above)
    return kemeny_ilp(wins)


def kemeny(wins: np.ndarray, solver: Literal["auto", "dp", "ilp"] = "auto") -> KemenyResult:
    """Exact Kemeny-Young ranking, component by component; ``auto`` uses the DP on components
    of up to ``DP_MAX_AGENTS`` agents and the ILP on larger ones."""
    if solver not in ("auto", "dp", "ilp"):
        raise RankingInputError(f"unknown Kemeny solver {solver!r}; use auto, dp or ilp")
    m = wins.shape[0]
    order: list[int] = []
    can_above = np.zeros((m, m), dtype=bool)
    n_optimal: int | None = 1
    used: list[str] = []
    placed = np.zeros(m, dtype=bool)
    for block in _components(wins):
        res = _solve_block(wins[np.ix_(block, block)], solver)
        order += block[res.order].tolist()
        placed[block] = True
        can_above[np.ix_(block, ~placed)] = True  # above every later component
        can_above[np.ix_(block, block)] = res.can_above
        n_optimal = None if n_optimal is None or res.n_optimal is None else n_optimal * res.n_optimal
        if len(block) > 1 and res.solver not in used:
            used.append(res.solver)
    final = np.asarray(order, dtype=np.int64)
    return KemenyResult(final, agreement(wins, final), n_optimal, "+".join(used) or "dp", can_above)


def tied_groups(can_above: np.ndarray) -> list[list[int]]:
    """Groups of agents linked by pairs whose relative order differs between optimal orders."""
    open_pairs = can_above & can_above.T
    np.fill_diagonal(open_pairs, False)
    n, labels = connected_components(csr_matrix(open_pairs), directed=False)
    groups = [np.flatnonzero(labels == g).tolist() for g in range(n)]
    return [g for g in groups if len(g) > 1]


def kemeny_outcome(
    wins: np.ndarray, agents: tuple[str, ...], solver: Literal["auto", "dp", "ilp"] = "auto"
) -> Outcome:
    """Kemeny ranking as an :class:`Outcome`.

    Score = number of agents ranked below in *every* optimal order, so agents the optimum does
    not order share a rank. ``order`` is one optimal order; ``tied_groups`` lists the agents
    whose relative order is not fixed by the optimum.
    """
    res = kemeny(wins, solver)
    return Outcome(
        scores=res.forced_above.sum(axis=1).astype(float),
        details={
            "order": [agents[i] for i in res.order],
            "agreement": res.agreement,
            "n_optimal_orders": res.n_optimal,
            "tied_groups": [[agents[i] for i in g] for g in tied_groups(res.can_above)],
            "solver": res.solver,
        },
    )
