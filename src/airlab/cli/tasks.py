"""``airlab tasks``: the built-in suite, one line each."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from airlab.tasks.loader import builtin_spec, known_task_ids, load_task


def tasks_command(
    rows: bool = typer.Option(True, help="Load each dataset to count its rows (slower)."),
) -> None:
    """List the built-in tasks: id, kind, rows, metric."""
    table = Table(title="airlab built-in tasks")
    for col in ("id", "kind", "modality", "rows", "metric", "title"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for task_id in known_task_ids():
        spec = builtin_spec(task_id)
        n = str(load_task(task_id).n_rows) if rows else "-"
        direction = "↑" if spec.metric_info.higher_is_better else "↓"
        table.add_row(spec.id, spec.kind.value, spec.modality.value, n, f"{spec.metric} {direction}", spec.title)
    Console().print(table)
