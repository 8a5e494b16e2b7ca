"""``airlab tasks``: the built-in suite and the held-out suite, one line per task."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from airlab.tasks.loader import heldout_task_ids, known_task_ids, load_task, task_card


def _table(title: str, refs: list[str], rows: bool) -> Table:
    table = Table(title=title)
    for col in ("id", "kind", "size", "metric", "title"):
        table.add_column(col, justify="right" if col == "size" else "left")
    for ref in refs:
        card = task_card(ref)
        size = load_task(ref).summary()["size"] if rows else "-"
        table.add_row(ref, card["kind"], size, card["metric"], card["title"])
    return table


def tasks_command(
    rows: bool = typer.Option(True, help="Load each task's data to show its size (slower)."),
) -> None:
    """List the built-in tasks and the held-out suite: id, kind, size, metric."""
    console = Console()
    console.print(_table("airlab built-in tasks", known_task_ids(), rows))
    console.print(_table("held-out suite: benchmarks report on it, no default was chosen on it", heldout_task_ids(), rows))
