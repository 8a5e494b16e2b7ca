"""Find and load a task: a built-in id, a held-out id (``heldout:<id>``), a folder holding
``task.yaml``, the YAML file itself, or
a task of another benchmark suite on disk (``<suite>:<id>``, read from the suite's directory).

The file's ``kind`` decides the implementation: ``program`` is a program task
(:mod:`airlab.tasks.program`); ``binary``, ``multiclass``, ``regression`` and ``forecasting``
are prediction tasks (:mod:`airlab.tasks.prediction`). A suite adapter reads its suite's own
on-disk format into one of these.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from airlab.errors import TaskSpecError, UnknownTaskError
from airlab.tasks.protocol import Task
from airlab.tasks.spec import read_yaml

TASK_FILE = "task.yaml"

# suite prefix -> "module:function"; the function takes (task id in the suite, the suite's directory)
SuiteLoader = Callable[[str, Path | None], Task]
SUITES: dict[str, str] = {
    "mlebench": "airlab.suites.mlebench:load_competition",
    "mlgym": "airlab.suites.mlgym:load_task",
    "airs": "airlab.suites.airs:load_task",
}


def suite_dirs(spec: str | Path | None) -> dict[str, Path]:
    """``--suite-dir``: one directory for every suite, or ``name=dir,name=dir`` for several."""
    if spec is None or str(spec) == "":
        return {}
    text = str(spec)
    if "=" not in text:
        return {"*": Path(text).expanduser()}
    dirs = {}
    for part in text.split(","):
        name, sep, folder = part.partition("=")
        if not sep or not name.strip() or not folder.strip():
            raise UnknownTaskError(f"--suite-dir: '{part}' is not NAME=DIR (e.g. mlebench=~/mle-data)")
        dirs[name.strip()] = Path(folder.strip()).expanduser()
    return dirs


def _suite_task(ref: str, suite_dir: str | Path | None) -> Task | None:
    prefix, sep, item = ref.partition(":")
    if not sep or Path(ref).exists() or prefix == HELDOUT:
        return None
    if prefix not in SUITES:
        known = ", ".join(sorted(SUITES)) or "none"
        raise UnknownTaskError(f"unknown suite '{prefix}' in task '{ref}'; suites airlab reads: {known}")
    module_name, _, function = SUITES[prefix].partition(":")
    loader: SuiteLoader = getattr(importlib.import_module(module_name), function)
    dirs = suite_dirs(suite_dir)
    return loader(item, dirs.get(prefix, dirs.get("*")))


# The held-out suite: tabular tasks from package data, fixed before airlab was ever run on them and
# never used to choose a default. Run as ``heldout:<id>``; benchmarks report on it, nothing tunes on it.
HELDOUT = "heldout"


def heldout_dir() -> Path:
    return Path(__file__).parent / HELDOUT


def heldout_task_ids() -> list[str]:
    """The held-out suite's tasks, as ``heldout:<id>`` references."""
    return sorted(f"{HELDOUT}:{path.stem}" for path in heldout_dir().glob("*.yaml"))


def builtin_dir() -> Path:
    """The built-in suite's folder (inside the installed package)."""
    return Path(__file__).parent / "suite"


def known_task_ids() -> list[str]:
    """Built-in tasks: ``suite/<id>.yaml`` files and ``suite/<id>/task.yaml`` folders."""
    ids = []
    for path in builtin_dir().iterdir():
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
    if ref.startswith(f"{HELDOUT}:"):
        if ref not in heldout_task_ids():
            raise UnknownTaskError(f"unknown task '{ref}'; the held-out suite has: {', '.join(heldout_task_ids())}")
        return heldout_dir() / f"{ref.partition(':')[2]}.yaml", None
    if ref in known_task_ids():
        folder = builtin_dir() / ref
        if folder.is_dir():
            return folder / TASK_FILE, folder
        return builtin_dir() / f"{ref}.yaml", None
    raise UnknownTaskError(
        f"unknown task '{ref}': not a folder with {TASK_FILE} and not a built-in task.\n"
        f"Built-in tasks: {', '.join(known_task_ids())}"
    )


def load_task(ref: str, suite_dir: str | Path | None = None) -> Task:
    """The task ``ref`` names; ``suite_dir`` is where a suite's tasks are (``--suite-dir``)."""
    suite = _suite_task(ref, suite_dir)
    if suite is not None:
        return suite
    yaml_path, folder = resolve(ref)
    raw, lines = read_yaml(yaml_path)
    if raw.get("kind") == "program":
        from airlab.tasks.program.task import load_program_task

        assert folder is not None
        builtin = folder.parent == builtin_dir()
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
