"""The suite adapters end to end: one bench over MLE-bench, MLGym and AIRS-Bench tasks next to a
built-in one, with what each suite reports of the scores, and what a node costs on each.

    .venv/bin/python benchmarks/suites_bench.py [--nodes 6] [--seeds 100,101] [--write]

The suites' data cannot be downloaded here, so the tasks are the test fixtures: tasks written in
each suite's exact on-disk format from data that ships in packages (an MLE-bench competition made
from scikit-learn's breast-cancer table with its own preparer, grader and leaderboard; an MLGym
iterated-dilemma game and wine CSV task; an AIRS-Bench classification task). Two agents (greedy and
MCTS with the offline coder) run every task for each seed through ``airlab bench``; the table gives
each run's test score, what the suite reports of it (MLE-bench's medal, AIRS-Bench's normalised
score), the starter's test score where the task has one, and the wall seconds per node. Seeds
100-101 were chosen before the runs; nothing was tuned on them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import machine, seed_note, write_section
from tests.suites.airs_fixture import TASK as AIRS_TASK
from tests.suites.airs_fixture import write_airs
from tests.suites.mlebench_fixture import COMPETITION, make_suite
from tests.suites.mlgym_fixture import CSV_ID, GAME_ID, write_mlgym

from airlab.bench import bench, load_agents
from airlab.store.results import parse_report, read_results

SECTION = "## Benchmark suites: MLE-bench, MLGym and AIRS-Bench tasks in one bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=6)
    parser.add_argument("--seeds", default="100,101")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="airlab-suites-"))
    dirs = {"mlebench": make_suite(root / "mle"), "mlgym": write_mlgym(root / "mlgym"), "airs": write_airs(root / "airs")}
    tasks = [f"mlebench:{COMPETITION}", f"mlgym:{GAME_ID}", f"mlgym:{CSV_ID}", f"airs:{AIRS_TASK}", "iris"]
    agents_file = root / "agents.yaml"
    agents_file.write_text(yaml.safe_dump([{"name": "greedy", "policy": "greedy"}, {"name": "mcts", "policy": "mcts"}]))
    started = time.time()
    csv = bench(load_agents(agents_file), tasks, [int(s) for s in args.seeds.split(",")], root / "bench",
                budget_nodes=args.nodes, suite_dir=",".join(f"{k}={v}" for k, v in dirs.items()))
    minutes = (time.time() - started) / 60
    frame = read_results(csv).sort_values(["task", "agent", "seed"])
    lines = ["| task | agent | seed | metric | test | suite's report | starter test | s / node |",
             "|---|---|---|---|---|---|---|---|"]
    for row in frame.to_dict("records"):
        report = parse_report(row["report"])
        said = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in report.items()
                         if k in ("any_medal", "gold_medal", "above_median", "airs_normalised_score"))
        starter = _f(row["baseline_test_score"])
        arrow = "↑" if row["higher_is_better"] else "↓"
        per_node = float(row["seconds"]) / max(1, int(row["nodes"]))
        lines.append(f"| {row['task']} | {row['agent']} | {row['seed']} | {row['metric']} {arrow} | "
                     f"{_f(row['test_score'])} | {said or '–'} | {starter} | {per_node:.1f} |")
    text = "\n".join(lines)
    print(text)
    print(json.dumps({"minutes": round(minutes, 1)}))
    if args.write:
        write_section(SECTION, f"""{SECTION}

Machine: {machine()}. Command: `.venv/bin/python benchmarks/suites_bench.py --nodes {args.nodes} --seeds {args.seeds} --write`
({minutes:.0f} min). {seed_note([int(x) for x in args.seeds.split(",")], "test")} The tasks are the suites' test fixtures, written in each suite's on-disk format from data that
ships in packages (the suites' own data cannot be downloaded here); `airlab bench` runs greedy and MCTS with the
offline coder, {args.nodes} nodes per run, on all of them and on the built-in iris. MLE-bench's competition runs
every node twice (the re-prepared public folder grades search and val, the competition's own folder grades test),
which shows in its seconds per node. What MLE-bench itself prints for a real competition, and airlab's score
against its `grade_csv`, is in `docs/suites.md`.

{text}
""")


def _f(value: Any) -> str:
    return "–" if value is None or value != value else f"{float(value):.4g}"


if __name__ == "__main__":
    main()
