"""Build the example class in examples/submissions/ from class.toml.

Each student in class.toml is composed from the question sources: for every
question, the reference answer, the untouched stub, a known-wrong answer or an
alternative right one; optionally with hostile code before the answers. The
expected result of each question follows from that composition and is stated
in class.toml next to it, so the tests check the class against properties
("full", "zero", "lost"), not against scores copied from a run.

Run from the project root:  python examples/build_class.py  [--check]
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tomllib
import zipfile
from pathlib import Path

from autograder._internal.assignment import Question, load_assignment
from autograder._internal.template import build_notebook, build_script

HERE = Path(__file__).resolve().parent
SUBMISSIONS = HERE / "submissions"


def load_manifest() -> dict:
    return tomllib.loads((HERE / "class.toml").read_text(encoding="utf-8"))


def answer_source(question: Question, choice: str) -> str:
    """The answer text for ``choice``: reference | stub | wrong[:NAME] | right[:NAME] | broken-syntax."""
    kind, _, name = choice.partition(":")
    if kind == "reference":
        return question.reference_path.read_text(encoding="utf-8")
    if kind == "stub":
        return question.stub_path.read_text(encoding="utf-8")
    if kind in ("wrong", "right"):
        files = sorted((question.directory / kind).glob("*.py"))
        chosen = [f for f in files if f.stem == name] if name else files[:1]
        if not chosen:
            raise SystemExit(f"{question.id}: no {kind}/{name or '*'}.py")
        return chosen[0].read_text(encoding="utf-8")
    if kind == "broken-syntax":
        return question.reference_path.read_text(encoding="utf-8") + "\ndef unfinished(:\n"
    if kind == "raises":
        return question.reference_path.read_text(encoding="utf-8") + "\nundefined_helper()\n"
    raise SystemExit(f"unknown answer choice {choice!r}")


def build_files(manifest: dict) -> dict[str, bytes]:
    """Relative path under submissions/ -> content, for every student."""
    assignment = load_assignment(manifest.get("assignment"))
    files: dict[str, bytes] = {}
    for sid, student in manifest["students"].items():
        fmt = student.get("format", "ipynb")
        if fmt == "raw":
            source = HERE / student["source"]
            target = student.get("target", source.name)
            if source.is_dir():
                for path in sorted(source.rglob("*")):
                    if path.is_file():
                        files[f"{target}/{path.relative_to(source)}"] = path.read_bytes()
                files.setdefault(f"{target}/.keep", b"")
            else:
                files[target] = source.read_bytes()
            continue
        default = student.get("answers", "reference")
        overrides = student.get("answers_by_question", {})
        prelude = (HERE / student["prelude"]).read_text(encoding="utf-8") if "prelude" in student else ""
        postlude = (HERE / student["postlude"]).read_text(encoding="utf-8") if "postlude" in student else ""

        def answer(question: Question) -> str:
            text = answer_source(question, overrides.get(question.id, default))
            if prelude and question.id == assignment.questions[0].id:
                text = prelude.rstrip() + "\n\n" + text
            if postlude and question.id == assignment.questions[-1].id:
                text = text.rstrip() + "\n\n" + postlude
            return text

        if fmt in ("ipynb", "folder"):
            content = build_notebook(assignment, answer).encode()
            name = f"{sid}/{sid}.ipynb" if fmt == "folder" else f"{sid}.ipynb"
            files[name] = content
        elif fmt in ("py", "zip"):
            content = build_script(assignment, answer).encode()
            if fmt == "py":
                files[f"{sid}.py"] = content
            else:
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w") as archive:
                    info = zipfile.ZipInfo(f"{sid}/answers.py", date_time=(2026, 1, 1, 0, 0, 0))
                    archive.writestr(info, content)
                files[f"{sid}.zip"] = buffer.getvalue()
        else:
            raise SystemExit(f"{sid}: unknown format {fmt!r}")
    return files


def current_files() -> dict[str, bytes]:
    if not SUBMISSIONS.is_dir():
        return {}
    return {str(p.relative_to(SUBMISSIONS)): p.read_bytes() for p in sorted(SUBMISSIONS.rglob("*")) if p.is_file()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether submissions/ is up to date")
    args = parser.parse_args(argv)
    wanted = build_files(load_manifest())
    if args.check:
        stale = sorted(set(wanted.items()) ^ set(current_files().items()))
        names = sorted({name for name, _ in stale})
        if names:
            print("examples/submissions is out of date (run python examples/build_class.py): " + ", ".join(names))
            return 1
        return 0
    shutil.rmtree(SUBMISSIONS, ignore_errors=True)
    for name, content in wanted.items():
        path = SUBMISSIONS / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    print(f"wrote {len(wanted)} files to {SUBMISSIONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
