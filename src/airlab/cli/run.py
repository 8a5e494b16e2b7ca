"""``airlab run``: an agent works on a task, with a live progress display."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from airlab import api
from airlab.errors import AirlabError
from airlab.rundir import RefitMode, RunConfig, RunResult
from airlab.search.journal import Journal
from airlab.search.node import Node, NodeStatus

console = Console()
STATUS_STYLE = {"ok": "green", "buggy": "red", "timeout": "yellow", "invalid": "magenta", "failed": "red"}


def _parse_params(items: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise AirlabError(f"--param expects KEY=VALUE, got '{item}'")
        key, value = item.split("=", 1)
        params[key.strip()] = yaml.safe_load(value)
    return params


def _agent_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise AirlabError(f"cannot read agent file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise AirlabError(f"{path}: an agent file is a mapping with 'policy' and optional 'params', 'coder'")
    return data


def run_command(
    task: str = typer.Argument(None, help="A built-in task id or a folder with task.yaml."),
    resume: Path = typer.Option(None, "--resume", help="Continue the run in this directory."),
    agent: str = typer.Option("greedy", "--agent", help="Search policy: greedy, mcts, evolution, steady-state (or any registered policy)."),
    agent_file: Path = typer.Option(None, "--agent-file", help="YAML with policy, params and coder."),
    param: list[str] = typer.Option([], "--param", "-p", help="Policy parameter KEY=VALUE (repeatable)."),
    coder: str = typer.Option("offline", "--coder", help="offline, or an LLM such as openai:MODEL."),
    coder_option: list[str] = typer.Option([], "--coder-option", help="Coder option KEY=VALUE (repeatable), e.g. max_tokens=2048."),
    budget_nodes: int = typer.Option(None, "--budget-nodes", help="Stop after this many nodes (default 20 when no time budget)."),
    budget_time: float = typer.Option(None, "--budget-time", help="Wall-clock budget in seconds for the whole run: the search stops in time for the ensemble and the refit to finish inside it."),
    seed: int = typer.Option(0, "--seed"),
    split_seed: int = typer.Option(None, "--split-seed", help="Seed of the hidden splits (default: the task's)."),
    workers: int = typer.Option(1, "--workers", help="Candidates run at once."),
    top_k: int = typer.Option(3, "--top-k", help="Final selection: best by val among the top-k by search."),
    sandbox: str = typer.Option("auto", "--sandbox", help="auto (warm workers in bubblewrap where it works, else plain), warm, bwrap (a cold start per node) or plain."),
    time_limit: float = typer.Option(None, "--time-limit", help="Per-node wall time (overrides the task)."),
    memory_mb: int = typer.Option(None, "--memory-mb", help="Per-node memory (overrides the task)."),
    cpus: int = typer.Option(None, "--cpus", help="Per-node CPU threads (overrides the task)."),
    base_url: str = typer.Option(None, "--base-url", help="OpenAI-compatible server URL (vLLM, Ollama, llama.cpp, ...)."),
    max_cost: float = typer.Option(None, "--max-cost", help="Hard cap on LLM spend in USD; the run ends cleanly."),
    operator: str = typer.Option("prompt", "--operator", help="prompt (one-shot) or react (multi-step with tools)."),
    executor: str = typer.Option("local", "--executor", help="local or ray."),
    ray_address: str = typer.Option(None, "--ray-address", help="Ray cluster address (default: start a local Ray)."),
    eval_folds: str = typer.Option("auto", "--eval-folds", help="Hidden K-fold evaluation: K, or auto (5 folds below 1,000 search-able rows, 3 below 10,000, else 1)."),
    refit: RefitMode = typer.Option("auto", "--refit",
                                    help="Refit the final answer on all agent-usable rows: always, never, or auto (unless it is "
                                         "already a vote of K fold runs on a label metric)."),
    ensemble: bool = typer.Option(True, "--ensemble/--no-ensemble",
                                  help="Build a greedy ensemble of nodes on the hidden search rows; val decides if it is the answer."),
    out: Path = typer.Option(Path("runs"), "--out", help="Parent folder of run directories."),
    suite_dir: str = typer.Option(None, "--suite-dir", help="Where <suite>:<id> tasks are: DIR, or NAME=DIR,NAME=DIR."),
    as_json: bool = typer.Option(False, "--json", help="Print result.json instead of the summary table."),
) -> None:
    """Run an agent on a task (or resume a run) and print a summary."""
    if resume is not None:
        with _progress(None) as (callback, _):
            result = api.resume(resume, on_node=callback, budget_nodes=budget_nodes, budget_time=budget_time)
        _print(result, resume, as_json)
        return
    if not task:
        raise AirlabError("give a task id or folder (see `airlab tasks`), or --resume RUN_DIR")
    params = _parse_params(param)
    if agent_file is not None:
        spec = _agent_file(agent_file)
        agent = spec.get("policy", agent)
        params = {**spec.get("params", {}), **params}
        coder = spec.get("coder", coder)
    if budget_nodes is None and budget_time is None:
        budget_nodes = 20
    config = RunConfig(
        task=task, suite_dir=suite_dir, agent=agent, agent_params=params, coder=coder, coder_options=_parse_params(coder_option),
        seed=seed, split_seed=split_seed,
        budget_nodes=budget_nodes, budget_time=budget_time, workers=workers, select_top_k=top_k,
        sandbox=sandbox, time_limit=time_limit, memory_mb=memory_mb, cpus=cpus, base_url=base_url,
        max_cost=max_cost, operator_mode=operator, executor=executor, eval_folds=eval_folds, refit=refit,
        ensemble=ensemble,
        executor_options={"address": ray_address} if ray_address else {},
    )
    with _progress(budget_nodes) as (callback, _):
        result = api.run(config, out=out, on_node=callback)
    _print(result, out / result.run_id, as_json)


class _progress:
    """A live bar: nodes done, best search score so far, status counts."""

    def __init__(self, total: int | None):
        self.total = total
        self.bar = Progress(
            TextColumn("[bold]airlab[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.description}"), console=console, transient=False,
        )

    def __enter__(self) -> tuple[Any, Progress]:
        self.bar.start()
        self.tid = self.bar.add_task("starting", total=self.total)

        def on_node(node: Node, journal: Journal) -> None:
            best = journal.best
            counts = {s.value: journal.count(s) for s in NodeStatus if s != NodeStatus.PENDING}
            text = " ".join(f"[{STATUS_STYLE.get(k, 'white')}]{k} {v}[/]" for k, v in counts.items() if v)
            score = f"best search {best.search_score:.5g}" if best and best.search_score is not None else "no valid node yet"
            style = STATUS_STYLE.get(node.status.value, "white")
            self.bar.console.print(
                f"  node {node.id:>3} {node.operator.value:<9} [{style}]{node.status.value:<7}[/] "
                f"{'' if node.search_score is None else f'{node.search_score:.5g}':>9}  {node.plan.splitlines()[0][:70] if node.plan else (node.error or '')[:70]}"
            )
            self.bar.update(self.tid, completed=len(journal.finished), description=f"{score} | {text}")

        return on_node, self.bar

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.5g}"


def _ensemble_rows(result: RunResult) -> list[tuple[str, str]]:
    ens = result.ensemble
    if ens is None:
        return []
    members = ", ".join(f"{n} ({w:.2f})" for n, w in zip(ens.members, ens.weights, strict=True))
    return [("ensemble of nodes (weights)", members),
            ("ensemble search / val / test", f"{_fmt(ens.search_score)} / {_fmt(ens.val_score)} / {_fmt(ens.test_score)}")]


def _print(result: RunResult, run_dir: Path, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
        return
    arrow = "higher" if result.higher_is_better else "lower"
    table = Table(title=f"{result.task} · {result.agent} · {result.coder} · seed {result.seed} ({result.status})")
    table.add_column("")
    table.add_column("value", justify="right")
    rows = [
        ("nodes tried", str(result.n_nodes)),
        ("buggy (incl. timeouts, invalid)", str(result.n_buggy)),
        ("valid", str(result.n_valid)),
        (f"best search score ({result.metric}, {arrow} is better)", _fmt(result.best_search_score)),
        ("selected node (its search score)", "-" if result.selected_node is None else f"{result.selected_node} ({_fmt(result.search_score)})"),
        ("its val / test score", f"{_fmt(result.node_val_score)} / {_fmt(result.node_test_score)}"),
        *_ensemble_rows(result),
        ("final answer", "ensemble" if result.final == "ensemble" else f"node {result.selected_node}"),
        ("final val score", _fmt(result.val_score)),
        ("final test score", _fmt(result.test_score)),
        ("oracle best test score", f"{_fmt(result.oracle_test_score)} (node {result.oracle_node})"),
        *([("refit test score", _fmt(result.refit_test_score))] if result.refit_test_score is not None else []),
        *([("starter code search / val / test", " / ".join(_fmt(v) for v in (
            result.baseline_search_score, result.baseline_val_score, result.baseline_test_score)))]
          if result.kind == "program" else []),
        *([("hidden search folds", str(result.eval_folds))] if result.eval_folds > 1 else []),
        ("draft families (entropy)", f"{', '.join(result.draft_families)} ({result.diversity_bits:.2f} bits)"),
        ("wall time", f"{result.wall_seconds:.1f} s"),
        ("run directory", str(run_dir)),
    ]
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
