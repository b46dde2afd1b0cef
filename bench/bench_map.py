"""Benchmark: map + validate N synthetic cases to FHIR R4 (issue: foundation).

Prints resources/s for three paths measured in the same process:

- interop: declarative mapping → fast structure check, bindings, profiles
  with FHIRPath invariants → orjson bytes (what ``interop map`` does);
- naive: fhir.resources R4B ``model_validate`` + ``model_dump_json`` per
  resource (the same resources);
- lower bound: rebuild each resource dict (deep copy) and ``orjson.dumps``.

Usage: ``python -m bench.bench_map [N]`` (default 2,000).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from synth import make_many  # type: ignore[import-not-found]  # noqa: E402

from interop.engine import Engine  # noqa: E402
from interop.fhir import release  # noqa: E402


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f} resources/s  ({seconds:.2f} s)"


def main(n: int = 2000) -> None:
    engine = Engine()
    engine.validator  # load and compile outside the timings  # noqa: B018
    engine.mappings  # noqa: B018
    docs = make_many(n)
    t0 = time.perf_counter()
    records = []
    for d in docs:
        checked = engine.check_case(d)
        assert checked.record is not None and checked.ok, checked.issues[:3]
        records.append(checked.record)
    load_s = time.perf_counter() - t0

    # interop: map + validate + serialise
    t0 = time.perf_counter()
    resources: list[dict[str, Any]] = []
    errors = 0
    for rec in records:
        mapped = engine.case_bundle(rec)
        assert mapped.bundle is not None
        errors += sum(1 for i in mapped.issues if i.severity == "error")
        orjson.dumps(mapped.bundle)
        resources.extend(e["resource"] for e in mapped.bundle["entry"])
    ours_s = time.perf_counter() - t0
    count = len(resources)

    # naive: fhir.resources validate + dump, per resource
    t0 = time.perf_counter()
    for r in resources:
        release.to_model(r).model_dump_json()
    naive_s = time.perf_counter() - t0

    # lower bound: build the same dicts and orjson.dumps them
    t0 = time.perf_counter()
    for r in resources:
        orjson.dumps(orjson.loads(orjson.dumps(r)))
    lower_s = time.perf_counter() - t0

    print(f"cases: {n:,}  resources: {count:,}  error issues: {errors}")
    print(f"load+check case records      {n / load_s:>10,.0f} cases/s     ({load_s:.2f} s)")
    print(f"interop map+validate+dump    {_rate(count, ours_s)}")
    print(f"naive fhir.resources         {_rate(count, naive_s)}")
    print(f"lower bound (dict + orjson)  {_rate(count, lower_s)}")
    print(f"speed-up over naive: {naive_s / ours_s:.1f}x (target >= 3x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
