"""Q4 (fixed_point), clean stage: run the exported programs on the inputs, hidden ones included.

The maps' forms are in targets.py (public); their coefficients, matrices and starting
points are chosen here and reach the programs as arguments (``theta`` and ``x0``). The
same forms are written below in NumPy (float64), to judge the student's x* by its
residual x* - f(x*, theta) and to solve each problem exactly.

Termination. XLA loops cannot be interrupted (a probe that hangs costs its worker and a
retry), so the inputs keep the fixed points where the stopping rules the prompt asks for
(a step small relative to 1 + |x|, and a cap on the steps) terminate, and an absolute 1e-6
rule as well wherever float32 allows it: the maps are contractions everywhere
(|df/dx| <= 0.9, most <= 0.5) with fixed points in 0.003 <= |x*| <= 3 (the scalar ones
>= 0.1: away from 0 for purely relative rules; below 4 a float32 step of one or two ulps is
under 1e-6). Newton's iterates end in float32 cycles a few ulps wide: above x* ~ 4 these
can be wider than 1e-6 (with the grader's XLA flags, (x^2 + a) / (2x) cycles 1.9e-6 apart
at a = 400 and (2x^3 + a) / (3x^2) up to 2.9e-6 apart for a in [110, 500]), which only
an uncapped absolute rule, that the prompt warns against, cannot leave. The square roots
stay below 20 (a in [1e-6, 400]) and the cube roots below 8 (a in [1e-6, 500]: from
a ~ 513 on, even (2x + a/x^2) / 3 cycles 1.03e-6 apart).

Finite differences. Every derivative is also compared with finite differences of the
student's own value program along a direction d, with the stencil
(x(-2h) - 8 x(-h) + 8 x(h) - x(2h)) / (12 h). All theta are multiples of 2^-12 and all d
of 2^-4, with h = 2^-6 or 2^-7, so the stencil points are exact in float32. The allowed
gap is bounded, point by point, by (see ``_allowed``):
  - noise: the student's x* is not exact; with residual r = x - f(x) and a Lipschitz
    constant L < 1 of f, |x - x*| <= |r| / (1 - L) =: delta (computed here in float64 from
    the student's float32 x). The stencil turns errors delta_s into at most
    sum_s |w_s| delta_s / h, with |w| = (1, 8, 8, 1) / 12.
  - truncation: the stencil's own error, O(h^4), is measured on the exact (float64)
    solutions: E(h) ~ (16/15) |D(h) - D(h/2)|.
  - the derivative itself is computed in float32 at an x that is off by delta: a relative
    2e-3 covers the rounding of a solve with condition number (1 + L) / (1 - L) <= 19
    (~1e-5) and the shift |dJ/dx| delta (<= ~1e-4 here) with a wide margin.
  The allowance is twice noise plus truncation, plus that relative term and 1e-5. A wrong
  rule (missing (I - df/dx)^-1, wrong sign, untransposed) is off by 30% or more.
"""

from __future__ import annotations

import dataclasses
import itertools
import weakref
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from autograder import ProbeFailure, probe

QUANTUM = 2.0 ** -12
OFFSETS = np.array([-2.0, -1.0, 1.0, 2.0])
WEIGHTS = np.array([1.0, -8.0, 8.0, -1.0]) / 12.0


def _quantize(values) -> np.ndarray:
    return np.round(np.asarray(values, np.float64) / QUANTUM) * QUANTUM


def _log_uniform(seed, low, high, n):
    return np.exp(np.random.RandomState(seed).uniform(np.log(low), np.log(high), n))


# --- Newton's maps: the public inputs are easy ones a student can check by hand; the hidden ones
# cover 8.6 decades (Newton from x0 = 1 needs 12+ steps at their ends, more than the notebook's 10).
SQRT_A = {"public": np.array([0.25, 0.5, 2.0, 3.0, 9.0, 10.0, 42.0, 100.0], np.float32),
          "hidden": np.concatenate([[1e-6, 400.0], _log_uniform(41, 1e-6, 400.0, 46)]).astype(np.float32)}
CBRT_A = {"public": np.array([0.125, 0.5, 1.0, 2.0, 8.0, 27.0, 30.0, 100.0], np.float32),
          "hidden": np.concatenate([[1e-6, 500.0], _log_uniform(42, 1e-6, 500.0, 46)]).astype(np.float32)}


# --- The maps of targets.py, in NumPy (float64), batched over leading axes, and Lipschitz bounds in x.
def _cos(x, theta):
    return 0.5 * np.cos(x) + theta


def _slow(x, theta):
    return 0.9 * np.tanh(x) + theta


def _family(x, p):
    p = np.moveaxis(p, -1, 0)
    return p[0] * np.cos(p[1] * x + p[2]) + p[3] * np.tanh(p[4] * x + p[5]) + p[6] * x / (1.0 + x * x) + p[7]


def _family_lipschitz(p):
    # d/dx x / (1 + x^2) = (1 - x^2) / (1 + x^2)^2 lies in [-1/8, 1]
    return np.abs(p[..., 0] * p[..., 1]) + np.abs(p[..., 3] * p[..., 4]) + np.abs(p[..., 6])


def _coupled(x, theta):
    a, b, c = theta[..., :5], theta[..., 5], theta[..., 6]
    return np.tanh(np.einsum("...ij,...j->...i", a, x) + b) + c * np.cos(x)


def _coupled_lipschitz(theta):
    return np.linalg.norm(theta[..., :5], 2, axis=(-2, -1)) + np.abs(theta[..., 6]).max(axis=-1)


def _mixed(x, theta):
    w = theta[..., :9].reshape(theta.shape[:-1] + (3, 3))
    v = theta[..., 9:21].reshape(theta.shape[:-1] + (3, 4))
    return 0.5 * np.tanh(np.einsum("...ij,...j->...i", w, x) + np.einsum("...ij,...j->...i", v, theta[..., 21:]))


def _mixed_lipschitz(theta):
    return 0.5 * np.linalg.norm(theta[..., :9].reshape(theta.shape[:-1] + (3, 3)), 2, axis=(-2, -1))


def _solve(f, theta, x0, steps=400):
    """x* in float64 (every map here contracts by 0.9 or less: 0.9^400 ~ 5e-19)."""
    x = np.asarray(x0, np.float64)
    for _ in range(steps):
        x = f(x, theta)
    return x


def _stencil_points(centres, directions, h):
    """The (4, S, ...) points centre + s h d, s in OFFSETS."""
    shape = (len(OFFSETS),) + (1,) * np.ndim(centres)
    return centres[None] + OFFSETS.reshape(shape) * h * directions[None]


def _differences(values, h):
    """The stencil applied to values (4, S, ...) along the first axis."""
    return np.tensordot(WEIGHTS, values, axes=1) / h


@dataclasses.dataclass
class Problem:
    """A batch of fixed-point problems of one map: leading rows, then a stencil around some centres."""

    map64: Callable
    lipschitz: Callable
    leading: np.ndarray  # theta of the first rows
    leading_x0: np.ndarray
    centres: np.ndarray  # theta around which the stencil lies (S, ...)
    centres_x0: np.ndarray
    directions: np.ndarray
    h: float

    def __post_init__(self):
        def rows(leading, around):  # the leading rows, then the stencil's rows, offset by offset
            return np.concatenate([leading, around.reshape((-1,) + around.shape[2:])])

        offsets = len(OFFSETS)
        self.theta = rows(self.leading, _stencil_points(self.centres, self.directions, self.h))
        self.x0 = rows(self.leading_x0, np.broadcast_to(self.centres_x0, (offsets,) + self.centres_x0.shape))
        exact = [_solve(self.map64, _stencil_points(self.centres, self.directions, h),
                        np.broadcast_to(self.centres_x0, (offsets,) + self.centres_x0.shape))
                 for h in (self.h, self.h / 2)]
        self.exact_differences = _differences(exact[0], self.h)
        self.truncation = np.abs(self.exact_differences - _differences(exact[1], self.h / 2)) * 16 / 15
        if not (self.lipschitz(self.theta).max() < 0.95 and np.abs(_solve(self.map64, self.theta, self.x0)).max() < 4):
            raise ValueError("probe inputs out of range: a map that does not contract, or a fixed point beyond 4")

    @property
    def rows(self) -> int:
        return len(self.theta)

    @property
    def lead(self) -> int:
        return len(self.leading)

    def stencil_values(self, x):
        """The rows of x that belong to the stencil, as (4, S, ...)."""
        return np.asarray(x, np.float64)[self.lead:].reshape((len(OFFSETS),) + self.centres_x0.shape)

    def residual(self, x):
        x = np.asarray(x, np.float64)
        return x - self.map64(x, self.theta)

    def noise(self, x):
        """Bound on what the student's own errors contribute to the stencil, per centre."""
        residual = self.stencil_values(self.residual(x))
        lipschitz = self.lipschitz(self.theta)[self.lead:].reshape((len(OFFSETS), -1))
        size = np.sqrt((residual.reshape(residual.shape[:2] + (-1,)) ** 2).sum(axis=-1))
        delta = size / (1.0 - lipschitz)
        return np.tensordot(np.abs(WEIGHTS), delta, axes=1) / self.h


def _direction(rng, size):
    """A random direction with components in multiples of 2^-4 in [-1, 1] (exact stencil points)."""
    d = rng.randint(-16, 17, size) / 16.0
    return d if np.any(d) else np.ones(size)


def _make_scalar(map64, lipschitz_value, thetas, seed, h):
    rng = np.random.RandomState(seed)
    thetas = _quantize(thetas)
    x0 = _quantize(rng.uniform(-1.0, 1.0, len(thetas)))
    return Problem(map64, lambda t: np.full(np.shape(t), lipschitz_value), thetas, x0, thetas, x0,
                   np.ones_like(thetas), h)


def _make_family(seed=11, count=12, h=2.0 ** -6):
    """Maps x -> p0 cos(p1 x + p2) + p3 tanh(p4 x + p5) + p6 x / (1 + x^2) + p7 with L <= 0.5, |x*| in [0.1, 2.5]."""
    rng = np.random.RandomState(seed)
    params, x0s, directions = [], [], []
    while len(params) < count:
        share = rng.dirichlet([1.0, 1.0, 1.0]) * rng.uniform(0.2, 0.45)
        sign = rng.choice([-1.0, 1.0], 5)
        p0, p3 = sign[0] * rng.uniform(0.4, 1.0), sign[1] * rng.uniform(0.4, 1.0)
        p = _quantize([p0, sign[2] * share[0] / abs(p0), rng.uniform(-np.pi, np.pi), p3,
                       sign[3] * share[1] / abs(p3), rng.uniform(-1.0, 1.0), sign[4] * share[2],
                       rng.uniform(-1.5, 1.5)])
        x0 = _quantize(rng.uniform(-2.0, 2.0))
        d = _direction(rng, 8)
        points = np.concatenate([p[None], _stencil_points(p, d, h), _stencil_points(p, d, h / 2)])
        x = _solve(_family, points, np.full(len(points), x0))
        if _family_lipschitz(points).max() <= 0.5 and 0.1 <= np.abs(x).min() and np.abs(x).max() <= 2.5:
            params.append(p), x0s.append(x0), directions.append(d)
    params, x0s = np.array(params), np.array(x0s)
    return Problem(_family, _family_lipschitz, params, x0s, params, x0s, np.array(directions), h)


def _with_norm(matrix, norm):
    return matrix * (norm / np.linalg.norm(matrix, 2))


def _make_coupled(seed=7, count=5, h=2.0 ** -6):
    """theta = [A | b | c] with ||A||_2 <= 0.5, |c| <= 0.1; a stencil along three directions around the first."""
    rng = np.random.RandomState(seed)
    thetas, x0s = [], []
    while len(thetas) < count:
        a = _with_norm(rng.randn(5, 5), rng.uniform(0.3, 0.5))
        theta = _quantize(np.concatenate([a, rng.uniform(-1.0, 1.0, (5, 1)), rng.uniform(-0.1, 0.1, (5, 1))], 1))
        x0 = _quantize(rng.uniform(-0.5, 0.5, 5))
        if np.abs(_solve(_coupled, theta, x0)).min() >= 0.02:
            thetas.append(theta), x0s.append(x0)
    thetas, x0s = np.array(thetas), np.array(x0s)
    directions = rng.randint(-8, 9, (3, 5, 7)) / 16.0
    return Problem(_coupled, _coupled_lipschitz, thetas, x0s, np.repeat(thetas[:1], 3, 0),
                   np.repeat(x0s[:1], 3, 0), directions, h)


def _make_mixed(seed=8, count=3, h=2.0 ** -6):
    """x in R^3, theta = (W with ||W||_2 = 1, V, t) in R^25: a contraction by 0.5."""
    rng = np.random.RandomState(seed)
    w = _with_norm(rng.randn(3, 3), 1.0)
    v = rng.randn(3, 4)
    thetas = _quantize([np.concatenate([w.ravel(), v.ravel(), rng.randn(4)]) for _ in range(count)])
    x0s = _quantize(rng.uniform(-0.5, 0.5, (count, 3)))
    directions = rng.randint(-8, 9, (count, 25)) / 16.0
    return Problem(_mixed, _mixed_lipschitz, thetas, x0s, thetas, x0s, directions, h)


# Fixed points of the cos map lie in about [-2.4, 2.9], those of the slow map in [-1.5, 1.5]; both
# stay away from 0 over their stencils (the slow map's smaller step keeps theta's sign).
COS = _make_scalar(_cos, 0.5, [-2.1, -1.7, -1.3, -0.9, 0.55, 0.8, 1.1, 1.6, 2.2, 2.75, 3.3], 3, 2.0 ** -6)
SLOW = _make_scalar(_slow, 0.9, [-0.31, -0.17, -0.08, 0.05, 0.12, 0.23, 0.37], 5, 2.0 ** -7)
FAMILY = _make_family()
COUPLED = _make_coupled()
MIXED = _make_mixed()
_rng = np.random.RandomState(9)
COUPLED_COTANGENTS = np.concatenate([_rng.randn(COUPLED.lead, 5), np.zeros((COUPLED.rows - COUPLED.lead, 5))])
MIXED_COTANGENTS = np.concatenate([_rng.randn(MIXED.lead, 3), np.zeros((MIXED.rows - MIXED.lead, 3))])
SCALAR_COTANGENTS = {name: np.concatenate([np.ones(p.lead), np.zeros(p.rows - p.lead)])
                     for name, p in (("slow", SLOW), ("family", FAMILY))}

# Each fixed_point target and the arguments the probes give it (for the structure of what runs).
FIXED_POINT_TARGETS = {
    "fixed_point_cos": (np.float32(0.0), np.float32(0.0)),
    "fixed_point_slow_vmap": (SLOW.theta.astype(np.float32), SLOW.x0.astype(np.float32)),
    "fixed_point_family_vmap": (FAMILY.theta.astype(np.float32), FAMILY.x0.astype(np.float32)),
    "coupled_jacrev": (COUPLED.leading[0].astype(np.float32), COUPLED.leading_x0[0].astype(np.float32)),
    "coupled_vmap": (COUPLED.theta.astype(np.float32), COUPLED.x0.astype(np.float32)),
    "coupled_jvp": (COUPLED.leading[0].astype(np.float32), COUPLED.directions[0].astype(np.float32),
                    COUPLED.leading_x0[0].astype(np.float32)),
    "mixed_sizes_vmap": (MIXED.theta.astype(np.float32), MIXED.x0.astype(np.float32)),
}
DESCRIPTIONS = {
    "newton_sqrt": "jax.vmap(newton_sqrt)",
    "newton_cbrt": "jax.vmap(newton_cbrt)",
    "fixed_point_cos": "fixed_point(f, x0, theta) for f(x, theta) = 0.5 cos(x) + theta",
    "fixed_point_slow_vmap": "jax.vmap(fixed_point) for f(x, theta) = 0.9 tanh(x) + theta",
    "fixed_point_family_vmap": "jax.vmap(fixed_point) for scalar x and a vector theta of 8 coefficients",
    "coupled_jacrev": "jax.jacrev(fixed_point) for x in R^5 and a 5 x 7 matrix theta",
    "coupled_vmap": "jax.vmap(fixed_point) for x in R^5 and a 5 x 7 matrix theta",
    "coupled_jvp": "jax.jvp(fixed_point) for x in R^5 and a 5 x 7 matrix theta",
    "mixed_sizes_vmap": "jax.vmap(fixed_point) for x in R^3 and theta in R^25",
}


# --- Running the programs. A target's values and its VJP come from one compiled call, shared by the
# probes that read them (they run one after another on the same artifacts).
_RUNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _once(art, key: str, compute: Callable[[], Any]) -> Any:
    runs = _RUNS.setdefault(art, {})
    if key not in runs:
        try:
            runs[key] = (compute(), None)
        except ProbeFailure as exc:
            runs[key] = (None, (str(exc), exc.kind))
    value, error = runs[key]
    if error is not None:
        raise ProbeFailure(*error)
    return value


def _expect_shapes(art, name, args, shapes):
    """Fail with a message when the program's outputs are not shaped as the question says."""
    got = [tuple(aval.shape) for aval in art.variant(name, *args).exported.out_avals]
    if got != [tuple(s) for s in shapes]:
        raise ProbeFailure(f"{DESCRIPTIONS[name]} returns arrays of shapes {got}, expected "
                           f"{[tuple(s) for s in shapes]}: fixed_point(f, x0, theta) must return x* shaped like x0")


@dataclasses.dataclass
class Run:
    """A program's outputs on the probe inputs, and the VJP of a cotangent (or why there is none)."""

    outputs: Any
    input_cotangents: Any = None
    vjp_failure: tuple[str, str] | None = None

    def cotangents(self):
        if self.vjp_failure is not None:
            raise ProbeFailure(*self.vjp_failure)
        return self.input_cotangents


def _run_with_vjp(art, name, args, cotangent, shape):
    """The outputs of target ``name`` on ``args`` and the input cotangents of ``cotangent``, in one call
    (only the outputs when the student stage recorded that the program cannot be reverse-differentiated)."""
    args = tuple(np.asarray(a, np.float32) for a in args)
    _expect_shapes(art, name, args, [shape])
    function = art.function(name)
    vjp_error = art.variant(name, *args).vjp_error
    if vjp_error is not None:
        return Run(np.asarray(function(*args), np.float64), vjp_failure=(vjp_error, "exception"))

    def both(args, cotangent):
        out, pullback = jax.vjp(function, *args)
        return out, pullback(cotangent)

    out, cotangents = jax.jit(both)(args, np.asarray(cotangent, np.float32))
    return Run(np.asarray(out, np.float64), tuple(np.asarray(c, np.float64) for c in cotangents))


def _newton_run(art, name, inputs):
    a = np.concatenate([inputs["public"], inputs["hidden"]])
    return _once(art, name, lambda: _run_with_vjp(art, name, (a,), np.ones_like(a), a.shape))


def _cos_run(art):
    """fixed_point_cos at every row of COS, under jax.jit and lax.map, with jax.grad in theta."""
    def compute():
        theta, x0 = COS.theta.astype(np.float32), COS.x0.astype(np.float32)
        _expect_shapes(art, "fixed_point_cos", (theta[0], x0[0]), [()])
        function = art.function("fixed_point_cos")
        vjp_error = art.variant("fixed_point_cos", theta[0], x0[0]).vjp_error
        if vjp_error is not None:
            x = jax.jit(lambda t, z: jax.lax.map(lambda a: function(*a), (t, z)))(theta, x0)
            return Run(np.asarray(x, np.float64), vjp_failure=(vjp_error, "exception"))
        x, grad = jax.jit(lambda t, z: jax.lax.map(lambda a: jax.value_and_grad(function)(*a), (t, z)))(theta, x0)
        return Run(np.asarray(x, np.float64), (np.asarray(grad, np.float64),))

    return _once(art, "fixed_point_cos", compute)


def _slow_run(art):
    return _once(art, "slow", lambda: _run_with_vjp(art, "fixed_point_slow_vmap", (SLOW.theta, SLOW.x0),
                                                      SCALAR_COTANGENTS["slow"], (SLOW.rows,)))


def _family_run(art):
    return _once(art, "family", lambda: _run_with_vjp(art, "fixed_point_family_vmap", (FAMILY.theta, FAMILY.x0),
                                                        SCALAR_COTANGENTS["family"], (FAMILY.rows,)))


def _coupled_run(art):
    return _once(art, "coupled", lambda: _run_with_vjp(art, "coupled_vmap", (COUPLED.theta, COUPLED.x0),
                                                         COUPLED_COTANGENTS, (COUPLED.rows, 5)))


def _mixed_run(art):
    return _once(art, "mixed", lambda: _run_with_vjp(art, "mixed_sizes_vmap", (MIXED.theta, MIXED.x0),
                                                       MIXED_COTANGENTS, (MIXED.rows, 3)))


def _jacrev(art):
    def compute():
        args = FIXED_POINT_TARGETS["coupled_jacrev"]
        _expect_shapes(art, "coupled_jacrev", args, [(5, 5, 7)])
        return np.asarray(art.function("coupled_jacrev")(*args), np.float64)

    return _once(art, "coupled_jacrev", compute)


# --- Structure: what runs must iterate in a while loop whose condition looks at the iterates.
_COUNTING_OPS = frozenset({"stablehlo.constant", "stablehlo.compare", "stablehlo.and", "stablehlo.or",
                           "stablehlo.convert"})
_FLOAT_TYPES = ("f16", "bf16", "f32", "f64")


def _only_counts(op) -> bool:
    """Whether an operation of a loop condition could belong to a loop that runs a fixed number of steps:
    integer constants, counters compared as signed integers, and their conjunctions."""
    if op.name not in _COUNTING_OPS or any(t in rt for rt in op.result_types for t in _FLOAT_TYPES):
        return False
    return op.name != "stablehlo.compare" or \
        dict(op.attributes).get("compare_type") == "#stablehlo<comparison_type SIGNED>"


def _loops(program) -> dict:
    """How many stablehlo.while loops the program has, and how many stop on something other than a counter.

    A lax.scan or fori_loop (and a while_loop that only counts steps) lowers to a while loop whose
    condition compares integer counters; a loop that runs until converged computes its condition from
    the iterates (floating-point operations, or a flag the body set). The operations of a condition
    come right after its while, up to its first terminator.
    """
    operations = program.operations
    loops = converging = 0
    for index, op in enumerate(operations):
        if op.name == "stablehlo.while":
            loops += 1
            condition = itertools.takewhile(lambda o: o.name != "stablehlo.return", operations[index + 1:])
            converging += not all(_only_counts(o) for o in condition)
    return {"while": loops, "converging": converging}


def _structure(art, targets: dict) -> dict:
    out = {}
    for name, args in targets.items():
        try:
            out[name] = {**_loops(art.program(name, *args)), "what": DESCRIPTIONS[name]}
        except ProbeFailure as exc:
            out[name] = {"error": str(exc), "what": DESCRIPTIONS[name]}
    return out


@probe
def fixed_point_loops(art):
    """The loops of every program built on fixed_point (one per map, shape and transformation)."""
    return _structure(art, FIXED_POINT_TARGETS)


@probe
def newton_loops(art):
    return _structure(art, {"newton_sqrt": (np.concatenate([SQRT_A["public"], SQRT_A["hidden"]]),),
                            "newton_cbrt": (np.concatenate([CBRT_A["public"], CBRT_A["hidden"]]),)})


# --- Newton's maps.
def _split(values, inputs):
    k = len(inputs["public"])
    return {"public": values[:k], "hidden": values[k:]}


@probe
def newton_sqrt_values(art):
    return _split(_newton_run(art, "newton_sqrt", SQRT_A).outputs, SQRT_A)


@probe
def newton_cbrt_values(art):
    return _split(_newton_run(art, "newton_cbrt", CBRT_A).outputs, CBRT_A)


@probe
def newton_sqrt_grads(art):
    return _split(_newton_run(art, "newton_sqrt", SQRT_A).cotangents()[0], SQRT_A)


@probe
def newton_cbrt_grads(art):
    return _split(_newton_run(art, "newton_cbrt", CBRT_A).cotangents()[0], CBRT_A)


# --- Maps the student never saw.
@probe
def unseen_scalar_grads(art):
    """dx*/dtheta for scalar x: 0.5 cos(x) + theta by jax.grad (scalar theta), and the map family by the VJP
    of its vmapped program (the gradient with respect to all 8 coefficients)."""
    return {"cos": _cos_run(art).cotangents()[0][:COS.lead],
            "family": _family_run(art).cotangents()[0][:FAMILY.lead]}


@probe
def matrix_theta_jacrev(art):
    """The (5, 5, 7) Jacobian of x*(theta) for x = tanh(A x + b) + c cos(x), theta = [A | b | c]."""
    return _jacrev(art)


@probe
def mixed_shapes_vjp(art):
    """x* and the VJP of cotangents under vmap: x in R^3 with theta in R^25, x in R^5 with a 5 x 7 theta."""
    mixed, coupled = _mixed_run(art), _coupled_run(art)
    return {"x": mixed.outputs[:MIXED.lead], "coupled_x": coupled.outputs[:COUPLED.lead],
            "vjp": mixed.cotangents()[0][:MIXED.lead], "coupled_vjp": coupled.cotangents()[0][:COUPLED.lead]}


@probe
def unseen_map_residuals(art):
    """x* and x* - f(x*, theta) (float64) for every problem of every map, centres and stencils."""
    out = {}
    for key, problem, run in (("cos", COS, _cos_run), ("slow", SLOW, _slow_run), ("family", FAMILY, _family_run),
                              ("coupled", COUPLED, _coupled_run), ("mixed", MIXED, _mixed_run)):
        x = run(art).outputs
        with np.errstate(all="ignore"):
            out[key] = {"x": x, "residual": problem.residual(x)}
    return out


# theta = 1, x0 = 0: the iterates of x <- theta - x are 0, 1, 0, 1, ... and no step is ever small.
# Vectors of 256, so that a loop whose counter never reaches its cap (one that counts down until
# the int32 wraps around, after 2^31 steps) cannot finish within the probe's time either.
ALTERNATING = (np.ones(256, np.float32), np.zeros(256, np.float32))


@probe(timeout=10.0)
def never_converging(art):
    """fixed_point on a map whose iterates never converge: it returns only if its loop caps the steps.
    Without a cap the loop runs until the probe's time is up (an XLA loop cannot be interrupted).
    Ten seconds are more than three million steps of this map at XLA's cheapest settings: far more
    than any cap a loop needs, and far fewer than the 2^31 of a counter that wraps around."""
    _expect_shapes(art, "fixed_point_alternating", ALTERNATING, [ALTERNATING[0].shape])
    return {"x": np.asarray(art.function("fixed_point_alternating")(*ALTERNATING), np.float64)}


def _allowed(problem, x, exact_scale):
    """What may separate a derivative from the finite differences of its values (module docstring)."""
    truncation = problem.truncation.reshape(len(problem.centres), -1)
    noise = problem.noise(x)[:, None]
    return 2.0 * (noise + truncation) + 2e-3 * np.abs(exact_scale) + 1e-5


def _direct(problem, x, derivative):
    """derivative (S, ...) along each centre's direction against the stencil of x."""
    with np.errstate(all="ignore"):
        differences = _differences(problem.stencil_values(x), problem.h)
        allowed = _allowed(problem, x, problem.exact_differences.reshape(len(problem.centres), -1))
    return {"derivative": np.asarray(derivative, np.float64), "differences": differences,
            "allowed": allowed.reshape(differences.shape)}


def _projected(problem, x, theta_bar, cotangents):
    """<theta_bar, d> against <u, stencil of x> for the cotangent u of each centre (S,)."""
    axes = tuple(range(1, problem.directions.ndim))
    u = cotangents.reshape(len(problem.centres), -1)
    with np.errstate(all="ignore"):
        differences = _differences(problem.stencil_values(x), problem.h).reshape(len(problem.centres), -1)
        u_norm = np.sqrt((u ** 2).sum(axis=1))
        truncation = np.sqrt((problem.truncation.reshape(len(problem.centres), -1) ** 2).sum(axis=1))
        exact = np.sqrt((problem.exact_differences.reshape(len(problem.centres), -1) ** 2).sum(axis=1))
        allowed = u_norm * (2.0 * (problem.noise(x) + truncation) + 2e-3 * exact) + 1e-5
        return {"derivative": (theta_bar * problem.directions).sum(axis=axes),
                "differences": (u * differences).sum(axis=1), "allowed": allowed}


@probe
def finite_differences(art):
    """Every reverse-mode derivative against finite differences of the same submission's values."""
    cos, slow, family = _cos_run(art), _slow_run(art), _family_run(art)
    coupled, mixed = _coupled_run(art), _mixed_run(art)
    jacobian = _jacrev(art)
    return {
        "cos": _direct(COS, cos.outputs, cos.cotangents()[0][:COS.lead]),
        "slow": _direct(SLOW, slow.outputs, slow.cotangents()[0][:SLOW.lead]),
        "family": _projected(FAMILY, family.outputs, family.cotangents()[0][:FAMILY.lead], np.ones(FAMILY.lead)),
        "coupled_jacrev": _direct(COUPLED, coupled.outputs, np.einsum("ijk,sjk->si", jacobian, COUPLED.directions)),
        "coupled_vjp": _projected(COUPLED, coupled.outputs,
                                  np.repeat(coupled.cotangents()[0][:1], len(COUPLED.centres), 0),
                                  np.repeat(COUPLED_COTANGENTS[:1], len(COUPLED.centres), 0)),
        "mixed_vjp": _projected(MIXED, mixed.outputs, mixed.cotangents()[0][:MIXED.lead],
                                MIXED_COTANGENTS[:MIXED.lead]),
    }


@probe
def forward_mode(art):
    """jax.jvp of x*(theta) along the first stencil direction, and the finite differences of the values there."""
    args = FIXED_POINT_TARGETS["coupled_jvp"]
    _expect_shapes(art, "coupled_jvp", args, [(5,), (5,)])
    _, tangent = art.function("coupled_jvp")(*args)
    fd = _direct(COUPLED, _coupled_run(art).outputs, np.zeros((len(COUPLED.centres), 5)))
    return {"tangent": np.asarray(tangent, np.float64), "differences": fd["differences"][0],
            "allowed": fd["allowed"][0]}
