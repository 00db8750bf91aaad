"""Exports for an LMS: Canvas's gradebook import CSV and a generic CSV, joined to a roster."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest

from conftest import ROOT
from synthetic_class import build_class, make_result

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")

STUDENTS = ("ann", "ben", "cat", "dan")
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


@pytest.fixture()
def graded_class(tmp_path, assignment):
    out = tmp_path / "out"
    results = [make_result(assignment, sid, answers={"softplus_explanation": "an answer"}) for sid in STUDENTS]
    return build_class(assignment, out, results, report=False), {r.submission: r for r in results}


def write_roster(path, logins, *, header=CANVAS_HEADER):
    rows = [header, ["    Points Possible", "", "", "", ""]]
    rows += [[f"Student {login.title()}", str(100 + i), f"S{i:03}", login, "Section 1"] for i, login in enumerate(logins)]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def export(db_path, *args):
    return subprocess.run([sys.executable, "-m", "autograder", "export", "--db", str(db_path), *args],
                          capture_output=True, text=True, cwd=ROOT)


def test_canvas_export_has_canvas_columns_and_one_score_per_roster_student(graded_class, tmp_path, assignment):
    db_path, results = graded_class
    roster = write_roster(tmp_path / "roster.csv", STUDENTS)
    done = export(db_path, "--format", "canvas", "--roster", str(roster), "--column", "Differentiability (4242)")
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == [*CANVAS_HEADER, "Differentiability (4242)"]
    assert rows[1][0].strip() == "Points Possible"
    possible = sum(q.auto_points + q.manual_points for q in assignment.questions)
    assert float(rows[1][-1]) == possible
    by_login = {row[3]: row for row in rows[2:]}
    assert set(by_login) == set(STUDENTS)
    for sid in STUDENTS:
        assert float(by_login[sid][-1]) == results[sid].total  # no hand grades yet: the auto-graded total
        assert by_login[sid][1].isdigit()
    assert "written answers not graded yet" in done.stderr


def test_a_missing_and_an_extra_student_are_both_reported(graded_class, tmp_path):
    db_path, _ = graded_class
    logins = [*STUDENTS[1:], "eve"]  # ann handed in but is not on the roster; eve is enrolled, handed in nothing
    roster = write_roster(tmp_path / "roster.csv", logins)
    done = export(db_path, "--format", "canvas", "--roster", str(roster))
    assert done.returncode == 0, done.stderr
    assert "1 submissions have no roster row" in done.stderr and "\n  ann\n" in done.stderr
    assert "1 roster rows have no submission" in done.stderr and "Student Eve" in done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))[2:]
    assert {row[3]: row[-1] for row in rows}["eve"] == ""  # an empty score leaves Canvas's unchanged
    assert "ann" not in {row[3] for row in rows}

    generic = export(db_path, "--format", "csv", "--roster", str(roster))
    assert generic.returncode == 0, generic.stderr
    table = list(csv.DictReader(io.StringIO(generic.stdout)))
    by_submission = {row["submission"]: row for row in table if row["submission"]}
    assert set(by_submission) == set(STUDENTS)  # ann is listed too, without roster cells
    assert by_submission["ann"]["SIS Login ID"] == ""
    assert [row["status"] for row in table if row["SIS Login ID"] == "eve"] == ["missing"]


def test_roster_mistakes_are_one_line_errors(graded_class, tmp_path):
    db_path, _ = graded_class
    no_key = tmp_path / "no_key.csv"
    no_key.write_text("Student,ID,SIS User ID,Section\nAnn,1,S1,A\n")
    twice = write_roster(tmp_path / "twice.csv", ["ann", "ann"])
    for args, message in ((["--format", "canvas"], "needs --roster"),
                          (["--format", "canvas", "--roster", str(no_key)], "which column holds the submission ids"),
                          (["--format", "canvas", "--roster", str(twice)], "is on rows"),
                          (["--format", "json", "--roster", str(twice)], "applies to --format csv and canvas")):
        done = export(db_path, *args)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_roster_text_never_becomes_a_formula(graded_class, tmp_path):
    db_path, _ = graded_class
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section\n\"=HYPERLINK(\"\"http://x\"\")\",1,S1,ann,@A\n")
    done = export(db_path, "--format", "canvas", "--roster", str(roster))
    row = list(csv.reader(io.StringIO(done.stdout)))[2]
    assert row[0].startswith("'=") and row[4] == "'@A"
