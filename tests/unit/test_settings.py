"""One settings object: flags, then environment, then [settings] of the TOML file."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from interop._errors import ConfigError
from interop.clock import FixedClock, SystemClock
from interop.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "interop"


def _toml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "interop.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_flag_then_environment_then_toml_then_default(tmp_path: Path) -> None:
    toml = _toml(
        tmp_path,
        '[settings]\ndb = "toml.db"\norg_code = "TOML"\nsync_workers = 3\n'
        'sync_batch_size = 50\ndisabled_plugins = ["school"]\ncache_dir = "/tmp/c"\n',
    )
    from_toml = Settings.build(config=toml, environ={})
    assert (from_toml.db, from_toml.org_code, from_toml.sync_workers) == ("toml.db", "TOML", 3)
    assert from_toml.sync_batch_size == 50 and from_toml.disabled_plugins == ("school",)
    assert from_toml.cache_dir == Path("/tmp/c")
    environ = {
        "INTEROP_DB": "env.db",
        "INTEROP_ORG_CODE": "ENV",
        "INTEROP_SYNC_WORKERS": "0",
        "INTEROP_DISABLE_PLUGINS": "",
        "INTEROP_CONFIG": str(toml),
    }
    from_env = Settings.build(environ=environ)
    assert from_env.config == toml
    assert (from_env.db, from_env.org_code, from_env.sync_workers) == ("env.db", "ENV", 0)
    assert from_env.sync_batch_size == 50  # not in the environment: from the file
    assert from_env.disabled_plugins == ()
    from_flag = Settings.build(db="flag.db", environ=environ)
    assert from_flag.db == "flag.db"
    defaults = Settings.build(environ={"XDG_CACHE_HOME": str(tmp_path)})
    assert defaults.db is None and defaults.org_code is None and defaults.sync_workers is None
    assert defaults.cache_dir == tmp_path / "interop"
    assert isinstance(defaults.clock, SystemClock)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('[settings]\nsync_workers = "many"\n', "E011"),
        ("[settings]\nsync_workers = -1\n", "E011"),
        ("[settings]\norg_code = 5\n", "E011"),
        ('[settings]\nnope = "x"\n', "E010"),
        ('settings = "x"\n', "E010"),
    ],
)
def test_wrong_settings_are_named(tmp_path: Path, body: str, code: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.build(config=_toml(tmp_path, body), environ={})
    assert info.value.code == code
    assert "interop.toml" in info.value.message


def test_secrets_are_not_shown() -> None:
    settings = Settings.build(environ={"SCHOOL_TOKEN": "s3cret"})
    assert settings.secrets["SCHOOL_TOKEN"] == "s3cret"
    assert "s3cret" not in repr(settings)


def test_fixed_clock_is_china_time_when_naive() -> None:
    import datetime as dt

    clock = FixedClock(dt.datetime(2026, 12, 1, 9, 30))
    assert clock.now().utcoffset() == dt.timedelta(hours=8)


def test_no_library_module_reads_the_environment() -> None:
    """Only the command line (cli.py) reads os.environ; it passes settings down."""
    readers = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "cli.py" and path.parent == SRC:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("environ", "getenv")
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            ):
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not readers, f"environment read outside cli.py: {readers}"


def test_help_and_the_parser_load_no_heavy_library() -> None:
    """`interop --help` (and building the parser of map, validate, share …) imports no database,
    FHIR model, HTTP or JSON Schema library: commands start fast."""
    code = (
        "import sys\n"
        "from interop.cli import build_parser, main\n"
        "for name in ('map', 'validate', 'share', 'approve', 'reject', 'consent', 'cases',"
        " 'audit', 'import', 'plugins', 'sync', 'init', 'referral', 'staff'):\n"
        "    build_parser([name])\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('sqlalchemy', 'fhir.resources', 'pydantic', 'requests', 'jsonschema',"
        " 'fhirpathpy', 'lxml')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout[-500:]


def test_the_settings_carry_the_base() -> None:
    settings = Settings.build(
        environ={"INTEROP_CANONICAL_BASE": "https://fhir.example-province.cn/dcmh/"}
    )
    assert settings.canonical_base == "https://fhir.example-province.cn/dcmh"
    assert Settings.build(environ={}).canonical_base is None


@pytest.mark.parametrize("bad", ["fhir.example.cn", "ftp://x.cn", "https://x.cn/a?b", "https://"])
def test_a_base_that_is_no_url_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.build(environ={"INTEROP_CANONICAL_BASE": bad})
    assert caught.value.code == "E011" and "canonical_base" in caught.value.message
