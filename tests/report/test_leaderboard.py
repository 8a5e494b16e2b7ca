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
    render_leaderboard,
    score_matrix,
    suite_summary,
    winners,
)
from airlab.store.results import ResultRow, append_result, report_json
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


# --- What the suites report -------------------------------------------------------------------


def _mle(medal: str | None, above_median: bool, valid: bool = True) -> dict[str, object]:
    """An MLE-bench score report (the fields of airlab.suites.mlebench's score_report)."""
    return {"suite": "mlebench", "competition_id": "c", "score": 0.5 if valid else None,
            "submission_exists": valid, "valid_submission": valid, "gold_medal": medal == "gold",
            "silver_medal": medal == "silver", "bronze_medal": medal == "bronze", "any_medal": medal is not None,
            "above_median": above_median, "gold_threshold": 0.9, "silver_threshold": 0.8,
            "bronze_threshold": 0.7, "median_threshold": 0.5, "is_lower_better": False,
            "leaderboard_size": 100, "awards_medals": True}


def _airs(ns: float) -> dict[str, object]:
    """An AIRS-Bench score report (airlab.suites.airs' NormalisedScore)."""
    return {"metric": "accuracy", "raw_score": 0.8, "sota": 0.9, "optimum": 1.0, "worst": 0.1,
            "airs_normalised_score": ns}


# (agent, task, test score, higher is better, valid, starter code's test score, suite report)
SUITE_ROWS: list[tuple[str, str, float | None, bool, bool, float | None, dict[str, object]]] = [
    # MLE-bench: A 4 runs (gold, bronze, above median only, invalid), B 3 runs (nothing, silver, no report)
    ("A", "mlebench-spaceship", 0.95, True, True, None, _mle("gold", True)),
    ("A", "mlebench-spaceship", 0.75, True, True, None, _mle("bronze", True)),
    ("A", "mlebench-dogs", 0.6, True, True, None, _mle(None, True)),
    ("A", "mlebench-dogs", None, True, False, None, _mle(None, False, valid=False)),
    ("B", "mlebench-spaceship", 0.3, True, True, None, _mle(None, False)),
    ("B", "mlebench-dogs", 0.85, True, True, None, _mle("silver", True)),
    ("B", "mlebench-dogs", None, True, False, None, {}),
    # AIRS-Bench: A airs-a (0.5, 0.7) and airs-b (0.2, failed = 0); B airs-a 0.9 only (airs-b not run = 0)
    ("A", "airs-a", 0.8, True, True, None, _airs(0.5)),
    ("A", "airs-a", 0.85, True, True, None, _airs(0.7)),
    ("A", "airs-b", 0.6, True, True, None, _airs(0.2)),
    ("A", "airs-b", None, True, False, None, {}),
    ("B", "airs-a", 0.88, True, True, None, _airs(0.9)),
    # program tasks: A beats, ties (no), beats (lower is better); B beats, loses, fails
    ("A", "mlgym-game", 2.5, True, True, 2.3, {}),
    ("A", "mlgym-game", 2.3, True, True, 2.3, {}),
    ("A", "mlgym-rmse", 0.8, False, True, 1.0, {}),
    ("B", "mlgym-game", 2.4, True, True, 2.3, {}),
    ("B", "mlgym-rmse", 1.2, False, True, 1.0, {}),
    ("B", "mlgym-rmse", None, False, False, 1.0, {}),
    # a built-in task: no report, no baseline; C ran only this
    ("A", "iris", 0.9, True, True, None, {}),
    ("B", "iris", 0.8, True, True, None, {}),
    ("C", "iris", 0.7, True, True, None, {}),
]


@pytest.fixture
def suite_bench(tmp_path: Path) -> Path:
    folder = tmp_path / "suites"
    for seed, (agent, task, test, higher, valid, baseline, report) in enumerate(SUITE_ROWS):
        append_result(folder, ResultRow(
            agent=agent, task=task, seed=seed, split_seed=0, metric="score", higher_is_better=higher,
            test_score=test, valid=valid, source="run", baseline_test_score=baseline, report=report_json(report)))
    return folder


def _section(html: str) -> str:
    found = re.search(r'<section class="card" id="suites">(.*?)</section>', html, re.DOTALL)
    assert found, "no 'What the suites report' section"
    return found.group(1)


def test_the_suites_section_has_each_suites_headline_numbers(suite_bench: Path) -> None:
    # by hand: A MLE-bench 4 runs: medal 2/4, gold 1/4, above median 3/4; B 3 runs: 1/3, 0/3, 1/3.
    # AIRS: A mean((0.5 + 0.7) / 2, (0.2 + 0) / 2) = 0.35; B mean(0.9, 0) = 0.45.
    # program: A beats 2 of 3 runs (a tie does not beat); B 1 of 3 (a failed run does not).
    rows = {r.agent: r for r in suite_summary(read_bench(suite_bench))}
    a, b, c = rows["A"], rows["B"], rows["C"]
    assert (a.mle_runs, a.any_medal, a.gold, a.above_median) == (4, 0.5, 0.25, 0.75)
    assert (b.mle_runs, b.gold) == (3, 0.0) and b.any_medal == pytest.approx(1 / 3)
    assert b.above_median == pytest.approx(1 / 3)
    assert a.airs_score == pytest.approx(0.35) and b.airs_score == pytest.approx(0.45)
    assert a.beats_starter == pytest.approx(2 / 3) and b.beats_starter == pytest.approx(1 / 3)
    assert (c.mle_runs, c.any_medal, c.airs_score, c.program_runs, c.beats_starter) == (0, None, None, 0, None)

    section = _section(render_leaderboard(suite_bench))
    assert "<h2>What the suites report</h2>" in section
    headers = re.findall(r"<th>(.*?)</th>", section)
    assert headers == ["agent", "MLE-bench runs", "any medal", "gold", "above median", "AIRS-Bench tasks",
                       "mean normalised score", "program-task runs", "beat the starter code"]
    body = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr><td>.*?</tr>", section)]
    assert body == [
        ["A", "4", "50.0%", "25.0%", "75.0%", "2", "0.350", "3", "66.7%"],
        ["B", "3", "33.3%", "0.0%", "33.3%", "2", "0.450", "3", "33.3%"],
        ["C", "0", "–", "–", "–", "–", "–", "0", "–"],
    ]


def test_only_the_suites_present_get_columns(tmp_path: Path) -> None:
    folder = tmp_path / "program"
    for agent, test in (("A", 2.5), ("B", 2.0)):
        append_result(folder, ResultRow(agent=agent, task="mlgym-game", split_seed=0, metric="score",
                                        higher_is_better=True, test_score=test, valid=True, source="run",
                                        baseline_test_score=2.3))
    section = _section(render_leaderboard(folder))
    assert re.findall(r"<th>(.*?)</th>", section) == ["agent", "program-task runs", "beat the starter code"]
    assert "<tr><td>A</td><td>1</td><td>100.0%</td></tr>" in section
    assert "<tr><td>B</td><td>1</td><td>0.0%</td></tr>" in section


def test_no_suites_section_without_reports(bench: Path) -> None:
    assert suite_summary(read_bench(bench)) == []
    html = render_leaderboard(bench)
    assert 'id="rankings"' in html and 'id="suites"' not in html and "What the suites report" not in html


def test_an_old_results_csv_without_the_new_columns_still_renders(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    lines = ["agent,task,seed,split_seed,metric,higher_is_better,search_score,val_score,test_score,valid,"
             "nodes,tokens,cost,seconds,source,run_id"]
    for (agent, task), values in SCORES.items():
        for seed, value in enumerate(values):
            score = "" if value is None else repr(value)
            lines.append(f"{agent},{task},{seed},0,{'rmse' if task in LOWER else 'accuracy'},{task not in LOWER},"
                         f"{score},{score},{score},{value is not None},5,100,0.01,3.0,run,")
    (folder / "results.csv").write_text("\n".join(lines) + "\n")
    frame = read_bench(folder)
    assert len(frame) == 18 and frame["report"].isna().all() and frame["baseline_test_score"].isna().all()
    assert score_matrix(frame).agents == ["strong", "mid", "weak"]
    html = render_leaderboard(folder)
    assert 'id="heatmap"' in html and 'id="suites"' not in html
