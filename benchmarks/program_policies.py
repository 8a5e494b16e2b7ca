"""Do the search policies improve on a program task's starter code, on hidden test instances?

    .venv/bin/python benchmarks/program_policies.py [--nodes 12] [--seeds 100,101,102,103,104]
                                                     [--policies greedy,mcts,evolution] [--tasks a,b] [--write]

Every built-in program task x policy x seed is one run of the offline coder (constant tuning) in
its own interpreter, one core each, two at a time. Each run also scores the unmodified starter
code on the same hidden roles (``baseline_test_score``), so the gain is measured inside the run:
the final answer's test score minus the starter's, signed so that positive is better. Reported:
the mean gain with a 95% t interval over seeds, and each policy against greedy, paired by seed.

No setting was chosen on these seeds: the policies run with their defaults, the tasks' roles and
starters were fixed before this script ran, and seeds 100-104 were used for nothing else. Records
go to ``benchmarks/program_policies_records.jsonl`` (a rerun skips the cells it has).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, paired_ci, run_isolated, seed_role, write_section

SECTION = "## Program tasks: policies against the starter code"
RECORDS = Path(__file__).with_name("program_policies_records.jsonl")
TASKS = ("prisoners-dilemma", "colonel-blotto", "bin-packing", "cartpole", "digits-speedrun")


def one(task: str, policy: str, seed: int, nodes: int) -> dict[str, Any]:
    """One run; its scores as a JSON record."""
    from airlab import api
    from airlab.rundir import RunConfig

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="airlab-programs-") as tmp:
        result = api.run(RunConfig(task=task, agent=policy, seed=seed, budget_nodes=nodes, cpus=1),
                         run_dir=Path(tmp) / "run")
    sign = 1.0 if result.higher_is_better else -1.0
    gain = None
    if result.test_score is not None and result.baseline_test_score is not None:
        gain = sign * (result.test_score - result.baseline_test_score)
    return {"task": task, "policy": policy, "seed": seed, "nodes": nodes, "metric": result.metric,
            "higher_is_better": result.higher_is_better, "test": result.test_score,
            "baseline_test": result.baseline_test_score, "gain": gain, "n_valid": result.n_valid,
            "n_nodes": result.n_nodes, "seconds": round(time.monotonic() - started, 1)}


def load_records() -> list[dict[str, Any]]:
    if not RECORDS.exists():
        return []
    return [json.loads(line) for line in RECORDS.read_text().splitlines() if line.strip()]


def table(records: list[dict[str, Any]], policies: list[str], nodes: int) -> str:
    lines = [
        "| task | metric | starter test | policy | final test (mean) | gain over the starter, 95% CI | "
        "better than the starter | vs greedy, 95% CI |",
        "|---|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for task in TASKS:
        cells = {p: sorted((r for r in records if r["task"] == task and r["policy"] == p and r["nodes"] == nodes),
                           key=lambda r: r["seed"]) for p in policies}
        if not any(cells.values()):
            continue
        first = next(rs for rs in cells.values() if rs)[0]
        arrow = "↑" if first["higher_is_better"] else "↓"
        for policy in policies:
            rs = cells[policy]
            if not rs:
                continue
            gains = np.array([r["gain"] if r["gain"] is not None else np.nan for r in rs], dtype=float)
            mean, lo, hi = paired_ci(gains)
            better = int(np.sum(gains > 0))
            versus = "–"
            if policy != "greedy" and cells.get("greedy"):
                by_seed = {r["seed"]: r["gain"] for r in cells["greedy"]}
                diff = np.array([r["gain"] - by_seed[r["seed"]] for r in rs
                                 if r["gain"] is not None and by_seed.get(r["seed"]) is not None], dtype=float)
                d, dlo, dhi = paired_ci(diff)
                versus = f"{d:+.4g} [{dlo:+.4g}, {dhi:+.4g}]"
            test = np.nanmean([r["test"] for r in rs if r["test"] is not None])
            lines.append(f"| {task} | {first['metric']} {arrow} | {rs[0]['baseline_test']:.4g} | {policy} | {test:.4g} "
                         f"| {mean:+.4g} [{lo:+.4g}, {hi:+.4g}] | {better}/{len(rs)} | {versus} |")
            verdicts.append((task, policy, lo > 0))
    n_sure = sum(v for *_, v in verdicts)
    lines.append("")
    lines.append(f"Gain above zero with 95% confidence: {n_sure} of {len(verdicts)} (task, policy) pairs.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", nargs=4, metavar=("TASK", "POLICY", "SEED", "NODES"))
    parser.add_argument("--nodes", type=int, default=12)
    parser.add_argument("--seeds", default="100,101,102,103,104")
    parser.add_argument("--policies", default="greedy,mcts,evolution")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.one:
        task, policy, seed, nodes = args.one
        print(json.dumps(one(task, policy, int(seed), int(nodes))))
        return
    policies = args.policies.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    have = {(r["task"], r["policy"], r["seed"], r["nodes"]) for r in load_records()}
    todo = [(t, p, s) for t in args.tasks.split(",") for p in policies for s in seeds
            if (t, p, s, args.nodes) not in have]
    started = time.time()
    with Progress() as progress, ThreadPoolExecutor(max_workers=args.parallel) as pool:
        bar = progress.add_task("runs", total=len(todo))

        def cell(item: tuple[str, str, int]) -> None:
            task, policy, seed = item
            record = run_isolated(__file__, [task, policy, str(seed), str(args.nodes)])
            if record is not None:
                with RECORDS.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")
            progress.advance(bar)

        list(pool.map(cell, todo))
    records = load_records()
    budgets = sorted({r["nodes"] for r in records})
    text = "\n\n".join(f"**{n} nodes per run**\n\n" + table(records, policies, n) for n in budgets)
    print(text)
    if args.write:
        minutes = (time.time() - started) / 60
        write_section(SECTION, f"""{SECTION}

Machine: {machine()}. Command: `.venv/bin/python benchmarks/program_policies.py --nodes N --seeds {args.seeds} --write`
for each budget N below (the last call took {minutes:.0f} min for the runs not already recorded; records in
`benchmarks/program_policies_records.jsonl`). The 12-node runs came first; the 20-node runs were made after their
results were seen, to see whether the intervals that include zero close with more nodes: both are reported.
The seeds ({args.seeds}) are {seed_role([int(x) for x in args.seeds.split(",")])} seeds of the agent; the hidden
instances are each task's fixed roles (its default split), on which its starter code was written.

Each run: the offline coder's constant tuning on one built-in program task, N nodes, one core, the
policy's default settings; the final answer (best by val among the top 3 by search) is scored on the hidden
test instances, and so is the unmodified starter code, in the same run. Gain = final test score minus the
starter's, signed so that positive is better; intervals are 95% t intervals over the seeds ({args.seeds},
chosen before any run and used for nothing else; no setting was tuned on them). The speedrun's score is CPU
seconds of a training run, which varies by 10-30% from run to run on this machine.

{text}
""")


if __name__ == "__main__":
    main()
