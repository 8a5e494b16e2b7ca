"""HTML helpers: escaping, embedded JSON, and the page shell with its bundled assets.

Every page is self-contained: the CSS and JS under ``report/assets/`` are inlined, never linked,
so a report opens offline and from any folder.
"""

from __future__ import annotations

import html
import json
from functools import cache
from importlib import resources
from typing import Any


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def fmt(value: float | None, digits: int = 5) -> str:
    return "–" if value is None else f"{value:.{digits}g}"


def json_script(element_id: str, data: Any) -> str:
    """Data the browser parses only when asked (``type=application/json`` is never executed).

    ``</`` is escaped so code containing ``</script>`` cannot end the element early.
    """
    text = json.dumps(data, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")
    return f'<script type="application/json" id="{esc(element_id)}">{text}</script>'


@cache
def asset(name: str) -> str:
    return resources.files("airlab.report").joinpath("assets", name).read_text(encoding="utf-8")


def table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    """A table whose cells are already HTML (escape values before passing them)."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def page(title: str, body: str, attrs: dict[str, str] | None = None) -> str:
    """A full HTML document with the bundled stylesheet and script inlined."""
    body_attrs = "".join(f' {esc(k)}="{esc(v)}"' for k, v in (attrs or {}).items())
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{asset('report.css')}</style></head>"
        f"<body{body_attrs}>{body}<script>{asset('report.js')}</script></body></html>\n"
    )
