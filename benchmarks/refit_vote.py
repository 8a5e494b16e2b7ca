"""Refit against the vote of the K fold runs, on label metrics: the evidence behind `--refit auto`.

    .venv/bin/python benchmarks/refit_vote.py --tasks titanic,penguins --seeds 20,...,39 [--jobs 2]

Each (task, seed) cell is one airlab run exactly as in `vs_automl.py` (offline coder, hidden K-fold
evaluation `auto`, 30 s, one core) but with `--refit always`, so the same run gives both answers:
the vote of its K fold runs on the test rows and the refit on all usable rows. Prints, per task,
the paired difference refit - vote with a 95% t interval. Cells are appended to ``--records``;
those already there are not run again. Seeds 20-39 are tuning seeds: the `--refit auto` rule was
checked on their test rows before benchmarks split seeds into tuning and report roles; a check on
report seeds (100 and up) is ``--seeds 100,...``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).parent))
from _common import paired_ci, run_isolated, seed_role
from vs_automl import run_airlab


def run_cell(task_id: str, seed: int, budget: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="airlab-refit-vote-") as out:
        values = run_airlab(task_id, seed, budget, Path(out), "test", refit="always")
    return {"task": task_id, "seed": seed, "plain": values["airlab_plain"],
            "refit": values["airlab"] if values["refitted"] else None, "final": values["final"]}


def _cell(args: tuple[str, int, float]) -> dict[str, Any] | None:
    task_id, seed, budget = args
    return run_isolated(__file__, [task_id, str(seed), str(budget)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", default="titanic,penguins")
    parser.add_argument("--seeds", default=",".join(str(s) for s in range(20, 40)))
    parser.add_argument("--budget", type=float, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--records", type=Path, default=Path("benchmarks/refit_vote_records.jsonl"))
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_cell(args.one[0], int(args.one[1]), float(args.one[2]))))
        return
    tasks, seeds = args.tasks.split(","), [int(s) for s in args.seeds.split(",")]
    records = [json.loads(ln) for ln in args.records.read_text().splitlines()] if args.records.exists() else []
    have = {(r["task"], r["seed"]) for r in records}
    cells = [(t, s, args.budget) for s in seeds for t in tasks if (t, s) not in have]
    with Progress() as progress, ThreadPoolExecutor(max_workers=args.jobs) as pool:
        bar = progress.add_task("refit against the fold vote", total=len(cells))
        for record in pool.map(_cell, cells):
            progress.advance(bar)
            if record is not None:
                records.append(record)
                with args.records.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")
    print(f"seeds {args.seeds}: {seed_role(seeds)} seeds, scored on test rows")
    for task_id in tasks:
        # a refit abandoned for time leaves the vote as the answer: no difference
        diff = np.array([(r["refit"] - r["plain"]) if r["refit"] is not None else 0.0
                         for r in records if r["task"] == task_id and r["seed"] in seeds])
        if len(diff) < 2:
            continue
        mean, low, high = paired_ci(diff)
        print(f"{task_id}: {len(diff)} seeds, refit - vote {mean:+.4f} [{low:+.4f}, {high:+.4f}], "
              f"refit better on {int((diff > 0).sum())}, worse on {int((diff < 0).sum())}")


if __name__ == "__main__":
    main()
