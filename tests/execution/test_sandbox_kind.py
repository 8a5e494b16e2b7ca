"""One meaning of ``--sandbox auto``: runs, ``airlab eval``, Ray workers and the ReAct tools all get
the sandbox :func:`resolve_sandbox_kind` names, and every result says which sandbox ran. The Ray
task path is checked for real in test_ray_executor.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from airlab import api
from airlab.coders.base import make_coder
from airlab.coders.llm.react import ReActCoder, Workbench
from airlab.errors import AirlabError
from airlab.evaluation import evaluate_script
from airlab.execution import ray_executor, sandbox
from airlab.execution.executor import LocalExecutor, sandbox_label
from airlab.execution.sandbox import (
    PlainSandbox,
    SandboxJob,
    bubblewrap_works,
    resolve_sandbox_kind,
)
from airlab.rundir import RunConfig
from airlab.tasks.spec import Limits

AUTO = "warm" if bubblewrap_works() else "plain"
SCRIPT = """import pandas as pd
train = pd.read_csv("train.csv")
test = pd.read_csv("predict.csv")
label = train["species"].mode()[0]
pd.DataFrame({"id": test["id"], "species": label}).to_csv("submission.csv", index=False)
"""


def test_auto_resolves_to_warm_where_bubblewrap_works(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_sandbox_kind("auto") == AUTO
    for kind in ("warm", "bwrap", "plain"):
        assert resolve_sandbox_kind(kind) == kind
    with pytest.raises(AirlabError, match="unknown sandbox 'docker'"):
        resolve_sandbox_kind("docker")
    monkeypatch.setattr(sandbox, "bubblewrap_works", lambda bwrap="bwrap": False)
    assert resolve_sandbox_kind("auto") == "plain"


def _react_coder(tmp_path: Path, kind: str = "auto") -> ReActCoder:
    coder = make_coder("openai:gpt-4.1-mini", {
        "base_url": "http://127.0.0.1:9/v1", "cache": False, "max_retries": 0, "operator_mode": "react",
        "public_dir": str(tmp_path), "sandbox": kind})
    assert isinstance(coder, ReActCoder)
    return coder


def test_every_consumer_of_auto_gets_the_same_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ray_executor._worker_sandbox.cache_clear()
    made = [
        api.make_executor(RunConfig(task="iris")).sandbox,  # type: ignore[attr-defined]
        _react_coder(tmp_path).sandbox,
        ray_executor._worker_sandbox("auto"),
    ]
    try:
        assert [s.name for s in made] == [AUTO] * 3
    finally:
        for made_sandbox in made:
            getattr(made_sandbox, "close", lambda: None)()
        ray_executor._worker_sandbox.cache_clear()
    # and where bubblewrap does not work, all of them fall back to the same plain sandbox
    monkeypatch.setattr(sandbox, "bubblewrap_works", lambda bwrap="bwrap": False)
    with pytest.warns(RuntimeWarning, match="bubblewrap"):
        fallbacks = [api.make_executor(RunConfig(task="iris")).sandbox,  # type: ignore[attr-defined]
                     _react_coder(tmp_path).sandbox, ray_executor._worker_sandbox("auto")]
    ray_executor._worker_sandbox.cache_clear()
    assert all(isinstance(s, PlainSandbox) for s in fallbacks)


def test_eval_and_run_name_the_sandbox_that_ran(tmp_path: Path) -> None:
    evaluated = evaluate_script("iris", SCRIPT)
    assert evaluated.status == "ok", evaluated.error
    assert evaluated.sandbox == AUTO
    result = api.run(RunConfig(task="iris", budget_nodes=1, seed=3), out=tmp_path / "runs")
    assert result.n_nodes == 1 and result.sandbox == AUTO


def test_sandbox_label_reports_what_ran(tmp_path: Path) -> None:
    executor = LocalExecutor(workers=1, sandbox=PlainSandbox())
    assert sandbox_label(executor, "auto") == "plain"  # nothing ran yet: the executor's own sandbox
    job = SandboxJob(code="print('hi')", input_files={}, workdir=tmp_path / "ws",
                     limits=Limits.model_validate({"time_seconds": 30}), log_dir=tmp_path / "logs")
    assert executor.submit(job).result().sandbox == "plain"
    executor.shutdown()
    assert sandbox_label(executor, "auto") == "plain"

    class Remote:  # an executor without a sandbox of its own (Ray): what its jobs reported
        def __init__(self, used: set[str]):
            self.sandboxes_used = used

    assert sandbox_label(Remote({"warm", "bwrap"}), "auto") == "bwrap+warm"
    assert sandbox_label(Remote(set()), "auto") == "auto"


def test_react_steps_share_their_workspace_in_every_sandbox(tmp_path: Path, run_dir: Path) -> None:
    """A ReAct node's steps build on each other's files, in the warm sandbox as in a cold one."""
    from airlab.coders.llm.react import Action

    bench_sandbox = sandbox.make_sandbox("auto")
    try:
        bench = Workbench(root=tmp_path / "node", public_dir=run_dir / "public", sandbox=bench_sandbox,
                          limits=Limits.model_validate({"time_seconds": 60, "memory_mb": 1024}))
        first = bench.call(Action("run_python", {"code": "open('note.txt', 'w').write('from step one')"}))
        assert first.exit_code == 0, first.observation
        second = bench.call(Action("run_python", {"code": "print(open('note.txt').read(), len(open('train.csv').read()) > 0)"}))
        assert "from step one True" in second.observation
        third = bench.call(Action("run_shell", {"command": "cat note.txt"}))
        assert "from step one" in third.observation
        assert (bench.workspace / "note.txt").read_text() == "from step one"
        assert not (bench.workspace / "train.csv").exists()  # the inputs are not left behind
    finally:
        getattr(bench_sandbox, "close", lambda: None)()

