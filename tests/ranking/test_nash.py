from __future__ import annotations

import numpy as np
import pytest

from airlab.ranking.errors import DegenerateDataError
from airlab.ranking.nash import nash_averaging, normalise_columns


def test_normalise_columns_minmax_missing_and_constant() -> None:
    s = np.array([[1.0, 5.0, np.nan], [3.0, 5.0, 2.0], [2.0, 5.0, 4.0]])
    out, keep = normalise_columns(s)
    assert keep.tolist() == [True, False, True]
    assert out.tolist() == [[0.0, 0.0], [1.0, 0.0], [0.5, 1.0]]


@pytest.mark.parametrize("seed", range(6))
def test_invariant_to_duplicated_agents_and_tasks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # integer-valued scores make non-unique equilibria common, the hard case for invariance
    s = rng.integers(0, 4, size=(5, 6)).astype(float)
    s[:, 0] = np.arange(5)  # at least one informative task
    skill, difficulty, _, _ = nash_averaging(s)
    dup_tasks = np.hstack([s, s[:, [1, 1, 4]]])
    dup_both = np.vstack([dup_tasks, dup_tasks[[0, 3, 3]]])
    skill_t, diff_t, _, p_tasks = nash_averaging(dup_tasks)
    skill_b, diff_b, p_agents, _ = nash_averaging(dup_both)
    assert skill_t == pytest.approx(skill, abs=1e-6)
    assert skill_b[:5] == pytest.approx(skill, abs=1e-6)
    assert skill_b[5:] == pytest.approx(skill[[0, 3, 3]], abs=1e-6)
    assert diff_t[:6] == pytest.approx(difficulty, abs=1e-6)
    assert diff_b[:6] == pytest.approx(difficulty, abs=1e-6)
    # duplicated strategies split their mass equally
    assert p_tasks[1] == pytest.approx(p_tasks[6], abs=1e-9)
    assert p_agents[3] == pytest.approx(p_agents[6], abs=1e-9)


def test_dominated_agent_gets_lower_skill_and_support_agents_tie() -> None:
    s = np.array([[1.0, 0.0], [0.0, 1.0], [0.2, 0.2]])
    skill, _, p_agents, p_tasks = nash_averaging(s)
    assert p_tasks == pytest.approx([0.5, 0.5], abs=1e-7)
    assert skill[0] == skill[1] == pytest.approx(0.5, abs=1e-9)
    assert skill[2] == pytest.approx(0.2, abs=1e-7)
    assert p_agents[2] == pytest.approx(0.0, abs=1e-7)


def test_matches_open_spiel_nash_averaging() -> None:
    pytest.importorskip("cvxpy")
    from open_spiel.python.algorithms.nash_averaging import nash_averaging_avt_matrix

    rng = np.random.default_rng(3)
    cases = [rng.random((5, 7)) for _ in range(3)]
    cases.append(np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]))  # non-unique agent equilibria
    for s in cases:
        skill, difficulty, p_agents, p_tasks = nash_averaging(s)
        (pa, pt), (sk, df) = nash_averaging_avt_matrix(s)
        assert skill == pytest.approx(sk.ravel(), abs=1e-5)
        assert difficulty == pytest.approx(df.ravel(), abs=1e-5)
        assert p_agents == pytest.approx(pa.ravel(), abs=1e-4)
        assert p_tasks == pytest.approx(pt.ravel(), abs=1e-4)


def test_needs_an_informative_task() -> None:
    with pytest.raises(DegenerateDataError):
        nash_averaging(np.ones((3, 2)))
