"""Assertions for checks, with messages written for students.

Every helper takes ``(name, expected, actual)`` and checks structure before
values (type, then shape, then numbers), stopping at the first mismatch. A
failed value comparison reports how many elements differ, the largest errors
and a short table of the worst elements.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_TABLE_ROWS = 5


def _as_array(name: str, actual: Any) -> np.ndarray:
    if isinstance(actual, np.ndarray):
        return actual
    if type(actual) in (bool, int, float):
        return np.asarray(actual)
    if isinstance(actual, list):
        try:
            return np.asarray(actual, dtype=float)
        except (TypeError, ValueError):
            pass
    raise AssertionError(f"{name}: expected numbers, got {type(actual).__name__} {str(actual)[:80]!r}")


def _fmt(x: Any) -> str:
    return np.format_float_positional(x, precision=8, trim="-") if isinstance(x, (float, np.floating)) else str(x)


def assert_shape(name: str, expected_shape: tuple[int, ...], actual: Any) -> None:
    """``actual`` is an array (or number) of ``expected_shape``."""
    array = _as_array(name, actual)
    if tuple(array.shape) != tuple(expected_shape):
        raise AssertionError(f"{name}: wrong shape: got {tuple(array.shape)}, expected {tuple(expected_shape)}")


def assert_finite(name: str, actual: Any) -> None:
    """Every element of ``actual`` is finite (no nan, no inf)."""
    array = _as_array(name, actual).astype(float)
    bad = ~np.isfinite(array)
    if bad.any():
        where = [tuple(int(i) for i in idx) for idx in np.argwhere(bad)[:_TABLE_ROWS]] if array.ndim else []
        example = array[bad].ravel()[0]
        raise AssertionError(f"{name}: {int(bad.sum())} / {array.size} values are not finite "
                             f"(e.g. {example}{' at index ' + str(where[0]) if where else ''})")


def assert_close(name: str, expected: Any, actual: Any, *, rtol: float = 1e-5, atol: float = 1e-6,
                 equal_nan: bool = False) -> None:
    """``actual`` matches ``expected`` elementwise: ``|actual - expected| <= atol + rtol * |expected|``.

    Shapes must agree exactly (no broadcasting: a (3, 1) answer for a (3,) question is wrong).
    """
    want = _as_array(f"{name} (expected)", expected)
    got = _as_array(name, actual)
    if got.shape != want.shape:
        raise AssertionError(f"{name}: wrong shape: got {got.shape}, expected {want.shape}")
    want_f = want.astype(np.float64)
    got_f = got.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.isclose(got_f, want_f, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if close.all():
        return
    wrong = ~close
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        abs_err = np.abs(got_f - want_f)
        rel_err = abs_err / np.abs(want_f)
    lines = [f"{name}: {int(wrong.sum())} / {got.size} values differ from the expected ones "
             f"(rtol={rtol:g}, atol={atol:g})"]
    finite_abs = abs_err[wrong & np.isfinite(abs_err)]
    if finite_abs.size:
        finite_rel = rel_err[wrong & np.isfinite(rel_err)]
        lines[0] += f"; max abs error {finite_abs.max():.3g}" + (
            f", max rel error {finite_rel.max():.3g}" if finite_rel.size else "")
    if got.ndim == 0:
        lines.append(f"got {_fmt(got_f.item())}, expected {_fmt(want_f.item())}")
    else:
        order = np.argsort(-np.nan_to_num(np.where(wrong, abs_err, -1.0), nan=np.inf, posinf=np.inf), axis=None)
        lines.append("index | yours | expected")
        for flat in order[: min(_TABLE_ROWS, int(wrong.sum()))]:
            idx = np.unravel_index(flat, got.shape)
            lines.append(f"{tuple(int(i) for i in idx)} | {_fmt(got_f[idx])} | {_fmt(want_f[idx])}")
    raise AssertionError("\n".join(lines))


def assert_equal(name: str, expected: Any, actual: Any) -> None:
    """``actual == expected`` for plain values (strings, ints, lists); arrays must match exactly."""
    if isinstance(expected, np.ndarray) or isinstance(actual, np.ndarray):
        assert_close(name, expected, actual, rtol=0, atol=0)
        return
    if type(actual) is not type(expected) or actual != expected:
        raise AssertionError(f"{name}: got {actual!r:.120}, expected {expected!r:.120}")
