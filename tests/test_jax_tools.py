"""Probe helpers that look at what JAX code does: traces, autodiff, and compiled calls."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from autograder import jit_or_eager, primitive_counts, uses_autodiff


def test_jit_or_eager_compiles_once_for_traceable_code():
    calls = []

    def double(x):
        calls.append(1)
        return x * 2

    call = jit_or_eager(double)
    assert float(call(jax.device_put(np.float32(1.5)))) == 3.0
    assert float(call(jax.device_put(np.float32(2.5)))) == 5.0
    assert len(calls) == 1  # traced once, then the compiled program ran


def test_jit_or_eager_calls_code_that_only_works_eagerly():
    def branchy(x):
        return x if float(x) > 0 else -x  # Python control flow on a value: fails under jit

    assert float(jit_or_eager(branchy)(jnp.float32(-4.0))) == 4.0


def test_uses_autodiff_sees_grad_by_tracing_and_in_eager_only_code():
    x = jnp.float32(0.7)
    assert uses_autodiff(jax.grad(jnp.sin), x)
    assert not uses_autodiff(jnp.cos, x)
    assert uses_autodiff(lambda v: jax.grad(jnp.sin)(float(v)), x)  # not traceable: called instead
    assert not uses_autodiff(lambda v: np.cos(float(v)), x)


def test_primitive_counts_include_nested_jaxprs():
    counts = primitive_counts(lambda x: jax.lax.fori_loop(0, 3, lambda i, v: jnp.sin(v), x), np.float32(1.0))
    assert counts.get("sin") == 1 and ("while" in counts or "scan" in counts)
