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
    from airlab.cli import run as run_cmd
    from airlab.cli import tasks as tasks_cmd

    app.command("tasks")(tasks_cmd.tasks_command)
    app.command("run")(run_cmd.run_command)
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
