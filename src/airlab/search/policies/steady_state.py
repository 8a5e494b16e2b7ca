"""Steady-state asynchronous evolution (the AIRA_2 policy).

One shared population and no generation barrier: whenever a worker frees up, the engine asks for
the next child and gets one at once. The population is the ``population_size`` best valid nodes by
search score. Parents are drawn by rank with a softmax at ``temperature`` (rank 0 has fitness 1,
the last rank 0), so selection pressure does not depend on score gaps; with probability
``crossover_prob`` the child is a crossover of two distinct parents, otherwise an improvement of one.

In-flight work is accounted for: drafts still running count toward ``num_drafts``, and a node with a
child still running is not picked as a parent while another member is free, so parallel workers do
not pile onto one parent. Open debug chains are continued first. The policy keeps no state: the
population is a function of the journal, so a resumed run continues exactly where it stopped.
"""

from __future__ import annotations

import random

from pydantic import Field

from airlab.search.journal import Journal
from airlab.search.node import Node, Operator
from airlab.search.policies.common import breed, debug_action, rank_selection_weights
from airlab.search.policy import Action, Policy, PolicyParams, register_policy


class SteadyStateParams(PolicyParams):
    num_drafts: int = Field(5, ge=1, description="Drafts before evolution starts (running ones count).")
    population_size: int = Field(20, ge=1, description="The best valid nodes kept as parents.")
    temperature: float = Field(0.2, gt=0, description="Rank-selection temperature.")
    crossover_prob: float = Field(0.2, ge=0, le=1)
    max_debug_depth: int = Field(3, ge=0)


@register_policy
class SteadyState(Policy):
    name = "steady-state"
    Params = SteadyStateParams
    params: SteadyStateParams

    def population(self, journal: Journal) -> list[Node]:
        """The current population, best first."""
        return journal.ranked()[: self.params.population_size]

    def propose(self, journal: Journal, rng: random.Random) -> Action | None:
        p = self.params
        fix = debug_action(journal, p.max_debug_depth)
        if fix is not None:
            return fix
        population = self.population(journal)
        if len(journal.drafts) < p.num_drafts:
            return Action(operator=Operator.DRAFT)
        if not population:  # no valid node yet: wait for running ones, else draft again
            return None if journal.pending else Action(operator=Operator.DRAFT)
        busy = {parent for n in journal.pending for parent in n.parents}
        free = [n for n in population if n.id not in busy] or population
        return breed(free, rank_selection_weights(len(free), p.temperature), p.crossover_prob, rng)
