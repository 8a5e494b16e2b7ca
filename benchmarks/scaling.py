"""Parallel workers and the Ray executor: candidates per minute with 1 and 2 local workers, and with
2 workers through the Ray executor on a local Ray instance, all measured in the same run.

    .venv/bin/python benchmarks/scaling.py [--repeats 3] [--candidates 4] [--write]

The candidate is CPU-bound and single-threaded (dense numpy work with the thread variables at 1,
then a logistic regression on iris that writes a valid submission). Each repetition runs the same
batch of candidates through each executor (order interleaved): fresh workspace, sandbox, limits,
grading, exactly the node path. Throughput = candidates / wall seconds of the batch. The Ray
instance is started once; its start-up time is reported apart and not counted per candidate.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, write_section

from airlab.execution.candidate import judge
from airlab.execution.executor import Executor, LocalExecutor
from airlab.execution.sandbox import make_sandbox
from airlab.search.node import NodeStatus
from airlab.tasks.prediction.splits import make_splits
from airlab.tasks.prediction.task import PredictionView, prediction_task
from airlab.tasks.prediction.workspace import write_public_files

CANDIDATE = '''
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(0)
a = rng.standard_normal((300, 300))
for _ in range({iterations}):  # fixed CPU-bound work, one thread
    a = np.tanh(a @ a.T / 300.0)
train = pd.read_csv("train.csv")
test = pd.read_csv("predict.csv")
y = train.pop("species")
ids = test.pop("id")
model = LogisticRegression(max_iter=1000).fit(train, y)
pd.DataFrame({{"id": ids, "species": model.predict(test)}}).to_csv("submission.csv", index=False)
'''

SECTION = "## Parallel workers and the Ray executor"


def batch(executor: Executor, code: str, view: PredictionView, root: Path, n: int) -> float:
    """Run n candidates through the executor, at most `capacity` at once; wall seconds."""
    task = prediction_task("iris")
    limits = task.spec.limits.model_copy(update={"time_seconds": 300})
    if root.exists():
        shutil.rmtree(root)
    start = time.perf_counter()
    futures = []
    for i in range(n):
        folder = root / f"{i:04d}"
        folder.mkdir(parents=True)
        job = view.job(code, folder, limits)
        futures.append((folder, job, executor.submit(job)))
    for folder, job, future in futures:
        outcome = judge(future.result(), job, view, folder, limits)
        if outcome.status != NodeStatus.OK:
            raise SystemExit(f"candidate failed: {outcome.error}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--candidates", type=int, default=4, help="candidates per batch")
    parser.add_argument("--iterations", type=int, default=2000, help="size of the CPU-bound work")
    parser.add_argument("--write", action="store_true", help="replace the section in BENCHMARKS.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    task = prediction_task("iris")
    splits = make_splits(task)
    tmp = Path(tempfile.mkdtemp(prefix="airlab-scaling-"))
    public = tmp / "public"
    write_public_files(task, splits, public)
    view = PredictionView(task=task, splits=splits, public_dir=public)
    code = CANDIDATE.format(iterations=args.iterations)
    sandbox = make_sandbox("auto")

    from airlab.execution.ray_executor import RayExecutor

    t0 = time.perf_counter()
    ray_executor = RayExecutor(workers=2, sandbox_kind=sandbox.name)
    ray_start = time.perf_counter() - t0
    executors: dict[str, Callable[[], Executor]] = {
        "local, 1 worker": lambda: LocalExecutor(workers=1, sandbox=sandbox),
        "local, 2 workers": lambda: LocalExecutor(workers=2, sandbox=sandbox),
        "ray (local instance), 2 workers": lambda: ray_executor,
    }
    # one warm-up candidate per path (imports, Ray worker processes), not measured
    for label, make in executors.items():
        batch(make(), code, view, tmp / "warmup", 2 if "2" in label else 1)
    single = batch(LocalExecutor(workers=1, sandbox=sandbox), code, view, tmp / "one", 1)
    walls: dict[str, list[float]] = {label: [] for label in executors}
    try:
        for rep in range(args.repeats):
            for label, make in executors.items():
                executor = make()
                walls[label].append(batch(executor, code, view, tmp / f"r{rep}", args.candidates))
                if executor is not ray_executor:
                    executor.shutdown()
                print(f"rep {rep} {label}: {walls[label][-1]:.2f} s", file=sys.stderr)
    finally:
        ray_executor.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)

    per_minute = {label: 60 * args.candidates / statistics.median(w) for label, w in walls.items()}
    base = per_minute["local, 1 worker"]
    local2 = statistics.median(walls["local, 2 workers"])
    ray2 = statistics.median(walls["ray (local instance), 2 workers"])
    overhead = (ray2 - local2) / args.candidates
    lines = [
        SECTION,
        "",
        f"Machine: {machine()}. Command: `.venv/bin/python benchmarks/scaling.py --repeats {args.repeats} "
        f"--candidates {args.candidates} --iterations {args.iterations}{' --write' if args.write else ''}`. "
        f"Load average (1 min) before / after: {load_before:.1f} / {os.getloadavg()[0]:.1f} — the machine was "
        "shared with other jobs, so the ratios understate what an idle machine gives.",
        f"Candidate: single-threaded CPU-bound numpy work ({args.iterations} iterations, "
        f"{single:.1f} s alone through the harness) + logistic regression on iris, valid submission. "
        f"Each repetition runs a batch of {args.candidates} candidates through each path (fresh workspace, "
        f"{sandbox.name} sandbox, limits, grading); medians of {args.repeats} repetitions, paths interleaved.",
        "",
        "| path | median batch seconds | min | max | candidates / minute | ratio to 1 local worker |",
        "|---|---|---|---|---|---|",
    ]
    for label, w in walls.items():
        lines.append(f"| {label} | {statistics.median(w):.2f} | {min(w):.2f} | {max(w):.2f} | "
                     f"{per_minute[label]:.1f} | {per_minute[label] / base:.2f}x |")
    lines += [
        "",
        f"2 local workers / 1 worker: **{per_minute['local, 2 workers'] / base:.2f}x**. "
        f"Ray executor overhead against the local pool: **{overhead:+.2f} s per candidate** "
        f"(median batch {ray2:.2f} s vs {local2:.2f} s, {args.candidates} candidates); "
        f"starting the local Ray instance took {ray_start:.1f} s once per run (not included).",
        "",
    ]
    table = "\n".join(lines)
    print(table)
    if args.write:
        write_section(SECTION, table)


if __name__ == "__main__":
    main()
