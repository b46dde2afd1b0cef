"""One list, however it is written and wherever it is read, gives one outcome.

Generated lists with bad rows (≈5 %: cut short, bad IDs, unknown codes,
duplicates …) in UTF-8 and GBK CSV and in XLSX, synced first into an empty
archive and then again with changes, in one process and by worker processes
reading many small parts: the same counts, the same quarantined rows and
reasons, the same issues, the same archive content. (The staged pipeline was
first checked this way against the one it replaced, on the same lists.)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import gen_child_list
import openpyxl  # type: ignore[import-untyped,unused-ignore]
from child_lists import HEADER

from interop.inbound import run
from interop.inbound.prepare import SyncOptions
from interop.store import Archive

RECEIVED = dt.date(2025, 12, 22)


def _write(path: Path, rows: int, *, change: float, encoding: str, seed: int) -> Path:
    if path.suffix == ".csv":
        gen_child_list.write(path, rows, bad=0.05, seed=seed, change=change, encoding=encoding)
        return path
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for cells in gen_child_list.rows(rows, bad=0.05, seed=seed, change=change):
        sheet.append(cells)
    book.save(path)
    return path


def _outcome(db: str, path: Path, workers: int) -> dict[str, Any]:
    options = SyncOptions(received=RECEIVED, workers=workers, parallel_min=1, batch_size=97)
    options.part_bytes = 4096  # (many parts, for the workers)
    report = run.sync_list_file(path, db, options).to_json()
    with Archive.open(db) as archive:
        quarantined = archive.quarantined(report["run_id"])
        stored = archive.snapshot()
    for key in ("run_id", "layout", "source"):
        report.pop(key)
    rows = [(q["row"], q["field"], q["code"], q["message"]) for q in quarantined]
    return {"report": report, "quarantine": rows, "archive": stored}


WAYS = [(".csv", "utf-8-sig", 0), (".csv", "gbk", 2), (".csv", "utf-8", 2), (".xlsx", "", 0)]


def test_every_way_of_writing_and_reading_a_list_agrees(tmp_path: Path) -> None:
    outcomes: list[list[dict[str, Any]]] = []
    for n, (suffix, encoding, workers) in enumerate(WAYS):
        first = _write(tmp_path / f"list{n}{suffix}", 600, change=0.0, encoding=encoding, seed=3)
        again = _write(tmp_path / f"again{n}{suffix}", 600, change=0.05, encoding=encoding, seed=3)
        db = f"sqlite:///{tmp_path / f'{n}.db'}"
        Archive.create(db).close()
        outcomes.append([_outcome(db, path, workers) for path in (first, again, first)])
    for found in outcomes[1:3]:  # the CSV lists
        assert found == outcomes[0]
    for xlsx, csv in zip(outcomes[3], outcomes[0], strict=True):
        # (a row cut short in a CSV file is a row of empty cells in a workbook: the same rows
        # are quarantined, for what is missing)
        assert xlsx["archive"] == csv["archive"]
        assert {q[0] for q in xlsx["quarantine"]} == {q[0] for q in csv["quarantine"]}
        for key in ("rows", "new", "changed", "unchanged", "quarantined", "changes"):
            assert xlsx["report"][key] == csv["report"][key]
    first, again, back = outcomes[0]
    assert first["report"]["quarantined"] > 0 and first["report"]["new"] > 500
    assert again["report"]["changed"] > 0 and back["report"]["changed"] > 0
