"""Reports in a real headless Chromium (Debian's, driven by Playwright; no browser download)."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airlab.report.run_report import load_run
from tests.conftest import SET_UP, airlab, require_module
from tests.report.conftest import BackgroundRun
from tests.report.test_leaderboard import make_bench

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"chromium is not installed at {CHROMIUM}: {SET_UP}", pytrace=False)
    sync_api = require_module("playwright.sync_api", "playwright (the dev extra)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    requests: list[str] = []
    pg.on("request", lambda req: requests.append(req.url))
    pg.errors = errors
    pg.requests = requests
    yield pg
    context.close()
    assert not errors, errors


def test_run_report_click_a_node(page: Any, iris_run: Path, artifacts: Path) -> None:
    airlab("report", str(iris_run))
    page.goto((iris_run / "report.html").as_uri())
    assert all(url.startswith("file://") for url in page.requests), page.requests  # works offline
    data = load_run(iris_run)
    result = json.loads((iris_run / "result.json").read_text())
    assert page.locator("svg.tree .node").count() == len(data.nodes)
    child = next(n for n in data.nodes if n.parents)
    page.click(f'svg.tree .node[data-id="{child.id}"]')
    detail = page.locator("#detail")
    detail.locator(".code-section pre").wait_for()
    assert detail.get_attribute("data-node") == str(child.id)
    assert child.code.splitlines()[0] in detail.locator(".code-section pre").inner_text()
    assert f"diff against parent {child.parents[0]}" in detail.inner_text().lower()
    assert detail.locator(".v-search").inner_text() == f"{child.search_score:.5g}".rstrip(".")
    scores = data.hidden[child.id]
    assert float(detail.locator(".v-val").inner_text()) == pytest.approx(scores.val, abs=1e-4)
    assert float(detail.locator(".v-test").inner_text()) == pytest.approx(scores.test, abs=1e-4)
    page.screenshot(path=str(artifacts / "report-run.png"), full_page=True)
    # A summary link jumps to the selected node.
    page.click(f'.node-link[data-id="{result["selected_node"]}"]')
    page.wait_for_function(f"document.getElementById('detail').dataset.node === '{result['selected_node']}'")
    assert "selected" in detail.locator(".detail-title").inner_text()


def test_failure_kinds_are_distinct_in_the_browser(page: Any, scripted_run: Path, artifacts: Path) -> None:
    airlab("report", str(scripted_run))
    page.goto((scripted_run / "report.html").as_uri())
    fills = {}
    for node_id, status in enumerate(["ok", "buggy", "timeout", "invalid", "failed"]):
        g = page.locator(f'svg.tree .node[data-id="{node_id}"]')
        assert g.get_attribute("data-status") == status
        fills[status] = g.locator("circle").last.get_attribute("fill")
    assert len(set(fills.values())) == 5
    page.click('svg.tree .node[data-id="2"]')
    page.locator("#detail .error-section").wait_for()
    assert page.locator("#detail .badge.status-timeout").inner_text() == "timeout"
    assert "wall-time limit" in page.locator("#detail .error-section").inner_text()
    assert page.locator("#detail .v-limit-hit").inner_text() == "time"
    page.screenshot(path=str(artifacts / "report-failures.png"), full_page=True)
    page.click('svg.tree .node[data-id="3"]')
    page.wait_for_function("document.querySelector('#detail .badge.status-invalid') !== null")
    assert "invalid submission" in page.locator("#detail .error-section").inner_text()


def test_leaderboard_page(page: Any, tmp_path: Path, artifacts: Path) -> None:
    bench = make_bench(tmp_path / "bench")
    airlab("report", str(bench))
    page.goto((bench / "leaderboard.html").as_uri())
    assert page.locator("#heatmap tbody tr").count() == 3
    assert page.locator("#rankings table.ranking").count() == 6
    first = page.locator("#rankings table.ranking").first.locator("tbody tr").first.inner_text()
    assert "strong" in first
    assert page.locator("#profile svg polyline.series").count() == 3
    assert page.locator("#winners tbody tr").count() == 3
    page.screenshot(path=str(artifacts / "leaderboard.png"), full_page=True)


def test_viewer_updates_a_running_run_live(page: Any, viewer_server: tuple[str, Path], artifacts: Path) -> None:
    base, folder = viewer_server
    run = BackgroundRun(folder, nodes=5, pause=1.5)
    run.start()
    key = urllib.parse.quote(run.run_dir().name)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the journal has tables
        with urllib.request.urlopen(f"{base}/api/run/{key}/events?since=0", timeout=10) as resp:
            if json.loads(resp.read())["status"] == "running":
                break
        time.sleep(0.1)
    page.goto(f"{base}/run/{key}")
    first = page.locator("svg.tree .node").count()
    assert first < 5 and page.locator("body").get_attribute("data-running") == "1"
    page.wait_for_function("document.querySelectorAll('svg.tree .node').length === 5", timeout=90_000)
    run.join(timeout=90)
    assert run.error is None
    page.wait_for_function("document.body.dataset.running === '0'", timeout=30_000)
    page.wait_for_function("document.querySelector('.run-status').dataset.status === 'complete'", timeout=30_000)
    page.click('svg.tree .node[data-id="1"]')
    page.locator("#detail .v-val").wait_for()  # fetched from /api/run/<id>/node/1, revealed after the run
    assert "paced node 1" in page.locator("#detail .plan-section").inner_text()
    page.screenshot(path=str(artifacts / "viewer-live.png"), full_page=True)
