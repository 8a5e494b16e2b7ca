"""``airlab bench``: every (agent, task, seed), resumable, into a tidy results table.

Each run lives in ``<out>/runs/<agent>--<task>--s<seed>`` (its run id). A finished run is skipped, a killed one is
resumed, and each finished run adds one row to ``<out>/results.csv`` and ``<out>/results.sqlite``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from airlab import api
from airlab.errors import AirlabError
from airlab.rundir import RunConfig, RunResult
from airlab.store.results import ResultRow, append_result, read_results, report_json, results_paths


class AgentSpec(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    policy: str = "greedy"
    params: dict[str, Any] = Field(default_factory=dict)
    coder: str = "offline"
    coder_options: dict[str, Any] = Field(default_factory=dict)
    budget_nodes: int | None = None
    budget_time: float | None = None


def load_agents(path: Path) -> list[AgentSpec]:
    """An agents file: a list of agents, or a mapping name -> agent, or ``{agents: ...}``."""
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise AirlabError(f"cannot read agents file {path}: {exc}") from exc
    if isinstance(raw, dict) and "agents" in raw:
        raw = raw["agents"]
    if isinstance(raw, dict):
        raw = [{"name": k, **(v or {})} for k, v in raw.items()]
    if not isinstance(raw, list) or not raw:
        raise AirlabError(f"{path}: expected a list of agents (each with name, policy, params, coder)")
    agents = []
    for i, item in enumerate(raw):
        try:
            agents.append(AgentSpec.model_validate(item))
        except ValidationError as exc:
            fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise AirlabError(f"{path}: agent #{i + 1}: {fields}") from None
    names = [a.name for a in agents]
    if len(set(names)) != len(names):
        raise AirlabError(f"{path}: agent names must be unique, got {names}")
    return agents


class Cell(BaseModel):
    agent: AgentSpec
    task: str
    seed: int


def _row(agent: str, result: RunResult) -> ResultRow:


    return ResultRow(
        agent=agent, task=result.task, seed=result.seed, split_seed=result.split_seed, metric=result.metric,
        higher_is_better=result.higher_is_better, search_score=result.search_score, val_score=result.val_score,
        test_score=result.test_score, valid=result.selected_node is not None, nodes=result.n_nodes,
        tokens=result.tokens_in + result.tokens_out, cost=result.cost_usd, seconds=result.wall_seconds,
        source="run", run_id=result.run_id, baseline_test_score=result.baseline_test_score,
        report=report_json(result.score_report),
    )


def run_cell(cell: Cell, out: Path, budget_nodes: int | None, budget_time: float | None,
             suite_dir: str | None = None) -> RunResult:
    run_dir = out / "runs" / f"{cell.agent.name}--{Path(cell.task).name.replace(':', '-')}--s{cell.seed}"
    result_file = run_dir / "result.json"
    if result_file.exists():
        result = RunResult.model_validate_json(result_file.read_text())
        if result.status == "complete":
            return result
    if (run_dir / "journal.sqlite").exists():
        return api.resume(run_dir)
    nodes = cell.agent.budget_nodes or budget_nodes
    seconds = cell.agent.budget_time or budget_time
    config = RunConfig(
        task=cell.task, suite_dir=suite_dir, agent=cell.agent.policy, agent_params=cell.agent.params, coder=cell.agent.coder,
        coder_options=cell.agent.coder_options, seed=cell.seed,
        budget_nodes=nodes if (nodes or seconds) else 20, budget_time=seconds,
    )
    return api.run(config, run_dir=run_dir)


def bench(agents: list[AgentSpec], tasks: list[str], seeds: list[int], out: Path, workers: int = 1,
          budget_nodes: int | None = 10, budget_time: float | None = None,
          on_done: Any = None, suite_dir: str | None = None) -> Path:
    """Run the grid; return the results csv. Rows already in the table are not added twice."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path, _ = results_paths(out)
    have = set()
    if csv_path.exists():
        existing = read_results(csv_path)
        have = set(existing["run_id"].dropna().astype(str))
    cells = [Cell(agent=a, task=t, seed=s) for a in agents for t in tasks for s in seeds]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(run_cell, c, out, budget_nodes, budget_time, suite_dir): c for c in cells}
        for future in as_completed(futures):
            cell = futures[future]
            result = future.result()
            if result.run_id not in have:
                append_result(out, _row(cell.agent.name, result))
                have.add(result.run_id)
            if on_done:
                on_done(cell, result)
    return csv_path
