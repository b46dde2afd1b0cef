"""The error tree: one module, every code registered, the docs page current."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import gen_errors_doc
import pytest

import interop._errors as errors
from interop._error_codes import _codes
from interop._errors import REGISTRY, InteropError

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "interop"
# A code as a string literal: "E123" (raise …, code="E123") or code = "E123" in a class.
CODE = re.compile(r"""["'](E[0-9]{3})["']""")


def _sources() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_every_code_used_in_src_is_registered() -> None:
    used: dict[str, list[str]] = {}
    for path in _sources():
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            for code in CODE.findall(line):
                used.setdefault(code, []).append(f"{path.relative_to(ROOT)}:{number}")
    assert len(used) >= 70, "the scan must find the codes in use"
    missing = {code: where for code, where in used.items() if code not in REGISTRY}
    assert not missing, f"codes used but not in interop._errors.REGISTRY: {missing}"


def test_the_scan_finds_an_unregistered_code() -> None:
    # the pattern the scan uses catches both ways a code is written
    sample = 'raise InputError("x", code="E999")\n    code = "E998"\n'
    assert CODE.findall(sample) == ["E999", "E998"]
    assert "E999" not in REGISTRY


def test_registry_entries_are_complete() -> None:
    for code, entry in REGISTRY.items():
        assert re.fullmatch(r"E[0-9]{3}", code) and entry.code == code
        assert entry.meaning.strip() and entry.action.strip(), code


def _registered_codes(source: str) -> list[str]:
    """The codes of the rows given to ``_codes(...)`` in the registry module's source, in order."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_codes":
            return [
                row.elts[0].value
                for row in node.args
                if isinstance(row, ast.Tuple) and isinstance(row.elts[0], ast.Constant)
            ]
    return []


def test_a_code_is_registered_once() -> None:
    codes = _registered_codes((SRC / "_error_codes.py").read_text("utf-8"))
    assert len(codes) == len(REGISTRY) >= 70
    twice = sorted({c for c in codes if codes.count(c) > 1})
    assert not twice, f"codes registered twice (two meanings): {twice}"
    # the registry itself refuses a second row of one code
    with pytest.raises(ValueError, match="E600 is registered twice"):
        _codes(("E600", "one", "do"), ("E600", "another", "do"))


def _raisers(sources: dict[str, str]) -> dict[str, set[str]]:
    """Code -> the exception classes that carry it: a class's own ``code = "E…"`` and
    every ``SomeError(…, code="E…")`` in the sources."""
    classes = {
        name: obj
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, InteropError)
    }
    out: dict[str, set[str]] = {}
    for name, cls in classes.items():
        if "code" in vars(cls):
            out.setdefault(cls.code, set()).add(name)
    for source in sources.values():
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            for kw in node.keywords:
                if name in classes and kw.arg == "code" and isinstance(kw.value, ast.Constant):
                    out.setdefault(str(kw.value.value), set()).add(name)
    return out


def test_each_code_is_carried_by_one_exception_class() -> None:
    # Two classes giving one code (an outbox error and a disclosure error, say) are two
    # meanings under one number: the operator cannot look the code up.
    sources = {str(p): p.read_text("utf-8") for p in _sources()}
    shared = {code: sorted(names) for code, names in _raisers(sources).items() if len(names) > 1}
    assert not shared, f"codes carried by more than one exception class: {shared}"


def test_the_one_class_scan_finds_a_shared_code() -> None:
    sample = (
        'raise OutboxError("no", code="E777")\n'
        'raise DisclosureError("no", code="E777")\n'
        'raise InputError("no", code="E641")\n'  # OutboxItemNotFound's own code
    )
    found = _raisers({"sample.py": sample})
    assert found["E777"] == {"OutboxError", "DisclosureError"}
    assert found["E641"] == {"InputError", "OutboxItemNotFound"}


def test_every_error_class_lives_in_the_error_module_with_a_registered_code() -> None:
    # interop's own exception classes: defined in _errors.py only
    names = {
        name
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, InteropError)
    }
    elsewhere = []
    for path in _sources():
        if path.name == "_errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
                }
                if bases & names:
                    elsewhere.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert not elsewhere, f"error classes outside interop._errors: {elsewhere}"
    for name in names:
        assert getattr(errors, name).code in REGISTRY, name


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("interop.config", "ConfigError"),
        ("interop.store.archive", "StoreError"),
        ("interop.exchange.outbox", "OutboxError"),
        ("interop.privacy.disclosure", "DisclosureError"),
        ("interop.referral.lifecycle", "ReferralError"),
    ],
)
def test_moved_classes_are_importable_from_their_old_modules(module: str, name: str) -> None:
    import importlib

    assert getattr(importlib.import_module(module), name) is getattr(errors, name)


def test_docs_page_is_current() -> None:
    page = ROOT / "docs" / "errors.md"
    assert page.read_text("utf-8") == gen_errors_doc.render(), (
        "docs/errors.md is stale: run python tools/gen_errors_doc.py"
    )
    assert all(f"| {code} |" in page.read_text("utf-8") for code in REGISTRY)
