"""The ReAct operator: scripted conversations through the real SDK against a local HTTP server,
with every tool call really executed in the sandbox, and one run through the real CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from airlab.coders.base import CoderError, make_coder
from airlab.coders.llm.react import ActionError, ReActCoder, Workbench, parse_action
from airlab.errors import AirlabError
from airlab.execution.sandbox import make_sandbox
from airlab.search.node import Node, NodeStatus, Operator
from airlab.tasks.loader import load_task
from airlab.tasks.prediction.splits import make_splits
from airlab.tasks.prediction.workspace import write_public_files
from tests.coders.llm.conftest import make_request
from tests.coders.llm.fake_server import Answer, FakeLLM, fake_llm, openai_body
from tests.conftest import AIRLAB

SECRET = "sk-react-test-SECRET-never-in-observations-41d7"

IRIS_SCRIPT = """import pandas as pd
from sklearn.linear_model import LogisticRegression

train = pd.read_csv('train.csv')
test = pd.read_csv('predict.csv')
X, y = train.drop(columns=['species']), train['species']
model = LogisticRegression(max_iter=1000).fit(X, y)
pred = model.predict(test.drop(columns=['id']))
pd.DataFrame({'id': test['id'], 'species': pred}).to_csv('submission.csv', index=False)
print('wrote', len(pred), 'rows')
"""


def call(tool: str, args: dict[str, Any] | None = None, thought: str = "", after: str = "",
         tokens: tuple[int, int] = (100, 20)) -> Answer:
    """A scripted model reply holding one tool call (and optionally a block after the JSON)."""
    obj = {"thought": thought or f"use {tool}", "tool": tool, "args": args or {}}
    text = f"Next I call {tool}.\n```json\n{json.dumps(obj)}\n```\n{after}"
    return Answer(200, openai_body(text, *tokens))


def text_reply(text: str, tokens: tuple[int, int] = (100, 20)) -> Answer:
    return Answer(200, openai_body(text, *tokens))


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with fake_llm() as server:
        yield server


@pytest.fixture(scope="module")
def public_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("public")
    task = load_task("iris")
    write_public_files(task, make_splits(task, None), folder)
    return folder


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    for var in ("AIRLAB_PRICES", "AIRLAB_REACT_MAX_STEPS", "AIRLAB_REACT_STEP_TIME_LIMIT", "AIRLAB_REACT_SANDBOX"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


def react_coder(fake: FakeLLM, tmp_path: Path, public_dir: Path, **options: Any) -> ReActCoder:
    coder = make_coder("openai:gpt-4.1-mini", {
        "base_url": f"{fake.url}/v1", "cache": False, "max_retries": 0, "operator_mode": "react",
        "public_dir": str(public_dir), "workspace_root": str(tmp_path / "react"), **options})
    assert isinstance(coder, ReActCoder)
    return coder


def tool_steps(transcript: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in transcript if t["role"] == "tool"]


def test_a_full_episode_runs_every_tool_for_real_and_submits(fake: FakeLLM, tmp_path: Path,
                                                             public_dir: Path) -> None:
    rows = len(pd.read_csv(public_dir / "train.csv"))
    fake.then(
        call("list_files", {"path": "."}, tokens=(300, 40)),
        call("preview_data", {"file": "train.csv"}),
        call("run_python", thought="check the shape and leave a note", after=(
            "```python\nimport pandas as pd\ndf = pd.read_csv('train.csv')\nprint('SHAPE', df.shape)\n"
            "open('notes.txt', 'w').write('hello from step 3')\n```")),
        call("run_shell", {"command": "ls; cat notes.txt; echo; env"}),
        call("run_python", {"code": "import time\ntime.sleep(30)\n"}),
        call("submit", {"plan": "logistic regression on all four measurements"}, after=f"```python\n{IRIS_SCRIPT}```",
             tokens=(900, 200)),
    )
    coder = react_coder(fake, tmp_path, public_dir, step_time_limit=2)
    proposal = coder.write(make_request())

    assert proposal.code == IRIS_SCRIPT and proposal.family == "linear"
    assert proposal.plan == "logistic regression on all four measurements"
    assert (proposal.tokens_in, proposal.tokens_out) == (300 + 4 * 100 + 900, 40 + 4 * 20 + 200)
    assert proposal.meta["llm"]["calls"] == 6 and len(fake.requests) == 6
    react = proposal.meta["react"]
    assert react["tool_calls"] == ["list_files", "preview_data", "run_python", "run_shell", "run_python", "submit"]
    assert react["submitted_at_step"] == 6 and react["step_time_limit"] == 2

    transcript = proposal.meta["transcript"]
    assert transcript[0]["role"] == "system" and "run_shell" in transcript[0]["content"]
    assert "## Data preview" in transcript[1]["content"] and "## Response format" not in transcript[1]["content"]
    steps = tool_steps(transcript)
    assert [s["step"] for s in steps] == [1, 2, 3, 4, 5, 6]
    obs = [s["observation"] for s in steps]
    assert "train.csv" in obs[0] and "(read-only input)" in obs[0]
    assert f"shape ({rows}, 5)" in obs[1] and "species" in obs[1]
    assert steps[2]["exit_code"] == 0 and f"SHAPE ({rows}, 5)" in obs[2]  # really executed
    assert "notes.txt" in obs[3] and "hello from step 3" in obs[3]  # the workspace persists across steps
    assert "PATH=" in obs[3] and "OPENAI_API_KEY" not in obs[3]  # the sandbox env is clean
    assert "AIRLAB_SANDBOX_TOKEN=…" in obs[3]  # random per run: hidden so replays hit the cache
    # the sleeping step was stopped at its limit (how long the whole loop takes is the machine's speed)
    assert steps[4]["limit_hit"] == "time" and "TIMEOUT" in obs[4] and steps[4]["seconds"] < 10
    # the observation of each step went back to the model as the next user message
    sent = fake.requests[3]["messages"]
    assert sent[-1]["role"] == "user" and f"SHAPE ({rows}, 5)" in sent[-1]["content"]
    # no secret of the harness anywhere in what the agent saw, and the scratch workspace is gone
    assert all(SECRET not in json.dumps(r) for r in fake.requests)
    assert SECRET not in json.dumps(proposal.meta)
    assert list((tmp_path / "react").iterdir()) == []


def test_the_step_cap_asks_once_then_fails_with_no_usable_code(fake: FakeLLM, tmp_path: Path,
                                                               public_dir: Path) -> None:
    parent = Node(id=2, operator=Operator.DRAFT, plan="knn", code="import pandas\nboom()\n",
                  status=NodeStatus.BUGGY, error="exit code 1:\nNameError: name 'boom' is not defined")
    fake.then(text_reply("Let me think about the data first."), call("list_files"),
              text_reply("I am not sure what to do next."))
    with pytest.raises(CoderError, match="used its 2 steps without a submit") as info:
        react_coder(fake, tmp_path, public_dir, max_steps=2).write(make_request(Operator.DEBUG, [parent]))
    err: Any = info.value
    assert len(fake.requests) == 3 and err.tokens_in == 300 and err.tokens_out == 60
    steps = tool_steps(err.meta["transcript"])
    assert [s["tool"] for s in steps] == ["(none)", "list_files"]
    assert "could not be used" in steps[0]["observation"]
    # the debug operator's sections are the task statement
    task = fake.requests[0]["messages"][1]["content"]
    assert "## Buggy solution" in task and "boom()" in task and "## How to work" in task
    assert "used all 2 steps" in fake.requests[2]["messages"][-1]["content"]

    # a bare script in reply to the final ask is taken as the submission
    fake.then(call("list_files"), text_reply(f"Here is the final script.\n```python\n{IRIS_SCRIPT}```"))
    proposal = react_coder(fake, tmp_path, public_dir, max_steps=1).write(make_request(seed=11))
    assert proposal.code == IRIS_SCRIPT and proposal.meta["react"]["submitted_at_step"] == 2


def test_reads_stay_inside_the_workspace(tmp_path: Path, public_dir: Path) -> None:
    from airlab.coders.llm.react import Action

    bench = Workbench(root=tmp_path / "node", public_dir=public_dir, sandbox=make_sandbox("auto"),
                      limits=make_request().limits.model_copy(update={"time_seconds": 20}), secrets=[SECRET])
    made = bench.call(Action("run_shell", {"command": "ln -s /etc/hostname host && mkdir d && echo hi > d/a.txt"}))
    assert made.exit_code == 0, made.observation
    assert "outside the workspace" in bench.call(Action("read_file", {"path": "host"})).observation
    assert "outside the workspace" in bench.call(Action("read_file", {"path": "../../etc/passwd"})).observation
    assert bench.call(Action("read_file", {"path": "d/a.txt"})).observation == "hi\n"
    assert bench.call(Action("read_file", {"path": "/workspace/d/a.txt"})).observation == "hi\n"
    assert "sepal length" in bench.call(Action("read_file", {"path": "train.csv", "max_chars": 200})).observation
    listing = bench.call(Action("list_files", {})).observation
    assert "host -> /etc/hostname" in listing and "d/a.txt" in listing
    assert "bad arguments" in bench.call(Action("read_file", {"file": "x"})).observation
    # the public files cannot be changed from the sandbox
    wrote = bench.call(Action("run_shell", {"command": "echo x > train.csv"}))
    assert wrote.exit_code != 0 and (public_dir / "train.csv").read_text().startswith("sepal")
    # a secret of the harness is never echoed, even if a file holds it
    (bench.workspace / "leak.txt").write_text(f"key={SECRET}\n")
    assert SECRET not in bench.call(Action("read_file", {"path": "leak.txt"})).observation


def test_parse_action_reply_shapes() -> None:
    fenced = parse_action('Plan.\n```json\n{"thought": "t", "tool": "run_shell", "args": {"command": "ls"}}\n```')
    assert (fenced.tool, fenced.args, fenced.thought) == ("run_shell", {"command": "ls"}, "t")
    bare = parse_action('I will look. {"action": "list_files", "arguments": {"path": "."}}')
    assert (bare.tool, bare.args) == ("list_files", {"path": "."})
    code_after = parse_action(f'```json\n{{"tool": "submit", "args": {{}}}}\n```\n```python\n{IRIS_SCRIPT}```')
    assert code_after.args["code"] == IRIS_SCRIPT
    raw_newlines = parse_action('```json\n{"tool": "run_python", "args": {"code": "import os\nprint(1)"}}\n```')
    assert raw_newlines.args["code"] == "import os\nprint(1)"
    with pytest.raises(ActionError, match="unknown tool 'browse'"):
        parse_action('```json\n{"tool": "browse", "args": {}}\n```')
    with pytest.raises(ActionError, match="no ```json tool call"):
        parse_action(f"```python\n{IRIS_SCRIPT}```")
    assert parse_action(f"Final.\n```python\n{IRIS_SCRIPT}```", allow_bare_code=True).tool == "submit"
    with pytest.raises(ActionError, match="no ```json block"):
        parse_action("just prose")


def test_options_are_checked(fake: FakeLLM, tmp_path: Path, public_dir: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AirlabError, match="needs the run's public folder"):
        make_coder("openai:m", {"base_url": f"{fake.url}/v1", "operator_mode": "react"})
    with pytest.raises(AirlabError, match="bad react option max_steps"):
        react_coder(fake, tmp_path, public_dir, max_steps=0)
    monkeypatch.setenv("AIRLAB_REACT_MAX_STEPS", "3")
    monkeypatch.setenv("AIRLAB_REACT_STEP_TIME_LIMIT", "5000")
    coder = react_coder(fake, tmp_path, public_dir)
    assert coder.react.max_steps == 3
    fake.then(call("submit", {"code": IRIS_SCRIPT}))
    proposal = coder.write(make_request())
    assert proposal.meta["react"]["step_time_limit"] == 300  # never above the task's per-node limit


def test_airlab_run_with_the_react_operator(fake: FakeLLM, tmp_path: Path) -> None:
    write_solution = "open('solution.py', 'w').write(" + repr(IRIS_SCRIPT) + ")\n"
    fake.then(  # the engine writes nodes one at a time, so the script is consumed in order
        call("preview_data", {"file": "train.csv"}),
        call("run_python", {"code": write_solution}),
        call("run_shell", {"command": "python solution.py && head -3 submission.csv"}),
        call("submit", {"path": "solution.py", "plan": "logistic regression"}),
        call("list_files"),
        call("submit", {"code": IRIS_SCRIPT.replace("LogisticRegression(max_iter=1000)",
                                                    "LogisticRegression(C=0.5, max_iter=1000)")}),
    )
    env = {**os.environ, "OPENAI_API_KEY": SECRET, "AIRLAB_LLM_CACHE": "0",
           "AIRLAB_REACT_WORKSPACE_ROOT": str(tmp_path / "react"), "AIRLAB_REACT_STEP_TIME_LIMIT": "30"}
    out = tmp_path / "runs"
    cmd = [*AIRLAB, "run", "iris", "--coder", "openai:fake", "--base-url", f"{fake.url}/v1", "--operator", "react",
           "--budget-nodes", "2", "--out", str(out), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    result = json.loads(done.stdout[done.stdout.index("{\n"):])
    assert result["n_nodes"] == 2 and len(fake.requests) == 6
    run_dir = out / result["run_id"]
    with sqlite3.connect(run_dir / "journal.sqlite") as db:
        nodes = [json.loads(row[0]) for row in db.execute("SELECT data FROM nodes ORDER BY id")]
    assert [n["status"] for n in nodes] == ["ok", "ok"], [(n["status"], n["error"]) for n in nodes]
    first, second = nodes
    assert first["code"] == IRIS_SCRIPT and first["plan"] == "logistic regression"
    assert "C=0.5" in second["code"] and all(n["search_score"] > 0.5 for n in nodes)
    steps = tool_steps(first["meta"]["transcript"])
    assert [s["tool"] for s in steps] == ["preview_data", "run_python", "run_shell", "submit"]
    assert steps[2]["exit_code"] == 0 and "wrote" in steps[2]["observation"]
    assert first["tokens_in"] == 400 and second["meta"]["react"]["tool_calls"] == ["list_files", "submit"]
    assert list((tmp_path / "react").iterdir()) == []
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
