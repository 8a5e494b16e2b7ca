"""Program tasks through real runs and the real `airlab` command: the starter is scored in every
run, bad candidates are recorded with a reason while the run goes on, malformed task folders are
refused with the field named, and eval / export / grade / report work on programs as on tables."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from airlab import api
from airlab.coders.base import CodeRequest, Proposal, register_coder
from airlab.coders.offline import OfflineCoder
from airlab.errors import TaskSpecError
from airlab.rundir import RunConfig
from airlab.search.node import NodeStatus
from airlab.store.run_store import RunStore
from airlab.tasks import load_task
from tests.conftest import airlab, run_json

BAD_STRATEGIES = {  # node id -> (strategy.py, a part of the recorded reason)
    0: ("def move(mine, theirs):\n    while True:\n        pass\n", "did not answer within"),
    1: ("def move(mine, theirs):\n    return 'maybe'\n", "maybe"),
    2: ("def move(mine, theirs):\n    raise RuntimeError('no idea')\n", "no idea"),
    3: ("import sys\nsys.exit(4)\n", "exit code 4"),
}


class BadThenOfflineCoder(OfflineCoder):
    """Writes a broken strategy for the first nodes, then what the offline coder writes."""

    name = "bad-then-offline"

    def write(self, request: CodeRequest) -> Proposal:
        if request.node_id in BAD_STRATEGIES:
            return Proposal(plan="a broken strategy", code=BAD_STRATEGIES[request.node_id][0])
        return super().write(request)


register_coder("bad-then-offline")(lambda model, options: BadThenOfflineCoder())


def test_broken_strategies_are_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    result = api.run(RunConfig(task="prisoners-dilemma", coder="bad-then-offline", budget_nodes=7,
                               agent_params={"num_drafts": 5}), run_dir=tmp_path / "run")
    nodes = RunStore(tmp_path / "run" / "journal.sqlite").nodes()
    for node_id, (_, reason) in BAD_STRATEGIES.items():
        node = nodes[node_id]
        assert node.status in (NodeStatus.INVALID, NodeStatus.BUGGY), node
        assert node.error and reason in node.error, node.error
    assert result.status == "complete" and result.n_nodes == 7 and result.n_valid >= 2
    assert result.selected_node is not None and result.selected_node not in BAD_STRATEGIES
    assert result.test_score is not None and result.baseline_test_score is not None


def test_a_run_scores_the_starter_and_keeps_the_artefacts(tmp_path: Path) -> None:
    result = run_json("run", "cartpole", "--budget-nodes", "4", "--agent", "mcts", "--out", str(tmp_path))
    run_dir = tmp_path / result["run_id"]
    assert result["kind"] == "program" and result["metric"] == "episode_length" and result["higher_is_better"]
    starter = load_task("cartpole")
    assert result["references"]["optimum"] == starter.references.optimum
    # the starter is run and scored like a node, in the same run, on every role
    assert all(result[f"baseline_{role}_score"] is not None for role in ("search", "val", "test"))
    assert (run_dir / "baseline" / "artefacts" / "policy.py").read_text() == starter.starter_code  # type: ignore[attr-defined]
    assert result["ensemble"] is None and result["refit_test_score"] is None  # programs neither blend nor refit
    best = run_dir / "best_policy.py"
    assert best.read_text() == (run_dir / "nodes" / f"{result['selected_node']:04d}" / "policy.py").read_text()
    # nothing hidden was written into the run's public folder
    public = sorted(p.name for p in (run_dir / "public").iterdir())
    assert public == ["description.md", "policy.py"]


def test_eval_export_and_grade_a_program(tmp_path: Path) -> None:
    export = tmp_path / "ws"
    done = airlab("export", "bin-packing", str(export))
    assert sorted(p.name for p in export.iterdir()) == ["description.md", "heuristic.py"]
    assert "evaluator" not in done.stdout
    graded = run_json("grade", "bin-packing", str(export / "heuristic.py"))
    assert graded["valid"] and graded["test_score"] is not None
    best_fit = "def priority(item, bins):\n    return [-(b - item) for b in bins]\n"
    (tmp_path / "best_fit.py").write_text(best_fit)
    evaluated = run_json("eval", "bin-packing", str(tmp_path / "best_fit.py"))
    assert evaluated["valid"] and evaluated["test_score"] < graded["test_score"]  # best fit beats the starter
    (tmp_path / "garbage.py").write_text("def priority(item, bins):\n    return 'no'\n")
    refused = airlab("eval", "bin-packing", str(tmp_path / "garbage.py"), "--json", check=False)
    assert refused.returncode == 1
    payload = json.loads(refused.stdout[refused.stdout.index("{\n"):])
    assert payload["status"] == "invalid" and payload["error"]


def test_a_hostile_strategy_finds_nothing_through_the_real_command(tmp_path: Path) -> None:
    """A strategy that hunts the evaluator, the opponents and the task folder, and raises with
    whatever it found: graded through `airlab eval`, it finds nothing and plays on."""
    hunter = textwrap.dedent("""
        import gc, inspect, os, sys
        FOUND = []
        for root, dirs, files in os.walk("/"):
            if root.startswith(("/proc", "/sys", "/dev")):
                dirs[:] = []
                continue
            for name in files:
                if name in ("evaluator.py", "task.yaml"):
                    try:
                        text = open(os.path.join(root, name), errors="replace").read()
                    except OSError:
                        continue
                    if "RoleSet" in text or "kind: program" in text:  # an airlab task's hidden side
                        FOUND.append(os.path.join(root, name))
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    text = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
                except OSError:
                    continue
                if "evaluator" in text or "OPPONENTS" in text:
                    FOUND.append(text)
        FOUND += [repr(o)[:80] for o in gc.get_objects() if "opponent" in type(o).__name__.lower()]
        FOUND += [f.filename for f in inspect.stack() if "evaluator" in f.filename]

        def move(mine, theirs):
            if FOUND:
                raise RuntimeError("found: " + " | ".join(FOUND[:5]))
            return "C" if not theirs else theirs[-1]
    """)
    (tmp_path / "hunter.py").write_text(hunter)
    result = run_json("eval", "prisoners-dilemma", str(tmp_path / "hunter.py"))
    assert result["valid"], result["error"]
    assert result["sandbox"] in ("warm", "bwrap")


def _program_folder(tmp_path: Path, **change: Any) -> Path:
    folder = tmp_path / "toy"
    (folder / "workspace").mkdir(parents=True)
    (folder / "workspace" / "solver.py").write_text("SCALE = 1.0\n\n\ndef f(x):\n    return SCALE * x\n")
    (folder / "evaluator.py").write_text(textwrap.dedent("""
        def evaluate(candidate, role):
            with candidate.connect("solver.py") as solver:
                return -sum((solver.call("f", x) - 3 * x) ** 2 for x in role.instances)
    """))
    spec = {"id": "toy", "kind": "program", "title": "Toy", "description": "Make f(x) = 3x.", "entry": "solver.py",
            "evaluator": "evaluator.py:evaluate", "metric": {"name": "neg_sq_error", "higher_is_better": True},
            "roles": {"search": {"instances": [1, 2]}, "val": {"instances": [3]}, "test": {"instances": [4, 5]}}}
    for key, value in change.items():
        if value is None:
            spec.pop(key)
        else:
            spec[key] = value
    (folder / "task.yaml").write_text(yaml.safe_dump(spec))
    return folder


def test_a_user_program_task_runs(tmp_path: Path) -> None:
    result = run_json("run", str(_program_folder(tmp_path)), "--budget-nodes", "6", "--out", str(tmp_path / "runs"))
    assert result["kind"] == "program" and result["n_valid"] >= 1
    assert result["baseline_test_score"] == pytest.approx(-(8 * 8 + 10 * 10))  # SCALE 1 on x = 4, 5: errors of 2x


@pytest.mark.parametrize(("change", "field"), [
    ({"evaluator": "missing.py:evaluate"}, "evaluator"),
    ({"evaluator": "evaluator.py:score"}, "evaluator"),
    ({"evaluator": "evaluator"}, "evaluator"),
    ({"roles": {"search": {"instances": [1]}, "val": {"instances": [1]}, "test": {"instances": [2]}}}, "roles"),
    ({"roles": {"search": {"instances": []}, "val": {"instances": [1]}, "test": {"instances": [2]}}}, "roles.search.instances"),
    ({"roles": {"search": {"instances": [1]}, "test": {"instances": [2]}}}, "roles.val"),
    ({"entry": "nothere.py"}, "entry"),
    ({"metric": {"name": "x"}}, "metric.higher_is_better"),
    ({"kind": "programme"}, "kind"),
])
def test_a_malformed_program_task_names_the_field(tmp_path: Path, change: dict[str, Any], field: str) -> None:
    folder = _program_folder(tmp_path, **change)
    with pytest.raises(TaskSpecError) as err:
        load_task(str(folder))
    assert field in str(err.value), str(err.value)
    done = airlab("run", str(folder), "--budget-nodes", "1", "--out", str(tmp_path / "runs"), check=False)
    assert done.returncode == 2 and field in done.stderr and "Traceback" not in done.stderr


def test_an_evaluator_that_cannot_import_is_refused_with_its_file(tmp_path: Path) -> None:
    folder = _program_folder(tmp_path)
    (folder / "evaluator.py").write_text("import no_such_module\n")
    with pytest.raises(TaskSpecError, match=r"evaluator\.py.*importing it failed"):
        load_task(str(folder))


def test_a_yaml_error_names_the_file_and_line(tmp_path: Path) -> None:
    folder = _program_folder(tmp_path)
    (folder / "task.yaml").write_text("id: toy\nkind: program\ntitle: [unclosed\n")
    with pytest.raises(TaskSpecError, match=r"task\.yaml, line \d+: not valid YAML"):
        load_task(str(folder))
    folder = _program_folder(tmp_path / "b", metric={"name": "x", "higher_is_better": "sometimes"})
    with pytest.raises(TaskSpecError, match=r"field 'metric.higher_is_better' \(line \d+\)"):
        load_task(str(folder))
