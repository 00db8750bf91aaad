"""Cells: a submission's code, as the student stage runs it and the grader reasons about it.

A ``.py`` file is one cell; a notebook's code cells run in order in one namespace,
the way a kernel would run them. This module only parses and names: nothing here
runs student code (``student_stage/running.py`` does), so the grader may use it on
its own files and the student stage on a submission's.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from autograder._internal.errors import UsageError

SUBMISSION_SUFFIXES = (".py", ".ipynb")


@dataclasses.dataclass(frozen=True)
class Cell:
    label: str  # "cell 3" in a notebook, "file" for a .py
    source: str
    # lines of its container before it (a statement of a .py file planned on its own: planning.py)
    line_offset: int = 0


@dataclasses.dataclass(frozen=True)
class CellError:
    label: str
    message: str

    def to_plain(self) -> dict:
        return {"cell": self.label, "message": self.message}


class UnreadableSubmission(UsageError):
    """A submission whose text is not a Python file or a Jupyter notebook."""


def parse_cells(name: str, text: str) -> list[Cell]:
    """The code cells of a submission named ``name`` (.py or .ipynb) with content ``text``."""
    if name.endswith(".py"):
        return [Cell("file", text)]
    if not name.endswith(".ipynb"):
        raise UnreadableSubmission(f"submission {name!r} is not a .py or .ipynb file")
    try:
        notebook = json.loads(text)
        raw_cells = notebook["cells"]
        if type(raw_cells) is not list:
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise UnreadableSubmission(f"{name!r} is not a valid Jupyter notebook (no JSON 'cells' list); "
                                   "re-save it from Jupyter or submit the .py template instead") from None
    cells = []
    for number, cell in enumerate(raw_cells, start=1):
        if type(cell) is not dict or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if type(source) is list:
            if not all(type(part) is str for part in source):
                raise UnreadableSubmission(f"{name!r}: the source of cell {number} is not text")
            source = "".join(source)
        elif type(source) is not str:
            raise UnreadableSubmission(f"{name!r}: the source of cell {number} is not text")
        cells.append(Cell(f"cell {number}", _strip_ipython(source)))
    return cells


def read_cells(path: Path) -> list[Cell]:
    """The code cells of a file on this machine, or ``UsageError`` naming what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"submission {str(path)!r} does not exist (expected a .py or .ipynb file)")
    if path.suffix not in SUBMISSION_SUFFIXES:
        raise UsageError(f"submission {path.name!r} is not a .py or .ipynb file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read submission {path.name!r}: {exc}") from None
    return parse_cells(path.name, text)


def _strip_ipython(source: str) -> str:
    """Comment out IPython-only lines (``%magic``, ``!shell``) that plain Python cannot run."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass  # " + stripped
        lines.append(line)
    return "\n".join(lines)
