"""Planning one submission: which of its cells each question's answer needs.

A question is graded from its *closure*: the cells that bind the names its answer defines,
the cells that bind the names those cells read (in function bodies too), and so on. No
other cell of the submission runs for it: the notebook tells students that their answers
may rely on its imports cell only. A name that several cells bind with the very same
import statement (``import jax.numpy as jnp`` at the top of every answer cell) needs one
of them, the first; a name bound in any other way needs every cell that binds it, in
order, so that the last binding wins as it would in a kernel. A cell that looks names up
by string (``globals()``, ``eval``...) puts every cell in the closure, and so does a
star import (it may bind anything). A cell that changes what a needed name holds without
binding it comes too: at its top level (outside functions and classes) a method call on it
where the name holds an object of the submission's own, not only an imported module
(``f.defvjp(fwd, bwd)``, ``_ = registry.append(g)``, ``@f.defjvp`` on a function), a call into a configuration
(``jax.config.update(...)``), a store into or a ``del`` of its attributes or items (``jnp.exp =
...``), or ``setattr``/``delattr`` on it.

A ``.py`` file whose top level only defines names (imports, functions, classes, assignments,
``f.defvjp(...)``) is planned the same way, one statement as one cell: an error in a statement
does not stop the others, as one cell's does not stop a notebook's. Any other ``.py`` file (one
that loops, calls or stores into modules at its top level) is one cell: its closure is the file,
run as a script.

The closure's text is the key under which a question's evidence is kept (``memo.py``):
two submissions whose closures for a question are the same text, run alone, give the
same evidence, so a class grades each distinct closure once.

This is where the trusted grader parses a submission, to plan, and only here: bounded
(a notebook of more than ``MAX_CELLS`` cells, with a cell of more than
``MAX_ANALYSED_CHARS`` characters or more than ``MAX_ANALYSED_TOTAL_CHARS`` in all, is not
analysed: every question's closure is then every cell), with every failure of Python's parser caught (a cell that does not parse
binds nothing; its error is reported as the kernel would report it). Nothing here runs
student code.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import re
import symtable
from collections.abc import Iterable, Mapping

from autograder._internal.cells import Cell, CellError, parse_cells

#: Notebooks with more code cells than this are not analysed (every closure is every cell).
MAX_CELLS = 1000
#: Cells longer than this, or code cells longer than this together, are not analysed (every
#: closure is every cell).
MAX_ANALYSED_CHARS = 200_000
MAX_ANALYSED_TOTAL_CHARS = 2_000_000
#: Calls that can read any global by name: a closure with one of these holds every cell.
DYNAMIC_LOOKUPS = frozenset({"globals", "locals", "vars", "eval", "exec", "dir", "__import__"})
#: What the parser may raise on hostile text (deep nesting, huge literals), besides SyntaxError.
_PARSER_FAILURES = (SyntaxError, ValueError, RecursionError, MemoryError, SystemError, OverflowError)


@dataclasses.dataclass(frozen=True)
class CellInfo:
    """What planning knows of one cell: the global names it binds and reads (function bodies
    included), the import statements of names it binds by top-level imports only, and whether
    it parses at all."""

    binds: frozenset[str] = frozenset()
    reads: frozenset[str] = frozenset()
    imports: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)
    star: bool = False  # a top-level ``from module import *``: it may bind any name
    # names whose objects its top-level code changes without binding them (``f.defvjp(...)``)
    mutates: frozenset[str] = frozenset()
    # names whose methods its top-level code calls (``f.defvjp(...)``): changes too, where the
    # name holds an object of the submission's own (not only imported)
    calls_methods_of: frozenset[str] = frozenset()
    error: str | None = None  # the SyntaxError (or parser failure) as the kernel would report it

    @property
    def dynamic(self) -> bool:
        return bool(self.reads & DYNAMIC_LOOKUPS)


def syntax_error_message(exc: BaseException) -> str:
    """'SyntaxError: invalid syntax (line 3)': how a cell that does not compile is reported."""
    if isinstance(exc, SyntaxError):
        return f"{type(exc).__name__}: {exc.msg} (line {exc.lineno})"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _import_forms(tree: ast.Module) -> dict[str, set[str]]:
    """Name -> the top-level import statements binding it (``import a.b as c``, ``from a import b``)."""
    forms: dict[str, set[str]] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                name = alias.asname or alias.name.split(".")[0]
                forms.setdefault(name, set()).add(f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else ""))
        elif isinstance(statement, ast.ImportFrom):
            for alias in statement.names:
                if alias.name != "*":
                    name = alias.asname or alias.name
                    forms.setdefault(name, set()).add(f"from {'.' * statement.level}{statement.module or ''} "
                                                      f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else ""))
    return forms


def _root(node: ast.AST) -> str | None:
    """``f`` for ``f``, ``f.a.b``, ``f[0].a``, ``f.a(1).b``: the name an access chain starts from."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return None


def _method_root(call: ast.AST) -> str | None:
    """The root of a call of a method (``f.defvjp(...)`` -> ``f``); None for other calls."""
    if isinstance(call, ast.Call) and isinstance(call.func, (ast.Attribute, ast.Subscript)):
        return _root(call.func)
    return None


def _top_level_changes(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(names the top-level code changes, names whose methods it calls); statements
    inside top-level ``if``, loops, ``with`` and ``try`` count, function and class bodies do not."""
    mutates: set[str] = set()
    called: set[str] = set()
    pending = list(tree.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in statement.decorator_list:  # @fixed_point.defjvp: a method call on it
                root = _root(decorator)
                if root is not None and any(isinstance(n, (ast.Attribute, ast.Subscript)) for n in ast.walk(decorator)):
                    called.add(root)
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            call = statement.value
            root = _method_root(call)
            if root is not None:
                # a module's functions mostly compute (jnp.sin(x)); its configuration is state
                chain = {n.attr for n in ast.walk(call.func) if isinstance(n, ast.Attribute)} | {root}
                (mutates if "config" in chain else called).add(root)
            elif isinstance(call.func, ast.Name) and call.func.id in ("setattr", "delattr") and call.args:
                root = _root(call.args[0])
                if root is not None:
                    mutates.add(root)
        elif isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = statement.targets if isinstance(statement, (ast.Assign, ast.Delete)) else [statement.target]
            for target in targets:
                for node in ast.walk(target):  # a, (b.x, c[0]) = ...
                    if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
                        root = _root(node)
                        if root is not None:
                            mutates.add(root)
            value = getattr(statement, "value", None)
            root = _method_root(value) if value is not None else None
            if root is not None:
                called.add(root)
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(statement, field, None) or ():
                pending.extend(getattr(child, "body", []) if isinstance(child, (ast.ExceptHandler, ast.match_case))
                               else [child])
    return mutates, called


def analyse_cell(source: str) -> CellInfo:
    """The names ``source`` binds and reads, as planning needs them (never raises)."""
    try:
        tree = ast.parse(source, "<cell>", "exec")
        table = symtable.symtable(source, "<cell>", "exec")
    except _PARSER_FAILURES as exc:
        return CellInfo(error=syntax_error_message(exc))
    binds, reads, only_imported = set(), set(), set()
    for symbol in table.get_symbols():
        name = symbol.get_name()
        if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace():
            binds.add(name)
            if symbol.is_imported() and not symbol.is_assigned() and not symbol.is_namespace():
                only_imported.add(name)
        if symbol.is_referenced():
            reads.add(name)
    pending = list(table.get_children())
    while pending:
        scope = pending.pop()
        pending.extend(scope.get_children())
        for symbol in scope.get_symbols():
            if symbol.is_global() and symbol.is_assigned():  # `global name` in a function
                binds.add(symbol.get_name())
                only_imported.discard(symbol.get_name())
            if symbol.is_global() and symbol.is_referenced():
                reads.add(symbol.get_name())
    star = any(isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)
               for node in tree.body)
    forms = _import_forms(tree)
    imports = {name: frozenset(forms[name]) for name in only_imported if name in forms}
    mutates, called = _top_level_changes(tree)  # iterative (ast.walk): no depth to run out of
    return CellInfo(frozenset(binds), frozenset(reads), imports, star, frozenset(mutates), frozenset(called))


def top_level_names(source: str) -> frozenset[str]:
    """The global names a piece of code binds (an answer stub: the names the grader looks up)."""
    return analyse_cell(source).binds


def closure(infos: list[CellInfo], names: Iterable[str]) -> tuple[int, ...]:
    """The indices, in order, of the cells that ``names`` need (see the module docstring)."""
    kept: set[int] = set()
    seen: set[str] = set()
    pending = list(names)
    stars = [i for i, info in enumerate(infos) if info.star]
    bound_by: dict[str, list[int]] = {}
    changed_by: dict[str, list[int]] = {}
    own: set[str] = set()  # names some cell binds otherwise than by importing them
    for index, info in enumerate(infos):
        for name in info.binds:
            bound_by.setdefault(name, []).append(index)
            if name not in info.imports:
                own.add(name)
        for name in info.mutates:
            changed_by.setdefault(name, []).append(index)
    for index, info in enumerate(infos):
        for name in info.calls_methods_of & own:
            changed_by.setdefault(name, []).append(index)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        binders = sorted(set(bound_by.get(name, ())) | set(stars))
        forms = {infos[i].imports.get(name) for i in binders}
        if len(binders) > 1 and None not in forms and len(forms) == 1:
            binders = binders[:1]  # the same import in several cells: one of them binds it
        for index in binders + changed_by.get(name, []):
            if index not in kept:
                kept.add(index)
                pending.extend(infos[index].reads)
    if any(infos[i].dynamic or infos[i].star for i in kept):
        kept |= {i for i, info in enumerate(infos) if info.error is None}
    return tuple(sorted(kept))


def kind_of(name: str) -> str:
    """``ipynb`` or ``py``: how a submission's cells run (a notebook's as ``__main__``)."""
    return "py" if name.endswith(".py") else "ipynb"


def text_key(kind: str, sources: Iterable[str]) -> str:
    """The digest of code that runs together: its kind and its cells' texts, in order."""
    return hashlib.sha256(json.dumps([kind, list(sources)]).encode("utf-8", "surrogatepass")).hexdigest()


@dataclasses.dataclass(frozen=True)
class Unit:
    """Cells that run together in a job of their own, and the questions graded from them.

    Only the text matters: the same cells of two submissions are the same unit. In a
    job, cells are labelled by position (``@1``, ``@2``... in messages, with lines counted from
    each cell's start); ``assemble`` puts each submission's own labels and lines back.
    """

    kind: str
    sources: tuple[str, ...]
    questions: tuple[str, ...]

    @property
    def run_key(self) -> str:
        return text_key(self.kind, self.sources)

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.run_key}:{','.join(self.questions)}".encode()).hexdigest()

    def answer_key(self, question: str) -> str:
        """The key its run's evidence for ``question`` is kept under (see ``SubmissionPlan.answer_key``)."""
        return f"{question}:{self.run_key}"

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(f"@{number}" for number in range(1, len(self.sources) + 1))

    def to_plain(self) -> dict:
        return {"kind": self.kind, "sources": list(self.sources), "questions": list(self.questions)}

    @classmethod
    def from_plain(cls, data: dict) -> Unit:
        return cls(str(data["kind"]), tuple(str(s) for s in data["sources"]), tuple(str(q) for q in data["questions"]))


@dataclasses.dataclass(frozen=True)
class SubmissionPlan:
    """A submission's cells and, for each question, the indices of the cells its answer needs."""

    kind: str
    cells: tuple[Cell, ...]
    closures: dict[str, tuple[int, ...]]
    # cells that do not compile, reported as a kernel would (they bind nothing, so they never run)
    syntax_errors: tuple[CellError, ...] = ()
    # whether the cells were analysed (False: too large to analyse, every closure is every cell)
    analysed: bool = True

    def sources(self, indices: Iterable[int]) -> tuple[str, ...]:
        return tuple(self.cells[i].source for i in indices)

    def answer_key(self, question: str) -> str:
        """The key of question ``question``'s evidence: its id and the text of its closure."""
        return f"{question}:{text_key(self.kind, self.sources(self.closures[question]))}"

    def unit(self, questions: Iterable[str]) -> tuple[Unit, tuple[int, ...]]:
        """The unit that runs what ``questions`` need (the union of their closures, in order), and
        the indices of its cells in this submission."""
        questions = tuple(questions)
        positions = tuple(sorted(set().union(*(self.closures[q] for q in questions))))
        return Unit(self.kind, self.sources(positions), questions), positions


def _definitions_only(tree: ast.Module) -> bool:
    """Whether every top-level statement of a .py file only defines names: imports, functions,
    classes, assignments to names, docstrings, and method calls on what the file defines
    (``f.defvjp(fwd, bwd)``). A file that does anything else at its top level (loops, calls,
    stores into modules, ``from __future__``) runs whole, as a script."""
    own = {target.id for statement in tree.body if isinstance(statement, (ast.Assign, ast.AnnAssign))
           for target in (statement.targets if isinstance(statement, ast.Assign) else [statement.target])
           if isinstance(target, ast.Name)}
    own |= {s.name for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(statement, ast.ImportFrom) and statement.module != "__future__":
            continue
        if isinstance(statement, ast.Assign) and all(isinstance(t, ast.Name) for t in statement.targets):
            continue
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            continue
        if isinstance(statement, ast.Expr) and (isinstance(statement.value, ast.Constant)
                                                or _method_root(statement.value) in own):
            continue
        return False
    return True


def _statements(text: str) -> list[Cell] | None:
    """A .py file that only defines names, as one cell per top-level statement (statements
    that share a line are one), each labelled ``file`` with the lines before it; None for a
    file that must run whole (or does not parse)."""
    try:
        tree = ast.parse(text, "<file>", "exec")
    except _PARSER_FAILURES:
        return None
    if not tree.body or len(tree.body) > MAX_CELLS or not _definitions_only(tree):
        return None
    spans: list[list[int]] = []
    for statement in tree.body:
        start = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", [])])
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], statement.end_lineno)
        else:
            spans.append([start, statement.end_lineno])
    lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)  # as the parser counts lines
    cells = [Cell("file", "".join(lines[start - 1:end]), start - 1) for start, end in spans]
    try:  # the pieces hold exactly the file's statements, or the file runs whole
        if sum(len(ast.parse(cell.source).body) for cell in cells) != len(tree.body):
            return None
    except _PARSER_FAILURES:
        return None
    return cells


def plan_submission(name: str, text: str, answer_names: Mapping[str, Iterable[str]]) -> SubmissionPlan:
    """Plan the submission ``name`` with content ``text`` for the questions of ``answer_names``
    (question id -> the names its answer defines). ``UnreadableSubmission`` for a file that is
    not Python or a notebook."""
    cells = parse_cells(name, text)
    kind = kind_of(name)
    if kind == "py" and len(text) <= MAX_ANALYSED_CHARS:
        cells = _statements(text) or cells
    if (kind == "py" and len(cells) == 1) or len(cells) > MAX_CELLS or any(len(c.source) > MAX_ANALYSED_CHARS for c in cells) \
            or sum(len(c.source) for c in cells) > MAX_ANALYSED_TOTAL_CHARS:
        small = len(cells) <= MAX_CELLS and sum(len(c.source) for c in cells) <= MAX_ANALYSED_TOTAL_CHARS
        infos = [analyse_cell(c.source) if small and len(c.source) <= MAX_ANALYSED_CHARS else CellInfo()
                 for c in cells]
        errors = tuple(CellError(c.label, info.error) for c, info in zip(cells, infos) if info.error)
        # Not analysed (or a .py file that runs whole): every question needs every cell that compiles.
        every = tuple(i for i, info in enumerate(infos) if info.error is None)
        return SubmissionPlan(kind, tuple(cells), {qid: every for qid in answer_names}, errors,
                              analysed=kind == "py")
    infos = [analyse_cell(c.source) for c in cells]
    errors = tuple(CellError(c.label, info.error) for c, info in zip(cells, infos) if info.error)
    return SubmissionPlan(kind, tuple(cells), {qid: closure(infos, names) for qid, names in answer_names.items()},
                          errors)
