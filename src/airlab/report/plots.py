"""Small inline-SVG plots (no plotting library, so pages stay light and self-contained)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from airlab.report.html import esc

PALETTE = ["#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#c62828", "#00838f", "#5d4037", "#ad1457",
           "#827717", "#37474f"]


@dataclass
class Series:
    label: str
    points: list[tuple[float, float]]
    colour: str
    step: bool = False  # hold each value until the next point (a "best so far" curve)
    dash: str = ""


def _ticks(low: float, high: float, n: int = 5) -> list[float]:
    if high <= low:
        return [low]
    raw = (high - low) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def line_plot(series: Sequence[Series], x_label: str, y_label: str, width: int = 640, height: int = 300,
              css_class: str = "plot", x_range: tuple[float, float] | None = None,
              y_range: tuple[float, float] | None = None) -> str:
    """A line plot with axes, ticks and a legend, as an SVG string."""
    pts = [p for s in series for p in s.points]
    if not pts:
        return f'<p class="empty">{esc(y_label)}: nothing to plot yet.</p>'
    left, right, top, bottom = 62, 150, 14, 42
    x0, x1 = x_range or (min(p[0] for p in pts), max(p[0] for p in pts))
    y0, y1 = y_range or (min(p[1] for p in pts), max(p[1] for p in pts))
    if x1 <= x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 <= y0:
        pad = abs(y0) * 0.05 or 0.05
        y0, y1 = y0 - pad, y1 + pad
    else:
        pad = (y1 - y0) * 0.06
        y0, y1 = (y0 - pad, y1 + pad) if y_range is None else (y0, y1)
    pw, ph = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="{esc(css_class)}" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}">']
    out.append(f'<rect class="frame" x="{left}" y="{top}" width="{pw}" height="{ph}"/>')
    for t in _ticks(y0, y1):
        out.append(f'<line class="grid" x1="{left}" x2="{left + pw}" y1="{sy(t):.1f}" y2="{sy(t):.1f}"/>'
                   f'<text class="tick" x="{left - 6}" y="{sy(t) + 4:.1f}" text-anchor="end">{t:.4g}</text>')
    for t in _ticks(x0, x1, 6):
        out.append(f'<text class="tick" x="{sx(t):.1f}" y="{top + ph + 16}" text-anchor="middle">{t:.4g}</text>')
    out.append(f'<text class="axis" x="{left + pw / 2:.0f}" y="{height - 6}" text-anchor="middle">{esc(x_label)}</text>'
               f'<text class="axis" transform="translate(14 {top + ph / 2:.0f}) rotate(-90)" '
               f'text-anchor="middle">{esc(y_label)}</text>')
    for i, s in enumerate(series):
        if not s.points:
            continue
        coords: list[tuple[float, float]] = []
        for j, (x, y) in enumerate(s.points):
            if s.step and j > 0:
                coords.append((sx(x), coords[-1][1]))
            coords.append((sx(x), sy(y)))
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        out.append(f'<polyline class="series" data-label="{esc(s.label)}" points="{path}" '
                   f'stroke="{s.colour}"{dash}/>')
        if len(s.points) <= 60:
            out.extend(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{s.colour}"/>' for x, y in s.points)
        ly = top + 12 + i * 18
        out.append(f'<line x1="{left + pw + 10}" x2="{left + pw + 30}" y1="{ly - 4}" y2="{ly - 4}" '
                   f'stroke="{s.colour}" stroke-width="2"{dash}/>'
                   f'<text class="legend" x="{left + pw + 34}" y="{ly}">{esc(s.label)}</text>')
    out.append("</svg>")
    return "".join(out)
