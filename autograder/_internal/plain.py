"""Plain data: the only values that cross from an untrusted worker to the grader.

A probe's result is turned into plain data inside the worker (``to_plain``) and
sent as JSON; the grader rebuilds it with ``from_json``, which accepts nothing
but JSON scalars, lists, string-keyed dicts and numeric arrays encoded as
``{"__ndarray__": ...}``. No pickles, no objects, no methods of the student's.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np

#: dtypes an array may have on the wire. Object, string and void arrays are refused.
ARRAY_DTYPES = frozenset(
    ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
     "uint64", "float16", "float32", "float64"]
)
_MAX_ARRAY_ELEMENTS = 1_000_000
_MAX_TEXT = 20_000
_MAX_DEPTH = 16


class NotPlainData(TypeError):
    """A value that cannot be sent to the grader (an object, a lying subclass, ...)."""


def describe_type(value: Any) -> str:
    """Name a value's type for a student-facing message, without calling its methods."""
    cls = type(value)
    module = cls.__module__
    return cls.__qualname__ if module in ("builtins", "__main__") else f"{module}.{cls.__qualname__}"


def _is_jax_array(value: Any) -> bool:
    # Exact class check: a student's subclass of a jax class is not trusted.
    cls = type(value)
    return cls.__module__.startswith("jaxlib") and cls.__name__ == "ArrayImpl"


def as_numpy(value: Any) -> np.ndarray:
    """Turn a genuine JAX/NumPy array or Python/NumPy number into a NumPy array.

    Only exact, known types are accepted; anything else (including subclasses
    that could override ``__array__`` or ``__eq__``) raises ``NotPlainData``.
    """
    cls = type(value)
    if cls is np.ndarray:
        array = value
    elif _is_jax_array(value):
        array = np.asarray(value)
    elif cls in (bool, int, float) or (isinstance(value, np.generic) and cls.__module__ == "numpy"):
        array = np.asarray(value)
    else:
        raise NotPlainData(f"got a {describe_type(value)}, expected a JAX or NumPy array or a number")
    if type(array) is not np.ndarray or array.dtype.name not in ARRAY_DTYPES:
        raise NotPlainData(f"got an array of dtype {array.dtype}, expected a numeric dtype")
    if array.size > _MAX_ARRAY_ELEMENTS:
        raise NotPlainData(f"got an array of {array.size} elements, more than {_MAX_ARRAY_ELEMENTS}")
    return array


def to_plain(value: Any, depth: int = 0) -> Any:
    """Convert a probe's return value to plain data, refusing anything else."""
    if depth > _MAX_DEPTH:
        raise NotPlainData("the value is nested too deeply")
    cls = type(value)
    if value is None or cls in (bool, int, str):
        if cls is str and len(value) > _MAX_TEXT:
            return value[:_MAX_TEXT]
        return value
    if cls is float:
        return value
    if cls in (list, tuple):
        return [to_plain(item, depth + 1) for item in value]
    if cls is dict:
        plain = {}
        for key, item in value.items():
            if type(key) is not str:
                raise NotPlainData(f"dict keys must be str, got {describe_type(key)}")
            plain[key] = to_plain(item, depth + 1)
        return plain
    return as_numpy(value)


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        # The raw little-endian bytes, base64: a fraction of the size of a JSON list, exact,
        # and rebuilt with np.frombuffer (no pickle).
        data = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<")).tobytes()
        return {"__ndarray__": {"dtype": value.dtype.name, "shape": list(value.shape),
                                "bytes": base64.b64encode(data).decode("ascii")}}
    if isinstance(value, float) and not math.isfinite(value):
        return _encode(np.asarray(value))  # a bare nan/inf travels as a 0-d array
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


def to_json(value: Any) -> str:
    """Serialise plain data (the output of ``to_plain``) as one line of JSON."""
    return json.dumps(_encode(value), allow_nan=False, separators=(",", ":"))


_SPECIAL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _decode_number(x: Any) -> float | int | bool:
    if type(x) in (int, float, bool):
        return x
    if type(x) is str and x in _SPECIAL:
        return _SPECIAL[x]
    raise NotPlainData(f"array element {x!r} is not a number")


def decode(value: Any, depth: int = 0) -> Any:
    """Rebuild plain data from parsed JSON, validating every piece (the sender is untrusted)."""
    if depth > _MAX_DEPTH + 2:
        raise NotPlainData("the value is nested too deeply")
    cls = type(value)
    if value is None or cls in (bool, int, float, str):
        return value
    if cls is list:
        return [decode(item, depth + 1) for item in value]
    if cls is not dict:
        raise NotPlainData(f"unexpected {cls.__name__} in worker output")
    if set(value) == {"__ndarray__"}:
        spec = value["__ndarray__"]
        if type(spec) is not dict or set(spec) not in ({"dtype", "shape", "data"}, {"dtype", "shape", "bytes"}):
            raise NotPlainData("malformed array in worker output")
        dtype, shape = spec["dtype"], spec["shape"]
        if dtype not in ARRAY_DTYPES or type(shape) is not list:
            raise NotPlainData("malformed array in worker output")
        if not all(type(n) is int and 0 <= n <= _MAX_ARRAY_ELEMENTS for n in shape) \
                or math.prod(shape) > _MAX_ARRAY_ELEMENTS:
            raise NotPlainData("malformed array shape in worker output")
        if "bytes" in spec:
            item = np.dtype(dtype).newbyteorder("<")
            if type(spec["bytes"]) is not str or len(spec["bytes"]) > 4 * (math.prod(shape) * item.itemsize + 2) // 3 + 4:
                raise NotPlainData("array data does not match its shape")
            try:
                raw = base64.b64decode(spec["bytes"], validate=True)
            except ValueError:
                raise NotPlainData("malformed array data in worker output") from None
            if len(raw) != math.prod(shape) * item.itemsize:
                raise NotPlainData("array data does not match its shape")
            return np.frombuffer(raw, dtype=item).astype(dtype).reshape(shape)
        data = spec["data"]
        if type(data) is not list or math.prod(shape) != len(data):
            raise NotPlainData("array data does not match its shape")
        return np.array([_decode_number(x) for x in data], dtype=dtype).reshape(shape)
    return {str(key): decode(item, depth + 1) for key, item in value.items()}


def from_json(line: str) -> Any:
    """Parse one line written by ``to_json`` (from an untrusted sender)."""
    return decode(json.loads(line, parse_constant=_reject_constant))


def _reject_constant(name: str) -> Any:
    raise NotPlainData(f"bare {name} is not allowed in worker output")
