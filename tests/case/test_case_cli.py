"""``interop case``, ``cases due`` and ``report`` end to end on a real archive.

One case is walked from listed to closed with the bundled forms (the README's
walk), on SQLite and PostgreSQL; refusals exit 1 and write nothing; every step is
a new version; an imported record whose state contradicts its content is stored
with the issue shown; the caseload limit counts the organisation's cases.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from case_support import FORMS, LISTED, LISTED_CASE, Cli, doc

from interop.store import Archive

A, B, C, D = (
    str(FORMS / n) for n in ("annex-a.toml", "annex-b.json", "session.toml", "annex-d.toml")
)
PERSONAL = ("冯悦心", "方英芳", "13800003547", "360402201212196920", "梧桐里")


def walk_to_service(cli: Cli, case: str = LISTED_CASE) -> None:
    """listed → in service with 4 weekly sessions and the mid-term evaluation done."""
    steps: list[tuple[str, ...]] = [
        ("staff-01", "case", "intake", case, "--date", "2026-02-14"),
        ("staff-01", "case", "assess", case, "--form", A),
        ("staff-03", "case", "review", case, "--date", "2026-02-20"),
        ("staff-01", "case", "agreement", case, "--date", "2026-02-24", "--end", "2026-12-31"),
        ("staff-01", "case", "plan", case, "--form", B),
    ]
    for day in ("2026-03-04", "2026-03-11", "2026-03-18", "2026-03-25"):
        steps.append(
            ("staff-01", "case", "session", case, "--form", C,
             "--start", f"{day}T14:30:00+08:00", "--end", f"{day}T16:00:00+08:00")
        )  # fmt: skip
    steps.append(
        ("staff-03", "case", "midterm", case, "--date", "2026-03-27",
         "--outcome", "continue", "--effect", "焦虑减轻")
    )  # fmt: skip
    cli.on("2026-03-27")
    for who, *args in steps:
        code, _, err = cli.as_(who)(*args)
        assert code == 0, (args, err)
    cli.as_("staff-01")


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    c = Cli(db_url, capsys, monkeypatch)
    assert c("import", str(LISTED))[0] == 0
    return c


def test_walk_listed_to_closed(cli: Cli) -> None:
    walk_to_service(cli)
    show = cli.on("2026-03-28").json("case", "show", LISTED_CASE)
    assert show["state"] == "in-service" and show["sessions"]["finished"] == 4
    assert [m["outcome"] for m in show["midterms"]] == ["continue"]
    assert {d["rule"] for d in show["deadlines"]} >= {"DL-11", "DL-13", "DL-14"}
    steps = [s["transitions"] for s in show["steps"]]
    assert ["T-08", "T-09"] in steps and ["T-11", "T-12"] in steps
    code, out, err = cli("case", "close", LISTED_CASE, "--reason", "goals-achieved", "--form", D)
    assert code == 0, err
    assert "in-service → closed (T-16, T-17)" in out
    show = cli.json("case", "show", LISTED_CASE)
    assert show["state"] == "closed" and show["closure_reason"] == "goals-achieved"
    code, text, _ = cli("case", "show", LISTED_CASE)
    assert "state     closed (已结案)" in text
    for word in PERSONAL:
        assert word not in text and word not in json.dumps(show, ensure_ascii=False)
    with Archive.open(cli.db) as a:
        versions = a.case_versions(LISTED_CASE)
    assert [v["version"] for v in versions] == list(range(1, 13))
    assert versions[0]["body"]["case"]["state"] == "listed"  # nothing overwritten (9.4.3)
    assert [v["body"]["case"]["state"] for v in versions][-1] == "closed"


def test_refused_steps_exit_1_name_rule_and_write_nothing(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("case", "session", LISTED_CASE, "--form", C)
    assert code == 1 and "[E250]" in err and "in state listed" in err and "T-10" in err
    assert cli("case", "intake", LISTED_CASE, "--date", "2026-02-14")[0] == 0
    form = _toml(A)
    del form["worker_confirmation"]
    path = tmp_path / "annex-a.json"
    path.write_text(json.dumps(form, ensure_ascii=False), "utf-8")
    code, _, err = cli("case", "assess", LISTED_CASE, "--form", str(path))
    assert code == 1 and "[E251]" in err and "R-A-03" in err and "worker_confirmation" in err
    assert "Traceback" not in err
    with Archive.open(cli.db) as a:
        assert len(a.case_versions(LISTED_CASE)) == 2


def _toml(path: str) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(Path(path).read_text("utf-8"))


def test_an_invalid_form_exits_2_naming_the_field(cli: Cli, tmp_path: Path) -> None:
    cli("case", "intake", LISTED_CASE, "--date", "2026-02-14")
    form = _toml(A)
    form["risk_level"] = 3
    form.pop("family_situation")
    path = tmp_path / "a.json"
    path.write_text(json.dumps(form, ensure_ascii=False), "utf-8")
    code, _, err = cli("case", "assess", LISTED_CASE, "--form", str(path))
    assert code == 2 and "[E252]" in err and "family_situation" in err and "risk_level" in err
    broken = tmp_path / "b.toml"
    broken.write_text("risk_level = [", "utf-8")
    assert cli("case", "assess", LISTED_CASE, "--form", str(broken))[0] == 2
    assert cli("case", "show", "NO-SUCH-CASE")[0] == 1  # a worker: not their case (E822)
    assert cli.as_("staff-03")("case", "show", "NO-SUCH-CASE")[0] == 2  # E253


def test_warnings_record_the_step_and_show(cli: Cli) -> None:
    walk_to_service(cli)
    code, _, err = cli(
        "case", "session", LISTED_CASE, "--form", C,
        "--start", "2026-04-01T14:30:00+08:00", "--end", "2026-04-01T14:30:00+08:00",
    )  # fmt: skip
    assert code == 1 and "R-9.2-05" in err  # 0 minutes: end not after start (blocks)
    code, _, err = cli(
        "case", "session", LISTED_CASE, "--form", C,
        "--start", "2026-04-01T14:30:00+08:00", "--end", "2026-04-01T14:40:00+08:00",
    )  # fmt: skip
    assert code == 0 and "CL-05" in err and "10 minutes" in err and "open until" in err
    show = cli.json("case", "show", LISTED_CASE)
    assert "CL-05" in {i["rule"] for i in show["issues"]}
    warned = [w for w in show["warnings"] if w["rule"] == "CL-05"]
    assert warned and all(w["open"] and w["author"] == "staff-01" for w in warned)
    due = cli.json("cases", "due", "--rule", "sign-off")
    assert {i["warning"] for i in due} >= {w["id"] for w in warned}


def test_a_supervisor_not_the_author_signs_warnings_off(cli: Cli) -> None:
    """Sign-off: by a supervisor, never the step's author (four eyes), with a reason."""
    walk_to_service(cli)
    session = ("case", "session", LISTED_CASE, "--form", C)
    cli("case", "session", LISTED_CASE, "--form", C,
        "--start", "2026-04-01T14:30:00+08:00", "--end", "2026-04-01T14:40:00+08:00")  # fmt: skip
    cli.as_("staff-03")(*session,
        "--start", "2026-04-08T14:30:00+08:00", "--end", "2026-04-08T14:40:00+08:00")  # fmt: skip
    warned = {w["author"]: w["id"] for w in cli.json("case", "show", LISTED_CASE)["warnings"]}
    mine, theirs = warned["staff-03"], warned["staff-01"]
    code, _, err = cli.as_("staff-01")("case", "signoff", LISTED_CASE, "--reason", "ok")
    assert code == 1 and "[E821]" in err  # a worker may not sign off
    code, _, err = cli.as_("staff-03")("case", "signoff", LISTED_CASE, "--reason", "ok")
    assert code == 1 and "[E261]" in err and str(mine) in err  # their own step's warning
    assert cli("case", "signoff", LISTED_CASE, str(theirs), "--reason", " ")[0] == 2  # E263
    assert cli("case", "signoff", LISTED_CASE, "99999", "--reason", "ok")[0] == 2  # E262
    code, out, err = cli(
        "case", "signoff", LISTED_CASE, str(theirs), "--reason", "短会谈：孩子身体不适"
    )
    assert code == 0 and f"#{theirs}" in out and "staff-03" in out, err
    show = cli.json("case", "show", LISTED_CASE)
    done = next(w for w in show["warnings"] if w["id"] == theirs)
    assert done["signed_off"]["by"] == "staff-03" and done["signed_off"]["reason"]
    assert next(w for w in show["warnings"] if w["id"] == mine)["open"]
    assert "signed off by staff-03" in cli("case", "show", LISTED_CASE)[1]
    due = {i["warning"] for i in cli.json("cases", "due", "--rule", "sign-off")}
    assert theirs not in due and mine in due
    with Archive.open(cli.db) as a, a.engine.connect() as conn:
        from interop.privacy import audit

        rows = audit.rows(conn, case_number=LISTED_CASE)
    actors = {(r.action, r.actor) for r in rows}
    assert ("case-signoff", "staff-03") in actors and ("case-intake", "staff-01") in actors
    assert ("case-review", "staff-03") in actors


def test_imported_record_contradicting_its_state_is_stored_with_the_issue(
    cli: Cli, tmp_path: Path
) -> None:
    """§3.1: an intake-only case relabelled closed is stored, the issue recorded and shown."""
    d = copy.deepcopy(doc("06-listed-intake-only.json"))
    d["case"]["state"] = "closed"
    path = tmp_path / "relabelled.json"
    path.write_text(json.dumps(d, ensure_ascii=False), "utf-8")
    code, _, err = cli("import", str(path))
    assert code == 0 and "R-7.5.1-01" in err and "closed without Annex D" in err
    show = cli.json("case", "show", d["case"]["case_number"])
    assert "R-7.5.1-01" in {i["rule"] for i in show["issues"]}
    assert [s["action"] for s in show["steps"]] == ["import"]


def test_caseload_counts_the_organisation_cl04(cli: Cli, tmp_path: Path) -> None:
    """CL-04: 8 open cases of staff-01 on other records block a 9th at intake."""
    base = doc("01-medium-in-service.json")
    files = []
    for i in range(8):
        d = copy.deepcopy(base)
        d["case"]["case_number"] = f"JX0101-2025-{i + 500:05d}"
        d["child"].pop("resident_id", None)
        p = tmp_path / f"c{i}.json"
        p.write_text(json.dumps(d, ensure_ascii=False), "utf-8")
        files.append(str(p))
    assert cli("import", *files)[0] == 0
    code, _, err = cli("case", "intake", LISTED_CASE, "--date", "2026-02-14")
    assert code == 1 and "CL-04" in err and "8 open cases" in err
    assert cli.as_("staff-02")("case", "intake", LISTED_CASE, "--date", "2026-02-14")[0] == 0


def test_cases_due_filters_and_json(cli: Cli) -> None:
    walk_to_service(cli)
    cli.on("2026-04-10")
    items = cli.json("cases", "due")
    mine = [i for i in items if i["case"] == LISTED_CASE]
    assert {"DL-11", "DL-13", "DL-14"} <= {i["rule"] for i in mine}
    gap = next(i for i in mine if i["rule"] == "DL-11")
    assert (
        gap["overdue"] is True and gap["deadline"] == "2026-04-01" and gap["worker"] == "staff-01"
    )
    assert {i["rule"] for i in cli.json("cases", "due", "--rule", "DL-11")} == {"DL-11"}
    assert cli.json("cases", "due", "--worker", "staff-09") == []
    assert cli.json("cases", "due", "--risk", "high") == []
    code, text, _ = cli("cases", "due")
    assert code == 0 and "OVERDUE" in text and "DL-11" in text


def test_report_csv_json_xlsx_without_personal_data(cli: Cli, tmp_path: Path) -> None:
    walk_to_service(cli)
    cli("case", "close", LISTED_CASE, "--reason", "goals-achieved", "--form", D)
    code, out, _ = cli("report", "--from", "2026-01-01", "--to", "2026-12-31")
    assert code == 0
    rows = {(r["section"], r["item"]): r["value"] for r in csv.DictReader(io.StringIO(out))}
    assert rows[("sessions", "attended")] == "4"
    assert rows[("sessions by location", "office")] == "4"  # the share at home (R-7.3-13)
    assert rows[("closures by reason", "goals-achieved")] == "1"
    assert rows[("rates", "plan completion rate (完成率)")] == "0.5"
    code, out, _ = cli("report", "--from", "2026-01-01", "--to", "2026-12-31", "--format", "json")
    data = json.loads(out)
    assert data["from"] == "2026-01-01" and data["rows"]
    xlsx = tmp_path / "r.xlsx"
    assert (
        cli(
            "report",
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-31",
            "--format",
            "xlsx",
            "--out",
            str(xlsx),
        )[0]
        == 0
    )
    from openpyxl import load_workbook  # type: ignore[import-untyped,unused-ignore]

    sheet = load_workbook(xlsx).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row]
    for word in (*PERSONAL, LISTED_CASE):
        assert word not in out and word not in " ".join(cells)
    assert cli("report", "--from", "2026-02-01", "--to", "2026-01-01")[0] == 2


def test_normal_result_closes_before_service(cli: Cli) -> None:
    """R-6.1.1-03: `case close CASE --reason normal` needs the help resources given."""
    cli("case", "intake", LISTED_CASE, "--date", "2026-02-14")
    code, _, err = cli("case", "close", LISTED_CASE, "--reason", "normal", "--date", "2026-02-16")
    assert code == 1 and "R-6.1.1-03" in err
    code, out, _ = cli(
        "case",
        "close",
        LISTED_CASE,
        "--reason",
        "normal",
        "--date",
        "2026-02-16",
        "--resources-given",
    )
    assert code == 0 and "intake → not-accepted (T-03)" in out


def test_a_listed_child_without_staff_takes_the_worker_from_the_staff_list(
    cli: Cli, tmp_path: Path
) -> None:
    """A synced list entry has no staff: the signed-in worker joins it from the register,
    `--staff-file` brings the organisation's other staff (the supervisor)."""
    d = copy.deepcopy(doc("listed.json"))
    d["case"]["case_number"] = "JX0409-2026-00107"
    staff = d["staff"]
    d["staff"] = []
    d["case"].pop("supervisor")
    d["child"].pop("resident_id")
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(d, ensure_ascii=False), "utf-8")
    assert cli("import", str(path))[0] == 0
    args = ("case", "intake", "JX0409-2026-00107", "--date", "2026-02-14")
    register = tmp_path / "staff.toml"
    register.write_text(
        "".join(
            f'[[staff]]\nid = "{x["id"]}"\nname = "{x["name"]}"\nrole = "{x["role"]}"\n'
            f'organisation = "{x["organisation"]}"\n'
            f"qualifications = {json.dumps(x['qualifications'])}\n\n"
            for x in staff
        ),
        "utf-8",
    )
    bad = tmp_path / "staff.json"
    bad.write_text(json.dumps({"staff": [{"id": "x"}]}), "utf-8")
    assert cli(*args, "--staff-file", str(bad))[0] == 2
    code, _, err = cli(*args, "--staff-file", str(register))
    assert code == 0, err
    show = cli.json("case", "show", "JX0409-2026-00107")
    assert show["staff"]["care_manager"] == "staff-01" and show["state"] == "intake"
    with Archive.open(cli.db) as a:
        staff_of = a.case_versions("JX0409-2026-00107")[-1]["body"]["staff"]
    mine = next(x for x in staff_of if x["id"] == "staff-01")
    assert mine["name"] == "测试人员" and mine["qualifications"] == ["sw"]  # the register's
    assert "staff-03" in {x["id"] for x in staff_of}
    # a worker of the register who is not staff of the case
    code, _, err = cli.as_("outsider")("case", "show", "JX0409-2026-00107")
    assert code == 1 and "[E822]" in err


def test_stored_deadlines_equal_the_ones_worked_out_now(cli: Cli) -> None:
    """`cases due` reads each version's own deadlines stored with it; a case without
    them (an archive migrated from schema 4) has them worked out from its record: the
    same list either way."""
    import datetime as dt

    from interop.casework.due import DueFilter, due_items
    from interop.core.workdays import CHINA_TZ, WorkCalendar
    from interop.store import schema as t

    walk_to_service(cli)
    now = dt.datetime(2026, 4, 10, 12, tzinfo=CHINA_TZ)
    cal = WorkCalendar.load()
    with Archive.open(cli.db) as a:
        stored = due_items(a, now, cal, DueFilter())
        with a.engine.begin() as conn:
            conn.execute(t.case_work.update().values(due=None, due_version=None))
        live = due_items(a, now, cal, DueFilter())
    assert stored == live and {i["rule"] for i in stored} >= {"DL-11", "DL-13", "DL-14"}


def test_unusable_step_input_exits_2_with_its_code(cli: Cli) -> None:
    walk_to_service(cli)
    code, _, err = cli("case", "close", LISTED_CASE, "--reason", "goals-achieved")
    assert code == 2 and "[E255]" in err and "--form" in err
    code, _, err = cli("case", "crisis", LISTED_CASE, "--resolve", "--carer", "adult-01")
    assert code == 2 and "[E254]" in err
    code, _, err = cli.as_("staff-03")("case", "midterm", LISTED_CASE, "--date", "2026-03-30")
    assert code == 2 and "[E252]" in err and "--outcome" in err
    code, _, err = cli("case", "session", LISTED_CASE, "--form", C, "--start", "soon")
    assert code == 2 and "[E252]" in err
    assert "Traceback" not in err


def test_people_a_step_names_are_register_ids_checked(cli: Cli) -> None:
    """E260: the new care manager of a transfer, who detected a crisis, a session's second
    worker are active people of the register in a fitting role; a worker who is not staff
    of the case records nothing on it (E822)."""
    walk_to_service(cli)
    transfer = ("case", "transfer", LISTED_CASE, "--date", "2026-04-01", "--reason", "调岗")
    for who in ("nobody", "view-01"):  # not in the register; a viewer is not a worker
        code, _, err = cli(*transfer, "--to", who, "--agreed-by", "child")
        assert code == 2 and "[E260]" in err and who in err
    code, _, err = cli(
        "case", "crisis", LISTED_CASE, "--type", "life-self",
        "--detected-at", "2026-03-30T09:00", "--by", "ghost",
    )  # fmt: skip
    assert code == 2 and "[E260]" in err and "ghost" in err
    code, _, err = cli.as_("outsider")(*transfer, "--to", "outsider", "--agreed-by", "child")
    assert code == 1 and "[E822]" in err
    code, _, err = cli.as_("staff-01")(*transfer, "--to", "staff-02", "--agreed-by", "child")
    assert code == 0, err
    assert cli.json("case", "show", LISTED_CASE)["staff"]["care_manager"] == "staff-02"


def test_intake_by_the_worker_or_assigned_by_a_supervisor(cli: Cli) -> None:
    """接案 (T-02): the signed-in worker takes the case, or a supervisor or the lead gives it
    to a worker of the register; a worker gives nobody else a case."""
    intake = ("case", "intake", LISTED_CASE, "--date", "2026-02-14")
    code, _, err = cli.as_("staff-01")(*intake, "--to", "staff-02")
    assert code == 1 and "[E821]" in err
    code, _, err = cli.as_("staff-03")(*intake)
    assert code == 2 and "[E260]" in err  # a supervisor carries no case
    code, _, err = cli(*intake, "--to", "view-01")
    assert code == 2 and "[E260]" in err and "view-01" in err
    code, _, err = cli(*intake, "--to", "staff-02")
    assert code == 0, err
    show = cli.json("case", "show", LISTED_CASE)
    assert show["staff"]["care_manager"] == "staff-02" and show["state"] == "intake"
