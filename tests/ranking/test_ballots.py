from __future__ import annotations

import numpy as np

from airlab.ranking.ballots import ballots_from_matrix, ballots_from_rankings
from airlab.ranking.table import cube_from_matrix


def test_pairwise_counts_with_ties_and_missing_worst() -> None:
    # voter 0: a=3, b=3, c missing ; voter 1: a=1, b=2, c=0
    cube = cube_from_matrix(np.array([[3.0, 1.0], [3.0, 2.0], [np.nan, 0.0]]))
    b = ballots_from_matrix(cube.matrix(), "worst")
    assert b.wins.tolist() == [[0, 0, 2], [1, 0, 2], [0, 0, 0]]
    assert b.ties[0, 1] == 1 and b.ties[0, 2] == 0
    pos = b.positions()
    assert pos[0].tolist() == [0.5, 0.5, 2.0]


def test_missing_ignore_leaves_agent_unranked() -> None:
    cube = cube_from_matrix(np.array([[3.0, 1.0], [3.0, 2.0], [np.nan, 0.0]]))
    b = ballots_from_matrix(cube.matrix(), "ignore")
    assert b.wins[:, 2].tolist() == [1, 1, 0]  # c only compared by voter 1
    assert np.isnan(b.positions()[0, 2])


def test_voters_without_any_valid_entry_are_dropped() -> None:
    cube = cube_from_matrix(np.array([[np.nan, 1.0], [np.nan, 2.0]]))
    b = ballots_from_matrix(cube.matrix(), "worst")
    assert b.n_voters == 1


def test_rankings_to_ballots_partial() -> None:
    b = ballots_from_rankings([[2, 0], [0, 1, 2]], 3)
    assert b.wins.tolist() == [[0, 1, 1], [0, 0, 1], [1, 0, 0]]
