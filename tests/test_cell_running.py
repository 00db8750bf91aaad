"""Which notebook cells run when grading: unchanged tutorial cells only when an answer needs them."""

import json
from pathlib import Path

from autograder._internal.assignment import load_assignment
from autograder._internal.cells import Cell, cell_digest, cell_names, read_cells
from autograder._internal.evidence import student_request
from autograder._internal.sandbox import Limits
from autograder._internal.student_stage.running import execute_cells, select_cells

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "student_template" / "differentiability.ipynb"

IMPORTS = "import jax\nimport jax.numpy as jnp"
DEMO = "def helper(x):\n    return jnp.sin(x)\n\nprint(helper(1.0))"
OTHER_DEMO = "print(jax.grad(jnp.cos)(0.5))"
TUTORIAL = [cell_digest(source) for source in (IMPORTS, DEMO, OTHER_DEMO)]


def labels(cells):
    return [cell.label for cell in cells]


def cells(*sources):
    return [Cell(f"cell {number}", source) for number, source in enumerate(sources, start=1)]


def test_tutorial_cells_that_no_answer_reads_are_left_out():
    notebook = cells(IMPORTS, DEMO, OTHER_DEMO, "def answer(x):\n    return jnp.cos(x)")
    assert labels(select_cells(notebook, TUTORIAL, ["answer"])) == ["cell 1", "cell 4"]


def test_a_tutorial_cell_an_answer_reads_runs_with_what_it_reads():
    notebook = cells(IMPORTS, DEMO, OTHER_DEMO, "def answer(x):\n    return helper(x) * 2")
    assert labels(select_cells(notebook, TUTORIAL, ["answer"])) == ["cell 1", "cell 2", "cell 4"]


def test_a_changed_tutorial_cell_runs():
    notebook = cells(IMPORTS, DEMO + "\nextra = 1", OTHER_DEMO, "answer = 1")
    assert labels(select_cells(notebook, TUTORIAL, ["answer"])) == ["cell 1", "cell 2", "cell 4"]


def test_whitespace_at_line_ends_does_not_change_a_cell():
    notebook = cells(IMPORTS, "\n" + DEMO.replace("\n", "  \n") + "\n\n", "answer = 1")
    assert labels(select_cells(notebook, TUTORIAL, ["answer"])) == ["cell 3"]


def test_a_tutorial_cell_binding_a_graded_name_runs():
    notebook = cells(IMPORTS, DEMO, "x = 1")
    assert labels(select_cells(notebook, TUTORIAL, ["helper"])) == ["cell 1", "cell 2", "cell 3"]


def test_names_looked_up_by_string_make_every_cell_run():
    notebook = cells(IMPORTS, DEMO, OTHER_DEMO, "def answer(x):\n    return globals()['helper'](x)")
    assert len(select_cells(notebook, TUTORIAL, ["answer"])) == 4


def test_function_locals_are_not_reads_of_globals():
    names = cell_names("def f(helper):\n    y = helper + 1\n    return [y for helper in z]")
    assert names.binds == {"f"} and names.reads == {"z"}


def test_unparsable_cells_run_and_read_nothing():
    notebook = cells(IMPORTS, DEMO, "def broken(:")
    assert labels(select_cells(notebook, TUTORIAL, [])) == ["cell 3"]


def test_the_template_keeps_its_imports_and_answers_and_an_answer_using_the_tutorial_still_works(tmp_path):
    assignment = load_assignment("differentiability")
    notebook = json.loads(TEMPLATE.read_text())
    answer_cells = [c for c in notebook["cells"] if "answer" in c["metadata"].get("tags", [])]
    norm_cell = next(c for c in answer_cells if "norm_hessian" in c["metadata"]["tags"])
    # vector_fun is defined by a tutorial cell, from jnp of the imports cell
    norm_cell["source"] = "def norm(x):\n    return jnp.sqrt(jnp.sum(x * x)) + 0 * vector_fun(x)[0]\n"
    path = tmp_path / "submission.ipynb"
    path.write_text(json.dumps(notebook))
    request = student_request(assignment, assignment.questions, path.name, path.read_text(), Limits())
    all_cells = read_cells(path)
    selected = select_cells(all_cells, request.tutorial_cells, request.answer_names)
    assert len(selected) < len(all_cells) // 2
    namespace, errors = execute_cells(selected)
    assert errors == []
    assert float(namespace["norm"](namespace["jnp"].array([2.0, 3.0, 6.0]))) == 7.0
