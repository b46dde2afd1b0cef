"""Generate a synthetic civil-affairs child list in the default layout (synthetic data only).

    python tools/gen_child_list.py fixtures/lists/civil-affairs-list.csv --rows 300 --bad 0.1

Every resident ID passes the GB 11643 check digit but belongs to no one
(sequence codes are generated). With ``--bad``, that share of rows is made
deliberately bad, cycling through every quarantine kind, plus a
residence outside Jiangxi (a warning, not a quarantine). ``--change`` makes a
variant of the same list with that share of rows changed (for re-sync tests).
The same seed gives the same file.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from interop.core.resident_id import check_character, make

HEADER = [
    "序号", "姓名", "性别", "民族", "身份证号", "出生日期", "户籍地", "常住地址", "监护人姓名",
    "与儿童关系", "监护人电话", "困境类型", "风险等级", "认定日期", "认定单位", "所在学校",
    "就学阶段", "备注",
]  # fmt: skip

DIVISIONS = [
    ("360102", "江西省南昌市东湖区"), ("360111", "江西省南昌市青山湖区"),
    ("360203", "江西省景德镇市珠山区"), ("360302", "江西省萍乡市安源区"),
    ("360402", "江西省九江市濂溪区"), ("360502", "江西省新余市渝水区"),
    ("360602", "江西省鹰潭市月湖区"), ("360702", "江西省赣州市章贡区"),
    ("360802", "江西省吉安市吉州区"), ("360902", "江西省宜春市袁州区"),
    ("361002", "江西省抚州市临川区"), ("361102", "江西省上饶市信州区"),
]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "子涵欣怡梓轩浩宇雨桐宇轩一诺思琪俊杰佳怡晨曦若曦明轩嘉怡博文诗涵天佑梓萱皓轩紫涵铭泽"
ETHNICITIES = ["汉族"] * 18 + ["畲族", "回族", "汉", "01"]
CATEGORIES = ["自身残疾", "家庭经济困难", "缺乏有效监护", "虐待", "遗弃", "意外伤害", "不法侵害"]
RISKS = ["高", "中", "低", "高风险", "中风险", "低风险"]
RELATIONS = [("父亲", 0), ("母亲", 1), ("祖父", 0), ("祖母", 1), ("外祖母", 1)]
ORGS = ["南昌市东湖区民政局", "赣州市章贡区民政局", "九江市濂溪区民政局", "上饶市信州区民政局"]
BAD_KINDS = [
    "check-digit", "id-birth", "id-sex", "age", "unknown-code", "missing", "bad-date",
    "future-date", "duplicate", "short", "outside",
]  # fmt: skip


def _date_text(d: dt.date, style: int) -> str:
    return [
        d.isoformat(),
        f"{d.year}/{d.month}/{d.day}",
        f"{d:%Y%m%d}",
        f"{d.year}年{d.month}月{d.day}日",
    ][style % 4]


def _stage(age: int) -> str:
    if age < 6:
        return "学前"
    if age < 12:
        return "小学"
    if age < 15:
        return "初中"
    return "高中"


def rows(n: int, *, bad: float = 0.0, seed: int = 7, change: float = 0.0) -> Iterator[list[str]]:
    """``n`` data rows (no header). ``change``: share of rows altered (same IDs)."""
    rnd = random.Random(seed)
    chg = random.Random(seed + 1)
    used: set[str] = set()
    bad_every = int(1 / bad) if bad > 0 else 0
    bad_index = 0
    previous_id = ""
    for i in range(1, n + 1):
        div, place = DIVISIONS[rnd.randrange(len(DIVISIONS))]
        birth = dt.date(2008, 1, 1) + dt.timedelta(days=rnd.randrange(12 * 365))
        sex = "1" if rnd.random() < 0.5 else "2"
        seq = rnd.randrange(500)
        rid = make(div, birth, sex, seq)
        while rid in used:
            seq = (seq + 1) % 500
            rid = make(div, birth, sex, seq)
        used.add(rid)
        designation = dt.date(2025, 1, 2) + dt.timedelta(days=rnd.randrange(300))
        age = designation.year - birth.year
        rel, rel_sex = RELATIONS[rnd.randrange(len(RELATIONS))]
        name = SURNAMES[rnd.randrange(len(SURNAMES))] + GIVEN[rnd.randrange(len(GIVEN))]
        guardian = SURNAMES[rnd.randrange(len(SURNAMES))] + "某" + ("男" if rel_sex == 0 else "女")
        cats = rnd.sample(CATEGORIES, 1 + (rnd.random() < 0.2))
        row = [
            str(i),
            name,
            "男" if sex == "1" else "女",
            ETHNICITIES[rnd.randrange(len(ETHNICITIES))],
            rid,
            _date_text(birth, rnd.randrange(4)),
            place,
            place + f"{rnd.randrange(1, 200)}号",
            guardian,
            rel,
            f"1{rnd.choice('3578')}{rnd.randrange(10**9):09d}",
            "、".join(cats),
            RISKS[rnd.randrange(len(RISKS))],
            _date_text(designation, rnd.randrange(4)),
            ORGS[rnd.randrange(len(ORGS))],
            f"{place[6:9]}第{rnd.randrange(1, 30)}{'小学' if age < 12 else '中学'}",
            _stage(age),
            "",
        ]  # fmt: skip
        if change and chg.random() < change:
            row[12] = "高" if row[12] not in ("高", "高风险") else "中"
            row[10] = f"1{chg.choice('3578')}{chg.randrange(10**9):09d}"
        if bad_every and i % bad_every == 0:
            kind = BAD_KINDS[bad_index % len(BAD_KINDS)]
            bad_index += 1
            if kind == "check-digit":
                wrong = "0" if rid[17] != "0" else "1"
                row[4] = rid[:17] + wrong
            elif kind == "id-birth":
                row[5] = (birth + dt.timedelta(days=1)).isoformat()
            elif kind == "id-sex":
                row[2] = "女" if sex == "1" else "男"
            elif kind == "age":
                old = dt.date(2005, 3, 1)
                body = f"{div}{old:%Y%m%d}{seq:03d}"
                row[4] = body + check_character(body)
                row[2] = "男" if int(body[16]) % 2 else "女"
                row[5] = old.isoformat()
            elif kind == "unknown-code":
                row[12] = "很高"
            elif kind == "missing":
                row[1] = ""
            elif kind == "bad-date":
                row[5] = "2012年13月45日"
            elif kind == "future-date":
                row[13] = "2031-01-01"
            elif kind == "duplicate":
                row[4] = previous_id
                row[5] = previous_id[6:10] + "-" + previous_id[10:12] + "-" + previous_id[12:14]
                row[2] = "男" if int(previous_id[16]) % 2 else "女"
            elif kind == "short":
                row = row[:9]
            elif kind == "outside":
                body = f"440106{birth:%Y%m%d}{seq:03d}"
                body = body[:16] + (str(int(body[16]) // 2 * 2 + (1 if sex == "1" else 0)))
                row[4] = body + check_character(body)
                row[6] = "广东省广州市天河区"
                row[7] = "广东省广州市天河区某路1号"
        previous_id = rid
        yield row


def write(path: Path, n: int, *, bad: float, seed: int, change: float, encoding: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HEADER)
        for r in rows(n, bad=bad, seed=seed, change=change):
            w.writerow(r)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--rows", type=int, default=300)
    ap.add_argument("--bad", type=float, default=0.1, help="share of bad rows (0.1 = every 10th)")
    ap.add_argument("--change", type=float, default=0.0, help="share of rows changed")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--encoding", default="utf-8-sig", help="utf-8-sig, utf-8 or gb18030")
    a = ap.parse_args()
    write(a.out, a.rows, bad=a.bad, seed=a.seed, change=a.change, encoding=a.encoding)


if __name__ == "__main__":
    main()
