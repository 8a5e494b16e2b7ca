"""A cold sandbox reports the CPU time of its whole process tree, helpers nobody reaped included."""

from __future__ import annotations

from pathlib import Path

import pytest

from airlab.execution import cpuacct
from airlab.execution.sandbox import BubblewrapSandbox, SandboxJob
from airlab.tasks.spec import Limits

BURN = """
import os, signal, time
def burn(seconds):
    t = time.process_time()
    while time.process_time() - t < seconds:
        pass
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the helper: wait4 never sees it
done_r, done_w = os.pipe()
if os.fork() == 0:
    burn(0.8)
    os.write(done_w, b"x")
    os._exit(0)
os.read(done_r, 1)
burn(0.4)
"""


def _cpu(tmp_path: Path) -> float | None:
    job = SandboxJob(code=BURN, input_files={}, workdir=tmp_path / "workspace", limits=Limits(), log_dir=tmp_path)
    result = BubblewrapSandbox().run(job)
    assert result.exit_code == 0, result.stderr_tail
    return result.cpu_seconds


def test_cpu_time_counts_every_process_of_the_sandbox(tmp_path: Path) -> None:
    assert cpuacct.accounting_parent() is not None, "no CPU-accounting cgroup can be made on this machine"
    seconds = _cpu(tmp_path)
    assert seconds is not None and 1.2 <= seconds < 3.0


def test_without_the_cgroup_only_reaped_work_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the cgroup adds: the same run measured by wait4 alone misses the unreaped helper."""
    monkeypatch.setattr(cpuacct.CpuCgroup, "create", classmethod(lambda cls: None))
    seconds = _cpu(tmp_path)
    assert seconds is not None and 0.4 <= seconds < 1.1
