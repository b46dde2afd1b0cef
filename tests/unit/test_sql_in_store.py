"""SQL lives in ``interop.store`` only: no module outside it imports SQLAlchemy or the
table definitions (``interop.store.schema`` and the area modules it gathers,
``interop.store.tables``), at run time or for type checking.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "interop"


def _tables(module: str) -> bool:
    """Whether ``module`` is one of the area modules of table definitions."""
    return module == "interop.store.tables" or module.startswith("interop.store.tables.")


def sql_imports(source: str) -> list[str]:
    """The imports of ``source`` that bring SQL in: SQLAlchemy, or the table definitions
    (constants of ``interop.store.schema`` such as SCHEMA_VERSION are not SQL)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if (
                    top == "sqlalchemy"
                    or alias.name == "interop.store.schema"
                    or _tables(alias.name)
                ):
                    found.append(f"line {node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [a.name for a in node.names]
            if node.module.split(".")[0] == "sqlalchemy" or _tables(node.module):
                found.append(f"line {node.lineno}: from {node.module} import …")
            elif node.module == "interop.store" and {"schema", "tables"} & set(names):
                found.append(f"line {node.lineno}: from interop.store import schema/tables")
            elif node.module == "interop.store.schema" and not all(n.isupper() for n in names):
                found.append(f"line {node.lineno}: from interop.store.schema import …")
    return found


def _outside_store() -> dict[str, list[str]]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("store/"):
            continue
        found = sql_imports(path.read_text("utf-8"))
        if found:
            out[rel] = found
    return out


def test_no_sql_outside_store() -> None:
    assert len(list(SRC.rglob("*.py"))) > 50, "the scan must see the package's modules"
    found = _outside_store()
    assert not found, f"SQL outside interop.store (move it into a store module): {found}"


def test_the_scan_sees_every_way_sql_comes_in() -> None:
    sample = (
        "import sqlalchemy as sa\n"
        "from sqlalchemy.engine import make_url\n"
        "from interop.store import schema as t\n"
        "from interop.store.schema import audit_log\n"
        "from interop.store.schema import SCHEMA_VERSION\n"
        "from interop.store.tables.staff import staff\n"
        "import interop.store.tables.privacy\n"
        "if TYPE_CHECKING:\n"
        "    import sqlalchemy\n"
    )
    assert [w.split(":")[0] for w in sql_imports(sample)] == [
        "line 1",
        "line 2",
        "line 3",
        "line 4",
        "line 6",
        "line 7",
        "line 9",
    ]
