"""The error tree: one module, every code registered, the docs page current."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import gen_errors_doc
import pytest

import interop._errors as errors
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
