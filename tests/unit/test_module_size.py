"""No module of the package passes 500 lines: a module that grows past it holds more
than one concept and is split along them (docs/decisions.md D-95).

The allow-list names any module that may stay longer, with its reason, and an entry no
longer needed fails.
"""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "interop"
LIMIT = 500

#: Modules (paths under src/interop) allowed past the limit, and why.
ALLOWED: dict[str, str] = {}


def _lengths() -> dict[str, int]:
    return {
        p.relative_to(SRC).as_posix(): len(p.read_text("utf-8").splitlines())
        for p in sorted(SRC.rglob("*.py"))
    }


def test_no_module_over_the_limit() -> None:
    lengths = _lengths()
    assert len(lengths) > 50, "the scan must see the package's modules"
    long = {rel: n for rel, n in lengths.items() if n > LIMIT and rel not in ALLOWED}
    assert long == {}, f"split these modules along their concepts (over {LIMIT} lines): {long}"


def test_every_allowed_module_is_still_long() -> None:
    lengths = _lengths()
    stale = [rel for rel in ALLOWED if lengths.get(rel, 0) <= LIMIT]
    assert stale == [], f"no longer over {LIMIT} lines: remove from ALLOWED {stale}"
