"""The run loop: policy -> operator/coder -> executor -> grader -> journal -> policy.

Durability: a node is written (pending, with its code) before it runs, and its outcome is written
in one transaction before the policy observes it. Killed at any moment, a run resumes from the
store: pending nodes are re-run with the same code, finished ones are never repeated.
"""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path

from airlab.coders.base import Coder, CodeRequest, CoderError
from airlab.execution.candidate import Outcome, judge
from airlab.execution.executor import Executor
from airlab.execution.sandbox import RunResult as SandboxResult
from airlab.execution.sandbox import SandboxJob
from airlab.rundir import RunConfig, node_dir, view_dir
from airlab.search.journal import Journal
from airlab.search.memory import build_memory
from airlab.search.node import HiddenScores, Node, NodeStatus, Operator
from airlab.search.policy import Action, Policy
from airlab.store.run_store import RunStore
from airlab.tasks.protocol import Evaluation, Task
from airlab.tasks.spec import Limits

NodeCallback = Callable[[Node, Journal], None]
Reserve = Callable[[Journal, float], float]  # (journal, seconds left) -> seconds kept back

MIN_NODE_SECONDS = 1.0  # the shortest time limit a node is given near the end of a time budget


@dataclass
class _Running:
    node: Node
    jobs: dict[int, SandboxJob] = field(default_factory=dict)
    results: dict[int, SandboxResult | BaseException] = field(default_factory=dict)


def node_seed(run_seed: int, node_id: int) -> int:
    return zlib.crc32(f"{run_seed}:{node_id}".encode())


@dataclass
class Engine:
    run_dir: Path
    config: RunConfig
    task: Task
    evaluation: Evaluation  # the hidden side: one view, or one per hidden fold
    store: RunStore
    policy: Policy
    coder: Coder
    executor: Executor
    limits: Limits
    on_node: NodeCallback | None = None
    elapsed_before: float = 0.0
    reserve: Reserve | None = None  # seconds kept back from a time budget for the final stage
    started: float = field(default_factory=time.monotonic)  # the run's clock (set-up included)
    journal: Journal = field(init=False)
    stop_reason: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.journal = Journal(self.task.objective, self.store.nodes())
        self.views = list(self.evaluation.views)
        for node in self.journal.finished:
            self.policy.observe(node, self.journal)
        self._start = self.started
        self._cost = sum(n.cost_usd for n in self.journal)

    # -- budget ------------------------------------------------------------------------------
    @property
    def elapsed(self) -> float:
        return self.elapsed_before + (time.monotonic() - self._start)

    def time_left(self) -> float | None:
        """Seconds left of the whole time budget (None without one)."""
        if self.config.budget_time is None:
            return None
        return self.config.budget_time - self.elapsed

    def search_time_left(self) -> float | None:
        """Seconds left for the search: the time budget minus what the final stage will need."""
        left = self.time_left()
        if left is None:
            return None
        return left - (self.reserve(self.journal, left) if self.reserve else 0.0)

    def _budget_left(self) -> bool:
        if self.stop_reason == "budget_cost":
            return False
        cfg = self.config
        if cfg.budget_nodes is not None and len(self.journal) >= cfg.budget_nodes:
            self.stop_reason = self.stop_reason or "complete"
            return False
        left = self.search_time_left()
        if left is not None and left <= next_node_seconds(self.journal):  # don't start what can't finish
            self.stop_reason = self.stop_reason or "complete"
            return False
        if cfg.max_cost is not None and self._cost >= cfg.max_cost:
            self.stop_reason = "budget_cost"
            return False
        return True

    def _node_limits(self) -> Limits:
        """Near the end of a time budget a node gets only the time that is left, shared by the
        fold runs that queue behind each other on the workers."""
        left = self.search_time_left()
        if left is None:
            return self.limits
        rounds = -(-len(self.views) // max(1, self.executor.capacity))
        seconds = max(MIN_NODE_SECONDS, left / rounds)
        return self.limits.model_copy(update={"time_seconds": min(self.limits.time_seconds, seconds)})

    # -- one node ----------------------------------------------------------------------------
    def _write_node(self, action: Action) -> Node:
        node_id = self.journal.next_id
        parents = [self.journal[p] for p in action.parents]
        depth = parents[0].debug_depth + 1 if action.operator == Operator.DEBUG and parents else 0
        node = Node(id=node_id, parents=action.parents, operator=action.operator, coder=self.coder.name,
                    debug_depth=depth, created_at=time.time())
        request = CodeRequest(
            operator=action.operator, node_id=node_id, seed=node_seed(self.config.seed, node_id),
            run_seed=self.config.seed, task_id=self.task.id, description=self.evaluation.description,
            preview=self.evaluation.preview, entry=self.evaluation.entry, parents=parents,
            memory=build_memory(self.journal, action.operator, action.parents),
            limits=self.limits,
        )
        try:
            proposal = self.coder.write(request)
        except CoderError as exc:
            node.status = NodeStatus.FAILED
            node.error = f"the coder produced no usable code: {exc}"
            node.finished_at = time.time()
            # a failed call still spent tokens; a spent budget ends the run cleanly
            node.tokens_in, node.tokens_out, node.cost_usd = exc.tokens_in, exc.tokens_out, exc.cost_usd
            node.meta = dict(exc.meta)
            self._cost += node.cost_usd
            if exc.stops_run:
                self.stop_reason = "budget_cost"
            return node
        node.plan, node.code, node.family = proposal.plan, proposal.code, proposal.family
        node.meta = proposal.meta
        node.tokens_in, node.tokens_out, node.cost_usd = proposal.tokens_in, proposal.tokens_out, proposal.cost_usd
        self._cost += proposal.cost_usd
        return node

    def _view_dir(self, node_id: int, fold: int) -> Path:
        return view_dir(self.run_dir, node_id, fold, len(self.views))

    def _submit(self, entry: _Running) -> list[tuple[Future[SandboxResult], int]]:
        """Write the node's code, then one job per view (K jobs may go to K workers)."""
        node = entry.node
        folder = node_dir(self.run_dir, node.id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / self.evaluation.entry).write_text(node.code)
        limits = self._node_limits()
        node.meta["time_limit"] = limits.time_seconds
        futures = []
        for fold, view in enumerate(self.views):
            job = entry.jobs[fold] = view.job(node.code, self._view_dir(node.id, fold), limits)
            futures.append((self.executor.submit(job), fold))
        return futures

    def _finish(self, entry: _Running) -> None:
        node, results = entry.node, entry.results
        limits = self.limits.model_copy(update={"time_seconds": node.meta.get("time_limit", self.limits.time_seconds)})
        outcomes = []
        for fold, view in enumerate(self.views):
            result = results[fold]
            where = self._view_dir(node.id, fold)
            if isinstance(result, BaseException):
                node.status = NodeStatus.FAILED
                node.error = f"the executor failed: {type(result).__name__}: {result}"
                break
            job = entry.jobs[fold]
            outcomes.append(judge(result, job, view, where, limits))
            _remove_tree(job.workdir)
        hidden = None
        if len(outcomes) == len(self.views):
            first = outcomes[0].run
            node.exit_code = max((o.run.exit_code or 0 for o in outcomes), key=abs)
            node.exec_seconds = round(sum(o.run.seconds for o in outcomes), 3)
            node.peak_memory_mb = max((o.run.peak_memory_mb or 0.0 for o in outcomes), default=None) or None
            node.output_tail = (first.stdout_tail[-2000:] + ("\n" if first.stdout_tail else "") + first.stderr_tail[-2000:]).strip()
            failed = [(k, o) for k, o in enumerate(outcomes) if o.status != NodeStatus.OK]
            if failed:
                k, bad = failed[0]
                node.status, node.limit_hit = bad.status, bad.run.limit_hit
                node.error = bad.error if len(self.views) == 1 else f"hidden fold {k}: {bad.error}"
                node.output_tail = (bad.run.stdout_tail[-2000:] + "\n" + bad.run.stderr_tail[-2000:]).strip()
            else:
                node.status = NodeStatus.OK
                # a view may grade other roles only (a suite's competition view grades test alone)
                folds = [float(o.grade.scores["search"]) for o in outcomes
                         if o.grade is not None and "search" in o.grade.scores]
                node.search_score = float(sum(folds) / len(folds))
                node.fold_scores = folds if len(folds) > 1 else []
                hidden = self._hidden_scores(node, outcomes)
        node.finished_at = time.time()
        self.store.put_node(node, hidden, event="node_finished")  # durable before it is used
        self.journal.put(node)
        self.policy.observe(node, self.journal)
        if self.on_node:
            self.on_node(node, self.journal)

    def _hidden_scores(self, node: Node, outcomes: list[Outcome]) -> HiddenScores:
        """Val and test scores: from the single run, or combined from the K fold runs."""
        grades = [o.grade for o in outcomes if o.grade is not None]
        if len(outcomes) == 1:
            scores = grades[0].scores
        else:
            kept = [self._view_dir(node.id, fold) for fold in range(len(self.views))]
            scores = self.evaluation.combine(kept, grades)
        return HiddenScores(node_id=node.id, val=scores.get("val"), test=scores.get("test"))

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> str:
        in_flight: dict[Future[SandboxResult], tuple[_Running, int]] = {}
        running: dict[int, _Running] = {}

        def launch(node: Node) -> None:
            entry = running[node.id] = _Running(node)
            for future, fold in self._submit(entry):
                in_flight[future] = (entry, fold)

        for node in self.journal.pending:  # resumed: run again with the same code
            launch(node)
        try:
            while True:
                while len(in_flight) < self.executor.capacity and self._budget_left():
                    rng = random.Random(node_seed(self.config.seed, self.journal.next_id) ^ 0x5EED)
                    action = self.policy.propose(self.journal, rng)
                    if action is None:
                        break
                    node = self._write_node(action)
                    self.store.put_node(node, event="node_created")
                    self.journal.put(node)
                    if node.status == NodeStatus.FAILED:
                        self.policy.observe(node, self.journal)
                        if self.on_node:
                            self.on_node(node, self.journal)
                        continue
                    launch(node)
                if not in_flight:
                    break
                done, _ = wait(list(in_flight), timeout=1.0, return_when=FIRST_COMPLETED)
                for future in done:
                    entry, fold = in_flight.pop(future)
                    try:
                        entry.results[fold] = future.result()
                    except Exception as exc:  # an executor failure is recorded, never lost
                        entry.results[fold] = exc
                    if len(entry.results) == len(self.views):
                        del running[entry.node.id]
                        self._finish(entry)
        except KeyboardInterrupt:
            self.stop_reason = "interrupted"
            self.executor.shutdown()
            self.store.add_event("interrupted")
        return self.stop_reason or "complete"


def next_node_seconds(journal: Journal) -> float:
    """The least wall time the next node can be expected to need, from writing its script to
    grading its K runs: that of the fastest of the last few nodes. Model families differ several-fold
    in cost, so one slow node must not end a search that still has time for faster ones: the search
    stops only when not even a node like its fastest recent one could finish. A node that then runs
    out of time is stopped by its time limit (:meth:`Engine._node_limits`), inside the search's share
    of the budget, and recorded with the reason."""
    recent = [n.finished_at - n.created_at for n in journal.finished[-5:] if n.is_ok and n.finished_at is not None]
    return min(recent, default=0.0)


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
