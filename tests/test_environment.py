"""In CI the real parts must all be present: a skip there would hide a missing part."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from airlab.execution.sandbox import bubblewrap_works

ci_only = pytest.mark.skipif(not os.environ.get("CI"), reason="checks the CI machine's set-up")


@ci_only
def test_bubblewrap_works_in_ci() -> None:
    assert bubblewrap_works(), "bubblewrap must be installed and usable in CI"


@ci_only
def test_chromium_and_playwright_in_ci() -> None:
    assert Path("/usr/bin/chromium").exists()
    assert importlib.util.find_spec("playwright") is not None


@ci_only
@pytest.mark.parametrize("module", ["llama_cpp", "ray", "openai", "anthropic", "pyspiel"])
def test_optional_parts_installed_in_ci(module: str) -> None:
    assert importlib.util.find_spec(module) is not None
