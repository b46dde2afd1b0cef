"""No import cycles in ``interop``: two modules never import each other, directly or
through others — imports inside functions and for type checking count too (an import
deferred to break a cycle only hides it).

An allow-list would name a cycle that must stay, with its reason; an entry that is no
longer a cycle fails too, so the list only shrinks.
"""

from __future__ import annotations

import grimp

#: Cycles still present (their modules), and why they are not broken: none now; a new one
#: needs its reason here.
STILL_CYCLIC: dict[frozenset[str], str] = {}


def cycles(graph: grimp.ImportGraph) -> set[frozenset[str]]:
    """Each import ``a -> b`` with a way back from ``b`` to ``a``: the modules of the
    shortest such cycle (grimp answers both questions; no graph code of our own)."""
    found: set[frozenset[str]] = set()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                found.add(frozenset(back))
    return found


def _interop_cycles() -> set[frozenset[str]]:
    return cycles(grimp.build_graph("interop", cache_dir=None))


def test_no_import_cycles() -> None:
    found = _interop_cycles()
    new = sorted(sorted(c) for c in found if c not in STILL_CYCLIC)
    assert not new, f"import cycles (break them, e.g. move the shared names to a module): {new}"
    stale = [sorted(c) for c in STILL_CYCLIC if c not in found]
    assert not stale, f"no longer cycles: remove them from STILL_CYCLIC {stale}"


def test_the_cycle_finder_finds_a_cycle_through_three_modules() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in (("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "d")):
        graph.add_import(importer=importer, imported=imported)
    assert cycles(graph) == {frozenset({"a", "b", "c"})}
