"""``airlab rank`` through the real ``airlab`` app, and once through its entry point (``airlab.cli:main``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import airlab
from typer.testing import CliRunner

from airlab.cli import app

runner = CliRunner()


@pytest.fixture
def results_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    for t in range(6):
        for s in range(2):
            for i, agent in enumerate(["alpha", "beta", "gamma"]):
                score = (3 - i) + 0.3 * rng.normal()
                rows.append(
                    {
                        "agent": agent,
                        "task": f"t{t}",
                        "seed": s,
                        "score": -score if t == 0 else score,
                    }
                )
    path = tmp_path / "results.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_json_output_shape(results_csv: Path) -> None:
    res = runner.invoke(
        app,
        [
            "rank",
            str(results_csv),
            "--method",
            "borda,kemeny,sco",
            "--lower-is-better",
            "t0",
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert list(payload) == ["borda", "kemeny", "sco"]
    for rows in payload.values():
        assert [r["agent"] for r in rows] == ["alpha", "beta", "gamma"]
        assert set(rows[0]) == {"agent", "rank", "score", "ci_low", "ci_high"}


def test_table_output_with_bootstrap(results_csv: Path) -> None:
    res = runner.invoke(
        app,
        [
            "rank",
            str(results_csv),
            "-m",
            "copeland,bt",
            "--lower-is-better",
            "t0",
            "--bootstrap",
            "20",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "copeland" in res.stdout and "Condorcet winner: alpha" in res.stdout
    assert "bootstrap CI" in res.stdout and "CI" in res.stdout


def test_seed_votes_baseline_and_plot(results_csv: Path, tmp_path: Path) -> None:
    plot = tmp_path / "profile.svg"
    res = runner.invoke(
        app,
        [
            "rank",
            str(results_csv),
            "-m",
            "aup,approval",
            "--seeds",
            "vote",
            "--baseline",
            "gamma",
            "--plot",
            str(plot),
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    assert plot.read_text().lstrip().startswith("<?xml")
    payload = json.loads(res.stdout)
    assert payload["aup"][0]["agent"] == "alpha"  # best ratio on every feasible task


def test_errors_are_printed_without_traceback(results_csv: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["rank", str(results_csv), "-m", "nope"])
    assert res.exit_code == 2
    assert "unknown ranking method" in res.output and "Traceback" not in res.output
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"agent": ["a"], "score": [1.0]}).to_csv(bad, index=False)
    res = runner.invoke(app, ["rank", str(bad)])
    assert res.exit_code == 2 and "task" in res.output


def test_default_methods_match_the_api() -> None:
    from airlab.cli.rank import DEFAULT_METHOD_LIST
    from airlab.ranking import DEFAULT_METHODS

    assert DEFAULT_METHOD_LIST.split(",") == list(DEFAULT_METHODS)


def test_list_methods() -> None:
    res = runner.invoke(app, ["rank", "--list-methods"])
    assert res.exit_code == 0
    assert "maximal-lotteries" in res.stdout and "kemeny-young" in res.stdout
    res = runner.invoke(app, ["rank"])
    assert res.exit_code == 2 and "results table" in res.output


def test_condorcet_cycle_prints_tied_ranks(tmp_path: Path) -> None:
    cycle = {"t1": ("a", "b", "c"), "t2": ("b", "c", "a"), "t3": ("c", "a", "b")}
    rows = [
        {"agent": agent, "task": task, "score": 3 - pos}
        for task, order in cycle.items()
        for pos, agent in enumerate(order)
    ]
    rows += [{"agent": a, "task": f"same{k}", "score": 1.0} for k in range(5) for a in "abc"]
    path = tmp_path / "cycle.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    res = runner.invoke(app, ["rank", str(path), "-m", "kemeny,ranked-pairs", "--format", "json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    for method in ("kemeny", "ranked-pairs"):
        assert [row["rank"] for row in payload[method]] == [1, 1, 1]
    res = runner.invoke(app, ["rank", str(path), "-m", "kemeny"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.stdout.split())  # the caption wraps with the terminal width
    assert "3 optimal orders; relative order not fixed among: a, b, c (equal ranks)" in text
    assert sum(line.split("│")[1].strip() == "1" for line in res.stdout.splitlines()
               if line.count("│") >= 3) == 3


def test_the_airlab_command_ranks(results_csv: Path) -> None:
    """The real entry point (``airlab.cli:main``) in its own process, errors included."""
    done = airlab("rank", str(results_csv), "-m", "borda,copeland", "--lower-is-better", "t0", "--format", "json")
    payload = json.loads(done.stdout)
    assert list(payload) == ["borda", "copeland"]
    assert [r["agent"] for r in payload["copeland"]] == ["alpha", "beta", "gamma"]
    done = airlab("rank", str(results_csv), "-m", "nope", check=False)
    assert done.returncode == 2 and "unknown ranking method" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    done = airlab("--help")
    assert " rank " in done.stdout
