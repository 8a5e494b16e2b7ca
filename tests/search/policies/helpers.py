"""Hand-built journals for policy unit tests."""

from __future__ import annotations

from typing import TypeVar

from airlab.search.journal import Journal
from airlab.search.node import Node, NodeStatus, Operator
from airlab.search.policy import Policy
from airlab.tasks.prediction.metrics import get_metric

P = TypeVar("P", bound=Policy)

OP = {"d": Operator.DRAFT, "i": Operator.IMPROVE, "x": Operator.CROSSOVER, "g": Operator.DEBUG}


def node(node_id: int, op: str = "d", parents: tuple[int, ...] = (), score: float | None = None,
         status: NodeStatus | None = None, depth: int = 0) -> Node:
    """A finished node: ok with ``score``, buggy without one, or the given status."""
    if status is None:
        status = NodeStatus.OK if score is not None else NodeStatus.BUGGY
    return Node(id=node_id, operator=OP[op], parents=list(parents), status=status,
                search_score=score, debug_depth=depth)


def journal(*nodes: Node, metric: str = "accuracy") -> Journal:
    return Journal(get_metric(metric), list(nodes))


def replay(policy: P, jour: Journal) -> P:
    """What the engine does on resume: observe every finished node in node order."""
    for n in jour.finished:
        policy.observe(n, jour)
    return policy
