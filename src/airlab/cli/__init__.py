"""The ``airlab`` command: a thin layer over :mod:`airlab.api`. Each command lives in its own module."""

from __future__ import annotations

import sys
from collections.abc import Callable

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
    except ImportError as exc:  # a broken install: say so when `rank` is used, never hide it
        app.command("rank", context_settings=_ANY_ARGS)(_unavailable("rank", exc))
    else:
        app.command("rank")(rank_command)


_ANY_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


def missing_module_error(command: str, exc: ImportError) -> AirlabError:
    """The error of a command whose module could not be imported: the missing module and the fix."""
    module = exc.name or str(exc)
    top = module.split(".")[0]
    hint = ("reinstall airlab: pip install --force-reinstall airlab" if top == "airlab"
            else f"install it with: pip install {top} (or reinstall airlab with its dependencies: pip install airlab)")
    return AirlabError(f"'airlab {command}' is unavailable: the module '{module}' could not be imported "
                       f"({exc}); {hint}")


def _unavailable(command: str, exc: ImportError) -> Callable[[], None]:
    """A stand-in for a command that failed to import: it lists in --help and fails loudly."""

    def stand_in() -> None:
        raise missing_module_error(command, exc)

    stand_in.__doc__ = f"Unavailable: {missing_module_error(command, exc)}"
    return stand_in


_register()


def main() -> None:
    try:
        app()
    except AirlabError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
