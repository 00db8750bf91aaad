"""Scaffolding a question (``autograder new``) and validation's plain-words diagnostics.

Every test works on a copy of the project's assignments, reference answers and template.
The slow tests validate what was scaffolded: the reference run covers every question
of the copy (its values are cached by content, the copy's new question makes it run once).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from autograder._internal.assignment import load_assignment
from autograder._internal.errors import AssignmentError, UsageError
from autograder._internal.scaffold import SCAFFOLD_MARK, scaffold_question
from autograder._internal.template import template_files
from conftest import ROOT


@pytest.fixture
def project(tmp_path):
    for folder in ("assignments", "reference", "student_template"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def copied(project):
    return load_assignment(str(project / "assignments" / "differentiability"))


def test_a_scaffolded_question_is_in_every_place_it_lives(project):
    done = scaffold_question(copied(project), "x_sin_x")
    assignment = copied(project)
    question = assignment.question("x_sin_x")
    assert question.title == "Q7: x sin x" and assignment.questions[-1] is question
    for path in (question.prompt_path, question.stub_path, question.targets_path, question.probes_path,
                 question.checks_path, question.reference_path):
        assert path.is_file() and path in done.written
    assert [p.name for p in question.wrong_paths] == ["stops_gradient.py"]
    assert [p.name for p in question.right_paths] == ["factors_swapped.py"]
    assert question.target_names == ["x_sin_x"]
    assert question.clean_probe_names == ["x_sin_x_values", "x_sin_x_gradient"]
    assert [(c.name, c.hidden) for c in question.checks] == [("test_x_sin_x_values", False),
                                                             ("test_x_sin_x_gradient", True)]
    assert assignment.notebook_source.read_text().rstrip().endswith("# %% [question x_sin_x]")
    notebook = template_files(assignment)["differentiability.ipynb"]
    assert "raise NotImplementedError(\\\"write x_sin_x\\\")" in notebook
    for path in done.written:
        if path.suffix == ".py":
            compile(path.read_text(), str(path), "exec")
        assert SCAFFOLD_MARK in path.read_text(), path


def test_options_name_the_function_title_and_place(project):
    scaffold_question(copied(project), "q7", title="Q7: the logistic function", function="logistic",
                      after="softplus")
    assignment = copied(project)
    assert [q.id for q in assignment.questions][:3] == ["softplus", "q7", "norm_hessian"]
    notebook = json.loads(template_files(assignment)["differentiability.ipynb"])
    tagged = [c["metadata"]["tags"][1] for c in notebook["cells"] if "answer" in c["metadata"].get("tags", [])]
    assert tagged == [q.id for q in assignment.questions]  # the notebook and the .py template agree
    assert assignment.question("q7").title == "Q7: the logistic function"
    assert "def logistic(x):" in assignment.question("q7").stub_path.read_text()
    text = assignment.notebook_source.read_text()
    assert "# %% [question softplus]\n\n# %% [question q7]\n" in text


@pytest.mark.parametrize("qid,function,message", [
    ("softplus", None, "already exists in assignment 'differentiability'"),
    ("7up", None, "must be a lower-case Python identifier"),
    ("Softplus2", None, "e.g. 'softplus2'"),
    ("my-question", None, "e.g. 'my_question'"),
    ("lambda", None, "is a Python keyword"),
    ("q7", "softplus_grad", "question 'softplus' already defines 'softplus_grad'"),
    ("q7", "Bad Name", "function name 'Bad Name' cannot be used"),
])
def test_bad_ids_are_refused_and_nothing_is_written(project, qid, function, message):
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    with pytest.raises(UsageError, match=message):
        scaffold_question(copied(project), qid, function=function)
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before


def test_leftovers_on_disk_are_not_overwritten(project):
    (project / "reference" / "differentiability" / "q7.py").write_text("# someone's work\n")
    with pytest.raises(UsageError, match="already exists, though assignment.toml does not list 'q7'"):
        scaffold_question(copied(project), "q7")


def test_a_failure_half_way_leaves_the_project_as_it_was(project, monkeypatch):
    from autograder._internal import scaffold

    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}

    def broken(*args, **kwargs):
        raise AssignmentError("simulated")

    monkeypatch.setattr(scaffold, "load_assignment", broken)
    with pytest.raises(AssignmentError, match="could not write question 'q7': simulated"):
        scaffold_question(copied(project), "q7")
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before
    assert not (project / "assignments" / "differentiability" / "q7").exists()


def test_new_on_the_command_line_says_what_to_do_next(project):
    result = subprocess.run([sys.executable, "-m", "autograder", "new", "differentiability", "q7"],
                            capture_output=True, text=True, cwd=project, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "autograder validate -q q7" in result.stdout and "autograder template" in result.stdout
    again = subprocess.run([sys.executable, "-m", "autograder", "new", "differentiability", "q7"],
                           capture_output=True, text=True, cwd=project, timeout=120)
    assert again.returncode == 2 and "already exists" in again.stderr and "Traceback" not in again.stderr


@pytest.mark.slow
def test_validate_runs_at_once_and_flags_what_is_missing_or_vacuous(project):
    from autograder._internal.validation import diagnose, validate

    scaffold_question(copied(project), "q7")
    assignment = copied(project)
    cases = validate(assignment, ["q7"], jobs=2)
    assert [(c.label, c.ok) for c in cases] == [("reference", True), ("stub", True),
                                                ("wrong/stops_gradient.py", True), ("right/factors_swapped.py", True)]
    kinds = {(d.kind, d.check) for d in diagnose(assignment, cases)}
    assert ("placeholder", None) in kinds and ("few_wrong", None) in kinds
    assert ("catches_no_wrong_answer", "test_q7_values") in kinds  # the one wrong answer has right values
    assert ("template", None) in kinds

    # A stub that already holds the answer: the hidden check gives points for nothing.
    question = assignment.question("q7")
    scaffolded_stub = question.stub_path.read_text()
    question.stub_path.write_text("import jax.numpy as jnp\n\n\ndef q7(x):\n    return x * jnp.sin(x)\n")
    cases = validate(copied(project), ["q7"], jobs=2)
    stub = next(c for c in cases if c.label == "stub")
    assert not stub.ok
    found = {(d.kind, d.check): d.message for d in diagnose(copied(project), cases)}
    assert found[("stub_passes", "test_q7_gradient")].startswith(
        "the untouched stub passes hidden check test_q7_gradient: it gives points for doing nothing")
    # every answer now passes the public check (the one wrong answer has right values)
    assert ("never_fails", "test_q7_values") in found

    # A check that compares the reference with itself fails nothing at all. On the command line:
    # a fresh process, since pytest keeps a checks module it imported once.
    question.stub_path.write_text(scaffolded_stub)
    checks = question.checks_path.read_text().replace('submission["q7_gradient"]', 'reference["q7_gradient"]')
    question.checks_path.write_text(checks)
    result = subprocess.run([sys.executable, "-m", "autograder", "validate", "-q", "q7"], capture_output=True,
                            text=True, cwd=project, timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr  # the stub earns the hidden point
    assert "FAIL q7             stub" in result.stderr
    assert ("q7: no answer fails hidden check test_q7_gradient, not even the untouched stub"
            in result.stdout), result.stdout


# ---------------------------------------------------------------------------------------------
# The authoring guide, followed to the letter

GUIDE = ROOT / "docs" / "authoring.md"
_FILE_MARK = re.compile(r"^<!-- file: (\S+) -->$")


def guide_steps(text: str) -> list[tuple[str, str]]:
    """("run", command) and ("write", path + NUL + content) in the guide's order: every line of a
    ```sh block, and every fenced block right under a `<!-- file: PATH -->` line."""
    steps, lines, index = [], text.splitlines(), 0
    while index < len(lines):
        line = lines[index]
        mark = _FILE_MARK.match(line)
        if mark or line.strip() == "```sh":
            start = index + 2 if mark else index + 1
            end = next(i for i in range(start, len(lines)) if lines[i].strip() == "```")
            body = lines[start:end]
            if mark:
                steps.append(("write", mark.group(1) + "\0" + "\n".join(body) + "\n"))
            else:
                steps += [("run", command) for command in body if command.strip()]
            index = end + 1
        else:
            index += 1
    return steps


def test_the_guide_has_commands_and_files_to_follow():
    steps = guide_steps(GUIDE.read_text())
    runs = [value for kind, value in steps if kind == "run"]
    assert runs[0].startswith("autograder new differentiability logsumexp")
    assert "autograder validate -q logsumexp" in runs and "autograder mutate -q logsumexp" in runs
    written = [value.split("\0")[0] for kind, value in steps if kind == "write"]
    for name in ("prompt.md", "stub.py", "targets.py", "probes.py", "checks.py"):
        assert f"assignments/differentiability/logsumexp/{name}" in written
    assert "reference/differentiability/logsumexp.py" in written


@pytest.mark.slow
def test_following_the_guide_makes_a_question_that_validates(project):
    sandboxed = shutil.which("bwrap") is not None
    outputs = []
    for kind, value in guide_steps(GUIDE.read_text()):
        if kind == "write":
            path, content = value.split("\0", 1)
            (project / path).parent.mkdir(parents=True, exist_ok=True)
            (project / path).write_text(content)
            continue
        command = value
        if command.startswith("autograder "):
            command = f"{sys.executable} -m {command}"
            if " mutate " in command and not sandboxed:
                command += " --unsafe-no-sandbox"
        result = subprocess.run(command, shell=True, capture_output=True, text=True, cwd=project, timeout=900)
        assert result.returncode == 0, f"{value}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        outputs.append((value, result.stdout))
    validations = [out for command, out in outputs if command.startswith("autograder validate")]
    assert "What proves nothing yet" in validations[0]  # the scaffold: placeholders left
    assert "What proves nothing yet" not in validations[-1], validations[-1]  # the written question
    assert "validation cases as expected" in validations[-1]
    [mutated] = [out for command, out in outputs if command.startswith("autograder mutate")]
    score = mutated.splitlines()[0]
    assert score.startswith("logsumexp: ") and score.endswith("%")
    assert float(score.rsplit(" ", 1)[1].rstrip("%")) >= 90.0, mutated
    assignment = copied(project)
    assert [q.id for q in assignment.questions][:3] == ["softplus", "norm_hessian", "logsumexp"]
    assert (project / "student_template" / "differentiability.ipynb").read_text() == \
        template_files(assignment)["differentiability.ipynb"]
