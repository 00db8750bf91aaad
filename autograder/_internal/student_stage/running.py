"""Running a unit's cells in one namespace, as a kernel runs a notebook's (which cells: planning.py)."""

from __future__ import annotations

import builtins
import contextlib
import io
from typing import Any

from autograder._internal.cells import Cell, CellError
from autograder._internal.outcomes import describe_error


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
