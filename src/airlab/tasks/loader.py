"""Find and load a task: a built-in id, a folder holding ``task.yaml``, or the YAML file itself."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import pandas as pd

from airlab.errors import TaskSpecError, UnknownTaskError
from airlab.tasks.prediction.datasets import load_source
from airlab.tasks.spec import TaskKind, TaskSpec

_SUITE = "airlab.tasks.suite"


@dataclass
class Task:
    """A task spec with its labelled rows loaded and checked."""

    spec: TaskSpec
    frame: pd.DataFrame
    origin: str

    @property
    def id(self) -> str:
        return self.spec.id

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


def known_task_ids() -> list[str]:
    folder = resources.files(_SUITE)
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def builtin_spec(task_id: str) -> TaskSpec:
    path = resources.files(_SUITE) / f"{task_id}.yaml"
    return TaskSpec.from_yaml(Path(str(path)))


def resolve_spec(ref: str) -> tuple[TaskSpec, Path | None]:
    """Return the spec for ``ref`` and the folder its files are relative to (None if built in)."""
    path = Path(ref)
    if path.is_dir():
        yaml_path = path / "task.yaml"
        if not yaml_path.exists():
            raise TaskSpecError(f"{path}: a task folder needs a task.yaml file")
        return TaskSpec.from_yaml(yaml_path), path.resolve()
    if path.suffix in (".yaml", ".yml") and path.exists():
        return TaskSpec.from_yaml(path), path.resolve().parent
    if ref in known_task_ids():
        return builtin_spec(ref), None
    raise UnknownTaskError(
        f"unknown task '{ref}': not a folder with task.yaml and not a built-in task.\n"
        f"Built-in tasks: {', '.join(known_task_ids())}"
    )


def load_task(ref: str) -> Task:
    spec, folder = resolve_spec(ref)
    src = spec.source
    path = (folder / src.path) if (src.type == "file" and folder is not None and src.path) else None
    frame = load_source(src.type, src.name, src.package, path)
    frame = _check_and_clean(spec, frame, origin=str(folder or f"builtin:{spec.id}"))
    return Task(spec=spec, frame=frame, origin=str(folder) if folder else f"builtin:{spec.id}")


def _check_and_clean(spec: TaskSpec, frame: pd.DataFrame, origin: str) -> pd.DataFrame:
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
