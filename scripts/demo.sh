#!/usr/bin/env bash
# Set up (if needed) and run the default agent on the built-in breast-cancer task: no LLM, no network.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/airlab run "${1:-breast-cancer}" "${@:2}"
