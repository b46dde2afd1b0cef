"""Benchmark: purpose-filter + PII guard + label + validate N synthetic cases to school Bundles.

Prints resources/s (resources that leave) for two paths measured in the same run,
on the same archive Bundles (mapping is done once beforehand and timed apart):

- interop: purpose filter + the PII guard of free text + ``meta.security``
  labels (:func:`apply_policy`, the guard knowing the case's names and
  addresses) → fast structure/bindings/claimed-profile validation of the
  extract (:func:`extract_errors`) → orjson bytes (what ``interop share`` does
  after mapping);
- naive: the same filter and labels, then ``fhir.resources`` R4B
  ``model_validate`` of the Bundle + ``model_dump_json`` (the usual way to
  check and serialise FHIR in Python).

Usage: ``python -m bench.bench_share [N]`` (default 10,000).
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
from interop.privacy.filter import apply_policy  # noqa: E402
from interop.privacy.labels import Labeller  # noqa: E402
from interop.privacy.policy import load_policies  # noqa: E402
from interop.privacy.rules import extract_errors  # noqa: E402
from interop.privacy.screen import known_people  # noqa: E402
from interop.privacy.summary import status_summary  # noqa: E402

STAMP = "2026-11-30T10:00:00+08:00"


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f} resources/s  ({seconds:.2f} s)"


def main(n: int = 10_000) -> None:
    engine = Engine()
    engine.validator  # load and compile outside the timings  # noqa: B018
    engine.mappings  # noqa: B018
    policy = load_policies(terminology=engine.terminology).find("school-support", "school")
    assert policy is not None
    labeller = Labeller(engine.terminology)

    t0 = time.perf_counter()
    prepared: list[tuple[dict[str, Any], list[dict[str, Any]], tuple[list[str], list[str]]]] = []
    for doc in make_many(n):
        checked = engine.check_case(doc)
        assert checked.record is not None and checked.ok, checked.issues[:3]
        full = engine.mappings.bundle(checked.record)
        summary = status_summary(checked.record, full, engine.terminology, as_of=STAMP[:10])
        prepared.append((full, [summary] if summary else [], known_people(checked.record)))
    prep_s = time.perf_counter() - t0
    archive_resources = sum(len(f["entry"]) for f, _, _ in prepared)
    redacted = 0

    def filtered(
        i: int,
        full: dict[str, Any],
        extra: list[dict[str, Any]],
        known: tuple[list[str], list[str]],
    ) -> dict[str, Any]:
        nonlocal redacted
        out = apply_policy(
            full,
            policy,
            labeller,
            partner="school",
            bundle_id=f"b{i}",
            timestamp=STAMP,
            extra=extra,
            known_names=known[0],
            known_addresses=known[1],
        )
        redacted += len(out.findings)
        return out.bundle

    # interop: filter + label + validate + serialise
    t0 = time.perf_counter()
    sent = 0
    errors = 0
    for i, (full, extra, known) in enumerate(prepared):
        bundle = filtered(i, full, extra, known)
        errors += len(extract_errors(engine.validator, bundle))
        orjson.dumps(bundle, option=orjson.OPT_INDENT_2)
        sent += len(bundle["entry"])
    ours_s = time.perf_counter() - t0

    # filter + label alone (shared by both paths)
    t0 = time.perf_counter()
    for i, (full, extra, known) in enumerate(prepared):
        filtered(i, full, extra, known)
    filter_s = time.perf_counter() - t0

    # naive: the same filter + labels, then fhir.resources validate + dump
    t0 = time.perf_counter()
    for i, (full, extra, known) in enumerate(prepared):
        release.to_model(filtered(i, full, extra, known)).model_dump_json()
    naive_s = time.perf_counter() - t0

    print(f"cases: {n:,}  archive resources: {archive_resources:,}  sent to schools: {sent:,}")
    print(f"validation errors in the school Bundles: {errors}")
    print(f"prepare (check + map + summary)  {n / prep_s:>10,.0f} cases/s     ({prep_s:.2f} s)")
    print(f"free-text findings (3 passes)    {redacted:,}")
    print(f"filter + guard + label only      {_rate(sent, filter_s)}")
    print(f"interop filter+guard+validate    {_rate(sent, ours_s)}")
    print(f"naive fhir.resources             {_rate(sent, naive_s)}")
    print(f"speed-up over naive: {naive_s / ours_s:.1f}x (target >= 3x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
