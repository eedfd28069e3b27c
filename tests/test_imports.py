"""A fast start: ``import dermatwin``, ``dermatwin --help`` and ``--version`` load no heavy
library, and every public name still resolves (lazily, PEP 562: :mod:`dermatwin._lazy`).

Each start is a fresh interpreter run with ``-X importtime``, which lists every module the
process imported: the check sees the real entry point, and a module imported anywhere (a
package ``__init__``, an option declaration) shows.
"""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dermatwin
from dermatwin._lazy import HEAVY

PACKAGE = Path(dermatwin.__file__).parent


def heavy_imports(*args: str) -> tuple[list[str], subprocess.CompletedProcess]:
    """The heavy libraries that ``python -X importtime ARGS`` imported, and the run."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    imported = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    return sorted(imported.intersection(HEAVY)), proc


def test_import_dermatwin_loads_no_heavy_library():
    heavy, proc = heavy_imports("-c", "import dermatwin")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert heavy == []


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_cli_help_and_version_load_no_heavy_library(flag):
    heavy, proc = heavy_imports("-m", "dermatwin.cli", flag)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert heavy == []
    if flag == "--version":
        assert proc.stdout.strip() == dermatwin.__version__
    else:
        assert "Usage" in proc.stdout and "--version" in proc.stdout


def lazy_packages() -> list[str]:
    """Every package of dermatwin whose ``__init__`` declares ``__all__``."""
    names = []
    for init in sorted(PACKAGE.rglob("__init__.py")):
        tree = ast.parse(init.read_text())
        if any(
            isinstance(node, ast.Assign)
            and any(getattr(t, "id", "") == "__all__" for t in node.targets)
            for node in tree.body
        ):
            parts = init.parent.relative_to(PACKAGE.parent).parts
            names.append(".".join(parts))
    return names


def type_checking_imports(package: str) -> dict[str, str]:
    """name -> defining module, from the ``if TYPE_CHECKING:`` block of ``package``."""
    init = PACKAGE.parent.joinpath(*package.split("."), "__init__.py")
    found = {}
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for imp in node.body:
                found.update({alias.name: imp.module for alias in imp.names})
    return found


def test_packages_with_public_names_are_found():
    assert {"dermatwin", "dermatwin.twins", "dermatwin.trials"} <= set(lazy_packages())


@pytest.mark.parametrize("package", lazy_packages())
def test_every_public_name_resolves(package):
    """Each name of ``__all__`` resolves, is listed by ``dir()``, and is the object its
    module defines (the module the ``TYPE_CHECKING`` block names for type checkers)."""
    module = importlib.import_module(package)
    declared = type_checking_imports(package)
    eager = {"__version__"} if package == "dermatwin" else set()
    if declared:  # a lazy package: the block lists exactly its public names
        assert set(module.__all__) - eager == set(declared)
    for name in module.__all__:
        value = getattr(module, name)
        assert name in dir(module)
        if name in declared:
            assert value is getattr(importlib.import_module(declared[name]), name), name


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        dermatwin.no_such_name  # noqa: B018
    assert not hasattr(dermatwin.twins, "no_such_name")


def test_a_function_named_like_its_module_is_the_function(tmp_path, monkeypatch):
    """``twins.plan`` is a module and the function it exports: importing the module first
    (as the CLI does) must not make ``from package import plan`` give the module."""
    pkg = tmp_path / "lazypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from dermatwin._lazy import attach\n"
        "__all__ = ['plan']\n"
        "__getattr__, __dir__ = attach(__name__, {'lazypkg.plan': ['plan']})\n"
    )
    (pkg / "plan.py").write_text("def plan():\n    return 'planned'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        importlib.import_module("lazypkg.plan")
        from lazypkg import plan

        assert plan() == "planned"
        assert sys.modules["lazypkg"].plan is plan
    finally:
        for name in ("lazypkg", "lazypkg.plan"):
            sys.modules.pop(name, None)
