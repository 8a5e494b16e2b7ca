"""Greedy ensemble selection on hand-built predictions."""

from __future__ import annotations

import numpy as np

from airlab.tasks.prediction.blend import greedy_weights, score_matrix, to_matrix
from airlab.tasks.prediction.metrics import MetricContext, get_metric


def _rmse(truth: np.ndarray):
    metric = get_metric("rmse")
    return lambda m: score_matrix(metric, truth, m, MetricContext())


def test_two_models_with_opposite_errors_are_averaged() -> None:
    truth = np.array([0.0, 1.0, 2.0, 3.0])
    over, under = (truth + 1.0)[:, None], (truth - 1.0)[:, None]
    counts = greedy_weights([over, under], _rmse(truth), higher_is_better=False, rounds=10)
    assert counts[0] == counts[1] > 0  # the average is exact; any imbalance is worse


def test_a_dominated_model_is_left_out() -> None:
    truth = np.linspace(0, 1, 20)
    good = (truth + 0.01)[:, None]
    bad = (truth[::-1])[:, None]
    counts = greedy_weights([bad, good], _rmse(truth), higher_is_better=False, rounds=10)
    assert counts[0] == 0 and counts[1] > 0


def test_label_votes_break_ties_towards_the_first_class() -> None:
    metric = get_metric("accuracy")
    context = MetricContext(classes=["a", "b"])
    checked = __import__("pandas").DataFrame({"y": ["a", "b", "b"]}, index=["1", "2", "3"])
    votes = to_matrix(checked, checked.index, "label", ["a", "b"])
    assert votes.tolist() == [[1, 0], [0, 1], [0, 1]]
    tied = np.full((3, 2), 0.5)
    assert score_matrix(metric, np.array(["a", "a", "b"], dtype=object), tied, context) == 2 / 3


def test_members_whose_costs_exceed_the_limit_stay_out() -> None:
    truth = np.array([0.0, 1.0, 2.0, 3.0])
    over, under, far = (truth + 1.0)[:, None], (truth - 1.0)[:, None], (truth - 1.1)[:, None]
    free = greedy_weights([over, under, far], _rmse(truth), higher_is_better=False, rounds=10)
    assert free[0] > 0 and free[1] > 0
    # `under` alone costs too much next to `over`: the nearest affordable partner takes its place
    counts = greedy_weights([over, under, far], _rmse(truth), higher_is_better=False, rounds=10,
                            costs=[1.0, 5.0, 1.0], max_cost=3.0)
    assert counts[1] == 0 and counts[0] > 0 and counts[2] > 0
    # nothing affordable: an empty bag
    assert greedy_weights([over, under], _rmse(truth), False, 10, costs=[4.0, 4.0], max_cost=3.0) == [0, 0]
