"""The checks discriminate: for every question the reference earns full marks, the stub earns no
hidden points, every known-wrong answer loses points and every alternative right answer earns
full marks (``autograder validate``)."""

from __future__ import annotations

import pytest

from autograder._internal.validation import validate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cases(assignment):
    return validate(assignment, jobs=2)


def test_every_validation_case_is_as_expected(cases):
    wrong = [(c.question, c.label, c.expectation, c.result.points, c.result.max_points) for c in cases if not c.ok]
    assert wrong == []


def test_every_question_has_enough_known_answers(cases, assignment):
    for question in assignment.questions:
        labels = [c.label for c in cases if c.question == question.id]
        assert "reference" in labels and "stub" in labels
        assert sum(label.startswith("wrong/") for label in labels) >= 3, question.id
        assert sum(label.startswith("right/") for label in labels) >= 1, question.id


def test_the_stub_earns_nothing_at_all(cases):
    for case in cases:
        if case.label == "stub":
            assert case.result.points == 0, case.question


def test_every_question_has_public_and_hidden_checks(assignment):
    for question in assignment.questions:
        kinds = {check.hidden for check in question.checks}
        assert kinds == {True, False}, question.id
