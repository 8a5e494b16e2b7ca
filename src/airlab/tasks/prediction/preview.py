"""A data preview of the agent-visible files: schema, types, target distribution, a few rows.

Computed only from ``train.csv`` and ``predict.csv`` features, so it holds nothing hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pandas as pd
from pydantic import BaseModel

from airlab.tasks.prediction.splits import HiddenSplits
from airlab.tasks.prediction.submission import ID

if TYPE_CHECKING:
    from airlab.tasks.prediction.task import PredictionTask as Task

ColumnKind = Literal["numeric", "categorical", "text", "datetime"]


class ColumnInfo(BaseModel):
    name: str
    dtype: str
    kind: ColumnKind
    n_missing: int
    n_unique: int
    example: str


class DataPreview(BaseModel):
    target: str
    kind: str
    metric: str
    higher_is_better: bool
    prediction: str  # label | proba | value
    classes: list[str]
    n_train: int
    n_predict: int
    columns: list[ColumnInfo]
    target_summary: dict[str, float]
    head_csv: str
    time_column: str | None = None
    group_column: str | None = None
    seasonal_period: int = 1
    # the files and id column the scripts read (a suite's table keeps its own names)
    predict_file: str = "predict.csv"  # the file of rows to predict
    id_column: str = ID
    train_has_id: bool = False  # train.csv carries the id column too (not a feature)

    def names(self, kind: ColumnKind) -> list[str]:
        return [c.name for c in self.columns if c.kind == kind]

    def render(self) -> str:
        lines = [
            f"train rows: {self.n_train}, rows to predict: {self.n_predict}",
            f"target: {self.target} ({self.kind}); metric: {self.metric} "
            f"({'higher' if self.higher_is_better else 'lower'} is better)",
            "columns:",
        ]
        for c in self.columns:
            lines.append(f"  - {c.name}: {c.kind} ({c.dtype}), {c.n_unique} unique, {c.n_missing} missing, e.g. {c.example}")
        lines.append("target distribution: " + ", ".join(f"{k}={v:.4g}" for k, v in self.target_summary.items()))
        lines.append("first rows of train.csv:\n" + self.head_csv)
        return "\n".join(lines)


def _column_kind(series: pd.Series, name: str, task: Task) -> ColumnKind:
    if name in task.spec.text_columns:
        return "text"
    if name == task.spec.time_column:
        return "datetime"
    return infer_kind(series)


def infer_kind(series: pd.Series) -> ColumnKind:
    """A column's kind from its values alone: numeric, categorical, or free text."""
    if pd.api.types.is_bool_dtype(series):
        return "categorical"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    sample = series.dropna().astype(str)
    if len(sample) and sample.str.len().mean() > 40 and sample.nunique() > 0.5 * len(sample):
        return "text"
    return "categorical"


def make_preview(task: Task, splits: HiddenSplits) -> DataPreview:
    spec = task.spec
    train = splits.train
    columns = []
    for name in train.columns:
        if name == spec.target:
            continue
        s = train[name]
        example = str(s.dropna().iloc[0]) if s.notna().any() else "NaN"
        columns.append(
            ColumnInfo(
                name=str(name), dtype=str(s.dtype), kind=_column_kind(s, str(name), task),
                n_missing=int(s.isna().sum()), n_unique=int(s.nunique()), example=example[:60],
            )
        )
    y = train[spec.target]
    if spec.kind.is_classification:
        summary = {str(k): float(v) for k, v in y.astype(str).value_counts(normalize=True).sort_index().items()}
    else:
        summary = {"mean": float(y.mean()), "std": float(y.std()), "min": float(y.min()), "max": float(y.max())}
    head = train.head(5).copy()
    for c in spec.text_columns:
        head[c] = head[c].astype(str).str.slice(0, 60)
    if len(head.columns) > 20:
        head = head[[*head.columns[:19], spec.target]]
    metric = spec.metric_info
    return DataPreview(
        target=spec.target, kind=spec.kind.value, metric=metric.name,
        higher_is_better=metric.higher_is_better, prediction=metric.prediction,
        classes=task.classes, n_train=len(train), n_predict=len(splits.predict),
        columns=columns, target_summary=summary, head_csv=head.to_csv(index=False),
        time_column=spec.time_column, group_column=spec.group_column,
        seasonal_period=spec.seasonal_period,
    )


def predict_columns(splits: HiddenSplits) -> list[str]:
    return [c for c in splits.predict.columns if c != ID]
