"""The standard's rules on what leaves (规则校验): the case's and the extract's.

Two checks, both with the profiles of ``profiles/``:

- :func:`case_rule_errors` — the errors of the whole mapped case Bundle
  against every profile its resources claim or imply
  (:meth:`interop.engine.Engine.case_bundle` finds them): cardinality,
  bindings and the invariants of the standard (a plan of 5 sessions breaks ``dc-cp-1``,
  R-7.2.1-03). A disclosure of a case with open rule errors waits for a
  supervisor, who sees them (9.3).
- :func:`extract_errors` — the purpose-filtered Bundle, each resource of which
  claims the purpose profile of its rule (D-78): base R4 structure, required
  bindings, and what it claims — nothing the rule does not let out, the
  minimums, bindings and fixed values of what it does. The invariants are
  not in purpose profiles: they speak of elements a purpose holds back (a
  school never gets the plan's activities), so they are checked on the case
  itself, above — an extract is a labelled (``REDACTED``) view of a resource
  that satisfies them.
"""

from __future__ import annotations

from typing import Any

from interop.fhir.validate import Validator
from interop.issues import Issue

__all__ = ["case_rule_errors", "extract_errors", "rule_lines"]

MSG_UNCLAIMED = "claims no purpose profile (every resource that leaves claims one, D-78)"


def case_rule_errors(issues: list[Issue]) -> list[Issue]:
    """The errors among the issues of a mapped case Bundle."""
    return [i for i in issues if i.severity == "error"]


def extract_errors(validator: Validator, bundle: dict[str, Any]) -> list[Issue]:
    """Errors of a purpose-filtered Bundle (see the module doc for what is checked)."""
    unclaimed = [
        Issue("error", f"Bundle.entry[{n}].resource", MSG_UNCLAIMED, "profile")
        for n, e in enumerate(bundle.get("entry") or ())
        if not ((e.get("resource") or {}).get("meta") or {}).get("profile")
    ]
    checked = validator.validate(bundle, implied=False)
    return unclaimed + [i for i in checked if i.severity == "error"]


def rule_lines(issues: list[Issue], limit: int = 10) -> list[str]:
    """Issue lines for a preview or a reason list (paths and rule IDs, no values)."""
    lines = [i.line() for i in issues[:limit]]
    if len(issues) > limit:
        lines.append(f"… and {len(issues) - limit} more")
    return lines
