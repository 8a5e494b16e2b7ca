"""The bench results table: one row per (agent, task, seed) result, from any source.

Rows come from airlab's own runs (``source="run"``), from ``airlab eval`` of an outside script
(``"eval"``) and from ``airlab grade`` of an outside submission (``"grade"``), so outside agents
are ranked beside airlab's. A results folder holds the same rows twice:

- ``results.csv``: a tidy table (header once) for pandas, spreadsheets and ``airlab rank``;
- ``results.sqlite``: table ``results`` with the same columns, for queries.

Columns added since the first version (:data:`ADDED_COLUMNS`: ``baseline_test_score``,
``report``) are optional: a table written before them still reads (the missing columns are
empty), and the first append to it adds them to the csv header and the sqlite table.

Appends are serialised with an exclusive lock on ``results.lock`` in the folder, so several
processes (parallel bench workers, a person grading by hand) can add rows at once without
interleaving or duplicating the header.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import math
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

from airlab.errors import AirlabError

CSV_NAME = "results.csv"
SQLITE_NAME = "results.sqlite"
LOCK_NAME = "results.lock"
TABLE = "results"


class ResultRow(BaseModel):
    """One result. ``None`` means unknown (e.g. the cost of a submission graded by hand)."""

    model_config = ConfigDict(extra="forbid")

    agent: str
    task: str
    seed: int = 0
    split_seed: int
    metric: str
    higher_is_better: bool
    search_score: float | None = None
    val_score: float | None = None
    test_score: float | None = None
    valid: bool
    nodes: int | None = None
    tokens: int | None = None
    cost: float | None = None
    seconds: float | None = None
    source: Literal["run", "eval", "grade"]
    run_id: str | None = None
    baseline_test_score: float | None = None  # a program task's starter code, scored in the same run
    report: str | None = None  # the task's suite on the test score: compact JSON (see report_json)


COLUMNS: tuple[str, ...] = tuple(ResultRow.model_fields)
ADDED_COLUMNS: tuple[str, ...] = ("baseline_test_score", "report")  # absent from older tables
BASE_COLUMNS: tuple[str, ...] = COLUMNS[: len(COLUMNS) - len(ADDED_COLUMNS)]
assert COLUMNS[len(BASE_COLUMNS):] == ADDED_COLUMNS
_SQL_TYPES = {
    "agent": "TEXT NOT NULL", "task": "TEXT NOT NULL", "seed": "INTEGER", "split_seed": "INTEGER",
    "metric": "TEXT", "higher_is_better": "INTEGER", "search_score": "REAL", "val_score": "REAL",
    "test_score": "REAL", "valid": "INTEGER", "nodes": "INTEGER", "tokens": "INTEGER",
    "cost": "REAL", "seconds": "REAL", "source": "TEXT", "run_id": "TEXT",
    "baseline_test_score": "REAL", "report": "TEXT",
}
assert set(_SQL_TYPES) == set(COLUMNS)


def _json_default(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    return item() if callable(item) else str(value)


def _finite(value: Any) -> Any:
    """NaN and infinities as None, so the text is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def report_json(report: dict[str, Any] | None) -> str | None:
    """A suite's score report as the compact JSON of the ``report`` column; None when empty."""
    if not report:
        return None
    plain = json.loads(json.dumps(report, default=_json_default))  # numpy scalars -> Python
    return json.dumps(_finite(plain), separators=(",", ":"), sort_keys=True, allow_nan=False)


def parse_report(value: object) -> dict[str, Any]:
    """The ``report`` cell of a results table as a dict (``{}`` when empty, NaN or unreadable)."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value.strip():
        return {}
    try:
        data = json.loads(value)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def results_paths(path: Path | str) -> tuple[Path, Path]:
    """``(csv, sqlite)`` for a results folder or a ``.csv`` file (its sqlite sits next to it)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return path, path.parent / SQLITE_NAME
    if path.exists() and not path.is_dir():
        raise AirlabError(f"{path}: give a results folder or a .csv file")
    return path / CSV_NAME, path / SQLITE_NAME


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _csv_line(values: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def _csv_value(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return repr(value)  # round-trips exactly
    return value


def _check_header(csv_path: Path) -> tuple[str, ...] | None:
    """The file's header, None if the file is empty; raise if it is not this table's.

    A header of an older version of the table (:data:`COLUMNS` without some of the columns
    added at its end) is this table's too.
    """
    if not csv_path.exists() or csv_path.stat().st_size == 0:
        return None
    with open(csv_path, newline="") as handle:
        header = tuple(next(csv.reader(handle), []))
    if len(header) < len(BASE_COLUMNS) or header != COLUMNS[: len(header)]:
        raise AirlabError(
            f"{csv_path} is not an airlab results table (its header is {list(header[:8])}...); "
            f"expected columns {list(COLUMNS)}"
        )
    return header


def _upgrade_csv(csv_path: Path, header: tuple[str, ...]) -> None:
    """Rewrite an older table with the current header, its rows padded with empty cells.

    Called under the folder's lock; the new file replaces the old one in one rename.
    """
    with open(csv_path, newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    pad = [""] * (len(COLUMNS) - len(header))
    text = _csv_line(list(COLUMNS)) + "".join(_csv_line([*row, *pad]) for row in rows if row)
    tmp = csv_path.with_name(csv_path.name + ".upgrade")
    with open(tmp, "w", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, csv_path)


def append_result(path: Path | str, row: ResultRow) -> Path:
    """Append ``row`` to ``results.csv`` and ``results.sqlite``; return the csv path.

    ``path`` is a results folder (created if needed) or a ``.csv`` file.
    """
    csv_path, db_path = results_paths(path)
    with _locked(csv_path.parent):
        header = _check_header(csv_path)
        if header is not None and header != COLUMNS:
            _upgrade_csv(csv_path, header)
        has_header = header is not None
        data = row.model_dump()
        text = ("" if has_header else _csv_line(list(COLUMNS))) + _csv_line([_csv_value(data[c]) for c in COLUMNS])
        # one write of the whole text on an O_APPEND descriptor: never interleaved with another
        fd = os.open(csv_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if has_header:
                _ensure_newline(fd, csv_path)
            os.write(fd, text.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        with _connect(db_path) as conn:
            conn.execute(
                f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                [_sql_value(data[c]) for c in COLUMNS],
            )
    return csv_path


def _ensure_newline(fd: int, csv_path: Path) -> None:
    """A file edited by hand may lack its final newline; do not glue the next row onto it."""
    with open(csv_path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) != b"\n":
            os.write(fd, b"\n")


def _sql_value(value: object) -> object:
    return int(value) if isinstance(value, bool) else value


@contextmanager
def _connect(db_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        columns = ", ".join(f"{c} {_SQL_TYPES[c]}" for c in COLUMNS)
        conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (rowid INTEGER PRIMARY KEY, {columns})")
        have = _sql_columns(conn)
        for c in COLUMNS:
            if c not in have:  # a table of an older version
                conn.execute(f"ALTER TABLE {TABLE} ADD COLUMN {c} {_SQL_TYPES[c]}")
        with conn:
            yield conn
    finally:
        conn.close()


def _sql_columns(conn: sqlite3.Connection) -> set[str]:
    return {str(r[1]) for r in conn.execute(f"PRAGMA table_info({TABLE})")}


def read_results(path: Path | str) -> pd.DataFrame:
    """The results table as a DataFrame with :data:`COLUMNS` (missing values are NaN/None).

    A table of an older version reads too: the columns it lacks (:data:`ADDED_COLUMNS`) are empty.

    ``path`` is a results folder (its csv is read), a ``.csv`` file or a ``.sqlite`` file.
    """
    path = Path(path)
    if path.suffix.lower() in (".sqlite", ".db"):
        if not path.is_file():
            raise AirlabError(f"no results database at {path}")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            have = _sql_columns(conn)
            if not have:
                raise sqlite3.OperationalError(f"no such table: {TABLE}")
            present = [c for c in COLUMNS if c in have or c not in ADDED_COLUMNS]
            frame = pd.read_sql_query(f"SELECT {', '.join(present)} FROM {TABLE} ORDER BY rowid", conn)
        except (sqlite3.Error, pd.errors.DatabaseError) as exc:
            raise AirlabError(f"{path} is not an airlab results database: {exc}") from exc
        finally:
            conn.close()
    else:
        csv_path, _ = results_paths(path)
        if not csv_path.is_file():
            raise AirlabError(f"no results table at {csv_path}")
        _check_header(csv_path)
        frame = pd.read_csv(csv_path, dtype={"agent": str, "task": str, "metric": str, "run_id": str,
                                             "report": str})
    for col in ADDED_COLUMNS:
        if col not in frame.columns:
            frame[col] = None if col == "report" else float("nan")
    frame["baseline_test_score"] = pd.to_numeric(frame["baseline_test_score"], errors="coerce")
    frame = frame[list(COLUMNS)]
    for col in ("higher_is_better", "valid"):
        frame[col] = frame[col].map(_as_bool)
    return frame


def _as_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)
