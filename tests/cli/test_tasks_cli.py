"""``airlab tasks``: the real command's table of the built-in suite, tables and programs alike."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import airlab, run_json

from airlab.tasks.loader import heldout_task_ids, known_task_ids, load_task

WIDE = {"COLUMNS": "200"}  # a pipe is 80 columns wide to rich: long titles would wrap
# sizes of the classic data sets, known independently of airlab
KNOWN_ROWS = {"iris": 150, "wine": 178, "breast-cancer": 569, "diamonds": 53940,
              "heldout:carseats": 400, "heldout:hitters": 263, "heldout:computers": 6259}
PROGRAMS = {"prisoners-dilemma", "colonel-blotto", "bin-packing", "cartpole", "digits-speedrun"}


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The table's body rows by task id: id, kind, size, metric, title."""
    rows = {}
    for line in stdout.splitlines():
        if line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            rows[cells[0]] = cells
    return rows


def test_tasks_lists_every_built_in_task_with_its_kind_size_and_metric() -> None:
    done = airlab("tasks", env=WIDE)
    assert "airlab built-in tasks" in done.stdout
    assert "held-out suite" in done.stdout
    rows = table_rows(done.stdout)
    assert list(rows) == sorted(known_task_ids()) + heldout_task_ids() and len(rows) >= 30, done.stdout
    for task_id, (_, kind, size, metric, title) in rows.items():
        task = load_task(task_id)
        assert (kind, metric, title) == (task.kind, f"{task.objective.name} {task.objective.arrow}", task.title)
        assert size.split()[0].replace("/", "").isdigit(), size
    for task_id, n in KNOWN_ROWS.items():
        assert rows[task_id][2] == f"{n} rows", rows[task_id]
    assert {t for t, cells in rows.items() if cells[1] == "program"} == PROGRAMS
    assert rows["prisoners-dilemma"][2].endswith("instances")
    assert rows["diamonds"][3] == "rmse ↓" and rows["iris"][3] == "accuracy ↑"
    assert rows["bin-packing"][3].endswith("↓") and rows["cartpole"][3].endswith("↑")


def test_tasks_without_rows_does_not_load_data() -> None:
    rows = table_rows(airlab("tasks", "--no-rows", env=WIDE).stdout)
    assert list(rows) == sorted(known_task_ids()) + heldout_task_ids()
    assert {cells[2] for cells in rows.values()} == {"-"}


def test_the_held_out_suite_runs_by_id_through_the_real_command(tmp_path: Path) -> None:
    result = run_json("run", "heldout:pima", "--budget-nodes", "2", "--out", str(tmp_path))
    assert result["n_nodes"] == 2 and result["n_valid"] >= 1
    assert result["metric"] == "roc_auc" and 0.5 < result["test_score"] <= 1.0
    assert (tmp_path / result["run_id"] / "result.json").exists()
