"""Cells: parsing submissions (never running them) and running them in the student stage."""

import json

import pytest

from autograder import UsageError
from autograder._internal.cells import UnreadableSubmission, parse_cells, read_cells
from autograder._internal.student_stage.running import execute_cells


def notebook(path, *sources, kind="code"):
    cells = [{"cell_type": kind, "metadata": {}, "source": s, "outputs": [], "execution_count": None}
             for s in sources]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_a_failing_cell_is_recorded_and_later_cells_still_run(tmp_path):
    path = notebook(tmp_path / "s.ipynb", "a = 1", "b = undefined_name", "def f(:", "c = a + 1")
    namespace, errors = execute_cells(read_cells(path))
    assert namespace["a"] == 1 and namespace["c"] == 2 and "b" not in namespace
    assert [e.label for e in errors] == ["cell 2", "cell 3"]
    assert errors[0].message.startswith("NameError") and "SyntaxError" in errors[1].message


def test_ipython_magics_and_shell_lines_do_not_break_a_cell(tmp_path):
    path = notebook(tmp_path / "s.ipynb", "%matplotlib inline\n!pip install x\nvalue = 3")
    namespace, errors = execute_cells(read_cells(path))
    assert errors == [] and namespace["value"] == 3


def test_sys_exit_in_a_cell_is_an_error_of_that_cell_only(tmp_path):
    path = notebook(tmp_path / "s.ipynb", "import sys\nsys.exit(0)", "after = True")
    namespace, errors = execute_cells(read_cells(path))
    assert namespace["after"] is True and errors[0].message.startswith("SystemExit")


def test_markdown_cells_are_not_run(tmp_path):
    path = notebook(tmp_path / "s.ipynb", "raise ValueError", kind="markdown")
    assert read_cells(path) == []


def test_a_py_file_with_a_syntax_error_defines_nothing(tmp_path):
    path = tmp_path / "s.py"
    path.write_text("x = 1\ndef broken(:\n")
    namespace, errors = execute_cells(read_cells(path))
    assert "x" not in namespace and errors[0].message.startswith("SyntaxError")
    assert "line 2" in errors[0].message


def test_code_too_deeply_nested_to_compile_is_an_error_of_its_cell():
    namespace, errors = execute_cells(parse_cells("s.py", "x = " + "[" * 5000 + "]" * 5000))
    assert "x" not in namespace and errors and errors[0].label == "file"


@pytest.mark.parametrize("name,content,expected", [
    ("missing.py", None, "does not exist"),
    ("s.txt", "x", "not a .py or .ipynb"),
    ("s.ipynb", "{not json", "not a valid Jupyter notebook"),
    ("s.ipynb", '{"metadata": {}}', "not a valid Jupyter notebook"),
])
def test_unreadable_files_are_usage_errors_that_say_what_is_wrong(tmp_path, name, content, expected):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError, match=expected):
        read_cells(path)


@pytest.mark.parametrize("text", [
    '{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}",  # nesting deeper than the JSON parser recurses
    '{"cells": [{"cell_type": "code", "source": {"not": "text"}}]}',
    '{"cells": [{"cell_type": "code", "source": ["a", 1]}]}',
    '{"cells": "everything"}',
    "[]",
])
def test_malformed_notebooks_are_unreadable_not_crashes(text):
    with pytest.raises(UnreadableSubmission):
        parse_cells("s.ipynb", text)
