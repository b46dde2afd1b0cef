"""The staged pipeline gives the verdicts and stored records of the pipeline it replaces.

Generated lists with bad rows (≈5 %: cut short, bad IDs, unknown codes,
duplicates …) in UTF-8 and GBK, as CSV and XLSX, synced first into an empty
archive and then again with changes, with and without worker processes: the
same counts, the same quarantined rows and reasons, the same issues, the same
archive content.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import gen_child_list
import openpyxl  # type: ignore[import-untyped,unused-ignore]
import pytest
from child_lists import HEADER

from interop.inbound import pipeline
from interop.inbound import run as old_pipeline
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


def _outcome(sync: Any, db: str, path: Path, workers: int) -> dict[str, Any]:
    options = SyncOptions(received=RECEIVED, workers=workers, parallel_min=1, batch_size=97)
    options.part_bytes = 4096  # (many parts, for the workers: ignored by the old pipeline)
    report = sync(path, db, options).to_json()
    with Archive.open(db) as archive:
        quarantined = archive.quarantined(report["run_id"])
        stored = archive.snapshot()
    for key in ("run_id", "layout", "actor"):
        report.pop(key, None)
    # (the old pipeline, in one process, reported a batch's unusable rows before its others)
    report["issues"].sort(key=lambda i: (i["row"], i["code"], i["field"], i["message"]))
    rows = [(q["row"], q["field"], q["code"], q["message"]) for q in quarantined]
    return {"report": report, "quarantine": rows, "archive": stored}


@pytest.mark.parametrize(
    ("suffix", "encoding", "workers"),
    [(".csv", "utf-8-sig", 0), (".csv", "gbk", 2), (".csv", "utf-8", 2), (".xlsx", "", 0)],
)
def test_old_and_new_pipelines_agree(
    tmp_path: Path, suffix: str, encoding: str, workers: int
) -> None:
    first = _write(tmp_path / f"list{suffix}", 600, change=0.0, encoding=encoding, seed=3)
    again = _write(tmp_path / f"again{suffix}", 600, change=0.05, encoding=encoding, seed=3)
    old_db, new_db = (f"sqlite:///{tmp_path / name}" for name in ("old.db", "new.db"))
    for db in (old_db, new_db):
        Archive.create(db).close()
    for path in (first, again, first):
        old = _outcome(old_pipeline.sync_list_file, old_db, path, workers)
        new = _outcome(pipeline.sync_list_file, new_db, path, workers)
        assert new == old
        assert new["report"]["quarantined"] > 0 and new["report"]["rows"] == 600
