"""Island evolution on hand-built journals: islands, join rule, cap, barrier, crossover, migration."""

from __future__ import annotations

import random

import pytest

from airlab.search.node import NodeStatus, Operator
from airlab.search.policies.evolution import Evolution
from airlab.search.policy import make_policy
from tests.search.policies.helpers import journal, node

RNG = random.Random(0)


def evolution(**params: object) -> Evolution:
    policy = make_policy("evolution", params)
    assert isinstance(policy, Evolution)
    return policy


def test_defaults_are_the_published_ones() -> None:
    p = evolution().params
    assert (p.crossover_prob, p.crossover_from_generation) == (0.5, 2)


def test_initial_drafts_are_dealt_round_robin_to_islands() -> None:
    policy = evolution(num_islands=2, island_drafts=2)
    j = journal(node(0, score=0.5), node(1, score=0.6), node(2), node(3, "g", (2,), 0.7, depth=1))
    assert policy.propose(j, RNG).operator == Operator.DRAFT  # type: ignore[union-attr]
    j.put(node(4, score=0.8))
    pop = policy.population(j)
    assert pop.island_of == {0: 0, 1: 1, 2: 0, 3: 0, 4: 1}  # a debug node stays on its parent's island
    assert pop.islands == [[0, 3], [1, 4]] and pop.generation == 1 and pop.position == 0


def test_a_child_joins_only_if_at_least_the_island_mean() -> None:
    policy = evolution(num_islands=1, island_drafts=2, children_per_island=3)
    j = journal(node(0, score=0.9), node(1, score=0.7),  # mean 0.8
                node(2, "i", (0,), 0.75), node(3, "i", (0,), 0.8), node(4, "i", (1,), 0.85))
    assert policy.population(j).islands == [[0, 1, 3, 4]]
    rmse = journal(node(0, score=0.9), node(1, score=0.7), node(2, "i", (0,), 0.85),
                   node(3, "i", (0,), 0.75), node(4, "i", (1,), 0.7), metric="rmse")
    # Lower is better: 0.85 is worse than the mean 0.8; 0.75 and then 0.7 are better.
    assert policy.population(rmse).islands == [[0, 1, 3, 4]]


def test_island_size_cap_drops_the_worst() -> None:
    policy = evolution(num_islands=1, island_drafts=3, max_island_size=2)
    j = journal(node(0, score=0.6), node(1, score=0.9), node(2, score=0.7))
    assert policy.population(j).islands == [[1, 2]]


def test_generation_barrier_waits_for_running_nodes() -> None:
    policy = evolution(num_islands=1, island_drafts=2, children_per_island=1)
    j = journal(node(0, score=0.9), node(1, status=NodeStatus.PENDING))
    assert policy.propose(j, RNG) is None
    j.put(node(1, score=0.8))
    action = policy.propose(j, RNG)
    assert action is not None and action.operator == Operator.IMPROVE  # generation 1: no crossover yet


def test_crossover_child_has_two_parents_from_the_given_generation_on() -> None:
    policy = evolution(num_islands=1, island_drafts=2, children_per_island=1, crossover_prob=1.0)
    j = journal(node(0, score=0.9), node(1, score=0.8), node(2, "i", (0,), 0.95))
    assert policy.population(j).generation == 2
    action = policy.propose(j, RNG)
    assert action is not None and action.operator == Operator.CROSSOVER
    assert len(set(action.parents)) == 2 and set(action.parents) <= {0, 1, 2}
    earlier = evolution(num_islands=1, island_drafts=2, children_per_island=1, crossover_prob=1.0,
                        crossover_from_generation=3)
    assert earlier.propose(j, RNG).operator == Operator.IMPROVE  # type: ignore[union-attr]


def test_parents_come_from_the_child_island_by_softmax_fitness() -> None:
    policy = evolution(num_islands=2, island_drafts=1, children_per_island=1, temperature=0.01,
                       min_temperature=0.01)
    j = journal(node(0, score=0.5), node(1, score=0.9))
    action = policy.propose(j, RNG)  # position 0 of generation 1 -> island 0, whose only member is 0
    assert action is not None and action.parents == [0]
    j.put(node(2, "i", (0,), 0.6))
    assert policy.propose(j, RNG).parents == [1]  # type: ignore[union-attr]
    cold = evolution(num_islands=1, island_drafts=3, temperature=0.01, min_temperature=0.01)
    three = journal(node(0, score=0.5), node(1, score=0.9), node(2, score=0.7))
    picks = {cold.propose(three, random.Random(s)).parents[0] for s in range(50)}  # type: ignore[union-attr]
    assert picks == {1}
    warm = evolution(num_islands=1, island_drafts=3, temperature=100.0)
    picks = {warm.propose(three, random.Random(s)).parents[0] for s in range(50)}  # type: ignore[union-attr]
    assert picks == {0, 1, 2}


def test_temperature_schedule_decays_to_a_floor() -> None:
    policy = evolution(temperature=1.0, temperature_decay=0.5, min_temperature=0.2)
    assert [policy.temperature(g) for g in (1, 2, 3, 4)] == pytest.approx([1.0, 0.5, 0.25, 0.2])


def test_empty_island_drafts() -> None:
    policy = evolution(num_islands=2, island_drafts=1)
    j = journal(node(0), node(1, score=0.9), node(2, "g", (0,), depth=1))
    action = policy.propose(j, RNG)  # island 0 has no member (its draft stayed buggy)
    assert action is not None and action.operator == Operator.DEBUG  # the chain first
    j = journal(node(0), node(1, score=0.9), node(2, "g", (0,), depth=3))
    assert policy.propose(j, RNG).operator == Operator.DRAFT  # type: ignore[union-attr]


def test_migration_copies_each_island_best_to_the_next() -> None:
    policy = evolution(num_islands=2, island_drafts=1, children_per_island=1, migration_every=1)
    j = journal(node(0, score=0.5), node(1, score=0.9), node(2, "i", (0,), 0.6), node(3, "i", (1,), 0.8))
    pop = policy.population(j)  # generation 1 folded, then the migration before generation 2
    assert pop.generation == 2
    # Island 0 = [0, 2] (0.6 >= 0.5); island 1 = [1] (0.8 < 0.9); then the bests swap copies.
    assert pop.islands == [[0, 2, 1], [1, 2]]
    assert evolution(num_islands=2, island_drafts=1, children_per_island=1).population(j).islands == [[0, 2], [1]]
