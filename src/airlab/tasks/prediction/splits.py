"""Hidden Consistent Evaluation: one split per (task, split seed), made by the harness.

``train`` goes to the agent with labels. The ``search``, ``val`` and ``test`` rows go to the agent as
ONE shuffled prediction file with opaque ids, so a candidate cannot tell which row counts for what;
their labels stay in :class:`HiddenSplits.answers`, which never enters a sandbox.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from airlab.tasks.prediction.spec import TaskKind
from airlab.tasks.prediction.submission import ID, sample_submission

if TYPE_CHECKING:
    from airlab.tasks.prediction.task import PredictionTask as Task

Role = Literal["train", "search", "val", "test"]


@dataclass
class HiddenSplits:
    """The agent-visible files and the hidden answers of one (task, split seed)."""

    task_id: str
    split_seed: int
    train: pd.DataFrame  # features + target: given to the agent
    predict: pd.DataFrame  # id + features of search/val/test rows, shuffled
    answers: pd.DataFrame  # id, role, target: held by the harness only
    sample_submission: pd.DataFrame

    def ids(self, role: Role) -> pd.Index:
        return pd.Index(self.answers.loc[self.answers["role"] == role, ID])


def _rng(task_id: str, split_seed: int, salt: str) -> np.random.Generator:
    return np.random.default_rng([split_seed, zlib.crc32(f"{task_id}/{salt}".encode())])


def assign_roles(task: Task, split_seed: int) -> np.ndarray:
    """An array of roles, one per labelled row, respecting the task kind."""
    spec = task.spec
    fr = spec.splits
    n = task.n_rows
    rng = _rng(task.id, split_seed, "roles")
    held = fr.search + fr.val + fr.test
    edges = np.array([1 - held, 1 - held + fr.search, 1 - fr.test, 1.0])
    names = np.array(["train", "search", "val", "test"], dtype=object)

    def by_position(pos: np.ndarray) -> np.ndarray:
        return names[np.searchsorted(edges, pos, side="right").clip(0, 3)]

    if spec.kind == TaskKind.FORECASTING:
        # Rows are in time order: the last `held` fraction is the future. Inside it, rows are dealt
        # at random to search / val / test, so all three measure the same horizon.
        roles = np.full(n, "train", dtype=object)
        n_future = max(3, round(held * n))
        future = np.arange(n - n_future, n)
        share = np.array([fr.search, fr.val, fr.test]) / held
        counts = np.floor(share * n_future).astype(int)
        counts[np.argmax(share)] += n_future - counts.sum()
        dealt = np.repeat(np.array(("search", "val", "test"), dtype=object), counts)
        roles[future] = rng.permutation(dealt)
        return roles

    if spec.group_column:
        groups = task.frame[spec.group_column].astype(str).to_numpy()
        uniq, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
        if len(uniq) < 8:
            raise ValueError(f"group_column '{spec.group_column}' has {len(uniq)} groups; need at least 8")
        order = rng.permutation(len(uniq))
        # position of each group = middle of its share of rows in the permuted order
        cum = np.cumsum(sizes[order]) - sizes[order] / 2
        pos_by_group = np.empty(len(uniq))
        pos_by_group[order] = cum / n
        return by_position(pos_by_group[inverse])

    u = rng.random(n)
    if spec.kind.is_classification:
        # stratified: rank rows within their class, so every role gets each class's share
        labels = task.frame[spec.target].astype(str).to_numpy()
        pos = np.empty(n)
        for label in np.unique(labels):
            idx = np.flatnonzero(labels == label)
            ranks = np.argsort(np.argsort(u[idx]))
            pos[idx] = (ranks + 0.5) / len(idx)
        return by_position(pos)
    order = np.argsort(u)
    pos = np.empty(n)
    pos[order] = (np.arange(n) + 0.5) / n
    return by_position(pos)


def make_splits(task: Task, split_seed: int | None = None) -> HiddenSplits:
    spec = task.spec
    seed = spec.splits.seed if split_seed is None else split_seed
    roles = assign_roles(task, seed)
    frame = task.frame
    features = [c for c in frame.columns if c != spec.target]

    train = frame.loc[roles == "train", [*features, spec.target]].reset_index(drop=True)
    held = frame.loc[roles != "train"].copy()
    held_roles = roles[roles != "train"]
    rng = _rng(task.id, seed, "ids")
    ids = _opaque_ids(rng, len(held))
    order = rng.permutation(len(held))
    predict = pd.DataFrame({ID: ids[order]})
    predict = pd.concat([predict, held[features].iloc[order].reset_index(drop=True)], axis=1)
    answers = pd.DataFrame({ID: ids, "role": held_roles, spec.target: held[spec.target].to_numpy()})
    answers = answers.iloc[order].reset_index(drop=True)
    return HiddenSplits(
        task_id=task.id,
        split_seed=seed,
        train=train,
        predict=predict,
        answers=answers,
        sample_submission=sample_submission(task, predict[ID], train),
    )


def _opaque_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    ids: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        token = "".join(rng.choice(list("0123456789abcdef"), size=10))
        if token not in ids:
            ids.add(token)
            out.append(token)
    return np.array(out, dtype=object)
