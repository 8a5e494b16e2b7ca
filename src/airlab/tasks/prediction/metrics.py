"""Metrics with their direction fixed here, never guessed.

A metric knows what a submission must hold for it:
- ``label``: one predicted class label per row (accuracy, macro-F1),
- ``proba``: one probability column per class (ROC-AUC, log-loss),
- ``value``: one number per row (regression and forecasting metrics).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata
from sklearn import metrics as skm

from airlab.errors import TaskSpecError
from airlab.tasks.objective import Objective

PredictionKind = Literal["label", "proba", "value"]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MetricContext:
    """What some metrics need beyond truth and prediction."""

    classes: list[str] = field(default_factory=list)
    y_train: FloatArray | None = None  # for MASE's in-sample scale
    seasonal_period: int = 1


ScoreFn = Callable[[npt.NDArray[np.object_] | FloatArray, npt.NDArray[np.object_] | FloatArray, MetricContext], float]


@dataclass(frozen=True)
class Metric(Objective):
    """A prediction metric: an :class:`Objective` that also knows how to score predictions."""

    prediction: PredictionKind
    fn: ScoreFn
    optimum: float
    description: str

    def score(
        self,
        y_true: npt.NDArray[np.object_] | FloatArray,
        prediction: npt.NDArray[np.object_] | FloatArray,
        context: MetricContext | None = None,
    ) -> float:
        return float(self.fn(y_true, prediction, context or MetricContext()))


def _accuracy(y: npt.NDArray, p: npt.NDArray, _: MetricContext) -> float:
    return float(np.mean(y.astype(str) == p.astype(str)))


def _macro_f1(y: npt.NDArray, p: npt.NDArray, ctx: MetricContext) -> float:
    labels = ctx.classes or sorted(set(y.astype(str)))
    return float(skm.f1_score(y.astype(str), p.astype(str), average="macro", labels=labels, zero_division=0))


def binary_auc(positive: npt.NDArray[np.bool_], score: FloatArray) -> float:
    """ROC-AUC as the Mann-Whitney statistic (ties count one half): the same number as
    sklearn's roc_auc_score, without its input validation, which dominated the time of the
    ensemble search (thousands of scores per run)."""
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("Only one class present in y_true. ROC AUC score is not defined in that case.")
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _roc_auc(y: npt.NDArray, proba: npt.NDArray, ctx: MetricContext) -> float:
    """Binary: AUC of the second class's probability. Multiclass: one-vs-rest, macro-averaged
    over the classes present, on probabilities renormalised over those classes."""
    classes = ctx.classes
    y = y.astype(str)
    proba = np.asarray(proba, dtype=float)
    if len(classes) == 2:
        return binary_auc(y == classes[1], proba[:, 1])
    present = [i for i, c in enumerate(classes) if (y == c).any()]
    if len(present) < 2:
        raise ValueError("Only one class present in y_true. ROC AUC score is not defined in that case.")
    renormalised = proba[:, present] / proba[:, present].sum(axis=1, keepdims=True)
    return float(np.mean([binary_auc(y == classes[i], renormalised[:, k]) for k, i in enumerate(present)]))


def _log_loss(y: npt.NDArray, proba: npt.NDArray, ctx: MetricContext) -> float:
    clipped = np.clip(np.asarray(proba, dtype=float), 1e-15, 1.0)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    if not ctx.classes:
        return float(skm.log_loss(y.astype(str), clipped))
    index = {c: i for i, c in enumerate(ctx.classes)}
    try:
        columns = np.array([index[v] for v in y.astype(str)], dtype=int)
    except KeyError as exc:
        raise ValueError(f"y_true contains a label not among the classes: {exc}") from None
    return float(-np.mean(np.log(clipped[np.arange(len(columns)), columns])))


def _rmse(y: npt.NDArray, p: npt.NDArray, _: MetricContext) -> float:
    return float(np.sqrt(np.mean((y.astype(float) - p.astype(float)) ** 2)))


def _mae(y: npt.NDArray, p: npt.NDArray, _: MetricContext) -> float:
    return float(np.mean(np.abs(y.astype(float) - p.astype(float))))


def _r2(y: npt.NDArray, p: npt.NDArray, _: MetricContext) -> float:
    return float(skm.r2_score(y.astype(float), p.astype(float)))


def _smape(y: npt.NDArray, p: npt.NDArray, _: MetricContext) -> float:
    y, p = y.astype(float), p.astype(float)
    denom = np.abs(y) + np.abs(p)
    ratio = np.where(denom == 0, 0.0, 2.0 * np.abs(y - p) / np.where(denom == 0, 1.0, denom))
    return float(100.0 * np.mean(ratio))


def _mase(y: npt.NDArray, p: npt.NDArray, ctx: MetricContext) -> float:
    if ctx.y_train is None or len(ctx.y_train) <= ctx.seasonal_period:
        raise ValueError("MASE needs the training series (longer than the seasonal period)")
    train = np.asarray(ctx.y_train, dtype=float)
    m = ctx.seasonal_period
    scale = float(np.mean(np.abs(train[m:] - train[:-m])))
    if scale == 0:
        scale = 1e-12
    return float(np.mean(np.abs(y.astype(float) - p.astype(float))) / scale)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("accuracy", True, "label", _accuracy, 1.0, "fraction of rows with the right class"),
        Metric("macro_f1", True, "label", _macro_f1, 1.0, "F1 averaged over classes, each class equal"),
        Metric("roc_auc", True, "proba", _roc_auc, 1.0, "area under the ROC curve (one-vs-rest macro for multi-class)"),
        Metric("log_loss", False, "proba", _log_loss, 0.0, "cross-entropy of the predicted class probabilities"),
        Metric("rmse", False, "value", _rmse, 0.0, "root mean squared error"),
        Metric("mae", False, "value", _mae, 0.0, "mean absolute error"),
        Metric("r2", True, "value", _r2, 1.0, "coefficient of determination"),
        Metric("smape", False, "value", _smape, 0.0, "symmetric mean absolute percentage error, in percent"),
        Metric("mase", False, "value", _mase, 0.0, "mean absolute scaled error (seasonal-naive in-sample scale)"),
    ]
}

CLASSIFICATION_METRICS = {"accuracy", "macro_f1", "roc_auc", "log_loss"}


def get_metric(name: str) -> Metric:
    key = name.strip().lower().replace("-", "_")
    if key not in METRICS:
        raise TaskSpecError(f"unknown metric '{name}'; known metrics: {', '.join(sorted(METRICS))}")
    return METRICS[key]
