"""AIRS-Bench tasks through the real `airlab` command, from an airs-bench-format checkout written by
the tests; and `airlab bench` over an MLGym and an AIRS-Bench task."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import airlab, run_json
from tests.suites.airs_fixture import TASK, write_airs
from tests.suites.helpers import hostile, kill_then_resume
from tests.suites.mlgym_fixture import GAME_ID, write_mlgym

AIRS = f"airs:{TASK}"
HIDDEN_PATHS = ["test_with_labels", ".airs-hidden", "evaluate_prepare", "datasets_download_location", TASK]


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_airs(tmp_path_factory.mktemp("airs"))


def test_task_runs_end_to_end_with_the_normalised_score(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    summary = run_json("run", AIRS, "--suite-dir", str(suite), "--budget-nodes", "2", "--out", str(out))
    run_dir = out / summary["run_id"]
    result = json.loads((run_dir / "result.json").read_text())
    for role in ("search_score", "val_score", "test_score"):
        assert 0 <= result[role] <= 1, result
    report = result["score_report"]
    assert report["raw_score"] == result["test_score"]
    assert (report["sota"], report["optimum"], report["worst"]) == (0.98, 1.0, 0.37)
    # AIRS-Bench: NS = (phi(s) - phi(worst)) / (phi(sota) - phi(worst)), phi(s) = -log10|s - optimum|
    import math

    def phi(s: float) -> float:
        return -math.log10(abs(s - 1.0))

    expected = max(0.0, (phi(result["test_score"]) - phi(0.37)) / (phi(0.98) - phi(0.37)))
    assert report["airs_normalised_score"] == pytest.approx(expected)
    public = run_dir / "public"
    assert sorted(p.relative_to(public).as_posix() for p in public.rglob("*") if p.is_file()) == [
        "data/test.csv", "data/train.csv", "description.md", "solution.py"]
    assert "label" not in (public / "data" / "test.csv").read_text().splitlines()[0]


def test_kill_9_then_resume_loses_and_repeats_nothing(suite: Path, tmp_path: Path) -> None:
    result = kill_then_resume([AIRS, "--suite-dir", str(suite)], tmp_path / "runs", budget=3)
    assert "airs_normalised_score" in result["score_report"]


def test_malformed_metadata_names_the_file_and_the_field(suite: Path, tmp_path: Path) -> None:
    broken = tmp_path / "airs"
    shutil.copytree(suite, broken)
    meta = broken / "airsbench" / "tasks" / "rad" / TASK / "metadata.yaml"
    meta.write_text(meta.read_text().replace("metric_lower_is_better: false", "metric_lower_is_better: maybe"))
    done = airlab("run", AIRS, "--suite-dir", str(broken), "--budget-nodes", "2", "--out", str(tmp_path / "r"),
                  check=False)
    message = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2, message
    assert str(meta) in message and "metric_lower_is_better" in message


def test_a_submission_of_the_wrong_length_is_recorded_with_the_reason(suite: Path, tmp_path: Path) -> None:
    script = tmp_path / "solution.py"
    script.write_text("import pandas as pd\npd.DataFrame({'label': [1] * 10}).to_csv('submission.csv', index=False)\n")
    done = airlab("eval", AIRS, str(script), "--suite-dir", str(suite), "--json", check=False)
    assert done.returncode == 1
    result = json.loads(done.stdout[done.stdout.index("{"):])
    assert result["valid"] is False and "has 10 rows; the test set has 200" in result["error"], result
    script.write_text("open('submission.csv', 'w').write('label\\n' + 'x\\n' * 200)\n")
    done = airlab("eval", AIRS, str(script), "--suite-dir", str(suite), "--json", check=False)
    result = json.loads(done.stdout[done.stdout.index("{"):])
    assert result["valid"] is False and "evaluate.py refused" in result["error"], result


@pytest.mark.usefixtures("bubblewrap")  # the plain sandbox hides nothing: bubblewrap or a failure
def test_hostile_solution_finds_nothing(suite: Path, tmp_path: Path) -> None:
    script = tmp_path / "solution.py"
    script.write_text(hostile(HIDDEN_PATHS, ["A made-up reference"]))
    done = airlab("eval", AIRS, str(script), "--suite-dir", str(suite), "--json", check=False)
    text = done.stdout + done.stderr
    assert "FOUND []" in text and "FOUND ['" not in text, text[-2000:]
    walked = int(re.search(r"hostile scan: (\d+) entries", text).group(1))  # type: ignore[union-attr]
    assert walked > 1000


AGENTS = """
agents:
  - name: greedy-2drafts
    policy: greedy
    params: {num_drafts: 2}
  - name: greedy-1draft
    policy: greedy
    params: {num_drafts: 1}
"""


def test_bench_runs_and_ranks_both_suites(suite: Path, tmp_path: Path) -> None:
    mlgym = write_mlgym(tmp_path / "mlgym")
    agents = tmp_path / "agents.yaml"
    agents.write_text(AGENTS)
    out = tmp_path / "bench"
    done = airlab("bench", "--agents", str(agents), "--tasks", f"mlgym:{GAME_ID},{AIRS}",
                  "--suite-dir", f"mlgym={mlgym},airs={suite}", "--budget-nodes", "2", "--seeds", "1",
                  "--out", str(out), "--method", "borda,copeland")
    table = pd.read_csv(out / "results.csv")
    assert len(table) == 4 and table["valid"].all()
    assert set(table["task"]) == {"mlgym-iterated-dilemma", "airs-diagnosis-breast-cancer-accuracy"}
    assert "borda" in done.stdout and "greedy-2drafts" in done.stdout
