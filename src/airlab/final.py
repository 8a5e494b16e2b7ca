"""The final answer of a run: the selected node or an ensemble of nodes, its refit, and
``best_<entry>`` (``best_solution.py`` for a prediction task).

Order of use of the hidden data: the policy saw search scores only; selection and the ensemble
weights use search data; val decides once between the selected node and the ensemble (ties go to
the ensemble, whose averaging lowers variance); test is only reported. An ensemble and a refit are
made only where the task can blend and refit (:class:`~airlab.tasks.protocol.Capabilities`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import wait
from dataclasses import dataclass, field
from pathlib import Path

from airlab.execution.candidate import judge
from airlab.execution.executor import Executor
from airlab.rundir import RunConfig, best_file, node_dir, view_dir
from airlab.search.journal import Journal
from airlab.search.node import Node
from airlab.search.selection import Selection, ensemble_pool, select_final
from airlab.store.run_store import RunStore
from airlab.tasks.protocol import Ensemble, Evaluation
from airlab.tasks.spec import Limits


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


def kept_dirs(run_dir: Path, n_views: int) -> Callable[[int], list[Path]]:
    """Where a node's kept artefacts are, one folder per hidden view."""
    def folders(node_id: int) -> list[Path]:
        return [view_dir(run_dir, node_id, k, n_views) for k in range(n_views)]
    return folders


def choose_final(run_dir: Path, store: RunStore, config: RunConfig, evaluation: Evaluation,
                 refit_budget: RefitBudget | None = None) -> FinalChoice:
    """The selected node or the ensemble, whichever val prefers. Under a ``refit_budget`` the
    ensemble only takes members whose refits fit in the time left."""
    objective = evaluation.task.objective
    journal = Journal(objective, store.nodes())
    selection = select_final(journal, store.hidden_scores(), k=config.select_top_k)
    ensemble = None
    if config.ensemble and evaluation.blender is not None and selection.selected_node is not None:
        cost, limit = (None, None) if refit_budget is None else (refit_budget.costs(journal), refit_budget.pooled)
        ensemble = evaluation.blender.build(journal, kept_dirs(run_dir, len(evaluation.views)), costs=cost,
                                            max_cost=limit)
    use = False
    if ensemble is not None and ensemble.val_score is not None:
        use = selection.val_score is None or not objective.better(selection.val_score, ensemble.val_score)
    return FinalChoice(journal=journal, selection=selection, ensemble=ensemble, use_ensemble=use)


@dataclass(frozen=True)
class RefitBudget:
    """The wall time a refit has left, on ``workers`` workers."""

    seconds: float
    workers: int
    n_views: int
    refit_growth: float

    @property
    def pooled(self) -> float:
        """Seconds of work the workers can do together."""
        return self.seconds * self.workers

    def costs(self, journal: Journal) -> Callable[[int], float]:
        """A node's refit time; infinite if it alone cannot finish in time."""
        def cost(node_id: int) -> float:
            seconds = refit_seconds(journal[node_id], self.n_views, self.refit_growth)
            return seconds if seconds <= self.seconds else float("inf")
        return cost


def write_best_solution(run_dir: Path, evaluation: Evaluation, choice: FinalChoice) -> None:
    """The final answer's code: the selected node's, or one script blending the ensemble."""
    members = choice.members
    if not members:
        return
    target = run_dir / best_file(evaluation.entry)
    if len(members) == 1:
        shutil.copyfile(node_dir(run_dir, members[0][0]) / evaluation.entry, target)
        return
    assert evaluation.blender is not None  # an ensemble exists only where the task blends
    target.write_text(evaluation.blender.script([(n, w, choice.journal[n].code) for n, w in members]))


# a script's time grows a little faster than its rows (tree building is n log n, plus predicting)
REFIT_TIME_MARGIN = 1.15
EXPECTED_MEMBERS = 4  # scripts a final answer usually holds (the ensemble's distinct members)
ENSEMBLE_SECONDS_PER_FILE = 0.015  # reading and scoring one kept submission while building the ensemble
MAX_RESERVE_SHARE = 0.5  # of a time budget; the rest is the search's
MIN_REFIT_SECONDS = 0.1  # less than this is no refit
NEAR_THE_END = 1.5  # times the bound of the final stage: from there on it is worked out from the answers
OUT_OF_TIME = "the time budget ran out before the refit finished; the answer stays unrefitted"


def refit_seconds(node: Node, n_views: int, refit_growth: float) -> float:
    """Expected wall time of refitting one node: one of its search runs, on ``refit_growth`` times
    the rows."""
    return REFIT_TIME_MARGIN * max(1.0, refit_growth) * float(node.exec_seconds or 0.0) / n_views


def ensemble_seconds(pool: list[Node], n_views: int) -> float:
    """Expected wall time of building the ensemble from ``pool``: reading and scoring their kept
    submissions."""
    return 0.5 + ENSEMBLE_SECONDS_PER_FILE * len(pool) * n_views


def spread(runs: list[float], workers: int) -> float:
    """Wall time of ``runs`` (seconds each) shared by the workers."""
    return sum(runs) / max(1, min(workers, len(runs)))


def final_stage_seconds(journal: Journal, config: RunConfig, n_views: int, workers: int,
                        refit_growth: float = 1.0, refit: bool = True, blend: bool = True) -> float:
    """The wall time kept back from a time budget for the final stage: building the ensemble
    and, with a refit, one more run of each script of the final answer on all usable rows, the
    runs shared by the workers. The answer is not known yet, so this bounds it by the slowest
    scripts it may be drawn from. At most half the budget, so the search keeps most of it."""
    seconds = 0.5
    ensemble = config.ensemble and blend
    if ensemble:
        candidates = ensemble_pool(journal)
        seconds = ensemble_seconds(candidates, n_views)
    else:
        candidates = journal.ranked()[:config.select_top_k]
    if refit:
        runs = sorted((refit_seconds(n, n_views, refit_growth) for n in candidates if n.exec_seconds), reverse=True)
        runs = runs[:EXPECTED_MEMBERS if ensemble else 1]
        if runs:
            seconds += spread(runs, workers)
    return min(MAX_RESERVE_SHARE * (config.budget_time or 0.0), seconds)


@dataclass
class FinalStageReserve:
    """The time a search keeps back for the final stage, as the engine asks for it.

    Far from the end of the budget the bound of :func:`final_stage_seconds` is enough. Once the
    time left comes near it, the answers the run could give now are worked out: each of the
    top-k nodes by search score, and the ensemble of the members whose refits fit in the time left
    (val, which decides between them, is not looked at). The reserve becomes the time to build
    that ensemble and refit the slowest of those answers, so the search goes on while an answer
    and its refit still fit, rather than stopping seconds early because some slow node might have
    been chosen. Worked out again only when nodes finish.
    """

    config: RunConfig
    n_views: int
    workers: int
    refit_growth: float
    answers: Callable[[Journal, RefitBudget], list[list[int]]]  # the answers (their nodes) possible now
    refit: bool = True  # whether the final answer will be refitted
    blend: bool = True  # whether the task can blend (an ensemble is possible)
    _seen: int = field(default=-1, init=False)  # finished nodes when the answers were last worked out
    _at: float = field(default=0.0, init=False)  # when
    _took: float = field(default=0.0, init=False)  # and how long it took
    _from_answers: float = field(default=0.0, init=False)  # the reserve they gave

    def __call__(self, journal: Journal, left: float) -> float:
        bound = final_stage_seconds(journal, self.config, self.n_views, self.workers, self.refit_growth, self.refit,
                                    self.blend)
        if left > NEAR_THE_END * bound + 1.0 or not self.refit:
            return bound
        now = time.monotonic()
        # building an ensemble costs time too: at most a quarter of the search's time goes to it
        if len(journal.finished) != self._seen and now - self._at >= 3.0 * self._took:
            self._seen, self._at = len(journal.finished), now
            budget = self.budget(journal, left)
            answers = self.answers(journal, budget)
            self._took = time.monotonic() - now
            cost = budget.costs(journal)
            refits = [spread([cost(n) for n in nodes], self.workers) for nodes in answers]
            # the final stage builds the ensemble once more
            self._from_answers = 0.5 + 2.0 * self._took + max((r for r in refits if r != float("inf")), default=0.0)
        return min(bound, self._from_answers)

    def budget(self, journal: Journal, left: float) -> RefitBudget:
        """What a refit would have if the search stopped now."""
        return RefitBudget(seconds=left - ensemble_seconds(ensemble_pool(journal), self.n_views), workers=self.workers,
                           n_views=self.n_views, refit_growth=self.refit_growth)


def possible_answers(run_dir: Path, config: RunConfig, evaluation: Evaluation,
                     journal: Journal, budget: RefitBudget) -> list[list[int]]:
    """The answers the run could give if the search stopped now, as their nodes: each of the top-k
    nodes by search score, and the ensemble within the refit ``budget`` (val chooses among them
    only at the end)."""
    answers = [[n.id] for n in journal.ranked()[:config.select_top_k]]
    if config.ensemble and evaluation.blender is not None and answers:
        ensemble = evaluation.blender.build(journal, kept_dirs(run_dir, len(evaluation.views)),
                                            costs=budget.costs(journal), max_cost=budget.pooled)
        if ensemble is not None:
            answers.append(list(ensemble.members))
    return answers


def refit_final(run_dir: Path, store: RunStore, limits: Limits, executor: Executor, evaluation: Evaluation,
                choice: FinalChoice, time_left: float | None = None) -> float | None:
    """Run each script of the final answer once more with every agent-usable row (the members at
    once, as the workers allow), blend as chosen, and return the test score.

    None if every member failed, if the task cannot refit, or if the time budget (``time_left``
    seconds) ran out before the refit finished: a partial refit would be a different answer than
    the one chosen.
    """
    members = choice.members
    view = evaluation.refit_view(run_dir / "refit" / "public") if members else None
    if view is None:
        return None
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
        job = view.job(choice.journal[node_id].code, where, limits)
        jobs.append((node_id, weight, where, job, executor.submit(job)))
    if deadline is not None:  # members queued behind each other share the time that is left
        _, late = wait([future for *_, future in jobs], timeout=max(0.0, deadline - time.monotonic()))
        if late:  # the caller's executor shutdown stops what still runs
            for future in late:
                future.cancel()
            store.add_event("refit_abandoned", error=OUT_OF_TIME)
            return None
    kept: list[tuple[Path, float]] = []
    scores: list[float] = []
    out_of_time = False
    for node_id, weight, where, job, future in jobs:
        try:
            outcome = judge(future.result(), job, view, where, limits)
        except Exception as exc:  # a lost worker fails this member, never the run
            store.add_event("refit", node_id, status="failed", error=f"the executor failed: {exc}")
            continue
        finally:
            shutil.rmtree(job.workdir, ignore_errors=True)
        store.add_event("refit", node_id, status=outcome.status.value, error=outcome.error)
        out_of_time |= time_left is not None and outcome.run.limit_hit == "time"
        if outcome.grade is None or not outcome.grade.valid:
            continue
        kept.append((where, weight))
        if "test" in outcome.grade.scores:
            scores.append(outcome.grade.scores["test"])
    if out_of_time:
        store.add_event("refit_abandoned", error=OUT_OF_TIME)
        return None
    if not kept:
        return None
    if evaluation.blender is not None:
        return evaluation.blender.score(view, kept, "test")
    return scores[0] if len(kept) == 1 and scores else None
