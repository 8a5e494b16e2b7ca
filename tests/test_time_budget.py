"""A time budget covers the whole run: the search stops early enough for the final stage (the
ensemble and the refit) to finish inside it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from airlab import api
from airlab.engine import next_node_seconds
from airlab.final import OUT_OF_TIME, FinalStageReserve, RefitBudget, final_stage_seconds
from airlab.rundir import RunConfig
from airlab.search.journal import Journal
from airlab.search.node import Node, NodeStatus, Operator
from airlab.store.run_store import RunStore
from airlab.tasks import load_task


def _node(node_id: int, score: float, seconds: float) -> Node:
    return Node(id=node_id, parents=[], operator=Operator.DRAFT, coder="offline", status=NodeStatus.OK,
                search_score=score, exec_seconds=seconds, created_at=0.0)


def test_the_reserve_covers_the_ensemble_and_the_refit_of_its_slowest_candidates() -> None:
    metric = load_task("iris").spec.metric_info  # accuracy: higher is better
    journal = Journal(metric, [_node(0, 0.9, 10.0), _node(1, 0.95, 20.0), _node(2, 0.5, 1000.0),
                               _node(3, 0.8, 10.0), _node(4, 0.85, 5.0), _node(5, 0.7, 5.0)])

    def reserve(workers: int = 1, refit: bool = True, **config: object) -> float:
        settings = {"task": "iris", "budget_time": 1000.0, **config}
        return final_stage_seconds(journal, RunConfig.model_validate(settings), 5, workers, refit=refit)

    ensemble = 0.5 + 0.015 * 6 * 5  # five kept submissions for each node of the pool
    # the four slowest per-run times (5 folds each) of the pool: 200 + 4 + 2 + 2 s, times 1.15
    assert abs(reserve() - (ensemble + 1.15 * 208.0)) < 1e-9
    assert abs(reserve(workers=2) - (ensemble + 1.15 * 104.0)) < 1e-9
    assert abs(reserve(refit=False) - ensemble) < 1e-9
    # without an ensemble the answer is one of the top-k by search score: the slowest of them
    assert abs(reserve(ensemble=False, select_top_k=3) - (0.5 + 1.15 * 4.0)) < 1e-9
    assert reserve(refit=False, ensemble=False) == 0.5
    assert reserve(budget_time=6.0) == 3.0  # the search keeps at least half the budget
    empty = RunConfig(task="iris", budget_time=100.0)
    assert final_stage_seconds(Journal(metric, []), empty, 5, 1) == 0.5


def test_a_refit_on_more_rows_is_expected_to_take_longer() -> None:
    metric = load_task("iris").spec.metric_info
    journal = Journal(metric, [_node(0, 0.9, 10.0)])
    config = RunConfig(task="iris", budget_time=1000.0, ensemble=False)
    assert abs(final_stage_seconds(journal, config, 5, 1, refit_growth=1.6) - (0.5 + 1.15 * 1.6 * 2.0)) < 1e-9


def test_near_the_end_the_reserve_is_the_refit_of_the_answers_possible_now() -> None:
    metric = load_task("iris").spec.metric_info
    journal = Journal(metric, [_node(0, 0.9, 10.0), _node(1, 0.95, 20.0), _node(2, 0.5, 100.0),
                               _node(3, 0.8, 10.0), _node(4, 0.85, 5.0)])
    asked: list[int] = []

    def answers(seen: Journal, budget: RefitBudget) -> list[list[int]]:
        asked.append(len(seen.finished))
        assert budget.seconds < 19.0  # the time left, less building the ensemble
        return [[1], [0], [1, 4], [2]]  # a node of the top-k, or an ensemble of two

    config = RunConfig(task="iris", budget_time=40.0)
    reserve = FinalStageReserve(config, n_views=5, workers=1, refit_growth=1.0, answers=answers)
    bound = final_stage_seconds(journal, config, 5, 1)
    assert bound == 20.0  # half the budget: node 2 alone would need 23 s
    assert reserve(journal, left=2 * bound) == bound and not asked  # far from the end: the bound
    near = reserve(journal, left=bound - 1.0)
    # the slowest possible answer that fits is the ensemble: (4 + 1) s per run, times 1.15, plus
    # building it; node 2 alone (20 s per run) would not fit in what is left, so it is not waited for
    assert 0.5 + 1.15 * 5.0 <= near < 0.5 + 1.15 * 5.0 + 0.5 and near < bound
    assert reserve(journal, left=1.0) == near and asked == [5]  # no node finished: not worked out again
    journal.put(_node(5, 0.7, 5.0))
    time.sleep(0.05)  # working the answers out again waits three times as long as it took
    reserve(journal, left=1.0)
    assert asked == [5, 6]


@pytest.mark.timeout(180)  # a run that ignored its time budget would never end (no node budget)
def test_a_timed_run_stops_by_itself_and_ends_its_final_stage_inside_its_budget(tmp_path: Path) -> None:
    """The behaviour, not the speed. How many nodes fit in the budget depends on the machine (a cold
    disk and first imports can leave time for one), and so does whether the refit finishes: the
    search goes on while the refit of an answer is expected to fit, and on a loaded machine a refit
    can take longer than its nodes did; then it is abandoned, with the reason recorded, rather than
    overrun the budget. The reserve itself is checked exactly by the tests above. Here the whole
    run: no node budget, so only the time budget can stop it; it ends complete with an answer; the
    refit is recorded either way; the run ends inside its budget, give or take a generous bound."""
    budget = 30.0
    start = time.monotonic()
    result = api.run(RunConfig(task="iris", budget_nodes=None, budget_time=budget, eval_folds="auto", refit="always"),
                     run_dir=tmp_path / "run")
    took = time.monotonic() - start
    assert result.status == "complete" and result.budget == {"nodes": None, "time_seconds": budget, "max_cost": None}
    assert result.n_nodes >= 1 and result.n_valid >= 1 and result.test_score is not None
    store = RunStore(tmp_path / "run" / "journal.sqlite", readonly=True)
    events = store.events()
    assert store.meta()["status"] == "complete"
    store.close()
    refits = [e for e in events if e["kind"] == "refit"]
    abandoned = [e for e in events if e["kind"] == "refit_abandoned"]
    if result.refit_test_score is not None:  # the refit of each member of the answer ran and was recorded
        assert refits and all(e["status"] == "ok" for e in refits) and not abandoned, events
    else:  # out of time: the answer stays unrefitted, and the run says why
        assert [e["error"] for e in abandoned] == [OUT_OF_TIME], events
    # the budget bounds the whole run: generous bounds, as a loaded machine is slow to stop workers
    assert result.wall_seconds <= budget + 10.0, result.wall_seconds
    assert took <= budget + 60.0  # plus loading the task and writing the reports
    saved = json.loads((tmp_path / "run" / "result.json").read_text())
    assert saved["wall_seconds"] == result.wall_seconds and saved["status"] == "complete"
    assert saved["refit_test_score"] == result.refit_test_score


def test_one_slow_node_does_not_end_a_search_that_still_has_time_for_faster_ones() -> None:
    """A CatBoost draft on five folds can take ten times a linear one; the search goes on while a node
    like its fastest recent one could still finish (a node that cannot is stopped by its limit)."""
    metric = load_task("iris").objective

    def timed(node_id: int, wall: float, status: NodeStatus = NodeStatus.OK) -> Node:
        node = _node(node_id, 0.9, wall)
        node.status, node.created_at, node.finished_at = status, 100.0 * node_id, 100.0 * node_id + wall
        return node

    assert next_node_seconds(Journal(metric, [])) == 0.0
    assert next_node_seconds(Journal(metric, [timed(0, 2.0), timed(1, 12.0)])) == 2.0
    # a failed node says nothing of what a node costs; only the last five count
    assert next_node_seconds(Journal(metric, [timed(0, 12.0), timed(1, 0.1, NodeStatus.FAILED)])) == 12.0
    last_five = [timed(0, 1.0)] + [timed(i, 8.0 + i) for i in range(1, 6)]
    assert next_node_seconds(Journal(metric, last_five)) == 9.0
