"""The leaderboard of a bench folder: rankings with intervals, profile, heat map, winners."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from airlab.report.leaderboard import (
    borda_points,
    normalised,
    package_rankings,
    performance_profile,
    rankings,
    read_bench,
    score_matrix,
    winners,
)
from airlab.store.results import ResultRow, append_result
from tests.conftest import airlab

# (agent, task) -> test scores per seed; None = an invalid run.
SCORES: dict[tuple[str, str], list[float | None]] = {
    ("strong", "iris"): [0.97, 0.96], ("mid", "iris"): [0.93, 0.94], ("weak", "iris"): [0.80, None],
    ("strong", "wine"): [0.95, 0.96], ("mid", "wine"): [0.97, 0.97], ("weak", "wine"): [None, None],
    ("strong", "diabetes"): [55.0, 56.0], ("mid", "diabetes"): [60.0, 61.0], ("weak", "diabetes"): [70.0, 72.0],
}
LOWER = {"diabetes"}


def make_bench(folder: Path) -> Path:
    for (agent, task), values in SCORES.items():
        for seed, value in enumerate(values):
            append_result(folder, ResultRow(
                agent=agent, task=task, seed=seed, split_seed=0, metric="rmse" if task in LOWER else "accuracy",
                higher_is_better=task not in LOWER, search_score=value, val_score=value, test_score=value,
                valid=value is not None, nodes=5, tokens=100, cost=0.01, seconds=3.0, source="run"))
    return folder


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    return make_bench(tmp_path / "bench")


def test_matrix_rankings_and_winners(bench: Path) -> None:
    m = score_matrix(read_bench(bench))
    assert m.agents == ["strong", "mid", "weak"] and m.tasks == ["iris", "wine", "diabetes"]
    assert m.scores[2, 0] == pytest.approx(0.80)  # the invalid seed is dropped, not averaged as 0
    assert np.isnan(m.scores[2, 1])  # no valid run at all
    assert m.valid_runs[2, 0] == 1 and m.runs[2, 0] == 2
    borda = borda_points(m)
    assert borda[:, 2].tolist() == [1.0, 0.5, 0.0]  # lower rmse is better
    assert borda[2, 1] == 0.0  # missing = worst
    norm = normalised(m)
    assert norm[0, 0] == 1.0 and norm[2, 0] == 0.0 and norm[2, 1] == 0.0
    borda_rows, norm_rows = rankings(m).values()
    assert [r.agent for r in borda_rows] == ["strong", "mid", "weak"]
    assert borda_rows[0].score == pytest.approx(2.5 / 3)
    # Min-max normalisation punishes strong's narrow loss on wine (0 there): the methods differ.
    assert [r.agent for r in norm_rows] == ["mid", "strong", "weak"]
    assert norm_rows[1].score == pytest.approx(2 / 3)
    for rows in (borda_rows, norm_rows):
        for r in rows:
            assert r.ci_low <= r.score + 1e-12 and r.score <= r.ci_high + 1e-12
    assert [(w["task"], w["winners"]) for w in winners(m)] == [
        ("iris", ["strong"]), ("wine", ["mid"]), ("diabetes", ["strong"])]
    package = package_rankings(read_bench(bench))
    assert package["borda"].agents[0].agent == "strong" and package["borda"].agents[-1].agent == "weak"
    _taus, prof = performance_profile(m)
    assert np.all(np.diff(prof, axis=1) >= 0)  # a profile never decreases
    assert prof[0, 0] == pytest.approx(2 / 3)  # strong is best on 2 of 3 tasks
    assert prof[2, -1] == pytest.approx(2 / 3)  # weak never counts on the task it did not solve


def test_cli_writes_the_leaderboard(bench: Path) -> None:
    done = airlab("report", str(bench))
    target = bench / "leaderboard.html"
    assert done.stdout.strip() == str(target)
    html = target.read_text()
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", html)
    for section in ("rankings", "profile", "heatmap", "winners"):
        assert f'id="{section}"' in html
    assert html.count("95% CI (bootstrap over tasks)") == 2
    for method in ("borda", "copeland", "schulze", "kemeny"):  # the `airlab rank` tables
        assert f"<h3>{method} <small>" in html
    assert "rmse ↓" in html and "accuracy ↑" in html


def test_cli_refuses_a_folder_that_is_neither(tmp_path: Path) -> None:
    done = airlab("report", str(tmp_path), check=False)
    assert done.returncode == 2
    assert "neither a run directory" in done.stderr
