"""A program task's file: starter files, the artefacts a run leaves, and a hidden evaluator.

```yaml
id: prisoners-dilemma
kind: program
title: Iterated prisoner's dilemma
description: Write move(...) in strategy.py ...
entry: strategy.py                    # the file a candidate writes (its starter is in workspace/)
workspace: workspace                  # starter files, copied read-only into every workspace
command: [python, strategy.py]        # what a candidate's run executes (default: python <entry>)
artefacts: [strategy.py]              # what the harness takes back after the run (default: [entry])
evaluator: evaluator.py:evaluate      # file:function beside task.yaml, never in the workspace
prepare: evaluator.py:prepare         # optional: writes generated public files into the workspace
metric: {name: payoff, higher_is_better: true, description: mean payoff per round}
roles:                                # hidden instance sets, disjoint across roles
  search: {instances: [tit_for_tat, grim], rounds: 100}
  val: {instances: [pavlov]}
  test: {instances: [detective, alternator]}
tunables: [FORGIVENESS]               # optional: constants an offline coder may change
call_timeout: 1.0                     # seconds a candidate gets to answer one evaluator call
```
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from airlab.tasks.objective import Objective
from airlab.tasks.spec import Limits, References, Strict, TaskFile

ENTRY_POINT = re.compile(r"^(?P<file>[A-Za-z0-9_][A-Za-z0-9_./-]*\.py):(?P<function>[A-Za-z_][A-Za-z0-9_]*)$")
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class MetricSpec(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    higher_is_better: bool
    description: str = ""


class RoleSpec(Strict):
    """One hidden role: its instances (opponents, instance seeds, episodes) and settings."""

    model_config = Strict.model_config | {"extra": "allow"}

    instances: list[Any] = Field(min_length=1)

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class RolesSpec(Strict):
    search: RoleSpec
    val: RoleSpec
    test: RoleSpec

    @model_validator(mode="after")
    def _disjoint(self) -> RolesSpec:
        seen: dict[str, str] = {}
        for name in ("search", "val", "test"):
            for item in getattr(self, name).instances:
                key = repr(item)
                if key in seen and seen[key] != name:
                    raise ValueError(f"instance {item!r} is in both '{seen[key]}' and '{name}'; the roles must be disjoint")
                seen[key] = name
        return self


def _entry_point(value: str, field: str) -> str:
    if not ENTRY_POINT.match(value):
        raise ValueError(f"'{value}' is not file.py:function (e.g. evaluator.py:evaluate)")
    if value.startswith("/") or ".." in Path(value.split(":")[0]).parts:
        raise ValueError(f"{field} must name a file inside the task folder")
    return value


class ProgramSpec(TaskFile):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    kind: Literal["program"]
    title: str
    description: str
    entry: str
    workspace: str = "workspace"
    command: list[str] | None = None
    artefacts: list[str] = Field(default_factory=list)
    evaluator: str
    prepare: str | None = None
    metric: MetricSpec
    roles: RolesSpec
    references: References = Field(default_factory=References)
    limits: Limits = Field(default_factory=Limits)  # type: ignore[arg-type]
    tunables: list[str] = Field(default_factory=list)
    call_timeout: float = Field(1.0, gt=0)
    version: int = 1

    @field_validator("entry")
    @classmethod
    def _entry_file(cls, value: str) -> str:
        if not SAFE_NAME.match(value) or not value.endswith(".py"):
            raise ValueError(f"'{value}' is not a Python file name in the workspace (e.g. strategy.py)")
        return value

    @field_validator("artefacts")
    @classmethod
    def _artefact_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not SAFE_NAME.match(name):
                raise ValueError(f"'{name}' is not a plain file name in the workspace")
        return value

    @field_validator("evaluator")
    @classmethod
    def _evaluator(cls, value: str) -> str:
        return _entry_point(value, "evaluator")

    @field_validator("prepare")
    @classmethod
    def _prepare(cls, value: str | None) -> str | None:
        return None if value is None else _entry_point(value, "prepare")

    @field_validator("command")
    @classmethod
    def _command(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("an empty command; leave the field out to run python <entry>")
        return value

    @property
    def objective(self) -> Objective:
        return Objective(self.metric.name, self.metric.higher_is_better)

    @property
    def kept_artefacts(self) -> list[str]:
        """The artefacts, the entry file always among them."""
        return list(dict.fromkeys([self.entry, *self.artefacts]))

    @property
    def run_command(self) -> list[str]:
        return list(self.command) if self.command else ["python", self.entry]
