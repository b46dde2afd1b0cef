"""The plugin mechanism: fresh managers, misspelt hooks, documented hooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import interop
from interop._errors import PluginError
from interop.cli import main
from interop.exchange import hookspecs
from interop.exchange.plugins import Plugins, plugin_manager
from interop.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


class Misspelt:
    @interop.hookimpl
    def interop_register_formatz(self, register: Any) -> None:  # pragma: no cover
        register("x", "x", lambda r: b"")


class Extra:
    @interop.hookimpl
    def interop_register_formats(self, register: Any) -> None:
        register("upper", "text/plain", lambda r: str(r).upper().encode())


def test_each_call_builds_a_fresh_manager() -> None:
    assert plugin_manager() is not plugin_manager()


def test_builtin_formats_are_registered() -> None:
    formats = Plugins().formats()
    assert {"json", "xml"} <= set(formats)
    assert formats["json"].plugin.endswith("fhir_files") or formats["json"].plugin == "fhir-files"


def test_misspelt_hook_fails_at_once() -> None:
    with pytest.raises(PluginError, match="unknown hook"):
        plugin_manager(extra=[Misspelt()])


def test_extra_plugin_adds_a_format() -> None:
    formats = Plugins(plugin_manager(extra=[Extra()])).formats()
    assert formats["upper"].dumps({"a": 1}) == b"{'A': 1}"


def test_blocked_plugin_is_not_loaded() -> None:
    environ = {"INTEROP_DISABLE_PLUGINS": "interop.plugins.fhir_files,fhir-files"}
    blocked = Settings.build(environ=environ).disabled_plugins
    assert "json" not in Plugins(plugin_manager(blocked=blocked)).formats()
    assert "json" in Plugins().formats()


def test_every_hook_is_documented() -> None:
    doc = (ROOT / "docs" / "plugins.md").read_text("utf-8")
    hooks = [n for n in dir(hookspecs) if n.startswith("interop_")]
    assert hooks
    for name in hooks:
        assert f"`{name}(" in doc, f"{name} is not documented in docs/plugins.md"
        assert getattr(hookspecs, name).__doc__, f"{name} has no docstring"


def test_plugins_command_lists_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    assert "fhir-files" in capsys.readouterr().out


def test_public_api_is_locked() -> None:
    assert interop.__all__ == sorted(interop.__all__)
    for name in interop.__all__:
        assert getattr(interop, name) is not None
    with pytest.raises(AttributeError):
        _ = interop.nothing_here  # type: ignore[attr-defined]


def test_all_matches_the_lazy_exports() -> None:
    from interop import _EXPORTS  # type: ignore[attr-defined]

    assert sorted(_EXPORTS) == interop.__all__


def test_every_command_is_listed_under_its_name(capsys: pytest.CaptureFixture[str]) -> None:
    import importlib

    from interop.cli import _chosen_command
    from interop.commands import COMMANDS

    for name, modname in COMMANDS.items():
        assert name == importlib.import_module(modname).NAME
    assert _chosen_command(["--db", "x.sqlite3", "-v", "map", "f.json"]) == "map"
    assert _chosen_command(["--help"]) is None
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)
