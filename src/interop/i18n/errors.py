"""An error said to an operator in their language: the code kept, the registry's meaning
and what to do translated, the raise site's detail kept.

Raise sites need not change: every registered code has its meaning and action in
:data:`interop._errors.REGISTRY`, and those English texts are msgids of the catalogue. The
detail (which record, which field, the path) is the exception's own message: translated
when the catalogue has it whole (a fixed message), when it was made from a catalogue
template with named fields (``"no archive at {where}: …"``: the template is matched and
its fields carried into the translation), or when the raise site already translated it
(``_("… {n}").format(n=…)``); else kept as written — it names only record numbers, field
names and masked identifiers, never personal data. English keeps the one-line form
``[E123] message`` that scripts and tests read.
"""

from __future__ import annotations

from interop._errors import REGISTRY, InteropError
from interop.i18n import N_, translate
from interop.i18n.templates import localise

__all__ = ["explain"]


def explain(exc: InteropError, lang: str) -> str:
    """``exc`` for an operator in ``lang``: one line in English, else the translated
    meaning, the detail and what to do (the code first, as ``[E520]``)."""
    detail = localise(exc.message, lang)
    entry = REGISTRY.get(exc.code)
    if lang == "en" or entry is None:
        return f"[{exc.code}] {detail}"
    meaning = translate(entry.meaning, lang)
    action = translate(entry.action, lang)
    if meaning == entry.meaning:
        # A code whose meaning has no translation yet (added since the catalogue was
        # last completed): the detail alone, as in English.
        return f"[{exc.code}] {detail}"
    lines = [f"[{exc.code}] {meaning}"]
    if detail.strip() and detail != meaning:
        lines.append("  " + translate(_DETAIL, lang).format(detail=detail))
    lines.append("  " + translate(_ACTION, lang).format(action=action))
    return "\n".join(lines)


# The labels of the detail and action lines (msgids; translated per call above).
_DETAIL = N_("detail: {detail}")
_ACTION = N_("what to do: {action}")
