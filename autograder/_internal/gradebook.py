"""The gradebook: an SQLite database of every submission, check result and run.

Each result is committed as soon as it is judged, so an interrupted run (Ctrl-C,
kill -9) loses at most the submissions in flight; the next run skips every
submission whose content and checks are unchanged.

Written answers are graded by hand into ``manual_answers`` (points, comment, who and
when). A regrade keeps a TA's grade for every answer whose text did not change. The
schema only grows: ``_migrate`` adds the newer columns and tables to a gradebook made
by an older version, so an old gradebook opens and grades on.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from pathlib import Path

from autograder._internal.errors import UsageError
from autograder._internal.results import SubmissionResult

#: ``PRAGMA user_version`` of a gradebook with every column below; 0 is the first schema.
SCHEMA_VERSION = 1

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
CREATE TABLE IF NOT EXISTS metadata (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

# Columns added after the first schema: (table, column, declaration). Old gradebooks gain them.
_ADDED_COLUMNS = (
    ("submissions", "original_name", "TEXT"),
    ("manual_answers", "comment", "TEXT NOT NULL DEFAULT ''"),
    ("manual_answers", "graded_at", "REAL"),
    ("manual_answers", "grader", "TEXT NOT NULL DEFAULT ''"),
)


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a gradebook of any earlier schema up to ``SCHEMA_VERSION``, in one transaction.

    The write lock is taken first, so two processes opening an old gradebook at once
    migrate it once between them.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        for table, column, declaration in _ADDED_COLUMNS:
            present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


@dataclasses.dataclass(frozen=True)
class WrittenAnswer:
    """A written answer and its hand grade (``points`` is None until a TA grades it)."""

    submission: str
    question: str
    name: str
    max_points: float
    answer: str | None
    points: float | None
    comment: str = ""
    graded_at: float | None = None
    grader: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.submission, self.question, self.name)

    @property
    def answered(self) -> bool:
        return bool(self.answer and self.answer.strip())

    @property
    def state(self) -> str:
        """graded (a TA gave points) | waiting (answered, not yet graded) | blank (no answer: 0 points)."""
        if self.points is not None:
            return "graded"
        return "waiting" if self.answered else "blank"


@dataclasses.dataclass(frozen=True)
class HandGrade:
    """Points (and a comment) for one written answer, as ``set_hand_grades`` stores them."""

    submission: str
    question: str
    name: str
    points: float
    comment: str = ""



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
        if self._db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            _migrate(self._db)

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
             run_id: int, original_name: str | None = None) -> None:
        """Store one graded submission, replacing what was there, in one transaction.

        A hand grade survives for every written answer whose text is unchanged (up to
        surrounding white space); an answer that changed goes back to the TA's queue.
        """
        plain = result.to_plain()
        with self._db:
            kept = {(row[0], row[1]): row[2:] for row in self._db.execute(
                "SELECT question, name, answer, points, comment, graded_at, grader FROM manual_answers"
                " WHERE submission = ? AND points IS NOT NULL", (result.submission,))}
            if original_name is None:
                row = self._db.execute("SELECT original_name FROM submissions WHERE id = ?",
                                       (result.submission,)).fetchone()
                original_name = row[0] if row else None
            self._db.execute("DELETE FROM submissions WHERE id = ?", (result.submission,))
            self._db.execute(
                "INSERT INTO submissions (id, source, content_hash, checks_hash, graded_at, run_id, status,"
                " total, max_total, result_json, original_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (result.submission, source, content_hash, checks_hash, time.time(), run_id, result.status,
                 result.total, result.max_total, json.dumps(plain), original_name))
            self._db.executemany(
                "INSERT INTO check_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(result.submission, q.id, c.name, c.points, c.max_points, c.passed, c.hidden, c.kind, c.message)
                 for q in result.questions for c in q.checks])
            rows = []
            for q in result.questions:
                for m in q.manual:
                    old = kept.get((q.id, m.name))
                    same = old is not None and (old[0] or "").strip() == (m.answer or "").strip() \
                        and old[1] <= m.max_points
                    points, comment, graded_at, grader = old[1:] if same else (None, "", None, "")
                    rows.append((result.submission, q.id, m.name, m.max_points, m.answer, points, comment,
                                 graded_at, grader))
            self._db.executemany(
                "INSERT INTO manual_answers (submission, question, name, max_points, answer, points, comment,"
                " graded_at, grader) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def submission_ids(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT id FROM submissions ORDER BY id")]

    def results(self, ids: list[str] | None = None) -> dict[str, dict]:
        """Submission id -> stored result (the ``results.json`` entry), for ``ids`` or all.

        Each written answer in ``questions[QID]["manual"]`` carries its hand grade (``points``:
        None until graded, ``comment``, ``state``: graded | waiting | blank), and a result
        whose submission was handed in under another name has ``original_name``.
        """
        rows = self._db.execute("SELECT id, result_json, original_name FROM submissions ORDER BY id").fetchall()
        wanted = None if ids is None else set(ids)
        results = {}
        for sid, text, original_name in rows:
            if wanted is None or sid in wanted:
                results[sid] = json.loads(text)
                if original_name is not None and original_name != sid:
                    results[sid]["original_name"] = original_name
        grades = {answer.key: answer for answer in self.written_answers() if answer.submission in results}
        for sid, result in results.items():
            for qid, question in result.get("questions", {}).items():
                for entry in question.get("manual", []):
                    answer = grades.get((sid, qid, entry.get("name")))
                    if answer is not None:
                        entry.update(points=answer.points, comment=answer.comment, state=answer.state,
                                     graded_at=answer.graded_at, grader=answer.grader)
        return results

    def written_answers(self, *, question: str | None = None) -> list[WrittenAnswer]:
        """Every written answer with its hand grade, by submission, in the order of the questions."""
        rows = self._db.execute(
            "SELECT submission, question, name, max_points, answer, points, comment, graded_at, grader"
            " FROM manual_answers WHERE ? IS NULL OR question = ? ORDER BY submission, rowid",
            (question, question)).fetchall()
        return [WrittenAnswer(*row[:6], comment=row[6] or "", graded_at=row[7], grader=row[8] or "") for row in rows]

    def set_hand_grades(self, grades: list[HandGrade], *, grader: str = "") -> None:
        """Store hand grades, all or none: ``UsageError`` names the first grade that cannot be stored."""
        answers = {answer.key: answer for answer in self.written_answers()}
        for grade in grades:
            key = (grade.submission, grade.question, grade.name)
            answer = answers.get(key)
            if answer is None:
                raise UsageError(f"no written answer {grade.name!r} of question {grade.question!r} for "
                                 f"submission {grade.submission!r} in {self.path}")
            if not 0 <= grade.points <= answer.max_points:  # also refuses NaN
                raise UsageError(f"{grade.points:g} points for {grade.name!r} of {grade.submission!r} is outside "
                                 f"0..{answer.max_points:g}")
        now = time.time()
        with self._db:
            self._db.executemany(
                "UPDATE manual_answers SET points = ?, comment = ?, graded_at = ?, grader = ?"
                " WHERE submission = ? AND question = ? AND name = ?",
                [(float(g.points), g.comment, now, grader, g.submission, g.question, g.name) for g in grades])

    def set_metadata(self, key: str, value) -> None:
        """Store a JSON-able value under ``key`` (the assignment's questions, for instance)."""
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO metadata (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def metadata(self, key: str, default=None):
        row = self._db.execute("SELECT value FROM metadata WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_original_names(self, names: dict[str, str]) -> None:
        """Record the name each submission id was handed in under (where the two differ)."""
        with self._db:
            self._db.executemany("UPDATE submissions SET original_name = ? WHERE id = ?",
                                 [(name, sid) for sid, name in names.items()])

    def runs(self) -> list[dict]:
        """Every grading run, oldest first: started_at, finished_at, graded, skipped, sandboxed, ..."""
        columns = ("id", "started_at", "finished_at", "assignment", "assignment_version", "checks_hash",
                   "jax_version", "sandboxed", "graded", "skipped")
        rows = self._db.execute(f"SELECT {', '.join(columns)} FROM runs ORDER BY id").fetchall()
        return [dict(zip(columns, row)) for row in rows]

    def last_run(self) -> dict | None:
        row = self._db.execute("SELECT assignment, assignment_version, checks_hash, jax_version FROM runs"
                               " ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else dict(zip(("assignment", "version", "checks_hash", "jax_version"), row))
