from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from airlab.ranking.errors import RankingInputError
from airlab.ranking.table import cube_from_matrix, load_results


def _df(**extra: object) -> pd.DataFrame:
    base = {
        "agent": ["a", "b", "a", "b"],
        "task": ["t1", "t1", "t2", "t2"],
        "score": [1.0, 2.0, 0.5, 0.1],
    }
    base.update(extra)  # type: ignore[arg-type]
    return pd.DataFrame(base)


def test_missing_columns_are_named() -> None:
    with pytest.raises(RankingInputError, match=r"missing required column\(s\): score"):
        load_results(pd.DataFrame({"agent": ["a"], "task": ["t"]}))


def test_column_names_are_case_insensitive() -> None:
    df = _df().rename(columns={"agent": " Agent", "score": "SCORE"})
    cube = load_results(df)
    assert cube.agents == ("a", "b")
    assert cube.tasks == ("t1", "t2")


def test_direction_from_flag_orients_scores() -> None:
    cube = load_results(_df(), lower_is_better=["t2"])
    m = cube.matrix()
    # t1 higher is better: b > a ; t2 lower is better: b (0.1) > a (0.5)
    assert m.scores[1, 0] > m.scores[0, 0]
    assert m.scores[1, 1] > m.scores[0, 1]
    assert list(cube.higher_is_better) == [True, False]


def test_direction_column_and_conflicting_flag() -> None:
    df = _df(higher_is_better=["true", "true", "false", "false"])
    cube = load_results(df)
    assert list(cube.higher_is_better) == [True, False]
    with pytest.raises(RankingInputError, match="marked higher_is_better=true"):
        load_results(df, lower_is_better=["t1"])
    bad = _df(higher_is_better=[True, False, True, True])
    with pytest.raises(RankingInputError, match="constant within a task"):
        load_results(bad)


def test_unknown_task_in_flag() -> None:
    with pytest.raises(RankingInputError, match="unknown task"):
        load_results(_df(), lower_is_better=["nope"])


def test_non_numeric_score_is_an_error_but_empty_is_invalid() -> None:
    with pytest.raises(RankingInputError, match="not a number"):
        load_results(_df(score=["1", "x", "2", "3"]))
    cube = load_results(_df(score=[1.0, None, 2.0, 3.0]))
    assert cube.present[1, 0, 0] and not cube.valid[1, 0, 0]


def test_valid_column_marks_entries_missing() -> None:
    cube = load_results(_df(valid=["yes", "no", 1, 0]))
    assert cube.valid[:, :, 0].tolist() == [[True, True], [False, False]]
    assert np.isnan(cube.matrix().scores[1]).all()
    with pytest.raises(RankingInputError, match="true/false"):
        load_results(_df(valid=["maybe", "no", 1, 0]))


def test_seeds_mean_and_vote() -> None:
    df = pd.DataFrame(
        {
            "agent": ["a", "a", "b", "b", "a", "b"],
            "task": ["t", "t", "t", "t", "u", "u"],
            "seed": [0, 1, 0, 1, 0, 0],
            "score": [1.0, 3.0, 2.0, np.nan, 5.0, 4.0],
        }
    )
    cube = load_results(df)
    mean = cube.matrix("mean")
    assert mean.scores[:, 0].tolist() == [2.0, 2.0]  # b's NaN seed is dropped
    vote = cube.matrix("vote")
    assert vote.voters == ("t/0", "t/1", "u/0")
    assert np.isnan(vote.scores[1, 1])


def test_repeated_rows_without_seed_column_are_seeds() -> None:
    df = pd.DataFrame({"agent": ["a", "a", "b"], "task": ["t", "t", "t"], "score": [1, 2, 3]})
    cube = load_results(df)
    assert cube.seeds == ("0", "1")
    assert cube.matrix().scores[0, 0] == 1.5


def test_duplicate_seed_rows_are_rejected() -> None:
    df = pd.DataFrame({"agent": ["a", "a"], "task": ["t", "t"], "seed": [1, 1], "score": [1, 2]})
    with pytest.raises(RankingInputError, match="duplicate rows"):
        load_results(df)


def test_read_csv_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    _df().to_csv(path, index=False)
    assert load_results(path).n_agents == 2
    with pytest.raises(RankingInputError, match="not found"):
        load_results(tmp_path / "nope.csv")


def test_cube_from_matrix_and_resample() -> None:
    cube = cube_from_matrix(np.array([[1.0, np.nan], [0.0, 2.0]]))
    assert cube.valid[:, :, 0].tolist() == [[True, False], [True, True]]
    res = cube.resample(np.array([1, 1, 0]))
    assert res.tasks == ("t1", "t1", "t0")
    assert res.matrix().scores.shape == (2, 3)
