"""One settings object for a run of ``interop`` (运行设置): flags, environment, TOML.

The command line builds :class:`Settings` once (:meth:`Settings.build`) and
hands it to the command (``args.settings``), which passes the values the
library needs as arguments. Library modules read no environment variable.

Each value is taken from, in order: the command-line flag, the environment
variable, the ``[settings]`` table of the configuration file (TOML), the
default (setting: environment variable, ``[settings]`` key; default):

- archive (``--db``): ``INTEROP_DB``, ``db``; default the SQLite file in the
  user data folder (``$XDG_DATA_HOME/interop``);
- configuration file (``--config``): ``INTEROP_CONFIG``; default none (no partners);
- organisation code of case numbers: ``INTEROP_ORG_CODE``, ``org_code``;
- canonical base of what is emitted (a province hosting its own, D-77):
  ``INTEROP_CANONICAL_BASE``, ``canonical_base``; default ``https://fhir.jxdcmh.cn``;
- compiled-check cache: ``INTEROP_CACHE_DIR``, ``cache_dir``; default
  ``$XDG_CACHE_HOME/interop`` or ``~/.cache/interop``;
- sync workers: ``INTEROP_SYNC_WORKERS``, ``sync_workers``; default one per core (up to 2);
- rows from which a sync uses workers: ``INTEROP_SYNC_PARALLEL_MIN``, ``sync_parallel_min``;
- sync batch size: ``INTEROP_SYNC_BATCH_SIZE``, ``sync_batch_size``;
- bytes of a CSV list per worker's part: ``INTEROP_SYNC_PART_BYTES``, ``sync_part_bytes``;
- plugins not loaded: ``INTEROP_DISABLE_PLUGINS`` (comma-separated), ``disabled_plugins``;
- who is acting: the personal API token in ``INTEROP_TOKEN`` (the environment only, never
  the file; kept out of ``repr``).

Secrets (partners' ``auth.token_env``) are looked up in :attr:`Settings.secrets`,
the environment the command was started with; they are never written to a file.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interop._errors import ConfigError
from interop.clock import Clock, SystemClock
from interop.i18n import N_

__all__ = ["Settings", "default_cache_dir", "default_data_dir"]

ENV_DB = "INTEROP_DB"
ENV_CONFIG = "INTEROP_CONFIG"
ENV_ORG_CODE = "INTEROP_ORG_CODE"
ENV_CANONICAL_BASE = "INTEROP_CANONICAL_BASE"
ENV_CACHE_DIR = "INTEROP_CACHE_DIR"
ENV_SYNC_WORKERS = "INTEROP_SYNC_WORKERS"
ENV_SYNC_PARALLEL_MIN = "INTEROP_SYNC_PARALLEL_MIN"
ENV_SYNC_BATCH_SIZE = "INTEROP_SYNC_BATCH_SIZE"
ENV_SYNC_PART_BYTES = "INTEROP_SYNC_PART_BYTES"
ENV_DISABLE_PLUGINS = "INTEROP_DISABLE_PLUGINS"
ENV_TOKEN = "INTEROP_TOKEN"

_MESSAGES = {
    "not_number": N_("{where}: {key} must be a whole number, 0 or more"),
    "not_text": N_("{where}: {key} must be text"),
    "unknown": N_("{where}: unknown key {key} in [settings]"),
    "unreadable": N_("{where}: cannot read [settings] ({why})"),
    "not_base": N_(
        "{where}: {key} must be an http(s) URL without query or fragment, e.g. "
        "https://fhir.example-province.cn"
    ),
}
_TOML_KEYS = frozenset(
    {
        "db",
        "org_code",
        "canonical_base",
        "cache_dir",
        "sync_workers",
        "sync_parallel_min",
        "sync_batch_size",
        "sync_part_bytes",
        "disabled_plugins",
    }
)


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """A per-user data folder: ``$XDG_DATA_HOME/interop`` or the platform's equivalent."""
    if sys.platform == "win32":  # pragma: no cover
        base = Path(environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":  # pragma: no cover
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "interop"


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """A per-user cache folder: ``$XDG_CACHE_HOME/interop`` or ``~/.cache/interop``."""
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "interop"


@dataclass(frozen=True, slots=True)
class Settings:
    """What a run of ``interop`` needs from outside: see the module's table."""

    db: str | None = None  # URL or path; None: the SQLite file in data_dir
    data_dir: Path | None = None
    config: Path | None = None
    org_code: str | None = None
    canonical_base: str | None = None  # None: the programme's base (canonical.BASE)
    cache_dir: Path | None = None
    sync_workers: int | None = None
    sync_parallel_min: int | None = None
    sync_batch_size: int | None = None
    sync_part_bytes: int | None = None
    disabled_plugins: tuple[str, ...] = ()
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    token: str | None = field(default=None, repr=False)
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def build(
        cls,
        *,
        db: str | None = None,
        config: str | Path | None = None,
        environ: Mapping[str, str],
        clock: Clock | None = None,
    ) -> Settings:
        """Flags (``db``, ``config``), then ``environ``, then ``[settings]`` of the
        configuration file, then defaults. Raises
        :class:`~interop._errors.ConfigError` for a wrong value."""
        chosen = config or environ.get(ENV_CONFIG) or None
        config_path = Path(chosen) if chosen else None
        table = _settings_table(config_path)
        where = str(config_path) if config_path else "environment"

        def text(env: str, key: str) -> str | None:
            value = environ.get(env) or table.get(key)
            if value is not None and not isinstance(value, str):
                raise ConfigError(_MESSAGES["not_text"].format(where=where, key=key), code="E011")
            return value or None

        def number(env: str, key: str) -> int | None:
            raw = environ.get(env, "").strip()
            if raw:
                if not raw.isdigit():
                    return None  # as before: an unusable value means "not set"
                return int(raw)
            value = table.get(key)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(_MESSAGES["not_number"].format(where=where, key=key), code="E011")
            return value

        cache = environ.get(ENV_CACHE_DIR) or table.get("cache_dir")
        if cache is not None and not isinstance(cache, str):
            raise ConfigError(
                _MESSAGES["not_text"].format(where=where, key="cache_dir"), code="E011"
            )
        disabled = environ.get(ENV_DISABLE_PLUGINS)
        if disabled is not None:
            blocked = tuple(n.strip() for n in disabled.split(",") if n.strip())
        else:
            listed = table.get("disabled_plugins", [])
            if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
                raise ConfigError(
                    _MESSAGES["not_text"].format(where=where, key="disabled_plugins"), code="E011"
                )
            blocked = tuple(listed)
        return cls(
            db=db or text(ENV_DB, "db"),
            data_dir=default_data_dir(environ),
            config=config_path,
            org_code=text(ENV_ORG_CODE, "org_code"),
            canonical_base=_base(text(ENV_CANONICAL_BASE, "canonical_base"), where),
            cache_dir=Path(cache) if cache else default_cache_dir(environ),
            sync_workers=number(ENV_SYNC_WORKERS, "sync_workers"),
            sync_parallel_min=number(ENV_SYNC_PARALLEL_MIN, "sync_parallel_min"),
            sync_batch_size=number(ENV_SYNC_BATCH_SIZE, "sync_batch_size") or None,
            sync_part_bytes=number(ENV_SYNC_PART_BYTES, "sync_part_bytes") or None,
            disabled_plugins=blocked,
            secrets=dict(environ),
            token=environ.get(ENV_TOKEN) or None,
            clock=clock or SystemClock(),
        )

    def archive_url(self) -> str:
        """The archive's URL: ``db``, else the SQLite file in the data folder."""
        from interop.store.location import resolve_url

        return resolve_url(self.db, data_dir=self.data_dir)


def _base(value: str | None, where: str) -> str | None:
    """A canonical base as given (without a trailing slash), or ConfigError (E011)."""
    if value is None:
        return None
    base = value.strip().rstrip("/")
    scheme, sep, rest = base.partition("://")
    if scheme not in ("http", "https") or not sep or not rest or any(c in base for c in "?# |"):
        raise ConfigError(
            _MESSAGES["not_base"].format(where=where, key="canonical_base"), code="E011"
        )
    return base


def _settings_table(path: Path | None) -> dict[str, Any]:
    """The ``[settings]`` table of the configuration file (empty when there is none).

    An unreadable file is left to the partners configuration to report, where
    a command needs it."""
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    table = data.get("settings", {})
    if not isinstance(table, dict):
        raise ConfigError(
            _MESSAGES["unreadable"].format(where=path, why="not a table"), code="E010"
        )
    unknown = sorted(set(table) - _TOML_KEYS)
    if unknown:
        raise ConfigError(_MESSAGES["unknown"].format(where=path, key=unknown[0]), code="E010")
    return table
