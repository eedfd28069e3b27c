"""Every docstring example in ``src/dermatwin`` runs, so an example's numbers cannot rot.

One test per module with examples; the modules are found by reading the source (nothing
is imported to collect them) and imported under their package names, so a module is never
imported twice. The reference models the examples simulate (``miyano2021``,
``shmarov2022``) are compiled by other tests too: the session's kernel cache is shared.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def modules_with_examples() -> list[str]:
    """Dotted names of the modules of dermatwin whose source holds a ``>>>`` line."""
    names = []
    for path in sorted((SRC / "dermatwin").rglob("*.py")):
        if any(line.lstrip().startswith(">>>") for line in path.read_text().splitlines()):
            parts = path.with_suffix("").relative_to(SRC).parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_examples_are_found():
    assert {"dermatwin.execution", "dermatwin.engine.simulate"} <= set(modules_with_examples())


@pytest.mark.parametrize("name", modules_with_examples())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    tests = [t for t in doctest.DocTestFinder().find(module) if t.examples]
    assert tests, f"{name}: a '>>>' line outside any docstring doctest finds"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    for test in tests:
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
