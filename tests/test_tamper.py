"""The tamper tripwire: what a submission replaced is named; honest code replaces nothing."""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import pytest

import autograder._internal.outcomes as outcomes
from autograder._internal.assignment import import_file
from autograder._internal.cells import parse_cells
from autograder._internal.student_stage.running import execute_cells
from autograder._internal.student_stage.tamper import Baseline
from autograder._internal.student_stage.worker import silence_debug_callbacks


def test_a_replaced_library_function_is_named_and_restoring_it_clears_the_finding():
    baseline = Baseline.take()
    original = jnp.allclose
    jnp.allclose = lambda *args, **kwargs: True
    try:
        assert "jax.numpy.allclose was replaced" in baseline.changes()
    finally:
        jnp.allclose = original
    assert baseline.changes() == []


def test_replaced_grader_code_is_named_whether_rebound_or_rewritten_in_place():
    baseline = Baseline.take()
    original_function, original_code = outcomes.one_line, outcomes.one_line.__code__
    try:
        outcomes.one_line = lambda text, limit=300: "forged"
        assert "autograder._internal.outcomes.one_line was replaced" in baseline.changes()
        outcomes.one_line = original_function
        original_function.__code__ = (lambda text, limit=300: "forged").__code__
        assert any("one_line were changed" in finding for finding in baseline.changes())
    finally:
        original_function.__code__ = original_code
        outcomes.one_line = original_function
    assert baseline.changes() == []


def test_a_profiler_hook_and_a_swapped_module_are_named():
    baseline = Baseline.take()
    sys.setprofile(lambda *args: None)
    saved = sys.modules["jax.lax"]
    sys.modules["jax.lax"] = type(sys)("jax.lax")
    try:
        found = baseline.changes()
    finally:
        sys.setprofile(None)
        sys.modules["jax.lax"] = saved
    assert any("profiler" in f for f in found) and "sys.modules['jax.lax'] was replaced" in found


def test_new_names_are_not_changes():
    baseline = Baseline.take()
    jax.numpy.some_new_helper = 1
    try:
        assert baseline.changes() == []
    finally:
        del jax.numpy.some_new_helper


@pytest.mark.slow
def test_the_course_notebook_with_every_known_correct_answer_replaces_nothing(assignment):
    """No false alarm: the tutorial, the reference answers and every right/ answer run clean."""
    from autograder._internal.template import build_notebook, reference_answer

    for question in assignment.questions:
        import_file(question.targets_path, question.targets_module)
    silence_debug_callbacks()
    baseline = Baseline.take(extra_modules=[q.targets_module for q in assignment.questions])
    solution = build_notebook(assignment, reference_answer)
    _, errors = execute_cells(parse_cells("solution.ipynb", solution))
    assert errors == []
    for question in assignment.questions:
        for path in question.right_paths:
            execute_cells(parse_cells(path.name, path.read_text()))
    assert baseline.changes() == []
