"""Monte-Carlo tree search over the solution tree (the aira-dojo MCTS policy).

The tree: a virtual root whose children are the drafts; below that a node's children are the
nodes made from it (its first parent). Each proposal:

1. continues an open debug chain first: a buggy leaf is debugged up to ``max_debug_depth`` times;
2. otherwise descends from the root by UCT, ``Q + uct_c * sqrt(ln N(parent) / N(child))``, where
   ``Q`` is the mean backed-up value of the child's subtree with values min-max normalised over
   all valid scores seen (a buggy node's value is 0), until it reaches a node with fewer than
   ``num_children`` children, and expands it: DRAFT at the root, IMPROVE below.

Only valid nodes, and buggy nodes whose debug chain produced a valid node, are descended into.
A fully expanded node with nothing to descend into is expanded once more, unless nodes are still
in flight (then the policy waits for them).

Backed-up values: ``observe`` adds each finished node's value to itself and every node on its path
to the root. Raw scores are stored and normalised at selection time, since min-max normalisation
shifts as scores arrive; sums commute, so replaying ``observe`` in node order on resume gives the
same statistics as the live run.
"""

from __future__ import annotations

import math
import random

from pydantic import Field

from airlab.search.journal import Journal
from airlab.search.node import Node, Operator
from airlab.search.policies.common import ScoreScale, debug_action
from airlab.search.policy import Action, Policy, PolicyParams, register_policy

ROOT = -1  # the virtual root's key in the statistics


class MCTSParams(PolicyParams):
    uct_c: float = Field(0.25, ge=0, description="Exploration constant of UCT.")
    num_children: int = Field(5, ge=1, description="Children per expansion (drafts at the root).")
    max_debug_depth: int = Field(3, ge=0, description="Longest debug chain below a buggy node.")


@register_policy
class MCTS(Policy):
    name = "mcts"
    Params = MCTSParams
    params: MCTSParams

    def __init__(self, params: PolicyParams):
        super().__init__(params)
        self.visits: dict[int, int] = {}
        self.values: dict[int, list[float | None]] = {}  # raw backed-up scores; None = no valid score

    # -- backup ------------------------------------------------------------------------------
    def observe(self, node: Node, journal: Journal) -> None:
        score = float(node.search_score) if node.is_ok else None  # type: ignore[arg-type]
        for key in [node.id, *(a.id for a in journal.ancestors(node.id)), ROOT]:
            self.visits[key] = self.visits.get(key, 0) + 1
            self.values.setdefault(key, []).append(score)

    def mean_value(self, key: int, scale: ScoreScale) -> float:
        """Mean normalised value of a subtree (buggy results count as 0)."""
        values = self.values.get(key, [])
        if not values:
            return 0.0
        return sum(0.0 if v is None else scale(v) for v in values) / len(values)

    def uct(self, child: Node, parent_key: int, scale: ScoreScale) -> float:
        n_parent = max(self.visits.get(parent_key, 1), 1)
        n_child = max(self.visits.get(child.id, 1), 1)
        explore = math.sqrt(math.log(n_parent) / n_child)
        return self.mean_value(child.id, scale) + self.params.uct_c * explore

    # -- selection and expansion -------------------------------------------------------------
    def _tree_children(self, journal: Journal, key: int) -> list[Node]:
        if key == ROOT:
            return [n for n in journal if not n.parents]
        return [n for n in journal if n.parents and n.parents[0] == key]

    def _descendable(self, node: Node) -> bool:
        """Valid nodes, and buggy nodes whose debug chain reached a valid score."""
        if not node.is_finished or node.id not in self.visits:
            return False
        return node.is_ok or any(v is not None for v in self.values.get(node.id, []))

    def select(self, journal: Journal) -> tuple[int, bool]:
        """Descend by UCT to the node to expand: (its id or ROOT, whether it is fully expanded)."""
        scale = ScoreScale(journal.metric, journal.finished)
        key = ROOT
        while True:
            kids = self._tree_children(journal, key)
            node = None if key == ROOT else journal[key]
            expandable = node is None or node.is_ok
            if expandable and len(kids) < self.params.num_children:
                return key, False
            options = [k for k in kids if self._descendable(k)]
            if not options:
                return key, True
            parent = key
            key = max(options, key=lambda k: (self.uct(k, parent, scale), -k.id)).id

    def propose(self, journal: Journal, rng: random.Random) -> Action | None:
        fix = debug_action(journal, self.params.max_debug_depth)
        if fix is not None:
            return fix
        key, full = self.select(journal)
        if full and journal.pending:
            return None  # wait: the in-flight children may open a branch to descend into
        if key == ROOT:
            return Action(operator=Operator.DRAFT)
        # select() stops only at valid nodes: a buggy node is descended into only when its debug
        # chain holds a valid node, and then that valid branch is always a descendable option.
        return Action(operator=Operator.IMPROVE, parents=[key])
