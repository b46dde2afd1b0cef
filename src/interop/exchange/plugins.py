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
from typing import TYPE_CHECKING, Any

import pluggy

from interop._errors import InputError, PluginError
from interop.exchange import hookspecs
from interop.exchange.transport import Feed, FeedFactory, TransportFactory

if TYPE_CHECKING:
    from interop.privacy.disclosure_model import Disclosure

GROUP = "interop"
#: Built-in plugin modules (also declared as entry points in pyproject.toml).
BUILTIN_PLUGINS: tuple[str, ...] = (
    "interop.plugins.fhir_files",
    "interop.plugins.civil_affairs",
    "interop.plugins.school",
    "interop.plugins.community",
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

    def partner_kinds(self) -> dict[str, TransportFactory]:
        """The transport factory of every registered partner kind (first one wins)."""
        return {kind: factory for kind, (factory, _) in self._kinds().items()}

    def disclosure_kinds(self) -> frozenset[str]:
        """Kinds that take approved disclosures as they are (queued by exchange)."""
        return frozenset(kind for kind, (_, takes) in self._kinds().items() if takes)

    def _kinds(self) -> dict[str, tuple[TransportFactory, bool]]:
        found: dict[str, tuple[TransportFactory, bool]] = {}

        def register(kind: str, factory: TransportFactory, *, disclosures: bool = False) -> None:
            found.setdefault(kind, (factory, disclosures))

        self.pm.hook.interop_register_partner_kinds(register=register)
        return found

    def feeds(self) -> dict[str, FeedFactory]:
        """The feed factory of every registered inbound list feed (first one wins)."""
        found: dict[str, FeedFactory] = {}

        def register(kind: str, factory: FeedFactory) -> None:
            found.setdefault(kind, factory)

        self.pm.hook.interop_register_feeds(register=register)
        return found

    def feed(self, name: str, kind: str, settings: dict[str, Any]) -> Feed:
        """The list feed of partner ``name`` (of ``kind``, with its settings)."""
        factory = self.feeds().get(kind)
        if factory is not None:
            return factory(name, {"kind": kind, **settings})
        if kind in self.partner_kinds():
            raise InputError(f"partner {name}: kind '{kind}' provides no list feed", code="E153")
        known = ", ".join(sorted(self.feeds())) or "none"
        raise InputError(
            f"partner {name}: unknown kind '{kind}' (kinds with a feed: {known})", code="E152"
        )

    def after_approval(self, disclosure: Disclosure) -> None:
        """Tell every plugin that a pending disclosure was approved."""
        self.pm.hook.interop_after_approval(disclosure=disclosure)

    def describe(self) -> list[dict[str, Any]]:
        """One row per registered plugin: name, hooks it implements, info."""
        infos: dict[str, dict[str, Any]] = {}
        for impl in self.pm.hook.interop_plugin_info.get_hookimpls():
            said = impl.function()
            infos[impl.plugin_name] = said if isinstance(said, dict) else {}
        rows = []
        for name, plugin in sorted(self.pm.list_name_plugin(), key=lambda x: str(x[0])):
            hooks = sorted(
                h.name
                for h in self.pm.get_hookcallers(plugin) or []
                if h.name != "interop_plugin_info"
            )
            info = infos.get(str(name), {})
            rows.append(
                {
                    "name": info.get("name", name),
                    "module": str(name),
                    "hooks": hooks,
                    **{k: v for k, v in info.items() if k != "name"},
                }
            )
        return rows
