"""The MLE-bench adapter through the real `airlab` command, on a suite in MLE-bench's own layout."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from airlab.store.results import read_results
from airlab.store.run_store import RunStore
from tests.conftest import airlab, kill_during_run, run_json
from tests.suites.mlebench_fixture import COMPETITION, make_suite

TASK = f"mlebench:{COMPETITION}"


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_suite(tmp_path_factory.mktemp("mle-data"))


def _copy(suite: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "suite"
    shutil.copytree(suite, copy, ignore=shutil.ignore_patterns("airlab"))
    return copy


def _grade_fn(suite: Path) -> Any:
    spec = importlib.util.spec_from_file_location("fixture_grade", suite / "competitions" / COMPETITION / "grade.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.grade


def _json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return json.loads(done.stdout[done.stdout.index("{\n"):])


def _signature(run_dir: Path) -> list[tuple[Any, ...]]:
    nodes = RunStore(run_dir / "journal.sqlite").nodes()
    return [(n.id, n.operator.value, tuple(n.parents), n.plan, n.code, n.status.value, n.search_score) for n in nodes]


def test_run_end_to_end(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = run_json("run", TASK, "--suite-dir", str(suite), "--budget-nodes", "2", "--out", str(out))
    assert result["status"] == "complete" and result["n_valid"] == 2
    for role in ("search", "val", "test"):
        assert isinstance(result[f"{role}_score"], float)
    assert result["metric"] == "log-loss" and result["higher_is_better"] is False  # from the leaderboard's order
    report = result["score_report"]
    assert report["score"] == result["test_score"] and report["valid_submission"] is True
    assert report["leaderboard_size"] == 20 and report["is_lower_better"] is True
    medals = [report[f"{m}_medal"] for m in ("gold", "silver", "bronze")]
    assert sum(medals) <= 1 and report["any_medal"] == any(medals)
    assert {"above_median", "gold_threshold", "median_threshold"} <= set(report)

    # the test score is the competition's own grade of the submission made in its public folder
    run_dir = out / result["run_id"]
    node = run_dir / "nodes" / f"{result['selected_node']:04d}"
    submission = pd.read_csv(node / "fold-1" / "submission.csv")
    answers = pd.read_csv(suite / COMPETITION / "prepared" / "private" / "test.csv")
    assert round(_grade_fn(suite)(submission, answers), 5) == result["test_score"]
    # the search view's test rows are public train rows its own train.csv lacks
    public_train = pd.read_csv(suite / COMPETITION / "prepared" / "public" / "train.csv")
    search_ids = set(pd.read_csv(node / "fold-0" / "submission.csv")["id"])
    assert search_ids <= set(public_train["id"])
    assert not search_ids & set(pd.read_csv(run_dir / "public" / "train.csv")["id"])
    # nothing private in the run directory
    names = {p.name for p in run_dir.rglob("*")}
    assert "private" not in names
    assert sorted(p.name for p in (run_dir / "public").iterdir()) == [
        "description.md", "sample_submission.csv", "test.csv", "train.csv"]
    assert "submission.csv" in (run_dir / "public" / "description.md").read_text()


def test_search_and_val_split_the_hidden_rows(suite: Path, tmp_path: Path) -> None:
    from airlab.suites.mlebench import load_competition

    task = load_competition(COMPETITION, suite)
    a = task.evaluation(tmp_path / "a", split_seed=0)
    b = task.evaluation(tmp_path / "b", split_seed=1)
    assert a.route == "prepare"  # the fixture's preparer runs on its public folder
    search_view = a.views[0]
    rows = search_view.answers.role_rows
    n = len(search_view.answers.frame)
    assert sorted([*rows["search"], *rows["val"]]) == list(range(n)) and len(rows["search"]) == n // 2
    assert set(rows["search"]) != set(b.views[0].answers.role_rows["search"])  # another seed, another split
    assert [v.roles for v in a.views] == [("search", "val"), ("test",)]


def test_row_split_where_the_preparer_cannot_run(suite: Path, tmp_path: Path) -> None:
    """A preparer that checks the raw data's size refuses the public folder: the row route is used."""
    copy = _copy(suite, tmp_path)
    prepare = copy / "competitions" / COMPETITION / "prepare.py"
    prepare.write_text(prepare.read_text().replace(
        'old_train = pd.read_csv(raw / "train.csv")',
        'old_train = pd.read_csv(raw / "train.csv")\n    assert len(old_train) == 569, len(old_train)'))
    solution = tmp_path / "solution.py"
    solution.write_text(
        "import pandas as pd\n"
        "test = pd.read_csv('test.csv')\n"
        "p = (test['mean_radius'] > 15).astype(float) * 0.8 + 0.1\n"
        "pd.DataFrame({'id': test['id'], 'malignant': p}).to_csv('submission.csv', index=False)\n")
    done = _json(airlab("eval", TASK, "--suite-dir", str(copy), str(solution), "--json"))
    assert done["status"] == "ok"
    assert all(isinstance(done[f"{r}_score"], float) for r in ("search", "val", "test"))
    (route,) = (copy / COMPETITION / "airlab").glob("search-*/route.txt")
    first, why = route.read_text().split("\n", 1)
    assert first == "rows" and "AssertionError" in why


def test_kill_9_then_resume(suite: Path, tmp_path: Path) -> None:
    budget = "4"
    run_dir = kill_during_run([TASK, "--suite-dir", str(suite), "--budget-nodes", budget, "--seed", "3"],
                              tmp_path / "killed")
    before = RunStore(run_dir / "journal.sqlite").nodes()
    assert 1 <= len(before) <= int(budget)
    airlab("run", "--resume", str(run_dir))
    resumed = _signature(run_dir)
    assert [s[0] for s in resumed] == list(range(int(budget)))
    assert all(s[5] != "pending" for s in resumed)
    result = json.loads((run_dir / "result.json").read_text())
    assert result["n_nodes"] == int(budget) and result["score_report"]["score"] == result["test_score"]
    assert len(RunStore(run_dir / "journal.sqlite").hidden_scores()) == result["n_valid"]
    reference = run_json("run", TASK, "--suite-dir", str(suite), "--budget-nodes", budget, "--seed", "3",
                         "--out", str(tmp_path / "ref"))
    assert resumed == _signature(tmp_path / "ref" / reference["run_id"])
    assert result["test_score"] == reference["test_score"] and result["val_score"] == reference["val_score"]


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda s: s.replace("  grade_fn: mlebench.competitions.tumour-diagnosis.grade:grade\n", ""),
     ["config.yaml", "field 'grader.grade_fn'", "missing"]),
    (lambda s: s.replace("grade_fn: mlebench.competitions.tumour-diagnosis.grade:grade", "grade_fn: grade.grade"),
     ["config.yaml", "field 'grader.grade_fn'", "not 'module:function'"]),
    (lambda s: s.replace("private/test.csv", "private/answers.csv"),
     ["config.yaml", "field 'dataset.answers'", "answers.csv does not exist"]),
    (lambda s: s.replace("name: Tumour Diagnosis", "name: [1, 2]"), ["config.yaml", "field 'name'", "line 2"]),
    (lambda s: s.replace(".grade:grade", ".scoring:grade"),
     ["config.yaml", "field 'grader.grade_fn'", "mlebench package is not installed", "not on PyPI", "pip install -e"]),
])
def test_malformed_registry_entry(suite: Path, tmp_path: Path, edit: Any, expected: list[str]) -> None:
    if importlib.util.find_spec("mlebench") is not None and "mlebench package is not installed" in expected:
        pytest.fail("this case needs an environment without the mlebench package, as scripts/test.sh makes it")
    copy = _copy(suite, tmp_path)
    config = copy / "competitions" / COMPETITION / "config.yaml"
    config.write_text(edit(config.read_text()))
    done = airlab("run", TASK, "--suite-dir", str(copy), "--budget-nodes", "1", "--out", str(tmp_path / "r"),
                  check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    message = " ".join((done.stdout + done.stderr).split())
    for part in expected:
        assert part in message, message


def test_missing_prepared_answers(suite: Path, tmp_path: Path) -> None:
    copy = _copy(suite, tmp_path)
    (copy / COMPETITION / "prepared" / "private" / "test.csv").unlink()
    done = airlab("run", TASK, "--suite-dir", str(copy), "--out", str(tmp_path / "r"), check=False)
    message = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2 and "prepared/private/test.csv does not exist" in message, message
    done = airlab("run", "mlebench:no-such-competition", "--suite-dir", str(copy), check=False)
    assert done.returncode == 2 and "no-such-competition" in done.stdout + done.stderr


def test_invalid_submission_is_recorded_with_the_graders_reason(suite: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    sample = suite / COMPETITION / "prepared" / "public" / "sample_submission.csv"
    good = _json(airlab("grade", TASK, "--suite-dir", str(suite), str(sample), "--json",
                        "--agent", "constant", "--results", str(results)))
    assert good["status"] == "ok" and good["test_score"] == pytest.approx(0.69315)  # log loss of p = 0.5
    assert good["search_score"] is None and good["val_score"] is None  # a file made elsewhere answers the test
    bad = tmp_path / "bad.csv"
    frame = pd.read_csv(sample)
    frame["id"] = frame["id"] + 1
    frame.to_csv(bad, index=False)
    done = airlab("grade", TASK, "--suite-dir", str(suite), str(bad), "--json", "--agent", "off-by-one",
                  "--results", str(results), check=False)
    assert done.returncode == 1
    out = _json(done)
    assert out["valid"] is False and out["test_score"] is None
    assert "Submission ids do not match the ids of the test set" in out["error"]
    table = read_results(results)
    assert table["agent"].tolist() == ["constant", "off-by-one"]
    assert table["valid"].tolist() == [True, False] and pd.isna(table["test_score"].iloc[1])


HOSTILE = r'''
import os
import pandas as pd

here = os.getcwd()


def listing(path):
    try:
        return os.listdir(path)
    except OSError:
        return []


mine = {os.path.realpath(name) for name in os.listdir(".")}  # the workspace's own (public) files
found = []
for top, dirs, files in os.walk("/", onerror=lambda e: None):
    dirs[:] = [d for d in dirs if os.path.join(top, d) not in ("/proc", "/sys", "/dev")]
    for name in dirs + files:
        path = os.path.join(top, name)
        if path.startswith(here + "/") or os.path.realpath(path) in mine:
            continue
        if "tumour-diagnosis" in path or name == "prepared" or \
                (name == "private" and any(f.endswith(".csv") for f in listing(path))):
            found.append(path)
        elif name.endswith(".csv") and os.path.isfile(path):
            try:
                with open(path, errors="replace") as fh:
                    header = fh.readline().strip().split(",")
                    if "id" in header and ("diagnosis" in header or "malignant" in header):  # answers, submissions
                        found.append(path)
            except OSError:
                pass
train, test = pd.read_csv("train.csv"), pd.read_csv("test.csv")
overlap = set(train["id"]) & set(test["id"])
print("workspace:", sorted(os.listdir(".")))
print("found:", len(found), found[:20])
print("overlap:", len(overlap))
sample = pd.read_csv("sample_submission.csv")
if found or overlap or "diagnosis" in test.columns:
    sample = sample.drop(columns=["malignant"])  # an invalid submission: the view that leaked says so
sample.to_csv("submission.csv", index=False)
'''


@pytest.mark.parametrize("sandbox", ["auto", "bwrap"])
@pytest.mark.usefixtures("bubblewrap")
def test_hostile_candidate_finds_nothing(suite: Path, tmp_path: Path, sandbox: str) -> None:
    """It walks / for the private folders, the answers (a CSV with the answer column), the registry
    entry and the competition's data folder, in both views; finding anything spoils its submission."""
    hostile = tmp_path / "hostile.py"
    hostile.write_text(HOSTILE)
    done = airlab("eval", TASK, "--suite-dir", str(suite), str(hostile), "--json", "--time-limit", "240",
                  "--sandbox", sandbox, check=False)
    out = _json(done)
    assert out["sandbox"] in ("warm", "bwrap"), out  # a plain sandbox would show the filesystem
    assert out["status"] == "ok", out  # both views' submissions were valid: neither leaked
    assert "found: 0 []" in out["stdout_tail"] and "overlap: 0" in out["stdout_tail"]
    assert "workspace: ['description.md', 'sample_submission.csv', 'solution.py', 'test.csv', 'train.csv']" \
        in out["stdout_tail"]
    assert all(isinstance(out[f"{r}_score"], float) for r in ("search", "val", "test"))


AGENTS = """
agents:
  - name: greedy-a
    policy: greedy
    params: {num_drafts: 2}
  - name: greedy-b
    policy: greedy
    params: {num_drafts: 1}
"""


def test_bench_runs_and_ranks(suite: Path, tmp_path: Path) -> None:
    agents = tmp_path / "agents.yaml"
    agents.write_text(AGENTS)
    out = tmp_path / "bench"
    done = airlab("bench", "--agents", str(agents), "--tasks", f"{TASK},iris", "--suite-dir", str(suite),
                  "--budget-nodes", "2", "--out", str(out), "--method", "borda")
    table = pd.read_csv(out / "results.csv")
    assert len(table) == 4 and set(table["task"]) == {COMPETITION, "iris"}
    assert table["test_score"].notna().all()
    assert "borda" in done.stdout
