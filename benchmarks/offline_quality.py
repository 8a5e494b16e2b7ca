"""How good is the offline coder? Greedy search on every built-in task.

    .venv/bin/python benchmarks/offline_quality.py [--nodes 10] [--seeds 0] [--tasks a,b] [--write]

Per task, with the run's defaults (hidden folds `auto`, ensemble, `--refit auto`): the number of
hidden folds, the first draft's search score, the best search score after the budget, whether
search improved on the first draft, the final answer's test score and its refit's, the oracle best
single node's test score, and the share of valid nodes. Lower-is-better metrics are marked with a
down arrow.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from rich.progress import track

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, seed_note, write_section

from airlab import api
from airlab.rundir import RunConfig
from airlab.store.run_store import RunStore
from airlab.tasks import known_task_ids
from airlab.tasks.loader import task_card

SECTION = "## Offline coder quality"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--seeds", default="0")
    # prediction tasks only: known_task_ids() also lists program tasks
    parser.add_argument("--tasks", default=",".join(t for t in known_task_ids() if task_card(t)["kind"] != "program"))
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    tasks = args.tasks.split(",")
    out = Path(tempfile.mkdtemp(prefix="airlab-quality-"))
    rows = []
    improved_count = 0
    total = 0
    start_all = time.time()
    for task_id, seed in track([(t, s) for t in tasks for s in seeds], description="tasks"):
        result = api.run(RunConfig(task=task_id, seed=seed, budget_nodes=args.nodes), out=out)
        nodes = RunStore(out / result.run_id / "journal.sqlite").nodes()
        first = next((n.search_score for n in nodes if n.search_score is not None), None)
        best = result.best_search_score
        improved = first is not None and best is not None and best != first
        improved_count += int(improved)
        total += 1
        arrow = "↑" if result.higher_is_better else "↓"
        rows.append(
            f"| {task_id} | {seed} | {result.eval_folds} | {result.metric} {arrow} | {_f(first)} | {_f(best)} | {'yes' if improved else 'no'} "
            f"| {_f(result.test_score)} | {_f(result.refit_test_score)} | {_f(result.oracle_test_score)} "
            f"| {result.n_valid}/{result.n_nodes} "
            f"| {result.wall_seconds:.0f} |"
        )
    lines = [
        SECTION, "",
        f"Machine: {machine()}. Command: `.venv/bin/python benchmarks/offline_quality.py --nodes {args.nodes} "
        f"--seeds {args.seeds}`. Greedy policy (5 drafts, then improve/debug), offline coder, "
        f"the run's defaults (warm workers in bubblewrap, hidden folds `auto`, ensemble, `--refit auto`). "
        f"Total {time.time() - start_all:.0f} s. {seed_note(seeds, 'test')}",
        "",
        f"Search improved on the first draft on **{improved_count} of {total}** runs.",
        "",
        "| task | seed | folds | metric | first draft (search) | best (search) | improved | final answer (test) "
        "| refitted (test) | oracle node (test) | valid | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows, "",
    ]
    table = "\n".join(lines)
    print(table)
    if args.write:
        write_section(SECTION, table)


def _f(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


if __name__ == "__main__":
    main()
