"""Warm workers: candidates forked from a pre-started, pre-imported Python inside bubblewrap.

A small candidate spends most of its turnaround starting Python and importing pandas and
scikit-learn. :class:`WarmBubblewrapSandbox` keeps, per concurrent job, one long-lived "zygote":
a Python process started inside a bubblewrap sandbox built exactly like a node's (same
namespaces, read-only system, masked package datasets, clean environment, no network, no
capabilities) that has already imported the common libraries and waits for commands. Each job
is a ``fork()`` of the zygote, so it starts with the libraries loaded, in a fresh process whose
module state is the zygote's pristine state (the zygote itself never runs candidate code).

Isolation, job by job:

- **Filesystem.** The zygote's only writable places are its ``/workspace`` (a per-worker host
  folder) and its private ``/tmp`` and ``/dev/shm``. Before a job the harness empties the
  workspace; after it, the zygote kills every leftover process and empties ``/tmp`` and
  ``/dev/shm``, and the harness moves what the job wrote into ``job.workdir`` (so the node's
  folder looks as after a cold run). A job never sees a previous job's files.
- **Inputs are truly read-only.** A file in a writable bind mount cannot be made read-only from
  inside without privileges (``chmod 0444`` could be undone by its owner, the candidate), so
  the inputs live in a second per-worker folder bound read-only at ``/inputs``;
  ``/workspace/train.csv`` is a symlink to ``/inputs/train.csv``. Writing through it fails with
  "read-only file system"; a candidate may replace the link, which changes only its own view.
- **Environment.** The zygote is started with :func:`clean_env`; each job replaces
  ``os.environ`` with the job's clean environment (thread counts, ``CUDA_VISIBLE_DEVICES``,
  ...). Libraries read thread variables when imported, and the GPU device nodes are bound when
  the sandbox is built (:mod:`airlab.execution.devices`), so a zygote serves only jobs with the
  CPU count and GPUs it was started for (otherwise it is restarted).
- **Workspace contents.** Like a cold run, which binds ``job.workdir`` as the workspace, a job
  finds what ``job.workdir`` already holds (the ReAct tools run several steps in one workspace):
  it is moved into the worker's workspace before the job and back after it.
- **Processes and limits.** All job processes live in the zygote's PID namespace, so none can
  escape it: the harness samples the resident memory and task count of every process of that
  sandbox except the infrastructure (bwrap, its init, the zygote) and kills them all at any
  limit. The whole sandbox lives in one pids cgroup where one can be made
  (:mod:`airlab.execution.pids`); before each job its cap is set to the infrastructure's tasks
  plus the job's ``processes`` limit, so the kernel refuses a job's fork beyond its cap. The child
  gets the same resource limits as a cold node (address-space backstop, no core files, file
  size). Output goes straight to the node's ``stdout.txt``/``stderr.txt``: the harness opens
  them and passes the descriptors over the control socket (``SCM_RIGHTS``).
- **The zygote.** It is made non-dumpable, so a candidate (same user inside the sandbox) cannot
  ptrace it or read its memory; if a candidate kills it anyway, the job fails and the zygote is
  restarted for the next job. When the harness goes away, the zygote sees its control socket
  close and exits, which kills its whole PID namespace.

Memory accounting: a forked job's resident memory includes the libraries it shares with the
zygote (copy-on-write pages), so a job that imports nothing is charged roughly what a cold run
that imports pandas and scikit-learn would be.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
import weakref
from pathlib import Path
from typing import Any

import psutil

from airlab.execution.devices import gpu_device_binds, sandbox_visible_devices
from airlab.execution.pids import PidsCgroup, join
from airlab.execution.sandbox import (
    _MARKER,
    WORKSPACE,
    BubblewrapSandbox,
    LimitWatch,
    RunResult,
    SandboxJob,
    _keep_tail,
    _mask_args,
    _python_prefixes,
    _system_binds,
    _tail,
    bubblewrap_works,
    clean_env,
    kill_and_wait,
    summarise,
)
from airlab.tasks.spec import Limits

INPUTS = "/inputs"
PRELOAD: tuple[str, ...] = (
    "numpy", "pandas", "scipy", "scipy.sparse", "scipy.stats", "sklearn", "sklearn.base",
    "sklearn.linear_model", "sklearn.ensemble", "sklearn.preprocessing", "sklearn.model_selection",
    "sklearn.pipeline", "sklearn.compose", "sklearn.impute", "sklearn.metrics", "sklearn.tree",
    "sklearn.neighbors", "sklearn.svm", "lightgbm",
)

# The zygote runs inside the sandbox, where the airlab package is invisible: it is passed to
# ``python -c`` as source and uses the standard library only.
_ZYGOTE = r'''
import atexit, ctypes, gc, json, os, runpy, select, shutil, signal, socket, stat, sys, time
import traceback

PR_SET_DUMPABLE = 4
sock = socket.socket(fileno=0)  # the control socket (SOCK_SEQPACKET) is the zygote's stdin
libc = ctypes.CDLL(None, use_errno=True)
for _name in json.loads(sys.argv[1]):
    try:
        __import__(_name)
    except Exception:
        pass
libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # no ptrace or /proc/<pid>/mem access by candidates
gc.collect()
gc.freeze()  # keep the preloaded objects out of the children's collections (fewer page copies)


def send(obj):
    sock.send(json.dumps(obj).encode())


def infrastructure():
    """This process and its ancestors inside the namespace (bwrap's init)."""
    keep, pid = set(), os.getpid()
    while pid > 0 and pid not in keep:
        keep.add(pid)
        try:
            with open(f"/proc/{pid}/status") as handle:
                pid = next(int(ln.split()[1]) for ln in handle if ln.startswith("PPid:"))
        except (OSError, StopIteration, ValueError):
            break
    return keep


INFRA = infrastructure()


def leftovers():
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in INFRA]


def kill_leftovers(deadline=5.0):
    end = time.monotonic() + deadline
    while True:
        pids = leftovers()
        if not pids or time.monotonic() > end:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.005)


def _force(func, path, _exc):
    try:
        os.chmod(os.path.dirname(path) or ".", 0o700)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
        func(path)
    except OSError:
        pass


def empty(folder):
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, onerror=_force)
        else:
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def child(job, fds):
    code = 1
    try:
        os.setsid()
        devnull = os.open("/dev/null", os.O_RDONLY)
        os.dup2(devnull, 0)  # replaces the control socket
        os.close(devnull)
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        for fd in fds:
            os.close(fd)
        libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        import resource
        for name, value in job["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (value, value))
        os.chdir(job["cwd"])
        os.environ.clear()
        os.environ.update(job["env"])
        path = os.path.join(job["cwd"], job["script"])
        sys.argv = [path, *job["args"]]
        sys.path[0] = job["cwd"]
        np = sys.modules.get("numpy")
        if np is not None:
            np.random.seed()  # a fresh process seeds the legacy global generator from entropy
        try:
            runpy.run_path(path, run_name="__main__")
            code = 0
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code & 0xFF
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except BaseException as exc:
            tb = exc.__traceback__
            while tb is not None and tb.tb_frame.f_code.co_filename != path:
                tb = tb.tb_next  # hide the runpy and zygote frames, as `python script.py` would
            traceback.print_exception(type(exc), exc, tb)
            code = 1
        try:
            import threading
            threading._shutdown()
        except BaseException:
            pass
        atexit._run_exitfuncs()
    except BaseException:
        try:
            traceback.print_exc()
        except BaseException:
            pass
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        os._exit(code)


def wait(pid):
    """Wait for the job; if the harness goes away meanwhile, take the whole sandbox down."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    while True:
        ready, _, _ = select.select([sock] + ([pidfd] if pidfd is not None else []), [], [],
                                    None if pidfd is not None else 0.02)
        if sock in ready:
            kill_leftovers()
            os._exit(0)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            if pidfd is not None:
                os.close(pidfd)
            return os.waitstatus_to_exitcode(status)


send({"ready": os.getpid()})
while True:
    try:
        msg, fds, _flags, _addr = socket.recv_fds(sock, 1 << 20, 4)
    except OSError:
        os._exit(0)
    if not msg:
        os._exit(0)
    job = json.loads(msg)
    try:
        pid = os.fork()
    except OSError as exc:
        for fd in fds:
            os.close(fd)
        send({"error": f"fork failed: {exc}"})
        continue
    if pid == 0:
        child(job, fds)
    for fd in fds:
        os.close(fd)
    send({"started": pid})
    exit_code = wait(pid)
    kill_leftovers()
    empty("/tmp")
    empty("/dev/shm")
    send({"exit": exit_code})
'''


def _rlimits(limits: Limits) -> dict[str, int]:
    """The same limits a cold node gets (see ``sandbox._limit_resources``)."""
    mem = limits.memory_mb * 1024 * 1024
    backstop = mem * 2 + 4 * 1024**3
    return {"RLIMIT_AS": backstop, "RLIMIT_CORE": 0, "RLIMIT_FSIZE": 4 * 1024**3}


def _nspid(pid: int) -> int | None:
    """The pid of a host process in its innermost PID namespace."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        pass
    return None


def _force_remove(func: Any, path: str, _exc: Any) -> None:
    """rmtree helper: a candidate may have removed the owner's permissions on its folders."""
    with contextlib.suppress(OSError):
        os.chmod(os.path.dirname(path) or ".", 0o700)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
        func(path)


def _empty(folder: Path) -> None:
    """Remove the contents of ``folder`` but keep the folder: it is a bind-mount source."""
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, onerror=_force_remove)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, onerror=_force_remove)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _move(path: Path, dest: Path) -> None:
    """Move ``path`` to ``dest``, replacing what is there."""
    _remove(dest)
    try:
        os.rename(path, dest)
    except OSError:
        shutil.move(str(path), str(dest))


class WorkerDied(RuntimeError):
    """The zygote went away (killed by a candidate, the OOM killer, or kill_all)."""


class _Zygote:
    """One pre-started Python in its own bubblewrap sandbox, running one job at a time."""

    def __init__(self, folder: Path, cpus: int, bwrap: str, preload: tuple[str, ...],
                 start_timeout: float, poll_seconds: float, gpus: str = ""):
        self.folder = folder
        self.workspace = folder / "workspace"
        self.inputs = folder / "inputs"
        self.cpus = cpus
        self.gpus = gpus  # the CUDA_VISIBLE_DEVICES its device nodes were bound for
        self.cgroup: PidsCgroup | None = None
        self.bwrap = bwrap
        self.preload = preload
        self.start_timeout = start_timeout
        self.poll_seconds = poll_seconds
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.infra: set[int] = set()
        self.outer: psutil.Process | None = None
        self.zygote: psutil.Process | None = None  # the Python process inside, as the host sees it
        self.lock = threading.Lock()  # one job (or start) at a time
        self._stopping = threading.Lock()
        self.starts = 0

    # -- life cycle -------------------------------------------------------------------------
    def command(self) -> list[str]:
        args = [
            self.bwrap, "--unshare-all", "--new-session", "--cap-drop", "ALL",
            "--hostname", "sandbox", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        ]
        args += gpu_device_binds(self.gpus)
        args += _system_binds()
        for prefix in _python_prefixes():
            args += ["--ro-bind", prefix, prefix]
        args += _mask_args()
        args += ["--bind", str(self.workspace.resolve()), WORKSPACE]
        args += ["--ro-bind", str(self.inputs.resolve()), INPUTS]
        args += ["--remount-ro", "/", "--chdir", WORKSPACE, "--clearenv"]
        for key, value in clean_env(Limits.model_validate({"cpus": self.cpus})).items():
            args += ["--setenv", key, value]
        return [*args, "--", sys.executable, "-c", _ZYGOTE, json.dumps(list(self.preload))]

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and self.sock is not None

    def ensure_started(self) -> None:
        if not self.alive():
            self.stop()
            self.start()

    def start(self) -> None:
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.inputs.mkdir(parents=True, exist_ok=True)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.cgroup = PidsCgroup.create(None)  # capped per job, once the zygote's tasks are known
        procs_file = self.cgroup.procs_file if self.cgroup is not None else None
        with open(self.folder / "zygote.log", "ab") as log:
            self.proc = subprocess.Popen(
                self.command(), stdin=theirs.fileno(), stdout=subprocess.DEVNULL, stderr=log,
                env={"PATH": "/usr/bin:/bin"}, start_new_session=True,
                preexec_fn=None if procs_file is None else lambda: join(procs_file),
            )
        theirs.close()
        self.sock = ours
        self.starts += 1
        try:
            reply = self.receive(self.start_timeout)
        except (WorkerDied, TimeoutError) as exc:
            log_tail = _tail(self.folder / "zygote.log", 2000)
            self.stop()
            raise WorkerDied(f"the warm worker did not start: {exc}\n{log_tail}") from exc
        if "ready" not in reply:
            self.stop()
            raise WorkerDied(f"unexpected first message from the warm worker: {reply}")
        proc = self.proc
        if proc is None:
            raise WorkerDied("the warm worker was stopped while it started")
        # Before any job runs, every process of this sandbox is infrastructure.
        self.outer = psutil.Process(proc.pid)
        inside = self.outer.children(recursive=True)
        self.infra = {self.outer.pid} | {p.pid for p in inside}
        self.zygote = next((p for p in inside if _nspid(p.pid) == reply["ready"]), None)
        if self.zygote is None:
            self.stop()
            raise WorkerDied("could not find the warm worker's process")

    def stop(self) -> None:
        """Take the whole sandbox down (bwrap, the zygote and anything running in it). Safe to
        call from two threads at once (a close while a prestart is still starting the zygote)."""
        with self._stopping:
            sock, self.sock = self.sock, None
            proc, self.proc = self.proc, None
            cgroup, self.cgroup = self.cgroup, None
            self.outer = self.zygote = None
            self.infra = set()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
        if proc is not None:
            with contextlib.suppress(psutil.Error):
                outer = psutil.Process(proc.pid)
                kill_and_wait([outer, *outer.children(recursive=True)], timeout=3)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=3)
        if cgroup is not None:
            cgroup.remove()

    # -- control channel --------------------------------------------------------------------
    def receive(self, timeout: float | None) -> dict[str, Any]:
        sock = self.sock  # stop() from another thread (close during a prestart) clears it
        if sock is None:
            raise WorkerDied("the warm worker was stopped")
        try:
            ready, _, _ = select.select([sock], [], [], timeout)
            if not ready:
                raise TimeoutError(f"no answer from the warm worker within {timeout} s")
            data = sock.recv(1 << 16)
        except (OSError, ValueError) as exc:
            raise WorkerDied(str(exc)) from exc
        if not data:
            raise WorkerDied("the warm worker exited")
        reply: dict[str, Any] = json.loads(data)
        return reply

    def job_processes(self) -> list[psutil.Process]:
        """Every process of this sandbox but bwrap, its init and the zygote: the job's tree,
        including grandchildren that double-forked away (they cannot leave the PID namespace)."""
        if self.outer is None:
            return []
        try:
            return [p for p in self.outer.children(recursive=True) if p.pid not in self.infra]
        except psutil.Error:
            return []

    def kill_job(self) -> None:
        kill_and_wait(self.job_processes(), timeout=2)

    # -- one job ----------------------------------------------------------------------------
    def prepare(self, job: SandboxJob) -> None:
        _empty(self.workspace)
        _empty(self.inputs)
        if job.workdir.is_dir():  # what a cold run would find in its workspace
            for entry in list(os.scandir(job.workdir)):
                _move(Path(entry.path), self.workspace / entry.name)
        for name, src in job.input_files.items():
            dest = self.inputs / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dest)  # read-only inside anyway: the folder is a read-only bind
            except OSError:
                shutil.copyfile(src, dest)
                os.chmod(dest, 0o444)
            link = self.workspace / name
            link.parent.mkdir(parents=True, exist_ok=True)
            _remove(link)  # an input hides a file of the same name, as the cold run's bind does
            os.symlink(f"{INPUTS}/{name}", link)
        (self.workspace / job.script_name).write_text(job.code)

    def collect(self, job: SandboxJob) -> None:
        """Move what the job left in the worker's workspace to ``job.workdir``."""
        job.workdir.mkdir(parents=True, exist_ok=True)
        for entry in list(os.scandir(self.workspace)):
            path = Path(entry.path)
            if entry.is_symlink() and os.readlink(path) == f"{INPUTS}/{entry.name}":
                path.unlink()
                continue
            _move(path, job.workdir / entry.name)
        _empty(self.workspace)
        _empty(self.inputs)

    def run(self, job: SandboxJob, args: list[str]) -> RunResult:
        self.ensure_started()
        assert self.sock is not None
        self.prepare(job)
        job.log_dir.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        env = clean_env(job.limits, job.extra_env)
        env["CUDA_VISIBLE_DEVICES"] = sandbox_visible_devices(env["CUDA_VISIBLE_DEVICES"])
        env[_MARKER] = token
        if self.cgroup is not None:  # the infrastructure's tasks plus the job's cap
            self.cgroup.set_max(self.cgroup.current() + job.limits.processes)
        command = {
            "env": env, "cwd": WORKSPACE, "script": job.script_name, "args": args,
            "rlimits": _rlimits(job.limits),
        }
        out_path, err_path = job.log_dir / "stdout.txt", job.log_dir / "stderr.txt"
        limit_hit: str | None = None
        exit_code: int | None = None
        died = False
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            watch = LimitWatch(job.limits, out, err, self.poll_seconds, self.cgroup)
            try:
                socket.send_fds(self.sock, [json.dumps(command).encode()], [out.fileno(), err.fileno()])
                reply = self.receive(30)
                if "error" in reply:
                    raise WorkerDied(str(reply["error"]))
                while True:
                    ready, _, _ = select.select([self.sock], [], [], self.poll_seconds)
                    if ready:
                        exit_code = int(self.receive(0)["exit"])
                        break
                    if self.zygote is None or not self.zygote.is_running():
                        # bwrap's own processes hold the socket's other end: no EOF to wait for
                        raise WorkerDied("the warm worker exited")
                    limit_hit = watch.check(self.job_processes)
                    if limit_hit is not None:
                        break
                if limit_hit is not None:
                    self.kill_job()
                    exit_code = int(self.receive(10)["exit"])
            except (WorkerDied, TimeoutError, OSError, KeyError, ValueError) as exc:
                died = True
                err.write(f"\n[airlab] the warm worker failed during the run: {exc}\n".encode())
            self.kill_job()  # the zygote did this already; never trust one side alone
            limit_hit = watch.after_exit(exit_code, limit_hit)
            if died:
                self.stop()
        seconds = watch.seconds
        self.collect(job)
        for path in (out_path, err_path):
            _keep_tail(path, int(watch.max_output))
        if died and exit_code is None:
            exit_code = -int(signal.SIGKILL)
        return summarise(exit_code, limit_hit, seconds, watch.peak_mb, out_path, err_path, WarmBubblewrapSandbox.name,
                         sigkill_means_memory=not died)


def _shutdown(zygotes: list[_Zygote], root: Path, owned: bool) -> None:
    for zygote in list(zygotes):
        zygote.stop()
    if owned:
        shutil.rmtree(root, ignore_errors=True)


class WarmBubblewrapSandbox:
    """The :class:`~airlab.execution.sandbox.Sandbox` contract, with candidates forked from warm
    zygotes. One zygote per concurrent job: the pool grows lazily up to the number of threads
    calling :meth:`run` at once (the executor's workers)."""

    name = "warm"
    poll_seconds = 0.05

    def __init__(self, bwrap: str = "bwrap", root: Path | None = None,
                 preload: tuple[str, ...] = PRELOAD, prestart: bool = False,
                 start_timeout: float = 180.0):
        self.bwrap = bwrap
        self.preload = preload
        self.start_timeout = start_timeout
        self._owned = root is None
        self.root = Path(tempfile.mkdtemp(prefix="airlab-warm-")) if root is None else Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._zygotes: list[_Zygote] = []
        self._idle: list[_Zygote] = []
        self._finalizer = weakref.finalize(self, _shutdown, self._zygotes, self.root, self._owned)
        if prestart:  # the first job then finds its worker (nearly) ready
            zygote = self._new(Limits.model_validate({}).cpus)
            self._idle.append(zygote)
            threading.Thread(target=self._prestart, args=(zygote,), daemon=True).start()

    @staticmethod
    def _prestart(zygote: _Zygote) -> None:
        with zygote.lock, contextlib.suppress(WorkerDied):
            zygote.ensure_started()

    def _new(self, cpus: int, gpus: str = "") -> _Zygote:
        zygote = _Zygote(self.root / f"worker-{len(self._zygotes)}", cpus, self.bwrap, self.preload,
                         self.start_timeout, self.poll_seconds, gpus)
        self._zygotes.append(zygote)
        return zygote

    def _acquire(self, cpus: int, gpus: str = "") -> _Zygote:
        with self._lock:
            for zygote in self._idle:
                if zygote.cpus == cpus and zygote.gpus == gpus:
                    self._idle.remove(zygote)
                    return zygote
            if self._idle:  # an idle worker started for another CPU count or GPUs: restart it
                zygote = self._idle.pop()
                zygote.cpus, zygote.gpus = cpus, gpus
                with zygote.lock:
                    zygote.stop()
                return zygote
            return self._new(cpus, gpus)

    def _release(self, zygote: _Zygote) -> None:
        with self._lock:
            self._idle.append(zygote)

    @staticmethod
    def _script_args(job: SandboxJob) -> list[str] | None:
        """Arguments after the script, or None when ``job.argv`` is not ``python <script> ...``."""
        if job.argv is None:
            return []
        if len(job.argv) >= 2 and job.argv[1] == job.script_name and (
            job.argv[0] == sys.executable or os.path.basename(job.argv[0]).startswith("python")
        ):
            return list(job.argv[2:])
        return None

    def run(self, job: SandboxJob) -> RunResult:
        args = self._script_args(job)
        if args is None:  # not a Python script: a cold bubblewrap run, same isolation
            return BubblewrapSandbox(self.bwrap).run(job)
        gpus = clean_env(job.limits, job.extra_env)["CUDA_VISIBLE_DEVICES"]
        zygote = self._acquire(job.limits.cpus, gpus)
        try:
            with zygote.lock:
                return zygote.run(job, args)
        finally:
            self._release(zygote)

    def kill_all(self) -> None:
        """Kill every running job and stop the zygotes (they restart on the next job)."""
        for zygote in list(self._zygotes):
            zygote.kill_job()
            zygote.stop()

    def close(self) -> None:
        """Stop the zygotes and remove the worker folders."""
        self._finalizer()

    @property
    def workers(self) -> int:
        return len(self._zygotes)


def make_warm_sandbox(bwrap: str = "bwrap", prestart: bool = True) -> WarmBubblewrapSandbox:
    """Warm workers need bubblewrap: their isolation is a node's."""
    if not bubblewrap_works(bwrap):
        from airlab.errors import AirlabError

        raise AirlabError(
            "warm workers (--sandbox warm) need bubblewrap; install it "
            "(apt-get install bubblewrap) or use --sandbox plain"
        )
    return WarmBubblewrapSandbox(bwrap=bwrap, prestart=prestart)
