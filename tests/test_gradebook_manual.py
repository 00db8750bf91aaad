"""The gradebook's hand grades: migration of older gradebooks, grades kept across regrades."""

from __future__ import annotations

import sqlite3

import pytest

from autograder._internal.gradebook import SCHEMA_VERSION, Gradebook, HandGrade
from synthetic_class import make_result

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")

# The first schema's tables, as gradebooks made before hand grading have them.
FIRST_SCHEMA = """
CREATE TABLE runs (id INTEGER PRIMARY KEY, started_at REAL NOT NULL, finished_at REAL, assignment TEXT NOT NULL,
    assignment_version TEXT NOT NULL, checks_hash TEXT NOT NULL, jax_version TEXT NOT NULL, sandboxed INTEGER NOT NULL,
    graded INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0);
CREATE TABLE submissions (id TEXT PRIMARY KEY, source TEXT NOT NULL, content_hash TEXT NOT NULL,
    checks_hash TEXT NOT NULL, graded_at REAL NOT NULL, run_id INTEGER NOT NULL REFERENCES runs(id),
    status TEXT NOT NULL, total REAL NOT NULL, max_total REAL NOT NULL, result_json TEXT NOT NULL);
CREATE TABLE check_results (submission TEXT NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    question TEXT NOT NULL, check_name TEXT NOT NULL, points REAL NOT NULL, max_points REAL NOT NULL,
    passed INTEGER NOT NULL, hidden INTEGER NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL,
    PRIMARY KEY (submission, question, check_name));
CREATE TABLE manual_answers (submission TEXT NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    question TEXT NOT NULL, name TEXT NOT NULL, max_points REAL NOT NULL, answer TEXT, points REAL,
    PRIMARY KEY (submission, question, name));
INSERT INTO runs VALUES (1, 0, 1, 'differentiability', '1.0', 'h', '0.10.2', 1, 1, 0);
INSERT INTO submissions VALUES ('old', 'old.py', 'c', 'h', 0, 1, 'graded', 3, 73, '{"status": "graded",
    "total": 3, "max_total": 73, "questions": {"softplus": {"points": 3, "max_points": 10, "checks": [],
    "manual": [{"name": "softplus_explanation", "max_points": 2, "answer": "because", "note": ""}]}}}');
INSERT INTO manual_answers VALUES ('old', 'softplus', 'softplus_explanation', 2, 'because', NULL);
"""


def test_an_old_gradebook_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(FIRST_SCHEMA)
    gradebook = Gradebook(path)
    try:
        [answer] = gradebook.written_answers()
        assert (answer.submission, answer.answer, answer.points, answer.state) == ("old", "because", None, "waiting")
        gradebook.set_hand_grades([HandGrade("old", "softplus", "softplus_explanation", 1.5, "fine")], grader="ta")
        entry = gradebook.results()["old"]["questions"]["softplus"]["manual"][0]
        assert (entry["points"], entry["comment"], entry["state"]) == (1.5, "fine", "graded")
    finally:
        gradebook.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    Gradebook(path).close()  # opening a migrated gradebook again changes nothing


def test_a_regrade_keeps_hand_grades_of_unchanged_answers_only(tmp_path, assignment):
    gradebook = Gradebook(tmp_path / "gradebook.sqlite")
    try:
        run = gradebook.start_run(assignment="a", version="1", checks_hash="h", jax_version="j", sandboxed=False)
        answers = {"softplus_explanation": "overflow", "timing_conclusion": "scan wins"}
        gradebook.save(make_result(assignment, "ann", answers=answers), source="ann.py", content_hash="1",
                       checks_hash="h", run_id=run)
        gradebook.set_hand_grades([HandGrade("ann", "softplus", "softplus_explanation", 2.0, "good"),
                                   HandGrade("ann", "scan_timing", "timing_conclusion", 1.0)])
        changed = {**answers, "timing_conclusion": "assoc scan wins"}
        gradebook.save(make_result(assignment, "ann", answers=changed), source="ann.py", content_hash="2",
                       checks_hash="h", run_id=run)
        grades = {a.name: a for a in gradebook.written_answers()}
        assert (grades["softplus_explanation"].points, grades["softplus_explanation"].comment) == (2.0, "good")
        assert grades["timing_conclusion"].points is None and grades["timing_conclusion"].state == "waiting"
    finally:
        gradebook.close()


def test_hand_grades_are_checked_and_stored_all_or_none(tmp_path, assignment):
    gradebook = Gradebook(tmp_path / "gradebook.sqlite")
    try:
        run = gradebook.start_run(assignment="a", version="1", checks_hash="h", jax_version="j", sandboxed=False)
        gradebook.save(make_result(assignment, "ann", answers={"softplus_explanation": "x"}), source="ann.py",
                       content_hash="1", checks_hash="h", run_id=run)
        good = HandGrade("ann", "softplus", "softplus_explanation", 1.0)
        for bad in (HandGrade("ann", "softplus", "softplus_explanation", 2.5),
                    HandGrade("ann", "softplus", "softplus_explanation", float("nan")),
                    HandGrade("bob", "softplus", "softplus_explanation", 1.0)):
            with pytest.raises(ValueError):
                gradebook.set_hand_grades([good, bad])
            assert all(a.points is None for a in gradebook.written_answers())
    finally:
        gradebook.close()
