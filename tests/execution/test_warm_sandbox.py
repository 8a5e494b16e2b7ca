"""What only a reused warm worker could break: its read-only inputs, state leaking from one job to
the next, a candidate killing its worker, concurrency, and the real CLI path. The core's invariant
checks (hostile label hunt, socket, memory/time bombs, grandchildren, output flood) run against the
warm sandbox too, parametrized in test_sandbox_invariants.py."""

from __future__ import annotations

import json
import shutil
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest

from airlab.execution.candidate import judge
from airlab.execution.sandbox import RunResult, SandboxJob, make_sandbox
from airlab.execution.warm import WarmBubblewrapSandbox
from airlab.tasks import load_task
from airlab.tasks.spec import Limits
from tests.conftest import run_json, view_folders
from tests.execution.conftest import run

pytestmark = pytest.mark.usefixtures("bubblewrap")  # fails, naming it, when bubblewrap is missing


def last_json(result: RunResult) -> dict:
    assert result.exit_code == 0, result.stderr_tail
    return json.loads(result.stdout_tail.strip().splitlines()[-1])


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
    evaluation = task.evaluation(tmp_path, 0)
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
        view = evaluation.views[0]
        jobs = [view.job(code, tmp_path / f"node{i}", task.limits) for i in range(2)]
        results: dict[int, RunResult] = {}
        threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, sandbox.run(jobs[i])))
                   for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sandbox.workers == 2
        for i, job in enumerate(jobs):
            result = results[i]
            outcome = judge(result, job, view, job.log_dir, task.limits)
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
        assert (run_dir / "nodes" / f"{node_id:04d}" / "solution.py").exists()
        assert all((view / "stdout.txt").exists() for view in view_folders(run_dir, node_id))
    # no zygote outlives the run (zygotes of other runs on the machine have a live harness above them)
    deadline = time.monotonic() + 10
    while _orphans(_zygote_pids() - before) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _orphans(_zygote_pids() - before) == set()


def _orphans(pids: set[int]) -> set[int]:
    """The zygotes with no harness left above them: only bubblewrap and the machine's init."""
    orphans = set()
    for pid in pids:
        try:
            parents = psutil.Process(pid).parents()
        except psutil.Error:
            continue
        if all(p.pid == 1 or p.name().startswith("bwrap") for p in parents):
            orphans.add(pid)
    return orphans
