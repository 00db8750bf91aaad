"""Plain data: what may cross from a worker to the grader, and nothing else."""

import json
import math

import numpy as np
import pytest

from autograder._internal.plain import NotPlainData, as_numpy, from_json, to_json, to_plain


def roundtrip(value):
    return from_json(to_json(to_plain(value)))


def test_numbers_strings_and_nesting_survive():
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": []}}
    assert roundtrip(value) == value


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "bool"])
def test_arrays_keep_dtype_shape_and_exact_values(dtype):
    array = (np.arange(12).reshape(3, 4) / 7).astype(dtype)
    back = roundtrip(array)
    assert back.dtype == array.dtype and back.shape == array.shape
    assert np.array_equal(back, array)


def test_non_finite_values_survive_in_arrays_and_alone():
    array = np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)
    back = roundtrip(array)
    assert np.isnan(back[0]) and back[1] == np.inf and back[2] == -np.inf
    assert math.isnan(float(roundtrip(float("nan"))))


def test_subclasses_and_objects_are_refused():
    class LyingFloat(float):
        def __eq__(self, other):
            return True

    class LyingArray(np.ndarray):
        pass

    class Liar:
        def __array__(self, dtype=None, copy=None):
            return np.zeros(3)

    for value in (LyingFloat(1.0), np.zeros(3).view(LyingArray), Liar(), np.array([object()]), {1: 2}):
        with pytest.raises(NotPlainData):
            to_plain(value)
    with pytest.raises(NotPlainData):
        as_numpy([1.0, 2.0])


@pytest.mark.parametrize("text", [
    '{"__ndarray__": {"dtype": "object", "shape": [1], "data": [1]}}',
    '{"__ndarray__": {"dtype": "float32", "shape": [3], "data": [1]}}',
    '{"__ndarray__": {"dtype": "float32", "shape": [1], "data": ["__import__(\'os\')"]}}',
    '{"__ndarray__": {"dtype": "float32", "shape": [-1], "data": []}}',
    "NaN",
    "[" * 100 + "]" * 100,
])
def test_malformed_worker_output_is_refused(text):
    with pytest.raises((NotPlainData, ValueError, RecursionError)):
        from_json(text)


def test_output_is_one_json_line():
    line = to_json(to_plain({"x": np.ones((2, 2)), "s": "a\nb"}))
    assert "\n" not in line and json.loads(line)


def test_arrays_travel_as_exact_bytes_and_malformed_bytes_are_refused():
    import base64

    import numpy as np

    from autograder._internal.plain import NotPlainData, from_json, to_json

    for array in (np.array([np.nan, np.inf, -0.0, 1e-300, 3.0]), np.arange(12, dtype=np.int32).reshape(3, 4),
                  np.array([True, False]), np.zeros((0, 3), np.float32)):
        back = from_json(to_json({"a": array}))["a"]
        assert back.dtype == array.dtype and back.shape == array.shape
        np.testing.assert_array_equal(back, array)
    short = base64.b64encode(b"\0" * 7).decode()
    for spec in ({"dtype": "float64", "shape": [1], "bytes": short},
                 {"dtype": "float64", "shape": [2], "bytes": "!!!"},
                 {"dtype": "object", "shape": [1], "bytes": short}):
        with pytest.raises(NotPlainData):
            from_json('{"x": {"__ndarray__": ' + __import__("json").dumps(spec) + "}}")
