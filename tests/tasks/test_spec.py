from pathlib import Path

import pytest
import yaml

from airlab.errors import TaskSpecError, UnknownTaskError
from airlab.tasks import known_task_ids, load_task
from airlab.tasks.prediction.spec import PredictionSpec as TaskSpec
from tests.conftest import airlab

GOOD = {
    "id": "toy", "title": "Toy", "description": "a toy task", "kind": "binary", "target": "y",
    "metric": "roc_auc", "source": {"type": "file", "path": "data.csv"},
}


def write_task(folder: Path, spec: dict, rows: int = 60) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "task.yaml").write_text(yaml.safe_dump(spec))
    lines = ["x1,x2,y"] + [f"{i % 7},{(i * 3) % 11},{'a' if i % 3 else 'b'}" for i in range(rows)]
    (folder / "data.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_good_spec_loads(tmp_path: Path) -> None:
    task = load_task(str(write_task(tmp_path / "t", GOOD)))
    assert task.id == "toy" and task.classes == ["a", "b"] and task.n_rows == 60


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metric": "accuracyy"}, "metric"),
        ({"kind": "ternary"}, "kind"),
        ({"higher_is_better": False}, "higher_is_better"),
        ({"splits": {"search": 0.5, "val": 0.3, "test": 0.3}}, "splits"),
        ({"limits": {"time_seconds": -1}}, "limits.time_seconds"),
        ({"colour": "red"}, "colour"),
        ({"target": "nope"}, "target"),
    ],
)
def test_malformed_spec_names_the_field(tmp_path: Path, change: dict, field: str) -> None:
    folder = write_task(tmp_path / "t", {**GOOD, **change})
    with pytest.raises(TaskSpecError) as err:
        load_task(str(folder))
    assert field in str(err.value)


def test_missing_required_field_is_named() -> None:
    raw = {k: v for k, v in GOOD.items() if k != "target"}
    with pytest.raises(TaskSpecError, match="target"):
        TaskSpec.from_mapping(raw)


def test_metric_kind_mismatch() -> None:
    with pytest.raises(TaskSpecError, match="does not fit"):
        TaskSpec.from_mapping({**GOOD, "metric": "rmse"})


def test_unknown_task_lists_known_ids() -> None:
    with pytest.raises(UnknownTaskError) as err:
        load_task("no-such-task")
    for task_id in ("iris", "breast-cancer", "co2"):
        assert task_id in str(err.value)


def test_cli_malformed_task_exits_with_field_name(tmp_path: Path) -> None:
    folder = write_task(tmp_path / "bad", {**GOOD, "metric": "auc-roc"})
    done = airlab("run", str(folder), "--budget-nodes", "1", "--out", str(tmp_path / "runs"), check=False)
    assert done.returncode == 2
    assert "metric" in done.stderr and "Traceback" not in done.stderr


def test_cli_unknown_task(tmp_path: Path) -> None:
    done = airlab("run", "irsi", "--out", str(tmp_path), check=False)
    assert done.returncode == 2 and "iris" in done.stderr


def test_suite_is_large_enough() -> None:
    assert len(known_task_ids()) >= 12
