"""Element paths of a purpose policy, checked and compiled (策略元素路径).

A path such as ``Patient.extension(school-enrolment).extension(stage)`` or
``Observation.value[x]`` is checked against the R4 structure of its resource
type (:func:`interop.fhir.structure.type_info`, no model class imported) and
compiled into the allow-list tree of :class:`~interop.privacy.policy_model.Node`
the filter walks. An element under a path named whole is whole too; extensions
leave only when named themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from interop.fhir import canonical, release
from interop.fhir.structure import TypeInfo, type_info
from interop.privacy.policy_model import Cond, Node

__all__ = ["PathFail", "add_path", "check_path", "inherit_full"]

#: The file's error for (entry, problem, text to find the line by, line to search from).
PathFail = Callable[[str, str, str, int], Exception]

_SEGMENT = re.compile(r"(extension|modifierExtension)\(([^()]+)\)|([A-Za-z_][A-Za-z0-9_]*(\[x\])?)")


def check_path(fail: PathFail, entry: str, path: str) -> None:
    """Raise the file's error unless ``path`` is an element path of a known resource type."""
    rtype = path.split(".", 1)[0]
    if not release.is_resource_type(rtype):  # (imports no model class)
        raise fail(entry, f"unknown resource type {rtype!r}", f'"{path}"', 0)
    add_path(fail, entry, Node(label=rtype), type_info(rtype), rtype, path, None, 0)


def inherit_full(node: Node, parent_full: bool) -> None:
    """An element under a path named whole is whole too (deeper paths only add extensions)."""
    if parent_full:
        node.full = True
    for child in node.children.values():
        inherit_full(child, node.full)
    for ext in (*node.extensions.values(), *node.modifier_extensions.values()):
        inherit_full(ext, False)


def add_path(
    fail: PathFail,
    entry: str,
    root: Node,
    info: TypeInfo,
    rtype: str,
    path: str,
    where: Cond | None,
    start: int,
) -> None:
    needle = f'"{path}"'
    if not path.startswith(rtype + "."):
        raise fail(entry, f"must start with '{rtype}.'", needle, max(start - 1, 0))
    rest = path[len(rtype) + 1 :]
    segments = _split(rest)
    if segments is None:
        raise fail(entry, "is not an element path", needle, max(start - 1, 0))
    node = root
    current: TypeInfo | None = info
    in_extension = False
    label = rtype
    for seg_kind, name in segments:
        if current is None:
            raise fail(entry, f"'{name}' is below a primitive element", needle, max(start - 1, 0))
        if seg_kind in ("extension", "modifierExtension"):
            url = name if ("://" in name or in_extension) else canonical.sd(name)
            label = f"{label}.{seg_kind}({name})"
            table = node.extensions if seg_kind == "extension" else node.modifier_extensions
            node = table.setdefault(url, Node(label=label))
            current = type_info("Extension")
            in_extension = True
            continue
        names = _element_names(current, name)
        if names is None:
            raise fail(
                entry, f"unknown element '{name}' of {current.name}", needle, max(start - 1, 0)
            )
        label = f"{label}.{name}"
        if len(names) > 1:  # a choice group value[x]: every variant, same node
            shared = Node(label=label)
            for n in names:
                node.children.setdefault(n, shared)
            node = node.children[names[0]]
            fld = current.fields[names[0]]
        else:
            node = node.children.setdefault(names[0], Node(label=label))
            fld = current.fields[names[0]]
        current = fld.spec
        in_extension = False
    node.full = True
    if where is not None:
        node.where = where


def _element_names(info: TypeInfo, name: str) -> list[str] | None:
    if name.endswith("[x]"):
        group = (info.choices or {}).get(name[:-3])
        return list(group) if group else None
    if name in ("meta", "id"):
        return [name] if name in info.fields else None
    fld = info.fields.get(name)
    if fld is None or name.startswith("_"):
        return None
    return [name]


def _split(rest: str) -> list[tuple[str, str]] | None:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(rest):
        m = _SEGMENT.match(rest, pos)
        if m is None:
            return None
        if m.group(1):
            out.append((m.group(1), m.group(2)))
        else:
            out.append(("element", m.group(3)))
        pos = m.end()
        if pos < len(rest):
            if rest[pos] != ".":
                return None
            pos += 1
            if pos == len(rest):
                return None
    return out or None
