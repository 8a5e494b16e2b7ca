"""`airlab eval`, `airlab export` and `airlab grade` end to end, through the real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

from airlab.cli import app
from airlab.errors import AirlabError
from airlab.evaluation import evaluate_script, export_workspace
from airlab.execution.sandbox import resolve_sandbox_kind
from airlab.store.results import read_results
from airlab.tasks import load_task
from airlab.tasks.prediction.splits import make_splits
from airlab.tasks.prediction.submission import ID, Grader
from airlab.tasks.prediction.workspace import PUBLIC_FILES
from airlab.tasks.protocol import HIDDEN_ROLES
from tests.conftest import airlab

# A hand-written reference solution: the test fits the same model itself and checks the scores.
WINE_SOLUTION = """\
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

train = pd.read_csv("train.csv")
pred = pd.read_csv("predict.csv", dtype={"id": str})
y = train["cultivar"].astype(str)
X = train.drop(columns=["cultivar"])
model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000)).fit(X, y)
sub = pd.DataFrame(model.predict_proba(pred[X.columns]), columns=model.classes_)
sub.insert(0, "id", pred["id"])
sub.to_csv("submission.csv", index=False)
print("done")
"""


def _json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return json.loads(done.stdout[done.stdout.index("{\n"):])


def _cli(*args: str) -> tuple[int, str]:
    """The same command in-process (faster than a subprocess); AirlabError -> 2, as `main` does."""
    done = CliRunner().invoke(app, list(args))
    if isinstance(done.exception, AirlabError):
        return 2, str(done.exception)
    return done.exit_code, done.output


@pytest.fixture(scope="module")
def solution(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sol") / "my_solution.py"
    path.write_text(WINE_SOLUTION)
    return path


@pytest.fixture(scope="module")
def eval_json(solution: Path) -> dict[str, Any]:
    return _json(airlab("eval", "wine", str(solution), "--time-limit", "120", "--json"))


def test_eval_reference_solution_gets_the_scores_computed_here(bubblewrap: None, eval_json: dict[str, Any]) -> None:
    task = load_task("wine")
    splits = make_splits(task)
    y = splits.train["cultivar"].astype(str)
    X = splits.train.drop(columns=["cultivar"])
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000)).fit(X, y)
    proba = model.predict_proba(splits.predict[X.columns])
    frame = pd.DataFrame(proba, columns=model.classes_)
    frame.insert(0, ID, splits.predict[ID].to_numpy())

    grade = Grader(task, splits).grade_frame(frame)
    assert grade.valid, grade.reason
    assert eval_json["status"] == "ok" and eval_json["valid"] is True and eval_json["error"] is None
    assert eval_json["metric"] == "log_loss" and eval_json["higher_is_better"] is False
    assert eval_json["split_seed"] == splits.split_seed
    by_id = frame.set_index(ID)
    for role in HIDDEN_ROLES:
        assert eval_json[f"{role}_score"] == pytest.approx(grade.scores[role], rel=1e-6)
        # and independently of the grader: sklearn's log loss on the hidden labels of that role
        rows = splits.answers[splits.answers["role"] == role]
        direct = log_loss(rows["cultivar"].astype(str), by_id.loc[rows[ID], task.classes].to_numpy(),
                          labels=task.classes)
        assert eval_json[f"{role}_score"] == pytest.approx(direct, rel=1e-6)
    assert 0 < eval_json["test_score"] < 0.5  # a sane model, not the prior (~1.09)
    assert eval_json["sandbox"] == resolve_sandbox_kind("auto")  # the sandbox that ran, as for a node
    assert "done" in eval_json["stdout_tail"]


def test_export_run_outside_then_grade_round_trips_to_eval(
    tmp_path: Path, solution: Path, eval_json: dict[str, Any]
) -> None:
    folder = tmp_path / "wine-workspace"
    airlab("export", "wine", str(folder))
    assert sorted(p.name for p in folder.iterdir()) == sorted(PUBLIC_FILES)
    # run the solution outside airlab: a plain python in the exported folder
    subprocess.run([sys.executable, str(solution)], cwd=folder, check=True, capture_output=True, timeout=120)
    results = tmp_path / "bench"
    graded = _json(airlab("grade", "wine", str(folder / "submission.csv"), "--json",
                          "--agent", "human", "--results", str(results)))
    assert graded["status"] == "ok" and graded["source"] == "grade"
    for role in HIDDEN_ROLES:
        assert graded[f"{role}_score"] == pytest.approx(eval_json[f"{role}_score"], rel=1e-9)

    # an eval of the same script recorded in the same table, ranked beside it
    airlab("eval", "wine", str(solution), "--agent", "my-script", "--results", str(results), "--seed", "3")
    table = read_results(results)
    assert table["agent"].tolist() == ["human", "my-script"]
    assert table["source"].tolist() == ["grade", "eval"]
    assert table["seed"].tolist() == [0, 3]
    assert table["valid"].tolist() == [True, True]
    assert table["test_score"].tolist() == pytest.approx([eval_json["test_score"]] * 2, rel=1e-9)
    assert table["cost"].isna().iloc[0] and table["nodes"].iloc[1] == 1
    assert read_results(results / "results.sqlite")["agent"].tolist() == ["human", "my-script"]


def test_grade_human_readable_and_exit_codes(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    export_workspace("wine", folder)
    code, out = _cli("grade", "wine", str(folder / "sample_submission.csv"))
    assert code == 0 and "val score" in out and "test score" in out
    bad = tmp_path / "submission.csv"
    bad.write_text("id,x\n1,2\n")
    code, out = _cli("grade", "wine", str(bad))
    assert code == 1
    assert "invalid submission" in out and "missing column(s)" in out
    # recording needs both the agent name and the table
    code, out = _cli("grade", "wine", str(bad), "--agent", "x")
    assert code == 2 and "--results" in out


def _hidden(task_id: str, split_seed: int | None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    task = load_task(task_id)
    splits = make_splits(task, split_seed)
    held = splits.predict.merge(splits.answers, on=ID)
    return splits.train, held, task.spec.target


@pytest.mark.parametrize(("task_id", "split_seed"), [("wine", None), ("diabetes", 7)])
def test_exported_folder_holds_no_hidden_label(tmp_path: Path, task_id: str, split_seed: int | None) -> None:
    folder = tmp_path / "out"
    args = ["export", task_id, str(folder)] + (["--split-seed", str(split_seed)] if split_seed is not None else [])
    airlab(*args)
    assert sorted(p.name for p in folder.iterdir()) == sorted(PUBLIC_FILES)
    train, held, target = _hidden(task_id, split_seed)
    features = [c for c in train.columns if c != target]

    # train.csv: exactly the train rows, and no hidden row (features + label) among them
    exported_train = pd.read_csv(folder / "train.csv")
    assert list(exported_train.columns) == [*features, target]
    assert len(exported_train) == len(train)
    assert np.allclose(exported_train[features].to_numpy(float), train[features].to_numpy(float))
    train_keys = {tuple(np.round(r, 6)) for r in exported_train[features].to_numpy(float)}
    held_keys = {tuple(np.round(r, 6)) for r in held[features].to_numpy(float)}
    assert not train_keys & held_keys

    # predict.csv: ids + features of the hidden rows; no column carries their target by id
    predict = pd.read_csv(folder / "predict.csv", dtype={ID: str})
    assert list(predict.columns) == [ID, *features]
    assert set(predict[ID]) == set(held[ID])
    aligned = predict.merge(held[[ID, target]], on=ID, suffixes=("", "__truth"))
    truth = aligned[target if target not in predict.columns else f"{target}__truth"].astype(str)
    for col in predict.columns:
        if col != ID:
            assert not (aligned[col].astype(str) == truth).all(), f"{col} equals the hidden target"

    # sample_submission.csv: a constant (prior / mean) prediction, nothing per row
    sample = pd.read_csv(folder / "sample_submission.csv", dtype={ID: str})
    assert set(sample[ID]) == set(held[ID])
    assert (sample.drop(columns=[ID]).nunique() == 1).all()

    # no file holds a hidden id next to its hidden value on one line (except predict's features)
    for name in PUBLIC_FILES:
        lines = (folder / name).read_text().splitlines()
        by_id = {ln.split(",", 1)[0]: ln for ln in lines}
        hits = 0
        for rid, value in zip(held[ID], held[target].astype(str), strict=True):
            line = by_id.get(rid)
            if line is not None and name != "sample_submission.csv" and value in line.split(",")[1:]:
                hits += 1
        assert hits <= len(held) // 20, f"{name}: {hits} hidden values next to their ids"
    assert not any(rid in (folder / "description.md").read_text() for rid in held[ID])


def test_export_refuses_a_non_empty_folder_unless_forced(tmp_path: Path) -> None:
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    code, out = _cli("export", "iris", str(folder))
    assert code == 2 and "not empty" in out and "--force" in out
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert _cli("export", "iris", str(folder), "--force")[0] == 0
    assert _cli("export", "iris", str(folder), "--force")[0] == 0  # read-only files are replaced
    assert sorted(p.name for p in folder.iterdir()) == sorted([*PUBLIC_FILES, "notes.txt"])
    assert _cli("export", "iris", str(folder / "notes.txt"))[0] == 2  # a file, not a folder


def test_eval_failing_and_invalid_candidates_exit_1(tmp_path: Path) -> None:
    crash = tmp_path / "crash.py"
    crash.write_text("raise ValueError('boom from the candidate')\n")
    done = airlab("eval", "iris", str(crash), "--json", check=False)
    assert done.returncode == 1
    out = _json(done)
    assert out["status"] == "buggy" and out["valid"] is False and out["search_score"] is None
    assert "boom from the candidate" in out["error"]

    invalid = tmp_path / "invalid.py"
    invalid.write_text(
        "import pandas as pd\n"
        "p = pd.read_csv('predict.csv', dtype={'id': str})\n"
        "pd.concat([p[['id']], p[['id']].head(1)]).assign(species='setosa').to_csv('submission.csv', index=False)\n"
    )
    done = airlab("eval", "iris", str(invalid), check=False)
    assert done.returncode == 1
    assert "invalid submission: 1 duplicated id(s)" in " ".join(done.stdout.split())

    done = airlab("eval", "iris", str(tmp_path / "missing.py"), check=False)
    assert done.returncode == 2 and "does not exist" in done.stderr


def test_evaluate_script_api_timeout_and_same_environment_as_a_node(tmp_path: Path) -> None:
    slow = "import time\ntime.sleep(30)\n"
    result = evaluate_script("iris", slow, time_limit=2, sandbox="plain", work_dir=tmp_path / "w")
    assert result.status == "timeout" and result.limit_hit == "time" and result.wall_seconds < 25
    assert "2 s" in (result.error or "")
    # the node layout: only the public files are in the workspace, and the environment is clean
    os.environ["AIRLAB_LEAK_CHECK"] = "secret"
    try:
        probe = (
            "import os, pandas as pd, json\n"
            "json.dump({'files': sorted(os.listdir('.')), 'leak': os.environ.get('AIRLAB_LEAK_CHECK')},"
            " open('/dev/stdout', 'w'))\n"
            "pd.read_csv('sample_submission.csv').to_csv('submission.csv', index=False)\n"
        )
        result = evaluate_script("iris", probe, sandbox="plain", work_dir=tmp_path / "w2")
    finally:
        del os.environ["AIRLAB_LEAK_CHECK"]
    assert result.status == "ok", result.error
    seen = json.loads(result.stdout_tail)
    assert seen["leak"] is None
    assert set(seen["files"]) == set(PUBLIC_FILES) | {"solution.py"}
    assert (tmp_path / "w2" / "node" / "submission.csv").is_file()


def test_ridge_on_diabetes_matches_the_grader(tmp_path: Path) -> None:
    """A regression task: the API result equals the grader's score of predictions made here."""
    code = (
        "import pandas as pd\nfrom sklearn.linear_model import Ridge\n"
        "t = pd.read_csv('train.csv'); p = pd.read_csv('predict.csv', dtype={'id': str})\n"
        "X = t.drop(columns=['TARGET']); m = Ridge(alpha=1.0).fit(X, t['TARGET'])\n"
        "pd.DataFrame({'id': p['id'], 'TARGET': m.predict(p[X.columns])}).to_csv('submission.csv', index=False)\n"
    )
    task = load_task("diabetes")
    target = task.spec.target
    code = code.replace("TARGET", target)
    result = evaluate_script("diabetes", code, split_seed=3, sandbox="plain")
    assert result.status == "ok", result.error
    splits = make_splits(task, 3)
    X = splits.train.drop(columns=[target])
    pred = Ridge(alpha=1.0).fit(X, splits.train[target]).predict(splits.predict[X.columns])
    grade = Grader(task, splits).grade_frame(pd.DataFrame({ID: splits.predict[ID], target: pred}))
    assert result.val_score == pytest.approx(grade.scores["val"], rel=1e-6)
    assert result.test_score == pytest.approx(grade.scores["test"], rel=1e-6)
    assert result.search_score == pytest.approx(grade.scores["search"], rel=1e-6)
