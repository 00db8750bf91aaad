"""Probe helpers that look at what JAX code *does* when traced, not at its source text.

Source inspection is easy to dodge (an alias, an ``exec``); a trace is not.
These run inside the worker, next to the student's code, and return plain data.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any


def _sub_jaxprs(params: dict) -> Iterator[Any]:
    from jax import core as jax_core
    from jax.extend import core as ext_core

    closed_types = tuple({getattr(jax_core, "ClosedJaxpr", None), getattr(ext_core, "ClosedJaxpr", None)} - {None})
    open_types = tuple({getattr(jax_core, "Jaxpr", None), getattr(ext_core, "Jaxpr", None)} - {None})
    for value in params.values():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(item, closed_types):
                yield item.jaxpr
            elif isinstance(item, open_types):
                yield item


def primitive_counts(fn: Callable, *args: Any, **kwargs: Any) -> dict[str, int]:
    """How often each primitive appears in the traced jaxpr of ``fn(*args)``, sub-jaxprs included.

    Calls inside ``jit``, ``custom_jvp``/``custom_vjp``, ``cond`` and loops are
    counted too, so a forbidden primitive cannot hide in a nested function.
    """
    import jax

    counts: Counter[str] = Counter()
    stack = [jax.make_jaxpr(fn)(*args, **kwargs).jaxpr]
    while stack:
        jaxpr = stack.pop()
        for eqn in jaxpr.eqns:
            counts[eqn.primitive.name] += 1
            stack.extend(_sub_jaxprs(eqn.params))
    return dict(counts)


@contextlib.contextmanager
def _count_autodiff_traces() -> Iterator[Counter]:
    from jax._src.interpreters import ad

    counter: Counter[str] = Counter()
    originals = {}
    for cls in (ad.JVPTrace, ad.LinearizeTrace):
        originals[cls] = cls.__init__

        def spy(self, *args, _original=cls.__init__, _name=cls.__name__, **kwargs):
            counter[_name] += 1
            return _original(self, *args, **kwargs)

        cls.__init__ = spy
    try:
        yield counter
    finally:
        for cls, original in originals.items():
            cls.__init__ = original


def uses_autodiff(fn: Callable, *args: Any) -> bool:
    """Whether calling ``fn(*args)`` runs JAX's autodiff machinery (grad, vjp, jvp, jacfwd, ...).

    Tracing ``fn`` is enough to see it, and costs no compilation; code that cannot be
    traced (NumPy calls, ``float(x)``) is called op by op instead: the question is
    autodiff, not jit. jit caches are cleared first, so a function jitted and called
    earlier is traced again.
    """
    import jax

    jax.clear_caches()
    with _count_autodiff_traces() as counter:
        try:
            jax.make_jaxpr(fn)(*args)
        except Exception:
            jax.block_until_ready(fn(*args))
    return sum(counter.values()) > 0


def jit_or_eager(fn: Callable) -> Callable:
    """``fn`` compiled as one program, or called op by op when it fails under ``jax.jit``.

    Called op by op, JAX compiles every operation of every new shape on its own, about
    10 ms each: most of what a probe would cost. A student function that only works
    without jit (Python ``if`` on values, NumPy calls) still gets its eager call, and
    a function that fails both ways fails with the eager call's error.
    """
    import jax

    jitted = jax.jit(fn)

    def call(*args: Any) -> Any:
        try:
            return jitted(*args)
        except Exception:
            return fn(*args)

    return call
