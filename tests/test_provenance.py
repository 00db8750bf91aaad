"""uses_autodiff judges by data flow: the value must come from autodiff, not an unused call beside it."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from autograder import primitive_counts, uses_autodiff


def softplus(x):
    return jnp.logaddexp(x, 0.0)


def norm(x):
    return jnp.sqrt(jnp.sum(x ** 2))


X = np.float32(0.7)
V = np.array([1.0, 2.0, 2.0], np.float32)


def test_every_way_of_calling_autodiff_counts():
    assert uses_autodiff(jax.grad(softplus), X)
    assert uses_autodiff(jax.grad(jax.nn.softplus), X)  # a library custom_jvp rule
    assert uses_autodiff(jax.jit(jax.grad(softplus)), X)  # inside a nested jit
    assert uses_autodiff(lambda x: jax.value_and_grad(softplus)(x)[1], X)
    assert uses_autodiff(lambda x: jax.vjp(softplus, x)[1](1.0)[0], X)
    assert uses_autodiff(lambda x: jax.jvp(softplus, (x,), (1.0,))[1], X)
    assert uses_autodiff(jax.hessian(norm), V)
    assert uses_autodiff(jax.jit(jax.jacfwd(jax.jacrev(norm))), V)
    # a norm scaled by max |x_i|: the perturbed derivative of the max is nan, which still counts
    assert uses_autodiff(jax.jacfwd(jax.jacfwd(lambda x: jnp.max(jnp.abs(x)) * norm(x / jnp.max(jnp.abs(x))))), V)


def test_a_derivative_written_by_hand_does_not_count():
    assert not uses_autodiff(jax.nn.sigmoid, X)
    assert not uses_autodiff(lambda x: (jnp.eye(3) - jnp.outer(x, x) / jnp.sum(x * x)) / norm(x), V)


def test_an_unused_autodiff_call_beside_a_hand_written_derivative_does_not_count():
    def sneaky(x):
        jax.grad(softplus)(x)  # computed, then thrown away
        return jax.nn.sigmoid(x)

    def zero_weighted(x):
        return jax.nn.sigmoid(x) + 0.0 * jax.grad(softplus)(x)  # on the path, but it does not matter

    assert not uses_autodiff(sneaky, X)
    assert not uses_autodiff(zero_weighted, X)


def test_a_named_scope_cannot_pretend_to_be_a_transformation():
    def disguised(x):
        with jax.named_scope("transpose(jvp(softplus))"):
            return jax.nn.sigmoid(x)

    assert not uses_autodiff(disguised, X)


def test_primitive_counts_include_nested_jaxprs():
    counts = primitive_counts(lambda x: jax.lax.fori_loop(0, 3, lambda i, v: jnp.sin(v), x), np.float32(1.0))
    assert counts.get("sin") == 1 and ("while" in counts or "scan" in counts)
