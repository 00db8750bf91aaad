"""Whether the value a function returns is computed by JAX's autodiff: data flow in its trace.

jax marks every operation that a transformation produced (``jvp``, ``transpose``) in its
name stack. Walking back from a traced function's outputs through the operations they
depend on (nested jaxprs included) finds whether any of them came from autodiff. A
derivative written by hand has none; a ``jax.grad`` call whose result is thrown away
is not on the path from the outputs, so it does not count either. ``jax.named_scope``
cannot fake it: scopes and transformations are different kinds of name-stack entry.

This runs in the student stage, so its evidence is advisory: a submission that
rewrites jax's internals could forge it (the grader's tamper check looks for that).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

AUTODIFF_TRANSFORMS = frozenset({"jvp", "transpose", "linearize", "vjp"})


def _sub_jaxprs(params: dict) -> Iterator[Any]:
    from jax.extend import core as ext_core

    for value in params.values():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(item, ext_core.ClosedJaxpr):
                yield item.jaxpr
            elif isinstance(item, ext_core.Jaxpr):
                yield item


def _transforms(eqn: Any) -> set[str]:
    from jax._src import source_info_util

    return {entry.name for entry in eqn.source_info.name_stack.stack
            if isinstance(entry, source_info_util.Transform)}


def _autodiff_on_output_path(jaxpr: Any, outputs: list[Any] | None = None) -> bool:
    from jax.extend.core import Literal

    producers = {var: eqn for eqn in jaxpr.eqns for var in eqn.outvars}
    pending = [v for v in (jaxpr.outvars if outputs is None else outputs) if not isinstance(v, Literal)]
    seen: set[int] = set()
    while pending:
        eqn = producers.get(pending.pop())
        if eqn is None or id(eqn) in seen:
            continue
        seen.add(id(eqn))
        if _transforms(eqn) & AUTODIFF_TRANSFORMS or eqn.primitive.name in ("custom_lin", "linear_call"):
            return True
        if any(_autodiff_on_output_path(inner) for inner in _sub_jaxprs(eqn.params)):
            return True
        pending += [v for v in eqn.invars if not isinstance(v, Literal)]
    return False


def uses_autodiff(fn: Callable, *args: Any) -> bool:
    """Whether what ``fn(*args)`` returns is computed by JAX autodiff (grad, jacfwd, hessian, vjp, ...).

    Raises whatever tracing ``fn`` raises (code that cannot be traced cannot be judged here).
    """
    import jax

    return _autodiff_on_output_path(jax.make_jaxpr(fn)(*args).jaxpr)


def primitive_counts(fn: Callable, *args: Any, **kwargs: Any) -> dict[str, int]:
    """How often each primitive appears in the traced jaxpr of ``fn(*args)``, sub-jaxprs included."""
    from collections import Counter

    import jax

    counts: Counter[str] = Counter()
    stack = [jax.make_jaxpr(fn)(*args, **kwargs).jaxpr]
    while stack:
        jaxpr = stack.pop()
        for eqn in jaxpr.eqns:
            counts[eqn.primitive.name] += 1
            stack.extend(_sub_jaxprs(eqn.params))
    return dict(counts)
