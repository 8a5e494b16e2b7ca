"""A small MLGym checkout in MLGym's on-disk format, written by test code: a game task (an iterated
dilemma: task YAML, starter ``strategy.py``, opponent ``target.py``, ``evaluate.py`` printing MLGym's
JSON score line, baseline scores) and a CSV task (scikit-learn's wine table: train/test CSVs,
ground truth, ``evaluate.py``, sample submission, a dataset config)."""

from __future__ import annotations

import textwrap
from pathlib import Path

GAME_ID = "iteratedDilemma"
CSV_ID = "wineCultivar"

GAME_YAML = """\
id: iteratedDilemma
name: Iterated Dilemma
description: |-
  You are going to play an iterated prisoner's dilemma as the row player: 0 cooperates, 1 defects.
  Payoffs (you, partner): both 0: 3, 3; you 0 and they 1: 0, 5; you 1 and they 0: 5, 0; both 1: 1, 1.

  You goal is to write a Python function to play in the game. An example of the function is given in `strategy.py`.
  You have to modify the `row_strategy(history)` function; do not change its name or signature. `history` is a
  list of tuples (your move, partner's move) of the previous rounds.

  SUBMISSION FORMAT:
  For this task, your strategy function will be imported in the evaluation file.
task_entrypoint: PythonSubmissionTasks
training_timeout: 120
use_generic_conda: true
starter_code:
- data/iteratedDilemma/target.py
- data/iteratedDilemma/evaluate.py
- data/iteratedDilemma/strategy.py
baseline_paths:
- evaluate.py
baseline_scores:
- Score: 2.1
evaluation_paths:
- evaluate.py
evaluation_read_only: true
memory_path: data/iteratedDilemma/memory.json
"""

STRATEGY = '''\
import random


# NOTE: an example strategy; keep the function signature.
def row_strategy(history):
    """The next move of the row player (0 cooperate, 1 defect) from the history of (row, column) moves."""
    if not history:
        return 0
    last_round = history[-1]
    if last_round[1] == 0:
        return 0 if random.random() < 0.8 else 1
    return 1 if random.random() < 0.6 else 0
'''

TARGET = '''\
import random


def tit_for_tat(history):
    if not history:
        return 0
    return history[-1][0]


def always_defect(history):
    return 1


def random_strategy(history):
    return random.choice([0, 1])


def target_column_strategy(history):
    strategies = [tit_for_tat, always_defect, random_strategy]
    return random.choice(strategies)(history)
'''

GAME_EVALUATE = '''\
import json

import numpy as np
from strategy import row_strategy
from target import target_column_strategy

PAYOFFS = [[(3, 3), (0, 5)], [(5, 0), (1, 1)]]


def game_payoffs(strategy_row, strategy_col):
    if strategy_row not in [0, 1] or strategy_col not in [0, 1]:
        raise ValueError("Strategies must be either 0 or 1")
    return PAYOFFS[strategy_row][strategy_col]


def run_iterated_game(rounds, row_strategy_func, col_strategy_func):
    history = []
    for _ in range(rounds):
        next_move_row = row_strategy_func(history)
        next_move_col = col_strategy_func(history)
        history.append((next_move_row, next_move_col))
    return history


def evaluate():
    scores = []
    for _ in range(60):
        history = run_iterated_game(10, row_strategy, target_column_strategy)
        scores.append(np.mean([game_payoffs(r, c)[0] for r, c in history]))
    metrics = {"Score": float(np.mean(scores))}
    print(json.dumps(metrics))


evaluate()
'''

UTILS = '''\
"""Evaluation utilities (the part of MLGym's file airlab reads: the TASKS table)."""

TASKS = {
    "iteratedDilemma": {
        "name": "Iterated Dilemma",
        "shortname": "ID",
        "priority_metric": "Score",
        "metric_direction": "maximize",
    },
    "regressionKaggleHousePrice": {
        "name": "House Price",
        "shortname": "Regression",
        "priority_metric": "r2",
        "metric_direction": "maximize",
    },
    "imageClassificationCifar10": {
        "name": "CIFAR-10",
        "shortname": "CIFAR-10",
        "priority_metric": "accuracy",
        "metric_direction": "maximize",
    },
}
'''

CSV_YAML = """\
id: wineCultivar
name: Wine Cultivar Prediction
description: |-
  You are given the train and test sets of a wine dataset. This task uses the following dataset(s):
  {dataset_docs}
  Train a model on `data/train.csv` and predict the `cultivar` of each row of `data/test.csv`.

  SUBMISSION FORMAT:
  For this task, your code should save the predictions on test set to a file named `submission.csv`.
task_entrypoint: CSVSubmissionTasks
training_timeout: 120
use_generic_conda: true
starter_code:
  - data/wineCultivar/evaluate.py
dataset_configs:
  - datasets/wine.yaml
baseline_scores:
  - Accuracy: 0.9
evaluation_paths:
  - evaluate.py
sample_submission: data/wineCultivar/sample_submission.csv
evaluation_read_only: true
"""

DATASET_YAML = """\
name: wine
description: "Chemical analysis of wines from three cultivars: train.csv (with the cultivar) and test.csv."
data_path: "data/wineCultivar/data"
is_local: true
"""

CSV_EVALUATE = '''\
import argparse
import json
import os

import pandas as pd
from sklearn.metrics import accuracy_score

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--submission_file", default="/home/agent/workspace/submission.csv")
    args = parser.parse_args()
    truth = pd.read_csv(os.path.join("/home/agent/workspace", "data", "ground_truth.csv"))
    submission = pd.read_csv(args.submission_file)
    merged = submission.merge(truth, on="Id", suffixes=("_pred", "_true"))
    print(json.dumps({"accuracy": accuracy_score(merged["cultivar_true"], merged["cultivar_pred"])}))
'''


def write_mlgym(root: Path) -> Path:
    """An MLGym checkout with the two tasks under ``root``; returns ``root``."""
    from sklearn.datasets import load_wine

    files = {
        f"configs/tasks/{GAME_ID}.yaml": GAME_YAML,
        f"data/{GAME_ID}/strategy.py": STRATEGY,
        f"data/{GAME_ID}/target.py": TARGET,
        f"data/{GAME_ID}/evaluate.py": GAME_EVALUATE,
        "mlgym/evaluation/utils.py": UTILS,
        f"configs/tasks/{CSV_ID}.yaml": CSV_YAML,
        "configs/datasets/wine.yaml": DATASET_YAML,
        f"data/{CSV_ID}/evaluate.py": CSV_EVALUATE,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    bunch = load_wine(as_frame=True)
    frame = bunch.frame.rename(columns={"target": "cultivar"})
    frame["cultivar"] = [str(bunch.target_names[i]) for i in frame["cultivar"]]
    frame.insert(0, "Id", range(1, len(frame) + 1))
    frame = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    train, test = frame.iloc[:140], frame.iloc[140:]
    data = root / "data" / CSV_ID / "data"
    data.mkdir(parents=True, exist_ok=True)
    train.to_csv(data / "train.csv", index=False)
    test.drop(columns=["cultivar"]).to_csv(data / "test.csv", index=False)
    test[["Id", "cultivar"]].to_csv(data / "ground_truth.csv", index=False)
    test[["Id"]].assign(cultivar="class_0").to_csv(root / "data" / CSV_ID / "sample_submission.csv", index=False)
    return root
