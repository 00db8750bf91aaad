"""Q4 (fixed_point), student stage: the programs to export from a submission.

Public: the forms of the maps handed to ``fixed_point`` and the argument shapes, nothing
else. Every number a map uses (its coefficients, matrices, offsets) is part of ``theta``,
and ``x0`` is an argument too: the clean stage (probes.py) chooses their values. The maps
close over no traced value (a ``custom_jvp``/``custom_vjp`` rule cannot differentiate
through one), so the coefficients go in through ``theta`` and are differentiated as well.

Batch sizes: each batched target holds its centres followed by the four points of a
finite-difference stencil around each (probes.py lays them out the same way).
"""

import jax
import jax.numpy as jnp

from autograder import arg, target

STENCIL = 5  # a centre and the points at -2, -1, +1, +2 steps along one direction
N_SQRT = N_CBRT = 56  # 8 public and 48 hidden values of a
N_SLOW = 7 * STENCIL
N_FAMILY, FAMILY_PARAMETERS = 12 * STENCIL, 8
N, COUPLED_COLUMNS = 5, 7  # x in R^5, theta = [A | b | c], a 5 x 7 matrix
N_COUPLED = 5 + 3 * (STENCIL - 1)  # five maps, then a stencil along three directions around the first
MIXED_X, MIXED_THETA = 3, 25  # x in R^3, theta = (W: 3 x 3, V: 3 x 4, t: 4), flattened
N_MIXED = 3 * STENCIL
N_ALTERNATING = 256  # long enough that each step takes a microsecond or more: 2^31 steps take more than half an hour


def cos_map(x, theta):
    """Scalar x and theta: |df/dx| <= 1/2."""
    return 0.5 * jnp.cos(x) + theta


def slow_map(x, theta):
    """Scalar x and theta: df/dx = 0.9 / cosh(x)^2, close to 0.9 near x = 0, so it converges slowly."""
    return 0.9 * jnp.tanh(x) + theta


def family_map(x, p):
    """Scalar x, theta a vector of 8 coefficients: three nonlinearities and an offset."""
    return p[0] * jnp.cos(p[1] * x + p[2]) + p[3] * jnp.tanh(p[4] * x + p[5]) + p[6] * x / (1.0 + x * x) + p[7]


def coupled_map(x, theta):
    """x in R^5, theta = [A | b | c] of shape (5, 7): tanh(A x + b) + c cos(x), elementwise."""
    a, b, c = theta[:, :N], theta[:, N], theta[:, N + 1]
    return jnp.tanh(a @ x + b) + c * jnp.cos(x)


def mixed_size_map(x, theta):
    """x in R^3, theta in R^25 holding W (3 x 3), V (3 x 4) and t (4): tanh(W x + V t) / 2."""
    w = theta[:9].reshape(3, 3)
    v = theta[9:21].reshape(3, 4)
    return 0.5 * jnp.tanh(w @ x + v @ theta[21:])


def alternating_map(x, theta):
    """x and theta in R^N_ALTERNATING: df/dx = -I, so the iterates alternate between x0 and theta - x0
    and never converge."""
    return theta - x


def _solver(sub, f):
    """theta, x0 -> fixed_point(f, x0, theta), with the student's fixed_point."""
    fixed_point = sub.function("fixed_point")
    return lambda theta, x0: fixed_point(f, x0, theta)


@target(arg("float32", N_SQRT), vjp_order=1)
def newton_sqrt(sub):
    return jax.vmap(sub.function("newton_sqrt"))


@target(arg("float32", N_CBRT), vjp_order=1)
def newton_cbrt(sub):
    return jax.vmap(sub.function("newton_cbrt"))


@target(arg("float32"), arg("float32"), vjp_order=1)
def fixed_point_cos(sub):
    """One scalar problem (the clean stage runs it under jax.jit and lax.map, and takes jax.grad)."""
    return _solver(sub, cos_map)


@target(arg("float32", N_ALTERNATING), arg("float32", N_ALTERNATING))
def fixed_point_alternating(sub):
    """A problem whose iterates never converge: only a cap on the number of steps ends the loop."""
    return _solver(sub, alternating_map)


@target(arg("float32", N_SLOW), arg("float32", N_SLOW), vjp_order=1)
def fixed_point_slow_vmap(sub):
    return jax.vmap(_solver(sub, slow_map))


@target(arg("float32", N_FAMILY, FAMILY_PARAMETERS), arg("float32", N_FAMILY), vjp_order=1)
def fixed_point_family_vmap(sub):
    return jax.vmap(_solver(sub, family_map))


@target(arg("float32", N, COUPLED_COLUMNS), arg("float32", N))
def coupled_jacrev(sub):
    """The (5, 5, 7) Jacobian of x*(theta), by jax.jacrev (which vmaps the student's reverse rule)."""
    return jax.jacrev(_solver(sub, coupled_map))


@target(arg("float32", N_COUPLED, N, COUPLED_COLUMNS), arg("float32", N_COUPLED, N), vjp_order=1)
def coupled_vmap(sub):
    return jax.vmap(_solver(sub, coupled_map))


@target(arg("float32", N, COUPLED_COLUMNS), arg("float32", N, COUPLED_COLUMNS), arg("float32", N))
def coupled_jvp(sub):
    """(x*, the tangent of x* along theta_dot), by jax.jvp: forward mode cannot be taken in the clean stage."""
    solve = _solver(sub, coupled_map)
    return lambda theta, theta_dot, x0: jax.jvp(lambda t: solve(t, x0), (theta,), (theta_dot,))


@target(arg("float32", N_MIXED, MIXED_THETA), arg("float32", N_MIXED, MIXED_X), vjp_order=1)
def mixed_sizes_vmap(sub):
    return jax.vmap(_solver(sub, mixed_size_map))
