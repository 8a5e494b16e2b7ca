"""Hostile submissions through `airlab grade`: refused with a clear reason, never read past limits.

Files that could hang or exhaust the harness (FIFO, huge file) go through the real command in a
subprocess with a timeout; the others run the same typer command in-process, which is faster.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from airlab.cli import app
from airlab.tasks import load_task
from airlab.tasks.prediction.splits import make_splits
from airlab.tasks.prediction.submission import ID, Grader
from tests.conftest import airlab


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return make_splits(load_task("iris")).sample_submission


def _grade(path: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    done = airlab("grade", "iris", str(path), timeout=timeout, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    return done


def _grade_here(path: Path, *args: str) -> str:
    """The same `airlab grade` command, in-process; returns its output."""
    done = CliRunner().invoke(app, ["grade", "iris", str(path), *args])
    assert done.exit_code == 1, done.output
    return done.output


def _text(done: subprocess.CompletedProcess[str] | str) -> str:
    out = done if isinstance(done, str) else done.stdout
    return " ".join(out.split())  # undo rich's line wrapping


def test_symlink_to_a_valid_submission_is_refused(tmp_path: Path, sample: pd.DataFrame) -> None:
    real = tmp_path / "real.csv"
    sample.to_csv(real, index=False)
    link = tmp_path / "submission.csv"
    link.symlink_to(real)
    assert CliRunner().invoke(app, ["grade", "iris", str(real)]).exit_code == 0  # the target is fine
    assert "submission.csv is a symbolic link" in _text(_grade_here(link))


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "submission.csv"
    os.mkfifo(fifo)  # no writer: any open-for-read without O_NONBLOCK, or read, would hang
    assert "is not a regular file" in _text(_grade(fifo, timeout=60))


def test_directory_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "submission.csv"
    folder.mkdir()
    assert "is not a regular file" in _text(_grade_here(folder))


def test_huge_sparse_file_is_refused_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "submission.csv"
    with open(huge, "wb") as handle:
        handle.truncate(64 * 1024**3)  # 64 GB sparse: reading it would take minutes and all memory
    done = _grade(huge, timeout=60)
    assert "over the limit of" in _text(done) and "68,719,476,736 bytes" in _text(done)


def test_never_reads_past_the_limit(tmp_path: Path, sample: pd.DataFrame) -> None:
    """Even if the size check is passed, at most max_bytes + 1 bytes are read."""
    task = load_task("iris")
    grader = Grader(task, make_splits(task))
    path = tmp_path / "submission.csv"
    sample.to_csv(path, index=False)
    seen: list[int] = []
    original = grader.parse

    def spy(raw: bytes, name: str = "submission.csv") -> pd.DataFrame:
        seen.append(len(raw))
        return original(raw, name)

    grader.parse = spy  # type: ignore[method-assign]
    grader.max_bytes = path.stat().st_size + 10
    assert grader.grade_file(path).valid
    assert seen == [path.stat().st_size]
    grader.max_bytes = path.stat().st_size - 1
    grade = grader.grade_file(path)
    assert not grade.valid and "over the limit" in (grade.reason or "")
    assert len(seen) == 1  # refused without reading


def test_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "submission.csv"
    empty.write_text("")
    assert "submission.csv is empty" in _text(_grade_here(empty))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("duplicate", "1 duplicated id(s)"),
        ("missing", "2 id(s) of predict.csv have no prediction"),
        ("extra", "1 id(s) are not in predict.csv, e.g. 'not-an-id'"),
        ("label", "unknown class label(s) 'tulip'"),
        ("binary", "is not a readable CSV file"),
    ],
)
def test_bad_ids_and_values_are_refused(tmp_path: Path, sample: pd.DataFrame, change: str, message: str) -> None:
    path = tmp_path / "submission.csv"
    frame = sample.copy()
    if change == "duplicate":
        frame = pd.concat([frame, frame.iloc[[5]]])
    elif change == "missing":
        frame = frame.iloc[2:]
    elif change == "extra":
        frame = pd.concat([frame, frame.iloc[[0]].assign(**{ID: "not-an-id"})])
    elif change == "label":
        frame.iloc[3, 1] = "tulip"
    if change == "binary":
        path.write_bytes(b"id,species\n\x00\xff\xfe\"unterminated\n" * 3)
    else:
        frame.to_csv(path, index=False)
    text = _text(_grade_here(path))
    assert "invalid submission" in text
    assert message in text


def test_json_carries_the_reason(tmp_path: Path, sample: pd.DataFrame) -> None:
    path = tmp_path / "submission.csv"
    sample.iloc[1:].to_csv(path, index=False)
    output = _grade_here(path, "--json")
    out = json.loads(output[output.index("{\n"):])
    assert out["valid"] is False and out["status"] == "invalid"
    assert out["error"].startswith("invalid submission: 1 id(s) of predict.csv have no prediction")
    assert out["search_score"] is None and out["test_score"] is None
