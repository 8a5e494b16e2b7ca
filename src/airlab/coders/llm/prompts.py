"""Operator prompts built as data: a system message and titled sections.

Every prompt is a :class:`Prompt` (a list of :class:`Section`), so tests and reports can see what
an operator told the model, and each piece comes from one place: the task description, the data
preview, the parent(s), the memory, the limits and the submission format. Nothing hidden reaches a
prompt: parents are :class:`Node` objects, which carry the search score only.
"""

from __future__ import annotations

from pydantic import BaseModel

from airlab.coders.base import CodeRequest
from airlab.search.node import Node, Operator
from airlab.tasks.prediction.preview import DataPreview
from airlab.tasks.prediction.submission import SUBMISSION_FILE
from airlab.tasks.program.task import ProgramPreview
from airlab.tasks.spec import Limits

SYSTEM = (
    "You are an expert machine-learning engineer. You solve a prediction task by writing one complete, "
    "self-contained Python script that trains a model on train.csv and writes predictions for predict.csv "
    f"to {SUBMISSION_FILE}. The harness runs your script and scores the submission on hidden labels; "
    "validation scores you print are for your own information only."
)

RESPONSE_FORMAT = (
    "Reply with a short plan (2-5 sentences: the model family and the key idea), then the complete script in "
    "ONE ```python code block. The script reads the files from the current directory, must finish within the "
    f"time limit and must write {SUBMISSION_FILE}. No other code blocks."
)

PROGRAM_SYSTEM = (
    "You are an expert research engineer. You improve a program for a task whose hidden evaluator scores it: "
    "you return the complete new content of one file of the workspace. The harness runs it in a sandbox and a "
    "hidden evaluator scores it on hidden instances; scores you print are for your own information only."
)


def program_response_format(entry: str) -> str:
    return (
        "Reply with a short plan (2-5 sentences: the idea and what it changes), then the complete new content of "
        f"`{entry}` in ONE ```python code block, keeping the functions the task requires with their signatures. "
        "No other code blocks."
    )


INSTRUCTIONS = {
    Operator.DRAFT: (
        "Draft a first solution. Prefer a simple, robust approach that runs quickly. If ideas are listed as "
        "already tried, use a different model family so the drafts stay diverse."
    ),
    Operator.IMPROVE: (
        "Improve the parent solution with ONE focused change (a better model or settings, feature engineering, "
        "preprocessing, or ensembling) that should raise the score. Keep what works. Do not repeat the "
        "changes listed as already tried."
    ),
    Operator.DEBUG: (
        "The previous script failed. Find the cause of the error and return the whole corrected script. Keep the "
        "approach unless it cannot work; avoid the bugs seen earlier along this chain."
    ),
    Operator.CROSSOVER: (
        "Combine the two parent solutions into one script that keeps the strengths of both (for example their "
        "best features and models, or an ensemble of both)."
    ),
}


class Section(BaseModel):
    title: str
    body: str


class Prompt(BaseModel):
    system: str
    sections: list[Section]

    def render(self) -> str:
        return "\n\n".join(f"## {s.title}\n{s.body.strip()}" for s in self.sections if s.body.strip())

    def section(self, title: str) -> Section | None:
        return next((s for s in self.sections if s.title == title), None)

    @property
    def titles(self) -> list[str]:
        return [s.title for s in self.sections]


def clip(text: str, limit: int, keep: str = "head") -> str:
    """At most ``limit`` characters, marking what was cut."""
    if len(text) <= limit:
        return text
    if keep == "tail":
        return "…(cut)\n" + text[-limit:]
    half = limit // 2
    return text[:half] + "\n…(cut)…\n" + text[-half:]


def artefact_contract(request: CodeRequest) -> str:
    """What the code must do or leave for the grader: the submission file, or the program's file."""
    preview = request.preview
    if isinstance(preview, ProgramPreview):
        return (f"Return the complete content of `{preview.entry}`. It replaces the starter version shown above; "
                "the other workspace files are given read-only. The task description says which functions the "
                "evaluator calls and what they must return.")
    if not isinstance(preview, DataPreview):  # a suite's own format: its description says what to write
        return (f"Write the complete content of `{request.entry}`. The task description says which files it reads "
                "and what it must leave in the workspace.")
    return submission_format(preview)


def submission_format(preview: DataPreview) -> str:
    ident = preview.id_column
    if preview.prediction == "proba":
        cols = [ident, *preview.classes]
        what = "the predicted probability of each class (each row sums to 1)"
    elif preview.prediction == "label":
        cols = [ident, preview.target]
        what = f"the predicted class label (one of: {', '.join(preview.classes)})"
    else:
        cols = [ident, preview.target]
        what = "the predicted value"
    return (
        f"Write `{SUBMISSION_FILE}` with columns `{', '.join(cols)}`: one row per row of {preview.predict_file}, keyed by its "
        f"`{ident}` column, with {what}. `sample_submission.csv` shows the exact format."
    )


def limits_text(limits: Limits) -> str:
    return (
        f"- wall time: {limits.time_seconds:g} s for the whole script (training and prediction)\n"
        f"- memory: {limits.memory_mb} MB\n"
        f"- CPU threads: {limits.cpus} (use n_jobs={limits.cpus}); GPUs: {limits.gpus}\n"
        "- no network access; only already installed packages (pandas, numpy, scikit-learn, lightgbm, "
        "statsmodels, scipy)"
    )


def describe_node(node: Node, code_limit: int) -> str:
    score = f"search score {node.search_score:.5g}" if node.search_score is not None else f"status {node.status.value}"
    return f"Plan: {node.plan.strip() or '(none)'}\nResult: {score}\n```python\n{clip(node.code, code_limit)}\n```"


def _bullets(items: list[str], limit: int, width: int = 300) -> str:
    return "\n".join(f"- {clip(' '.join(item.split()), width)}" for item in items[-limit:])


def build_prompt(request: CodeRequest, code_limit: int = 6000, output_limit: int = 1500) -> Prompt:
    """The prompt of one operator call."""
    op = request.operator
    mem = request.memory
    program = isinstance(request.preview, ProgramPreview)
    sections = [
        Section(title="Task", body=request.description),
        Section(title="Starter code" if program else "Data preview", body=request.preview.render()),
        Section(title="Limits", body=limits_text(request.limits)),
        Section(title="Submission format", body=artefact_contract(request)),
    ]
    if op == Operator.DRAFT:
        tried = list(mem.sibling_plans)
        if mem.sibling_families:
            tried.append("model families already drafted: " + ", ".join(sorted(set(mem.sibling_families))))
        sections.append(Section(title="Ideas already tried", body=_bullets(tried, 10)))
    elif op == Operator.IMPROVE and request.parents:
        sections.append(Section(title="Parent solution", body=describe_node(request.parents[0], code_limit)))
        sections.append(Section(title="Changes already tried on this parent", body=_bullets(mem.sibling_plans, 8)))
    elif op == Operator.DEBUG and request.parents:
        parent = request.parents[0]
        sections.append(Section(title="Buggy solution", body=describe_node(parent, code_limit)))
        error = (parent.error or "").strip()
        output = clip(parent.output_tail.strip(), output_limit, keep="tail")
        sections.append(Section(title="Error", body=f"{error}\n\nOutput (end):\n{output}" if output else error))
        earlier = mem.ancestral_bugs[:-1] if len(mem.ancestral_bugs) > 1 else []
        sections.append(Section(title="Bugs seen earlier along this debug chain", body=_bullets(earlier, 6)))
    elif op == Operator.CROSSOVER and request.parents:
        for label, parent in zip("AB", request.parents[:2], strict=False):
            sections.append(Section(title=f"Parent {label}", body=describe_node(parent, code_limit // 2)))
    if op != Operator.DEBUG:
        sections.append(Section(title="Good solutions so far", body=_bullets(mem.good_summaries, 5)))
    sections.append(Section(title="Instructions", body=INSTRUCTIONS[op]))
    if program:
        sections.append(Section(title="Response format", body=program_response_format(request.entry)))
        return Prompt(system=PROGRAM_SYSTEM, sections=sections)
    sections.append(Section(title="Response format", body=RESPONSE_FORMAT))
    return Prompt(system=SYSTEM, sections=sections)
