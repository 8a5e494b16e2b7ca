"""``airlab eval``, ``airlab export`` and ``airlab grade``: airlab's hidden splits and grader for any
solution and any agent."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from airlab import evaluation
from airlab.errors import AirlabError
from airlab.evaluation import EvalResult
from airlab.store.results import ResultRow, append_result

console = Console()


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _check_record(agent: str | None, results: Path | None) -> None:
    if (agent is None) != (results is None):
        raise AirlabError("to record the result, give both --agent NAME and --results PATH (a folder or a .csv)")


def _record(result: EvalResult, agent: str | None, results: Path | None, seed: int) -> Path | None:
    if agent is None or results is None:
        return None
    row = ResultRow(
        agent=agent, task=result.task, seed=seed, split_seed=result.split_seed, metric=result.metric,
        higher_is_better=result.higher_is_better, search_score=result.search_score,
        val_score=result.val_score, test_score=result.test_score, valid=result.valid,
        nodes=1 if result.source == "eval" else None,
        tokens=0 if result.source == "eval" else None, cost=0.0 if result.source == "eval" else None,
        seconds=result.wall_seconds if result.source == "eval" else None, source=result.source,
    )
    return append_result(results, row)


def _report(result: EvalResult, as_json: bool, recorded: Path | None) -> None:
    if as_json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        arrow = "higher" if result.higher_is_better else "lower"
        style = "green" if result.ok else "red"
        table = Table(title=f"{result.task} · split seed {result.split_seed} · {result.source}")
        table.add_column("")
        table.add_column("value", justify="right")
        table.add_row("status", f"[{style}]{result.status}[/]")
        table.add_row(f"search score ({result.metric}, {arrow} is better)", _fmt(result.search_score))
        table.add_row("val score", _fmt(result.val_score))
        table.add_row("test score", _fmt(result.test_score))
        if result.source == "eval":
            table.add_row("wall time", f"{result.wall_seconds:.1f} s (limit {result.time_limit:g} s)")
            table.add_row("sandbox", str(result.sandbox))
        console.print(table)
        if result.error:
            console.print(result.error, style=style, markup=False, highlight=False)
            if result.source == "eval" and result.stderr_tail and result.status != "invalid":
                console.print("stderr (end):", style="bold")
                console.print(result.stderr_tail[-1500:], markup=False, highlight=False)
        if recorded is not None:
            console.print(f"recorded in {recorded}")


def _exit(result: EvalResult) -> None:
    if not result.ok:
        sys.exit(1)


def eval_command(
    task: str = typer.Argument(..., help="A built-in task id or a folder with task.yaml."),
    script: Path = typer.Argument(..., help="The solution script to run as a candidate."),
    split_seed: int = typer.Option(None, "--split-seed", help="Seed of the hidden splits (default: the task's)."),
    time_limit: float = typer.Option(None, "--time-limit", help="Wall time in seconds (default: the task's)."),
    memory_mb: int = typer.Option(None, "--memory-mb", help="Memory in MB (default: the task's)."),
    sandbox: str = typer.Option("auto", "--sandbox", help="auto (as in airlab run: warm workers in bubblewrap where it works, else plain), warm, bwrap or plain."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
    agent: str = typer.Option(None, "--agent", help="Record the result under this agent name."),
    results: Path = typer.Option(None, "--results", help="Results folder or .csv to record into."),
    seed: int = typer.Option(0, "--seed", help="Seed (repeat number) recorded with the result."),
    suite_dir: str = typer.Option(None, "--suite-dir", help="Where <suite>:<id> tasks are: DIR, or NAME=DIR,NAME=DIR."),
) -> None:
    """Run a script exactly as a node runs (same sandbox, limits and grader) and print its scores.

    Exit status: 0 if the submission is valid, 1 if the script failed or wrote an invalid one.
    """
    _check_record(agent, results)
    if not script.is_file():
        raise AirlabError(f"solution script {script} does not exist or is not a file")
    result = evaluation.evaluate_script(task, script, split_seed=split_seed, time_limit=time_limit,
                                        memory_mb=memory_mb, sandbox=sandbox, suite_dir=suite_dir)
    _report(result, as_json, _record(result, agent, results, seed))
    _exit(result)


def export_command(
    task: str = typer.Argument(..., help="A built-in task id or a folder with task.yaml."),
    folder: Path = typer.Argument(..., help="Where to write the workspace (new or empty)."),
    split_seed: int = typer.Option(None, "--split-seed", help="Seed of the hidden splits (default: the task's)."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty folder, overwriting the files."),
    suite_dir: str = typer.Option(None, "--suite-dir", help="Where <suite>:<id> tasks are: DIR, or NAME=DIR,NAME=DIR."),
) -> None:
    """Write the agent-visible workspace of a task (what a node sees; no hidden label)."""
    written = evaluation.export_workspace(task, folder, split_seed=split_seed, force=force, suite_dir=suite_dir)
    for path in written:
        console.print(f"  {path}", markup=False, highlight=False)
    console.print(
        f"Write submission.csv next to these files, then: airlab grade {task} {folder / 'submission.csv'}"
        + (f" --split-seed {split_seed}" if split_seed is not None else ""),
        markup=False, highlight=False,
    )


def grade_command(
    task: str = typer.Argument(..., help="A built-in task id or a folder with task.yaml."),
    submission: Path = typer.Argument(..., help="The submission CSV (or a program task's artefact) to validate and score."),
    split_seed: int = typer.Option(None, "--split-seed", help="Seed of the hidden splits (default: the task's)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
    agent: str = typer.Option(None, "--agent", help="Record the result under this agent name."),
    results: Path = typer.Option(None, "--results", help="Results folder or .csv to record into."),
    seed: int = typer.Option(0, "--seed", help="Seed (repeat number) recorded with the result."),
    suite_dir: str = typer.Option(None, "--suite-dir", help="Where <suite>:<id> tasks are: DIR, or NAME=DIR,NAME=DIR."),
) -> None:
    """Validate and score a submission made elsewhere, with a node's grader and messages.

    Exit status: 0 if valid, 1 if refused.
    """
    _check_record(agent, results)
    result = evaluation.grade_submission(task, submission, split_seed=split_seed, suite_dir=suite_dir)
    _report(result, as_json, _record(result, agent, results, seed))
    _exit(result)
