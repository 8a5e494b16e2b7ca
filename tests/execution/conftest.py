"""Fixtures shared by the sandbox tests: a task workspace, a warm sandbox, one job runner."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from airlab.execution.candidate import make_job
from airlab.execution.sandbox import RunResult, Sandbox, SandboxJob
from airlab.execution.warm import WarmBubblewrapSandbox
from airlab.tasks import load_task
from airlab.tasks.spec import Limits
from airlab.tasks.splits import make_splits
from airlab.tasks.workspace import write_public_files


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A run folder holding the iris task's public files."""
    task = load_task("iris")
    write_public_files(task, make_splits(task, 0), tmp_path / "public")
    return tmp_path


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
    job = make_job(code, run_dir / "public", node,
                   Limits.model_validate({"time_seconds": 60, "memory_mb": 1024, **limits}))
    return sandbox.run(job), job
