"""Issues as a FHIR R4 OperationOutcome (校验结果).

Every check of :mod:`interop.fhir.validate` reports :class:`~interop.issues.Issue`
rows; this turns them into the resource partners and tools read.
"""

from __future__ import annotations

from typing import Any

from interop.issues import Issue

__all__ = ["ISSUE_TYPES", "operation_outcome"]

#: Issue kind → FHIR R4 IssueType code.
ISSUE_TYPES = {
    "structure": "structure",
    "required": "required",
    "cardinality": "structure",
    "value": "value",
    "fixed": "value",
    "pattern": "value",
    "binding": "code-invalid",
    "invariant": "invariant",
    "unknown-resource": "not-supported",
    "profile": "processing",
}


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    """A FHIR R4 OperationOutcome for the issues (one "all OK" issue when there is none).

    ``expression`` holds the path; a requirement ID of the standard goes to
    ``details.text``.
    """
    rows: list[dict[str, Any]] = []
    for issue in issues:
        row: dict[str, Any] = {
            "severity": issue.severity
            if issue.severity in ("fatal", "error", "warning")
            else "information",
            "code": ISSUE_TYPES.get(issue.code, "processing"),
        }
        if issue.requirement:
            row["details"] = {"text": issue.requirement}
        row["diagnostics"] = issue.message
        row["expression"] = [issue.path]
        rows.append(row)
    if not rows:
        rows.append(
            {"severity": "information", "code": "informational", "diagnostics": "No issues found"}
        )
    return {"resourceType": "OperationOutcome", "issue": rows}
