"""Lazy public names for dermatwin's packages (PEP 562).

A package's ``__init__`` lists where each public name lives and gets a module
``__getattr__`` that imports the defining module on first access, so ``import dermatwin``
costs milliseconds and loads none of matplotlib, dask, emcee, libsbml...; the modules
that need them are imported when one of their names is used.

>>> import sys, types
>>> sys.modules["demo"] = types.ModuleType("demo")
>>> getattr_, dir_ = attach("demo", {"json": ["dumps"]})
>>> getattr_("dumps")({"a": 1})
'{"a": 1}'
>>> "dumps" in dir_()
True
>>> del sys.modules["demo"]
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import types
from collections.abc import Callable, Mapping, Sequence

#: libraries that cost seconds to import: ``import dermatwin``, ``--help`` and
#: ``--version`` load none of them (tests/test_imports.py, benchmarks/startup.py)
HEAVY = (
    "arviz",
    "dask",
    "distributed",
    "duckdb",
    "emcee",
    "fastapi",
    "libsbml",
    "matplotlib",
    "numba",
    "pandas",
    "pyarrow",
    "SALib",
    "scipy",
    "starlette",
    "sympy",
    "uvicorn",
    "xarray",
)


class _SubmoduleShadowGuard(types.ModuleType):
    """A package that exports a function named like one of its submodules (``twins.plan``).

    The import system binds an imported submodule as an attribute of its package
    (``twins.plan = <module>``); with lazy names that could happen before the function is
    first read, and the module would then hide it. Binding the function instead keeps
    ``from dermatwin.twins import plan`` the function, as the eager imports left it.
    """

    _shadowed: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: object) -> None:
        if (
            name in self._shadowed
            and isinstance(value, types.ModuleType)
            and value.__name__ == f"{self.__name__}.{name}"
        ):
            value = getattr(value, name)
        super().__setattr__(name, value)


def attach(
    package_name: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of the package ``package_name`` (being
    imported) whose public names are ``exports`` (defining module -> names it defines).

    A name is imported from its module on first access and then bound on the package
    (later reads are plain attribute reads). A submodule (``dermatwin.engine``) is also
    imported on first access, as ``import dermatwin`` used to bind them all.
    """
    package = sys.modules[package_name]
    where = {name: module for module, names in exports.items() for name in names}
    prefix = package.__name__ + "."
    shadowed = frozenset(n for n, module in where.items() if module == prefix + n)
    if shadowed:
        package.__class__ = type("LazyPackage", (_SubmoduleShadowGuard,), {"_shadowed": shadowed})

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module), name)
            setattr(package, name, value)
            return value
        if name in _submodules(package):
            return importlib.import_module(prefix + name)
        raise AttributeError(f"module {package.__name__!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(package)) | set(where))

    return __getattr__, __dir__


def _submodules(package: types.ModuleType) -> set[str]:
    """Names of the modules and packages inside ``package`` (none for a plain module)."""
    path = getattr(package, "__path__", None)
    return {info.name for info in pkgutil.iter_modules(path)} if path is not None else set()
