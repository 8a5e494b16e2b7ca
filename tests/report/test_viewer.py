"""``airlab view`` over HTTP on 127.0.0.1 while a run is in progress."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from airlab.errors import AirlabError
from airlab.report.viewer import make_server
from tests.conftest import AIRLAB
from tests.report.conftest import BackgroundRun
from tests.report.test_leaderboard import make_bench


def get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def get_json(url: str) -> Any:
    status, body, ctype = get(url)
    assert status == 200 and ctype == "application/json", body
    return json.loads(body)


def test_viewer_follows_a_running_run(viewer_server: tuple[str, Path]) -> None:
    base, folder = viewer_server
    assert base.startswith("http://127.0.0.1:")
    run = BackgroundRun(folder, nodes=5, pause=1.0)
    run.start()
    key = urllib.parse.quote(run.run_dir().name)
    api = f"{base}/api/run/{key}"

    # While running: the run is listed, its page is live, nodes land one by one, val/test hidden.
    seen_running: list[int] = []
    since = 0
    deadline = time.monotonic() + 120
    while run.is_alive() and time.monotonic() < deadline:
        ev = get_json(f"{api}/events?since={since}")
        if ev["running"] and ev["events"]:
            since = ev["events"][-1]["seq"]
            finished = [e for e in ev["events"] if e["kind"] == "node_finished"]
            for e in finished:
                node = get_json(f"{api}/node/{e['node_id']}")
                if not get_json(f"{api}/events?since={since}")["running"]:
                    break
                assert node["status"] == "ok" and node["hidden_revealed"] is False
                assert "val" not in node and "test" not in node
                seen_running.append(e["node_id"])
        time.sleep(0.2)
    run.join(timeout=120)
    assert run.error is None
    assert len(seen_running) >= 2, "the test should observe nodes landing during the run"
    assert seen_running == sorted(seen_running)

    # Pages: index lists the run; the run page is live (details come from the API).
    status, body, ctype = get(f"{base}/")
    assert status == 200 and ctype.startswith("text/html") and run.run_dir().name.encode() in body
    status, body, _ = get(f"{base}/run/{key}")
    assert status == 200 and f'data-api="/api/run/{key}"'.encode() in body
    assert b'id="node-data"' not in body  # no embedded node blobs in the live page
    status, body, _ = get(f"{api}/main")
    assert status == 200 and b"Solution tree" in body

    # After the run: everything is listed as finished and val/test are revealed.
    ev = get_json(f"{api}/events?since=0")
    assert ev["running"] is False
    assert sum(e["kind"] == "node_finished" for e in ev["events"]) == 5
    result = json.loads((run.run_dir() / "result.json").read_text())
    node = get_json(f"{api}/node/{result['selected_node']}")
    assert node["val"] == result["val_score"] and node["selected"] is True
    runs = get_json(f"{base}/api/runs")
    assert [r["nodes"] for r in runs] == [5] and runs[0]["running"] is False


def test_viewer_is_read_only_and_serves_only_what_it_found(viewer_server: tuple[str, Path]) -> None:
    base, folder = viewer_server
    make_bench(folder / "bench")
    status, body, _ = get(f"{base}/bench/bench")
    assert status == 200 and b'id="heatmap"' in body
    for path in ("/run/..%2F..%2Fetc", "/api/run/..%2F..%2F/node/0", "/bench/..", "/nope", "/api/run/x/events"):
        assert get(base + path)[0] == 404, path
    for method in ("POST", "PUT", "DELETE"):
        req = urllib.request.Request(f"{base}/", data=b"x", method=method)
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(req, timeout=10)
        assert info.value.code == 405 and info.value.headers["Allow"] == "GET, HEAD"


def test_make_server_errors_are_user_facing(tmp_path: Path) -> None:
    with pytest.raises(AirlabError, match="is not a folder"):
        make_server(tmp_path / "missing", port=0)
    server = make_server(tmp_path, port=0)
    try:
        assert server.server_address[0] == "127.0.0.1"
        with pytest.raises(AirlabError, match="cannot listen"):
            make_server(tmp_path, port=server.server_address[1])
    finally:
        server.server_close()


def test_the_airlab_view_command_serves_runs_until_stopped(iris_run: Path) -> None:
    """The real ``airlab view`` in its own process on a free loopback port: it prints where it
    serves, serves the run list, a run's page and its data, and stops cleanly on Ctrl-C."""
    proc = subprocess.Popen([*AIRLAB, "view", str(iris_run.parent), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        found = re.search(r"serving .* at (http://127\.0\.0\.1:(\d+))/", line)
        assert found, (line, proc.poll(), proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        base, port = found[1], int(found[2])
        key = urllib.parse.quote(iris_run.name)
        status, body, ctype = get(f"{base}/")
        assert status == 200 and ctype.startswith("text/html") and iris_run.name.encode() in body
        status, body, ctype = get(f"{base}/run/{key}")
        assert status == 200 and ctype.startswith("text/html") and f'data-api="/api/run/{key}"'.encode() in body
        runs = get_json(f"{base}/api/runs")
        assert [r["nodes"] for r in runs] == [4] and runs[0]["running"] is False
        result = json.loads((iris_run / "result.json").read_text())
        node = get_json(f"{base}/api/run/{key}/node/{result['selected_node']}")
        assert node["val"] == result["val_score"] and node["selected"] is True
        assert get(f"{base}/nope")[0] == 404
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        finally:
            proc.kill()
            _out, err = proc.communicate()
    assert code == 0, err
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass  # nothing listens there any more
