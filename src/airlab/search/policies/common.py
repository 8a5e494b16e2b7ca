"""Building blocks shared by the search policies, so no policy re-implements another's rules.

Everything here reads scores only through ``node.search_score`` and the journal's metric, and
every random choice goes through the ``rng`` the engine passes to ``propose`` (seeded per node).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import TypeVar

from airlab.search.journal import Journal
from airlab.search.node import Node, Operator
from airlab.search.policy import Action
from airlab.tasks.objective import Objective

T = TypeVar("T")


class ScoreScale:
    """Min-max normalisation of search scores to [0, 1], where 1 is the best score seen.

    The direction comes from the metric, so the same code serves accuracy and RMSE. When all
    scores are equal every valid score maps to 1.0 (a valid node still beats a buggy one, which
    policies count as 0).
    """

    def __init__(self, metric: Objective, nodes: Sequence[Node]):
        self.metric = metric
        goods = [self._gain(float(n.search_score)) for n in nodes if n.is_ok]  # type: ignore[arg-type]
        self.lo = min(goods, default=0.0)
        self.hi = max(goods, default=0.0)

    def _gain(self, score: float) -> float:
        return score if self.metric.higher_is_better else -score

    def __call__(self, score: float) -> float:
        if self.hi <= self.lo:
            return 1.0
        return (self._gain(score) - self.lo) / (self.hi - self.lo)

    def of(self, node: Node) -> float:
        """The normalised value of a node: its scaled score, or 0 when it has no valid score."""
        return self(float(node.search_score)) if node.is_ok else 0.0  # type: ignore[arg-type]


def at_least(metric: Objective, score: float, reference: float) -> bool:
    """True if ``score`` is at least as good as ``reference`` under the metric's direction."""
    return not metric.better(reference, score)


def softmax_weights(fitness: Sequence[float], temperature: float) -> list[float]:
    """Selection probabilities ``exp(f / T)`` normalised; numerically stable for small ``T``."""
    if not fitness:
        return []
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    top = max(fitness)
    raw = [math.exp((f - top) / temperature) for f in fitness]
    total = sum(raw)
    return [r / total for r in raw]


def rank_fitness(n: int) -> list[float]:
    """Fitness from rank alone for ``n`` items sorted best first: 1.0 for the best, 0.0 for the worst.

    Rank selection ignores score gaps (a population of near-ties is still ordered), which keeps
    the selection pressure the same on every task and metric.
    """
    if n == 1:
        return [1.0]
    return [1.0 - r / (n - 1) for r in range(n)]


def choose(items: Sequence[T], weights: Sequence[float], rng: random.Random, k: int = 1) -> list[T]:
    """``k`` distinct items drawn without replacement with the given weights."""
    if k > len(items):
        raise ValueError(f"cannot choose {k} of {len(items)} items")
    pool = list(range(len(items)))
    left = list(weights)
    picked: list[T] = []
    for _ in range(k):
        total = sum(left[i] for i in pool)
        x = rng.random() * total
        chosen = pool[-1]
        for i in pool:
            x -= left[i]
            if x < 0:
                chosen = i
                break
        pool.remove(chosen)
        picked.append(items[chosen])
    return picked


def softmax_selection_weights(journal: Journal, nodes: Sequence[Node], temperature: float) -> list[float]:
    """Softmax over min-max normalised fitness within ``nodes`` (which must all be valid)."""
    scale = ScoreScale(journal.metric, nodes)
    return softmax_weights([scale.of(n) for n in nodes], temperature)


def rank_selection_weights(n: int, temperature: float) -> list[float]:
    """Softmax over rank fitness for ``n`` items sorted best first."""
    return softmax_weights(rank_fitness(n), temperature)


def breed(candidates: Sequence[Node], weights: Sequence[float], crossover_prob: float, rng: random.Random) -> Action:
    """An IMPROVE of one selected parent or, with ``crossover_prob`` when at least two candidates
    exist, a CROSSOVER of two distinct selected parents (the better-weighted draw first)."""
    if len(candidates) >= 2 and rng.random() < crossover_prob:
        a, b = choose(candidates, weights, rng, k=2)
        return Action(operator=Operator.CROSSOVER, parents=[a.id, b.id])
    (parent,) = choose(candidates, weights, rng)
    return Action(operator=Operator.IMPROVE, parents=[parent.id])


def debug_action(journal: Journal, max_debug_depth: int) -> Action | None:
    """Continue the oldest open debug chain: a buggy leaf whose chain is shorter than the bound.

    A buggy node with any child (pending included) is not a leaf, so an in-flight fix is never
    duplicated; a chain ends when a fix succeeds, the coder fails, or the depth bound is hit.
    """
    for node in journal.buggy_leaves:
        if node.debug_depth < max_debug_depth:
            return Action(operator=Operator.DEBUG, parents=[node.id])
    return None
