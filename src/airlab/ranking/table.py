"""Load and validate a results table, and turn it into arrays the ranking methods share.

A results table is any long table with one row per (agent, task, seed) run:

=====================  ====================================================================
column                 meaning
=====================  ====================================================================
``agent`` (required)   who was evaluated
``task`` (required)    on what
``score`` (required)   the task's metric; empty / NaN means the run produced no valid score
``higher_is_better``   per-task direction (constant within a task); default: higher is better
``seed``               repeated runs; without it, repeated (agent, task) rows are numbered
``valid``              bool; ``False`` marks an invalid submission (treated like a missing one)
``optimum``            per-task optimal metric value (AIRS-Bench normalisation)
``best_known``         per-task best known score, e.g. the published SOTA (AIRS-Bench)
=====================  ====================================================================

Column names are matched case-insensitively after stripping spaces. Directions can also be given
with ``lower_is_better=[task, ...]`` (the CLI's ``--lower-is-better``); a task named there whose
``higher_is_better`` column says ``true`` is an error rather than a silent override.

Missing entries and invalid runs
--------------------------------
A run is *valid* when its row exists, its ``valid`` flag (if any) is true and its score is a
finite number. Everything else is *missing*. The table keeps the distinction between "a row
exists but is invalid" (``present & ~valid``) and "no row at all" (``~present``) because the
valid-submission rate needs it; every ranking method sees both as missing. How a method treats
missing entries is chosen once for all methods with the ``missing`` policy:

* ``"worst"`` (default): a missing entry is worse than every valid one on that task, and all
  missing agents of a task tie with each other. This is the MLGym/AIRS-Bench convention
  (infeasible / invalid = worst) and stops an agent from winning by skipping hard tasks.
* ``"ignore"``: a missing entry carries no information; the agent is simply unranked by that
  task (a partial ballot). Pairwise methods then only compare agents that both have a result.

Seeds
-----
``seeds="mean"`` averages the valid seeds of each (agent, task) into one score (invalid seeds are
dropped; an entry with no valid seed is missing). ``seeds="vote"`` makes every (task, seed) pair
a separate voter/column, so an agent that is consistently good across seeds gains more votes.
Seeds are aligned by their label across agents of the same task.

Ties
----
Equal oriented scores are ties; no method breaks them by noise. Each method documents what a
tie means for it (typically: half a win each, or a shared position).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from airlab.ranking.errors import RankingInputError

SeedPolicy = Literal["mean", "vote"]
MissingPolicy = Literal["worst", "ignore"]

REQUIRED_COLUMNS = ("agent", "task", "score")
OPTIONAL_COLUMNS = ("higher_is_better", "seed", "valid", "optimum", "best_known")

_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


@dataclass(frozen=True)
class ResultsCube:
    """Per-seed results as dense arrays of shape ``(n_agents, n_tasks, n_seeds)``.

    ``raw`` holds scores in the metric's own direction (NaN where no row or no number);
    ``present`` says a row exists; ``valid`` says the row is usable. Agents, tasks and seeds are
    kept in order of first appearance in the table, which is also the documented tie-break order
    of the methods that need one. Task labels may repeat after bootstrap resampling.
    """

    agents: tuple[str, ...]
    tasks: tuple[str, ...]
    seeds: tuple[str, ...]
    raw: np.ndarray
    present: np.ndarray
    valid: np.ndarray
    higher_is_better: np.ndarray
    optimum: np.ndarray
    best_known: np.ndarray

    @property
    def n_agents(self) -> int:
        return len(self.agents)

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def sign(self) -> np.ndarray:
        """+1 for higher-is-better tasks, -1 otherwise, shape ``(n_tasks,)``."""
        return np.where(self.higher_is_better, 1.0, -1.0)

    @property
    def oriented(self) -> np.ndarray:
        """Scores flipped so that higher is better everywhere; NaN where not valid."""
        return np.where(self.valid, self.raw * self.sign[None, :, None], np.nan)

    @property
    def seed_slots(self) -> np.ndarray:
        """Bool ``(n_tasks, n_seeds)``: some agent ran this seed of this task."""
        return np.asarray(self.present.any(axis=0))

    def agent_index(self, agent: str) -> int:
        try:
            return self.agents.index(agent)
        except ValueError:
            raise RankingInputError(
                f"unknown agent {agent!r}; the table has: {', '.join(self.agents)}"
            ) from None

    def resample(self, task_idx: np.ndarray, seed_idx: np.ndarray | None = None) -> ResultsCube:
        """Tasks ``task_idx`` (with repeats) and, optionally, per-task seed columns.

        ``seed_idx`` has shape ``(len(task_idx), k)`` and picks, for each chosen task, ``k`` seed
        slots (repeats allowed) along the seed axis.
        """
        raw = self.raw[:, task_idx]
        present = self.present[:, task_idx]
        valid = self.valid[:, task_idx]
        seeds = self.seeds
        if seed_idx is not None:
            idx = np.broadcast_to(seed_idx[None], (self.n_agents, *seed_idx.shape))
            raw = np.take_along_axis(raw, idx, axis=2)
            present = np.take_along_axis(present, idx, axis=2)
            valid = np.take_along_axis(valid, idx, axis=2)
            seeds = tuple(f"s{k}" for k in range(seed_idx.shape[1]))
        return ResultsCube(
            agents=self.agents,
            tasks=tuple(self.tasks[i] for i in task_idx),
            seeds=seeds,
            raw=raw,
            present=present,
            valid=valid,
            higher_is_better=self.higher_is_better[task_idx],
            optimum=self.optimum[task_idx],
            best_known=self.best_known[task_idx],
        )

    def matrix(self, seeds: SeedPolicy = "mean") -> ScoreMatrix:
        """Collapse the seed axis: average valid seeds, or make each (task, seed) a column."""
        if seeds == "mean":
            n_valid = self.valid.sum(axis=2)
            total = np.where(self.valid, self.raw, 0.0).sum(axis=2)
            with np.errstate(invalid="ignore", divide="ignore"):
                raw = np.where(n_valid > 0, total / np.maximum(n_valid, 1), np.nan)
            voter_task = np.arange(self.n_tasks)
            labels = self.tasks
            present = self.present.any(axis=2)
        elif seeds == "vote":
            slots = self.seed_slots
            t_idx, s_idx = np.nonzero(slots)
            raw = np.where(self.valid, self.raw, np.nan)[:, t_idx, s_idx]
            present = self.present[:, t_idx, s_idx]
            voter_task = t_idx
            labels = tuple(
                f"{self.tasks[t]}/{self.seeds[s]}" for t, s in zip(t_idx, s_idx, strict=True)
            )
        else:
            raise RankingInputError(f"seeds must be 'mean' or 'vote', not {seeds!r}")
        return ScoreMatrix(
            agents=self.agents,
            voters=tuple(labels),
            voter_task=np.asarray(voter_task, dtype=np.int64),
            raw=np.asarray(raw, dtype=np.float64),
            present=np.asarray(present, dtype=bool),
            higher_is_better=self.higher_is_better[voter_task],
            tasks=self.tasks,
        )


@dataclass(frozen=True)
class ScoreMatrix:
    """Agents x voters. A voter is a task (``seeds="mean"``) or a (task, seed) pair."""

    agents: tuple[str, ...]
    voters: tuple[str, ...]
    voter_task: np.ndarray
    raw: np.ndarray
    present: np.ndarray
    higher_is_better: np.ndarray
    tasks: tuple[str, ...]

    @property
    def n_agents(self) -> int:
        return len(self.agents)

    @property
    def n_voters(self) -> int:
        return len(self.voters)

    @property
    def scores(self) -> np.ndarray:
        """Oriented scores (higher is better), NaN = missing, shape ``(n_agents, n_voters)``."""
        return self.raw * np.where(self.higher_is_better, 1.0, -1.0)[None, :]


def _parse_bool_column(values: pd.Series, column: str) -> pd.Series:
    """Parse a bool-ish column; empty cells become ``pd.NA``."""

    def parse(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return pd.NA
        if isinstance(v, bool | np.bool_):
            return bool(v)
        text = str(v).strip().lower()
        if text == "" or text == "nan":
            return pd.NA
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise RankingInputError(f"column {column!r} must hold true/false values; found {v!r}")

    return values.map(parse)


def _per_task_constant(df: pd.DataFrame, column: str) -> pd.Series:
    """The single non-empty value of ``column`` for each task (error if a task has several)."""
    values = df[["task", column]].dropna()
    counts = values.groupby("task", sort=False)[column].nunique()
    bad = counts[counts > 1]
    if len(bad):
        raise RankingInputError(
            f"column {column!r} must be constant within a task; it varies for: "
            + ", ".join(map(str, bad.index[:10]))
        )
    return values.groupby("task", sort=False)[column].first()


def read_table(source: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Read CSV / TSV / JSON / Parquet from a path, or copy a DataFrame."""
    if isinstance(source, pd.DataFrame):
        return source.copy()
    path = Path(source)
    if not path.exists():
        raise RankingInputError(f"results table not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in {".json", ".jsonl"}:
            return pd.read_json(path, lines=suffix == ".jsonl")
        if suffix == ".tsv":
            return pd.read_csv(path, sep="\t")
        return pd.read_csv(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise RankingInputError(f"cannot read results table {path}: {exc}") from exc


def load_results(
    source: pd.DataFrame | str | Path,
    *,
    lower_is_better: Iterable[str] = (),
) -> ResultsCube:
    """Validate a results table and return its :class:`ResultsCube`.

    Raises :class:`RankingInputError` with a message naming the offending column, task or row.
    """
    df = read_table(source)
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise RankingInputError(
            f"results table is missing required column(s): {', '.join(missing)} "
            f"(found: {', '.join(map(str, df.columns)) or 'none'}). "
            "Expected columns agent, task, score and optionally higher_is_better, seed, valid."
        )
    if df.empty:
        raise RankingInputError("results table has no rows")
    for col in ("agent", "task"):
        empty = df[col].isna() | (df[col].astype(str).str.strip() == "")
        if empty.any():
            row = int(np.flatnonzero(empty.to_numpy())[0])
            raise RankingInputError(f"row {row + 1}: column {col!r} is empty")
        df[col] = df[col].astype(str).str.strip()

    score = pd.to_numeric(df["score"], errors="coerce")
    bad_text = score.isna() & df["score"].notna() & (df["score"].astype(str).str.strip() != "")
    bad_text &= ~df["score"].astype(str).str.strip().str.lower().isin({"nan", "none", "null"})
    if bad_text.any():
        row = int(np.flatnonzero(bad_text.to_numpy())[0])
        raise RankingInputError(
            f"row {row + 1}: score {df['score'].iloc[row]!r} is not a number "
            "(leave it empty, or set valid=false, for a failed run)"
        )
    df["score"] = score.astype(float)

    if "valid" in df.columns:
        flag = _parse_bool_column(df["valid"], "valid")
        df["valid"] = flag.fillna(True).astype(bool)
    else:
        df["valid"] = True
    df["valid"] = df["valid"] & np.isfinite(df["score"].to_numpy())

    tasks_in_order = list(dict.fromkeys(df["task"]))
    direction = pd.Series(True, index=tasks_in_order)
    if "higher_is_better" in df.columns:
        df["higher_is_better"] = _parse_bool_column(df["higher_is_better"], "higher_is_better")
        given = _per_task_constant(df, "higher_is_better")
        direction.loc[given.index] = given.astype(bool)
        explicit_higher = set(given.index[given.astype(bool)])
    else:
        explicit_higher = set()
    lower = [t.strip() for t in lower_is_better if t.strip()]
    unknown = [t for t in lower if t not in direction.index]
    if unknown:
        raise RankingInputError(
            f"--lower-is-better names unknown task(s): {', '.join(unknown)}; "
            f"tasks in the table: {', '.join(tasks_in_order)}"
        )
    conflict = [t for t in lower if t in explicit_higher]
    if conflict:
        raise RankingInputError(
            "task(s) listed as lower-is-better but marked higher_is_better=true in the table: "
            + ", ".join(conflict)
        )
    direction.loc[lower] = False

    per_task: dict[str, np.ndarray] = {}
    for col in ("optimum", "best_known"):
        arr = np.full(len(tasks_in_order), np.nan)
        if col in df.columns:
            df[col] = pd.to_numeric(df[col], errors="coerce")
            const = _per_task_constant(df, col)
            pos = {t: i for i, t in enumerate(tasks_in_order)}
            for task, value in const.items():
                arr[pos[str(task)]] = float(value)
        per_task[col] = arr

    if "seed" in df.columns:
        if df["seed"].isna().any():
            row = int(np.flatnonzero(df["seed"].isna().to_numpy())[0])
            raise RankingInputError(f"row {row + 1}: column 'seed' is empty")
        df["seed"] = df["seed"].astype(str).str.strip()
        dup = df.duplicated(["agent", "task", "seed"], keep=False)
        if dup.any():
            first = df.loc[dup].iloc[0]
            raise RankingInputError(
                f"duplicate rows for agent={first['agent']!r}, task={first['task']!r}, "
                f"seed={first['seed']!r}; each (agent, task, seed) must appear once"
            )
    else:
        # Repeated (agent, task) rows are repeated runs: number them in order of appearance.
        df["seed"] = df.groupby(["agent", "task"], sort=False).cumcount().astype(str)

    agent_codes, agents = pd.factorize(df["agent"], sort=False)
    task_pos = {t: i for i, t in enumerate(tasks_in_order)}
    task_codes = df["task"].map(task_pos).to_numpy()
    seed_codes, seeds = pd.factorize(df["seed"], sort=False)
    shape = (len(agents), len(tasks_in_order), len(seeds))
    raw = np.full(shape, np.nan)
    present = np.zeros(shape, dtype=bool)
    valid = np.zeros(shape, dtype=bool)
    raw[agent_codes, task_codes, seed_codes] = df["score"].to_numpy(dtype=float)
    present[agent_codes, task_codes, seed_codes] = True
    valid[agent_codes, task_codes, seed_codes] = df["valid"].to_numpy(dtype=bool)
    return ResultsCube(
        agents=tuple(str(a) for a in agents),
        tasks=tuple(tasks_in_order),
        seeds=tuple(str(s) for s in seeds),
        raw=raw,
        present=present,
        valid=valid,
        higher_is_better=direction.to_numpy(dtype=bool),
        optimum=per_task["optimum"],
        best_known=per_task["best_known"],
    )


def cube_from_matrix(
    scores: np.ndarray,
    agents: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
) -> ResultsCube:
    """A one-seed cube from an ``(n_agents, n_tasks)`` matrix of higher-is-better scores.

    NaN entries are missing. Handy for tests, benchmarks and callers that already hold a matrix.
    """
    arr = np.asarray(scores, dtype=float)
    if arr.ndim != 2:
        raise RankingInputError("scores must be a 2-D (agents x tasks) matrix")
    n_agents, n_tasks = arr.shape
    agent_names = tuple(agents) if agents is not None else tuple(f"a{i}" for i in range(n_agents))
    task_names = tuple(tasks) if tasks is not None else tuple(f"t{j}" for j in range(n_tasks))
    if len(agent_names) != n_agents or len(task_names) != n_tasks:
        raise RankingInputError("agent/task names do not match the matrix shape")
    finite = np.isfinite(arr)
    return ResultsCube(
        agents=agent_names,
        tasks=task_names,
        seeds=("0",),
        raw=arr[:, :, None].copy(),
        present=np.ones((n_agents, n_tasks, 1), dtype=bool),
        valid=finite[:, :, None],
        higher_is_better=np.ones(n_tasks, dtype=bool),
        optimum=np.full(n_tasks, np.nan),
        best_known=np.full(n_tasks, np.nan),
    )
