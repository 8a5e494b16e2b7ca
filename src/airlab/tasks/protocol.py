"""The Task protocol: all the engine, the final stage, the executors and the coders know of a task.

A task has a public workspace and a hidden evaluator. For one run the task prepares an
:class:`Evaluation` (the hidden side, for one split seed): the :class:`View` workspaces a node's
code runs in (one, or K hidden folds), a text description and preview for the coder, and the
grader of what a run leaves behind (its *artefacts*) for the hidden roles ``search``, ``val`` and
``test``. What a task can do beyond that is declared in :class:`Capabilities`:

- ``blend``: the artefacts of several nodes can be averaged (prediction files): an ensemble;
- ``refit``: the answer can be re-run with every agent-usable row before the test is scored;
- ``folds``: hidden K-fold search evaluation applies.

Prediction tables (:mod:`airlab.tasks.prediction`) and programs judged by a task-owned evaluator
(:mod:`airlab.tasks.program`) are the two implementations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from airlab.tasks.objective import Objective
from airlab.tasks.spec import Limits, References

if TYPE_CHECKING:
    from airlab.execution.sandbox import SandboxJob
    from airlab.search.journal import Journal

Role = Literal["search", "val", "test"]
HIDDEN_ROLES: tuple[Role, ...] = ("search", "val", "test")


class Capabilities(BaseModel):
    model_config = ConfigDict(frozen=True)

    blend: bool = False
    refit: bool = False
    folds: bool = False


@dataclass
class Grade:
    """The grader's verdict on one run's artefacts: valid with a score per role, or a reason."""

    valid: bool
    reason: str | None = None
    scores: dict[str, float] = field(default_factory=dict)  # role -> score


class Ensemble(BaseModel):
    """A weighted blend of nodes' artefacts, chosen on search data."""

    members: list[int]
    weights: list[float]
    search_score: float  # on the rows the weights were chosen on: optimistic, shown for reference
    val_score: float | None = None
    test_score: float | None = None


@runtime_checkable
class Preview(Protocol):
    """What a coder is shown of the public workspace, beyond the description."""

    def render(self) -> str: ...


class View(Protocol):
    """One workspace a node's code runs in, and the hidden grader of what the run leaves.

    A view may grade only some roles: it then says which in an attribute ``roles`` (read with
    :func:`view_roles`; every role where it is absent). The engine averages the search score over
    the views that grade search; :meth:`Evaluation.combine` takes val and test from the views."""

    @property
    def public_dir(self) -> Path: ...

    def job(self, code: str, where: Path, limits: Limits) -> SandboxJob:
        """The sandbox job running ``code`` in a fresh workspace under ``where``."""
        ...

    def grade(self, job: SandboxJob, keep: Path, roles: Sequence[Role] = HIDDEN_ROLES) -> Grade:
        """Grade the artefacts the run of ``job`` left in its workspace; keep them in ``keep``."""
        ...

    def grade_path(self, path: Path, roles: Sequence[Role] = HIDDEN_ROLES) -> Grade:
        """Grade artefacts made elsewhere: one file (checked as given, never followed), or a folder."""
        ...


def view_roles(view: View) -> tuple[Role, ...]:
    """The hidden roles ``view`` grades (its ``roles`` attribute; all of them by default)."""
    return tuple(getattr(view, "roles", HIDDEN_ROLES))


class Blender(Protocol):
    """Averages the kept artefacts of several nodes (only tasks with ``capabilities.blend``)."""

    def build(self, journal: Journal, kept: Callable[[int], list[Path]], costs: Callable[[int], float] | None = None,
              max_cost: float | None = None) -> Ensemble | None:
        """A greedy ensemble chosen on the search rows, scored on val and test; None if one node is best."""
        ...

    def script(self, members: list[tuple[int, float, str]]) -> str:
        """One standalone script running each member's code and blending as weighted."""
        ...

    def score(self, view: View, members: list[tuple[Path, float]], role: Role) -> float | None:
        """The ``role`` score of the weighted blend of the members' kept artefacts, graded by ``view``."""
        ...


class Evaluation(Protocol):
    """The hidden side of one run of a task: its views, grader, and what a coder is told."""

    @property
    def task(self) -> Task: ...

    @property
    def split_seed(self) -> int: ...

    @property
    def views(self) -> Sequence[View]:
        """One view, or one per hidden fold."""
        ...

    @property
    def description(self) -> str:
        """The task's description.md, as the coder reads it."""
        ...

    @property
    def preview(self) -> Preview: ...

    @property
    def entry(self) -> str:
        """The file a candidate's code is written to (solution.py, strategy.py, ...)."""
        ...

    @property
    def blender(self) -> Blender | None:
        """None when the task cannot blend."""
        ...

    @property
    def baseline_code(self) -> str | None:
        """The starter code, scored on every role in each run; None if the task has none."""
        ...

    def combine(self, kept: Sequence[Path], grades: Sequence[Grade]) -> dict[str, float]:
        """Val and test scores of one node from its K fold runs: their kept artefacts blended
        where the task can blend, else the mean of their grades."""
        ...

    def refit_view(self, folder: Path) -> View | None:
        """The view a refit runs in (every agent-usable row as train); None if the task cannot refit."""
        ...

    @property
    def refit_by_default(self) -> bool:
        """Whether ``--refit auto`` refits this evaluation's answer."""
        ...

    @property
    def refit_growth(self) -> float:
        """How many times the data of a search run a refit works on (for time budgets)."""
        ...


class Task(Protocol):
    """A task: an id, an objective, limits, references and a way to prepare its hidden evaluation."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def kind(self) -> str:
        """binary | multiclass | regression | forecasting | program"""
        ...

    @property
    def origin(self) -> str:
        """Where it was loaded from."""
        ...

    @property
    def objective(self) -> Objective: ...

    @property
    def limits(self) -> Limits: ...

    @property
    def references(self) -> References: ...

    @property
    def capabilities(self) -> Capabilities: ...

    def evaluation(self, root: Path, split_seed: int | None = None, eval_folds: str | int = 1) -> Evaluation:
        """Write the public workspaces under ``root`` and return the hidden side of one run."""
        ...

    def export(self, folder: Path, split_seed: int | None = None) -> list[Path]:
        """Write what a node's workspace holds (nothing hidden) to ``folder``; return the paths."""
        ...

    def summary(self) -> dict[str, str]:
        """A few facts for ``airlab tasks`` (size, data source, instances)."""
        ...

    def score_report(self, test_score: float | None) -> dict[str, Any]:
        """What the task's own suite reports of a test score beyond the score itself (MLE-bench's
        medals, AIRS-Bench's normalised score, ...); empty where the suite reports nothing more."""
        ...
