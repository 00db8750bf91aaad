"""The student template, built from the question sources (never edited by hand).

``tutorial_notebook.py`` holds the course text in percent format (``# %%`` code
cells, ``# %% [markdown]`` cells, ``# %% [question QID]`` placeholders). Each
placeholder becomes the question's prompt and an answer cell holding its stub;
the same answers in order make the ``.py`` template. With the reference answers
in place of the stubs, the same builder makes a full-marks solution notebook.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from autograder._internal.assignment import Assignment, Question
from autograder._internal.errors import AssignmentError

_CELL_START = re.compile(r"^# %%(?: \[(markdown|question (\w+))\])?\s*$")
ANSWER_TAG = "answer"


def parse_percent(text: str) -> list[tuple[str, str]]:
    """Split percent-format text into (kind, source) cells; kind is code, markdown or question:QID."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        match = _CELL_START.match(line)
        if match:
            kind = "code" if not match.group(1) else (
                "markdown" if match.group(1) == "markdown" else f"question:{match.group(2)}")
            cells.append((kind, []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            raise AssignmentError(f"text before the first '# %%' cell marker: {line!r}")
    parsed = []
    for kind, lines in cells:
        if kind == "markdown":
            lines = [line[2:] if line.startswith("# ") else line.removeprefix("#") for line in lines]
        parsed.append((kind, "\n".join(lines).strip("\n")))
    return parsed


def _cell(kind: str, source: str, index: int, tags: list[str] | None = None) -> dict:
    cell = {"cell_type": kind, "id": f"cell-{index:03d}", "metadata": {"tags": tags} if tags else {},
            "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def build_notebook(assignment: Assignment, answer: Callable[[Question], str]) -> str:
    """The notebook with ``answer(question)`` in each question's answer cell, as .ipynb JSON."""
    cells = []
    seen = set()
    for kind, source in parse_percent(assignment.notebook_source.read_text(encoding="utf-8")):
        if kind.startswith("question:"):
            question = assignment.question(kind.split(":", 1)[1])
            seen.add(question.id)
            cells.append(_cell("markdown", question.prompt_path.read_text(encoding="utf-8").strip(), len(cells)))
            cells.append(_cell("code", answer(question).strip(), len(cells), tags=[ANSWER_TAG, question.id]))
        else:
            cells.append(_cell(kind, source, len(cells)))
    missing = [q.id for q in assignment.questions if q.id not in seen]
    if missing:
        raise AssignmentError(f"{assignment.notebook_source.name} has no placeholder for: {', '.join(missing)}")
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "autograder": {"assignment": assignment.name, "version": assignment.version},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def build_script(assignment: Assignment, answer: Callable[[Question], str]) -> str:
    """The answers as one ``.py`` file, each question's prompt as a comment above its answer."""
    parts = [f'"""{assignment.title}: answer template.\n\n'
             "Fill in each answer below, then check your work with\n"
             f"    autograder check {assignment.name}.py\n"
             'Keep every name and signature exactly as given: the grader looks for them.\n"""\n']
    for question in assignment.questions:
        prompt = question.prompt_path.read_text(encoding="utf-8").strip()
        comment = "\n".join(f"# {line}".rstrip() for line in prompt.splitlines())
        parts.append(f"# {'=' * 76}\n{comment}\n# {'=' * 76}\n\n{answer(question).strip()}\n")
    return "\n\n".join(parts)


def stub_answer(question: Question) -> str:
    return question.stub_path.read_text(encoding="utf-8")


def reference_answer(question: Question) -> str:
    return question.reference_path.read_text(encoding="utf-8")


def template_files(assignment: Assignment) -> dict[str, str]:
    """File name -> content of everything in ``student_template/`` for this assignment."""
    return {
        f"{assignment.name}.ipynb": build_notebook(assignment, stub_answer),
        f"{assignment.name}.py": build_script(assignment, stub_answer),
    }
