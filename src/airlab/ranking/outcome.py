"""The raw result every ranking algorithm returns before it is packaged as a ``MethodResult``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Outcome:
    """Per-agent scores (higher is better, aligned with the agent order) and method details.

    Ranks are derived from ``scores`` (equal scores share a rank), so algorithms whose output is
    an order rather than a number encode it as a score (e.g. number of agents ranked below).
    """

    scores: np.ndarray
    details: dict[str, Any] = field(default_factory=dict)


def order_to_scores(order: np.ndarray | list[int], n_agents: int) -> np.ndarray:
    """Score ``n-1`` for the first agent of a strict order down to ``0`` for the last."""
    scores = np.zeros(n_agents)
    scores[np.asarray(order, dtype=np.int64)] = np.arange(n_agents - 1, -1, -1, dtype=float)
    return scores


def ranks_from_scores(scores: np.ndarray, rel_tol: float = 1e-7) -> np.ndarray:
    """Competition ranks (1 = best, ties share the lowest rank: 1, 2, 2, 4); NaN scores rank last.

    Scores within ``rel_tol * max(1, max |score|)`` count as equal, so values that are equal in
    exact arithmetic (e.g. every agent in a Nash support) are not split by floating-point noise.
    """
    finite = np.isfinite(scores)
    scale = max(1.0, float(np.abs(scores[finite]).max())) if finite.any() else 1.0
    s = np.where(finite, scores, -np.inf)
    # rank = 1 + number of agents with a clearly higher score
    return 1 + (s[None, :] > s[:, None] + rel_tol * scale).sum(axis=1)
