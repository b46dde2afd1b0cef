"""Helpers of the sync tests: synthetic list rows in the default layout."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from interop.core.resident_id import make

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "lists" / "civil-affairs-list.csv"
sys.path.insert(0, str(ROOT / "tools"))

import gen_child_list  # noqa: E402

HEADER = list(gen_child_list.HEADER)
RECEIVED = "2025-12-22"


def good_row(i: int, **over: str) -> dict[str, str]:
    birth = dt.date(2012, 1, 1) + dt.timedelta(days=i)
    sex = "1" if i % 2 else "2"
    row = {
        "序号": str(i),
        "姓名": f"测试{i}",
        "性别": "男" if sex == "1" else "女",
        "民族": "汉族",
        "身份证号": make("360102", birth, sex, i % 500),
        "出生日期": birth.isoformat(),
        "户籍地": "江西省南昌市东湖区",
        "常住地址": "江西省南昌市东湖区某路1号",
        "监护人姓名": f"监护{i}",
        "与儿童关系": "母亲",
        "监护人电话": "13800000000",
        "困境类型": "自身残疾",
        "风险等级": "高",
        "认定日期": "2025-06-01",
        "认定单位": "南昌市东湖区民政局",
        "所在学校": "东湖区第1中学",
        "就学阶段": "初中",
        "备注": "",
    }
    row.update(over)
    return row


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    *,
    encoding: str = "utf-8",
    header: list[str] | None = None,
) -> Path:
    header = header or HEADER
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow([r.get(h, "") for h in header])
    return path


def run_cli(*argv: str, on: str | None = None) -> tuple[int, Any]:
    """Run ``interop`` in-process; returns (exit code, parsed JSON of stdout when --json).

    The archive of ``--db`` is created first (``interop init``): only init creates one.
    ``on``: the settings' clock at noon of that day (China time), else the system clock.
    """
    import datetime as dt
    import io
    import json
    from contextlib import redirect_stdout

    from interop.cli import main
    from interop.clock import FixedClock

    if "--db" in argv:
        init_archive(argv[argv.index("--db") + 1])

    buf = io.StringIO()
    with redirect_stdout(buf):
        clock = FixedClock(dt.datetime.fromisoformat(f"{on}T12:00:00+08:00")) if on else None
        code = main(list(argv), clock=clock)
    out = buf.getvalue()
    return code, (json.loads(out) if "--json" in argv and out.strip() else out)


def init_archive(url: str) -> str:
    """``url``, with an archive there (created when there is none, as ``interop init`` does)."""
    from interop.store import Archive

    with Archive.create(url):
        pass
    return url
