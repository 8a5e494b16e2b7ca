"""The Ray executor: a real run through the CLI on a local Ray instance, a lost worker recorded as a
FAILED node (not a hang), and the landing of what a worker sends back."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from airlab import api
from airlab.execution.pids import cgroup_parent
from airlab.execution.ray_executor import (
    MAX_ARTEFACT_BYTES,
    RayExecutor,
    RayTaskFailed,
    _describe_artefact,
    _land,
    _Shipped,
)
from airlab.execution.sandbox import RunResult, SandboxJob, resolve_sandbox_kind
from airlab.rundir import RunConfig
from airlab.search.node import NodeStatus
from airlab.store.run_store import RunStore
from airlab.tasks.spec import Limits
from tests.conftest import require_module, view_folders
from tests.execution.probe_coder import PROBED_AIRLAB, REPO, probes
from tests.execution.test_process_limit import CAP, PeakWatch, assert_storm_stopped, storm


@pytest.mark.ray
def test_ray_executor_end_to_end(ray_installed: None, bubblewrap: None, tmp_path: Path) -> None:
    """The real ``airlab run --executor ray``; each candidate's script starts with a probe of what it
    sees, so the test knows which sandbox really ran it on the Ray worker."""
    done = subprocess.run([*PROBED_AIRLAB, "run", "iris", "--coder", "probed", "--executor", "ray",
                           "--workers", "2", "--budget-nodes", "4", "--out", str(tmp_path), "--json"],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    result = json.loads(done.stdout[done.stdout.index("{\n"):])
    assert result["n_nodes"] == 4 and result["n_valid"] >= 3 and result["n_failed"] == 0
    # the sandbox that ran on the workers: `auto` means there what it means everywhere
    assert result["sandbox"] == resolve_sandbox_kind("auto") and result["test_score"] > 0.8
    run_dir = tmp_path / result["run_id"]
    nodes = RunStore(run_dir / "journal.sqlite", readonly=True).nodes()
    assert [n.id for n in nodes] == [0, 1, 2, 3]
    seen = []
    for node in nodes:  # what the workers sent back landed where a local run leaves it
        views = view_folders(run_dir, node.id)
        assert len(views) == 5  # iris is small: `auto` runs each node on five hidden folds
        assert all((view / "stdout.txt").exists() and (view / "stderr.txt").exists() for view in views)
        if node.status == NodeStatus.OK:
            assert all((view / "submission.csv").read_text().startswith("id,") for view in views)
        for view in views:
            seen += probes((view / "stderr.txt").read_text())
    # every fold run of every node ran in bubblewrap on its Ray worker: the sandbox's host name,
    # and none of the user's files
    assert len(seen) == 4 * 5, seen
    assert all(p == {"hostname": "sandbox", "sees_home": False} for p in seen), seen
    assert (run_dir / "best_solution.py").exists()


def _die() -> None:
    os._exit(1)  # the worker process disappears, as on a lost node


@pytest.fixture(scope="module")
def ray_installed() -> None:
    require_module("ray", "ray (the ray extra)")


@pytest.fixture(scope="module")
def local_ray(ray_installed: None) -> Iterator[None]:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.ray
def test_lost_worker_is_a_raised_error_and_a_failed_node(local_ray: None, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    executor = RayExecutor(workers=1, sandbox_kind="plain", before_run=_die, max_retries=1)
    data = tmp_path / "train.csv"
    data.write_text("a\n1\n")
    job = SandboxJob(code="print('hi')", input_files={"train.csv": data}, workdir=tmp_path / "ws",
                     limits=Limits.model_validate({"time_seconds": 30, "memory_mb": 256}), log_dir=tmp_path / "logs")
    with pytest.raises(RayTaskFailed, match="after 1 retry"):
        executor.submit(job).result(timeout=180)
    executor.shutdown()
    assert __import__("ray").is_initialized()  # not started by this executor, so not stopped by it

    made: list[RayExecutor] = []

    def make(config: RunConfig) -> RayExecutor:
        made.append(RayExecutor(workers=config.workers, sandbox_kind=config.sandbox, before_run=_die, max_retries=0))
        return made[-1]

    monkeypatch.setattr(api, "make_executor", make)
    result = api.run(RunConfig(task="iris", budget_nodes=2, workers=2, sandbox="plain"), out=tmp_path / "runs")
    assert made and result.n_nodes == 2 and result.n_failed == 2
    nodes = RunStore(tmp_path / "runs" / result.run_id / "journal.sqlite", readonly=True).nodes()
    for node in nodes:
        assert node.status == NodeStatus.FAILED
        assert node.error is not None and "Ray task failed" in node.error


@pytest.mark.ray
def test_fork_storm_on_a_ray_worker_hits_the_process_limit(local_ray: None, tmp_path: Path) -> None:
    executor = RayExecutor(workers=1, sandbox_kind="auto")
    limits = Limits.model_validate({"time_seconds": 60, "memory_mb": 1024, "processes": CAP})
    try:
        warm_up = SandboxJob(code="print('hi')", input_files={}, workdir=tmp_path / "ws0", limits=limits,
                             log_dir=tmp_path / "logs0")
        assert executor.submit(warm_up).result(timeout=300).ok  # the worker and its sandbox are up
        code, marker = storm(attempts=2000)
        job = SandboxJob(code=code, input_files={}, workdir=tmp_path / "ws", limits=limits, log_dir=tmp_path / "logs")
        before = len(psutil.pids())
        with PeakWatch(marker) as watch:
            result = executor.submit(job).result(timeout=300)
    finally:
        executor.shutdown()
    assert result.sandbox == resolve_sandbox_kind("auto")
    assert_storm_stopped(result, marker, before, watch.peak, kernel=cgroup_parent() is not None)
    assert executor.sandboxes_used == {result.sandbox}


def _job(tmp_path: Path) -> SandboxJob:
    return SandboxJob(code="", input_files={}, workdir=tmp_path / "ws", limits=Limits.model_validate({}),
                      log_dir=tmp_path / "node", artefacts=("submission.csv",))


def _roundtrip(tmp_path: Path, make: Any) -> Path:
    worker = tmp_path / "worker"
    worker.mkdir(parents=True)
    make(worker / "submission.csv")
    shipped = _Shipped(result=RunResult(exit_code=0, seconds=1.0, sandbox="bwrap"), stdout=b"out\n",
                       artefacts={"submission.csv": _describe_artefact(worker / "submission.csv")})
    assert _land(shipped, _job(tmp_path)).exit_code == 0
    assert (tmp_path / "node" / "stdout.txt").read_bytes() == b"out\n"
    return tmp_path / "ws" / "submission.csv"


def test_landing_keeps_what_the_grader_judges(tmp_path: Path) -> None:
    landed = _roundtrip(tmp_path / "file", lambda p: p.write_bytes(b"id,x\n1,2\n"))
    assert landed.read_bytes() == b"id,x\n1,2\n"
    landed = _roundtrip(tmp_path / "link", lambda p: os.symlink("/etc/passwd", p))
    assert landed.is_symlink() and os.readlink(landed) == "/etc/passwd"  # the grader rejects links
    landed = _roundtrip(tmp_path / "fifo", os.mkfifo)
    assert not landed.is_file() and landed.exists()
    assert not _roundtrip(tmp_path / "none", lambda p: None).exists()

    def huge(path: Path) -> None:
        with open(path, "wb") as handle:
            handle.truncate(MAX_ARTEFACT_BYTES + 1)

    shipped = _describe_artefact(_make(tmp_path / "big", huge))
    assert shipped.kind == "too_big" and shipped.data is None  # never read, never shipped
    landed = _roundtrip(tmp_path / "big2", huge)
    assert landed.stat().st_size == MAX_ARTEFACT_BYTES + 1 and landed.stat().st_blocks == 0


def _make(folder: Path, make: Any) -> Path:
    folder.mkdir(parents=True)
    make(folder / "submission.csv")
    return folder / "submission.csv"
