"""Running a submission's cells in one namespace, and choosing which cells need to run."""

from __future__ import annotations

import builtins
import contextlib
import io
from collections.abc import Iterable
from typing import Any

from autograder._internal.cells import Cell, CellError, cell_digest, cell_names
from autograder._internal.outcomes import describe_error

# Calls that can read any global by name: with one of these, no cell is skipped.
_DYNAMIC_LOOKUPS = frozenset({"globals", "locals", "vars", "eval", "exec", "dir", "__import__"})


def execute_cells(cells: list[Cell], module_name: str = "__main__") -> tuple[dict[str, Any], list[CellError]]:
    """Run ``cells`` in one fresh namespace; return it and the errors of the cells that failed.

    Output printed by the student's code is discarded: it is not the grader's to read.
    """
    namespace: dict[str, Any] = {"__name__": module_name, "__builtins__": builtins}
    errors: list[CellError] = []
    for cell in cells:
        filename = f"<submission {cell.label}>" if cell.label != "file" else "<submission>"
        try:
            code = compile(cell.source, filename, "exec")
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            detail = f"{exc.msg} (line {exc.lineno})" if isinstance(exc, SyntaxError) else str(exc)[:200]
            errors.append(CellError(cell.label, f"{type(exc).__name__}: {detail}"))
            continue
        sink = io.StringIO()
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                exec(code, namespace)  # noqa: S102 - this *is* the student stage's job
        except (Exception, SystemExit) as exc:
            errors.append(CellError(cell.label, describe_error(exc)))
    return namespace, errors


def select_cells(cells: list[Cell], tutorial_digests: Iterable[str], required: Iterable[str]) -> list[Cell]:
    """``cells`` without the unchanged tutorial cells that nothing graded depends on, in order.

    A notebook carries the whole course text, whose cells demonstrate, print and compile
    (about a second per submission). The notebook tells students that their answers may
    rely on its imports cell only, so a tutorial cell runs only when something that runs
    reads a name it binds. A cell counts as tutorial only when its text is exactly a
    tutorial cell of the assignment: a changed cell always runs, and so does every
    tutorial cell it reads from. Cells that look names up by string (``globals()``,
    ``eval``, ...) make every cell run.

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
