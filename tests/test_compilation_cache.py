"""jax's persistent compilation cache: only the reference run writes it, only clean stages read it,
and its keys do not depend on where it lives."""

from __future__ import annotations

import pytest

from autograder._internal.evidence import Lane, gather
from autograder._internal.sandbox import Limits, bwrap_command, compilation_cache_env
from conftest import ROOT

pytestmark = pytest.mark.slow

LIMITS = Limits(timeout=300, probe_timeout=120)


def _entries(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _grade_reference(assignment, cache_env):
    question = assignment.question("softplus")
    lane = Lane.open(assignment, limits=LIMITS, sandboxed=False, clean_env=cache_env)
    try:
        evidence = gather(lane, assignment, (question,), "reference.py", question.reference_path.read_text(), LIMITS)
    finally:
        lane.close()
    assert evidence.status == "graded"


def test_only_writers_add_entries_and_a_moved_cache_still_hits(assignment, tmp_path):
    first = tmp_path / "first"
    _grade_reference(assignment, compilation_cache_env(first, read_only=False))
    written = _entries(first)
    assert written

    reader = tmp_path / "reader"
    reader.mkdir()
    _grade_reference(assignment, compilation_cache_env(reader, read_only=True))
    assert _entries(reader) == []  # a reader compiled everything, wrote nothing

    elsewhere = tmp_path / "elsewhere" / "deeper"
    _grade_reference(assignment, compilation_cache_env(elsewhere, read_only=False))
    assert _entries(elsewhere) == written  # filled in one place, read from another: the same keys


def test_the_student_sandbox_has_no_compilation_cache_at_all(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    student = " ".join(bwrap_command(stage="student", question_files={}, cache_dir=cache))
    clean = " ".join(bwrap_command(stage="clean", question_files={}, cache_dir=cache))
    assert str(cache) not in student and "JAX_COMPILATION_CACHE_DIR" not in student
    assert str(cache) in clean and "JAX_COMPILATION_CACHE_DIR" in clean
    assert str(ROOT) not in student.replace(str(ROOT / "autograder"), "")  # only the package itself
