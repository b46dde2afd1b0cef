"""Statements the list sync runs many times, compiled once per dialect (预编译语句).

A sync writes ~5 rows per child and a re-sync looks up every key of the
list: SQLAlchemy would compile each statement again on every call and walk
every parameter set. Here the SQL text is compiled once per dialect and
statement, and run straight on the driver with plain str/int/bool/None values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

__all__ = ["insert_rows", "run_many", "select_in"]

#: Statements of the sync's hot path, compiled once per dialect: SQL text and, for a
#: positional paramstyle, the parameter names in order.
_COMPILED: dict[tuple[Any, ...], tuple[str, tuple[str, ...] | None]] = {}


def _compiled(
    conn: sa.Connection, key: tuple[Any, ...], build: Callable[[], sa.Insert | sa.Update]
) -> tuple[str, tuple[str, ...] | None]:
    found = _COMPILED.get((conn.dialect.name, *key))
    if found is None:
        c = build().compile(dialect=conn.dialect)
        found = (c.string, tuple(c.positiontup or ()) if c.positional else None)
        _COMPILED[(conn.dialect.name, *key)] = found
    return found


#: Text columns that may be given UTF-8 bytes (the JSON of entries and case records).
_UTF8_COLUMNS = frozenset({"entry", "body"})


def insert_rows(
    conn: sa.Connection, table: sa.Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """executemany straight on the driver: the hot path of a sync writes ~5 rows per child.

    The statement is compiled once per dialect, table and column list; the
    values are plain str/int/bool/None, which every supported driver takes as
    they are (tuples for a positional paramstyle, dicts otherwise). The JSON
    columns (``_UTF8_COLUMNS``) also take UTF-8 bytes: SQLite reads them as
    text with ``CAST(? AS TEXT)`` — no decoding into Python strings and
    encoding back, which costs more than the write itself for a large list;
    other databases get them decoded.
    """
    if not rows:
        return
    sqlite = conn.dialect.name == "sqlite"
    sql, names = _compiled(
        conn,
        ("insert", table.name, columns),
        lambda: table.insert().values(
            {
                col: sa.cast(sa.bindparam(col), sa.Text)
                if sqlite and col in _UTF8_COLUMNS
                else sa.bindparam(col)
                for col in columns
            }
        ),
    )
    order = None if names is None else tuple(columns.index(name) for name in names)
    if not sqlite and not _UTF8_COLUMNS.isdisjoint(columns):
        rows = [tuple(v.decode() if type(v) is bytes else v for v in r) for r in rows]
    params: list[Any]
    if order is None:
        params = [dict(zip(columns, r, strict=True)) for r in rows]
    elif order == tuple(range(len(columns))):
        params = rows
    else:
        params = [tuple(r[i] for i in order) for r in rows]
    conn.exec_driver_sql(sql, params)


def run_many(
    conn: sa.Connection,
    name: str,
    build: Callable[[], sa.Update],
    params: list[dict[str, Any]],
) -> None:
    """executemany of a statement compiled once per dialect (``name`` keys the cache).

    For the sync's per-batch updates: SQLAlchemy would compile the statement
    again on each call of a new run and walk every parameter set; the
    values are plain str/int/bool/None, which the drivers take as they are.
    """
    if not params:
        return
    sql, names = _compiled(conn, (name,), build)
    rows: list[Any] = params if names is None else [tuple(p[n] for n in names) for p in params]
    conn.exec_driver_sql(sql, rows)


_SELECTS: dict[tuple[str, int], str] = {}
#: A key's placeholder in the IN list, by the driver's paramstyle (``i``: 0-based index).
_MARKS = {"qmark": "?", "format": "%s", "numeric": ":{n}", "named": ":k{i}", "pyformat": "%(k{i})s"}
_KEYS = "__[POSTCOMPILE_keys]"  # (how SQLAlchemy writes an expanding parameter)


def select_in(
    conn: sa.Connection,
    stmt: sa.Select[Any],
    keys: Sequence[Any],
    column: sa.ColumnElement[Any],
) -> list[Any]:
    """``stmt WHERE column IN (keys)``: the SQL compiled once per statement, its IN list
    written out for the keys, run on the driver.

    The rows are the driver's own tuples (a re-sync looks up every key of the list).
    """
    if not keys:
        return []
    cache_key = (conn.dialect.name, id(stmt))
    sql = _SELECTS.get(cache_key)
    if sql is None:
        keys_in = column.in_(sa.bindparam("keys", expanding=True, type_=column.type))
        sql = _SELECTS[cache_key] = stmt.where(keys_in).compile(dialect=conn.dialect).string
    style = conn.dialect.paramstyle
    marks = ", ".join(_MARKS[style].format(i=i, n=i + 1) for i in range(len(keys)))
    cursor = conn.connection.cursor()
    try:
        if style in ("qmark", "numeric", "format"):
            cursor.execute(sql.replace(_KEYS, marks), tuple(keys))
        else:
            cursor.execute(sql.replace(_KEYS, marks), {f"k{i}": k for i, k in enumerate(keys)})
        return list(cursor.fetchall())
    finally:
        cursor.close()
