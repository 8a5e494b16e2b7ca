"""Warm workers: per-node turnaround of a trivial candidate, side by side with AIDE's interpreter.

    .venv/bin/python benchmarks/warm_workers.py [--repeats 7] [--write] [--aide-path DIR]

Paths, interleaved in every repeat:

- bare python: ``python solution.py`` in a prepared folder (no sandbox, no grading);
- airlab cold: fresh workspace + bubblewrap sandbox + limits + grading (a node's path);
- airlab warm: the same, forked from a warm worker (:mod:`airlab.execution.warm`);
- AIDE: ``aide.interpreter.Interpreter.run`` (a forked child per run, no sandbox, no grading),
  driven from its own helper process that has not imported pandas ("cold"), and from one that
  has imported pandas and scikit-learn before forking ("pre-imported").

AIDE is a benchmark-only dependency. Installing ``aideml`` with its dependencies would replace
numpy, pandas, scikit-learn and install torch in the project's environment, so install the
package alone, with the four small packages its interpreter imports, into a separate folder:

    .venv/bin/pip install --no-deps --target /tmp/airlab-aide-bench \\
        aideml humanize dataclasses-json marshmallow typing-inspect shutup

``aide/interpreter.py`` is loaded from that folder by path (``aide/__init__.py`` would import the
agent and its LLM clients, which the interpreter does not need); the code measured is AIDE's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, write_section
from node_overhead import CANDIDATE

from airlab.execution.candidate import judge
from airlab.execution.sandbox import BubblewrapSandbox, bubblewrap_works
from airlab.execution.warm import WarmBubblewrapSandbox
from airlab.tasks.prediction.splits import make_splits
from airlab.tasks.prediction.task import PredictionView, prediction_task
from airlab.tasks.prediction.workspace import write_public_files

SECTION = "## Warm workers: per-node turnaround"

# A helper process driving AIDE's interpreter: one line "run" in, one JSON line out.
AIDE_HELPER = r'''
import importlib.util, json, sys, time
aide_path, workdir, preimport = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
sys.path.append(aide_path)
spec = importlib.util.spec_from_file_location("aide_interpreter", f"{aide_path}/aide/interpreter.py")
module = importlib.util.module_from_spec(spec)
sys.modules["aide_interpreter"] = module
spec.loader.exec_module(module)
if preimport:
    import pandas, sklearn.linear_model, sklearn.pipeline, sklearn.preprocessing  # noqa
assert preimport or "pandas" not in sys.modules
code = sys.stdin.readline() and json.loads(sys.stdin.readline())
interpreter = module.Interpreter(workdir, timeout=600)
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    start = time.perf_counter()
    result = interpreter.run(code)  # reset_session=True: a fresh forked child, as AIDE runs nodes
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "exc": result.exc_type}), flush=True)
interpreter.cleanup_session()
'''


class AideHelper:
    def __init__(self, aide_path: Path, workdir: Path, preimport: bool):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", AIDE_HELPER, str(aide_path), str(workdir), "1" if preimport else "0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("code\n" + json.dumps(CANDIDATE) + "\n")
        self.proc.stdin.flush()
        assert json.loads(self.proc.stdout.readline())["ready"]
        self.workdir = workdir

    def run(self) -> float:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        (self.workdir / "submission.csv").unlink(missing_ok=True)
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        assert reply["exc"] is None and (self.workdir / "submission.csv").exists(), reply
        return float(reply["seconds"])

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="replace the section in BENCHMARKS.md")
    parser.add_argument("--aide-path", type=Path, default=Path("/tmp/airlab-aide-bench"))
    args = parser.parse_args()
    if not bubblewrap_works():
        sys.exit("bubblewrap is needed: warm workers run inside it")
    if not (args.aide_path / "aide" / "interpreter.py").exists():
        sys.exit(f"AIDE is not installed in {args.aide_path}; see this script's docstring")
    task = prediction_task("breast-cancer")
    splits = make_splits(task)
    limits = task.spec.limits
    root = Path(tempfile.mkdtemp(prefix="airlab-bench-warm-"))
    public = root / "public"
    write_public_files(task, splits, public)
    view = PredictionView(task=task, splits=splits, public_dir=public)
    folders = {}
    for name in ("bare", "aide-cold", "aide-pre"):
        folders[name] = root / name
        shutil.copytree(public, folders[name])
    (folders["bare"] / "solution.py").write_text(CANDIDATE)

    cold = BubblewrapSandbox()
    warm = WarmBubblewrapSandbox()
    start = time.perf_counter()  # the first warm job also starts the worker: reported apart
    job = view.job(CANDIDATE, root / "warm-first", limits)
    assert judge(warm.run(job), job, view, root / "warm-first", limits).status.value == "ok"
    first_warm = time.perf_counter() - start
    aide_cold = AideHelper(args.aide_path, folders["aide-cold"], preimport=False)
    aide_pre = AideHelper(args.aide_path, folders["aide-pre"], preimport=True)

    def node(sandbox: BubblewrapSandbox | WarmBubblewrapSandbox, label: str, i: int) -> float:
        folder = root / f"{label}-{i}"
        begin = time.perf_counter()
        job = view.job(CANDIDATE, folder, limits)
        outcome = judge(sandbox.run(job), job, view, folder, limits)
        seconds = time.perf_counter() - begin
        assert outcome.status.value == "ok", outcome.error
        return seconds

    def bare() -> float:
        begin = time.perf_counter()
        subprocess.run([sys.executable, "solution.py"], cwd=folders["bare"], check=True, capture_output=True)
        return time.perf_counter() - begin

    paths: dict[str, Callable[[int], float]] = {
        "bare `python solution.py` (no sandbox, no grading)": lambda i: bare(),
        "airlab cold (bubblewrap, with grading)": lambda i: node(cold, "cold", i),
        "airlab warm (bubblewrap, with grading)": lambda i: node(warm, "warm", i),
        "AIDE `Interpreter.run` (no sandbox, no grading)": lambda i: aide_cold.run(),
        "AIDE `Interpreter.run`, libraries pre-imported in its parent": lambda i: aide_pre.run(),
    }
    times: dict[str, list[float]] = {name: [] for name in paths}
    loads = []
    for i in range(args.repeats):
        for name, measure in paths.items():
            times[name].append(measure(i))
        loads.append(os.getloadavg()[0])
        print(f"repeat {i + 1}/{args.repeats}: "
              + ", ".join(f"{v[-1]:.3f}" for v in times.values()), file=sys.stderr)
    aide_cold.close()
    aide_pre.close()
    warm.close()

    medians = {name: statistics.median(values) for name, values in times.items()}
    aide = medians["AIDE `Interpreter.run` (no sandbox, no grading)"]
    aide_pre_median = medians["AIDE `Interpreter.run`, libraries pre-imported in its parent"]
    warm_median = medians["airlab warm (bubblewrap, with grading)"]
    lines = [
        SECTION, "",
        f"Machine: {machine()}; load average {min(loads):.1f}–{max(loads):.1f} during the measurement. "
        "The paths are interleaved in every repeat, so the ratios compare like with like. "
        f"Command: `.venv/bin/python benchmarks/warm_workers.py --repeats {args.repeats}`.",
        "Candidate: pandas + scikit-learn logistic regression on breast-cancer, writes "
        "submission.csv (the one of `benchmarks/node_overhead.py`). airlab turnaround = fresh "
        "workspace, sandboxed run with limits, grading; AIDE = `aide.interpreter.Interpreter.run` "
        "from PyPI `aideml` 0.2.2 (a forked child per run, no sandbox, no grading).",
        "",
        "| path | median seconds | min | max | ratio to AIDE | ratio to AIDE pre-imported |",
        "|---|---|---|---|---|---|",
    ]
    for name, values in times.items():
        med = medians[name]
        lines.append(f"| {name} | {med:.3f} | {min(values):.3f} | {max(values):.3f} | "
                     f"{med / aide:.2f}x | {med / aide_pre_median:.2f}x |")
    lines += [
        "",
        f"The first warm job of a run also starts its worker (bubblewrap + Python + imports): "
        f"{first_warm:.2f} s here, paid once per worker. Goal (warm ≤ AIDE): "
        f"{'met' if warm_median <= aide else 'not met'}; moonshot (warm ≤ AIDE pre-imported): "
        f"{'met' if warm_median <= aide_pre_median else 'not met'}.",
        "",
    ]
    table = "\n".join(lines)
    print(table)
    shutil.rmtree(root, ignore_errors=True)
    if args.write:
        write_section(SECTION, table)


if __name__ == "__main__":
    main()
