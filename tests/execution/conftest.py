"""Fixtures shared by the sandbox tests: a task workspace, a warm sandbox, one job runner."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from airlab.execution.sandbox import RunResult, Sandbox, SandboxJob
from airlab.execution.warm import WarmBubblewrapSandbox
from airlab.tasks import load_task
from airlab.tasks.prediction.task import PredictionView
from airlab.tasks.spec import Limits


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A run folder holding the iris task's public files."""
    load_task("iris").evaluation(tmp_path, 0)
    return tmp_path


def view_of(run_dir: Path) -> PredictionView:
    """The iris view whose public files ``run_dir`` holds."""
    task = load_task("iris")
    assert hasattr(task, "splits")
    return PredictionView(task=task, splits=task.splits(0), public_dir=run_dir / "public")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def warm(bubblewrap: None) -> Iterator[WarmBubblewrapSandbox]:
    """One warm sandbox per module: most checks then also run on a reused worker."""
    sandbox = WarmBubblewrapSandbox()
    yield sandbox
    sandbox.close()
    assert not sandbox.root.exists()


def run(sandbox: Sandbox, run_dir: Path, code: str, **limits: float) -> tuple[RunResult, SandboxJob]:
    """Run ``code`` as a node of ``run_dir`` (generous default limits, overridable)."""
    node = run_dir / "nodes" / uuid.uuid4().hex[:8]
    job = view_of(run_dir).job(code, node, Limits.model_validate({"time_seconds": 60, "memory_mb": 1024, **limits}))
    return sandbox.run(job), job
