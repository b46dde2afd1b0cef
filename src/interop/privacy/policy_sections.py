"""Two sections of a purpose policy file (目的限定): ``free_text`` and ``safety_flags``.

``free_text`` says what the PII guard (:mod:`interop.privacy.freetext`) does
when a free-text element the policy lets out holds personal data::

    "free_text": {"default": "redact",
                  "elements": {"CarePlan.extension(reenrolment-support)": "redact",
                               "Patient.extension(school-enrolment)": "block"}}

— per element path (the longest declared path above the text wins), else
``default``; without the section everything is redacted. A break-glass policy
leaves at once, so it cannot ask for ``review``.

``safety_flags`` says how the partner honours each safety flag of a case
(:mod:`interop.privacy.safety`): ``flag``, ``label`` or ``block`` (also what a
flag the section does not name gets).

Both are checked when the policy is loaded; :mod:`interop.privacy.policy`
passes in how to fail (naming the file, line and entry) and how to check an
element path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from interop.fhir import canonical
from interop.fhir.terminology import Terminology
from interop.privacy.freetext import ACTIONS

__all__ = ["FLAG_HANDLING", "FreeTextRules", "free_text_rules", "safety_flag_rules"]

#: How a partner honours a safety flag: a Flag resource, a security label, or not (blocked).
FLAG_HANDLING = ("flag", "label", "block")

#: ``fail(entry, problem, needle)`` → the exception naming the file, line and entry.
Fail = Callable[[str, str, str], Exception]


@dataclass(frozen=True, slots=True)
class FreeTextRules:
    """What the PII guard does per free-text element path (``redact``/``review``/``block``)."""

    default: str = "redact"
    elements: tuple[tuple[str, str], ...] = ()
    _cache: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def action_for(self, path: str) -> str:
        """The action for a runtime element path: the longest declared path above it."""
        found = self._cache.get(path)
        if found is None:
            found = self.default
            best = -1
            for declared, action in self.elements:
                if (path == declared or path.startswith(declared + ".")) and len(declared) > best:
                    found, best = action, len(declared)
            self._cache[path] = found
        return found


def free_text_rules(
    raw: Any, break_glass: bool, *, fail: Fail, check_path: Callable[[str, str], None]
) -> FreeTextRules:
    """The ``free_text`` section: a default action and actions per element path."""
    if raw is None:
        return FreeTextRules()
    if not isinstance(raw, dict) or set(raw) - {"default", "elements", "note"}:
        raise fail("free_text", "must be {default, elements}", '"free_text"')
    allowed = ("redact", "block") if break_glass else ACTIONS
    why = " (a break-glass policy leaves at once: no review)" if break_glass else ""
    default = raw.get("default", "redact")
    if default not in allowed:
        raise fail("free_text.default", f"must be one of {', '.join(allowed)}{why}", '"default"')
    elements = raw.get("elements", {})
    if not isinstance(elements, dict):
        raise fail("free_text.elements", "must map element paths to actions", '"elements"')
    out: list[tuple[str, str]] = []
    for path, action in elements.items():
        entry = f"free_text.elements {path!r}"
        if action not in allowed:
            raise fail(entry, f"must be one of {', '.join(allowed)}{why}", f'"{path}"')
        check_path(entry, path)
        out.append((path, action))
    return FreeTextRules(default=default, elements=tuple(out))


def safety_flag_rules(raw: Any, terms: Terminology, *, fail: Fail) -> dict[str, str]:
    """The ``safety_flags`` section: how the partner honours each flag of the case."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise fail("safety_flags", "must map flag codes to flag | label | block", '"safety_flags"')
    for code, how in raw.items():
        if code == "note":
            continue
        if terms.lookup(canonical.cs("flag-code"), code) is None:
            raise fail(
                f"safety_flags.{code}",
                f"unknown flag {code!r} (not in CodeSystem flag-code)",
                f'"{code}"',
            )
        if how not in FLAG_HANDLING:
            raise fail(
                f"safety_flags.{code}", f"must be one of {', '.join(FLAG_HANDLING)}", f'"{code}"'
            )
    return {k: v for k, v in raw.items() if k != "note"}
