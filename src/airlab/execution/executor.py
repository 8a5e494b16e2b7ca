"""Executors run sandbox jobs, possibly many at once.

The runner only needs :class:`Executor`: ``submit`` a job, get a future, ``shutdown`` at the end.
:class:`LocalExecutor` is a pool of worker threads, each driving one sandboxed process; a worker
owns a CPU-thread budget and, where GPUs exist, one GPU (``CUDA_VISIBLE_DEVICES``).
"""

from __future__ import annotations

import os
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from airlab.execution.sandbox import RunResult, Sandbox, SandboxJob, make_sandbox


class Executor(Protocol):
    name: str
    capacity: int  # how many jobs may run at once

    def submit(self, job: SandboxJob) -> Future[RunResult]: ...

    def shutdown(self) -> None: ...


def sandbox_label(executor: object, default: str) -> str:
    """Which sandbox ran an executor's jobs, as their results say: ``warm``, or ``bwrap+warm``
    when some fell back to another; ``default`` when no job ran and the executor has no sandbox
    of its own (Ray: the sandbox is chosen on each worker)."""
    used = sorted(getattr(executor, "sandboxes_used", ()) or ())
    if used:
        return "+".join(used)
    name: str = getattr(getattr(executor, "sandbox", None), "name", default)
    return name


def visible_gpus() -> list[str]:
    """GPU ids this process may hand out: CUDA_VISIBLE_DEVICES if set, else those nvidia-smi lists."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g for g in env.split(",") if g.strip() and g.strip() != "-1"]
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


class LocalExecutor:
    """N workers on this machine. Each job gets a worker slot: its GPUs and its share of CPUs."""

    name = "local"

    def __init__(self, workers: int = 1, sandbox: Sandbox | None = None, gpus: list[str] | None = None):
        self.capacity = max(1, workers)
        self.sandbox = sandbox or make_sandbox()
        self._pool = ThreadPoolExecutor(max_workers=self.capacity, thread_name_prefix="airlab-worker")
        self._slots: queue.Queue[int] = queue.Queue()
        for slot in range(self.capacity):
            self._slots.put(slot)
        self._gpus = visible_gpus() if gpus is None else gpus
        self._lock = threading.Lock()
        self.sandboxes_used: set[str] = set()  # RunResult.sandbox of the jobs run so far

    def _gpu_env(self, slot: int, wanted: int) -> dict[str, str]:
        if wanted <= 0 or not self._gpus:
            return {"CUDA_VISIBLE_DEVICES": ""}
        # round-robin: worker k gets `wanted` GPUs starting at k * wanted
        chosen = [self._gpus[(slot * wanted + i) % len(self._gpus)] for i in range(wanted)]
        return {"CUDA_VISIBLE_DEVICES": ",".join(chosen)}

    def _run(self, job: SandboxJob) -> RunResult:
        slot = self._slots.get()
        try:
            job.extra_env = {**self._gpu_env(slot, job.limits.gpus), **job.extra_env}
            job.extra_env.setdefault("AIRLAB_WORKER", str(slot))
            result = self.sandbox.run(job)
            self.sandboxes_used.add(result.sandbox)
            return result
        finally:
            self._slots.put(slot)

    def submit(self, job: SandboxJob) -> Future[RunResult]:
        return self._pool.submit(self._run, job)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.sandbox.kill_all()
        close = getattr(self.sandbox, "close", None)  # warm workers stop their zygotes
        if close is not None:
            close()
