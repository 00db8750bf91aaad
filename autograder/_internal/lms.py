"""Grades for a learning management system: a roster joined to the gradebook.

The roster is a CSV with one row per enrolled student (a Canvas gradebook export
will do). One of its columns holds each student's submission id; the join lists
submissions without a roster row and roster rows without a submission instead of
dropping either silently.

``canvas_csv`` writes Canvas's gradebook import format: ``Student, ID, SIS User ID,
(SIS Login ID,) Section``, then one column for the assignment, with the "Points
Possible" row Canvas's own exports have. An empty score leaves Canvas's unchanged.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

from autograder._internal.discovery import safe_id
from autograder._internal.errors import UsageError
from autograder._internal.export import (cell_text, class_info, class_results, grades_columns, grades_row,
                                         manual_names, open_gradebook)
from autograder._internal.totals import totals

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_REQUIRED = ("Student", "ID", "SIS User ID", "Section")
_KEY_GUESSES = ("submission", "SIS Login ID")


@dataclasses.dataclass(frozen=True)
class Roster:
    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]
    key: str  # the column that holds submission ids

    def label(self, row: dict[str, str]) -> str:
        """How a roster row is named in messages: its student's name and key."""
        name = row.get("Student", "").strip()
        return f"{name} ({self.key} {row.get(self.key, '')!r})" if name else f"{self.key} {row.get(self.key, '')!r}"


def read_roster(path: Path, *, key: str | None = None) -> Roster:
    """The roster at ``path``; ``UsageError`` if it cannot be joined (no key column, a key twice)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"no roster at {str(path)!r}") from None
    except UnicodeDecodeError:
        raise UsageError(f"roster {path.name} is not UTF-8 text; save it as CSV UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = tuple(c.strip() for c in reader.fieldnames or ())
    rows = [{c.strip(): (v or "").strip() for c, v in row.items() if c is not None} for row in reader]
    # Canvas's exports carry a "Points Possible" row (and sometimes "Student, Test"): not students.
    rows = [r for r in rows if r.get("Student", "").strip() not in ("Points Possible", "Student, Test")]
    if key is None:
        key = next((c for c in _KEY_GUESSES if c in columns), None)
        if key is None:
            raise UsageError(f"roster {path.name}: which column holds the submission ids? None is named "
                             f"{' or '.join(map(repr, _KEY_GUESSES))}; pass --roster-key with one of "
                             f"{', '.join(map(repr, columns))}")
    elif key not in columns:
        raise UsageError(f"roster {path.name} has no column {key!r}; its columns are {', '.join(map(repr, columns))}")
    first: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        value = row.get(key, "")
        if value and value in first:
            raise UsageError(f"roster {path.name}: {key} {value!r} is on rows {first[value]} and {number}")
        first.setdefault(value, number)
    return Roster(columns, tuple(rows), key)


@dataclasses.dataclass(frozen=True)
class Join:
    matched: tuple[tuple[dict[str, str], str], ...]  # (roster row, submission id), in roster order
    missing: tuple[dict[str, str], ...]  # roster rows without a submission
    unmatched: tuple[str, ...]  # submission ids without a roster row


def join(roster: Roster, submission_ids: list[str]) -> Join:
    """Roster rows to submissions: the key equals the id, or gives it once made safe (``safe_id``),
    compared without case where that is unambiguous."""
    ids = set(submission_ids)
    folded: dict[str, list[str]] = {}
    for sid in submission_ids:
        folded.setdefault(sid.casefold(), []).append(sid)
    matched, missing, taken = [], [], set()
    for row in roster.rows:
        value = row.get(roster.key, "")
        sid = None
        if value in ids:
            sid = value
        elif value:
            candidates = folded.get(safe_id(value).casefold(), [])
            sid = candidates[0] if len(candidates) == 1 else None
        if sid is None or sid in taken:
            missing.append(row)
        else:
            taken.add(sid)
            matched.append((row, sid))
    return Join(tuple(matched), tuple(missing), tuple(sorted(ids - taken)))


@dataclasses.dataclass(frozen=True)
class LmsExport:
    text: str
    missing: tuple[str, ...]  # roster rows without a submission, labelled
    unmatched: tuple[str, ...]  # submission ids without a roster row
    waiting: tuple[str, ...]  # submissions with written answers not graded yet


def _waiting(results: dict[str, dict]) -> tuple[str, ...]:
    return tuple(sid for sid, result in sorted(results.items()) if totals(result).waiting)


def canvas_csv(results: dict[str, dict], roster: Roster, *, column: str, points_possible: float) -> LmsExport:
    """Canvas's gradebook import CSV: one row per roster student, the overall total as the score."""
    absent = [c for c in CANVAS_REQUIRED if c not in roster.columns]
    if absent:
        raise UsageError(f"a Canvas roster needs the columns {', '.join(CANVAS_REQUIRED)} (a Canvas gradebook "
                         f"export has them); this one lacks {', '.join(absent)}")
    identity = [c for c in CANVAS_COLUMNS if c in roster.columns]
    joined = join(roster, list(results))
    score = {id(row): f"{totals(results[sid]).overall:g}" for row, sid in joined.matched}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*identity, column])
    writer.writerow(["    Points Possible", *([""] * (len(identity) - 1)), f"{points_possible:g}"])
    for row in roster.rows:
        writer.writerow([*(cell_text(row.get(c, "")) for c in identity), score.get(id(row), "")])
    return LmsExport(buffer.getvalue(), tuple(roster.label(r) for r in joined.missing), joined.unmatched,
                     _waiting(results))


def roster_csv(results: dict[str, dict], roster: Roster, question_ids: list[str]) -> LmsExport:
    """The roster's columns, then grades.csv's: roster rows without a submission get status
    ``missing``; submissions without a roster row follow, with empty roster cells."""
    joined = join(roster, list(results))
    names = manual_names(results)
    grade_columns = grades_columns(question_ids, results)
    by_row = {id(row): sid for row, sid in joined.matched}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*roster.columns, *grade_columns])
    for row in roster.rows:
        cells = [cell_text(row.get(c, "")) for c in roster.columns]
        sid = by_row.get(id(row))
        if sid is None:
            grades = [""] * len(grade_columns)
            grades[grade_columns.index("status")] = "missing"
        else:
            grades = grades_row(question_ids, names, sid, results[sid])
        writer.writerow([*cells, *grades])
    for sid in joined.unmatched:
        writer.writerow([*([""] * len(roster.columns)), *grades_row(question_ids, names, sid, results[sid])])
    return LmsExport(buffer.getvalue(), tuple(roster.label(r) for r in joined.missing), joined.unmatched,
                     _waiting(results))


def export_with_roster(db_path: Path, fmt: str, roster_path: Path, *, key: str | None = None,
                       column: str | None = None) -> LmsExport:
    """``autograder export --format canvas|csv --roster ROSTER.csv``."""
    roster = read_roster(roster_path, key=key)
    gradebook = open_gradebook(db_path)
    try:
        results = class_results(gradebook)
        info = class_info(gradebook, results)
    finally:
        gradebook.close()
    if fmt == "canvas":
        possible = max((totals(r).overall_max for r in results.values()), default=0.0)
        return canvas_csv(results, roster, column=column or info.title or info.assignment, points_possible=possible)
    return roster_csv(results, roster, list(info.question_ids))
