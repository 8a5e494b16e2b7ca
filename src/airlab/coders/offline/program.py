"""The offline coder for program tasks: it tunes the numeric constants of the starter file.

A program task's starter is a working program (a strategy, a heuristic, a policy, a training
script); with no language model the offline coder cannot rewrite its logic, but it can search its
numbers. Each number is a knob with a kind taken from its starter value, which bounds it:

- a *probability* (a float strictly between 0 and 1, or a name such as ``*_PROB`` at 0 or 1)
  stays in [0, 1];
- a *count* (an int starting at 1 or more: epochs, batch sizes, depths) stays >= 1;
- any other int stays an int; any other float may take any finite value.

The operators:

- **draft** jumps one to three constants of the starter (x0.25, x0.5, x2, x4, a sign flip; small
  ints +-1, +-2, doubled or halved, larger ones x0.25 to x4; probabilities to 0, 0.1, 0.25, 0.5,
  0.75, 0.9 or 1), preferring constants the sibling drafts left alone;
- **improve** steps one or two of the parent's constants a little (x(1 +- 0.1/0.25/0.5), small
  ints +-1, probabilities +-0.05/0.1), and one time in five jumps as a draft does; when the
  parent scored better than its own parent, it first doubles (or repeats, or halves) the move
  that made the parent;
- **crossover** takes each constant from one parent or the other (some floats: their mean);
- **debug** moves every constant that differs from the starter halfway back to it (all the way
  on a second failure in a chain) and, after a time limit, halves the work amounts (epochs,
  iterations, rollouts...); code that is not the starter with other constants starts again
  from the starter.

Every choice comes from ``random.Random(request.seed)``. Each proposal records its constants and an
idea key; a key the run has tried (or the starter's own) is retried up to :data:`NOVELTY_TRIES`
times before a repeat is accepted.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from airlab.coders.base import CoderError, Proposal
from airlab.coders.offline.constants import (
    Number,
    Slot,
    choose_mode,
    find_slots,
    grouped,
    rewrite,
    values_of,
)
from airlab.search.node import Node, NodeStatus, Operator

if TYPE_CHECKING:
    from airlab.coders.base import CodeRequest

NOVELTY_TRIES = 40
BIG_JUMP = 0.2  # how often improve jumps instead of stepping
STEPS = (0.1, 0.25, 0.5)  # relative steps of improve
PROB_STEPS = (0.05, 0.1)  # absolute steps of a probability
PROB_LEVELS = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)  # where a draft puts a probability
JUMPS = (0.25, 0.5, 2.0, 4.0, -1.0)  # factors of a draft jump
SMALL_JUMPS = (0.1, 0.25, 0.5, 2.0, 4.0, 10.0)  # factors for a probability near 0 (or its complement near 1)
PROB_EDGE = 0.05  # a probability this close to 0 or 1 moves multiplicatively
MOMENTUM = (2.0, 1.0, 0.5)  # multiples of a move that improved the parent, tried first when improving it
SMALL_INT = 4  # an int up to this size moves by 1 (2 in a jump); a larger one by a fraction of itself
MAX_INT = 10**9
MAX_FLOAT = 1e12
SIGNIFICANT = 4  # digits a changed float keeps
PROB_NAME = re.compile(r"PROB|CHANCE|FRAC|RATIO|PCT|EPSILON|FORGIV|DISCOUNT|GAMMA|DECAY|MOMENTUM|DROPOUT", re.I)
WORK_NAME = re.compile(
    r"EPOCH|ITER|STEP|ROUND|TRIAL|SIM|SAMPLE|ROLLOUT|EPISODE|DEPTH|LAYER|HIDDEN|WIDTH|DIM|HORIZON|BEAM|"
    r"RESTART|GENERATION|POP|^N_|^NUM|_N$|COUNT|LOOKAHEAD|PASSES",
    re.I,
)
TIME_LIMIT = re.compile(r"time ?limit|timed? ?out|timeout|wall[- ]?time|too slow|deadline", re.I)


class Kind(StrEnum):
    PROB = "probability"
    COUNT = "count"
    INT = "int"
    FLOAT = "float"


@dataclass(frozen=True)
class Knob:
    """A slot with the kind its starter value gives it."""

    key: str
    group: str
    kind: Kind
    ref: Number  # the starter's value (the slot's own value for a constant the starter lacks)


def kind_of(name: str, ref: Number) -> Kind:
    if isinstance(ref, int):
        return Kind.COUNT if ref >= 1 else Kind.INT
    if 0.0 < ref < 1.0 or (0.0 <= ref <= 1.0 and PROB_NAME.search(name)):
        return Kind.PROB
    return Kind.FLOAT


def _tidy(x: float) -> float:
    return float(f"{x:.{SIGNIFICANT}g}")


def bounded(knob: Knob, x: float) -> Number | None:
    """``x`` as a value of ``knob``: an int for an int, clamped to its kind; None if not finite."""
    if not math.isfinite(x):
        return None
    if isinstance(knob.ref, int):
        n = max(-MAX_INT, min(MAX_INT, round(x)))
        return max(1, n) if knob.kind == Kind.COUNT else n
    if knob.kind == Kind.PROB:
        return _tidy(min(1.0, max(0.0, x)))
    value = _tidy(x)
    return value if abs(value) <= MAX_FLOAT else None


def step(knob: Knob, v: Number, rng: random.Random) -> Number | None:
    """A small move of ``v``."""
    sign = rng.choice((-1, 1))
    if isinstance(v, int):
        size = 1 if abs(v) <= SMALL_INT else max(1, round(abs(v) * rng.choice(STEPS)))
        return bounded(knob, v + sign * size)
    if knob.kind == Kind.PROB:
        if 0.0 < v < PROB_EDGE:
            return bounded(knob, v * (1 + sign * rng.choice(STEPS)))
        if 1.0 - PROB_EDGE < v < 1.0:
            return bounded(knob, 1.0 - (1.0 - v) * (1 + sign * rng.choice(STEPS)))
        return bounded(knob, v + sign * rng.choice(PROB_STEPS))
    if v == 0:
        scale = abs(float(knob.ref)) * 0.1 if knob.ref else rng.choice((0.1, 1.0))
        return bounded(knob, sign * scale)
    return bounded(knob, v * (1 + sign * rng.choice(STEPS)))


def jump(knob: Knob, v: Number, rng: random.Random) -> Number | None:
    """A large move of ``v``."""
    if isinstance(v, int):
        half = v // 2 if v > 0 else -(-v // 2)
        if abs(v) <= SMALL_INT:
            options = {v + 1, v - 1, v + 2, v - 2, 2 * v, half, -v}
        else:  # a large int: epochs, a width, a batch size
            options = {2 * v, 4 * v, half, v // 4 if v > 0 else -(-v // 4), round(v * 1.5), round(v * 0.75), -v}
        if knob.kind == Kind.COUNT:
            options = {o for o in options if o >= 1}
        options.discard(v)
        return bounded(knob, rng.choice(sorted(options))) if options else None
    if knob.kind == Kind.PROB:
        if 0.0 < v < PROB_EDGE:
            return bounded(knob, v * rng.choice(SMALL_JUMPS))
        if 1.0 - PROB_EDGE < v < 1.0:
            return bounded(knob, 1.0 - (1.0 - v) * rng.choice(SMALL_JUMPS))
        return rng.choice([level for level in PROB_LEVELS if level != v])
    if v == 0:
        scale = abs(float(knob.ref)) if knob.ref else rng.choice((0.1, 0.5, 1.0))
        return bounded(knob, rng.choice((-1, 1)) * scale)
    return bounded(knob, v * rng.choice(JUMPS))


def idea_of(constants: dict[str, Any]) -> str:
    """A stable key of the constants a program uses."""
    text = json.dumps(constants, sort_keys=True, separators=(",", ":"))
    return f"constants:{text}" if len(text) <= 160 else f"constants:{hashlib.sha1(text.encode()).hexdigest()[:16]}"


def _show(v: Number) -> str:
    return repr(v)


def _changes(knobs: list[Knob], old: dict[str, Number], new: dict[str, Number]) -> list[str]:
    return [f"{k.key} {_show(old[k.key])} -> {_show(new[k.key])}" for k in knobs if new[k.key] != old[k.key]]


def _family(knobs: list[Knob], old: dict[str, Number], new: dict[str, Number]) -> str:
    groups = sorted({k.group for k in knobs if new[k.key] != old[k.key]})
    if not groups:
        return "starter"
    return "+".join(groups) if len(groups) <= 3 else f"{'+'.join(groups[:3])}+{len(groups) - 3} more"


def _delta(new: Number, old: Number) -> Number:
    return new - old if isinstance(new, int) and isinstance(old, int) else _tidy(new - old)


def is_time_limit(node: Node) -> bool:
    return node.status == NodeStatus.TIMEOUT or bool(node.error and TIME_LIMIT.search(node.error))


@dataclass
class _Base:
    """The code a proposal rewrites and its constants."""

    code: str
    slots: list[Slot]
    knobs: list[Knob]

    @property
    def values(self) -> dict[str, Number]:
        return values_of(self.slots)


class ProgramCoder:
    """Tunes the numeric constants of a program task's starter file."""

    name = "offline"

    def write(self, request: CodeRequest) -> Proposal:
        return _Writer(request).write()


class _Writer:
    """One request's proposal: the starter's constants, what the run has tried, the operator."""

    def __init__(self, request: CodeRequest) -> None:
        preview: Any = request.preview
        self.request = request
        self.tunables: list[str] = list(preview.tunables or [])
        self.entry: str = preview.entry or "<candidate>"
        self.starter_code: str = preview.starter_code
        self.higher_is_better = bool(getattr(preview, "higher_is_better", True))
        self.mode = choose_mode(self.starter_code, self.tunables)
        self.starter_slots = find_slots(self.starter_code, self.mode, self.tunables)
        if not self.starter_slots:
            raise CoderError(f"the starter {self.entry} has no numeric constants the offline coder can tune")
        self.starter_values = values_of(self.starter_slots)
        self.starter = _Base(self.starter_code, self.starter_slots, self._knobs(self.starter_slots))
        self.tried = set(request.memory.tried_ideas) | {idea_of(grouped(self.starter_slots))}

    def write(self) -> Proposal:
        request = self.request
        rng = random.Random(request.seed)
        op = request.operator
        parents = [self._base_of(p) for p in request.parents]
        if op == Operator.DRAFT or not request.parents:
            return self._draft(request, rng)
        if op == Operator.IMPROVE:
            if parents[0] is None:
                return self._draft(request, rng, note=self._unusable(request.parents[0]))
            return self._improve(request.parents[0], parents[0], rng)
        if op == Operator.DEBUG:
            return self._debug(request, request.parents[0], parents[0], rng)
        if op == Operator.CROSSOVER:
            return self._crossover(request, parents, rng)
        raise CoderError(f"unknown operator {op}")  # pragma: no cover - Operator is closed

    # -- helpers -----------------------------------------------------------------------------
    def _knobs(self, slots: list[Slot]) -> list[Knob]:
        knobs = []
        for slot in slots:
            ref = self.starter_values.get(slot.key, slot.value)
            if type(ref) is not type(slot.value):
                ref = slot.value
            knobs.append(Knob(slot.key, slot.group, kind_of(slot.group, ref), ref))
        return knobs

    def _base_of(self, node: Node) -> _Base | None:
        slots = find_slots(node.code, self.mode, self.tunables)
        if not slots:
            return None
        return _Base(node.code, slots, self._knobs(slots))

    def _unusable(self, node: Node) -> str:
        return f"Node {node.id}'s code has no constants to tune (or does not parse), so start again from the starter."

    def _is_variant(self, base: _Base) -> bool:
        """Whether ``base`` is the starter with other constants (not code of another kind).

        Compared as syntax trees: the spelling of a number (``3e-4``, ``0.0003``), comments and
        layout do not matter.
        """
        values = base.values
        if set(values) != set(self.starter_values):
            return False
        try:
            starter_like = ast.dump(ast.parse(rewrite(self.starter_code, self.starter_slots, values)))
            return starter_like == ast.dump(ast.parse(base.code))
        except (SyntaxError, TypeError, ValueError):
            return False

    def _search(self, base: _Base, make: Callable[[int], dict[str, Number] | None]) -> tuple[dict[str, Number], bool]:
        """The first candidate ``make(attempt)`` whose idea is new; else the first candidate at all."""
        first: dict[str, Number] | None = None
        own = idea_of(grouped(base.slots))
        for attempt in range(NOVELTY_TRIES):
            values = make(attempt)
            if values is None:
                continue
            idea = idea_of(grouped(base.slots, values))
            if first is None and idea != own:
                first = values
            if idea not in self.tried and idea != own:
                return values, True
        return (first if first is not None else base.values), False

    def _propose(self, base: _Base, values: dict[str, Number], plan: str, novel: bool,
                 extra: dict[str, Any] | None = None) -> Proposal:
        if not novel:
            plan += " (no untried variant was found: this repeats an earlier idea)"
        family = _family(base.knobs, base.values, values)
        try:
            code = rewrite(base.code, base.slots, values)
            compile(code, self.entry, "exec")
        except (SyntaxError, ValueError, TypeError) as exc:
            base, values, code = self.starter, self.starter_values, self.starter_code
            plan = f"Rewriting the constants failed ({type(exc).__name__}: {exc}); the starter as it is."
            family, extra = "starter", None
        constants = grouped(base.slots, values)
        return Proposal(
            plan=plan, code=code, family=family,
            meta={"constants": constants, "idea": idea_of(constants), "mode": self.mode.value,
                  "changed": [k.key for k in base.knobs if values[k.key] != base.values[k.key]], **(extra or {})},
        )

    @staticmethod
    def _perturb(base: _Base, values: dict[str, Number], keys: list[Knob], rng: random.Random,
                 move: Callable[[Knob, Number, random.Random], Number | None]) -> dict[str, Number] | None:
        out = dict(values)
        for knob in keys:
            for _ in range(4):  # a clamped move may land where it started
                new = move(knob, out[knob.key], rng)
                if new is not None and new != out[knob.key]:
                    out[knob.key] = new
                    break
        return out if out != values else None

    # -- draft -------------------------------------------------------------------------------
    def _draft(self, request: CodeRequest, rng: random.Random, note: str = "") -> Proposal:
        base = self.starter
        siblings = " ".join(request.memory.sibling_plans)
        fresh = [k for k in base.knobs if not re.search(rf"(?<![\w\[]){re.escape(k.group)}(?![\w])", siblings)]

        def make(attempt: int) -> dict[str, Number] | None:
            n = min(len(base.knobs), rng.choice((1, 1, 2, 2, 3)))
            first = rng.choice(fresh) if fresh and attempt < NOVELTY_TRIES // 2 else rng.choice(base.knobs)
            others = [k for k in base.knobs if k.key != first.key]
            chosen = [first, *rng.sample(others, min(n - 1, len(others)))]
            return self._perturb(base, base.values, chosen, rng, jump)

        values, novel = self._search(base, make)
        plan = f"Draft: a variant of the starter: {', '.join(_changes(base.knobs, base.values, values)) or 'unchanged'}."
        return self._propose(base, values, f"{note} {plan}".strip(), novel)

    # -- improve -----------------------------------------------------------------------------
    def _improve(self, parent: Node, base: _Base, rng: random.Random, note: str = "") -> Proposal:
        momentum = self._momentum(parent, base)
        knobs = {k.key: k for k in base.knobs}
        repeats: set[str] = set()

        def make(attempt: int) -> dict[str, Number] | None:
            if momentum and attempt < len(MOMENTUM) and rng.random() < 0.6:
                out = dict(base.values)
                for key, delta in momentum.items():
                    new = bounded(knobs[key], out[key] + MOMENTUM[attempt] * delta)
                    out[key] = out[key] if new is None else new
                if out != base.values:
                    repeats.add(idea_of(grouped(base.slots, out)))
                    return out
            n = 1 if rng.random() < 0.7 or len(base.knobs) == 1 else 2
            chosen = rng.sample(base.knobs, n)
            move = jump if rng.random() < BIG_JUMP or attempt >= NOVELTY_TRIES // 2 else step
            return self._perturb(base, base.values, chosen, rng, move)

        values, novel = self._search(base, make)
        again = " (again the move that improved it)" if idea_of(grouped(base.slots, values)) in repeats else ""
        plan = f"Improve node {parent.id}{again}: {', '.join(_changes(base.knobs, base.values, values)) or 'unchanged'}."
        moves = {k.key: _delta(values[k.key], base.values[k.key]) for k in base.knobs if values[k.key] != base.values[k.key]}
        return self._propose(base, values, f"{note} {plan}".strip(), novel,
                             extra={"moves": moves, "parent_score": parent.search_score})

    def _momentum(self, parent: Node, base: _Base) -> dict[str, Number] | None:
        """The change that made ``parent`` from its own parent, if it scored better for it."""
        moves, before, now = parent.meta.get("moves"), parent.meta.get("parent_score"), parent.search_score
        if not isinstance(moves, dict) or not isinstance(before, int | float) or now is None:
            return None
        if not (now > before if self.higher_is_better else now < before):
            return None
        values = base.values
        kept = {k: d for k, d in moves.items()
                if k in values and isinstance(d, int | float) and not isinstance(d, bool)
                and (isinstance(d, float) or isinstance(values[k], int)) and math.isfinite(d)}
        return kept or None

    # -- crossover ---------------------------------------------------------------------------
    def _crossover(self, request: CodeRequest, parents: list[_Base | None], rng: random.Random) -> Proposal:
        nodes = list(request.parents)
        usable = [(n, b) for n, b in zip(nodes, parents, strict=False) if b is not None]
        if not usable:
            return self._draft(request, rng, note=self._unusable(nodes[0]))
        if len(usable) < 2:
            node, base = usable[0]
            return self._improve(node, base, rng, note="Only one parent has constants to mix, so improve it instead.")
        (node_a, a), (node_b, b) = usable[0], usable[1]
        b_values = b.values
        differing = [k for k in a.knobs if k.key in b_values and b_values[k.key] != a.values[k.key]
                     and type(b_values[k.key]) is type(a.values[k.key])]
        if not differing:
            return self._improve(node_a, a, rng, note=f"Nodes {node_a.id} and {node_b.id} use the same constants, so improve one instead.")

        def make(attempt: int) -> dict[str, Number] | None:
            out = dict(a.values)
            picks = {k.key: rng.random() < 0.5 for k in differing}  # True: from b
            if len(differing) >= 2 and len(set(picks.values())) == 1:
                flip = rng.choice(differing).key
                picks[flip] = not picks[flip]
            for knob in differing:
                va, vb = a.values[knob.key], b_values[knob.key]
                if isinstance(va, float) and rng.random() < 0.25:
                    mean = bounded(knob, (va + vb) / 2)
                    if mean is not None:
                        out[knob.key] = mean
                        continue
                if picks[knob.key]:
                    out[knob.key] = vb
            if attempt >= NOVELTY_TRIES // 2:  # every mix tried: mix, then step one constant
                return self._perturb(a, out, [rng.choice(a.knobs)], rng, step)
            return out

        values, novel = self._search(a, make)
        def source(key: str) -> str:
            if key in b_values and values[key] == b_values[key]:
                return f"node {node_b.id}"
            mean = (a.values[key] + b_values[key]) / 2 if key in b_values else None
            return "mean" if mean is not None and values[key] == bounded(knobs[key], mean) else "step"

        knobs = {k.key: k for k in a.knobs}
        taken = [f"{k.key} {_show(values[k.key])} ({source(k.key)})" for k in a.knobs if values[k.key] != a.values[k.key]]
        plan = (f"Crossover of nodes {node_a.id} and {node_b.id}: {', '.join(taken) or 'nothing'}; "
                f"the other constants from node {node_a.id}.")
        return self._propose(a, values, plan, novel)

    # -- debug -------------------------------------------------------------------------------
    def _debug(self, request: CodeRequest, parent: Node, base: _Base | None, rng: random.Random) -> Proposal:
        timeout = is_time_limit(parent)
        if base is None or not self._is_variant(base):
            if not timeout:
                note = (self._unusable(parent) if base is None else
                        f"Node {parent.id}'s code is not the starter with other constants, so start again from the starter.")
                return self._draft(request, rng, note=f"Debug: {note}")
            base = self.starter  # a time limit: the starter with less work
        current, start = base.values, self.starter_values
        differing = [k for k in base.knobs if current[k.key] != start[k.key]]
        all_the_way = len(request.memory.ancestral_bugs) >= 2
        ints = [k for k in base.knobs if isinstance(start[k.key], int) and start[k.key] > 1]
        work = [k for k in ints if WORK_NAME.search(k.group)] or ints
        if not differing and not (timeout and work):
            return self._draft(request, rng, note=f"Debug: node {parent.id} already uses the starter's constants; "
                                                  "try another variant of the starter.")

        def halfway(knob: Knob) -> Number:
            v, s = current[knob.key], start[knob.key]
            if isinstance(v, int) and isinstance(s, int):
                return math.floor((v + s) / 2) if v > s else math.ceil((v + s) / 2)
            back = bounded(knob, (v + s) / 2)
            return back if back is not None else s

        def make(attempt: int) -> dict[str, Number] | None:
            out = dict(current)
            if attempt == 0:
                full: set[str] = {k.key for k in differing} if all_the_way else set()
            elif attempt == 1:
                full = {k.key for k in differing}
            else:
                full = {k.key for k in differing if rng.random() < 0.5}
            for knob in differing:
                out[knob.key] = start[knob.key] if knob.key in full else halfway(knob)
            if timeout:
                for knob in work:
                    value = out[knob.key]
                    if isinstance(value, int) and value > 1:
                        out[knob.key] = max(1, value // 2)
            if attempt >= NOVELTY_TRIES // 2:
                return self._perturb(base, out, [rng.choice(base.knobs)], rng, step)
            return out

        values, novel = self._search(base, make)
        moved = _changes(base.knobs, current, values)
        why = "time limit" if timeout else (parent.status.value if parent.status else "failed")
        back = [k for k in differing if values[k.key] != current[k.key]]
        if back and all(values[k.key] == start[k.key] for k in back):
            how = "back to the starter's values"
        elif back and all(values[k.key] == halfway(k) for k in back):
            how = "halfway back toward the starter"
        else:
            how = "back toward the starter"
        plan = f"Debug node {parent.id} ({why}): {how}{' and halve the work' if timeout else ''}: {', '.join(moved) or 'unchanged'}."
        return self._propose(base, values, plan, novel)
