"""Benchmark of the durable outbox and referral polling. Not a timed test.

    .venv/bin/python bench/bench_outbox.py             # 200 deliveries, 1,000 referrals
    .venv/bin/python bench/bench_outbox.py --n 1000

The in-memory server answers each conditional create (``ifNoneExist``) by a
linear search, so its own rate falls as it fills: compare the outbox's rate
with the server's rate measured on the same number of deliveries.

Against the test FHIR server (Medplum's router, in-memory; tests/fhirserver,
``npm install`` there first) on 127.0.0.1 and PostgreSQL (``$INTEROP_TEST_PG``,
default the local server, database ``test``; a fresh schema, dropped after):

- **server**: the server's own create rate — the same transaction Bundles
  POSTed straight from 1 and from 4 client threads, no outbox;
- **outbox 1 / 4 workers**: N deliveries queued, then 1 or 4 worker
  processes (``Outbox.run``, SKIP LOCKED claims, one row per claim) deliver
  them all: deliveries per second from the first claim to the last delivery
  (the workers' interpreter start-up aside);
- **slow partner**: the same, through a proxy that answers each request
  after 1 s (tests/fhirserver/proxy.py): 1 and 4 workers (target 4 ≥ 3.5 × 1);
- **latency**: a referral-shaped delivery written and delivered at once,
  one after another: create → delivered, p50 / p95;
- **crisis referral**: ``Referrals.create`` of an RT-01 referral (purpose
  engine, break-glass, filter, transaction Bundle, outbox) and its delivery,
  one after another: create → handed over, p50 / p95;
- **killed worker**: a worker SIGKILLed while its request is in flight; the
  time until another worker (default lease) has the row delivered;
- **poll 1,000**: 1,000 open referrals at the hospital (10 % changed) read
  back by ``Task?_id=…`` pages and by ``Task?requester=…&_lastUpdated=gt…``
  (checked by a count first).

Each delivery is a transaction of three conditional entries (Patient,
ServiceRequest, Task), the shape of a referral without its supporting
resources.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "fhirserver"
PG_URL = os.environ.get("INTEROP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
RID = "urn:oid:2.16.156.10011.1.3"
#: Worker CPU per delivery (ms) of each outbox_rate run, in order.
WORKER_CPU_MS: list[float] = []
SYSTEM = "https://fhir.jxdcmh.cn/sid/referral"


def transaction(ref: str) -> bytes:
    p, s, t = (f"urn:uuid:{uuid.uuid4()}" for _ in range(3))
    ident = {"system": SYSTEM, "value": ref}
    cond = f"identifier={SYSTEM}|{ref}"
    entries = [
        (p, {"resourceType": "Patient", "identifier": [{"system": RID, "value": f"B{ref}"}]},
         {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={RID}|B{ref}"}),
        (s, {"resourceType": "ServiceRequest", "identifier": [ident], "status": "active",
             "intent": "order", "subject": {"reference": p}},
         {"method": "POST", "url": "ServiceRequest", "ifNoneExist": cond}),
        (t, {"resourceType": "Task", "identifier": [ident], "status": "requested",
             "intent": "order", "focus": {"reference": s}, "for": {"reference": p},
             "requester": {"reference": "Organization/bench-org"},
             "owner": {"reference": "Organization/jxch"}},
         {"method": "POST", "url": "Task", "ifNoneExist": cond}),
    ]  # fmt: skip
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"fullUrl": u, "resource": r, "request": q} for u, r, q in entries],
    }
    return json.dumps(bundle).encode()


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        ["node", str(SERVER / "server.mjs"), "0"],
        cwd=SERVER,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("listening"):
        raise SystemExit("the test FHIR server did not start (npm install in tests/fhirserver?)")
    return proc, f"http://127.0.0.1:{line.split()[1]}/"


def server_rate(base: str, n: int, threads: int) -> float:
    payloads = [transaction(f"S{threads}-{i}") for i in range(n)]
    chunks = [payloads[i::threads] for i in range(threads)]

    def post(chunk: list[bytes]) -> None:
        with requests.Session() as s:
            for body in chunk:
                r = s.post(base, data=body, headers={"Content-Type": "application/fhir+json"})
                r.raise_for_status()

    workers = [threading.Thread(target=post, args=(c,)) for c in chunks]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return n / (time.perf_counter() - t0)


def _worker(url: str, base: str, name: str, ready: Any, cpu: Any) -> None:
    from interop.exchange.http import HttpTransport
    from interop.exchange.outbox import HttpDeliverer, Outbox
    from interop.store import Archive

    with Archive.open(url) as a:
        ready.wait()  # every worker has started (imports, connection) before any claims
        started = time.process_time()
        done = Outbox(a).run(lambda _p: HttpDeliverer(HttpTransport("bench", base)), worker=name)
        cpu.put((done.delivered, time.process_time() - started))


def outbox_rate(
    url: str, base: str, n: int, workers: int, tag: str = ""
) -> tuple[float, dict[str, int]]:
    from interop.exchange.outbox import Outbox
    from interop.store import Archive

    with Archive.open(url) as a:
        box = Outbox(a)
        for i in range(n):
            box.enqueue(partner="bench", kind="referral",
                        payload=transaction(f"W{tag}{workers}-{i}"),
                        idempotency_key=f"bench:{tag}{workers}:{i}")  # fmt: skip
    ctx = mp.get_context("spawn")
    ready = ctx.Barrier(workers)
    cpu = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(url, base, f"w{i}", ready, cpu)) for i in range(workers)
    ]
    for p in procs:
        p.start()
    spent = [cpu.get() for _ in procs]
    for p in procs:
        p.join()
    # The workers' own CPU per delivery (claims, records, the HTTP client): what they take
    # from the server on a shared machine, whatever the load.
    WORKER_CPU_MS.append(1000 * sum(s for _n, s in spent) / max(1, sum(n for n, _s in spent)))
    # From the first claim to the last delivery of this run (the workers' start-up aside).
    with Archive.open(url) as a:
        box = Outbox(a)
        mine = [i for i in box.items() if i.idempotency_key.startswith(f"bench:{tag}{workers}:")]
        starts = [min(x["started_at"] for x in box.attempts(i.id)) for i in mine]
        done = [i.delivered_at for i in mine if i.delivered_at is not None]
        counts: dict[str, int] = {}
        for i in mine:
            counts[i.status] = counts.get(i.status, 0) + 1
    first = min(dt.datetime.fromisoformat(x).timestamp() for x in starts)
    return len(done) / (max(done) - first), counts


def latency(url: str, base: str, n: int) -> tuple[float, float]:
    from interop.exchange.http import HttpTransport
    from interop.exchange.outbox import HttpDeliverer, Outbox
    from interop.store import Archive

    times = []
    with Archive.open(url) as a:
        box = Outbox(a)
        d = HttpDeliverer(HttpTransport("bench", base))
        for i in range(n):
            t0 = time.perf_counter()
            item = box.enqueue(partner="bench", kind="referral", payload=transaction(f"L{i}"),
                               idempotency_key=f"bench:latency:{i}")  # fmt: skip
            box.run(lambda _p: d, ids=[item.id])
            times.append(time.perf_counter() - t0)
        d.close()
    q = statistics.quantiles(times, n=20)
    return statistics.median(times) * 1000, q[18] * 1000


def crisis_latency(base: str, n: int, workdir: Path) -> tuple[float, float]:
    """``referral create`` (RT-01, break-glass) → handed over, one referral after another."""
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "referral")]
    from referral_support import (  # type: ignore[import-not-found]
        CRISIS_FILE,
        HOSPITAL,
        case_doc,
        config_at,
        referrals,
        store,
        write_config,
    )

    from interop.engine import Engine
    from interop.store import Archive

    engine = Engine()
    times = []
    with Archive.open(f"sqlite:///{workdir / 'crisis.sqlite3'}") as a:
        refs = referrals(a, engine, config_at(write_config(workdir / "p.toml", base)))
        case = store(a, engine, case_doc(CRISIS_FILE, referral_consent=False))
        refs.create(case, partner=HOSPITAL, trigger="RT-01", reason="warm-up",
                    requester="staff-01")  # fmt: skip
        refs.deliver()
        for _ in range(n):
            t0 = time.perf_counter()
            ref = refs.create(case, partner=HOSPITAL, trigger="RT-01", reason="自杀计划",
                              requester="staff-01")  # fmt: skip
            refs.deliver(ref.id)
            times.append(time.perf_counter() - t0)
            assert refs.get(ref.id).state == "handed-over"
        refs.close()
    q = statistics.quantiles(times, n=20)
    return statistics.median(times) * 1000, q[18] * 1000


def _held_worker(url: str, base: str) -> None:
    from interop.exchange.http import HttpTransport
    from interop.exchange.outbox import HttpDeliverer, Outbox
    from interop.store import Archive

    with Archive.open(url) as a:
        Outbox(a).run(lambda _p: HttpDeliverer(HttpTransport("bench", base, timeout=120)))


def killed_worker(url: str, base: str) -> float:
    """Seconds from SIGKILL of a worker with a request in flight to the row delivered."""
    sys.path.insert(0, str(SERVER))
    from proxy import FaultProxy  # type: ignore[import-not-found]

    from interop.exchange.http import HttpTransport
    from interop.exchange.outbox import HttpDeliverer, Outbox
    from interop.store import Archive

    proxy = FaultProxy(base)
    try:
        with Archive.open(url) as a:
            item = Outbox(a).enqueue(partner="bench", kind="referral", payload=transaction("K1"),
                                     idempotency_key="bench:killed")  # fmt: skip
        proxy.arm("timeout", hold=120)
        ctx = mp.get_context("spawn")
        victim = ctx.Process(target=_held_worker, args=(url, proxy.base_url))
        victim.start()
        while not proxy.seen("POST"):
            time.sleep(0.01)
        victim.kill()
        killed = time.perf_counter()
        victim.join()
        with Archive.open(url) as a:
            box = Outbox(a)  # the default lease
            d = HttpDeliverer(HttpTransport("bench", proxy.base_url))
            while box.get(item.id).status != "delivered":
                box.run(lambda _p: d, wait=1.0)
            d.close()
        return time.perf_counter() - killed
    finally:
        proxy.close()


def polling(url: str, base: str, n: int, workdir: Path) -> dict[str, float]:
    from interop.config import load_config
    from interop.referral.lifecycle import Referrals
    from interop.store import Archive
    from interop.store import schema as t

    s = requests.Session()
    rows = []
    for i in range(n):  # plain creates: the setup need not pay for conditional searches
        body = {
            "resourceType": "Task",
            "identifier": [{"system": SYSTEM, "value": f"REF-P{i}"}],
            "status": "requested",
            "intent": "order",
            "requester": {"reference": "Organization/bench-org"},
            "owner": {"reference": "Organization/jxch"},
        }
        r = s.post(base + "Task", json=body)
        r.raise_for_status()
        rows.append((f"REF-P{i}", r.json()))
    cfg = workdir / "partners.toml"
    cfg.write_text(
        f'[partners.bench]\nkind = "hospital-fhir"\nbase_url = "{base}"\n'
        'owner = "Organization/jxch"\npoll_minutes = 15\n',
        encoding="utf-8",
    )
    stamp = "2026-11-30T10:00:00+00:00"
    with Archive.open(url) as a:
        with a.transaction() as conn:
            conn.execute(
                t.referrals.insert(),
                [
                    {"id": rid, "case_number": f"C{i}", "partner": "bench", "trigger": "RT-02",
                     "mode": "concurrent", "reason": "bench", "requester": "staff-01",
                     "break_glass": False, "state": "handed-over", "task_status": "requested",
                     "remote_task": f"Task/{task['id']}",
                     "remote_version": task["meta"]["versionId"],
                     "remote_updated": task["meta"]["lastUpdated"], "created_at": stamp,
                     "updated_at": stamp, "accept_due_provisional": False}
                    for i, (rid, task) in enumerate(rows)
                ],
            )  # fmt: skip
            conn.execute(
                t.referral_partners.insert(),
                [{"partner": "bench", "requester": "Organization/bench-org",
                  "cursor": max(task["meta"]["lastUpdated"] for _, task in rows)}],
            )  # fmt: skip
        for _, task in rows[: n // 10]:
            task = {k: v for k, v in task.items() if k != "meta"}
            s.put(
                f"{base}Task/{task['id']}", json={**task, "status": "accepted"}
            ).raise_for_status()
        out: dict[str, float] = {}
        refs = Referrals(a, load_config(cfg))
        t0 = time.perf_counter()
        counts = refs.poll(force=True, by="since")
        out["since_s"] = time.perf_counter() - t0
        out["since_changed"] = counts["changed"]
        out["since_requests"] = counts["requests"]
        t0 = time.perf_counter()
        counts = refs.poll(force=True, by="ids")
        out["ids_s"] = time.perf_counter() - t0
        out["ids_polled"] = counts["polled"]
        out["ids_requests"] = counts["requests"]
        refs.close()
    return out


def throughput(url: str, fresh: Any, n: int, rounds: int, db: str) -> None:
    """The server's own rate and the outbox's with 1 and 4 workers, ``rounds`` times.

    Each round measures the four one after another on fresh servers, so a round's
    ratios share the machine's load of that moment (printed: the 1-minute load average
    before and after the round).
    """
    ratios: dict[int, list[float]] = {1: [], 4: []}
    for r in range(rounds):
        before = os.getloadavg()[0]
        server1 = server_rate(fresh(), n, 1)
        server4 = server_rate(fresh(), n, 4)
        rate1, counts1 = outbox_rate(url, fresh(), n, 1, f"r{r}-")
        rate4, counts4 = outbox_rate(url, fresh(), n, 4, f"r{r}-")
        cpu1, cpu4 = WORKER_CPU_MS[-2:]
        after = os.getloadavg()[0]
        ratios[1].append(rate1 / server1)
        ratios[4].append(rate4 / server4)
        print(f"round {r + 1} ({db}, load {before:.1f} -> {after:.1f}): server 1 client "
              f"{server1:.1f}/s, 4 clients {server4:.1f}/s; outbox 1 worker {rate1:.1f}/s "
              f"({rate1 / server1:.0%}) {counts1}, 4 workers {rate4:.1f}/s "
              f"({rate4 / server4:.0%}) {counts4}; worker CPU per delivery {cpu1:.2f} ms "
              f"(1 worker), {cpu4:.2f} ms (4)", flush=True)  # fmt: skip
    for w in (1, 4):
        xs = ratios[w]
        print(f"{w} worker(s) / server: median {statistics.median(xs):.0%}, "
              f"min {min(xs):.0%}, max {max(xs):.0%} ({rounds} rounds)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="deliveries per outbox run")
    ap.add_argument("--poll", type=int, default=1000, help="open referrals to poll")
    ap.add_argument("--latency", type=int, default=300, help="deliveries for the latency run")
    ap.add_argument("--slow", type=int, default=12, help="deliveries to the slow partner")
    ap.add_argument("--crisis", type=int, default=20, help="crisis referrals for their latency")
    ap.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql",
                    help="the archive of the outbox runs (default PostgreSQL)")  # fmt: skip
    ap.add_argument("--throughput", type=int, default=0, metavar="ROUNDS",
                    help="only the server and outbox rates, ROUNDS times in this run, with the "
                         "load average of each round")  # fmt: skip
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(PG_URL, autocommit=True)
    workdir = tempfile.TemporaryDirectory()
    if args.db == "sqlite":
        url = f"sqlite:///{workdir.name}/bench.sqlite3"
    else:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    from interop.store import Archive

    Archive.create(url).close()  # only `interop init` (or this) makes an archive
    procs: list[subprocess.Popen[str]] = []

    def fresh() -> str:
        """A new, empty server for each phase (its cost grows with what it holds)."""
        proc, base = start_server()
        procs.append(proc)
        return base

    def say(text: str) -> None:
        print(f"... {text}", file=sys.stderr, flush=True)

    if args.throughput:
        try:
            throughput(url, fresh, args.n, args.throughput, args.db)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)
                assert proc.stdout is not None
                proc.stdout.close()
            if args.db == "postgresql":
                admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
            admin.close()
            workdir.cleanup()
        return
    try:
        say("server, 1 client")
        server1 = server_rate(fresh(), args.n, 1)
        say("server, 4 clients")
        server4 = server_rate(fresh(), args.n, 4)
        say("outbox, 1 worker")
        rate1, counts1 = outbox_rate(url, fresh(), args.n, 1)
        say("outbox, 4 workers")
        rate4, counts4 = outbox_rate(url, fresh(), args.n, 4)
        say("slow partner (1 s per request), 1 and 4 workers")
        sys.path.insert(0, str(SERVER))
        from proxy import FaultProxy

        slow_proxy = FaultProxy(fresh())
        slow_proxy.slow(1.0)
        slow1, _ = outbox_rate(url, slow_proxy.base_url, args.slow, 1, "slow")
        slow4, _ = outbox_rate(url, slow_proxy.base_url, args.slow, 4, "slow")
        slow_proxy.close()
        say("latency")
        p50, p95 = latency(url, fresh(), args.latency)
        say("crisis referral create -> handed over")
        with tempfile.TemporaryDirectory() as tmp:
            c50, c95 = crisis_latency(fresh(), args.crisis, Path(tmp))
        say("killed worker (default lease)")
        recovered = killed_worker(url, fresh())
        say("polling")
        with tempfile.TemporaryDirectory() as tmp:
            poll = polling(url, fresh(), args.poll, Path(tmp))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
            assert proc.stdout is not None
            proc.stdout.close()
        if args.db == "postgresql":
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()
        workdir.cleanup()
    print(f"server create rate (transactions/s): 1 client {server1:.1f}, 4 clients {server4:.1f}")
    print(f"outbox delivered/s, {args.db}: 1 worker {rate1:.1f} {counts1}, "
          f"4 workers {rate4:.1f} {counts4}")  # fmt: skip
    print(f"slow partner (1 s/request), delivered/s: 1 worker {slow1:.2f}, 4 workers "
          f"{slow4:.2f} ({slow4 / slow1:.1f}x)")  # fmt: skip
    print(f"create -> delivered latency: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({args.latency} runs)")
    print(f"crisis referral create -> handed over: p50 {c50:.0f} ms, p95 {c95:.0f} ms "
          f"({args.crisis} referrals)")  # fmt: skip
    print(f"killed worker -> its row delivered by another (default lease): {recovered:.1f} s")
    print(f"poll {args.poll} open referrals: since {poll['since_s']:.2f} s "
          f"({poll['since_requests']:.0f} request(s), {poll['since_changed']:.0f} changed); "
          f"ids {poll['ids_s']:.2f} s ({poll['ids_requests']:.0f} requests, "
          f"{poll['ids_polled']:.0f} Tasks read)")  # fmt: skip


if __name__ == "__main__":
    main()
