"""MLGym tasks (facebookresearch/MLGym) read from an MLGym checkout: ``mlgym:<task id>``.

What is read: ``configs/tasks/<id>.yaml`` (MLGym's ``TaskConfig``: description with a
``{dataset_docs}`` placeholder, ``dataset_configs``, ``task_entrypoint``, ``training_timeout``,
``starter_code``, ``baseline_scores``, ``evaluation_paths``, ``sample_submission``,
``secret_files``...), the dataset configs under ``configs/`` (``configs/datasets/*.yaml``), and the
files they name (paths relative to the checkout). Two routes, chosen by ``task_entrypoint``:

- ``PythonSubmissionTasks`` (the game tasks: prisoner's dilemma, battle of the sexes, Blotto): a
  program task. The starter module the evaluation script imports and the description names (e.g.
  ``strategy.py``) is the entry; the evaluation script and the other modules it imports (the
  opponent ``target.py``) and ``secret_files`` stay on the hidden side. Each role runs MLGym's own
  evaluation script in a harness process (:mod:`airlab.suites._mlgym_game`) with its own seed
  (``random`` and ``numpy.random`` of the script and of the candidate's module): search, val and
  test are disjoint Monte-Carlo draws of the same games. The candidate's functions are reached
  only through a sandboxed session.
- ``CSVSubmissionTasks`` with a local labelled ``train.csv`` (Titanic, Kaggle house prices): a
  prediction task on airlab's own hidden splits of the labelled rows (``train.csv``, and
  ``validation.csv`` where the dataset has one). The target and the id column come from the
  sample submission; MLGym's test inputs, its answer files and ``evaluate.py`` are never used or
  shown (airlab's metric of the same name scores the hidden rows).

The metric and its direction: MLGym's task configs state neither. MLGym's own ranking code does,
in the ``TASKS`` table of ``mlgym/evaluation/utils.py`` (``priority_metric``, ``metric_direction``);
it is read from the checkout (a copy of its entries is the fallback). A task missing from that table
takes the direction of its baseline metric's name where the table uses that name with a single
direction (Titanic's ``Accuracy`` is ``accuracy``, maximised); otherwise it is refused.
``baseline_scores[0]`` of that metric becomes ``references.baseline`` (the AUP reference).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field

from airlab.errors import TaskSpecError, UnknownTaskError
from airlab.suites._mlgym_game import SHIM_FILE, shim_source
from airlab.suites._program import SuiteProgramTask, suite_task_id, tail
from airlab.tasks.program.harness import Candidate, Rejected, RoleSet
from airlab.tasks.program.spec import ProgramSpec
from airlab.tasks.protocol import Task
from airlab.tasks.spec import Lines, Strict, read_yaml, validate

SUPPORTED = ("PythonSubmissionTasks", "CSVSubmissionTasks")
# MLGym's TASKS table (mlgym/evaluation/utils.py): task id -> (priority metric, direction); used
# when the checkout has no such file.
MLGYM_TASKS: dict[str, tuple[str, str]] = {
    "regressionKaggleHousePrice": ("r2", "maximize"),
    "3SATTime": ("Time", "minimize"),
    "imageClassificationCifar10": ("accuracy", "maximize"),
    "imageClassificationFMnist": ("accuracy", "maximize"),
    "imageCaptioningCOCO": ("BLEU Score", "maximize"),
    "languageModelingFineWeb": ("val_loss", "minimize"),
    "naturalLanguageInferenceMNLI": ("validation_accuracy", "maximize"),
    "battleOfSexes": ("Score", "maximize"),
    "prisonersDilemma": ("Score", "maximize"),
    "blotto": ("Score", "maximize"),
    "rlBreakoutMinAtar": ("Reward Mean", "maximize"),
    "rlMetaMazeMisc": ("Reward Mean", "maximize"),
    "rlMountainCarContinuous": ("Reward Mean", "maximize"),
}
# MLGym metric names -> airlab's prediction metrics (the CSV route scores with airlab's metric)
PREDICTION_METRICS = {"accuracy": "accuracy", "rmse": "rmse", "r2": "r2", "mae": "mae"}
CLASSIFICATION = {"accuracy"}
NOTE = ("\n\n(airlab) The workspace and the submission are the ones described below; MLGym's "
        "evaluation script is not in the workspace: a hidden evaluator scores the submission.")


class MLGymDataset(Strict):
    """MLGym's ``DatasetConfig``."""

    name: str
    description: str
    data_path: str
    is_local: bool = False
    train_split: dict[str, str] | None = None
    valid_split: dict[str, str] | None = None
    test_split: dict[str, str] | None = None


class MLGymTask(Strict):
    """MLGym's ``TaskConfig`` (configs/tasks/<id>.yaml)."""

    id: str = Field(min_length=1)
    name: str
    description: str
    task_entrypoint: str
    evaluation_paths: list[str] = Field(min_length=1)
    dataset_configs: list[str] = Field(default_factory=list)
    training_timeout: int | None = Field(None, gt=0)
    requirements_path: str | None = None
    benchmark_name: str | None = None
    use_generic_conda: bool = True
    starter_code: list[str] = Field(default_factory=list)
    baseline_paths: list[str] = Field(default_factory=list)
    baseline_scores: list[dict[str, float]] = Field(default_factory=list)
    sample_submission: str | None = None
    evaluation_read_only: bool = False
    secret_files: list[str] = Field(default_factory=list)
    memory_path: str | None = None


@dataclass(frozen=True)
class Direction:
    metric: str  # the key of the evaluation's JSON (as MLGym names it)
    higher_is_better: bool
    source: str


def checkout(suite_dir: Path | None) -> Path:
    if suite_dir is None:
        raise UnknownTaskError("mlgym tasks need --suite-dir: the folder of an MLGym checkout (with configs/tasks/)")
    root = Path(suite_dir).expanduser().resolve()
    if not (root / "configs" / "tasks").is_dir():
        raise UnknownTaskError(f"{root} is not an MLGym checkout: it has no configs/tasks/ folder")
    return root


def task_ids(root: Path) -> dict[str, Path]:
    """Every task config of the checkout by its ``id`` (and by its file name)."""
    found: dict[str, Path] = {}
    for path in sorted((root / "configs" / "tasks").glob("*.yaml")):
        found.setdefault(path.stem, path)
        try:
            raw, _ = read_yaml(path)
        except TaskSpecError:
            continue
        if isinstance(raw.get("id"), str):
            found.setdefault(raw["id"], path)
    return found


def read_config(root: Path, item: str) -> tuple[MLGymTask, Path, Lines]:
    known = task_ids(root)
    path = known.get(item)
    if path is None:
        raise UnknownTaskError(f"no MLGym task '{item}' in {root / 'configs' / 'tasks'}; "
                               f"tasks there: {', '.join(sorted(known)) or 'none'}")
    raw, lines = read_yaml(path)
    config: MLGymTask = validate(MLGymTask, raw, str(path), lines)
    return config, path, lines


def ranking_table(root: Path) -> tuple[dict[str, tuple[str, str]], str]:
    """MLGym's TASKS table from the checkout's ``mlgym/evaluation/utils.py``, else the copy here."""
    path = root / "mlgym" / "evaluation" / "utils.py"
    try:
        tree = ast.parse(path.read_text())
    except (OSError, SyntaxError, ValueError):
        return dict(MLGYM_TASKS), "airlab's copy of MLGym's TASKS table (mlgym/evaluation/utils.py)"
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "TASKS" for t in node.targets):
            try:
                table = ast.literal_eval(node.value)
            except ValueError:
                break
            out = {str(k): (str(v["priority_metric"]), str(v["metric_direction"]))
                   for k, v in table.items() if isinstance(v, dict) and "priority_metric" in v and "metric_direction" in v}
            return out, str(path)
    return dict(MLGYM_TASKS), "airlab's copy of MLGym's TASKS table (mlgym/evaluation/utils.py)"


def direction(root: Path, config: MLGymTask, origin: str) -> Direction:
    table, source = ranking_table(root)
    if config.id in table:
        metric, way = table[config.id]
        return Direction(metric, way == "maximize", f"{source}: TASKS['{config.id}']")
    names = [k for scores in config.baseline_scores[:1] for k in scores]
    ways: dict[str, set[str]] = {}
    for metric, way in table.values():
        ways.setdefault(metric.lower(), set()).add(way)
    matched = [(name, ways[name.lower()]) for name in names if len(ways.get(name.lower(), ())) == 1]
    if len(matched) == 1:
        name, (way,) = matched[0][0], tuple(matched[0][1])
        return Direction(name, way == "maximize", f"{source}: the direction MLGym gives metric '{name}'")
    raise TaskSpecError(
        f"{origin}: field 'baseline_scores': MLGym states no metric direction for task '{config.id}' "
        f"(it is not in MLGym's TASKS table, {source}) and its baseline metric(s) "
        f"{', '.join(names) or '(none)'} do not name one metric the table uses with a single direction")


def metric_key(metrics: dict[str, Any], name: str) -> str | None:
    """The key of ``name`` in an evaluation's metrics, matched without regard to case."""
    if name in metrics:
        return name
    return next((k for k in metrics if k.lower() == name.lower()), None)


def describe(root: Path, config: MLGymTask, origin: str) -> str:
    docs = ""
    for ref in config.dataset_configs:
        dataset = read_dataset(root, ref, origin)
        docs += f"{dataset.name.upper()}:\n{dataset.description}\n\n"
    return config.description.replace("{dataset_docs}", docs).strip() + NOTE


def read_dataset(root: Path, ref: str, origin: str) -> MLGymDataset:
    path = root / "configs" / ref
    if not path.is_file():
        raise TaskSpecError(f"{origin}: field 'dataset_configs': no dataset config {ref} (looked for {path})")
    raw, lines = read_yaml(path)
    dataset: MLGymDataset = validate(MLGymDataset, raw, str(path), lines)
    return dataset


def load_task(item: str, suite_dir: Path | None) -> Task:
    root = checkout(suite_dir)
    config, path, _ = read_config(root, item)
    origin = str(path)
    if config.task_entrypoint not in SUPPORTED:
        raise TaskSpecError(f"{origin}: field 'task_entrypoint': '{config.task_entrypoint}' tasks are not read by "
                            f"airlab (supported: {', '.join(SUPPORTED)}); see docs/suites-mlgym-airs.md")
    way = direction(root, config, origin)
    baseline = None
    if config.baseline_scores:
        key = metric_key(config.baseline_scores[0], way.metric)
        baseline = config.baseline_scores[0][key] if key is not None else None
    if config.task_entrypoint == "PythonSubmissionTasks":
        return game_task(root, config, origin, way, baseline)
    return csv_task(root, config, origin, way, baseline)


# -- PythonSubmissionTasks: a program task ------------------------------------------------------
def starter_files(root: Path, config: MLGymTask, origin: str) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for i, ref in enumerate(config.starter_code):
        path = root / ref
        if not path.is_file():
            raise TaskSpecError(f"{origin}: field 'starter_code.{i}': no file {ref} in the checkout")
        files[Path(ref).name] = path
    return files


def imports_of(script: Path, modules: set[str]) -> dict[str, list[str]]:
    """``from M import f, g`` of ``script`` for the modules in ``modules``: M -> [f, g]."""
    found: dict[str, list[str]] = {}
    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module in modules and node.level == 0:
            found.setdefault(node.module, []).extend(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    found.setdefault(alias.name, [])
    return found


@dataclass(frozen=True)
class GameEvaluator:
    """Runs MLGym's evaluation script for one role, the candidate behind a sandboxed session."""

    script: Path
    hidden: dict[str, Path]  # modules the script imports that stay on the hidden side (target.py)
    entry: str
    functions: tuple[str, ...]
    metric: str
    timeout: float

    def __call__(self, candidate: Candidate, role: RoleSet) -> float:
        candidate.path(self.entry)
        files = {p.name: p for p in sorted(candidate.public.iterdir()) if p.is_file()}
        files.update({p.name: p for p in sorted(candidate.artefacts.iterdir()) if p.is_file() and not p.is_symlink()})
        shim = candidate.scratch / f"shim-{role.name}" / SHIM_FILE
        shim.parent.mkdir(parents=True, exist_ok=True)
        shim.write_text(shim_source(Path(self.entry).stem, self.entry))
        files[SHIM_FILE] = shim
        request = {
            "role": role.name, "seed": role.seed, "script": str(self.script),
            "hidden": {name: str(path) for name, path in self.hidden.items()},
            "entry_module": Path(self.entry).stem, "functions": list(self.functions),
            "files": {name: str(path) for name, path in files.items()}, "scratch": str(candidate.scratch),
            "limits": candidate.limits.model_dump(), "call_timeout": candidate.call_timeout,
            "sandbox": "plain" if candidate.sandbox == "plain" else "auto",
        }
        try:
            done = subprocess.run([sys.executable, "-m", "airlab.suites._mlgym_game"], input=json.dumps(request),
                                  capture_output=True, text=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise Rejected(f"MLGym's {self.script.name} did not finish within {self.timeout:g} s") from None
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if not lines:
            raise RuntimeError(f"the MLGym evaluation process failed: {tail(done.stderr)}")
        answer = json.loads(lines[-1])
        if "rejected" in answer:
            raise Rejected(str(answer["rejected"]))
        metrics = answer["metrics"]
        key = metric_key(metrics, self.metric) if isinstance(metrics, dict) else None
        if key is None:
            raise Rejected(f"MLGym's {self.script.name} printed no '{self.metric}': {str(metrics)[:200]}")
        try:
            return float(metrics[key])
        except (TypeError, ValueError):
            raise Rejected(f"MLGym's {self.script.name} printed {self.metric} = {metrics[key]!r}, not a number") from None


def game_task(root: Path, config: MLGymTask, origin: str, way: Direction, baseline: float | None) -> SuiteProgramTask:
    starters = starter_files(root, config, origin)
    script_name = Path(config.evaluation_paths[0]).name
    if script_name not in starters:
        raise TaskSpecError(f"{origin}: field 'evaluation_paths': {config.evaluation_paths[0]} is not among the "
                            f"starter_code files, so airlab cannot find it in the checkout")
    if re.search(r"time", way.metric, re.I):
        raise TaskSpecError(f"{origin}: field 'task_entrypoint': the metric '{way.metric}' times calls into the "
                            f"candidate's code, which airlab makes through a sandbox pipe: not comparable, not supported")
    script = starters[script_name]
    modules = {Path(n).stem: n for n in starters if n.endswith(".py") and n != script_name}
    imported = imports_of(script, set(modules))
    named = [m for m in imported if re.search(rf"`?{re.escape(modules[m])}`?", config.description)]
    if len(named) != 1:
        raise TaskSpecError(
            f"{origin}: field 'description': airlab takes the agent's file to be the one starter module that "
            f"{script_name} imports and the description names; found {', '.join(modules[m] for m in named) or 'none'}")
    entry = modules[named[0]]
    secret = {Path(s).name for s in config.secret_files}
    hidden = {modules[m]: starters[modules[m]] for m in imported if modules[m] != entry}
    public = {name: path for name, path in starters.items()
              if name != script_name and name not in hidden and name not in secret
              and name not in {Path(p).name for p in config.evaluation_paths}}
    functions = tuple(imported[named[0]]) or ()
    if not functions:
        raise TaskSpecError(f"{origin}: field 'evaluation_paths': {script_name} imports no function from {entry}")
    timeout = float(config.training_timeout or 1800)
    spec = ProgramSpec.from_mapping({
        "id": suite_task_id("mlgym", config.id), "kind": "program", "title": config.name,
        "description": describe(root, config, origin), "entry": entry, "evaluator": "evaluate.py:evaluate",
        "metric": {"name": re.sub(r"[^a-z0-9_.-]+", "_", way.metric.lower()).strip("_") or "score",
                   "higher_is_better": way.higher_is_better,
                   "description": f"MLGym's '{way.metric}' as its {script_name} prints it"},
        "roles": {"search": {"instances": ["search-seed"]}, "val": {"instances": ["val-seed"]},
                  "test": {"instances": ["test-seed"]}},
        "references": {"baseline": baseline},
        "limits": {"time_seconds": timeout},
    }, origin=origin)
    evaluator = GameEvaluator(script=script, hidden=hidden, entry=entry, functions=functions,
                              metric=way.metric, timeout=timeout + 120)
    return SuiteProgramTask(spec=spec, folder=script.parent, origin=f"mlgym:{config.id} ({origin})",
                            starter=dict(public), evaluator=evaluator,
                            facts={"size": "3 seeds (search/val/test)", "entry": entry,
                                   "source": f"MLGym {config.id}", "direction": way.source})


# -- CSVSubmissionTasks: a prediction task ------------------------------------------------------
def csv_task(root: Path, config: MLGymTask, origin: str, way: Direction, baseline: float | None) -> Task:
    from airlab.tasks.prediction.spec import PredictionSpec
    from airlab.tasks.prediction.task import PredictionTask, _check_and_clean

    metric = PREDICTION_METRICS.get(way.metric.lower())
    if metric is None:
        raise TaskSpecError(f"{origin}: field 'baseline_scores': MLGym's metric '{way.metric}' has no airlab "
                            f"prediction metric (known: {', '.join(PREDICTION_METRICS)})")
    sample_ref = config.sample_submission
    if not sample_ref:  # MLGym ships some beside the task's starter files without naming them
        beside = [Path(ref).parent / "sample_submission.csv" for ref in config.starter_code]
        sample_ref = next((str(p) for p in beside if (root / p).is_file()), None)
    if not sample_ref:
        raise TaskSpecError(f"{origin}: field 'sample_submission': a CSV task needs its sample submission "
                            f"(it names the id and target columns)")
    sample_path = root / sample_ref
    if not sample_path.is_file():
        raise TaskSpecError(f"{origin}: field 'sample_submission': no file {sample_ref} in the checkout")
    data_dir = None
    for ref in config.dataset_configs:
        dataset = read_dataset(root, ref, origin)
        folder = root / dataset.data_path
        if dataset.is_local and (folder / "train.csv").is_file():
            data_dir = folder
            break
    if data_dir is None:
        raise TaskSpecError(f"{origin}: field 'dataset_configs': no local dataset with a labelled train.csv "
                            f"(airlab splits MLGym's labelled rows itself; remote datasets are not read)")
    sample = pd.read_csv(sample_path, nrows=5)
    frames = [pd.read_csv(data_dir / name) for name in ("train.csv", "validation.csv") if (data_dir / name).is_file()]
    frame = pd.concat(frames, ignore_index=True)
    targets = [c for c in sample.columns if c in frame.columns and c != sample.columns[0]]
    if len(targets) != 1:
        raise TaskSpecError(f"{origin}: field 'sample_submission': its columns {list(sample.columns)} do not name "
                            f"one target column of {data_dir / 'train.csv'}")
    target = targets[0]
    id_column = sample.columns[0] if sample.columns[0] in frame.columns else None
    if metric in CLASSIFICATION:
        kind = "binary" if frame[target].nunique() == 2 else "multiclass"
    else:
        kind = "regression"
    spec = PredictionSpec.from_mapping({
        "id": suite_task_id("mlgym", config.id), "title": config.name,
        "description": describe(root, config, origin), "kind": kind, "target": target, "metric": metric,
        "higher_is_better": way.higher_is_better, "source": {"type": "file", "path": str(data_dir / "train.csv")},
        "id_column": id_column, "limits": {"time_seconds": float(config.training_timeout or 1800)},
        "references": {"baseline": baseline},
    }, origin=origin)
    where = f"mlgym:{config.id} ({origin})"
    return PredictionTask(spec=spec, frame=_check_and_clean(spec, frame, where), origin=where)
