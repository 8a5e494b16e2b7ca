"""Prediction tasks: a table with a target; the artefact is ``submission.csv``.

The harness splits the labelled rows once per (task, split seed) (:mod:`.splits`), deals the
search-able rows into K hidden folds where asked (:mod:`.views`), writes the agent-visible files of
each view (:mod:`.workspace`), and grades submissions (:mod:`.submission`). Predictions of several
runs can be averaged: K fold runs into one node's val/test predictions, and several nodes into an
ensemble (:mod:`.blend`).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from airlab.errors import TaskSpecError
from airlab.execution.sandbox import SandboxJob
from airlab.search.journal import Journal
from airlab.tasks.prediction.blend import build_ensemble, score_matrix, to_matrix
from airlab.tasks.prediction.blend_script import ensemble_script
from airlab.tasks.prediction.datasets import load_source
from airlab.tasks.prediction.metrics import Metric
from airlab.tasks.prediction.preview import DataPreview, make_preview
from airlab.tasks.prediction.spec import PredictionSpec, TaskKind
from airlab.tasks.prediction.splits import HiddenSplits, make_splits
from airlab.tasks.prediction.submission import SUBMISSION_FILE, Grader, combine_predictions
from airlab.tasks.prediction.views import refit_growth, refit_view, views_for
from airlab.tasks.prediction.workspace import PUBLIC_FILES, describe, write_public_files
from airlab.tasks.protocol import HIDDEN_ROLES, Capabilities, Ensemble, Grade, Role, View
from airlab.tasks.spec import Limits, References

SCRIPT = "solution.py"


@dataclass
class PredictionTask:
    """A prediction spec with its labelled rows loaded and checked."""

    spec: PredictionSpec
    frame: pd.DataFrame
    origin: str
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(blend=True, refit=True, folds=True))

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def kind(self) -> str:
        return self.spec.kind.value

    @property
    def objective(self) -> Metric:
        return self.spec.metric_info

    @property
    def limits(self) -> Limits:
        return self.spec.limits

    @property
    def references(self) -> References:
        return self.spec.references

    @cached_property
    def classes(self) -> list[str]:
        if not self.spec.kind.is_classification:
            return []
        return sorted(self.frame[self.spec.target].astype(str).unique().tolist())

    @property
    def feature_columns(self) -> list[str]:
        return [c for c in self.frame.columns if c != self.spec.target]

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    def summary(self) -> dict[str, str]:
        return {"size": f"{self.n_rows} rows", "modality": self.spec.modality.value}

    def score_report(self, test_score: float | None) -> dict[str, Any]:
        return {}

    def splits(self, split_seed: int | None = None) -> HiddenSplits:
        return make_splits(self, split_seed)

    def evaluation(self, root: Path, split_seed: int | None = None, eval_folds: str | int = 1) -> PredictionEvaluation:
        base, splits = views_for(self, eval_folds, split_seed)
        k = len(splits)
        write_public_files(self, base, root / "public")
        views = []
        for fold, view in enumerate(splits):
            folder = root / "public" if k == 1 else root / "folds" / f"fold-{fold}"
            if k > 1:
                write_public_files(self, view, folder)
            views.append(PredictionView(task=self, splits=view, public_dir=folder))
        return PredictionEvaluation(task=self, split_seed=base.split_seed, base=base, views=views,
                                    description=describe(self, base), preview=make_preview(self, base))

    def export(self, folder: Path, split_seed: int | None = None) -> list[Path]:
        write_public_files(self, make_splits(self, split_seed), folder)
        return [folder / name for name in PUBLIC_FILES]


@dataclass
class PredictionView:
    """One workspace (train, predict, sample submission) and the grader of its hidden rows."""

    task: PredictionTask
    splits: HiddenSplits
    public_dir: Path

    @cached_property
    def grader(self) -> Grader:
        return Grader(self.task, self.splits)

    def job(self, code: str, where: Path, limits: Limits) -> SandboxJob:
        workdir = where / "workspace"
        if workdir.exists():  # a re-run after resume starts from a fresh workspace
            shutil.rmtree(workdir)
        return SandboxJob(code=code, input_files={name: self.public_dir / name for name in PUBLIC_FILES},
                          workdir=workdir, limits=limits, log_dir=where, script_name=SCRIPT,
                          argv=[sys.executable, SCRIPT], artefacts=(SUBMISSION_FILE,))

    def grade(self, job: SandboxJob, keep: Path, roles: Sequence[Role] = HIDDEN_ROLES) -> Grade:
        submission = job.workdir / SUBMISSION_FILE
        grade = self.grader.grade_file(submission, tuple(roles))
        if grade.valid:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(submission, keep / SUBMISSION_FILE)
        return grade

    def grade_path(self, path: Path, roles: Sequence[Role] = HIDDEN_ROLES) -> Grade:
        return self.grader.grade_file(path, tuple(roles))

    def read(self, keep: Path) -> pd.DataFrame:
        """A kept submission, checked and indexed by id."""
        return self.grader.check(self.grader.read(keep / SUBMISSION_FILE))


@dataclass
class PredictionEvaluation:
    """The hidden side of one run of a prediction task: the base split and its K views."""

    task: PredictionTask
    split_seed: int
    base: HiddenSplits
    views: list[PredictionView]
    description: str
    preview: DataPreview
    entry: str = SCRIPT
    baseline_code: str | None = None

    @cached_property
    def grader(self) -> Grader:
        """Scores val and test on the base split."""
        return Grader(self.task, self.base)

    @cached_property
    def blender(self) -> PredictionBlender:
        return PredictionBlender(self)

    @property
    def refit_growth(self) -> float:
        """How many times as many rows a refit trains on as the smallest search run did."""
        return refit_growth(self.base, [v.splits for v in self.views])

    def combine(self, kept: Sequence[Path], grades: Sequence[Grade]) -> dict[str, float]:
        """Val and test scores of the average of the K fold runs' predictions (labels voted)."""
        frames = [view.read(folder) for view, folder in zip(self.views, kept, strict=True)]
        combined = combine_predictions(frames, self.task.objective.prediction)
        return {role: self.grader.score_ids(combined, self.grader.role_ids(role)) for role in ("val", "test")}

    def refit_view(self, folder: Path) -> PredictionView:
        """Train on train + search + val rows, predict the test rows only."""
        view = refit_view(self.task, self.base)
        write_public_files(self.task, view, folder)
        return PredictionView(task=self.task, splits=view, public_dir=folder)

    @property
    def refit_by_default(self) -> bool:
        """Refit unless the search ran K > 1 fold runs on a label metric (the answer is then a
        vote of K models, and one refitted model gives up the vote's lower variance: titanic and
        penguins, BENCHMARKS.md), or the task is a forecast (a refit's train would end after the
        test times it is asked to forecast: co2's MASE went from 0.88 to 4.1)."""
        forecast = self.task.spec.kind == TaskKind.FORECASTING
        return not (forecast or (self.task.objective.prediction == "label" and len(self.views) > 1))


@dataclass
class PredictionBlender:
    """Weighted averages of kept submissions: ensembles over nodes, and their refits."""

    evaluation: PredictionEvaluation

    def build(self, journal: Journal, kept: Callable[[int], list[Path]], costs: Callable[[int], float] | None = None,
              max_cost: float | None = None) -> Ensemble | None:
        ev = self.evaluation
        return build_ensemble(journal, lambda node: [folder / SUBMISSION_FILE for folder in kept(node)],
                              [v.grader for v in ev.views], ev.grader, costs=costs, max_cost=max_cost)

    def script(self, members: list[tuple[int, float, str]]) -> str:
        task = self.evaluation.task
        return ensemble_script(members, task.objective.prediction, task.classes)

    def score(self, view: View, members: list[tuple[Path, float]], role: Role) -> float | None:
        assert isinstance(view, PredictionView)
        grader = view.grader
        ids = grader.role_ids(role)
        if not len(ids) or not members:
            return None
        prediction, classes = grader.metric.prediction, self.evaluation.task.classes
        blend, total = None, 0.0
        for folder, weight in members:
            matrix = weight * to_matrix(view.read(folder), ids, prediction, classes)
            blend = matrix if blend is None else blend + matrix
            total += weight
        assert blend is not None
        return score_matrix(grader.metric, grader.truth(ids), np.asarray(blend / total), grader.context)


def load_prediction_task(spec: PredictionSpec, folder: Path | None) -> PredictionTask:
    """Load and check the labelled rows of ``spec`` (files relative to ``folder``)."""
    src = spec.source
    path = (folder / src.path) if (src.type == "file" and folder is not None and src.path) else None
    origin = str(folder) if folder else f"builtin:{spec.id}"
    frame = load_source(src.type, src.name, src.package, path)
    return PredictionTask(spec=spec, frame=_check_and_clean(spec, frame, origin), origin=origin)


def _check_and_clean(spec: PredictionSpec, frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    def need(column: str | None, field: str) -> None:
        if column is not None and column not in frame.columns:
            raise TaskSpecError(
                f"{origin}: field '{field}': column '{column}' is not in the data "
                f"(columns: {', '.join(map(str, frame.columns[:30]))})"
            )

    need(spec.target, "target")
    need(spec.group_column, "group_column")
    need(spec.time_column, "time_column")
    need(spec.id_column, "id_column")
    for col in spec.text_columns:
        need(col, "text_columns")
    for col in spec.drop_columns:
        need(col, "drop_columns")
    if "id" in frame.columns and spec.id_column != "id":
        raise TaskSpecError(f"{origin}: the data has a column named 'id', which airlab reserves; name it in 'id_column' or rename it")
    drop = [*spec.drop_columns, *([spec.id_column] if spec.id_column else [])]
    frame = frame.drop(columns=drop).reset_index(drop=True)
    frame = frame[frame[spec.target].notna()].reset_index(drop=True)
    if spec.kind.is_classification:
        frame[spec.target] = frame[spec.target].astype(str)
        n_classes = frame[spec.target].nunique()
        if n_classes < 2:
            raise TaskSpecError(f"{origin}: field 'target': a classification target needs at least 2 classes")
        if spec.kind == TaskKind.BINARY and n_classes != 2:
            raise TaskSpecError(f"{origin}: field 'kind': 'binary' but the target has {n_classes} classes")
    else:
        try:
            frame[spec.target] = pd.to_numeric(frame[spec.target]).astype(float)
        except (ValueError, TypeError) as exc:
            raise TaskSpecError(f"{origin}: field 'target': a {spec.kind.value} target must be numeric") from exc
    if spec.kind == TaskKind.FORECASTING:
        assert spec.time_column is not None
        times = pd.to_datetime(frame[spec.time_column], errors="coerce")
        if times.isna().any():
            raise TaskSpecError(f"{origin}: field 'time_column': values that are not dates")
        frame = frame.assign(**{spec.time_column: times.dt.strftime("%Y-%m-%d")})
        frame = frame.iloc[times.argsort(kind="stable")].reset_index(drop=True)
    if len(frame) < 30:
        raise TaskSpecError(f"{origin}: the data has {len(frame)} labelled rows; at least 30 are needed")
    return frame


def prediction_task(ref: str, suite_dir: str | Path | None = None) -> PredictionTask:
    """The prediction task ``ref`` names, for code that works on tables only (benchmarks, tools)."""
    from airlab.errors import AirlabError
    from airlab.tasks.loader import load_task

    task = load_task(ref, suite_dir)
    if not isinstance(task, PredictionTask):
        raise AirlabError(f"{ref} is a {task.kind} task, not a prediction task")
    return task
