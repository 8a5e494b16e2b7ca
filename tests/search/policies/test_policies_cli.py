"""Each policy end to end through the real ``airlab run`` on iris, with small budgets."""

from __future__ import annotations

from pathlib import Path

from airlab.search.node import Operator
from airlab.store.run_store import RunStore
from tests.conftest import airlab, run_json


def _nodes_and_config(out: Path, run_id: str) -> tuple[list, dict]:
    store = RunStore(out / run_id / "journal.sqlite", readonly=True)
    try:
        return store.nodes(), store.meta()["config"]
    finally:
        store.close()


def test_mcts_from_an_agent_file_with_cli_override(tmp_runs: Path, tmp_path: Path) -> None:
    agent = tmp_path / "agent.yaml"
    agent.write_text("policy: mcts\nparams:\n  uct_c: 0.5\n  num_children: 3\n")
    result = run_json("run", "iris", "--agent-file", str(agent), "--budget-nodes", "5",
                      "--out", str(tmp_runs), "-p", "num_children=2")
    assert result["agent"] == "mcts" and result["n_nodes"] == 5
    nodes, config = _nodes_and_config(tmp_runs, result["run_id"])
    assert config["agent_params"] == {"uct_c": 0.5, "num_children": 2}  # the command line wins
    assert [n.operator for n in nodes[:2]] == [Operator.DRAFT, Operator.DRAFT]
    assert sum(n.operator == Operator.DRAFT for n in nodes) == 2  # drafts only from the root
    assert all(n.operator in (Operator.IMPROVE, Operator.DEBUG) for n in nodes[2:])
    per_parent: dict[int, int] = {}
    for n in nodes:
        if n.operator == Operator.IMPROVE:
            per_parent[n.parents[0]] = per_parent.get(n.parents[0], 0) + 1
    assert max(per_parent.values()) <= 2  # num_children per expansion


def test_evolution_makes_a_crossover_child(tmp_runs: Path) -> None:
    result = run_json("run", "iris", "--agent", "evolution", "--budget-nodes", "4", "--workers", "2",
                      "--out", str(tmp_runs),
                      "-p", "num_islands=1", "-p", "island_drafts=2", "-p", "children_per_island=2",
                      "-p", "crossover_from_generation=1", "-p", "crossover_prob=1")
    assert result["agent"] == "evolution" and result["n_nodes"] == 4
    nodes, _ = _nodes_and_config(tmp_runs, result["run_id"])
    assert [n.operator for n in nodes[:2]] == [Operator.DRAFT, Operator.DRAFT]
    crossovers = [n for n in nodes if n.operator == Operator.CROSSOVER]
    assert crossovers and all(len(set(n.parents)) == 2 for n in crossovers)
    assert any(n.is_ok for n in crossovers)


def test_steady_state_with_two_workers(tmp_runs: Path) -> None:
    result = run_json("run", "iris", "--agent", "steady-state", "--budget-nodes", "5", "--workers", "2",
                      "--out", str(tmp_runs), "-p", "num_drafts=2", "-p", "crossover_prob=0.5")
    assert result["agent"] == "steady-state" and result["n_nodes"] == 5 and result["n_valid"] >= 1
    nodes, _ = _nodes_and_config(tmp_runs, result["run_id"])
    assert sum(n.operator == Operator.DRAFT for n in nodes) == 2
    assert all(n.operator != Operator.DRAFT and n.parents for n in nodes[2:])


def test_bad_parameters_are_clear_errors(tmp_runs: Path, tmp_path: Path) -> None:
    done = airlab("run", "iris", "--agent", "mcts", "-p", "uct_cc=1", "--out", str(tmp_runs), check=False)
    assert done.returncode == 2 and "uct_cc" in done.stderr and "Traceback" not in done.stderr
    agent = tmp_path / "agent.yaml"
    agent.write_text("policy: evolution\nparams: {crossover_prob: 2}\n")
    done = airlab("run", "iris", "--agent-file", str(agent), "--out", str(tmp_runs), check=False)
    assert done.returncode == 2 and "crossover_prob" in done.stderr
    done = airlab("run", "iris", "--agent", "annealing", "--out", str(tmp_runs), check=False)
    assert done.returncode == 2 and "steady-state" in done.stderr  # the known policies are listed
    assert not any(tmp_runs.iterdir())  # nothing was started
