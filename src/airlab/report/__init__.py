"""Reports: a self-contained HTML page per run, a leaderboard per bench folder, and a live viewer."""

from airlab.report.run_report import load_run, render_run_page, write_run_report

__all__ = ["load_run", "render_run_page", "write_run_report"]
