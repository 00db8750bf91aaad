"""Grading the example class: expected results, resuming after kill -9, skipping, exporting.

The class in examples/ is composed from the question sources (examples/class.toml); each
student's expected result per question follows from what they handed in: reference or
alternative answers earn full marks, the stub earns nothing, a known-wrong answer loses points.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import ROOT, needs_bwrap

pytestmark = [pytest.mark.slow, needs_bwrap]

CLASS_DIR = ROOT / "examples" / "submissions"


def cli(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "autograder", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kwargs)


def stored(db_path):
    if not db_path.exists():
        return {}
    with sqlite3.connect(db_path) as db:
        return dict(db.execute("SELECT id, graded_at FROM submissions"))


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    """Grade the class, kill -9 the run half way, then run the same command again to finish."""
    out = tmp_path_factory.mktemp("class-out")
    db_path = out / "gradebook.sqlite"
    args = ("grade", str(CLASS_DIR), "--out", str(out), "--jobs", "2")
    first = cli(*args)
    deadline = time.monotonic() + 600
    while len(stored(db_path)) < 4 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert first.poll() is None, "the first run ended before it could be killed: " + first.stderr.read()
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    before_resume = stored(db_path)
    second = cli(*args)
    stdout, stderr = second.communicate(timeout=1200)
    assert second.returncode == 0, stderr
    after_resume = stored(db_path)
    third = cli(*args)
    third_stdout, _ = third.communicate(timeout=600)
    results = json.loads((out / "results.json").read_text())
    return {"out": out, "before": before_resume, "after": after_resume, "second_stdout": stdout,
            "third_stdout": third_stdout, "results": results}


def test_killing_the_run_loses_nothing_finished_and_resuming_regrades_none_of_it(class_run):
    before, after = class_run["before"], class_run["after"]
    assert len(before) >= 4
    for sid, graded_at in before.items():
        assert after[sid] == graded_at, f"{sid} was graded again after the resume"
    assert f"skipped {len(before)} already graded" in class_run["second_stdout"]


def test_a_rerun_with_nothing_changed_grades_nothing(class_run):
    assert "graded 0, skipped" in class_run["third_stdout"]


def _expected(student: dict, qid: str) -> str:
    return student.get("expect_by_question", {}).get(qid, student["expect"])


def test_every_example_submission_gets_what_its_answers_earn(class_run, class_manifest, assignment):
    results = class_run["results"]
    students = class_manifest["students"]
    assert sorted(results["submissions"]) == sorted(students)
    assert len(students) >= 20
    for sid, student in students.items():
        result = results["submissions"][sid]
        assert result["status"] == student.get("status", "graded"), sid
        for question in assignment.questions:
            got = result["questions"][question.id]["points"]
            wanted = _expected(student, question.id)
            maximum = question.auto_points
            ok = {"full": got >= maximum, "zero": got == 0, "lost": got < maximum,
                  "partial": 0 < got < maximum}[wanted]
            assert ok, f"{sid} {question.id}: {got}/{maximum}, expected {wanted}"


def test_a_broken_cell_is_named_and_costs_only_its_question(class_run):
    grace = class_run["results"]["submissions"]["grace_broken_cells"]
    messages = [e["message"] for e in grace["cell_errors"]]
    assert any(m.startswith("SyntaxError") for m in messages)
    assert any(m.startswith("NameError") for m in messages)
    assert all(e["cell"].startswith("cell ") for e in grace["cell_errors"])


def test_results_json_has_the_documented_shape(class_run, assignment):
    results = class_run["results"]
    assert results["assignment"] == assignment.name
    assert set(results["questions"]) == {q.id for q in assignment.questions}
    for result in results["submissions"].values():
        assert {"status", "total", "questions"} <= set(result)
        for question in result["questions"].values():
            for check in question["checks"]:
                assert set(check) == {"name", "points", "max_points", "passed", "hidden", "message"}


def test_grades_csv_matches_results_json(class_run, assignment):
    with open(class_run["out"] / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    written = [m.name for q in assignment.questions for m in q.manual]
    assert list(rows[0]) == ["submission", *(q.id for q in assignment.questions), *written, "auto_total",
                             "hand_total", "total", "status", "awaiting_review"]
    submissions = class_run["results"]["submissions"]
    for row in rows:
        result = submissions[row["submission"]]
        assert float(row["total"]) == result["total"] and row["status"] == result["status"]


def test_feedback_shows_hidden_checks_by_name_and_result_only(class_run, assignment):
    frank = (class_run["out"] / "feedback" / "frank_all_wrong.md").read_text()
    result = class_run["results"]["submissions"]["frank_all_wrong"]
    checks = [c for q in result["questions"].values() for c in q["checks"]]
    public_messages = {c["message"] for c in checks if not c["hidden"]}
    hidden_failures = [c for c in checks if c["hidden"] and not c["passed"] and c["message"]
                       and not any(c["message"] in public for public in public_messages)]
    assert hidden_failures
    for check in hidden_failures:
        assert check["message"] not in frank
    assert "(hidden check): failed" in frank


def test_export_writes_the_gradebook_out_again(class_run):
    out = class_run["out"]
    exported = subprocess.run([sys.executable, "-m", "autograder", "export", "--db", str(out / "gradebook.sqlite"),
                               "--format", "csv"], capture_output=True, text=True, check=True, cwd=ROOT)
    assert exported.stdout == (out / "grades.csv").read_text()
