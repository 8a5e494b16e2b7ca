"""Evaluation views: the workspaces a node runs in, beyond the single hidden split.

- **Hidden K-fold evaluation.** On small data one search split is noise. The harness partitions the
  search-able rows (``train`` and ``search``) into K fixed hidden folds, the same for every
  candidate. View k has a train file without fold k and a prediction file holding fold k plus the
  val and test rows. Fold k is scored as ``search`` for that view; the node's search score is the
  mean over folds and its val/test predictions are the average of its K runs. The labels a view is
  scored on never enter that view; val and test labels never enter any.
- **Refit.** After selection, the selected script runs once more with every agent-usable labelled
  row (train, search and val) as its train file; only the test rows are predicted.

Val and test rows keep their ids in every view, so their predictions can be combined across runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from airlab.tasks.prediction.spec import TaskKind
from airlab.tasks.prediction.splits import HiddenSplits, _opaque_ids, _rng, make_splits
from airlab.tasks.prediction.submission import ID, sample_submission

if TYPE_CHECKING:
    from airlab.tasks.prediction.task import PredictionTask as Task

SMALL_DATA_ROWS = 1000  # below this many search-able labelled rows, `auto` uses 5 folds
MID_DATA_ROWS = 10_000  # below this many, 3 folds; from here on, the one search split


def resolve_folds(eval_folds: str | int, task: Task, splits: HiddenSplits) -> int:
    """``auto``: 5 folds when the labelled rows an agent may use are few, 3 when they are a few
    thousand, else 1.

    With one hidden split the search score comes from 15% of the labelled rows. On a few thousand
    rows that is still too few to rank candidates a few thousandths apart (ROC-AUC on 950 rows has a
    standard error near 0.015), and the search follows the split's noise; 3 folds score every
    search-able row at three runs per node (measured in BENCHMARKS.md, "Offline agent against
    AutoML")."""
    if task.spec.kind == TaskKind.FORECASTING:
        return 1  # folds would put the future into train
    if str(eval_folds) == "auto":
        labelled = len(splits.train) + int((splits.answers["role"] == "search").sum())
        return 5 if labelled < SMALL_DATA_ROWS else 3 if labelled < MID_DATA_ROWS else 1
    k = int(eval_folds)
    if k < 1:
        raise ValueError("eval_folds must be >= 1 or 'auto'")
    return k


def _pool(task: Task, base: HiddenSplits) -> pd.DataFrame:
    """Train rows (new opaque ids) and search rows (their ids) with labels: the search-able rows."""
    target = task.spec.target
    rng = _rng(task.id, base.split_seed, "pool-ids")
    taken = set(base.answers[ID])
    ids: list[str] = []
    while len(ids) < len(base.train):
        for token in _opaque_ids(rng, len(base.train) - len(ids)):
            if token not in taken:
                taken.add(token)
                ids.append(str(token))
    train = base.train.copy()
    train.insert(0, ID, ids)
    search_ids = base.answers.loc[base.answers["role"] == "search", [ID, target]]
    search = base.predict.merge(search_ids, on=ID)
    return pd.concat([train, search[train.columns]], ignore_index=True)


def _assign_folds(task: Task, pool: pd.DataFrame, k: int, seed: int) -> np.ndarray:
    rng = _rng(task.id, seed, f"folds-{k}")
    n = len(pool)
    if task.spec.group_column:
        groups = pool[task.spec.group_column].astype(str).to_numpy()
        uniq = np.unique(groups)
        order = rng.permutation(len(uniq))
        fold_of_group = {g: i % k for i, g in zip(range(len(uniq)), uniq[order], strict=True)}
        return np.array([fold_of_group[g] for g in groups])
    folds = np.empty(n, dtype=int)
    if task.spec.kind.is_classification:
        labels = pool[task.spec.target].astype(str).to_numpy()
        offset = 0
        for label in np.unique(labels):
            idx = rng.permutation(np.flatnonzero(labels == label))
            folds[idx] = (np.arange(len(idx)) + offset) % k
            offset += len(idx)
        return folds
    folds[rng.permutation(n)] = np.arange(n) % k
    return folds


def fold_views(task: Task, base: HiddenSplits, k: int) -> list[HiddenSplits]:
    """K views of the task; ``k == 1`` is the base split itself."""
    if k == 1:
        return [base]
    target = task.spec.target
    pool = _pool(task, base)
    folds = _assign_folds(task, pool, k, base.split_seed)
    held = base.answers[base.answers["role"].isin(["val", "test"])]
    held_rows = base.predict[base.predict[ID].isin(held[ID])]
    views = []
    for fold in range(k):
        inside = pool[folds == fold]
        train = pool[folds != fold].drop(columns=[ID]).reset_index(drop=True)
        rng = _rng(task.id, base.split_seed, f"fold-order-{k}-{fold}")
        predict = pd.concat([inside.drop(columns=[target]), held_rows], ignore_index=True)
        predict = predict.iloc[rng.permutation(len(predict))].reset_index(drop=True)
        answers = pd.concat(
            [pd.DataFrame({ID: inside[ID], "role": "search", target: inside[target]}), held[[ID, "role", target]]],
            ignore_index=True,
        )
        views.append(HiddenSplits(
            task_id=task.id, split_seed=base.split_seed, train=train, predict=predict, answers=answers,
            sample_submission=sample_submission(task, predict[ID], train),
        ))
    return views


# the hidden rows besides train that a refit also trains on: every agent-usable labelled row
REFIT_ROLES = ("search", "val")


def refit_view(task: Task, base: HiddenSplits) -> HiddenSplits:
    """Train on train + search + val (all agent-usable labelled rows); predict the test rows only."""
    return widened_view(task, base, REFIT_ROLES, "test")


def widened_view(task: Task, base: HiddenSplits, extra_roles: tuple[str, ...], scored_role: str) -> HiddenSplits:
    """Train on train and the hidden rows of ``extra_roles``; predict and grade the rows of
    ``scored_role`` only. With (search, val) -> test it is the refit; benchmarks tune with
    (search,) -> val."""
    target = task.spec.target
    usable = base.answers[base.answers["role"].isin(extra_roles)]
    extra = base.predict.merge(usable[[ID, target]], on=ID).drop(columns=[ID])
    train = pd.concat([base.train, extra[base.train.columns]], ignore_index=True)
    scored = base.answers[base.answers["role"] == scored_role]
    predict = base.predict[base.predict[ID].isin(scored[ID])].reset_index(drop=True)
    return HiddenSplits(
        task_id=task.id, split_seed=base.split_seed, train=train, predict=predict,
        answers=scored.reset_index(drop=True), sample_submission=sample_submission(task, predict[ID], train),
    )


def refit_growth(base: HiddenSplits, views: list[HiddenSplits]) -> float:
    """How many times as many rows a refit trains on as the smallest search run did."""
    usable = len(base.train) + int(base.answers["role"].isin(REFIT_ROLES).sum())
    return usable / max(1, min(len(view.train) for view in views))


def views_for(task: Task, eval_folds: str | int, split_seed: int | None = None) -> tuple[HiddenSplits, list[HiddenSplits]]:
    base = make_splits(task, split_seed)
    return base, fold_views(task, base, resolve_folds(eval_folds, task, base))
