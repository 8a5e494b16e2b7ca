"""The final answer of a run: the selected node or an ensemble of nodes, its refit, and
``best_solution.py``.

Order of use of the hidden rows: the policy saw search scores only; selection and the ensemble
weights use search rows; val decides once between the selected node and the ensemble (ties go to
the ensemble, whose averaging lowers variance); test is only reported.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from airlab.ensemble import (
    Ensemble,
    build_ensemble,
    ensemble_pool,
    ensemble_script,
    score_matrix,
    to_matrix,
)
from airlab.execution.candidate import judge, make_job
from airlab.execution.executor import Executor
from airlab.rundir import RunConfig, node_dir, view_dir
from airlab.search.journal import Journal
from airlab.search.selection import Selection, select_final
from airlab.store.run_store import RunStore
from airlab.tasks.folds import refit_view
from airlab.tasks.grader import SUBMISSION_FILE, Grader
from airlab.tasks.loader import Task
from airlab.tasks.spec import Limits
from airlab.tasks.splits import HiddenSplits
from airlab.tasks.workspace import write_public_files


@dataclass
class FinalChoice:
    journal: Journal  # read once from the store, for everything after the search
    selection: Selection
    ensemble: Ensemble | None
    use_ensemble: bool

    @property
    def members(self) -> list[tuple[int, float]]:
        """(node, weight) of the final answer."""
        if self.use_ensemble and self.ensemble is not None:
            return list(zip(self.ensemble.members, self.ensemble.weights, strict=True))
        return [] if self.selection.selected_node is None else [(self.selection.selected_node, 1.0)]


def submission_paths(run_dir: Path, n_views: int) -> Callable[[int], list[Path]]:
    """Where a node's kept submissions are, one per hidden view."""
    def paths(node_id: int) -> list[Path]:
        return [view_dir(run_dir, node_id, k, n_views) / SUBMISSION_FILE for k in range(n_views)]
    return paths


def choose_final(run_dir: Path, store: RunStore, config: RunConfig, task: Task, base: Grader,
                 view_graders: list[Grader]) -> FinalChoice:
    journal = Journal(task.spec.metric_info, store.nodes())
    selection = select_final(journal, store.hidden_scores(), k=config.select_top_k)
    ensemble = None
    if config.ensemble and selection.selected_node is not None:
        ensemble = build_ensemble(journal, submission_paths(run_dir, len(view_graders)), view_graders, base)
    use = False
    if ensemble is not None and ensemble.val_score is not None:
        metric = task.spec.metric_info
        use = selection.val_score is None or not metric.better(selection.val_score, ensemble.val_score)
    return FinalChoice(journal=journal, selection=selection, ensemble=ensemble, use_ensemble=use)


def write_best_solution(run_dir: Path, task: Task, choice: FinalChoice) -> None:
    members = choice.members
    if not members:
        return
    target = run_dir / "best_solution.py"
    if len(members) == 1:
        shutil.copyfile(node_dir(run_dir, members[0][0]) / "solution.py", target)
        return
    code = ensemble_script([(n, w, choice.journal[n].code) for n, w in members],
                           task.spec.metric_info.prediction, task.classes)
    target.write_text(code)


REFIT_ROWS_FACTOR = 1.3  # a refit trains on more rows than a fold run did
EXPECTED_MEMBERS = 4  # scripts a final answer usually holds (the ensemble's distinct members)
ENSEMBLE_SECONDS_PER_FILE = 0.015  # reading and scoring one kept submission while building the ensemble
MAX_RESERVE_SHARE = 0.5  # of a time budget; the rest is the search's
MIN_REFIT_SECONDS = 0.1  # less than this is no refit
OUT_OF_TIME = "the time budget ran out before the refit finished; the answer stays unrefitted"


def final_stage_seconds(journal: Journal, config: RunConfig, n_views: int, workers: int) -> float:
    """The wall time kept back from a time budget for the final stage: building the ensemble
    and, with a refit, one more run of each script of the final answer on all usable rows, the
    runs shared by the workers. The answer is not known yet, so this counts the slowest scripts
    it may be drawn from. At most half the budget, so the search keeps most of it."""
    seconds = 0.5
    if config.ensemble:
        candidates = ensemble_pool(journal)
        seconds += ENSEMBLE_SECONDS_PER_FILE * len(candidates) * n_views
    else:
        candidates = journal.ranked()[:config.select_top_k]
    if config.refit:
        runs = sorted((float(n.exec_seconds) / n_views for n in candidates if n.exec_seconds), reverse=True)
        runs = runs[:EXPECTED_MEMBERS if config.ensemble else 1]
        if runs:
            seconds += REFIT_ROWS_FACTOR * sum(runs) / max(1, min(workers, len(runs)))
    return min(MAX_RESERVE_SHARE * (config.budget_time or 0.0), seconds)


def refit_final(run_dir: Path, store: RunStore, limits: Limits, executor: Executor, task: Task,
                splits: HiddenSplits, choice: FinalChoice, time_left: float | None = None) -> float | None:
    """Run each script of the final answer once more on train + search + val rows (the members at
    once, as the workers allow), blend as chosen, and return the test score.

    None if every member failed, or if the time budget (``time_left`` seconds) ran out before the
    refit finished: a partial refit would be a different answer than the one chosen.
    """
    members = choice.members
    if not members:
        return None
    view = refit_view(task, splits)
    public = run_dir / "refit" / "public"
    write_public_files(task, view, public)
    grader = Grader(task, view)
    test_ids = grader.role_ids("test")
    if time_left is not None:
        if time_left < MIN_REFIT_SECONDS:
            store.add_event("refit_abandoned", error=OUT_OF_TIME)
            return None
        limits = limits.model_copy(update={"time_seconds": min(limits.time_seconds, time_left)})
    deadline = None if time_left is None else time.monotonic() + time_left
    jobs = []
    for node_id, weight in members:
        where = run_dir / "refit" if len(members) == 1 else run_dir / "refit" / f"node-{node_id}"
        where.mkdir(parents=True, exist_ok=True)
        job = make_job(choice.journal[node_id].code, public, where, limits)
        jobs.append((node_id, weight, where, job, executor.submit(job)))
    if deadline is not None:  # members queued behind each other share the time that is left
        _, late = wait([future for *_, future in jobs], timeout=max(0.0, deadline - time.monotonic()))
        if late:  # the caller's executor shutdown stops what still runs
            for future in late:
                future.cancel()
            store.add_event("refit_abandoned", error=OUT_OF_TIME)
            return None
    blend, total, out_of_time = None, 0.0, False
    for node_id, weight, where, job, future in jobs:
        try:
            outcome = judge(future.result(), job.workdir, where, grader, limits)
        except Exception as exc:  # a lost worker fails this member, never the run
            store.add_event("refit", node_id, status="failed", error=f"the executor failed: {exc}")
            continue
        finally:
            shutil.rmtree(job.workdir, ignore_errors=True)
        store.add_event("refit", node_id, status=outcome.status.value, error=outcome.error)
        out_of_time |= time_left is not None and outcome.run.limit_hit == "time"
        if outcome.grade is None or not outcome.grade.valid:
            continue
        checked = grader.check(grader.read(where / SUBMISSION_FILE))
        matrix = weight * to_matrix(checked, test_ids, grader.metric.prediction, task.classes)
        blend = matrix if blend is None else blend + matrix
        total += weight
    if out_of_time:
        store.add_event("refit_abandoned", error=OUT_OF_TIME)
        return None
    if blend is None:
        return None
    return score_matrix(grader.metric, grader.truth(test_ids), np.asarray(blend / total), grader.context)
