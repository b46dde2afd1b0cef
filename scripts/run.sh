#!/usr/bin/env bash
# The README's main job on the embedded default: sync the bundled synthetic
# civil-affairs child list (some rows deliberately bad) into the embedded
# SQLite archive, then print the summary and the list of cases due to start.
# Pass --db URL (or set INTEROP_DB) to use another archive; init creates it
# when it does not exist yet.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/interop "$@" init  # (an archive that exists is left as it is)
.venv/bin/interop "$@" sync fixtures/lists/civil-affairs-list.csv
echo
.venv/bin/interop "$@" cases due
echo
# Last: the console over the same archive, with a person signed in.
bash scripts/console.sh "$@"
