"""A small MLE-bench suite on disk, in MLE-bench's own layout, from data that ships with scikit-learn.

```
<dir>/competitions/<id>/config.yaml        the registry entry (as in mlebench/competitions/<id>/)
<dir>/competitions/<id>/description.md
<dir>/competitions/<id>/grade.py           grade(submission, answers) -> float, MLE-bench style checks
<dir>/competitions/<id>/prepare.py         prepare(raw, public, private)
<dir>/competitions/<id>/leaderboard.csv
<dir>/<id>/raw/train.csv                   the "downloaded" data
<dir>/<id>/prepared/public/{train,test,sample_submission}.csv   made by the fixture's own preparer
<dir>/<id>/prepared/private/test.csv
```
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

COMPETITION = "tumour-diagnosis"

CONFIG = f"""\
id: {COMPETITION}
name: Tumour Diagnosis
competition_type: simple
awards_medals: true
prizes: null
description: mlebench/competitions/{COMPETITION}/description.md

dataset:
  answers: {COMPETITION}/prepared/private/test.csv
  sample_submission: {COMPETITION}/prepared/public/sample_submission.csv

grader:
  name: log-loss
  grade_fn: mlebench.competitions.{COMPETITION}.grade:grade

preparer: mlebench.competitions.{COMPETITION}.prepare:prepare
"""

DESCRIPTION = """\
# Tumour Diagnosis

Predict whether a breast mass is malignant from 30 measurements of its cell nuclei.

## Evaluation

Submissions are scored on the log loss of the predicted probability that a tumour is malignant.

## Submission File

For each `id` in the test set, predict the probability of `malignant`:

```
id,malignant
12,0.5
...
```
"""

GRADE = '''\
import numpy as np
import pandas as pd
from sklearn.metrics import log_loss


class InvalidSubmissionError(Exception):
    """As mlebench.grade_helpers.InvalidSubmissionError: the submission cannot be graded."""


def grade(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
    if "id" not in submission.columns or "malignant" not in submission.columns:
        raise InvalidSubmissionError("Submission must have columns 'id' and 'malignant'.")
    if len(submission) != len(answers):
        raise InvalidSubmissionError(
            f"Submission has {len(submission)} rows; the answers have {len(answers)}."
        )
    if set(submission["id"]) != set(answers["id"]):
        raise InvalidSubmissionError("Submission ids do not match the ids of the test set.")
    p = pd.to_numeric(submission["malignant"], errors="coerce")
    if p.isna().any() or (p < 0).any() or (p > 1).any():
        raise InvalidSubmissionError("Column 'malignant' must hold probabilities between 0 and 1.")
    merged = answers.merge(submission.assign(malignant=p), on="id")
    y = (merged["diagnosis"] == "malignant").astype(int)
    return float(log_loss(y, np.clip(merged["malignant"], 1e-15, 1 - 1e-15), labels=[0, 1]))
'''

PREPARE = '''\
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split


def prepare(raw: Path, public: Path, private: Path):
    old_train = pd.read_csv(raw / "train.csv")
    new_train, new_test = train_test_split(old_train, test_size=0.2, random_state=0)

    sample = new_test[["id"]].copy()
    sample["malignant"] = 0.5
    sample.to_csv(public / "sample_submission.csv", index=False)

    new_test[["id", "diagnosis"]].to_csv(private / "test.csv", index=False)

    new_train.to_csv(public / "train.csv", index=False)
    new_test.drop(columns=["diagnosis"]).to_csv(public / "test.csv", index=False)
'''


def leaderboard() -> pd.DataFrame:
    """20 teams, best (lowest log loss) first, as MLE-bench's leaderboards list them."""
    scores = np.round(np.linspace(0.04, 0.69, 20), 5)
    return pd.DataFrame({"teamId": range(1000, 1020), "teamName": [f"team {i}" for i in range(20)],
                         "submissionDate": "2024-01-01 00:00:00", "score": scores})


def raw_table() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.drop(columns=["target"])
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame.insert(0, "id", np.arange(10_000, 10_000 + len(frame)))
    frame["diagnosis"] = np.where(data.frame["target"] == 0, "malignant", "benign")
    return frame


def make_suite(root: Path) -> Path:
    """Write the suite under ``root`` and prepare its competition with the fixture's own preparer."""
    registry = root / "competitions" / COMPETITION
    registry.mkdir(parents=True)
    (registry / "config.yaml").write_text(CONFIG)
    (registry / "description.md").write_text(DESCRIPTION)
    (registry / "grade.py").write_text(GRADE)
    (registry / "prepare.py").write_text(PREPARE)
    leaderboard().to_csv(registry / "leaderboard.csv", index=False)
    data = root / COMPETITION
    raw, public, private = data / "raw", data / "prepared" / "public", data / "prepared" / "private"
    for folder in (raw, public, private):
        folder.mkdir(parents=True)
    raw_table().to_csv(raw / "train.csv", index=False)
    spec = importlib.util.spec_from_file_location("fixture_prepare", registry / "prepare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.prepare(raw=raw, public=public, private=private)
    return root
