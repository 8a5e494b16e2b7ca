"""The process-count cap: a fork storm ends with the process limit named and leaves nothing behind,
on the cold (bubblewrap), warm and plain sandboxes, with the kernel's pids cgroup where this
machine allows one and with the sampling watcher alone (the portable floor). The Ray path is in
test_ray_executor.py."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from airlab.execution import pids
from airlab.execution.candidate import judge
from airlab.execution.pids import PidsCgroup, cgroup_parent
from airlab.execution.sandbox import (
    BubblewrapSandbox,
    PlainSandbox,
    RunResult,
    Sandbox,
    bubblewrap_works,
)
from airlab.execution.warm import WarmBubblewrapSandbox
from airlab.search.node import NodeStatus
from airlab.tasks.spec import Limits
from tests.execution.conftest import run, view_of

CAP = 40
ALL = ["bwrap", "warm", "plain"]

# Forks children that exec `sleep <marker>` (so the host can find them), far beyond the cap, and
# keeps trying when a fork is refused, as a fork bomb would; bounded by ATTEMPTS.
FORK_STORM = r'''
import os, time
for attempt in range(ATTEMPTS):
    try:
        pid = os.fork()
    except OSError:
        time.sleep(0.002)
        continue
    if pid == 0:
        try:
            os.execv("/bin/sleep", ["sleep", "MARKER"])
        finally:
            os._exit(0)
time.sleep(600)
'''


def storm(attempts: int) -> tuple[str, str]:
    """A fork-storm script and the marker its children carry (a unique, long sleep time)."""
    marker = f"600.{random.randrange(10**8, 10**9)}"
    return FORK_STORM.replace("ATTEMPTS", str(attempts)).replace("MARKER", marker), marker


def marked(marker: str) -> int:
    count = 0
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if cmdline[-1:] == [marker]:
            count += 1
    return count


class PeakWatch:
    """Samples, in a thread, the highest number of the storm's children alive at once."""

    def __init__(self, marker: str):
        self.marker, self.peak = marker, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, marked(self.marker))
            time.sleep(0.02)

    def __enter__(self) -> PeakWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def host_settles(before: int, marker: str, timeout: float = 15.0) -> tuple[int, int]:
    """Wait until no child of the storm is left and the host's process count is back near
    ``before`` (other work on the machine may start a few processes meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        left, count = marked(marker), len(psutil.pids())
        if (left == 0 and count <= before + CAP // 2) or time.monotonic() > deadline:
            return left, count
        time.sleep(0.1)


def assert_storm_stopped(result: RunResult, marker: str, before: int, peak: int, kernel: bool) -> None:
    assert result.limit_hit == "processes", (result.limit_hit, result.exit_code, result.stderr_tail)
    assert result.exit_code is not None and result.exit_code != 0
    if kernel:  # the kernel refused every fork beyond the cap: it never had more children alive
        assert peak <= CAP, peak
    left, count = host_settles(before, marker)
    assert left == 0, f"{left} children of the storm survived"
    assert count <= before + CAP // 2, (before, count)


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    kind = request.param
    if kind != "plain" and not bubblewrap_works():
        pytest.skip("bubblewrap is not usable here")
    if kind == "warm":
        return request.getfixturevalue("warm")  # type: ignore[no-any-return]
    return BubblewrapSandbox() if kind == "bwrap" else PlainSandbox()


@pytest.mark.parametrize("sandbox", ALL, indirect=True)
def test_fork_storm_hits_the_process_limit(sandbox: Sandbox, run_dir: Path) -> None:
    code, marker = storm(attempts=2000)
    before = len(psutil.pids())
    with PeakWatch(marker) as watch:
        result, job = run(sandbox, run_dir, code, processes=CAP, time_seconds=60)
    assert_storm_stopped(result, marker, before, watch.peak, kernel=cgroup_parent() is not None)
    outcome = judge(result, job, view_of(run_dir), job.log_dir, job.limits)
    assert outcome.status == NodeStatus.BUGGY
    assert outcome.error is not None and f"process limit of {CAP}" in outcome.error


@pytest.fixture
def watcher_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No pids cgroup: only the sampling watcher stands between a fork storm and the machine."""
    monkeypatch.setattr(PidsCgroup, "create", classmethod(lambda cls, max_tasks: None))
    yield


@pytest.mark.parametrize("kind", ALL)
def test_fork_storm_is_stopped_by_the_watcher_alone(kind: str, run_dir: Path, watcher_only: None) -> None:
    if kind != "plain" and not bubblewrap_works():
        pytest.skip("bubblewrap is not usable here")
    sandbox: Sandbox
    if kind == "warm":  # a fresh warm sandbox, so that its worker starts without a cgroup
        sandbox = WarmBubblewrapSandbox(preload=())
    else:
        sandbox = BubblewrapSandbox() if kind == "bwrap" else PlainSandbox()
    code, marker = storm(attempts=600)
    before = len(psutil.pids())
    try:
        with PeakWatch(marker) as watch:
            result, _ = run(sandbox, run_dir, code, processes=CAP, time_seconds=60)
    finally:
        if isinstance(sandbox, WarmBubblewrapSandbox):
            sandbox.close()
    assert_storm_stopped(result, marker, before, watch.peak, kernel=False)


@pytest.mark.parametrize("sandbox", ALL, indirect=True)
def test_threads_count_too_and_a_normal_job_is_untouched(sandbox: Sandbox, run_dir: Path) -> None:
    threads = "import threading, time\nfor _ in range(60):\n    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\ntime.sleep(30)\n"
    result, _ = run(sandbox, run_dir, threads, processes=CAP, time_seconds=60)
    assert result.limit_hit == "processes"
    few = "import subprocess\nfor _ in range(5):\n    subprocess.run(['true'], check=True)\nprint('fine')\n"
    result, _ = run(sandbox, run_dir, few, processes=CAP)
    assert result.ok and result.stdout_tail == "fine\n", result.stderr_tail


def test_limits_have_a_process_cap() -> None:
    assert Limits.model_validate({}).processes == 256
    with pytest.raises(ValueError):
        Limits.model_validate({"processes": 0})


def test_pids_cgroup_caps_forks_and_cleans_up() -> None:
    """Where this machine allows a pids cgroup (root with a pids controller), it holds as root."""
    if cgroup_parent() is None:
        assert PidsCgroup.create(10) is None  # the watcher is then the only cap
        return
    import subprocess

    cgroup = PidsCgroup.create(5)
    assert cgroup is not None and cgroup.refusals() == 0
    try:
        done = subprocess.run(["/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; wait"],
                              preexec_fn=lambda: pids.join(cgroup.procs_file), capture_output=True, timeout=30)
        assert done.returncode != 0 or b"fork" in done.stderr.lower()
        assert cgroup.refusals() > 0
    finally:
        cgroup.remove()
    assert not cgroup.path.exists()
