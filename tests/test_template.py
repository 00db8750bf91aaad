"""The student template: built from the sources, in sync, and runs top to bottom."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from autograder._internal.template import build_notebook, parse_percent, reference_answer, template_files
from conftest import ROOT


def test_template_files_are_in_sync_with_the_sources(assignment):
    for name, content in template_files(assignment).items():
        on_disk = (ROOT / "student_template" / name).read_text(encoding="utf-8")
        assert on_disk == content, f"student_template/{name} is stale: run `autograder template`"


def test_every_question_has_a_prompt_and_an_answer_cell(assignment):
    notebook = json.loads(template_files(assignment)[f"{assignment.name}.ipynb"])
    tagged = [c for c in notebook["cells"] if "answer" in c["metadata"].get("tags", [])]
    assert [c["metadata"]["tags"][1] for c in tagged] == [q.id for q in assignment.questions]
    assert {"Beginner", "Intermediate", "Advanced"} <= {
        word for c in notebook["cells"] if c["cell_type"] == "markdown" for word in c["source"].split()}


def test_percent_parser_reads_markdown_code_and_placeholders():
    cells = parse_percent("# %% [markdown]\n# # Title\n#\n# text\n\n# %%\nx = 1\n\n# %% [question q1]\n")
    assert cells == [("markdown", "# Title\n\ntext"), ("code", "x = 1"), ("question:q1", "")]


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".ipynb", ".py"])
def test_the_untouched_template_runs_top_to_bottom_without_error(assignment, suffix):
    path = ROOT / "student_template" / f"{assignment.name}{suffix}"
    code = ("import sys, json; from pathlib import Path\n"
            "from autograder._internal.cells import read_cells\n"
            "from autograder._internal.student_stage.running import execute_cells\n"
            "_, errors = execute_cells(read_cells(Path(sys.argv[1])))\n"
            "print(json.dumps([e.to_plain() for e in errors]))")
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


@pytest.mark.slow
def test_the_template_runs_in_a_real_jupyter_kernel(assignment, tmp_path):
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(ROOT / "student_template" / f"{assignment.name}.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []


def test_the_solution_notebook_differs_from_the_template_only_in_answer_cells(assignment):
    template = json.loads(template_files(assignment)[f"{assignment.name}.ipynb"])["cells"]
    solution = json.loads(build_notebook(assignment, reference_answer))["cells"]
    assert len(template) == len(solution)
    for mine, theirs in zip(template, solution):
        if "answer" not in mine["metadata"].get("tags", []):
            assert mine == theirs
