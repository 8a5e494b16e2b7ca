"""Program tasks: a candidate edits a starter file; a task-owned evaluator scores what its run left.

The evaluator and the hidden assets beside it stay in the harness; a candidate's workspace holds
the starter files only. A run of a node writes the node's code to the entry file, runs the task's
command in the sandbox, and keeps the artefacts; the evaluator then scores them per hidden role,
talking to the candidate's code only through a sandbox (:mod:`airlab.tasks.program.harness`).
Only the search role's refusal reason is recorded: val and test outcomes never reach a coder.
"""

from __future__ import annotations

import importlib.util
import math
import os
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

from pydantic import BaseModel

from airlab.errors import TaskSpecError
from airlab.execution.channel import CandidateError
from airlab.execution.sandbox import SandboxJob, with_interpreter
from airlab.tasks.files import write_readonly
from airlab.tasks.objective import Objective
from airlab.tasks.program.harness import Candidate, Rejected, RoleSet
from airlab.tasks.program.spec import ProgramSpec
from airlab.tasks.protocol import HIDDEN_ROLES, Blender, Capabilities, Grade, Role
from airlab.tasks.spec import Limits, References

DESCRIPTION_FILE = "description.md"
MAX_ARTEFACT_BYTES = 256 * 1024**2
Evaluate = Callable[[Candidate, RoleSet], float]


class ProgramPreview(BaseModel):
    """The starter code and what may be tuned in it: what a coder needs beyond the description."""

    entry: str
    starter_code: str
    files: list[str]
    tunables: list[str]
    metric: str
    higher_is_better: bool

    def render(self) -> str:
        lines = [
            f"workspace files: {', '.join(self.files)}",
            f"the file to write: {self.entry}; score: {self.metric} "
            f"({'higher' if self.higher_is_better else 'lower'} is better)",
        ]
        if self.tunables:
            lines.append(f"constants the task marks as tunable: {', '.join(self.tunables)}")
        lines.append(f"starter {self.entry}:\n{self.starter_code}")
        return "\n".join(lines)


def _load_function(folder: Path, entry_point: str, field_name: str, task_id: str) -> Callable[..., Any]:
    file_name, _, function = entry_point.partition(":")
    path = folder / file_name
    if not path.is_file():
        raise TaskSpecError(f"{folder / 'task.yaml'}: field '{field_name}': no file {file_name} in the task folder")
    module_name = f"airlab_task_{zlib.crc32(str(path.resolve()).encode()):08x}_{path.stem}"
    module: ModuleType | None = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise TaskSpecError(f"{folder / 'task.yaml'}: field '{field_name}': {file_name} cannot be imported")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise TaskSpecError(f"{path}: field '{field_name}': importing it failed: {type(exc).__name__}: {exc}") from exc
        sys.modules[module_name] = module
    fn = getattr(module, function, None)
    if not callable(fn):
        raise TaskSpecError(f"{folder / 'task.yaml'}: field '{field_name}': {file_name} defines no function {function}()")
    return fn


@dataclass
class ProgramTask:
    """A program task loaded from its folder."""

    spec: ProgramSpec
    folder: Path
    origin: str
    kind: str = "program"
    capabilities: Capabilities = field(default_factory=Capabilities)

    def __post_init__(self) -> None:
        workspace = self.workspace_dir
        if not workspace.is_dir():
            raise TaskSpecError(f"{self.folder / 'task.yaml'}: field 'workspace': no folder {self.spec.workspace} in the task folder")
        if not (workspace / self.spec.entry).is_file():
            raise TaskSpecError(f"{self.folder / 'task.yaml'}: field 'entry': the workspace has no starter {self.spec.entry}")
        nested = [p.name for p in workspace.iterdir() if not p.is_file()]
        if nested:
            raise TaskSpecError(f"{self.folder / 'task.yaml'}: field 'workspace': only files, no folders ({', '.join(nested)})")
        for name in (DESCRIPTION_FILE,):
            if (workspace / name).exists():
                raise TaskSpecError(f"{self.folder / 'task.yaml'}: field 'workspace': {name} is written by airlab; remove it")
        self.evaluate  # noqa: B018 - import the evaluator now: a broken one is refused at load time
        if self.spec.prepare:
            self.prepare_fn  # noqa: B018

    # -- the protocol's facts ----------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def objective(self) -> Objective:
        return self.spec.objective

    @property
    def limits(self) -> Limits:
        return self.spec.limits

    @property
    def references(self) -> References:
        return self.spec.references

    @property
    def workspace_dir(self) -> Path:
        return self.folder / self.spec.workspace

    @cached_property
    def evaluate(self) -> Evaluate:
        return _load_function(self.folder, self.spec.evaluator, "evaluator", self.id)

    @cached_property
    def prepare_fn(self) -> Callable[[Path], None]:
        assert self.spec.prepare is not None
        return _load_function(self.folder, self.spec.prepare, "prepare", self.id)

    @property
    def starter_code(self) -> str:
        return (self.workspace_dir / self.spec.entry).read_text()

    def summary(self) -> dict[str, str]:
        roles = self.spec.roles
        return {"size": f"{len(roles.search.instances)}/{len(roles.val.instances)}/{len(roles.test.instances)} instances",
                "entry": self.spec.entry}

    def score_report(self, test_score: float | None) -> dict[str, Any]:
        return {}

    # -- public files ------------------------------------------------------------------------
    def describe(self, files: Sequence[str]) -> str:
        spec = self.spec
        metric = spec.metric
        others = [f for f in files if f not in (spec.entry, DESCRIPTION_FILE)]
        lines = [
            f"# {spec.title}", "", spec.description.strip(), "",
            "## Workspace",
            f"- `{spec.entry}`: the file you write (the workspace holds a working starter version).",
            *[f"- `{name}`: given, read-only." for name in others],
            "",
            "## Task",
            f"- Write the complete content of `{spec.entry}`. The harness runs `{' '.join(spec.run_command)}` "
            f"in the workspace, then takes back {', '.join(f'`{a}`' for a in spec.kept_artefacts)}.",
            f"- Score: **{metric.name}** ({'higher' if metric.higher_is_better else 'lower'} is better)"
            + (f": {metric.description}." if metric.description else "."),
            "- A hidden evaluator scores the artefacts on hidden instances; printed scores are ignored.",
            f"- Limits per run: {spec.limits.time_seconds:g} s wall time, {spec.limits.memory_mb} MB memory, "
            f"{spec.limits.cpus} CPU thread(s); each call from the evaluator must answer within "
            f"{spec.call_timeout:g} s; no network.",
        ]
        return "\n".join(lines) + "\n"

    def write_public(self, folder: Path) -> None:
        """The starter files, the prepared files and the description, read-only. Nothing hidden."""
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(self.workspace_dir.iterdir()):
            write_readonly(folder / path.name, path.read_bytes())
        if self.spec.prepare:
            staging = Path(tempfile.mkdtemp(prefix="airlab-prepare-"))
            try:
                self.prepare_fn(staging)
                for path in sorted(staging.iterdir()):
                    if path.is_file():
                        write_readonly(folder / path.name, path.read_bytes())
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        files = sorted(p.name for p in folder.iterdir() if p.name != DESCRIPTION_FILE)
        write_readonly(folder / DESCRIPTION_FILE, self.describe(files).encode())

    def export(self, folder: Path, split_seed: int | None = None) -> list[Path]:
        self.write_public(folder)
        return sorted(p for p in folder.iterdir() if p.is_file())

    def evaluation(self, root: Path, split_seed: int | None = None, eval_folds: str | int = 1) -> ProgramEvaluation:
        public = root / "public"
        self.write_public(public)
        view = ProgramView(task=self, public_dir=public, split_seed=split_seed or 0)
        files = sorted(p.name for p in public.iterdir())
        preview = ProgramPreview(entry=self.spec.entry, starter_code=self.starter_code, files=files,
                                 tunables=self.spec.tunables, metric=self.spec.metric.name,
                                 higher_is_better=self.spec.metric.higher_is_better)
        return ProgramEvaluation(task=self, split_seed=split_seed or 0, views=[view],
                                 description=(public / DESCRIPTION_FILE).read_text(), preview=preview)

    def role_set(self, role: Role, split_seed: int) -> RoleSet:
        spec = getattr(self.spec.roles, role)
        seed = zlib.crc32(f"{self.id}/{role}/{split_seed}".encode())
        return RoleSet(name=role, instances=list(spec.instances), settings=spec.settings, seed=seed)


def load_program_task(folder: Path, origin: str | None = None) -> ProgramTask:
    """The program task in ``folder`` (its ``task.yaml``, workspace and evaluator)."""
    spec = ProgramSpec.from_yaml(folder / "task.yaml")
    return ProgramTask(spec=spec, folder=folder.resolve(), origin=origin or str(folder.resolve()))


def mean_scores(grades: Sequence[Grade]) -> dict[str, float]:
    """Per role, the mean of the scores the grades have for it."""
    roles = {role for grade in grades for role in grade.scores}
    return {role: sum(g.scores[role] for g in grades if role in g.scores) / sum(role in g.scores for g in grades)
            for role in sorted(roles)}


@dataclass
class ProgramView:
    """The one workspace of a program task and its evaluator."""

    task: ProgramTask
    public_dir: Path
    split_seed: int

    def job(self, code: str, where: Path, limits: Limits) -> SandboxJob:
        workdir = where / "workspace"
        if workdir.exists():  # a re-run after resume starts from a fresh workspace
            shutil.rmtree(workdir)
        spec = self.task.spec
        inputs = {p.name: p for p in sorted(self.public_dir.iterdir()) if p.is_file() and p.name != spec.entry}
        return SandboxJob(code=code, input_files=inputs, workdir=workdir, limits=limits, log_dir=where,
                          script_name=spec.entry, argv=with_interpreter(spec.run_command),
                          artefacts=tuple(a for a in spec.kept_artefacts if a != spec.entry))

    def grade(self, job: SandboxJob, keep: Path, roles: Sequence[Role] = HIDDEN_ROLES) -> Grade:
        """Keep the artefacts (the entry as the node wrote it), then score them role by role."""
        keep.mkdir(parents=True, exist_ok=True)
        artefacts = keep / "artefacts"
        if artefacts.exists():
            shutil.rmtree(artefacts)
        artefacts.mkdir()
        spec = self.task.spec
        for name in spec.kept_artefacts:
            if name == spec.entry:
                (artefacts / name).write_text(job.code)
                continue
            _keep_file(job.workdir / name, artefacts / name)
        return grade_artefacts(self.task, artefacts, self.public_dir, self.split_seed, roles)


    def grade_path(self, path: Path, roles: Sequence[Role] = HIDDEN_ROLES) -> Grade:
        """Grade an artefact file (e.g. strategy.py) or a folder of artefacts made elsewhere."""
        spec = self.task.spec
        with tempfile.TemporaryDirectory(prefix="airlab-artefacts-") as tmp:
            artefacts = Path(tmp)
            sources = [path / name for name in spec.kept_artefacts] if path.is_dir() else [path]
            for source in sources:
                if source.name not in spec.kept_artefacts:
                    return Grade(valid=False, reason=f"{source.name} is not an artefact of this task; "
                                                     f"expected {', '.join(spec.kept_artefacts)}")
                if os.path.lexists(source) and not stat.S_ISREG(os.lstat(source).st_mode):
                    return Grade(valid=False, reason=f"{source.name} is not a regular file")
                _keep_file(source, artefacts / source.name)
            if not (artefacts / spec.entry).exists():
                return Grade(valid=False, reason=f"no {spec.entry} was given")
            return grade_artefacts(self.task, artefacts, self.public_dir, self.split_seed, roles)


def _keep_file(source: Path, target: Path) -> None:
    """Copy a regular file of bounded size; anything else is left behind (the evaluator says so)."""
    try:
        info = os.lstat(source)
    except FileNotFoundError:
        return
    if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_ARTEFACT_BYTES:
        shutil.copyfile(source, target)


def grade_artefacts(task: ProgramTask, artefacts: Path, public: Path, split_seed: int,
                    roles: Sequence[Role] = HIDDEN_ROLES) -> Grade:
    """Score kept artefacts role by role: search first, and nothing more if search refuses them."""
    scratch = Path(tempfile.mkdtemp(prefix="airlab-evaluate-"))
    candidate = Candidate(artefacts=artefacts, public=public, limits=task.limits,
                          call_timeout=task.spec.call_timeout, scratch=scratch)
    scores: dict[str, float] = {}
    try:
        for role in sorted(roles, key=HIDDEN_ROLES.index):
            try:
                value = float(task.evaluate(candidate, task.role_set(role, split_seed)))
                if not math.isfinite(value):
                    raise Rejected(f"the evaluator gave a score that is not finite ({value})")
            except (Rejected, CandidateError) as exc:
                if role == "search":
                    return Grade(valid=False, reason=str(exc) or type(exc).__name__)
                continue  # a hidden role's failure is never told: that role has no score
            except Exception as exc:  # a candidate's garbage may trip the evaluator: never the run
                if role == "search":
                    return Grade(valid=False, reason=f"the evaluator could not score the artefacts: {type(exc).__name__}: {exc}")
                continue
            scores[role] = value
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Grade(valid=True, scores=scores)


@dataclass
class ProgramEvaluation:
    """The hidden side of one run of a program task."""

    task: ProgramTask
    split_seed: int
    views: list[ProgramView]
    description: str
    preview: ProgramPreview
    blender: Blender | None = None

    @property
    def entry(self) -> str:
        return self.task.spec.entry

    @property
    def baseline_code(self) -> str | None:
        return self.task.starter_code

    def combine(self, kept: Sequence[Path], grades: Sequence[Grade]) -> dict[str, float]:
        """Artefacts of programs cannot be blended: the mean of the views' scores."""
        return mean_scores(grades)

    def refit_view(self, folder: Path) -> None:
        return None

    @property
    def refit_by_default(self) -> bool:
        return False

    @property
    def refit_growth(self) -> float:
        return 1.0
