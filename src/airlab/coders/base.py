"""The coder interface: (operator, context) -> (plan, code).

A coder never sees val or test scores: :class:`CodeRequest` is built from :class:`Node` objects,
which carry the search score only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from airlab.errors import AirlabError
from airlab.search.memory import Memory
from airlab.search.node import Node, Operator
from airlab.tasks.protocol import Preview
from airlab.tasks.spec import Limits


class CodeRequest(BaseModel):
    """Everything an operator gives a coder."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    operator: Operator
    node_id: int
    seed: int  # derived per node: same run seed and node -> same request
    run_seed: int = 0
    task_id: str
    description: str  # the task's description.md: what to write and how it is scored
    preview: Preview  # the public workspace: a table's columns (DataPreview), or starter code (ProgramPreview)
    entry: str = "solution.py"  # the file the code is written to in the workspace
    parents: list[Node] = Field(default_factory=list)
    memory: Memory = Field(default_factory=Memory)
    limits: Limits
    tools: Any = None  # a workbench for multi-step coders (ReAct); None for one-shot coders


class Proposal(BaseModel):
    """What a coder returns."""

    plan: str
    code: str
    family: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


class CoderError(AirlabError):
    """A coder could not produce code; the node is recorded as failed with this reason.

    A failed call may still have spent tokens and money; the error carries them, and whether the
    failure ends the run (a spent cost budget)."""

    def __init__(self, message: str, *, tokens_in: int = 0, tokens_out: int = 0, cost_usd: float = 0.0,
                 stops_run: bool = False, meta: dict[str, Any] | None = None):
        super().__init__(message)
        self.tokens_in, self.tokens_out, self.cost_usd = tokens_in, tokens_out, cost_usd
        self.stops_run = stops_run
        self.meta: dict[str, Any] = dict(meta or {})


@runtime_checkable
class Coder(Protocol):
    """Writes a candidate script for an operator request."""

    name: str

    def write(self, request: CodeRequest) -> Proposal: ...


CoderFactory = Callable[[str, dict[str, Any]], Coder]
_CODERS: dict[str, CoderFactory] = {}


def register_coder(prefix: str) -> Callable[[CoderFactory], CoderFactory]:
    """Register a factory for coder specs ``prefix`` or ``prefix:model``."""

    def deco(factory: CoderFactory) -> CoderFactory:
        _CODERS[prefix] = factory
        return factory

    return deco


def make_coder(spec: str, options: dict[str, Any] | None = None) -> Coder:
    """Build a coder from a spec such as ``offline`` or ``openai:gpt-4.1-mini``."""
    import airlab.coders.offline

    with contextlib.suppress(ImportError):
        import airlab.coders.llm  # noqa: F401  (registers LLM coders when present)
    prefix, _, model = spec.partition(":")
    if prefix not in _CODERS:
        raise AirlabError(f"unknown coder '{spec}'; known: {', '.join(sorted(_CODERS))} (e.g. offline, openai:MODEL)")
    return _CODERS[prefix](model, options or {})
