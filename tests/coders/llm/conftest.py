"""Real requests for the LLM coder tests: a built-in task, its splits, preview and description."""

from __future__ import annotations

from functools import cache
from typing import Any

from airlab.coders.base import CodeRequest
from airlab.search.memory import Memory
from airlab.search.node import Node, Operator
from airlab.tasks.loader import load_task
from airlab.tasks.prediction.preview import DataPreview, make_preview
from airlab.tasks.prediction.splits import make_splits
from airlab.tasks.prediction.workspace import describe


@cache
def _iris() -> tuple[str, DataPreview, Any]:
    task = load_task("iris")
    splits = make_splits(task, None)
    return describe(task, splits), make_preview(task, splits), task.spec.limits


def make_request(operator: Operator = Operator.DRAFT, parents: list[Node] | None = None,
                 memory: Memory | None = None, node_id: int = 0, seed: int = 7) -> CodeRequest:
    description, preview, limits = _iris()
    return CodeRequest(operator=operator, node_id=node_id, seed=seed, task_id="iris", description=description,
                       preview=preview, parents=parents or [], memory=memory or Memory(), limits=limits)
