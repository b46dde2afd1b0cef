"""Every field of a step's form page has the standard's name (a catalogue msgid with a
zh_CN translation); English keeps the property name."""

from __future__ import annotations

from interop.casework.step_input import STEPS, input_schema
from interop.i18n import translate
from interop.web.field_labels import LABELS
from interop.web.step_form import fields_of


def test_every_step_field_has_a_chinese_label() -> None:
    for step in STEPS:
        for f in fields_of(input_schema(step)):
            assert f.label == LABELS.get(f.name), (step, f.name)
            said = translate(f.label, "zh_CN")
            assert said != f.label and any("\u4e00" <= ch <= "\u9fff" for ch in said), f.name


def test_a_few_labels_are_the_standards_words() -> None:
    said = {n: translate(LABELS[n], "zh_CN") for n in ("process", "effect", "staff", "method")}
    assert said == {"process": "服务过程", "effect": "服务效果", "staff": "服务人员",
                    "method": "服务方式"}  # fmt: skip
