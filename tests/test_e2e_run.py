"""End-to-end: the real `airlab run` on built-in tasks of different kinds and on a user task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import airlab, run_json, view_folders
from tests.tasks.test_spec import GOOD, write_task

REQUIRED = {
    "task", "agent", "coder", "seed", "budget", "n_nodes", "n_buggy", "n_valid", "selected_node",
    "search_score", "val_score", "test_score", "oracle_test_score", "metric", "higher_is_better",
    "wall_seconds", "airlab_version",
}


@pytest.mark.parametrize(("task", "nodes"), [("breast-cancer", 4), ("diabetes", 3), ("co2", 3), ("digits", 2)])
def test_run_builtin_tasks(tmp_runs: Path, task: str, nodes: int) -> None:
    result = run_json("run", task, "--budget-nodes", str(nodes), "--out", str(tmp_runs))
    assert set(result) >= REQUIRED
    assert result["n_nodes"] == nodes and result["n_valid"] >= 1
    run_dir = tmp_runs / result["run_id"]
    assert (run_dir / "journal.sqlite").exists() and (run_dir / "best_solution.py").exists()
    on_disk = json.loads((run_dir / "result.json").read_text())
    assert on_disk["test_score"] == result["test_score"]
    for node_id in range(nodes):
        assert (run_dir / "nodes" / f"{node_id:04d}" / "solution.py").exists()
        assert all((view / "stdout.txt").exists() for view in view_folders(run_dir, node_id))
    assert result["val_score"] is not None and result["oracle_test_score"] is not None
    better = (lambda a, b: a >= b) if result["higher_is_better"] else (lambda a, b: a <= b)
    assert better(result["oracle_test_score"], result["node_test_score"])  # the oracle is the best single node
    final = result["ensemble"]["test_score"] if result["final"] == "ensemble" else result["node_test_score"]
    assert result["test_score"] == final
    # `--refit auto` refits all but the forecast, whose refit would train past its test times, and
    # digits, whose answer (scored on labels) is already the vote of its three fold runs
    assert (result["refit_test_score"] is None) == (task in ("co2", "digits"))


def test_run_user_task_folder_and_summary_table(tmp_path: Path) -> None:
    folder = write_task(tmp_path / "my-task", {**GOOD, "metric": "accuracy"}, rows=200)
    done = airlab("run", str(folder), "--budget-nodes", "3", "--seed", "3", "--out", str(tmp_path / "runs"))
    for words in ("nodes tried", "best search score", "selected node", "oracle best test score", "wall time"):
        assert words in done.stdout
    (run_dir,) = (tmp_path / "runs").iterdir()
    result = json.loads((run_dir / "result.json").read_text())
    assert result["task"] == "toy" and result["seed"] == 3 and result["n_nodes"] == 3


def test_best_solution_runs_standalone(tmp_runs: Path, tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    result = run_json("run", "iris", "--budget-nodes", "2", "--out", str(tmp_runs))
    run_dir = tmp_runs / result["run_id"]
    work = tmp_path / "rerun"
    shutil.copytree(run_dir / "public", work)
    shutil.copy(run_dir / "best_solution.py", work / "solution.py")
    subprocess.run([sys.executable, "solution.py"], cwd=work, check=True, capture_output=True, timeout=300)
    lines = (work / "submission.csv").read_text().splitlines()
    assert lines[0].startswith("id,") and len(lines) - 1 == len((work / "predict.csv").read_text().splitlines()) - 1
