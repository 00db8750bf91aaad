"""The trusted side survives any file: a zoo of malformed submissions, graded in one run with honest ones."""

from __future__ import annotations

import json
import os
import zipfile

import pytest

from autograder._internal.bulk import grade_class
from autograder._internal.intake import MAX_SUBMISSION_BYTES, SubmissionProblem, read_submission
from autograder._internal.sandbox import Limits
from conftest import needs_bwrap


def test_a_fifo_a_link_and_a_folder_are_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "fifo.py")  # opening it for reading would block forever
    (tmp_path / "link.py").symlink_to("/etc/hostname")
    (tmp_path / "folder.py").mkdir()
    for name in ("fifo.py", "link.py", "folder.py"):
        with pytest.raises(SubmissionProblem):
            read_submission(tmp_path / name)


def test_a_file_over_the_cap_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.ipynb"
    with open(path, "wb") as handle:
        handle.truncate(MAX_SUBMISSION_BYTES + 1)  # sparse: no time or disk spent
    with pytest.raises(SubmissionProblem, match="MiB"):
        read_submission(path)


def test_text_that_is_not_utf8_is_refused_with_the_byte_offset(tmp_path):
    path = tmp_path / "latin.py"
    path.write_bytes("x = 'caf\u00e9'".encode("latin-1"))
    with pytest.raises(SubmissionProblem, match="UTF-8"):
        read_submission(path)


def _notebook(*sources) -> str:
    cells = [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
             for s in sources]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.mark.slow
@needs_bwrap
def test_a_zoo_of_malformed_files_costs_only_themselves(assignment, tmp_path):
    honest = assignment.question("softplus").reference_path.read_text()
    zoo = tmp_path / "class"
    zoo.mkdir()
    (zoo / "a_honest.py").write_text(honest)
    (zoo / "deep_nesting.ipynb").write_text('{"cells": ' + "[" * 200_000 + "]" * 200_000 + "}")
    (zoo / "deep_code.py").write_text("x = " + "(" * 100_000 + ")" * 100_000)
    (zoo / "latin1.py").write_bytes(b"softplus_explanation = 'caf\xe9'\n")
    (zoo / "nul_bytes.py").write_bytes(b"x = 1\0\n")
    (zoo / "binary.py").write_bytes(bytes(range(256)) * 64)
    (zoo / "cells_not_a_list.ipynb").write_text('{"cells": {"0": "x"}, "nbformat": 4}')
    (zoo / "source_not_text.ipynb").write_text('{"cells": [{"cell_type": "code", "source": {"a": 1}}]}')
    (zoo / "not_json.ipynb").write_text("{" * 10)
    (zoo / "empty.py").write_text("")
    (zoo / "huge_cell.ipynb").write_text(_notebook("#" * (8 << 20), honest))
    with open(zoo / "over_the_cap.ipynb", "wb") as handle:
        handle.truncate(MAX_SUBMISSION_BYTES + 1)
    os.mkfifo(zoo / "fifo.ipynb")
    (zoo / "link_to_secret.py").symlink_to("/etc/shadow")
    (zoo / "folder_named_like_a_file.py").mkdir()
    with zipfile.ZipFile(zoo / "traversal.zip", "w") as archive:
        archive.writestr("../../escaped.py", honest)
        archive.writestr("/absolute.py", honest)
    (zoo / "z_honest_last.ipynb").write_text(_notebook(honest))
    out = tmp_path / "out"
    summary = grade_class(assignment, [zoo], out, jobs=2, limits=Limits(timeout=60, probe_timeout=10))
    assert summary.not_graded == ()
    results = json.loads((out / "results.json").read_text())["submissions"]
    assert summary.graded == len(results) == len(list(zoo.iterdir()))
    full = assignment.question("softplus").auto_points
    assert results["a_honest"]["total"] == results["z_honest_last"]["total"] == full
    assert results["huge_cell"]["questions"]["softplus"]["points"] == full
    for sid, result in results.items():
        if sid in ("a_honest", "z_honest_last", "huge_cell"):
            continue
        assert result["total"] == 0, sid
        assert result["status"] in ("error", "graded"), sid
        if result["status"] == "error":
            assert result["message"] and "Traceback" not in result["message"], sid
    for sid in ("deep_nesting", "latin1", "cells_not_a_list", "source_not_text", "not_json", "over_the_cap",
                "fifo", "link_to_secret", "folder_named_like_a_file", "traversal"):
        found = [key for key in results if key.split(".")[0] == sid]  # a non-file keeps its suffix in its id
        assert found and results[found[0]]["status"] == "error", sid
    assert not (tmp_path / "escaped.py").exists()
