"""A candidate's code answering an evaluator's calls from its own sandbox, through a pipe.

An evaluator that must call a candidate (a strategy choosing moves, a heuristic scoring bins)
never imports it: the candidate's module is loaded by a small driver inside a cold sandbox
(bubblewrap where it works) and the evaluator talks to it with JSON lines, one request
``{"fn": name, "args": [...]}`` in, one answer ``{"ok": value}`` or ``{"error": text}`` out. Each
call has a time limit; the session as a whole has the task's wall-time and memory limits. Whatever
the candidate prints goes to its stderr log, not to the channel. At any failure the whole process
tree is killed and :class:`CandidateError` says what happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil

from airlab.execution.sandbox import (
    _MARKER,
    BubblewrapSandbox,
    PlainSandbox,
    SandboxJob,
    _kill_all,
    _limit_resources,
    _tail,
    bubblewrap_works,
    clean_env,
)
from airlab.tasks.spec import Limits

DRIVER_FILE = "_airlab_driver.py"
MAX_ANSWER_BYTES = 1_000_000
START_SECONDS = 30.0  # importing the module (numpy and friends on a cold disk) may take a while

DRIVER = r'''
import importlib.util, json, os, sys, traceback
channel = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)  # the candidate's prints go to stderr, never to the channel
sys.stdout = sys.stderr
def answer(payload):
    try:
        line = json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        line = json.dumps({"error": f"the answer cannot be sent as JSON: {exc}"})
    channel.write(line + "\n")
try:
    spec = importlib.util.spec_from_file_location("candidate", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
except BaseException as exc:
    answer({"error": "importing %s failed: %s" % (sys.argv[1], "".join(traceback.format_exception_only(type(exc), exc)).strip())})
    sys.exit(1)
answer({"ready": True})
for line in sys.stdin:
    request = json.loads(line)
    fn = getattr(module, request["fn"], None)
    if not callable(fn):
        answer({"error": "%s defines no function %s()" % (sys.argv[1], request["fn"])})
        continue
    try:
        answer({"ok": fn(*request["args"])})
    except Exception as exc:
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        answer({"error": "%s() raised: %s" % (request["fn"], "".join(tb[-3:]).strip())})
'''


class CandidateError(Exception):
    """The candidate's code failed to answer: a crash, a time limit, or an answer that is no answer."""


class Session:
    """One candidate module running in a sandbox, answering calls. Use as a context manager."""

    def __init__(self, files: dict[str, Path], module: str, scratch: Path, limits: Limits,
                 call_timeout: float = 1.0, sandbox: str = "auto"):
        self.module, self.limits, self.call_timeout = module, limits, call_timeout
        self.calls = 0
        workdir = scratch / f"session-{uuid.uuid4().hex[:8]}"
        job = SandboxJob(code=DRIVER, input_files=files, workdir=workdir / "workspace", limits=limits,
                         log_dir=workdir, script_name=DRIVER_FILE)
        use_bwrap = sandbox == "bwrap" or (sandbox == "auto" and bubblewrap_works())
        box = BubblewrapSandbox() if use_bwrap else PlainSandbox()
        box.prepare(job)
        self.token = uuid.uuid4().hex
        env = clean_env(limits)
        env[_MARKER] = self.token
        if not use_bwrap:
            env["HOME"] = str(job.workdir.resolve())
        job.argv = [sys.executable, DRIVER_FILE, module]
        argv = box.command(job, env)
        self.stderr_path = workdir / "stderr.txt"
        self._err = open(self.stderr_path, "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            argv, cwd=job.workdir, env=env if not use_bwrap else {"PATH": "/usr/bin:/bin"},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err, start_new_session=True,
            preexec_fn=lambda: _limit_resources(limits),
        )
        self.root = psutil.Process(self.proc.pid)
        self.started = time.monotonic()
        self._buffer = b""
        self._selector = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            ready = self._read(START_SECONDS, "loading the module")
        except CandidateError:
            self.close()
            raise
        if "error" in ready:
            self.close()
            raise CandidateError(str(ready["error"]))

    def __enter__(self) -> Session:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def call(self, function: str, *args: Any, timeout: float | None = None) -> Any:
        """Call ``function(*args)`` in the candidate's module; its JSON answer, or CandidateError."""
        if self.proc.poll() is not None:
            raise CandidateError(f"the candidate's process is gone (exit code {self.proc.returncode}){self._stderr()}")
        request = json.dumps({"fn": function, "args": list(args)}).encode() + b"\n"
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(request)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.close()
            raise CandidateError(f"the candidate's process stopped reading{self._stderr()}") from None
        self.calls += 1
        reply = self._read(self.call_timeout if timeout is None else timeout, f"{function}()")
        if "error" in reply:
            raise CandidateError(str(reply["error"]))
        if "ok" not in reply:
            raise CandidateError(f"{function}() answered something that is not an answer: {str(reply)[:200]}")
        return reply["ok"]

    def _read(self, timeout: float, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = min(deadline, self.started + self.limits.time_seconds) - time.monotonic()
            if left <= 0:
                self.close()
                if time.monotonic() - self.started >= self.limits.time_seconds:
                    raise CandidateError(f"the candidate hit the wall-time limit of {self.limits.time_seconds:g} s during {what}")
                raise CandidateError(f"{what} did not answer within {timeout:g} s")
            if not self._selector.select(timeout=min(left, 0.5)):
                self._check_memory()
                continue
            assert self.proc.stdout is not None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                self.close()
                raise CandidateError(f"the candidate's process ended during {what} (exit code {self.proc.returncode}){self._stderr()}")
            self._buffer += chunk
            if len(self._buffer) > MAX_ANSWER_BYTES:
                self.close()
                raise CandidateError(f"{what} answered more than {MAX_ANSWER_BYTES:,} bytes")
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            reply = json.loads(line)
        except (UnicodeDecodeError, ValueError):
            self.close()
            raise CandidateError(f"{what} answered something that is not JSON: {line[:200]!r}") from None
        if not isinstance(reply, dict):
            self.close()
            raise CandidateError(f"{what} answered something that is not an answer: {line[:200]!r}")
        return reply

    def _check_memory(self) -> None:
        rss = 0
        with contextlib.suppress(psutil.Error):
            for proc in [self.root, *self.root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    rss += proc.memory_info().rss
        if rss > self.limits.memory_mb * 1024 * 1024:
            self.close()
            raise CandidateError(f"the candidate exceeded the memory limit of {self.limits.memory_mb} MB")

    def _stderr(self) -> str:
        if not self._err.closed:
            self._err.flush()
        tail = _tail(self.stderr_path, 600).strip()
        return f"; its stderr ends:\n{tail}" if tail else ""

    def close(self) -> None:
        if self.proc.poll() is None:
            _kill_all(self.root, self.token)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        with contextlib.suppress(KeyError, ValueError):
            self._selector.close()
        self._err.close()
