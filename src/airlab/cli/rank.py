"""``airlab rank``: rank agents across tasks from any results table.

Registered by the CLI app as ``app.command("rank")(rank_command)``.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from airlab.errors import AirlabError


class SeedMode(StrEnum):
    mean = "mean"
    vote = "vote"


class MissingMode(StrEnum):
    worst = "worst"
    ignore = "ignore"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


DEFAULT_METHOD_LIST = "borda,copeland,kemeny,schulze,maximal-lotteries,sco,elo,bt,nash"


def _fmt(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.4g}"


def _caption(details: dict[str, Any], boot: Any) -> str | None:
    parts: list[str] = []
    if "condorcet_winner" in details:
        winner = details.get("condorcet_winner")
        parts.append(f"Condorcet winner: {winner}" if winner else "no Condorcet winner")
        cycles = details.get("cycles") or []
        if cycles:
            parts.append("majority cycles: " + "; ".join(" > ".join([*c, c[0]]) for c in cycles))
    groups = details.get("tied_groups") or []
    if groups:
        n_opt = details.get("n_optimal_orders")
        count = f"{n_opt} optimal orders" if n_opt else "several optimal orders"
        parts.append(
            f"{count}; relative order not fixed among: "
            + "; ".join(", ".join(g) for g in groups)
            + " (equal ranks)"
        )
    if details.get("undecided_pairs"):
        parts.append(
            "equal margins in conflict left unlocked: "
            + "; ".join(" > ".join(p) for p in details["undecided_pairs"])
        )
    if boot is not None:
        parts.append(
            f"{int(boot.confidence * 100)}% bootstrap CI over tasks"
            + (" and seeds" if boot.resample_seeds else "")
            + f" ({boot.succeeded}/{boot.resamples} resamples usable)"
        )
    return " · ".join(parts) or None


def _print_tables(console: Console, results: dict[str, Any]) -> None:
    for name, res in results.items():
        with_ci = res.bootstrap is not None
        table = Table(
            title=f"{name} — {res.description}",
            title_justify="left",
            caption=_caption(res.details, res.bootstrap),
            caption_justify="left",
        )
        table.add_column("rank", justify="right")
        table.add_column("agent")
        table.add_column("score", justify="right")
        if with_ci:
            table.add_column("CI", justify="right")
        for row in res.agents:
            cells = [str(row.rank), row.agent, _fmt(row.score)]
            if with_ci:
                cells.append(f"[{_fmt(row.ci_low)}, {_fmt(row.ci_high)}]")
            table.add_row(*cells)
        console.print(table)


def rank_command(
    results: Annotated[
        Path | None,
        typer.Argument(help="Results table (CSV/TSV/JSON/Parquet) with agent, task, score."),
    ] = None,
    method: Annotated[
        str,
        typer.Option("--method", "-m", help="Comma-separated methods (see --list-methods)."),
    ] = DEFAULT_METHOD_LIST,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", "-b", min=0, help="Resamples of tasks for CIs.")
    ] = 0,
    bootstrap_seeds: Annotated[
        bool, typer.Option("--bootstrap-seeds", help="Also resample each task's seeds.")
    ] = False,
    confidence: Annotated[
        float, typer.Option("--confidence", min=0.5, max=0.999, help="CI coverage.")
    ] = 0.95,
    lower_is_better: Annotated[
        str,
        typer.Option(
            "--lower-is-better", help="Comma-separated tasks whose metric is lower-better."
        ),
    ] = "",
    seeds: Annotated[
        SeedMode,
        typer.Option("--seeds", help="mean: average seeds; vote: each (task, seed) votes."),
    ] = SeedMode.mean,
    missing: Annotated[
        MissingMode,
        typer.Option("--missing", help="worst: missing/invalid ranks last; ignore: no info."),
    ] = MissingMode.worst,
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", help="Reference agent (MLGym feasibility, approval)."),
    ] = None,
    leaderboard: Annotated[
        Path | None,
        typer.Option(
            "--leaderboard", help="Leaderboard table (task, score) for percentile/medals."
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table (readable) or json.")
    ] = OutputFormat.table,
    random_state: Annotated[
        int, typer.Option("--seed", help="Random seed (bootstrap, SCO, Elo orders).")
    ] = 0,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Also write the MLGym performance-profile plot (.png/.svg)."),
    ] = None,
    list_methods: Annotated[
        bool, typer.Option("--list-methods", help="List the ranking methods and exit.")
    ] = False,
) -> None:
    """Rank agents across tasks with voting rules, ratings, SCO, Nash averaging and more."""
    from airlab.ranking import METHODS, rank
    from airlab.ranking.methods import ALIASES

    out = Console()
    err = Console(stderr=True)
    if list_methods:
        table = Table(title="ranking methods", title_justify="left")
        table.add_column("method")
        table.add_column("description")
        table.add_column("aliases")
        for name, spec in METHODS.items():
            aliases = ", ".join(a for a, target in ALIASES.items() if target == name)
            table.add_row(name, spec.description, aliases)
        out.print(table)
        return
    if results is None:
        err.print("[bold red]error:[/] give a results table (agent, task, score columns)")
        raise typer.Exit(code=2)
    try:
        progress_cb = None
        progress: Progress | None = None
        if bootstrap > 0 and output_format == OutputFormat.table:
            progress = Progress(
                TextColumn("bootstrap"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            )
            task_id = progress.add_task("bootstrap", total=bootstrap)

            def progress_cb(done: int) -> None:
                assert progress is not None
                progress.update(task_id, completed=done)

        if progress is not None:
            progress.start()
        try:
            ranked = rank(
                results,
                method,
                lower_is_better=[t for t in lower_is_better.split(",") if t.strip()],
                seeds=seeds.value,
                missing=missing.value,
                baseline=baseline,
                leaderboard=leaderboard,
                bootstrap=bootstrap,
                bootstrap_seeds=bootstrap_seeds,
                confidence=confidence,
                random_state=random_state,
                progress=progress_cb,
            )
        finally:
            if progress is not None:
                progress.stop()
        if plot is not None:
            from airlab.ranking.profiles import (
                performance_profiles,
                write_performance_profile_plot,
            )
            from airlab.ranking.table import load_results

            cube = load_results(
                results, lower_is_better=[t for t in lower_is_better.split(",") if t.strip()]
            )
            profiles = performance_profiles(
                cube.matrix(seeds.value), baseline=baseline, missing=missing.value
            )
            write_performance_profile_plot(profiles, plot)
    except AirlabError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=2) from None

    if output_format == OutputFormat.json:
        payload = {name: res.rows() for name, res in ranked.items()}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    _print_tables(out, ranked)
    if plot is not None:
        out.print(f"performance-profile plot written to {plot}")
