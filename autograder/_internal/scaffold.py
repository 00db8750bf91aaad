"""A new question in every place it lives, ready for ``autograder validate`` at once.

``autograder new ASSIGNMENT QUESTION`` writes a small working question (the answer is
the function x sin x, so that every stage runs): the prompt, the stub, the reference
answer, ``targets.py`` (one export target), ``probes.py`` (a public and a hidden
clean-stage probe), ``checks.py`` (a public and a hidden check against the reference),
one known-wrong and one other right answer; it adds the question to
``assignment.toml`` and a ``# %% [question QID]`` placeholder to the course text.
Every file carries ``SCAFFOLD_MARK`` where the instructor still has to write something;
``validate`` reports each file that still does.
"""

from __future__ import annotations

import dataclasses
import json
import keyword
import re
import shutil
from pathlib import Path

from autograder._internal.assignment import Assignment, load_assignment
from autograder._internal.planning import top_level_names
from autograder._internal.errors import AssignmentError, UsageError
from autograder._internal.template import parse_percent

#: Left in every scaffolded file where something is still to be written; validate finds it.
SCAFFOLD_MARK = "TODO(autograder new)"
_QUESTION_ID = re.compile(r"[a-z][a-z0-9_]*")


@dataclasses.dataclass(frozen=True)
class Scaffolded:
    """What ``scaffold_question`` did."""

    question: str
    written: tuple[Path, ...]  # new files
    edited: tuple[Path, ...]  # assignment.toml and the course text


def _suggestion(qid: str) -> str:
    text = re.sub(r"[^a-z0-9_]+", "_", qid.lower()).strip("_") or "question"
    return text if text[0].isalpha() else f"q{text}"


def check_question_id(assignment: Assignment, qid: str, function: str) -> None:
    """``UsageError`` unless ``qid`` (and the answer's ``function``) can be a new question."""
    if keyword.iskeyword(qid) or keyword.iskeyword(function):
        word = qid if keyword.iskeyword(qid) else function
        raise UsageError(f"{word!r} is a Python keyword, so no function or module can have that name; "
                         f"choose another, e.g. {word + '_q'!r}")
    for kind, name in (("question id", qid), ("function name", function)):
        if not _QUESTION_ID.fullmatch(name):
            raise UsageError(f"{kind} {name!r} cannot be used: it names a folder, a Python module and the "
                             "answer's function, so it must be a lower-case Python identifier (letters, "
                             f"digits and underscores, starting with a letter), e.g. {_suggestion(name)!r}")
    known = [q.id for q in assignment.questions]
    if qid in known:
        raise UsageError(f"question {qid!r} already exists in assignment {assignment.name!r} "
                         f"({assignment.directory / qid}); choose another id")
    reference = _reference_path(assignment, qid)
    for path in (assignment.directory / qid, reference):
        if path.exists():
            raise UsageError(f"{path} already exists, though assignment.toml does not list {qid!r}: "
                             "remove it, or choose another id")
    for question in assignment.questions:
        if function in top_level_names(question.stub_path.read_text(encoding="utf-8")):
            raise UsageError(f"question {question.id!r} already defines {function!r}: every answer lives in "
                             "one notebook, so names must differ between questions; choose another name "
                             "with --function")
    for kind, source in parse_percent(assignment.notebook_source.read_text(encoding="utf-8")):
        if kind == "code" and function in top_level_names(source):
            raise UsageError(f"the course text ({assignment.notebook_source.name}) already defines "
                             f"{function!r}; choose another name with --function")


def _reference_path(assignment: Assignment, qid: str) -> Path:
    return assignment.directory.parent.parent / "reference" / assignment.name / f"{qid}.py"


def question_files(qid: str, function: str, title: str) -> dict[str, str]:
    """Relative path (in the question's folder) -> content of each scaffolded question file."""
    f, q, m = function, qid, SCAFFOLD_MARK
    return {
        "prompt.md": f"""## {title}

{m}: say what students must write. They read this above the answer cell.

Write `{f}(x)`: the function $x \\sin x$, elementwise on a float32 array, so that `jax.grad`
of `jnp.sum({f}(x))` gives its derivative $\\sin x + x \\cos x$.
""",
        "stub.py": f'''import jax
import jax.numpy as jnp


def {f}(x):
    """x sin x, elementwise ({m}: the docstring students see)."""
    raise NotImplementedError("write {f}")
''',
        "targets.py": f'''"""{title}, student stage: what to export from a submission.

Public: shapes and dtypes only. The inputs are in probes.py, which the student stage never sees.
"""

from autograder import arg, target


# {m}: one target per way the probes call the student's code. `sizes` lists every length
# the probes use (9 public points, 7 hidden ones); vjp_order=1 lets them take jax.grad through it.
@target(arg("float32", "n"), vjp_order=1, sizes={{"n": (9, 7)}})
def {f}(sub):
    return sub.function("{f}")
''',
        "probes.py": f'''"""{title}, clean stage: run the exported programs on the inputs, hidden ones included."""

import jax
import jax.numpy as jnp
import numpy as np

from autograder import ProbeFailure, probe

# {m}: inputs where right and wrong answers differ.
# Public points: the public check shows students what it computes there.
PUBLIC_POINTS = np.linspace(-3.0, 3.0, 9).astype(np.float32)
# Hidden points: only hidden checks read them; students never get this file.
HIDDEN_POINTS = np.array([-40.0, -7.5, -1e-3, 0.0, 2.2, 12.0, 90.0], np.float32)


def _array(value, what, shape):
    array = np.asarray(value)
    if array.shape != tuple(shape):
        raise ProbeFailure(f"{{what}} has shape {{array.shape}}, expected {{tuple(shape)}}")
    return array


@probe
def {q}_values(art):
    return _array(art.function("{f}")(PUBLIC_POINTS), "{f}(x)", PUBLIC_POINTS.shape)


@probe
def {q}_gradient(art):
    f = art.function("{f}")
    gradient = jax.grad(lambda x: jnp.sum(f(x)))(jnp.asarray(HIDDEN_POINTS))
    return _array(gradient, "jax.grad(lambda x: jnp.sum({f}(x)))", HIDDEN_POINTS.shape)
''',
        "checks.py": f'''"""Checks for {title}, judged in the grader against the reference solution's probe values."""

import pytest

from autograder import assert_close

# {m}: one check per property, each worth its points; @pytest.mark.hidden for the
# checks students do not see. assert_close compares float32 values to rtol 1e-5, atol 1e-6.


@pytest.mark.points(1)
def test_{q}_values(submission, reference):
    assert_close("{f}(x) for 9 points in [-3, 3]", reference["{q}_values"], submission["{q}_values"])


@pytest.mark.points(1)
@pytest.mark.hidden
def test_{q}_gradient(submission, reference):
    assert_close("jax.grad of sum({f}(x)) at the hidden points", reference["{q}_gradient"],
                 submission["{q}_gradient"])
''',
        "wrong/stops_gradient.py": f'''# Right values, but stop_gradient hides one factor from autodiff: the gradient is wrong.
# {m}: known-wrong answers, one per mistake students make (3 or more); each must lose points.
import jax
import jax.numpy as jnp


def {f}(x):
    return jax.lax.stop_gradient(x) * jnp.sin(x)
''',
        "right/factors_swapped.py": f'''# The same function written another way: the order of the factors does not matter.
# {m}: other correct answers (other formulas, library calls); each must earn full marks.
import jax.numpy as jnp


def {f}(x):
    return jnp.sin(x) * x
''',
    }


def reference_file(function: str) -> str:
    return f'''# {SCAFFOLD_MARK}: your reference answer; every check compares submissions with it.
import jax.numpy as jnp


def {function}(x):
    return x * jnp.sin(x)
'''


def _with_entry(text: str, qid: str, title: str, after: str | None) -> str:
    """``assignment.toml`` with the question's entry at the end, or right after ``after``'s entry
    (the template lists questions in this order, and the course text must agree)."""
    entry = f'[[questions]]\nid = "{qid}"\ntitle = {json.dumps(title, ensure_ascii=False)}\n'
    if after is None:
        return text.rstrip("\n") + "\n\n" + entry
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.fullmatch(rf'id\s*=\s*"{after}"\s*', line.strip())), None)
    if start is None:
        raise UsageError(f"assignment.toml has no entry `id = \"{after}\"` to put the new question after")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() == "[[questions]]"), len(lines))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    head = "".join(lines[:end]).rstrip("\n") + "\n"
    return head + "\n" + entry + ("\n" + "".join(lines[end:]).lstrip("\n") if end < len(lines) else "")


def _with_placeholder(text: str, qid: str, after: str | None) -> str:
    placeholder = f"# %% [question {qid}]\n"
    if after is None:
        return text.rstrip("\n") + "\n\n" + placeholder
    lines = text.splitlines(keepends=True)
    marker = f"# %% [question {after}]"
    for index, line in enumerate(lines):
        if line.rstrip() == marker:
            return "".join(lines[: index + 1]) + "\n" + placeholder + "".join(lines[index + 1:])
    raise UsageError(f"the course text has no placeholder for question {after!r} (no line {marker!r})")


def scaffold_question(assignment: Assignment, qid: str, *, title: str | None = None, function: str | None = None,
                      after: str | None = None) -> Scaffolded:
    """Write a new question ``qid`` into ``assignment`` (see the module docstring).

    Args:
        title: its title in the assignment (default ``Q<n>: <qid in words>``).
        function: the name of the function students write (default: the question id).
        after: the question the new one follows, in assignment.toml and in the course text
            (default: after the last one, at the end of the course text).

    Nothing is written when an argument is refused; if writing fails half-way, what was
    written is removed again.
    """
    function = function or qid
    check_question_id(assignment, qid, function)
    if after is not None:
        assignment.question(after)
    title = title or f"Q{len(assignment.questions) + 1}: {qid.replace('_', ' ')}"
    if "\n" in title:
        raise UsageError("a question title is one line")
    directory = assignment.directory / qid
    files = {directory / name: text for name, text in question_files(qid, function, title).items()}
    files[_reference_path(assignment, qid)] = reference_file(function)
    config = assignment.directory / "assignment.toml"
    edits = {config: _with_entry(config.read_text(encoding="utf-8"), qid, title, after),
             assignment.notebook_source: _with_placeholder(
                 assignment.notebook_source.read_text(encoding="utf-8"), qid, after)}
    originals = {path: path.read_text(encoding="utf-8") for path in edits}
    made_dirs = [d for d in (directory, _reference_path(assignment, qid).parent) if not d.exists()]
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        for path, text in edits.items():
            path.write_text(text, encoding="utf-8")
        load_assignment(str(assignment.directory)).question(qid)  # it loads as a question
    except (OSError, AssignmentError) as exc:
        for path in files:
            path.unlink(missing_ok=True)
        for path, text in originals.items():
            path.write_text(text, encoding="utf-8")
        for folder in made_dirs:  # made here: everything in them is ours
            shutil.rmtree(folder, ignore_errors=True)
        raise AssignmentError(f"could not write question {qid!r}: {exc}") from None
    return Scaffolded(qid, tuple(files), tuple(edits))
