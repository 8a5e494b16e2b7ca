"""Ensembles on real runs: weights from search rows only, the written script reproduces the
blend, and the refit of an ensemble runs every member."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from airlab import api
from airlab.execution.candidate import judge
from airlab.execution.executor import LocalExecutor
from airlab.execution.sandbox import make_sandbox
from airlab.final import FinalChoice, RefitBudget, kept_dirs, refit_final
from airlab.rundir import RunConfig
from airlab.search.journal import Journal
from airlab.search.selection import select_final
from airlab.store.run_store import JOURNAL_FILE, RunStore
from airlab.tasks import Task, load_task
from airlab.tasks.prediction.blend import build_ensemble
from airlab.tasks.prediction.blend_script import ensemble_script
from airlab.tasks.prediction.submission import SUBMISSION_FILE, Grader
from airlab.tasks.prediction.task import PredictionView
from airlab.tasks.prediction.views import views_for


def submission_paths(run_dir: Path, n_views: int):  # type: ignore[no-untyped-def]
    folders = kept_dirs(run_dir, n_views)
    return lambda node: [folder / SUBMISSION_FILE for folder in folders(node)]


def _run(tmp: Path, task: str, folds: str, nodes: int) -> tuple[Path, dict]:
    run_dir = tmp / f"{task}-{folds}"
    api.run(RunConfig(task=task, budget_nodes=nodes, eval_folds=folds, seed=1), run_dir=run_dir)
    return run_dir, json.loads((run_dir / "result.json").read_text())


@pytest.fixture(scope="module")
def kfold_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return _run(tmp_path_factory.mktemp("ens"), "diabetes", "3", 7)


@pytest.fixture(scope="module")
def single_view_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return _run(tmp_path_factory.mktemp("ens"), "wine", "1", 6)


def _graders(task_id: str, folds: str, scramble: bool = False) -> tuple[Grader, list[Grader]]:
    task = load_task(task_id)
    base, views = views_for(task, folds)
    if scramble:  # val and test labels replaced: the weights must not move
        rng = np.random.default_rng(0)
        for split in (base, *views):
            hidden = split.answers["role"].isin(["val", "test"])
            target = task.spec.target
            split.answers.loc[hidden, target] = rng.permutation(split.answers.loc[hidden, target].to_numpy())
    return Grader(task, base), [Grader(task, v) for v in views]


def _stored(run_dir: Path) -> tuple[Task, RunStore, Journal]:
    task = load_task("diabetes")
    store = RunStore(run_dir / JOURNAL_FILE)
    return task, store, Journal(task.spec.metric_info, store.nodes())


def test_result_records_the_ensemble_and_its_scores(kfold_run: tuple[Path, dict]) -> None:
    _, result = kfold_run
    ens = result["ensemble"]
    assert ens is not None and len(ens["members"]) >= 2
    assert abs(sum(ens["weights"]) - 1) < 1e-6
    # greedy starts from the best node, so on its own rows the bag is at least as good
    assert ens["search_score"] <= result["best_search_score"] + 1e-9
    expected_final = "ensemble" if ens["val_score"] <= result["node_val_score"] else "node"
    assert result["final"] == expected_final
    assert result["test_score"] == (ens["test_score"] if expected_final == "ensemble" else result["node_test_score"])


def test_weights_never_depend_on_val_or_test_labels(kfold_run: tuple[Path, dict]) -> None:
    run_dir, result = kfold_run
    store = RunStore(run_dir / JOURNAL_FILE)
    journal = Journal(load_task("diabetes").spec.metric_info, store.nodes())
    paths = submission_paths(run_dir, 3)
    base, views = _graders("diabetes", "3")
    honest = build_ensemble(journal, paths, views, base)
    base_s, views_s = _graders("diabetes", "3", scramble=True)
    scrambled = build_ensemble(journal, paths, views_s, base_s)
    assert honest is not None and scrambled is not None
    assert (honest.members, honest.weights, honest.search_score) == (scrambled.members, scrambled.weights, scrambled.search_score)
    assert honest.test_score != scrambled.test_score  # the scramble did reach the test rows
    assert honest.model_dump() == result["ensemble"]


def test_the_written_script_reproduces_the_blend(single_view_run: tuple[Path, dict]) -> None:
    run_dir, result = single_view_run
    ens = result["ensemble"]
    assert ens is not None
    task = load_task("wine")
    store = RunStore(run_dir / JOURNAL_FILE)
    journal = Journal(task.spec.metric_info, store.nodes())
    code = ensemble_script([(n, w, journal[n].code) for n, w in zip(ens["members"], ens["weights"], strict=True)],
                           task.spec.metric_info.prediction, task.classes)
    compile(code, "best_solution.py", "exec")
    limits = task.spec.limits.model_copy(update={"time_seconds": 300})
    where = run_dir / "script-check"
    view = PredictionView(task=task, splits=task.splits(), public_dir=run_dir / "public")
    job = view.job(code, where, limits)
    outcome = judge(make_sandbox("auto").run(job), job, view, where, limits)
    assert outcome.grade is not None and outcome.grade.valid, outcome.error
    assert outcome.grade.scores["val"] == pytest.approx(ens["val_score"], abs=1e-6)
    assert outcome.grade.scores["test"] == pytest.approx(ens["test_score"], abs=1e-6)
    if result["final"] == "ensemble":
        assert (run_dir / "best_solution.py").read_text() == code


def test_refit_of_an_ensemble_runs_every_member(kfold_run: tuple[Path, dict]) -> None:
    run_dir, _ = kfold_run
    task, store, journal = _stored(run_dir)
    base, views = _graders("diabetes", "3")
    ens = build_ensemble(journal, submission_paths(run_dir, 3), views, base)
    assert ens is not None
    choice = FinalChoice(journal=journal, selection=select_final(journal, store.hidden_scores()), ensemble=ens,
                         use_ensemble=True)
    evaluation = task.evaluation(run_dir / "again", eval_folds="3")
    executor = LocalExecutor(workers=2, sandbox=make_sandbox("auto"))
    try:
        score = refit_final(run_dir, store, task.spec.limits, executor, evaluation, choice)
    finally:
        executor.shutdown()
    assert score is not None and 30 < score < 100  # rmse on diabetes
    for node in ens.members:
        assert (run_dir / "refit" / f"node-{node}" / "submission.csv").is_file()


def test_a_refit_that_outlasts_the_time_budget_is_abandoned(kfold_run: tuple[Path, dict]) -> None:
    """A partial refit would be another answer than the chosen one: out of time, there is none."""
    run_dir, _ = kfold_run
    task, store, journal = _stored(run_dir)
    choice = FinalChoice(journal=journal, selection=select_final(journal, store.hidden_scores()), ensemble=None,
                         use_ensemble=False)
    [(chosen, _)] = choice.members
    journal.put(journal[chosen].model_copy(update={"code": "import time\ntime.sleep(30)\n"}))
    evaluation = task.evaluation(run_dir / "again", eval_folds="3")
    executor = LocalExecutor(workers=1, sandbox=make_sandbox("auto"))
    try:
        assert refit_final(run_dir, store, task.spec.limits, executor, evaluation, choice, time_left=1.5) is None
    finally:
        executor.shutdown()
    kinds = [e["kind"] for e in store.events()]
    assert "refit_abandoned" in kinds


def test_no_ensemble_flag(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = api.run(RunConfig(task="iris", budget_nodes=3, ensemble=False), run_dir=run_dir)
    assert result.ensemble is None and result.final == "node"
    assert result.test_score == result.node_test_score


def test_a_refit_budget_keeps_slow_members_out_of_the_ensemble(kfold_run: tuple[Path, dict]) -> None:
    run_dir, _ = kfold_run
    _, _, journal = _stored(run_dir)
    base, views = _graders("diabetes", "3")
    free = build_ensemble(journal, submission_paths(run_dir, 3), views, base)
    assert free is not None and len(free.members) >= 2
    slow = free.members[0]
    budget = RefitBudget(seconds=5.0, workers=1, n_views=3, refit_growth=1.5)
    journal.put(journal[slow].model_copy(update={"exec_seconds": 3 * 60.0}))  # a minute per fold run
    cost = budget.costs(journal)
    assert cost(slow) == float("inf")
    held = build_ensemble(journal, submission_paths(run_dir, 3), views, base, costs=cost, max_cost=budget.pooled)
    assert held is None or slow not in held.members
