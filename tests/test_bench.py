"""`airlab bench` end to end: a small grid, resumable, a tidy results table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.conftest import airlab

AGENTS = """
agents:
  - name: greedy-3drafts
    policy: greedy
    params: {num_drafts: 2}
  - name: greedy-debug
    policy: greedy
    params: {num_drafts: 1, debug_prob: 1.0}
"""


def test_bench_grid_is_resumable(tmp_path: Path) -> None:
    agents = tmp_path / "agents.yaml"
    agents.write_text(AGENTS)
    out = tmp_path / "bench"
    args = ["bench", "--agents", str(agents), "--tasks", "iris,diabetes", "--seeds", "1",
            "--budget-nodes", "2", "--out", str(out), "--method", "borda,copeland"]
    first = airlab(*args)
    table = pd.read_csv(out / "results.csv")
    assert len(table) == 4
    assert {"agent", "task", "seed", "metric", "higher_is_better", "search_score", "val_score", "test_score",
            "valid", "nodes", "tokens", "cost", "seconds"} <= set(table.columns)
    assert set(table["agent"]) == {"greedy-3drafts", "greedy-debug"}
    assert (out / "results.sqlite").exists()
    assert "borda" in first.stdout
    # a second call skips finished runs: no new rows, same run ids
    airlab(*args)
    again = pd.read_csv(out / "results.csv")
    assert len(again) == 4 and set(again["run_id"]) == set(table["run_id"])


def test_bench_bad_agents_file(tmp_path: Path) -> None:
    agents = tmp_path / "agents.yaml"
    agents.write_text("agents:\n  - policy: greedy\n")
    done = airlab("bench", "--agents", str(agents), "--tasks", "iris", "--out", str(tmp_path / "b"), check=False)
    assert done.returncode == 2 and "name" in done.stderr
