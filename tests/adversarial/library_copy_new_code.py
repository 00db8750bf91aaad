# calls a copy of jax.lax.associative_scan rebuilt with a new __code__, so that a spy on its code misses it
# TWIN: twins/library_scan.py
import inspect
import types

import jax

_library = inspect.unwrap(jax.lax.associative_scan)
_copy = types.FunctionType(_library.__code__.replace(co_name="my_scan"), _library.__globals__, "my_scan",
                           _library.__defaults__, _library.__closure__)
_copy.__kwdefaults__ = _library.__kwdefaults__


def associative_scan(fn, elems, reverse=False):
    return _copy(fn, elems, reverse=reverse)
