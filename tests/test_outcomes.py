"""Outcomes: every way student code can fail becomes a one-line outcome, never an exception."""

import jax.numpy as jnp
import pytest

from autograder import ProbeFailure, StudentCodeError
from autograder._internal.outcomes import Outcome, ProbeValues, guarded
from autograder._internal.student_stage.submission import Submission


def calls_f(sub):
    return sub.array(sub.function("f")(jnp.arange(3.0)), "f(x)")


def outcome(probe_function, timeout=5.0, **names):
    return guarded(probe_function, Submission(names), timeout=timeout)


def test_a_correct_function_gives_its_value():
    result = outcome(calls_f, f=lambda x: 2 * x)
    assert result.ok and list(result.value) == [0.0, 2.0, 4.0]


def test_a_missing_name_says_it_is_not_defined():
    result = outcome(calls_f)
    assert result.kind == "missing" and "`f` is not defined" in result.error


def test_an_exception_names_the_student_function():
    def f(x):
        raise ZeroDivisionError("boom")

    result = outcome(calls_f, f=f)
    assert result.kind == "exception" and result.error.startswith("`f` raised ZeroDivisionError: boom")


def test_a_non_callable_and_a_wrong_return_type_are_explained():
    assert "should be a function" in outcome(calls_f, f=3).error
    result = outcome(calls_f, f=lambda x: "not an array")
    assert result.kind == "wrong_type" and "f(x) got a str" in result.error


def test_an_endless_function_times_out():
    def f(x):
        while True:
            pass

    result = outcome(lambda sub: sub.function("f")(1.0), timeout=0.3, f=f)
    assert result.kind == "timeout"


def test_sys_exit_inside_a_function_is_an_error_not_an_exit():
    import sys

    result = outcome(calls_f, f=lambda x: sys.exit(0))
    assert result.kind == "exception" and "SystemExit" in result.error


def test_an_exception_whose_str_breaks_is_still_described():
    class Nasty(Exception):
        def __str__(self):
            raise RuntimeError("no")

    def f(x):
        raise Nasty()

    assert outcome(calls_f, f=f).error.startswith("`f` raised Nasty")


def test_reading_a_failed_probe_raises_the_student_facing_message():
    values = ProbeValues({"good": Outcome(value=1.0), "bad": Outcome(error="`f` raised KeyError", kind="exception")})
    assert values["good"] == 1.0
    with pytest.raises(StudentCodeError, match="`f` raised KeyError"):
        values["bad"]
    with pytest.raises(StudentCodeError, match="stopped before"):
        values["never_ran"]


def test_a_probe_that_is_wrong_is_a_grading_error_not_the_students():
    values = ProbeValues({"p": Outcome(error="the grader asked for shapes it did not declare", kind="grader")})
    with pytest.raises(RuntimeError):
        values["p"]


def test_outcomes_from_a_worker_keep_only_known_kinds():
    assert Outcome.from_plain({"error": "x", "kind": "no-such-kind"}).kind == "crashed"
    assert Outcome.from_plain({"value": [1, 2]}).value == [1, 2]
    assert Outcome.from_plain({"value": 1, "extra": 2}).kind == "crashed"


def test_probe_failure_is_public_for_probe_authors():
    assert issubclass(ProbeFailure, Exception)
