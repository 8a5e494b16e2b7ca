"""Rating systems over the pairwise games that ballots imply.

Every voter (task, or task/seed) plays a round-robin among the agents it compares: a strict
preference is a win, an equal score a draw (half a win each). Missing agents follow the ballots'
policy: under ``"worst"`` they lose to every valid agent and draw with each other; under
``"ignore"`` they do not play that round.

* **Elo** (online): voters are processed one after another; each voter is one *rating period*:
  all of its games are scored against the ratings at the start of the period and applied
  together (``r_i += K * sum_j (S_ij - E_ij)``). Because the result depends on the voter order,
  which in a results table is arbitrary, the default averages the final ratings over
  ``permutations`` random voter orders (run in parallel as one vectorised array);
  ``permutations=0`` uses the table order.
* **Bradley-Terry**: maximum likelihood of ``P(i beats j) = sigmoid(beta_i - beta_j)`` with a
  Gaussian prior ``N(0, 1/prior)`` on ``beta``, so data where an agent never loses (or agents
  that never meet) still gives finite ratings. Newton's method on the concave log-posterior.
  Reported on the Elo scale: ``1000 + 400 / ln(10) * beta``.
* **Weng-Lin** Bayesian ratings (Plackett-Luce and Thurstone-Mosteller) via ``openskill``
  (imported lazily): each voter is one match of single-agent teams with its ranks (ties
  allowed); score = ``mu``, ``sigma`` is reported in the details.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy.special import expit

from airlab.ranking._threads import single_threaded
from airlab.ranking.ballots import Ballots, require_agents
from airlab.ranking.errors import RankingInputError
from airlab.ranking.outcome import Outcome

ELO_SCALE = 400.0 / np.log(10.0)


def game_results(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-voter scores ``S[v, i, j]`` (1 win, 0.5 draw, 0 loss) and a played mask."""
    played = ~np.isnan(values[:, :, None]) & ~np.isnan(values[:, None, :])
    n = values.shape[1]
    played &= ~np.eye(n, dtype=bool)[None]
    wins = values[:, :, None] > values[:, None, :]
    draws = values[:, :, None] == values[:, None, :]
    score = np.where(wins, 1.0, np.where(draws, 0.5, 0.0))
    return np.where(played, score, 0.0), played


@single_threaded
def elo_ratings(
    ballots: Ballots,
    *,
    k: float = 16.0,
    initial: float = 1000.0,
    scale: float = 400.0,
    permutations: int = 100,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Online Elo; returns (mean rating, std over voter orders) per agent."""
    require_agents(ballots)
    n_voters, n_agents = ballots.values.shape
    rng = np.random.default_rng(seed)
    if permutations <= 0:
        orders = np.arange(n_voters)[None, :]
    else:
        orders = np.argsort(rng.random((permutations, n_voters)), axis=1)
    results, played = game_results(ballots.values)
    weights = ballots.weights
    ratings = np.full((orders.shape[0], n_agents), float(initial))
    rows = np.arange(orders.shape[0])
    for t in range(n_voters):
        v = orders[:, t]
        diff = (ratings[:, None, :] - ratings[:, :, None]) / scale  # (P, i, j): r_j - r_i
        expected = 1.0 / (1.0 + 10.0**diff)
        delta = np.where(played[v], results[v] - expected, 0.0).sum(axis=2)
        ratings[rows] += k * weights[v][:, None] * delta
    return ratings.mean(axis=0), ratings.std(axis=0)


def elo(ballots: Ballots, **options: Any) -> Outcome:
    mean, std = elo_ratings(ballots, **options)
    return Outcome(
        scores=mean,
        details={"std_over_orders": dict(zip(ballots.agents, std.tolist(), strict=True))},
    )


@single_threaded
def bradley_terry(
    wins: np.ndarray,
    ties: np.ndarray | None = None,
    *,
    prior: float = 0.01,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> np.ndarray:
    """MAP Bradley-Terry strengths ``beta`` (natural log-odds units, mean zero).

    ``wins[i, j]`` counts i beating j; each tie counts as half a win for both.
    """
    w = np.asarray(wins, dtype=float)
    if ties is not None:
        w = w + 0.5 * np.asarray(ties, dtype=float)
    if prior <= 0:
        raise RankingInputError("Bradley-Terry prior must be positive (it keeps ratings finite)")
    n_games = w + w.T
    beta = np.zeros(w.shape[0])
    for _ in range(max_iter):
        p = expit(beta[:, None] - beta[None, :])  # P(i beats j)
        grad = (w - n_games * p).sum(axis=1) - prior * beta
        curv = n_games * p * (1.0 - p)
        hess = curv - np.diag(curv.sum(axis=1) + prior)
        step = np.linalg.solve(hess, grad)
        beta = beta - step
        if np.max(np.abs(step)) < tol:
            break
    return beta - beta.mean()


def bt(ballots: Ballots, prior: float = 0.01) -> Outcome:
    require_agents(ballots)
    beta = bradley_terry(ballots.wins, ballots.ties, prior=prior)
    return Outcome(scores=1000.0 + ELO_SCALE * beta, details={"beta": beta.tolist()})


def openskill_ratings(
    ballots: Ballots, model: Literal["plackett-luce", "thurstone-mosteller"] = "plackett-luce"
) -> tuple[np.ndarray, np.ndarray]:
    """Weng-Lin ``(mu, sigma)`` after rating every voter as one match, in voter order."""
    require_agents(ballots)
    try:
        from openskill.models import PlackettLuce, ThurstoneMostellerFull
    except ImportError as exc:  # pragma: no cover - openskill is a core dependency
        raise RankingInputError("this method needs the package 'openskill'") from exc
    engine: Any = PlackettLuce() if model == "plackett-luce" else ThurstoneMostellerFull()
    players = [engine.rating(name=a) for a in ballots.agents]
    values = ballots.values
    for v in range(ballots.n_voters):
        ranked = np.flatnonzero(~np.isnan(values[v]))
        if len(ranked) < 2:
            continue
        vals = values[v, ranked]
        # rank 1 = best; equal values share a rank (a draw)
        ranks = 1 + (vals[None, :] > vals[:, None]).sum(axis=1)
        teams = [[players[i]] for i in ranked]
        new = engine.rate(teams, ranks=[float(r) for r in ranks])
        for i, team in zip(ranked, new, strict=True):
            players[i] = team[0]
    mu = np.array([p.mu for p in players])
    sigma = np.array([p.sigma for p in players])
    return mu, sigma


def openskill_outcome(
    ballots: Ballots, model: Literal["plackett-luce", "thurstone-mosteller"]
) -> Outcome:
    mu, sigma = openskill_ratings(ballots, model)
    return Outcome(
        scores=mu,
        details={"sigma": dict(zip(ballots.agents, sigma.tolist(), strict=True))},
    )
