"""Whether the value a function returns is computed by JAX's autodiff: data flow in its trace.

jax marks every operation that a transformation produced (``jvp``, ``transpose``) in its
name stack. Two tests, on the traced function:

1. walking back from the outputs through the operations they depend on (nested jaxprs
   included) must reach one that autodiff produced: a derivative written by hand has
   none, and a ``jax.grad`` call whose result is thrown away is not on the path;
2. perturbing what those operations produce must change the outputs: a ``jax.grad``
   term multiplied by zero and added to a hand-written derivative is on the path, but
   does not matter.

``jax.named_scope`` cannot fake either: scopes and transformations are different kinds
of name-stack entry.

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


def _is_autodiff(eqn: Any) -> bool:
    return bool(_transforms(eqn) & AUTODIFF_TRANSFORMS)


_CALLS = ("pjit", "jit", "closed_call", "core_call")


def _evaluate(jaxpr: Any, consts: list, args: list, perturb: bool) -> list:
    """``jax.core.eval_jaxpr``, scaling what autodiff's operations produce by 1 + 2^-10 when ``perturb``."""
    import jax.numpy as jnp
    from jax.extend.core import Literal

    env: dict = {}

    def read(var: Any) -> Any:
        return var.val if isinstance(var, Literal) else env[var]

    env.update(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))
    for eqn in jaxpr.eqns:
        values = [read(v) for v in eqn.invars]
        if eqn.primitive.name in _CALLS and not (perturb and _is_autodiff(eqn)) and "jaxpr" in eqn.params:
            inner = eqn.params["jaxpr"]
            outputs = _evaluate(inner.jaxpr, inner.consts, values, perturb)
        else:
            result = eqn.primitive.bind(*values, **eqn.primitive.get_bind_params(eqn.params))
            outputs = list(result) if eqn.primitive.multiple_results else [result]
            if perturb and _is_autodiff(eqn):
                outputs = [o * (1 + 2.0 ** -10) if jnp.issubdtype(jnp.result_type(o), jnp.inexact) else o
                           for o in outputs]
        env.update(zip(eqn.outvars, outputs))
    return [read(v) for v in jaxpr.outvars]


def uses_autodiff(fn: Callable, *args: Any) -> bool:
    """Whether what ``fn(*args)`` returns is computed by JAX autodiff (grad, jacfwd, hessian, vjp, ...).

    Raises whatever tracing ``fn`` raises (code that cannot be traced cannot be judged here).
    Pick ``args`` where the derivative is not zero.
    """
    import jax
    import numpy as np

    closed = jax.make_jaxpr(fn)(*args)
    if not _autodiff_on_output_path(closed.jaxpr):
        return False
    flat = jax.tree_util.tree_leaves(args)
    both = jax.jit(lambda *a: (_evaluate(closed.jaxpr, closed.consts, list(a), False),
                               _evaluate(closed.jaxpr, closed.consts, list(a), True)))(*flat)
    plain, perturbed = (np.asarray(x, np.float64) for x in
                        (np.concatenate([np.ravel(v) for v in both[0]] or [np.zeros(0)]),
                         np.concatenate([np.ravel(v) for v in both[1]] or [np.zeros(0)])))
    # A perturbed value that is no longer finite changed too (NaN compares false): jax's rule for max
    # locates the maximum by equality, which the perturbation breaks.
    changed = ~(np.abs(perturbed - plain) <= 1e-6 * np.abs(plain))
    return bool(np.any(changed & np.isfinite(plain)))


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
