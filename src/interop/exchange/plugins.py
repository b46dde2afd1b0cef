"""Building the plugin manager: entry points of the group ``interop``.

Built-in plugins are listed in ``pyproject.toml`` under
``[project.entry-points.interop]`` like any third-party plugin; when running
from a source tree that was not installed, :data:`BUILTIN_PLUGINS` fills the
gap. Nothing happens at import time: each call of :func:`plugin_manager`
builds a fresh manager (tests build their own).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pluggy

from interop._errors import PluginError
from interop.exchange import hookspecs

GROUP = "interop"
#: Built-in plugin modules (also declared as entry points in pyproject.toml).
BUILTIN_PLUGINS: tuple[str, ...] = (
    "interop.plugins.fhir_files",
    "interop.plugins.civil_affairs",
    "interop.plugins.school",
    "interop.plugins.hospital_fhir",
)
#: Comma-separated plugin names to skip (like tox's TOX_DISABLED_EXTERNAL_PLUGINS).
BLOCK_ENV = "INTEROP_DISABLE_PLUGINS"


def plugin_manager(
    *,
    load_entrypoints: bool = True,
    extra: Iterable[object] = (),
    blocked: Iterable[str] = (),
) -> pluggy.PluginManager:
    """A fresh, checked plugin manager with built-ins, entry points and ``extra``;
    the plugins named in ``blocked`` (settings: ``INTEROP_DISABLE_PLUGINS``) are not loaded."""
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name.strip())
    if load_entrypoints:
        try:
            pm.load_setuptools_entrypoints(GROUP)
        except Exception as exc:  # a broken third-party plugin must not crash silently
            raise PluginError(f"a plugin of group '{GROUP}' failed to load: {exc}") from exc
    for modname in BUILTIN_PLUGINS:
        mod = importlib.import_module(modname)
        if not pm.is_registered(mod) and not pm.is_blocked(modname):
            pm.register(mod, name=modname)
    for plugin in extra:
        pm.register(plugin)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"a plugin implements an unknown hook: {exc}") from exc
    return pm


@dataclass(frozen=True, slots=True)
class OutputFormat:
    name: str
    media_type: str
    dumps: Callable[[dict[str, Any]], bytes]
    plugin: str


class Plugins:
    """Typed facade over ``pm.hook.*`` (one method per hook)."""

    def __init__(self, pm: pluggy.PluginManager | None = None) -> None:
        self.pm = pm if pm is not None else plugin_manager()

    def formats(self) -> dict[str, OutputFormat]:
        found: dict[str, OutputFormat] = {}
        for impl in self.pm.hook.interop_register_formats.get_hookimpls():
            plugin_name = impl.plugin_name

            def register(
                name: str,
                media_type: str,
                dumps: Callable[[dict[str, Any]], bytes],
                _p: str = plugin_name,
            ) -> None:
                found.setdefault(name, OutputFormat(name, media_type, dumps, _p))

            impl.function(register=register)
        return found

    def partner_kinds(self) -> dict[str, Callable[..., Any]]:
        found: dict[str, Callable[..., Any]] = {}

        def register(kind: str, factory: Callable[..., Any]) -> None:
            found.setdefault(kind, factory)

        self.pm.hook.interop_register_partner_kinds(register=register)
        return found

    def after_approval(self, disclosure: Any) -> None:
        """Tell every plugin that a pending disclosure was approved."""
        self.pm.hook.interop_after_approval(disclosure=disclosure)

    def describe(self) -> list[dict[str, Any]]:
        """One row per registered plugin: name, hooks it implements, info."""
        rows = []
        for name, plugin in sorted(self.pm.list_name_plugin(), key=lambda x: str(x[0])):
            hooks = sorted(
                h.name
                for h in self.pm.get_hookcallers(plugin) or []
                if h.name != "interop_plugin_info"
            )
            info: dict[str, Any] = {}
            fn = getattr(plugin, "interop_plugin_info", None)
            if callable(fn):
                info = fn() or {}
            rows.append(
                {
                    "name": info.get("name", name),
                    "module": str(name),
                    "hooks": hooks,
                    **{k: v for k, v in info.items() if k != "name"},
                }
            )
        return rows
