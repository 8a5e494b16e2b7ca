"""``airlab report`` (a self-contained HTML page) and ``airlab view`` (a local live viewer)."""

from __future__ import annotations

from pathlib import Path

import typer

from airlab.errors import AirlabError


def report_command(
    path: Path = typer.Argument(..., help="A run directory (journal.sqlite) or a bench folder (results.csv)."),
    out: Path = typer.Option(None, "--out", "-o", help="Where to write the HTML (default: inside PATH)."),
) -> None:
    """Write report.html for a run, or leaderboard.html for a bench folder."""
    from airlab.report.leaderboard import is_bench_dir, write_leaderboard
    from airlab.report.run_report import is_run_dir, write_run_report

    if is_run_dir(path):
        target = write_run_report(path, out)
    elif is_bench_dir(path):
        target = write_leaderboard(path, out)
    else:
        raise AirlabError(
            f"{path} is neither a run directory (with journal.sqlite) nor a bench folder (with results.csv)"
        )
    typer.echo(str(target))


def view_command(
    folder: Path = typer.Argument(Path("runs"), help="A folder of runs (or one run, or a bench folder)."),
    port: int = typer.Option(8765, "--port", help="TCP port (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind; the default is local only."),
) -> None:
    """Serve a read-only web view of runs, refreshing running ones as nodes land."""
    from airlab.report.viewer import make_server

    server = make_server(folder, host, port)
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    typer.echo(f"airlab view: serving {folder} at http://{bound_host}:{bound_port}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
