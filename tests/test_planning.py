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


class OneProbeQuestion:
    id = "q"
    student_probe_names: list = []
    clean_probe_names = ["p"]


def error_as_shown(plan, positions, error: str) -> str:
    """The error of probe ``p`` of question ``q``, run in the unit of ``positions``, as its submission sees it."""
    answer = AnswerEvidence("graded", cell_errors=(), outcomes={"p": Outcome(error=error)})
    return assemble(plan, (OneProbeQuestion,), {"q": (answer, positions)}).outcomes["q"]["p"].error


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


def test_cells_that_change_a_needed_object_without_binding_it_come_with_it():
    rule = "def fwd(x):\n    return x, None\n\ndef bwd(r, g):\n    return (2 * g,)"
    answer = "@jax.custom_vjp\ndef answer(x):\n    return x"
    # a rule attached in a cell of its own, the configuration, stores and setattr: all change what runs
    assert needed(IMPORTS, answer, rule, "answer.defvjp(fwd, bwd)") == [1, 2, 3, 4]
    assert needed(IMPORTS, answer, rule, "_ = answer.defvjp(fwd, bwd)") == [1, 2, 3, 4]
    assert needed(IMPORTS, answer, "jax.config.update('jax_enable_x64', True)") == [1, 2, 3]
    jvp_rule = "@answer.defjvp\ndef rule(primals, tangents):\n    return primals[0], 2 * tangents[0]"
    assert needed(IMPORTS, "@jax.custom_jvp\ndef answer(x):\n    return x", jvp_rule) == [1, 2, 3]
    assert needed(IMPORTS, answer, "answer.scale = 2", "if True:\n    setattr(answer, 'x', 1)") == [1, 2, 3, 4]
    assert needed("table = {}", "def answer(k):\n    return table[k]", "table['a'] = 1") == [1, 2, 3]
    assert needed(IMPORTS, "def answer(x):\n    return jnp.exp(x)", "jnp.exp = abs") == [1, 2, 3]
    # calling a module's functions, printing, changing objects the answer does not hold: not needed
    assert needed(IMPORTS, answer, "jnp.sin(2.0)", "print(answer(1.0))", "other = []\nother.append(1)",
                  "def f():\n    answer.defvjp(fwd, bwd)") == [1, 2]


def test_a_rule_attached_in_another_cell_is_graded_with_its_function():
    cells = [IMPORTS, "@jax.custom_vjp\ndef answer(x):\n    return x",
             "def fwd(x):\n    return x, None\n\ndef bwd(r, g):\n    return (2 * g,)",
             "print(answer(3.0))", "answer.defvjp(fwd, bwd)"]
    plan = plan_submission("rule.ipynb", notebook(*cells), {"q": ["answer"]})
    namespace, errors = execute_cells([plan.cells[i] for i in plan.closures["q"]])
    assert not errors and float(namespace["jax"].grad(namespace["answer"])(1.0)) == 2.0


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


def test_a_py_file_that_only_defines_names_is_planned_by_statement():
    text = ('"""My answers."""\nimport math\nimport jax\n\n\n@jax.custom_vjp\ndef answer(x):\n    return x\n\n'
            'def fwd(x):\n    return x, None\n\ndef bwd(r, g):\n    return (2 * g,)\n\n\nanswer.defvjp(fwd, bwd)\n'
            'other = math.pi; unused = 1\n')
    plan = plan_submission("s.py", text, {"q": ["answer"], "r": ["other"]})
    assert [(c.label, c.line_offset) for c in plan.cells] == [("file", 0), ("file", 1), ("file", 2), ("file", 5),
                                                               ("file", 9), ("file", 12), ("file", 16), ("file", 17)]
    assert plan.cells[3].source.startswith("@jax.custom_vjp") and plan.cells[7].source == "other = math.pi; unused = 1\n"
    assert plan.closures == {"q": (2, 3, 4, 5, 6), "r": (1, 7)}
    # the same answer elsewhere in another file is the same closure: its evidence is shared
    moved = plan_submission("t.py", "import jax\nimport math\nother = 2\n" + text[text.index("@jax"):],
                            {"q": ["answer"]})
    assert moved.answer_key("q") == plan.answer_key("q")


def test_a_py_file_that_does_more_than_define_runs_whole_as_a_script():
    for top_level in ("print(answer(1))", "for i in range(3):\n    pass", "import os\nos.fork()",
                      "math.pi = 3", "from __future__ import annotations"):
        text = f"import math\n\ndef answer(x):\n    return x\n\n{top_level}\n"
        plan = plan_submission("s.py", text, {"q": ["answer"], "r": ["other"]})
        assert len(plan.cells) == 1 and plan.closures == {"q": (0,), "r": (0,)}, top_level


def test_messages_name_the_lines_of_the_py_file():
    text = "import jax.numpy as jnp\n\nscale = 2\n\n\ndef answer(x):\n    y = x * scale\n    return y / 0\n"
    plan = plan_submission("s.py", text, {"q": ["answer"]})
    unit, positions = plan.unit(["q"])
    assert unit.sources == ("scale = 2\n", "def answer(x):\n    y = x * scale\n    return y / 0\n")
    error = "`answer` raised ZeroDivisionError: division by zero (your code @2, line 3)"
    assert error_as_shown(plan, positions, error).endswith("(your code, line 8)")
    assert text.splitlines()[7] == "    return y / 0"


def test_a_huge_cell_is_not_analysed():
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
    error = "`answer` raised ZeroDivisionError: division by zero (your code @2, line 2)"
    assert error_as_shown(plan, positions, error).endswith("(your code cell 3, line 2)")
    # a message inside a probe's value is the submission's too
    value = {"export_error": error.replace("@2", "@1")}
    answer = AnswerEvidence("graded", cell_errors=(), outcomes={"p": Outcome(value=value)})
    evidence = assemble(plan, (OneProbeQuestion,), {"q": (answer, positions)})
    assert evidence.outcomes["q"]["p"].value["export_error"].endswith("(your code cell 2, line 2)")


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
