"""The agent-visible files of a task: what a node's workspace (and `airlab export`) holds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from airlab.tasks.files import write_readonly
from airlab.tasks.prediction.splits import HiddenSplits
from airlab.tasks.prediction.submission import ID, SUBMISSION_FILE, submission_columns

if TYPE_CHECKING:
    from airlab.tasks.prediction.task import PredictionTask as Task

PUBLIC_FILES = ("train.csv", "predict.csv", "sample_submission.csv", "description.md")


def describe(task: Task, splits: HiddenSplits) -> str:
    spec = task.spec
    metric = spec.metric_info
    cols = submission_columns(task)
    if metric.prediction == "proba":
        fmt = (f"columns `{', '.join(cols)}`: for each id, the predicted probability of each class "
               "(each row sums to 1)")
    elif metric.prediction == "label":
        fmt = f"columns `{ID}, {spec.target}`: for each id, the predicted class label ({', '.join(task.classes)})"
    else:
        fmt = f"columns `{ID}, {spec.target}`: for each id, the predicted value"
    lines = [
        f"# {spec.title}",
        "",
        spec.description.strip(),
        "",
        "## Data",
        f"- `train.csv`: {len(splits.train)} labelled rows; the target column is `{spec.target}`.",
        f"- `predict.csv`: {len(splits.predict)} rows to predict, with an opaque `{ID}` column and the same features.",
        "- `sample_submission.csv`: a valid submission in the required format.",
    ]
    if spec.time_column:
        lines.append(f"- `{spec.time_column}` is the time index; rows to predict lie after the end of train.csv "
                     f"(seasonal period: {spec.seasonal_period}).")
    if spec.group_column:
        lines.append(f"- rows are grouped by `{spec.group_column}`; rows to predict come from groups absent from train.csv.")
    for c in spec.text_columns:
        lines.append(f"- `{c}` is free text.")
    lines += [
        "",
        "## Task",
        f"- kind: {spec.kind.value}; metric: **{metric.name}** ({'higher' if metric.higher_is_better else 'lower'} is better): {metric.description}.",
        f"- Write `{SUBMISSION_FILE}` in the working directory with {fmt}.",
        "- The harness scores the submission on hidden labels; printed metrics are ignored.",
        f"- Limits per run: {spec.limits.time_seconds:g} s wall time, {spec.limits.memory_mb} MB memory, "
        f"{spec.limits.cpus} CPU thread(s), {spec.limits.gpus} GPU(s); no network.",
    ]
    return "\n".join(lines) + "\n"


def write_public_files(task: Task, splits: HiddenSplits, folder: Path) -> None:
    """Write the four agent-visible files, read-only. Nothing hidden is written."""
    folder.mkdir(parents=True, exist_ok=True)
    contents = {
        "train.csv": splits.train.to_csv(index=False),
        "predict.csv": splits.predict.to_csv(index=False),
        "sample_submission.csv": splits.sample_submission.to_csv(index=False),
        "description.md": describe(task, splits),
    }
    for name, text in contents.items():
        write_readonly(folder / name, text)
