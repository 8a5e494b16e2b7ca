"""Do prediction tasks behave exactly as before a change? Same journal, same scores.

    .venv/bin/python benchmarks/prediction_parity.py --ref 6765a9c [--tasks iris,wine] [--nodes 6] [--write]

For each task, one run of the offline agent with a node budget is made with this checkout and one
with the code of git revision ``--ref`` (checked out into a temporary worktree and imported from
there). A run with the same task, seed, offline coder and node budget is deterministic (invariant
5), so any difference in the nodes (operator, parents, plan, code, status, search score) or in the
final scores is a change of behaviour. Reported per task: identical or not, and the test scores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, write_section

SECTION = "## Prediction tasks before and after the Task protocol"
REPO = Path(__file__).resolve().parent.parent
DEFAULT_TASKS = "iris,wine,breast-cancer,diabetes,penguins,titanic,co2,digits"


def run(src: Path, task: str, nodes: int, seed: int, out: Path) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, "-c", "from airlab.cli import main; main()", "run", task, "--budget-nodes", str(nodes),
           "--seed", str(seed), "--out", str(out), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{task} with {src}: {done.stderr[-2000:]}")
    result = json.loads(done.stdout[done.stdout.index("{\n"):])
    with sqlite3.connect(out / result["run_id"] / "journal.sqlite") as db:
        nodes_ = [json.loads(row[0]) for row in db.execute("SELECT data FROM nodes ORDER BY id")]
    signature = [(n["id"], n["operator"], tuple(n["parents"]), n["plan"], n["code"], n["status"], n["search_score"])
                 for n in nodes_]
    return result, signature


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ref", required=True, help="git revision to compare with")
    parser.add_argument("--tasks", default=DEFAULT_TASKS)
    parser.add_argument("--nodes", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="airlab-parity-"))
    old = tmp / "old"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(old), args.ref], check=True)
    rows, same_count = [], 0
    started = time.time()
    try:
        for task in args.tasks.split(","):
            before, sig_before = run(old / "src", task, args.nodes, args.seed, tmp / "runs-old")
            after, sig_after = run(REPO / "src", task, args.nodes, args.seed, tmp / "runs-new")
            keys = ("val_score", "test_score", "refit_test_score", "final")
            same = sig_before == sig_after and all(before.get(k) == after.get(k) for k in keys)
            same_count += same
            rows.append(f"| {task} | {args.nodes} | {'identical' if same else 'DIFFERENT'} | {before['test_score']:.6g} "
                        f"| {after['test_score']:.6g} | {_f(before.get('refit_test_score'))} | {_f(after.get('refit_test_score'))} |")
            print(rows[-1], flush=True)
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(old)], check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    text = "\n".join([
        "| task | nodes | nodes and scores | test before | test after | refit test before | refit test after |",
        "|---|---|---|---|---|---|---|", *rows, "",
        f"{same_count} of {len(rows)} tasks identical, node by node (operator, parents, plan, code, status, search "
        "score) and in the final scores.",
    ])
    print(text)
    if args.write:
        write_section(SECTION, f"""{SECTION}

Machine: {machine()}. Command: `.venv/bin/python benchmarks/prediction_parity.py --ref {args.ref} --write`
({(time.time() - started) / 60:.0f} min). A run with the same task, seed, offline coder and node budget is
deterministic, so comparing the journals of the code before the Task protocol (revision `{args.ref}`) and after
shows whether prediction tasks kept every behaviour: each task is run once with each (seed {args.seed}, hidden folds
`auto`, ensemble, `--refit auto`).

{text}
""")


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.6g}"


if __name__ == "__main__":
    main()
