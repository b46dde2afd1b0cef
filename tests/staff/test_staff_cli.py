"""``interop staff`` end to end: the first administrator on the machine, tokens got with a
password, everyone else added by a signed-in administrator; names masked in text output;
``--lang zh_CN`` messages; identity for ``approve`` from the token, not a typed id."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from interop.cli import main

PW = "first-admin-password"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.delenv("INTEROP_TOKEN", raising=False)
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    assert main(["--db", url, "init"]) == 0  # only init makes an archive
    return ["--db", url]


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def _admin_token(
    db: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    _stdin(monkeypatch, PW + "\n")
    assert (
        main([*db, "staff", "add", "adm", "--name", "王管理", "--admin", "--password-stdin"]) == 0
    )
    _stdin(monkeypatch, PW + "\n")
    assert main([*db, "staff", "token", "issue", "adm"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("itk_")
    return token


def test_admin_adds_people_and_roles_are_enforced(
    db: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = _admin_token(db, monkeypatch, capsys)
    # Without a token nobody may add a person (the first admin exists now).
    assert main([*db, "staff", "add", "s3", "--name", "赵明", "--role", "supervisor"]) == 2
    assert "E813" in capsys.readouterr().err
    monkeypatch.setenv("INTEROP_TOKEN", token)
    # A supervisor without the qualifications 5.2.3 asks is refused.
    assert main([*db, "staff", "add", "s3", "--name", "赵明", "--role", "supervisor"]) == 2
    assert "E804" in capsys.readouterr().err
    add = [*db, "staff", "add", "s3", "--name", "赵明", "--role", "supervisor",
           "--qualification", "sw-mid:2020-01-01:SW-123",
           "--qualification", "supervision-experience:2021-01-01"]  # fmt: skip
    assert main(add) == 0
    out = capsys.readouterr().out
    assert "s3 added: supervisor" in out and "password (shown once):" in out
    password = out.split("password (shown once):")[1].strip()
    assert main([*db, "staff", "list"]) == 0
    listed = capsys.readouterr().out
    assert "赵明" not in listed and "赵*" in listed
    assert main([*db, "staff", "list", "--json"]) == 0
    assert {p["id"] for p in json.loads(capsys.readouterr().out)} == {"adm", "s3"}
    # The supervisor gets a token with their password and may not manage the register.
    _stdin(monkeypatch, password + "\n")
    assert main([*db, "staff", "token", "issue", "s3"]) == 0
    s3_token = capsys.readouterr().out.strip()
    monkeypatch.setenv("INTEROP_TOKEN", s3_token)
    assert main([*db, "staff", "list"]) == 1
    assert "E821" in capsys.readouterr().err
    assert main([*db, "staff", "show", "s3", "--json"]) == 0  # one's own entry
    assert json.loads(capsys.readouterr().out)["roles"] == ["supervisor"]
    # Approving acts for the token's owner: an unknown disclosure is the only problem left.
    assert main([*db, "approve", "D-nope"]) == 2
    assert "E604" in capsys.readouterr().err
    # Deactivated: the token ends with the active period.
    monkeypatch.setenv("INTEROP_TOKEN", token)
    assert main([*db, "staff", "deactivate", "s3"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("INTEROP_TOKEN", s3_token)
    assert main([*db, "approve", "D-nope"]) == 2
    assert "E814" in capsys.readouterr().err


def test_second_admin_refused_and_zh_cn_messages(
    db: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, PW + "\n")
    assert main([*db, "--lang", "zh_CN", "staff", "add", "adm", "--name", "王", "--admin",
                 "--password-stdin"]) == 0  # fmt: skip
    assert "已添加 adm" in capsys.readouterr().out
    _stdin(monkeypatch, PW + "\n")
    assert main([*db, "staff", "add", "adm2", "--name", "李", "--admin", "--password-stdin"]) == 2
    assert "E807" in capsys.readouterr().err
    # Password change: old then new on stdin; a wrong old password changes nothing.
    _stdin(monkeypatch, "wrong-old-password\nnew-password-long\n")
    assert main([*db, "staff", "password", "adm"]) == 2
    _stdin(monkeypatch, f"{PW}\nnew-password-long\n")
    assert main([*db, "staff", "password", "adm"]) == 0
    _stdin(monkeypatch, PW + "\n")
    assert main([*db, "staff", "token", "issue", "adm"]) == 2
    assert "E811" in capsys.readouterr().err
