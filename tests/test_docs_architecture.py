"""docs/architecture.md cannot rot: every path and dotted name it cites exists.

Checked by reading the source with :mod:`ast` (nothing is imported, so the check is fast
and loads no heavy library): a ``src/...``, ``tests/...``, ``docs/...`` or
``examples/...`` path must exist in the repository; a ``dermatwin.x.y`` name must be a
module, or a module followed by a name it defines (a function, a class, an assignment or
an import) and, for a class, one of its members.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PAGE = ROOT / "docs" / "architecture.md"

#: repository paths as the page writes them (a trailing ``/`` names a folder)
PATH = re.compile(r"(?<![\w/.])(?:src/dermatwin|tests|docs|examples)/[\w./<>-]*[\w/]")
#: dotted names of the package, e.g. ``dermatwin.trials.streaming.run_trial_to``
DOTTED = re.compile(r"(?<![\w/.])dermatwin(?:\.\w+)+")


def cited_paths(text: str) -> list[str]:
    """Paths named on the page, less the templates that show a placeholder (``<name>``)."""
    return sorted({p for p in PATH.findall(text) if "<" not in p})


def cited_names(text: str) -> list[str]:
    return sorted(set(DOTTED.findall(text)))


def module_file(dotted: str) -> Path | None:
    """The source file of module ``dotted`` (a package's ``__init__.py``), if any."""
    base = SRC.joinpath(*dotted.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _names(body: list[ast.stmt]) -> dict[str, ast.AST]:
    """Names a module or class body binds: definitions, assignments and imports."""
    out: dict[str, ast.AST] = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        out[name.id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                out[(alias.asname or alias.name).split(".")[0]] = node
        elif isinstance(node, (ast.If, ast.Try)):  # TYPE_CHECKING blocks, fallbacks
            out.update(_names(node.body))
    return out


@cache
def _module_names(path: Path) -> dict[str, ast.AST]:
    return _names(ast.parse(path.read_text()).body)


def missing(dotted: str) -> str | None:
    """Why ``dotted`` does not exist, or None when it does."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        path = module_file(".".join(parts[:cut]))
        if path is not None:
            break
    else:
        return "no such module"
    rest = parts[cut:]
    if not rest:
        return None
    names = _module_names(path)
    if rest[0] not in names:
        return f"{'.'.join(parts[:cut])} defines no {rest[0]!r}"
    if len(rest) == 1:
        return None
    node = names[rest[0]]
    if len(rest) == 2 and isinstance(node, ast.ClassDef) and rest[1] in _names(node.body):
        return None
    return f"{'.'.join(parts[: cut + 1])} has no member {'.'.join(rest[1:])!r}"


TEXT = PAGE.read_text()


def test_the_page_cites_paths_and_names():
    """The patterns find what the page cites (so the checks below are not empty)."""
    assert "src/dermatwin/execution/serial.py" in cited_paths(TEXT)
    assert "dermatwin.trials.streaming.run_trial_to" in cited_names(TEXT)


@pytest.mark.parametrize("path", cited_paths(TEXT))
def test_cited_path_exists(path):
    assert (ROOT / path).exists(), f"docs/architecture.md names {path}, which does not exist"


@pytest.mark.parametrize("name", cited_names(TEXT))
def test_cited_name_exists(name):
    why = missing(name)
    assert why is None, f"docs/architecture.md names {name}: {why}"


def test_the_checks_catch_a_rotten_citation():
    assert missing("dermatwin.trials.streaming.run_trial_to") is None
    assert missing("dermatwin.io.output_folder.OutputFolder.commit") is None
    assert missing("dermatwin.engine") is None
    assert "defines no" in missing("dermatwin.trials.streaming.no_such_function")
    assert "no member" in missing("dermatwin.io.output_folder.OutputFolder.no_such_method")
    assert missing("dermatwin.no_such_package.module") == "dermatwin defines no 'no_such_package'"
    assert cited_paths("see src/dermatwin/nowhere.py and src/dermatwin/x/<name>.py") == [
        "src/dermatwin/nowhere.py"
    ]


def test_readme_links_the_page():
    assert "docs/architecture.md" in (ROOT / "README.md").read_text()
