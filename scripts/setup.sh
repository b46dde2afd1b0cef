#!/usr/bin/env bash
# Create .venv (if missing) and install interop with its development tools.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# pip may warn about local index folders configured on the machine; keep the rest.
quiet() { "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2); }
quiet .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
# Byte-compile the package as installing it (not editable) would: where the machine sets
# PYTHONDONTWRITEBYTECODE, each run would otherwise compile every module again.
.venv/bin/python -m compileall -q src/interop
