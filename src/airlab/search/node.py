"""One candidate solution and its outcome.

A :class:`Node` holds only what a policy or an operator may see: the ``search`` score and, with
hidden K-fold evaluation, the per-fold search scores. Val and test scores live in the store's
``hidden_scores`` table, read only by the final selection and the report.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Operator(StrEnum):
    DRAFT = "draft"
    IMPROVE = "improve"
    DEBUG = "debug"
    CROSSOVER = "crossover"


class NodeStatus(StrEnum):
    PENDING = "pending"  # written, not yet finished: re-executed on resume
    OK = "ok"  # ran and produced a valid submission
    BUGGY = "buggy"  # crashed, or hit the memory/output limit
    TIMEOUT = "timeout"  # hit the wall-time limit
    INVALID = "invalid"  # ran, but the submission was refused by the grader
    FAILED = "failed"  # no code could be produced (e.g. a coder or infrastructure error)

    @property
    def needs_debug(self) -> bool:
        return self in (NodeStatus.BUGGY, NodeStatus.TIMEOUT, NodeStatus.INVALID)


class Node(BaseModel):
    id: int
    parents: list[int] = Field(default_factory=list)
    operator: Operator
    plan: str = ""
    code: str = ""
    coder: str = ""
    family: str | None = None  # model family of the idea, for ideation diversity
    status: NodeStatus = NodeStatus.PENDING
    search_score: float | None = None
    fold_scores: list[float] = Field(default_factory=list)
    exit_code: int | None = None
    error: str | None = None  # why it is not ok: a traceback line, a limit, the grader's reason
    limit_hit: str | None = None  # time | memory | output
    output_tail: str = ""
    exec_seconds: float | None = None
    peak_memory_mb: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    debug_depth: int = 0
    created_at: float = 0.0
    finished_at: float | None = None
    worker: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)  # coder-specific state (e.g. a recipe)

    @property
    def is_ok(self) -> bool:
        return self.status == NodeStatus.OK and self.search_score is not None

    @property
    def is_finished(self) -> bool:
        return self.status != NodeStatus.PENDING


class HiddenScores(BaseModel):
    """Scores the harness keeps from every policy and operator."""

    node_id: int
    val: float | None = None
    test: float | None = None
