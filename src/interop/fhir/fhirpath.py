"""FHIRPath invariants of the profiles, checked and compiled once (FHIRPath 约束表达式).

:func:`compile_expression` checks an expression (syntax, known functions,
known environment variables) and turns it into a function of (resource,
environment) with fhirpathpy. Parsing with ANTLR is the slow part, so the
parsed form of every expression that passed the check is kept in the folder
of :mod:`interop.fhir.diskcache`, keyed by the fhirpathpy version and this
module's source: the next run of the same profiles parses nothing. An
expression is its own key, so changed profiles simply add entries.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from interop.fhir import diskcache

__all__ = ["Compiled", "check_expression", "compile_expression", "fhirpath_node", "flush"]

#: A compiled expression: (context, environment) → FHIRPath result collection.
Compiled = Callable[[Any, dict[str, Any]], list[Any]]

ENV_VARIABLES = frozenset({"resource", "rootResource", "context", "ucum", "sct", "loinc"})


class _SyntaxErrors:
    """ANTLR error listener that raises (fhirpathpy's own one ignores errors)."""

    def syntaxError(  # ANTLR's name
        self, recognizer: Any, symbol: Any, line: int, column: int, msg: str, e: Any
    ) -> None:
        raise ValueError(f"FHIRPath syntax error at column {column + 1}: {msg}")

    def reportAmbiguity(self, *args: Any) -> None:
        return None

    def reportAttemptingFullContext(self, *args: Any) -> None:
        return None

    def reportContextSensitivity(self, *args: Any) -> None:
        return None


def _check_syntax(expression: str) -> None:
    # fhirpathpy and its ANTLR runtime are untyped: used through Any
    fp_parser: Any = importlib.import_module("fhirpathpy.parser")
    antlr: Any = importlib.import_module("antlr4")

    listener = _SyntaxErrors()
    lexer = fp_parser.FHIRPathLexer(antlr.InputStream(expression))
    lexer.removeErrorListeners()
    lexer.addErrorListener(listener)
    parser = fp_parser.FHIRPathParser(antlr.CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    try:
        parser.entireExpression()
    except ValueError:
        raise
    except Exception as exc:  # the lexer raises its own exceptions
        raise ValueError(f"FHIRPath syntax error: {type(exc).__name__}") from exc


def _check_names(tree: Any) -> None:
    """Raise ValueError when the parsed expression names an unknown function
    or environment variable."""
    registry: Any = importlib.import_module("fhirpathpy.engine.invocations")

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if kind == "Functn":
                name = node["children"][0].get("text")
                if name not in registry.invocation_registry:
                    raise ValueError(f"unknown FHIRPath function {name}()")
            elif kind == "ExternalConstant":
                name = str(node["children"][0].get("text", "")).strip("`")
                if name not in ENV_VARIABLES and not name.startswith(("vs-", "ext-")):
                    raise ValueError(f"unknown FHIRPath variable %{name}")
            for child in node.get("children", ()):
                walk(child)

    walk(tree)


def _parse(expression: str) -> Any:
    fp_parser: Any = importlib.import_module("fhirpathpy.parser")
    return fp_parser.parse(expression)


def check_expression(expression: str) -> Any:
    """The parsed form of ``expression``; ValueError when it does not parse or
    names an unknown function or environment variable."""
    _check_syntax(expression)
    tree = _parse(expression)
    _check_names(tree)
    return tree


# ---------------------------------------------------------------------------
# Parsed expressions, kept between runs
# ---------------------------------------------------------------------------

_LOCK = threading.Lock()
_PARSED: dict[str, Any] = {}
_STATE: dict[str, Any] = {}  # "name": cache file name, "dirty": new entries to write


def _cache_name() -> str:
    import fhirpathpy

    source = Path(__file__).read_bytes()
    return f"fhirpath-{diskcache.digest(str(fhirpathpy.__version__), source)}.json"


def _parsed(expression: str) -> Any:
    with _LOCK:
        if "name" not in _STATE:
            _STATE["name"] = _cache_name()
            kept = diskcache.read(_STATE["name"])
            if isinstance(kept, dict):
                _PARSED.update(kept)
        tree = _PARSED.get(expression)
    if tree is not None:
        return tree
    tree = check_expression(expression)
    with _LOCK:
        _PARSED[expression] = tree
        _STATE["dirty"] = True
    return tree


def forget() -> None:
    """Drop the parsed expressions this process keeps (the next use reads the
    cache folder again)."""
    with _LOCK:
        _PARSED.clear()
        _STATE.clear()


def flush() -> None:
    """Keep the newly parsed expressions in the cache folder (if one is chosen)."""
    with _LOCK:
        if _STATE.get("dirty"):
            diskcache.write(_STATE["name"], dict(_PARSED))
            _STATE["dirty"] = False


def compile_expression(expression: str) -> Compiled:
    """``expression`` as a function of (context, environment); ValueError when
    it does not pass :func:`check_expression`."""
    tree = _parsed(expression)
    fhirpathpy: Any = importlib.import_module("fhirpathpy")
    util: Any = importlib.import_module("fhirpathpy.engine.util")
    models: Any = importlib.import_module("fhirpathpy.models")
    _resource_node()
    compiled: Compiled = util.set_paths(
        fhirpathpy.apply_parsed_path, parsedPath=tree, model=models.models["r4"]
    )
    return compiled


@functools.cache
def _resource_node() -> Any:
    """fhirpathpy's ResourceNode class (imported once, at load)."""
    nodes: Any = importlib.import_module("fhirpathpy.engine.nodes")
    return nodes.ResourceNode


def fhirpath_node(value: Any, type_path: str | None) -> Any:
    """Wrap an element so that FHIRPath knows its type (for value[x] and ofType)."""
    if type_path is None or not isinstance(value, dict):
        return value
    return _resource_node().create_node(value, type_path)
