"""The SQLite journal of one run (WAL mode, one writer).

Tables: ``meta`` (run config and state), ``nodes`` (one row per node, the full node as JSON plus
indexed columns), ``hidden_scores`` (val and test scores: read by the final selection and the report
only, never loaded into a :class:`~airlab.search.journal.Journal`), and ``events`` (an append-only
log). Every write is one transaction, so a node is durable before its result is used.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from airlab.search.node import HiddenScores, Node

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    id INTEGER PRIMARY KEY,
    status TEXT NOT NULL,
    operator TEXT NOT NULL,
    parents TEXT NOT NULL,
    search_score REAL,
    data TEXT NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS hidden_scores (
    node_id INTEGER PRIMARY KEY REFERENCES nodes(id),
    val REAL,
    test REAL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    t REAL NOT NULL,
    kind TEXT NOT NULL,
    node_id INTEGER,
    data TEXT NOT NULL
);
"""

JOURNAL_FILE = "journal.sqlite"


class RunStore:
    def __init__(self, path: Path, readonly: bool = False):
        self.path = path
        if readonly:
            uri = f"file:{path}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        self._lock = threading.RLock()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    # -- meta --------------------------------------------------------------------------------
    def set_meta(self, **values: Any) -> None:
        with self._tx() as db:
            for key, value in values.items():
                db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def meta(self) -> dict[str, Any]:
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM meta").fetchall()
        return {k: json.loads(v) for k, v in rows}

    # -- nodes -------------------------------------------------------------------------------
    def put_node(self, node: Node, hidden: HiddenScores | None = None, event: str | None = None) -> None:
        """Insert or replace a node (and its hidden scores) in one transaction."""
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO nodes(id, status, operator, parents, search_score, data, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (node.id, node.status.value, node.operator.value, json.dumps(node.parents),
                 node.search_score, node.model_dump_json(), now),
            )
            if hidden is not None:
                db.execute(
                    "INSERT OR REPLACE INTO hidden_scores(node_id, val, test) VALUES (?, ?, ?)",
                    (node.id, hidden.val, hidden.test),
                )
            if event:
                db.execute(
                    "INSERT INTO events(t, kind, node_id, data) VALUES (?, ?, ?, ?)",
                    (now, event, node.id, json.dumps({"status": node.status.value, "search": node.search_score})),
                )

    def nodes(self) -> list[Node]:
        with self._lock:
            rows = self._db.execute("SELECT data FROM nodes ORDER BY id").fetchall()
        return [Node.model_validate_json(r[0]) for r in rows]

    def node_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM nodes").fetchone()[0])

    def hidden_scores(self) -> dict[int, HiddenScores]:
        with self._lock:
            rows = self._db.execute("SELECT node_id, val, test FROM hidden_scores").fetchall()
        return {r[0]: HiddenScores(node_id=r[0], val=r[1], test=r[2]) for r in rows}

    # -- events ------------------------------------------------------------------------------
    def add_event(self, kind: str, node_id: int | None = None, **data: Any) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO events(t, kind, node_id, data) VALUES (?, ?, ?, ?)",
                (time.time(), kind, node_id, json.dumps(data)),
            )

    def events(self, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, t, kind, node_id, data FROM events WHERE seq > ? ORDER BY seq", (since,)
            ).fetchall()
        return [{"seq": s, "t": t, "kind": k, "node_id": n, **json.loads(d)} for s, t, k, n, d in rows]
