"""The programme's terminology (术语): CodeSystems, ValueSets and ConceptMaps as data.

The files live in ``profiles/terminology/`` as FHIR R4 JSON resources, one per file,
named ``CodeSystem-<id>.json``, ``ValueSet-<id>.json`` and ``ConceptMap-<id>.json``.
:meth:`Terminology.load` reads and checks them all once and precomputes every index,
so lookups are plain dictionary reads:

- concepts by (system, code), hierarchies flattened with their ``parent``;
- a per-system text index over codes, Chinese and English displays and synonym
  designations, for reading the messy text of civil-affairs spreadsheets;
- every ValueSet expanded to a frozenset of (system, code);
- every ConceptMap as a (system, code) → (system, code) table.

Any problem in a file raises :class:`interop._errors.DataFileError` naming the file
(relative to the profiles folder), the entry (e.g. ``concept[3] "high"``) and the
problem. Nothing is read at import time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interop._errors import DataFileError
from interop.fhir.terminology_files import PREFIXES, TerminologyFile, entry_path, read_file
from interop.resources import profiles_dir

__all__ = ["SYNONYM_USE", "Concept", "Terminology"]

#: SNOMED CT designation use "Synonym", used for alternative Chinese (and English) forms.
SYNONYM_USE = ("http://snomed.info/sct", "900000000000013009")

_SPACES = re.compile(r"\s+")
# R4 ConceptMapEquivalence; the last two mean "no mapping".
_EQUIVALENCES = frozenset(
    {
        "relatedto",
        "equivalent",
        "equal",
        "wider",
        "subsumes",
        "narrower",
        "specializes",
        "inexact",
        "unmatched",
        "disjoint",
    }
)
_NO_MAP = frozenset({"unmatched", "disjoint"})
_FILTER_OPS = frozenset({"is-a", "descendent-of", "="})


@dataclass(frozen=True, slots=True)
class Concept:
    """One concept of a loaded CodeSystem (hierarchies are flattened)."""

    system: str
    code: str
    display: str
    display_en: str | None
    synonyms: tuple[str, ...]
    parent: str | None


def _normalise(text: str) -> str:
    """Key for free-text matching: NFKC, trimmed, inner whitespace collapsed, casefolded."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def _is_lang(tag: object, lang: str) -> bool:
    return isinstance(tag, str) and (tag == lang or tag.startswith(lang + "-"))


class Terminology:
    """All loaded terminology, checked and indexed; immutable after :meth:`load`."""

    __slots__ = (
        "_case_insensitive",
        "_children",
        "_concepts",
        "_folded",
        "_maps",
        "_text",
        "_vs_codes",
        "_vs_pairs",
    )

    def __init__(self) -> None:
        # system -> code -> Concept
        self._concepts: dict[str, dict[str, Concept]] = {}
        # system -> code -> direct child codes
        self._children: dict[str, dict[str, list[str]]] = {}
        # system -> normalised text -> code
        self._text: dict[str, dict[str, str]] = {}
        # systems with caseSensitive false: system -> casefolded code -> code
        self._folded: dict[str, dict[str, str]] = {}
        self._case_insensitive: frozenset[str] = frozenset()
        self._vs_pairs: dict[str, frozenset[tuple[str, str]]] = {}
        self._vs_codes: dict[str, frozenset[str]] = {}
        # conceptmap url -> (system, code) -> (system, code) | None (explicitly unmatched)
        self._maps: dict[str, dict[tuple[str, str], tuple[str, str] | None]] = {}

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, directory: Path | None = None) -> Terminology:
        """Read, check and index every terminology file in ``directory``.

        The default is ``profiles/terminology``. File names in errors are relative to the
        folder above ``directory`` (the profiles folder for the default).
        """
        if directory is None:
            directory = profiles_dir() / "terminology"
        if not directory.is_dir():
            raise DataFileError(directory.name, "folder", "terminology folder not found")
        files: dict[str, list[TerminologyFile]] = {prefix: [] for prefix in PREFIXES}
        for path in sorted(directory.glob("*.json")):
            prefix, file = read_file(path, f"{directory.name}/{path.name}")
            files[prefix].append(file)

        self = cls()
        cs_urls: dict[str, str] = {}
        for file in files["CodeSystem"]:
            self._add_codesystem(file, cs_urls)
        self._case_insensitive = frozenset(self._folded)

        vs_defs: dict[str, TerminologyFile] = {}
        for file in files["ValueSet"]:
            url = file.text(file.resource, "url", "url")
            if url in vs_defs:
                raise file.error("url", f"{url} is also defined in {vs_defs[url].name}")
            vs_defs[url] = file
        for url in vs_defs:
            self._expand(url, vs_defs, ())

        for file in files["ConceptMap"]:
            self._add_conceptmap(file)
        return self

    def _add_codesystem(self, file: TerminologyFile, seen: dict[str, str]) -> None:
        res = file.resource
        url = file.text(res, "url", "url")
        if url in seen:
            raise file.error("url", f"{url} is also defined in {seen[url]}")
        seen[url] = file.name
        if "concept" in res and not isinstance(res["concept"], list):
            raise file.error("concept", "concept must be a list")
        concepts: dict[str, Concept] = {}
        children: dict[str, list[str]] = {}
        text: dict[str, str] = {}
        where: dict[str, str] = {}

        def index(key_text: str, code: str, entry: str) -> None:
            key = _normalise(key_text)
            if not key:
                return
            other = text.get(key)
            if other is not None and other != code:
                raise file.error(
                    entry,
                    f'text "{key_text}" also names concept "{other}" ({where[other]}); '
                    "text matching would be ambiguous",
                )
            text[key] = code

        def walk(obj: Mapping[str, Any], entry: str, parent: str | None) -> None:
            for i, item in file.objects(obj, "concept", entry):
                item_path = entry_path(entry, "concept", i)
                code = item.get("code")
                if not isinstance(code, str) or not code.strip() or code != code.strip():
                    raise file.error(item_path, "code is missing, empty or has spaces around it")
                item_entry = f'{item_path} "{code}"'
                if code in concepts:
                    raise file.error(
                        item_entry, f'duplicate code "{code}" (first at {where[code]})'
                    )
                display = file.text(item, "display", item_entry)
                display_en: str | None = None
                synonyms: list[str] = []
                for j, des in file.objects(item, "designation", item_path):
                    des_entry = f"{item_path}.designation[{j}]"
                    value = file.text(des, "value", des_entry)
                    use = des.get("use")
                    is_synonym = isinstance(use, dict) and (
                        (use.get("system"), use.get("code")) == SYNONYM_USE
                    )
                    if (
                        display_en is None
                        and not is_synonym
                        and _is_lang(des.get("language"), "en")
                    ):
                        display_en = value
                    elif value != display:
                        synonyms.append(value)
                where[code] = item_entry
                concepts[code] = Concept(
                    system=url,
                    code=code,
                    display=display,
                    display_en=display_en,
                    synonyms=tuple(dict.fromkeys(synonyms)),
                    parent=parent,
                )
                children.setdefault(code, [])
                if parent is not None:
                    children[parent].append(code)
                for key_text in (code, display, display_en, *synonyms):
                    if key_text is not None:
                        index(key_text, code, item_entry)
                walk(item, item_path, code)

        walk(res, "resource", None)
        self._concepts[url] = concepts
        self._children[url] = children
        self._text[url] = text
        if res.get("caseSensitive") is False:
            folded: dict[str, str] = {}
            for code in concepts:
                other = folded.setdefault(code.casefold(), code)
                if other != code:
                    raise file.error(
                        where[code],
                        f'code differs from "{other}" only by case '
                        "in a case-insensitive CodeSystem",
                    )
            self._folded[url] = folded

    def _expand(
        self, url: str, defs: Mapping[str, TerminologyFile], stack: tuple[str, ...]
    ) -> frozenset[tuple[str, str]]:
        done = self._vs_pairs.get(url)
        if done is not None:
            return done
        file = defs[url]
        if url in stack:
            raise file.error("compose", "ValueSet includes itself (directly or through others)")
        compose = file.resource.get("compose")
        if not isinstance(compose, dict):
            raise file.error(
                "compose", "compose is missing (only composed ValueSets are supported)"
            )
        includes = list(file.objects(compose, "include", "compose"))
        if not includes:
            raise file.error("compose", "compose.include is empty")
        pairs: set[tuple[str, str]] = set()
        for i, inc in includes:
            pairs |= self._compose_part(file, inc, f"compose.include[{i}]", defs, (*stack, url))
        for i, exc in file.objects(compose, "exclude", "compose"):
            pairs -= self._compose_part(file, exc, f"compose.exclude[{i}]", defs, (*stack, url))
        result = frozenset(pairs)
        self._vs_pairs[url] = result
        self._vs_codes[url] = frozenset(code for _, code in result)
        return result

    def _compose_part(
        self,
        file: TerminologyFile,
        part: Mapping[str, Any],
        entry: str,
        defs: Mapping[str, TerminologyFile],
        stack: tuple[str, ...],
    ) -> set[tuple[str, str]]:
        system = part.get("system")
        if system is not None and (not isinstance(system, str) or not system):
            raise file.error(entry, "system must be a non-empty string")
        vs_refs = file.items(part, "valueSet", entry)
        if system is None and not vs_refs:
            raise file.error(entry, "needs a system or a valueSet")
        listed = list(file.objects(part, "concept", entry))
        filters = list(file.objects(part, "filter", entry))
        if listed and filters:
            raise file.error(entry, "cannot list concepts and filters together")
        if (listed or filters) and system is None:
            raise file.error(entry, "concepts and filters need a system")

        result: set[tuple[str, str]] | None = None
        if system is not None:
            concepts = self._concepts.get(system)
            if listed:
                result = set()
                for j, item in listed:
                    code = file.text(item, "code", f"{entry}.concept[{j}]")
                    if concepts is not None and code not in concepts:
                        raise file.error(
                            f'{entry}.concept[{j}] "{code}"',
                            f"code is not in the CodeSystem {system}",
                        )
                    result.add((system, code))
            elif concepts is None:
                raise file.error(
                    entry,
                    f"CodeSystem {system} is not loaded; list its codes explicitly",
                )
            elif filters:
                codes = set(concepts)
                for j, flt in filters:
                    codes &= self._apply_filter(file, flt, f"{entry}.filter[{j}]", system)
                result = {(system, code) for code in codes}
            else:
                result = {(system, code) for code in concepts}
        for j, ref in enumerate(vs_refs):
            if not isinstance(ref, str) or ref.split("|")[0] not in defs:
                raise file.error(f"{entry}.valueSet[{j}]", f"ValueSet {ref} is not loaded")
            other = set(self._expand(ref.split("|")[0], defs, stack))
            result = other if result is None else result & other
        return result if result is not None else set()

    def _apply_filter(
        self, file: TerminologyFile, flt: Mapping[str, Any], entry: str, system: str
    ) -> set[str]:
        prop = file.text(flt, "property", entry)
        op = file.text(flt, "op", entry)
        value = file.text(flt, "value", entry)
        if prop != "concept" or op not in _FILTER_OPS:
            raise file.error(
                entry, f'unsupported filter "{prop} {op}" (only concept is-a, descendent-of, =)'
            )
        if value not in self._concepts[system]:
            raise file.error(entry, f'filter value "{value}" is not in the CodeSystem {system}')
        if op == "=":
            return {value}
        found = set(self._descendants(system, value))
        if op == "is-a":
            found.add(value)
        return found

    def _descendants(self, system: str, code: str) -> Iterable[str]:
        for child in self._children[system][code]:
            yield child
            yield from self._descendants(system, child)

    def _add_conceptmap(self, file: TerminologyFile) -> None:
        res = file.resource
        url = file.text(res, "url", "url")
        if url in self._maps:
            raise file.error("url", f"{url} is defined twice")
        table: dict[tuple[str, str], tuple[str, str] | None] = {}
        groups = list(file.objects(res, "group", "resource"))
        if not groups:
            raise file.error("group", "a ConceptMap needs at least one group")
        for g, group in groups:
            g_entry = f"group[{g}]"
            source = file.text(group, "source", g_entry)
            target = file.text(group, "target", g_entry)
            src_concepts = self._concepts.get(source)
            tgt_concepts = self._concepts.get(target)
            for e, element in file.objects(group, "element", g_entry):
                e_path = f"{g_entry}.element[{e}]"
                code = file.text(element, "code", e_path)
                e_entry = f'{e_path} "{code}"'
                if src_concepts is not None and code not in src_concepts:
                    raise file.error(e_entry, f"code is not in the CodeSystem {source}")
                if (source, code) in table:
                    raise file.error(e_entry, "code is mapped twice")
                mapped: tuple[str, str] | None = None
                targets = list(file.objects(element, "target", e_path))
                if not targets:
                    raise file.error(e_entry, "element has no target")
                for t, tgt in targets:
                    t_entry = f"{e_path}.target[{t}]"
                    equivalence = tgt.get("equivalence")
                    if equivalence not in _EQUIVALENCES:
                        raise file.error(t_entry, f"equivalence {equivalence!r} is not valid")
                    tcode = tgt.get("code")
                    if equivalence in _NO_MAP:
                        continue
                    if not isinstance(tcode, str) or not tcode:
                        raise file.error(t_entry, f"a {equivalence} target needs a code")
                    if tgt_concepts is not None and tcode not in tgt_concepts:
                        raise file.error(
                            f'{t_entry} "{tcode}"', f"code is not in the CodeSystem {target}"
                        )
                    if mapped is None:
                        mapped = (target, tcode)
                table[(source, code)] = mapped
            if "unmapped" in group:
                raise file.error(
                    f"{g_entry}.unmapped",
                    "group.unmapped is not supported; list every code, marked unmatched if need be",
                )
        self._maps[url] = table

    # ------------------------------------------------------------------ queries

    def has_codesystem(self, url: str) -> bool:
        return url in self._concepts

    def lookup(self, system: str, code: str) -> Concept | None:
        """The concept, or None when the system is not loaded or has no such code."""
        concepts = self._concepts.get(system)
        if concepts is None:
            return None
        found = concepts.get(code)
        if found is None and system in self._case_insensitive:
            real = self._folded[system].get(code.casefold())
            if real is not None:
                found = concepts[real]
        return found

    def display(self, system: str, code: str, lang: str = "zh") -> str | None:
        """Display in Chinese (``zh``, the default) or English (``en``).

        None when the code is unknown, or for ``en`` when the concept has no English
        designation.
        """
        concept = self.lookup(system, code)
        if concept is None:
            return None
        if _is_lang(lang, "zh"):
            return concept.display
        if _is_lang(lang, "en"):
            return concept.display_en
        raise ValueError(f"unsupported display language {lang!r} (use 'zh' or 'en')")

    def code_for_text(self, system: str, text: str) -> str | None:
        """The code whose code, display (zh or en) or synonym matches ``text``.

        Matching ignores surrounding and repeated whitespace, full-width forms and (for
        Latin letters) case. None when the system is not loaded or nothing matches.
        """
        concepts = self._concepts.get(system)
        if concepts is None:
            return None
        stripped = text.strip()
        if stripped in concepts:
            return stripped
        return self._text[system].get(_normalise(text))

    def has_valueset(self, url: str) -> bool:
        return url in self._vs_pairs

    def valueset_codes(self, url: str) -> frozenset[tuple[str, str]]:
        """The expansion of a loaded ValueSet as (system, code) pairs.

        Raises KeyError for a ValueSet that is not loaded.
        """
        try:
            return self._vs_pairs[url]
        except KeyError:
            raise KeyError(f"ValueSet {url} is not loaded") from None

    def in_valueset(self, url: str, system: str | None, code: str) -> bool:
        """Whether (system, code) is in the ValueSet; ``system=None`` matches any system.

        Raises KeyError for a ValueSet that is not loaded.
        """
        if system is None:
            codes = self._vs_codes.get(url)
            if codes is None:
                raise KeyError(f"ValueSet {url} is not loaded")
            return code in codes
        pairs = self._vs_pairs.get(url)
        if pairs is None:
            raise KeyError(f"ValueSet {url} is not loaded")
        return (system, code) in pairs

    def translate(self, conceptmap_url: str, system: str, code: str) -> tuple[str, str] | None:
        """Target (system, code) of the first usable mapping, or None when unmapped.

        Codes marked ``unmatched`` or ``disjoint`` and codes the map does not list give
        None. Raises KeyError for a ConceptMap that is not loaded.
        """
        table = self._maps.get(conceptmap_url)
        if table is None:
            raise KeyError(f"ConceptMap {conceptmap_url} is not loaded")
        return table.get((system, code))

    def has_conceptmap(self, url: str) -> bool:
        return url in self._maps

    def codesystems(self) -> list[str]:
        return sorted(self._concepts)

    def valuesets(self) -> list[str]:
        return sorted(self._vs_pairs)
