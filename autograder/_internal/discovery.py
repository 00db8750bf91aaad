"""Finding the submissions in what a TA hands over: files, folders, zip archives.

Each argument is a submission file (``.py``/``.ipynb``) or a class: a folder or
``.zip`` whose entries are submissions, each a file, or a folder or ``.zip``
holding one. A submission's id is its file or folder name without extension,
made safe (``safe_id``) and unique (``unique_ids``): the id names the feedback
file and a row of every export, so it holds no path separators, line breaks or
markup, and two names never share one id.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath

from autograder._internal.errors import UsageError
from autograder._internal.cells import SUBMISSION_SUFFIXES

_MAX_UNZIPPED = 50 << 20  # bytes of submission files taken from one archive
_IGNORED = ("__MACOSX", ".ipynb_checkpoints", "__pycache__")
_ID_PUNCTUATION = "-_."
_MAX_ID_CHARS = 80  # leaves room for a suffix and ".md" within any file system's 255 bytes
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def safe_id(name: str) -> str:
    """A submission name made safe to be a file name and a cell of any export.

    Letters and digits (any script, NFKC-normalised) and ``-_.`` are kept; every other run
    of characters (spaces, ``~``, line breaks, tabs, quotes, markup, path separators) becomes
    one ``_``. Leading ``.``/``-`` (hidden files, options, spreadsheet formulas) and trailing
    ``.`` are dropped; the result is at most 80 characters and never empty.
    """
    kept = []
    for ch in unicodedata.normalize("NFKC", name):
        if ch.isalnum() or ch in _ID_PUNCTUATION:
            kept.append(ch)
        elif not kept or kept[-1] != "_":
            kept.append("_")
    text = "".join(kept).lstrip(".-").rstrip(".")[:_MAX_ID_CHARS].rstrip(".") or "submission"
    return text + "_" if text.split(".")[0].upper() in _WINDOWS_RESERVED else text


def _fingerprint(name: str, length: int) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def unique_ids(names: list[str], *, stems: dict[str, str] | None = None) -> dict[str, str]:
    """A distinct, stable id for each of ``names`` (entry names, extensions included).

    An id is ``safe_id`` of the name's stem (``stems[name]``, default the name itself).
    Where several names give one id (compared without case, as macOS and Windows file
    systems do), a name whose stem already was that id keeps it if it is the only one;
    a name that differs from another only by extension gets its extension
    (``alice.py``, ``alice.ipynb``); every other gets ``-`` and a fingerprint of its
    name, which depends on nothing else, so the same file keeps its id from run to run.
    """
    stems = stems or {}
    base = {name: safe_id(stems.get(name, name)) for name in names}
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(base[name].casefold(), []).append(name)
    ids: dict[str, str] = {}
    for group in groups.values():
        if len(group) == 1:
            ids[group[0]] = base[group[0]]
            continue
        clean = [n for n in group if stems.get(n, n) == base[n]]
        for name in group:
            if clean == [name]:
                ids[name] = base[name]
            elif name in clean and safe_id(name) != base[name] \
                    and sum(safe_id(n).casefold() == safe_id(name).casefold() for n in group) == 1:
                ids[name] = safe_id(name)
            else:
                ids[name] = f"{base[name]}-{_fingerprint(name, 6)}"
    # A name may itself look like another's fingerprinted id: lengthen fingerprints until unique.
    for length in (12, 64):
        taken: dict[str, list[str]] = {}
        for name in names:
            taken.setdefault(ids[name].casefold(), []).append(name)
        clashes = [n for group in taken.values() if len(group) > 1 for n in group if ids[n] != base[n]]
        if not clashes:
            break
        for name in clashes:
            ids[name] = f"{base[name]}-{_fingerprint(name, length)}"
    return ids


@dataclasses.dataclass(frozen=True)
class Found:
    """One submission: its id and file, or why it has no usable file.

    ``name`` is the entry's name as handed in (a file name with its extension, a folder
    name), kept for the records; ``id`` is what every output uses.
    """

    id: str
    path: Path | None
    problem: str = ""
    name: str = ""

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


def _stem(path: Path) -> str:
    return path.stem if path.is_file() else path.name


def _fresh_folder(scratch: Path, prefix: str) -> Path:
    """A new folder under ``scratch``: two archives of one name never extract into one place."""
    for n in itertools.count():
        folder = scratch / f"{prefix}-{n}"
        if not folder.exists():
            folder.mkdir(parents=True)
            return folder
    raise AssertionError("unreachable")


def _entry(path: Path, scratch: Path) -> Found:
    sid, name = _stem(path), path.name
    if path.is_file() and path.suffix in SUBMISSION_SUFFIXES:
        return Found(sid, path, name=name)
    if path.is_dir():
        chosen, problem = _from_folder(path)
        return Found(sid, chosen, problem, name=name)
    if path.suffix == ".zip":
        try:
            folder = _extract(path, _fresh_folder(scratch, "zip"))
        except UsageError as exc:
            return Found(sid, None, str(exc), name=name)
        chosen, problem = _from_folder(folder)
        return Found(sid, chosen, problem.replace(f"folder {folder.name!r}", f"archive {path.name!r}"), name=name)
    return Found(sid, None, f"{path.name!r} is not a .py, .ipynb, folder or .zip", name=name)


def discover(inputs: list[Path], scratch: Path) -> list[Found]:
    """Every submission in ``inputs``, sorted by id; ``UsageError`` for inputs that do not exist."""
    found: list[Found] = []
    for item in inputs:
        item = Path(item)
        if not item.exists():
            raise UsageError(f"{str(item)!r} does not exist (expected a submission file, a folder or a .zip)")
        if item.is_file() and item.suffix in SUBMISSION_SUFFIXES:
            found.append(Found(item.stem, item, name=item.name))
            continue
        if item.is_file() and item.suffix != ".zip":
            raise UsageError(f"{item.name!r} is not a .py, .ipynb, folder or .zip")
        root = item if item.is_dir() else _extract(item, _fresh_folder(scratch, "class"))
        entries = sorted(p for p in root.iterdir() if _visible(Path(p.name)))
        if item.suffix == ".zip" and len(entries) == 1 and entries[0].is_dir():
            entries = sorted(p for p in entries[0].iterdir() if _visible(Path(p.name)))
        found += [_entry(entry, scratch) for entry in entries]
    # The same entry name in two inputs (class1/alice.py, class2/alice.py) is two submissions:
    # the later ones are told apart by their input's position.
    names, seen = [], set()
    for index, submission in enumerate(found):
        name = submission.name if submission.name not in seen else f"{submission.name}#{index}"
        seen.add(name)
        names.append(name)
    stems = {name: submission.id for name, submission in zip(names, found)}
    ids = unique_ids(names, stems=stems)
    unique = [dataclasses.replace(submission, id=ids[name]) for name, submission in zip(names, found)]
    return sorted(unique, key=lambda f: f.id)
