#!/usr/bin/env bash
# The last step of the README's main job: the console over the archive, with a person
# signed in. Creates the first administrator (also org lead) with a generated password the
# first time (kept in out/console-admin.txt, mode 600, like an initial admin password),
# starts `interop serve` on 127.0.0.1, signs in through the sign-in form, and prints the
# URL and credentials. Interactive: the console keeps running until Ctrl-C; otherwise it
# stops after the sign-in. Options (e.g. --db URL) go to interop.
set -euo pipefail
cd "$(dirname "$0")/.."
I=.venv/bin/interop
SECRET=out/console-admin.txt
mkdir -p out
PW=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))')
if printf '%s\n' "$PW" | "$I" "$@" staff add admin --name 系统管理员 --admin --role org-lead \
    --password-stdin >/dev/null 2>&1; then
  (umask 077 && printf '%s\n' "$PW" > "$SECRET")
elif [ ! -s "$SECRET" ]; then
  echo "The register already has staff: sign in with your own staff id and password." >&2
  exit 0
fi
PW=$(cat "$SECRET")
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
.venv/bin/python - "$URL" "$PW" <<'PY'
import re, sys, requests
url, pw = sys.argv[1].rstrip("/"), sys.argv[2]
s = requests.Session()
form = s.get(f"{url}/signin", timeout=30).text
token = re.search(r'name="presign" value="([^"]+)"', form).group(1)
page = s.post(f"{url}/signin", data={"staff_id": "admin", "password": pw, "presign": token},
              timeout=30)
if page.status_code != 200:
    sys.exit("sign-in as admin failed: this archive's administrator has another password")
title = re.search(r"<h1>(.*?)</h1>", page.text).group(1)
sync = s.get(f"{url}/sync", timeout=30).text
runs = len(re.findall(r'href="/sync\?run=', sync))
print(f"signed in as admin: {title} · 名单同步 shows {runs} sync run(s)")
PY
echo "console: $URL  staff id: admin  password: $PW"
if [ -t 0 ]; then
  echo "(Ctrl-C stops the console)"
  wait "$SERVER"
fi
