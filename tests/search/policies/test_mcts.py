"""MCTS on hand-built journals: UCT choice, backup, expansion, debug chains, waiting."""

from __future__ import annotations

import math
import random

import pytest

from airlab.errors import AirlabError
from airlab.search.journal import Journal
from airlab.search.node import NodeStatus, Operator
from airlab.search.policies.common import ScoreScale
from airlab.search.policies.mcts import MCTS, ROOT
from airlab.search.policy import make_policy
from tests.search.policies.helpers import journal, node, replay

RNG = random.Random(0)


def mcts(**params: object) -> MCTS:
    policy = make_policy("mcts", params)
    assert isinstance(policy, MCTS)
    return policy


def tree() -> Journal:
    """Root -> 0 (0.9) -> {2 (0.9), 3 (0.9)}; root -> 1 (0.6). Node 0 and the root are full."""
    return journal(node(0, score=0.9), node(1, score=0.6), node(2, "i", (0,), 0.9), node(3, "i", (0,), 0.9))


def test_defaults_are_the_published_ones() -> None:
    p = mcts().params
    assert (p.uct_c, p.num_children) == (0.25, 5)


def test_backup_adds_values_along_the_path() -> None:
    j = tree()
    policy = replay(mcts(num_children=2), j)
    assert policy.visits == {ROOT: 4, 0: 3, 1: 1, 2: 1, 3: 1}
    scale = ScoreScale(j.metric, j.finished)
    assert policy.mean_value(0, scale) == 1.0 and policy.mean_value(1, scale) == 0.0
    expected = 1.0 + 0.25 * math.sqrt(math.log(4) / 3)
    assert policy.uct(j[0], ROOT, scale) == pytest.approx(expected)


def test_uct_exploits_with_small_c_and_explores_with_large_c() -> None:
    j = tree()
    # c = 0.25: 1 + 0.25*0.68 beats 0 + 0.25*1.18 -> descend into 0, whose children 2 and 3 tie:
    # the earlier one (2) has no children yet, so it is expanded.
    action = replay(mcts(num_children=2), j).propose(j, RNG)
    assert action is not None and (action.operator, action.parents) == (Operator.IMPROVE, [2])
    # c = 5: 1 + 5*0.68 = 4.4 < 0 + 5*1.18 = 5.9 -> the rarely visited draft 1.
    action = replay(mcts(num_children=2, uct_c=5.0), j).propose(j, RNG)
    assert action is not None and (action.operator, action.parents) == (Operator.IMPROVE, [1])


def test_lower_is_better_metric() -> None:
    j = journal(node(0, score=0.9), node(1, score=0.6), metric="rmse")
    action = replay(mcts(num_children=2, uct_c=0.0), j).propose(j, RNG)
    assert action is not None and action.parents == [1]


def test_drafts_from_the_root_count_running_ones() -> None:
    assert mcts().propose(journal(), RNG) == mcts().propose(journal(node(0, score=0.5)), RNG)
    assert mcts().propose(journal(), RNG).operator == Operator.DRAFT  # type: ignore[union-attr]
    running = journal(node(0, status=NodeStatus.PENDING), node(1, status=NodeStatus.PENDING))
    assert replay(mcts(num_children=2), running).propose(running, RNG) is None  # wait, do not over-draft
    stuck = journal(node(0, status=NodeStatus.FAILED), node(1, status=NodeStatus.FAILED))
    action = replay(mcts(num_children=2), stuck).propose(stuck, RNG)
    assert action is not None and action.operator == Operator.DRAFT  # nothing running: draft again


def test_buggy_child_enters_a_bounded_debug_chain_and_a_fix_is_descended_into() -> None:
    j = journal(node(0, score=0.5), node(1), node(2, "i", (0,), 0.6))
    action = replay(mcts(num_children=3), j).propose(j, RNG)
    assert action is not None and (action.operator, action.parents) == (Operator.DEBUG, [1])
    # The chain reached the bound: the buggy node is left alone and search goes on.
    j.put(node(3, "g", (1,), depth=1))
    action = replay(mcts(num_children=3, max_debug_depth=1), j).propose(j, RNG)
    assert action is not None and action.operator == Operator.DRAFT
    # A successful fix makes the buggy draft's subtree selectable, through the fixed node.
    fixed = journal(node(0, score=0.5), node(1), node(2, "g", (1,), 0.9, depth=1))
    action = replay(mcts(num_children=2, uct_c=0.0), fixed).propose(fixed, RNG)
    assert action is not None and (action.operator, action.parents) == (Operator.IMPROVE, [2])


def test_replay_order_does_not_change_statistics() -> None:
    j = tree()
    forward = replay(mcts(), j)
    backward = mcts()
    for n in reversed(j.finished):
        backward.observe(n, j)
    assert forward.visits == backward.visits
    assert {k: sorted(map(str, v)) for k, v in forward.values.items()} == {k: sorted(map(str, v)) for k, v in backward.values.items()}


def test_bad_parameters_name_the_parameter() -> None:
    with pytest.raises(AirlabError, match="uct_cc"):
        make_policy("mcts", {"uct_cc": 1})
    with pytest.raises(AirlabError, match="num_children"):
        make_policy("mcts", {"num_children": 0})
