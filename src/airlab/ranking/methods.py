"""Registry of ranking methods: name -> function of a shared :class:`RankContext`.

Every method returns an :class:`~airlab.ranking.outcome.Outcome` (scores aligned with the
agents, higher is better). Method options are passed by name through
``rank(..., method_options={"sco": {"temperature": 0.5}})``; unknown options are an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from airlab.ranking import lotteries, medals, normalise, ratings, sco, voting
from airlab.ranking.ballots import Ballots, ballots_from_matrix, require_agents
from airlab.ranking.errors import DegenerateDataError, RankingInputError
from airlab.ranking.kemeny import kemeny_outcome
from airlab.ranking.nash import nash_outcome
from airlab.ranking.outcome import Outcome
from airlab.ranking.profiles import performance_profiles
from airlab.ranking.table import MissingPolicy, ResultsCube, ScoreMatrix, SeedPolicy


@dataclass(frozen=True)
class Settings:
    """Choices shared by all methods of one ``rank()`` call."""

    seeds: SeedPolicy = "mean"
    missing: MissingPolicy = "worst"
    baseline: str | None = None
    leaderboard: Mapping[str, np.ndarray] | None = None
    random_state: int = 0
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


class RankContext:
    """Lazily built views of one results cube (matrix, ballots, Condorcet analysis)."""

    def __init__(self, cube: ResultsCube, settings: Settings) -> None:
        self.cube = cube
        self.settings = settings

    @cached_property
    def matrix(self) -> ScoreMatrix:
        return self.cube.matrix(self.settings.seeds)

    @cached_property
    def ballots(self) -> Ballots:
        return ballots_from_matrix(self.matrix, self.settings.missing)

    @cached_property
    def condorcet(self) -> dict[str, Any]:
        return voting.condorcet_analysis(self.ballots.margins, self.ballots.agents)

    @property
    def baseline_index(self) -> int | None:
        if self.settings.baseline is None:
            return None
        return self.cube.agent_index(self.settings.baseline)


MethodFn = Callable[[RankContext, dict[str, Any]], Outcome]


@dataclass(frozen=True)
class MethodSpec:
    name: str
    func: MethodFn
    description: str
    options: tuple[str, ...] = ()
    condorcet: bool = False
    """Attach the Condorcet analysis (winner, Smith set, cycles) to the details."""


def _approval(ctx: RankContext, opts: dict[str, Any]) -> Outcome:
    k = opts.get("k")
    base = ctx.baseline_index
    if k is None and base is not None:
        vals = ctx.ballots.values
        ref = vals[:, base]
        finite = np.isfinite(vals)
        approve = finite & np.where(np.isfinite(ref)[:, None], vals >= ref[:, None], True)
        out = voting.approval(ctx.ballots, approve=approve)
        return Outcome(out.scores, {"rule": f"at least as good as {ctx.settings.baseline}"})
    return voting.approval(ctx.ballots, k=k)


def _nash(ctx: RankContext, opts: dict[str, Any]) -> Outcome:
    m = ctx.matrix
    if m.n_agents < 2:
        raise DegenerateDataError("Nash averaging needs at least two agents")
    return nash_outcome(m.scores, m.agents, m.voters)


def _aup(ctx: RankContext, opts: dict[str, Any]) -> Outcome:
    prof = performance_profiles(
        ctx.matrix,
        baseline=ctx.settings.baseline,
        missing=ctx.settings.missing,
        **opts,
    )
    feasible = prof.feasible.sum(axis=1)
    return Outcome(
        scores=prof.aup,
        details={
            "grid_end": prof.grid_end,
            "penalties": dict(zip(prof.tasks, prof.penalties.tolist(), strict=True)),
            "feasible_tasks": dict(zip(prof.agents, feasible.tolist(), strict=True)),
            "baseline": ctx.settings.baseline,
        },
    )


def _nanmean_rows(x: np.ndarray) -> np.ndarray:
    n = np.isfinite(x).sum(axis=1)
    total = np.where(np.isfinite(x), x, 0.0).sum(axis=1)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def _airs(ctx: RankContext, opts: dict[str, Any]) -> Outcome:
    per_task = normalise.airs_normalised_scores(ctx.cube, ctx.settings.missing)
    return Outcome(scores=_nanmean_rows(per_task))


def _percentile(ctx: RankContext, opts: dict[str, Any]) -> Outcome:
    pct = normalise.percentile_scores(
        ctx.matrix,
        ctx.ballots,
        ctx.settings.missing,
        dict(ctx.settings.leaderboard) if ctx.settings.leaderboard is not None else None,
    )
    source = "leaderboard" if ctx.settings.leaderboard is not None else "other agents"
    return Outcome(scores=_nanmean_rows(pct), details={"against": source})


def _medals(ctx: RankContext, opts: dict[str, Any]) -> Outcome:
    if ctx.settings.leaderboard is None:
        raise RankingInputError("the 'medals' method needs a leaderboard (--leaderboard FILE)")
    med = medals.medals(ctx.matrix, dict(ctx.settings.leaderboard))
    counts = {
        medal: dict(zip(ctx.matrix.agents, (med == i).sum(axis=1).tolist(), strict=True))
        for i, medal in enumerate(medals.MEDALS)
    }
    n = ctx.matrix.n_voters
    return Outcome(scores=(med < 3).sum(axis=1) / max(n, 1), details={"medals": counts})


def _valid_rate(ctx: RankContext, opts: dict[str, Any]) -> Outcome:
    return Outcome(scores=normalise.valid_submission_rate(ctx.cube, ctx.settings.missing))


def _seeded(opts: dict[str, Any], ctx: RankContext) -> dict[str, Any]:
    return {"seed": ctx.settings.random_state, **opts}


def _kemeny(ctx: RankContext, opts: dict[str, Any]) -> Outcome:
    require_agents(ctx.ballots)
    return kemeny_outcome(ctx.ballots.wins, ctx.ballots.agents, **opts)


def _ranked_pairs(ctx: RankContext, opts: dict[str, Any]) -> Outcome:
    require_agents(ctx.ballots)
    return voting.ranked_pairs(ctx.ballots.margins, ctx.ballots.agents)


def _schulze(ctx: RankContext, opts: dict[str, Any]) -> Outcome:
    require_agents(ctx.ballots)
    return voting.schulze(ctx.ballots.wins)


def _copeland(ctx: RankContext, opts: dict[str, Any]) -> Outcome:
    require_agents(ctx.ballots)
    return voting.copeland(ctx.ballots.margins)


def _ml(ctx: RankContext, opts: dict[str, Any]) -> Outcome:
    require_agents(ctx.ballots)
    return lotteries.maximal_lotteries(ctx.ballots.margins, ctx.ballots.agents)


def _iml(ctx: RankContext, opts: dict[str, Any]) -> Outcome:
    require_agents(ctx.ballots)
    return lotteries.iterative_maximal_lotteries(ctx.ballots.margins, ctx.ballots.agents)


_SPECS = [
    MethodSpec(
        "plurality",
        lambda c, o: voting.plurality(c.ballots),
        "voters whose favourite the agent is (ties split)",
        condorcet=True,
    ),
    MethodSpec(
        "approval",
        _approval,
        "voters approving the agent: top-k, or at least as good as --baseline",
        ("k",),
        condorcet=True,
    ),
    MethodSpec(
        "borda",
        lambda c, o: voting.borda(c.ballots),
        "Borda count: agents beaten, half a point per tie",
        condorcet=True,
    ),
    MethodSpec(
        "copeland",
        _copeland,
        "pairwise majority wins, half a point per pairwise tie",
        condorcet=True,
    ),
    MethodSpec(
        "kemeny",
        _kemeny,
        "exact Kemeny-Young ranking (score = agents below in every optimal order)",
        ("solver",),
        condorcet=True,
    ),
    MethodSpec(
        "ranked-pairs",
        _ranked_pairs,
        "Tideman's ranked pairs (score = agents below in the locked graph)",
        condorcet=True,
    ),
    MethodSpec("schulze", _schulze, "Schulze beatpath (score = agents beaten)", condorcet=True),
    MethodSpec(
        "stv",
        lambda c, o: voting.stv(c.ballots, **o),
        "single transferable vote, full ranking (score = agents ranked below)",
        ("num_winners", "transfer"),
        condorcet=True,
    ),
    MethodSpec(
        "maximal-lotteries",
        _ml,
        "probability in the (maximum-entropy) maximal lottery",
        condorcet=True,
    ),
    MethodSpec(
        "iterative-maximal-lotteries",
        _iml,
        "levels of maximal lotteries (score = levels below + probability)",
        condorcet=True,
    ),
    MethodSpec(
        "sco",
        lambda c, o: sco.sco_outcome(c.ballots, **_seeded(o, c)),
        "Soft Condorcet Optimization rating",
        (
            "temperature",
            "lower",
            "upper",
            "optimizer",
            "iterations",
            "learning_rate",
            "batch_size",
            "starts",
            "initial_noise",
        ),
        condorcet=True,
    ),
    MethodSpec(
        "sco-fenchel-young",
        lambda c, o: sco.fenchel_young_outcome(c.ballots, **_seeded(o, c)),
        "SCO rating with the Fenchel-Young (perturbed ranking) loss",
        ("sigma", "lower", "upper", "iterations", "learning_rate", "batch_size"),
        condorcet=True,
    ),
    MethodSpec(
        "elo",
        lambda c, o: ratings.elo(c.ballots, **_seeded(o, c)),
        "online Elo averaged over random voter orders",
        ("k", "initial", "scale", "permutations"),
    ),
    MethodSpec(
        "bt",
        lambda c, o: ratings.bt(c.ballots, **o),
        "Bradley-Terry maximum a posteriori rating (Elo scale)",
        ("prior",),
    ),
    MethodSpec(
        "plackett-luce",
        lambda c, o: ratings.openskill_outcome(c.ballots, "plackett-luce"),
        "Weng-Lin Bayesian rating, Plackett-Luce model (mu)",
    ),
    MethodSpec(
        "thurstone-mosteller",
        lambda c, o: ratings.openskill_outcome(c.ballots, "thurstone-mosteller"),
        "Weng-Lin Bayesian rating, Thurstone-Mosteller model (mu)",
    ),
    MethodSpec("nash", _nash, "Nash averaging: expected score on the max-entropy Nash task mix"),
    MethodSpec(
        "aup",
        _aup,
        "area under the MLGym performance profile (log10 ratio axis)",
        ("epsilon", "n_grid", "grid_end"),
    ),
    MethodSpec("airs", _airs, "mean AIRS-Bench normalised score"),
    MethodSpec("percentile", _percentile, "mean leaderboard percentile (ties half)"),
    MethodSpec("medals", _medals, "share of tasks with any MLE-bench medal (needs leaderboard)"),
    MethodSpec("valid-rate", _valid_rate, "valid-submission rate"),
]

METHODS: dict[str, MethodSpec] = {spec.name: spec for spec in _SPECS}

ALIASES = {
    "kemeny-young": "kemeny",
    "ml": "maximal-lotteries",
    "maximal-lottery": "maximal-lotteries",
    "iml": "iterative-maximal-lotteries",
    "bradley-terry": "bt",
    "fenchel-young": "sco-fenchel-young",
    "sco-fy": "sco-fenchel-young",
    "weng-lin": "plackett-luce",
    "pl": "plackett-luce",
    "tm": "thurstone-mosteller",
    "nash-averaging": "nash",
    "performance-profile": "aup",
    "airs-bench": "airs",
    "normalised-score": "airs",
    "normalized-score": "airs",
    "vsr": "valid-rate",
    "valid-submission-rate": "valid-rate",
    "tideman": "ranked-pairs",
}

DEFAULT_METHODS = (
    "borda",
    "copeland",
    "kemeny",
    "schulze",
    "maximal-lotteries",
    "sco",
    "elo",
    "bt",
    "nash",
)


def resolve(name: str) -> str:
    """Canonical method name (case, ``_`` and aliases tolerated) or a helpful error."""
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    key = ALIASES.get(key, key)
    if key not in METHODS:
        raise RankingInputError(f"unknown ranking method {name!r}; available: {', '.join(METHODS)}")
    return key


def run_method(name: str, ctx: RankContext) -> Outcome:
    """Run one (canonical) method on a context, validating its options."""
    spec = METHODS[name]
    opts = dict(ctx.settings.options.get(name, {}))
    unknown = sorted(set(opts) - set(spec.options))
    if unknown:
        allowed = ", ".join(spec.options) or "none"
        raise RankingInputError(
            f"method {name!r} has no option(s) {', '.join(unknown)} (allowed: {allowed})"
        )
    return spec.func(ctx, opts)
