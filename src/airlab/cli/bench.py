"""``airlab bench``: run agents x tasks x seeds and rank the agents."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from airlab.bench import AgentSpec, Cell, bench, load_agents
from airlab.errors import AirlabError
from airlab.rundir import RunResult
from airlab.store.results import read_results

console = Console()


def bench_command(
    agents: Path = typer.Option(None, "--agents", help="YAML file of agents (name, policy, params, coder)."),
    tasks: str = typer.Option(..., "--tasks", help="Comma-separated task ids or folders."),
    seeds: int = typer.Option(1, "--seeds", help="Seeds 0..N-1 per (agent, task)."),
    workers: int = typer.Option(1, "--workers", help="Runs at once."),
    budget_nodes: int = typer.Option(10, "--budget-nodes", help="Nodes per run (unless the agent sets it)."),
    budget_time: float = typer.Option(None, "--budget-time", help="Seconds per run."),
    methods: str = typer.Option("borda,copeland,kemeny,sco,elo", "--method", help="Rankings in the summary."),
    out: Path = typer.Option(Path("bench"), "--out"),
    suite_dir: str = typer.Option(None, "--suite-dir", help="Where <suite>:<id> tasks are: DIR, or NAME=DIR,NAME=DIR."),
) -> None:
    """Run every (agent, task, seed), resumably, then print rankings side by side."""
    specs = load_agents(agents) if agents else [AgentSpec(name="greedy-offline")]
    task_list = [t.strip() for t in tasks.split(",") if t.strip()]
    total = len(specs) * len(task_list) * seeds
    progress = Progress(TextColumn("[bold]bench[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("{task.description}"), console=console)

    with progress:
        tid = progress.add_task("", total=total)

        def done(cell: Cell, result: RunResult) -> None:
            progress.console.print(f"  {cell.agent.name:<20} {cell.task:<16} seed {cell.seed}  "
                                   f"test {result.test_score if result.test_score is not None else '-'}")
            progress.advance(tid)

        csv_path = bench(specs, task_list, list(range(seeds)), out, workers, budget_nodes, budget_time, on_done=done,
                         suite_dir=suite_dir)
    table = read_results(csv_path)
    console.print(f"results: {csv_path} ({len(table)} rows)")
    _summary(csv_path, [m.strip() for m in methods.split(",") if m.strip()])


def _summary(csv_path: Path, methods: list[str]) -> None:
    """Rankings of the agents by several methods, side by side (test scores; seeds averaged)."""
    from airlab import ranking

    frame = read_results(csv_path)
    frame = frame.assign(score=frame["test_score"])
    try:
        results = ranking.rank(frame, methods=methods)
    except AirlabError as exc:
        console.print(f"[yellow]no ranking: {exc}[/]")
        return
    agents = sorted({row.agent for res in results.values() for row in res.agents})
    table = Table(title="rank of each agent by method (test scores)")
    table.add_column("agent")
    for method in results:
        table.add_column(method, justify="right")
    for agent in agents:
        cells = []
        for res in results.values():
            match = [r for r in res.agents if r.agent == agent]
            cells.append(str(match[0].rank) if match else "-")
        table.add_row(agent, *cells)
    console.print(table)
