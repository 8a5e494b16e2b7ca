"""What every benchmark script shares: the machine description, the BENCHMARKS.md writer, cells run in
their own interpreter, and paired confidence intervals."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {sys.version.split()[0]}, {platform.system()} {platform.release()}"


def write_section(title: str, text: str, path: Path = BENCHMARKS) -> None:
    """Replace the section headed ``title`` (up to the next ``## ``), or append it at the end.

    ``text`` starts with the heading itself; the other sections are left untouched.
    """
    doc = path.read_text()
    start = doc.find(title + "\n")
    if start < 0:
        path.write_text(doc.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n")
        return
    end = doc.find("\n## ", start + len(title))
    rest = "" if end < 0 else doc[end + 1:]
    path.write_text(doc[:start] + text.rstrip("\n") + "\n" + ("\n" + rest if rest else ""))


def run_isolated(script: str, args: list[str]) -> dict[str, Any] | None:
    """Run ``script --one ARGS`` in a fresh interpreter limited to one core's threads, so cells don't
    share state; the last JSON line it printed, or None (its stderr shown) if it failed."""
    from airlab.execution.sandbox import THREAD_VARS

    env = {**os.environ, **{k: "1" for k in THREAD_VARS}}
    done = subprocess.run([sys.executable, script, "--one", *args], capture_output=True, text=True, env=env)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        print(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    record: dict[str, Any] = json.loads(lines[-1])
    return record


def paired_ci(diff: np.ndarray) -> tuple[float, float, float]:
    """Mean and a 95% t interval of paired differences (non-finite ones dropped)."""
    diff = diff[np.isfinite(diff)]
    mean = float(diff.mean()) if len(diff) else float("nan")
    half = float(stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
    return mean, mean - half, mean + half


# Split seeds have one of two roles in every benchmark. A default (a draft rule, a threshold, a setting)
# may be chosen on the tuning seeds, scored on their val rows only; the numbers reported as results come
# from the report seeds, on which nothing was ever chosen. Seeds 0-19 chose the draft rules and 20-39 the
# refit rule (on test rows, before this split existed: their tables say so).
TUNING_SEEDS = range(0, 100)
REPORT_SEEDS = range(100, 1_000_000)


def seed_role(seeds: list[int]) -> str:
    """``tuning`` or ``report`` for a list of split seeds; mixing the two is refused."""
    tuning = [s for s in seeds if s in TUNING_SEEDS]
    if tuning and len(tuning) != len(seeds):
        raise SystemExit(f"seeds {seeds} mix tuning seeds (below {REPORT_SEEDS.start}) with report seeds; "
                         "run them apart")
    return "tuning" if tuning else "report"


def seed_note(seeds: list[int], scored_on: str) -> str:
    """The sentence every table carries about its seeds."""
    span = f"{min(seeds)}–{max(seeds)}" if len(seeds) > 1 else str(seeds[0])
    if seed_role(seeds) == "report":
        return (f"Split seeds {span} are **report seeds**: no default of airlab was chosen on them, and they are "
                f"scored on the hidden {scored_on} rows.")
    if scored_on == "val":
        return (f"Split seeds {span} are **tuning seeds**, scored on their val rows: this table is where defaults "
                "may be chosen, and it is not a result.")
    return (f"Split seeds {span} are **tuning seeds** (airlab's draft rules were chosen on them), scored on test "
            "rows: an optimistic estimate, kept for history; the report-seed tables are the result.")
