"""Grade any solution and any agent with airlab's hidden evaluation.

- :func:`evaluate_script` runs one candidate exactly as a node runs (same workspace layout, sandbox,
  limits, clean environment and grader) and returns its scores.
- :func:`export_workspace` writes what a node's workspace holds, for an outside agent or a person.
- :func:`grade_submission` validates and scores artefacts made elsewhere (a submission file, or a
  program task's artefact).

The hidden labels and instances never leave the harness: they are re-derived here from the task
and split seed and only used by the task's grader.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from airlab import __version__
from airlab.errors import AirlabError
from airlab.execution.candidate import judge
from airlab.execution.executor import LocalExecutor
from airlab.execution.sandbox import make_sandbox
from airlab.rundir import RunConfig
from airlab.tasks.loader import load_task
from airlab.tasks.protocol import Task, view_roles


class EvalResult(BaseModel):
    """The outcome of ``airlab eval`` or ``airlab grade``; field names follow ``result.json``."""

    source: Literal["eval", "grade"]
    task: str
    split_seed: int
    metric: str
    higher_is_better: bool
    status: str  # a node status: ok | buggy | timeout | invalid
    valid: bool
    error: str | None = None  # why the candidate failed or the submission was refused
    search_score: float | None = None
    val_score: float | None = None
    test_score: float | None = None
    wall_seconds: float = 0.0
    exit_code: int | None = None
    limit_hit: str | None = None
    peak_memory_mb: float | None = None
    sandbox: str | None = None  # the sandbox that actually ran it: warm, bwrap or plain
    time_limit: float | None = None
    memory_mb: int | None = None
    stdout_tail: str = ""
    stderr_tail: str = ""
    airlab_version: str = __version__
    finished_at: float = Field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _read_code(code_or_path: str | Path) -> str:
    """A :class:`Path`, or a one-line string ending in ``.py``, is a file; anything else is code."""
    if isinstance(code_or_path, Path) or ("\n" not in code_or_path and code_or_path.strip().endswith(".py")):
        path = Path(code_or_path)
        if not path.is_file():
            raise AirlabError(f"solution script {path} does not exist or is not a file")
        try:
            return path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise AirlabError(f"cannot read solution script {path}: {exc}") from exc
    return code_or_path


def _scored(task: Task, split_seed: int, source: Literal["eval", "grade"], status: str,
            error: str | None, scores: dict[str, float], **extra: object) -> EvalResult:
    objective = task.objective
    return EvalResult(
        source=source, task=task.id, split_seed=split_seed, metric=objective.name,
        higher_is_better=objective.higher_is_better, status=status, valid=status == "ok", error=error,
        search_score=scores.get("search"), val_score=scores.get("val"), test_score=scores.get("test"),
        **extra,  # type: ignore[arg-type]
    )


def evaluate_script(
    task_ref: str,
    code_or_path: str | Path,
    split_seed: int | None = None,
    time_limit: float | None = None,
    memory_mb: int | None = None,
    sandbox: str = "auto",
    work_dir: Path | None = None,
    suite_dir: str | None = None,
) -> EvalResult:
    """Run ``code_or_path`` as a candidate of ``task_ref`` and grade what it left.

    The code runs through the same executor, sandbox, limits and :func:`judge` a node goes
    through. ``work_dir`` keeps the node folder (workspace, stdout.txt, stderr.txt, the kept
    artefacts) for inspection; by default a temporary folder is used and removed.
    """
    code = _read_code(code_or_path)
    task = load_task(task_ref, suite_dir)
    # the same limit overrides `airlab run --time-limit/--memory-mb` applies
    from airlab.api import effective_limits

    limits = effective_limits(task, RunConfig(task=task_ref, time_limit=time_limit, memory_mb=memory_mb))
    executor = LocalExecutor(workers=1, sandbox=make_sandbox(sandbox))
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="airlab-eval-") as tmp:
            root = Path(tmp) if work_dir is None else Path(work_dir)
            evaluation = task.evaluation(root, split_seed)
            views = list(evaluation.views)
            kept, grades = [], []
            for k, view in enumerate(views):  # one view, or several that grade different roles
                node = root / "node" if len(views) == 1 else root / "node" / f"view-{k}"
                node.mkdir(parents=True, exist_ok=True)
                (node / evaluation.entry).write_text(code)
                job = view.job(code, node, limits)
                run = executor.submit(job).result()
                outcome = judge(run, job, view, node, limits)
                if outcome.grade is None or not outcome.grade.valid:
                    break
                kept.append(node)
                grades.append(outcome.grade)
    finally:
        executor.shutdown()
    scores: dict[str, float] = {}
    if len(grades) == len(views) == 1:
        scores = grades[0].scores
    elif len(grades) == len(views):
        search = [g.scores["search"] for g in grades if "search" in g.scores]
        scores = {**({"search": sum(search) / len(search)} if search else {}), **evaluation.combine(kept, grades)}
    return _scored(
        task, evaluation.split_seed, "eval", outcome.status.value, outcome.error, scores,
        wall_seconds=round(time.perf_counter() - started, 3), exit_code=run.exit_code,
        limit_hit=run.limit_hit, peak_memory_mb=run.peak_memory_mb, sandbox=run.sandbox,
        time_limit=limits.time_seconds, memory_mb=limits.memory_mb,
        stdout_tail=run.stdout_tail, stderr_tail=run.stderr_tail,
    )


def export_workspace(task_ref: str, folder: Path, split_seed: int | None = None, force: bool = False,
                     suite_dir: str | None = None) -> list[Path]:
    """Write a node's agent-visible files (and nothing else) to ``folder``; return their paths.

    A non-empty ``folder`` is refused unless ``force``: then the public files are overwritten and
    anything else in the folder is left as it is.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise AirlabError(f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise AirlabError(f"{folder} is not empty; choose an empty or new folder, or pass --force to overwrite")
    return load_task(task_ref, suite_dir).export(folder, split_seed)


def grade_submission(task_ref: str, path: Path, split_seed: int | None = None,
                     suite_dir: str | None = None) -> EvalResult:
    """Validate and score artefacts made elsewhere with a node's grader and messages: a
    prediction task's submission file, or a program task's artefact (a file, or a folder of them).

    ``path`` is checked as given (not resolved): a symbolic link, FIFO or oversized file is
    refused before anything is read.
    """
    task = load_task(task_ref, suite_dir)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="airlab-grade-") as tmp:
        evaluation = task.evaluation(Path(tmp), split_seed)
        # a file made elsewhere answers the task's test: the view that grades it
        view = next((v for v in evaluation.views if "test" in view_roles(v)), evaluation.views[0])
        grade = view.grade_path(Path(path))
    error = None if grade.valid else f"invalid submission: {grade.reason}"
    return _scored(task, evaluation.split_seed, "grade", "ok" if grade.valid else "invalid", error,
                   grade.scores, wall_seconds=round(time.perf_counter() - started, 3))
