"""Every built-in task loads offline and the suite covers the kinds the issues name."""

import pytest

from airlab.tasks import known_task_ids, load_task
from airlab.tasks.loader import task_card
from airlab.tasks.prediction.splits import make_splits
from airlab.tasks.prediction.task import PredictionTask, prediction_task
from airlab.tasks.program.task import ProgramTask

TABLES = [t for t in known_task_ids() if task_card(t)["kind"] != "program"]
PROGRAMS = [t for t in known_task_ids() if task_card(t)["kind"] == "program"]


@pytest.mark.parametrize("task_id", TABLES)
def test_builtin_table_loads_and_splits(task_id: str) -> None:
    task = prediction_task(task_id)
    splits = make_splits(task)
    assert len(splits.train) + len(splits.predict) == task.n_rows
    assert task.spec.target not in splits.predict.columns
    roles = set(splits.answers["role"])
    assert roles == {"search", "val", "test"}


@pytest.mark.parametrize("task_id", PROGRAMS)
def test_builtin_program_loads_with_disjoint_hidden_roles(task_id: str) -> None:
    task = load_task(task_id)
    assert isinstance(task, ProgramTask) and task.starter_code.strip()
    roles = [{repr(i) for i in getattr(task.spec.roles, r).instances} for r in ("search", "val", "test")]
    assert all(roles) and not (roles[0] & roles[1] or roles[0] & roles[2] or roles[1] & roles[2])
    assert task.references.baseline is not None


def test_suite_coverage() -> None:
    tables = [prediction_task(t) for t in TABLES]
    kinds = {t.spec.kind.value for t in tables}
    modalities = {t.spec.modality.value for t in tables}
    assert {"binary", "multiclass", "regression", "forecasting"} <= kinds
    assert {"tabular", "text", "image", "timeseries"} <= modalities
    sizes = [t.n_rows for t in tables]
    assert min(sizes) <= 160 and max(sizes) >= 20_000
    metrics = {t.spec.metric for t in tables}
    assert {"accuracy", "roc_auc", "log_loss", "macro_f1", "rmse", "mae", "r2"} <= metrics
    assert metrics & {"mase", "smape"}
    assert all(isinstance(t, PredictionTask) for t in tables)
    # programs: games, a combinatorial heuristic, a controller, a speedrun
    assert {"prisoners-dilemma", "colonel-blotto", "bin-packing", "cartpole", "digits-speedrun"} <= set(PROGRAMS)
