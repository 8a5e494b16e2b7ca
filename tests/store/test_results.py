"""The bench results table: results.csv + results.sqlite, appended safely."""

from __future__ import annotations

import csv
import multiprocessing
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from airlab.errors import AirlabError
from airlab.store.results import (
    COLUMNS,
    ResultRow,
    append_result,
    parse_report,
    read_results,
    report_json,
)


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
        "baseline_test_score", "report",
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


# The header of a results table written before the baseline_test_score and report columns.
OLD_HEADER = ("agent,task,seed,split_seed,metric,higher_is_better,search_score,val_score,test_score,valid,"
              "nodes,tokens,cost,seconds,source,run_id")


def test_report_json_is_compact_and_empty_reports_are_none() -> None:
    assert report_json({}) is None and report_json(None) is None
    text = report_json({"suite": "mlebench", "score": 0.5, "any_medal": True, "gold_threshold": float("nan"),
                        "leaderboard_size": np.int64(3), "above_median": np.bool_(True)})
    assert text == ('{"above_median":true,"any_medal":true,"gold_threshold":null,"leaderboard_size":3,'
                    '"score":0.5,"suite":"mlebench"}')
    assert parse_report(text)["leaderboard_size"] == 3
    for empty in (None, float("nan"), "", "not json", "[1, 2]"):
        assert parse_report(empty) == {}


def test_report_and_baseline_round_trip_through_csv_and_sqlite(tmp_path: Path) -> None:
    report = report_json({"suite": "mlebench", "competition_id": "spaceship, \"titanic\"", "any_medal": False})
    append_result(tmp_path, _row("a", baseline_test_score=0.4, report=report))
    append_result(tmp_path, _row("b"))
    for frame in (read_results(tmp_path), read_results(tmp_path / "results.sqlite")):
        assert tuple(frame.columns) == COLUMNS
        assert frame.loc[0, "report"] == report and parse_report(frame.loc[0, "report"])["any_medal"] is False
        assert frame.loc[0, "baseline_test_score"] == 0.4
        assert parse_report(frame.loc[1, "report"]) == {} and np.isnan(frame.loc[1, "baseline_test_score"])


def test_an_old_csv_without_the_new_columns_loads_and_is_upgraded_on_append(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text(OLD_HEADER + "\nold,wine,0,0,log_loss,False,0.1,0.2,0.3,True,5,1200,0.0125,12.5,run,r0\n")
    old = read_results(tmp_path)
    assert tuple(old.columns) == COLUMNS and old["agent"].tolist() == ["old"]
    assert old["report"].isna().all() and old["baseline_test_score"].isna().all()
    assert old.loc[0, "test_score"] == 0.3 and old.loc[0, "valid"]

    append_result(tmp_path, _row("new", baseline_test_score=0.5, report='{"suite":"mlebench"}'))
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(COLUMNS) and len(lines) == 3
    assert lines[1] == "old,wine,0,0,log_loss,False,0.1,0.2,0.3,True,5,1200,0.0125,12.5,run,r0,,"
    both = read_results(tmp_path)
    assert both["agent"].tolist() == ["old", "new"]
    assert both["baseline_test_score"].fillna(-1).tolist() == [-1, 0.5]
    assert [parse_report(v) for v in both["report"]] == [{}, {"suite": "mlebench"}]
    assert not (tmp_path / "results.csv.upgrade").exists()


def test_an_old_sqlite_table_loads_and_gains_the_new_columns(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute(f"CREATE TABLE results (rowid INTEGER PRIMARY KEY, {OLD_HEADER})")
        conn.execute("INSERT INTO results (agent, task, seed, split_seed, metric, higher_is_better, valid, source) "
                     "VALUES ('old', 'wine', 0, 0, 'log_loss', 0, 1, 'run')")
    conn.close()
    old = read_results(db)
    assert tuple(old.columns) == COLUMNS and old["agent"].tolist() == ["old"]
    assert old["report"].isna().all() and old["baseline_test_score"].isna().all()
    append_result(tmp_path, _row("new", baseline_test_score=0.5, report='{"a":1}'))
    both = read_results(db)
    assert both["agent"].tolist() == ["old", "new"] and both.loc[1, "report"] == '{"a":1}'
    assert both.loc[1, "baseline_test_score"] == 0.5


def test_a_bench_row_carries_the_suite_report_and_the_starter_baseline() -> None:
    from airlab.bench import _row as bench_row
    from airlab.rundir import RunResult

    result = RunResult(
        run_id="r1", status="complete", task="mlgym-prisoners-dilemma", agent="greedy", coder="mock", seed=1,
        split_seed=0, budget={}, n_nodes=4, n_buggy=0, n_valid=4, n_invalid=0, n_timeout=0, n_failed=0,
        selected_node=2, search_score=2.4, val_score=2.4, test_score=2.5, oracle_node=2, oracle_test_score=2.5,
        top_k=[2], metric="score", higher_is_better=True, kind="program", baseline_test_score=2.3,
        score_report={"airs_normalised_score": 0.25, "sota": 3.0}, wall_seconds=1.0, draft_families=[],
        diversity_bits=0.0, tokens_in=10, tokens_out=5, cost_usd=0.0, sandbox="none",
    )
    row = bench_row("greedy", result)
    assert row.baseline_test_score == 2.3 and row.report == '{"airs_normalised_score":0.25,"sota":3.0}'
    assert bench_row("greedy", result.model_copy(update={"score_report": {}, "baseline_test_score": None})
                     ).report is None
