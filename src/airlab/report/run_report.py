"""The report of one run: summary, solution tree, node details, score-over-time, operator stats.

A run is read only through :class:`~airlab.store.RunStore` (read-only) and the files of the run
directory, so a report can be made while the run is still going. Val and test scores are shown
only once the run has ended (``result.json`` written): during a run they stay hidden, as they
are from the agent.

Node details (plan, code, diff, output) are embedded one ``<script type="application/json">``
per node, which the browser does not parse until the node is clicked; the first paint is only
the summary and the SVG tree, so runs with thousands of nodes stay responsive.
"""

from __future__ import annotations

import difflib
import json
import math
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airlab.errors import RunStateError
from airlab.report.html import esc, fmt, json_script, page, table
from airlab.report.plots import PALETTE, Series, line_plot
from airlab.report.tree import legend_html, tree_svg
from airlab.rundir import RunConfig, RunResult
from airlab.search.diversity import shannon_entropy
from airlab.search.node import HiddenScores, Node, NodeStatus, Operator
from airlab.store.run_store import JOURNAL_FILE, RunStore

REPORT_FILE = "report.html"
MAX_DIFF_LINES = 400


@dataclass
class RunData:
    """Everything a report shows about one run, read once."""

    run_dir: Path
    meta: dict[str, Any]
    config: RunConfig | None
    nodes: list[Node]
    hidden: dict[int, HiddenScores]
    result: RunResult | None
    metric: str
    higher_is_better: bool
    last_event: int

    @property
    def run_id(self) -> str:
        return self.run_dir.name

    @property
    def running(self) -> bool:
        return self.result is None or self.meta.get("status") == "running"

    @property
    def reveal_hidden(self) -> bool:
        """Val/test are shown only after the run (never while an agent may still be searching)."""
        return not self.running

    @property
    def by_id(self) -> dict[int, Node]:
        return {n.id: n for n in self.nodes}

    def better(self, a: float, b: float) -> bool:
        return a > b if self.higher_is_better else a < b


def is_run_dir(path: Path) -> bool:
    return (path / JOURNAL_FILE).is_file()


def load_run(run_dir: Path) -> RunData:
    """Read a run directory (finished or still running)."""
    if not is_run_dir(run_dir):
        raise RunStateError(f"{run_dir} is not a run directory (no {JOURNAL_FILE})")
    try:
        store = RunStore(run_dir / JOURNAL_FILE, readonly=True)
        try:
            meta = store.meta()
            nodes = store.nodes()
            hidden = store.hidden_scores()
            events = store.events(0)
        finally:
            store.close()
    except sqlite3.Error as exc:  # e.g. a run that is starting and has no tables yet
        raise RunStateError(f"{run_dir}: the journal cannot be read yet ({exc})") from exc
    config = RunConfig.model_validate(meta["config"]) if "config" in meta else None
    result = None
    result_path = run_dir / "result.json"
    if result_path.is_file():
        try:
            result = RunResult.model_validate_json(result_path.read_text())
        except ValueError:  # being written right now: treat the run as still going
            result = None
    metric, higher = _metric(result, config, meta)
    return RunData(run_dir=run_dir, meta=meta, config=config, nodes=nodes, hidden=hidden, result=result,
                   metric=metric, higher_is_better=higher,
                   last_event=max((e["seq"] for e in events), default=0))


def _metric(result: RunResult | None, config: RunConfig | None, meta: dict[str, Any]) -> tuple[str, bool]:
    if result is not None:
        return result.metric, result.higher_is_better
    from airlab.tasks.loader import task_card

    for ref in (meta.get("task_id"), config.task if config else None):
        if not ref:
            continue
        try:
            name, arrow = task_card(str(ref))["metric"].rsplit(" ", 1)
            return name, arrow == "↑"
        except Exception:  # a task folder that moved: fall back to "higher is better"
            continue
    return "score", True


# -- node details ------------------------------------------------------------------------------
def diff_against_parent(node: Node, parent: Node | None) -> str:
    if parent is None:
        return ""
    lines = list(difflib.unified_diff(
        parent.code.splitlines(keepends=True), node.code.splitlines(keepends=True),
        fromfile=f"node {parent.id}", tofile=f"node {node.id}", n=2,
    ))
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"\n... {len(lines) - MAX_DIFF_LINES} more diff lines\n"]
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def node_detail(data: RunData, node_id: int) -> dict[str, Any]:
    """What the detail panel shows for one node (the viewer's ``/node/<n>`` endpoint too)."""
    nodes = data.by_id
    if node_id not in nodes:
        raise KeyError(node_id)
    node = nodes[node_id]
    parent = nodes.get(node.parents[0]) if node.parents else None
    detail: dict[str, Any] = {
        "id": node.id, "operator": node.operator.value, "status": node.status.value,
        "parents": node.parents, "children": [n.id for n in data.nodes if node.id in n.parents],
        "family": node.family, "plan": node.plan, "code": node.code,
        "diff": diff_against_parent(node, parent), "diff_parent": parent.id if parent else None,
        "output_tail": node.output_tail, "error": node.error, "limit_hit": node.limit_hit,
        "exit_code": node.exit_code, "exec_seconds": node.exec_seconds,
        "peak_memory_mb": node.peak_memory_mb, "time_limit": node.meta.get("time_limit"),
        "search": node.search_score, "fold_scores": node.fold_scores,
        "tokens_in": node.tokens_in, "tokens_out": node.tokens_out, "cost_usd": node.cost_usd,
        "debug_depth": node.debug_depth, "coder": node.coder,
        "selected": data.result is not None and data.result.selected_node == node.id,
        "oracle": data.result is not None and data.result.oracle_node == node.id,
        "hidden_revealed": data.reveal_hidden,
    }
    if data.reveal_hidden:
        scores = data.hidden.get(node.id)
        detail["val"] = scores.val if scores else None
        detail["test"] = scores.test if scores else None
    return detail


# -- statistics --------------------------------------------------------------------------------
def operator_stats(data: RunData) -> list[dict[str, Any]]:
    """Per operator: counts by status, success rate, and how often it beat its parent."""
    nodes = data.by_id
    rows = []
    for op in Operator:
        group = [n for n in data.nodes if n.operator == op and n.is_finished]
        if not group:
            continue
        counts = Counter(n.status for n in group)
        beat = 0
        comparable = 0
        for n in group:
            parent = nodes.get(n.parents[0]) if n.parents else None
            if parent is None or not parent.is_ok:
                continue
            comparable += 1
            if n.is_ok and data.better(float(n.search_score), float(parent.search_score)):  # type: ignore[arg-type]
                beat += 1
        secs = [n.exec_seconds for n in group if n.exec_seconds is not None]
        rows.append({
            "operator": op.value, "n": len(group),
            **{s.value: counts.get(s, 0) for s in NodeStatus if s != NodeStatus.PENDING},
            "success_rate": counts.get(NodeStatus.OK, 0) / len(group),
            "beat_parent": None if comparable == 0 else beat / comparable,
            "mean_seconds": sum(secs) / len(secs) if secs else None,
            "tokens": sum(n.tokens_in + n.tokens_out for n in group),
            "cost_usd": sum(n.cost_usd for n in group),
        })
    return rows


def score_timeline(data: RunData) -> dict[str, list[tuple[float, float]]]:
    """Best search score so far over wall time, with that node's val/test and the oracle test.

    The gap between "its test" and "oracle test" is the selection gap: what choosing by search
    (not by test) cost at each moment.
    """
    finished = sorted((n for n in data.nodes if n.is_finished), key=lambda n: (n.finished_at or 0, n.id))
    if not finished:
        return {}
    start = min((n.created_at for n in data.nodes if n.created_at), default=0.0)
    best: Node | None = None
    oracle: float | None = None
    out: dict[str, list[tuple[float, float]]] = {"search": [], "val": [], "test": [], "oracle": []}
    for n in finished:
        t = max(0.0, (n.finished_at or start) - start)
        changed = False
        if n.is_ok and (best is None or data.better(float(n.search_score), float(best.search_score))):  # type: ignore[arg-type]
            best, changed = n, True
        if data.reveal_hidden and n.is_ok:
            test = data.hidden.get(n.id, HiddenScores(node_id=n.id)).test
            if test is not None and (oracle is None or data.better(test, oracle)):
                oracle = test
                out["oracle"].append((t, test))
        if best is None or not changed:
            continue
        out["search"].append((t, float(best.search_score)))  # type: ignore[arg-type]
        if data.reveal_hidden:
            scores = data.hidden.get(best.id, HiddenScores(node_id=best.id))
            if scores.val is not None:
                out["val"].append((t, scores.val))
            if scores.test is not None:
                out["test"].append((t, scores.test))
    end = max(0.0, max((n.finished_at or start) for n in finished) - start)
    for points in out.values():  # extend every curve to the end of the run
        if points and points[-1][0] < end:
            points.append((end, points[-1][1]))
    return out


# -- rendering ---------------------------------------------------------------------------------
def _summary(data: RunData) -> str:
    cfg, res = data.config, data.result
    arrow = "higher" if data.higher_is_better else "lower"
    status = data.meta.get("status", "unknown") if res is None else res.status
    if data.running:
        status = "running" if data.meta.get("status") == "running" else status
    counts = Counter(n.status.value for n in data.nodes)
    rows: list[tuple[str, str]] = [
        ("task", esc(cfg.task if cfg else data.meta.get("task_id", "?"))),
        ("agent · coder · seed", esc(f"{cfg.agent} · {cfg.coder} · {cfg.seed}" if cfg else "?")),
        ("status", f'<span class="run-status" data-status="{esc(status)}">{esc(status)}</span>'),
        ("metric", esc(f"{data.metric} ({arrow} is better)")),
        ("nodes", esc(f"{len(data.nodes)} — " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))),
    ]
    if res is not None:
        rows += [
            ("selected node", "–" if res.selected_node is None
             else f'<a href="#" class="node-link" data-id="{res.selected_node}">{res.selected_node}</a>'),
            ("its search · val · test", esc(f"{fmt(res.search_score)} · {fmt(res.node_val_score)} · {fmt(res.node_test_score)}")),
            *_ensemble_rows(res),
            ("oracle best test", "–" if res.oracle_node is None else
             f'{esc(fmt(res.oracle_test_score))} (node <a href="#" class="node-link" '
             f'data-id="{res.oracle_node}">{res.oracle_node}</a>)'),
            ("selection gap (oracle − selected node test)", esc(_gap(res))),
            *([("refit of the final answer: test", esc(fmt(res.refit_test_score)))] if res.refit_test_score is not None else []),
            *([("starter code: search · val · test", esc(" · ".join(fmt(v) for v in (
                res.baseline_search_score, res.baseline_val_score, res.baseline_test_score))))]
              if res.kind == "program" else []),
            *([("references", esc(", ".join(f"{k} {fmt(v)}" for k, v in res.references.items() if v is not None)))]
              if any(v is not None for v in res.references.values()) else []),
            *[(f"{esc(key)} (the task's suite)", esc(str(value))) for key, value in res.score_report.items()],
            ("wall time", esc(f"{res.wall_seconds:.1f} s")),
        ]
    else:
        rows.append(("val / test", "hidden until the run ends"))
    tokens = sum(n.tokens_in + n.tokens_out for n in data.nodes)
    cost = sum(n.cost_usd for n in data.nodes)
    rows.append(("tokens · cost", esc(f"{tokens:,} · ${cost:.4f}")))
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="summary">{body}</table>'


def _ensemble_rows(res: RunResult) -> list[tuple[str, str]]:
    ens = res.ensemble
    rows = []
    if ens is not None:
        members = ", ".join(f'<a href="#" class="node-link" data-id="{n}">{n}</a> ({w:.2f})'
                            for n, w in zip(ens.members, ens.weights, strict=True))
        rows += [("ensemble of nodes (weights)", members),
                 ("ensemble search · val · test", esc(f"{fmt(ens.search_score)} · {fmt(ens.val_score)} · {fmt(ens.test_score)}"))]
    answer = "the ensemble" if res.final == "ensemble" else "the selected node"
    rows.append(("final answer: val · test", esc(f"{answer}: {fmt(res.val_score)} · {fmt(res.test_score)}")))
    return rows


def _gap(res: RunResult) -> str:
    if res.oracle_test_score is None or res.node_test_score is None:
        return "–"
    gap = res.oracle_test_score - res.node_test_score
    return f"{gap:+.4g}" if res.higher_is_better else f"{-gap:+.4g}"


def _operator_table(data: RunData) -> str:
    rows = []
    for r in operator_stats(data):
        rows.append([
            esc(r["operator"]), str(r["n"]), str(r["ok"]), str(r["buggy"]), str(r["timeout"]), str(r["invalid"]),
            str(r["failed"]), f"{r['success_rate']:.0%}",
            "–" if r["beat_parent"] is None else f"{r['beat_parent']:.0%}",
            fmt(r["mean_seconds"], 3), f"{r['tokens']:,}", f"${r['cost_usd']:.4f}",
        ])
    if not rows:
        return '<p class="empty">No finished node yet.</p>'
    return table(["operator", "nodes", "ok", "buggy", "timeout", "invalid", "failed", "success rate",
                  "beat parent", "mean s", "tokens", "cost"], rows, "ops")


def _diversity(data: RunData) -> str:
    families = [n.family or "unknown" for n in data.nodes if n.operator == Operator.DRAFT]
    if not families:
        return '<p class="empty">No drafts yet.</p>'
    counts = Counter(families)
    total = len(families)
    bits = shannon_entropy(families)
    max_bits = math.log2(len(counts)) if len(counts) > 1 else 1.0
    bars = "".join(
        f'<div class="bar-row"><span class="bar-label">{esc(fam)}</span>'
        f'<span class="bar" style="width:{100 * c / total:.1f}%"></span><span>{c}</span></div>'
        for fam, c in counts.most_common()
    )
    return (f'<p class="diversity">{total} drafts, {len(counts)} model families, Shannon entropy '
            f'<b>{bits:.2f} bits</b> (evenness {bits / max_bits:.0%}).</p><div class="bars">{bars}</div>')


def _top_nodes(data: RunData, k: int = 10) -> str:
    ok = [n for n in data.nodes if n.is_ok]
    sign = -1.0 if data.higher_is_better else 1.0
    ok.sort(key=lambda n: (sign * float(n.search_score), n.id))  # type: ignore[arg-type]
    rows = []
    for n in ok[:k]:
        scores = data.hidden.get(n.id)
        val = fmt(scores.val) if data.reveal_hidden and scores else "hidden"
        test = fmt(scores.test) if data.reveal_hidden and scores else "hidden"
        rows.append([f'<a href="#" class="node-link" data-id="{n.id}">{n.id}</a>', esc(n.operator.value),
                     esc(n.family or ""), fmt(n.search_score), val, test, esc((n.plan or "").splitlines()[0][:90]
                                                                               if n.plan else "")])
    if not rows:
        return '<p class="empty">No valid node yet.</p>'
    return table(["node", "operator", "family", "search", "val", "test", "plan"], rows, "top")


def _timeline_plot(data: RunData) -> str:
    tl = score_timeline(data)
    series = [Series("best search", tl.get("search", []), PALETTE[0], step=True)]
    if data.reveal_hidden:
        series += [Series("its val", tl.get("val", []), PALETTE[1], step=True),
                   Series("its test", tl.get("test", []), PALETTE[2], step=True),
                   Series("oracle best test", tl.get("oracle", []), PALETTE[4], step=True, dash="5 4")]
    return line_plot(series, "seconds since the run started", data.metric, css_class="plot timeline")


def render_main(data: RunData) -> str:
    """The part of the run page that changes as nodes land (the viewer swaps it in place)."""
    res = data.result
    tree = tree_svg(data.nodes, data.higher_is_better,
                    selected=res.selected_node if res else None, oracle=res.oracle_node if res else None)
    hidden_note = "" if data.reveal_hidden else '<p class="note">Val and test scores are hidden while the run is going.</p>'
    return (
        f'<section class="card"><h2>Summary</h2>{_summary(data)}</section>'
        f'<section class="card tree-card"><h2>Solution tree</h2>{legend_html()}'
        f'<div class="tree-wrap">{tree}</div></section>'
        f'<section class="card"><h2>Score over time</h2>{hidden_note}{_timeline_plot(data)}</section>'
        f'<section class="card"><h2>Operators</h2>{_operator_table(data)}</section>'
        f'<section class="card"><h2>Ideation diversity (drafts)</h2>{_diversity(data)}</section>'
        f'<section class="card"><h2>Best nodes by search score</h2>{_top_nodes(data)}</section>'
    )


def render_run_page(data: RunData, live_api: str | None = None) -> str:
    """The whole page. Static (``live_api=None``): node details embedded, parsed on click.
    Live: details fetched from ``{live_api}/node/<n>`` and the page polls ``{live_api}/events``.
    """
    attrs = {"data-page": "run", "data-run": data.run_id, "data-last-event": str(data.last_event),
             "data-running": "1" if data.running else "0"}
    blobs = ""
    if live_api is None:
        blobs = '<div id="node-data" hidden>' + "".join(
            json_script(f"node-{n.id}", node_detail(data, n.id)) for n in data.nodes) + "</div>"
    else:
        attrs["data-api"] = live_api
    title = f"airlab · {data.run_id}"
    back = '<a class="back" href="/">← all runs</a>' if live_api else ""
    body = (
        f'<header><h1>{esc(data.run_id)}</h1>{back}<span class="live" hidden>live</span></header>'
        '<div class="layout"><main id="main">' + render_main(data) + '</main>'
        '<aside id="detail"><p class="empty">Click a node in the tree to see its plan, code, diff and '
        "output.</p></aside></div>" + blobs
    )
    return page(title, body, attrs)


def write_run_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write ``report.html`` into the run directory (or ``out``); returns its path."""
    data = load_run(run_dir)
    target = out or run_dir / REPORT_FILE
    target.write_text(render_run_page(data), encoding="utf-8")
    return target


def summary_json(data: RunData) -> dict[str, Any]:
    """A small machine-readable summary (the viewer's run list)."""
    counts = Counter(n.status.value for n in data.nodes)
    best = None
    for n in data.nodes:
        if n.is_ok and (best is None or data.better(float(n.search_score), float(best.search_score))):  # type: ignore[arg-type]
            best = n
    return {"run_id": data.run_id, "running": data.running, "nodes": len(data.nodes), "counts": dict(counts),
            "best_search": best.search_score if best else None, "metric": data.metric,
            "task": data.config.task if data.config else None,
            "agent": data.config.agent if data.config else None, "last_event": data.last_event}


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()
