"""The one FHIR release interop speaks: R4 (4.0.1), through ``fhir.resources.R4B``.

This is the only module in the project that imports ``fhir.resources``. The
top-level ``fhir.resources`` package is R5; its ``R4B`` package is
wire-compatible with R4 for the resources this programme uses (checked
element by element against the official R4 JSON Schema; the differences are
R4B-only choice types such as ``Extension.valueCodeableReference`` and
``Task.input.valueMeta``, which :mod:`interop.fhir.structure` rejects; the shapes of the types are
in :mod:`interop.fhir.shapes`, which uses this module and not the reverse).

Nothing is imported from ``fhir.resources`` until a function here is called.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from interop._errors import InputError

#: FHIR version on the wire.
FHIR_VERSION = "4.0.1"

#: Resource types of R4 (4.0.1) that ``fhir.resources.R4B`` also models.
#: R4 types absent from R4B (``MedicinalProduct*``, ``Substance{NucleicAcid,
#: Polymer,Protein,ReferenceInformation,SourceMaterial,Specification}``,
#: ``EffectEvidenceSynthesis``, ``RiskEvidenceSynthesis``) and R4B-only types
#: (``Citation``, ``SubscriptionTopic``, ...) are not supported.
RESOURCE_TYPES: frozenset[str] = frozenset(
    [
        "Account",
        "ActivityDefinition",
        "AdverseEvent",
        "AllergyIntolerance",
        "Appointment",
        "AppointmentResponse",
        "AuditEvent",
        "Basic",
        "Binary",
        "BiologicallyDerivedProduct",
        "BodyStructure",
        "Bundle",
        "CapabilityStatement",
        "CarePlan",
        "CareTeam",
        "CatalogEntry",
        "ChargeItem",
        "ChargeItemDefinition",
        "Claim",
        "ClaimResponse",
        "ClinicalImpression",
        "CodeSystem",
        "Communication",
        "CommunicationRequest",
        "CompartmentDefinition",
        "Composition",
        "ConceptMap",
        "Condition",
        "Consent",
        "Contract",
        "Coverage",
        "CoverageEligibilityRequest",
        "CoverageEligibilityResponse",
        "DetectedIssue",
        "Device",
        "DeviceDefinition",
        "DeviceMetric",
        "DeviceRequest",
        "DeviceUseStatement",
        "DiagnosticReport",
        "DocumentManifest",
        "DocumentReference",
        "Encounter",
        "Endpoint",
        "EnrollmentRequest",
        "EnrollmentResponse",
        "EpisodeOfCare",
        "EventDefinition",
        "Evidence",
        "EvidenceVariable",
        "ExampleScenario",
        "ExplanationOfBenefit",
        "FamilyMemberHistory",
        "Flag",
        "Goal",
        "GraphDefinition",
        "Group",
        "GuidanceResponse",
        "HealthcareService",
        "ImagingStudy",
        "Immunization",
        "ImmunizationEvaluation",
        "ImmunizationRecommendation",
        "ImplementationGuide",
        "InsurancePlan",
        "Invoice",
        "Library",
        "Linkage",
        "List",
        "Location",
        "Measure",
        "MeasureReport",
        "Media",
        "Medication",
        "MedicationAdministration",
        "MedicationDispense",
        "MedicationKnowledge",
        "MedicationRequest",
        "MedicationStatement",
        "MessageDefinition",
        "MessageHeader",
        "MolecularSequence",
        "NamingSystem",
        "NutritionOrder",
        "Observation",
        "ObservationDefinition",
        "OperationDefinition",
        "OperationOutcome",
        "Organization",
        "OrganizationAffiliation",
        "Parameters",
        "Patient",
        "PaymentNotice",
        "PaymentReconciliation",
        "Person",
        "PlanDefinition",
        "Practitioner",
        "PractitionerRole",
        "Procedure",
        "Provenance",
        "Questionnaire",
        "QuestionnaireResponse",
        "RelatedPerson",
        "RequestGroup",
        "ResearchDefinition",
        "ResearchElementDefinition",
        "ResearchStudy",
        "ResearchSubject",
        "RiskAssessment",
        "Schedule",
        "SearchParameter",
        "ServiceRequest",
        "Slot",
        "Specimen",
        "SpecimenDefinition",
        "StructureDefinition",
        "StructureMap",
        "Subscription",
        "Substance",
        "SupplyDelivery",
        "SupplyRequest",
        "Task",
        "TerminologyCapabilities",
        "TestReport",
        "TestScript",
        "ValueSet",
        "VerificationResult",
        "VisionPrescription",
    ]
)

# Only names made of letters can be FHIR type names; anything else is not
# even looked up (fhir.resources would import an arbitrary module path).
_TYPE_NAME = re.compile(r"[A-Z][A-Za-z]{0,63}")
_NON_ASCII_CHARREF = re.compile(r"&#(x[0-9A-Fa-f]+|[0-9]+);")


def is_resource_type(name: object) -> bool:
    """``name`` is an R4 resource type interop supports (imports no model)."""
    return isinstance(name, str) and name in RESOURCE_TYPES


def model_class(resource_type: str) -> type | None:
    """The R4B model class of a resource type, or ``None`` if R4 has no such type."""
    if resource_type not in RESOURCE_TYPES:
        return None
    return datatype_class(resource_type)


@cache
def datatype_class(type_name: str) -> type | None:
    """The R4B model class of any type name (resource, datatype or backbone
    element such as ``CarePlanActivityDetail``), or ``None`` if unknown."""
    if not isinstance(type_name, str) or not _TYPE_NAME.fullmatch(type_name):
        return None
    from fhir.resources import R4B

    try:
        cls: type = R4B.get_fhir_model_class(type_name)
    except (KeyError, ValueError, AttributeError, ImportError):
        return None
    return cls


def _resource_class(resource: Any) -> type:
    if not isinstance(resource, dict):
        raise InputError("a FHIR resource must be a JSON object")
    rtype = resource.get("resourceType")
    cls = model_class(rtype) if isinstance(rtype, str) else None
    if cls is None:
        raise InputError("unknown or missing resourceType")
    return cls


def _plain_errors(exc: Exception) -> str:
    """Location and kind of pydantic errors, never the input values."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return type(exc).__name__
    parts = []
    for err in errors(include_input=False, include_url=False)[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{loc or '(root)'}: {err.get('type', 'invalid')}")
    return "; ".join(parts)


def to_model(resource: dict[str, Any]) -> Any:
    """Parse a resource dict into its ``fhir.resources`` R4B model.

    Raises :class:`~interop._errors.InputError` with the element locations and
    error kinds (never the values) when the resource is not valid R4.
    """
    cls = _resource_class(resource)
    from pydantic import ValidationError as PydanticValidationError

    try:
        return cls.model_validate(resource)  # type: ignore[attr-defined]
    except PydanticValidationError as exc:
        raise InputError(f"{cls.__name__} is not valid FHIR R4: {_plain_errors(exc)}") from exc
    except (KeyError, ValueError, TypeError) as exc:
        # fhir.resources raises a bare KeyError on an unknown nested resourceType
        raise InputError(f"{cls.__name__} is not valid FHIR R4: {type(exc).__name__}") from exc


def to_json(model: Any) -> dict[str, Any]:
    """A model back to a plain JSON dict (no ``fhir_comments``)."""
    data: dict[str, Any] = json.loads(model.model_dump_json(exclude_comments=True))
    return data


def dumps_xml(resource: dict[str, Any]) -> bytes:
    """Serialise a resource dict as FHIR XML (UTF-8, with XML declaration).

    Goes through the R4B model, so an invalid resource raises
    :class:`~interop._errors.InputError`. Normalisations on the way:
    dateTime/instant fractions of a second are written with six digits,
    ``Z`` as ``+00:00``, and decimals that were integers in JSON as ``n.0``.
    """
    model = to_model(resource)
    xml = model.model_dump_xml()
    return xml if isinstance(xml, bytes) else str(xml).encode("utf-8")


def _xml_parser() -> Any:
    from lxml import etree

    # No DTDs, no entities, no network: XML from partners is untrusted.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )


def _unescape_div(match: re.Match[str]) -> str:
    ref = match.group(1)
    code = int(ref[1:], 16) if ref[0] == "x" else int(ref)
    # Only characters that never need escaping in XML text are restored.
    return chr(code) if code > 127 else match.group(0)


def _restore_divs(node: Any) -> None:
    """lxml writes non-ASCII characters of the narrative as ``&#NNNN;``;
    give them back as characters so that XML → JSON keeps the text as sent."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "div" and isinstance(value, str):
                node[key] = _NON_ASCII_CHARREF.sub(_unescape_div, value)
            else:
                _restore_divs(value)
    elif isinstance(node, list):
        for item in node:
            _restore_divs(item)


def loads_xml(data: bytes) -> dict[str, Any]:
    """Parse FHIR XML into a plain JSON dict (the resource type is the root tag).

    Raises :class:`~interop._errors.InputError` when the XML is malformed, is
    not in the FHIR namespace, names an unknown resource type or is not valid R4.
    """
    from lxml import etree
    from pydantic import ValidationError as PydanticValidationError

    parser = _xml_parser()
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"not well-formed XML (line {exc.lineno})") from exc
    qname = etree.QName(root)
    if qname.namespace != "http://hl7.org/fhir":
        raise InputError("the root element is not in the FHIR namespace http://hl7.org/fhir")
    cls = model_class(qname.localname)
    if cls is None:
        raise InputError(f"unknown resource type {qname.localname!r}")
    try:
        model = cls.model_validate_xml(data, xmlparser=_xml_parser())  # type: ignore[attr-defined]
    except PydanticValidationError as exc:
        raise InputError(f"{cls.__name__} is not valid FHIR R4: {_plain_errors(exc)}") from exc
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise InputError(
            f"{cls.__name__} XML does not follow the FHIR R4 XML format ({type(exc).__name__})"
        ) from exc
    out = to_json(model)
    _restore_divs(out)
    return out
