"""Class outputs written from stored results: CSV, JSON and per-student feedback."""

import csv
import io
import json

from autograder._internal.export import feedback_markdown, grades_csv, results_json


def result(hidden_message="the hidden expected value is 42"):
    return {"status": "graded", "total": 1.0, "max_total": 3.0, "message": "", "cell_errors": [],
            "questions": {"q1": {"points": 1.0, "max_points": 3.0, "manual": [], "checks": [
                {"name": "test_public", "points": 1.0, "max_points": 1.0, "passed": True, "hidden": False,
                 "message": "", "kind": "passed"},
                {"name": "test_public_fail", "points": 0.0, "max_points": 1.0, "passed": False,
                 "hidden": False, "message": "got 1, expected 2", "kind": "wrong"},
                {"name": "test_secret", "points": 0.0, "max_points": 1.0, "passed": False, "hidden": True,
                 "message": hidden_message, "kind": "wrong"}]}}}


def test_csv_has_one_row_per_submission_and_no_formulas():
    rows = list(csv.reader(io.StringIO(grades_csv(["q1"], {"alice": result(), "=cmd|' /C calc'!A0": result()}))))
    assert rows[0] == ["submission", "q1", "auto_total", "hand_total", "total", "status", "awaiting_review"]
    assert rows[1] == ["'=cmd|' /C calc'!A0", "1", "1", "0", "1", "graded", ""]
    assert rows[2] == ["alice", "1", "1", "0", "1", "graded", ""]


def test_results_json_has_the_documented_keys():
    document = json.loads(results_json("differentiability", {"q1": 3.0}, {"alice": result()}))
    assert document["questions"] == {"q1": {"max_points": 3.0}}
    check = document["submissions"]["alice"]["questions"]["q1"]["checks"][0]
    assert set(check) == {"name", "points", "max_points", "passed", "hidden", "message"}


def test_feedback_shows_public_messages_and_hides_hidden_ones():
    text = feedback_markdown("alice", result(), {"q1": "Question 1"})
    assert "got 1, expected 2" in text
    assert "secret (hidden check): failed, 0 / 1" in text
    assert "42" not in text
