"""Generational island evolution (the aira-dojo evolutionary policy).

The run is a sequence of cohorts of non-debug nodes. Cohort 0 is ``num_islands * island_drafts``
drafts; every later cohort (a generation) is ``num_islands * children_per_island`` children. The
``j``-th node of a cohort belongs to island ``j % num_islands``; a debug node belongs to its
parent's island. So every island assignment is a function of the journal's order alone.

A generation's parents come from the population as it stood when the generation began: all nodes
created before it, folded in node order. Folding a valid node: a draft (or a debug fix of one) joins
its island; a child joins if the island is empty or its score is at least the island's mean; an
island above ``max_island_size`` drops its worst member. Every ``migration_every`` generations (0 = never) each island's best member is copied
into the next island (a ring). A new generation starts only when every earlier node has finished
(the generation barrier; the policy returns None while waiting).

Within a generation, an island picks parents by softmax over its members' min-max normalised
fitness at temperature ``max(min_temperature, temperature * temperature_decay ** (g - 1))``. From
generation ``crossover_from_generation`` on, with probability ``crossover_prob``, the child is a
crossover of two distinct parents; otherwise it improves one parent. An island with no member
drafts instead. Open debug chains are continued first, at any time.

The population is recomputed from the journal on every proposal, so the policy keeps no state and a
resumed run sees exactly the population the original run would have.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pydantic import Field

from airlab.search.journal import Journal
from airlab.search.node import Node, Operator
from airlab.search.policies.common import at_least, breed, debug_action, softmax_selection_weights
from airlab.search.policy import Action, Policy, PolicyParams, register_policy


class EvolutionParams(PolicyParams):
    num_islands: int = Field(2, ge=1)
    island_drafts: int = Field(2, ge=1, description="Drafts per island in the initial population.")
    children_per_island: int = Field(2, ge=1, description="Children per island per generation.")
    max_island_size: int = Field(10, ge=1)
    temperature: float = Field(1.0, gt=0, description="Softmax temperature in generation 1.")
    temperature_decay: float = Field(0.8, gt=0, le=1, description="Factor per generation.")
    min_temperature: float = Field(0.1, gt=0)
    crossover_prob: float = Field(0.5, ge=0, le=1)
    crossover_from_generation: int = Field(2, ge=1)
    migration_every: int = Field(0, ge=0, description="Generations between migrations; 0 = off.")
    max_debug_depth: int = Field(3, ge=0)


@dataclass
class Population:
    """Island membership (node ids) and where the next non-debug node falls."""

    islands: list[list[int]]
    generation: int  # of the next non-debug node; 0 while drafting the initial population
    position: int  # its index within the generation's cohort (its island: position % num_islands)
    waiting: bool  # the cohort is complete but not all nodes have finished (the barrier)
    island_of: dict[int, int] = field(default_factory=dict)


@register_policy
class Evolution(Policy):
    name = "evolution"
    Params = EvolutionParams
    params: EvolutionParams

    def cohort_size(self, generation: int) -> int:
        p = self.params
        return p.num_islands * (p.island_drafts if generation == 0 else p.children_per_island)

    def temperature(self, generation: int) -> float:
        p = self.params
        return max(p.min_temperature, p.temperature * p.temperature_decay ** max(generation - 1, 0))

    def population(self, journal: Journal) -> Population:
        """Fold the journal in node order into islands, one cohort at a time."""
        islands: list[list[int]] = [[] for _ in range(self.params.num_islands)]
        island_of: dict[int, int] = {}
        nodes = journal.nodes
        generation, position, folded = 0, 0, 0  # nodes[:folded] are applied to the islands
        for index, node in enumerate(nodes):
            if node.operator == Operator.DEBUG:
                island_of[node.id] = island_of.get(node.parents[0], 0)
                continue
            if position == self.cohort_size(generation):  # this node opens the next generation
                generation += 1
                self._fold(islands, nodes[folded:index], island_of, journal, generation)
                folded, position = index, 0
            island_of[node.id] = position % self.params.num_islands
            position += 1
        waiting = False
        if position == self.cohort_size(generation):  # the next node opens a generation
            if journal.pending:
                waiting = True
            else:
                generation += 1
                self._fold(islands, nodes[folded:], island_of, journal, generation)
                position = 0
        return Population(islands, generation, position, waiting, island_of)

    def _fold(self, islands: list[list[int]], new: list[Node], island_of: dict[int, int],
              journal: Journal, generation: int) -> None:
        """Apply the nodes made before ``generation`` begins, then migrate if one is due."""
        for node in new:
            if not node.is_ok:
                continue
            if _is_founder(node, journal):
                self._add(islands[island_of[node.id]], node.id, journal)
            else:
                self._join(islands[island_of[node.id]], node, journal)
        every = self.params.migration_every
        if every and generation > 1 and (generation - 1) % every == 0:
            self._migrate(islands, journal)

    def _join(self, island: list[int], node: Node, journal: Journal) -> None:
        """A valid child joins only if the island is empty or it is at least the island's mean."""
        scores = [float(journal[m].search_score) for m in island]  # type: ignore[arg-type]
        if scores and not at_least(journal.metric, float(node.search_score), sum(scores) / len(scores)):  # type: ignore[arg-type]
            return
        self._add(island, node.id, journal)

    def _add(self, island: list[int], node_id: int, journal: Journal) -> None:
        island.append(node_id)
        if len(island) > self.params.max_island_size:  # the cap drops the worst member
            island.remove(journal.ranked([journal[m] for m in island])[-1].id)

    def _migrate(self, islands: list[list[int]], journal: Journal) -> None:
        """Copy each island's best member into the next island (a ring)."""
        bests = [journal.ranked([journal[m] for m in isl])[0].id if isl else None for isl in islands]
        for i, best in enumerate(bests):
            target = islands[(i + 1) % len(islands)]
            if best is not None and best not in target:
                self._add(target, best, journal)

    def propose(self, journal: Journal, rng: random.Random) -> Action | None:
        p = self.params
        fix = debug_action(journal, p.max_debug_depth)
        if fix is not None:
            return fix
        pop = self.population(journal)
        if pop.waiting:
            return None  # generation barrier: the previous generation is still running
        if pop.generation == 0:
            return Action(operator=Operator.DRAFT)
        island = [journal[m] for m in pop.islands[pop.position % p.num_islands]]
        if not island:
            return Action(operator=Operator.DRAFT)
        weights = softmax_selection_weights(journal, island, self.temperature(pop.generation))
        crossover = p.crossover_prob if pop.generation >= p.crossover_from_generation else 0.0
        return breed(island, weights, crossover, rng)


def _is_founder(node: Node, journal: Journal) -> bool:
    """A draft, or a debug fix of one: it seeds its island without the mean test."""
    while node.operator == Operator.DEBUG and node.parents:
        node = journal[node.parents[0]]
    return node.operator == Operator.DRAFT
