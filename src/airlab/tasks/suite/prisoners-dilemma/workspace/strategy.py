"""A prisoner's dilemma strategy: move(my_history, their_history) returns "C" or "D".

The histories are the executed moves of the current match so far ("" in the first round), e.g.
my_history="CCD", their_history="CDD". Moves are sometimes flipped by noise, so the histories may
show moves neither player chose. Any randomness is seeded from the histories, so the same game
gives the same moves (and the same score).
"""

from __future__ import annotations

import random

COOPERATE_FIRST = 1  # 1: cooperate in the first round; 0: defect
COOPERATE_PROB = 0.5  # chance to cooperate after they cooperated
RETALIATE_PROB = 0.5  # chance to defect after they defected
FORGIVENESS = 0.0  # chance to cooperate anyway after a round where both defected
EXPLOIT_THRESHOLD = 1.0  # defect for good once they answered more than this share of my defections with C
EXPLOIT_MIN_SAMPLES = 3  # ... counted over at least this many of my defections
SEED = 20240501


def forgiven_share(my_history: str, their_history: str) -> tuple[float, int]:
    """The share of my defections that they answered with C next round, and how many there were."""
    answers = [their_history[i + 1] for i in range(len(my_history) - 1) if my_history[i] == "D"]
    if not answers:
        return 0.0, 0
    return answers.count("C") / len(answers), len(answers)


def move(my_history: str, their_history: str) -> str:
    rng = random.Random(f"{SEED}:{my_history}:{their_history}")
    if not their_history:
        return "C" if COOPERATE_FIRST else "D"
    share, samples = forgiven_share(my_history, their_history)
    if samples >= EXPLOIT_MIN_SAMPLES and share > EXPLOIT_THRESHOLD:
        return "D"
    if their_history[-1] == "C":
        return "C" if rng.random() < COOPERATE_PROB else "D"
    if my_history[-1] == "D" and rng.random() < FORGIVENESS:
        return "C"
    return "D" if rng.random() < RETALIATE_PROB else "C"


if __name__ == "__main__":
    # A few rounds against tit for tat, to check that move() works.
    PAYOFF = {"CC": 3, "CD": 0, "DC": 5, "DD": 1}
    mine, theirs, total = "", "", 0
    for _ in range(20):
        ours = move(mine, theirs)
        reply = mine[-1] if mine else "C"
        assert ours in ("C", "D"), ours
        mine, theirs, total = mine + ours, theirs + reply, total + PAYOFF[ours + reply]
    print(f"against tit for tat: me {mine}")
    print(f"                   them {theirs}")
    print(f"mean payoff per round: {total / len(mine):.2f}")
