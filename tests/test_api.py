"""Run-level settings derived in airlab.api."""

from __future__ import annotations

import pytest

from airlab import api
from airlab.rundir import RunConfig
from airlab.tasks import load_task


@pytest.fixture
def task():  # a task whose nodes may use 4 threads
    loaded = load_task("iris")
    loaded.spec = loaded.spec.model_copy(update={"limits": loaded.spec.limits.model_copy(update={"cpus": 4})})
    return loaded


def test_local_workers_share_the_cores(task, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.os, "cpu_count", lambda: 8)
    assert api.effective_limits(task, RunConfig(task="iris", workers=1)).cpus == 4
    assert api.effective_limits(task, RunConfig(task="iris", workers=4)).cpus == 2
    assert api.effective_limits(task, RunConfig(task="iris", workers=16)).cpus == 1


def test_explicit_cpus_and_ray_keep_the_limit(task, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.os, "cpu_count", lambda: 2)
    assert api.effective_limits(task, RunConfig(task="iris", workers=2, cpus=3)).cpus == 3
    assert api.effective_limits(task, RunConfig(task="iris", workers=2, executor="ray")).cpus == 4
