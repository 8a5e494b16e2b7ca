"""The bench results table: results.csv + results.sqlite, appended safely."""

from __future__ import annotations

import csv
import multiprocessing
import sqlite3
from pathlib import Path

import pytest
from pydantic import ValidationError

from airlab.errors import AirlabError
from airlab.store.results import COLUMNS, ResultRow, append_result, read_results


def _row(agent: str = "greedy", **kw: object) -> ResultRow:
    data: dict[str, object] = dict(
        agent=agent, task="wine", seed=0, split_seed=0, metric="log_loss", higher_is_better=False,
        search_score=0.1, val_score=0.2, test_score=0.30000000000000004, valid=True, nodes=5,
        tokens=1200, cost=0.0125, seconds=12.5, source="run", run_id="wine-greedy-s0",
    )
    data.update(kw)
    return ResultRow.model_validate(data)


def test_columns_are_the_shared_bench_schema() -> None:
    assert COLUMNS == (
        "agent", "task", "seed", "split_seed", "metric", "higher_is_better", "search_score",
        "val_score", "test_score", "valid", "nodes", "tokens", "cost", "seconds", "source", "run_id",
    )
    with pytest.raises(ValidationError):
        _row(source="magic")
    with pytest.raises(ValidationError):
        _row(unknown_column=1)


def test_append_to_a_folder_writes_csv_and_sqlite_with_one_header(tmp_path: Path) -> None:
    folder = tmp_path / "bench"
    append_result(folder, _row("greedy"))
    append_result(folder, _row("human", source="grade", nodes=None, tokens=None, cost=None, seconds=None,
                               run_id=None, search_score=None, val_score=None, test_score=None, valid=False))
    append_result(folder, _row("aide, \"gpt-4o\"", seed=2, source="eval"))  # quoting survives
    lines = (folder / "results.csv").read_text().splitlines()
    assert lines[0] == ",".join(COLUMNS) and sum(ln.startswith("agent,") for ln in lines) == 1
    assert len(lines) == 4

    from_csv = read_results(folder)
    from_db = read_results(folder / "results.sqlite")
    assert from_csv["agent"].tolist() == ["greedy", "human", 'aide, "gpt-4o"']
    assert from_db["agent"].tolist() == from_csv["agent"].tolist()
    assert from_csv["valid"].tolist() == [True, False, True] == from_db["valid"].tolist()
    assert from_csv["higher_is_better"].tolist() == [False] * 3
    assert from_csv.loc[0, "test_score"] == 0.30000000000000004  # floats round-trip exactly
    assert from_db.loc[0, "test_score"] == 0.30000000000000004
    assert from_csv["cost"].isna().iloc[1] and from_db["cost"].isna().iloc[1]
    assert from_csv["run_id"].isna().iloc[1] and from_csv["test_score"].isna().iloc[1]
    assert from_csv["seed"].tolist() == [0, 0, 2] and from_csv["source"].tolist() == ["run", "grade", "eval"]
    for col in ("search_score", "val_score", "tokens", "nodes", "seconds", "split_seed"):
        assert from_csv[col].fillna(-1).tolist() == from_db[col].fillna(-1).tolist(), col


def test_append_to_a_named_csv_puts_the_sqlite_next_to_it(tmp_path: Path) -> None:
    path = tmp_path / "leaderboard.csv"
    assert append_result(path, _row()) == path
    assert (tmp_path / "results.sqlite").is_file()
    assert read_results(path)["agent"].tolist() == ["greedy"]


def test_a_foreign_csv_is_not_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text("name,score\nx,1\n")
    with pytest.raises(AirlabError, match="not an airlab results table"):
        append_result(path, _row())
    assert path.read_text() == "name,score\nx,1\n"
    with pytest.raises(AirlabError, match="no results table"):
        read_results(tmp_path / "nothing")


def test_a_csv_edited_without_final_newline_stays_tidy(tmp_path: Path) -> None:
    append_result(tmp_path, _row("a"))
    path = tmp_path / "results.csv"
    path.write_text(path.read_text().rstrip("\n"))
    append_result(tmp_path, _row("b"))
    assert read_results(tmp_path)["agent"].tolist() == ["a", "b"]


def _writer(args: tuple[str, int]) -> None:
    folder, k = args
    for i in range(15):
        append_result(folder, _row(f"agent-{k}", seed=i, run_id="x" * 2000))  # long rows


def test_concurrent_appends_from_processes_do_not_interleave(tmp_path: Path) -> None:
    folder = str(tmp_path / "shared")
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_writer, [(folder, k) for k in range(4)])
    with open(Path(folder) / "results.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 61 and all(len(r) == len(COLUMNS) for r in rows)
    table = read_results(folder)
    assert sorted(table.groupby("agent")["seed"].apply(sorted).tolist()) == [list(range(15))] * 4
    with sqlite3.connect(Path(folder) / "results.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM results").fetchone() == (60,)
