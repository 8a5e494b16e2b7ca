"""Invariants 1, 4 and 5 through real runs, on a prediction task and a program task: no val/test
score reaches a policy or a coder; kill -9 and resume loses and duplicates nothing; the same seed
gives the same journal."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from airlab import api
from airlab.coders.base import CodeRequest, Proposal, register_coder
from airlab.coders.offline import OfflineCoder
from airlab.rundir import RunConfig
from airlab.search.journal import Journal
from airlab.search.node import Node
from airlab.search.policies.greedy import Greedy
from airlab.search.policy import register_policy
from airlab.store.run_store import RunStore
from tests.conftest import AIRLAB, airlab, kill_during_run, run_json

SEEN: list[Any] = []


class SpyCoder(OfflineCoder):
    name = "spy"

    def write(self, request: CodeRequest) -> Proposal:
        SEEN.append(request.model_dump(mode="json"))
        return super().write(request)


@register_policy
class SpyPolicy(Greedy):
    name = "spy-greedy"

    def propose(self, journal: Journal, rng: Any) -> Any:
        SEEN.append([n.model_dump(mode="json") for n in journal])
        return super().propose(journal, rng)

    def observe(self, node: Node, journal: Journal) -> None:
        SEEN.append(node.model_dump(mode="json"))


register_coder("spy")(lambda model, options: SpyCoder())


def _keys(obj: Any) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | set().union(*(_keys(v) for v in obj.values()))
    if isinstance(obj, list):
        return set().union(*(_keys(v) for v in obj)) if obj else set()
    return set()


@pytest.mark.parametrize("task", ["wine", "bin-packing"])
def test_policy_and_coder_never_see_val_or_test(tmp_path: Path, task: str) -> None:
    SEEN.clear()
    result = api.run(RunConfig(task=task, agent="spy-greedy", coder="spy", budget_nodes=6,
                               agent_params={"num_drafts": 3}), out=tmp_path)
    assert result.n_valid >= 3
    keys = _keys(SEEN)
    assert "search_score" in keys
    assert not {k for k in keys if "val" in k.lower() and k != "interval"} - {"values", "value"}
    assert not {k for k in keys if "test" in k.lower()}
    hidden = RunStore(tmp_path / result.run_id / "journal.sqlite").hidden_scores()
    assert len(hidden) == result.n_valid  # the harness did compute them, outside the journal


def _journal_signature(run_dir: Path) -> list[tuple]:
    nodes = RunStore(run_dir / "journal.sqlite").nodes()
    return [(n.id, n.operator.value, tuple(n.parents), n.plan, n.code, n.status.value, n.search_score) for n in nodes]


@pytest.mark.parametrize("task", ["diabetes", "colonel-blotto"])
def test_same_seed_same_journal(tmp_path: Path, task: str) -> None:
    a = run_json("run", task, "--budget-nodes", "5", "--seed", "7", "--out", str(tmp_path / "a"))
    b = run_json("run", task, "--budget-nodes", "5", "--seed", "7", "--out", str(tmp_path / "b"))
    sig_a = _journal_signature(tmp_path / "a" / a["run_id"])
    sig_b = _journal_signature(tmp_path / "b" / b["run_id"])
    assert sig_a == sig_b and len(sig_a) == 5


@pytest.mark.parametrize("task", ["iris", "cartpole"])
def test_kill_9_then_resume(tmp_path: Path, task: str) -> None:
    budget = "6"
    run_dir = kill_during_run([task, "--budget-nodes", budget, "--seed", "2"], tmp_path / "killed", finished=2)
    before = RunStore(run_dir / "journal.sqlite").nodes()
    assert 2 <= len(before) <= int(budget)
    airlab("run", "--resume", str(run_dir))
    resumed = _journal_signature(run_dir)
    assert [s[0] for s in resumed] == list(range(int(budget)))
    assert all(s[5] != "pending" for s in resumed)
    reference = run_json("run", task, "--budget-nodes", budget, "--seed", "2", "--out", str(tmp_path / "ref"))
    assert resumed == _journal_signature(tmp_path / "ref" / reference["run_id"])


def test_ctrl_c_stops_cleanly_then_resume(tmp_path: Path) -> None:
    out = tmp_path / "interrupted"
    budget = 30  # warm workers finish a node in a fraction of a second: leave the run time to be interrupted
    # a shell that starts pytest in the background leaves SIGINT ignored, and children inherit that:
    # give the run the default handler, as a terminal's Ctrl-C would find it
    proc = subprocess.Popen([*AIRLAB, "run", "iris", "--budget-nodes", str(budget), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 300
    while time.time() < deadline:
        time.sleep(0.3)
        dbs = list(out.glob("*/journal.sqlite"))
        if dbs:
            with sqlite3.connect(dbs[0]) as db:
                if db.execute("SELECT COUNT(*) FROM nodes WHERE status != 'pending'").fetchone()[0] >= 1:
                    break
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert "Traceback" not in output
    (run_dir,) = out.iterdir()
    result = json.loads((run_dir / "result.json").read_text())
    assert result["status"] == "interrupted" and result["n_nodes"] < budget, (result, output[-3000:])
    airlab("run", "--resume", str(run_dir))
    result = json.loads((run_dir / "result.json").read_text())
    assert result["status"] == "complete" and result["n_nodes"] == budget
    assert [s[0] for s in _journal_signature(run_dir)] == list(range(budget))
