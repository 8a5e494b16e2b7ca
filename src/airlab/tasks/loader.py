"""Find and load a task: a built-in id, a folder holding ``task.yaml``, or the YAML file itself.

The file's ``kind`` decides the implementation: ``program`` is a program task
(:mod:`airlab.tasks.program`); ``binary``, ``multiclass``, ``regression`` and ``forecasting``
are prediction tasks (:mod:`airlab.tasks.prediction`).
"""

from __future__ import annotations

from pathlib import Path

from airlab.errors import TaskSpecError, UnknownTaskError
from airlab.tasks.protocol import Task
from airlab.tasks.spec import read_yaml

TASK_FILE = "task.yaml"


def suite_dir() -> Path:
    """The built-in suite's folder (inside the installed package)."""
    return Path(__file__).parent / "suite"


def known_task_ids() -> list[str]:
    """Built-in tasks: ``suite/<id>.yaml`` files and ``suite/<id>/task.yaml`` folders."""
    ids = []
    for path in suite_dir().iterdir():
        if path.name.endswith(".yaml"):
            ids.append(path.name.removesuffix(".yaml"))
        elif (path / TASK_FILE).is_file():
            ids.append(path.name)
    return sorted(ids)


def resolve(ref: str) -> tuple[Path, Path | None]:
    """The task file of ``ref`` and the folder its files are relative to (None for a built-in
    prediction task, whose data ships in packages)."""
    path = Path(ref)
    if path.is_dir():
        yaml_path = path / TASK_FILE
        if not yaml_path.exists():
            raise TaskSpecError(f"{path}: a task folder needs a {TASK_FILE} file")
        return yaml_path, path.resolve()
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path, path.resolve().parent
    if ref in known_task_ids():
        folder = suite_dir() / ref
        if folder.is_dir():
            return folder / TASK_FILE, folder
        return suite_dir() / f"{ref}.yaml", None
    raise UnknownTaskError(
        f"unknown task '{ref}': not a folder with {TASK_FILE} and not a built-in task.\n"
        f"Built-in tasks: {', '.join(known_task_ids())}"
    )


def load_task(ref: str) -> Task:
    yaml_path, folder = resolve(ref)
    raw, lines = read_yaml(yaml_path)
    if raw.get("kind") == "program":
        from airlab.tasks.program.task import load_program_task

        assert folder is not None
        builtin = folder.parent == suite_dir()
        return load_program_task(folder, origin=f"builtin:{folder.name}" if builtin else None)
    from airlab.tasks.prediction.spec import PredictionSpec
    from airlab.tasks.prediction.task import load_prediction_task

    return load_prediction_task(PredictionSpec.from_mapping(raw, origin=str(yaml_path), lines=lines), folder)


def task_card(ref: str) -> dict[str, str]:
    """A task's id, kind, title and metric from its file alone, without loading its data."""
    yaml_path, _ = resolve(ref)
    raw, _ = read_yaml(yaml_path)
    metric = raw.get("metric")
    if isinstance(metric, dict):
        name, higher = str(metric.get("name", "?")), bool(metric.get("higher_is_better", True))
    else:
        from airlab.tasks.prediction.metrics import get_metric

        info = get_metric(str(metric))
        name, higher = info.name, info.higher_is_better
    return {"id": str(raw.get("id", ref)), "kind": str(raw.get("kind", "?")), "title": str(raw.get("title", "")),
            "metric": f"{name} {'↑' if higher else '↓'}"}
