"""``airlab tasks``: the real command's table of the built-in suite."""

from __future__ import annotations

from tests.conftest import airlab

from airlab.tasks.loader import builtin_spec, known_task_ids

WIDE = {"COLUMNS": "200"}  # a pipe is 80 columns wide to rich: long titles would wrap
# sizes of the classic data sets, known independently of airlab
KNOWN_ROWS = {"iris": 150, "wine": 178, "breast-cancer": 569, "diamonds": 53940}


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The table's body rows by task id: id, kind, modality, rows, metric, title."""
    rows = {}
    for line in stdout.splitlines():
        if line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            rows[cells[0]] = cells
    return rows


def test_tasks_lists_every_built_in_task_with_its_size_and_metric() -> None:
    done = airlab("tasks", env=WIDE)
    assert "airlab built-in tasks" in done.stdout
    rows = table_rows(done.stdout)
    assert list(rows) == sorted(known_task_ids()) and len(rows) >= 10, done.stdout
    for task_id, (_, kind, modality, n, metric, title) in rows.items():
        spec = builtin_spec(task_id)
        arrow = "↑" if spec.metric_info.higher_is_better else "↓"
        assert (kind, modality, metric, title) == (spec.kind.value, spec.modality.value, f"{spec.metric} {arrow}",
                                                  spec.title)
        assert int(n) > 0
    for task_id, n in KNOWN_ROWS.items():
        assert int(rows[task_id][3]) == n, rows[task_id]
    assert rows["diamonds"][4] == "rmse ↓" and rows["iris"][4] == "accuracy ↑"


def test_tasks_without_rows_does_not_count_them() -> None:
    rows = table_rows(airlab("tasks", "--no-rows", env=WIDE).stdout)
    assert list(rows) == sorted(known_task_ids())
    assert {cells[3] for cells in rows.values()} == {"-"}
