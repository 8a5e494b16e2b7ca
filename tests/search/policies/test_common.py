"""Shared selection helpers: normalisation, softmax/rank weights, sampling, debug chains."""

from __future__ import annotations

import math
import random

import pytest

from airlab.search.node import NodeStatus, Operator
from airlab.search.policies.common import (
    ScoreScale,
    at_least,
    breed,
    choose,
    debug_action,
    rank_selection_weights,
    softmax_weights,
)
from airlab.tasks.prediction.metrics import get_metric
from tests.search.policies.helpers import journal, node


def test_score_scale_follows_metric_direction() -> None:
    nodes = [node(0, score=0.5), node(1, score=0.9), node(2), node(3, score=0.7)]
    acc = ScoreScale(get_metric("accuracy"), nodes)
    assert acc(0.9) == 1.0 and acc(0.5) == 0.0 and acc(0.7) == pytest.approx(0.5)
    assert acc.of(nodes[2]) == 0.0  # a buggy node is worth nothing
    rmse = ScoreScale(get_metric("rmse"), nodes)
    assert rmse(0.5) == 1.0 and rmse(0.9) == 0.0
    assert ScoreScale(get_metric("accuracy"), [node(0, score=0.8), node(1, score=0.8)])(0.8) == 1.0


def test_at_least() -> None:
    assert at_least(get_metric("accuracy"), 0.8, 0.8) and not at_least(get_metric("accuracy"), 0.7, 0.8)
    assert at_least(get_metric("rmse"), 0.7, 0.8) and not at_least(get_metric("rmse"), 0.9, 0.8)


def test_softmax_temperature_sharpens_and_flattens() -> None:
    fitness = [1.0, 0.5, 0.0]
    cold, warm = softmax_weights(fitness, 0.05), softmax_weights(fitness, 100.0)
    assert sum(cold) == pytest.approx(1) and sum(warm) == pytest.approx(1)
    assert cold[0] > 0.999
    assert max(warm) - min(warm) < 0.01
    assert softmax_weights([1000.0, 0.0], 0.001) == [1.0, 0.0]  # no overflow
    with pytest.raises(ValueError):
        softmax_weights(fitness, 0.0)


def test_rank_weights_ignore_score_gaps() -> None:
    w = rank_selection_weights(5, 0.2)
    assert w == sorted(w, reverse=True)
    # fitness 1, .75, .5, .25, 0 at T=0.2: the best has exp(0) / sum(exp(-1.25 k)).
    assert w[0] == pytest.approx(1 / sum(math.exp(-1.25 * k) for k in range(5)))
    assert w[0] == pytest.approx(0.715, abs=1e-3)
    assert rank_selection_weights(1, 0.2) == [1.0]


def test_choose_is_distinct_and_weighted() -> None:
    rng = random.Random(1)
    for _ in range(200):
        a, b = choose(["a", "b", "c"], [0.5, 0.5, 0.0], rng, k=2)
        assert {a, b} == {"a", "b"}
    with pytest.raises(ValueError):
        choose(["a"], [1.0], rng, k=2)


def test_breed_improves_or_crosses_over() -> None:
    parents = [node(0, score=0.9), node(1, score=0.8)]
    always = breed(parents, [0.5, 0.5], 1.0, random.Random(0))
    assert always.operator == Operator.CROSSOVER and sorted(always.parents) == [0, 1]
    never = breed(parents, [0.5, 0.5], 0.0, random.Random(0))
    assert never.operator == Operator.IMPROVE and len(never.parents) == 1
    alone = breed(parents[:1], [1.0], 1.0, random.Random(0))  # one candidate cannot cross over
    assert alone.operator == Operator.IMPROVE and alone.parents == [0]


def test_debug_action_continues_the_oldest_open_chain() -> None:
    j = journal(
        node(0),  # buggy, its fix (node 2) is still running
        node(1, score=0.5),
        node(2, "g", (0,), status=NodeStatus.PENDING, depth=1),
        node(3, "i", (1,)),  # buggy leaf, depth 0
        node(4, "i", (1,), depth=0, status=NodeStatus.FAILED),  # the coder failed: nothing to debug
    )
    assert debug_action(j, 3) == debug_action(j, 1)
    action = debug_action(j, 3)
    assert action is not None and action.operator == Operator.DEBUG and action.parents == [3]
    assert debug_action(j, 0) is None
    deep = journal(node(0, score=0.5), node(1, "i", (0,)), node(2, "g", (1,), depth=1))
    assert debug_action(deep, 1) is None  # the chain hit its bound
    assert debug_action(deep, 2) is not None
