"""Real runs for the report tests: a small offline run and a run with every failure kind."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from airlab import api
from airlab.coders.base import CodeRequest, CoderError, Proposal, register_coder
from airlab.rundir import RunConfig

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"

# One script per node id: a valid one, then each way a node can go wrong.
SCRIPTS: dict[int, tuple[str, str]] = {
    0: ("copy the sample submission", "import shutil\nshutil.copy('sample_submission.csv', 'submission.csv')\n"),
    1: ("crash on purpose", "raise RuntimeError('scripted crash')\n"),
    2: ("sleep past the time limit", "import time\ntime.sleep(60)\n"),
    3: ("write a bad submission", "open('submission.csv', 'w').write('id,nonsense\\n1,2\\n')\n"),
}


class ScriptedCoder:
    """Returns fixed scripts by node id; node 4 (and later) gets no code at all."""

    name = "scripted"

    def write(self, request: CodeRequest) -> Proposal:
        if request.node_id not in SCRIPTS:
            raise CoderError("scripted: no script for this node")
        plan, code = SCRIPTS[request.node_id]
        return Proposal(plan=plan, code=code, family="scripted", tokens_in=10, tokens_out=20, cost_usd=0.001)


@register_coder("scripted")
def _make_scripted(model: str, options: dict[str, object]) -> ScriptedCoder:
    return ScriptedCoder()


def first_run(out: Path) -> Path:
    (run_dir,) = [p for p in out.iterdir() if (p / "journal.sqlite").exists()]
    return run_dir


@pytest.fixture(scope="session")
def iris_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real offline run with drafts and improvements (so there are diffs against parents)."""
    out = tmp_path_factory.mktemp("iris_runs")
    config = RunConfig(task="iris", agent_params={"num_drafts": 2}, budget_nodes=4, sandbox="auto")
    result = api.run(config, out=out)
    return out / result.run_id


@pytest.fixture(scope="session")
def scripted_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run with an ok, a buggy, a timed-out, an invalid and a failed node."""
    out = tmp_path_factory.mktemp("scripted_runs")
    config = RunConfig(task="iris", coder="scripted", budget_nodes=5, time_limit=3,
                       agent_params={"num_drafts": 5})
    result = api.run(config, out=out)
    return out / result.run_id


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


PACED_SCRIPT = "import shutil, time\ntime.sleep({pause})\nshutil.copy('sample_submission.csv', 'submission.csv')\n"


class PacedCoder:
    """Valid but slow scripts, so a test can watch a run while it is in progress."""

    name = "paced"

    def __init__(self, pause: float):
        self.pause = pause

    def write(self, request: CodeRequest) -> Proposal:
        return Proposal(plan=f"paced node {request.node_id}", code=PACED_SCRIPT.format(pause=self.pause),
                        family=["linear", "trees", "svm"][request.node_id % 3])


@register_coder("paced")
def _make_paced(model: str, options: dict[str, object]) -> PacedCoder:
    return PacedCoder(float(model or 1.0))


class BackgroundRun(threading.Thread):
    """``api.run`` in a thread; ``error`` holds what it raised, if anything."""

    def __init__(self, out: Path, nodes: int = 5, pause: float = 1.0):
        super().__init__(daemon=True)
        self.out = out
        self.config = RunConfig(task="iris", coder=f"paced:{pause}", budget_nodes=nodes,
                                agent_params={"num_drafts": 2})
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            api.run(self.config, out=self.out)
        except BaseException as exc:  # reported by the test
            self.error = exc

    def run_dir(self, timeout: float = 60) -> Path:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [p for p in self.out.iterdir() if (p / "journal.sqlite").exists()] if self.out.exists() else []
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no run appeared in {self.out}: {self.error}")


@pytest.fixture
def viewer_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A viewer on 127.0.0.1 (free port) over an empty runs folder; yields (base URL, folder)."""
    from airlab.report.viewer import make_server

    folder = tmp_path / "runs"
    folder.mkdir()
    server = make_server(folder, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = str(server.server_address[0]), int(server.server_address[1])
    try:
        yield f"http://{host}:{port}", folder
    finally:
        server.shutdown()
        server.server_close()
