"""Soft Condorcet Optimization (Lanctot et al., 2024, "Soft Condorcet Optimization for Ranking
of General Agents").

Each agent ``a`` gets a rating ``theta_a`` in ``[lower, upper]``. Kendall-tau disagreement with a
ballot that prefers ``a`` to ``b`` is the step ``[theta_b >= theta_a]``; SCO replaces it with the
sigmoid ``sigma((theta_b - theta_a) / tau)`` and minimises the average over ballots::

    L(theta) = (1 / W) * sum_votes sum_{a > b in vote} sigma((theta_b - theta_a) / tau)

As ``tau -> 0`` (relative to the rating range) the minimiser orders agents like the Kemeny-Young
ranking. Summing the loss over ballots only needs the pairwise counts ``wins``, and its gradient
only the margins::

    dL/dtheta_c = -(1 / (W tau)) * sum_j (wins[c, j] - wins[j, c]) * sigma'((theta_j - theta_c) / tau)

so a **full-batch** step costs ``O(m^2)`` whatever the number of ballots. Optimisers:

* ``"gd"``: projected full-batch gradient descent (the paper's update with every ballot in the
  batch); ``O(m^2)`` per step;
* ``"lbfgs"`` (default): the same full-batch loss minimised by L-BFGS-B within the rating
  bounds; it converges in a few dozen iterations. The loss is not convex, so it is run from
  ``starts`` initial points — the paper's (all ratings at the midpoint) and the midpoint spread
  along the Borda direction (the loss gradient there) by ``tau * 1, 3, 10`` — and the lowest
  final loss wins;
* ``"sgd"``: projected mini-batch SGD, ballots sampled with replacement as in the paper; a
  batch's pairwise counts are built in one vectorised step.

Ties inside a ballot contribute nothing (neither agent is preferred). Missing agents follow the
ballots' policy (ranked last, or unranked). Ratings are clipped to the bounds after every step.

The **Fenchel-Young** variant (paper section 3.3) replaces the gradient of a ballot by
``target_position - perturbed_position``, where the perturbed ranking sorts
``theta + sigma * Gumbel`` noise; see :func:`fenchel_young_ratings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from airlab.ranking._threads import single_threaded
from airlab.ranking.ballots import Ballots, require_agents
from airlab.ranking.errors import RankingInputError
from airlab.ranking.outcome import Outcome

Optimizer = Literal["lbfgs", "gd", "sgd"]


@dataclass(frozen=True)
class SCOResult:
    ratings: np.ndarray
    loss: float
    iterations: int
    optimizer: str


def sigmoid_loss(ratings: np.ndarray, wins: np.ndarray, temperature: float = 1.0) -> float:
    """Average (per unit of voter weight is up to the caller) SCO sigmoid loss, unnormalised."""
    delta = (ratings[None, :] - ratings[:, None]) / temperature  # delta[a, b] = (t_b - t_a)/tau
    return float((wins * expit(delta)).sum())


def _loss_and_grad(
    ratings: np.ndarray, wins: np.ndarray, margins: np.ndarray, temperature: float, norm: float
) -> tuple[float, np.ndarray]:
    delta = (ratings[None, :] - ratings[:, None]) / temperature
    s = expit(delta)
    loss = float((wins * s).sum()) / norm
    grad = -(margins * (s * (1.0 - s))).sum(axis=1) / (norm * temperature)
    return loss, grad


def _initial(
    n: int, lower: float, upper: float, noise: float, rng: np.random.Generator
) -> np.ndarray:
    theta = np.full(n, lower + (upper - lower) / 2.0)
    if noise > 0:
        theta = theta + rng.random(n) * noise
    return np.clip(theta, lower, upper)


def _lbfgs(
    theta0: np.ndarray,
    wins: np.ndarray,
    margins: np.ndarray,
    temperature: float,
    norm: float,
    lower: float,
    upper: float,
    iterations: int | None,
    starts: int,
) -> SCOResult:
    borda = margins.sum(axis=1)
    spread = borda.std()
    direction = (borda - borda.mean()) / spread if spread > 0 else np.zeros_like(borda)
    inits = [theta0]
    scales = [1.0, 3.0, 10.0, 30.0, 100.0]
    for k in range(max(0, starts - 1)):
        scale = scales[k] if k < len(scales) else scales[-1] * 3.0 ** (k - len(scales) + 1)
        inits.append(np.clip(theta0 + direction * scale * temperature, lower, upper))
    best: SCOResult | None = None
    for init in inits:
        res = minimize(
            _loss_and_grad,
            init,
            args=(wins, margins, temperature, norm),
            jac=True,
            method="L-BFGS-B",
            bounds=[(lower, upper)] * len(init),
            options={"maxiter": iterations or 15_000},
        )
        cand = SCOResult(np.asarray(res.x), float(res.fun), int(res.nit), "lbfgs")
        if best is None or cand.loss < best.loss - 1e-12:
            best = cand
    assert best is not None
    return best


@single_threaded
def soft_condorcet_optimization(
    ballots: Ballots,
    *,
    temperature: float = 1.0,
    lower: float = -100.0,
    upper: float = 100.0,
    optimizer: Optimizer = "lbfgs",
    iterations: int | None = None,
    learning_rate: float = 0.01,
    batch_size: int = 32,
    initial_noise: float = 0.0,
    starts: int = 4,
    seed: int = 0,
) -> SCOResult:
    """Minimise the SCO sigmoid loss; see the module docstring for the optimisers.

    ``starts`` (L-BFGS-B only): the first start is the paper's (all ratings at the midpoint);
    further starts spread the ratings along the Borda direction (the loss gradient at the
    midpoint) by ``tau * 1, 3, 10, ...`` and the lowest final loss wins.
    """
    require_agents(ballots)
    if upper <= lower:
        raise RankingInputError(f"SCO needs upper > lower, got [{lower}, {upper}]")
    if temperature <= 0:
        raise RankingInputError("SCO temperature must be positive")
    rng = np.random.default_rng(seed)
    n = ballots.n_agents
    theta = _initial(n, lower, upper, initial_noise, rng)
    norm = ballots.total_weight
    if optimizer in ("gd", "lbfgs"):
        wins = ballots.wins
        margins = wins - wins.T
        if optimizer == "lbfgs":
            return _lbfgs(theta, wins, margins, temperature, norm, lower, upper, iterations, starts)
        steps = iterations if iterations is not None else 10_000
        scaled = margins / (norm * temperature)
        inv_t = 1.0 / temperature
        for _ in range(steps):
            s = expit(np.subtract.outer(theta, theta) * -inv_t)
            grad = -(scaled * (s * (1.0 - s))).sum(axis=1)
            theta = np.clip(theta - learning_rate * grad, lower, upper)
        loss, _ = _loss_and_grad(theta, wins, margins, temperature, norm)
        return SCOResult(theta, loss, steps, "gd")
    if optimizer != "sgd":
        raise RankingInputError(f"unknown SCO optimizer {optimizer!r}; use lbfgs, gd or sgd")
    steps = iterations if iterations is not None else 10_000
    values = ballots.values
    prob = ballots.weights / ballots.weights.sum()
    inv_t = 1.0 / temperature
    for _ in range(steps):
        batch = values[rng.choice(len(values), size=batch_size, p=prob)]
        pref = (batch[:, :, None] > batch[:, None, :]).sum(axis=0)
        margins_b = (pref - pref.T) / (batch_size * temperature)
        s = expit(np.subtract.outer(theta, theta) * -inv_t)
        grad = -(margins_b * (s * (1.0 - s))).sum(axis=1)
        theta = np.clip(theta - learning_rate * grad, lower, upper)
    loss, _ = _loss_and_grad(theta, ballots.wins, ballots.margins, temperature, norm)
    return SCOResult(theta, loss, steps, "sgd")


@single_threaded
def fenchel_young_ratings(
    ballots: Ballots,
    *,
    sigma: float = 10.0,
    lower: float = -100.0,
    upper: float = 100.0,
    iterations: int = 5_000,
    learning_rate: float = 0.05,
    batch_size: int = 32,
    seed: int = 0,
) -> SCOResult:
    """Fenchel-Young (perturbed ranking) optimiser of SCO ratings, mini-batch and vectorised.

    For a ballot, the gradient is ``target_position - predicted_position`` for each ranked agent,
    where positions count from 0 at the top (tied agents share their mean position) and the
    prediction ranks ``theta + sigma * Gumbel(0, 1)`` among the ballot's ranked agents.
    """
    require_agents(ballots)
    if upper <= lower:
        raise RankingInputError(f"Fenchel-Young needs upper > lower, got [{lower}, {upper}]")
    rng = np.random.default_rng(seed)
    n = ballots.n_agents
    theta = _initial(n, lower, upper, 0.0, rng)
    target = ballots.positions()
    ranked = ~np.isnan(target)
    target = np.where(ranked, target, 0.0)
    prob = ballots.weights / ballots.weights.sum()
    for _ in range(iterations):
        idx = rng.choice(len(target), size=batch_size, p=prob)
        rk = ranked[idx]
        pert = theta[None, :] + sigma * rng.gumbel(size=(batch_size, n))
        pert = np.where(rk, pert, -np.inf)
        pred = ((pert[:, None, :] > pert[:, :, None]) & rk[:, None, :]).sum(axis=2)
        grad = np.where(rk, target[idx] - pred, 0.0).sum(axis=0) / batch_size
        theta = np.clip(theta - learning_rate * grad, lower, upper)
    loss, _ = _loss_and_grad(theta, ballots.wins, ballots.margins, 1.0, ballots.total_weight)
    return SCOResult(theta, loss, iterations, "fenchel-young")


TIE_TOLERANCE = 1e-6
"""Ratings closer than this share of the rating range count as equal (see :func:`merge_ties`)."""


def merge_ties(ratings: np.ndarray, tolerance: float) -> np.ndarray:
    """Replace each run of ratings whose successive gaps are ``<= tolerance`` by its mean.

    The optimiser stops at a finite accuracy, so agents that are exactly tied (symmetric in the
    pairwise counts) can come out a rounding error apart; without merging, that noise, and
    thereby the agents' order in the table, would decide their ranks.
    """
    order = np.argsort(ratings, kind="stable")
    sorted_r = ratings[order]
    group = np.concatenate(([0], np.cumsum(np.diff(sorted_r) > tolerance)))
    means = np.bincount(group, weights=sorted_r) / np.bincount(group)
    out = np.empty_like(ratings, dtype=float)
    out[order] = means[group]
    return out


def sco_outcome(ballots: Ballots, **options: object) -> Outcome:
    """SCO ratings as an :class:`Outcome` (score = rating, near-equal ratings merged)."""
    res = soft_condorcet_optimization(ballots, **options)  # type: ignore[arg-type]
    span = float(options.get("upper", 100.0)) - float(options.get("lower", -100.0))  # type: ignore[arg-type]
    return Outcome(
        scores=merge_ties(res.ratings, TIE_TOLERANCE * span),
        details={"loss": res.loss, "iterations": res.iterations, "optimizer": res.optimizer},
    )


def fenchel_young_outcome(ballots: Ballots, **options: object) -> Outcome:
    res = fenchel_young_ratings(ballots, **options)  # type: ignore[arg-type]
    return Outcome(scores=res.ratings, details={"loss": res.loss, "iterations": res.iterations})
