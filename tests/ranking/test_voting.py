"""Defining properties of the voting rules (each test fails if the rule is implemented wrong)."""

from __future__ import annotations

import numpy as np
import pytest

from airlab.ranking import voting
from airlab.ranking.ballots import ballots_from_rankings
from airlab.ranking.errors import RankingInputError

from ._helpers import ballots, random_rankings

AGENTS = ("a", "b", "c")
# Rock-paper-scissors profile: a>b>c, b>c>a, c>a>b -> a majority cycle, no Condorcet winner.
CYCLE = [[0, 1, 2], [1, 2, 0], [2, 0, 1]]


def test_plurality_counts_first_places_and_splits_ties() -> None:
    b = ballots([[0, 1, 2], [0, 2, 1], [1, 0, 2]], 3)
    assert voting.plurality(b).scores.tolist() == [2, 1, 0]
    tied = ballots_from_rankings([[0, 1, 2]], 3)
    tied.values[0, 1] = tied.values[0, 0]  # a and b tie on top
    assert voting.plurality(tied).scores.tolist() == [0.5, 0.5, 0.0]


def test_approval_top_k_with_boundary_ties_and_threshold() -> None:
    b = ballots([[0, 1, 2, 3], [3, 2, 1, 0]], 4)
    assert voting.approval(b, k=2).scores.tolist() == [1, 1, 1, 1]
    t = ballots_from_rankings([[0, 1, 2, 3]], 4)
    t.values[0, 2] = t.values[0, 1]  # b and c tie for 2nd place, k=2 -> half each
    assert voting.approval(t, k=2).scores.tolist() == [1.0, 0.5, 0.5, 0.0]
    mask = np.array([[True, False, True, False]])
    assert voting.approval(t, approve=mask).scores.tolist() == [1, 0, 1, 0]
    with pytest.raises(RankingInputError):
        voting.approval(t, k=0)


def test_borda_is_position_points_with_half_points_for_ties() -> None:
    b = ballots([[0, 1, 2], [1, 0, 2]], 3)
    assert voting.borda(b).scores.tolist() == [3, 3, 0]
    t = ballots_from_rankings([[0, 1, 2]], 3)
    t.values[0, 2] = t.values[0, 1]
    assert voting.borda(t).scores.tolist() == [2.0, 0.5, 0.5]


def test_copeland_counts_majority_wins_and_half_ties() -> None:
    b = ballots([[0, 1, 2], [1, 0, 2]], 3)  # a~b tie, both beat c
    assert voting.copeland(b.margins).scores.tolist() == [1.5, 1.5, 0.0]


@pytest.mark.parametrize("seed", range(5))
def test_condorcet_winner_wins_every_condorcet_method(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rankings = random_rankings(rng, 6, 25, noise=0.7)
    b = ballots(rankings, 6)
    info = voting.condorcet_analysis(b.margins, b.agents)
    winner = info["condorcet_winner"]
    assert winner is not None
    w = b.agents.index(winner)
    for out in (
        voting.copeland(b.margins),
        voting.schulze(b.wins),
        voting.ranked_pairs(b.margins, b.agents),
    ):
        assert int(np.argmax(out.scores)) == w
        assert np.sum(out.scores == out.scores.max()) == 1


def test_cycle_is_reported_and_smith_set_is_the_cycle() -> None:
    b = ballots(CYCLE, 3)
    info = voting.condorcet_analysis(b.margins, AGENTS)
    assert info["condorcet_winner"] is None
    assert info["weak_condorcet_winners"] == []
    assert len(info["cycles"]) == 1
    cycle = info["cycles"][0]
    assert sorted(cycle) == ["a", "b", "c"]
    idx = [AGENTS.index(x) for x in cycle]
    for u, v in zip(idx, idx[1:] + idx[:1], strict=True):
        assert b.margins[u, v] > 0  # each beats the next by strict majority
    assert sorted(info["smith_set"]) == ["a", "b", "c"]


def test_smith_set_of_a_cycle_above_a_loser() -> None:
    rankings = [[0, 1, 2, 3], [1, 2, 0, 3], [2, 0, 1, 3]]
    b = ballots(rankings, 4)
    info = voting.condorcet_analysis(b.margins, ("a", "b", "c", "d"))
    assert sorted(info["smith_set"]) == ["a", "b", "c"]


def test_ranked_pairs_locks_strongest_majorities_first() -> None:
    # margins: b>c by 5, a>b by 3, c>a by 1 (a cycle) -> c>a is skipped: a > b > c
    rankings = [[0, 1, 2]] * 4 + [[1, 2, 0]] * 3 + [[2, 0, 1]] * 2
    b = ballots(rankings, 3)
    assert b.margins[1, 2] == 5 and b.margins[0, 1] == 3 and b.margins[2, 0] == 1
    out = voting.ranked_pairs(b.margins, AGENTS)
    assert out.scores.tolist() == [2, 1, 0]
    assert out.details["skipped_pairs"] == [["c", "a"]]


def test_schulze_beatpath_resolves_cycle() -> None:
    rankings = [[0, 1, 2]] * 4 + [[1, 2, 0]] * 3 + [[2, 0, 1]] * 2
    b = ballots(rankings, 3)
    p = voting.schulze_strengths(b.wins)
    out = voting.schulze(b.wins)
    # a>b 6:3, b>c 7:2, c>a 5:4 ; weakest link c>a (5) -> a wins via a>b>c (min 6)
    assert p[0, 2] == 6 and p[2, 0] == 5
    assert np.argsort(-out.scores).tolist() == [0, 1, 2]


def test_stv_elects_majority_winner_first_and_is_voter_order_invariant() -> None:
    rng = np.random.default_rng(3)
    rankings = random_rankings(rng, 5, 21, noise=1.0)
    rankings = [[4, *[x for x in r if x != 4]] for r in rankings[:11]] + rankings[11:]
    b = ballots(rankings, 5)
    out = voting.stv(b, num_winners=2)
    assert int(np.argmax(out.scores)) == 4  # majority of first preferences
    shuffled = ballots([rankings[i] for i in rng.permutation(len(rankings))], 5)
    assert voting.stv(shuffled, num_winners=2).scores.tolist() == out.scores.tolist()
    with pytest.raises(RankingInputError):
        voting.stv(b, num_winners=5)
