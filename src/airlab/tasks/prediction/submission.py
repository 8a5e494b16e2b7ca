"""The grader: validates a submission and scores it, outside the sandbox.

Every refusal carries a reason a person (or a debug operator) can act on. The file is checked
before it is read (regular file, not a link or FIFO, bounded size), so a hostile submission can
never make the harness hang or read past its limits.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from airlab.tasks.prediction.metrics import MetricContext
from airlab.tasks.protocol import HIDDEN_ROLES, Grade, Role

if TYPE_CHECKING:
    from airlab.tasks.prediction.splits import HiddenSplits
    from airlab.tasks.prediction.task import PredictionTask as Task

SUBMISSION_FILE = "submission.csv"
ID = "id"


class InvalidSubmission(Exception):
    """The submission cannot be scored; ``str(exc)`` is the reason."""


def _examples(values: list[str], n: int = 3) -> str:
    shown = ", ".join(map(repr, values[:n]))
    return shown + (", ..." if len(values) > n else "")


class Grader:
    """Scores submissions for one (task, split seed)."""

    def __init__(self, task: Task, splits: HiddenSplits, answers: pd.DataFrame | None = None):
        self.task = task
        self.metric = task.spec.metric_info
        self.columns = submission_columns(task)
        self.answers = (answers if answers is not None else splits.answers).set_index(ID)
        self.expected_ids = set(splits.predict[ID].astype(str))
        y_train = splits.train[task.spec.target]
        self.context = MetricContext(
            classes=task.classes,
            y_train=y_train.to_numpy(dtype=float) if not task.spec.kind.is_classification else None,
            seasonal_period=task.spec.seasonal_period,
        )
        # generous: ~64 bytes per cell plus slack; a real submission is far smaller
        self.max_bytes = 1_000_000 + 64 * len(self.expected_ids) * len(self.columns)

    # -- reading -----------------------------------------------------------------------------
    def read(self, path: Path) -> pd.DataFrame:
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            raise InvalidSubmission(f"no {path.name} was written (the script must write it in its working directory)") from None
        if stat.S_ISLNK(info.st_mode):
            raise InvalidSubmission(f"{path.name} is a symbolic link; write a regular file")
        if not stat.S_ISREG(info.st_mode):
            raise InvalidSubmission(f"{path.name} is not a regular file (a FIFO, device or directory); write a regular CSV file")
        if info.st_size > self.max_bytes:
            raise InvalidSubmission(
                f"{path.name} is {info.st_size:,} bytes, over the limit of {self.max_bytes:,} for "
                f"{len(self.expected_ids):,} rows; write only the columns {self.columns}"
            )
        if info.st_size == 0:
            raise InvalidSubmission(f"{path.name} is empty")
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(self.max_bytes + 1)
        return self.parse(raw, path.name)

    def parse(self, raw: bytes, name: str = SUBMISSION_FILE) -> pd.DataFrame:
        import io

        try:
            frame = pd.read_csv(io.BytesIO(raw), dtype={ID: str})
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
            raise InvalidSubmission(f"{name} is not a readable CSV file: {str(exc).strip()[:300]}") from None
        return frame

    # -- checking ----------------------------------------------------------------------------
    def check(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return the submission indexed by id with values ready to score, or raise."""
        cols = [str(c) for c in frame.columns]
        missing = [c for c in self.columns if c not in cols]
        extra = [c for c in cols if c not in self.columns]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing column(s) {missing}")
            if extra:
                parts.append(f"unexpected column(s) {extra}")
            raise InvalidSubmission(f"{'; '.join(parts)}; expected exactly {self.columns} (see sample_submission.csv)")
        frame = frame.copy()
        frame.columns = cols
        ids = frame[ID].astype(str)
        dup = ids[ids.duplicated()].unique().tolist()
        if dup:
            raise InvalidSubmission(f"{len(dup)} duplicated id(s), e.g. {_examples(dup)}; give exactly one row per id of predict.csv")
        got = set(ids)
        lacking = sorted(self.expected_ids - got)
        surplus = sorted(got - self.expected_ids)
        if lacking:
            raise InvalidSubmission(f"{len(lacking)} id(s) of predict.csv have no prediction, e.g. {_examples(lacking)}")
        if surplus:
            raise InvalidSubmission(f"{len(surplus)} id(s) are not in predict.csv, e.g. {_examples(surplus)}")
        frame.index = pd.Index(ids, name=ID)
        values = frame.drop(columns=[ID])
        kind = self.metric.prediction
        if kind == "label":
            labels = values.iloc[:, 0]
            if labels.isna().any():
                raise InvalidSubmission(f"{int(labels.isna().sum())} empty prediction(s) in column '{values.columns[0]}'")
            as_str = labels.map(_label_str)
            unknown = sorted(set(as_str) - set(self.task.classes))
            if unknown:
                raise InvalidSubmission(f"unknown class label(s) {_examples(unknown)}; allowed: {self.task.classes}")
            return as_str.to_frame()
        numeric = values.apply(pd.to_numeric, errors="coerce")
        bad = numeric.isna() & values.notna()
        if bad.to_numpy().any():
            col = numeric.columns[bad.any().to_numpy()][0]
            raise InvalidSubmission(f"non-numeric value(s) in column '{col}', e.g. {values.loc[bad[col], col].iloc[0]!r}")
        arr = numeric.to_numpy(dtype=float)
        if np.isnan(arr).any():
            raise InvalidSubmission(f"{int(np.isnan(arr).sum())} missing (NaN) prediction(s)")
        if not np.isfinite(arr).all():
            raise InvalidSubmission(f"{int((~np.isfinite(arr)).sum())} infinite prediction(s)")
        if kind == "proba":
            if (arr < 0).any() or (arr > 1).any():
                raise InvalidSubmission("probabilities must lie in [0, 1]")
            sums = arr.sum(axis=1)
            off = np.abs(sums - 1) > 1e-3
            if off.any():
                raise InvalidSubmission(
                    f"{int(off.sum())} row(s) of class probabilities do not sum to 1 (e.g. {sums[off][0]:.4f})"
                )
        return numeric

    # -- scoring -----------------------------------------------------------------------------
    def role_ids(self, role: str) -> pd.Index:
        """The hidden ids of one role (search, val or test)."""
        return pd.Index(self.answers.index[self.answers["role"] == role])

    def truth(self, ids: pd.Index) -> np.ndarray:
        return self.answers.loc[ids, self.task.spec.target].to_numpy()

    def score_ids(self, checked: pd.DataFrame, ids: pd.Index) -> float:
        truth = self.truth(ids)
        pred = checked.loc[ids]
        prediction: np.ndarray
        if self.metric.prediction == "proba":
            prediction = pred[self.task.classes].to_numpy(dtype=float)
        elif self.metric.prediction == "label":
            prediction = pred.iloc[:, 0].to_numpy(dtype=object)
        else:
            prediction = pred.iloc[:, 0].to_numpy(dtype=float)
        return self.metric.score(truth, prediction, self.context)

    def grade_frame(self, frame: pd.DataFrame, roles: Sequence[Role] = HIDDEN_ROLES) -> Grade:
        try:
            checked = self.check(frame)
        except InvalidSubmission as exc:
            return Grade(valid=False, reason=str(exc))
        scores: dict[str, float] = {}
        try:
            for role in roles:
                ids = self.role_ids(role)
                if len(ids):
                    scores[role] = self.score_ids(checked, ids)
        except ValueError as exc:
            return Grade(valid=False, reason=f"could not score the predictions: {exc}")
        return Grade(valid=True, scores=scores)

    def grade_file(self, path: Path, roles: Sequence[Role] = HIDDEN_ROLES) -> Grade:
        try:
            frame = self.read(path)
        except InvalidSubmission as exc:
            return Grade(valid=False, reason=str(exc))
        return self.grade_frame(frame, roles)


def _label_str(value: object) -> str:
    """Class labels as strings; 1.0 read back from CSV counts as '1'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def combine_predictions(frames: list[pd.DataFrame], prediction: str) -> pd.DataFrame:
    """Average checked submissions over the ids they share: numbers are averaged, labels voted
    (ties go to the label that sorts first)."""
    common = frames[0].index
    for frame in frames[1:]:
        common = common.intersection(frame.index)
    aligned = [f.loc[common] for f in frames]
    if prediction == "label":
        votes = pd.concat([f.iloc[:, 0] for f in aligned], axis=1)
        winner = votes.apply(lambda row: sorted(row.value_counts().loc[lambda c: c == c.max()].index)[0], axis=1)
        return winner.to_frame(name=aligned[0].columns[0])
    total = aligned[0].astype(float)
    for frame in aligned[1:]:
        total = total + frame.astype(float)
    return total / len(aligned)


def submission_columns(task: Task) -> list[str]:
    """Columns a submission must have, in order."""
    metric = task.spec.metric_info
    if metric.prediction == "proba":
        return [ID, *task.classes]
    return [ID, task.spec.target]


def sample_submission(task: Task, ids: pd.Series, train: pd.DataFrame) -> pd.DataFrame:
    metric = task.spec.metric_info
    target = task.spec.target
    if metric.prediction == "proba":
        prior = train[target].astype(str).value_counts(normalize=True)
        data = {c: np.full(len(ids), float(prior.get(c, 0.0))) for c in task.classes}
        return pd.DataFrame({ID: ids.to_numpy(), **data})
    if metric.prediction == "label":
        majority = train[target].astype(str).mode().iloc[0]
        return pd.DataFrame({ID: ids.to_numpy(), target: majority})
    return pd.DataFrame({ID: ids.to_numpy(), target: float(train[target].mean())})
