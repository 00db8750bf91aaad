"""A benchmark class built from code that is not the reference: every submission combines, for
each question, one of that question's right/ or wrong/ answers (none equal to the reference).

The answers are read from the question folders when the class is composed, so the class
follows whatever right/ and wrong/ files exist. Composition is seeded: the same seed, the same
answer files and the same course text give the same files, byte for byte. Submissions are
notebooks built like the student template (every third a plain .py file); each draws, per
question, a right answer or a wrong one with even odds, and no two submissions are the same.

With ``--common K``, K of the compositions are each handed in ``--copies`` times (default 10)
under different names, in both formats, and the rest of the class is distinct: a class where
several students share a solution, which the clean stage's memo (identical exported programs,
identical evidence) grades once per question.

    python bench/unseen_class.py OUT [--n 24] [--seed 0] [--common K] [--copies 10]

writes OUT/<id>.ipynb or OUT/<id>.py per submission (``--manifest FILE``: also each submission's
answer files, per question, as JSON).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import tempfile
from pathlib import Path

#: Every how many-th submission is a .py file; the others are notebooks.
SCRIPT_EVERY = 3


@dataclasses.dataclass(frozen=True)
class Composed:
    """One submission of the class: its id, its format and, per question, the answer file it holds."""

    id: str
    format: str  # ipynb | py
    answers: tuple[tuple[str, str], ...]  # (question id, "right/NAME.py" or "wrong/NAME.py"), in order

    @property
    def file_name(self) -> str:
        return f"{self.id}.{self.format}"


def answer_pool(question) -> dict[str, list[str]]:
    """``right`` and ``wrong`` -> the question's answer files (relative names) that differ from the
    reference answer, as they are on disk now."""
    reference = question.reference_path.read_text(encoding="utf-8").strip()
    pool = {}
    for kind in ("right", "wrong"):
        files = sorted((question.directory / kind).glob("*.py"))
        pool[kind] = [f"{kind}/{f.name}" for f in files if f.read_text(encoding="utf-8").strip() != reference]
    if not pool["right"] and not pool["wrong"]:
        raise SystemExit(f"{question.id}: no right/ or wrong/ answer that differs from the reference")
    return pool


def _draw(rng: random.Random, pools: dict[str, dict[str, list[str]]]) -> tuple[tuple[str, str], ...]:
    choice = []
    for qid, pool in pools.items():
        kinds = [k for k in ("right", "wrong") if pool[k]]
        choice.append((qid, rng.choice(pool[rng.choice(kinds)])))
    return tuple(choice)


def compose(assignment, *, n: int = 24, seed: int = 0, common: int = 0, copies: int = 10) -> list[Composed]:
    """The class: ``max(n, common * copies)`` submissions, ``common`` compositions handed in
    ``copies`` times each and every other one distinct from all the rest."""
    pools = {q.id: answer_pool(q) for q in assignment.questions}
    possible = 1
    for pool in pools.values():
        possible *= len(pool["right"]) + len(pool["wrong"])
    size = max(n, common * copies)
    distinct = size - common * copies + common
    if distinct > possible:
        raise SystemExit(f"only {possible} distinct compositions exist; asked for {distinct}")
    rng = random.Random(f"unseen-class/{seed}")
    drawn: list[tuple[tuple[str, str], ...]] = []
    seen = set()
    while len(drawn) < distinct:
        choice = _draw(rng, pools)
        if choice not in seen:
            seen.add(choice)
            drawn.append(choice)
    slots = [drawn[k] for k in range(common) for _ in range(copies)] + drawn[common:]
    rng.shuffle(slots)
    copy_counts: dict[int, int] = {}
    composed = []
    for index, choice in enumerate(slots):
        shared = drawn.index(choice) if drawn.index(choice) < common else None
        if shared is None:
            fmt = "py" if index % SCRIPT_EVERY == SCRIPT_EVERY - 1 else "ipynb"
            sid = f"unseen_{index:03d}"
        else:
            copy_counts[shared] = copy_counts.get(shared, 0) + 1
            fmt = "py" if copy_counts[shared] % 2 == 0 else "ipynb"  # a shared solution in both formats
            sid = f"shared{shared}_{index:03d}"
        composed.append(Composed(sid, fmt, choice))
    return composed


def render(assignment, submission: Composed, fmt: str | None = None) -> str:
    """The submission's file content (as ``fmt`` when given: the same answers as a notebook, say)."""
    from autograder._internal.template import build_notebook, build_script

    files = dict(submission.answers)

    def answer(question) -> str:
        return (question.directory / files[question.id]).read_text(encoding="utf-8")

    fmt = fmt or submission.format
    return build_notebook(assignment, answer) if fmt == "ipynb" else build_script(assignment, answer)


def manifest(composed: list[Composed]) -> dict:
    """Submission id -> its format and, per question, the answer file it holds."""
    return {s.id: {"format": s.format, "answers": dict(s.answers)} for s in composed}


def write_class(assignment, out: Path, composed: list[Composed]) -> list[Path]:
    """Write each submission into ``out`` (created); returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for submission in composed:
        path = out / submission.file_name
        path.write_text(render(assignment, submission), encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from benchlib import gradable_assignment

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the folder to write the class into")
    parser.add_argument("--n", type=int, default=24, help="submissions (at least --common x --copies)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--common", type=int, default=0, help="compositions handed in --copies times each")
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--manifest", type=Path, default=None, help="write each submission's answer files here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        assignment, left_out = gradable_assignment(Path(scratch))
        if left_out:
            print(f"left out (not gradable yet): {', '.join(left_out)}", file=sys.stderr)
        composed = compose(assignment, n=args.n, seed=args.seed, common=args.common, copies=args.copies)
        paths = write_class(assignment, args.out, composed)
    if args.manifest is not None:
        args.manifest.write_text(json.dumps(manifest(composed), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(paths)} submissions to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
