"""AIRS-Bench tasks (facebookresearch/airs-bench) read from a checkout: ``airs:<TaskName>``.

A task folder (``airsbench/tasks/rad/<TaskName>/``, the aira-dojo specification) holds
``metadata.yaml`` (``metric_lower_is_better``, ``file_export_globs``, ``logging_info`` with the
metric's name, the scoring column, the SOTA scores, ``estimated_worst_score`` and
``optimal_score``), ``project_description.md`` (the agent's prompt) and three scripts, each called
as AIRS-Bench calls them (``--global-shared-data-dir RAW --agent-data-mount-dir DATA
--agent-log-dir LOG``):

- ``prepare.py`` writes the agent's data (train, test inputs) into ``DATA``: here the workspace's
  ``data/`` folder, the only data a candidate sees;
- ``evaluate_prepare.py`` writes the test answers (``test_with_labels``) into ``DATA`` and copies
  ``LOG/submission.csv`` there: here a hidden folder beside the run's workspace, outside any sandbox;
- ``evaluate.py --submission-file ./data/submission.csv``, run in a folder whose ``data/`` holds
  the answers and the submission, prints ``--- EVALUATION RESULT ---`` and a JSON dict of the metric.

As a program task: a candidate writes ``solution.py``, which must leave the files of
``file_export_globs`` (``submission.csv``: one row per test item, in the test set's order). The
hidden roles are disjoint shares of the test items (search 30%, val 30%, test 40%, drawn from the
run's split seed): for each role the answers, the test inputs and the submission are cut to the
role's rows and AIRS-Bench's own ``evaluate.py`` scores them. ``RAW`` is ``$AIRLAB_AIRS_DATA``,
else ``<checkout>/datasets/datasets_download_location`` (the README's download location). The
evaluation scripts' packages (``evaluate_container_python_requirements``) must be importable
where airlab runs. :meth:`score_report` gives AIRS-Bench's normalised score of a test score.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field

from airlab.errors import AirlabError, TaskSpecError, UnknownTaskError
from airlab.suites._program import SuiteProgramTask, suite_task_id, tail
from airlab.tasks.program.harness import Candidate, Rejected, RoleSet
from airlab.tasks.program.spec import ProgramSpec
from airlab.tasks.spec import Strict, read_yaml, validate

SCRIPTS = ("prepare.py", "evaluate_prepare.py", "evaluate.py")
DESCRIPTION = "project_description.md"
RESULT = re.compile(r"--- EVALUATION RESULT ---\s*(\{[\s\S]*?\})", re.DOTALL)
SHARES = {"search": (0.0, 0.3), "val": (0.3, 0.6), "test": (0.6, 1.0)}
HIDDEN_DIR = ".airs-hidden"
SCRIPT_SECONDS = 3600.0
_LOCK = threading.Lock()


class Sota(Strict):
    model_config = ConfigDict(extra="allow", frozen=True)

    sota_score: float


class LoggingInfo(Strict):
    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    metric: str
    scoring_column: str | list[str] | None = None
    input_columns: list[str] = Field(default_factory=list)
    sota: list[Sota] = Field(min_length=1)
    estimated_worst_score: float | None = None
    optimal_score: float | None = None


class Metadata(Strict):
    model_config = ConfigDict(extra="allow", frozen=True)

    metric_lower_is_better: bool = Field(strict=True)
    file_export_globs: list[str] = Field(min_length=1)
    container_python_requirements: list[str] = Field(default_factory=list)
    evaluate_container_python_requirements: list[str] = Field(default_factory=list)
    logging_info: LoggingInfo


def task_folder(suite_dir: Path | None, item: str) -> Path:
    if suite_dir is None:
        raise UnknownTaskError("airs tasks need --suite-dir: the folder of an airs-bench checkout")
    root = Path(suite_dir).expanduser().resolve()
    for folder in (root / "airsbench" / "tasks" / "rad" / item, root / item, root):
        if (folder / "metadata.yaml").is_file() and folder.name == item:
            return folder
    tasks = root / "airsbench" / "tasks" / "rad"
    known = sorted(p.name for p in tasks.iterdir() if (p / "metadata.yaml").is_file()) if tasks.is_dir() else []
    raise UnknownTaskError(f"no AIRS-Bench task '{item}' under {root} (looked in airsbench/tasks/rad/); "
                           f"tasks there: {', '.join(known) or 'none'}")


def raw_data_dir(folder: Path) -> Path:
    if os.environ.get("AIRLAB_AIRS_DATA"):
        return Path(os.environ["AIRLAB_AIRS_DATA"]).expanduser()
    for parent in folder.parents:
        candidate = parent / "datasets" / "datasets_download_location"
        if candidate.is_dir():
            return candidate
    raise AirlabError(f"{folder}: AIRS-Bench's downloaded datasets were not found: set AIRLAB_AIRS_DATA to the "
                      f"folder given to datasets/download_hf_datasets.sh (--global-shared-data-dir)")


def check_imports(script: Path, requirements_field: str) -> None:
    """Refuse a task whose script imports a package airlab's environment lacks (at load time,
    not as a refusal of every candidate)."""
    missing = []
    for node in ast.parse(script.read_text()).body:
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
        for name in names:
            top = name.split(".")[0]
            if (script.parent / f"{top}.py").exists():
                continue
            if importlib.util.find_spec(top) is None:
                missing.append(top)
    if missing:
        raise TaskSpecError(f"{script}: imports {', '.join(sorted(set(missing)))}, not installed where airlab runs; "
                            f"install the task's {requirements_field} (metadata.yaml)")


def run_script(script: Path, raw: Path, data: Path, log: Path) -> None:
    data.mkdir(parents=True, exist_ok=True)
    log.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, str(script), "--global-shared-data-dir", str(raw),
                           "--agent-data-mount-dir", str(data), "--agent-log-dir", str(log)],
                          capture_output=True, text=True, timeout=SCRIPT_SECONDS, cwd=script.parent)
    if done.returncode != 0:
        raise AirlabError(f"{script} failed (exit {done.returncode}): {tail(done.stderr or done.stdout)}")


# -- tables cut to a role's rows ------------------------------------------------------------
def n_rows(path: Path) -> int | None:
    """Rows of a table the evaluation may read (CSV, Parquet, NPY, a saved Hugging Face dataset)."""
    try:
        if path.is_dir() and (path / "dataset_info.json").exists():
            import datasets

            return len(datasets.load_from_disk(str(path)))
        if path.suffix == ".csv":
            return len(pd.read_csv(path))
        if path.suffix == ".parquet":
            return len(pd.read_parquet(path))
        if path.suffix == ".npy":
            return int(np.load(path, allow_pickle=False, mmap_mode="r").shape[0])
    except Exception:
        return None
    return None


def cut(source: Path, target: Path, rows: np.ndarray) -> None:
    """``source`` with only ``rows`` (in their order), written to ``target``."""
    if source.is_dir():
        import datasets

        datasets.load_from_disk(str(source)).select(rows.tolist()).save_to_disk(str(target))
    elif source.suffix == ".csv":
        pd.read_csv(source).iloc[rows].to_csv(target, index=False)
    elif source.suffix == ".parquet":
        pd.read_parquet(source).iloc[rows].to_parquet(target, index=False)
    else:
        np.save(target, np.load(source, allow_pickle=False)[rows])


def role_rows(n: int, role: str, split_seed: int, task_id: str) -> np.ndarray:
    order = np.random.default_rng(zlib.crc32(f"{task_id}/{split_seed}".encode())).permutation(n)
    low, high = SHARES[role]
    return np.sort(order[round(low * n):round(high * n)])


@dataclass(frozen=True)
class AirsEvaluator:
    """Scores a submission on one role's share of the test items with AIRS-Bench's evaluate.py."""

    folder: Path
    raw: Path
    task_id: str
    metric: str
    submission: str

    def hidden(self, public: Path) -> Path:
        """The answers evaluate_prepare.py writes, made once per run beside (never in) the workspace."""
        root = public.parent / HIDDEN_DIR
        with _LOCK:
            if not (root / "done").exists():
                if root.exists():
                    shutil.rmtree(root)
                log = root / "log"
                log.mkdir(parents=True)
                (log / self.submission).write_text("placeholder\n")
                run_script(self.folder / "evaluate_prepare.py", self.raw, root / "data", log)
                (root / "data" / self.submission).unlink(missing_ok=True)
                (root / "done").write_text("")
        return root / "data"

    def __call__(self, candidate: Candidate, role: RoleSet) -> float:
        submitted = candidate.path(self.submission)
        answers = self.hidden(candidate.public)
        counts = {p.name: n_rows(p) for p in sorted(answers.iterdir())}
        sized = [c for c in counts.values() if c]
        if not sized:
            raise RuntimeError(f"{self.folder / 'evaluate_prepare.py'} wrote no table airlab can split by rows")
        n = next((c for name, c in counts.items() if Path(name).stem == "test_with_labels" and c), None) or max(sized)
        try:
            submission = pd.read_csv(submitted, header=0)
        except Exception as exc:
            raise Rejected(f"{self.submission} cannot be read as CSV with a header: {exc}") from None
        if len(submission) != n:
            raise Rejected(f"{self.submission} has {len(submission)} rows; the test set has {n} "
                           f"(one row per test item, in the test set's order)")
        rows = role_rows(n, role.name, int(role.settings.get("split_seed", 0)), self.task_id)
        with tempfile.TemporaryDirectory(prefix=f"airs-{role.name}-", dir=candidate.scratch) as tmp:
            data = Path(tmp) / "data"
            data.mkdir()
            (Path(tmp) / "logs").mkdir()
            sources = [(p, counts[p.name]) for p in sorted(answers.iterdir())]
            sources += [(p, n_rows(p)) for p in sorted((candidate.public / "data").glob("test*"))
                        if p.name not in counts]
            for path, count in sources:
                if count == n:
                    cut(path, data / path.name, rows)
                elif path.is_dir():
                    shutil.copytree(path, data / path.name)
                else:
                    shutil.copyfile(path, data / path.name)
            submission.iloc[rows].to_csv(data / self.submission, index=False)
            done = subprocess.run([sys.executable, str(self.folder / "evaluate.py"), "--submission-file",
                                   f"./data/{self.submission}"], capture_output=True, text=True, cwd=tmp,
                                  timeout=SCRIPT_SECONDS)
        if done.returncode != 0:
            raise Rejected(f"AIRS-Bench's evaluate.py refused the submission: {tail(done.stderr or done.stdout)}")
        match = RESULT.search(done.stdout)
        if not match:
            raise Rejected(f"AIRS-Bench's evaluate.py printed no result: {tail(done.stdout)}")
        result = json.loads(match.group(1))
        value = result.get(self.metric, next(iter(result.values())) if len(result) == 1 else None)
        if not isinstance(value, int | float):
            raise Rejected(f"AIRS-Bench's evaluate.py gave no number for {self.metric}: {str(result)[:200]}")
        return float(value)


@dataclass(frozen=True)
class NormalisedScore:
    """AIRS-Bench's normalised score of one test score, with the task's SOTA, optimum and worst."""

    metric: str
    higher_is_better: bool
    sota: float
    optimum: float
    worst: float | None

    def __call__(self, test_score: float | None) -> dict[str, Any]:
        if test_score is None:
            return {}
        from airlab.ranking.normalise import airs_normalised_runs
        from airlab.ranking.table import ResultsCube

        out: dict[str, Any] = {"metric": self.metric, "raw_score": test_score, "sota": self.sota,
                               "optimum": self.optimum, "worst": self.worst}
        worst = test_score if self.worst is None else self.worst
        raw = np.array([[[test_score]], [[worst]]], dtype=float)
        cube = ResultsCube(agents=("run", "worst"), tasks=(self.metric,), seeds=("0",), raw=raw,
                           present=np.ones_like(raw, dtype=bool), valid=np.ones_like(raw, dtype=bool),
                           higher_is_better=np.array([self.higher_is_better]), optimum=np.array([self.optimum]),
                           best_known=np.array([self.sota]))
        out["airs_normalised_score"] = float(airs_normalised_runs(cube)[0, 0, 0])
        return out


STARTER = '''\
"""A first solution: read the train and test data, predict with a k-nearest-neighbours model on the
numeric input columns (or the most frequent / mean target when there are none) and write the
submission: one row per test item, in order, with the scoring column as header."""

import os

import pandas as pd

N_NEIGHBORS = 5
INPUTS = {inputs!r}
TARGET = {target!r}
SUBMISSION = {submission!r}


def load(name):
    path = os.path.join("data", name)
    if os.path.exists(path + ".csv"):
        return pd.read_csv(path + ".csv")
    from datasets import load_from_disk

    return load_from_disk(path).to_pandas()


train, test = load("train"), load("test")
numeric = [c for c in INPUTS if c in test and pd.api.types.is_numeric_dtype(test[c])]
y = train[TARGET]
classify = not pd.api.types.is_float_dtype(y) or y.nunique() <= 20
if numeric:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    model = (KNeighborsClassifier if classify else KNeighborsRegressor)(n_neighbors=N_NEIGHBORS)
    model.fit(train[numeric].fillna(0), y)
    prediction = model.predict(test[numeric].fillna(0))
else:
    prediction = [y.mode()[0] if classify else y.mean()] * len(test)
pd.DataFrame({{TARGET: prediction}}).to_csv(SUBMISSION, index=False)
'''


def load_task(item: str, suite_dir: Path | None) -> SuiteProgramTask:
    folder = task_folder(suite_dir, item)
    meta_path = folder / "metadata.yaml"
    raw_meta, lines = read_yaml(meta_path)
    meta: Metadata = validate(Metadata, raw_meta, str(meta_path), lines)
    info = meta.logging_info
    for name in (*SCRIPTS, DESCRIPTION):
        if not (folder / name).is_file():
            raise TaskSpecError(f"{folder}: an AIRS-Bench task needs {name}; it is missing")
    for i, glob in enumerate(meta.file_export_globs):
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", glob):
            raise TaskSpecError(f"{meta_path}: field 'file_export_globs.{i}': '{glob}' is a pattern or a path; "
                                f"airlab keeps plain file names only")
    check_imports(folder / "prepare.py", "container_python_requirements")
    check_imports(folder / "evaluate_prepare.py", "evaluate_container_python_requirements")
    check_imports(folder / "evaluate.py", "evaluate_container_python_requirements")
    raw = raw_data_dir(folder)
    higher = not meta.metric_lower_is_better
    optimum = info.optimal_score if info.optimal_score is not None else (1.0 if higher else 0.0)
    sota = info.sota[0].sota_score
    submission = "submission.csv" if "submission.csv" in meta.file_export_globs else meta.file_export_globs[0]
    target = info.scoring_column if isinstance(info.scoring_column, str) else "prediction"
    task_id = suite_task_id("airs", info.name)
    description = (folder / DESCRIPTION).read_text()
    spec = ProgramSpec.from_mapping({
        "id": task_id, "kind": "program", "title": info.name, "description": description,
        "entry": "solution.py", "artefacts": list(meta.file_export_globs), "evaluator": "evaluate.py:evaluate",
        "metric": {"name": re.sub(r"[^a-z0-9_.-]+", "_", info.metric.lower()).strip("_") or "score",
                   "higher_is_better": higher, "description": f"AIRS-Bench's {info.metric} on the hidden test items"},
        "roles": {role: {"instances": [f"{role}-rows"], "share": list(share)} for role, share in SHARES.items()},
        "references": {"best_known": sota, "optimum": optimum},
        "limits": {"time_seconds": 3600},
    }, origin=str(meta_path))

    def stage(public: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="airs-prepare-") as log:
            run_script(folder / "prepare.py", raw, public / "data", Path(log))

    evaluator = AirsEvaluator(folder=folder, raw=raw, task_id=task_id, metric=info.metric, submission=submission)
    report = NormalisedScore(metric=info.metric, higher_is_better=higher, sota=sota, optimum=optimum,
                             worst=info.estimated_worst_score)
    starter = STARTER.format(inputs=list(info.input_columns), target=target, submission=submission)
    return SuiteProgramTask(spec=spec, folder=folder, origin=f"airs:{item} ({folder})",
                            starter={"solution.py": starter}, evaluator=evaluator, stage=stage, report=report,
                            facts={"size": "test items split 30/30/40 (search/val/test)", "entry": "solution.py",
                                   "source": f"AIRS-Bench {item}"})
