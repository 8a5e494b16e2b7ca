from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from airlab.ranking import METHODS, RankingInputError, rank


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for t in range(8):
        lower = t % 2 == 1
        for s in range(2):
            for i, agent in enumerate(["alpha", "beta", "gamma", "delta"]):
                value = (3 - i) + rng.normal() * 0.3
                rows.append(
                    {
                        "agent": agent,
                        "task": f"task{t}",
                        "seed": s,
                        "score": (10 - value) if lower else value,
                        "higher_is_better": not lower,
                        "optimum": 0.0 if lower else 10.0,
                        "valid": not (agent == "delta" and t == 0),
                    }
                )
    return pd.DataFrame(rows)


def test_every_method_ranks_a_clear_order() -> None:
    names = [m for m in METHODS if m not in {"medals"}]
    results = rank(_table(), names, baseline="delta")
    assert list(results) == names
    for name, res in results.items():
        assert len(res.agents) == 4
        assert [r.rank for r in res.agents] == sorted(r.rank for r in res.agents)
        if name in {"valid-rate", "approval", "plurality", "stv", "nash"}:
            continue  # these measure something else / can tie the leaders
        assert res.ranking()[0] == "alpha", name
        assert res.ranking()[-1] == "delta", name
    json.dumps({k: v.model_dump() for k, v in results.items()})  # serialisable


def test_condorcet_details_and_aliases() -> None:
    res = rank(_table(), "kemeny-young,ml,BT")
    assert set(res) == {"kemeny", "maximal-lotteries", "bt"}
    assert res["kemeny"].details["condorcet_winner"] == "alpha"
    assert res["kemeny"].details["cycles"] == []
    assert res["maximal-lotteries"].score_of("alpha") == pytest.approx(1.0)


def test_direction_matters() -> None:
    df = _table().drop(columns=["higher_is_better"])
    lb = [t for t in df["task"].unique() if int(t[-1]) % 2 == 1]
    right = rank(df, ["borda"], lower_is_better=lb)["borda"]
    wrong = rank(df, ["borda"])["borda"]  # odd tasks read the wrong way round
    assert right.ranking() == ["alpha", "beta", "gamma", "delta"]
    assert wrong.score_of("delta") > right.score_of("delta")  # type: ignore[operator]
    assert wrong.score_of("alpha") < right.score_of("alpha")  # type: ignore[operator]


def test_errors_are_helpful() -> None:
    with pytest.raises(RankingInputError, match="unknown ranking method"):
        rank(_table(), ["nope"])
    with pytest.raises(RankingInputError, match="unknown agent"):
        rank(_table(), ["aup"], baseline="nobody")
    with pytest.raises(RankingInputError, match="has no option"):
        rank(_table(), ["sco"], method_options={"sco": {"temprature": 1.0}})
    with pytest.raises(RankingInputError, match="needs a leaderboard"):
        rank(_table(), ["medals"])


def test_missing_policy_changes_partial_agents() -> None:
    df = _table()
    # omega only ran task0 and won it
    df = pd.concat(
        [
            df,
            pd.DataFrame(
                [
                    {
                        "agent": "omega",
                        "task": "task0",
                        "seed": 0,
                        "score": 99.0,
                        "higher_is_better": True,
                    }
                ]
            ),
        ]
    )
    worst = rank(df, ["borda"], missing="worst")["borda"]
    ignore = rank(df, ["percentile"], missing="ignore")["percentile"]
    assert worst.ranking()[-1] in {"omega", "delta"} and worst.ranking()[0] == "alpha"
    assert ignore.ranking()[0] == "omega"


def test_seed_votes_and_method_options() -> None:
    res = rank(
        _table(),
        ["sco", "stv"],
        seeds="vote",
        method_options={"sco": {"temperature": 0.5}, "stv": {"num_winners": 1}},
    )
    assert res["sco"].ranking()[0] == "alpha"
    assert res["stv"].details["num_winners"] == 1


def test_medals_and_percentile_with_leaderboard() -> None:
    df = _table()
    board = pd.DataFrame(
        {
            "task": np.repeat(df["task"].unique(), 20),
            "score": np.tile(np.linspace(0, 10, 20), df["task"].nunique()),
        }
    )
    res = rank(df[df["higher_is_better"]], ["medals", "percentile"], leaderboard=board)
    assert res["medals"].ranking()[0] == "alpha"
    assert set(res["medals"].details["medals"]) == {"gold", "silver", "bronze"}
