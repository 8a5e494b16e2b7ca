"""The ``airlab`` command: a thin layer over :mod:`airlab.api`. Each command lives in its own module."""

from __future__ import annotations

import sys

import typer

from airlab.errors import AirlabError

app = typer.Typer(
    name="airlab",
    help="Run AI research agents on ML tasks, evaluate them honestly, and rank them across tasks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from airlab.cli import evaluate as evaluate_cmd
    from airlab.cli import run as run_cmd
    from airlab.cli import tasks as tasks_cmd

    app.command("tasks")(tasks_cmd.tasks_command)
    app.command("run")(run_cmd.run_command)
    from airlab.cli import bench as bench_cmd

    app.command("bench")(bench_cmd.bench_command)
    from airlab.cli import report as report_cmd

    app.command("report")(report_cmd.report_command)
    app.command("view")(report_cmd.view_command)
    app.command("eval")(evaluate_cmd.eval_command)
    app.command("export")(evaluate_cmd.export_command)
    app.command("grade")(evaluate_cmd.grade_command)
    try:
        from airlab.cli.rank import rank_command
    except ImportError:  # pragma: no cover - ranking not installed
        pass
    else:
        app.command("rank")(rank_command)


_register()


def main() -> None:
    try:
        app()
    except AirlabError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
