import numpy as np
import pytest

from airlab.tasks.prediction.metrics import METRICS, MetricContext, get_metric


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


def test_roc_auc_equals_sklearn_with_ties_and_many_classes() -> None:
    import numpy as np
    import pytest
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    auc = get_metric("roc_auc")
    for _ in range(20):
        y = rng.choice(["a", "b"], size=60)
        p1 = np.round(rng.random(60), 1)  # rounded: many ties
        proba = np.column_stack([1 - p1, p1])
        expected = roc_auc_score((y == "b").astype(int), p1)
        assert abs(auc.score(y, proba, MetricContext(classes=["a", "b"])) - expected) < 1e-12
    classes = ["x", "y", "z", "w"]
    y = rng.choice(classes[:3], size=80)  # "w" never occurs
    proba = rng.dirichlet(np.ones(4), size=80)
    present = [0, 1, 2]
    expected = roc_auc_score(y, proba[:, present] / proba[:, present].sum(axis=1, keepdims=True),
                             multi_class="ovr", average="macro", labels=classes[:3])
    assert abs(auc.score(y, proba, MetricContext(classes=classes)) - expected) < 1e-12
    with pytest.raises(ValueError, match="Only one class"):
        auc.score(np.array(["a"] * 5), np.full((5, 2), 0.5), MetricContext(classes=["a", "b"]))


def test_log_loss_and_accuracy_equal_sklearn() -> None:
    import numpy as np
    from sklearn.metrics import accuracy_score, log_loss

    rng = np.random.default_rng(5)
    classes = ["x", "y", "z"]
    y = rng.choice(classes, size=50)
    proba = rng.dirichlet(np.ones(3), size=50)
    proba[0] = [1.0, 0.0, 0.0]  # a zero probability is clipped, not infinite
    clipped = np.clip(proba, 1e-15, 1.0)
    clipped /= clipped.sum(axis=1, keepdims=True)
    expected = log_loss(y, clipped, labels=classes)
    assert abs(get_metric("log_loss").score(y, proba, MetricContext(classes=classes)) - expected) < 1e-12
    labels = rng.choice(classes, size=50)
    assert get_metric("accuracy").score(y, labels) == accuracy_score(y, labels)
