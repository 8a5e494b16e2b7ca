"""``airlab tasks``: the built-in suite, one line each."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from airlab.tasks.loader import known_task_ids, load_task, task_card


def tasks_command(
    rows: bool = typer.Option(True, help="Load each task's data to show its size (slower)."),
) -> None:
    """List the built-in tasks: id, kind, size, metric."""
    table = Table(title="airlab built-in tasks")
    for col in ("id", "kind", "size", "metric", "title"):
        table.add_column(col, justify="right" if col == "size" else "left")
    for task_id in known_task_ids():
        card = task_card(task_id)
        size = load_task(task_id).summary()["size"] if rows else "-"
        table.add_row(card["id"], card["kind"], size, card["metric"], card["title"])
    Console().print(table)
