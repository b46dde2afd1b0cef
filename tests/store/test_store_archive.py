"""The archive store on SQLite and PostgreSQL: schema versions, case-record versions."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from interop.settings import Settings
from interop.store import Archive, StoreError, resolve_url
from interop.store import schema as t
from interop.store.migrations import MIGRATIONS


def _record(number: str = "ORG-2025-00001", risk: str = "high") -> dict[str, Any]:
    return {
        "format_version": "1.0",
        "case": {
            "case_number": number,
            "state": "listed",
            "risk_level": risk,
            "contractor": "contractor",
        },
        "child": {"name": "测试", "sex": "1", "ethnicity": "01", "birth_date": "2012-01-01"},
        "organisations": [{"id": "contractor", "kind": "contractor", "name": "承接机构"}],
    }


def test_creates_schema_and_reopens(db_url: str) -> None:
    with Archive.create(db_url) as a:
        with a.engine.connect() as conn:
            version = conn.execute(
                sa.select(t.meta.c.value).where(t.meta.c.key == "schema_version")
            ).scalar_one()
        assert version == str(t.SCHEMA_VERSION)
    with Archive.create(db_url) as a:  # second open: nothing to create, nothing refused
        assert a.waiting_cases() == []


def _set_version(db_url: str, value: str) -> None:
    with Archive.create(db_url) as a, a.engine.begin() as conn:
        conn.execute(t.meta.update().where(t.meta.c.key == "schema_version").values(value=value))


def test_newer_schema_is_refused(db_url: str) -> None:
    _set_version(db_url, str(t.SCHEMA_VERSION + 1))
    with pytest.raises(StoreError) as err:
        Archive.create(db_url)
    assert err.value.code == "E505"
    assert "upgrade interop" in err.value.message


def test_older_schema_without_migration_is_refused(db_url: str) -> None:
    _set_version(db_url, "0")
    with pytest.raises(StoreError) as err:
        Archive.create(db_url)
    assert err.value.code == "E506"
    assert "no migration" in err.value.message


def test_older_schema_is_migrated(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _set_version(db_url, "0")
    calls: list[int] = []
    monkeypatch.setitem(MIGRATIONS, 0, lambda conn: calls.append(0))
    with Archive.create(db_url):
        pass
    assert calls == [0]
    with Archive.create(db_url):  # now current: the step does not run again
        pass
    assert calls == [0]


def test_foreign_tables_are_refused(db_url: str) -> None:
    engine = sa.create_engine(resolve_url(db_url))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE children (x INTEGER)"))
    engine.dispose()
    with pytest.raises(StoreError) as err:
        Archive.create(db_url)
    assert err.value.code == "E503"


def test_unreachable_postgresql_is_a_store_error() -> None:
    with pytest.raises(StoreError) as err:
        Archive.create("postgresql://nobody:secret@127.0.0.1:1/none")
    assert err.value.exit_code == 1
    assert "secret" not in str(err.value)


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(StoreError):
        Archive.create("mysql://x@localhost/db")


def test_url_resolution(tmp_path: Path) -> None:
    settings = Settings.build(environ={"XDG_DATA_HOME": str(tmp_path)})
    assert settings.archive_url() == f"sqlite:///{tmp_path / 'interop' / 'archive.sqlite3'}"
    environ = {"XDG_DATA_HOME": str(tmp_path), "INTEROP_DB": "postgresql://u@h/db"}
    assert Settings.build(environ=environ).archive_url() == "postgresql+psycopg://u@h/db"
    assert Settings.build(db="x.db", environ=environ).db == "x.db"  # the flag wins
    assert resolve_url(str(tmp_path / "a.db")) == f"sqlite:///{tmp_path / 'a.db'}"
    assert resolve_url(None, data_dir=tmp_path) == f"sqlite:///{tmp_path / 'archive.sqlite3'}"


def test_import_versions_and_never_overwrites(db_url: str) -> None:
    with Archive.create(db_url) as a:
        kw: dict[str, Any] = dict(
            state="listed",
            risk_level="high",
            resident_id=None,
            deadline=("DL-03", "2025-12-22", "2025-12-29", False),
            received="2025-12-22",
        )
        rec = _record()
        assert a.import_record("ORG-2025-00001", rec, **kw) == "new"
        assert a.import_record("ORG-2025-00001", copy.deepcopy(rec), **kw) == "unchanged"
        rec2 = copy.deepcopy(rec)
        rec2["case"]["state"] = "intake"
        assert a.import_record("ORG-2025-00001", rec2, **{**kw, "state": "intake"}) == "changed"
        versions = a.case_versions("ORG-2025-00001")
        assert [v["version"] for v in versions] == [1, 2]
        assert versions[0]["body"]["case"]["state"] == "listed"  # first version kept
        assert a.waiting_cases() == []  # no longer waiting


def test_case_number_filled_into_record_text() -> None:
    from interop.store.archive import dumpb, with_case_number

    rec = _record(number="")
    rec["child"]["name"] = '"case_number":""'  # inside a string: escaped, never replaced
    filled = with_case_number(dumpb(rec), 'ORG-2025-"7"')
    rec["case"]["case_number"] = 'ORG-2025-"7"'
    assert filled == dumpb(rec)
    with pytest.raises(ValueError):
        with_case_number(dumpb(rec), "X")


def test_listed_digests_of_every_child_by_match_key(db_url: str) -> None:
    """One read of every child's id by match key, and each listed child's by raw digest —
    the JSON arrays read on SQLite give what the plain rows give, whatever a key holds; a
    digest two listed children share is no one's."""
    keys = ["k:360502201105200491", 'a:张三|"引号"\\', "a:line\nbreak", "a:\u0001\u001f", "k:"]
    rows = [
        {
            "id": i + 1,
            "match_key": key,
            "resident_id": None,
            "case_number": f"ORG-2025-{i + 1:05d}",
            "status": "delisted" if i % 2 else "listed",
            "version": 1,
            "raw_digest": f"{i:032x}",
            "entry_digest": "0" * 32,
            "first_run": "r",
            "changed_run": "r",
        }
        for i, key in enumerate(keys)
    ]
    rows.append(dict(rows[0], id=9, match_key="k:other", case_number="ORG-2025-00009"))
    rows.append(dict(rows[2], id=10, match_key="k:third", case_number="ORG-2025-00010"))
    rows[-1]["raw_digest"] = "f" * 32
    with Archive.create(db_url) as a:
        assert a.listed_digests() == ({}, {})
        with a.engine.begin() as conn:
            conn.execute(t.children.insert(), rows)
        by_key, by_digest = a.listed_digests()
    assert by_key == {r["match_key"]: r["id"] for r in rows}
    # rows 0 and 9 share a digest; 1 and 3 are delisted
    assert by_digest == {f"{2:032x}": 3, f"{4:032x}": 5, "f" * 32: 10}


def test_v3_archive_gets_the_partial_resident_id_index(db_url: str) -> None:
    """Schema 4: children are found by resident ID through their match key where it says
    the ID; only the others are in the resident-ID index (a first sync keeps one fewer)."""
    with Archive.create(db_url) as a, a.engine.begin() as conn:  # as version 3 left it
        conn.execute(sa.text("DROP INDEX ix_children_resident_id_off_key"))
        conn.execute(sa.text("CREATE INDEX ix_children_resident_id ON children (resident_id)"))
        conn.execute(t.meta.update().where(t.meta.c.key == "schema_version").values(value="3"))
    with Archive.create(db_url) as a:
        names = {ix["name"] for ix in sa.inspect(a.engine).get_indexes("children")}
        assert "ix_children_resident_id_off_key" in names
        assert "ix_children_resident_id" not in names
        rid, other = "360502201105200491", "360502201105200505"
        base = {"status": "listed", "version": 1, "raw_digest": "0" * 32}
        base |= {"entry_digest": "0" * 32, "first_run": "r", "changed_run": "r"}
        with a.engine.begin() as conn:
            conn.execute(
                t.children.insert(),
                [
                    {
                        "id": 1,
                        "match_key": f"k:{rid}",
                        "resident_id": rid,
                        "case_number": "ORG-2025-00001",
                        **base,
                    },
                    {
                        "id": 2,
                        "match_key": "a:张三|2011-05-20",
                        "resident_id": other,
                        "case_number": "ORG-2025-00002",
                        **base,
                    },
                ],
            )
        kw: dict[str, Any] = {"state": "listed", "risk_level": "high", "deadline": None}
        for number, resident in (("ORG-2025-00003", rid), ("ORG-2025-00004", other)):
            a.import_record(number, _record(number), resident_id=resident, received=None, **kw)
        with a.engine.connect() as conn:
            linked = dict(conn.execute(sa.select(t.cases.c.case_number, t.cases.c.child_id)).all())
            assert linked == {"ORG-2025-00003": 1, "ORG-2025-00004": 2}
            nobody = "110101201001010013"
            a.import_record(
                "ORG-2025-00005", _record("ORG-2025-00005"), resident_id=nobody, received=None, **kw
            )
            assert (
                conn.execute(
                    sa.select(t.cases.c.child_id).where(t.cases.c.case_number == "ORG-2025-00005")
                ).scalar_one()
                is None
            )
            if db_url.startswith("sqlite"):
                plan = " ".join(
                    str(r[-1])
                    for r in conn.exec_driver_sql(
                        "EXPLAIN QUERY PLAN SELECT id FROM children WHERE resident_id = ? "
                        "AND match_key != ('k:' || resident_id)",
                        (other,),
                    )
                )
                assert "ix_children_resident_id_off_key" in plan


def test_merging_list_fields_leaves_the_stored_record_as_it_was() -> None:
    from interop.store.archive import merge_list_fields

    body = _record()
    body["adults"] = [
        {"id": "guardian-list", "name": "旧", "roles": ["guardian"]},
        {"id": "a2", "name": "社工记录的成人", "roles": ["carer"]},
    ]
    before = copy.deepcopy(body)
    merge = {
        "child": {"name": "新名"},
        "case": {"risk_level": "low"},
        "adults": [{"id": "guardian-list", "name": "新", "roles": ["guardian"]}],
        "organisations": [{"id": "contractor", "kind": "contractor", "name": "新机构"}],
    }
    out = merge_list_fields(body, merge)
    assert body == before
    assert out["child"] == {**before["child"], "name": "新名"}
    assert out["case"] == {**before["case"], "risk_level": "low"}
    assert [a["name"] for a in out["adults"]] == ["社工记录的成人", "新"]
    assert out["organisations"] == merge["organisations"]
