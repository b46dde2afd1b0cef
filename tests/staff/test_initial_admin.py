"""The first sign-in on any clone: ``interop init --admin`` makes the first administrator
with a generated password in a file beside the archive (mode 0600, never printed); another
clone on the machine (same archive) finds the same file; the file is gone once that person
sets a password of their own. ``scripts/console.sh`` signs in with it, on a fresh machine
and on one that already has the archive."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from interop.cli import main
from interop.staff.accounts import Accounts, create_first_admin
from interop.staff.register import Register
from interop.store import Archive

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("INTEROP_TOKEN", raising=False)
    return f"sqlite:///{tmp_path / 'data' / 'archive.sqlite3'}"


def _init(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, str], str]:
    assert main(["--db", url, "init", "--admin", "--json"]) == 0
    out = capsys.readouterr().out
    return json.loads(out)["admin"], out


def test_first_admin_password_file_beside_the_archive(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    admin, out = _init(url, capsys)
    file = tmp_path / "data" / "archive.sqlite3.initialAdminPassword"
    assert admin == {"state": "created", "staff_id": "admin", "password_file": str(file)}
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    password = file.read_text().strip()
    assert len(password) >= 16 and password not in out
    with Archive.open(url) as archive:
        person = Accounts(archive).authenticate("admin", password)
        assert person.roles == {"admin", "org-lead"}
    # Another clone on the machine: the same archive, the same unused password.
    again, out = _init(url, capsys)
    assert again == {**admin, "state": "kept"} and file.read_text().strip() == password
    assert password not in out
    # Text output names the file, never the password.
    assert main(["--db", url, "--lang", "en", "init", "--admin"]) == 0
    text = capsys.readouterr().out
    assert str(file) in text and "still unused" in text and password not in text
    # The administrator sets a password of their own: the file is gone for good.
    with Archive.open(url) as archive:
        Accounts(archive).change_password("admin", password, "a-password-of-my-own")
    assert not file.exists()
    done, _out = _init(url, capsys)
    assert done == {"state": "has-staff", "staff_id": None, "password_file": None}
    assert not file.exists()


def test_a_lost_unused_file_is_written_again(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    admin, _out = _init(url, capsys)
    file = Path(admin["password_file"])
    old = file.read_text().strip()
    file.unlink()
    again, _out = _init(url, capsys)
    assert again["state"] == "reissued" and file.is_file()
    new = file.read_text().strip()
    assert new != old and stat.S_IMODE(file.stat().st_mode) == 0o600
    with Archive.open(url) as archive:
        Accounts(archive).authenticate("admin", new)


def test_an_archive_from_before_gets_its_never_changed_admin_back(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The administrator the old console script made (its password kept by one clone
    only) is given a new initial password while it was never changed."""
    with Archive.create(url) as archive:
        create_first_admin(
            archive, "admin", "系统管理员", "only-one-clone-knew-it", roles=["org-lead"]
        )
    admin, _out = _init(url, capsys)
    assert admin["state"] == "reissued"
    with Archive.open(url) as archive:
        Accounts(archive).authenticate("admin", Path(admin["password_file"]).read_text().strip())


def test_a_register_with_its_own_people_is_left_alone(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["--db", url, "init"]) == 0  # without --admin: no administrator made
    with Archive.open(url) as archive:
        assert Register(archive).store.count() == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("their-own-password\n"))
    assert (
        main(["--db", url, "staff", "add", "boss", "--name", "王", "--admin", "--password-stdin"])
        == 0
    )
    capsys.readouterr()
    admin, _out = _init(url, capsys)
    assert admin["state"] == "has-staff"
    assert not list((tmp_path / "data").glob("*initialAdminPassword*"))


def _console_sh(url: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEROP_")}
    env["HOME"] = str(home)
    return subprocess.run(
        ["bash", "scripts/console.sh", "--db", url], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip


def test_console_script_signs_in_on_a_fresh_machine_and_again(url: str, tmp_path: Path) -> None:
    if not (ROOT / ".venv" / "bin" / "interop").exists():
        pytest.skip("scripts/setup.sh has not made .venv")
    first = _console_sh(url, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "signed in as admin" in first.stdout
    file = tmp_path / "data" / "archive.sqlite3.initialAdminPassword"
    password = file.read_text().strip()
    assert password not in first.stdout + first.stderr  # the file is named, not its content
    # A second clone (or run) on the machine: the archive exists, the same person signs in.
    second = _console_sh(url, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "signed in as admin" in second.stdout and "already has staff" not in second.stderr
