"""What the bench scripts share: timing `autograder grade` and `otter run` on a class, reading the
points per check each gives, and the assignment as far as it can be graded today.

Imported by the scripts in bench/ (run as ``python bench/NAME.py``: bench/ is on sys.path).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The files a question needs before the grader loads it (see assignment.load_assignment).
QUESTION_FILES = ("targets.py", "probes.py", "checks.py", "stub.py")


def incomplete_questions(name: str = "differentiability") -> list[str]:
    """The questions of assignment ``name`` that lack a file the grader needs (one being ported)."""
    import tomllib

    directory = ROOT / "assignments" / name
    config = tomllib.loads((directory / "assignment.toml").read_text(encoding="utf-8"))
    return [entry["id"] for entry in config.get("questions", [])
            if not all((directory / entry["id"] / f).is_file() for f in QUESTION_FILES)]


def gradable_assignment(scratch: Path, name: str = "differentiability", *, leave_out: tuple[str, ...] = ()):
    """The assignment, loaded; where a question is incomplete (or named in ``leave_out``), a copy of
    it in ``scratch`` without those questions: their entries in assignment.toml and their placeholders
    in the course text removed. Returns (assignment, the ids left out)."""
    from autograder import load_assignment

    left_out = sorted(set(incomplete_questions(name)) | set(leave_out))
    if not left_out:
        return load_assignment(name), []
    source = ROOT / "assignments" / name
    copy = Path(scratch) / "assignments" / name
    shutil.rmtree(copy.parents[1], ignore_errors=True)
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", *left_out))
    shutil.copytree(ROOT / "reference" / name, Path(scratch) / "reference" / name,
                    ignore=shutil.ignore_patterns("__pycache__", *(f"{q}.py" for q in left_out)))
    toml = (source / "assignment.toml").read_text(encoding="utf-8")
    head, *entries = re.split(r"(?m)^(?=\[\[questions\]\])", toml)
    kept = [e for e in entries if not any(re.search(rf'(?m)^id\s*=\s*"{re.escape(q)}"\s*$', e) for q in left_out)]
    (copy / "assignment.toml").write_text(head + "".join(kept), encoding="utf-8")
    text = (source / "tutorial_notebook.py").read_text(encoding="utf-8")
    for qid in left_out:
        text = re.sub(rf"(?m)^# %% \[question {re.escape(qid)}\]\s*\n", "", text)
    (copy / "tutorial_notebook.py").write_text(text, encoding="utf-8")
    return load_assignment(str(copy)), left_out


def grade_env(checkout: Path = ROOT) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(checkout), env.get("PYTHONPATH") if checkout == ROOT else None]))
    if checkout != ROOT:  # another commit's code, and its own reference values and caches
        env["AUTOGRADER_CACHE"] = str(Path(tempfile.gettempdir()) / f"autograder-bench-{checkout.name}")
    return env


def forget_verdicts(checkout: Path = ROOT) -> None:
    """Remove the check results this project's ``autograder grade`` keeps between runs
    (judging.save_verdicts; another checkout's grader keeps none)."""
    if checkout == ROOT:
        from autograder._internal.reference import verdicts_path

        verdicts_path().unlink(missing_ok=True)


def time_autograder(class_dir: Path, jobs: int, checkout: Path = ROOT, *, assignment: str | None = None,
                    out: Path | None = None, extra: tuple[str, ...] = ()) -> float:
    """Wall seconds of one ``autograder grade`` of ``class_dir`` by the project in ``checkout``
    (its results kept in ``out`` when given). The check results kept from earlier runs are
    forgotten first: every run judges the whole class, as a new class would be."""
    forget_verdicts(checkout)
    with tempfile.TemporaryDirectory() as scratch:
        target = out if out is not None else Path(scratch) / "out"
        command = [sys.executable, "-m", "autograder", "grade", str(class_dir), "--out", str(target),
                   "--jobs", str(jobs), "--force", *extra]
        if assignment is not None:
            command += ["--assignment", assignment]
        start = time.perf_counter()
        subprocess.run(command, cwd=checkout, env=grade_env(checkout), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start


def otter_run(path: Path, zip_path: Path, out: Path, *, timeout: float = 900) -> bool:
    """``otter run`` of one notebook with the autograder zip, its results.json written in ``out``.

    False when it did not finish within ``timeout`` (a notebook can hang otter's kernel for good):
    it is stopped there, with its kernel and everything else it started."""
    out.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(["otter", "run", "-a", str(zip_path), "-o", str(out), str(path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return False
    if code != 0:
        raise subprocess.CalledProcessError(code, process.args)
    return True


def time_otter(notebooks: list[Path], zip_path: Path, jobs: int, *, out: Path | None = None,
               timeout: float = 900, stopped: list[str] | None = None) -> float:
    """Wall seconds of ``otter run`` on every notebook, ``jobs`` at a time (each one's results.json
    kept in ``out/<notebook stem>/`` when given). A notebook still running after ``timeout`` is
    stopped and counts ``timeout`` seconds (so the total is a lower bound); its name goes to ``stopped``."""
    with tempfile.TemporaryDirectory() as scratch:
        base = out if out is not None else Path(scratch)

        def one(path: Path) -> None:
            if not otter_run(path, zip_path, base / path.stem, timeout=timeout) and stopped is not None:
                stopped.append(path.name)

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(one, notebooks))
        return time.perf_counter() - start


def points_per_check(out: Path) -> dict[str, tuple[str, dict[str, float]]]:
    """Submission -> (status, "question/check" -> points), from an ``autograder grade`` run's results.json."""
    results = json.loads((out / "results.json").read_text())
    return {sid: (entry["status"], {f"{qid}/{c['name']}": float(c["points"])
                                    for qid, q in entry["questions"].items() for c in q["checks"]})
            for sid, entry in results["submissions"].items()}


def grade_differences(expected: dict, got: dict) -> list[str]:
    """Where two ``points_per_check`` tables differ, one line each (empty when they are the same)."""
    lines = []
    for sid in sorted(set(expected) | set(got)):
        if sid not in expected or sid not in got:
            lines.append(f"{sid}: only in {'the first' if sid in expected else 'the second'}")
            continue
        (status_a, checks_a), (status_b, checks_b) = expected[sid], got[sid]
        if status_a != status_b:
            lines.append(f"{sid}: status {status_a} != {status_b}")
        for check in sorted(set(checks_a) | set(checks_b)):
            if checks_a.get(check) != checks_b.get(check):
                lines.append(f"{sid} {check}: {checks_a.get(check)} != {checks_b.get(check)}")
    return lines


def otter_points_per_question(out: Path) -> dict[str, float]:
    """Question -> points, from one ``otter run``'s results.json (a test file per question)."""
    results = json.loads((out / "results.json").read_text())
    return {t["name"]: float(t["score"]) for t in results["tests"] if "score" in t}


def grade_without_reuse(class_dir: Path, out: Path, *, jobs: int, assignment: str | None = None) -> None:
    """Grade ``class_dir`` into ``out`` (sandboxed) with nothing reused: no memo, no closure graded
    once for several submissions, no compilation cache of the reference run; each submission
    graded on its own and every program compiled afresh."""
    from autograder import load_assignment
    from autograder._internal.bulk import grade_class
    from autograder._internal.runner import LocalRunner
    from autograder._internal.sandbox import Limits

    graded = load_assignment(assignment)
    runner = LocalRunner(graded, jobs=jobs, limits=Limits(), sandboxed=True, cache_dir=None)
    runner.memo = None
    runner.share = False
    grade_class(graded, [Path(class_dir)], Path(out), jobs=jobs, force=True, runner=runner)
    if runner.failures:
        raise SystemExit("the grader failed to grade: " + "; ".join(f"{i.id}: {why}" for i, why in runner.failures))


def time_without_reuse(class_dir: Path, out: Path, jobs: int, *, assignment: str | None = None) -> float:
    """Wall seconds of ``grade_without_reuse`` in a process of its own, as ``autograder grade`` runs."""
    forget_verdicts()
    command = [sys.executable, str(Path(__file__).resolve()), "grade-without-reuse", str(class_dir), str(out),
               "--jobs", str(jobs)] + (["--assignment", assignment] if assignment else [])
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=grade_env(), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="bench helpers run in a process of their own")
    sub = parser.add_subparsers(dest="command", required=True)
    plain = sub.add_parser("grade-without-reuse", help=grade_without_reuse.__doc__.splitlines()[0])
    plain.add_argument("class_dir", type=Path)
    plain.add_argument("out", type=Path)
    plain.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    plain.add_argument("--assignment", default=None)
    args = parser.parse_args()
    grade_without_reuse(args.class_dir, args.out, jobs=args.jobs, assignment=args.assignment)
