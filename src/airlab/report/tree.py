"""The solution tree: a layered tidy layout computed in Python, drawn as inline SVG.

Each node hangs under its first parent (a crossover's other parents are drawn as dashed edges);
drafts hang under an invisible root. Leaves take consecutive columns in depth-first order and a
parent sits centred over its children, so subtrees never overlap. The layout is linear in the
number of nodes, which keeps runs with thousands of nodes cheap to render.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from airlab.report.html import esc
from airlab.search.node import Node, NodeStatus, Operator

X_STEP = 34.0
Y_STEP = 64.0
RADIUS = 11.0
MARGIN = 24.0

STATUS_COLOUR = {
    NodeStatus.PENDING: "#9e9e9e",
    NodeStatus.OK: "#2e7d32",
    NodeStatus.BUGGY: "#c62828",
    NodeStatus.TIMEOUT: "#ef8f00",
    NodeStatus.INVALID: "#8e24aa",
    NodeStatus.FAILED: "#424242",
}
OPERATOR_LETTER = {Operator.DRAFT: "D", Operator.IMPROVE: "I", Operator.DEBUG: "B", Operator.CROSSOVER: "X"}


@dataclass
class Placed:
    node: Node
    x: float
    y: float
    depth: int
    children: list[int] = field(default_factory=list)


def layout(nodes: Sequence[Node]) -> dict[int, Placed]:
    """Positions for every node: ``y`` by depth, ``x`` by a leaves-first tidy placement."""
    by_id = {n.id: n for n in nodes}
    children: dict[int | None, list[int]] = {None: []}
    for node in sorted(nodes, key=lambda n: n.id):
        parent = node.parents[0] if node.parents and node.parents[0] in by_id else None
        children.setdefault(parent, []).append(node.id)
        children.setdefault(node.id, [])
    placed: dict[int, Placed] = {}
    next_leaf = 0.0
    # Iterative post-order walk (recursion would overflow on long debug chains).
    stack: list[tuple[int | None, int, bool]] = [(None, -1, False)]
    while stack:
        node_id, depth, expanded = stack.pop()
        kids = children.get(node_id, [])
        if not expanded:
            stack.append((node_id, depth, True))
            for kid in reversed(kids):
                stack.append((kid, depth + 1, False))
            continue
        if node_id is None:
            continue
        if kids:
            x = (placed[kids[0]].x + placed[kids[-1]].x) / 2
        else:
            x = next_leaf
            next_leaf += 1
        placed[node_id] = Placed(by_id[node_id], x, float(depth), depth, list(kids))
    for p in placed.values():
        p.x = MARGIN + RADIUS + p.x * X_STEP
        p.y = MARGIN + RADIUS + p.y * Y_STEP
    return placed


def score_colour(value: float, low: float, high: float, higher_is_better: bool) -> str:
    """Green shade for ok nodes: dark is the best search score of the run, pale the worst."""
    if high <= low:
        t = 1.0
    else:
        t = (value - low) / (high - low)
        if not higher_is_better:
            t = 1.0 - t
    light = (200, 230, 201)
    dark = (27, 94, 32)
    rgb = tuple(round(a + (b - a) * t) for a, b in zip(light, dark, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def tree_svg(nodes: Sequence[Node], higher_is_better: bool, selected: int | None = None,
             oracle: int | None = None) -> str:
    """The tree as an SVG string; each node is a ``<g class="node" data-id=...>`` the JS binds to."""
    if not nodes:
        return '<p class="empty">No nodes yet.</p>'
    placed = layout(nodes)
    scores = [n.search_score for n in nodes if n.is_ok and n.search_score is not None]
    low, high = (min(scores), max(scores)) if scores else (0.0, 0.0)
    width = max(p.x for p in placed.values()) + RADIUS + MARGIN
    height = max(p.y for p in placed.values()) + RADIUS + MARGIN + 14
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="tree" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="solution tree">'
    ]
    edges: list[str] = []
    for p in placed.values():
        for i, parent in enumerate(p.node.parents):
            if parent not in placed:
                continue
            q = placed[parent]
            dash = ' stroke-dasharray="4 3"' if i > 0 else ""
            edges.append(f'<line x1="{q.x:.1f}" y1="{q.y:.1f}" x2="{p.x:.1f}" y2="{p.y:.1f}"{dash}/>')
    parts.append(f'<g class="edges">{"".join(edges)}</g><g class="nodes">')
    for p in sorted(placed.values(), key=lambda p: p.node.id):
        n = p.node
        if n.is_ok and n.search_score is not None:
            fill = score_colour(n.search_score, low, high, higher_is_better)
        else:
            fill = STATUS_COLOUR[n.status]
        classes = ["node", f"status-{n.status.value}", f"op-{n.operator.value}"]
        marks = ""
        if n.id == selected:
            classes.append("selected")
            marks += f'<circle class="mark-selected" cx="{p.x:.1f}" cy="{p.y:.1f}" r="{RADIUS + 4:.0f}"/>'
        if n.id == oracle:
            classes.append("oracle")
            marks += (f'<text class="mark-oracle" x="{p.x + RADIUS - 2:.1f}" y="{p.y - RADIUS + 2:.1f}">★</text>')
        score = "" if n.search_score is None else f" search {n.search_score:.5g}"
        title = f"node {n.id} · {n.operator.value} · {n.status.value}{score}"
        parts.append(
            f'<g class="{" ".join(classes)}" data-id="{n.id}" data-status="{n.status.value}" tabindex="0">'
            f"<title>{esc(title)}</title>{marks}"
            f'<circle cx="{p.x:.1f}" cy="{p.y:.1f}" r="{RADIUS:.0f}" fill="{fill}"/>'
            f'<text class="op" x="{p.x:.1f}" y="{p.y + 4:.1f}">{OPERATOR_LETTER[n.operator]}</text>'
            f'<text class="nid" x="{p.x:.1f}" y="{p.y + RADIUS + 11:.1f}">{n.id}</text></g>'
        )
    parts.append("</g></svg>")
    return "".join(parts)


def legend_html() -> str:
    items = [f'<span class="swatch" style="background:{c}"></span>{esc(s.value)}'
             for s, c in STATUS_COLOUR.items() if s != NodeStatus.OK]
    ok = ('<span class="swatch" style="background:linear-gradient(90deg,#c8e6c9,#1b5e20)"></span>'
          "ok (pale → dark: worse → better search score)")
    ops = " ".join(f"<b>{letter}</b> {op.value}" for op, letter in OPERATOR_LETTER.items())
    return (f'<div class="legend">{ok} {" ".join(items)} <span class="sep">|</span> {ops} '
            '<span class="sep">|</span> <span class="ring"></span> selected <b>★</b> oracle best test</div>')
