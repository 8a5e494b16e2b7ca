"""The CPU time of everything that ran in one sandbox: a CPU-accounting cgroup.

``wait4`` counts a process and the descendants it reaped; work done by a process that nobody
reaped (a detached helper killed with its sandbox, children of a parent that ignores SIGCHLD) is
lost to it. A cgroup counts the CPU time of every task that was ever inside it, so where one can be
made (cgroup v1 ``cpuacct``: ``cpuacct.usage``; v2: ``cpu.stat``'s ``usage_usec``) the sandbox
reports that count, and falls back to ``wait4`` elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from functools import cache, partial
from pathlib import Path

from airlab.execution.pids import PREFIX, _mounts, _sweep, probe_cgroup


def _own_path(controller: str) -> str | None:
    """This process's cgroup path in the v1 hierarchy of ``controller`` (the v2 one for "")."""
    with contextlib.suppress(OSError), open("/proc/self/cgroup") as handle:
        for line in handle:
            parts = line.rstrip("\n").split(":", 2)
            if len(parts) != 3:
                continue
            hierarchy, controllers, path = parts
            if (controller and controller in controllers.split(",")) or (
                    not controller and hierarchy == "0" and controllers == ""):
                return path
    return None


def _has_file(cgroup: Path, name: str) -> bool:
    return (cgroup / name).is_file()


@cache
def accounting_parent() -> tuple[Path, str] | None:
    """Where this process makes CPU-accounting cgroups, and the file that holds the usage."""
    v1 = _own_path("cpuacct")
    v2 = _own_path("")
    for mount, fstype, options in _mounts():
        if fstype == "cgroup" and "cpuacct" in options and v1 is not None:
            parent, usage = Path(mount + v1.rstrip("/")), "cpuacct.usage"
        elif fstype == "cgroup2" and v2 is not None:
            parent, usage = Path(mount + v2.rstrip("/")), "cpu.stat"
        else:
            continue
        if probe_cgroup(parent, partial(_has_file, name=usage)):
            _sweep(parent)
            return parent, usage
    return None


class CpuCgroup:
    """One sandbox's accounting cgroup: a process joins it before it execs (:attr:`procs_file`)."""

    def __init__(self, path: Path, usage_file: str):
        self.path, self.usage_file = path, usage_file
        self.procs_file = str(path / "cgroup.procs")

    @classmethod
    def create(cls) -> CpuCgroup | None:
        found = accounting_parent()
        if found is None:
            return None
        parent, usage = found
        path = parent / f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        try:
            path.mkdir()
        except OSError:
            return None
        return cls(path, usage)

    def seconds(self) -> float | None:
        """CPU seconds (user + system) of every task that ran in the cgroup."""
        try:
            text = (self.path / self.usage_file).read_text()
        except OSError:
            return None
        if self.usage_file == "cpuacct.usage":
            return int(text) / 1e9
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) / 1e6
        return None

    def remove(self) -> None:
        """Delete the cgroup once its processes are gone (the sandbox killed them already)."""
        with contextlib.suppress(OSError):
            self.path.rmdir()
