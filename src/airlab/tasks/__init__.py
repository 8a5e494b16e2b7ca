"""Tasks: one protocol (:mod:`.protocol`), two kinds (:mod:`.prediction`, :mod:`.program`), the
built-in suite and the loader."""

from airlab.tasks.loader import known_task_ids, load_task
from airlab.tasks.protocol import Capabilities, Evaluation, Grade, Task, View

__all__ = ["Capabilities", "Evaluation", "Grade", "Task", "View", "known_task_ids", "load_task"]
