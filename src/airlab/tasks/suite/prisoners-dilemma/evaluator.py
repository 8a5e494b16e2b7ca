"""Iterated prisoner's dilemma: the candidate's ``move`` plays noisy matches against hidden opponents.

Each opponent of a role plays ``matches`` matches against the candidate. A match lasts a number
of rounds drawn between ``min_rounds`` and ``max_rounds`` (the candidate is not told how many);
in each round both players choose "C" or "D" at once, then each executed move is flipped with
probability ``noise``. Both players see the executed moves. The score is the candidate's mean
payoff per round over every round of every match (T=5, R=3, P=1, S=0).

The opponents live here, in the harness; the candidate is reached only through its sandboxed
session, one call per round with the two histories so far. All randomness (match lengths, noise,
stochastic opponents) is drawn from generators seeded by the role's seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from airlab.tasks.program.harness import Candidate, Rejected, RoleSet

MOVES = ("C", "D")
PAYOFF = {"CC": 3, "CD": 0, "DC": 5, "DD": 1}  # the first player's payoff for (first, second)
DEFAULTS = {"matches": 2, "min_rounds": 60, "max_rounds": 100, "noise": 0.03}

# An opponent chooses its move from its own executed moves, the candidate's, and its generator.
Opponent = Callable[[str, str, random.Random], str]


def _flip(move: str) -> str:
    return "D" if move == "C" else "C"


def tit_for_tat(own: str, other: str, rng: random.Random) -> str:
    return other[-1] if other else "C"


def suspicious_tit_for_tat(own: str, other: str, rng: random.Random) -> str:
    return other[-1] if other else "D"


def tit_for_two_tats(own: str, other: str, rng: random.Random) -> str:
    return "D" if other.endswith("DD") else "C"


def generous_tit_for_tat(own: str, other: str, rng: random.Random) -> str:
    if not other or other[-1] == "C":
        return "C"
    return "C" if rng.random() < 0.3 else "D"


def joss(own: str, other: str, rng: random.Random) -> str:
    if other and other[-1] == "D":
        return "D"
    return "D" if rng.random() < 0.1 else "C"


def grim_trigger(own: str, other: str, rng: random.Random) -> str:
    return "D" if "D" in other else "C"


def pavlov(own: str, other: str, rng: random.Random) -> str:
    if not own:
        return "C"
    return own[-1] if other[-1] == "C" else _flip(own[-1])


def always_defect(own: str, other: str, rng: random.Random) -> str:
    return "D"


def always_cooperate(own: str, other: str, rng: random.Random) -> str:
    return "C"


def _random(p_cooperate: float) -> Opponent:
    def play(own: str, other: str, rng: random.Random) -> str:
        return "C" if rng.random() < p_cooperate else "D"

    return play


def alternator(own: str, other: str, rng: random.Random) -> str:
    return "C" if len(own) % 2 == 0 else "D"


def detective(own: str, other: str, rng: random.Random) -> str:
    """C, D, C, C; then tit for tat if the other ever defected in those rounds, else always D."""
    opening = "CDCC"
    if len(own) < len(opening):
        return opening[len(own)]
    return other[-1] if "D" in other[: len(opening)] else "D"


def prober(own: str, other: str, rng: random.Random) -> str:
    """D, C, C; then always D if the other did not answer the first D, else tit for tat."""
    opening = "DCC"
    if len(own) < len(opening):
        return opening[len(own)]
    return "D" if other[1:3] == "CC" else other[-1]


def gradual(own: str, other: str, rng: random.Random) -> str:
    """After the other's n-th defection, defect n times, then cooperate twice."""
    punish, calm, count = 0, 0, 0
    for theirs in other:  # replay its states: the move of each round was decided before it
        if punish:
            punish -= 1
            calm = 0 if punish else 2
        elif calm:
            calm -= 1
        elif theirs == "D":
            count += 1
            punish = count
    return "D" if punish else "C"


def zd_extortion(own: str, other: str, rng: random.Random) -> str:
    """An extortionate zero-determinant strategy: P(C) after CC, CD, DC, DD = 8/9, 1/2, 1/3, 0."""
    if not own:
        return "C"
    p = {"CC": 8 / 9, "CD": 1 / 2, "DC": 1 / 3, "DD": 0.0}[own[-1] + other[-1]]
    return "C" if rng.random() < p else "D"


def soft_majority(own: str, other: str, rng: random.Random) -> str:
    return "C" if other.count("C") >= other.count("D") else "D"


def firm_but_fair(own: str, other: str, rng: random.Random) -> str:
    """P(C) after CC, CD, DC, DD = 1, 0, 1, 2/3."""
    if not own:
        return "C"
    p = {"CC": 1.0, "CD": 0.0, "DC": 1.0, "DD": 2 / 3}[own[-1] + other[-1]]
    return "C" if rng.random() < p else "D"


OPPONENTS: dict[str, Opponent] = {
    "tit_for_tat": tit_for_tat,
    "suspicious_tit_for_tat": suspicious_tit_for_tat,
    "tit_for_two_tats": tit_for_two_tats,
    "generous_tit_for_tat": generous_tit_for_tat,
    "joss": joss,
    "grim_trigger": grim_trigger,
    "pavlov": pavlov,
    "always_defect": always_defect,
    "always_cooperate": always_cooperate,
    "random_30": _random(0.3),
    "random_50": _random(0.5),
    "random_70": _random(0.7),
    "alternator": alternator,
    "detective": detective,
    "prober": prober,
    "gradual": gradual,
    "zd_extortion": zd_extortion,
    "soft_majority": soft_majority,
    "firm_but_fair": firm_but_fair,
}

Mover = Callable[[str, str], object]


def play_match(move: Mover, opponent: Opponent, rounds: int, noise: float, rng: random.Random,
               label: str) -> int:
    """The candidate's total payoff over one match; ``move(mine, theirs)`` is its answer."""
    mine, theirs, total = "", "", 0
    for index in range(rounds):
        answer = move(mine, theirs)
        if answer not in MOVES:
            raise Rejected(f"move() returned {answer!r:.80} in round {index + 1} of {label}; "
                           f"it must return the string 'C' (cooperate) or 'D' (defect)")
        ours = str(answer)
        reply = opponent(theirs, mine, rng)
        if rng.random() < noise:
            ours = _flip(ours)
        if rng.random() < noise:
            reply = _flip(reply)
        mine += ours
        theirs += reply
        total += PAYOFF[ours + reply]
    return total


def play_role(move: Mover, role: RoleSet) -> float:
    """The mean payoff per round of ``move`` over the role's matches."""
    settings = {**DEFAULTS, **role.settings}
    total, rounds_played = 0, 0
    for number, name in enumerate(role.instances):
        opponent = OPPONENTS[str(name)]
        for match in range(int(settings["matches"])):
            rng = random.Random(f"{role.seed}/{name}/{match}")
            rounds = rng.randint(int(settings["min_rounds"]), int(settings["max_rounds"]))
            label = f"match {match + 1} against opponent {number + 1}"
            total += play_match(move, opponent, rounds, float(settings["noise"]), rng, label)
            rounds_played += rounds
    return total / rounds_played


def evaluate(candidate: Candidate, role: RoleSet) -> float:
    with candidate.connect("strategy.py") as session:
        return play_role(lambda mine, theirs: session.call("move", mine, theirs), role)
