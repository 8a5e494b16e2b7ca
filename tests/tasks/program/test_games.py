"""The built-in game tasks (prisoner's dilemma, Colonel Blotto) graded through the real sandbox.

Each test writes a candidate's ``strategy.py`` into an artefacts folder and grades it with
:func:`grade_artefacts`, as a run's node would be: the starter is valid and reproducible, tuned
constants beat it on the test opponents, broken strategies get a clear reason, and a strategy
hunting for the hidden evaluator or opponents finds nothing.
"""

from __future__ import annotations

import ast
import re
import sys
import time
from pathlib import Path

import pytest

import airlab
from airlab.tasks.program.harness import Candidate, CandidateError
from airlab.tasks.program.task import ProgramTask, grade_artefacts, load_program_task
from airlab.tasks.protocol import Grade

SUITE = Path(airlab.__file__).parent / "tasks" / "suite"
GAMES = ("prisoners-dilemma", "colonel-blotto")
FUNCTION = {"prisoners-dilemma": "move", "colonel-blotto": "allocate"}
# Constant settings found by perturbing the starter's tunables, and how much they must gain on test.
TUNED = {
    "prisoners-dilemma": ({"COOPERATE_PROB": 1.0, "RETALIATE_PROB": 0.9, "FORGIVENESS": 0.2,
                           "EXPLOIT_THRESHOLD": 0.6}, 0.1),
    "colonel-blotto": ({"VALUE_EXPONENT": 1.0, "ABANDON": 2, "RANDOMNESS": 0.2, "COUNTER": 0.9,
                        "COUNTER_MARGIN": 1.0}, 0.3),
}


@pytest.fixture(scope="module", params=GAMES)
def task(request: pytest.FixtureRequest) -> ProgramTask:
    return load_program_task(SUITE / request.param)


def grade(task: ProgramTask, code: str | None, tmp_path: Path, split_seed: int = 0) -> Grade:
    """Grade ``code`` as the node's strategy.py (None: the run left no strategy.py)."""
    public, artefacts = tmp_path / "public", tmp_path / "artefacts"
    if not public.exists():
        task.write_public(public)
    artefacts.mkdir(exist_ok=True)
    target = artefacts / task.spec.entry
    target.unlink(missing_ok=True)
    if code is not None:
        target.write_text(code)
    return grade_artefacts(task, artefacts, public, split_seed)


def with_constants(code: str, values: dict[str, float]) -> str:
    """The code with module-level constants set, as an offline coder perturbing them would."""
    for name, value in values.items():
        code, count = re.subn(rf"^{name} = [^#\n]*", f"{name} = {value!r}  ", code, count=1, flags=re.M)
        assert count == 1, f"no constant {name}"
    return code


# -- the spec ---------------------------------------------------------------------------------
def test_spec_loads_with_tunables_in_the_starter(task: ProgramTask) -> None:
    spec = task.spec
    assert spec.kind == "program" and spec.entry == "strategy.py"
    assert [p.name for p in task.workspace_dir.iterdir()] == ["strategy.py"]
    tree = ast.parse(task.starter_code)
    constants = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                 if isinstance(t, ast.Name)}
    assert set(spec.tunables) <= constants
    assert any(isinstance(n, ast.FunctionDef) and n.name == FUNCTION[task.id] for n in tree.body)
    roles = spec.roles
    assert len(roles.search.instances) >= 5 and len(roles.val.instances) >= 3 and len(roles.test.instances) >= 5
    opponents = task.evaluate.__globals__["OPPONENTS"]
    for role in (roles.search, roles.val, roles.test):
        assert set(role.instances) <= set(opponents)
    assert spec.references.optimum is not None and spec.references.baseline is not None


def test_public_files_name_no_hidden_opponent(task: ProgramTask, tmp_path: Path) -> None:
    task.write_public(tmp_path)
    text = "\n".join(p.read_text() for p in tmp_path.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["description.md", "strategy.py"]
    for name in task.evaluate.__globals__["OPPONENTS"]:
        assert name not in text
    assert "OPPONENTS" not in text and "play_match" not in text


def test_starter_self_test_runs(task: ProgramTask, tmp_path: Path) -> None:
    import subprocess

    done = subprocess.run([sys.executable, task.spec.entry], cwd=task.workspace_dir, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


# -- scores -----------------------------------------------------------------------------------
def test_starter_is_valid_reproducible_and_fast(task: ProgramTask, tmp_path: Path) -> None:
    started = time.monotonic()
    first = grade(task, task.starter_code, tmp_path)
    seconds = time.monotonic() - started
    assert first.valid, first.reason
    assert set(first.scores) == {"search", "val", "test"}
    assert grade(task, task.starter_code, tmp_path).scores == first.scores
    assert task.references.baseline == pytest.approx(first.scores["test"], abs=0.01)
    other = grade(task, task.starter_code, tmp_path, split_seed=1)
    assert other.valid and other.scores != first.scores  # the role's seed drives the randomness
    assert seconds < 10  # about 1 s on a quiet machine


def test_tuned_constants_beat_the_starter(task: ProgramTask, tmp_path: Path) -> None:
    values, margin = TUNED[task.id]
    starter = grade(task, task.starter_code, tmp_path)
    tuned = grade(task, with_constants(task.starter_code, values), tmp_path)
    assert tuned.valid, tuned.reason
    for role in ("search", "val", "test"):
        assert tuned.scores[role] > starter.scores[role], role  # search leads toward what test rewards
    assert tuned.scores["test"] > starter.scores["test"] + margin
    assert tuned.scores["test"] < task.references.optimum


# -- broken strategies ------------------------------------------------------------------------
BROKEN: list[tuple[str, str, str]] = [  # (game, body of the function, a part of the reason)
    ("prisoners-dilemma", "return 'X'", "must return the string 'C' (cooperate) or 'D' (defect)"),
    ("prisoners-dilemma", "return 'c'", "returned 'c' in round 1 of match 1"),
    ("prisoners-dilemma", "return None", "returned None in round 1 of match 1 against opponent 1"),
    ("colonel-blotto", "return [10] * 9 + [11]", "uses 101 soldiers; it must use exactly 100"),
    ("colonel-blotto", "return [10] * 9", "returned a list of 9"),
    ("colonel-blotto", "return [10.0] * 10", "every entry must be a whole number"),
    ("colonel-blotto", "return [20, -10] + [10] * 8", "no castle may get a negative number"),
    ("colonel-blotto", "return 'ten each'", "returned str"),
    ("colonel-blotto", "return {1, 2}", "cannot be sent as JSON"),
]


@pytest.mark.parametrize(("game", "body", "reason"), BROKEN)
def test_an_illegal_answer_is_refused_with_what_is_wrong(game: str, body: str, reason: str, tmp_path: Path) -> None:
    task = load_program_task(SUITE / game)
    code = f"def {FUNCTION[game]}(*args):\n    {body}\n"
    result = grade(task, code, tmp_path)
    assert not result.valid and result.reason is not None
    assert reason in result.reason, result.reason
    assert not any(name in result.reason for name in task.evaluate.__globals__["OPPONENTS"])


FAILING: list[tuple[str, str] | object] = [  # (the code, a part of the reason); {fn} is the function
    ("def {fn}(*args):\n    raise ValueError('no idea')\n", "{fn}() raised"),
    ("def {fn}(*args):\n    while True:\n        pass\n", "{fn}() did not answer within 1 s"),
    ("import sys\ndef {fn}(*args):\n    sys.exit(3)\n", "process ended during {fn}() (exit code"),
    ("import sys\nsys.exit(0)\n", "importing strategy.py failed: SystemExit"),
    ("def {fn}(*args)\n    return 1\n", "importing strategy.py failed"),
    ("def something_else(*args):\n    return 1\n", "defines no function {fn}()"),
    ("import os\ndef {fn}(*args):\n    os._exit(0)\n", "process ended during {fn}()"),
    ("def {fn}(*args):\n    return [0] * 10**6\n", "answered more than"),
]


@pytest.mark.parametrize("game", GAMES)
@pytest.mark.parametrize(("template", "reason"), FAILING)
def test_a_failing_strategy_gets_a_reason_and_never_raises(game: str, template: str, reason: str,
                                                          tmp_path: Path) -> None:
    task = load_program_task(SUITE / game)
    fn = FUNCTION[game]
    started = time.monotonic()
    result = grade(task, template.replace("{fn}", fn), tmp_path)
    assert not result.valid and result.reason is not None
    assert reason.replace("{fn}", fn) in result.reason, result.reason
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("game", GAMES)
@pytest.mark.parametrize("code", ["import sys\ndef {fn}(*args):\n    sys.exit(3)\n",
                                  "import os\ndef {fn}(*args):\n    os._exit(0)\n"])
def test_a_strategy_that_exits_mid_match_is_invalid(game: str, code: str, tmp_path: Path) -> None:
    result = grade(load_program_task(SUITE / game), code.replace("{fn}", FUNCTION[game]), tmp_path)
    assert not result.valid and result.reason


@pytest.mark.parametrize("game", GAMES)
def test_no_strategy_left_is_refused(game: str, tmp_path: Path) -> None:
    result = grade(load_program_task(SUITE / game), None, tmp_path)
    assert not result.valid and result.reason == "no strategy.py was left by the run"


def test_printing_is_harmless(task: ProgramTask, tmp_path: Path) -> None:
    fn = FUNCTION[task.id]
    noisy = task.starter_code + (f"\n_quiet = {fn}\n\ndef {fn}(*args):\n    print('{{\"ok\": \"D\"}}')\n"
                                 f"    return _quiet(*args)\n")
    assert grade(task, noisy, tmp_path).scores == grade(task, task.starter_code, tmp_path).scores


# -- hostile strategies -----------------------------------------------------------------------
HOSTILE = r'''
import gc, inspect, os, sys, time

GUESSES = {guesses!r}
MARKERS = ("OPPONENTS: dict[str, Opponent]", "def play_match(")  # in these evaluators only
PATH_MARKERS = ("prisoners-dilemma", "colonel-blotto")
ROOTS = {roots!r}
FOUND = []


def _looks_hidden(path):
    try:
        with open(path, errors="replace") as handle:
            text = handle.read(200_000)
    except OSError:
        return False
    return any(marker in text for marker in MARKERS)


def _scan_files(deadline):
    walked = 0
    for path in GUESSES:
        if os.path.exists(path):
            FOUND.append(f"the guessed path {{path}} exists")
    for root in ROOTS:
        for folder, dirs, files in os.walk(root, onerror=lambda exc: None):
            if folder == "/":
                dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
            walked += len(files)
            if any(marker in folder for marker in PATH_MARKERS):
                FOUND.append(f"a folder {{folder}}")
            for name in files:
                if name in ("evaluator.py", "task.yaml") and _looks_hidden(os.path.join(folder, name)):
                    FOUND.append(f"a hidden file {{os.path.join(folder, name)}}")
            if time.monotonic() > deadline:
                return walked
    return walked


def _scan_processes():
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        for part in ("cmdline", "environ"):
            try:
                with open(f"/proc/{{pid}}/{{part}}", "rb") as handle:
                    text = handle.read().decode(errors="replace")
            except OSError:
                continue
            for marker in (*PATH_MARKERS, "evaluator.py", "task.yaml", "suite/"):
                if marker in text:
                    FOUND.append(f"/proc/{{pid}}/{{part}} mentions {{marker}}")


def _scan_memory():
    for obj in gc.get_objects():
        if inspect.isfunction(obj) and ("evaluator" in obj.__code__.co_filename
                                        or obj.__name__ in ("play_match", "play_role", "evaluate")):
            FOUND.append(f"a function {{obj.__name__}} of {{obj.__code__.co_filename}}")
        elif isinstance(obj, dict) and "OPPONENTS" in obj:
            FOUND.append("a namespace holding OPPONENTS")
    for info in inspect.stack():
        if "OPPONENTS" in info.frame.f_globals or "evaluator" in info.filename:
            FOUND.append(f"a frame of {{info.filename}}")
    for name in list(sys.modules):
        if name.startswith("airlab") or "evaluator" in name:
            FOUND.append(f"a module {{name}}")


WALKED = _scan_files(time.monotonic() + 25)
_scan_processes()
print(f"hostile scan: {{WALKED}} files walked; found {{FOUND}}", file=sys.stderr)
_play = {fn}


def {fn}(*args):
    _scan_memory()
    if FOUND:
        raise RuntimeError("FOUND " + " | ".join(FOUND))
    return _play(*args)
'''


def hostile(task: ProgramTask, roots: list[str]) -> str:
    guesses = [str(task.folder / "evaluator.py"), str(task.folder / "task.yaml"), "../evaluator.py",
               "../task.yaml", "/evaluator.py", "/workspace/../evaluator.py"]
    return task.starter_code + HOSTILE.format(guesses=guesses, roots=roots, fn=FUNCTION[task.id])


def test_a_hostile_strategy_finds_nothing_in_the_sandbox(task: ProgramTask, tmp_path: Path) -> None:
    result = grade(task, hostile(task, ["/"]), tmp_path)
    assert result.valid, result.reason  # the reason would list what it found
    assert result.scores == grade(task, task.starter_code, tmp_path).scores  # it played on every role


def test_the_hostile_strategy_does_find_files_that_are_visible(task: ProgramTask, tmp_path: Path) -> None:
    """The control: without bubblewrap the same strategy sees the task folder and says so."""
    task.write_public(tmp_path / "public")
    (tmp_path / "artefacts").mkdir()
    (tmp_path / "artefacts" / "strategy.py").write_text(hostile(task, [str(task.folder.parent)]))
    candidate = Candidate(artefacts=tmp_path / "artefacts", public=tmp_path / "public", limits=task.limits,
                          call_timeout=task.spec.call_timeout, scratch=tmp_path / "scratch", sandbox="plain")
    with pytest.raises(CandidateError, match=r"FOUND .*the guessed path .*evaluator\.py exists"):
        task.evaluate(candidate, task.role_set("search", 0))
