"""Warm workers keep the core's isolation: the invariant checks of test_sandbox_invariants.py,
run against :class:`WarmBubblewrapSandbox`, plus what only a reused worker could break (state
leaking from one job to the next, a candidate killing its worker) and the real CLI path."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from airlab.execution.candidate import judge, make_job
from airlab.execution.sandbox import RunResult, SandboxJob, bubblewrap_works, make_sandbox
from airlab.execution.warm import WarmBubblewrapSandbox
from airlab.tasks import load_task
from airlab.tasks.grader import Grader
from airlab.tasks.spec import Limits
from airlab.tasks.splits import make_splits
from airlab.tasks.workspace import write_public_files
from tests.conftest import run_json
from tests.execution.test_sandbox_invariants import HOSTILE

pytestmark = pytest.mark.skipif(not bubblewrap_works(), reason="bubblewrap is not usable here")


@pytest.fixture(scope="module")
def warm() -> Iterator[WarmBubblewrapSandbox]:
    """One sandbox for the module: most checks then also run on a reused zygote."""
    sandbox = WarmBubblewrapSandbox()
    yield sandbox
    sandbox.close()
    assert not sandbox.root.exists()


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    task = load_task("iris")
    write_public_files(task, make_splits(task, 0), tmp_path / "public")
    return tmp_path


def run(sandbox: WarmBubblewrapSandbox, run_dir: Path, code: str, **limits: float) -> tuple[RunResult, SandboxJob]:
    node = run_dir / "nodes" / uuid.uuid4().hex[:8]
    job = make_job(code, run_dir / "public", node, Limits.model_validate({"time_seconds": 60, "memory_mb": 1024, **limits}))
    return sandbox.run(job), job


def last_json(result: RunResult) -> dict:
    assert result.exit_code == 0, result.stderr_tail
    return json.loads(result.stdout_tail.strip().splitlines()[-1])


def test_hostile_candidate_finds_nothing(warm: WarmBubblewrapSandbox, run_dir: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    canary = f"CANARY-{uuid.uuid4().hex}"
    (run_dir / "hidden_note.txt").write_text(canary)
    home_file = Path.home() / f".airlab-canary-{uuid.uuid4().hex[:6]}"
    home_file.write_text(canary)
    monkeypatch.setenv("OPENAI_API_KEY", canary)
    monkeypatch.setenv("AIRLAB_SECRET", canary)
    try:
        half = len(canary) // 2
        split = f"{canary[:half]!r} + {canary[half:]!r}"
        result, _ = run(warm, run_dir, HOSTILE.replace("CANARY", split))
    finally:
        home_file.unlink()
    found = last_json(result)
    assert found["hits"] == []
    assert canary not in json.dumps(found["env"])
    assert "OPENAI_API_KEY" not in found["env"]
    assert found["dataset"] != "readable"
    assert not found["can_see_root_home"]
    assert result.sandbox == "warm"


def test_inputs_and_system_are_read_only(warm: WarmBubblewrapSandbox, run_dir: Path) -> None:
    code = r'''
import os
results = {}
for path in ["train.csv", "/inputs/train.csv", "/inputs/new.csv", "/usr/bin/evil", "/etc/evil",
             "/workspace/../evil"]:
    try:
        with open(path, "a") as f:
            f.write("x")
        results[path] = "written"
    except OSError as exc:
        results[path] = "refused"
try:
    os.chmod("train.csv", 0o666)
    results["chmod"] = "done"
except OSError:
    results["chmod"] = "refused"
open("scratch.txt", "w").write("mine")
print(results)
'''
    result, job = run(warm, run_dir, code)
    assert result.exit_code == 0, result.stderr_tail
    assert "written" not in result.stdout_tail and "done" not in result.stdout_tail
    assert "train.csv': 'refused'" in result.stdout_tail
    # the public files are intact; what the job wrote is in its node's workspace
    public = (run_dir / "public" / "train.csv").read_text()
    assert not public.endswith("x")
    assert (job.workdir / "scratch.txt").read_text() == "mine"
    assert (job.workdir / "solution.py").read_text() == code


def test_socket_fails(warm: WarmBubblewrapSandbox, run_dir: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    accepted: list[object] = []

    def serve() -> None:
        deadline = time.time() + 30
        while time.time() < deadline and not accepted:
            try:
                accepted.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    code = f'''
import shutil
import socket
for host in ["127.0.0.1", "8.8.8.8", "pypi.org"]:
    try:
        socket.create_connection((host, {port} if host == "127.0.0.1" else 443), timeout=3)
        print("CONNECTED", host)
    except OSError as exc:
        print("blocked", host, type(exc).__name__)
'''
    result, _ = run(warm, run_dir, code)
    server.close()
    assert "CONNECTED" not in result.stdout_tail
    assert result.stdout_tail.count("blocked") == 3
    assert not accepted


def test_memory_bomb_is_killed(warm: WarmBubblewrapSandbox, run_dir: Path) -> None:
    code = "import time\nblocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))\n    time.sleep(0.01)\n"
    result, _ = run(warm, run_dir, code, memory_mb=300)
    assert result.limit_hit == "memory"
    assert result.exit_code != 0


def test_time_bomb_and_grandchildren_are_killed(warm: WarmBubblewrapSandbox, run_dir: Path) -> None:
    token = f"grandchild-{uuid.uuid4().hex}"
    code = f'''
import os, subprocess, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", "{token}"])
    os._exit(0)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{token}"])
while True:
    pass
'''
    start = time.monotonic()
    result, _ = run(warm, run_dir, code, time_seconds=3)
    assert result.limit_hit == "time"
    assert time.monotonic() - start < 20
    time.sleep(0.5)
    survivors = [p for p in psutil.process_iter(["cmdline"]) if token in " ".join(p.info["cmdline"] or [])]
    assert survivors == []


def test_output_flood_is_cut(warm: WarmBubblewrapSandbox, run_dir: Path) -> None:
    code = "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n"
    result, job = run(warm, run_dir, code, output_mb=2)
    assert result.limit_hit == "output"
    assert (job.log_dir / "stdout.txt").stat().st_size < 50 * 1024 * 1024
    assert len(result.stdout_tail) <= 4001


def test_consecutive_jobs_share_nothing(warm: WarmBubblewrapSandbox, run_dir: Path) -> None:
    first = r'''
import json, os, subprocess, sys
import sklearn
sklearn.AIRLAB_LEFTOVER = "job one"
json.AIRLAB_LEFTOVER = "job one"
os.environ["AIRLAB_LEFTOVER"] = "job one"
sys.path.append("/workspace/job-one")
for path in ["leftover.txt", "/tmp/leftover.txt", "/dev/shm/leftover.txt"]:
    open(path, "w").write("job one")
os.makedirs("locked/inner")
os.chmod("locked", 0o000)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
print(json.dumps({"pid": os.getpid(), "parent": os.getppid()}))
'''
    second = r'''
import json, os, sys
import sklearn
print(json.dumps({
    "pid": os.getpid(), "parent": os.getppid(),
    "module": getattr(sklearn, "AIRLAB_LEFTOVER", None),
    "json": getattr(json, "AIRLAB_LEFTOVER", None),
    "env": os.environ.get("AIRLAB_LEFTOVER"),
    "path": [p for p in sys.path if "job-one" in p],
    "files": [p for p in ["leftover.txt", "/tmp/leftover.txt", "/dev/shm/leftover.txt", "locked"]
              if os.path.lexists(p)],
    "workspace": sorted(os.listdir(".")),
    "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "main": __name__, "argv": sys.argv, "cwd": os.getcwd(),
}))
'''
    result1, job1 = run(warm, run_dir, first)
    one = last_json(result1)
    starts = [z.starts for z in warm._zygotes]
    result2, _ = run(warm, run_dir, second)
    two = last_json(result2)
    assert [z.starts for z in warm._zygotes] == starts  # the same zygote served both jobs
    assert two["parent"] == one["parent"]  # ... forked from the same parent
    assert two["module"] is None and two["json"] is None and two["env"] is None
    assert two["path"] == [] and two["files"] == []
    assert two["workspace"] == sorted(["solution.py", "train.csv", "predict.csv",
                                       "sample_submission.csv", "description.md"])
    assert one["pid"] not in two["processes"] and len(two["processes"]) == 3  # init, zygote, job
    assert two["main"] == "__main__" and two["argv"] == ["/workspace/solution.py"]
    assert two["cwd"] == "/workspace"
    # job one's files went to its own node folder
    assert (job1.workdir / "leftover.txt").read_text() == "job one"


def test_exit_codes_and_tracebacks_as_a_cold_run(warm: WarmBubblewrapSandbox, run_dir: Path) -> None:
    result, _ = run(warm, run_dir, "import sys\nprint('bye')\nsys.exit(3)\n")
    assert result.exit_code == 3 and result.limit_hit is None and "bye" in result.stdout_tail
    result, _ = run(warm, run_dir, "import os\n\ndef f():\n    return 1 / 0\n\nf()\n")
    assert result.exit_code == 1
    assert result.stderr_tail.startswith("Traceback (most recent call last):")
    assert 'File "/workspace/solution.py", line 4, in f' in result.stderr_tail
    assert "runpy" not in result.stderr_tail and "ZeroDivisionError" in result.stderr_tail
    result, _ = run(warm, run_dir, "def broken(:\n")
    assert result.exit_code == 1 and "SyntaxError" in result.stderr_tail
    result, _ = run(warm, run_dir, "import atexit\natexit.register(print, 'at exit')\n")
    assert result.exit_code == 0 and "at exit" in result.stdout_tail


def test_candidate_that_kills_its_worker_fails_alone(warm: WarmBubblewrapSandbox, run_dir: Path) -> None:
    result, _ = run(warm, run_dir, "import os, signal, time\nos.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(30)\n")
    assert not result.ok and "warm worker" in result.stderr_tail
    result, _ = run(warm, run_dir, "print('fine')")
    assert result.ok and "fine" in result.stdout_tail


def test_a_real_candidate_grades_and_concurrent_jobs_get_own_workers(tmp_path: Path) -> None:
    task = load_task("iris")
    splits = make_splits(task, 0)
    write_public_files(task, splits, tmp_path / "public")
    code = '''
import pandas as pd, time
from sklearn.linear_model import LogisticRegression
train = pd.read_csv("train.csv")
test = pd.read_csv("predict.csv")
y = train.pop("species")
ids = test.pop("id")
model = LogisticRegression(max_iter=500).fit(train, y)
pd.DataFrame({"id": ids, "species": model.predict(test)}).to_csv("submission.csv", index=False)
time.sleep(1)
'''
    sandbox = WarmBubblewrapSandbox()
    try:
        jobs = [make_job(code, tmp_path / "public", tmp_path / f"node{i}", task.spec.limits) for i in range(2)]
        results: dict[int, RunResult] = {}
        threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, sandbox.run(jobs[i])))
                   for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sandbox.workers == 2
        grader = Grader(task, splits)
        for i, job in enumerate(jobs):
            result = results[i]
            outcome = judge(result, job.workdir, job.log_dir, grader, task.spec.limits)
            assert outcome.status.value == "ok", (outcome.error, result.stderr_tail)
    finally:
        sandbox.close()


def test_make_sandbox_warm() -> None:
    sandbox = make_sandbox("warm")
    assert isinstance(sandbox, WarmBubblewrapSandbox)
    node = sandbox.root.parent / f"airlab-test-{uuid.uuid4().hex[:8]}"
    try:
        assert sandbox.name == "warm"
        job = SandboxJob(code="print('hi')", input_files={}, workdir=node / "workspace",
                         limits=Limits.model_validate({}), log_dir=node)
        result = sandbox.run(job)
        assert result.ok and result.stdout_tail == "hi\n" and result.sandbox == "warm"
    finally:
        sandbox.close()
        shutil.rmtree(node, ignore_errors=True)


def _zygote_pids() -> set[int]:
    return {p.pid for p in psutil.process_iter(["cmdline"])
            if "PR_SET_DUMPABLE" in " ".join(p.info["cmdline"] or [])}


def test_cli_run_with_warm_workers(tmp_path: Path) -> None:
    before = _zygote_pids()
    result = run_json("run", "iris", "--sandbox", "warm", "--budget-nodes", "3", "--out", str(tmp_path))
    assert result["n_nodes"] == 3 and result["n_valid"] >= 1
    assert result["sandbox"] == "warm"
    run_dir = tmp_path / result["run_id"]
    for node_id in range(3):
        folder = run_dir / "nodes" / f"{node_id:04d}"
        assert (folder / "solution.py").exists() and (folder / "stdout.txt").exists()
    # no zygote outlives the run
    deadline = time.monotonic() + 10
    while _zygote_pids() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _zygote_pids() - before == set()
