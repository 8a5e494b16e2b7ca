"""Several local workers: the journal stays consistent, and kill -9 mid-run then ``--resume`` completes
the budget without losing or repeating a node."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

from airlab.search.node import Node, NodeStatus
from airlab.store.run_store import RunStore
from tests.conftest import AIRLAB, airlab, run_json, view_folders


def _check_consistent(run_dir: Path, budget: int) -> list[Node]:
    """Ids 0..n-1, nothing pending, one finish event per node, each node's files on disk."""
    store = RunStore(run_dir / "journal.sqlite", readonly=True)
    nodes = store.nodes()
    assert [n.id for n in nodes] == list(range(budget))
    assert not [n.id for n in nodes if n.status == NodeStatus.PENDING]
    finished = Counter(e["node_id"] for e in store.events() if e["kind"] == "node_finished")
    assert finished == Counter(range(budget)), finished  # each node finished exactly once
    hidden = store.hidden_scores()
    for node in nodes:
        folder = run_dir / "nodes" / f"{node.id:04d}"
        assert (folder / "solution.py").read_text() == node.code
        views = view_folders(run_dir, node.id)
        assert all((view / "stdout.txt").exists() and (view / "stderr.txt").exists() for view in views)
        assert not any((view / "workspace").exists() for view in [folder, *views])
        if node.status == NodeStatus.OK:
            assert all((view / "submission.csv").stat().st_size > 0 for view in views)
            assert node.id in hidden and node.search_score is not None
        else:
            assert node.id not in hidden
    return nodes


def test_two_workers_consistent_journal(tmp_path: Path) -> None:
    result = run_json("run", "iris", "--workers", "2", "--budget-nodes", "6", "--seed", "3",
                      "--out", str(tmp_path))
    assert result["n_nodes"] == 6 and result["n_valid"] >= 4
    nodes = _check_consistent(tmp_path / result["run_id"], 6)
    # the two workers really ran at once: some pair of execution intervals overlaps
    spans = [(n.finished_at - n.exec_seconds, n.finished_at) for n in nodes
             if n.finished_at is not None and n.exec_seconds is not None]
    assert any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans) for b in spans[i + 1:])


def test_kill_9_with_two_workers_then_resume(tmp_path: Path) -> None:
    budget = 7
    proc = subprocess.Popen([*AIRLAB, "run", "iris", "--workers", "2", "--budget-nodes", str(budget), "--seed", "5",
                             "--out", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    finished = pending = 0
    while time.time() < deadline and not (finished >= 1 and pending >= 2):  # kill with both workers busy
        time.sleep(0.1)
        dbs = list(tmp_path.glob("*/journal.sqlite"))
        if dbs:
            try:
                with sqlite3.connect(dbs[0]) as db:
                    rows = dict(db.execute("SELECT status = 'pending', COUNT(*) FROM nodes GROUP BY 1").fetchall())
            except sqlite3.Error:
                continue
            finished, pending = rows.get(0, 0), rows.get(1, 0)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert finished >= 1 and pending >= 2, "never saw two candidates running at once"
    (run_dir,) = tmp_path.iterdir()
    assert not (run_dir / "result.json").exists()
    before = {n.id: n for n in RunStore(run_dir / "journal.sqlite", readonly=True).nodes()}
    assert len([n for n in before.values() if n.status == NodeStatus.PENDING]) >= 2
    airlab("run", "--resume", str(run_dir))
    nodes = _check_consistent(run_dir, budget)
    for node in nodes:  # finished nodes were kept as they were; pending ones re-ran the same code
        if node.id in before:
            old = before[node.id]
            assert node.code == old.code
            if old.status != NodeStatus.PENDING:
                assert node == old
    assert (run_dir / "result.json").exists()
