#!/usr/bin/env bash
# The last step of the README's main job: the console over the archive, with a person
# signed in. `interop init --admin` makes the first administrator (also org lead) of an
# empty register and writes the generated password to a file beside the archive that only
# you can read (mode 600, like Jenkins' initialAdminPassword); every clone on this machine
# uses the same archive in the user data folder, so it finds the same file. This script
# reads it, starts `interop serve` on 127.0.0.1, signs in through the sign-in form and
# prints the URL, the staff id and the file (never the password itself). Once the administrator sets a password of their own the
# file is gone: sign in with it. Interactive: the console keeps running until Ctrl-C;
# otherwise it stops after the sign-in. Options (e.g. --db URL) go to interop.
set -euo pipefail
cd "$(dirname "$0")/.."
I=.venv/bin/interop
INIT=$("$I" "$@" init --admin --json)
read -r ADMIN SECRET < <(printf '%s' "$INIT" | .venv/bin/python -c '
import json, sys
a = json.load(sys.stdin).get("admin") or {}
print(a.get("staff_id") or "-", a.get("password_file") or "-")')
if [ "$ADMIN" = "-" ] || [ ! -r "$SECRET" ]; then
  echo "The register already has staff: sign in with your own staff id and password." >&2
  exit 0
fi
LOG=$(mktemp)
"$I" "$@" serve --port "${INTEROP_CONSOLE_PORT:-0}" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -f "$LOG"' EXIT
URL=""
for _ in $(seq 1 100); do
  URL=$(grep -o 'http://[^ ]*/' "$LOG" || true)
  [ -n "$URL" ] && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { echo "the console did not start" >&2; exit 1; }
.venv/bin/python - "$URL" "$ADMIN" "$SECRET" <<'PY'
import re, sys, requests
url, who, secret = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
pw = open(secret, encoding="utf-8").readline().strip()
s = requests.Session()
form = s.get(f"{url}/signin", timeout=30).text
token = re.search(r'name="presign" value="([^"]+)"', form).group(1)
page = s.post(f"{url}/signin", data={"staff_id": who, "password": pw, "presign": token},
              timeout=30)
if page.status_code != 200:
    sys.exit(f"sign-in as {who} failed: this archive's administrator has another password")
title = re.search(r"<h1>(.*?)</h1>", page.text).group(1)
sync = s.get(f"{url}/sync", timeout=30).text
runs = len(re.findall(r'href="/sync\?run=', sync))
print(f"signed in as {who}: {title} · 名单同步 shows {runs} sync run(s)")
PY
echo "console: $URL  staff id: $ADMIN  password: in $SECRET (readable only by you)"
if [ -t 0 ]; then
  echo "(Ctrl-C stops the console)"
  wait "$SERVER"
fi
