#!/usr/bin/env bash
# Set up everything airlab needs on a fresh machine: system packages (as root, via apt-get), a
# virtual environment in .venv, and the package with the extras named in $AIRLAB_EXTRAS.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${AIRLAB_EXTRAS:-}"
APT_PACKAGES="${AIRLAB_APT:-bubblewrap}"

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  missing=""
  for pkg in $APT_PACKAGES; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
  done
  if [ -n "$missing" ]; then
    echo "[setup] apt-get install$missing"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  fi
elif ! command -v bwrap >/dev/null 2>&1; then
  echo "[setup] bubblewrap is not installed and this is not root: candidates will run with weaker isolation" >&2
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  "$PY" -m venv .venv
fi
stamp=".venv/.airlab-installed-$(echo "$EXTRAS" | tr ',[]' '___')"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "[setup] installing airlab${EXTRAS:+[$EXTRAS]} into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".${EXTRAS:+[$EXTRAS]}"
  touch "$stamp"
fi
