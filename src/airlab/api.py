"""Python entry points: :func:`run` and :func:`resume` (the CLI is a thin layer over these)."""

from __future__ import annotations

import json
import os
import shutil
import time
from functools import partial
from pathlib import Path
from typing import Any

from airlab.coders.base import make_coder
from airlab.engine import Engine, NodeCallback
from airlab.errors import AirlabError, RunStateError
from airlab.execution.candidate import judge
from airlab.execution.executor import Executor, LocalExecutor, sandbox_label
from airlab.execution.sandbox import make_sandbox
from airlab.final import (
    FinalChoice,
    FinalStageReserve,
    choose_final,
    possible_answers,
    refit_final,
    write_best_solution,
)
from airlab.rundir import RunConfig, RunResult, new_run_id
from airlab.search.diversity import draft_families, shannon_entropy
from airlab.search.node import NodeStatus
from airlab.search.policy import make_policy
from airlab.store.run_store import JOURNAL_FILE, RunStore
from airlab.tasks.loader import load_task
from airlab.tasks.protocol import Evaluation, Task
from airlab.tasks.spec import Limits


def effective_limits(task: Task, config: RunConfig) -> Limits:
    """The task's per-node limits with the run's overrides; on the local pool each of N workers
    gets at most its share of the cores as threads."""
    update: dict[str, Any] = {}
    if config.time_limit is not None:
        update["time_seconds"] = config.time_limit
    if config.memory_mb is not None:
        update["memory_mb"] = config.memory_mb
    if config.cpus is not None:
        update["cpus"] = config.cpus
    elif config.executor == "local":  # N local workers share the machine's cores instead of oversubscribing them
        share = max(1, (os.cpu_count() or 1) // max(1, config.workers))
        update["cpus"] = min(task.limits.cpus, share)
    return task.limits.model_copy(update=update)


def coder_options(config: RunConfig) -> dict[str, Any]:
    """Options a coder factory receives: the user's, plus run-level settings."""
    options = dict(config.coder_options)
    if config.base_url:
        options.setdefault("base_url", config.base_url)
    if config.max_cost is not None:
        options.setdefault("max_cost", config.max_cost)
    options.setdefault("operator_mode", config.operator_mode)
    return options


def make_executor(config: RunConfig) -> Executor:
    if config.executor == "local":
        return LocalExecutor(workers=config.workers, sandbox=make_sandbox(config.sandbox))
    if config.executor == "ray":
        from airlab.execution.ray_executor import RayExecutor

        return RayExecutor(workers=config.workers, sandbox_kind=config.sandbox, **config.executor_options)
    raise AirlabError(f"unknown executor '{config.executor}'; known: local, ray")


def run(config: RunConfig, out: Path = Path("runs"), on_node: NodeCallback | None = None,
        run_dir: Path | None = None) -> RunResult:
    """Start a new run; returns its result (also written to ``result.json``)."""
    task = load_task(config.task, config.suite_dir)
    make_policy(config.agent, config.agent_params)  # fail early on a bad agent
    if run_dir is None:
        run_dir = out / new_run_id(task.id, config.agent, config.coder, config.seed)
    if (run_dir / JOURNAL_FILE).exists():
        raise RunStateError(f"{run_dir} already holds a run; use --resume {run_dir}")
    run_dir.mkdir(parents=True, exist_ok=True)
    store = RunStore(run_dir / JOURNAL_FILE)
    store.set_meta(config=config.model_dump(mode="json"), task_id=task.id, elapsed=0.0, status="running")
    return _execute(run_dir, store, config, task, on_node)


def resume(run_dir: Path, on_node: NodeCallback | None = None, **overrides: Any) -> RunResult:
    """Continue a run that was killed or stopped; finished nodes are never repeated."""
    path = run_dir / JOURNAL_FILE
    if not path.exists():
        raise RunStateError(f"{run_dir} is not a run directory (no {JOURNAL_FILE})")
    store = RunStore(path)
    meta = store.meta()
    if "config" not in meta:
        raise RunStateError(f"{run_dir}: the journal has no run config")
    config = RunConfig.model_validate({**meta["config"], **{k: v for k, v in overrides.items() if v is not None}})
    store.set_meta(config=config.model_dump(mode="json"), status="running")
    task = load_task(config.task, config.suite_dir)
    return _execute(run_dir, store, config, task, on_node, elapsed_before=float(meta.get("elapsed", 0.0)))


def _execute(run_dir: Path, store: RunStore, config: RunConfig, task: Task, on_node: NodeCallback | None,
             elapsed_before: float = 0.0) -> RunResult:
    started = time.monotonic()  # a time budget counts the set-up too
    evaluation = task.evaluation(run_dir, config.split_seed, config.eval_folds)
    n_views = len(evaluation.views)
    store.set_meta(eval_folds=n_views)
    executor = make_executor(config)
    refit = config.refits(evaluation)
    reserve = FinalStageReserve(config, n_views, executor.capacity, evaluation.refit_growth,
                                answers=partial(possible_answers, run_dir, config, evaluation),
                                refit=refit, blend=evaluation.blender is not None)
    limits = effective_limits(task, config)
    engine = Engine(
        run_dir=run_dir, config=config, task=task, evaluation=evaluation, store=store,
        policy=make_policy(config.agent, config.agent_params),
        coder=make_coder(config.coder, {**coder_options(config), "public_dir": str(run_dir / "public")}),
        executor=executor, limits=limits, on_node=on_node, elapsed_before=elapsed_before, started=started,
        reserve=reserve,
    )
    refit_score = None
    try:
        baseline = score_baseline(run_dir, store, evaluation, executor, limits)
        status = engine.run()
        # the final stage runs inside the time budget, on the same workers
        left = engine.time_left()
        # under a time budget, an ensemble whose refit would overrun is no answer
        budget = None if left is None or not refit else reserve.budget(engine.journal, left)
        choice = choose_final(run_dir, store, config, evaluation, budget)
        if refit and status != "interrupted":
            try:
                refit_score = refit_final(run_dir, store, engine.limits, executor, evaluation, choice,
                                          time_left=engine.time_left())
            except KeyboardInterrupt:
                status = "interrupted"
                store.add_event("interrupted")
    finally:
        executor.shutdown()
        store.set_meta(elapsed=engine.elapsed)
    result = finalize(run_dir, store, config, evaluation, status, engine.elapsed, choice,
                      sandbox=sandbox_label(executor, config.sandbox),
                      refit_test_score=refit_score, baseline=baseline)
    store.set_meta(status=status)
    store.close()
    return result


def score_baseline(run_dir: Path, store: RunStore, evaluation: Evaluation, executor: Executor,
                   limits: Limits) -> dict[str, float]:
    """Run and grade the task's starter code once per run, like a node, so that "better than the
    baseline" is measured in the same run. Kept in the journal's meta: a resumed run reuses it."""
    if evaluation.baseline_code is None:
        return {}
    done = store.meta().get("baseline")
    if isinstance(done, dict):
        return {k: float(v) for k, v in done.get("scores", {}).items()}
    view, where = evaluation.views[0], run_dir / "baseline"
    job = view.job(evaluation.baseline_code, where, limits)
    try:
        outcome = judge(executor.submit(job).result(), job, view, where, limits)
        scores = dict(outcome.grade.scores) if outcome.grade is not None and outcome.grade.valid else {}
        record = {"status": outcome.status.value, "error": outcome.error, "scores": scores}
    except Exception as exc:  # a lost worker leaves the baseline unscored, never the run
        scores, record = {}, {"status": "failed", "error": f"the executor failed: {exc}", "scores": {}}
    finally:
        shutil.rmtree(job.workdir, ignore_errors=True)
    store.set_meta(baseline=record)
    store.add_event("baseline", status=record["status"], error=record["error"])
    return scores


def finalize(run_dir: Path, store: RunStore, config: RunConfig, evaluation: Evaluation, status: str,
             wall_seconds: float, choice: FinalChoice, sandbox: str, refit_test_score: float | None = None,
             baseline: dict[str, float] | None = None) -> RunResult:
    """Write ``best_<entry>`` (the selected node, or the ensemble when val chose it) and ``result.json``."""
    task, baseline = evaluation.task, baseline or {}
    journal = choice.journal
    selection, ensemble = choice.selection, choice.ensemble
    write_best_solution(run_dir, evaluation, choice)
    final_val, final_test = selection.val_score, selection.test_score
    if choice.use_ensemble and ensemble is not None:
        final_val, final_test = ensemble.val_score, ensemble.test_score
    families = draft_families(journal)
    nodes = journal.nodes
    result = RunResult(
        run_id=run_dir.name, status=status, task=task.id, agent=config.agent, coder=config.coder,
        seed=config.seed, split_seed=evaluation.split_seed,
        budget={"nodes": config.budget_nodes, "time_seconds": config.budget_time, "max_cost": config.max_cost},
        n_nodes=len(nodes),
        n_buggy=journal.count(NodeStatus.BUGGY) + journal.count(NodeStatus.TIMEOUT) + journal.count(NodeStatus.INVALID),
        n_valid=journal.count(NodeStatus.OK), n_invalid=journal.count(NodeStatus.INVALID),
        n_timeout=journal.count(NodeStatus.TIMEOUT), n_failed=journal.count(NodeStatus.FAILED),
        selected_node=selection.selected_node, search_score=selection.search_score,
        val_score=final_val, test_score=final_test, final="ensemble" if choice.use_ensemble else "node",
        node_val_score=selection.val_score, node_test_score=selection.test_score, ensemble=ensemble,
        oracle_node=selection.oracle_node, oracle_test_score=selection.oracle_test_score, top_k=selection.top_k,
        metric=task.objective.name, higher_is_better=task.objective.higher_is_better, kind=task.kind,
        references=task.references.model_dump(), baseline_search_score=baseline.get("search"),
        baseline_val_score=baseline.get("val"), baseline_test_score=baseline.get("test"),
        score_report=task.score_report(final_test),
        wall_seconds=round(wall_seconds, 2), draft_families=families,
        diversity_bits=round(shannon_entropy(families), 4),
        tokens_in=sum(n.tokens_in for n in nodes), tokens_out=sum(n.tokens_out for n in nodes),
        cost_usd=round(sum(n.cost_usd for n in nodes), 6), sandbox=sandbox,
        refit_test_score=refit_test_score, eval_folds=len(evaluation.views),
        best_search_score=journal.best.search_score if journal.best else None,
    )
    (run_dir / "result.json").write_text(json.dumps(result.model_dump(mode="json"), indent=2) + "\n")
    return result
