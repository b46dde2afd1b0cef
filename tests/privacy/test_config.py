"""The partners configuration (TOML): partners by name, secrets only from the
environment, errors that name the partner and the key (never a value)."""

from __future__ import annotations

from pathlib import Path

import pytest

from interop.config import ConfigError, load_config
from interop.settings import Settings


def _cfg(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_no_file_means_no_partners() -> None:
    assert load_config(None).partners == {}
    assert Settings.build(environ={}).config is None


def test_env_names_the_file_and_kind_keys_stay_in_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = _cfg(
        tmp_path,
        """
[partners.psy]
kind = "hospital-fhir"
base_url = "https://fhir.example.org/r4"
poll_minutes = 15
auth = { type = "bearer", token_env = "PSY_TOKEN" }

[partners.school-a]
kind = "school"
out_dir = "out/a"
""",
    )
    environ = {"INTEROP_CONFIG": str(p), "PSY_TOKEN": "abc"}
    settings = Settings.build(environ=environ)
    assert settings.config == p
    cfg = load_config(settings.config, secrets=settings.secrets)
    psy = cfg.partner("psy")
    assert psy.kind == "hospital-fhir" and psy.settings["poll_minutes"] == 15
    assert psy.url == "https://fhir.example.org/r4" and psy.bearer_token() == "abc"
    school = cfg.partner("school-a")
    assert school.bearer_token() is None and school.out_dir == tmp_path / "out" / "a"
    assert "abc" not in repr(cfg)  # the looked-up token is never shown
    # without the environment the command was started with, no partner has a token
    with pytest.raises(ConfigError, match="PSY_TOKEN, which is not set"):
        load_config(p).partner("psy").bearer_token()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[partners.x]\nkind = "school"\ntoken = "s3cret"\n',
            "partner x: key 'token' holds a secret",
        ),
        (
            '[partners.x]\nkind = "school"\nauth = { type = "bearer", token = "s3cret" }\n',
            "partner x: key 'auth.token' holds a secret",
        ),
        ('[partners.x]\nurl = "https://a"\n', "partner x: key 'kind' is missing"),
        ('[partners.x]\nkind = "school"\nurl = "ftp://a"\n', "partner x: key 'url' must be"),
        ('[partners.x]\nkind = "school"\nauth = { type = "basic" }\n', "key 'auth.type'"),
        ('[partners.x]\nkind = "school"\nauth = { type = "bearer" }\n', "key 'auth.token_env'"),
        ("[partners.x\n", "not valid TOML"),
    ],
)
def test_errors_name_partner_and_key_never_the_value(
    tmp_path: Path, body: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_cfg(tmp_path, body))
    assert message in str(info.value)
    assert "s3cret" not in str(info.value)


def test_missing_token_variable_names_it(tmp_path: Path) -> None:
    cfg = load_config(
        _cfg(
            tmp_path,
            '[partners.x]\nkind = "school"\nurl = "https://a/b"\n'
            'auth = { type = "bearer", token_env = "NOPE_TOKEN" }\n',
        )
    )
    with pytest.raises(ConfigError, match=r"partner x: auth\.token_env names NOPE_TOKEN"):
        cfg.partner("x").bearer_token()
    with pytest.raises(ConfigError, match="no partner 'y'"):
        cfg.partner("y")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
