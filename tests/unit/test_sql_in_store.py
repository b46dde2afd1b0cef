"""SQL only in store/: exchange/ and referral/ use the store's modules, never SQLAlchemy.

Type annotations of a connection (``if TYPE_CHECKING:``) are allowed: a referral step
still owns its transaction and passes the connection to the store's writers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "interop"


def _runtime_imports(tree: ast.Module) -> list[str]:
    """Modules imported outside ``if TYPE_CHECKING:`` blocks."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            skipped |= {id(n) for n in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
    return found


@pytest.mark.parametrize("package", ["exchange", "referral"])
def test_no_sql_outside_store(package: str) -> None:
    offenders = []
    for path in sorted((SRC / package).glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        mods = _runtime_imports(tree)
        if any(m == "sqlalchemy" or m.startswith("sqlalchemy.") for m in mods):
            offenders.append(f"{package}/{path.name}: imports sqlalchemy")
        if "interop.store.schema" in mods or any(
            isinstance(n, ast.ImportFrom)
            and n.module == "interop.store"
            and any(a.name == "schema" for a in n.names)
            for n in ast.walk(tree)
        ):
            offenders.append(f"{package}/{path.name}: uses the tables directly")
    assert offenders == []


def test_no_module_of_the_outbox_or_referral_over_500_lines() -> None:
    paths = [
        *(SRC / "exchange").glob("*.py"),
        *(SRC / "referral").glob("*.py"),
        SRC / "store" / "outbox.py",
        SRC / "store" / "referrals.py",
    ]
    long = [
        f"{p.parent.name}/{p.name}: {n}"
        for p in paths
        if (n := len(p.read_text("utf-8").splitlines())) > 500
    ]
    assert long == []
