"""Shared fixtures. Slow tests (workers, sandboxes, notebooks) are marked ``slow``."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from autograder import load_assignment

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def assignment():
    return load_assignment("differentiability")


@pytest.fixture(scope="session")
def class_manifest() -> dict:
    return tomllib.loads((ROOT / "examples" / "class.toml").read_text())


needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
