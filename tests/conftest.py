"""Shared fixtures: the real `airlab` command, small real runs, and the real parts the suite needs.

``./scripts/test.sh`` installs every real part (bubblewrap, Chromium with Playwright, llama.cpp with
its model, Ray). A test that needs one fails, naming the part, when it is missing: a skip would
report a green suite that never ran those tests. The one skip allowed is a GPU check on a machine
without a GPU; any other skip is turned into a failure below.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

SET_UP = "run ./scripts/test.sh, which installs it"

AIRLAB = [sys.executable, "-c", "from airlab.cli import main; main()"]


def airlab(*args: str, timeout: float = 600, check: bool = True, cwd: Path | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `airlab` command (``env``: variables to set on top of this process's)."""
    done = subprocess.run([*AIRLAB, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=None if env is None else {**os.environ, **env})
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


# -- the real parts ------------------------------------------------------------------------------
@cache
def _bubblewrap_problem() -> str | None:
    from airlab.execution.sandbox import bubblewrap_works

    if shutil.which("bwrap") is None:
        return f"bubblewrap is not installed (no bwrap on PATH): {SET_UP}"
    if not bubblewrap_works():
        return ("bubblewrap is installed but cannot start a sandbox here (`bwrap --unshare-all` failed: "
                "are unprivileged user namespaces allowed?)")
    return None


def require_bubblewrap() -> None:
    """Fail (never skip) the calling test when bubblewrap is missing or cannot start a sandbox."""
    problem = _bubblewrap_problem()
    if problem:
        pytest.fail(problem, pytrace=False)


def require_module(module: str, part: str) -> Any:
    """Import ``module`` or fail the calling test naming the missing ``part``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(f"{part} is not installed ({exc}): {SET_UP}", pytrace=False)


@pytest.fixture(scope="session")
def bubblewrap() -> None:
    require_bubblewrap()


ALLOWED_SKIP = "GPU"  # a GPU check on a machine without a GPU


def _fail_a_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if ALLOWED_SKIP.lower() in reason.lower():
        return
    report.outcome = "failed"
    report.longrepr = f"a skip would hide a missing part (the suite allows none but a GPU check): {reason}; {SET_UP}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A skip (an importorskip, a skipif) hides a missing part behind a green run: fail it instead,
    naming what was skipped. Only a skip that names a GPU is kept."""
    outcome = yield
    _fail_a_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """The same for a whole module skipped while it is collected (a module-level importorskip)."""
    outcome = yield
    _fail_a_skip(outcome.get_result())


def kill_during_run(run_args: list[str], out: Path, finished: int = 1, timeout: float = 300) -> Path:
    """Start ``airlab run RUN_ARGS --out OUT``, SIGKILL its whole process group once ``finished``
    nodes are finished in its journal, and return the run directory (which then has no result)."""
    import os
    import signal
    import sqlite3
    import time

    proc = subprocess.Popen([*AIRLAB, "run", *run_args, "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline, done = time.time() + timeout, 0
    while time.time() < deadline and done < finished and proc.poll() is None:
        time.sleep(0.2)
        for db in out.glob("*/journal.sqlite"):
            try:
                with sqlite3.connect(db) as conn:
                    done = conn.execute("SELECT COUNT(*) FROM nodes WHERE status != 'pending'").fetchone()[0]
            except sqlite3.Error:
                pass
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    (run_dir,) = out.iterdir()
    assert not (run_dir / "result.json").exists(), "the run ended before it was killed"
    return run_dir

