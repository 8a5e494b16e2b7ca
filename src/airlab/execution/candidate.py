"""Run one candidate script exactly as a node runs, and grade what it wrote.

Used by the run loop and by ``airlab eval``: same workspace layout, sandbox, limits, clean
environment and grader.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from airlab.execution.sandbox import RunResult, SandboxJob
from airlab.search.node import NodeStatus
from airlab.tasks.grader import SUBMISSION_FILE, Grade, Grader
from airlab.tasks.spec import Limits
from airlab.tasks.workspace import PUBLIC_FILES


@dataclass
class Outcome:
    status: NodeStatus
    error: str | None
    grade: Grade | None
    run: RunResult


def make_job(code: str, public_dir: Path, node_dir: Path, limits: Limits, extra_env: dict[str, str] | None = None) -> SandboxJob:
    workdir = node_dir / "workspace"
    if workdir.exists():  # a re-run after resume starts from a fresh workspace
        shutil.rmtree(workdir)
    return SandboxJob(
        code=code,
        input_files={name: public_dir / name for name in PUBLIC_FILES},
        workdir=workdir,
        limits=limits,
        log_dir=node_dir,
        extra_env=dict(extra_env or {}),
    )


def error_summary(stderr: str, max_lines: int = 6) -> str:
    """The end of a traceback: what a person or a debug operator needs first."""
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    if not lines:
        return "the script exited with an error and printed nothing to stderr"
    if any(ln.startswith("Traceback") for ln in lines):
        start = max(i for i, ln in enumerate(lines) if ln.startswith("Traceback"))
        tb = lines[start:]
        return "\n".join(tb[-max_lines:])
    return "\n".join(lines[-max_lines:])


def judge(run: RunResult, workdir: Path, node_dir: Path, grader: Grader, limits: Limits) -> Outcome:
    """Turn a sandbox result into a node outcome; keeps the submission next to the node."""
    if run.limit_hit == "time":
        return Outcome(NodeStatus.TIMEOUT, f"hit the wall-time limit of {limits.time_seconds:g} s", None, run)
    if run.limit_hit == "memory":
        return Outcome(NodeStatus.BUGGY, f"exceeded the memory limit of {limits.memory_mb} MB", None, run)
    if run.limit_hit == "processes":
        return Outcome(NodeStatus.BUGGY, f"exceeded the process limit of {limits.processes} processes and threads", None, run)
    if run.limit_hit == "output":
        return Outcome(NodeStatus.BUGGY, f"printed more than {limits.output_mb:g} MB of output", None, run)
    if run.exit_code != 0:
        return Outcome(NodeStatus.BUGGY, f"exit code {run.exit_code}:\n{error_summary(run.stderr_tail)}", None, run)
    submission = workdir / SUBMISSION_FILE
    grade = grader.grade_file(submission)
    if grade.valid:
        kept = node_dir / SUBMISSION_FILE
        shutil.copyfile(submission, kept)
        return Outcome(NodeStatus.OK, None, grade, run)
    return Outcome(NodeStatus.INVALID, f"invalid submission: {grade.reason}", grade, run)
