"""Run one candidate exactly as a node runs, and grade what it left.

Used by the run loop, the final stage's refit and ``airlab eval``: the same workspace, sandbox,
limits, clean environment and grader, whatever the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from airlab.execution.sandbox import RunResult, SandboxJob
from airlab.search.node import NodeStatus
from airlab.tasks.protocol import Grade, View
from airlab.tasks.spec import Limits


@dataclass
class Outcome:
    status: NodeStatus
    error: str | None
    grade: Grade | None
    run: RunResult


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


def judge(run: RunResult, job: SandboxJob, view: View, keep: Path, limits: Limits) -> Outcome:
    """Turn a sandbox result into a node outcome; the view grades and keeps the artefacts."""
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
    grade = view.grade(job, keep)
    if grade.valid:
        return Outcome(NodeStatus.OK, None, grade, run)
    return Outcome(NodeStatus.INVALID, f"invalid submission: {grade.reason}", grade, run)
