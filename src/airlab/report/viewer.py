"""``airlab view``: a read-only local web server over a folder of runs.

It serves the same pages as the static reports, but node details come from
``/api/run/<id>/node/<n>`` and a running run's page polls ``/api/run/<id>/events?since=N`` (the
store's ``events`` table), swapping in a fresh render of the page body when nodes land.

Safety: it binds 127.0.0.1 unless told otherwise, answers only GET/HEAD (anything else is 405),
opens run journals read-only, and serves only runs and bench folders it found itself (a URL
names one of those by key; no path from a request ever reaches the filesystem).
"""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.parse
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from airlab.errors import AirlabError, RunStateError
from airlab.report.html import esc, page, table
from airlab.report.leaderboard import is_bench_dir, render_leaderboard
from airlab.report.run_report import (
    is_run_dir,
    load_run,
    node_detail,
    render_main,
    render_run_page,
    summary_json,
)
from airlab.store.run_store import JOURNAL_FILE, RunStore

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
SCAN_DEPTH = 2


@dataclass
class Catalog:
    """Runs and bench folders under the served folder, keyed by their relative path."""

    root: Path

    def _scan(self, want: str) -> dict[str, Path]:
        found: dict[str, Path] = {}
        frontier = [self.root]
        for _ in range(SCAN_DEPTH + 1):
            nxt: list[Path] = []
            for folder in frontier:
                ok = is_run_dir(folder) if want == "run" else is_bench_dir(folder)
                if ok:
                    key = folder.relative_to(self.root).as_posix()
                    found[key if key != "." else folder.name or "."] = folder
                if is_run_dir(folder):
                    continue  # nothing to find inside a run's own folders
                try:
                    nxt.extend(sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")))
                except OSError:
                    continue
            frontier = nxt
        return found

    def runs(self) -> dict[str, Path]:
        return self._scan("run")

    def benches(self) -> dict[str, Path]:
        return self._scan("bench")


def _events(run_dir: Path, since: int) -> dict[str, Any]:
    try:
        store = RunStore(run_dir / JOURNAL_FILE, readonly=True)
        try:
            events = store.events(since)
            status = store.meta().get("status")
        finally:
            store.close()
    except sqlite3.Error:  # the run is starting: its tables do not exist yet
        return {"events": [], "running": True, "status": "starting"}
    running = status == "running" or not (run_dir / "result.json").is_file()
    return {"events": events, "running": running, "status": status}


def _index(catalog: Catalog) -> str:
    rows = []
    for key, path in catalog.runs().items():
        try:
            s = summary_json(load_run(path))
        except (AirlabError, ValueError, OSError) as exc:
            rows.append([esc(key), f'<span class="error">unreadable: {esc(exc)}</span>', "", "", "", ""])
            continue
        href = "/run/" + urllib.parse.quote(key)
        counts = ", ".join(f"{k} {v}" for k, v in sorted(s["counts"].items()))
        state = '<span class="live">running</span>' if s["running"] else "finished"
        best = "–" if s["best_search"] is None else f"{s['best_search']:.5g}"
        rows.append([f'<a class="run-link" href="{esc(href)}">{esc(key)}</a>', esc(s["task"] or "?"),
                     esc(s["agent"] or "?"), state, esc(f"{s['nodes']} ({counts})"), esc(best)])
    runs = table(["run", "task", "agent", "state", "nodes", "best search"], rows, "runs") if rows else \
        '<p class="empty">No runs here yet (a run is a folder with journal.sqlite).</p>'
    benches = "".join(
        f'<li><a class="bench-link" href="/bench/{esc(urllib.parse.quote(k))}">{esc(k)}</a></li>'
        for k in catalog.benches())
    bench_html = f'<section class="card"><h2>Leaderboards</h2><ul>{benches}</ul></section>' if benches else ""
    body = (f"<header><h1>airlab · {esc(catalog.root.resolve().name)}</h1></header><div class=\"page\">"
            f'<section class="card"><h2>Runs</h2>{runs}</section>{bench_html}</div>')
    return page("airlab runs", body, {"data-page": "index"})


_NODE = re.compile(r"^/api/run/(?P<key>.+)/node/(?P<n>\d+)$")
_EVENTS = re.compile(r"^/api/run/(?P<key>.+)/events$")
_MAIN = re.compile(r"^/api/run/(?P<key>.+)/main$")
_RUN = re.compile(r"^/run/(?P<key>.+?)/?$")
_BENCH = re.compile(r"^/bench/(?P<key>.+?)/?$")


class Handler(BaseHTTPRequestHandler):
    catalog: Catalog  # set on the subclass made by make_server
    server_version = "airlab-view"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: polling would flood the terminal

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _html(self, text: str, status: int = 200) -> None:
        self._send(status, text.encode("utf-8"), "text/html; charset=utf-8")

    def _json(self, obj: Any, status: int = 200) -> None:
        self._send(status, json.dumps(obj, separators=(",", ":")).encode(), "application/json")

    def _not_found(self, what: str) -> None:
        self._json({"error": f"not found: {what}"}, HTTPStatus.NOT_FOUND)

    def _run(self, key: str) -> Path | None:
        return self.catalog.runs().get(urllib.parse.unquote(key))

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        query = urllib.parse.parse_qs(url.query)
        try:
            self._route(path, query)
        except RunStateError as exc:  # a run that is starting: ask the client to retry
            self._json({"error": str(exc)}, HTTPStatus.SERVICE_UNAVAILABLE)
        except (AirlabError, ValueError, OSError, sqlite3.Error) as exc:
            self._json({"error": str(exc)}, HTTPStatus.INTERNAL_SERVER_ERROR)

    do_HEAD = do_GET

    def _route(self, path: str, query: dict[str, list[str]]) -> None:
        if path in ("/", "/index.html"):
            return self._html(_index(self.catalog))
        if path == "/favicon.ico":  # browsers ask for it; there is none
            return self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        if path == "/api/runs":
            return self._json([summary_json(load_run(p)) for p in self.catalog.runs().values()])
        for pattern, kind in ((_NODE, "node"), (_EVENTS, "events"), (_MAIN, "main"), (_RUN, "run")):
            m = pattern.match(path)
            if not m:
                continue
            run_dir = self._run(m["key"])
            if run_dir is None:
                return self._not_found(f"run {m['key']}")
            if kind == "events":
                since = int(query.get("since", ["0"])[0] or 0)
                return self._json(_events(run_dir, since))
            data = load_run(run_dir)
            if kind == "node":
                try:
                    return self._json(node_detail(data, int(m["n"])))
                except KeyError:
                    return self._not_found(f"node {m['n']}")
            if kind == "main":
                return self._html(render_main(data))
            api = "/api/run/" + urllib.parse.quote(urllib.parse.unquote(m["key"]))
            return self._html(render_run_page(data, live_api=api))
        m = _BENCH.match(path)
        if m:
            folder = self.catalog.benches().get(urllib.parse.unquote(m["key"]))
            if folder is None:
                return self._not_found(f"bench {m['key']}")
            return self._html(render_leaderboard(folder, back_link=True))
        return self._not_found(path)

    def _read_only(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = _read_only


def make_server(folder: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
    """A server for ``folder`` (not yet serving: call ``serve_forever``). Port 0 picks a free one."""
    if not folder.is_dir():
        raise AirlabError(f"{folder} is not a folder")
    handler = type("BoundHandler", (Handler,), {"catalog": Catalog(folder)})
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise AirlabError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    server.daemon_threads = True
    return server
