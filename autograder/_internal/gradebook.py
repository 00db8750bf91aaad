"""The gradebook: an SQLite database of every submission, check result and run.

Each result is committed as soon as it is judged, so an interrupted run (Ctrl-C,
kill -9) loses at most the submissions in flight; the next run skips every
submission whose content and checks are unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from pathlib import Path

from autograder._internal.results import SubmissionResult

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    finished_at REAL,
    assignment TEXT NOT NULL,
    assignment_version TEXT NOT NULL,
    checks_hash TEXT NOT NULL,
    jax_version TEXT NOT NULL,
    sandboxed INTEGER NOT NULL,
    graded INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS submissions (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    checks_hash TEXT NOT NULL,
    graded_at REAL NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    status TEXT NOT NULL,
    total REAL NOT NULL,
    max_total REAL NOT NULL,
    result_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS check_results (
    submission TEXT NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    check_name TEXT NOT NULL,
    points REAL NOT NULL,
    max_points REAL NOT NULL,
    passed INTEGER NOT NULL,
    hidden INTEGER NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (submission, question, check_name)
);
CREATE TABLE IF NOT EXISTS manual_answers (
    submission TEXT NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    name TEXT NOT NULL,
    max_points REAL NOT NULL,
    answer TEXT,
    points REAL,
    PRIMARY KEY (submission, question, name)
);
"""


@dataclasses.dataclass(frozen=True)
class StoredSubmission:
    id: str
    content_hash: str
    checks_hash: str
    status: str
    result: dict


class Gradebook:
    """A thin layer over the SQLite file; every write is its own transaction."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def start_run(self, *, assignment: str, version: str, checks_hash: str, jax_version: str,
                  sandboxed: bool) -> int:
        with self._db:
            cursor = self._db.execute(
                "INSERT INTO runs (started_at, assignment, assignment_version, checks_hash, jax_version, sandboxed)"
                " VALUES (?, ?, ?, ?, ?, ?)", (time.time(), assignment, version, checks_hash, jax_version, sandboxed))
        return int(cursor.lastrowid)

    def finish_run(self, run_id: int, *, graded: int, skipped: int) -> None:
        with self._db:
            self._db.execute("UPDATE runs SET finished_at = ?, graded = ?, skipped = ? WHERE id = ?",
                             (time.time(), graded, skipped, run_id))

    def get(self, submission_id: str) -> StoredSubmission | None:
        row = self._db.execute("SELECT id, content_hash, checks_hash, status, result_json FROM submissions"
                               " WHERE id = ?", (submission_id,)).fetchone()
        if row is None:
            return None
        return StoredSubmission(row[0], row[1], row[2], row[3], json.loads(row[4]))

    def is_current(self, submission_id: str, content_hash: str, checks_hash: str) -> bool:
        stored = self.get(submission_id)
        return stored is not None and stored.content_hash == content_hash and stored.checks_hash == checks_hash

    def save(self, result: SubmissionResult, *, source: str, content_hash: str, checks_hash: str,
             run_id: int) -> None:
        """Store one graded submission, replacing what was there, in one transaction."""
        plain = result.to_plain()
        with self._db:
            self._db.execute("DELETE FROM submissions WHERE id = ?", (result.submission,))
            self._db.execute(
                "INSERT INTO submissions (id, source, content_hash, checks_hash, graded_at, run_id, status,"
                " total, max_total, result_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (result.submission, source, content_hash, checks_hash, time.time(), run_id, result.status,
                 result.total, result.max_total, json.dumps(plain)))
            self._db.executemany(
                "INSERT INTO check_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(result.submission, q.id, c.name, c.points, c.max_points, c.passed, c.hidden, c.kind, c.message)
                 for q in result.questions for c in q.checks])
            self._db.executemany(
                "INSERT INTO manual_answers (submission, question, name, max_points, answer) VALUES (?, ?, ?, ?, ?)",
                [(result.submission, q.id, m.name, m.max_points, m.answer)
                 for q in result.questions for m in q.manual])

    def submission_ids(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT id FROM submissions ORDER BY id")]

    def results(self, ids: list[str] | None = None) -> dict[str, dict]:
        """Submission id -> stored result (the ``results.json`` entry), for ``ids`` or all."""
        rows = self._db.execute("SELECT id, result_json FROM submissions ORDER BY id").fetchall()
        wanted = None if ids is None else set(ids)
        return {row[0]: json.loads(row[1]) for row in rows if wanted is None or row[0] in wanted}

    def last_run(self) -> dict | None:
        row = self._db.execute("SELECT assignment, assignment_version, checks_hash, jax_version FROM runs"
                               " ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else dict(zip(("assignment", "version", "checks_hash", "jax_version"), row))
