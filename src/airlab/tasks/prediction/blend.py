"""Greedy ensemble selection (Caruana et al., 2004) over the nodes of a run.

The weights are chosen on the hidden *search* rows only, from predictions that never saw those
rows' labels: with hidden K-fold evaluation the K runs of a node together predict every search row
out of fold; with one view, the single run predicts the search rows from train alone. Val is used
once afterwards, by the caller, to choose between the ensemble and the selected node; test is only
reported. So the ensemble obeys the same rules as final selection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from airlab.search.journal import Journal
from airlab.search.selection import ENSEMBLE_POOL, ensemble_pool
from airlab.tasks.prediction.metrics import Metric, MetricContext
from airlab.tasks.prediction.submission import Grader, InvalidSubmission
from airlab.tasks.protocol import Ensemble

Matrix = npt.NDArray[np.float64]


@dataclass
class NodePredictions:
    """One node's predictions as numbers: class probabilities, class votes, or values."""

    node_id: int
    search: Matrix  # rows in the order of the search truth
    held_out: dict[str, Matrix]  # "val" / "test" -> averaged over the node's runs


def to_matrix(checked: pd.DataFrame, ids: pd.Index, prediction: str, classes: Sequence[str]) -> Matrix:
    """A checked submission as a float matrix: probabilities, one-hot votes for labels, or one column of values."""
    rows = checked.loc[ids]
    if prediction == "proba":
        return rows[list(classes)].to_numpy(dtype=float)
    if prediction == "label":
        labels = rows.iloc[:, 0].astype(str).to_numpy()
        return (labels[:, None] == np.asarray(classes, dtype=object)[None, :]).astype(float)
    return rows.iloc[:, 0].to_numpy(dtype=float)[:, None]


def score_matrix(metric: Metric, truth: npt.NDArray[np.object_] | Matrix, matrix: Matrix, context: MetricContext) -> float:
    """Score a (blended) prediction matrix with the task's metric."""
    if metric.prediction == "proba":
        totals = matrix.sum(axis=1, keepdims=True)
        return metric.score(truth, matrix / np.where(totals > 0, totals, 1.0), context)
    if metric.prediction == "label":  # the most-voted class; ties go to the first class
        labels = np.asarray(context.classes, dtype=object)[matrix.argmax(axis=1)]
        return metric.score(truth, labels, context)
    return metric.score(truth, matrix[:, 0], context)


def greedy_weights(preds: Sequence[Matrix], score: Callable[[Matrix], float], higher_is_better: bool,
                   rounds: int = 25, costs: Sequence[float] | None = None, max_cost: float | None = None) -> list[int]:
    """How many times each candidate enters the bag (selection with replacement); the best bag
    seen over ``rounds`` additions is kept. Ties go to the earlier candidate. With ``costs``, a
    candidate enters only if the distinct members' costs stay within ``max_cost``."""
    sign = 1.0 if higher_is_better else -1.0
    counts = [0] * len(preds)
    total = np.zeros_like(preds[0])
    best_counts = [0] * len(preds)
    best_value = -np.inf
    for size in range(1, rounds + 1):
        if costs is None or max_cost is None:
            allowed = [True] * len(preds)
        else:  # a member already in the bag costs nothing more to add again
            spent = sum(c for c, n in zip(costs, counts, strict=True) if n)
            allowed = [n > 0 or spent + c <= max_cost for c, n in zip(costs, counts, strict=True)]
        values = [sign * score((total + p) / size) if ok else -np.inf for p, ok in zip(preds, allowed, strict=True)]
        if not np.isfinite(max(values)):
            break
        pick = int(np.argmax(values))
        counts[pick] += 1
        total = total + preds[pick]
        if values[pick] > best_value + 1e-12:
            best_value, best_counts = values[pick], list(counts)
    return best_counts


def load_predictions(node_id: int, submissions: Sequence[Path], view_graders: Sequence[Grader],
                     base: Grader) -> NodePredictions | None:
    """A node's out-of-fold search predictions and its averaged val/test predictions, or None if
    a submission is missing or unreadable."""
    prediction, classes = base.metric.prediction, base.task.classes
    search_parts: list[Matrix] = []
    held: dict[str, list[Matrix]] = {"val": [], "test": []}
    try:
        for path, grader in zip(submissions, view_graders, strict=True):
            checked = grader.check(grader.read(path))
            search_parts.append(to_matrix(checked, grader.role_ids("search"), prediction, classes))
            for role in held:
                held[role].append(to_matrix(checked, base.role_ids(role), prediction, classes))
    except (InvalidSubmission, KeyError):
        return None
    return NodePredictions(
        node_id=node_id, search=np.vstack(search_parts),
        held_out={role: np.mean(parts, axis=0) for role, parts in held.items() if parts},
    )


def build_ensemble(journal: Journal, submissions: Callable[[int], list[Path]], view_graders: Sequence[Grader],
                   base: Grader, pool: int = ENSEMBLE_POOL, rounds: int = 25,
                   costs: Callable[[int], float] | None = None, max_cost: float | None = None) -> Ensemble | None:
    """Greedy selection over the ``pool`` best nodes by search score and the best of each other
    family; None when the best bag is a single node. ``costs`` (per node) and ``max_cost`` bound
    the members' total cost, e.g. the time to refit them."""
    metric = base.metric
    fold_truths = [g.truth(g.role_ids("search")) for g in view_graders]
    bounds = np.cumsum([0] + [len(t) for t in fold_truths])
    candidates = []
    for node in ensemble_pool(journal, pool):
        loaded = load_predictions(node.id, submissions(node.id), view_graders, base)
        if loaded is not None:
            candidates.append(loaded)
    if len(candidates) < 2:
        return None

    def search_score(matrix: Matrix) -> float:
        """The mean over hidden folds, like a node's search score."""
        try:
            return float(np.mean([score_matrix(metric, truth, matrix[bounds[k]:bounds[k + 1]], base.context)
                                  for k, truth in enumerate(fold_truths)]))
        except ValueError:
            return -np.inf if metric.higher_is_better else np.inf

    counts = greedy_weights([c.search for c in candidates], search_score, metric.higher_is_better, rounds,
                            None if costs is None else [costs(c.node_id) for c in candidates], max_cost)
    chosen = [(c, n) for c, n in zip(candidates, counts, strict=True) if n > 0]
    if len(chosen) < 2:
        return None
    total = sum(n for _, n in chosen)
    weights = [n / total for _, n in chosen]
    def mix(parts: list[Matrix]) -> Matrix:
        return np.asarray(np.sum([w * p for w, p in zip(weights, parts, strict=True)], axis=0), dtype=float)

    blend = {key: mix([c.held_out[key] for c, _ in chosen]) for key in ("val", "test") if key in chosen[0][0].held_out}
    scores = {}
    for role, matrix in blend.items():
        ids = base.role_ids(role)
        scores[role] = score_matrix(metric, base.truth(ids), matrix, base.context) if len(ids) else None
    return Ensemble(
        members=[c.node_id for c, _ in chosen], weights=[round(w, 6) for w in weights],
        search_score=search_score(mix([c.search for c, _ in chosen])),
        val_score=scores.get("val"), test_score=scores.get("test"),
    )
