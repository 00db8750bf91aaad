"""Finding the submissions in what a TA hands over: files, folders, zip archives.

Each argument is a submission file (``.py``/``.ipynb``) or a class: a folder or
``.zip`` whose entries are submissions, each a file, or a folder or ``.zip``
holding one. A submission's id is its file or folder name without extension.
"""

from __future__ import annotations

import dataclasses
import hashlib
import zipfile
from pathlib import Path, PurePosixPath

from autograder._internal.errors import UsageError
from autograder._internal.cells import SUBMISSION_SUFFIXES

_MAX_UNZIPPED = 50 << 20  # bytes of submission files taken from one archive
_IGNORED = ("__MACOSX", ".ipynb_checkpoints", "__pycache__")


@dataclasses.dataclass(frozen=True)
class Found:
    """One submission: its id and file, or why it has no usable file."""

    id: str
    path: Path | None
    problem: str = ""

    @property
    def content_hash(self) -> str:
        if self.path is None:
            return "missing:" + hashlib.sha256(self.problem.encode()).hexdigest()[:16]
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def _pick(candidates: list[Path], where: str) -> tuple[Path | None, str]:
    notebooks = [p for p in candidates if p.suffix == ".ipynb"]
    scripts = [p for p in candidates if p.suffix == ".py"]
    for group in (notebooks, scripts):
        if len(group) == 1:
            return group[0], ""
        if len(group) > 1:
            names = ", ".join(sorted(p.name for p in group))
            return None, f"{where} holds several submission files ({names}); keep exactly one"
    return None, f"{where} holds no .ipynb or .py file"


def _visible(path: Path) -> bool:
    return not any(part.startswith(".") or part in _IGNORED for part in path.parts)


def _from_folder(folder: Path) -> tuple[Path | None, str]:
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix in SUBMISSION_SUFFIXES
             and _visible(p.relative_to(folder))]
    return _pick(files, f"folder {folder.name!r}")


def _extract(archive: Path, into: Path) -> Path:
    """Extract the submission files of a zip safely (no paths outside ``into``, bounded size)."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            total = 0
            for info in zipped.infolist():
                name = PurePosixPath(info.filename)
                if info.is_dir() or name.is_absolute() or ".." in name.parts or not _visible(Path(*name.parts)):
                    continue
                if name.suffix not in (*SUBMISSION_SUFFIXES, ".zip"):
                    continue
                total += info.file_size
                if total > _MAX_UNZIPPED:
                    raise UsageError(f"{archive.name}: more than {_MAX_UNZIPPED >> 20} MiB of submissions")
                target = into.joinpath(*name.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(info) as source, open(target, "wb") as sink:
                    sink.write(source.read(_MAX_UNZIPPED + 1)[: _MAX_UNZIPPED])
    except zipfile.BadZipFile:
        raise UsageError(f"{archive.name} is not a valid zip archive") from None
    return into


def _entry(path: Path, scratch: Path) -> Found:
    sid = path.stem if path.is_file() else path.name
    if path.is_file() and path.suffix in SUBMISSION_SUFFIXES:
        return Found(sid, path)
    if path.is_dir():
        chosen, problem = _from_folder(path)
        return Found(sid, chosen, problem)
    if path.suffix == ".zip":
        try:
            folder = _extract(path, scratch / f"zip-{sid}")
        except UsageError as exc:
            return Found(sid, None, str(exc))
        chosen, problem = _from_folder(folder)
        return Found(sid, chosen, problem.replace(f"folder {folder.name!r}", f"archive {path.name!r}"))
    return Found(sid, None, f"{path.name} is not a .py, .ipynb, folder or .zip")


def discover(inputs: list[Path], scratch: Path) -> list[Found]:
    """Every submission in ``inputs``, sorted by id; ``UsageError`` for inputs that do not exist."""
    found: list[Found] = []
    for item in inputs:
        item = Path(item)
        if not item.exists():
            raise UsageError(f"{str(item)!r} does not exist (expected a submission file, a folder or a .zip)")
        if item.is_file() and item.suffix in SUBMISSION_SUFFIXES:
            found.append(Found(item.stem, item))
            continue
        if item.is_file() and item.suffix != ".zip":
            raise UsageError(f"{item.name!r} is not a .py, .ipynb, folder or .zip")
        root = item if item.is_dir() else _extract(item, scratch / f"class-{item.stem}")
        entries = sorted(p for p in root.iterdir() if _visible(Path(p.name)))
        if item.suffix == ".zip" and len(entries) == 1 and entries[0].is_dir():
            entries = sorted(p for p in entries[0].iterdir() if _visible(Path(p.name)))
        found += [_entry(entry, scratch) for entry in entries]
    by_id: dict[str, list[Found]] = {}
    for submission in found:
        by_id.setdefault(submission.id, []).append(submission)
    unique = []
    for sid, group in by_id.items():
        if len(group) == 1:
            unique.append(group[0])
        else:  # alice.py and alice.ipynb: keep both, named apart
            unique += [dataclasses.replace(f, id=f"{sid}{f.path.suffix if f.path else ''}") for f in group]
    return sorted(unique, key=lambda f: f.id)
