"""Tasks: specs, the built-in suite, metrics, Hidden Consistent Evaluation splits and the grader."""

from airlab.tasks.loader import Task, known_task_ids, load_task
from airlab.tasks.spec import TaskKind, TaskSpec

__all__ = ["Task", "TaskKind", "TaskSpec", "known_task_ids", "load_task"]
