"""Per-task normalisation: AIRS-Bench normalised score, leaderboard percentiles and the
valid-submission rate (MLE-bench medals: :mod:`airlab.ranking.medals`).

AIRS-Bench normalised score (Lupidi et al. 2026)
    ``NS = (phi(s) - phi(s_min)) / (phi(s_best) - phi(s_min))`` with
    ``phi(s) = -log10(|s - s_opt|)``: the log-distance to the task's optimum ``s_opt``, placed
    between the worst valid score ``s_min`` (over all agents and seeds of the task: NS = 0) and
    the best known score ``s_best`` (NS = 1; above 1 beats it), then floored at 0.
    Reference: facebookresearch/airs-bench, the README's formula and the notebook
    ``notebooks/create_summary_plots.ipynb`` (``normalize_score_log``), whose rules are followed:
    an invalid run scores 0, a negative NS becomes 0, a score exactly at the optimum counts as
    the distance ``0.001`` (AIRS-Bench scores an exact hit as 0.999 for its accuracy-like
    tasks), and the benchmark average is over seeds, then tasks.
    ``s_opt`` comes from the ``optimum`` column, else 0 for lower-is-better tasks and 1 for
    higher-is-better tasks whose scores all lie in [0, 1]; otherwise the table must give it
    (AIRS-Bench uses 1 for every higher-is-better task). ``s_best`` comes from ``best_known``
    (AIRS-Bench: the SOTA score of the task's ``metadata.yaml``), else the best valid score.
    A task without any row for an agent counts 0 under ``missing="worst"`` and is skipped under
    ``"ignore"``. If ``phi(s_best) == phi(s_min)`` every valid run scores 1 (AIRS-Bench's
    notebook divides by zero there).

Percentile rank (MLE-bench style)
    Share of the leaderboard an agent beats, ties counted half:
    ``(#below + 0.5 * #equal) / n``. Without an external leaderboard the other agents of the
    same voter form it (missing agents are worst under ``"worst"``). A missing entry scores 0
    (``"worst"``) or is skipped (``"ignore"``).

Medals (MLE-bench / Kaggle progression rules) live in :mod:`airlab.ranking.medals`.

Valid-submission rate
    Share of an agent's expected runs that are valid. Expected runs are the (task, seed) slots
    that any agent ran; under ``"ignore"`` only the slots the agent itself has a row for.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from airlab.ranking.ballots import Ballots
from airlab.ranking.errors import RankingInputError
from airlab.ranking.table import MissingPolicy, ResultsCube, ScoreMatrix, read_table

EXACT_HIT_DISTANCE = 0.001
"""Distance to the optimum used for a score exactly at it (AIRS-Bench: 1 - 0.999)."""


def default_optimum(cube: ResultsCube) -> np.ndarray:
    """Per-task optimum: the ``optimum`` column, else 0 / 1 as documented; NaN if unknown."""
    opt = cube.optimum.copy()
    raw = np.where(cube.valid, cube.raw, np.nan)
    for t in range(cube.n_tasks):
        if np.isfinite(opt[t]):
            continue
        if not cube.higher_is_better[t]:
            opt[t] = 0.0
            continue
        vals = raw[:, t][np.isfinite(raw[:, t])]
        if len(vals) == 0 or (vals.min() >= 0.0 and vals.max() <= 1.0):
            opt[t] = 1.0
    return opt


def airs_normalised_runs(cube: ResultsCube) -> np.ndarray:
    """AIRS-Bench NS per run, shape ``(agents, tasks, seeds)``; 0 for invalid, NaN for no row."""
    opt = default_optimum(cube)
    unknown = [cube.tasks[t] for t in np.flatnonzero(~np.isfinite(opt))]
    if unknown:
        raise RankingInputError(
            "AIRS-Bench normalisation needs the optimal score of task(s) "
            + ", ".join(dict.fromkeys(unknown))
            + ": add an 'optimum' column (constant per task) to the results table"
        )
    raw = np.where(cube.valid, cube.raw, np.nan)
    has = np.asarray(cube.valid.any(axis=(0, 2)), dtype=bool)
    oriented = raw * cube.sign[None, :, None]
    filled = np.where(has[None, :, None], oriented, 0.0)
    with np.errstate(invalid="ignore"):
        worst = np.nanmin(filled, axis=(0, 2)) * cube.sign  # raw worst valid score per task
        best = np.nanmax(filled, axis=(0, 2)) * cube.sign
    best = np.where(np.isfinite(cube.best_known), cube.best_known, best)

    def phi(score: np.ndarray, o: np.ndarray) -> np.ndarray:
        dist = np.abs(score - o)
        return np.asarray(-np.log10(np.where(dist > 0, dist, EXACT_HIT_DISTANCE)))

    phi_min = phi(worst, opt)
    denom = phi(best, opt) - phi_min
    run = phi(np.where(cube.valid, cube.raw, worst[None, :, None]), opt[None, :, None])
    safe = np.where(denom > 0, denom, 1.0)[None, :, None]
    ns = np.where(denom[None, :, None] > 0, (run - phi_min[None, :, None]) / safe, 1.0)
    ns = np.where(cube.valid, np.maximum(ns, 0.0), 0.0)
    return np.where(cube.present, ns, np.nan)


def airs_normalised_scores(cube: ResultsCube, missing: MissingPolicy = "worst") -> np.ndarray:
    """Per (agent, task) NS averaged over the agent's runs; see the module docstring."""
    runs = airs_normalised_runs(cube)
    n = cube.present.sum(axis=2)
    total = np.nansum(runs, axis=2)
    per_task = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    if missing == "worst":
        per_task = np.where(np.isnan(per_task), 0.0, per_task)
    return per_task


def percentile_against(values: np.ndarray, leaderboard: np.ndarray) -> np.ndarray:
    """Share of ``leaderboard`` (oriented, higher better) each value beats, ties counted half."""
    lb = np.sort(np.asarray(leaderboard, dtype=float))
    if len(lb) == 0:
        return np.full(np.shape(values), np.nan)
    below = np.searchsorted(lb, values, side="left")
    upto = np.searchsorted(lb, values, side="right")
    return (below + 0.5 * (upto - below)) / len(lb)


def load_leaderboard(source: pd.DataFrame | str | Path) -> dict[str, np.ndarray]:
    """Leaderboard table with columns ``task`` and ``score`` (one row per team), raw direction."""
    df = read_table(source)
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in ("task", "score") if c not in df.columns]
    if missing:
        raise RankingInputError(
            f"leaderboard is missing column(s): {', '.join(missing)} (needs task, score)"
        )
    df["score"] = pd.to_numeric(df["score"], errors="coerce")
    df = df.dropna(subset=["score"])
    return {
        str(task): group["score"].to_numpy(dtype=float)
        for task, group in df.groupby(df["task"].astype(str).str.strip(), sort=False)
    }


def percentile_scores(
    matrix: ScoreMatrix,
    ballots: Ballots,
    missing: MissingPolicy,
    leaderboard: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Percentile of every (agent, voter) entry; shape ``(agents, voters)``."""
    scores = matrix.scores
    out = np.full(scores.shape, np.nan)
    sign = np.where(matrix.higher_is_better, 1.0, -1.0)
    if leaderboard is not None:
        absent = sorted({matrix.tasks[t] for t in matrix.voter_task} - set(leaderboard))
        if absent:
            raise RankingInputError("leaderboard has no rows for task(s): " + ", ".join(absent))
        for v in range(matrix.n_voters):
            lb = leaderboard[matrix.tasks[matrix.voter_task[v]]] * sign[v]
            col = scores[:, v]
            ok = np.isfinite(col)
            out[ok, v] = percentile_against(col[ok], lb)
    else:
        label_pos = {lbl: i for i, lbl in enumerate(ballots.voter_labels)}
        for v, label in enumerate(matrix.voters):
            if label not in label_pos:
                continue
            vals = ballots.values[label_pos[label]]
            ranked = ~np.isnan(vals)
            for a in np.flatnonzero(np.isfinite(vals)):
                others = vals[ranked & (np.arange(len(vals)) != a)]
                if len(others):
                    below = (others < vals[a]).sum()
                    equal = (others == vals[a]).sum()
                    out[a, v] = (below + 0.5 * equal) / len(others)
    if missing == "worst":
        out = np.where(np.isfinite(scores), out, 0.0)
    return out


def valid_submission_rate(cube: ResultsCube, missing: MissingPolicy = "worst") -> np.ndarray:
    """Valid runs / expected runs per agent (see the module docstring)."""
    valid = cube.valid.sum(axis=(1, 2)).astype(float)
    if missing == "worst":
        expected = np.broadcast_to(cube.seed_slots.sum(), valid.shape).astype(float)
    else:
        expected = cube.present.sum(axis=(1, 2)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, valid / np.maximum(expected, 1), np.nan)
