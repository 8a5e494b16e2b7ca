"""The numeric constants of a program, found with ``ast`` and rewritten in place.

A program task hands the offline coder a starter file. The coder tunes its numbers: the constants
the task marks as tunable; failing that, every module-level ``UPPER_CASE`` number (or flat list or
tuple of numbers; not run settings such as ``SEED`` or ``VERBOSE``); failing that, the numeric
literals of the function bodies that can be changed without breaking the program's logic (no
indices, ``range`` arguments, ``len(...)`` comparisons, equality tests against codes, int powers,
sentinels such as ``1e9``, 0 and ±1). Each number is a :class:`Slot` with its span in the
source; :func:`rewrite` replaces exactly the spans whose value changed, so comments and formatting
survive and an unchanged number keeps its text.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from enum import StrEnum

Number = int | float

UPPER_CASE = re.compile(r"^_?[A-Z][A-Z0-9_]*$")
# UPPER_CASE numbers that are settings of the run rather than of the solution (unless the task names them)
NOT_TUNED = re.compile(r"SEED|RANDOM_STATE|VERBOS|DEBUG|^LOG_|_LOG$|PRINT|PORT|VERSION|WORKERS|THREADS|N_JOBS")
SENTINEL = 1e6  # a body literal this large is a sentinel (an "infinite" cost), not a setting
# calls whose numeric arguments are shapes, positions or counts of the program's structure
STRUCTURAL_CALLS = frozenset({
    "range", "enumerate", "len", "reshape", "view", "zeros", "ones", "empty", "full", "arange",
    "transpose", "permute", "squeeze", "unsqueeze", "expand", "repeat", "tile", "split", "chunk",
    "stack", "concatenate", "cat", "argmax", "argmin", "argsort", "take", "index", "insert", "pop",
    "islice", "round", "seed", "randint", "choice", "sample", "get", "setdefault", "exit",
})
STRUCTURAL_KEYWORDS = frozenset({
    "axis", "dim", "dims", "ndim", "seed", "random_state", "verbose", "n_jobs", "indent", "start",
    "stop", "step", "shape", "size", "k", "keepdim", "keepdims", "base", "ndigits", "maxsplit",
})


class Mode(StrEnum):
    """Where the constants of a program were found."""

    TUNABLES = "tunables"  # the module-level assignments the task marks as tunable
    UPPER = "upper"  # every module-level UPPER_CASE number or list of numbers
    BODY = "body"  # numeric literals inside function bodies


@dataclass(frozen=True)
class Slot:
    """One tunable number in the source."""

    key: str  # "FORGIVENESS", "WEIGHTS[1]" or, for a literal in a function body, "act@L12" / "act@L12#1"
    group: str  # the constant it belongs to ("WEIGHTS" for "WEIGHTS[1]"); the key for a body literal
    index: int | None  # the element's position when the constant is a list or tuple
    start: int  # byte offsets of the literal (a leading minus sign included) in the UTF-8 source
    end: int
    value: Number
    bare: bool  # a negative replacement may be written without parentheses
    is_tuple: bool = False  # the constant is a tuple (so its value is reported as a list all the same)


def _is_number(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        value = node.value
        return type(value) in (int, float) and math.isfinite(value)  # type: ignore[arg-type]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return isinstance(node.operand, ast.Constant) and _is_number(node.operand)
    return False


def _number(node: ast.AST) -> Number:
    """The value of a node :func:`_is_number` accepts."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        inner = node.operand.value
        assert isinstance(inner, int | float)
        return -inner if isinstance(node.op, ast.USub) else inner
    assert isinstance(node, ast.Constant) and isinstance(node.value, int | float)
    return node.value


class _Offsets:
    """Byte offsets of (line, column) positions; ``ast`` columns count UTF-8 bytes."""

    def __init__(self, source: bytes) -> None:
        self.starts = [0]
        for line in source.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def span(self, node: ast.expr) -> tuple[int, int]:
        assert node.end_lineno is not None and node.end_col_offset is not None
        return self.starts[node.lineno - 1] + node.col_offset, self.starts[node.end_lineno - 1] + node.end_col_offset


def _assignment(stmt: ast.stmt) -> tuple[str, ast.expr] | None:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
        return stmt.target.id, stmt.value
    return None


def _assigned_names(stmt: ast.stmt) -> set[str]:
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
        targets = [stmt.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _module_slots(tree: ast.Module, offsets: _Offsets, wanted: set[str] | None) -> list[Slot]:
    """Module-level ``NAME = number`` / ``NAME = [numbers]``: the last assignment of each name wins."""
    found: dict[str, list[Slot]] = {}
    for stmt in tree.body:
        assigned = _assignment(stmt)
        for name in _assigned_names(stmt):
            found.pop(name, None)  # a later assignment replaces an earlier constant
        if assigned is None:
            continue
        name, value = assigned
        if (name not in wanted) if wanted is not None else (not UPPER_CASE.match(name) or NOT_TUNED.search(name)):
            continue
        if _is_number(value):
            start, end = offsets.span(value)
            found[name] = [Slot(name, name, None, start, end, _number(value), bare=True)]
        elif isinstance(value, ast.List | ast.Tuple) and value.elts and all(_is_number(e) for e in value.elts):
            slots = []
            for i, element in enumerate(value.elts):
                start, end = offsets.span(element)
                slots.append(Slot(f"{name}[{i}]", name, i, start, end, _number(element), bare=True,
                                  is_tuple=isinstance(value, ast.Tuple)))
            found[name] = slots
    return [slot for slots in found.values() for slot in slots]


class _BodyLiterals(ast.NodeVisitor):
    """The numeric literals of function bodies that are safe to tune."""

    def __init__(self, offsets: _Offsets) -> None:
        self.offsets = offsets
        self.function: list[str] = []
        self.slots: list[Slot] = []
        self.per_line: dict[tuple[str, int], int] = {}

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.function.append(node.name)
        for stmt in node.body:  # not the defaults nor the decorators
            self.visit(stmt)
        self.function.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit(node.body)

    # -- places whose numbers are structure, not tuning ---------------------------------------
    def visit_Subscript(self, node: ast.Subscript) -> None:
        self.visit(node.value)  # the index or slice is skipped

    def visit_Call(self, node: ast.Call) -> None:
        self.visit(node.func)
        name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if name not in STRUCTURAL_CALLS:
            for arg in node.args:
                self.visit(arg)
        for keyword in node.keywords:
            if keyword.arg not in STRUCTURAL_KEYWORDS:
                self.visit(keyword.value)

    def visit_Compare(self, node: ast.Compare) -> None:
        operands = [node.left, *node.comparators]
        with_len = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "len"
                       for o in operands for n in ast.walk(o))
        equality = any(isinstance(op, ast.Eq | ast.NotEq | ast.Is | ast.IsNot | ast.In | ast.NotIn) for op in node.ops)
        if with_len or equality:
            for operand in operands:  # the literals of the comparison itself are skipped
                if not _is_number(operand):
                    self.visit(operand)
            return
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Mod | ast.LShift | ast.RShift | ast.BitAnd | ast.BitOr | ast.BitXor):
            for operand in (node.left, node.right):
                if not _is_number(operand):
                    self.visit(operand)
            return
        if isinstance(node.op, ast.Pow) and _is_number(node.right) and isinstance(_number(node.right), int):
            self.visit(node.left)  # x ** 2 is a square, not a setting
            return
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None and _is_number(node.value) and isinstance(_number(node.value), int):
            return  # a returned int is an answer code
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if _is_number(node.value) and isinstance(_number(node.value), int):
            return  # counters: i += 2
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if _is_number(node):
            self._literal(node)
        else:
            self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if _is_number(node):
            self._literal(node)

    def _literal(self, node: ast.expr) -> None:
        if not self.function:
            return
        value = _number(node)
        if value in (0, 1, -1) or abs(value) >= SENTINEL:
            return
        start, end = self.offsets.span(node)
        where = (self.function[-1], node.lineno)
        k = self.per_line.get(where, 0)
        self.per_line[where] = k + 1
        key = f"{where[0]}@L{where[1]}" + (f"#{k}" if k else "")
        self.slots.append(Slot(key, key, None, start, end, value, bare=isinstance(node, ast.UnaryOp)))


def parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def find_slots(code: str, mode: Mode, tunables: list[str] | None = None) -> list[Slot]:
    """The tunable numbers of ``code`` in ``mode``; none if it does not parse."""
    tree = parse(code)
    if tree is None:
        return []
    offsets = _Offsets(code.encode())
    if mode == Mode.TUNABLES:
        return _module_slots(tree, offsets, set(tunables or []))
    if mode == Mode.UPPER:
        return _module_slots(tree, offsets, None)
    visitor = _BodyLiterals(offsets)
    visitor.visit(tree)
    return visitor.slots


def choose_mode(starter: str, tunables: list[str] | None = None) -> Mode:
    """How the starter's constants are found: the task's tunables, else UPPER_CASE, else body literals."""
    if tunables and find_slots(starter, Mode.TUNABLES, tunables):
        return Mode.TUNABLES
    if find_slots(starter, Mode.UPPER):
        return Mode.UPPER
    return Mode.BODY


def values_of(slots: list[Slot]) -> dict[str, Number]:
    return {slot.key: slot.value for slot in slots}


def grouped(slots: list[Slot], values: dict[str, Number] | None = None) -> dict[str, Number | list[Number]]:
    """The constants as a program reads them: a list constant is one entry holding its numbers."""
    out: dict[str, Number | list[Number]] = {}
    for slot in slots:
        value = slot.value if values is None else values.get(slot.key, slot.value)
        if slot.index is None:
            out[slot.group] = value
        else:
            items = out.setdefault(slot.group, [])
            assert isinstance(items, list)
            items.append(value)
    return out


def literal(value: Number, bare: bool) -> str:
    """Python source for a number; a negative one in parentheses where a bare minus could bind wrongly."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a tunable number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    text = repr(value)
    return f"({text})" if value < 0 and not bare else text


def rewrite(code: str, slots: list[Slot], values: dict[str, Number]) -> str:
    """``code`` with each slot whose value changed replaced by its new value, nothing else touched."""
    source = code.encode()
    pieces: list[bytes] = []
    at = 0
    for slot in sorted(slots, key=lambda s: s.start):
        new = values.get(slot.key, slot.value)
        if type(new) is type(slot.value) and new == slot.value:
            continue
        if isinstance(slot.value, int) and not isinstance(new, int):
            raise TypeError(f"{slot.key} is an int; got {new!r}")
        pieces += [source[at:slot.start], literal(new, slot.bare).encode()]
        at = slot.end
    pieces.append(source[at:])
    return b"".join(pieces).decode()
