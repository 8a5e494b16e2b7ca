"""Bootstrap confidence intervals that resample tasks (and optionally seeds).

One resample draws ``n_tasks`` tasks with replacement (a task drawn twice counts twice, as two
voters). With ``resample_seeds=True`` each drawn task also redraws its own runs: a task that had
``k`` seed slots gets ``k`` slots drawn with replacement from them (tasks with fewer seeds are
padded with empty slots, which no method sees, so tasks keep their weight).

Degenerate resamples — a method raising :class:`~airlab.ranking.errors.DegenerateDataError`
(e.g. only one agent has any result, or no task separates the agents), or returning non-finite
scores — are skipped for that method and counted; intervals use the successful resamples
(``n_failed`` is reported). Intervals are percentile intervals of each agent's score.
"""

from __future__ import annotations

import warnings

import numpy as np

from airlab.ranking.table import ResultsCube


def with_empty_slot(cube: ResultsCube) -> ResultsCube:
    """The cube plus one seed slot that nobody ran (index ``len(cube.seeds)``)."""
    pad = ((0, 0), (0, 0), (0, 1))
    return ResultsCube(
        agents=cube.agents,
        tasks=cube.tasks,
        seeds=(*cube.seeds, "__empty__"),
        raw=np.pad(cube.raw, pad, constant_values=np.nan),
        present=np.pad(cube.present, pad, constant_values=False),
        valid=np.pad(cube.valid, pad, constant_values=False),
        higher_is_better=cube.higher_is_better,
        optimum=cube.optimum,
        best_known=cube.best_known,
    )


def draw(cube: ResultsCube, rng: np.random.Generator, resample_seeds: bool) -> ResultsCube:
    """One bootstrap resample of ``cube`` (which must come from :func:`with_empty_slot` when
    ``resample_seeds`` is true)."""
    n_tasks = cube.n_tasks
    task_idx = rng.integers(0, n_tasks, size=n_tasks)
    if not resample_seeds:
        return cube.resample(task_idx)
    slots = cube.seed_slots[task_idx]  # (T, S) bool, the empty slot is always False
    counts = slots.sum(axis=1)
    width = max(1, int(counts.max()))
    # For each drawn task, sorted positions of its slots; draw `count` of them, pad the rest.
    order = np.argsort(~slots, axis=1, kind="stable")
    picks = rng.integers(0, np.maximum(counts, 1)[:, None], size=(n_tasks, width))
    seed_idx = np.take_along_axis(order, picks, axis=1)
    empty = cube.raw.shape[2] - 1
    seed_idx = np.where(np.arange(width)[None, :] < counts[:, None], seed_idx, empty)
    return cube.resample(task_idx, seed_idx)


def percentile_interval(
    samples: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Per-agent percentile interval of ``(resamples, agents)`` scores (NaN-aware).

    Agents with fewer than two finite resampled scores get NaN bounds.
    """
    alpha = (1.0 - confidence) / 2.0
    finite = np.isfinite(samples).sum(axis=0)
    if samples.shape[0] == 0:
        nan = np.full(samples.shape[1], np.nan)
        return nan, nan.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo = np.nanquantile(np.where(np.isfinite(samples), samples, np.nan), alpha, axis=0)
        hi = np.nanquantile(np.where(np.isfinite(samples), samples, np.nan), 1 - alpha, axis=0)
    lo = np.where(finite >= 2, lo, np.nan)
    hi = np.where(finite >= 2, hi, np.nan)
    return lo, hi
