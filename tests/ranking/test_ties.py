"""Several optimal orders must show as tied ranks, whatever the agents' order in the table."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from airlab.ranking import rank
from airlab.ranking.kemeny import agreement, kemeny_dp, kemeny_ilp

TIE_METHODS = ("kemeny", "ranked-pairs", "schulze", "sco", "borda", "copeland")


def _bench(agents: list[str]) -> pd.DataFrame:
    """Identical scores on 7 tasks, then a Condorcet cycle a > b > c > a (one win each way)."""
    scores = {f"same{k}": {"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.1} for k in range(7)}
    scores["t1"] = {"a": 0.9, "b": 0.8, "c": 0.7, "d": 0.1}
    scores["t2"] = {"b": 0.9, "c": 0.8, "a": 0.7, "d": 0.1}
    scores["t3"] = {"c": 0.9, "a": 0.8, "b": 0.7, "d": 0.1}
    rows = [
        {"agent": agent, "task": task, "score": per_agent[agent]}
        for agent in agents
        for task, per_agent in scores.items()
    ]
    return pd.DataFrame(rows)


def _ranks(table: pd.DataFrame, **kw: object) -> dict[str, dict[str, int]]:
    results = rank(table, list(TIE_METHODS), **kw)  # type: ignore[arg-type]
    return {name: {row.agent: row.rank for row in res.agents} for name, res in results.items()}


def test_condorcet_cycle_is_a_three_way_tie_for_every_method() -> None:
    ranks = _ranks(_bench(["a", "b", "c", "d"]))
    for method in TIE_METHODS:
        assert ranks[method] == {"a": 1, "b": 1, "c": 1, "d": 4}, method


def test_kemeny_reports_the_optimal_orders() -> None:
    for solver in ("dp", "ilp"):
        res = rank(_bench(["a", "b", "c", "d"]), "kemeny", method_options={"kemeny": {"solver": solver}})
        details = res["kemeny"].details
        assert details["tied_groups"] == [["a", "b", "c"]]
        assert details["n_optimal_orders"] == (3 if solver == "dp" else None)  # abc, bca, cab
        assert details["order"][-1] == "d"


def test_ranked_pairs_leaves_the_conflicting_equal_margins_unlocked() -> None:
    details = rank(_bench(["a", "b", "c", "d"]), "ranked-pairs")["ranked-pairs"].details
    assert sorted(map(tuple, details["undecided_pairs"])) == [("a", "b"), ("b", "c"), ("c", "a")]


@pytest.mark.parametrize("perm", list(itertools.permutations(["a", "b", "c", "d"]))[::5])
def test_ranks_do_not_depend_on_the_agents_order(perm: tuple[str, ...]) -> None:
    assert _ranks(_bench(list(perm))) == _ranks(_bench(["a", "b", "c", "d"]))


def test_exact_tie_of_two_agents() -> None:
    rows = [
        {"agent": agent, "task": f"t{k}", "score": score}
        for k in range(5)
        for agent, score in (("x", 0.3), ("y", 0.9), ("z", 0.9))
    ]
    for order in (rows, rows[::-1]):
        results = rank(pd.DataFrame(order), ["kemeny", "ranked-pairs", "schulze", "sco"])
        for name, res in results.items():
            assert {r.agent: r.rank for r in res.agents} == {"y": 1, "z": 1, "x": 3}, name
        assert results["kemeny"].details["n_optimal_orders"] == 2


def _brute_can_above(wins: np.ndarray) -> np.ndarray:
    m = wins.shape[0]
    perms = list(itertools.permutations(range(m)))
    values = np.array([agreement(wins, p) for p in perms])
    can = np.zeros((m, m), dtype=bool)
    for p, v in zip(perms, values, strict=True):
        if v >= values.max() - 1e-9:
            for a, b in itertools.combinations(p, 2):
                can[a, b] = True
    return can


@pytest.mark.parametrize("seed", range(10))
def test_dp_and_ilp_find_every_pair_an_optimal_order_can_flip(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(3, 7))
    pref = rng.integers(0, 3, size=(m, m)).astype(float)  # few values: many optimal orders
    wins = np.triu(pref, 1) + np.triu(2.0 - pref, 1).T  # two voters per pair, ties allowed
    np.fill_diagonal(wins, 0.0)
    expected = _brute_can_above(wins)
    assert (kemeny_dp(wins).can_above == expected).all()
    assert (kemeny_ilp(wins).can_above == expected).all()
