import numpy as np
import pytest

from airlab.tasks.metrics import METRICS, MetricContext, get_metric


def test_directions_are_fixed() -> None:
    up = {"accuracy", "macro_f1", "roc_auc", "r2"}
    for name, metric in METRICS.items():
        assert metric.higher_is_better == (name in up), name


def test_values() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.0, 2.0, 3.0, 5.0])
    assert get_metric("rmse").score(y, p) == pytest.approx(0.5)
    assert get_metric("mae").score(y, p) == pytest.approx(0.25)
    assert get_metric("smape").score(np.array([100.0]), np.array([110.0])) == pytest.approx(100 * 20 / 210)
    ctx = MetricContext(y_train=np.array([1.0, 2.0, 3.0, 4.0]), seasonal_period=1)
    assert get_metric("mase").score(y, p, ctx) == pytest.approx(0.25)
    labels = np.array(["a", "b", "b", "a"], dtype=object)
    assert get_metric("accuracy").score(labels, np.array(["a", "b", "a", "a"], dtype=object)) == 0.75
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]])
    assert get_metric("roc_auc").score(labels, proba, MetricContext(classes=["a", "b"])) == 1.0
    assert get_metric("log_loss").score(labels, proba, MetricContext(classes=["a", "b"])) > 0


def test_better_and_sort_key() -> None:
    assert get_metric("accuracy").better(0.9, 0.8)
    assert get_metric("rmse").better(0.8, 0.9)
    assert sorted([3.0, 1.0, 2.0], key=get_metric("rmse").sort_key) == [1.0, 2.0, 3.0]
    assert sorted([3.0, 1.0, 2.0], key=get_metric("r2").sort_key) == [3.0, 2.0, 1.0]
