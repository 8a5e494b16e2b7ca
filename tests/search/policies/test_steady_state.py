"""Steady-state evolution on hand-built journals: rank selection with temperature, in-flight work."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from airlab.search.node import NodeStatus, Operator
from airlab.search.policies.common import rank_selection_weights
from airlab.search.policies.steady_state import SteadyState
from airlab.search.policy import make_policy
from tests.search.policies.helpers import journal, node

RNG = random.Random(0)


def steady(**params: object) -> SteadyState:
    policy = make_policy("steady-state", {"num_drafts": 2, "crossover_prob": 0.0, **params})
    assert isinstance(policy, SteadyState)
    return policy


def five() -> list:
    # Scores far apart and close together: rank selection must not care.
    return [node(0, score=0.50), node(1, score=0.99), node(2, score=0.98), node(3, score=0.10), node(4, score=0.97)]


def test_default_temperature_is_published() -> None:
    assert make_policy("steady-state").params.temperature == 0.2  # type: ignore[attr-defined]


def picks(temperature: float, n: int = 2000) -> Counter[int]:
    j = journal(*five())
    policy = steady(temperature=temperature)
    return Counter(policy.propose(j, random.Random(s)).parents[0] for s in range(n))  # type: ignore[union-attr]


def test_rank_selection_respects_temperature() -> None:
    ranked_ids = [1, 2, 4, 0, 3]
    cold = picks(0.2)
    expected = rank_selection_weights(5, 0.2)
    for rank, node_id in enumerate(ranked_ids):
        assert cold[node_id] / 2000 == pytest.approx(expected[rank], abs=0.03)
    assert [cold[i] for i in ranked_ids] == sorted(cold.values(), reverse=True)
    assert set(picks(0.01, 200)) == {1}  # near zero: always the best
    warm = picks(100.0)
    assert all(abs(c / 2000 - 0.2) < 0.04 for c in warm.values())  # high: nearly uniform


def test_drafts_first_counting_running_ones() -> None:
    assert steady().propose(journal(node(0, score=0.5)), RNG).operator == Operator.DRAFT  # type: ignore[union-attr]
    running = journal(node(0, status=NodeStatus.PENDING), node(1, status=NodeStatus.PENDING))
    assert steady().propose(running, RNG) is None  # no valid node yet and drafts running: wait
    failed = journal(node(0, status=NodeStatus.FAILED), node(1, status=NodeStatus.FAILED))
    assert steady().propose(failed, RNG).operator == Operator.DRAFT  # type: ignore[union-attr]


def test_no_barrier_and_busy_parents_are_avoided() -> None:
    j = journal(node(0, score=0.5), node(1, score=0.9), node(2, "i", (1,), status=NodeStatus.PENDING))
    policy = steady(temperature=0.01)
    action = policy.propose(j, RNG)  # node 2 still runs: no waiting, but its parent 1 is busy
    assert action is not None and action.operator == Operator.IMPROVE and action.parents == [0]
    j.put(node(3, "i", (0,), status=NodeStatus.PENDING))
    assert policy.propose(j, RNG).parents == [1]  # type: ignore[union-attr]  # everyone busy: best


def test_population_size_and_crossover() -> None:
    j = journal(*five())
    assert [n.id for n in steady(population_size=2).population(j)] == [1, 2]
    action = steady(crossover_prob=1.0).propose(j, RNG)
    assert action is not None and action.operator == Operator.CROSSOVER
    assert len(set(action.parents)) == 2


def test_debug_chains_come_first() -> None:
    j = journal(node(0, score=0.5), node(1, score=0.6), node(2, "i", (0,)))
    assert steady().propose(j, RNG).operator == Operator.DEBUG  # type: ignore[union-attr]
    assert steady(max_debug_depth=0).propose(j, RNG).operator == Operator.IMPROVE  # type: ignore[union-attr]
