"""The hidden search data of an MLE-bench competition, and what a coder is shown of its workspace.

The search view is a competition made once more from the public folder, kept in
``<data dir>/<id>/airlab/search-<digest>/{public,private}`` (the digest follows the public files, so
re-preparing the competition makes it anew). Two routes, tried in order:

1. ``prepare``: the competition's own preparer, ``prepare(raw=public, public=..., private=...)``:
   its test rows come from the public training data and its answers have the private answers'
   format, since the same code made both. It fails for preparers that read raw files the public
   folder lacks, or that check the raw data's size.
2. ``rows``: a fixed row split of ``public/train.csv``: held-out rows become ``test.csv`` (the columns
   of the public ``test.csv``), ``sample_submission.csv`` (its columns, ids of the held-out rows) and the
   answers (the private answers' columns, taken from ``train.csv``). Needs ``train.csv``, ``test.csv``
   and ``sample_submission.csv`` whose columns are all in ``train.csv``.

The answers are then split into search and val by a seeded permutation of their ids (the first
column of ``sample_submission.csv``), a different split per split seed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from airlab.errors import TaskSpecError
from airlab.tasks.prediction.preview import ColumnInfo, DataPreview, infer_kind

if TYPE_CHECKING:
    from airlab.suites.mlebench import Competition, MLEBenchTask

ROUTE_FILE = "route.txt"
HOLDOUT_SEED = 20240  # the row split of the ``rows`` route: fixed, so the search workspace is too
MIN_HOLDOUT, MAX_HOLDOUT = 0.1, 0.3


class Unusable(Exception):
    """A route cannot make the search data of this competition."""


@dataclass
class SearchData:
    public_dir: Path
    answers: Path
    id_column: str | None
    role_rows: dict[str, np.ndarray]
    route: str


def _digest(comp: Competition) -> str:
    h = hashlib.sha1(f"{comp.id}\n{comp.answers.name}\n{comp.sample_submission.name}\n".encode())
    for path in sorted(comp.public_dir.rglob("*")):
        if path.is_file():
            info = path.stat()
            h.update(f"{path.relative_to(comp.public_dir)}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    return h.hexdigest()[:12]


def _relative(path: Path, folder: Path) -> Path:
    return path.relative_to(folder) if path.is_relative_to(folder) else Path(path.name)


def _reprepare(comp: Competition, out: Path) -> None:
    if comp.prepare_fn is None:
        raise Unusable("the registry entry names no preparer")
    raw, public, private = out / "raw", out / "public", out / "private"
    for folder in (raw, public, private):
        folder.mkdir(parents=True)
    for entry in sorted(comp.public_dir.iterdir()):  # the public folder as raw data, never written to
        (raw / entry.name).symlink_to(entry.resolve())
    try:
        comp.prepare_fn(raw=raw, public=public, private=private)
    except Exception as exc:
        raise Unusable(f"the preparer failed on the public folder: {type(exc).__name__}: {exc}") from None
    finally:
        shutil.rmtree(raw, ignore_errors=True)
    answers = private / _relative(comp.answers, comp.private_dir)
    sample = public / _relative(comp.sample_submission, comp.public_dir)
    for path, what in ((answers, "answers"), (sample, "sample submission")):
        if not path.is_file():
            raise Unusable(f"the preparer made no {what} {path.name}")


def _row_split(comp: Competition, out: Path) -> None:
    from airlab.suites.mlebench import read_table

    pub = comp.public_dir
    need = [pub / "train.csv", pub / "test.csv", comp.sample_submission]
    missing = [p.name for p in need if not p.is_file()]
    if missing:
        raise Unusable(f"the public folder has no {', '.join(missing)}")
    train, test, sample = read_table(pub / "train.csv"), read_table(pub / "test.csv"), read_table(comp.sample_submission)
    answers = read_table(comp.answers)
    # the sample's prediction columns need no value from train.csv: only its id column does
    absent = [c for c in dict.fromkeys([*test.columns, *sample.columns[:1], *answers.columns]) if c not in train.columns]
    if absent:
        raise Unusable(f"columns of test.csv, sample_submission.csv or the answers are not in train.csv: "
                       f"{', '.join(map(str, absent[:10]))}")
    share = min(MAX_HOLDOUT, max(MIN_HOLDOUT, len(test) / max(1, len(train) + len(test))))
    rng = np.random.default_rng(HOLDOUT_SEED)
    order = rng.permutation(len(train))
    n_out = max(2, round(share * len(train)))
    if len(train) - n_out < 2:
        raise Unusable(f"train.csv has too few rows ({len(train)})")
    held, kept = train.iloc[np.sort(order[:n_out])], train.iloc[np.sort(order[n_out:])]
    public, private = out / "public", out / "private"
    public.mkdir(parents=True)
    for entry in sorted(pub.iterdir()):  # other public files as they are
        if entry.name not in ("train.csv", "test.csv") and entry.resolve() != comp.sample_submission.resolve():
            if entry.is_dir():
                shutil.copytree(entry, public / entry.name)
            else:
                shutil.copyfile(entry, public / entry.name)
    kept.to_csv(public / "train.csv", index=False)
    held[list(test.columns)].to_csv(public / "test.csv", index=False)
    new_sample = pd.DataFrame({c: held[c].to_numpy() for c in sample.columns[:1]})
    for c in sample.columns[1:]:
        new_sample[c] = sample[c].iloc[0] if len(sample) else 0
    sample_path = public / _relative(comp.sample_submission, pub)
    sample_path.parent.mkdir(parents=True, exist_ok=True)
    new_sample.to_csv(sample_path, index=False)
    answers_path = private / _relative(comp.answers, comp.private_dir)
    answers_path.parent.mkdir(parents=True, exist_ok=True)
    held[list(answers.columns)].to_csv(answers_path, index=False)


def _build(comp: Competition, target: Path) -> None:
    staging = target.parent / f".staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        try:
            _reprepare(comp, staging)
            route, why = "prepare", ""
        except Unusable as first:
            shutil.rmtree(staging)
            staging.mkdir()
            try:
                _row_split(comp, staging)
            except Unusable as second:
                raise TaskSpecError(
                    f"{comp.config_path}: airlab cannot make hidden search data for '{comp.id}': re-preparing "
                    f"the public folder: {first}; splitting public/train.csv by rows: {second}") from None
            route, why = "rows", str(first)
        (staging / ROUTE_FILE).write_text(f"{route}\n{why}\n")
        try:
            os.rename(staging, target)
        except OSError:  # made meanwhile by another process: theirs is the same
            if not (target / ROUTE_FILE).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def search_data(comp: Competition, split_seed: int) -> SearchData:
    """The search view's public folder and answers (made once per prepared competition), and the
    rows of the answers that are search and val under ``split_seed``."""
    from airlab.suites.mlebench import read_table

    target = comp.data_dir / comp.id / "airlab" / f"search-{_digest(comp)}"
    if not (target / ROUTE_FILE).is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # an interrupted build
            shutil.rmtree(target)
        _build(comp, target)
    route = (target / ROUTE_FILE).read_text().split("\n", 1)[0]
    public = target / "public"
    answers_path = target / "private" / _relative(comp.answers, comp.private_dir)
    sample = read_table(public / _relative(comp.sample_submission, comp.public_dir))
    answers = read_table(answers_path)
    id_column = str(sample.columns[0]) if len(sample.columns) and sample.columns[0] in answers.columns else None
    rng = np.random.default_rng(zlib.crc32(f"{comp.id}/search-val/{split_seed}".encode()))
    if id_column is not None:
        keys = answers[id_column].astype(str)
        unique = keys.unique()
        if len(unique) < 2:
            raise TaskSpecError(f"{answers_path}: the search data has {len(unique)} id(s); at least 2 are needed")
        chosen = set(unique[rng.permutation(len(unique))[: len(unique) // 2]])
        in_search = keys.isin(chosen).to_numpy()
    else:
        if len(answers) < 2:
            raise TaskSpecError(f"{answers_path}: the search data has {len(answers)} row(s); at least 2 are needed")
        in_search = np.zeros(len(answers), dtype=bool)
        in_search[rng.permutation(len(answers))[: len(answers) // 2]] = True
    rows = {"search": np.flatnonzero(in_search), "val": np.flatnonzero(~in_search)}
    return SearchData(public_dir=public, answers=answers_path, id_column=id_column, role_rows=rows, route=route)


# -- what a coder is shown ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A competition that is one table: train.csv with one target column, test.csv, and a sample
    submission keyed by test.csv's id (the offline coder's scripts can work on it)."""

    kind: Literal["binary", "multiclass", "regression"]
    target: str
    prediction: Literal["label", "proba", "value"]
    classes: list[str]
    id_column: str
    train_has_id: bool


def infer_table(public: Path, sample_path: Path) -> Table | None:
    """The table layout of a public folder, or None if it is not one table."""
    train_path, test_path = public / "train.csv", public / "test.csv"
    if not (train_path.is_file() and test_path.is_file() and sample_path.is_file()):
        return None
    try:
        train_cols = [str(c) for c in pd.read_csv(train_path, nrows=0).columns]
        test_cols = [str(c) for c in pd.read_csv(test_path, nrows=0).columns]
        sample_cols = [str(c) for c in pd.read_csv(sample_path, nrows=0).columns]
    except (OSError, ValueError):
        return None
    if len(sample_cols) < 2 or sample_cols[0] not in test_cols:
        return None
    ident = sample_cols[0]
    targets = [c for c in train_cols if c not in test_cols]
    if len(targets) != 1 or any(c not in train_cols for c in test_cols if c != ident):
        return None
    target = targets[0]
    y = pd.read_csv(train_path, usecols=[target])[target].dropna()
    values = set(y.astype(str))
    rest = sample_cols[1:]
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if rest == [target]:
        integral = numeric and bool(np.all(np.mod(y.to_numpy(dtype=float), 1) == 0))
        if numeric and not (integral and y.nunique() <= 10):
            return Table("regression", target, "value", [], ident, ident in train_cols)
        prediction: Literal["label", "proba"] = "label"
    elif all(c in values for c in rest):
        prediction = "proba"
    else:
        return None
    classes = sorted(values)
    if len(classes) < 2:
        return None
    return Table("binary" if len(classes) == 2 else "multiclass", target, prediction, classes, ident, ident in train_cols)


class FilesPreview(BaseModel):
    """A competition that is not one table: its files and the first lines of its CSV files."""

    files: list[tuple[str, int]]
    heads: dict[str, str]
    metric: str
    higher_is_better: bool

    def render(self) -> str:
        lines = [f"score: {self.metric} ({'higher' if self.higher_is_better else 'lower'} is better)",
                 f"workspace files ({len(self.files)}):"]
        lines += [f"  - {name} ({size} bytes)" for name, size in self.files[:40]]
        if len(self.files) > 40:
            lines.append(f"  - ... and {len(self.files) - 40} more")
        for name, head in self.heads.items():
            lines.append(f"first lines of {name}:\n{head}")
        return "\n".join(lines)


def make_preview(task: MLEBenchTask, public: Path) -> DataPreview | FilesPreview:
    """What a coder is shown of the search workspace ``public`` (it holds no search or val answer)."""
    from airlab.suites.mlebench import DESCRIPTION_FILE, read_table, workspace_files

    objective = task.objective
    table = task.table
    if table is not None and (public / "train.csv").is_file() and (public / "test.csv").is_file():
        train = read_table(public / "train.csv")
        n_predict = len(read_table(public / "test.csv"))
        features = [c for c in train.columns if c not in (table.target, table.id_column)]
        columns = []
        for name in features:
            s = train[name]
            example = str(s.dropna().iloc[0]) if s.notna().any() else "NaN"
            columns.append(ColumnInfo(name=str(name), dtype=str(s.dtype), kind=infer_kind(s),
                                      n_missing=int(s.isna().sum()), n_unique=int(s.nunique()), example=example[:60]))
        y = train[table.target]
        if table.kind == "regression":
            summary = {"mean": float(y.mean()), "std": float(y.std()), "min": float(y.min()), "max": float(y.max())}
        else:
            summary = {str(k): float(v) for k, v in y.astype(str).value_counts(normalize=True).sort_index().items()}
        head = train.head(5)
        if len(head.columns) > 20:
            head = head[[*head.columns[:19], table.target]]
        return DataPreview(
            target=table.target, kind=table.kind, metric=objective.name, higher_is_better=objective.higher_is_better,
            prediction=table.prediction, classes=table.classes, n_train=len(train), n_predict=n_predict,
            columns=columns, target_summary=summary, head_csv=head.to_csv(index=False),
            predict_file="test.csv", id_column=table.id_column, train_has_id=table.train_has_id,
        )
    files = workspace_files(public)
    heads: dict[str, str] = {}
    for name, path in files.items():
        if name.endswith(".csv") and len(heads) < 5:
            with path.open(errors="replace") as fh:
                heads[name] = "".join(line[:300] for _, line in zip(range(4), fh, strict=False)).rstrip()
    return FilesPreview(files=[(n, p.stat().st_size) for n, p in files.items() if n != DESCRIPTION_FILE],
                        heads=heads, metric=objective.name, higher_is_better=objective.higher_is_better)
