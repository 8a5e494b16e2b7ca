"""The offline coder for program tasks: constants found and rewritten in place, and four operators that tune them."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from airlab.coders.base import CodeRequest
from airlab.coders.offline import constants, program
from airlab.coders.offline.program import ProgramCoder
from airlab.search.memory import Memory
from airlab.search.node import Node, NodeStatus, Operator
from airlab.tasks.program.task import ProgramPreview
from airlab.tasks.spec import Limits

Mode = constants.Mode


def Preview(entry: str, starter_code: str, files: list[str] | None = None,
            tunables: list[str] | None = None, higher_is_better: bool = True) -> ProgramPreview:
    return ProgramPreview(entry=entry, starter_code=starter_code, files=files or [entry], tunables=tunables or [],
                          metric="score", higher_is_better=higher_is_better)


def Request(operator: Operator, preview: ProgramPreview, seed: int = 0, run_seed: int = 0,
            parents: list[Node] | None = None, memory: Memory | None = None, description: str = "",
            node_id: int = 1) -> CodeRequest:
    return CodeRequest(operator=operator, node_id=node_id, seed=seed, run_seed=run_seed, task_id="t",
                       description=description, preview=preview, parents=parents or [], memory=memory or Memory(),
                       limits=Limits(), entry=preview.entry)


STRATEGY = '''"""An iterated prisoner's dilemma strategy."""

import random

FORGIVENESS = 0.1   # chance to cooperate after a defection
RETALIATE_PROB = 0.5
MEMORY = 3  # rounds remembered
WEIGHTS = [1, 2.5, -0.5]
OFFSET = -2.0
VERBOSE = True
NAME = "tft"
SEED = 42


def move(history: list[int]) -> int:
    if not history:
        return 0
    recent = history[-MEMORY:]
    if recent[-1] == 1 and random.random() > FORGIVENESS:
        return 1 if random.random() < RETALIATE_PROB else 0
    return 0
'''

BODY_ONLY = '''def score(items, capacity):
    best = 0
    for i in range(len(items) - 1):
        if len(items) > 3 and items[i] == 2:
            best += 1
        fit = capacity - items[i] * 0.75 + items[0]
        if fit > 2.5:
            best = max(best, fit * -1.5)
    penalty = -1e9 if best < 0 else best ** 2 % 7
    return best + penalty
'''


def _preview(code: str = STRATEGY, tunables: list[str] | None = None) -> Preview:
    return Preview(entry="strategy.py", starter_code=code, files=["strategy.py"], tunables=tunables or [])


def _node(proposal: Any, node_id: int = 2, status: NodeStatus = NodeStatus.OK, error: str | None = None,
          score: float | None = 1.0, operator: Operator = Operator.DRAFT) -> Node:
    return Node(id=node_id, operator=operator, plan=proposal.plan, code=proposal.code, status=status,
                search_score=score, error=error, meta=dict(proposal.meta))


def _write(operator: Operator, preview: Preview, parents: list[Node] | None = None, seed: int = 0,
           memory: Memory | None = None) -> Any:
    return ProgramCoder().write(Request(operator=operator, preview=preview, seed=seed, parents=parents or [],
                                        memory=memory or Memory()))


def _changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


# -- finding and rewriting constants -----------------------------------------------------------
def test_upper_case_constants_lists_and_negatives_are_found_booleans_strings_and_seeds_are_not() -> None:
    slots = constants.find_slots(STRATEGY, Mode.UPPER)
    assert constants.values_of(slots) == {"FORGIVENESS": 0.1, "RETALIATE_PROB": 0.5, "MEMORY": 3,
                                          "WEIGHTS[0]": 1, "WEIGHTS[1]": 2.5, "WEIGHTS[2]": -0.5, "OFFSET": -2.0}
    assert constants.grouped(slots) == {"FORGIVENESS": 0.1, "RETALIATE_PROB": 0.5, "MEMORY": 3,
                                        "WEIGHTS": [1, 2.5, -0.5], "OFFSET": -2.0}
    assert constants.choose_mode(STRATEGY) == Mode.UPPER


def test_the_tasks_tunables_take_precedence_and_unknown_names_fall_back_to_upper_case() -> None:
    assert constants.choose_mode(STRATEGY, ["FORGIVENESS", "OFFSET"]) == Mode.TUNABLES
    slots = constants.find_slots(STRATEGY, Mode.TUNABLES, ["FORGIVENESS", "OFFSET", "VERBOSE"])
    assert constants.values_of(slots) == {"FORGIVENESS": 0.1, "OFFSET": -2.0}
    assert constants.choose_mode(STRATEGY, ["NOT_THERE"]) == Mode.UPPER
    assert constants.values_of(constants.find_slots(STRATEGY, Mode.TUNABLES, ["SEED"])) == {"SEED": 42}


def test_a_later_assignment_replaces_an_earlier_constant() -> None:
    code = "A = 1\nB = 2\nA = 3\nB = compute()\nC: float = 0.5\n"
    assert constants.values_of(constants.find_slots(code, Mode.UPPER)) == {"A": 3, "C": 0.5}


def test_without_module_constants_the_safe_literals_of_function_bodies_are_found() -> None:
    assert constants.choose_mode(BODY_ONLY) == Mode.BODY
    slots = constants.find_slots(BODY_ONLY, Mode.BODY)
    # not: 0 and 1, range(...) arguments, len(...) comparisons, == codes, indices, sentinels, int powers, modulos
    assert constants.values_of(slots) == {"score@L6": 0.75, "score@L7": 2.5, "score@L8": -1.5}
    values = {"score@L6": 0.5, "score@L7": 3.0, "score@L8": 2.0}
    new = constants.rewrite(BODY_ONLY, slots, values)
    assert _changed_lines(BODY_ONLY, new) == [
        ("        fit = capacity - items[i] * 0.75 + items[0]", "        fit = capacity - items[i] * 0.5 + items[0]"),
        ("        if fit > 2.5:", "        if fit > 3.0:"),
        ("            best = max(best, fit * -1.5)", "            best = max(best, fit * 2.0)"),
    ]


def test_rewriting_changes_only_the_targeted_literals_and_keeps_comments() -> None:
    slots = constants.find_slots(STRATEGY, Mode.UPPER)
    values = {**constants.values_of(slots), "FORGIVENESS": 0.15, "WEIGHTS[2]": 0.25, "MEMORY": 4, "OFFSET": 3.0}
    new = constants.rewrite(STRATEGY, slots, values)
    assert _changed_lines(STRATEGY, new) == [
        ("FORGIVENESS = 0.1   # chance to cooperate after a defection", "FORGIVENESS = 0.15   # chance to cooperate after a defection"),
        ("MEMORY = 3  # rounds remembered", "MEMORY = 4  # rounds remembered"),
        ("WEIGHTS = [1, 2.5, -0.5]", "WEIGHTS = [1, 2.5, 0.25]"),
        ("OFFSET = -2.0", "OFFSET = 3.0"),
    ]
    assert constants.values_of(constants.find_slots(new, Mode.UPPER)) == values
    assert constants.rewrite(STRATEGY, slots, constants.values_of(slots)) == STRATEGY
    with pytest.raises(TypeError):
        constants.rewrite(STRATEGY, slots, {**values, "MEMORY": 4.5})


def test_a_negative_value_in_an_expression_is_parenthesised_and_unicode_is_kept() -> None:
    code = 'def f(x):\n    s = "héllo ✓"\n    return x ** 0.5 + 0.25 ** 2 * 3.0  # ✓ ünïcode\n'
    slots = constants.find_slots(code, Mode.BODY)
    assert constants.values_of(slots) == {"f@L3": 0.5, "f@L3#1": 0.25, "f@L3#2": 3.0}
    new = constants.rewrite(code, slots, {"f@L3": -0.5, "f@L3#1": -0.25, "f@L3#2": 2.0})
    assert new == 'def f(x):\n    s = "héllo ✓"\n    return x ** (-0.5) + (-0.25) ** 2 * 2.0  # ✓ ünïcode\n'
    namespace: dict[str, Any] = {}
    exec(compile(new, "f.py", "exec"), namespace)
    assert namespace["f"](4.0) == pytest.approx(0.5 + 0.125)


# -- the operators -------------------------------------------------------------------------------
def _check(proposal: Any, parent_code: str, preview: Preview) -> dict[str, Any]:
    compile(proposal.code, "strategy.py", "exec")
    assert proposal.code != parent_code
    found = constants.grouped(constants.find_slots(proposal.code, constants.choose_mode(preview.starter_code, preview.tunables),
                                                   preview.tunables))
    assert proposal.meta["constants"] == found
    assert proposal.meta["idea"] == program.idea_of(found)
    assert proposal.family and proposal.plan
    return found


@pytest.mark.parametrize("operator", list(Operator))
def test_each_operator_writes_new_compilable_code_and_names_its_change(operator: Operator) -> None:
    preview = _preview()
    draft = _write(Operator.DRAFT, preview, seed=1)
    other = _write(Operator.DRAFT, preview, seed=2)
    failed = _node(draft, status=NodeStatus.BUGGY, error="ZeroDivisionError: division by zero", score=None)
    parents = {Operator.DRAFT: [], Operator.IMPROVE: [_node(draft)], Operator.DEBUG: [failed],
               Operator.CROSSOVER: [_node(draft), _node(other, node_id=3)]}[operator]
    proposal = _write(operator, preview, parents, seed=7)
    parent_code = parents[0].code if parents else STRATEGY
    found = _check(proposal, parent_code, preview)
    assert proposal.plan.lower().startswith(operator.value)
    parent_values = constants.grouped(constants.find_slots(parent_code, Mode.UPPER))
    for name, value in found.items():
        if value != parent_values[name]:
            assert name in proposal.plan
    assert _write(operator, preview, parents, seed=7) == proposal  # the same request, the same proposal


def test_drafts_are_diverse_and_avoid_tried_ideas() -> None:
    preview = _preview()
    memory = Memory()
    ideas = []
    for seed in range(12):
        proposal = _write(Operator.DRAFT, preview, seed=seed, memory=memory)
        _check(proposal, STRATEGY, preview)
        assert proposal.meta["idea"] not in memory.tried_ideas
        ideas.append(proposal.meta["idea"])
        memory.tried_ideas.append(proposal.meta["idea"])
        memory.sibling_plans.append(proposal.plan)
    assert len(set(ideas)) == 12
    first = _write(Operator.DRAFT, preview, seed=0)
    again = _write(Operator.DRAFT, preview, seed=0, memory=Memory(tried_ideas=[first.meta["idea"]]))
    assert again.meta["idea"] != first.meta["idea"]


def test_improve_steps_one_or_two_constants_and_avoids_tried_ideas() -> None:
    preview = _preview()
    parent = _node(_write(Operator.DRAFT, preview, seed=3))
    tried: list[str] = [parent.meta["idea"]]
    for seed in range(20):
        proposal = _write(Operator.IMPROVE, preview, [parent], seed=seed, memory=Memory(tried_ideas=list(tried)))
        _check(proposal, parent.code, preview)
        assert 1 <= len(proposal.meta["changed"]) <= 2
        assert proposal.meta["idea"] not in tried
        tried.append(proposal.meta["idea"])


def test_bounds_probabilities_stay_in_0_1_counts_stay_positive_ints_stay_ints() -> None:
    code = "P = 0.95\nQ = 0.02\nEPOCHS = 1\nSHIFT = 0\nSCALE = 0.0\nX_PROB = 1.0\n"
    preview = Preview(entry="train.py", starter_code=code)
    node = _node(_write(Operator.DRAFT, preview, seed=0))
    for i in range(150):
        operator = (Operator.IMPROVE, Operator.DRAFT)[i % 5 == 0]
        proposal = _write(operator, preview, [node] if operator == Operator.IMPROVE else [], seed=i)
        values = proposal.meta["constants"]
        assert 0.0 <= values["P"] <= 1.0 and 0.0 <= values["Q"] <= 1.0 and 0.0 <= values["X_PROB"] <= 1.0
        assert isinstance(values["EPOCHS"], int) and values["EPOCHS"] >= 1
        assert isinstance(values["SHIFT"], int) and isinstance(values["SCALE"], float)
        assert all(isinstance(v, float) for k, v in values.items() if k not in ("EPOCHS", "SHIFT"))
        node = _node(proposal, node_id=i + 10)
    kinds = {k.key: k.kind for k in program._Writer(Request(Operator.DRAFT, preview)).starter.knobs}
    assert kinds == {"P": "probability", "Q": "probability", "EPOCHS": "count", "SHIFT": "int", "SCALE": "float",
                     "X_PROB": "probability"}


@pytest.mark.parametrize("higher_is_better", [True, False])
def test_improve_first_pushes_further_along_a_move_that_helped(higher_is_better: bool) -> None:
    preview = Preview(entry="toy.py", starter_code="A = 1.0\nB = 5\nC = 0.5\n", higher_is_better=higher_is_better)
    code = "A = 1.5\nB = 5\nC = 0.5\n"
    sign = 1 if higher_is_better else -1

    def parent(before: float, after: float) -> Node:
        return Node(id=3, operator=Operator.IMPROVE, code=code, status=NodeStatus.OK, search_score=sign * after,
                    meta={"moves": {"A": 0.5}, "parent_score": sign * before})

    helped = [_write(Operator.IMPROVE, preview, [parent(1.0, 2.0)], seed=seed) for seed in range(10)]
    again = [p for p in helped if "again the move that improved it" in p.plan]
    assert len(again) >= 3
    assert all(p.meta["constants"]["A"] > 1.5 and p.meta["constants"]["B"] == 5 for p in again)
    assert all(p.meta["moves"] == {"A": p.meta["constants"]["A"] - 1.5} for p in again)
    assert all(set(p.meta["moves"]) == set(p.meta["changed"]) and p.meta["parent_score"] == sign * 2.0 for p in helped)
    hurt = [_write(Operator.IMPROVE, preview, [parent(2.0, 1.0)], seed=seed) for seed in range(10)]
    assert not any("again" in p.plan for p in hurt)


def test_crossover_takes_constants_from_both_parents() -> None:
    preview = _preview("A = 0.5\nB = 10\nC = 2.0\nD = -3\n")
    a_code = "A = 0.25\nB = 12\nC = 4.0\nD = -5\n"
    b_code = "A = 0.75\nB = 8\nC = 1.0\nD = -1\n"
    a, b = constants.values_of(constants.find_slots(a_code, Mode.UPPER)), constants.values_of(constants.find_slots(b_code, Mode.UPPER))
    parents = [Node(id=4, operator=Operator.DRAFT, code=a_code, status=NodeStatus.OK, search_score=1.0),
               Node(id=5, operator=Operator.DRAFT, code=b_code, status=NodeStatus.OK, search_score=2.0)]
    for seed in range(10):
        proposal = _write(Operator.CROSSOVER, preview, parents, seed=seed)
        child = proposal.meta["constants"]
        from_a = [k for k in child if child[k] == a[k]]
        from_b = [k for k in child if child[k] == b[k]]
        means = [k for k in child if k not in from_a and k not in from_b]
        assert all(k in ("A", "C") and child[k] == pytest.approx((a[k] + b[k]) / 2) for k in means)
        assert all(k in from_a or k in from_b or k in means for k in child)
        assert child != a and child != b
        assert "node 5" in proposal.plan or "mean" in proposal.plan


def test_debug_moves_halfway_back_to_the_starter_then_all_the_way() -> None:
    preview = _preview("A = 1.0\nB = 10\nP = 0.5\nK = 4\n")
    failed = Node(id=6, operator=Operator.IMPROVE, code="A = 3.0\nB = 20\nP = 0.9\nK = 4\n", status=NodeStatus.BUGGY,
                  error="ValueError: bad move")
    first = _write(Operator.DEBUG, preview, [failed], memory=Memory(ancestral_bugs=["node 6 (buggy): ValueError"]))
    assert first.meta["constants"] == {"A": 2.0, "B": 15, "P": 0.7, "K": 4}
    assert first.plan.startswith("Debug node 6 (buggy): halfway back toward the starter")
    failed_again = _node(first, node_id=7, status=NodeStatus.BUGGY, error="ValueError: bad move", score=None)
    second = _write(Operator.DEBUG, preview, [failed_again],
                    memory=Memory(ancestral_bugs=["node 6 (buggy): ValueError", "node 7 (buggy): ValueError"]))
    # all the way back is the starter itself, which is never proposed: some constants go only part of the way
    starter, before = {"A": 1.0, "B": 10, "P": 0.5, "K": 4}, first.meta["constants"]
    assert second.meta["constants"] != starter
    for name, value in second.meta["constants"].items():
        assert min(starter[name], before[name]) <= value <= max(starter[name], before[name])
    assert second.plan.startswith("Debug node 7 (buggy): back toward the starter")


def test_debug_recognises_the_starter_with_other_constants_whatever_their_spelling() -> None:
    preview = _preview("LR = 3e-4  # learning rate\nWIDTH = 64\n")
    respelled = Node(id=6, operator=Operator.IMPROVE, code="LR = 0.0003\nWIDTH = 128\n", status=NodeStatus.BUGGY,
                     error="RuntimeError: out of memory")
    assert _write(Operator.DEBUG, preview, [respelled]).meta["constants"] == {"LR": 0.0003, "WIDTH": 96}
    other_code = Node(id=7, operator=Operator.IMPROVE, code="LR = 0.0003\nWIDTH = 128\nboom()\n",
                      status=NodeStatus.BUGGY, error="NameError: name 'boom' is not defined")
    proposal = _write(Operator.DEBUG, preview, [other_code])
    assert "is not the starter with other constants" in proposal.plan and "boom" not in proposal.code


def test_debug_after_a_time_limit_also_halves_the_work() -> None:
    preview = _preview("EPOCHS = 8\nLR = 0.01\nBATCH = 64\n")
    failed = Node(id=6, operator=Operator.IMPROVE, code="EPOCHS = 16\nLR = 0.02\nBATCH = 64\n",
                  status=NodeStatus.TIMEOUT, error="hit the wall-time limit of 60 s")
    proposal = _write(Operator.DEBUG, preview, [failed])
    assert proposal.meta["constants"] == {"EPOCHS": 6, "LR": 0.015, "BATCH": 64}
    assert "time limit" in proposal.plan and "halve the work" in proposal.plan
    # a timeout of the starter's own constants: less work than the starter
    starter_like = Node(id=7, operator=Operator.DRAFT, code=preview.starter_code, status=NodeStatus.TIMEOUT, error="timeout")
    assert _write(Operator.DEBUG, preview, [starter_like]).meta["constants"] == {"EPOCHS": 4, "LR": 0.01, "BATCH": 64}


def test_unusable_parents_fall_back_to_a_draft_from_the_starter() -> None:
    preview = _preview()
    broken = Node(id=8, operator=Operator.DRAFT, code="def move(:\n", status=NodeStatus.BUGGY, error="SyntaxError")
    bare = Node(id=9, operator=Operator.DRAFT, code="def move(h):\n    return 0\n", status=NodeStatus.OK, search_score=1.0)
    for operator, parents in [(Operator.IMPROVE, [bare]), (Operator.DEBUG, [broken]), (Operator.CROSSOVER, [broken, bare])]:
        proposal = _write(operator, preview, parents)
        _check(proposal, STRATEGY, preview)
        assert "Draft: a variant of the starter" in proposal.plan
    with pytest.raises(program.CoderError):
        _write(Operator.DRAFT, Preview(entry="x.py", starter_code="def f():\n    return 0\n", files=[], tunables=[]))


def test_a_failed_rewrite_falls_back_to_the_starter() -> None:
    preview = _preview("A = 0.5\n")
    writer = program._Writer(Request(Operator.DRAFT, preview))
    proposal = writer._propose(writer.starter, {"A": float("nan")}, "Draft: A 0.5 -> nan.", novel=True)
    assert proposal.code == preview.starter_code and proposal.family == "starter"
    assert proposal.plan.startswith("Rewriting the constants failed")
    assert ast.parse(proposal.code)


def test_greedy_search_with_these_operators_improves_a_toy_objective() -> None:
    preview = Preview(entry="toy.py", starter_code="A = 0.0  # target 3\nB = 5  # target 10\n\n\ndef f():\n    return A + B\n")

    def score(values: dict[str, Any]) -> float:
        return -((values["A"] - 3) ** 2) - (values["B"] - 10) ** 2

    memory = Memory()
    nodes: list[Node] = []

    def add(proposal: Any, operator: Operator, parents: list[Node]) -> None:
        node = Node(id=len(nodes) + 1, operator=operator, plan=proposal.plan, code=proposal.code,
                    parents=[p.id for p in parents], status=NodeStatus.OK,
                    search_score=score(proposal.meta["constants"]), meta=dict(proposal.meta))
        nodes.append(node)
        memory.tried_ideas.append(proposal.meta["idea"])

    for seed in range(3):
        add(_write(Operator.DRAFT, preview, seed=100 + seed, memory=memory), Operator.DRAFT, [])
    for step in range(20):
        best = max(nodes, key=lambda n: n.search_score or -1e9)
        add(_write(Operator.IMPROVE, preview, [best], seed=200 + step, memory=memory), Operator.IMPROVE, [best])
    starter = score({"A": 0.0, "B": 5})
    best_score = max(n.search_score or -1e9 for n in nodes)
    assert starter == -34
    assert best_score > -10, [(n.plan, n.search_score) for n in nodes]
