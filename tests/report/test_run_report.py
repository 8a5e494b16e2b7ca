"""Run reports built from real runs: self-contained, complete, and honest about hidden scores."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import time
from pathlib import Path

from airlab.report.run_report import (
    load_run,
    node_detail,
    operator_stats,
    render_run_page,
    score_timeline,
)
from airlab.report.tree import STATUS_COLOUR, layout, tree_svg
from airlab.search.node import Node, NodeStatus, Operator
from airlab.store.run_store import JOURNAL_FILE, RunStore
from tests.conftest import airlab


def _blobs(html: str) -> dict[int, dict[str, object]]:
    found = re.findall(r'<script type="application/json" id="node-(\d+)">(.*?)</script>', html, re.S)
    return {int(i): json.loads(text) for i, text in found}


def test_cli_report_is_self_contained_and_complete(iris_run: Path) -> None:
    done = airlab("report", str(iris_run))
    target = iris_run / "report.html"
    assert done.stdout.strip() == str(target)
    html = target.read_text()
    # Offline: nothing is fetched, every script and style is inline.
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|@import|url\(http", html)
    assert not re.findall(r"https?://(?!www\.w3\.org/2000/svg)", html)
    nodes = RunStore(iris_run / JOURNAL_FILE, readonly=True).nodes()
    blobs = _blobs(html)
    assert sorted(blobs) == [n.id for n in nodes]
    result = json.loads((iris_run / "result.json").read_text())
    selected = blobs[result["selected_node"]]
    assert selected["selected"] is True and selected["val"] == result["node_val_score"]
    assert selected["test"] == result["node_test_score"]
    assert "final answer: val · test" in html
    if result["ensemble"] is not None:
        assert "ensemble of nodes (weights)" in html
        for member in result["ensemble"]["members"]:
            assert f'class="node-link" data-id="{member}"' in html
    sel = re.search(rf'<g class="([^"]*)" data-id="{result["selected_node"]}"', html)
    assert sel and "selected" in sel.group(1).split()
    if result["oracle_node"] is not None:
        ora = re.search(rf'<g class="([^"]*)" data-id="{result["oracle_node"]}"', html)
        assert ora and "oracle" in ora.group(1).split()
    # Every node of the tree is drawn once, with its operator.
    assert len(re.findall(r'<g class="node ', html)) == len(nodes)
    assert "Score over time" in html and "oracle best test" in html and "Ideation diversity" in html


def test_improve_nodes_diff_against_their_parent(iris_run: Path) -> None:
    data = load_run(iris_run)
    children = [n for n in data.nodes if n.parents]
    assert children, "the run should have improve or debug nodes"
    for node in children:
        detail = node_detail(data, node.id)
        parent = data.by_id[node.parents[0]]
        assert detail["diff_parent"] == parent.id
        if node.code != parent.code:
            assert f"--- node {parent.id}" in detail["diff"] and f"+++ node {node.id}" in detail["diff"]
            added = [ln[1:] for ln in detail["diff"].splitlines() if ln.startswith("+") and not ln.startswith("+++")]
            assert all(line in node.code for line in added)


def test_operator_stats_and_timeline_match_the_journal(iris_run: Path) -> None:
    data = load_run(iris_run)
    stats = operator_stats(data)
    assert sum(r["n"] for r in stats) == len(data.nodes)
    drafts = next(r for r in stats if r["operator"] == "draft")
    assert drafts["n"] == 2
    tl = score_timeline(data)
    best = max(float(n.search_score or 0) for n in data.nodes if n.is_ok)  # iris accuracy: higher is better
    assert tl["search"][-1][1] == best
    times = [t for t, _ in tl["search"]]
    assert times == sorted(times)
    assert tl["test"] and tl["oracle"]
    assert all(o >= t for (_, o), (_, t) in zip(tl["oracle"][-1:], tl["test"][-1:], strict=True))


def test_val_and_test_stay_hidden_while_a_run_is_going(iris_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / iris_run.name
    shutil.copytree(iris_run, copy)
    (copy / "result.json").unlink()
    store = RunStore(copy / JOURNAL_FILE)
    store.set_meta(status="running")
    store.close()
    data = load_run(copy)
    assert data.running and not data.reveal_hidden
    html = render_run_page(data)
    for blob in _blobs(html).values():
        assert "val" not in blob and "test" not in blob and blob["hidden_revealed"] is False
    assert "hidden until the run ends" in html
    assert "its val" not in html  # the timeline shows the search score only


def test_failure_kinds_render_distinctly(scripted_run: Path) -> None:
    data = load_run(scripted_run)
    status = {n.id: n.status for n in data.nodes}
    assert status == {0: NodeStatus.OK, 1: NodeStatus.BUGGY, 2: NodeStatus.TIMEOUT, 3: NodeStatus.INVALID,
                      4: NodeStatus.FAILED}
    html = render_run_page(data)
    fills = {}
    for node_id, state in status.items():
        m = re.search(rf'<g class="node status-{state.value}[^"]*" data-id="{node_id}".*?<circle cx="[^"]+" '
                      rf'cy="[^"]+" r="\d+" fill="(#[0-9a-f]+)"', html)
        assert m, f"node {node_id} is not drawn as {state.value}"
        fills[state] = m.group(1)
    bad = [NodeStatus.BUGGY, NodeStatus.TIMEOUT, NodeStatus.INVALID, NodeStatus.FAILED]
    assert len({fills[s] for s in bad}) == 4
    assert all(fills[s] == STATUS_COLOUR[s] for s in bad)
    blobs = _blobs(html)
    assert blobs[2]["limit_hit"] == "time" and "wall-time limit" in str(blobs[2]["error"])
    assert "invalid submission" in str(blobs[3]["error"])
    assert "scripted crash" in str(blobs[1]["output_tail"])
    assert "no usable code" in str(blobs[4]["error"])
    stats = {r["operator"]: r for r in operator_stats(data)}
    assert (stats["draft"]["ok"], stats["draft"]["buggy"], stats["draft"]["timeout"],
            stats["draft"]["invalid"], stats["draft"]["failed"]) == (1, 1, 1, 1, 1)


def test_a_script_end_tag_in_code_cannot_break_the_page(scripted_run: Path, tmp_path: Path) -> None:
    data = load_run(scripted_run)
    data.nodes[0].code = "print('</script><script>alert(1)</script>')"
    html = render_run_page(data)
    assert "</script><script>alert(1)" not in html
    assert _blobs(html)[0]["code"] == data.nodes[0].code


def _synthetic_tree(n: int) -> list[Node]:
    nodes = []
    for i in range(n):
        if i < 20:
            nodes.append(Node(id=i, operator=Operator.DRAFT, status=NodeStatus.OK, search_score=i / n))
        else:
            op = Operator.DEBUG if i % 7 == 0 else Operator.IMPROVE
            status = NodeStatus.BUGGY if i % 5 == 0 else NodeStatus.OK
            nodes.append(Node(id=i, operator=op, parents=[(i * 7919) % i], status=status,
                              search_score=None if status != NodeStatus.OK else (i % 97) / 97))
    return nodes


def test_layout_is_tidy_and_scales_to_thousands_of_nodes() -> None:
    nodes = _synthetic_tree(5000)
    start = time.perf_counter()
    placed = layout(nodes)
    svg = tree_svg(nodes, higher_is_better=True)
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0
    assert svg.count('<g class="node ') == len(nodes)
    # Children one layer below their parent, parents centred over their children, no overlaps.
    for p in placed.values():
        if p.node.parents:
            assert p.depth == placed[p.node.parents[0]].depth + 1
        if p.children:
            xs = [placed[c].x for c in p.children]
            assert abs(p.x - (min(xs) + max(xs)) / 2) < 1e-6
    by_depth: dict[int, list[float]] = {}
    for p in placed.values():
        by_depth.setdefault(p.depth, []).append(p.x)
    for xs in by_depth.values():
        xs.sort()
        assert all(b - a >= 30 for a, b in itertools.pairwise(xs))


def test_a_program_run_report_shows_code_roles_and_the_starter(tmp_path: Path) -> None:
    from tests.conftest import run_json

    result = run_json("run", "colonel-blotto", "--budget-nodes", "3", "--out", str(tmp_path))
    run_dir = tmp_path / result["run_id"]
    airlab("report", str(run_dir))
    html = (run_dir / "report.html").read_text()
    blobs = _blobs(html)
    assert sorted(blobs) == [0, 1, 2]
    selected = blobs[result["selected_node"]]
    assert selected["test"] == result["node_test_score"] and selected["val"] == result["node_val_score"]
    assert "def allocate" in str(selected["code"])
    assert "starter code: search · val · test" in html and "payoff" not in html
    assert f"{result['baseline_test_score']:.5g}" in html and "optimum" in html
