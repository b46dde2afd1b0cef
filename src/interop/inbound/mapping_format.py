"""The inbound mapping file format (名单映射文件格式): its JSON Schema, compiled once, and
``jsonschema``'s messages for a mapping file that breaks it."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import fastjsonschema

if TYPE_CHECKING:  # jsonschema is imported when a check fails (for its messages)
    import jsonschema  # type: ignore[import-untyped,unused-ignore]

__all__ = ["compile_check", "mapping_format", "meta_validator"]


def _mapping_schema() -> Any:
    from interop.resources import mappings_dir

    path = mappings_dir() / "inbound" / "schemas" / "inbound-mapping.schema.json"
    return json.loads(path.read_text("utf-8"))


def compile_check(schema: Any) -> Callable[[Any], bool]:
    """Whether a value is valid by ``schema``, compiled to Python (``fastjsonschema``:
    ``jsonschema`` checks about 6,000 records a second, slower than a large list needs;
    it explains a record that fails). Raises ``JsonSchemaDefinitionException`` for a
    schema that is not one."""
    validate = fastjsonschema.compile(schema)

    def check(value: Any) -> bool:
        try:
            validate(value)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return check


@functools.cache
def mapping_format() -> Callable[[Any], bool]:
    """The mapping format's check, compiled."""
    return compile_check(_mapping_schema())


@functools.cache
def meta_validator() -> jsonschema.Draft202012Validator:
    """The same check by ``jsonschema``, for its messages when a mapping file breaks it."""
    import jsonschema

    return jsonschema.Draft202012Validator(_mapping_schema())
