"""Greedy (AIDE) with patience, on hand-built journals."""

from __future__ import annotations

import random

from airlab.search.node import Operator
from airlab.search.policies.greedy import Greedy, GreedyParams
from tests.search.policies.helpers import journal, node


def _drafts() -> list:
    return [node(i, score=s) for i, s in enumerate([0.7, 0.9, 0.8])]


def test_improves_the_best_node_after_the_drafts() -> None:
    policy = Greedy(GreedyParams(num_drafts=3))
    action = policy.propose(journal(*_drafts()), random.Random(0))
    assert action.operator == Operator.IMPROVE and action.parents == [1]


def test_an_exhausted_best_node_hands_over_to_the_next_best() -> None:
    tried = [node(10 + k, "i", (1,), score=0.75) for k in range(3)]
    policy = Greedy(GreedyParams(num_drafts=3, patience=3))
    action = policy.propose(journal(*_drafts(), *tried), random.Random(0))
    assert action.parents == [2]  # node 1 had its 3 tries; node 2 (0.8) is next


def test_a_child_that_beats_its_parent_becomes_the_focus() -> None:
    tried = [node(10, "i", (1,), score=0.85), node(11, "i", (1,), score=0.95)]
    policy = Greedy(GreedyParams(num_drafts=3, patience=2))
    assert policy.propose(journal(*_drafts(), *tried), random.Random(0)).parents == [11]


def test_drafts_again_when_every_node_used_its_tries() -> None:
    failed = [node(10 + 2 * p + k, "i", (p,)) for p in range(3) for k in range(2)]  # buggy: not improvable
    policy = Greedy(GreedyParams(num_drafts=3, patience=2, debug_prob=0.0))
    assert policy.propose(journal(*_drafts(), *failed), random.Random(0)).operator == Operator.DRAFT
    policy = Greedy(GreedyParams(num_drafts=3, patience=3, debug_prob=0.0))
    assert policy.propose(journal(*_drafts(), *failed), random.Random(0)).parents == [1]


def test_zero_patience_is_plain_aide() -> None:
    tried = [node(10 + k, "i", (1,), score=0.85) for k in range(20)]
    policy = Greedy(GreedyParams(num_drafts=3, patience=0))
    assert policy.propose(journal(*_drafts(), *tried), random.Random(0)).parents == [1]
