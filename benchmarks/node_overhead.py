"""Per-node harness overhead: a trivial candidate through the harness vs a bare `python solution.py`.

    .venv/bin/python benchmarks/node_overhead.py [--repeats 7] [--write]

The candidate reads the breast-cancer workspace, fits a logistic regression and writes a submission.
"airlab" = fresh workspace + sandbox (bubblewrap and plain) + limits + grading; "bare" = the same script
run with `python solution.py` in a prepared folder. Medians of N runs, interleaved.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.progress import track

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, write_section

from airlab.execution.candidate import judge
from airlab.execution.sandbox import BubblewrapSandbox, PlainSandbox, Sandbox, bubblewrap_works
from airlab.tasks.prediction.splits import make_splits
from airlab.tasks.prediction.task import PredictionView, prediction_task
from airlab.tasks.prediction.workspace import write_public_files

CANDIDATE = '''
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

train = pd.read_csv("train.csv")
test = pd.read_csv("predict.csv")
y = train.pop("diagnosis")
ids = test.pop("id")
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(train, y)
proba = pd.DataFrame(model.predict_proba(test), columns=model.classes_)
pd.concat([ids, proba], axis=1).to_csv("submission.csv", index=False)
'''

SECTION = "## Per-node harness overhead"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="replace the section in BENCHMARKS.md")
    args = parser.parse_args()
    task = prediction_task("breast-cancer")
    splits = make_splits(task)
    root = Path(tempfile.mkdtemp(prefix="airlab-bench-"))
    public = root / "public"
    write_public_files(task, splits, public)
    view = PredictionView(task=task, splits=splits, public_dir=public)
    bare_dir = root / "bare"
    shutil.copytree(public, bare_dir)
    (bare_dir / "solution.py").write_text(CANDIDATE)
    sandboxes: list[tuple[str, Sandbox]] = [("airlab (bubblewrap)", BubblewrapSandbox())] if bubblewrap_works() else []
    sandboxes.append(("airlab (plain)", PlainSandbox()))
    times: dict[str, list[float]] = {name: [] for name in ["bare python solution.py", *(n for n, _ in sandboxes)]}
    limits = task.spec.limits
    for i in track(range(args.repeats), description="node turnaround"):
        start = time.perf_counter()
        subprocess.run([sys.executable, "solution.py"], cwd=bare_dir, check=True, capture_output=True)
        times["bare python solution.py"].append(time.perf_counter() - start)
        for name, sandbox in sandboxes:
            node = root / f"node-{name[8:12]}-{i}"
            start = time.perf_counter()
            job = view.job(CANDIDATE, node, limits)
            outcome = judge(sandbox.run(job), job, view, node, limits)
            times[name].append(time.perf_counter() - start)
            assert outcome.status.value == "ok", outcome.error
    bare = statistics.median(times["bare python solution.py"])
    lines = [
        SECTION, "",
        f"Machine: {machine()}. Command: `.venv/bin/python benchmarks/node_overhead.py --repeats {args.repeats}`.",
        "Candidate: pandas + scikit-learn logistic regression on breast-cancer, writes submission.csv. "
        "Turnaround = fresh workspace, sandboxed run with limits, grading of the submission.",
        "",
        "| path | median seconds | min | max | ratio to bare |",
        "|---|---|---|---|---|",
    ]
    for name, values in times.items():
        med = statistics.median(values)
        lines.append(f"| {name} | {med:.3f} | {min(values):.3f} | {max(values):.3f} | {med / bare:.2f}x |")
    lines.append("")
    table = "\n".join(lines)
    print(table)
    shutil.rmtree(root, ignore_errors=True)
    if args.write:
        write_section(SECTION, table)


if __name__ == "__main__":
    main()
