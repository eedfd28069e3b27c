"""Only the command line speaks in flags: library errors name the parameter or field.

A message such as ``--alpha must be between 0 and 1`` is wrong for a caller of
:func:`dermatwin.trials.power.power_curve`, who never typed a flag; the library says
``alpha: 1.5; allowed: between 0 and 1`` and the CLI turns the leading parameter name into
its flag (:func:`dermatwin.cli_common.user_errors`). The source is read with :mod:`ast`:
every string in a ``raise`` statement or in a call that builds or raises an error (a name
with ``Error``, ``error``, ``fail`` or ``warn`` in it, or a ``log`` line) must not hold a
flag (``--word``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "dermatwin"

#: the modules that speak in flags: the command line and its helpers
CLI_MODULES = {
    "cli.py",
    "cli_common.py",
    "cli_checks.py",
    "cli_tables.py",
    "twins/cli.py",
    "web/cli.py",
}

FLAG = re.compile(r"(?<![\w-])--[a-z]")
#: callables that build, raise or report an error: their string arguments are messages
ERROR_CALL = re.compile(r"error|fail|warn|^log$", re.IGNORECASE)


def _call_name(node: ast.Call) -> str:
    func = node.func
    return getattr(func, "id", None) or getattr(func, "attr", None) or ""


def _strings(node: ast.AST) -> list[ast.Constant]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def flag_messages(source: str, where: str) -> list[str]:
    """``where:line: text`` for each error message in ``source`` that names a flag."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Raise) and node.exc is not None:
            parts = [node.exc]
        elif isinstance(node, ast.Call) and ERROR_CALL.search(_call_name(node)):
            parts = [*node.args, *(k.value for k in node.keywords)]
        else:
            continue
        for part in parts:
            for text in _strings(part):
                if FLAG.search(text.value):
                    found.add(f"{where}:{text.lineno}: {text.value!r}")
    return sorted(found)


def library_files() -> list[Path]:
    return [
        p for p in sorted(SRC.rglob("*.py")) if p.relative_to(SRC).as_posix() not in CLI_MODULES
    ]


def test_library_errors_do_not_name_flags():
    found = [
        line
        for path in library_files()
        for line in flag_messages(path.read_text(), str(path.relative_to(SRC.parent)))
    ]
    assert not found, "library errors worded as CLI flags (name the parameter):\n" + "\n".join(
        found
    )


@pytest.mark.parametrize(
    ("source", "hits"),
    [
        ('raise ValueError(f"--alpha must be < 1, got {a}")', 1),
        ('return OutputFolderError("choose another --out")', 1),
        ('raise self._fail("is a file; " "add --overwrite")', 1),
        ('log(f"discarding {x}; use --resume to continue it")', 1),
        ('raise TrialError(f"alpha: {a}; allowed: between 0 and 1")', 0),
        ('run(["git", "status", "--porcelain"])', 0),
        ('"""Docstring naming ``--seed``."""', 0),
    ],
)
def test_a_flag_in_an_error_is_found(source, hits):
    assert len(flag_messages(source, "x.py")) == hits
