"""What instructors declare: export targets, student-stage probes and clean-stage probes.

A question's evidence is gathered in two stages, each from its own file:

- ``targets.py`` (the student stage, next to the student's code): ``@target`` functions
  return a student function, possibly transformed (``jax.vmap``, ``jax.grad``, a map
  handed to ``fixed_point``...), which the grader exports with ``jax.export`` at the
  argument shapes the target declares. ``@student_probe`` functions compute plain data
  that only the student's Python can give (``time_fn``, a module-level value). This
  file is public: it may hold shapes and the forms of functions, never input values.
- ``probes.py`` (the clean stage, which runs no student Python): ``@probe`` functions
  run the exported programs on the probe inputs, hidden ones included, differentiate
  through them and inspect their structure, and return plain data.

Checks (``checks.py``) read both kinds of probe by name, in the trusted grader.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from autograder._internal.errors import AssignmentError

#: dtypes an exported argument may have.
DTYPES = ("float32", "float64", "int32", "int64", "bool")


@dataclasses.dataclass(frozen=True)
class ArgSpec:
    """One array argument of an exported program: a dtype and a shape of ints and dimension names."""

    dtype: str
    shape: tuple[int | str, ...]

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(d for d in self.shape if isinstance(d, str))

    def describe(self) -> str:
        return f"{self.dtype}[{', '.join(str(d) for d in self.shape)}]"


def arg(dtype: str, *shape: int | str) -> ArgSpec:
    """An array argument: ``arg("float32")`` is a scalar, ``arg("float32", "n")`` a vector of any
    length ``n``, ``arg("float64", 5, 5)`` a 5x5 matrix.

    A dimension named by a string is symbolic: the program is exported once for every
    size. Code that cannot be exported that way (Python that branches on a length) is
    exported again at each size the target lists in ``sizes``.
    """
    if dtype not in DTYPES:
        raise AssignmentError(f"arg dtype {dtype!r} is not one of {', '.join(DTYPES)}")
    for dim in shape:
        if not (isinstance(dim, str) and dim.isidentifier()) and not (type(dim) is int and dim >= 0):
            raise AssignmentError(f"arg dimension {dim!r} is neither a size (int >= 0) nor a name")
    return ArgSpec(dtype, tuple(shape))


def flatten_args(args: Any) -> list[ArgSpec]:
    """The ArgSpecs in a pytree of them (tuples, lists, dicts with sorted keys)."""
    if isinstance(args, ArgSpec):
        return [args]
    if isinstance(args, (tuple, list)):
        return [spec for item in args for spec in flatten_args(item)]
    if isinstance(args, Mapping):
        return [spec for key in sorted(args) for spec in flatten_args(args[key])]
    raise AssignmentError(f"target arguments must be arg(...) specs in tuples, lists or dicts, got {args!r}")


@dataclasses.dataclass(frozen=True)
class TargetSpec:
    """A program to export from the student's code (see ``target``)."""

    name: str
    build: Callable[[Any], Callable]
    args: tuple[Any, ...]
    vjp_order: int = 0
    x64: bool = False
    sizes: Mapping[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)
    timeout: float = 60.0

    @property
    def dims(self) -> tuple[str, ...]:
        names: list[str] = []
        for spec in flatten_args(self.args):
            names += [d for d in spec.dims if d not in names]
        return tuple(names)

    def concrete_sizes(self) -> list[dict[str, int]]:
        """Every combination of the listed sizes of the named dimensions, for the fallback export."""
        dims = self.dims
        return [dict(zip(dims, combo)) for combo in itertools.product(*(self.sizes[d] for d in dims))]


def target(*args: Any, vjp_order: int = 0, x64: bool = False,
           sizes: Mapping[str, Sequence[int]] | None = None, timeout: float = 60.0):
    """Declare an export target in a question's ``targets.py``.

    The decorated function takes the submission (``sub``) and returns the function to
    export; the grader wraps it in ``jax.jit``, exports it at ``args`` and serialises it
    with ``vjp_order`` levels of reverse-mode derivatives, so that the clean stage can take
    ``jax.grad`` through it. Export failure (Python control flow on traced values, a host
    callback, a missing name) is recorded and fails the probes that use the target.

    Args:
        args: ``arg(...)`` specs (or pytrees of them), one per positional argument.
        vjp_order: reverse-mode derivative orders the clean stage may take (0: none).
        x64: export with 64-bit types enabled (needed for float64 arguments).
        sizes: for each symbolic dimension, the sizes the probes use: the fallback export
            when the code cannot be exported for every size at once.
        timeout: wall seconds the export may take.
    """
    sizes = {name: tuple(int(n) for n in values) for name, values in (sizes or {}).items()}

    def mark(fn: Callable) -> Callable:
        spec = TargetSpec(fn.__name__, fn, tuple(args), vjp_order=vjp_order, x64=x64, sizes=sizes, timeout=timeout)
        flat = flatten_args(spec.args)
        if any(s.dtype == "float64" for s in flat) and not x64:
            raise AssignmentError(f"target {fn.__name__}: float64 arguments need x64=True")
        fn.__autograder_target__ = spec
        return fn

    return mark


@dataclasses.dataclass(frozen=True)
class ProbeSpec:
    """How to run one probe (a student-stage or a clean-stage one)."""

    name: str
    function: Callable[[Any], Any]
    stage: str  # student | clean
    x64: bool = False
    timeout: float = 60.0
    reuse: bool = True


def _probe_decorator(stage: str, function: Callable | None, x64: bool, timeout: float, reuse: bool = True):
    def mark(fn: Callable) -> Callable:
        setattr(fn, f"__autograder_{stage}_probe__",
                ProbeSpec(fn.__name__, fn, stage, x64=x64, timeout=timeout, reuse=reuse))
        return fn

    return mark(function) if function is not None else mark


def probe(function: Callable | None = None, *, x64: bool = False, timeout: float = 60.0, reuse: bool = True):
    """Declare a clean-stage probe in a question's ``probes.py``: ``probe_fn(art) -> plain data``.

    ``art`` holds the submission's exported programs (see ``clean_stage.artifacts``):
    ``art.function(NAME)`` runs one, ``art.program(NAME, ...)`` describes its structure.
    Use bare (``@probe``) or with options (``@probe(x64=True)``).

    Args:
        reuse: whether the outcome may be reused for a submission whose programs are identical
            to an earlier one's. ``reuse=False`` for what must be measured afresh for each
            submission, such as the timings that a student's ``time_fn`` is judged against.
    """
    return _probe_decorator("clean", function, x64, timeout, reuse)


def student_probe(function: Callable | None = None, *, x64: bool = False, timeout: float = 60.0):
    """Declare a student-stage probe in ``targets.py``: ``probe_fn(sub) -> plain data``.

    For what only the student's Python can tell (``time_fn`` on functions it is handed,
    a module-level value, the type of an object). It runs in the student's interpreter,
    after the exports; the grader checks afterwards that the submission replaced none
    of the functions the probes use.
    """
    return _probe_decorator("student", function, x64, timeout)


@dataclasses.dataclass(frozen=True)
class ConstantSpec:
    """A value a question's clean-stage probes share, whatever the submission."""

    name: str
    function: Callable[[], Any]


def constant(function: Callable[[], Any]) -> Callable[[], Any]:
    """Declare, in a question's ``probes.py``, a value its probes share: ``constant_fn() -> plain data``.

    For what the grader's own code computes without any submission's programs (the programs
    ``jax.lax.associative_scan`` builds, say): the reference run computes it once per
    assignment, and every submission's probes read that value with ``art.constant(FUNCTION)``
    instead of computing it again. It must not depend on anything but the grader's code.
    """
    function.__autograder_constant__ = ConstantSpec(function.__name__, function)
    return function


def _declared(module: Any, attribute: str) -> list:
    specs = [getattr(value, attribute) for value in vars(module).values()
             if callable(value) and hasattr(value, attribute)]
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise AssignmentError(f"{getattr(module, '__file__', module)}: {', '.join(duplicates)} declared twice")
    return specs


def targets_in(module: Any) -> list[TargetSpec]:
    """The export targets a ``targets.py`` module declares, in definition order."""
    return _declared(module, "__autograder_target__")


def student_probes_in(module: Any) -> list[ProbeSpec]:
    return _declared(module, "__autograder_student_probe__")


def clean_probes_in(module: Any) -> list[ProbeSpec]:
    return _declared(module, "__autograder_clean_probe__")


def constants_in(module: Any) -> list[ConstantSpec]:
    return _declared(module, "__autograder_constant__")
