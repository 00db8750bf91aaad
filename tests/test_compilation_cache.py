"""jax's persistent compilation cache is shared by every worker of a class, so only trusted runs
write it, and its keys do not depend on where it lives."""

from __future__ import annotations

import shutil

import pytest

from autograder._internal.grading import compilation_cache_env, probe_request, run_worker_subprocess

pytestmark = pytest.mark.slow


def _entries(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_only_writers_add_entries_and_a_moved_cache_still_hits(assignment, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path / "cache"))
    question = assignment.question("softplus")
    request = probe_request(assignment, (question,), question.reference_path)

    run_worker_subprocess(request, extra_env=compilation_cache_env(read_only=False))
    written = _entries(tmp_path / "cache" / "xla")
    assert written

    shutil.rmtree(tmp_path / "cache" / "xla")
    (tmp_path / "cache" / "xla").mkdir()
    run_worker_subprocess(request, extra_env=compilation_cache_env(read_only=True))
    assert _entries(tmp_path / "cache" / "xla") == []  # a reader compiled everything, wrote nothing

    # Filled in one place, read from another: the same keys.
    shutil.rmtree(tmp_path / "cache")
    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path / "elsewhere"))
    run_worker_subprocess(request, extra_env=compilation_cache_env(read_only=False))
    assert _entries(tmp_path / "elsewhere" / "xla") == written
