"""The partners configuration: a TOML file naming each partner and how to reach it.

::

    [partners.school-mingde]
    kind = "school"                       # registered by a plugin (school, hospital-fhir …)
    url = "https://school.example.org/interop/bundles"   # or base_url, or out_dir
    auth = { type = "bearer", token_env = "SCHOOL_MINGDE_TOKEN" }

    [partners.school-by-hand]
    kind = "school"
    out_dir = "outbox/school"            # write the Bundle to a folder for manual transfer

The file is ``--config FILE``, else ``$INTEROP_CONFIG`` (chosen by
:class:`interop.settings.Settings`); without either there are no partners.
Secrets come only from the environment: a ``token = "…"`` literal in the
file is an error. Keys specific to a kind (``poll_minutes``, ``timeout`` …)
are kept in :attr:`Partner.settings` and checked by the plugin of that kind,
not here. Errors name the partner and the key, never a value.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interop._errors import ConfigError as ConfigError
from interop.i18n import N_

__all__ = ["ENV_CONFIG", "Config", "ConfigError", "Partner", "load_config"]

ENV_CONFIG = "INTEROP_CONFIG"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_SECRET_KEYS = frozenset({"token", "password", "secret", "api_key", "client_secret"})
_AUTH_TYPES = frozenset({"none", "bearer"})


# Operator-facing messages (English msgids; the CLI says them in the operator's language).
MSG_TOKEN_UNSET = N_("partner {name}: auth.token_env names {env}, which is not set")
MSG_NO_PARTNER = N_("no partner '{name}' in {file} ([partners.{name}])")
MSG_NO_PARTNER_NO_FILE = N_("no partner '{name}' (no configuration file given) ([partners.{name}])")
MSG_UNREADABLE = N_("{file}: cannot read the configuration ({why})")
MSG_NOT_UTF8 = N_("{file}: the configuration is not UTF-8 text")
MSG_NOT_TOML = N_("{file}: not valid TOML ({why})")
MSG_PARTNERS_TABLE = N_("{file}: [partners] must be a table of partner tables")
MSG_PLAIN_NAME = N_("{file}: partner name '{name}' is not a plain name")
MSG_NOT_TABLE = N_("{where}: must be a table")
MSG_NO_KIND = N_("{where}: key 'kind' is missing or not text")
MSG_SECRET = N_(
    "{where}: key '{key}' holds a secret in the file; put it in an environment variable and "
    'name it with auth = {{ type = "bearer", token_env = "…" }}'
)
MSG_NOT_URL = N_("{where}: key '{key}' must be an http(s) URL")
MSG_OUT_DIR = N_("{where}: key 'out_dir' must be a folder path")
MSG_AUTH_TABLE = N_("{where}: key 'auth' must be an inline table")
MSG_AUTH_TYPE = N_("{where}: key 'auth.type' must be one of {types}")
MSG_AUTH_SECRET = N_("{where}: key 'auth.{key}' holds a secret in the file; use auth.token_env")
MSG_AUTH_KEY = N_("{where}: unknown key 'auth.{key}'")
MSG_TOKEN_ENV = N_("{where}: key 'auth.token_env' must name an environment variable")


@dataclass(frozen=True, slots=True)
class Partner:
    """One configured partner: its name, its kind and the rest of its table."""

    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str | None:
        value = self.settings.get("url") or self.settings.get("base_url")
        return str(value) if value else None

    @property
    def out_dir(self) -> Path | None:
        value = self.settings.get("out_dir")
        return Path(str(value)) if value else None

    def bearer_token(self) -> str | None:
        """The bearer token from the environment variable named by ``auth.token_env``.

        ``None`` when the partner has no ``auth`` or ``auth.type = "none"``;
        :class:`ConfigError` when the variable is not set.
        """
        auth = self.settings.get("auth")
        if not isinstance(auth, dict) or auth.get("type", "bearer") == "none":
            return None
        env = str(auth["token_env"])
        secret = auth.get(_SECRET)
        token = secret.value if isinstance(secret, _Secret) else None
        if not token:
            raise ConfigError(MSG_TOKEN_UNSET.format(name=self.name, env=env), code="E163")
        return token


@dataclass(frozen=True, slots=True)
class Config:
    """The loaded configuration; ``source`` is the file it came from (or None)."""

    partners: dict[str, Partner] = field(default_factory=dict)
    source: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def partner(self, name: str) -> Partner:
        found = self.partners.get(name)
        if found is None:
            said = (
                MSG_NO_PARTNER.format(name=name, file=self.source)
                if self.source
                else MSG_NO_PARTNER_NO_FILE.format(name=name)
            )
            raise ConfigError(said, code="E161")
        return found


def load_config(path: str | Path | None, *, secrets: Mapping[str, str] | None = None) -> Config:
    """Read the configuration file ``path`` (``None``: no partners).

    ``secrets`` is where the names of ``auth.token_env`` are looked up: the
    environment the command was started with (``Settings.secrets``); without it
    no partner has a token. The file itself is chosen by the settings.
    """
    chosen = path
    if not chosen:
        return Config()
    file = Path(chosen)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(MSG_UNREADABLE.format(file=file, why=exc.strerror)) from None
    except UnicodeDecodeError:
        raise ConfigError(MSG_NOT_UTF8.format(file=file)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(MSG_NOT_TOML.format(file=file, why=exc)) from None
    partners = _partners(file, data.get("partners", {}), secrets or {})
    return Config(partners=partners, source=file, raw=data)


@dataclass(frozen=True, slots=True)
class _Secret:
    """A token looked up for a partner; never shown (its repr is a mask)."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "_Secret(***)"


# Key under a partner's ``auth`` table that holds the looked-up token (never in a file:
# a file's auth table may only hold type and token_env).
_SECRET = "_secret"


def _partners(file: Path, table: Any, secrets: Mapping[str, str]) -> dict[str, Partner]:
    if not isinstance(table, dict):
        raise ConfigError(MSG_PARTNERS_TABLE.format(file=file), code="E162")
    out: dict[str, Partner] = {}
    for name, body in table.items():
        where = f"{file}: partner {name}"
        if not _NAME.fullmatch(name):
            raise ConfigError(MSG_PLAIN_NAME.format(file=file, name=name), code="E162")
        if not isinstance(body, dict):
            raise ConfigError(MSG_NOT_TABLE.format(where=where), code="E162")
        kind = body.get("kind")
        if not isinstance(kind, str) or not kind:
            raise ConfigError(MSG_NO_KIND.format(where=where), code="E162")
        for key in body:
            if key.lower() in _SECRET_KEYS:
                raise ConfigError(MSG_SECRET.format(where=where, key=key), code="E164")
        for key in ("url", "base_url"):
            value = body.get(key)
            if value is not None and (
                not isinstance(value, str) or not value.startswith(("http://", "https://"))
            ):
                raise ConfigError(MSG_NOT_URL.format(where=where, key=key), code="E162")
        out_dir = body.get("out_dir")
        if out_dir is not None and (not isinstance(out_dir, str) or not out_dir):
            raise ConfigError(MSG_OUT_DIR.format(where=where), code="E162")
        if isinstance(out_dir, str) and not Path(out_dir).is_absolute():
            body = {**body, "out_dir": str((file.parent / out_dir).resolve())}
        auth = body.get("auth")
        _check_auth(where, auth)
        if isinstance(auth, dict) and isinstance(auth.get("token_env"), str):
            token = secrets.get(auth["token_env"])
            if token:
                body = {**body, "auth": {**auth, _SECRET: _Secret(token)}}
        settings = {k: v for k, v in body.items() if k != "kind"}
        out[name] = Partner(name=name, kind=kind, settings=settings)
    return out


def _check_auth(where: str, auth: Any) -> None:
    if auth is None:
        return
    if not isinstance(auth, dict):
        raise ConfigError(MSG_AUTH_TABLE.format(where=where), code="E162")
    kind = auth.get("type", "bearer")
    if kind not in _AUTH_TYPES:
        raise ConfigError(
            MSG_AUTH_TYPE.format(where=where, types=", ".join(sorted(_AUTH_TYPES))), code="E162"
        )
    for key in auth:
        if key.lower() in _SECRET_KEYS:
            raise ConfigError(MSG_AUTH_SECRET.format(where=where, key=key), code="E164")
        if key not in ("type", "token_env"):
            raise ConfigError(MSG_AUTH_KEY.format(where=where, key=key), code="E162")
    if kind == "bearer":
        env = auth.get("token_env")
        if not isinstance(env, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env):
            raise ConfigError(MSG_TOKEN_ENV.format(where=where), code="E162")
