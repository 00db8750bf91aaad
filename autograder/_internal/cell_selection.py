"""Which cells of a submission must run to grade it.

A submitted notebook carries the whole course text: tutorial cells that demonstrate
and print, and compile a dozen jax functions on the way (about a second per
submission). The notebook tells students that their answers may rely on its imports
cell only, so the grader runs a tutorial cell only when something that runs reads a
name it binds. A cell counts as tutorial only when its text is exactly a tutorial
cell of the assignment: a cell the student changed always runs, and so does every
tutorial cell it reads from. Cells that look names up by string (``globals()``,
``eval``, ...) make every cell run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import symtable
from collections.abc import Iterable

from autograder._internal.loading import Cell

# Calls that can read any global by name: with one of these, no cell is skipped.
_DYNAMIC_LOOKUPS = frozenset({"globals", "locals", "vars", "eval", "exec", "dir", "__import__"})


def cell_digest(source: str) -> str:
    """A digest of a cell's text that ignores trailing spaces and blank lines at either end."""
    lines = [line.rstrip() for line in source.strip("\n").splitlines()]
    return hashlib.sha256("\n".join(lines).strip("\n").encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class CellNames:
    """The global names a cell binds and the global names it reads (anywhere, function bodies too)."""

    binds: frozenset[str]
    reads: frozenset[str]


def cell_names(source: str) -> CellNames | None:
    """The names ``source`` binds and reads as a module, or None when it does not parse."""
    try:
        table = symtable.symtable(source, "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    binds, reads = set(), set()
    for symbol in table.get_symbols():
        if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace():
            binds.add(symbol.get_name())
        if symbol.is_referenced():
            reads.add(symbol.get_name())
    pending = list(table.get_children())
    while pending:
        scope = pending.pop()
        pending.extend(scope.get_children())
        for symbol in scope.get_symbols():
            if symbol.is_global() and symbol.is_assigned():  # `global name` in a function
                binds.add(symbol.get_name())
            if symbol.is_global() and symbol.is_referenced():
                reads.add(symbol.get_name())
    return CellNames(frozenset(binds), frozenset(reads))


def top_level_names(source: str) -> frozenset[str]:
    """The global names a piece of code binds (an answer stub: the names the grader looks up)."""
    names = cell_names(source)
    return names.binds if names else frozenset()


def select_cells(cells: list[Cell], tutorial_digests: Iterable[str], required: Iterable[str]) -> list[Cell]:
    """``cells`` without the unchanged tutorial cells that nothing graded depends on, in order.

    Args:
        tutorial_digests: ``cell_digest`` of every tutorial code cell of the assignment.
        required: the names the grader reads from the submission (answers).
    """
    tutorial = set(tutorial_digests)
    names = {index: cell_names(cell.source) for index, cell in enumerate(cells)}
    optional = {index for index, cell in enumerate(cells)
                if names[index] is not None and cell_digest(cell.source) in tutorial}
    needed = set(required)
    for index in range(len(cells)):
        if index not in optional and names[index] is not None:
            needed |= names[index].reads
    kept: set[int] = set()
    changed = True
    while changed:
        changed = False
        for index in sorted(optional - kept):
            if names[index].binds & needed:
                kept.add(index)
                needed |= names[index].reads
                changed = True
    if needed & _DYNAMIC_LOOKUPS:
        return list(cells)
    return [cell for index, cell in enumerate(cells) if index not in optional or index in kept]
