"""Finding a submission that replaced what the grader's student-stage code relies on.

Before the student's code is loaded, ``Baseline.take`` records the identity of every
attribute of the modules that exports and student-stage probes use (jax, numpy, time,
builtins, the grader's own modules, the questions' ``targets.py``), of a few jax
classes, and the code, defaults and closures of the grader's own functions.
``Baseline.changes`` lists what differs afterwards: a name rebound or deleted, a
module swapped in ``sys.modules``, a profiler hook set. New names (a submodule
imported later) are not changes.

This is a tripwire, not a wall: code in one interpreter can always hide from code in
the same interpreter (by restoring what it replaced before the check runs). It is why
the evidence that matters comes from exported programs, judged in the clean stage.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable

#: Modules whose attributes the student stage relies on, by name.
PROTECTED_MODULES = (
    "builtins", "time", "math", "statistics", "timeit", "functools", "inspect", "signal", "json",
    "numpy", "numpy.linalg", "numpy.testing",
    "jax", "jax.numpy", "jax.lax", "jax.export", "jax.tree_util", "jax.nn", "jax.random", "jax.core",
    "jax.extend.core", "jax.debug",
)
#: Single attributes of jax's internals that exports and probes use (their modules hold
#: state that changes for good reasons, so only these are watched).
INTERNAL_ATTRIBUTES = {
    "jax._src.export._export": ("export", "deserialize", "call_exported", "_check_module"),
    "jax._src.source_info_util": ("Transform", "Scope", "NameStack", "current_name_stack"),
    "jax._src.interpreters.ad": ("JVPTrace", "LinearizeTrace", "primitive_jvps", "primitive_transposes"),
    "jax._src.api": ("jit", "grad", "vjp", "jvp", "make_jaxpr", "vmap"),
    "jax._src.interpreters.mlir": ("make_ir_context",),
}
#: Attributes of ``sys`` the probes rely on (the rest, like sys.stdout, changes for good reasons).
SYS_ATTRIBUTES = ("setprofile", "getprofile", "settrace", "gettrace", "modules", "exit", "_getframe")
_SELF_PREFIXES = ("autograder", "autograder_targets_")


def _protected_module_names(extra: Iterable[str]) -> list[str]:
    own = [name for name in sys.modules if name.startswith(_SELF_PREFIXES)]
    return sorted({*PROTECTED_MODULES, *own, *extra})


def _function_state(fn: types.FunctionType) -> tuple:
    cells = tuple(_cell_contents(cell) for cell in fn.__closure__ or ())
    return (fn.__code__, fn.__defaults__, fn.__kwdefaults__, cells, fn.__globals__)


def _same_state(now: tuple, before: tuple) -> bool:
    code, defaults, kwdefaults, cells, namespace = now
    return (code is before[0] and defaults is before[1] and kwdefaults is before[2] and namespace is before[4]
            and len(cells) == len(before[3]) and all(a is b for a, b in zip(cells, before[3])))


def _cell_contents(cell) -> object:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


class Baseline:
    """Identities of what the grader's student-stage code relies on, at one moment."""

    def __init__(self, modules: dict[str, object], attributes: dict[str, dict[str, object]],
                 functions: dict[str, tuple], hooks: tuple):
        self._modules = modules
        self._attributes = attributes
        self._functions = functions
        self._hooks = hooks

    @classmethod
    def take(cls, extra_modules: Iterable[str] = ()) -> Baseline:
        modules, attributes, functions = {}, {}, {}
        for name in _protected_module_names(extra_modules):
            module = sys.modules.get(name)
            if module is None:
                continue
            modules[name] = module
            names = vars(module)
            attributes[name] = dict(names)
            if name.startswith(_SELF_PREFIXES):
                for attr, value in list(names.items()):
                    functions.update(_own_functions(f"{name}.{attr}", value, module))
        for name, attr_names in INTERNAL_ATTRIBUTES.items():
            module = sys.modules.get(name)
            if module is not None:
                modules.setdefault(name, module)
                attributes[name] = {attr: getattr(module, attr) for attr in attr_names if hasattr(module, attr)}
        attributes.update(_singles())
        return cls(modules, attributes, functions, (sys.getprofile(), sys.gettrace()))

    def restore(self) -> None:
        """Put back the watched module attributes, ``sys.modules`` and the hooks, so that the grader's
        own code can still report a tampered submission (with builtins replaced, it might not run).

        Written with attribute access and methods only: the builtins may be what was replaced."""
        for name, before in self._attributes.items():
            module = self._modules.get(name)
            if module is not None:
                module.__dict__.update(before)
        sys.__dict__.update(self._attributes.get("sys", {}))
        sys.modules.update(self._modules)
        sys.setprofile(self._hooks[0])
        sys.settrace(self._hooks[1])

    def changes(self, limit: int = 12) -> list[str]:
        """What differs from the baseline, as lines for the TA (at most ``limit``)."""
        found: list[str] = []
        for name, module in self._modules.items():
            if sys.modules.get(name) is not module:
                found.append(f"sys.modules[{name!r}] was replaced")
        current = {**{name: vars(module) for name, module in self._modules.items()}, **_singles()}
        missing = object()
        for owner, before in self._attributes.items():
            now = current.get(owner, {})
            for attr, value in before.items():
                if now.get(attr, missing) is missing:
                    found.append(f"{owner}.{attr} was deleted")
                elif now[attr] is not value:
                    found.append(f"{owner}.{attr} was replaced")
        for qualname, state in self._functions.items():
            fn = _resolve(qualname, self._modules)
            if fn is not None and not _same_state(_function_state(fn), state):
                found.append(f"the code, defaults or closure of {qualname} were changed")
        if (sys.getprofile(), sys.gettrace()) != self._hooks:
            found.append("a profiler or trace function was set (sys.setprofile / sys.settrace)")
        return found[:limit]



def _singles() -> dict[str, dict[str, object]]:
    """The watched attributes of ``sys`` and the methods of the watched jax classes, now."""
    singles = {"sys": {attr: getattr(sys, attr) for attr in SYS_ATTRIBUTES if hasattr(sys, attr)}}
    for cls_name, klass in _protected_classes():
        singles[cls_name] = dict(vars(klass))
    return singles


def _protected_classes():
    """jax classes whose methods exports and probes rely on."""
    classes = []
    try:
        import jax
        from jax._src.interpreters import ad
        from jax._src.export import _export

        classes = [("jax.custom_vjp", jax.custom_vjp), ("jax.custom_jvp", jax.custom_jvp),
                   ("jax.export.Exported", _export.Exported), ("ad.JVPTrace", ad.JVPTrace),
                   ("ad.LinearizeTrace", ad.LinearizeTrace)]
    except (ImportError, AttributeError):
        pass
    return classes


def _own_functions(qualname: str, value: object, module: types.ModuleType, depth: int = 0) -> dict[str, tuple]:
    """The grader's own functions reachable from a module attribute (methods of its classes too)."""
    found = {}
    if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
        found[qualname] = _function_state(value)
        wrapped = getattr(value, "__wrapped__", None)
        if isinstance(wrapped, types.FunctionType):
            found[qualname + ".__wrapped__"] = _function_state(wrapped)
    elif isinstance(value, type) and value.__module__ == module.__name__ and depth == 0:
        for attr, member in vars(value).items():
            found.update(_own_functions(f"{qualname}.{attr}", member, module, depth + 1))
    return found


def _resolve(qualname: str, modules: dict[str, object]) -> types.FunctionType | None:
    for name in sorted(modules, key=len, reverse=True):
        if qualname.startswith(name + "."):
            value: object = modules[name]
            for part in qualname[len(name) + 1:].split("."):
                value = vars(value).get(part) if hasattr(value, "__dict__") else None
                if value is None:
                    return None
            return value if isinstance(value, types.FunctionType) else None
    return None
