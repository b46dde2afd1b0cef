#!/usr/bin/env bash
# The README's main job on the embedded default: map every bundled synthetic
# case record to a FHIR R4 Bundle, validate it, and write the Bundles to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out
status=0
for f in fixtures/cases/*.json; do
  name=$(basename "$f" .json)
  if .venv/bin/interop map "$f" --out "out/$name.bundle.json"; then
    .venv/bin/interop validate "out/$name.bundle.json"
  else
    status=1
  fi
done
exit $status
