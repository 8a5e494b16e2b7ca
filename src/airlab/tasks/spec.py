"""What every task file shares: limits, references, and reading YAML with messages that name the
file, the field and the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from airlab.errors import TaskSpecError


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskFile(Strict):
    """A task file's model: read from YAML with errors naming the file, the field and the line."""

    @classmethod
    def from_yaml(cls, path: Path) -> Self:
        raw, lines = read_yaml(path)
        return cls.from_mapping(raw, origin=str(path), lines=lines)

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], origin: str = "task", lines: Lines | None = None) -> Self:
        spec: Self = validate(cls, raw, origin, lines)
        return spec


class Limits(Strict):
    """Per-node resource limits."""

    time_seconds: float = Field(300, gt=0)
    memory_mb: int = Field(4096, gt=64)
    cpus: int = Field(1, ge=1)
    gpus: int = Field(0, ge=0)
    output_mb: float = Field(20, gt=0)
    processes: int = Field(256, ge=1)  # processes and threads (kernel tasks) at once


class References(Strict):
    """Optional reference scores, for normalisation across tasks."""

    baseline: float | None = None
    best_known: float | None = None
    optimum: float | None = None



Lines = dict[tuple[str, ...], int]


def _key_lines(node: yaml.Node, prefix: tuple[str, ...], out: Lines) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                path = (*prefix, str(key.value))
                out[path] = key.start_mark.line + 1
                _key_lines(value, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = (*prefix, str(i))
            out[path] = item.start_mark.line + 1
            _key_lines(item, path, out)


def read_yaml(path: Path) -> tuple[dict[str, Any], Lines]:
    """A task file's top-level mapping and the line of every key in it."""
    try:
        text = path.read_text()
    except FileNotFoundError as exc:
        raise TaskSpecError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskSpecError(f"{path}: cannot be read: {exc}") from exc
    try:
        raw = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise TaskSpecError(f"{path}{where}: not valid YAML: {problem}") from None
    if not isinstance(raw, dict):
        raise TaskSpecError(f"{path}: expected a mapping of fields at the top level")
    lines: Lines = {}
    if node is not None:
        _key_lines(node, (), lines)
    return raw, lines


def validate(model: type[Strict], raw: dict[str, Any], origin: str, lines: Lines | None = None) -> Any:
    """``model`` validated from ``raw``, or a :class:`TaskSpecError` naming every bad field."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise TaskSpecError(format_validation_error(exc, origin, lines)) from None


def format_validation_error(exc: ValidationError, origin: str, lines: Lines | None = None) -> str:
    out = [f"{origin}: invalid task spec"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        line = _line_of(tuple(str(p) for p in err["loc"]), lines or {})
        out.append(f"  field '{loc}'{f' (line {line})' if line else ''}: {msg}")
    return "\n".join(out)


def _line_of(loc: tuple[str, ...], lines: Lines) -> int | None:
    """The line of the deepest key of ``loc`` that the file has."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None
