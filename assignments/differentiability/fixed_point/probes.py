"""Probes for Q4 (fixed_point): they run next to the student's code and return plain data.

Every computation is jitted and batched (vmap), so each probe compiles once or twice.
The inputs keep the true fixed points in ranges where a float32 iteration that stops on a
small step (absolute 1e-6 or relative) terminates: XLA cannot be interrupted mid-loop, so an
input that made a reasonable loop spin forever would stall the whole grading run.
"""

import jax
import jax.numpy as jnp
import numpy as np

from autograder import ProbeFailure, primitive_counts, probe


def _log_uniform(seed, low, high, n):
    return np.exp(np.random.RandomState(seed).uniform(np.log(low), np.log(high), n))


# Public inputs are the easy ones a student can check by hand; hidden ones span wide ranges
# (Newton from x0 = 1 needs 12+ steps at their ends, more than the notebook's 10).
SQRT_A = {"public": np.array([0.25, 0.5, 2.0, 3.0, 9.0, 10.0, 42.0, 100.0], np.float32),
          "hidden": np.concatenate([[1e-6, 400.0], _log_uniform(41, 1e-6, 400.0, 11)]).astype(np.float32)}
CBRT_A = {"public": np.array([0.125, 0.5, 1.0, 2.0, 8.0, 27.0, 30.0, 100.0], np.float32),
          "hidden": np.concatenate([[1e-6, 1000.0], _log_uniform(42, 1e-6, 1000.0, 11)]).astype(np.float32)}


# Maps the student never saw. Scalar x, scalar theta.
def cos_map(x, theta):
    """Contraction with |df/dx| = |0.5 sin x| <= 0.5."""
    return 0.5 * jnp.cos(x) + theta


def slow_map(x, theta):
    """Contraction with df/dx = 0.9 / cosh(x)^2 close to 0.9 at these fixed points: slow to converge."""
    return 0.9 * jnp.tanh(x) + theta


# Fixed points of cos_map range over about [-2.4, 2.9], kept away from 0 (for purely relative stopping rules).
COS_THETAS = np.array([-2.1, -1.7, -1.3, -0.9, 0.55, 0.8, 1.1, 1.6, 2.2, 2.75, 3.3], np.float32)
SLOW_THETAS = np.array([-0.31, -0.17, -0.08, 0.05, 0.12, 0.23, 0.37], np.float32)

# Vector x (n = 5) and matrix theta A: x = tanh(A x + B), a contraction since ||A||_2 = 0.6.
N = 5
_rng = np.random.RandomState(7)


def _with_norm(matrix, norm):
    return (matrix * (norm / np.linalg.norm(matrix, 2))).astype(np.float32)


B = _rng.uniform(-1.0, 1.0, N).astype(np.float32)
A0 = _with_norm(_rng.randn(N, N), 0.6)
A_DOT = _rng.randn(N, N).astype(np.float32)
X0_VECTOR = np.full(N, 0.1, np.float32)


def tanh_map(x, a):
    return jnp.tanh(a @ x + B)


# x in R^3, theta in R^4: the shapes of x and theta differ.
W_MIXED = _with_norm(_rng.randn(3, 3), 1.0)
V_MIXED = _rng.randn(3, 4).astype(np.float32)
THETAS_MIXED = _rng.randn(3, 4).astype(np.float32)  # a batch of three thetas, for vmap
COTANGENTS_MIXED = _rng.randn(3, 3).astype(np.float32)


def mixed_map(x, theta):
    return 0.5 * jnp.tanh(W_MIXED @ x + V_MIXED @ theta)


def _newton(sub, name, inputs, derivative):
    fn = sub.function(name)
    a = jax.device_put(np.concatenate([inputs["public"], inputs["hidden"]]))
    batched = jax.vmap(jax.grad(fn)) if derivative else jax.vmap(fn)
    what = f"jax.vmap({'jax.grad(' + name + ')' if derivative else name})(a)"
    out = sub.array(jax.jit(batched)(a), what)
    if out.shape != a.shape:
        raise ProbeFailure(f"{what} has shape {out.shape} for a of shape {a.shape}: "
                           f"{name}(a) should return a scalar for a scalar a")
    k = len(inputs["public"])
    return {"public": out[:k], "hidden": out[k:]}


@probe
def newton_sqrt_values(sub):
    return _newton(sub, "newton_sqrt", SQRT_A, derivative=False)


@probe
def newton_cbrt_values(sub):
    return _newton(sub, "newton_cbrt", CBRT_A, derivative=False)


@probe
def newton_sqrt_grads(sub):
    return _newton(sub, "newton_sqrt", SQRT_A, derivative=True)


@probe
def newton_cbrt_grads(sub):
    return _newton(sub, "newton_cbrt", CBRT_A, derivative=True)


def _loops(fn, *args):
    counts = primitive_counts(fn, *args)
    return {"while": counts.get("while", 0), "scan": counts.get("scan", 0)}


@probe
def fixed_point_loops(sub):
    fixed_point = sub.function("fixed_point")
    return _loops(lambda theta: fixed_point(cos_map, jnp.float32(0.0), theta), np.float32(0.8))


@probe
def newton_loops(sub):
    return {name: _loops(sub.function(name), np.float32(5.0)) for name in ("newton_sqrt", "newton_cbrt")}


@probe
def unseen_map_residuals(sub):
    """x* and x* - f(x*, theta) for two scalar maps, each over a batch of theta (one compilation)."""
    fixed_point = sub.function("fixed_point")

    def solve(f, theta):
        x = fixed_point(f, jnp.float32(0.0), theta)
        return x, x - f(x, theta)

    @jax.jit
    def both(cos_thetas, slow_thetas):
        return {"cos": jax.vmap(lambda t: solve(cos_map, t))(cos_thetas),
                "slow": jax.vmap(lambda t: solve(slow_map, t))(slow_thetas)}

    results = both(*jax.device_put((COS_THETAS, SLOW_THETAS)))
    out = {}
    for name, thetas in (("cos", COS_THETAS), ("slow", SLOW_THETAS)):
        x, residual = results[name]
        x = sub.array(x, f"jax.vmap(fixed_point) on the {name} map")
        if x.shape != thetas.shape:
            raise ProbeFailure(f"fixed_point returned shape {x.shape[1:]} for a scalar x0 and a scalar theta")
        out[name] = {"x": x, "residual": sub.array(residual, "x* - f(x*, theta)")}
    return out


@probe
def unseen_scalar_grads(sub):
    """d x*/d theta for x = 0.5 cos x + theta, by jax.grad under vmap over theta."""
    fixed_point = sub.function("fixed_point")
    grad = jax.grad(lambda theta: fixed_point(cos_map, jnp.float32(0.0), theta))
    return sub.array(jax.jit(jax.vmap(grad))(jax.device_put(COS_THETAS)), "jax.vmap(jax.grad(fixed_point ...))")


@probe
def matrix_theta_jacrev(sub):
    """The (5, 5, 5) Jacobian of x*(A) for x = tanh(A x + b), by jax.jacrev."""
    fixed_point = sub.function("fixed_point")
    jac = jax.jit(jax.jacrev(lambda a: fixed_point(tanh_map, jnp.asarray(X0_VECTOR), a)))(jax.device_put(A0))
    return sub.array(jac, "jax.jacrev(fixed_point ...) with respect to a matrix theta")


@probe
def mixed_shapes_vjp(sub):
    """x in R^3, theta in R^4: x* and the VJP of a cotangent by jax.vjp, under jit and vmap over theta."""
    fixed_point = sub.function("fixed_point")

    def value_and_pullback(theta, cotangent):
        x, pullback = jax.vjp(lambda th: fixed_point(mixed_map, jnp.zeros(3, jnp.float32), th), theta)
        return x, pullback(cotangent)[0]

    x, theta_bar = jax.jit(jax.vmap(value_and_pullback))(*jax.device_put((THETAS_MIXED, COTANGENTS_MIXED)))
    return {"x": sub.array(x, "fixed_point with x in R^3"),
            "vjp": sub.array(theta_bar, "jax.vjp(fixed_point ...) with theta in R^4")}


@probe
def forward_mode(sub):
    """jax.jvp of x*(A) in the direction A_DOT."""
    fixed_point = sub.function("fixed_point")
    fn = lambda a: fixed_point(tanh_map, jnp.asarray(X0_VECTOR), a)  # noqa: E731
    _, tangent = jax.jit(lambda a, a_dot: jax.jvp(fn, (a,), (a_dot,)))(*jax.device_put((A0, A_DOT)))
    return sub.array(tangent, "jax.jvp(fixed_point ...)")
