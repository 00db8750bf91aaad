"""Probes for Q6 (parallel_scan): they run next to the student's code and return plain data.

Every value probe jits one function that scans several inputs at once (one compilation per
probe). The float32 inputs are small integers and signed powers of two, so sums and products
are exact whatever order a correct algorithm combines them in; the non-commutative and
gradient probes run in float64, where reordering changes values by ~1e-15 only.
"""

import inspect
import sys

import jax
import jax.numpy as jnp
import numpy as np

from autograder import ProbeFailure, primitive_counts, probe

ANY_LENGTHS = [1, 2, 3, 6, 37, 129]
PRODUCT_LENGTHS = [37]
MATRIX_LENGTHS = [6, 37]
REVERSE_LENGTHS = [37]
GROWTH_LENGTHS = [64, 512, 4096]
# Primitives of sequential loops and of the library's cumulative reductions.
SEQUENTIAL_PRIMITIVES = ("scan", "while", "cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp")


def add(a, b):
    return a + b


def multiply(a, b):
    return a * b


# The combining functions use operators only, so that they work on NumPy arrays too
# (for the sequential loop that computes a second expected value without JAX).


def matmul(a, b):
    """Products of batches of matrices: (k, d, d) @ (k, d, d). Not commutative."""
    return a @ b


def compose_affine(first, second):
    """(M1, v1) then (M2, v2): x -> M2 (M1 x + v1) + v2 = (M2 M1) x + (M2 v1 + v2)."""
    m1, v1 = first
    m2, v2 = second
    return m2 @ m1, (m2 @ v1[..., None])[..., 0] + v2


def compose_recurrence(first, second):
    """The linear recurrence h <- a h + b, composed: (a1, b1) then (a2, b2) = (a1 a2, a2 b1 + b2)."""
    return {"a": first["a"] * second["a"], "b": second["a"] * first["b"] + second["b"]}


def compose_recurrence_tuple(first, second):
    a1, b1 = first
    a2, b2 = second
    return a1 * a2, a2 * b1 + b2


def _rng(seed):
    return np.random.RandomState(seed)


def _small_integers(rng, n):
    return rng.randint(-5, 6, size=n).astype(np.float32)


def _signed_powers_of_two(rng, n):
    return (rng.choice([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0], size=n)).astype(np.float32)


def _near_rotations(rng, n, d=2):
    """Matrices close to rotations, so that long products neither blow up nor vanish."""
    angles = rng.uniform(-np.pi, np.pi, size=n)
    rotations = np.zeros((n, d, d))
    rotations[:, 0, 0] = rotations[:, 1, 1] = np.cos(angles)
    rotations[:, 0, 1], rotations[:, 1, 0] = -np.sin(angles), np.sin(angles)
    return rotations + 0.1 * rng.randn(n, d, d)


def sequential(fn, elems, reverse=False):
    """The notebook's sequential loop, in NumPy: result i = fn(result i-1, element i).

    It computes, in the reference run, a second expected value that does not depend on
    the reference's parallel algorithm. ``elems`` is an array, a tuple or a dict of arrays.
    """
    if isinstance(elems, dict):
        keys = sorted(elems)
        out = sequential(lambda a, b: tuple(fn(dict(zip(keys, a)), dict(zip(keys, b)))[k] for k in keys),
                         tuple(elems[k] for k in keys), reverse)
        return dict(zip(keys, out))
    if not isinstance(elems, tuple):
        return sequential(lambda a, b: (fn(a[0], b[0]),), (elems,), reverse)[0]
    leaves = [np.asarray(leaf)[::-1] if reverse else np.asarray(leaf) for leaf in elems]
    results = [leaf.copy() for leaf in leaves]
    state = tuple(leaf[:1] for leaf in leaves)
    for i in range(1, len(leaves[0])):
        state = tuple(np.asarray(s) for s in fn(state, tuple(leaf[i:i + 1] for leaf in leaves)))
        for result, s in zip(results, state):
            result[i] = s[0]
    return tuple(result[::-1] if reverse else result for result in results)


def _array(sub, value, what, shape):
    array = sub.array(value, what)
    if array.shape != tuple(shape):
        raise ProbeFailure(f"{what} has shape {array.shape}, expected {tuple(shape)} (the shape of the input)")
    return array


def _pair(sub, value, what, shapes):
    """A scan result for a 2-tuple pytree, as a list of two arrays."""
    if type(value) not in (tuple, list) or len(value) != 2:
        raise ProbeFailure(f"{what} should be a pytree like its input (a tuple of 2 arrays), "
                           f"but it is {type(value).__name__}")
    return [_array(sub, item, f"{what}[{i}]", shape) for i, (item, shape) in enumerate(zip(value, shapes))]


def _dict(sub, value, what, shapes):
    if type(value) is not dict or set(value) != set(shapes):
        raise ProbeFailure(f"{what} should be a pytree like its input (a dict with keys {sorted(shapes)}), "
                           f"but it is {type(value).__name__}")
    return {key: _array(sub, value[key], f"{what}[{key!r}]", shapes[key]) for key in sorted(shapes)}


@probe
def sum_and_product_of_ten(sub):
    """The notebook's example, the running sum of 0, 1, ..., 9, and a running product."""
    scan = sub.function("associative_scan")
    xs = np.arange(10.0, dtype=np.float32)
    ys = np.asarray([1.0, -2.0, 0.5, 2.0, 1.0, -1.0, 2.0, 0.5, -2.0, 2.0], np.float32)
    sums, products = jax.jit(lambda xs, ys: (scan(add, xs), scan(multiply, ys)))(xs, ys)
    return {"scan": {"sum": _array(sub, sums, "associative_scan(add, jnp.arange(10.))", (10,)),
                     "product": _array(sub, products, "associative_scan(multiply, ys)", (10,))},
            "sequential": {"sum": sequential(add, xs), "product": sequential(multiply, ys)}}


@probe
def any_length(sub):
    """Running sums for lengths 1 to 129 (powers of two and not), and running products."""
    scan = sub.function("associative_scan")
    rng = _rng(6)
    sums_in = [_small_integers(rng, n) for n in ANY_LENGTHS]
    products_in = [_signed_powers_of_two(rng, n) for n in PRODUCT_LENGTHS]
    sums, products = jax.jit(lambda s, p: ([scan(add, x) for x in s], [scan(multiply, x) for x in p]))(
        sums_in, products_in)
    return {"scan": {"sums": [_array(sub, out, f"associative_scan(add, x) for len(x) = {n}", (n,))
                              for out, n in zip(sums, ANY_LENGTHS)],
                     "products": [_array(sub, out, f"associative_scan(multiply, x) for len(x) = {n}", (n,))
                                  for out, n in zip(products, PRODUCT_LENGTHS)]},
            "sequential": {"sums": [sequential(add, x) for x in sums_in],
                           "products": [sequential(multiply, x) for x in products_in]}}


@probe(x64=True)
def matrix_products(sub):
    """Running products of 2x2 matrices (not commutative): result i is x0 @ x1 @ ... @ xi."""
    scan = sub.function("associative_scan")
    rng = _rng(61)
    inputs = [_near_rotations(rng, n) for n in MATRIX_LENGTHS]
    outputs = jax.jit(lambda ms: [scan(matmul, m) for m in ms])(inputs)
    return {"scan": [_array(sub, out, f"associative_scan(matmul, x) for x of shape ({n}, 2, 2)", (n, 2, 2))
                     for out, n in zip(outputs, MATRIX_LENGTHS)],
            "sequential": [sequential(matmul, m) for m in inputs]}


@probe(x64=True)
def pytrees(sub):
    """fn combining pytrees: affine maps (M, v) as a tuple; a linear recurrence (a, b) as a dict."""
    scan = sub.function("associative_scan")
    rng = _rng(62)
    affine = (_near_rotations(rng, 21), rng.randn(21, 2))
    recurrence = {"a": rng.uniform(0.5, 1.2, size=(13, 3)), "b": rng.randn(13, 3)}
    maps, states = jax.jit(lambda f, r: (scan(compose_affine, f), scan(compose_recurrence, r)))(affine, recurrence)
    return {"scan": {"affine": _pair(sub, maps, "associative_scan(compose_affine, (M, v))", [(21, 2, 2), (21, 2)]),
                     "recurrence": _dict(sub, states, "associative_scan(compose_recurrence, {'a': a, 'b': b})",
                                         {"a": (13, 3), "b": (13, 3)})},
            "sequential": {"affine": list(sequential(compose_affine, affine)),
                           "recurrence": sequential(compose_recurrence, recurrence)}}


@probe(x64=True)
def reverse(sub):
    """reverse=True with a non-commutative fn (matrix products), so that swapped arguments show."""
    scan = sub.function("associative_scan")
    rng = _rng(63)
    matrices = [_near_rotations(rng, n) for n in REVERSE_LENGTHS]
    products = jax.jit(lambda ms: [scan(matmul, m, reverse=True) for m in ms])(matrices)
    return {"scan": [_array(sub, out, f"associative_scan(matmul, x, reverse=True) for x of shape ({n}, 2, 2)",
                            (n, 2, 2)) for out, n in zip(products, REVERSE_LENGTHS)],
            "sequential": [sequential(matmul, m, reverse=True) for m in matrices]}


@probe(x64=True)
def gradients(sub):
    """jax.grad through the scan: of the sums of running sums, products and matrix products."""
    scan = sub.function("associative_scan")
    rng = _rng(64)
    x, y, m = rng.randn(9), rng.uniform(0.5, 1.5, size=19), _near_rotations(rng, 13)

    def loss(x, y, m):  # three independent terms: its gradient holds each term's gradient
        return jnp.sum(scan(add, x)) + jnp.sum(scan(multiply, y)) + jnp.sum(scan(matmul, m))

    of_sum, of_product, of_matrices = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(x, y, m)
    return {"sum": _array(sub, of_sum, "jax.grad of sum(associative_scan(add, x))", (9,)),
            "product": _array(sub, of_product, "jax.grad of sum(associative_scan(multiply, y))", (19,)),
            "matrices": _array(sub, of_matrices, "jax.grad of sum(associative_scan(matmul, m))", (13, 2, 2))}


@probe
def sequential_primitives(sub):
    """The loop and cumulative primitives in the traced programs (sub-jaxprs included).

    Powers of two only, and arrays first: a scan that fails for other lengths or for pytrees
    loses its points in the checks of those, not here. A pytree trace that raises is skipped.
    """
    scan = sub.function("associative_scan")
    rng = _rng(65)
    traces = [
        primitive_counts(lambda x: scan(add, x), _small_integers(rng, 64)),
        primitive_counts(lambda m: scan(matmul, m, reverse=True), _near_rotations(rng, 32).astype(np.float32)),
    ]
    try:
        traces.append(primitive_counts(lambda a, b: scan(compose_recurrence_tuple, (a, b)),
                                       np.ones(16, np.float32), np.zeros(16, np.float32)))
    except Exception:  # the pytree checks report it
        pass
    return sorted({name for counts in traces for name in counts if name in SEQUENTIAL_PRIMITIVES})


def _library_code():
    return inspect.unwrap(jax.lax.associative_scan).__code__


@probe
def library_scan_calls(sub):
    """Whether tracing the student's scan calls jax.lax.associative_scan (under any alias)."""
    value = sub.get("associative_scan")
    scan = sub.function("associative_scan")
    target = _library_code()
    calls = []

    def spy(frame, event, arg):
        if event == "call" and frame.f_code is target:
            calls.append(1)

    jax.clear_caches()  # a jitted function traced by an earlier probe must be traced again
    previous = sys.getprofile()
    sys.setprofile(spy)
    try:
        jax.make_jaxpr(lambda x: scan(add, x))(np.arange(16.0, dtype=np.float32))
        jax.make_jaxpr(lambda m: scan(matmul, m, reverse=True))(np.ones((8, 2, 2), np.float32))
        try:
            jax.make_jaxpr(lambda a, b: scan(compose_recurrence_tuple, (a, b)))(
                np.ones(8, np.float32), np.zeros(8, np.float32))
        except Exception:  # the pytree checks report it
            pass
    finally:
        sys.setprofile(previous)
    library = (jax.lax.associative_scan, inspect.unwrap(jax.lax.associative_scan))
    return {"is_library": any(value is function for function in library), "calls": len(calls)}


@probe
def equation_counts(sub):
    """How many jaxpr equations (sub-jaxprs included) the scan of n numbers traces to, for n = 64, 512, 4096."""
    scan = sub.function("associative_scan")
    return [sum(primitive_counts(lambda x: scan(add, x), np.zeros(n, np.float32)).values())
            for n in GROWTH_LENGTHS]
