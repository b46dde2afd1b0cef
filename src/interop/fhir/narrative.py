"""Generated narrative (叙述文本, ``Resource.text``) of the resources interop emits.

Every resource carries a short human-readable summary in Chinese, ``status``
``generated``: what a clerk sees when a partner's system shows the resource
without understanding our profiles (FHIR dom-6). It is made from the
resource's own elements only — never from anything else — so a resource cut
down by a purpose filter gets a narrative of what is left in it and nothing
more. Extensions are not rendered: their meaning is in the package's
definitions, not in a one-line summary.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["LANGUAGE", "TYPE_LABELS", "narrative", "with_narrative"]

#: Language of the resources (BCP 47): the displays of the programme's code systems are Chinese.
LANGUAGE = "zh-CN"

_XHTML = "http://www.w3.org/1999/xhtml"

#: Chinese names of the resource types interop emits.
TYPE_LABELS = {
    "Bundle": "资料包",
    "CarePlan": "服务计划",
    "Composition": "结案报告",
    "Condition": "问题",
    "Consent": "知情同意",
    "Encounter": "服务记录",
    "EpisodeOfCare": "个案",
    "Flag": "危机标记",
    "Goal": "服务目标",
    "Observation": "观察",
    "Organization": "机构",
    "Patient": "服务对象",
    "Practitioner": "工作人员",
    "PractitionerRole": "工作人员角色",
    "RelatedPerson": "关系人",
    "RiskAssessment": "风险评估",
    "ServiceRequest": "转介申请",
    "Task": "转介任务",
}

#: Chinese labels of common elements; others are shown by their FHIR name.
_LABELS = {
    "status": "状态",
    "lifecycleStatus": "状态",
    "intent": "意图",
    "category": "类别",
    "type": "类型",
    "code": "代码",
    "name": "名称",
    "title": "标题",
    "identifier": "标识",
    "gender": "性别",
    "birthDate": "出生日期",
    "address": "地址",
    "telecom": "联系方式",
    "relationship": "关系",
    "description": "描述",
    "period": "期间",
    "date": "日期",
    "authoredOn": "申请时间",
    "effectiveDateTime": "观察时间",
    "effectivePeriod": "观察期间",
    "valueString": "结果",
    "valueCodeableConcept": "结果",
    "valueQuantity": "结果",
    "valueInteger": "结果",
    "valueBoolean": "结果",
    "interpretation": "解释",
    "note": "备注",
    "prediction": "预测",
    "reasonCode": "原因",
    "qualification": "资质",
    "active": "有效",
    "target": "目标",
    "scope": "范围",
    "provision": "条款",
    "section": "章节",
    "activity": "活动",
    "goal": "目标",
    "class": "服务场所",
    "serviceType": "服务类型",
    "contact": "联系人",
    "specialty": "专业",
}
_SKIP = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "text",
        "language",
        "extension",
        "modifierExtension",
        "contained",
    }
)
_MAX_VALUE = 300


def _render(value: Any) -> str:
    """Short plain text of one element value (codes by display, references by display)."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list):
        parts = [p for p in (_render(v) for v in value) if p]
        return "；".join(parts)
    if not isinstance(value, dict):
        return ""
    if "text" in value and isinstance(value["text"], str):
        return value["text"]
    if "coding" in value:
        return _render(value["coding"])
    if "display" in value and isinstance(value["display"], str):
        return value["display"]
    if "code" in value and "system" in value:
        return str(value["code"])
    if "value" in value and ("unit" in value or "system" in value):
        return " ".join(str(value[k]) for k in ("value", "unit") if k in value)
    if "value" in value:
        return _render(value["value"])
    if "start" in value or "end" in value:
        return f"{value.get('start', '…')} 至 {value.get('end', '…')}"
    if "reference" in value:
        return ""  # an id says nothing to a reader
    parts = [_render(v) for k, v in value.items() if k not in _SKIP and k not in ("system", "use")]
    return "，".join(p for p in parts if p)


def narrative(resource: dict[str, Any]) -> dict[str, str]:
    """The ``text`` element (status ``generated``) summarising ``resource`` in Chinese."""
    rtype = str(resource.get("resourceType", ""))
    rows = []
    for key, value in resource.items():
        if key in _SKIP:
            continue
        shown = _render(value).strip()
        if not shown:
            continue
        if len(shown) > _MAX_VALUE:
            shown = shown[:_MAX_VALUE] + "…"
        label = _LABELS.get(key, key)
        rows.append(f"<li>{html.escape(label)}：{html.escape(shown)}</li>")
    head = f"<p><b>{html.escape(TYPE_LABELS.get(rtype, rtype))}</b></p>"
    body = f"<ul>{''.join(rows)}</ul>" if rows else ""
    return {
        "status": "generated",
        "div": f'<div xmlns="{_XHTML}" lang="{LANGUAGE}" xml:lang="{LANGUAGE}">{head}{body}</div>',
    }


def with_narrative(resource: dict[str, Any], *, keep: bool = False) -> dict[str, Any]:
    """``resource`` with ``language`` and a generated ``text`` after ``meta`` (FHIR order).

    ``keep``: a ``text`` the resource already has (written by a mapping) stays.
    """
    out: dict[str, Any] = {}
    for key in ("resourceType", "id", "meta"):
        if key in resource:
            out[key] = resource[key]
    out["language"] = LANGUAGE
    out["text"] = resource["text"] if keep and "text" in resource else narrative(resource)
    for key, value in resource.items():
        if key not in out and key not in ("text", "language"):
            out[key] = value
    return out
