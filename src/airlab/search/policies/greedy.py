"""Greedy search, the AIDE rule.

Draft until ``num_drafts`` drafts exist; otherwise, with probability ``debug_prob``, debug a buggy
leaf whose debug chain is shorter than ``max_debug_depth``; otherwise improve the best node.
"""

from __future__ import annotations

import random

from pydantic import Field

from airlab.search.journal import Journal
from airlab.search.node import Operator
from airlab.search.policy import Action, Policy, PolicyParams, register_policy


class GreedyParams(PolicyParams):
    num_drafts: int = Field(5, ge=1)
    debug_prob: float = Field(0.5, ge=0, le=1)
    max_debug_depth: int = Field(3, ge=0)


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
        best = journal.best
        if best is None:
            return Action(operator=Operator.DRAFT)
        return Action(operator=Operator.IMPROVE, parents=[best.id])
