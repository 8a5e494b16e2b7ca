"""Run candidates as Ray tasks, on a local Ray instance or on a cluster (``--executor ray``).

Each candidate is one Ray task that asks for the candidate's resources (CPUs, GPUs, memory). On a
cluster the driver's paths do not exist on the worker, so a task carries *contents*, not paths:
the code, and the public input files, which go to the object store once per run (``ray.put``,
cached by path, size and mtime). The worker builds a fresh workspace in a temporary folder and
runs the same sandbox as the local pool (:func:`airlab.execution.sandbox.make_sandbox`, where
``auto`` means what it means everywhere), so the sandbox rules hold on the worker; a worker process
keeps its sandbox (warm workers stay warm) from task to task. The task returns the
:class:`RunResult`, the logs and the artefacts the job names; the driver writes them where a local
run would have (``job.workdir``,
``job.log_dir``), so :func:`airlab.execution.candidate.judge` works unchanged.

Failures of the system (a worker process or its node dies) are retried ``max_retries`` times by
Ray; after that the future raises :class:`RayTaskFailed`, which the engine records as a FAILED
node with the reason. A node is never lost.

On a cluster every worker needs ``airlab`` installed (same version) and, for the default
sandbox, ``bwrap``.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from airlab.errors import AirlabError, optional_import_error
from airlab.execution.sandbox import RunResult, Sandbox, SandboxJob, make_sandbox
from airlab.tasks.spec import Limits

MAX_ARTEFACT_BYTES = 256 * 1024**2  # an artefact larger than this is not shipped back


class RayTaskFailed(AirlabError):
    """A candidate's Ray task failed for a system reason (lost worker or node, cancelled task)."""


class _Artefact(BaseModel):
    """What the candidate left at one artefact's path: "file" (bytes in `data`), "missing",
    "symlink" (target in `link`), "fifo", "dir", "other", or "too_big" (size in `size`)."""

    kind: str = "missing"
    data: bytes | None = None
    link: str | None = None
    size: int = 0


class _Shipped(BaseModel):
    """What a Ray task sends back to the driver."""

    result: RunResult
    stdout: bytes = b""
    stderr: bytes = b""
    artefacts: dict[str, _Artefact] = {}


@cache
def _worker_sandbox(kind: str) -> Sandbox:
    """One sandbox per Ray worker process (``make_sandbox`` probes bubblewrap once)."""
    return make_sandbox(kind)


def _describe_artefact(path: Path) -> _Artefact:
    shipped = _Artefact()
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return shipped
    if stat.S_ISLNK(info.st_mode):
        shipped.kind, shipped.link = "symlink", os.readlink(path)
    elif stat.S_ISFIFO(info.st_mode):
        shipped.kind = "fifo"
    elif stat.S_ISDIR(info.st_mode):
        shipped.kind = "dir"
    elif not stat.S_ISREG(info.st_mode):
        shipped.kind = "other"
    elif info.st_size > MAX_ARTEFACT_BYTES:
        shipped.kind, shipped.size = "too_big", info.st_size
    else:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as handle:
            shipped.kind, shipped.data = "file", handle.read(MAX_ARTEFACT_BYTES + 1)
    return shipped


def run_on_worker(spec: dict[str, Any], names: list[str], *contents: bytes) -> _Shipped:
    """The body of a Ray task: a fresh workspace from contents, the sandbox, the results back.

    ``contents`` are top-level arguments so that Ray resolves their ObjectRefs to bytes.
    """
    hook: Callable[[], None] | None = spec.get("before_run")
    if hook is not None:
        hook()
    sandbox = _worker_sandbox(spec["sandbox_kind"])
    limits = Limits.model_validate(spec["limits"])
    extra_env = dict(spec["extra_env"])
    # Ray sets CUDA_VISIBLE_DEVICES in a task that asked for GPUs; hand exactly those on.
    extra_env["CUDA_VISIBLE_DEVICES"] = os.environ.get("CUDA_VISIBLE_DEVICES", "") if limits.gpus > 0 else ""
    with tempfile.TemporaryDirectory(prefix="airlab-ray-") as tmp:
        root = Path(tmp)
        inputs = root / "inputs"
        inputs.mkdir()
        input_files: dict[str, Path] = {}
        for name, data in zip(names, contents, strict=True):
            path = inputs / name
            path.write_bytes(data)
            os.chmod(path, 0o444)
            input_files[name] = path
        job = SandboxJob(code=spec["code"], input_files=input_files, workdir=root / "workspace", limits=limits,
                         log_dir=root / "logs", extra_env=extra_env, script_name=spec["script_name"],
                         argv=spec["argv"], artefacts=tuple(spec["artefacts"]))
        try:
            result = sandbox.run(job)
        except BaseException:  # a cancelled task (KeyboardInterrupt in this thread) leaves no process behind
            sandbox.kill_all()
            raise
        shipped = _Shipped(result=result, artefacts={name: _describe_artefact(job.workdir / name)
                                                     for name in job.artefacts})
        for attr, log in (("stdout", "stdout.txt"), ("stderr", "stderr.txt")):
            with contextlib.suppress(FileNotFoundError):  # already cut to the output limit
                setattr(shipped, attr, (job.log_dir / log).read_bytes())
        return shipped


def _land(shipped: _Shipped, job: SandboxJob) -> RunResult:
    """Write what came back where a local run would have left it."""
    job.workdir.mkdir(parents=True, exist_ok=True)
    job.log_dir.mkdir(parents=True, exist_ok=True)
    (job.log_dir / "stdout.txt").write_bytes(shipped.stdout)
    (job.log_dir / "stderr.txt").write_bytes(shipped.stderr)
    for name, artefact in shipped.artefacts.items():
        _rebuild(artefact, job.workdir / name)
    return shipped.result


def _rebuild(artefact: _Artefact, target: Path) -> None:
    """Rebuild what the candidate left, so that the grader rejects it with its usual reason."""
    if artefact.kind == "file" and artefact.data is not None:
        target.write_bytes(artefact.data)
    elif artefact.kind == "symlink" and artefact.link is not None:
        os.symlink(artefact.link, target)
    elif artefact.kind == "fifo":
        os.mkfifo(target)
    elif artefact.kind in ("dir", "other"):
        target.mkdir()
    elif artefact.kind == "too_big":
        with open(target, "wb") as handle:  # sparse: the grader only needs its size
            handle.truncate(artefact.size)


def _short(exc: BaseException, max_lines: int = 4) -> str:
    lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
    return "\n".join(lines[:max_lines]) if lines else type(exc).__name__


class RayExecutor:
    """Candidates as Ray tasks. ``capacity`` (``--workers``) bounds how many the run keeps in flight.

    ``address``: a Ray cluster (``ray://host:10001`` or ``auto``); without it a local Ray instance
    is started with ``num_cpus`` CPUs (default: this machine's cores, at least ``workers``) and
    stopped again by :meth:`shutdown`. ``before_run`` is a test hook run inside each task first.
    """

    name = "ray"

    def __init__(self, workers: int = 1, sandbox_kind: str = "auto", address: str | None = None,
                 num_cpus: int | None = None, max_retries: int = 1,
                 before_run: Callable[[], None] | None = None):
        try:
            import ray
        except ImportError:
            raise optional_import_error("ray", "ray") from None
        self._ray = ray
        self.capacity = max(1, workers)
        self.sandbox_kind = sandbox_kind
        self.max_retries = max_retries
        self._before_run = before_run
        self._started = False
        if not ray.is_initialized():
            if address:
                ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
            else:
                ray.init(num_cpus=num_cpus or max(os.cpu_count() or 1, self.capacity), include_dashboard=False,
                         ignore_reinit_error=True, log_to_driver=False)
                self._started = True
        self._resources = dict(ray.cluster_resources())
        self._remote = ray.remote(run_on_worker)
        self._inputs: dict[tuple[str, int, int], Any] = {}  # (path, mtime_ns, size) -> ObjectRef
        self._in_flight: dict[Any, Future[RunResult]] = {}
        self._lock = threading.Lock()
        self.sandboxes_used: set[str] = set()  # RunResult.sandbox of the jobs the workers ran

    def _input_ref(self, path: Path) -> Any:
        info = path.stat()
        key = (str(path.resolve()), info.st_mtime_ns, info.st_size)
        with self._lock:
            ref = self._inputs.get(key)
            if ref is None:
                ref = self._inputs[key] = self._ray.put(path.read_bytes())
            return ref

    def _infeasible(self, limits: Limits) -> str | None:
        """A request no node of the cluster can meet would wait forever; say so instead."""
        asks = {"CPU": float(limits.cpus), "GPU": float(limits.gpus), "memory": float(limits.memory_mb * 1024**2)}
        for resource, amount in asks.items():
            have = self._resources.get(resource, 0.0)
            if amount > 0 and amount > have:
                return f"the candidate asks for {amount:g} {resource} but the Ray cluster has {have:g}"
        return None

    def submit(self, job: SandboxJob) -> Future[RunResult]:
        outer: Future[RunResult] = Future()
        outer.set_running_or_notify_cancel()
        problem = self._infeasible(job.limits)
        if problem is not None:
            outer.set_exception(RayTaskFailed(problem))
            return outer
        names = list(job.input_files)
        refs = [self._input_ref(Path(job.input_files[name])) for name in names]
        spec = {
            "code": job.code, "limits": job.limits.model_dump(mode="json"), "extra_env": dict(job.extra_env),
            "script_name": job.script_name, "argv": job.argv, "artefacts": list(job.artefacts),
            "sandbox_kind": self.sandbox_kind,
            "before_run": self._before_run,
        }
        ref = self._remote.options(
            num_cpus=job.limits.cpus, num_gpus=job.limits.gpus, memory=job.limits.memory_mb * 1024**2,
            max_retries=self.max_retries, retry_exceptions=False,
        ).remote(spec, names, *refs)
        with self._lock:
            self._in_flight[ref] = outer

        def done(inner: Future[Any]) -> None:
            with self._lock:
                self._in_flight.pop(ref, None)
            try:
                result = _land(inner.result(), job)
                self.sandboxes_used.add(result.sandbox)
                outer.set_result(result)
            except self._ray.exceptions.RayError as exc:
                outer.set_exception(RayTaskFailed(
                    f"the Ray task failed after {self.max_retries} retr{'y' if self.max_retries == 1 else 'ies'}: "
                    f"{type(exc).__name__}: {_short(exc)}"))
            except BaseException as exc:  # any failure must reach the engine
                outer.set_exception(exc)

        ref.future().add_done_callback(done)
        return outer

    def shutdown(self) -> None:
        """Cancel what still runs; stop the local Ray instance if this executor started it."""
        with self._lock:
            refs = list(self._in_flight)
        for ref in refs:
            with contextlib.suppress(Exception):
                self._ray.cancel(ref)
        self._inputs.clear()
        if self._started:
            self._ray.shutdown()
            self._started = False
