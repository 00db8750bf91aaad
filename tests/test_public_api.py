"""The public API is what ``autograder`` exports, and importing it does not start jax."""

import subprocess
import sys
import types

import autograder


def test_all_lists_exactly_the_public_names():
    public = {name for name, value in vars(autograder).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert set(autograder.__all__) == public | set(autograder._LAZY)
    for name in autograder.__all__:
        assert getattr(autograder, name) is not None


def test_importing_the_package_does_not_import_pytest_or_the_pipeline():
    code = "import sys, autograder; print('pytest' in sys.modules, 'autograder._internal.pipeline' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_importing_the_package_does_not_import_jax():
    code = "import sys, autograder, autograder.cli; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
