"""End-to-end: the real `airlab run` on built-in tasks of different kinds and on a user task."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import airlab, run_json, view_folders
from tests.execution.probe_coder import PROBED_AIRLAB, REPO, probes
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


def test_run_in_bubblewrap_without_an_ensemble(bubblewrap: None, tmp_runs: Path) -> None:
    """``--sandbox bwrap --no-ensemble`` through the real command. On these settings the default run
    builds an ensemble of its nodes; here there is none, the answer is the selected node, and every
    candidate ran in a cold bubblewrap sandbox (its probe saw the sandbox's host name and none of the
    user's files)."""
    done = subprocess.run([*PROBED_AIRLAB, "run", "diabetes", "--coder", "probed", "--sandbox", "bwrap",
                           "--no-ensemble", "--budget-nodes", "3", "--eval-folds", "1", "--out", str(tmp_runs), "--json"],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    result = json.loads(done.stdout[done.stdout.index("{\n"):])
    assert result["sandbox"] == "bwrap" and result["n_nodes"] == 3 and result["n_valid"] >= 1
    assert result["final"] == "node" and result["ensemble"] is None
    assert result["test_score"] == result["node_test_score"] and result["val_score"] == result["node_val_score"]
    run_dir = tmp_runs / result["run_id"]
    saved = json.loads((run_dir / "result.json").read_text())
    assert (saved["sandbox"], saved["final"], saved["ensemble"]) == ("bwrap", "node", None)
    selected = run_dir / "nodes" / f"{result['selected_node']:04d}" / "solution.py"
    assert (run_dir / "best_solution.py").read_text() == selected.read_text()  # one node's script
    seen = [p for node_id in range(3) for view in view_folders(run_dir, node_id)
            for p in probes((view / "stderr.txt").read_text())]
    assert len(seen) == 3
    assert all(p == {"hostname": "sandbox", "sees_home": False} for p in seen), seen
