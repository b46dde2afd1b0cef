"""Benchmark of the civil-affairs list sync. Not a timed test.

    .venv/bin/python bench/bench_sync.py            # 100,000 rows: W1, W2, RSS, lower bound
    .venv/bin/python bench/bench_sync.py --million  # also W1 and peak RSS at 300k and 1M rows

- lower bound: read the CSV, build each row's dict, ``orjson.dumps`` it;
- W1: full sync of a synthetic list (valid IDs, ~1 % bad rows) into an empty
  SQLite archive;
- W2: re-sync of the same list with ~1 % of the rows changed.

Each workload runs in its own process, so its peak RSS (``ru_maxrss``: the
largest of the process and its worker processes) is its own. A round runs the
lower bound, W1 (into a new archive) and W2 (on a copy of the archive W1 left)
back to back; each figure is the median of ``--repeat`` rounds (default 3), and
each ratio is taken within a round, then the median: the machine is shared, and
its speed drifts by ±10 % from one minute to the next. Before each run the disk
writes back what the last one left in the page cache, and the package is
byte-compiled first, as an installed one is. Targets: W1 ≥ 10,000 rows/s and
within 10x of the lower bound; W2 ≤ 20 % of W1's time (on a UTF-8 and on a GBK
list: ``--encoding gbk``); peak RSS ≤ 300 MB and flat in the list size.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import gen_child_list  # noqa: E402

LOWER_BOUND = """
import csv, sys, orjson
n = 0
with open(sys.argv[1], encoding=sys.argv[2], newline="") as fh:
    for row in csv.DictReader(fh):
        orjson.dumps(row)
        n += 1
print(n)
"""


def inbound_lines() -> int:
    """Lines of the sync's package (its budget: under 2,000)."""
    return sum(
        len(p.read_text("utf-8").splitlines())
        for p in (ROOT / "src" / "interop" / "inbound").glob("*.py")
    )


def run(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, stdout of a child process.

    The disk first writes back what earlier runs left in the page cache (a
    first sync writes ~450 MB): a run should not pay for the one before it.
    """
    os.sync()
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return elapsed, usage.ru_maxrss / 1024, text


def sync(db: Path, path: Path) -> tuple[float, float, dict[str, object]]:
    cmd = [sys.executable, "-m", "interop.cli", "--db", f"sqlite:///{db}", "sync", str(path)]
    elapsed, rss, text = run([*cmd, "--received", "2025-12-22", "--json"])
    return elapsed, rss, json.loads(text)


def fresh(db: Path) -> Path:
    """An empty archive at ``db`` (``interop init``, not timed: only init creates one)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "interop.cli", "--db", f"sqlite:///{db}", "init"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return db


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument(
        "--million", action="store_true", help="also run W1 at 300,000 and 1,000,000 rows"
    )
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    ap.add_argument(
        "--encoding",
        default="utf-8-sig",
        help="encoding of the lists (gbk: as counties export from Excel)",
    )
    a = ap.parse_args()
    # the package as installed (byte-compiled), even where PYTHONDONTWRITEBYTECODE is set
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "interop")], check=True
    )
    with tempfile.TemporaryDirectory(prefix="interop-bench-") as tmp:
        d = Path(tmp)
        lst, changed = d / "list.csv", d / "list-changed.csv"
        gen_child_list.write(lst, a.rows, bad=0.01, seed=7, change=0.0, encoding=a.encoding)
        gen_child_list.write(changed, a.rows, bad=0.01, seed=7, change=0.01, encoding=a.encoding)
        w1_db, w2_db = d / "w1.sqlite3", d / "w2.sqlite3"
        rounds = []  # (lower bound, W1, W2) of each round, run back to back
        for _ in range(a.repeat):
            lb_i = run([sys.executable, "-c", LOWER_BOUND, str(lst), a.encoding])[0]
            w1_i, w1_rss, r1 = sync(fresh(w1_db), lst)
            shutil.copyfile(w1_db, fresh(w2_db))  # the archive as W1 left it
            w2_i, w2_rss, r2 = sync(w2_db, changed)
            rounds.append((lb_i, w1_i, w2_i, w1_rss, w2_rss))
        lb, w1, w2 = (statistics.median(r[k] for r in rounds) for k in range(3))
        w1_rss, w2_rss = max(r[3] for r in rounds), max(r[4] for r in rounds)
        # (each ratio within one round: the shared machine's speed drifts between rounds)
        x1 = statistics.median(r[1] / r[0] for r in rounds)
        x2 = statistics.median(r[2] / r[1] * 100 for r in rounds)
        n = a.rows
        print(f"rows: {n:,} (≈1 % bad, {a.encoding}); median of {a.repeat} rounds")
        print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"inbound/: {inbound_lines():,} lines")
        print(f"lower bound (csv → dict → orjson): {lb:7.2f} s  {n / lb:>9,.0f} rows/s")
        print(
            f"W1 full sync, empty archive:       {w1:7.2f} s  {n / w1:>9,.0f} rows/s  "
            f"{x1:4.1f}x lower bound  peak RSS {w1_rss:5.0f} MB  "
            f"(new {r1['new']}, quarantined {r1['quarantined']})"
        )
        print(
            f"W2 re-sync, ~1 % changed:          {w2:7.2f} s  {x2:5.1f} % of W1  "
            f"peak RSS {w2_rss:5.0f} MB  (changed {r2['changed']}, new {r2['new']}, "
            f"unchanged {r2['unchanged']})"
        )
        print(
            "each round: "
            + "; ".join(f"{r[1] / r[0]:.1f}x, {r[2] / r[1] * 100:.1f} %" for r in rounds)
        )
        if a.million:  # peak RSS levels off: the page cache and the workers' window fill up
            for rows in (300_000, 1_000_000):
                big = d / f"list-{rows}.csv"
                gen_child_list.write(big, rows, bad=0.01, seed=7, change=0.0, encoding="utf-8")
                lb1, _, _ = run([sys.executable, "-c", LOWER_BOUND, str(big), "utf-8"])
                w1m, w1m_rss, r1m = sync(fresh(d / "b.sqlite3"), big)
                print(
                    f"W1 at {rows:>9,} rows:{'':14}{w1m:7.2f} s  {rows / w1m:>9,.0f} rows/s  "
                    f"{w1m / lb1:4.1f}x lower bound ({lb1:.2f} s)  peak RSS {w1m_rss:5.0f} MB  "
                    f"(new {r1m['new']})"
                )
                big.unlink()


if __name__ == "__main__":
    main()
