"""The built-in program tasks (bin packing, cart-pole, digits speedrun) through the real sandbox.

Each task: its spec loads; the starter is graded on search, val and test; the same artefacts get
the same scores; constants an offline coder may tune clearly beat the starter on test; broken
artefacts are refused with a clear reason (never an exception); a candidate that searches the
sandbox for the evaluator, the task files and the hidden data finds nothing.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest

import airlab
from airlab.tasks.program.harness import Candidate, Rejected
from airlab.tasks.program.task import ProgramTask, grade_artefacts, load_program_task
from airlab.tasks.protocol import Grade

SUITE = Path(airlab.__file__).parent / "tasks" / "suite"
TASKS = ("bin-packing", "cartpole", "digits-speedrun")
ROLES = ("search", "val", "test")
TUNED = {  # constants an offline coder reaches by perturbing the tunables
    "bin-packing": {"W_WASTE": "0.0", "W_FIRST": "0.0"},  # best fit
    "cartpole": {"W_X": "0.1", "W_V": "0.5", "W_OMEGA": "1.0"},
    "digits-speedrun": {"EPOCHS": "10", "LEARNING_RATE": "0.05", "BATCH_SIZE": "8", "HIDDEN": "64"},
}


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[ProgramTask, Path]]:
    """Each task and its public folder (starter files, prepared files, description)."""
    out = {}
    for name in TASKS:
        task = load_program_task(SUITE / name)
        folder = tmp_path_factory.mktemp(f"{name}-public")
        task.write_public(folder)
        out[name] = (task, folder)
    return out


def tuned(code: str, constants: dict[str, str]) -> str:
    for name, value in constants.items():
        code, count = re.subn(rf"^{name} = [^#\n]*", f"{name} = {value}  ", code, flags=re.MULTILINE)
        assert count == 1, f"no constant {name} in the starter"
    return code


def grade(public: dict[str, tuple[ProgramTask, Path]], name: str, code: str,
          roles: tuple[str, ...] = ROLES) -> Grade:
    task, folder = public[name]
    artefacts = Path(tempfile.mkdtemp(prefix="airlab-test-artefacts-"))
    (artefacts / task.spec.entry).write_text(code)
    return grade_artefacts(task, artefacts, folder, split_seed=0, roles=list(roles))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def starter_grades(public: dict[str, tuple[ProgramTask, Path]]) -> dict[str, list[Grade]]:
    """Each task's starter graded twice (the speedrun five times, to see the CPU-time spread)."""
    return {name: [grade(public, name, public[name][0].starter_code) for _ in range(5 if name == "digits-speedrun" else 2)]
            for name in TASKS}


# -- the specs -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", TASKS)
def test_spec_loads_with_tunables_in_the_starter(public: dict[str, tuple[ProgramTask, Path]], name: str) -> None:
    task, folder = public[name]
    assert task.id == name and task.kind == "program"
    assert task.spec.command is None and task.spec.run_command == ["python", task.spec.entry]
    for constant in task.spec.tunables:
        assert re.search(rf"^{constant} = ", task.starter_code, flags=re.MULTILINE), constant
    files = sorted(p.name for p in folder.iterdir())
    assert "evaluator.py" not in files and "task.yaml" not in files
    assert task.spec.entry in files and "description.md" in files
    assert all(len(getattr(task.spec.roles, role).instances) >= 2 for role in ROLES)


def test_speedrun_public_rows_are_not_hidden_rows(public: dict[str, tuple[ProgramTask, Path]]) -> None:
    task, folder = public["digits-speedrun"]
    train = np.loadtxt(folder / "train.csv", delimiter=",", skiprows=1)
    assert train.shape == (1000, 65)
    from sklearn.datasets import load_digits

    digits = load_digits()
    assert len(digits.target) - len(train) == 797  # the hidden blocks: 8 of about 100 rows
    public_rows = {tuple(row) for row in train[:, :64].astype(int)}
    spec = task.spec.roles
    blocks = [*spec.search.instances, *spec.val.instances, *spec.test.instances]
    assert sorted(blocks) == list(range(8))
    evaluator = task.evaluate.__globals__
    hidden = np.concatenate([evaluator["_block"](b)[0] for b in blocks])
    assert len(hidden) == 797
    assert sum(tuple(row) in public_rows for row in hidden) <= 5  # digits has a few duplicate images


# -- the starter, reproducibility, tuned constants -----------------------------------------------
@pytest.mark.parametrize("name", TASKS)
def test_starter_is_graded_on_every_role_and_reproducibly(starter_grades: dict[str, list[Grade]], name: str) -> None:
    grades = starter_grades[name]
    for g in grades:
        assert g.valid, g.reason
        assert set(g.scores) == set(ROLES)
    if name == "digits-speedrun":  # CPU time varies from run to run, more on a busy machine
        for g in grades:  # one training run per grading scores the three roles
            assert g.scores["search"] == g.scores["val"] == g.scores["test"]
        values = [g.scores["test"] for g in grades]
        print(f"starter CPU seconds over {len(values)} gradings: {values}, median {statistics.median(values):.3f}")
        assert max(values) <= 1.6 * min(values) + 0.1, values
    else:
        assert grades[0].scores == grades[1].scores


def test_starter_scores_are_mediocre(starter_grades: dict[str, list[Grade]]) -> None:
    packing = starter_grades["bin-packing"][0].scores
    assert all(7.0 < packing[role] < 15.0 for role in ROLES), packing
    cartpole = starter_grades["cartpole"][0].scores
    assert all(20 < cartpole[role] < 100 for role in ROLES), cartpole
    speedrun = starter_grades["digits-speedrun"][0].scores
    assert all(0.3 < speedrun[role] < 5.0 for role in ROLES), speedrun


@pytest.mark.parametrize("name", TASKS)
def test_tuned_constants_beat_the_starter(public: dict[str, tuple[ProgramTask, Path]],
                                          starter_grades: dict[str, list[Grade]], name: str) -> None:
    task = public[name][0]
    better = grade(public, name, tuned(task.starter_code, TUNED[name]))
    assert better.valid, better.reason
    starter = starter_grades[name][0].scores
    if name == "bin-packing":
        assert all(better.scores[r] < starter[r] - 2.0 for r in ROLES), (better.scores, starter)
    elif name == "cartpole":
        assert better.scores == {"search": 500.0, "val": 500.0, "test": 500.0}
    else:
        assert all(better.scores[r] < 0.5 * starter[r] for r in ROLES), (better.scores, starter)
    assert task.objective.better(better.scores["test"], starter["test"])


def test_scores_follow_the_role_seed(public: dict[str, tuple[ProgramTask, Path]]) -> None:
    """Another split seed draws other instances: the same code, other (close) scores."""
    task, folder = public["bin-packing"]
    artefacts = Path(tempfile.mkdtemp(prefix="airlab-test-artefacts-"))
    (artefacts / task.spec.entry).write_text(task.starter_code)
    seeds = [grade_artefacts(task, artefacts, folder, split_seed=s, roles=["search"]).scores["search"] for s in (1, 2)]
    assert seeds[0] != seeds[1]
    assert all(5.0 < s < 16.0 for s in seeds)


# -- broken candidates -------------------------------------------------------------------------
PACKING_BEST_FIT = "def priority(item, bins):\n    return [-(b - item) for b in bins]\n"
CARTPOLE_GOOD = "def act(obs):\n    return 1 if obs[2] + 0.5 * obs[3] > 0 else 0\n"
BROKEN = [
    ("bin-packing", "def priority(item, bins):\n    return 'best fit'\n", "must return a list"),
    ("bin-packing", "def priority(item, bins):\n    return [1.0]\n", "scores for"),
    ("bin-packing", "def priority(item, bins):\n    return [None] * len(bins)\n", "must be a finite number"),
    ("bin-packing", "def priority(item, bins):\n    return [float('nan')] * len(bins)\n", "cannot be sent as JSON"),
    ("bin-packing", "def priority(item, bins):\n    raise ValueError('no idea')\n", "priority() raised"),
    ("bin-packing", "import time\ndef priority(item, bins):\n    time.sleep(30)\n", "did not answer within 1 s"),
    ("bin-packing", "def priority(item, bins)\n    return bins\n", "SyntaxError"),
    ("bin-packing", "def prio(item, bins):\n    return bins\n", "defines no function priority()"),
    ("cartpole", "def act(obs):\n    return 2\n", "must return 0 (push left) or 1"),
    ("cartpole", "def act(obs):\n    return 'right'\n", "must return 0 (push left) or 1"),
    ("cartpole", "def act(obs):\n    return 1.0\n", "must return 0 (push left) or 1"),
    ("cartpole", "def act(obs):\n    return obs[7]\n", "act() raised"),
    ("cartpole", "def act(obs):\n    while True:\n        pass\n", "did not answer within 1 s"),
    ("cartpole", "def act(obs) return 1\n", "SyntaxError"),
    ("cartpole", "def policy(obs):\n    return 1\n", "defines no function act()"),
    ("cartpole", "import sys\nsys.exit(3)\n", "importing policy.py failed"),
]


@pytest.mark.parametrize(("name", "code", "reason"), BROKEN, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(BROKEN)])
def test_broken_candidates_are_refused_with_a_reason(public: dict[str, tuple[ProgramTask, Path]],
                                                     name: str, code: str, reason: str) -> None:
    g = grade(public, name, code, roles=("search",))
    assert not g.valid
    assert reason in (g.reason or ""), g.reason


def test_bools_count_as_actions(public: dict[str, tuple[ProgramTask, Path]]) -> None:
    g = grade(public, "cartpole", "def act(obs):\n    return obs[2] + 0.5 * obs[3] > 0\n", roles=("search",))
    assert g.valid and g.scores["search"] == 500.0, g


SPEEDRUN_ARRAYS = "import numpy as np\nrng = np.random.default_rng(0)\n"
SPEEDRUN_BROKEN = [
    ("print('trained, honestly')\n", "wrote no model.npz"),
    ("raise SystemExit('out of ideas')\n", "exited with code 1; its stderr ends:\nout of ideas"),
    (SPEEDRUN_ARRAYS + "np.savez('model.npz', W=rng.normal(size=(64, 9)), b=np.zeros(9))\n", "W has shape (64, 9)"),
    (SPEEDRUN_ARRAYS + "np.savez('model.npz', W1=np.zeros((64, 8)), b1=np.zeros(8), W2=np.zeros((9, 10)), b2=np.zeros(10))\n",
     "W2 has shape (9, 10); expected (8, 10)"),
    (SPEEDRUN_ARRAYS + "np.savez('model.npz', weights=np.zeros((64, 10)))\n", "expected W1, b1, W2, b2"),
    (SPEEDRUN_ARRAYS + "np.savez('model.npz', W=np.full((64, 10), np.nan), b=np.zeros(10))\n", "not finite"),
    (SPEEDRUN_ARRAYS + "np.savez('model.npz', W=rng.normal(size=(64, 10)), b=np.zeros(10))\n",
     "on the hidden rows is below the target 0.93"),
    (SPEEDRUN_ARRAYS + "np.savez('model.npz', W=np.array([['a'] * 10] * 64), b=np.zeros(10))\n", "dtype <U1"),
    ("open('model.npz', 'w').write('W,b\\n1,2\\n')\n", "not a numpy .npz archive"),
    ("import os\nos.symlink('/etc/hostname', 'model.npz')\n", "not a regular file"),
]


@pytest.mark.parametrize(("code", "reason"), SPEEDRUN_BROKEN, ids=[str(i) for i in range(len(SPEEDRUN_BROKEN))])
def test_broken_training_runs_are_refused_with_a_reason(public: dict[str, tuple[ProgramTask, Path]],
                                                       code: str, reason: str) -> None:
    g = grade(public, "digits-speedrun", code, roles=("search",))
    assert not g.valid
    assert reason in (g.reason or ""), g.reason


def test_a_pickled_model_is_refused_without_unpickling(public: dict[str, tuple[ProgramTask, Path]],
                                                       tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"  # a host path: only an unpickling harness could create it
    code = textwrap.dedent(f"""
        import os
        import numpy as np

        class Payload:
            def __reduce__(self):
                return (os.system, ("touch {marker}",))

        W = np.empty((64, 10), dtype=object)
        W[:] = Payload()
        np.savez("model.npz", W=W, b=np.zeros(10))
    """)
    g = grade(public, "digits-speedrun", code, roles=("search",))
    assert not g.valid
    assert "object array (pickled data), which is refused" in (g.reason or ""), g.reason
    raw = "import pickle, os\n" + code.split("W = np.empty")[0].split("import numpy as np")[1] + (
        "open('model.npz', 'wb').write(pickle.dumps({'W': Payload()}))\n")
    g = grade(public, "digits-speedrun", raw, roles=("search",))
    assert not g.valid and "not a numpy .npz archive" in (g.reason or ""), g.reason
    assert not marker.exists()


def test_speedrun_misses_are_scored_as_the_time_limit_on_hidden_roles(public: dict[str, tuple[ProgramTask, Path]]) -> None:
    """A model below the target is refused on search, and costs the time limit on val and test."""
    task, folder = public["digits-speedrun"]
    artefacts = Path(tempfile.mkdtemp(prefix="airlab-test-artefacts-"))
    (artefacts / "train.py").write_text(tuned(task.starter_code, TUNED["digits-speedrun"]))
    candidate = Candidate(artefacts=artefacts, public=folder, limits=task.limits,
                          call_timeout=task.spec.call_timeout, scratch=Path(tempfile.mkdtemp()))
    from dataclasses import replace

    search, val = task.role_set("search", 0), task.role_set("val", 0)
    reached = task.evaluate(candidate, val)
    assert 0.0 < reached < 1.0
    with pytest.raises(Rejected, match=r"accuracy 0\.\d+ on the hidden rows is below the target 1\.00"):
        task.evaluate(candidate, replace(search, settings={"target_accuracy": 1.0}))
    assert task.evaluate(candidate, replace(val, settings={"target_accuracy": 1.0})) == task.limits.time_seconds
    assert len([k for k in candidate.cache if k == "training"]) == 1  # one training run for all


def test_speedrun_model_is_deterministic(public: dict[str, tuple[ProgramTask, Path]]) -> None:
    """The accuracy part of the score does not vary: two runs of train.py give the same arrays."""
    task, folder = public["digits-speedrun"]
    train = task.evaluate.__globals__["_train"]
    models = []
    for _ in range(2):
        artefacts = Path(tempfile.mkdtemp(prefix="airlab-test-artefacts-"))
        (artefacts / "train.py").write_text(tuned(task.starter_code, TUNED["digits-speedrun"]))
        candidate = Candidate(artefacts=artefacts, public=folder, limits=task.limits,
                              call_timeout=task.spec.call_timeout, scratch=Path(tempfile.mkdtemp()))
        outcome = train(candidate)
        assert 0.05 < outcome["cpu_seconds"] < 2.0
        models.append(outcome["model"])
    assert models[0].keys() == models[1].keys() == {"W1", "b1", "W2", "b2"}
    assert all(np.array_equal(models[0][k], models[1][k]) for k in models[0])


def test_cpu_time_counts_helpers_nobody_reaps(public: dict[str, tuple[ProgramTask, Path]]) -> None:
    """Work handed to a detached helper that is never reaped (SIGCHLD ignored, the main process
    waits on a pipe) still counts: the sandbox's CPU time is the kernel's count for every process
    that ran in it, not what wait4 collects."""
    task = public["digits-speedrun"][0]
    code = textwrap.dedent("""
        import os, signal, time
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel, unaccounted
        done_r, done_w = os.pipe()
        if os.fork() == 0:
            os.setsid()
            t = time.process_time()
            while time.process_time() - t < 1.0:  # a detached helper burns 1 s of CPU
                pass
            os.write(done_w, b"x")
            os._exit(0)
        os.read(done_r, 1)
    """) + tuned(task.starter_code, TUNED["digits-speedrun"]).split("if __name__ == \"__main__\":")[0] + textwrap.dedent("""
        x, y = load("train.csv")
        np.savez("model.npz", **train(x, y))
    """)
    g = grade(public, "digits-speedrun", code, roles=("search",))
    assert g.valid, g.reason
    assert g.scores["search"] > 1.0


# -- a hostile candidate --------------------------------------------------------------------------
def _hunt(hidden: list[str]) -> str:
    """Code that looks everywhere for the evaluator, the task files and the hidden data."""
    return textwrap.dedent(f"""
        import os

        def _hunt():
            found = []
            for path in {hidden!r}:  # even knowing the host paths
                try:
                    with open(path, "rb") as handle:
                        if handle.read(100):
                            found.append(path)
                except OSError:
                    pass
                if os.path.isdir(path) and os.listdir(path):
                    found.append(path)
            for root, dirs, files in os.walk("/"):
                if root == "/":
                    dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
                for name in files:
                    path = os.path.join(root, name)
                    try:
                        if name in ("evaluator.py", "task.yaml"):
                            text = open(path, errors="replace").read(200_000)
                            if "def evaluate(candidate" in text or "kind: program" in text:
                                found.append(path)
                        elif name in ("digits.csv.gz", "digits.rst.gz") and os.path.getsize(path) > 0:
                            found.append(path)
                    except OSError:
                        pass
            for pid in os.listdir("/proc"):
                if not pid.isdigit() or int(pid) == os.getpid():
                    continue
                for part in ("cmdline", "environ"):
                    try:
                        text = open(f"/proc/{{pid}}/{{part}}", "rb").read().decode(errors="replace")
                    except OSError:
                        continue
                    if any(s in text for s in ("tasks/suite", "evaluator.py", "task.yaml", "digits.csv")):
                        found.append(f"/proc/{{pid}}/{{part}}: " + text.replace(chr(0), " ")[:300])
            return found

        _FOUND = _hunt()
        if _FOUND:
            raise RuntimeError("found " + repr(_FOUND))
    """)


@pytest.mark.parametrize("name", TASKS)
def test_a_hostile_candidate_finds_nothing(public: dict[str, tuple[ProgramTask, Path]], name: str) -> None:
    task = public[name][0]
    from sklearn import datasets

    data = Path(datasets.__file__).parent / "data"
    hidden = [str(task.folder / "evaluator.py"), str(task.folder / "task.yaml"), str(task.folder),
              str(SUITE), str(data / "digits.csv.gz"), str(data)]
    assert all(Path(p).exists() for p in hidden)  # they are there, outside the sandbox
    normal = {"bin-packing": PACKING_BEST_FIT, "cartpole": CARTPOLE_GOOD,
              "digits-speedrun": tuned(task.starter_code, TUNED[name])}[name]
    if name == "digits-speedrun":  # train.py runs as a script: hunt first, then train
        code = _hunt(hidden).replace("raise RuntimeError", "raise SystemExit") + normal
    else:
        code = _hunt(hidden) + normal
    g = grade(public, name, code, roles=("search",))
    assert g.valid, g.reason  # the hunt found nothing, so the candidate went on normally
    text = repr(g)
    assert not any(p in text for p in hidden)
