#!/usr/bin/env bash
# The README's test command: set up, lint, type-check and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The independent R4 validator (official R4 JSON Schema) comes from npm.
if command -v npm >/dev/null 2>&1; then
  (cd tests/independent && npm install --no-audit --no-fund --silent >/dev/null)
  (cd tests/fhirserver && npm install --no-audit --no-fund --silent >/dev/null)
else
  echo "npm not found: the independent-validator tests will be skipped" >&2
fi
.venv/bin/ruff check src tests bench tools
.venv/bin/ruff format --check src tests bench tools
.venv/bin/mypy
# The layering contract (.importlinter): commands → exchange → privacy → fhir → core, store below.
.venv/bin/lint-imports --no-cache
.venv/bin/pytest "$@"
