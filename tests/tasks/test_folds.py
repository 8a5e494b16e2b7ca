"""Hidden K-fold evaluation and refit views: no run sees the labels it is scored on."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from airlab.rundir import RunConfig
from airlab.store.run_store import RunStore
from airlab.tasks import Evaluation, load_task
from airlab.tasks.prediction.splits import make_splits
from airlab.tasks.prediction.views import fold_views, refit_growth, refit_view, resolve_folds
from tests.conftest import run_json


@pytest.mark.parametrize("task_id", ["wine", "diabetes", "exam-scores"])
def test_fold_views_hide_what_they_score(task_id: str) -> None:
    task = load_task(task_id)
    base = make_splits(task, 0)
    views = fold_views(task, base, 4)
    target = task.spec.target
    held = set(base.answers.loc[base.answers["role"].isin(["val", "test"]), "id"])
    scored: list[str] = []
    feats = [c for c in base.predict.columns if c != "id"]
    for view in views:
        fold_ids = set(view.answers.loc[view.answers["role"] == "search", "id"])
        scored += fold_ids
        assert held <= set(view.predict["id"])  # val and test rows in every view, same ids
        assert target not in view.predict.columns
        # the rows scored in this view are not in its train file (checked by content)
        fold_rows = view.predict[view.predict["id"].isin(fold_ids)][feats]
        overlap = view.train[feats].merge(fold_rows, how="inner")
        assert len(overlap) <= len(fold_rows) * 0.02  # only exact duplicate rows of the data set
        assert len(view.train) + len(fold_ids) == len(base.train) + (base.answers["role"] == "search").sum()
        if task.spec.group_column:
            g = task.spec.group_column
            assert not set(view.train[g]) & set(view.predict[view.predict["id"].isin(fold_ids)][g])
    assert len(scored) == len(set(scored))  # each search-able row is scored in exactly one fold


def test_refit_view_uses_all_usable_rows() -> None:
    task = load_task("wine")
    base = make_splits(task, 0)
    view = refit_view(task, base)
    assert set(view.answers["role"]) == {"test"}
    assert len(view.train) == task.n_rows - len(view.predict)


def test_refit_growth_is_the_refit_rows_over_a_search_run_rows() -> None:
    task = load_task("wine")
    base = make_splits(task, 0)
    refit_rows = len(refit_view(task, base).train)
    assert refit_growth(base, [base]) == refit_rows / len(base.train)
    views = fold_views(task, base, 4)
    assert refit_growth(base, views) == refit_rows / min(len(v.train) for v in views)
    assert refit_growth(base, views) > 1.0


def test_auto_folds() -> None:
    small, mid = load_task("iris"), load_task("affairs")
    large, series = load_task("diamonds"), load_task("co2")
    assert resolve_folds("auto", small, make_splits(small)) == 5
    assert resolve_folds("auto", mid, make_splits(mid)) == 3  # 4,138 search-able rows
    assert resolve_folds("auto", large, make_splits(large)) == 1
    assert resolve_folds(5, series, make_splits(series)) == 1


def test_kfold_run_search_is_mean_of_folds(tmp_path: Path) -> None:
    result = run_json("run", "iris", "--budget-nodes", "2", "--eval-folds", "3", "--refit", "always", "--out", str(tmp_path))
    run_dir = tmp_path / result["run_id"]
    assert result["eval_folds"] == 3 and result["refit_test_score"] is not None
    for node in RunStore(run_dir / "journal.sqlite").nodes():
        assert len(node.fold_scores) == 3
        assert node.search_score == pytest.approx(float(np.mean(node.fold_scores)))
        for k in range(3):
            assert (run_dir / "nodes" / f"{node.id:04d}" / f"fold-{k}" / "submission.csv").exists()
    # the train file of fold k holds none of the rows scored in fold k, compared by content (a
    # view's train rows have no ids). Fold k's scored rows are those of its predict file that are in
    # no other view: val and test rows, with the same ids, are in all of them.
    predicts = [pd.read_csv(run_dir / "folds" / f"fold-{k}" / "predict.csv", dtype=str, keep_default_na=False) for k in range(3)]
    trains = [pd.read_csv(run_dir / "folds" / f"fold-{k}" / "train.csv", dtype=str, keep_default_na=False) for k in range(3)]
    held = set.intersection(*(set(p["id"]) for p in predicts))
    feats = [c for c in predicts[0].columns if c != "id"]
    assert all("id" not in t.columns and list(t[feats].columns) == feats for t in trains)
    base_train = pd.read_csv(run_dir / "public" / "train.csv", dtype=str, keep_default_na=False)
    base_predict = pd.read_csv(run_dir / "public" / "predict.csv", dtype=str, keep_default_na=False)
    search = base_predict[~base_predict["id"].isin(held)]  # the base split's search rows
    usable = _rows(base_train[feats]) + _rows(search[feats])  # every row a fold may score
    scored = Counter[tuple[str, ...]]()
    for k in range(3):
        fold = predicts[k][~predicts[k]["id"].isin(held)]
        assert len(fold) > 0
        fold_rows, train_rows = _rows(fold[feats]), _rows(trains[k][feats])
        # train and fold are two disjoint parts of the usable rows: a row of fold k also in its
        # train file would be counted once too often (iris holds duplicate rows: they may be in both)
        assert fold_rows + train_rows == usable, k
        scored += fold_rows
    assert scored == usable  # every usable row is scored in exactly one fold
    assert json.loads((run_dir / "result.json").read_text())["val_score"] is not None


def _rows(frame: pd.DataFrame) -> Counter[tuple[str, ...]]:
    """The rows of a frame as a multiset of their values."""
    return Counter(map(tuple, frame.itertuples(index=False, name=None)))


def test_refit_modes(tmp_path: Path) -> None:
    def evaluation(task_id: str, folds: int) -> Evaluation:
        return load_task(task_id).evaluation(tmp_path / f"{task_id}-{folds}", eval_folds=folds)

    labels5, labels1 = evaluation("iris", 5), evaluation("iris", 1)
    proba1, proba5, values5 = evaluation("breast-cancer", 1), evaluation("breast-cancer", 5), evaluation("diabetes", 5)
    auto = RunConfig(task="iris")
    assert auto.refit == "auto"
    assert not auto.refits(labels5)  # already a vote of five fold runs
    assert auto.refits(labels1) and auto.refits(proba5) and auto.refits(values5)
    assert not auto.refits(evaluation("co2", 1))  # the refit's train would pass the test times
    assert RunConfig(task="iris", refit="always").refits(labels5)
    assert not RunConfig(task="iris", refit="never").refits(proba1)
    # journals written when refit was a switch still resume as they were configured
    assert RunConfig.model_validate({"task": "iris", "refit": True}).refit == "always"
    assert RunConfig.model_validate({"task": "iris", "refit": False}).refit == "never"
    with pytest.raises(ValueError, match="auto"):
        RunConfig(task="iris", refit="sometimes")  # type: ignore[arg-type]


@pytest.mark.parametrize(("task_id", "refitted"), [("iris", False), ("breast-cancer", True)])
def test_auto_refit_keeps_the_fold_vote_of_a_label_metric(tmp_path: Path, task_id: str, refitted: bool) -> None:
    """iris is scored on labels: its answer stays the vote of the K fold runs. breast-cancer is
    scored on probabilities: its answer is refitted on all usable rows."""
    result = run_json("run", task_id, "--budget-nodes", "2", "--eval-folds", "3", "--out", str(tmp_path))
    run_dir = tmp_path / result["run_id"]
    assert result["eval_folds"] == 3 and result["test_score"] is not None
    assert (result["refit_test_score"] is not None) is refitted
    assert (run_dir / "refit").is_dir() is refitted
