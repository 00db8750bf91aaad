"""Q6 (parallel_scan), student stage: the programs to export from a submission.

Public: the combining functions handed to the student's ``associative_scan`` and the
shapes it is called with; the values are chosen in probes.py, in the clean stage.

The student's scan unrolls its log2(n) levels in Python, so every length is a concrete
shape (no symbolic one). Each target calls the scan on several inputs inside one program
(one export, one compilation); each target's program is also inspected (probes.py):
loops, library calls, and how the size grows from n = 64 to 1024, with every combining
function below, so that special-casing addition or multiplication gains nothing.
"""

import jax
import jax.numpy as jnp

from autograder import arg, target


def add(a, b):
    return a + b


def multiply(a, b):
    return a * b


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



def compose_packed(first, second):
    """The same recurrence with (a, b) packed as the two columns of one (k, 2) array: the columns
    play different parts, so flipping an axis other than 0 changes the result."""
    a1, b1, a2, b2 = first[..., :1], first[..., 1:], second[..., :1], second[..., 1:]
    return jnp.concatenate([a1 * a2, a2 * b1 + b2], axis=-1)

#: Combining functions by name, as probes.py names them.
COMBINE = {"add": add, "multiply": multiply, "matmul": matmul, "affine": compose_affine,
           "recurrence": compose_recurrence, "packed": compose_packed}

SUM_LENGTHS = (1, 2, 3, 6, 37, 129)
TRAILING_SHAPE = (5, 3)  # a leaf with a trailing dimension: the scan runs along axis 0 only
PRODUCT_LENGTHS = (1, 37)
VMAP_BATCH, VMAP_LENGTH, VMAP_REVERSE_LENGTH = 3, 37, 6
MATRIX_LENGTHS = (1, 6, 37)
AFFINE_LENGTHS = (1, 21)
RECURRENCE_LENGTHS = (1, 13)
RECURRENCE_WIDTH = 3
REVERSE_MATRIX_LENGTHS = (1, 37)
REVERSE_SUM_SHAPE = (8, 3)
PACKED_LENGTHS = (1, 19)  # compose_packed on (n, 2) arrays, forwards and with reverse=True
#: Lengths whose programs the growth check compares (log2: 6 and 10).
GROWTH_LENGTHS = (64, 1024)


def _scan(sub):
    return sub.function("associative_scan")


def _matrices(dtype, n):
    return arg(dtype, n, 2, 2)


def _affine(dtype, n):
    return (arg(dtype, n, 2, 2), arg(dtype, n, 2))


def _recurrence(dtype, n):
    return {"a": arg(dtype, n, RECURRENCE_WIDTH), "b": arg(dtype, n, RECURRENCE_WIDTH)}


@target(arg("float32", 10), arg("float32", 10))
def ten(sub):
    """The notebook's example: a running sum and a running product of ten numbers."""
    scan = _scan(sub)
    return lambda xs, ys: (scan(add, xs), scan(multiply, ys))


@target([arg("float32", n) for n in SUM_LENGTHS] + [arg("float32", *TRAILING_SHAPE)],
        [arg("float32", n) for n in PRODUCT_LENGTHS], vjp_order=1)
def any_length(sub):
    """Running sums for lengths 1 to 129 and a (5, 3) array; running products of lengths 1 and 37."""
    scan = _scan(sub)
    return lambda sums, products: ([scan(add, x) for x in sums], [scan(multiply, y) for y in products])


@target(arg("float32", VMAP_BATCH, VMAP_LENGTH), arg("float32", VMAP_BATCH, VMAP_REVERSE_LENGTH))
def vmapped(sub):
    """jax.vmap over a batch: running sums, and running products with reverse=True."""
    scan = _scan(sub)
    return jax.vmap(lambda x, y: (scan(add, x), scan(multiply, y, reverse=True)))


@target([_matrices("float64", n) for n in MATRIX_LENGTHS], x64=True, vjp_order=1)
def matrices(sub):
    """Running products x0 @ x1 @ ... @ xi of 2x2 matrices (not commutative)."""
    scan = _scan(sub)
    return lambda ms: [scan(matmul, m) for m in ms]


@target([_affine("float64", n) for n in AFFINE_LENGTHS], [_recurrence("float64", n) for n in RECURRENCE_LENGTHS],
        [arg("float64", n, 2) for n in PACKED_LENGTHS], x64=True)
def pytrees(sub):
    """fn combining pytrees: affine maps (M, v) as a tuple, a linear recurrence {a, b} as a dict,
    and as the columns of one array."""
    scan = _scan(sub)
    return lambda maps, recurrences, packed: ([scan(compose_affine, m) for m in maps],
                                              [scan(compose_recurrence, r) for r in recurrences],
                                              [scan(compose_packed, p) for p in packed])


@target([_matrices("float64", n) for n in REVERSE_MATRIX_LENGTHS], arg("float64", *REVERSE_SUM_SHAPE),
        _recurrence("float64", RECURRENCE_LENGTHS[-1]), [arg("float64", n, 2) for n in PACKED_LENGTHS], x64=True)
def reverse(sub):
    """reverse=True with a non-commutative fn, on leaves with a trailing dimension, and on a dict."""
    scan = _scan(sub)
    return lambda ms, xs, r, packed: ([scan(matmul, m, reverse=True) for m in ms], scan(add, xs, reverse=True),
                                      scan(compose_recurrence, r, reverse=True),
                                      [scan(compose_packed, p, reverse=True) for p in packed])


def _scan_with(sub, fn):
    scan = _scan(sub)
    return lambda elems: scan(fn, elems)


# The growth targets: one scan of each length with each kind of fn (one function each, so
# that the grader reads their names from this file without importing it).
GROWTH_FUNCTIONS = ("add", "matmul", "affine", "recurrence")


@target(arg("float32", 64))
def growth_add_64(sub):
    return _scan_with(sub, add)


@target(arg("float32", 1024))
def growth_add_1024(sub):
    return _scan_with(sub, add)


@target(_matrices("float32", 64))
def growth_matmul_64(sub):
    return _scan_with(sub, matmul)


@target(_matrices("float32", 1024))
def growth_matmul_1024(sub):
    return _scan_with(sub, matmul)


@target(_affine("float32", 64))
def growth_affine_64(sub):
    return _scan_with(sub, compose_affine)


@target(_affine("float32", 1024))
def growth_affine_1024(sub):
    return _scan_with(sub, compose_affine)


@target(_recurrence("float32", 64))
def growth_recurrence_64(sub):
    return _scan_with(sub, compose_recurrence)


@target(_recurrence("float32", 1024))
def growth_recurrence_1024(sub):
    return _scan_with(sub, compose_recurrence)
