"""Differentiability: forward and reverse mode autodiff in JAX: answer template.

Fill in each answer below, then check your work with
    autograder check differentiability.py
Keep every name and signature exactly as given: the grader looks for them.
"""


# ============================================================================
# ## Q1: the gradient of ln(1 + e^x) at x = 100
#
# The function $\operatorname{softplus}(x) = \ln(1 + e^x)$ is smooth and its derivative is the
# sigmoid $1 / (1 + e^{-x})$, which is $\approx 1$ at $x = 100$. Yet differentiating the
# obvious implementation `jnp.log(1 + jnp.exp(x))` with `jax.grad` at $x = 100$ does not give 1.
#
# 1. Set `naive_grad_at_100` to the value that `jax.grad(lambda x: jnp.log(1 + jnp.exp(x)))(100.)`
#    returns (compute it, do not type it).
# 2. Write `softplus(x)`: $\ln(1 + e^x)$, numerically stable for every finite float32 and
#    float64 `x` (100 at `x = 100`, 1e4 at `x = 1e4`, about 0 at `x = -100`), elementwise on
#    arrays of any shape, and usable under `jax.jit`, `jax.vmap` and `jax.grad`.
#    Find a way to write it so that nothing overflows (a rearranged formula or a library function).
# 3. Write `softplus_grad(x)`: the derivative of your `softplus` at a scalar `x`, computed with
#    JAX autodiff (not a hand-written sigmoid). It must be finite everywhere: 1 at 100 and 1e4,
#    0.5 at 0, about 0 at -100.
# 4. In `softplus_explanation` (a string), explain what goes wrong in the naive version.
#    This answer is graded by hand.
# ============================================================================

# Avoids overflow by clipping x, which is wrong for large x (softplus(1e4) must be 1e4).
import jax
import jax.numpy as jnp

naive_grad_at_100 = jax.grad(lambda x: jnp.log(1 + jnp.exp(x)))(100.0)


def softplus(x):
    return jnp.log1p(jnp.exp(jnp.clip(x, -80.0, 80.0)))


def softplus_grad(x):
    return jax.grad(softplus)(x)


# ============================================================================
# ## Q2: the Hessian of the Euclidean norm
#
# The Euclidean norm $\|x\| = \left(\sum_{i=1}^n x_i^2\right)^{1/2}$ of a vector $x \in \mathbb{R}^n$
# has gradient $x / \|x\|$ (for $x \neq 0$), and its Hessian is
#
# $$ H(x) = \frac{1}{\|x\|}\left(I - \frac{x x^\top}{\|x\|^2}\right). $$
#
# (Derive it yourself if you like: differentiate $x_i / \|x\|$ with respect to $x_j$.)
# $H$ is symmetric, and $H x = 0$: moving along $x$ changes the norm linearly, so there is
# no curvature in that direction.
#
# Write three functions of a 1-D array `x` (of any size $n \geq 1$, with $x \neq 0$):
#
# 1. `norm(x)`: $\|x\|$, a scalar.
# 2. `norm_hessian(x)`: the $(n, n)$ Hessian of `norm` at `x`, computed with JAX autodiff
#    (`jax.hessian`, or compose `jax.jacfwd` / `jax.jacrev` / `jax.grad` yourself).
# 3. `norm_hessian_closed_form(x)`: the same $(n, n)$ matrix from the formula above, written
#    with `jax.numpy` array operations and **without** any autodiff.
#
# All three must:
#
# - be correct for every size from $n = 1$ to $n = 64$ and at every scale of $x$ (from
#   $\|x\| = 10^{-3}$ to $10^3$; in float32, within a relative
#   tolerance of $10^{-5}$ and an absolute tolerance of $2 \cdot 10^{-6} / \|x\|$, the scale
#   of the entries of $H$);
# - work under `jax.jit` and under `jax.vmap` over a batch of vectors (shape `(batch, n)`),
#   so use `jax.numpy` throughout, not NumPy or Python floats;
# - keep float64 precision when 64-bit mode is on (`jax.config.update("jax_enable_x64", True)`,
#   or `with jax.enable_x64(True):`): a float64 `x` must give a float64 result that is
#   accurate to about $10^{-11}$ relative, so do not cast to float32 anywhere.
#
# Check your two Hessians against each other, and check that they are symmetric and that
# `H @ x` is (numerically) zero.
# ============================================================================

# Right numbers, but the "closed form" is computed with jax.hessian too.
import jax
import jax.numpy as jnp


def norm(x):
    return jnp.sqrt(jnp.sum(x**2))


def norm_hessian(x):
    return jax.hessian(norm)(x)


def norm_hessian_closed_form(x):
    return jax.jacfwd(jax.grad(norm))(x)


# ============================================================================
# ## Q3: a custom VJP rule for $1 / \ln(1 + e^x)$
#
# In the example above, $f(x) = 1 / \ln(1 + e^x)$ got a `custom_jvp` rule. Now give it a
# reverse-mode rule instead. With $s(x) = \ln(1 + e^x)$ (softplus) and
# $\sigma(x) = 1 / (1 + e^{-x})$ (the sigmoid, $s' = \sigma$):
#
# $$ f(x) = \frac{1}{s(x)}, \qquad f'(x) = -\frac{\sigma(x)}{s(x)^2}. $$
#
# For example $f(100) = 0.01$ and $f'(100) \approx -10^{-4}$ (not 0 and 0, as an older version
# of this notebook claimed, and not the `nan` that naive autodiff gives).
#
# Define `recip_softplus` as a `jax.custom_vjp` function computing $f$, and give it your own
# rules with `recip_softplus.defvjp(fwd, bwd)`:
#
# - `fwd(x)` returns `(f(x), residuals)`, where the residuals are whatever `bwd` needs (`x`,
#   the output, $s$, $\sigma$, ... your choice);
# - `bwd(residuals, g)` returns a **tuple** holding the cotangent of `x`, which is
#   $f'(x) \cdot g$ for the output cotangent `g`. `jax.grad` passes `g = 1`, but `jax.vjp`
#   and `jax.vmap` pass other values, and they are tested.
#
# `recip_softplus` itself must be the `jax.custom_vjp` object (do not wrap it in `jax.jit` or
# another function; the checks `jax.jit` it themselves). It is called on scalars, and on
# batches through `jax.vmap`.
#
# Requirements, all in float32:
#
# - the value and the gradient are right (relative tolerance $10^{-5}$) and finite for every
#   $x$ in $[-50, 10^4]$, under `jax.jit`, `jax.grad`, `jax.vjp` and `jax.vmap`. The values
#   span many orders of magnitude there: $f(-50) \approx 5.2 \cdot 10^{21}$,
#   $f'(-50) \approx -5.2 \cdot 10^{21}$, $f(10^4) = 10^{-4}$, $f'(10^4) \approx -10^{-8}$.
#
# Both ends are traps. For large $x$, $e^x$ overflows (above $x \approx 88.7$), so compute $s$
# and $\sigma$ with formulas or library functions that never form $e^{x}$ for large $x$. For
# very negative $x$, $s(x) \approx e^{x}$ is tiny: $s(-50)^2 \approx 3.7 \cdot 10^{-44}$ and
# $f(-50)^2 \approx 2.7 \cdot 10^{43}$ both fall outside float32, so neither may appear in your
# derivative, even as an intermediate. Group the factors so that every intermediate stays in
# range (for example $\sigma / s$ is about 1 there), and test your rule at $x = -50$ under
# `jax.jit`: XLA may regroup some expressions (such as `(a / s) / s` into `a / (s * s)`).
# ============================================================================

# Avoids overflow by clipping x to [-80, 80]: f(1e4) comes out as 1/80 and f'(1e4) as 0.
import jax
import jax.numpy as jnp


@jax.custom_vjp
def recip_softplus(x):
    return 1.0 / jnp.log1p(jnp.exp(jnp.clip(x, -80.0, 80.0)))


def fwd(x):
    return recip_softplus(x), x


def bwd(x, g):
    xc = jnp.clip(x, -80.0, 80.0)
    s = jnp.log1p(jnp.exp(xc))
    inside = (x > -80.0) & (x < 80.0)
    return (jnp.where(inside, -(jax.nn.sigmoid(xc) / s) / s, 0.0) * g,)


recip_softplus.defvjp(fwd, bwd)


# ============================================================================
# ## Q4: differentiating through a fixed point
#
# The notebook computed $\sqrt{a}$ with a `lax.while_loop` (Heron's iteration $x \leftarrow \tfrac12(x + a/x)$)
# and found that `jax.grad` refuses to differentiate it: reverse mode would have to store every iteration,
# and a while loop has no bound on their number. Its fix was a hand-written derivative $1 / (2\sqrt{a})$,
# which only works for the square root. Here you generalise it to every fixed point.
#
# Let $x^*(\theta)$ solve $x^* = f(x^*, \theta)$, where $f$ is a contraction near $x^*$ (so iterating
# $x \leftarrow f(x, \theta)$ converges to it). Differentiating both sides of $x^* = f(x^*, \theta)$ gives the
# **implicit function theorem**:
#
# $$\frac{\partial x^*}{\partial \theta} = \Big(I - \frac{\partial f}{\partial x}\Big)^{-1} \frac{\partial f}{\partial \theta}
# \quad\text{evaluated at } (x^*, \theta).$$
#
# The derivative needs only the end point $x^*$, not the iterations that led there, and $x^*$ does not depend on
# the starting point at all.
#
# 1. Write `fixed_point(f, x0, theta)`: return $x^*$ with $x^* = f(x^*, \theta)$, found by iterating
#    $x \leftarrow f(x, \theta)$ from `x0` inside `jax.lax.while_loop` until it has converged. `x` and `theta`
#    are scalars or 1-D arrays (`theta` may also be a matrix), and their sizes may differ.
#    `fixed_point` must be differentiable with respect to `theta` in reverse mode (`jax.grad`, `jax.vjp`,
#    `jax.jacrev`) through the formula above: give it a custom derivative rule with `jax.custom_vjp` or
#    `jax.custom_jvp` (`f` is not an array: declare it with `nondiff_argnums`). It must also work under
#    `jax.jit` and `jax.vmap` (for example over a batch of `theta`).
# 2. Write `newton_sqrt(a)`: $\sqrt{a}$ for $a > 0$, computed with your `fixed_point` and Newton's (Heron's) map.
# 3. Write `newton_cbrt(a)`: $\sqrt[3]{a}$ for $a > 0$, computed with your `fixed_point` and Newton's map for
#    $x^3 = a$.
#
# Things to get right:
# - **Pass `a` as `theta`.** The map must receive everything it depends on through its arguments, as in
#   `fixed_point(lambda x, a: ..., x0, a)`. A map that reads `a` from the enclosing function hides the
#   dependence from your derivative rule (and JAX usually stops with an "escaped tracer" error).
# - **Vector `x`.** A reverse-mode rule (a VJP) pulls a cotangent back through
#   $(I - \partial f/\partial x)^{-1}$, so it needs the *transpose* of $\partial f/\partial x$. Using
#   $\partial f/\partial x$ itself is a mistake that no scalar test can see.
# - **Stopping.** Stop when a step is small compared with $x$ (for example
#   $\max|x_{k+1} - x_k| \le 10^{-6}(1 + \max|x_{k+1}|)$), not after a fixed number of steps, and cap the number
#   of iterations: in float32 the iterates may end up jumping between two neighbouring numbers forever, and a
#   loop that never stops cannot be graded. The condition of a `while_loop` must be a single boolean, also
#   for vector `x`.
# - **Forward mode** (one point): `jax.jvp` cannot go through a `custom_vjp` function. A `custom_jvp` rule
#   whose tangent solves $(I - \partial f/\partial x)\,\dot x = (\partial f/\partial\theta)\,\dot\theta$ serves
#   both modes, provided `jax.grad` can transpose it: the tangent must be linear in $\dot\theta$ and the solve
#   transposable (`jnp.linalg.solve`, or `jax.lax.custom_linear_solve`), not a `while_loop`.
#
# The checks compare values within rtol $10^{-5}$ / atol $10^{-6}$ of the true ones and derivatives within
# rtol $10^{-4}$ / atol $10^{-5}$ (they are taken at an $x^*$ that is only converged to about $10^{-6}$). Hidden
# checks use maps you have not seen, vector `x` with a matrix `theta`, and wide ranges of `a`; they compare
# your derivatives with finite differences of your own values too, and they read the compiled program of
# every check to see that it really iterates in a `while_loop` that stops when the iterates have converged
# (not after a fixed number of steps).
# ============================================================================

# newton_cbrt copies the square-root map with a 3: (2x + a/x)/3 has its fixed point at sqrt(a), not the cube root.
import functools

import jax
import jax.numpy as jnp


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def fixed_point(f, x0, theta):
    def unconverged(state):
        x, residual, count = state
        return (count < 2000) & (residual > 1e-7 + 1e-6 * jnp.linalg.norm(jnp.ravel(x)))

    def step(state):
        x, _, count = state
        x_new = f(x, theta)
        return x_new, jnp.linalg.norm(jnp.ravel(f(x_new, theta) - x_new)), count + 1

    x = f(jnp.asarray(x0), theta)
    residual = jnp.linalg.norm(jnp.ravel(f(x, theta) - x))
    return jax.lax.while_loop(unconverged, step, (x, residual, 0))[0]


@fixed_point.defjvp
def fixed_point_jvp(f, primals, tangents):
    x0, theta = primals
    _, theta_dot = tangents
    x = fixed_point(f, x0, theta)
    n = jnp.size(x)
    df_dx = jax.jacfwd(f, argnums=0)(x, theta).reshape(n, n)
    _, df_dtheta_dot = jax.jvp(lambda t: f(x, t), (theta,), (theta_dot,))
    x_dot = jnp.linalg.solve(jnp.eye(n, dtype=df_dx.dtype) - df_dx, jnp.ravel(df_dtheta_dot))
    return x, x_dot.reshape(jnp.shape(x))


def newton_sqrt(a):
    return fixed_point(lambda x, a: 0.5 * (x + a / x), 1.0, a)


def newton_cbrt(a):
    return fixed_point(lambda x, a: (2.0 * x + a / x) / 3.0, 1.0, a)


# ============================================================================
# ## Q5: timing `associative_scan` against `scan`
#
# A cumulative sum can be computed one element after the other with `jax.lax.scan` ($n$
# dependent steps) or with `jax.lax.associative_scan` ($O(\log n)$ levels of independent
# additions). Which is faster depends on the device. Find out, and learn to time JAX code
# correctly on the way.
#
# 1. Write `cumsum_scan(xs)`: the cumulative sum $y_i = x_0 + \dots + x_i$ of a 1-D array
#    `xs` (any length $n \ge 1$, float32), computed with `jax.lax.scan`. No Python loop over
#    the elements: the loop must be the `scan` itself.
# 2. Write `cumsum_assoc(xs)`: the same cumulative sum, computed with
#    `jax.lax.associative_scan`.
#
#    Both must work under `jax.jit` and `jax.grad`. The grader looks at the program your
#    functions compile to (exported with `jax.export`), not at your source: `cumsum_scan`
#    must be one loop (`lax.scan`), and `cumsum_assoc` no sequential loop and no library
#    cumulative sum (`jnp.cumsum`), with a number of operations that grows like $\log n$.
# 3. Write `time_fn(fn, *args, repeats=5)`: the **median** wall-clock time, in **seconds**
#    (a float), of one call `fn(*args)`, over `repeats` timed calls. Call `fn` exactly as
#    given (do not wrap it in `jax.jit` yourself: the caller decides what is compiled; `fn`
#    returns a JAX array or a pytree of them). Two rules make the number mean something:
#    - **exclude compilation**: call `fn(*args)` once, untimed, before the timed calls (the
#      first call of a jitted function traces and compiles it);
#    - **include the work**: JAX dispatches asynchronously, so a call returns before the
#      result is computed; stop the clock only after `jax.block_until_ready` on the result.
# 4. Write `compare_cumsum(sizes, devices=("cpu", "gpu"))`: for every platform name in
#    `devices`, every length in `sizes` and both methods, time the jitted cumulative sum of
#    a float32 array of that length on the first device of that platform, with your
#    `time_fn`. Return a list with one dict per (device, size, method), in any order:
#    `{"device": the platform name as given, "size": the length (int), "method": "scan" or
#    "associative_scan", "seconds": the time from time_fn}`. `jax.devices(name)` raises a
#    `RuntimeError` when the platform is not present: such a device must give its rows
#    with `"seconds": None`, never an exception. Run your computation on a device by putting
#    its input there with `jax.device_put(x, device)` (or inside
#    `with jax.default_device(device):`).
# 5. Run `compare_cumsum` for sizes from $10$ to $10^6$ (on a machine with a GPU too, if you
#    can), and in `timing_conclusion` (a string) say which method is faster on which device
#    and for which sizes, and why. This answer is graded by hand.
# ============================================================================

# cumsum_assoc calls jnp.cumsum instead of lax.associative_scan.
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def cumsum_scan(xs):
    def step(total, x):
        total = total + x
        return total, total

    _, totals = lax.scan(step, jnp.zeros((), xs.dtype), xs)
    return totals


def cumsum_assoc(xs):
    return jnp.cumsum(xs)


def time_fn(fn, *args, repeats=5):
    jax.block_until_ready(fn(*args))
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


METHODS = {"scan": jax.jit(cumsum_scan), "associative_scan": jax.jit(cumsum_assoc)}


def compare_cumsum(sizes, devices=("cpu", "gpu")):
    rows = []
    for platform in devices:
        try:
            device = jax.devices(platform)[0]
        except RuntimeError:
            device = None
        for size in sizes:
            xs = np.random.default_rng(0).standard_normal(size).astype(np.float32)
            if device is not None:
                xs = jax.device_put(xs, device)
            for method, cumsum in METHODS.items():
                seconds = None if device is None else time_fn(cumsum, xs)
                rows.append({"device": platform, "size": size, "method": method, "seconds": seconds})
    return rows


# ============================================================================
# ## Q6: your own parallel associative_scan
#
# `jax.lax.associative_scan(fn, elems)` computes all the prefix combinations
# $y_i = x_0 \circ x_1 \circ \dots \circ x_i$ of an associative operation $\circ$ (written `fn`)
# in $O(\log n)$ parallel steps instead of $n - 1$ sequential ones. Write your own.
#
# Write `associative_scan(fn, elems, reverse=False)` that returns the same results as
# `jax.lax.associative_scan(fn, elems, reverse=reverse)` (scanning along axis 0):
#
# - `elems` is an array, or a pytree of arrays (a tuple, a dict, ...) that all have the same
#   length $n$ along axis 0. The result has the same structure and shapes as `elems`.
# - `fn(a, b)` is associative but **not** necessarily commutative (think of matrix products),
#   and it has no identity element you could rely on. Like the library's `fn`, it receives
#   *batches*: `a` and `b` are pytrees like `elems` whose arrays hold $k$ elements each
#   (slices along axis 0), and it returns the $k$ combinations `fn(a[j], b[j])` at once.
#   Always combine an earlier prefix on the left with a later one on the right.
# - Result $i$ is `fn(...fn(fn(x0, x1), x2)..., xi)`; result 0 is $x_0$ itself (an *inclusive* scan).
# - It works for every length $n \ge 1$, not only for powers of two.
# - `reverse=True` means what it means in JAX: flip the inputs along axis 0, scan them with the
#   same `fn` (its arguments are not swapped), and flip the result back.
# - It works under `jax.jit`, and `jax.grad` differentiates through it (its gradients match
#   those of the library's scan).
#
# How to build it: only from JAX array operations (slicing, `jnp.concatenate`, reshapes,
# `jnp.where`, ...) and calls of `fn` on whole batches, with $O(\log n)$ sequential steps.
# Not allowed: `jax.lax.associative_scan` itself, `lax.scan`, `lax.fori_loop`, `lax.while_loop`,
# `lax.map`, `jnp.cumsum`/`jnp.cumprod`, and Python loops over the elements. A Python loop
# (or recursion) over the $\log_2 n$ *levels* is fine: that is what a parallel scan is. Recursing
# into *both* halves is not: it traces a piece of program for every element.
# The grader looks at what your function does when traced (`jax.make_jaxpr`), not at your source:
# the number of equations in its jaxpr must grow like $\log n$, not like $n$.
#
# Two classic ways to do it:
#
# - **Hillis and Steele**: at steps $d = 1, 2, 4, \dots < n$, replace every $y_i$ with
#   $i \ge d$ by `fn(y[i - d], y[i])`, all at once.
# - **The odd/even recursion** (Blelloch; the one JAX uses): combine neighbouring pairs
#   $(x_0, x_1), (x_2, x_3), \dots$, scan that half-length sequence recursively to get the results
#   at the odd positions, then get the even positions with one more `fn` each.
#
# For example, with the linear recurrence $h_i = a_i h_{i-1} + b_i$ written as pairs $(a, b)$
# composed by `fn = lambda p, q: (p[0] * q[0], q[0] * p[1] + q[1])`,
# `associative_scan(fn, (a, b))[1]` is the whole sequence $h$ (from $h_{-1} = 0$) in
# $O(\log n)$ steps.
# ============================================================================

# Hillis-Steele for a single array: tuples and dicts of arrays (pytrees) fail.
import jax.numpy as jnp


def associative_scan(fn, elems, reverse=False):
    ys = jnp.asarray(elems)
    if reverse:
        ys = ys[::-1]
    n, d = ys.shape[0], 1
    while d < n:
        ys = jnp.concatenate([ys[:d], fn(ys[:-d], ys[d:])])
        d *= 2
    return ys[::-1] if reverse else ys
