"""MLGym tasks through the real `airlab` command, from an MLGym-format checkout written by the tests."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import airlab, run_json
from tests.suites.helpers import hostile, kill_then_resume
from tests.suites.mlgym_fixture import CSV_ID, GAME_ID, write_mlgym

GAME = f"mlgym:{GAME_ID}"
CSV = f"mlgym:{CSV_ID}"
# what only the hidden side holds: the opponent, MLGym's evaluation script and the test answers
HIDDEN_PATHS = [GAME_ID, CSV_ID, "ground_truth.csv"]
HIDDEN_TEXTS = ["strategies = [tit_for_tat, always_defect, random_strategy]", "PAYOFFS = [[(3, 3), (0, 5)]"]


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mlgym(tmp_path_factory.mktemp("mlgym"))


def _result(out: Path, run_id: str) -> dict:
    return json.loads((out / run_id / "result.json").read_text())


def test_game_task_runs_end_to_end(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    summary = run_json("run", GAME, "--suite-dir", str(suite), "--budget-nodes", "2", "--out", str(out))
    result = _result(out, summary["run_id"])
    for role in ("search_score", "val_score", "test_score"):
        assert isinstance(result[role], float), result
    assert 0 <= result["test_score"] <= 5  # mean payoff per round
    public = out / summary["run_id"] / "public"
    assert sorted(p.name for p in public.iterdir()) == ["description.md", "strategy.py"]  # no evaluate.py, no target.py
    description = (public / "description.md").read_text()
    assert "row_strategy(history)" in description and "score" in description
    from airlab.tasks.loader import load_task

    task = load_task(GAME, suite)
    assert task.references.baseline == 2.1 and task.objective.higher_is_better


def test_csv_task_runs_on_airlabs_own_splits(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    summary = run_json("run", CSV, "--suite-dir", str(suite), "--budget-nodes", "2", "--out", str(out))
    result = _result(out, summary["run_id"])
    for role in ("search_score", "val_score", "test_score"):
        assert 0 <= result[role] <= 1, result
    public = out / summary["run_id"] / "public"
    names = {p.name for p in public.iterdir()}
    assert "evaluate.py" not in names and "ground_truth.csv" not in names
    ids = {int(i) for i in (suite / "data" / CSV_ID / "data" / "test.csv").read_text().splitlines()[1:]
           for i in [i.split(",")[0]]}
    train = (public / "train.csv").read_text()
    assert "cultivar" in train.splitlines()[0] and len(ids) == 38  # MLGym's test rows are never airlab's rows


def test_kill_9_then_resume_loses_and_repeats_nothing(suite: Path, tmp_path: Path) -> None:
    result = kill_then_resume([GAME, "--suite-dir", str(suite)], tmp_path / "runs", budget=3)
    assert isinstance(result["test_score"], float)


def test_malformed_task_file_names_the_file_and_the_field(suite: Path, tmp_path: Path) -> None:
    broken = tmp_path / "mlgym"
    shutil.copytree(suite, broken)
    config = broken / "configs" / "tasks" / f"{GAME_ID}.yaml"
    config.write_text(config.read_text().replace("- Score: 2.1", "- Score: high"))
    done = airlab("run", GAME, "--suite-dir", str(broken), "--budget-nodes", "2", "--out", str(tmp_path / "r"),
                  check=False)
    message = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2, message
    assert str(config) in message and "baseline_scores" in message
    config.write_text(config.read_text().replace("task_entrypoint: PythonSubmissionTasks",
                                                 "task_entrypoint: ModelSubmissionTasks"))
    done = airlab("export", GAME, str(tmp_path / "w"), "--suite-dir", str(broken), check=False)
    assert done.returncode == 2 and "baseline_scores" in done.stdout + done.stderr


def test_unknown_direction_is_refused(suite: Path, tmp_path: Path) -> None:
    broken = tmp_path / "mlgym"
    shutil.copytree(suite, broken)
    config = broken / "configs" / "tasks" / f"{CSV_ID}.yaml"
    config.write_text(config.read_text().replace("- Accuracy: 0.9", "- kappa: 0.9"))
    done = airlab("export", CSV, str(tmp_path / "w"), "--suite-dir", str(broken), check=False)
    message = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2 and str(config) in message and "no metric direction" in message


def test_invalid_strategy_is_recorded_with_the_evaluators_reason(suite: Path, tmp_path: Path) -> None:
    bad = tmp_path / "strategy.py"
    bad.write_text("def row_strategy(history):\n    return 7\n")
    done = airlab("eval", GAME, str(bad), "--suite-dir", str(suite), "--json", check=False)
    assert done.returncode == 1
    result = json.loads(done.stdout[done.stdout.index("{"):])
    assert result["valid"] is False and "Strategies must be either 0 or 1" in result["error"], result


@pytest.mark.usefixtures("bubblewrap")  # the plain sandbox hides nothing: bubblewrap or a failure
def test_hostile_strategy_finds_nothing(suite: Path, tmp_path: Path) -> None:
    script = tmp_path / "strategy.py"
    script.write_text(hostile(HIDDEN_PATHS, HIDDEN_TEXTS) + "\ndef row_strategy(history):\n    return 0\n")
    done = airlab("eval", GAME, str(script), "--suite-dir", str(suite), "--json", check=False)
    text = done.stdout + done.stderr
    assert "FOUND []" in text and "FOUND ['" not in text, text[-2000:]
    walked = int(re.search(r"hostile scan: (\d+) entries", text).group(1))  # type: ignore[union-attr]
    assert walked > 1000  # it did walk the sandbox's filesystem
