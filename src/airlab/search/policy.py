"""The policy interface and registry.

A policy decides what to try next from the journal. It is asynchronous-friendly: ``propose`` may be
called while other nodes are still running (they are in the journal as pending), and ``observe``
is called once per finished node. On resume the runner replays ``observe`` over the journal, so a
stateful policy rebuilds its state from the record alone.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from airlab.errors import AirlabError
from airlab.search.journal import Journal
from airlab.search.node import Node, Operator


class Action(BaseModel):
    """What to do next: an operator and the parent node(s) it works from."""

    operator: Operator
    parents: list[int] = Field(default_factory=list)


class PolicyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Policy(ABC):
    name: ClassVar[str]
    Params: ClassVar[type[PolicyParams]] = PolicyParams

    def __init__(self, params: PolicyParams):
        self.params = params

    @abstractmethod
    def propose(self, journal: Journal, rng: random.Random) -> Action | None:
        """The next action, or None when the policy has nothing useful to do right now."""

    def observe(self, node: Node, journal: Journal) -> None:  # noqa: B027 - optional hook
        """Called once for every finished node (also when replaying a journal on resume)."""


_POLICIES: dict[str, type[Policy]] = {}


def register_policy(cls: type[Policy]) -> type[Policy]:
    _POLICIES[cls.name] = cls
    return cls


def policy_names() -> list[str]:
    _load_builtin()
    return sorted(_POLICIES)


def make_policy(name: str, params: dict[str, Any] | None = None) -> Policy:
    _load_builtin()
    if name not in _POLICIES:
        raise AirlabError(f"unknown agent policy '{name}'; known: {', '.join(sorted(_POLICIES))}")
    cls = _POLICIES[name]
    try:
        parsed = cls.Params.model_validate(params or {})
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise AirlabError(f"bad parameter for policy '{name}': {fields}") from None
    return cls(parsed)


def _load_builtin() -> None:
    from airlab.search import policies  # noqa: F401  (registers the built-in policies)


PolicyFactory = Callable[[PolicyParams], Policy]
