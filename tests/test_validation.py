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


def _stub_names(question) -> tuple[list[str], list[str]]:
    """(functions, values) the question's stub defines at top level."""
    import ast

    tree = ast.parse(question.stub_path.read_text())
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    values = [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
    return functions, values


@pytest.mark.parametrize("kind", ["identity", "liar"])
def test_answers_that_do_nothing_earn_nothing(assignment, tmp_path, kind):
    """No check passes vacuously: functions that return their input (or objects that claim to be
    equal to anything) earn no point in any question, negative checks ("uses no loop",
    "does not call autodiff") included."""
    from autograder._internal.pipeline import grade_file

    lines = ["class Liar:",
             "    def __eq__(self, other): return True",
             "    def __float__(self): return 1.0",
             "    def __call__(self, *args, **kwargs): return self",
             "    def __getattr__(self, name): return self", ""]
    for question in assignment.questions:
        functions, values = _stub_names(question)
        for name in functions:
            body = "return args[0] if args else None" if kind == "identity" else "return Liar()"
            lines.append(f"def {name}(*args, **kwargs):\n    {body}\n")
        for name in values:
            lines.append(f"{name} = {'None' if kind == 'identity' else 'Liar()'}")
    path = tmp_path / f"{kind}.py"
    path.write_text("\n".join(lines) + "\n")
    result = grade_file(assignment, path)
    earned = {q.id: q.points for q in result.questions if q.points}
    assert earned == {}


def test_every_question_declares_its_targets_where_the_grader_reads_them():
    """The grader reads target and probe names from the files without importing them (the
    order the workers report in): a target made by a factory would be invisible there."""
    from autograder._internal.assignment import import_file, load_assignment
    from autograder._internal.declarations import clean_probes_in, student_probes_in, targets_in

    for question in load_assignment("differentiability").questions:
        targets = import_file(question.targets_path, f"{question.id}_targets_names_check")
        probes = import_file(question.probes_path, f"{question.id}_probes_names_check")
        assert [spec.name for spec in targets_in(targets)] == question.target_names, question.id
        assert [spec.name for spec in student_probes_in(targets)] == question.student_probe_names, question.id
        assert [spec.name for spec in clean_probes_in(probes)] == question.clean_probe_names, question.id
