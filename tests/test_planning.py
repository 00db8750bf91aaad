"""Which cells a question's answer needs (its closure), and the key its evidence is kept under."""

import json
from pathlib import Path

from autograder._internal.assignment import load_assignment
from autograder._internal.cells import Cell
from autograder._internal.evidence import AnswerEvidence, answer_names_of, assemble
from autograder._internal.outcomes import Outcome
from autograder._internal.planning import MAX_ANALYSED_CHARS, analyse_cell, closure, plan_submission
from autograder._internal.student_stage.running import execute_cells

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "student_template" / "differentiability.ipynb"

IMPORTS = "import jax\nimport jax.numpy as jnp"
DEMO = "def helper(x):\n    return jnp.sin(x)\n\nprint(helper(1.0))"
OTHER_DEMO = "print(jax.grad(jnp.cos)(0.5))"


def needed(*sources, names=("answer",)):
    """The 1-based numbers of the cells that ``names`` need."""
    return [i + 1 for i in closure([analyse_cell(s) for s in sources], names)]


def notebook(*sources) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": s, "metadata": {}} for s in sources],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_cells_no_answer_reads_are_left_out():
    assert needed(IMPORTS, DEMO, OTHER_DEMO, "def answer(x):\n    return jnp.cos(x)") == [1, 4]


def test_a_cell_an_answer_reads_comes_with_what_it_reads():
    assert needed(IMPORTS, DEMO, OTHER_DEMO, "def answer(x):\n    return helper(x) * 2") == [1, 2, 4]


def test_the_same_import_in_several_cells_needs_only_the_first():
    answer = "import jax.numpy as jnp\n\ndef answer(x):\n    return jnp.cos(x)"
    other = "import jax.numpy as jnp\n\ndef other(x):\n    return x"
    assert needed(IMPORTS, other, answer) == [1, 3]


def test_a_name_bound_in_different_ways_needs_every_binding_cell():
    # the last binding wins in a kernel: numpy here, whatever the imports cell says
    assert needed(IMPORTS, "def answer(x):\n    return jnp.cos(x)", "import numpy as jnp") == [1, 2, 3]
    assert needed("scale = 2", "def answer(x):\n    return scale * x", "scale = scale + 1") == [1, 2, 3]


def test_names_looked_up_by_string_or_star_imports_need_every_cell():
    assert needed(IMPORTS, DEMO, OTHER_DEMO, "def answer(x):\n    return globals()['helper'](x)") == [1, 2, 3, 4]
    assert needed(IMPORTS, "from math import *", "x = 1", "def answer(y):\n    return cos(y)") == [1, 2, 3, 4]


def test_function_locals_are_not_reads_of_globals():
    names = analyse_cell("def f(helper):\n    y = helper + 1\n    return [y for helper in z]")
    assert names.binds == {"f"} and names.reads == {"z"}


def test_cells_that_do_not_parse_bind_nothing_and_are_reported():
    plan = plan_submission("s.ipynb", notebook(IMPORTS, "def broken(:", "def answer(x):\n    return x"),
                           {"q": ["answer", "broken"]})
    assert plan.closures["q"] == (2,)
    assert [(e.label, e.message) for e in plan.syntax_errors] == [("cell 2", "SyntaxError: invalid syntax (line 1)")]


def test_hostile_code_is_reported_not_raised():
    deep = "x = " + "(" * 100_000 + ")" * 100_000
    lambdas = "f = " + "lambda: " * 50_000 + "0"
    for source in (deep, lambdas, "\x00", "def f(:\n" * 10_000):
        info = analyse_cell(source)
        assert info.error and not info.binds


def test_a_py_file_is_one_cell_and_a_huge_cell_is_not_analysed():
    plan = plan_submission("s.py", "import math\n\ndef answer(x):\n    return x\n", {"q": ["answer"], "r": ["other"]})
    assert plan.closures == {"q": (0,), "r": (0,)}
    broken = plan_submission("s.py", "def answer(:\n", {"q": ["answer"]})
    assert broken.closures == {"q": ()} and broken.syntax_errors[0].label == "file"
    huge = plan_submission("s.ipynb", notebook(IMPORTS, "x = 1\n" * (MAX_ANALYSED_CHARS // 6 + 1), "answer = 1"),
                           {"q": ["answer"]})
    assert huge.closures == {"q": (0, 1, 2)} and not huge.analysed


def test_the_key_is_the_closures_text_wherever_its_cells_are():
    answer = "def answer(x):\n    return jnp.cos(x)"
    first = plan_submission("a.ipynb", notebook(IMPORTS, answer), {"q": ["answer"]})
    moved = plan_submission("b.ipynb", notebook("print('scratch')", IMPORTS, OTHER_DEMO, answer), {"q": ["answer"]})
    edited = plan_submission("c.ipynb", notebook(IMPORTS, answer + "  # mine"), {"q": ["answer"]})
    as_py = plan_submission("d.py", IMPORTS + "\n" + answer, {"q": ["answer"]})
    assert first.answer_key("q") == moved.answer_key("q")
    assert len({first.answer_key("q"), edited.answer_key("q"), as_py.answer_key("q")}) == 3


def test_messages_name_the_submissions_own_cells():
    plan = plan_submission("s.ipynb", notebook("print(1)", IMPORTS, "def answer(x):\n    return jnp.sin(x) / 0"),
                           {"q": ["answer"]})
    unit, positions = plan.unit(["q"])
    assert positions == (1, 2) and unit.labels == ("@1", "@2")
    answer = AnswerEvidence("graded", cell_errors=(), outcomes={
        "p": Outcome(error="`answer` raised ZeroDivisionError: division by zero (your code @2, line 2)")})

    class Question:
        id = "q"
        student_probe_names: list = []
        clean_probe_names = ["p"]

    evidence = assemble(plan, (Question,), {"q": (answer, positions)})
    assert evidence.outcomes["q"]["p"].error.endswith("(your code cell 3, line 2)")


def test_each_template_answer_needs_the_imports_cell_and_itself_and_runs_from_them(tmp_path):
    assignment = load_assignment("differentiability")
    cells = json.loads(TEMPLATE.read_text())
    answer_cells = [c for c in cells["cells"] if "answer" in c["metadata"].get("tags", [])]
    norm_cell = next(c for c in answer_cells if "norm_hessian" in c["metadata"]["tags"])
    # vector_fun is defined by a tutorial cell, from jnp of the imports cell
    norm_cell["source"] = "def norm(x):\n    return jnp.sqrt(jnp.sum(x * x)) + 0 * vector_fun(x)[0]\n"
    text = json.dumps(cells)
    plan = plan_submission("submission.ipynb", text, answer_names_of(assignment.questions))
    code_cells = [c for c in cells["cells"] if c["cell_type"] == "code"]
    imports = next(i for i, c in enumerate(code_cells) if "import jax.numpy as jnp" in "".join(c["source"]))
    for question in assignment.questions:
        answer = next(i for i, c in enumerate(code_cells) if question.id in c["metadata"].get("tags", []))
        if question.id != "norm_hessian":
            assert plan.closures[question.id] == (imports, answer)
    selected = plan.closures["norm_hessian"]
    assert imports in selected and len(selected) == 3
    namespace, errors = execute_cells([Cell(f"@{i}", plan.cells[i].source) for i in selected])
    assert errors == []
    assert float(namespace["norm"](namespace["jnp"].array([2.0, 3.0, 6.0]))) == 7.0
