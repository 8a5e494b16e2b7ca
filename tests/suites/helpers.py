"""What the suite tests share: kill -9 in the middle of a run, and a hostile candidate's scan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airlab.store.run_store import RunStore
from tests.conftest import airlab, kill_during_run


def kill_then_resume(run_args: list[str], out: Path, budget: int) -> dict[str, Any]:
    """Start ``airlab run``, kill -9 it once a node finished, resume it; the finished run's result."""
    run_dir = kill_during_run([*run_args, "--budget-nodes", str(budget)], out)
    before = {n.id: n for n in RunStore(run_dir / "journal.sqlite", readonly=True).nodes()}
    airlab("run", "--resume", str(run_dir))
    after = RunStore(run_dir / "journal.sqlite", readonly=True).nodes()
    assert [n.id for n in after] == list(range(budget))  # nothing lost, nothing twice
    assert all(n.status.value != "pending" for n in after)
    for node in after:  # what was finished before the kill is kept as it was
        if node.id in before and before[node.id].status.value != "pending":
            assert node.code == before[node.id].code
            assert node.search_score == before[node.id].search_score
    result: dict[str, Any] = json.loads((run_dir / "result.json").read_text())
    return result


HOSTILE = '''
import os, sys

PATHS = {paths!r}
TEXTS = {texts!r}
found = []
walked = 0
for folder, dirs, files in os.walk("/", onerror=lambda exc: None):
    dirs[:] = [d for d in dirs if folder != "/" or d not in ("proc", "sys", "dev")]
    for name in files + dirs:
        path = os.path.join(folder, name)
        walked += 1
        if any(m in path for m in PATHS):
            found.append(path)
            continue
        if name.endswith((".py", ".csv")) and os.path.isfile(path) and os.path.getsize(path) < 2_000_000:
            try:
                text = open(path, errors="ignore").read()
            except OSError:
                continue
            if any(m in text for m in TEXTS) and not path.startswith(os.getcwd()):
                found.append(path)
print(f"hostile scan: {{walked}} entries; FOUND {{found}}", file=sys.stderr)
raise RuntimeError(f"FOUND {{found}}")
'''


def hostile(paths: list[str], texts: list[str]) -> str:
    """A candidate that walks ``/`` for paths holding one of ``paths`` and .py/.csv files holding
    one of ``texts`` (outside its own workspace), prints what it found and fails with it."""
    return HOSTILE.format(paths=paths, texts=texts)
