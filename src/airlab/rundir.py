"""The run directory: its layout, the run config, and ``result.json``.

```
runs/<run-id>/
  journal.sqlite       the durable record (nodes, hidden scores, events, config)
  public/              the agent-visible files (train.csv, predict.csv, starter files, ...), read-only
  nodes/<id>/          the node's code (solution.py, strategy.py, ...), stdout.txt, stderr.txt and
                       its kept artefacts (submission.csv; a program task's artefacts/)
  baseline/            a program task's starter code, run and scored like a node
  best_<entry>         the final answer's code (best_solution.py for a prediction task)
  result.json          the summary
```
Hidden labels and instances are never written here: they are re-derived from the task and split seed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator

from airlab import __version__
from airlab.tasks.protocol import Ensemble

if TYPE_CHECKING:
    from airlab.tasks.protocol import Evaluation

RefitMode = Literal["auto", "always", "never"]


class RunConfig(BaseModel):
    task: str
    suite_dir: str | None = None  # where a suite task's files are (``<suite>:<id>`` tasks)
    agent: str = "greedy"
    agent_params: dict[str, Any] = Field(default_factory=dict)
    coder: str = "offline"
    coder_options: dict[str, Any] = Field(default_factory=dict)
    seed: int = 0
    split_seed: int | None = None
    budget_nodes: int | None = 20
    budget_time: float | None = None
    workers: int = 1
    select_top_k: int = 3
    sandbox: str = "auto"
    executor: str = "local"
    executor_options: dict[str, Any] = Field(default_factory=dict)
    time_limit: float | None = None  # overrides the task's per-node wall time
    memory_mb: int | None = None  # overrides the task's per-node memory
    cpus: int | None = None
    max_cost: float | None = None  # hard cap on LLM spend in USD
    base_url: str | None = None  # OpenAI-compatible server for openai:MODEL coders
    operator_mode: str = "prompt"  # prompt | react (multi-step tool-using operators)
    eval_folds: str = "auto"  # hidden K-fold evaluation: an integer, or "auto" (see tasks.folds.resolve_folds)
    refit: RefitMode = "auto"  # see refits(); measured in BENCHMARKS.md
    ensemble: bool = True  # greedy ensemble of nodes, chosen on search rows; val decides if it is used

    @field_validator("refit", mode="before")
    @classmethod
    def _refit_from_bool(cls, value: object) -> object:
        """``refit=True`` / ``False`` (and journals written before the modes) mean always / never."""
        if isinstance(value, bool):
            return "always" if value else "never"
        return value

    def refits(self, evaluation: Evaluation) -> bool:
        """Whether the final answer is re-run on all agent-usable data before the test is scored:
        never where the task cannot refit; under ``auto`` where the task advises it
        (:attr:`~airlab.tasks.protocol.Evaluation.refit_by_default`, measured in BENCHMARKS.md)."""
        if not evaluation.task.capabilities.refit or self.refit == "never":
            return False
        return self.refit == "always" or evaluation.refit_by_default


class RunResult(BaseModel):
    run_id: str
    status: str  # complete | interrupted | budget_cost
    task: str
    agent: str
    coder: str
    seed: int
    split_seed: int
    budget: dict[str, Any]
    n_nodes: int
    n_buggy: int
    n_valid: int
    n_invalid: int
    n_timeout: int
    n_failed: int
    selected_node: int | None
    search_score: float | None  # of the selected node
    best_search_score: float | None = None  # the best search score of the run
    val_score: float | None
    test_score: float | None
    oracle_node: int | None
    oracle_test_score: float | None
    top_k: list[int]
    metric: str
    higher_is_better: bool
    kind: str = "prediction"  # the task's kind: binary | multiclass | regression | forecasting | program
    references: dict[str, float | None] = Field(default_factory=dict)  # baseline, best_known, optimum
    baseline_search_score: float | None = None  # the starter code of a program task, run in this run
    baseline_val_score: float | None = None
    baseline_test_score: float | None = None
    score_report: dict[str, Any] = Field(default_factory=dict)  # the task's suite on the final test score
    wall_seconds: float
    draft_families: list[str]
    diversity_bits: float
    tokens_in: int
    tokens_out: int
    cost_usd: float
    sandbox: str
    eval_folds: int = 1
    refit_test_score: float | None = None  # the final answer refitted on train + search + val
    final: str = "node"  # node | ensemble: what val_score / test_score / best_solution.py are
    node_val_score: float | None = None  # the selected node's, whatever the final answer
    node_test_score: float | None = None
    ensemble: Ensemble | None = None
    airlab_version: str = __version__
    finished_at: float = Field(default_factory=time.time)


def node_dir(run_dir: Path, node_id: int) -> Path:
    return run_dir / "nodes" / f"{node_id:04d}"


def best_file(entry: str) -> str:
    """The final answer's file name: ``best_solution.py``, ``best_strategy.py``, ..."""
    return f"best_{entry}"


def view_dir(run_dir: Path, node_id: int, fold: int, n_views: int) -> Path:
    """Where one hidden view's run of a node keeps its logs and submission."""
    folder = node_dir(run_dir, node_id)
    return folder if n_views == 1 else folder / f"fold-{fold}"


def new_run_id(task_id: str, agent: str, coder: str, seed: int) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    coder_tag = coder.replace(":", "-").replace("/", "-")
    return f"{task_id}-{agent}-{coder_tag}-s{seed}-{stamp}"
