"""``interop validate FILE`` — a FHIR resource or Bundle against R4 and the profiles."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from interop._errors import InputError
from interop.i18n import _

NAME = "validate"
HELP = "validate a FHIR R4 resource or Bundle (JSON or XML) against base R4 and the profiles"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help=_("FHIR JSON or XML file"))
    parser.add_argument("--json", action="store_true", help=_("print an OperationOutcome"))


def read_fhir_file(path: str) -> dict[str, Any]:
    """Read FHIR JSON or XML; :class:`InputError` (exit 2) when unusable."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(
            _("{path}: cannot read the file ({why})").format(path=p, why=exc.strerror),
            code="E101",
        ) from None
    if raw.lstrip()[:1] == b"<":
        from interop.fhir import release

        return release.loads_xml(raw)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(
            _("{path}: neither valid JSON nor XML").format(path=p), code="E102"
        ) from None
    if not isinstance(data, dict) or "resourceType" not in data:
        raise InputError(
            _("{path}: not a FHIR resource (no resourceType)").format(path=p), code="E105"
        )
    return data


def run(args: argparse.Namespace) -> int:
    # imported here: ``interop --help`` and the parser load no library
    from interop.fhir.outcome import operation_outcome
    from interop.fhir.validate import Validator

    resource = read_fhir_file(args.file)
    # the validator alone (the engine would also load the case-record checks)
    issues = Validator.load().validate(resource)
    if args.json:
        print(json.dumps(operation_outcome(issues), ensure_ascii=False, indent=2))
    else:
        for issue in issues:
            print(issue.line())
        if not issues:
            print(_("{file}: valid").format(file=args.file))
    return 1 if any(i.severity in ("error", "fatal") for i in issues) else 0
