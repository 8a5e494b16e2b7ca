"""What a program task's evaluator works with: the candidate's artefacts and the hidden role.

A task's ``evaluator.py`` defines ``evaluate(candidate: Candidate, role: RoleSet) -> float``. It
runs in the harness, beside its hidden assets (opponents, instances, answers); the candidate's
code never does. The evaluator reaches the candidate's code only through a sandbox:

- :meth:`Candidate.connect` starts a module of the artefacts in its own sandbox and calls its
  functions through a pipe (:class:`~airlab.execution.channel.Session`), e.g. a strategy's move;
- :meth:`Candidate.run` runs a command on the artefacts in a fresh sandbox and reports its CPU
  time and the files it wrote, e.g. a training script that must reach a target fastest.

Data artefacts are read with :meth:`Candidate.path` (a checked regular file); load them with
formats that cannot run code (``numpy.load(..., allow_pickle=False)``, JSON, CSV), never pickle.
Raise :class:`Rejected` to refuse artefacts: its message is the reason the node records. The
same artefacts and role give the same score: seed every random choice from ``role.seed``.
"""

from __future__ import annotations

import os
import stat
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airlab.execution.channel import CandidateError, Session
from airlab.execution.sandbox import RunResult, SandboxJob, make_sandbox, with_interpreter
from airlab.tasks.spec import Limits

__all__ = ["Candidate", "CandidateError", "Rejected", "RoleSet", "RunReport", "Session"]


class Rejected(Exception):
    """The evaluator refuses the artefacts; ``str(exc)`` is the reason."""


@dataclass(frozen=True)
class RoleSet:
    """One hidden role as the evaluator sees it."""

    name: str  # search | val | test
    instances: list[Any]
    settings: dict[str, Any]
    seed: int  # derived from the task, the role and the run's split seed


@dataclass
class RunReport:
    """A command run on the artefacts: its outcome, CPU time and the folder it wrote to."""

    result: RunResult
    outputs: Path  # the run's workspace after it ended: the files it wrote

    @property
    def ok(self) -> bool:
        return self.result.ok

    @property
    def cpu_seconds(self) -> float | None:
        return self.result.cpu_seconds


@dataclass
class Candidate:
    """One node's kept artefacts, outside any sandbox, with the public workspace they ran in."""

    artefacts: Path
    public: Path
    limits: Limits
    call_timeout: float
    scratch: Path
    sandbox: str = "auto"
    cache: dict[str, Any] = field(default_factory=dict)  # shared by the roles of one grading

    def path(self, name: str, max_bytes: int = 256 * 1024**2) -> Path:
        """A kept artefact, checked to be a regular file of at most ``max_bytes``."""
        target = self.artefacts / name
        try:
            info = os.lstat(target)
        except FileNotFoundError:
            raise Rejected(f"no {name} was left by the run") from None
        if not stat.S_ISREG(info.st_mode):
            raise Rejected(f"{name} is not a regular file")
        if info.st_size > max_bytes:
            raise Rejected(f"{name} is {info.st_size:,} bytes, over the limit of {max_bytes:,}")
        return target

    def _files(self) -> dict[str, Path]:
        files = {p.name: p for p in sorted(self.public.iterdir()) if p.is_file()}
        files.update({p.name: p for p in sorted(self.artefacts.iterdir()) if p.is_file() and not p.is_symlink()})
        return files

    def connect(self, module: str, call_timeout: float | None = None) -> Session:
        """Start ``module`` (a kept ``.py`` artefact) in its own sandbox; call its functions."""
        self.path(module)
        return Session(self._files(), module, self.scratch, self.limits,
                       call_timeout=self.call_timeout if call_timeout is None else call_timeout,
                       sandbox="plain" if self.sandbox == "plain" else "auto")

    def run(self, argv: list[str], time_seconds: float | None = None) -> RunReport:
        """Run ``argv`` in a fresh cold sandbox holding the public files and the artefacts."""
        limits = self.limits if time_seconds is None else self.limits.model_copy(update={"time_seconds": time_seconds})
        root = self.scratch / f"run-{uuid.uuid4().hex[:8]}"
        files = self._files()
        job = SandboxJob(code="", input_files=files, workdir=root / "workspace", limits=limits, log_dir=root,
                         script_name=".airlab-empty.py", argv=with_interpreter(argv))
        sandbox = make_sandbox("plain" if self.sandbox == "plain" else "auto")
        return RunReport(result=sandbox.run(job), outputs=job.workdir)
