"""Reading a plan and a script out of a model's reply.

Models wrap code in fences of many shapes (```python, ```py, bare ```, ~~~), sometimes several,
sometimes unclosed because the reply hit the token limit, sometimes with no fence at all. The
script is the longest Python block; the plan is the prose before it. A reply with no usable code
raises :class:`ParseError` with the reason, which the coder feeds back to the model.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([\w+#.-]*)[^\n]*$", re.MULTILINE)
_PY_LANGS = {"", "python", "python3", "py", "py3"}
_PLAN_HEAD = re.compile(r"^\s*(#+\s*)?(\*\*)?(plan|approach|idea)(\*\*)?\s*:?\s*(\*\*)?\s*", re.IGNORECASE)
_CODE_START = re.compile(r"^(import |from \w[\w.]* import |def |class |[A-Za-z_]\w* = )", re.MULTILINE)


class ParseError(ValueError):
    """The reply holds no usable code; the message says why."""


@dataclass
class Block:
    lang: str
    code: str
    start: int  # offset of the opening fence in the reply
    closed: bool


@dataclass
class Parsed:
    plan: str
    code: str


def code_blocks(text: str) -> list[Block]:
    """Fenced blocks in order; an unclosed last fence runs to the end of the reply."""
    blocks: list[Block] = []
    pos = 0
    while True:
        opening = _FENCE.search(text, pos)
        if opening is None:
            return blocks
        fence = opening.group(1)
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
        end = closing.search(text, opening.end())
        body_end = end.start() if end else len(text)
        body = text[opening.end():body_end].strip("\n")
        blocks.append(Block(opening.group(2).lower(), body, opening.start(), end is not None))
        if end is None:
            return blocks
        pos = end.end()


def is_usable(code: str) -> bool:
    """Code worth running: it parses, or it at least has a few lines of statements.

    Code with a syntax error is still usable (the run fails and the debug operator sees the
    error); prose or a one-line fragment is not.
    """
    lines = [ln for ln in code.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if not lines:
        return False
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return len(lines) >= 3 and bool(_CODE_START.search(code))
    return any(not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Constant) for node in tree.body)


def clean_plan(text: str, limit: int = 2000) -> str:
    text = _PLAN_HEAD.sub("", text.strip(), count=1).strip()
    return text[:limit]


def parse_reply(text: str) -> Parsed:
    """The plan and the script of a reply, or :class:`ParseError`."""
    if not text.strip():
        raise ParseError("the reply was empty")
    blocks = [b for b in code_blocks(text) if b.lang in _PY_LANGS and b.code.strip()]
    if blocks:
        usable = [b for b in blocks if is_usable(b.code)]
        if not usable:
            raise ParseError("the code block(s) in the reply hold no runnable Python")
        best = max(usable, key=lambda b: (b.closed, len(b.code)))
        first = min(b.start for b in blocks)
        plan = clean_plan(text[:first]) or clean_plan(text[best.start:].split("\n", 1)[0])
        return Parsed(plan=plan, code=best.code.rstrip() + "\n")
    match = _CODE_START.search(text)  # no fence: the script may start after some prose
    if match:
        code = text[match.start():].strip()
        if is_usable(code):
            try:
                ast.parse(code)
            except SyntaxError:
                pass
            else:
                return Parsed(plan=clean_plan(text[:match.start()]), code=code + "\n")
    raise ParseError("the reply has no ```python code block")
