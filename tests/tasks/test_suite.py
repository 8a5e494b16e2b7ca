"""Every built-in task loads offline and the suite covers the kinds the issue names."""

import pytest

from airlab.tasks import known_task_ids, load_task
from airlab.tasks.prediction.splits import make_splits


@pytest.mark.parametrize("task_id", known_task_ids())
def test_builtin_task_loads_and_splits(task_id: str) -> None:
    task = load_task(task_id)
    splits = make_splits(task)
    assert len(splits.train) + len(splits.predict) == task.n_rows
    assert task.spec.target not in splits.predict.columns
    roles = set(splits.answers["role"])
    assert roles == {"search", "val", "test"}


def test_suite_coverage() -> None:
    specs = [load_task(t) for t in known_task_ids()]
    kinds = {t.spec.kind.value for t in specs}
    modalities = {t.spec.modality.value for t in specs}
    assert {"binary", "multiclass", "regression", "forecasting"} <= kinds
    assert {"tabular", "text", "image", "timeseries"} <= modalities
    sizes = [t.n_rows for t in specs]
    assert min(sizes) <= 160 and max(sizes) >= 20_000
    metrics = {t.spec.metric for t in specs}
    assert {"accuracy", "roc_auc", "log_loss", "macro_f1", "rmse", "mae", "r2"} <= metrics
    assert metrics & {"mase", "smape"}
