"""A kernel cap on the tasks (processes and threads) of one sandbox: a pids cgroup.

``RLIMIT_NPROC`` cannot cap a sandbox: the kernel ignores it for root, and it counts every process
of the real user on the whole machine. A pids cgroup counts exactly the tasks inside it, for root
too: at ``pids.max`` a ``fork()`` or ``clone()`` fails with ``EAGAIN``, and ``pids.events``
("max N") counts the refusals, which tells the harness the cap was reached so that it can stop
the run and name the limit. Both cgroup v1 (a ``pids`` hierarchy) and v2 (the unified hierarchy
with the ``pids`` controller) work; the child cgroups are created next to the harness's own.

Where no pids cgroup can be made (not root, no controller, a read-only cgroup filesystem),
:meth:`PidsCgroup.create` returns None and the sandbox's sampling watcher
(:class:`~airlab.execution.sandbox.LimitWatch`) is the portable floor: it counts the tasks of the
process tree and kills the tree at the cap (a fast fork storm may overshoot between samples).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path

PREFIX = "airlab-"


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, filesystem type, super options) of each cgroup filesystem of this process."""
    found = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo") as handle:
        for line in handle:
            left, _, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
                found.append((fields[4], tail[0], set(tail[2].split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """This process's cgroup path per hierarchy: ``"pids"`` for v1, ``""`` for the v2 one."""
    paths: dict[str, str] = {}
    with contextlib.suppress(OSError), open("/proc/self/cgroup") as handle:
        for line in handle:
            parts = line.rstrip("\n").split(":", 2)
            if len(parts) != 3:
                continue
            controllers = parts[1].split(",")
            if "pids" in controllers:
                paths["pids"] = parts[2]
            elif parts[0] == "0" and parts[1] == "":
                paths[""] = parts[2]
    return paths


def probe_cgroup(parent: Path, works: Callable[[Path], bool]) -> bool:
    """Whether a child cgroup can be created under ``parent`` for which ``works(child)`` holds."""
    probe = parent / f"{PREFIX}probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        probe.mkdir()
    except OSError:
        return False
    try:
        return works(probe)
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()


def _pids_max_works(cgroup: Path) -> bool:
    (cgroup / "pids.max").write_text("1\n")
    return (cgroup / "pids.max").read_text().strip() == "1"


def _usable(parent: Path) -> bool:
    """Whether a child cgroup with a working ``pids.max`` can be created under ``parent``."""
    return probe_cgroup(parent, _pids_max_works)


def _candidates() -> list[Path]:
    own = _own_paths()
    out: list[Path] = []
    for mount, fstype, options in _mounts():
        if fstype == "cgroup" and "pids" in options and "pids" in own:
            out.append(Path(mount + own["pids"].rstrip("/")))
        elif fstype == "cgroup2" and "" in own:
            parent = Path(mount + own[""].rstrip("/"))
            control = parent / "cgroup.subtree_control"
            with contextlib.suppress(OSError):
                if "pids" not in control.read_text().split():
                    control.write_text("+pids\n")  # allowed at the root, or with no processes here
                out.append(parent)
    return out


@cache
def cgroup_parent() -> Path | None:
    """Where this process creates the sandboxes' pids cgroups, or None when it cannot."""
    for parent in _candidates():
        if _usable(parent):
            _sweep(parent)
            return parent
    return None


def _sweep(parent: Path) -> None:
    """Remove empty cgroups left by harness processes that died without cleaning up."""
    for folder in parent.glob(f"{PREFIX}*-*"):
        owner = folder.name[len(PREFIX):].split("-")[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            with contextlib.suppress(OSError):
                folder.rmdir()


class PidsCgroup:
    """One sandbox's pids cgroup. A process joins it before it execs (:attr:`procs_file`), its
    descendants inherit it; :meth:`remove` kills whatever is left and deletes the cgroup."""

    def __init__(self, path: Path):
        self.path = path
        self.procs_file = str(path / "cgroup.procs")

    @classmethod
    def create(cls, max_tasks: int | None) -> PidsCgroup | None:
        """A new pids cgroup capped at ``max_tasks`` (None: no cap yet), or None where impossible."""
        parent = cgroup_parent()
        if parent is None:
            return None
        path = parent / f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        try:
            path.mkdir()
        except OSError:
            return None
        cgroup = cls(path)
        try:
            cgroup.set_max(max_tasks)
        except OSError:
            cgroup.remove()
            return None
        return cgroup

    def set_max(self, max_tasks: int | None) -> None:
        (self.path / "pids.max").write_text("max\n" if max_tasks is None else f"{max_tasks}\n")

    def current(self) -> int:
        """Tasks in the cgroup now (threads included, zombies until they are reaped)."""
        try:
            return int((self.path / "pids.current").read_text())
        except (OSError, ValueError):
            return 0

    def refusals(self) -> int:
        """How many forks the cap has refused since the cgroup was made."""
        try:
            for line in (self.path / "pids.events").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "max":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def kill(self, timeout: float = 5.0) -> bool:
        """SIGKILL every process in the cgroup until it is empty; True when it is. Forks stay
        capped meanwhile, so a fork storm cannot outrun this loop."""
        deadline = time.monotonic() + timeout
        while True:
            pids = self.pids()
            if not pids:  # zombies waiting for a reaper are gone from cgroup.procs already
                return True
            if time.monotonic() > deadline:
                return False
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)

    def remove(self) -> None:
        """Kill what is left and delete the cgroup (best effort: an undeletable one is swept by
        the next harness process)."""
        self.kill()
        deadline = time.monotonic() + 5
        while True:
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.01)


def join(procs_file: str) -> None:
    """Move the calling process into a cgroup; runs in a child between fork and exec, so it uses
    only ``os`` calls, and a failure leaves the child where it was (the watcher still counts)."""
    try:
        fd = os.open(procs_file, os.O_WRONLY)
    except OSError:
        return
    with contextlib.suppress(OSError):
        os.write(fd, str(os.getpid()).encode())
    os.close(fd)
