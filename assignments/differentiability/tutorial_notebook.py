# %% [markdown]
# # Differentiability: forward and reverse mode autodiff in JAX
#
# This notebook is about how JAX computes derivatives, and about what to do when the
# derivative it computes is not the one you want. It has three parts:
#
# - **Beginner**: Jacobians, Jacobian-vector products (forward mode), vector-Jacobian
#   products (reverse mode), how the two are related, and what each one costs.
# - **Intermediate**: when automatic differentiation gives a wrong answer (overflow) or no
#   answer at all (`lax.while_loop`), and how to supply your own derivative rules with
#   `jax.custom_jvp` and `jax.custom_vjp`.
# - **Advanced**: `jax.lax.associative_scan` (parallel prefix sums), how it differentiates,
#   and how to look at devices and time JAX code correctly.
#
# Each part ends with exercises. Everything here runs on a CPU in a few seconds.

# %% [markdown]
# ## How to work on this notebook
#
# - Run the cells from top to bottom: later examples reuse functions defined earlier in
#   the same part.
# - Write your answers in the answer cells that follow each question. Keep the names, the
#   arguments and the return values exactly as the question states them: the grader looks
#   for those names and nothing else.
# - Do not change the cells of the tutorial to make an answer work: your answers should only
#   need the imports cell below (add any import you need inside your own answer cells).
# - Check your work at any time from a terminal, in the folder of the notebook:
#
#   ```
#   autograder check differentiability.ipynb
#   ```
#
#   This runs the public checks. More (hidden) checks run when your submission is graded,
#   so test your functions on inputs of your own as well. Written answers (strings) are
#   read by a TA.
# - Before you submit, restart the kernel and run all cells, to be sure the notebook runs
#   from top to bottom without errors.
# - A practical note on speed. Called directly ("eagerly"), JAX runs one operation at a
#   time and compiles each new operation the first time it sees it: convenient for
#   exploring, slow for code made of many small steps, such as derivatives. Wrapping a
#   function in `jax.jit` compiles it as a whole, once per input shape and dtype. Several
#   examples below do that only to run faster; the results are the same.

# %%
import time
from functools import partial

import numpy as np

import jax
import jax.numpy as jnp
from jax import lax

print("jax", jax.__version__, "- default backend:", jax.default_backend())

# %% [markdown]
# ## Part 1 (Beginner): forward and reverse mode
#
# ### Prerequisites
#
# - NumPy arrays and broadcasting.
# - Calculus: partial derivatives and the chain rule.
#
# ### A running example
#
# We use a small function of two scalars throughout this part,
# $g(x, y) = x \sin y + \cos x$.

# %%
def example_fun(x, y):
    return x * jnp.sin(y) + jnp.cos(x)


print(example_fun(0.5, 0.75))

# %% [markdown]
# ### The Jacobian
#
# Take a function $f \colon \mathbb{R}^n \to \mathbb{R}^m$ that is differentiable at $x$.
# Its Jacobian $J = \partial f(x)$ is the $m \times n$ matrix of partial derivatives,
# $J_{ij} = \partial f_i / \partial x_j$: one **row per output**, one **column per input**.
# It is the best linear approximation of $f$ near $x$:
#
# $$ f(x + \varepsilon v) = f(x) + \varepsilon\, J v + O(\varepsilon^2). $$
#
# Autodiff never builds $J$ unless you ask for it. It offers two cheaper operations, each
# of which applies $J$ to one vector.
#
# ### Forward mode: Jacobian-vector products (JVP)
#
# The JVP maps a *tangent* $v \in \mathbb{R}^n$ (a direction in input space) to
# $J v \in \mathbb{R}^m$, the rate of change of the output along $v$. Think of each value
# as a pair (primal, tangent) $= (x, v)$. Every elementary operation knows how to map
# a pair to a pair; for example $\sin$ maps $(a, \dot a)$ to $(\sin a, \cos a \cdot \dot a)$.
# For a composition $f \circ h$ the chain rule gives
#
# $$ \partial (f \circ h)(x)\, v = \partial f(h(x))\, \big[\partial h(x)\, v\big], $$
#
# so the tangent is pushed through the program **in the same order** as the values. The
# extra memory is one tangent per live value, and the cost is a small constant times the
# cost of evaluating $f$.
#
# ### Reverse mode: vector-Jacobian products (VJP)
#
# The VJP maps a *cotangent* $u \in \mathbb{R}^m$ (a weighting of the outputs) to
# $u^\top J \in \mathbb{R}^n$, equivalently $J^\top u$. The chain rule now reads
#
# $$ u^\top \partial (f \circ h)(x) = \big[u^\top \partial f(h(x))\big]\, \partial h(x), $$
#
# so the cotangent flows **backwards**, from the outputs to the inputs. To go backwards we
# need the Jacobian of each step at the point where it was evaluated, so reverse mode first
# runs the program forward and **stores the intermediate values** (the *residuals*) that
# the backward pass needs. Its time cost is also a small multiple of evaluating $f$, but its
# memory grows with the length of the computation.
#
# With $m = 1$ and $u = 1$, the VJP is the gradient: that is what `jax.grad` computes.
#
# In code, `jax.jvp(f, primals, tangents)` returns the value and the JVP in one go:

# %%
example_value, example_tangent = jax.jvp(example_fun, (0.5, 0.75), (1.0, 1.0))
print("value:", example_value)
print("J @ (1, 1):", example_tangent)

# %% [markdown]
# `jax.vjp(f, *primals)` runs the forward pass and returns the value together with a
# function, the *pullback*, that maps a cotangent to one cotangent per input. The pullback
# holds the residuals of the forward pass, so you can call it many times with different
# cotangents without running `f` again.

# %%
example_value, example_pullback = jax.vjp(example_fun, 0.5, 0.75)
print("value:", example_value)
print("(1.0) @ J:", example_pullback(1.0))
print("(2.0) @ J:", example_pullback(2.0))
print("jax.grad, both arguments:", jax.grad(example_fun, argnums=(0, 1))(0.5, 0.75))

# %% [markdown]
# ### JVP and VJP are transposes of each other
#
# At a fixed point $x$, the JVP $v \mapsto J v$ is a **linear** map, and the VJP
# $u \mapsto J^\top u$ is its **transpose** (its adjoint): for every $u$ and $v$,
#
# $$ \langle u, J v \rangle = \langle J^\top u, v \rangle. $$
#
# JAX uses this to get reverse mode almost for free:
#
# 1. Every primitive operation has a JVP rule. Differentiating a program in forward mode
#    interleaves two computations: the primal values, which do not depend on the tangent,
#    and the tangent computation, which is linear in the tangent.
# 2. *Linearization* (`jax.linearize`) separates them: it evaluates the primal part now and
#    records the tangent part as a linear program whose constants are the residuals.
# 3. *Transposition* (`jax.linear_transpose`) runs that linear program backwards. Each
#    linear primitive has a transpose rule: multiplying by a constant transposes to
#    multiplying the cotangent by the same constant; using a value twice (fan-out)
#    transposes to adding the two cotangents; slicing transposes to padding with zeros;
#    broadcasting transposes to summing.
#
# So $\text{VJP} = \text{transpose}(\text{linearize}(\text{JVP}))$. A consequence that matters
# in Part 2: if you give JAX a custom JVP rule that is linear in the tangent, JAX can
# derive the reverse mode from it.
#
# Let us check the identity on a function $\mathbb{R}^3 \to \mathbb{R}^2$.

# %%
def vector_fun(x):
    """A function from R^3 to R^2."""
    return jnp.stack([x[0] * x[1] + jnp.sin(x[2]), jnp.exp(x[0]) * x[2]])


@jax.jit
def transpose_check(x, tangent, cotangent):
    _, jvp_at_x = jax.linearize(vector_fun, x)  # tangent -> J @ tangent, a linear function
    vjp_at_x = jax.linear_transpose(jvp_at_x, x)  # cotangent -> J^T @ cotangent
    (transposed,) = vjp_at_x(cotangent)
    _, pullback = jax.vjp(vector_fun, x)
    return (
        jnp.dot(cotangent, jvp_at_x(tangent)),
        jnp.dot(transposed, tangent),
        transposed,
        pullback(cotangent)[0],
    )


vector_point = jnp.array([0.3, -1.2, 2.0])
tangent_v = jnp.array([1.0, 2.0, -0.5])
cotangent_u = jnp.array([0.7, -1.5])
u_dot_jv, jtu_dot_v, jtu_transposed, jtu_vjp = transpose_check(vector_point, tangent_v, cotangent_u)
print("<u, J v>   =", u_dot_jv)
print("<J^T u, v> =", jtu_dot_v)
print("J^T u by transposition:", jtu_transposed)
print("J^T u by jax.vjp:      ", jtu_vjp)

# %% [markdown]
# ### Full Jacobians and what they cost
#
# One JVP gives one **column** of $J$ (take $v = e_j$); one VJP gives one **row** (take
# $u = e_i$). Hence:
#
# - `jax.jacfwd` builds $J$ from $n$ JVPs, one per input dimension;
# - `jax.jacrev` builds $J$ from $m$ VJPs, one per output dimension, and needs memory for
#   the residuals of the forward pass.
#
# Both return the same $m \times n$ matrix. Prefer `jacfwd` for "tall" Jacobians
# ($m \gg n$: few inputs, many outputs) and `jacrev` for "wide" ones ($n \gg m$). A scalar
# loss of a million parameters ($m = 1$) is the extreme wide case, which is why training
# uses reverse mode. (JAX batches the $n$ or $m$ products with `jax.vmap`, so they are not
# run one by one in Python, but the amount of work is still proportional.)

# %%
jac_forward = jax.jit(jax.jacfwd(vector_fun))(vector_point)
jac_reverse = jax.jit(jax.jacrev(vector_fun))(vector_point)
print("shape (m, n):", jac_forward.shape)
print(jac_forward)
print("jacfwd == jacrev:", jnp.allclose(jac_forward, jac_reverse))


# jacfwd by hand: one JVP per input direction e_j gives column j; vmap batches them.
@jax.jit
def jacobian_columns(x):
    input_basis = jnp.eye(x.shape[0])
    return jax.vmap(lambda e: jax.jvp(vector_fun, (x,), (e,))[1])(input_basis)


print("vmap of JVPs, transposed:", jnp.allclose(jacobian_columns(vector_point).T, jac_forward))

# With several arguments, `argnums` picks which ones to differentiate; the result has one
# entry per chosen argument.
print(jax.jit(jax.jacfwd(example_fun, argnums=(0, 1)))(0.5, 1.0))
print(jax.jit(jax.jacrev(example_fun, argnums=(0, 1)))(0.5, 1.0))

# %% [markdown]
# ### Second derivatives
#
# Derivative transformations compose. The Hessian of a scalar function is the Jacobian of
# its gradient; the usual recipe is *forward-over-reverse*, `jax.jacfwd(jax.jacrev(f))`,
# which is what `jax.hessian` does: the inner reverse pass gives the gradient
# ($\mathbb{R}^n \to \mathbb{R}^n$, a square Jacobian) cheaply, and the outer forward pass
# differentiates it. Here $q(x) = \tfrac14 \sum_i x_i^4 + x_0 x_1$, whose Hessian is
# $\operatorname{diag}(3 x_i^2)$ plus 1 in the entries $(0, 1)$ and $(1, 0)$.

# %%
def quartic_energy(x):
    return jnp.sum(x**4) / 4 + x[0] * x[1]


quartic_point = jnp.array([1.0, 2.0, -1.0])
quartic_hessian = jax.jit(jax.hessian(quartic_energy))(quartic_point)
print(quartic_hessian)

expected_hessian = np.diag(3 * np.asarray(quartic_point) ** 2)
expected_hessian[0, 1] += 1.0
expected_hessian[1, 0] += 1.0
print("matches the closed form:", np.allclose(quartic_hessian, expected_hessian))
fwd_over_rev = jax.jit(jax.jacfwd(jax.jacrev(quartic_energy)))(quartic_point)
print("same as jacfwd(jacrev(.)):", np.allclose(fwd_over_rev, quartic_hessian))

# %% [markdown]
# ### Beginner exercises
#
# Time to try it yourself: first a gradient that goes wrong in floating point, then a
# Hessian that you can check against a formula.

# %% [question softplus]

# %% [question norm_hessian]

# %% [markdown]
# ## Part 2 (Intermediate): custom derivative rules
#
# ### Prerequisites
#
# - Part 1 of this notebook.
# - JAX control flow: `lax.while_loop`, `lax.fori_loop`, `lax.scan`.
# - `jax.make_jaxpr`, which prints the program JAX traced from a Python function.
#
# Autodiff differentiates the *program*, step by step, not the mathematical function the
# program stands for. Usually the two agree. This part shows two cases where they do not:
#
# 1. a formula that overflows, so the derivative of the program is `nan` although the
#    derivative of the function is a perfectly ordinary number;
# 2. a loop that reverse mode cannot differentiate at all.
#
# In both cases we know the derivative better than the program does, and JAX lets us say so.
#
# ### Example 1: the reciprocal of $\log(1 + e^x)$
#
# Take $f(x) = 1 / \log(1 + e^x)$. For large $x$, $\log(1 + e^x) = x + \log(1 + e^{-x})
# \approx x$, so $f(100) \approx 0.01$. With $s(x) = \log(1 + e^x)$ and
# $s'(x) = e^x / (1 + e^x) = \sigma(x)$ (the logistic sigmoid), the derivative is
#
# $$ f'(x) = -\frac{\sigma(x)}{s(x)^2}, \qquad f'(100) \approx -\frac{1}{100^2} = -10^{-4}. $$
#
# Let us see what the direct translation into code gives.

# %%
def recip_log1pexp_naive(x):
    return 1.0 / jnp.log(1.0 + jnp.exp(x))


naive_value_and_grad = jax.jit(jax.value_and_grad(recip_log1pexp_naive))
print("x = 2:   f, f' =", naive_value_and_grad(2.0))
print("x = 100: f, f' =", naive_value_and_grad(100.0))

# %% [markdown]
# At $x = 2$ all is well, but at $x = 100$ the value is `0.0` (it should be 0.01) and the
# derivative is `nan` (it should be about $-10^{-4}$). The jaxpr of the gradient shows why:

# %%
print(jax.make_jaxpr(jax.grad(recip_log1pexp_naive))(100.0))

# The same steps, evaluated one by one in float32:
big_exp = jnp.exp(jnp.float32(100.0))
print("exp(100)          =", big_exp, "(float32 overflows above about 3.4e38)")
print("log(1 + exp(100)) =", jnp.log(1.0 + big_exp), "-> the value 1 / inf = 0")
print("1 / (1 + exp(100))=", 1.0 / (1.0 + big_exp))
print("(1 / (1 + exp(100))) * exp(100) =", (1.0 / (1.0 + big_exp)) * big_exp)

# %% [markdown]
# Reading the jaxpr: `b = exp a` is `inf` in float32, so `c = 1 + b` and `d = log c` are
# `inf` too. The primal value `1 / d` is therefore `0`: wrong, and without any warning. The
# derivative of the inner $\log(1 + e^x)$ is $e^x / (1 + e^x)$, an $\infty / \infty$ form at
# this point; JAX evaluates it as "divide by `c`" (giving 0) then "multiply by `b`" (by
# infinity), and $0 \cdot \infty$ is `nan` in IEEE arithmetic. The `nan` then spreads to the
# result.
#
# Two things must be fixed:
#
# - the **value**: compute $\log(1 + e^x)$ in a form that does not overflow.
#   `jnp.logaddexp(a, b)` computes $\log(e^a + e^b)$ stably, so `jnp.logaddexp(0.0, x)` is
#   $\log(1 + e^x)$;
# - the **derivative**: give JAX the formula $f'(x) = -\sigma(x) / s(x)^2$, written so that
#   no intermediate overflows.
#
# ### `jax.custom_jvp`
#
# A `custom_jvp` function has an ordinary implementation (used for its values) and a rule
# that maps `(primals, tangents)` to `(primal_out, tangent_out)`. Two things to get right:
#
# - `tangent_out` is a JVP: it must be **multiplied by the input tangent** (here `x_dot`),
#   so that it is linear in the tangent. Returning the bare derivative $f'(x)$ is a common
#   bug, and a quiet one: `jax.jvp` then ignores the size of the tangent, and `jax.grad`
#   returns `0`, because an output tangent that does not depend on the input tangent is
#   treated as a constant, and constants contribute nothing when transposed.
# - the sign and the formula must be the derivative of the primal: check against finite
#   differences or against the naive version at points where it works.
#
# Below, $-\sigma/s^2$ is computed as $-(\sigma/s) \cdot (1/s)$: for very negative $x$ both
# $\sigma(x)$ and $s(x)$ are tiny, and squaring $s$ first could underflow to zero.

# %%
@jax.custom_jvp
def recip_log1pexp(x):
    return 1.0 / jnp.logaddexp(0.0, x)


@recip_log1pexp.defjvp
def _recip_log1pexp_jvp(primals, tangents):
    (x,) = primals
    (x_dot,) = tangents
    log1pexp_x = jnp.logaddexp(0.0, x)
    primal_out = 1.0 / log1pexp_x
    derivative = -(jax.nn.sigmoid(x) / log1pexp_x) * primal_out
    return primal_out, derivative * x_dot  # the tangent factor belongs here


custom_value_and_grad = jax.jit(jax.value_and_grad(recip_log1pexp))
for recip_x in [-20.0, 0.0, 2.0, 100.0, 1e4]:
    recip_value, recip_grad = custom_value_and_grad(recip_x)
    print(f"x = {recip_x:8}: f = {recip_value:.6g}, f' = {recip_grad:.6g}")

print("agrees with the naive version at x = 2:",
      np.allclose(custom_value_and_grad(2.0), naive_value_and_grad(2.0)))

# %% [markdown]
# We wrote only a JVP rule, yet `jax.grad` (reverse mode) works: as explained in Part 1,
# JAX linearizes our rule and transposes it. Because the rule is linear in `x_dot`, it also
# behaves under scaled tangents, `vmap`, `jit` and second derivatives:

# %%
xs_grid = jnp.array([-5.0, 0.0, 5.0, 100.0])
print("jvp with tangent 3:", jax.jit(lambda t: jax.jvp(recip_log1pexp, (100.0,), (t,)))(3.0))
print("vmap(grad):        ", jax.jit(jax.vmap(jax.grad(recip_log1pexp)))(xs_grid))
print("jit(grad(grad)):   ", jax.jit(jax.grad(jax.grad(recip_log1pexp)))(1.0))


# For contrast, the same rule without the tangent factor: reverse mode silently gives 0.
@jax.custom_jvp
def recip_log1pexp_no_tangent(x):
    return 1.0 / jnp.logaddexp(0.0, x)


@recip_log1pexp_no_tangent.defjvp
def _recip_log1pexp_no_tangent_jvp(primals, tangents):
    (x,) = primals
    primal_out = 1.0 / jnp.logaddexp(0.0, x)
    return primal_out, -(jax.nn.sigmoid(x) / jnp.logaddexp(0.0, x)) * primal_out  # bug


print("grad without the tangent factor:", jax.jit(jax.grad(recip_log1pexp_no_tangent))(100.0))

# %% [markdown]
# A shorter form, `defjvps`, takes one function per argument. Each maps
# `(x_dot, primal_out, *primals)` to that argument's contribution to the output tangent,
# still multiplied by `x_dot`; JAX computes `primal_out` for you. For a custom sine it
# would read `custom_sin.defjvps(lambda x_dot, primal_out, x: jnp.cos(x) * x_dot)`.
#
# ### `jax.custom_vjp`
#
# Sometimes you would rather write the backward pass directly, for instance to choose which
# residuals to keep, or because the backward computation is naturally a different
# algorithm. A `custom_vjp` function takes two rules:
#
# - `fwd(*args)` returns `(output, residuals)`; the residuals are whatever `bwd` needs,
#   saved from the forward pass;
# - `bwd(residuals, cotangent)` returns a **tuple** with one cotangent per input of the
#   function.
#
# Here it is for $\tanh$, whose derivative $1 - \tanh^2$ can reuse the output as residual:

# %%
@jax.custom_vjp
def tanh_with_vjp(x):
    return jnp.tanh(x)


def _tanh_with_vjp_fwd(x):
    y = jnp.tanh(x)
    return y, y  # output, residuals


def _tanh_with_vjp_bwd(y, y_bar):
    return ((1.0 - y**2) * y_bar,)  # a tuple: one entry per input


tanh_with_vjp.defvjp(_tanh_with_vjp_fwd, _tanh_with_vjp_bwd)

print("grad:", jax.jit(jax.grad(tanh_with_vjp))(0.5), " expected:", 1 - np.tanh(0.5) ** 2)
print("vmap(grad):", jax.jit(jax.vmap(jax.grad(tanh_with_vjp)))(jnp.array([-1.0, 0.0, 1.0])))
try:
    jax.jvp(tanh_with_vjp, (0.5,), (1.0,))
except Exception as e:
    print(type(e).__name__, e)

# %% [markdown]
# The price of `custom_vjp`: forward mode is no longer available (`jax.jvp` and
# `jax.jacfwd` of the function raise `TypeError`), because JAX cannot turn a backward rule
# into a forward one. Reverse mode of higher order still works (`bwd` is ordinary JAX code,
# so `jax.grad(jax.grad(f))` and even `jax.hessian(f)` differentiate through it). Prefer
# `custom_jvp` when you can write a JVP; use `custom_vjp` when you need control over the
# backward pass.
#
# ### Example 2: a square root computed by a `while_loop`
#
# Heron's method (Newton's method for $y^2 = x$) iterates $y \leftarrow \tfrac12 (y + x / y)$.
# Here it is with `lax.while_loop` and a fixed number of iterations:

# %%
def while_loop_sqrt(x, y0=1.0, n_iter=10):
    def cond(carry):
        i, _ = carry
        return i < n_iter

    def body(carry):
        i, y = carry
        return i + 1, 0.5 * (y + x / y)

    _, y = lax.while_loop(cond, body, (0, y0))
    return y


print("sqrt(100) =", while_loop_sqrt(100.0))
print("forward mode (value, d/dx):", jax.jvp(while_loop_sqrt, (100.0,), (1.0,)))

# %% [markdown]
# Forward mode works: the tangent simply travels along with the loop carry. Reverse mode
# does not:

# %%
try:
    jax.grad(while_loop_sqrt)(100.0)
except Exception as e:
    print(type(e).__name__, e)

# %% [markdown]
# Why: the backward pass needs the carry of **every** iteration, in reverse order. A
# `while_loop` may run any number of times, decided at run time, while XLA must know the
# size of every buffer when it compiles. So JAX refuses reverse-mode differentiation of
# `lax.while_loop` (and of `lax.fori_loop` with bounds that are not static).
#
# Two ways out:
#
# 1. Make the number of iterations static: `lax.scan`, or `lax.fori_loop` with Python
#    integers as bounds (which JAX lowers to a `scan`). Reverse mode then stores every
#    iteration's carry and differentiates through the algorithm, step by step.
# 2. Give the derivative directly. The result $y$ satisfies $y^2 = x$; differentiating
#    that equation gives $2y\,dy = dx$, so $dy/dx = 1/(2y)$, whatever algorithm found $y$
#    and however many iterations it took. No intermediate of the loop is needed.

# %%
def fori_loop_sqrt(x, n_iter=10):
    return lax.fori_loop(0, n_iter, lambda i, y: 0.5 * (y + x / y), 1.0)


print("reverse mode through a static fori_loop:", jax.grad(fori_loop_sqrt)(100.0))

# %% [markdown]
# Option 2 with `custom_jvp`. The starting point and the iteration count are not things we
# differentiate with respect to (and `n_iter` must stay a Python integer), so we declare
# them with `nondiff_argnums`; they come **first** in the signature of the rule.

# %%
@partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def custom_jvp_while_loop_sqrt(x, y0=1.0, n_iter=10):
    return while_loop_sqrt(x, y0, n_iter)


@custom_jvp_while_loop_sqrt.defjvp
def _custom_jvp_while_loop_sqrt_jvp(y0, n_iter, primals, tangents):
    (x,) = primals
    (x_dot,) = tangents
    y = while_loop_sqrt(x, y0, n_iter)
    return y, x_dot / (2.0 * y)


print("grad at 100:", jax.grad(custom_jvp_while_loop_sqrt)(100.0))
print("vmap(grad): ", jax.vmap(jax.grad(custom_jvp_while_loop_sqrt))(jnp.array([4.0, 9.0, 16.0])))
sqrt_value, sqrt_pullback = jax.vjp(custom_jvp_while_loop_sqrt, 100.0)
print("vjp:", sqrt_value, sqrt_pullback(1.0))

# %% [markdown]
# The rule says nothing about the loop: it uses only the converged answer and the equation
# it satisfies. That idea (differentiate the equation a solver solves, not the solver's
# steps) is the *implicit function theorem*, and it is what the second exercise below asks
# you to generalise. Other places where custom rules pay off: numerically delicate
# formulas (as in Example 1), calls to external solvers or libraries that JAX cannot trace,
# and cheaper or more memory-friendly backward passes than the step-by-step one.
#
# ### Intermediate exercises
#
# First a reverse-mode rule for Example 1, then a differentiable fixed-point solver that
# generalises Example 2.

# %% [question custom_vjp]

# %% [question fixed_point]

# %% [markdown]
# ## Part 3 (Advanced): associative scans
#
# ### Prerequisites
#
# - Part 2 of this notebook.
# - `lax.scan` and `jax.jit`.
#
# ### Prefix sums
#
# Given a sequence $x_0, \dots, x_{n-1}$ and an **associative** binary operation $\oplus$
# ($(a \oplus b) \oplus c = a \oplus (b \oplus c)$), the *inclusive scan* or *prefix sum* is
#
# $$ y_i = x_0 \oplus x_1 \oplus \dots \oplus x_i, \qquad i = 0, \dots, n-1. $$
#
# With $\oplus = +$ it is the cumulative sum. The obvious loop computes $y_i = y_{i-1}
# \oplus x_i$: $n - 1$ steps, each waiting for the previous one, so its *depth* (the length
# of the longest chain of dependent operations) is $n$.
#
# Associativity allows regrouping, and thus a parallel algorithm:
#
# 1. combine neighbours in pairs, $x_0 \oplus x_1,\ x_2 \oplus x_3, \dots$ (all at once);
# 2. scan this half-length sequence recursively; that gives every other prefix;
# 3. fill in the remaining prefixes with one more combination each (again all at once).
#
# Each level halves the problem, so the depth is $O(\log n)$ while the total work stays
# $O(n)$. Commutativity is **not** needed: the operands are always combined in their
# original order. `jax.lax.associative_scan(fn, elems)` implements this; `fn(a, b)` must be
# associative, receives the earlier element as `a`, and works on whole arrays at once (it
# is applied to many pairs simultaneously).
#
# Here are the sequential definition, a `lax.scan` version and the associative one:

# %%
def sequential_prefix(binary_op, values):
    """The definition, as a plain Python loop (for reference only)."""
    out = [values[0]]
    for value in values[1:]:
        out.append(binary_op(out[-1], value))
    return np.array(out)


def scan_cumsum_demo(xs):
    def step(total, x):
        total = total + x
        return total, total

    _, totals = lax.scan(step, jnp.zeros((), xs.dtype), xs)
    return totals


def assoc_cumsum_demo(xs):
    return lax.associative_scan(jnp.add, xs)


demo_xs = jnp.arange(10.0)
print("python loop:     ", sequential_prefix(lambda a, b: a + b, np.arange(10.0)))
print("lax.scan:        ", jax.jit(scan_cumsum_demo)(demo_xs))
print("associative_scan:", jax.jit(assoc_cumsum_demo)(demo_xs))

# %% [markdown]
# ### What the associative scan traces to
#
# The jaxpr for $n = 8$ shows the algorithm: strided `slice`s pick even and odd elements,
# `add` combines them, the same happens on the half-length result, and `pad`s with
# interior padding interleave the partial results back into place. There is no loop
# primitive at all: the recursion is unrolled at trace time.

# %%
print(jax.make_jaxpr(assoc_cumsum_demo)(jnp.arange(8.0)))

# %% [markdown]
# Unrolling is affordable because the number of levels is $\log_2 n$: the number of
# equations grows with $\log n$, whereas a Python loop over the elements would give $O(n)$
# equations (and as many operations to compile). `lax.scan` stays at a single `scan`
# equation whatever $n$ is, but runs its body $n$ times in sequence.

# %%
for scan_length in [8, 64, 512, 4096]:
    length_sample = jnp.zeros(scan_length)
    assoc_eqns = len(jax.make_jaxpr(assoc_cumsum_demo)(length_sample).jaxpr.eqns)
    scan_eqns = len(jax.make_jaxpr(scan_cumsum_demo)(length_sample).jaxpr.eqns)
    print(f"n = {scan_length:5d}: associative_scan {assoc_eqns:4d} equations, "
          f"lax.scan {scan_eqns} equation")

# %% [markdown]
# ### Differentiating a scan
#
# The scan is built from slices, pads and the operation `fn`, all differentiable, so
# `jvp` and `vjp` go through it like any other code. The cumulative sum is linear,
# $y = L x$ with $L$ the lower-triangular matrix of ones, so:
#
# - the JVP with tangent $v$ is $L v$, the cumulative sum of $v$;
# - the VJP with cotangent $u$ is $L^\top u$: $L^\top$ is upper-triangular, so this is the
#   cumulative sum **from the end**. With $u = (1, \dots, 1)$ it gives $(n, n-1, \dots, 1)$:
#   $x_j$ appears in $n - j$ of the outputs.

# %%
@jax.jit
def cumsum_derivatives(xs, tangent, cotangent):
    _, jvp_out = jax.jvp(assoc_cumsum_demo, (xs,), (tangent,))
    _, pullback = jax.vjp(assoc_cumsum_demo, xs)
    (vjp_out,) = pullback(cotangent)
    reverse_scan = lax.associative_scan(jnp.add, cotangent, reverse=True)
    return jvp_out, vjp_out, reverse_scan


cumsum_jvp, cumsum_vjp, ones_reverse_scan = cumsum_derivatives(
    jnp.arange(5.0), jnp.ones(5), jnp.ones(5)
)
print("jvp with tangent of ones:   ", cumsum_jvp)
print("vjp with cotangent of ones: ", cumsum_vjp)
print("scan of ones, reverse=True: ", ones_reverse_scan)

# %% [markdown]
# `reverse=True` scans from the end: JAX flips the input along axis 0, scans with the same
# `fn` (its arguments are not swapped), and flips the result back.
#
# ### Beyond sums: pytrees and non-commutative operations
#
# The elements may be pytrees (tuples of arrays sharing the leading axis), and `fn` may be
# any associative operation, commutative or not. A classic example is the linear recurrence
# $h_t = a_t h_{t-1} + b_t$ with $h_{-1} = 0$. Each step is the affine map
# $h \mapsto a_t h + b_t$, and composing affine maps is associative (but not commutative):
# applying $(a_1, b_1)$ then $(a_2, b_2)$ gives $(a_2 a_1,\ a_2 b_1 + b_2)$. Scanning the
# pairs $(a_t, b_t)$ with this composition yields all the $h_t$ in $O(\log n)$ depth.

# %%
def compose_affine(earlier, later):
    a1, b1 = earlier
    a2, b2 = later
    return a2 * a1, a2 * b1 + b2


def recurrence_by_scan(a, b):
    def step(h, ab):
        h = ab[0] * h + ab[1]
        return h, h

    return lax.scan(step, jnp.zeros((), b.dtype), (a, b))[1]


def recurrence_by_assoc(a, b):
    _, h = lax.associative_scan(compose_affine, (a, b))
    return h


decay = jnp.array([0.5, 0.9, 1.1, 0.2, 0.7, 1.0])
drive = jnp.array([1.0, -2.0, 0.5, 3.0, 0.0, 1.5])
print("associative_scan:", jax.jit(recurrence_by_assoc)(decay, drive))
print("lax.scan:        ", jax.jit(recurrence_by_scan)(decay, drive))

# The gradients with respect to the decays agree as well.
decay_grad_assoc = jax.jit(jax.grad(lambda a: recurrence_by_assoc(a, drive).sum()))(decay)
decay_grad_scan = jax.jit(jax.grad(lambda a: recurrence_by_scan(a, drive).sum()))(decay)
print("gradients agree:", np.allclose(decay_grad_assoc, decay_grad_scan, rtol=1e-5))

# %% [markdown]
# ### Devices, and timing JAX code
#
# `jax.devices()` lists the devices of the default backend, and `jax.devices("cpu")` those
# of one platform. Asking for a platform that is not present (say `"gpu"` on a machine
# without one) raises a `RuntimeError`, so code that should run anywhere must catch it.
# To run on a particular device, put the data there with `jax.device_put(x, device)`
# (computations follow their inputs), or make it the default inside
# `with jax.default_device(device):`. The `device=` and `backend=` arguments of `jax.jit`
# that older tutorials use are deprecated.

# %%
print("devices:", jax.devices())
cpu_device = jax.devices("cpu")[0]
on_cpu = jax.device_put(jnp.arange(4.0), cpu_device)
print("array lives on:", on_cpu.devices())
with jax.default_device(cpu_device):
    print("created under default_device:", jnp.ones(2).devices())
try:
    jax.devices("gpu")
except RuntimeError as e:
    print(type(e).__name__, e)

# %% [markdown]
# Three facts to keep in mind when you time JAX code:
#
# - **Compilation**: the first call of a jitted function for a given input shape and dtype
#   traces and compiles it, which can take far longer than running it. Warm up first, and
#   time only later calls.
# - **Asynchronous dispatch**: a JAX call returns as soon as the work is queued, before the
#   result is computed. Call `.block_until_ready()` on the result (or
#   `jax.block_until_ready(tree)`) before you stop the clock.
# - **Noise**: single measurements vary; repeat and take the median.

# %%
timing_xs = jnp.arange(4096.0)
jitted_assoc_cumsum = jax.jit(assoc_cumsum_demo)

timer_start = time.perf_counter()
jitted_assoc_cumsum(timing_xs).block_until_ready()
first_call = time.perf_counter() - timer_start

timer_start = time.perf_counter()
jitted_assoc_cumsum(timing_xs).block_until_ready()
second_call = time.perf_counter() - timer_start

print(f"first call (trace + compile + run): {first_call * 1e3:8.2f} ms")
print(f"second call (run only):             {second_call * 1e3:8.2f} ms")

# %% [markdown]
# ### Advanced exercises
#
# First compare `lax.scan` and `lax.associative_scan` on the devices you have, then write
# your own parallel scan.
#
# Further reading: the JAX documentation pages "The Autodiff Cookbook", "Custom derivative
# rules for JAX-transformable Python functions" and "Asynchronous dispatch", and the
# Wikipedia article "Prefix sum".

# %% [question scan_timing]

# %% [question parallel_scan]
