"""One terminology data file while it is read and checked (术语文件): its name, prefix and
id agree with its content, and every error names the file, the entry and the problem
(see :mod:`interop.fhir.terminology`, which indexes what these files hold).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from interop._errors import DataFileError
from interop.datafile import read_data_file

__all__ = ["PREFIXES", "TerminologyFile", "entry_path", "read_file"]

#: The kinds of terminology file, each the prefix of its file names.
PREFIXES = ("CodeSystem", "ValueSet", "ConceptMap")


class TerminologyFile:
    """One data file while it is checked: carries its name for error messages."""

    __slots__ = ("name", "resource")

    def __init__(self, name: str, resource: dict[str, Any]) -> None:
        self.name = name
        self.resource = resource

    def error(self, entry: str, problem: str) -> DataFileError:
        return DataFileError(self.name, entry, problem)

    def text(self, obj: Mapping[str, Any], key: str, entry: str) -> str:
        value = obj.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(entry, f"{key} is missing or empty")
        return value

    def items(self, obj: Mapping[str, Any], key: str, entry: str) -> list[Any]:
        value = obj.get(key, [])
        if not isinstance(value, list):
            raise self.error(entry, f"{key} must be a list")
        return value

    def objects(self, obj: Mapping[str, Any], key: str, entry: str) -> Iterator[tuple[int, Any]]:
        for i, item in enumerate(self.items(obj, key, entry)):
            if not isinstance(item, dict):
                raise self.error(entry_path(entry, key, i), "must be a JSON object")
            yield i, item


def entry_path(parent: str, key: str, index: int) -> str:
    """Where item ``index`` of list ``key`` of ``parent`` is, as errors name it."""
    return f"{key}[{index}]" if parent == "resource" else f"{parent}.{key}[{index}]"


def read_file(path: Path, name: str) -> tuple[str, TerminologyFile]:
    """Parse one file and check its resourceType against its name prefix."""
    prefix = path.name.split("-", 1)[0]
    if prefix not in PREFIXES or "-" not in path.name:
        raise DataFileError(
            name, "file name", "must start with CodeSystem-, ValueSet- or ConceptMap-"
        )
    resource = read_data_file(path, name)[1]
    kind = resource.get("resourceType")
    if kind != prefix:
        raise DataFileError(name, "resourceType", f"is {kind!r} but the file name says {prefix}")
    file = TerminologyFile(name, resource)
    expected_id = path.stem.split("-", 1)[1]
    if resource.get("id") != expected_id:
        raise file.error("id", f"is {resource.get('id')!r} but the file name says {expected_id!r}")
    return prefix, file
