"""Nash averaging for agent-vs-task evaluation (Balduzzi, Tuyls, Perolat, Graepel 2018,
"Re-evaluating evaluation", appendix D).

The score matrix ``S`` (agents x tasks, oriented so higher is better) is rescaled per task to
``[0, 1]`` (min-max over agents) and read as a two-player zero-sum meta-game: an *agent player*
picks agents to maximise ``S``, a *task player* picks tasks to minimise it. Each player uses its
**maximum-entropy** optimal strategy (unique; see :mod:`airlab.ranking.games`). Then

* agent skill      = ``S @ p_tasks``   (expected normalised score on the Nash mix of tasks);
* task difficulty  = ``-(S.T @ p_agents)``.

Invariance to redundancy: duplicating a task (or an agent) duplicates a column (row) of ``S``
and leaves the min-max scaling unchanged. Maximum entropy over the raw strategy set is *not*
enough for exact invariance when the equilibrium is not unique (a duplicated strategy adds
``p log 2`` to the entropy and tilts the choice), so identical rows and columns are merged
first, the maxent equilibrium of the reduced game is computed, and each merged strategy's mass
is split equally among its copies. Skills and difficulties are then exactly the same with or
without duplicates, whatever the equilibrium structure.

Missing entries: the meta-game needs a complete matrix, so a missing (agent, task) entry gets
the task's worst valid score (0 after scaling) whatever the missing policy. Tasks where every
agent scores the same carry no information and are dropped (their scaling is undefined).
"""

from __future__ import annotations

import numpy as np

from airlab.ranking.errors import DegenerateDataError
from airlab.ranking.games import maxent_optimal_strategy
from airlab.ranking.outcome import Outcome


def normalise_columns(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min-max scale each column to [0, 1] (missing -> 0); returns the matrix and kept columns."""
    s = np.asarray(scores, dtype=float)
    finite = np.isfinite(s)
    lo = np.where(finite, s, np.inf).min(axis=0)
    hi = np.where(finite, s, -np.inf).max(axis=0)
    keep = finite.any(axis=0) & (hi > lo)
    span = np.where(keep, hi - lo, 1.0)
    out = np.where(finite, (s - lo) / span, 0.0)
    return out[:, keep], keep


def _merge_identical(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows (to 12 decimals) and, for each original row, its unique-row index."""
    _, first, inverse = np.unique(
        np.round(rows, 12), axis=0, return_index=True, return_inverse=True
    )
    order = np.argsort(first)  # keep first-appearance order for determinism
    remap = np.empty_like(order)
    remap[order] = np.arange(len(order))
    return rows[np.sort(first)], remap[np.asarray(inverse).ravel()]


def _split(mass: np.ndarray, groups: np.ndarray) -> np.ndarray:
    counts = np.bincount(groups, minlength=len(mass))
    return mass[groups] / counts[groups]


def nash_averaging(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Agent skills, task difficulties, and the two maxent Nash strategies.

    ``scores`` is agents x tasks, higher is better, NaN = missing. Difficulty and the task
    strategy are reported for the kept (informative) columns only.
    """
    s, _ = normalise_columns(scores)
    if s.shape[1] == 0:
        raise DegenerateDataError("Nash averaging needs a task on which agents differ")
    unique_rows, row_group = _merge_identical(s)
    unique_cols, col_group = _merge_identical(unique_rows.T)
    reduced = unique_cols.T
    row = maxent_optimal_strategy(reduced)
    agents = _split(row.strategy, row_group)
    tasks = _split(maxent_optimal_strategy(-reduced.T, value=-row.value).strategy, col_group)
    skill = s @ tasks
    difficulty = -(s.T @ agents)
    # In exact arithmetic every agent that is a best response earns exactly the game value (and
    # every task in the task player's support exactly minus it); snap solver noise onto it.
    skill = np.where(skill >= row.value - 1e-7, row.value, skill)
    difficulty = np.where(difficulty >= -row.value - 1e-7, -row.value, difficulty)
    return skill, difficulty, agents, tasks


def nash_outcome(scores: np.ndarray, agents: tuple[str, ...], voters: tuple[str, ...]) -> Outcome:
    skill, difficulty, p_agents, p_tasks = nash_averaging(scores)
    _, keep = normalise_columns(scores)
    kept = [v for v, k in zip(voters, keep, strict=True) if k]
    return Outcome(
        scores=skill,
        details={
            "agent_nash": dict(zip(agents, np.round(p_agents, 6).tolist(), strict=True)),
            "task_nash": dict(zip(kept, np.round(p_tasks, 6).tolist(), strict=True)),
            "task_difficulty": dict(zip(kept, np.round(difficulty, 6).tolist(), strict=True)),
            "dropped_tasks": [v for v, k in zip(voters, keep, strict=True) if not k],
        },
    )
