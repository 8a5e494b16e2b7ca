"""kill_and_wait: every process is killed, and a zombie waiting for its reaper counts as gone."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil

from airlab.execution.sandbox import kill_and_wait


def test_kills_a_tree_without_waiting_for_the_reaper() -> None:
    # a parent with a sleeping child; the child's zombie is ours to reap only through its parent
    parent = subprocess.Popen([sys.executable, "-c",
                               "import subprocess, sys, time\n"
                               "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
                               "time.sleep(60)\n"])
    outer = psutil.Process(parent.pid)
    deadline = time.monotonic() + 20
    while not outer.children() and time.monotonic() < deadline:
        time.sleep(0.05)
    victims = [outer, *outer.children(recursive=True)]
    assert len(victims) == 2
    kill_and_wait(victims, timeout=5)
    for proc in victims:
        assert not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    parent.wait(timeout=5)
