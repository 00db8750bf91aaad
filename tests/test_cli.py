"""The command line: user mistakes get one clear message and exit code 2, never a traceback."""

import subprocess
import sys

import pytest

from conftest import ROOT


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.mark.parametrize("args,message", [
    (["grade", "no_such_file.ipynb"], "does not exist"),
    (["grade", "pyproject.toml"], "is not a .py, .ipynb"),
    (["grade", "examples/raw/ivan_malformed_notebook.ipynb"], "not a valid Jupyter notebook"),
    (["grade", "student_template/differentiability.py", "-q", "no_such_question"], "unknown question 'no_such_question'"),
    (["grade", "student_template/differentiability.py", "-a", "no_such_assignment"], "unknown assignment"),
    (["grade", "no_such_folder/", "--out", "x"], "does not exist"),
    (["export", "--db", "no_such.sqlite"], "no gradebook"),
    (["report", "--db", "no_such.sqlite"], "no gradebook"),
    (["review", "--db", "no_such.sqlite"], "no gradebook"),
    (["validate", "-q", "nope"], "unknown question"),
])
def test_user_mistakes_are_one_line_errors(args, message):
    result = run_cli(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_grade_that_finds_nothing_creates_no_output(tmp_path):
    result = run_cli("grade", str(tmp_path / "no_such_folder"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert not (tmp_path / "out").exists()


def test_help_lists_every_command():
    result = run_cli("--help")
    for command in ("grade", "check", "validate", "template", "export", "report", "review", "package"):
        assert command in result.stdout


def test_progress_estimates_by_the_work_done_not_by_submissions_graded(capsys):
    from autograder._internal.bulk import Progress
    from autograder.cli import _progress_printer

    show = _progress_printer()  # stderr is not a terminal here: a line per graded submission
    show(Progress(0, 4, 0.0))
    show(Progress(0, 4, 30.0, "", 0.75))  # units finished, no submission yet: a line per tenth
    show(Progress(0, 4, 31.0, "", 0.76))
    show(Progress(1, 4, 40.0, "alice", 0.8))
    show(Progress(1, 4, 41.0, "", 0.85))  # within a tenth of the last line: nothing
    lines = capsys.readouterr().err.splitlines()
    # 40 s for 80% of the work: 10 s left (counting by submissions it would say 120 s)
    assert lines == ["grading 4 submissions", "75% of the work done, 0/4 graded (ETA 10 s)",
                     "graded 1/4 (80% of the work, ETA 10 s): alice"]
