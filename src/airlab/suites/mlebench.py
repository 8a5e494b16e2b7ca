"""MLE-bench competitions as airlab tasks: ``airlab run mlebench:<competition-id> --suite-dir <data dir>``.

The competition is read in MLE-bench's own format (openai/mle-bench): a registry entry
``competitions/<id>/config.yaml`` (id, name, description, ``dataset.answers`` and
``dataset.sample_submission`` relative to the data dir, ``grader.name`` and ``grader.grade_fn`` as
``module:function``, ``preparer`` as ``module:function``) with ``leaderboard.csv`` beside it, and the
data prepared by MLE-bench in ``<data dir>/<id>/prepared/public`` (what an agent sees) and
``<data dir>/<id>/prepared/private`` (the answers). The registry entry is looked up in the suite
directory first (``<data dir>/competitions/<id>/``), then in the installed ``mlebench`` package.

Hidden evaluation (:mod:`airlab.suites.mlebench_data` builds the data):

- ``test``: the competition's private answers, graded by the competition's own grade function on a
  submission written in the competition's public folder (view *competition*);
- ``search`` and ``val``: the public folder made once more into a competition (the competition's
  own preparer run with ``public/`` as its raw data, or a row split of ``train.csv`` where that
  preparer cannot run), whose answers are split by a hidden seeded split of their ids into search
  and val; the same grade function scores each part (view *search*).

A node's ``solution.py`` runs in both views; search and val come from the first, test from the
second. Nothing private is ever in a workspace: a view's files are its public folder and an airlab
``description.md``.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import os
import re
import shutil
import stat
import sys
import tempfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from airlab.errors import TaskSpecError
from airlab.execution.sandbox import SandboxJob
from airlab.ranking.medals import medal_report
from airlab.tasks.objective import Objective
from airlab.tasks.protocol import HIDDEN_ROLES, Blender, Capabilities, Grade, Preview, Role
from airlab.tasks.spec import Limits, References, read_yaml

SCRIPT = "solution.py"
SUBMISSION_FILE = "submission.csv"
DESCRIPTION_FILE = "description.md"
MAX_SUBMISSION_BYTES = 512 * 1024**2
MAX_REASON_CHARS = 2000
MLEBENCH_MISSING = (
    "the mlebench package is not installed; it is not on PyPI: install it from a checkout of "
    "openai/mle-bench (`pip install -e <mle-bench checkout>`, or `pip install --no-deps -e <checkout>` "
    "plus its light dependencies: appdirs diskcache 'kaggle>=1.6,<1.7' py7zr tenacity pandas pyyaml scikit-learn)"
)
_PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3
_FN = re.compile(r"^[A-Za-z_][\w.\-]*:[A-Za-z_]\w*$")


# -- the registry entry ------------------------------------------------------------------------


@dataclass(frozen=True)
class Competition:
    """One MLE-bench competition: its registry entry and its prepared data."""

    id: str
    name: str
    description: str
    competition_type: str
    awards_medals: bool
    grader_name: str
    grade_fn: Callable[..., Any]
    prepare_fn: Callable[..., Any] | None
    data_dir: Path
    answers: Path
    sample_submission: Path
    leaderboard: pd.DataFrame
    leaderboard_path: Path
    config_path: Path
    registry: str  # "suite" (a registry folder in the data dir) or "mlebench" (the installed package)

    @property
    def public_dir(self) -> Path:
        return self.data_dir / self.id / "prepared" / "public"

    @property
    def private_dir(self) -> Path:
        return self.data_dir / self.id / "prepared" / "private"

    @property
    def is_lower_better(self) -> bool:
        """MLE-bench's rule: the leaderboard lists the best first, so a first score below the last
        means lower is better."""
        scores = self.leaderboard["score"]
        return bool(scores.iloc[0] < scores.iloc[-1])


def _field(raw: dict[str, Any], dotted: str, config: Path, lines: dict[tuple[str, ...], int],
           kind: type = str, default: Any = ...) -> Any:
    node: Any = raw
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is not ...:
                return default
            raise TaskSpecError(f"{config}: field '{dotted}': missing")
        node = node[part]
    if not isinstance(node, kind) or (isinstance(node, str) and not node.strip()):
        line = lines.get(tuple(dotted.split(".")))
        where = f" (line {line})" if line else ""
        raise TaskSpecError(f"{config}: field '{dotted}'{where}: expected a non-empty {kind.__name__}, got {node!r}")
    return node


def _module_from_file(path: Path, field_name: str, config: Path) -> ModuleType:
    name = f"airlab_mlebench_{zlib.crc32(str(path.resolve()).encode()):08x}_{path.stem}"
    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TaskSpecError(f"{config}: field '{field_name}': {path} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] == "mlebench":
            raise TaskSpecError(f"{path}: field '{field_name}': it imports {exc.name}, but {MLEBENCH_MISSING}") from None
        raise TaskSpecError(f"{path}: field '{field_name}': importing it failed: {exc}") from None
    except Exception as exc:
        raise TaskSpecError(f"{path}: field '{field_name}': importing it failed: {type(exc).__name__}: {exc}") from None
    sys.modules[name] = module
    return module


def import_function(target: str, folder: Path, field_name: str, config: Path) -> Callable[..., Any]:
    """``module:function`` of a registry entry: a file of the competition's folder named like the
    module's last part (a suite's own ``grade.py``), else the module itself (``mlebench.*``)."""
    if not _FN.match(target):
        raise TaskSpecError(f"{config}: field '{field_name}': '{target}' is not 'module:function'")
    module_name, _, function = target.partition(":")
    local = folder / f"{module_name.rsplit('.', 1)[-1]}.py"
    if local.is_file():
        module = _module_from_file(local, field_name, config)
    else:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if module_name.split(".")[0] == "mlebench" and importlib.util.find_spec("mlebench") is None:
                raise TaskSpecError(f"{config}: field '{field_name}': '{target}' needs mlebench, but {MLEBENCH_MISSING}") from None
            raise TaskSpecError(f"{config}: field '{field_name}': cannot import {module_name}: {exc} "
                                f"(and there is no {local.name} in {folder})") from None
        except Exception as exc:
            raise TaskSpecError(f"{config}: field '{field_name}': importing {module_name} failed: "
                                f"{type(exc).__name__}: {exc}") from None
    fn = getattr(module, function, None)
    if not callable(fn):
        raise TaskSpecError(f"{config}: field '{field_name}': {module_name} defines no function {function}()")
    return fn


def read_leaderboard(candidates: Sequence[Path]) -> tuple[pd.DataFrame, Path]:
    """The first readable ``leaderboard.csv`` with a numeric ``score`` column (Git LFS pointers are
    skipped: the mle-bench repository stores its leaderboards in LFS)."""
    problems = []
    for path in candidates:
        if not path.is_file():
            continue
        head = path.read_bytes()[:64]
        if head.startswith(b"version https://git-lfs"):
            problems.append(f"{path} is a Git LFS pointer (run `git lfs pull` in the checkout)")
            continue
        try:
            board = pd.read_csv(path)
        except (OSError, ValueError) as exc:
            problems.append(f"{path}: not a CSV file: {exc}")
            continue
        if "score" not in board.columns:
            problems.append(f"{path}: no 'score' column")
            continue
        board = board[pd.to_numeric(board["score"], errors="coerce").notna()].reset_index(drop=True)
        if board.empty:
            problems.append(f"{path}: no numeric scores")
            continue
        board["score"] = board["score"].astype(float)
        return board, path
    why = "; ".join(problems) or f"none of {', '.join(map(str, candidates))} exists"
    raise TaskSpecError(f"{candidates[-1]}: a leaderboard.csv with a 'score' column is needed (it gives the "
                        f"score's direction and the medal thresholds): {why}")


def _check_data(comp_id: str, data_dir: Path, answers: Path, sample: Path, config: Path) -> None:
    public = data_dir / comp_id / "prepared" / "public"
    if not public.is_dir():
        raise TaskSpecError(f"{public}: no such folder: the competition is not prepared in {data_dir} "
                            f"(MLE-bench's layout: <data dir>/{comp_id}/prepared/public and prepared/private)")
    if not answers.is_file():
        raise TaskSpecError(f"{config}: field 'dataset.answers': {answers} does not exist "
                            f"(the competition's prepared/private folder is incomplete)")
    if answers.suffix.lower() != ".csv":
        raise TaskSpecError(f"{config}: field 'dataset.answers': {answers.name}: airlab grades CSV answers only")
    if not sample.is_file():
        raise TaskSpecError(f"{config}: field 'dataset.sample_submission': {sample} does not exist")


def _from_suite_registry(comp_id: str, data_dir: Path, config: Path) -> Competition:
    raw, lines = read_yaml(config)
    folder = config.parent
    entry_id = _field(raw, "id", config, lines)
    if entry_id != comp_id:
        raise TaskSpecError(f"{config}: field 'id': '{entry_id}' differs from its folder '{comp_id}'")
    name = _field(raw, "name", config, lines)
    description_ref = _field(raw, "description", config, lines)
    answers = data_dir / _field(raw, "dataset.answers", config, lines)
    sample = data_dir / _field(raw, "dataset.sample_submission", config, lines)
    grader_name = _field(raw, "grader.name", config, lines)
    grade_fn = import_function(_field(raw, "grader.grade_fn", config, lines), folder, "grader.grade_fn", config)
    preparer = _field(raw, "preparer", config, lines, default=None)
    prepare_fn = import_function(preparer, folder, "preparer", config) if preparer is not None else None
    described = [p for p in (data_dir / description_ref, folder / Path(description_ref).name) if p.is_file()]
    if not described:
        raise TaskSpecError(f"{config}: field 'description': no file {description_ref} (looked in {data_dir} and {folder})")
    _check_data(comp_id, data_dir, answers, sample, config)
    board, board_path = read_leaderboard([data_dir / comp_id / "leaderboard.csv", folder / "leaderboard.csv"])
    return Competition(
        id=comp_id, name=name, description=described[0].read_text(),
        competition_type=str(raw.get("competition_type", "simple")), awards_medals=bool(raw.get("awards_medals", True)),
        grader_name=grader_name, grade_fn=grade_fn, prepare_fn=prepare_fn, data_dir=data_dir, answers=answers,
        sample_submission=sample, leaderboard=board, leaderboard_path=board_path, config_path=config, registry="suite",
    )


def _from_mlebench(comp_id: str, data_dir: Path) -> Competition | None:
    """The entry of the installed mlebench package's registry; None if mlebench is not installed."""
    if importlib.util.find_spec("mlebench") is None:
        return None
    try:
        from mlebench.registry import registry
    except Exception as exc:
        raise TaskSpecError(f"mlebench is installed but cannot be imported: {type(exc).__name__}: {exc}") from None
    config = registry.get_competitions_dir() / comp_id / "config.yaml"
    if not config.is_file():
        raise TaskSpecError(f"{config}: no such file: '{comp_id}' is not a competition of mlebench's registry")
    try:
        comp = registry.set_data_dir(data_dir).get_competition(comp_id)
    except ModuleNotFoundError as exc:
        raise TaskSpecError(f"{config}: mlebench cannot import {exc.name} for this competition "
                            f"(install the competition's own dependencies): {exc}") from None
    except Exception as exc:
        raise TaskSpecError(f"{config}: mlebench refused the entry: {type(exc).__name__}: {exc}") from None
    raw, _ = read_yaml(config)
    _check_data(comp_id, data_dir, Path(comp.answers), Path(comp.sample_submission), config)
    board, board_path = read_leaderboard([data_dir / comp_id / "leaderboard.csv", Path(comp.leaderboard)])
    return Competition(
        id=comp_id, name=comp.name, description=comp.description, competition_type=comp.competition_type,
        awards_medals=bool(raw.get("awards_medals", True)), grader_name=comp.grader.name,
        grade_fn=comp.grader.grade_fn, prepare_fn=comp.prepare_fn, data_dir=data_dir, answers=Path(comp.answers),
        sample_submission=Path(comp.sample_submission), leaderboard=board, leaderboard_path=board_path,
        config_path=config, registry="mlebench",
    )


def find_competition(competition_id: str, suite_dir: Path | None) -> Competition:
    """The registry entry and prepared data of ``competition_id`` in the data dir ``suite_dir``."""
    if suite_dir is None:
        raise TaskSpecError(f"mlebench:{competition_id}: pass --suite-dir <MLE-bench data dir> (the folder holding "
                            f"{competition_id}/prepared/public and prepared/private)")
    if not re.fullmatch(r"[A-Za-z0-9][\w.\-]*", competition_id):
        raise TaskSpecError(f"mlebench:{competition_id}: not a competition id")
    data_dir = Path(suite_dir).expanduser().resolve()
    if not data_dir.is_dir():
        raise TaskSpecError(f"{data_dir}: --suite-dir is not a folder")
    config = data_dir / "competitions" / competition_id / "config.yaml"
    if config.is_file():
        return _from_suite_registry(competition_id, data_dir, config)
    found = _from_mlebench(competition_id, data_dir)
    if found is None:
        raise TaskSpecError(f"{config}: no such file, and {MLEBENCH_MISSING} (its registry holds the real competitions)")
    return found


def load_competition(competition_id: str, suite_dir: Path | None) -> MLEBenchTask:
    """The suite loader registered as ``mlebench`` in :data:`airlab.tasks.loader.SUITES`."""
    return MLEBenchTask(find_competition(competition_id, suite_dir))


# -- grading ---------------------------------------------------------------------------------


def read_table(path: Path) -> pd.DataFrame:
    """A CSV as MLE-bench reads it (``float_precision="round_trip"``; an empty file is an empty frame)."""
    try:  # pandas 3 parses floats exactly by default and deprecates the option
        if _PANDAS_3:
            return pd.read_csv(path)
        return pd.read_csv(path, float_precision="round_trip")
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    if type(exc).__name__ != "InvalidSubmissionError":
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text[:MAX_REASON_CHARS] or "the grader refused the submission"


def _score(grade_fn: Callable[..., Any], submission: pd.DataFrame, answers: pd.DataFrame) -> float:
    value = float(grade_fn(submission.copy(), answers.copy()))
    if not math.isfinite(value):
        raise ValueError(f"the grader gave a score that is not finite ({value})")
    return round(value, 5)  # as MLE-bench's Grader reports it


def _checked_file(path: Path) -> str | None:
    """Why ``path`` is no submission (missing, not a regular file, too large); None if it is one."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return f"no {path.name} was written"
    if not stat.S_ISREG(info.st_mode):
        return f"{path.name} is not a regular file"
    if info.st_size > MAX_SUBMISSION_BYTES:
        return f"{path.name} is larger than {MAX_SUBMISSION_BYTES // 1024**2} MB"
    return None


@dataclass
class Answers:
    """A view's hidden answers and, for the search view, the split of their rows into roles."""

    path: Path
    roles: tuple[Role, ...]
    id_column: str | None = None
    role_rows: dict[str, np.ndarray] = field(default_factory=dict)  # role -> row positions of the answers

    @cached_property
    def frame(self) -> pd.DataFrame:
        return read_table(self.path)


def grade_submission(grade_fn: Callable[..., Any], submission: pd.DataFrame, answers: Answers,
                     roles: Sequence[Role]) -> Grade:
    """The competition's grade function on the whole submission (valid or not, with its reason),
    then on the rows of each role; only search's refusal is told."""
    wanted = [r for r in HIDDEN_ROLES if r in roles and r in answers.roles]
    frame = answers.frame
    try:
        whole = _score(grade_fn, submission, frame)
    except Exception as exc:  # InvalidSubmissionError, or anything a bad file trips in the grader
        return Grade(valid=False, reason=_reason(exc))
    if not answers.role_rows:
        return Grade(valid=True, scores={role: whole for role in wanted})
    scores: dict[str, float] = {}
    for role in wanted:
        rows = answers.role_rows[role]
        part = frame.iloc[rows]
        if answers.id_column is not None and answers.id_column in submission.columns:
            keys = set(part[answers.id_column].astype(str))
            sub = submission[submission[answers.id_column].astype(str).isin(keys)]
        else:  # no id to match on: the submission's rows in the answers' order
            sub = submission.iloc[rows]
        try:
            scores[role] = _score(grade_fn, sub.reset_index(drop=True), part.reset_index(drop=True))
        except Exception as exc:
            if role == "search":
                return Grade(valid=False, reason=f"on the search rows: {_reason(exc)}")
    return Grade(valid=True, scores=scores)


# -- views -----------------------------------------------------------------------------------


def workspace_files(folder: Path) -> dict[str, Path]:
    """Every file under ``folder`` by its path relative to it (what a job binds read-only)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            out[path.relative_to(folder).as_posix()] = path
    return out


@dataclass
class MLEBenchView:
    """One workspace (a public folder and the description) and the grader of its hidden answers."""

    task: MLEBenchTask
    public_dir: Path
    answers: Answers
    name: str  # "search" (the re-prepared public folder) or "competition" (the original one)

    @property
    def roles(self) -> tuple[Role, ...]:
        return self.answers.roles

    def job(self, code: str, where: Path, limits: Limits) -> SandboxJob:
        workdir = where / "workspace"
        if workdir.exists():  # a re-run after resume starts from a fresh workspace
            shutil.rmtree(workdir)
        inputs = workspace_files(self.public_dir)
        for name in inputs:  # nested inputs (image folders, ...) need their folders in the workspace
            if "/" in name:
                (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        return SandboxJob(code=code, input_files=inputs, workdir=workdir, limits=limits, log_dir=where,
                          script_name=SCRIPT, argv=[sys.executable, SCRIPT], artefacts=(SUBMISSION_FILE,))

    def grade(self, job: SandboxJob, keep: Path, roles: Sequence[Role] = HIDDEN_ROLES) -> Grade:
        submission = job.workdir / SUBMISSION_FILE
        grade = self.grade_path(submission, roles)
        if grade.valid:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(submission, keep / SUBMISSION_FILE)
        return grade

    def grade_path(self, path: Path, roles: Sequence[Role] = HIDDEN_ROLES) -> Grade:
        problem = _checked_file(path)
        if problem is not None:
            return Grade(valid=False, reason=problem)
        try:
            submission = read_table(path)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            return Grade(valid=False, reason=f"{path.name} is not a readable CSV file: {exc}")
        return grade_submission(self.task.competition.grade_fn, submission, self.answers, roles)


# -- the task ----------------------------------------------------------------------------------


class MLEBenchTask:
    """An MLE-bench competition read from its registry entry and prepared data."""

    def __init__(self, competition: Competition):
        self.competition = competition
        self.capabilities = Capabilities(blend=False, refit=False, folds=False)
        self.limits = Limits.model_validate({})
        self.references = References()

    @property
    def id(self) -> str:
        return self.competition.id

    @property
    def title(self) -> str:
        return self.competition.name

    @property
    def origin(self) -> str:
        return f"mlebench:{self.competition.config_path}"

    @cached_property
    def objective(self) -> Objective:
        return Objective(name=self.competition.grader_name, higher_is_better=not self.competition.is_lower_better)

    @cached_property
    def table(self) -> Any:
        from airlab.suites.mlebench_data import infer_table

        return infer_table(self.competition.public_dir, self.competition.sample_submission)

    @property
    def kind(self) -> str:
        return self.table.kind if self.table is not None else "competition"

    def summary(self) -> dict[str, str]:
        files = workspace_files(self.competition.public_dir)
        return {"size": f"{len(files)} public files", "leaderboard": f"{len(self.competition.leaderboard)} teams",
                "registry": self.competition.registry}

    def score_report(self, test_score: float | None) -> dict[str, Any]:
        """MLE-bench's CompetitionReport fields for a test score (None: no valid submission)."""
        comp = self.competition
        board = comp.leaderboard["score"].to_numpy(dtype=float)
        report = medal_report(test_score, board, higher_is_better=not comp.is_lower_better)
        return {
            "suite": "mlebench", "competition_id": comp.id, "score": test_score,
            "submission_exists": test_score is not None, "valid_submission": test_score is not None,
            "gold_medal": report.medal == "gold", "silver_medal": report.medal == "silver",
            "bronze_medal": report.medal == "bronze", "any_medal": report.medal is not None,
            "above_median": report.above_median,
            "gold_threshold": report.gold_threshold, "silver_threshold": report.silver_threshold,
            "bronze_threshold": report.bronze_threshold, "median_threshold": report.median_threshold,
            "is_lower_better": comp.is_lower_better, "leaderboard_size": len(board),
            "awards_medals": comp.awards_medals,
        }

    def describe(self, public: Path) -> str:
        comp = self.competition
        files = [name for name in workspace_files(public) if name != DESCRIPTION_FILE]
        shown = ", ".join(f"`{n}`" for n in files[:30]) + (f" and {len(files) - 30} more" if len(files) > 30 else "")
        sample = comp.sample_submission.relative_to(comp.public_dir).as_posix() \
            if comp.sample_submission.is_relative_to(comp.public_dir) else comp.sample_submission.name
        note = [
            "", "", "## How airlab runs this competition", "",
            f"- The workspace holds the competition's public files, read-only: {shown}.",
            f"- Write `{SCRIPT}`; airlab runs `python {SCRIPT}` in the workspace. It must write `{SUBMISSION_FILE}` "
            f"there, in the format of `{sample}`: the same columns, one row per id of the test data.",
            f"- The competition's own grader ({comp.grader_name}, "
            f"{'lower' if comp.is_lower_better else 'higher'} is better) scores it on hidden answers.",
            "- The same script also runs in a second workspace of the same layout whose test rows were taken "
            "from the training data: read whatever rows the files hold; never hard-code ids or row counts.",
            f"- Limits per run: {self.limits.time_seconds:g} s wall time (unless the run sets another), "
            f"{self.limits.memory_mb} MB memory, no network.",
        ]
        return comp.description.rstrip() + "\n".join(note) + "\n"

    def write_workspace(self, source: Path, folder: Path) -> None:
        """The public files of ``source`` (hard links where possible) and the description."""
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, path in workspace_files(source).items():
            if name == DESCRIPTION_FILE:
                continue
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:
                shutil.copyfile(path, target)
        (folder / DESCRIPTION_FILE).write_text(self.describe(folder))

    def export(self, folder: Path, split_seed: int | None = None) -> list[Path]:
        """The competition's public folder and the description: what an outside agent needs to make a
        ``submission.csv`` that ``airlab grade`` scores on the test answers."""
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="airlab-export-", dir=folder))
        try:
            self.write_workspace(self.competition.public_dir, staging / "w")
            paths = []
            for name, path in workspace_files(staging / "w").items():
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.exists():
                    target.unlink()
                shutil.copyfile(path, target)
                paths.append(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return sorted(paths)

    def evaluation(self, root: Path, split_seed: int | None = None, eval_folds: str | int = 1) -> MLEBenchEvaluation:
        from airlab.suites.mlebench_data import make_preview, search_data

        seed = 0 if split_seed is None else int(split_seed)
        data = search_data(self.competition, seed)
        search_public = root / "public"
        competition_public = root / "views" / "competition"
        self.write_workspace(data.public_dir, search_public)
        self.write_workspace(self.competition.public_dir, competition_public)
        search = MLEBenchView(task=self, public_dir=search_public, name="search",
                              answers=Answers(path=data.answers, roles=("search", "val"), id_column=data.id_column,
                                              role_rows=data.role_rows))
        competition = MLEBenchView(task=self, public_dir=competition_public, name="competition",
                                   answers=Answers(path=self.competition.answers, roles=("test",)))
        preview = make_preview(self, search_public)
        return MLEBenchEvaluation(task=self, split_seed=seed, views=[search, competition],
                                  description=(search_public / DESCRIPTION_FILE).read_text(), preview=preview,
                                  route=data.route)


@dataclass
class MLEBenchEvaluation:
    """The hidden side of one run: the search view (search, val) and the competition view (test)."""

    task: MLEBenchTask
    split_seed: int
    views: list[MLEBenchView]
    description: str
    preview: Preview
    route: str  # how the search view was made: "prepare" or "rows"
    entry: str = SCRIPT
    blender: Blender | None = None
    baseline_code: str | None = None

    def combine(self, kept: Sequence[Path], grades: Sequence[Grade]) -> dict[str, float]:
        """Val from the search view, test from the competition view."""
        out: dict[str, float] = {}
        for view, grade in zip(self.views, grades, strict=True):
            for role in ("val", "test"):
                if role in view.roles and role in grade.scores:
                    out[role] = grade.scores[role]
        return out

    def refit_view(self, folder: Path) -> None:
        return None

    @property
    def refit_by_default(self) -> bool:
        return False

    @property
    def refit_growth(self) -> float:
        return 1.0
