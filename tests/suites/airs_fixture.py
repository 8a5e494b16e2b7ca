"""A small airs-bench checkout in AIRS-Bench's on-disk format, written by test code: one task folder
(``airsbench/tasks/rad/<name>/``: metadata.yaml, project_description.md, prepare.py,
evaluate_prepare.py, evaluate.py) and its raw data where the README downloads datasets
(``datasets/datasets_download_location/``), from scikit-learn's breast cancer table."""

from __future__ import annotations

import textwrap
from pathlib import Path

TASK = "DiagnosisBreastCancerAccuracy"
FEATURES = ["mean radius", "mean texture", "mean perimeter", "mean area", "mean smoothness",
            "worst radius", "worst texture", "worst concavity"]

METADATA = f"""\
metric_lower_is_better: false
file_export_globs:
  - submission.csv
container_python_requirements:
  - pandas
evaluate_container_python_requirements:
  - pandas
  - scikit-learn
logging_info:
  name: {TASK}
  dataset: sklearn/breast_cancer
  category: Tabular Classification
  research_problem: Diagnosis
  output_type: TabularClassification
  config: default
  train_split: train
  test_split: test
  input_columns: {FEATURES!r}
  scoring_column: label
  shape: (200,)
  custom_gold_labels: false
  custom_rad_class: false
  metric: Accuracy
  additional_metrics: null
  sota:
    - sota_paper_title: 'A made-up reference'
      sota_paper_url: https://example.org/sota
      sota_score: 0.98
      sota_year: 2024
      sota_venue: Nowhere
  dataset_paper_url: https://example.org/data
  estimated_worst_score: 0.37
  optimal_score: 1.0
"""

DESCRIPTION = """\
# Overview
## Task Description
TASK: predict whether a tumour is malignant (0) or benign (1) from measurements of its cells.
Your predictions will be scored against the `label` column of the test set.

## Data
Train data: `./data/train.csv` (the input columns and `label`); test data: `./data/test.csv`
(the input columns only).

### Submission file
A csv file named `submission.csv` with the header `label`, one row per row of the test set, in order.

### Evaluation
Accuracy of the predicted labels.
"""

ARGS = '''
if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--global-shared-data-dir", required=True)
    parser.add_argument("--agent-data-mount-dir", required=True)
    parser.add_argument("--agent-log-dir", required=False)
    args = parser.parse_args()
    for path in [args.global_shared_data_dir, args.agent_data_mount_dir, args.agent_log_dir]:
        if path is not None and not os.path.isdir(path):
            print(f"Error: Directory not found: {path}", file=sys.stderr)
            sys.exit(1)
    main(args.global_shared_data_dir, args.agent_data_mount_dir, args.agent_log_dir)
'''

PREPARE = '''\
import argparse
import os
import sys

import pandas as pd


def main(global_shared_data_dir, agent_data_mount_dir, agent_log_dir):
    source = os.path.join(global_shared_data_dir, "sklearn/breast_cancer/default")
    train = pd.read_csv(os.path.join(source, "train.csv"))
    test = pd.read_csv(os.path.join(source, "test.csv"))
    train.to_csv(os.path.join(agent_data_mount_dir, "train.csv"), index=False)
    test.drop(columns=["label"]).to_csv(os.path.join(agent_data_mount_dir, "test.csv"), index=False)
''' + ARGS

EVALUATE_PREPARE = '''\
import argparse
import os
import shutil
import sys

import pandas as pd


def main(global_shared_data_dir, agent_data_mount_dir, agent_log_dir):
    source = os.path.join(global_shared_data_dir, "sklearn/breast_cancer/default")
    test = pd.read_csv(os.path.join(source, "test.csv"))
    test.to_csv(os.path.join(agent_data_mount_dir, "test_with_labels.csv"), index=False)
    shutil.copy2(os.path.join(agent_log_dir, "submission.csv"), os.path.join(agent_data_mount_dir, "submission.csv"))
''' + ARGS

EVALUATE = '''\
import argparse
import json

import pandas as pd
from sklearn.metrics import accuracy_score


def evaluate(predictions, labels):
    return {"Accuracy": accuracy_score(labels, predictions)}


def _cli():
    p = argparse.ArgumentParser(description="Evaluate predictions")
    p.add_argument("--submission-file", default="submission.csv")
    a = p.parse_args()
    print("Loading test set labels...")
    labels = pd.read_csv("./data/test_with_labels.csv")["label"].to_numpy()
    try:
        submission_df = pd.read_csv(a.submission_file, header=0)
        preds = submission_df.values.squeeze()
        if preds.shape[0] != len(labels):
            raise ValueError(f"Submission file row count ({preds.shape[0]}) does not match test set size ({len(labels)}).")
        preds = preds.astype(int)
    except Exception as e:
        p.error(f"Error loading submission_file: {e}")
    result = evaluate(preds, labels)
    print("\\n--- EVALUATION RESULT ---")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    _cli()
'''


def write_airs(root: Path) -> Path:
    """An airs-bench checkout with one task under ``root``; returns ``root``."""
    from sklearn.datasets import load_breast_cancer

    folder = root / "airsbench" / "tasks" / "rad" / TASK
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {"metadata.yaml": METADATA, "project_description.md": DESCRIPTION, "prepare.py": PREPARE,
                       "evaluate_prepare.py": EVALUATE_PREPARE, "evaluate.py": EVALUATE}.items():
        (folder / name).write_text(textwrap.dedent(text))
    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "label"})
    frame = frame[[*FEATURES, "label"]].sample(frac=1.0, random_state=1).reset_index(drop=True)
    source = root / "datasets" / "datasets_download_location" / "sklearn" / "breast_cancer" / "default"
    source.mkdir(parents=True, exist_ok=True)
    frame.iloc[200:].to_csv(source / "train.csv", index=False)
    frame.iloc[:200].to_csv(source / "test.csv", index=False)
    return root
