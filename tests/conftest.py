"""Shared fixtures: the real `airlab` command and small real runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

AIRLAB = [sys.executable, "-c", "from airlab.cli import main; main()"]


def airlab(*args: str, timeout: float = 600, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `airlab` command."""
    done = subprocess.run([*AIRLAB, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if check and done.returncode != 0:
        raise AssertionError(f"airlab {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def run_json(*args: str, timeout: float = 600) -> dict[str, Any]:
    done = airlab(*args, "--json", timeout=timeout)
    start = done.stdout.index("{\n")
    return json.loads(done.stdout[start:])


def view_folders(run_dir: Path, node_id: int) -> list[Path]:
    """Where each hidden view's run of a node keeps its logs and submission (one per fold)."""
    from airlab.rundir import view_dir
    from airlab.store.run_store import RunStore

    store = RunStore(run_dir / "journal.sqlite", readonly=True)
    n_views = int(store.meta().get("eval_folds", 1))
    store.close()
    return [view_dir(run_dir, node_id, k, n_views) for k in range(n_views)]


@pytest.fixture
def tmp_runs(tmp_path: Path) -> Path:
    out = tmp_path / "runs"
    out.mkdir()
    return out
