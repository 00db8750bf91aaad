"""Mutation testing of a question's checks: small changes to the reference answer that they must catch.

``validate`` proves that the wrong answers someone thought of lose points. Mutation
testing measures the checks against wrong answers nobody wrote: each mutant is the
reference answer with one small change made by rewriting its syntax tree (an operator
flipped, a sign dropped, a constant perturbed, two arguments swapped, a term dropped,
``log1p`` exchanged for ``log``, the branches of a ``where`` exchanged, a slice shifted
by one), graded through the same two stages as any submission. A mutant that loses
points is *killed*; one that keeps full marks *survives*: either the checks miss a
wrong answer, or the change does not change the answer (an *equivalent* mutant, which
the instructor lists in ``equivalent_mutants.txt`` next to the question, with a reason,
so that it stops being counted). The mutation score is killed / (graded - equivalent).

The mutation libraries for Python (mutmut, cosmic-ray, mutatest) mutate a project and
run its test command; none grades a single module through a pipeline like this one,
and none knows the exchanges that matter in JAX code (log1p/log, exp/expm1, jacfwd/jacrev,
where-branches), so the operators are written here, small, one function each.

A mutant's id names its place and its change, ``SCOPE@LINE:COL/OPERATOR:DETAIL``
(``softplus@16:45/call:log1p>log``): the same source gives the same ids, in the same order.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from autograder._internal.errors import AssignmentError

#: The file next to a question's checks that lists the mutants judged equivalent.
EQUIVALENT_FILE = "equivalent_mutants.txt"
#: Mutants graded per question unless told otherwise: all six questions in ~15 minutes on 2 cores.
DEFAULT_LIMIT = 40

_BINOP_FLIPS: dict[type, type] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
    ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv, ast.MatMult: ast.Mult,
    ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd,
}
_COMPARE_FLIPS: dict[type, type] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
}
#: Operations whose operands do not commute: swapping them is a mutant.
_NON_COMMUTATIVE = (ast.Sub, ast.Div, ast.Pow, ast.FloorDiv, ast.Mod, ast.MatMult)
#: Library functions a slip exchanges (jnp.log1p for jnp.log, jax.jacfwd for jax.jacrev, ...).
CALL_EXCHANGES = {
    "log": "log1p", "log1p": "log", "exp": "expm1", "expm1": "exp", "sin": "cos", "cos": "sin",
    "sinh": "cosh", "cosh": "sinh", "sum": "mean", "mean": "sum", "max": "min", "min": "max",
    "maximum": "minimum", "minimum": "maximum", "argmax": "argmin", "argmin": "argmax",
    "zeros": "ones", "ones": "zeros", "zeros_like": "ones_like", "ones_like": "zeros_like",
    "cumsum": "cumprod", "cumprod": "cumsum", "logaddexp": "maximum", "sqrt": "abs",
    "jacfwd": "jacrev", "jacrev": "jacfwd", "floor": "ceil", "ceil": "floor",
}
#: Calls that wrap a value without being needed for its meaning in many wrong answers: drop them.
CALL_DROPS = frozenset({"abs", "stop_gradient", "flip", "negative", "transpose"})
#: Module names whose attributes the call exchanges apply to.
_LIBRARIES = frozenset({"jnp", "np", "numpy", "lax", "jax", "nn", "math"})

OPERATORS = ("binop", "compare", "logic", "sign", "const", "swap", "where", "drop", "call", "slice")


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One mutant of a source file: where, what changed, and the whole mutated source."""

    id: str
    operator: str
    line: int
    col: int  # 1-based, as editors count
    original: str  # the changed expression, before
    replacement: str  # and after
    source: str

    def describe(self) -> str:
        return f"line {self.line}: `{self.original}` -> `{self.replacement}`"


@dataclasses.dataclass(frozen=True)
class MutantSet:
    """Every distinct mutant of a source, and how many candidates were dropped on the way."""

    mutants: tuple[Mutant, ...]
    identical: int  # changes that unparse to the reference itself (``f(x, x)`` with its arguments swapped)
    duplicates: int  # changes that give the same source as an earlier mutant


# ---------------------------------------------------------------------------------------------
# The operators: each takes a node and yields (operator, detail, replacement node)

_Change = tuple[str, str, ast.AST]


def _binop(node: ast.AST) -> Iterator[_Change]:
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BINOP_FLIPS:
        new = copy.deepcopy(node)
        new.op = _BINOP_FLIPS[type(node.op)]()
        yield "binop", f"{type(node.op).__name__}>{type(new.op).__name__}", new


def _compare(node: ast.AST) -> Iterator[_Change]:
    if isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            if type(op) in _COMPARE_FLIPS:
                new = copy.deepcopy(node)
                new.ops[index] = _COMPARE_FLIPS[type(op)]()
                yield "compare", f"{type(op).__name__}>{type(new.ops[index]).__name__}", new


def _logic(node: ast.AST) -> Iterator[_Change]:
    if isinstance(node, ast.BoolOp):
        new = copy.deepcopy(node)
        new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield "logic", f"{type(node.op).__name__}>{type(new.op).__name__}", new
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert)):
        yield "logic", "drop-not", copy.deepcopy(node.operand)


def _number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _sign(node: ast.AST) -> Iterator[_Change]:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield "sign", "drop-minus", copy.deepcopy(node.operand)
    elif _number(node) and node.value != 0:
        yield "sign", "negate", ast.UnaryOp(ast.USub(), copy.deepcopy(node))


def _const(node: ast.AST) -> Iterator[_Change]:
    if isinstance(node, ast.Constant) and type(node.value) is bool:
        yield "const", f"{node.value}>{not node.value}", ast.Constant(not node.value)
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        yield "const", f"{node.value}>{node.value + 1}", ast.Constant(node.value + 1)
    elif isinstance(node, ast.Constant) and type(node.value) is float:
        value = node.value * 2 if node.value != 0 else 1.0
        yield "const", f"{node.value!r}>{value!r}", ast.Constant(value)


def _call_name(node: ast.Call) -> str | None:
    """``log1p`` for ``jnp.log1p(...)``, ``jax.numpy.log1p(...)`` (a library's function), else None."""
    func = node.func
    if isinstance(func, ast.Attribute):
        base = func.value
        while isinstance(base, ast.Attribute):
            if base.attr in _LIBRARIES:
                return func.attr
            base = base.value
        if isinstance(base, ast.Name) and base.id in _LIBRARIES:
            return func.attr
    return None


def _positional(node: ast.Call) -> list[ast.AST]:
    return [a for a in node.args if not isinstance(a, ast.Starred)]


def _swap(node: ast.AST) -> Iterator[_Change]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, _NON_COMMUTATIVE):
        new = copy.deepcopy(node)
        new.left, new.right = new.right, new.left
        yield "swap", "operands", new
    elif isinstance(node, ast.Call) and len(node.args) == len(_positional(node)) >= 2:
        where = _call_name(node) == "where"
        for i in range(len(node.args) - 1):
            new = copy.deepcopy(node)
            new.args[i], new.args[i + 1] = new.args[i + 1], new.args[i]
            if where and i == 1:
                yield "where", "branches", new
            else:
                yield "swap", f"args{i + 1}-{i + 2}", new


def _drop(node: ast.AST) -> Iterator[_Change]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        yield "drop", "right-term", copy.deepcopy(node.left)
        yield "drop", "left-term", copy.deepcopy(node.right)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        yield "drop", "right-factor", copy.deepcopy(node.left)
        if isinstance(node.op, ast.Mult):
            yield "drop", "left-factor", copy.deepcopy(node.right)


def _call(node: ast.AST) -> Iterator[_Change]:
    if not isinstance(node, ast.Call):
        return
    name = _call_name(node)
    if name in CALL_EXCHANGES:
        new = copy.deepcopy(node)
        new.func.attr = CALL_EXCHANGES[name]
        yield "call", f"{name}>{CALL_EXCHANGES[name]}", new
    if name in CALL_DROPS and len(node.args) == 1 and not node.keywords:
        yield "call", f"drop-{name}", copy.deepcopy(node.args[0])


def _shifted(bound: ast.AST, by: int) -> ast.AST:
    if _number(bound) and type(bound.value) is int:
        return ast.Constant(bound.value + by)
    if isinstance(bound, ast.UnaryOp) and isinstance(bound.op, ast.USub) and _number(bound.operand):
        value = -bound.operand.value + by
        return ast.Constant(value) if value >= 0 else ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.BinOp(copy.deepcopy(bound), ast.Add() if by > 0 else ast.Sub(), ast.Constant(abs(by)))


def _slice(node: ast.AST) -> Iterator[_Change]:
    if isinstance(node, ast.Slice) and (node.lower is not None or node.upper is not None):
        for by in (1, -1):
            new = copy.deepcopy(node)
            new.lower = _shifted(node.lower, by) if node.lower is not None else None
            new.upper = _shifted(node.upper, by) if node.upper is not None else None
            yield "slice", f"{by:+d}", new


_OPERATOR_FUNCTIONS: tuple[Callable[[ast.AST], Iterator[_Change]], ...] = (
    _binop, _compare, _logic, _sign, _const, _swap, _drop, _call, _slice)


# ---------------------------------------------------------------------------------------------
# Finding the places, applying one change at a time


def _is_docstring(node: ast.AST, parent: ast.AST | None) -> bool:
    return (isinstance(parent, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str) and parent.body and parent.body[0] is node)


def _sites(tree: ast.Module) -> list[tuple[ast.AST, ast.AST, str, object, str]]:
    """(node, parent, field, index or None, scope) of every node that may change, in source order.

    Skipped: imports, docstrings, f-strings (their text is a message, not the answer) and
    the annotations of arguments and returns.
    """
    found = []

    def visit(node: ast.AST, scope: str) -> None:
        for field, value in ast.iter_fields(node):
            if field in ("annotation", "returns", "type_comment"):
                continue
            children = value if isinstance(value, list) else [value]
            for index, child in enumerate(children):
                if not isinstance(child, ast.AST) or isinstance(child, (ast.Import, ast.ImportFrom, ast.JoinedStr)):
                    continue
                if _is_docstring(child, node):
                    continue
                inner = scope
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    inner = child.name
                elif isinstance(node, ast.Module) and isinstance(child, (ast.Assign, ast.AnnAssign)):
                    targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                    inner = next((t.id for t in targets if isinstance(t, ast.Name)), scope)
                found.append((child, node, field, index if isinstance(value, list) else None, inner))
                visit(child, inner)

    visit(tree, "module")
    return found


def _replace(parent: ast.AST, field: str, index, new: ast.AST) -> None:
    if index is None:
        setattr(parent, field, new)
    else:
        getattr(parent, field)[index] = new


def make_mutants(source: str, operators: tuple[str, ...] = OPERATORS) -> MutantSet:
    """Every distinct mutant of ``source`` that the ``operators`` make, in source order.

    Changes that give the reference's own text back (swapping equal arguments) and
    changes that repeat an earlier mutant are dropped and counted.
    """
    unknown = set(operators) - set(OPERATORS)
    if unknown:
        raise AssignmentError(f"unknown mutation operators {sorted(unknown)}; known: {', '.join(OPERATORS)}")
    tree = ast.parse(source)
    baseline = ast.unparse(tree)
    seen: set[str] = set()
    mutants, identical, duplicates = [], 0, 0
    for node, parent, field, index, scope in _sites(tree):
        changes = [c for function in _OPERATOR_FUNCTIONS for c in function(node) if c[0] in operators]
        for operator, detail, new in changes:
            ast.copy_location(new, node)
            _replace(parent, field, index, new)
            try:
                text = ast.unparse(ast.fix_missing_locations(tree))
            finally:
                _replace(parent, field, index, node)
            if text == baseline:
                identical += 1
                continue
            if text in seen:
                duplicates += 1
                continue
            seen.add(text)
            line, col = node.lineno, node.col_offset + 1
            original = ast.get_source_segment(source, node) or ast.unparse(node)
            mutants.append(Mutant(f"{scope}@{line}:{col}/{operator}:{detail}", operator, line, col,
                                  " ".join(original.split()), ast.unparse(new), text + "\n"))
    return MutantSet(tuple(mutants), identical, duplicates)


def sample(mutants: tuple[Mutant, ...] | list[Mutant], limit: int | None) -> list[Mutant]:
    """At most ``limit`` mutants, the same ones every time: operators take turns, each in an order
    fixed by a hash of the ids, so that every kind of change is represented. In source order."""
    if limit is None or len(mutants) <= limit:
        return list(mutants)
    queues: dict[str, list[Mutant]] = {}
    for mutant in sorted(mutants, key=lambda m: hashlib.sha256(m.id.encode()).hexdigest()):
        queues.setdefault(mutant.operator, []).append(mutant)
    chosen: list[Mutant] = []
    while len(chosen) < limit:
        for operator in OPERATORS:
            if queues.get(operator) and len(chosen) < limit:
                chosen.append(queues[operator].pop(0))
    order = {m.id: i for i, m in enumerate(mutants)}
    return sorted(chosen, key=lambda m: order[m.id])


def read_equivalent(path: Path) -> dict[str, str]:
    """Mutant id -> why it is equivalent, from ``equivalent_mutants.txt`` (``ID  # reason`` a line)."""
    if not path.is_file():
        return {}
    marks = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        mutant_id, _, reason = line.partition("#")
        mutant_id, reason = mutant_id.strip(), reason.strip()
        if not reason or " " in mutant_id:
            raise AssignmentError(f"{path}, line {number}: write one mutant id and, after '#', why it is "
                                  f"equivalent, e.g. `softplus@15:16/compare:Gt>GtE  # both branches agree at 0`;"
                                  f" got {raw!r}")
        marks[mutant_id] = reason
    return marks


# ---------------------------------------------------------------------------------------------
# Grading the mutants


@dataclasses.dataclass(frozen=True)
class MutantResult:
    mutant: Mutant
    status: str  # killed | survived | not_counted | equivalent
    failed_checks: tuple[str, ...] = ()
    note: str = ""  # why it was not counted, or that it timed out, or why it is equivalent


@dataclasses.dataclass(frozen=True)
class QuestionMutation:
    """A question's mutants and their fate."""

    question: str
    made: int  # distinct mutants of the reference answer
    identical: int
    duplicates: int
    results: tuple[MutantResult, ...]
    checks: tuple[str, ...]
    stale_marks: tuple[str, ...] = ()  # ids in equivalent_mutants.txt that no mutant has
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def graded(self) -> int:
        return sum(r.status != "equivalent" for r in self.results)

    @property
    def counted(self) -> int:
        return self.count("killed") + self.count("survived")

    @property
    def score(self) -> float | None:
        """killed / (killed + survived): equivalent and uncounted mutants are left out."""
        return self.count("killed") / self.counted if self.counted else None

    def kills(self, check: str) -> list[str]:
        return [r.mutant.id for r in self.results if r.status == "killed" and check in r.failed_checks]

    def to_plain(self) -> dict:
        return {"question": self.question, "made": self.made, "identical": self.identical,
                "duplicates": self.duplicates, "graded": self.graded, "killed": self.count("killed"),
                "survived": self.count("survived"), "equivalent": self.count("equivalent"),
                "not_counted": self.count("not_counted"), "score": self.score,
                "seconds": round(self.seconds, 1), "stale_marks": list(self.stale_marks),
                "checks": {c: self.kills(c) for c in self.checks},
                "mutants": [{"id": r.mutant.id, "status": r.status, "change": r.mutant.describe(),
                             "failed_checks": list(r.failed_checks), "note": r.note} for r in self.results]}


def judge_mutant(mutant: Mutant, question, evidence, reference: dict) -> MutantResult:
    """Killed if it loses points; not counted if it cannot even be loaded (it says nothing about the checks).

    ``reference``: question id -> the reference's probe values (``reference_values``).
    """
    from autograder._internal.judging import judge_evidence

    if evidence.status in ("error", "tampered"):
        return MutantResult(mutant, "not_counted", note=f"could not be graded: {evidence.message}"[:300])
    if evidence.cell_errors:
        error = evidence.cell_errors[0]
        return MutantResult(mutant, "not_counted", note=f"fails to import: {error.message}"[:300])
    result = judge_evidence((question,), evidence, reference, mutant.id).question(question.id)
    broken = [c.name for c in result.checks if c.kind == "grader_error"]
    if broken:
        return MutantResult(mutant, "not_counted", note=f"grading error in {', '.join(broken)}")
    failed = tuple(c.name for c in result.checks if not c.passed)
    loses_points = any(not c.passed and c.max_points > 0 for c in result.checks)
    note = "timed out" if evidence.status == "timeout" else ""
    return MutantResult(mutant, "killed" if loses_points else "survived", failed, note)


def mutate(assignment, questions: list[str] | None = None, *, jobs: int = 2, sandboxed: bool = True,
           limit: int | None = DEFAULT_LIMIT, limits=None, operators: tuple[str, ...] = OPERATORS,
           on_result: Callable[[str, MutantResult, int, int], None] | None = None) -> list[QuestionMutation]:
    """Make, grade and judge the mutants of each selected question's reference answer.

    Each mutant is graded as a submission of that question alone, through both stages,
    in ``jobs`` lanes of sandboxes (``sandboxed=False``: plain child processes, as
    ``validate`` runs). Mutants listed in the question's ``equivalent_mutants.txt`` are not
    graded; of the others at most ``limit`` per question are (see ``sample``).
    """
    from autograder._internal.reference import compile_cache_dir, reference_memo, reference_values
    from autograder._internal.runner import LocalRunner, WorkItem
    from autograder._internal.sandbox import Limits, bwrap_path

    if sandboxed:
        bwrap_path()
    limits = limits or Limits(timeout=120.0, probe_timeout=30.0)
    selected = assignment.select(questions)
    reference = reference_values(assignment, selected)  # first: the reference run fills the compile cache
    memo = reference_memo(assignment)  # a mutant that exports the reference's programs gets its outcomes
    reports = []
    for question in selected:
        started = time.monotonic()
        made = make_mutants(question.reference_path.read_text(encoding="utf-8"), operators)
        marks = read_equivalent(question.directory / EQUIVALENT_FILE)
        equivalent = [MutantResult(m, "equivalent", note=marks[m.id]) for m in made.mutants if m.id in marks]
        chosen = sample([m for m in made.mutants if m.id not in marks], limit)
        by_id = {m.id: m for m in chosen}
        results: dict[str, MutantResult] = {r.mutant.id: r for r in equivalent}
        runner = LocalRunner(dataclasses.replace(assignment, questions=(question,)), jobs=jobs, limits=limits,
                             sandboxed=sandboxed, cache_dir=compile_cache_dir(), memo=memo)
        items = [WorkItem(m.id, f"mutant_{question.id}.py", m.source) for m in chosen]
        try:
            for done, (item, evidence) in enumerate(runner.run(items), start=1):
                result = judge_mutant(by_id[item.id], question, evidence, reference)
                results[item.id] = result
                if on_result is not None:
                    on_result(question.id, result, done, len(items))
        finally:
            runner.close()
        order = {m.id: i for i, m in enumerate(made.mutants)}
        known = {m.id for m in made.mutants}
        reports.append(QuestionMutation(
            question.id, len(made.mutants), made.identical, made.duplicates,
            tuple(sorted(results.values(), key=lambda r: order[r.mutant.id])),
            tuple(c.name for c in question.checks), tuple(sorted(set(marks) - known)),
            time.monotonic() - started))
    return reports


# ---------------------------------------------------------------------------------------------
# The report


def score_line(report: QuestionMutation) -> str:
    """One line: the question id first, the score as a percentage last."""
    score = "n/a (no mutant counted)" if report.score is None else f"{100 * report.score:.1f}%"
    return (f"{report.question}: {report.made} mutants made, {report.graded} graded, "
            f"{report.count('killed')} killed, {report.count('survived')} survived, "
            f"{report.count('equivalent')} equivalent, {report.count('not_counted')} not counted "
            f"({report.seconds:.0f} s); score {score}")


def render(reports: list[QuestionMutation]) -> str:
    """Scores, then per question: which check kills which mutants, and the survivors to judge."""
    lines = [score_line(r) for r in reports]
    for report in reports:
        lines += ["", f"{report.question}: checks and the mutants each kills"]
        for check in report.checks:
            kills = report.kills(check)
            lines.append(f"  {check}: kills {len(kills)}" + (f": {', '.join(kills)}" if kills else
                                                               " (no mutant fails it)"))
        survivors = [r for r in report.results if r.status == "survived"]
        if survivors:
            lines.append(f"{report.question}: survivors (equivalent? then list the id in "
                         f"{report.question}/{EQUIVALENT_FILE} with a reason; else strengthen a check)")
            lines += [f"  {r.mutant.id}  {r.mutant.describe()}" for r in survivors]
        uncounted = [r for r in report.results if r.status == "not_counted"]
        if uncounted:
            lines.append(f"{report.question}: not counted")
            lines += [f"  {r.mutant.id}  {r.note}" for r in uncounted]
        if report.stale_marks:
            lines.append(f"{report.question}: {EQUIVALENT_FILE} lists ids no mutant has (the reference "
                         f"changed?): {', '.join(report.stale_marks)}")
    return "\n".join(lines)
