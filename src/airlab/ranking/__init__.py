"""Rank agents across tasks from any results table (agent, task, score [, seed, valid, ...]).

Python API::

    from airlab.ranking import rank
    results = rank("results.csv", ["kemeny", "sco", "nash"], bootstrap=1000)
    results["kemeny"].agents[0].agent      # the winner
    results["kemeny"].details["cycles"]    # majority cycles, if any

See ``src/airlab/ranking/README.md`` for the methods and how missing entries and ties are handled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from airlab.ranking._threads import single_threaded_blas
from airlab.ranking.bootstrap import draw, percentile_interval, with_empty_slot
from airlab.ranking.errors import DegenerateDataError, RankingInputError
from airlab.ranking.methods import (
    DEFAULT_METHODS,
    METHODS,
    RankContext,
    Settings,
    resolve,
    run_method,
)
from airlab.ranking.normalise import load_leaderboard
from airlab.ranking.outcome import Outcome, ranks_from_scores
from airlab.ranking.results import AgentResult, BootstrapSummary, MethodResult
from airlab.ranking.table import (
    MissingPolicy,
    ResultsCube,
    SeedPolicy,
    cube_from_matrix,
    load_results,
)

__all__ = [
    "DEFAULT_METHODS",
    "METHODS",
    "AgentResult",
    "BootstrapSummary",
    "DegenerateDataError",
    "MethodResult",
    "RankingInputError",
    "ResultsCube",
    "cube_from_matrix",
    "load_results",
    "rank",
]


def _clean(value: Any) -> Any:
    """Make method details JSON-serialisable (numpy scalars/arrays, NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if np.isfinite(f) else None
    return value


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _package(
    name: str,
    outcome: Outcome,
    agents: tuple[str, ...],
    details: dict[str, Any],
    interval: tuple[np.ndarray, np.ndarray] | None,
    summary: BootstrapSummary | None,
) -> MethodResult:
    scores = np.asarray(outcome.scores, dtype=float)
    ranks = ranks_from_scores(scores)
    order = np.lexsort((np.arange(len(agents)), ranks))
    rows = []
    for i in order:
        lo = _finite_or_none(interval[0][i]) if interval is not None else None
        hi = _finite_or_none(interval[1][i]) if interval is not None else None
        rows.append(
            AgentResult(
                agent=agents[i],
                rank=int(ranks[i]),
                score=_finite_or_none(scores[i]),
                ci_low=lo,
                ci_high=hi,
            )
        )
    return MethodResult(
        method=name,
        description=METHODS[name].description,
        agents=rows,
        details=_clean(details),
        bootstrap=summary,
    )


def rank(
    table: pd.DataFrame | str | Path | ResultsCube,
    methods: Sequence[str] | str = DEFAULT_METHODS,
    *,
    lower_is_better: Iterable[str] = (),
    seeds: SeedPolicy = "mean",
    missing: MissingPolicy = "worst",
    baseline: str | None = None,
    leaderboard: pd.DataFrame | str | Path | Mapping[str, np.ndarray] | None = None,
    bootstrap: int = 0,
    bootstrap_seeds: bool = False,
    confidence: float = 0.95,
    random_state: int = 0,
    method_options: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, MethodResult]:
    """Rank the agents of a results table with each requested method.

    Args:
        table: a DataFrame or a CSV/TSV/JSON/Parquet path with columns ``agent``, ``task``,
            ``score`` (optional ``higher_is_better``, ``seed``, ``valid``, ``optimum``,
            ``best_known``), or an already loaded :class:`ResultsCube`.
        methods: method names (see ``METHODS``; aliases and ``_`` accepted) or a comma list.
        lower_is_better: tasks whose metric is better when lower (same as the column).
        seeds: ``"mean"`` averages valid seeds per (agent, task); ``"vote"`` makes every
            (task, seed) a separate voter.
        missing: ``"worst"`` (missing/invalid = worse than any valid result, tied with other
            missing) or ``"ignore"`` (missing = no information for that task).
        baseline: reference agent: MLGym feasibility for ``aup`` and the approval threshold
            for ``approval`` when no ``k`` is given.
        leaderboard: per-task leaderboard (columns ``task``, ``score``) for ``percentile``
            (optional) and ``medals`` (required).
        bootstrap: number of resamples of tasks for percentile confidence intervals (0 = none).
        bootstrap_seeds: also resample each task's seeds.
        confidence: interval coverage, e.g. 0.95.
        random_state: seeds every random choice (bootstrap, SCO, Elo orders).
        method_options: per-method options, e.g. ``{"sco": {"temperature": 0.5}}``.
        progress: called with the number of finished resamples.

    Returns:
        ``{method: MethodResult}`` in the requested order. ``MethodResult.agents`` lists
        ``AgentResult(agent, rank, score, ci_low, ci_high)`` sorted by rank (1 = best; equal
        scores share a rank); every score is oriented so that higher is better.
        ``MethodResult.details`` carries method extras (``condorcet_winner``,
        ``weak_condorcet_winners``, ``smith_set``, ``cycles`` for voting methods, ...).

    Raises:
        RankingInputError: unusable table, flag, method name or option.
        DegenerateDataError: a method cannot rank this data (e.g. one agent only).
    """
    with single_threaded_blas():
        return _rank(
            table,
            methods,
            lower_is_better=lower_is_better,
            seeds=seeds,
            missing=missing,
            baseline=baseline,
            leaderboard=leaderboard,
            bootstrap=bootstrap,
            bootstrap_seeds=bootstrap_seeds,
            confidence=confidence,
            random_state=random_state,
            method_options=method_options,
            progress=progress,
        )


def _rank(
    table: pd.DataFrame | str | Path | ResultsCube,
    methods: Sequence[str] | str,
    *,
    lower_is_better: Iterable[str],
    seeds: SeedPolicy,
    missing: MissingPolicy,
    baseline: str | None,
    leaderboard: pd.DataFrame | str | Path | Mapping[str, np.ndarray] | None,
    bootstrap: int,
    bootstrap_seeds: bool,
    confidence: float,
    random_state: int,
    method_options: Mapping[str, Mapping[str, Any]] | None,
    progress: Callable[[int], None] | None,
) -> dict[str, MethodResult]:
    names = [methods] if isinstance(methods, str) else list(methods)
    names = [n for part in names for n in part.split(",") if n.strip()]
    resolved = list(dict.fromkeys(resolve(n) for n in names))
    if not resolved:
        raise RankingInputError("no ranking method given")
    if seeds not in ("mean", "vote"):
        raise RankingInputError(f"seeds must be 'mean' or 'vote', not {seeds!r}")
    if missing not in ("worst", "ignore"):
        raise RankingInputError(f"missing must be 'worst' or 'ignore', not {missing!r}")
    if not 0.0 < confidence < 1.0:
        raise RankingInputError("confidence must be between 0 and 1")
    if bootstrap < 0:
        raise RankingInputError("bootstrap must be a non-negative number of resamples")
    if isinstance(table, ResultsCube):
        cube = table
        if list(lower_is_better):
            raise RankingInputError("lower_is_better only applies when loading a table")
    else:
        cube = load_results(table, lower_is_better=lower_is_better)
    if baseline is not None:
        cube.agent_index(baseline)
    lb: Mapping[str, np.ndarray] | None
    if leaderboard is None or isinstance(leaderboard, Mapping):
        lb = leaderboard
    else:
        lb = load_leaderboard(leaderboard)
    options = {resolve(k): dict(v) for k, v in (method_options or {}).items()}
    settings = Settings(
        seeds=seeds,
        missing=missing,
        baseline=baseline,
        leaderboard=lb,
        random_state=random_state,
        options=options,
    )
    ctx = RankContext(cube, settings)
    outcomes = {name: run_method(name, ctx) for name in resolved}

    intervals: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    summaries: dict[str, BootstrapSummary] = {}
    if bootstrap > 0:
        base = with_empty_slot(cube) if bootstrap_seeds else cube
        rng = np.random.default_rng(random_state)
        samples = {name: np.full((bootstrap, cube.n_agents), np.nan) for name in resolved}
        ok = dict.fromkeys(resolved, 0)
        for b in range(bootstrap):
            ctx_b = RankContext(draw(base, rng, bootstrap_seeds), settings)
            for name in resolved:
                try:
                    scores = np.asarray(run_method(name, ctx_b).scores, dtype=float)
                except (DegenerateDataError, np.linalg.LinAlgError):
                    continue
                if np.isfinite(scores).any():
                    samples[name][b] = scores
                    ok[name] += 1
            if progress is not None:
                progress(b + 1)
        for name in resolved:
            intervals[name] = percentile_interval(samples[name], confidence)
            summaries[name] = BootstrapSummary(
                resamples=bootstrap,
                succeeded=ok[name],
                confidence=confidence,
                resample_seeds=bootstrap_seeds,
            )

    results: dict[str, MethodResult] = {}
    for name in resolved:
        details = dict(outcomes[name].details)
        if METHODS[name].condorcet:
            details.update(ctx.condorcet)
        results[name] = _package(
            name,
            outcomes[name],
            cube.agents,
            details,
            intervals.get(name),
            summaries.get(name),
        )
    return results
