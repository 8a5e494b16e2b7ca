"""Invariant 3: candidate code gets a clean environment, no network, nothing writable but its
workspace, nothing of the harness or the user's home visible; its whole process tree dies at its
limits. Every test goes through the real sandbox."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest

from airlab.execution.sandbox import BubblewrapSandbox, PlainSandbox, Sandbox
from tests.conftest import require_bubblewrap
from tests.execution.conftest import run

needs_bwrap = pytest.mark.usefixtures("bubblewrap")  # fails, naming it, when bubblewrap is missing
ISOLATED = ["bwrap", "warm"]  # the sandboxes that promise full isolation
ALL = ["bwrap", "warm", "plain"]


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """The sandbox named by the test's ``kind`` parameter (failing without bubblewrap)."""
    kind = request.param
    if kind != "plain":
        require_bubblewrap()
    if kind == "warm":
        return request.getfixturevalue("warm")  # type: ignore[no-any-return]
    return BubblewrapSandbox() if kind == "bwrap" else PlainSandbox()


HOSTILE = r'''
import json, os, sys
found = {"env": {k: v for k, v in os.environ.items()}, "hits": [], "listing_errors": 0}
canary = CANARY
for root, dirs, files in os.walk("/"):
    if root.startswith(("/proc", "/sys", "/dev", "/usr")) or "site-packages" in root:
        dirs[:] = []
        continue
    for name in files:
        path = os.path.join(root, name)
        try:
            if os.path.getsize(path) < 2_000_000:
                with open(path, "rb") as f:
                    if canary.encode() in f.read():
                        found["hits"].append(path)
        except OSError:
            found["listing_errors"] += 1
try:
    from sklearn.datasets import load_iris
    load_iris()
    found["dataset"] = "readable"
except Exception as exc:
    found["dataset"] = type(exc).__name__
found["home"] = os.path.expanduser("~")
found["can_see_root_home"] = os.path.exists("/root/.bashrc") or os.path.exists("/root/.cache")
print(json.dumps(found))
'''


@pytest.mark.parametrize("sandbox", ISOLATED, indirect=True)
def test_hostile_candidate_finds_nothing(sandbox: Sandbox, run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    canary = f"CANARY-{uuid.uuid4().hex}"
    # the harness's own files, the user's home and the environment all hold the canary
    (run_dir / "hidden_note.txt").write_text(canary)
    home_file = Path.home() / f".airlab-canary-{uuid.uuid4().hex[:6]}"
    home_file.write_text(canary)
    monkeypatch.setenv("OPENAI_API_KEY", canary)
    monkeypatch.setenv("AIRLAB_SECRET", canary)
    try:
        # the script holds the canary in two halves, so its own file is no hit
        half = len(canary) // 2
        split = f"{canary[:half]!r} + {canary[half:]!r}"
        result, _ = run(sandbox, run_dir, HOSTILE.replace("CANARY", split))
    finally:
        home_file.unlink()
    assert result.exit_code == 0, result.stderr_tail
    found = json.loads(result.stdout_tail.strip().splitlines()[-1])
    assert found["hits"] == []
    assert canary not in json.dumps(found["env"])
    assert "OPENAI_API_KEY" not in found["env"]
    assert found["dataset"] != "readable"  # packaged datasets (the labels) are masked
    assert not found["can_see_root_home"]
    assert result.sandbox == sandbox.name


@needs_bwrap
def test_workspace_inputs_are_read_only_and_system_is_read_only(run_dir: Path) -> None:
    code = r'''
import os
results = {}
for path in ["train.csv", "/usr/bin/evil", "/etc/evil", "/workspace/../evil"]:
    try:
        with open(path, "a") as f:
            f.write("x")
        results[path] = "written"
    except OSError as exc:
        results[path] = "refused"
open("scratch.txt", "w").write("mine")
print(results)
'''
    result, _ = run(BubblewrapSandbox(), run_dir, code)
    assert result.exit_code == 0, result.stderr_tail
    assert "written" not in result.stdout_tail
    assert "train.csv': 'refused'" in result.stdout_tail


@pytest.mark.parametrize("sandbox", ISOLATED, indirect=True)
def test_socket_fails(sandbox: Sandbox, run_dir: Path) -> None:
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
import socket
for host in ["127.0.0.1", "8.8.8.8", "pypi.org"]:
    try:
        socket.create_connection((host, {port} if host == "127.0.0.1" else 443), timeout=3)
        print("CONNECTED", host)
    except OSError as exc:
        print("blocked", host, type(exc).__name__)
'''
    result, _ = run(sandbox, run_dir, code)
    server.close()
    assert "CONNECTED" not in result.stdout_tail
    assert result.stdout_tail.count("blocked") == 3
    assert not accepted


@pytest.mark.parametrize("sandbox", ALL, indirect=True)
def test_memory_bomb_is_killed(sandbox: Sandbox, run_dir: Path) -> None:
    code = "import time\nblocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))\n    time.sleep(0.01)\n"
    result, _ = run(sandbox, run_dir, code, memory_mb=300)
    assert result.limit_hit == "memory"
    assert result.exit_code != 0


@pytest.mark.parametrize("sandbox", ALL, indirect=True)
def test_time_bomb_and_grandchildren_are_killed(sandbox: Sandbox, run_dir: Path) -> None:
    token = f"grandchild-{uuid.uuid4().hex}"
    code = f'''
import os, subprocess, sys, time
# a child that double-forks a session-leading grandchild, then the parent spins forever
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
    result, _ = run(sandbox, run_dir, code, time_seconds=3)
    assert result.limit_hit == "time"
    assert time.monotonic() - start < 20
    time.sleep(0.5)
    survivors = [p for p in psutil.process_iter(["cmdline"]) if token in " ".join(p.info["cmdline"] or [])]
    assert survivors == []


def test_clean_environment_in_plain_mode(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-secret-value")
    code = "import os, json; print(json.dumps(dict(os.environ)))"
    result, _ = run(PlainSandbox(), run_dir, code)
    env = json.loads(result.stdout_tail.strip().splitlines()[-1])
    assert "ANTHROPIC_API_KEY" not in env and "sk-secret-value" not in json.dumps(env)
    assert env["OMP_NUM_THREADS"] == "1"
    assert env["HOME"] != os.environ.get("HOME")


@pytest.mark.parametrize("sandbox", ALL, indirect=True)
def test_output_flood_is_cut(sandbox: Sandbox, run_dir: Path) -> None:
    code = "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n"
    result, job = run(sandbox, run_dir, code, output_mb=2)
    assert result.limit_hit == "output"
    assert (job.log_dir / "stdout.txt").stat().st_size < 50 * 1024 * 1024
    assert len(result.stdout_tail) <= 4001
