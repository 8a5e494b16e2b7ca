"""Colonel Blotto: the candidate's ``allocate`` plays repeated games against hidden opponents.

Ten castles are worth 1, 2, ..., 10 points; each player spreads ``budget`` soldiers over them at
once. A castle goes to the player with more soldiers on it (a tie splits its points); the player
with more points wins the game (1), equal points are a tie (0.5). Each opponent of a role plays a
match of ``games`` games against the candidate; in each game both players see the allocations
of the earlier games of the match, so either may adapt. The score is the candidate's mean result
over every game of every match (its win rate, ties counting half).

The opponents live here, in the harness; the candidate is reached only through its sandboxed
session, one call per game. All randomness is drawn from generators seeded by the role's seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from airlab.tasks.program.harness import Candidate, Rejected, RoleSet

VALUES = list(range(1, 11))
DEFAULTS = {"games": 60, "budget": 100}

Allocation = list[int]
# An opponent allocates from the values, the budget, its own earlier allocations of the match,
# the candidate's, and its generator.
Opponent = Callable[[list[int], int, list[Allocation], list[Allocation], random.Random], Allocation]


def spread(weights: list[float], budget: int) -> Allocation:
    """``budget`` soldiers in proportion to ``weights`` (largest remainders get the rest)."""
    total = sum(weights)
    if total <= 0:
        weights, total = [1.0] * len(weights), float(len(weights))
    shares = [budget * w / total for w in weights]
    counts = [math.floor(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - shares[i], -i))
    for i in order[: budget - sum(counts)]:
        counts[i] += 1
    return counts


def points(mine: Allocation, theirs: Allocation, values: list[int]) -> tuple[float, float]:
    ours = sum(v for v, a, b in zip(values, mine, theirs, strict=True) if a > b)
    their = sum(v for v, a, b in zip(values, mine, theirs, strict=True) if a < b)
    split = sum(v for v, a, b in zip(values, mine, theirs, strict=True) if a == b) / 2
    return ours + split, their + split


def result(mine: Allocation, theirs: Allocation, values: list[int]) -> float:
    ours, their = points(mine, theirs, values)
    return 1.0 if ours > their else 0.5 if ours == their else 0.0


def _jittered(weights: list[float], jitter: float, budget: int, rng: random.Random) -> Allocation:
    return spread([w * math.exp(rng.gauss(0.0, jitter)) if w > 0 else 0.0 for w in weights], budget)


def _fixed(weight: Callable[[int], float], jitter: float) -> Opponent:
    """A fixed profile over the castles, jittered anew every game."""

    def play(values: list[int], budget: int, own: list[Allocation], other: list[Allocation],
             rng: random.Random) -> Allocation:
        return _jittered([weight(v) for v in values], jitter, budget, rng)

    return play


def _template(template: Allocation, jitter: float) -> Opponent:
    """A published allocation (for 100 soldiers), jittered anew every game."""
    return _fixed(lambda v: float(template[v - 1]), jitter)


def _coalition(threshold: float, exponent: float, jitter: float) -> Opponent:
    """A random set of castles worth at least ``threshold`` of the points, weighted by value."""

    def play(values: list[int], budget: int, own: list[Allocation], other: list[Allocation],
             rng: random.Random) -> Allocation:
        order = list(range(len(values)))
        rng.shuffle(order)
        chosen, worth = set(), 0
        for i in order:
            chosen.add(i)
            worth += values[i]
            if worth >= threshold * sum(values):
                break
        weights = [values[i] ** exponent if i in chosen else 0.0 for i in range(len(values))]
        return _jittered(weights, jitter, budget, rng)

    return play


def _dirichlet(concentration: float) -> Opponent:
    def play(values: list[int], budget: int, own: list[Allocation], other: list[Allocation],
             rng: random.Random) -> Allocation:
        return spread([rng.gammavariate(concentration, 1.0) for _ in values], budget)

    return play


def _outbid(target: list[float], values: list[int], budget: int, margin: int, rng: random.Random) -> Allocation:
    """Win just over half the points as cheaply as possible against ``target``; the rest spread."""
    need = sum(values) / 2
    cost = [math.floor(t) + margin for t in target]
    order = sorted(range(len(values)), key=lambda i: (cost[i] / values[i], rng.random()))
    allocation, worth, spent = [0] * len(values), 0, 0
    for i in order:
        if worth > need:
            break
        if spent + cost[i] <= budget:
            allocation[i] = cost[i]
            spent += cost[i]
            worth += values[i]
    chosen = [float(v) if allocation[i] or not spent else 0.0 for i, v in enumerate(values)]
    extra = spread(chosen, budget - spent)
    return [a + e for a, e in zip(allocation, extra, strict=True)]


def _shadow(margin: int, memory: int) -> Opponent:
    """Outbids the mean of the candidate's last ``memory`` allocations (proportional at first)."""

    def play(values: list[int], budget: int, own: list[Allocation], other: list[Allocation],
             rng: random.Random) -> Allocation:
        if not other:
            return _jittered([float(v) for v in values], 0.3, budget, rng)
        recent = other[-memory:]
        mean = [sum(a[i] for a in recent) / len(recent) for i in range(len(values))]
        return _outbid(mean, values, budget, margin, rng)

    return play


# Published allocations of the first "Battle for Riddler Nation" (10 castles, 100 soldiers).
RIDDLER_WINNER = [3, 5, 8, 10, 13, 1, 26, 30, 2, 2]
RIDDLER_SECOND = [0, 3, 4, 11, 12, 2, 24, 31, 6, 7]
RIDDLER_THIRD = [3, 5, 7, 10, 11, 14, 16, 12, 20, 2]

OPPONENTS: dict[str, Opponent] = {
    "uniform": _fixed(lambda v: 1.0, 0.15),
    "proportional": _fixed(lambda v: float(v), 0.2),
    "sqrt_value": _fixed(lambda v: v ** 0.5, 0.2),
    "value_squared": _fixed(lambda v: float(v * v), 0.2),
    "top_four": _fixed(lambda v: float(v) if v >= 7 else 0.0, 0.2),
    "top_five": _fixed(lambda v: 1.0 if v >= 6 else 0.0, 0.2),
    "cheap_seven": _fixed(lambda v: 1.0 if v <= 7 else 0.0, 0.2),
    "middle_six": _fixed(lambda v: float(v) if 3 <= v <= 8 else 0.0, 0.2),
    "riddler_winner": _template(RIDDLER_WINNER, 0.25),
    "riddler_second": _template(RIDDLER_SECOND, 0.25),
    "riddler_third": _template(RIDDLER_THIRD, 0.25),
    "coalition_half": _coalition(0.55, 1.0, 0.2),
    "coalition_flat": _coalition(0.6, 0.0, 0.2),
    "coalition_steep": _coalition(0.6, 1.5, 0.2),
    "random_even": _dirichlet(4.0),
    "random_lumpy": _dirichlet(1.0),
    "shadow": _shadow(1, 3),
    "shadow_long": _shadow(2, 10),
    "shadow_last": _shadow(1, 1),
}

Allocator = Callable[[list[int], int, list[Allocation], list[Allocation]], object]


def check(answer: object, budget: int, label: str) -> Allocation:
    """The answer as an allocation, or Rejected saying what is wrong with it."""
    where = f"allocate() in {label}"
    if not isinstance(answer, list) or len(answer) != len(VALUES):
        kind = f"a list of {len(answer)}" if isinstance(answer, list) else type(answer).__name__
        raise Rejected(f"{where} returned {kind} ({str(answer)[:80]}); it must return a list of "
                       f"{len(VALUES)} whole numbers of soldiers, one per castle")
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in answer):
        raise Rejected(f"{where} returned {str(answer)[:120]}: every entry must be a whole number "
                       f"(int, not float or str)")
    if any(a < 0 for a in answer):
        raise Rejected(f"{where} returned {answer}: no castle may get a negative number of soldiers")
    if sum(answer) != budget:
        raise Rejected(f"{where} returned {answer}, which uses {sum(answer)} soldiers; "
                       f"it must use exactly {budget}")
    return list(answer)


def play_match(allocate: Allocator, opponent: Opponent, games: int, budget: int, rng: random.Random,
               label: str) -> float:
    """The candidate's total result over one match."""
    mine: list[Allocation] = []
    theirs: list[Allocation] = []
    total = 0.0
    for game in range(games):
        ours = check(allocate(VALUES, budget, mine, theirs), budget, f"game {game + 1} of {label}")
        reply = opponent(VALUES, budget, theirs, mine, rng)
        total += result(ours, reply, VALUES)
        mine.append(ours)
        theirs.append(reply)
    return total


def play_role(allocate: Allocator, role: RoleSet) -> float:
    """The candidate's mean result per game over the role's matches."""
    settings = {**DEFAULTS, **role.settings}
    games, budget = int(settings["games"]), int(settings["budget"])
    total = 0.0
    for number, name in enumerate(role.instances):
        rng = random.Random(f"{role.seed}/{name}")
        total += play_match(allocate, OPPONENTS[str(name)], games, budget, rng,
                            f"the match against opponent {number + 1}")
    return total / (games * len(role.instances))


def evaluate(candidate: Candidate, role: RoleSet) -> float:
    with candidate.connect("strategy.py") as session:
        return play_role(lambda values, budget, mine, theirs: session.call("allocate", values, budget, mine, theirs),
                         role)
