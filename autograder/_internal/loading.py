"""Turning a submission file into the student's namespace, one cell at a time.

A ``.py`` file is one cell; a notebook's code cells run in order in one
namespace, the way a kernel would run them. A cell that fails is recorded and
the next cell still runs, so one broken cell costs only the names it defines.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import io
import json
import traceback
from pathlib import Path
from typing import Any

from autograder._internal.errors import UsageError

SUBMISSION_SUFFIXES = (".py", ".ipynb")


@dataclasses.dataclass(frozen=True)
class Cell:
    label: str  # "cell 3" in a notebook, "line" numbering only for .py
    source: str


@dataclasses.dataclass(frozen=True)
class CellError:
    label: str
    message: str

    def to_plain(self) -> dict:
        return {"cell": self.label, "message": self.message}


def read_cells(path: Path) -> list[Cell]:
    """The code cells of a submission, or ``UsageError`` naming what is wrong with the file."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"submission {str(path)!r} does not exist (expected a .py or .ipynb file)")
    if path.suffix not in SUBMISSION_SUFFIXES:
        raise UsageError(f"submission {path.name!r} is not a .py or .ipynb file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read submission {path.name!r}: {exc}") from None
    if path.suffix == ".py":
        return [Cell("file", text)]
    return _notebook_cells(path.name, text)


def _notebook_cells(name: str, text: str) -> list[Cell]:
    try:
        notebook = json.loads(text)
        raw_cells = notebook["cells"]
        if type(raw_cells) is not list:
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"{name!r} is not a valid Jupyter notebook (no JSON 'cells' list); "
                         "re-save it from Jupyter or submit the .py template instead") from None
    cells = []
    for number, cell in enumerate(raw_cells, start=1):
        if type(cell) is not dict or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if type(source) is list:
            source = "".join(str(part) for part in source)
        cells.append(Cell(f"cell {number}", _strip_ipython(str(source))))
    return cells


def _strip_ipython(source: str) -> str:
    """Comment out IPython-only lines (``%magic``, ``!shell``) that plain Python cannot run."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass  # " + stripped
        lines.append(line)
    return "\n".join(lines)


def execute_cells(cells: list[Cell], module_name: str = "__main__",
                  stdout_limit: int = 0) -> tuple[dict[str, Any], list[CellError]]:
    """Run ``cells`` in one fresh namespace; return it and the errors of the cells that failed.

    Output printed by the student's code is discarded: it is not the grader's to read.
    """
    namespace: dict[str, Any] = {"__name__": module_name, "__builtins__": builtins}
    errors: list[CellError] = []
    for cell in cells:
        filename = f"<submission {cell.label}>" if cell.label != "file" else "<submission>"
        try:
            code = compile(cell.source, filename, "exec")
        except SyntaxError as exc:
            errors.append(CellError(cell.label, f"SyntaxError: {exc.msg} (line {exc.lineno})"))
            continue
        sink = io.StringIO()
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                exec(code, namespace)  # noqa: S102 - this *is* the sandboxed worker's job
        except (Exception, SystemExit) as exc:
            errors.append(CellError(cell.label, describe_error(exc)))
    return namespace, errors


def student_location(tb) -> str:
    """' (cell 3, line 2)' for the innermost traceback frame in student code, else ''."""
    where = ""
    for frame, lineno in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if filename.startswith("<submission"):
            where = f" ({filename.strip('<>').replace('submission', 'your code', 1)}, line {lineno})"
    return where


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_error(exc: BaseException) -> str:
    """'ZeroDivisionError: boom (your code, line 3)': an exception of student code, on one line."""
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return one_line(message) + student_location(exc.__traceback__)
