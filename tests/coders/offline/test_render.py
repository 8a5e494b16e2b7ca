"""The offline coder's rendered scripts, run for real on a built-in task."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from airlab.coders.offline.recipe import ModelSpec, Recipe
from airlab.coders.offline.render import render
from airlab.tasks.loader import load_task
from airlab.tasks.prediction.preview import make_preview
from airlab.tasks.prediction.splits import make_splits
from airlab.tasks.prediction.workspace import write_public_files


def test_regression_predictions_stay_within_the_labels_seen(tmp_path: Path) -> None:
    """Diamonds has stones with impossible sizes (y = 58.9 mm); a ridge model extrapolates on them to
    prices far beyond any in train, and one such row once made a whole ensemble's RMSE triple."""
    task = load_task("diamonds")
    splits = make_splits(task, 19)
    write_public_files(task, splits, tmp_path)
    recipe = Recipe(problem="regression", models=[ModelSpec(family="ridge")], seed=19)
    (tmp_path / "solution.py").write_text(render(recipe, "ridge", make_preview(task, splits), threads=1))
    subprocess.run([sys.executable, "solution.py"], cwd=tmp_path, check=True, capture_output=True, timeout=300)

    labels = splits.train[task.spec.target].astype(float)
    predicted = pd.read_csv(tmp_path / "submission.csv")[task.spec.target]
    assert len(predicted) == len(splits.predict)
    assert predicted.min() >= labels.min() and predicted.max() <= labels.max()
    # the bound is active on this data: without it the ridge model goes beyond the labels
    assert (predicted == labels.min()).any() or (predicted == labels.max()).any()
