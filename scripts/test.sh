#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite, including the real llama.cpp server, headless
# Chromium and Ray tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
AIRLAB_EXTRAS="dev,llm,test-llm,ray" AIRLAB_APT="bubblewrap chromium" bash scripts/setup.sh
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
code=$?
set -e
if [ "$code" = "5" ]; then
  echo "no tests were collected" >&2
fi
exit "$code"
