"""A Colonel Blotto strategy: allocate(values, budget, my_history, their_history) -> soldiers.

values: the points of each castle ([1, 2, ..., 10]); budget: the soldiers to place (100);
my_history / their_history: the allocations both players made in the earlier games of the
current match (empty lists in its first game). Return one whole number of soldiers per castle,
none negative, summing to the budget exactly. Randomness is seeded from the game's number and the
match so far, so the same match gives the same allocations (and the same score).
"""

from __future__ import annotations

import math
import random

VALUE_EXPONENT = 0.0  # weight of a castle: its value to this power (0: every castle alike)
ABANDON = 0  # how many of the cheapest castles get no soldiers at all
RANDOMNESS = 0.5  # spread of the random factor on every weight (0: always the same allocation)
COUNTER = 0.0  # 0..1: how far to move toward outbidding their mean allocation so far
COUNTER_MARGIN = 2.0  # soldiers above their mean on a castle when countering
SEED = 7


def spread(weights: list[float], budget: int) -> list[int]:
    """``budget`` soldiers in proportion to ``weights``; the largest remainders get the rest."""
    weights = [max(0.0, w) for w in weights]
    total = sum(weights)
    if total <= 0:
        weights, total = [1.0] * len(weights), float(len(weights))
    shares = [budget * w / total for w in weights]
    counts = [math.floor(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: counts[i] - shares[i])
    for i in order[: budget - sum(counts)]:
        counts[i] += 1
    return counts


def outbid(values: list[int], budget: int, their_history: list[list[int]], skip: list[int]) -> list[float]:
    """Their mean allocation plus COUNTER_MARGIN on the castles cheapest to win per point, until
    they are worth more than half the points; the soldiers left go to those castles by value."""
    mean = [sum(game[i] for game in their_history) / len(their_history) for i in range(len(values))]
    order = sorted((i for i in range(len(values)) if i not in skip), key=lambda i: (mean[i] + COUNTER_MARGIN) / values[i])
    plan, worth, spent = [0.0] * len(values), 0, 0.0
    for i in order:
        if worth > sum(values) / 2 or spent + mean[i] + COUNTER_MARGIN > budget:
            break
        plan[i] = mean[i] + COUNTER_MARGIN
        spent += plan[i]
        worth += values[i]
    won = sum(values[i] for i in range(len(values)) if plan[i] > 0)
    return [p + (budget - spent) * values[i] / won if p > 0 else 0.0 for i, p in enumerate(plan)] if won else [
        budget / len(values)] * len(values)


def allocate(values: list[int], budget: int, my_history: list[list[int]],
             their_history: list[list[int]]) -> list[int]:
    rng = random.Random(f"{SEED}:{len(my_history)}:{their_history[-1:]}")
    abandon = min(max(int(ABANDON), 0), len(values) - 1)  # at least one castle keeps soldiers
    cheapest = sorted(range(len(values)), key=lambda i: values[i])[:abandon]
    weights = [0.0 if i in cheapest else float(v) ** VALUE_EXPONENT for i, v in enumerate(values)]
    weights = [w * math.exp(rng.gauss(0.0, RANDOMNESS)) for w in weights]
    plan = [budget * w / sum(weights) for w in weights]
    counter = min(max(COUNTER, 0.0), 1.0)
    if their_history and counter > 0:
        plan = [(1 - counter) * p + counter * c
                for p, c in zip(plan, outbid(values, budget, their_history, cheapest), strict=True)]
    return spread(plan, budget)


if __name__ == "__main__":
    # A few games against an opponent spreading its soldiers evenly, to check that allocate() works.
    values, budget = list(range(1, 11)), 100
    mine: list[list[int]] = []
    theirs: list[list[int]] = []
    wins = 0.0
    for _ in range(10):
        ours = allocate(values, budget, mine, theirs)
        assert len(ours) == len(values) and sum(ours) == budget and min(ours) >= 0, ours
        even = [budget // len(values)] * len(values)
        won = sum(v for v, a, b in zip(values, ours, even, strict=True) if a > b)
        lost = sum(v for v, a, b in zip(values, ours, even, strict=True) if a < b)
        wins += 1.0 if won > lost else 0.5 if won == lost else 0.0
        mine.append(ours)
        theirs.append(even)
    print(f"last allocation: {mine[-1]}")
    print(f"win rate against an even spread: {wins / len(mine):.2f}")
