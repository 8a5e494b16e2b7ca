"""The in-memory view of a run's nodes, with the derived properties policies need."""

from __future__ import annotations

from collections.abc import Iterator

from airlab.search.node import Node, NodeStatus, Operator
from airlab.tasks.objective import Objective


class Journal:
    """Nodes of one run, in creation order. Holds no val or test score."""

    def __init__(self, metric: Objective, nodes: list[Node] | None = None):
        self.metric = metric
        self._nodes: dict[int, Node] = {}
        for node in nodes or []:
            self.put(node)

    def put(self, node: Node) -> None:
        self._nodes[node.id] = node

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(sorted(self._nodes.values(), key=lambda n: n.id))

    def __getitem__(self, node_id: int) -> Node:
        return self._nodes[node_id]

    @property
    def nodes(self) -> list[Node]:
        return list(self)

    @property
    def next_id(self) -> int:
        return max(self._nodes, default=-1) + 1

    @property
    def finished(self) -> list[Node]:
        return [n for n in self if n.is_finished]

    @property
    def pending(self) -> list[Node]:
        return [n for n in self if not n.is_finished]

    @property
    def drafts(self) -> list[Node]:
        return [n for n in self if n.operator == Operator.DRAFT]

    @property
    def good_nodes(self) -> list[Node]:
        return [n for n in self if n.is_ok]

    def children(self, node_id: int) -> list[Node]:
        return [n for n in self if node_id in n.parents]

    def is_leaf(self, node_id: int) -> bool:
        return not self.children(node_id)

    @property
    def buggy_leaves(self) -> list[Node]:
        has_children = {p for n in self._nodes.values() for p in n.parents}
        return [n for n in self if n.status.needs_debug and n.id not in has_children]

    def ranked(self, nodes: list[Node] | None = None) -> list[Node]:
        """Valid nodes best first by search score (ties: the earlier node first)."""
        pool = [n for n in (nodes if nodes is not None else self.good_nodes) if n.is_ok]
        return sorted(pool, key=lambda n: (self.metric.sort_key(float(n.search_score)), n.id))  # type: ignore[arg-type]

    @property
    def best(self) -> Node | None:
        ranked = self.ranked()
        return ranked[0] if ranked else None

    def ancestors(self, node_id: int) -> list[Node]:
        """The first-parent chain above a node, nearest first."""
        chain: list[Node] = []
        node = self._nodes[node_id]
        while node.parents:
            node = self._nodes[node.parents[0]]
            chain.append(node)
        return chain

    def count(self, status: NodeStatus) -> int:
        return sum(1 for n in self if n.status == status)
