"""Two-player zero-sum games: value by LP and the maximum-entropy optimal strategy.

The optimal (equilibrium) strategies of a player form a polytope; when it is not a single point
the *maximum-entropy* one is the canonical choice: it is unique, treats identical strategies
identically (clones share mass equally) and lies in the relative interior of the polytope.
Maximal lotteries and Nash averaging both use it.

Algorithm (row player maximising ``x^T A y``):

1. value ``v`` by linear programming (HiGHS via ``scipy.optimize.linprog``);
2. the union of the supports of all optimal strategies by one homogenised LP (maximise
   ``sum t`` with ``t <= x'``, ``t <= 1`` over the cone of optimal strategies) — the maxent point
   is strictly positive exactly there;
3. maximum entropy on that support through the smooth convex dual
   ``min_{mu >= 0} logsumexp(A mu) - v * sum(mu)`` (projected Newton; L-BFGS-B as a
   fallback), whose optimum gives ``x = softmax(A mu)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog, minimize

from airlab.ranking._threads import single_threaded
from airlab.ranking.errors import DegenerateDataError


def _lse(z: np.ndarray) -> float:
    top = float(z.max())
    return top + float(np.log(np.exp(z - top).sum()))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return np.asarray(e / e.sum())


@dataclass(frozen=True)
class OptimalStrategy:
    strategy: np.ndarray
    value: float
    maxent: bool
    """False if the entropy step failed and an LP vertex solution is returned instead."""


@single_threaded
def game_value(payoff: np.ndarray) -> tuple[float, np.ndarray]:
    """Value of the zero-sum game for the maximising row player and one optimal strategy."""
    m, n = payoff.shape
    c = np.zeros(m + 1)
    c[-1] = -1.0
    a_ub = np.hstack([-payoff.T, np.ones((n, 1))])
    a_eq = np.hstack([np.ones((1, m)), np.zeros((1, 1))])
    bounds = [(0.0, None)] * m + [(None, None)]
    res = linprog(
        c, A_ub=a_ub, b_ub=np.zeros(n), A_eq=a_eq, b_eq=[1.0], bounds=bounds, method="highs"
    )
    if res.status != 0 or res.x is None:
        raise DegenerateDataError(f"zero-sum LP failed: {res.message}")
    x = np.clip(res.x[:m], 0.0, None)
    return float(res.x[-1]), x / x.sum()


SUPPORT_SCALE = 1e4
"""Bound on the homogenising scale: strategies whose probability stays below ``1 / SUPPORT_SCALE``
in every optimal strategy may be treated as outside the support (and get probability 0)."""


def _support(payoff: np.ndarray, value: float) -> np.ndarray:
    """Bool mask of strategies used by at least one optimal strategy.

    Maximise ``sum t`` subject to ``t <= x'``, ``t <= 1``, ``A^T x' >= value * s``,
    ``sum x' = s`` and ``0 <= s <= SUPPORT_SCALE``: ``t_i = 1`` exactly for the strategies some
    (near-)optimal strategy uses with probability at least ``1 / SUPPORT_SCALE``. Bounding ``s``
    keeps LP tolerances from admitting strategies that are merely close to optimal.
    """
    m, n = payoff.shape
    # variables: x' (m), s (1), t (m); maximise sum t
    c = np.concatenate([np.zeros(m + 1), -np.ones(m)])
    # -(A^T x') + value * s <= 0 ; t - x' <= 0
    a_ub = np.vstack(
        [
            np.hstack([-payoff.T, np.full((n, 1), value), np.zeros((n, m))]),
            np.hstack([-np.eye(m), np.zeros((m, 1)), np.eye(m)]),
        ]
    )
    b_ub = np.zeros(n + m)
    a_eq = np.concatenate([np.ones(m), [-1.0], np.zeros(m)])[None, :]
    bounds = [(0.0, None)] * m + [(0.0, SUPPORT_SCALE)] + [(0.0, 1.0)] * m
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[0.0], bounds=bounds, method="highs")
    if res.status != 0 or res.x is None:
        raise DegenerateDataError(f"support LP failed: {res.message}")
    return np.asarray(res.x[m + 1 :] > 0.5)


def _dual_newton(
    a: np.ndarray, value: float, max_iter: int = 200, tol: float = 1e-11
) -> np.ndarray | None:
    """Projected Newton (Bertsekas) for ``min_{mu >= 0} logsumexp(a @ mu) - value * sum(mu)``.

    Small dense problems converge in a few dozen cheap iterations; returns None if not.
    """
    k = a.shape[1]
    mu = np.zeros(k)

    def f(m: np.ndarray) -> float:
        return float(_lse(a @ m) - value * m.sum())

    fx = f(mu)
    for _ in range(max_iter):
        p = _softmax(a @ mu)
        grad = a.T @ p - value
        proj = np.where((mu <= 0.0) & (grad > 0.0), 0.0, grad)
        if np.max(np.abs(proj)) < tol:
            return mu
        # variables at the bound with a positive gradient stay fixed
        free = ~((mu <= 1e-12) & (grad > 0.0))
        ap = a[:, free]
        centred = ap - p @ ap
        hess = centred.T @ (p[:, None] * centred)
        hess[np.diag_indices_from(hess)] += 1e-10 + 1e-8 * np.trace(hess) / max(1, free.sum())
        direction = np.zeros(k)
        try:
            direction[free] = -np.linalg.solve(hess, grad[free])
        except np.linalg.LinAlgError:
            direction[free] = -grad[free]
        step = 1.0
        while step > 1e-12:
            cand = np.maximum(mu + step * direction, 0.0)
            fc = f(cand)
            if fc <= fx + 1e-4 * float(grad @ (cand - mu)):
                break
            step *= 0.5
        else:
            return None
        if fx - fc < 1e-16 * max(1.0, abs(fx)) and np.max(np.abs(cand - mu)) < 1e-12:
            return cand
        mu, fx = cand, fc
    return None


@single_threaded
def maxent_optimal_strategy(
    payoff: np.ndarray, value: float | None = None, tol: float = 1e-9
) -> OptimalStrategy:
    """Maximum-entropy optimal strategy of the row (maximising) player of ``payoff``.

    ``value`` may be passed when known (0 for antisymmetric payoffs) to skip one LP.
    """
    a = np.asarray(payoff, dtype=float)
    m = a.shape[0]
    if m == 0:
        raise DegenerateDataError("empty game")
    scale = float(np.abs(a).max()) if a.size else 0.0
    if scale == 0.0:
        return OptimalStrategy(np.full(m, 1.0 / m), 0.0, True)
    a = a / scale
    vertex: np.ndarray | None = None
    if value is None:
        v, vertex = game_value(a)
    else:
        v = value / scale
    relaxed = v - tol
    try:
        support = _support(a, relaxed)
    except DegenerateDataError:
        support = np.zeros(m, dtype=bool)
    if not support.any():
        if vertex is None:
            v, vertex = game_value(a)
        support = vertex > tol
    sub = a[support]
    mu = _dual_newton(sub, relaxed)
    if mu is None:  # fall back to L-BFGS-B on the same dual
        k = sub.shape[1]

        def dual(mu: np.ndarray) -> tuple[float, np.ndarray]:
            z = sub @ mu
            return float(_lse(z) - relaxed * mu.sum()), sub.T @ _softmax(z) - relaxed

        res = minimize(
            dual,
            np.zeros(k),
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, None)] * k,
            options={"maxiter": 2000},
        )
        mu = np.asarray(res.x)
    x = np.zeros(m)
    x[support] = _softmax(sub @ mu)
    if not bool(np.all(a.T @ x >= v - 1e-6)):
        if vertex is None:
            v, vertex = game_value(a)
        return OptimalStrategy(vertex, v * scale, False)
    return OptimalStrategy(x, v * scale, True)
