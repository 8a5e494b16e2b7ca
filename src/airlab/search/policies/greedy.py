"""Greedy search: the AIDE rule, with patience.

Draft until ``num_drafts`` drafts exist; otherwise, with probability ``debug_prob``, debug a buggy
leaf whose debug chain is shorter than ``max_debug_depth``; otherwise improve the best node.

Patience: a node that already has ``patience`` improve children, none of which beat it, has had its
chance; the next best node with fewer tries is improved instead, and when every valid node has used
its tries a fresh draft is written. Without it a long run can spend most of its budget re-tuning one
node whose neighbourhood is exhausted. ``patience: 0`` turns it off (plain AIDE).
"""

from __future__ import annotations

import random
from collections import Counter

from pydantic import Field

from airlab.search.journal import Journal
from airlab.search.node import Operator
from airlab.search.policy import Action, Policy, PolicyParams, register_policy


class GreedyParams(PolicyParams):
    num_drafts: int = Field(5, ge=1)
    debug_prob: float = Field(0.5, ge=0, le=1)
    max_debug_depth: int = Field(3, ge=0)
    patience: int = Field(8, ge=0)


@register_policy
class Greedy(Policy):
    name = "greedy"
    Params = GreedyParams
    params: GreedyParams

    def propose(self, journal: Journal, rng: random.Random) -> Action:
        p = self.params
        if len(journal.drafts) < p.num_drafts:
            return Action(operator=Operator.DRAFT)
        debuggable = [n for n in journal.buggy_leaves if n.debug_depth < p.max_debug_depth]
        if debuggable and rng.random() < p.debug_prob:
            return Action(operator=Operator.DEBUG, parents=[rng.choice(debuggable).id])
        ranked = journal.ranked()
        if not ranked:
            return Action(operator=Operator.DRAFT)
        if not p.patience:
            return Action(operator=Operator.IMPROVE, parents=[ranked[0].id])
        tries = Counter(n.parents[0] for n in journal if n.operator == Operator.IMPROVE and n.parents)
        for node in ranked:
            if tries[node.id] < p.patience:
                return Action(operator=Operator.IMPROVE, parents=[node.id])
        return Action(operator=Operator.DRAFT)
