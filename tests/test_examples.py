"""The example class on disk is what examples/build_class.py makes from class.toml."""

import subprocess
import sys

from conftest import ROOT


def test_example_submissions_are_in_sync_with_class_toml():
    result = subprocess.run([sys.executable, "examples/build_class.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
