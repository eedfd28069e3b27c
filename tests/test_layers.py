"""The layers of dermatwin: every import points down, and no package cycle (issue 13).

The import graph is read from the source with :mod:`ast` (nothing is imported). A unit is a
package or a top-level module below ``dermatwin`` (``model``, ``twins``, ``cli``,
``outcomes``...). Imports at module level and imports inside functions (deferred, to keep
start-up fast) are both dependencies and both count; imports under ``if TYPE_CHECKING:``
do not run and are left out. ``from dermatwin import X`` goes to the module that defines
``X``: the package's ``__init__`` only hands names on (lazily).

``LAYERS`` is the layer order, top to bottom (docs/architecture.md shows the same list):
the test fails on any import from a layer to one above it, naming file, line and the two
layers. The package cycles that existed when this test was first written were an
allow-list that had to shrink; it is empty now, and the test fails on any cycle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "dermatwin"

#: package cycles present when this test was written (issue 13 removes them), with one
#: import that closes each. Broken so far: {outcomes, scenario} (time parsing moved to
#: _base), {io, model, patients} (YAML reading to _base; the reproduction tables moved up
#: to dermatwin.reproduction), {cli, twins} (shared CLI helpers in dermatwin.cli_common),
#: {calibration, execution, therapy, trials} (parameter sets moved down to dermatwin.params;
#: the trial model cache to trials.worker; the results query to dermatwin.results)
KNOWN_CYCLES: set[frozenset[str]] = set()


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported module, dotted
    kind: str  # "module", "function" or "type"
    where: str  # file:line


def module_name(path: Path) -> str:
    parts = path.with_suffix("").relative_to(SRC).parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / ROOT).rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return getattr(test, "id", None) == "TYPE_CHECKING" or getattr(test, "attr", None) == (
        "TYPE_CHECKING"
    )


def _imports_of(tree: ast.AST) -> list[tuple[ast.Import | ast.ImportFrom, str]]:
    """Each import statement with its kind (module, function or type level)."""
    found = []

    def visit(node: ast.AST, kind: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append((child, kind))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, "type" if kind == "type" else "function")
            elif isinstance(child, ast.If) and _is_type_checking(child):
                for stmt in child.body:
                    visit(ast.Module(body=[stmt], type_ignores=[]), "type")
                for stmt in child.orelse:
                    visit(ast.Module(body=[stmt], type_ignores=[]), kind)
            else:
                visit(child, kind)

    visit(tree, "module")
    return found


def _root_exports(modules: dict[str, Path]) -> dict[str, str]:
    """name -> defining module, for the names the root package hands on."""
    exports = {}
    for node, _ in _imports_of(ast.parse(modules[ROOT].read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module != ROOT:
            exports.update({alias.name: node.module for alias in node.names})
    return exports


def import_graph() -> list[Import]:
    """Every import of one dermatwin module by another."""
    modules = all_modules()
    root_exports = _root_exports(modules)
    edges = []
    for source, path in modules.items():
        for node, kind in _imports_of(ast.parse(path.read_text())):
            where = f"{path.relative_to(SRC.parent)}:{node.lineno}"
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif node.level or not node.module:  # relative imports: none today
                raise AssertionError(f"{where}: relative import; write the absolute name")
            elif node.module == ROOT:
                targets = [
                    f"{ROOT}.{a.name}" if f"{ROOT}.{a.name}" in modules else root_exports[a.name]
                    for a in node.names
                ]
            else:
                targets = [
                    f"{node.module}.{a.name}"
                    if f"{node.module}.{a.name}" in modules
                    else node.module
                    for a in node.names
                ]
            edges += [
                Import(source, t, kind, where)
                for t in targets
                if t.split(".")[0] == ROOT and t != source
            ]
    return edges


def unit(module: str) -> str:
    """The package (or top-level module) below dermatwin that ``module`` belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def package_cycles(edges: list[Import]) -> list[frozenset[str]]:
    """The strongly connected sets of more than one unit (Tarjan), over runtime imports."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        if e.kind != "type" and unit(e.source) != unit(e.target):
            graph.setdefault(unit(e.source), set()).add(unit(e.target))
            graph.setdefault(unit(e.target), set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return cycles


def describe(cycle: frozenset[str], edges: list[Import]) -> str:
    """The imports that tie a cycle, one per line (file:line, kind, source -> target)."""
    lines = [
        f"  {e.where} ({e.kind}) {e.source} -> {e.target}"
        for e in edges
        if e.kind != "type"
        and unit(e.source) in cycle
        and unit(e.target) in cycle
        and unit(e.source) != unit(e.target)
    ]
    return "{" + ", ".join(sorted(cycle)) + "}:\n" + "\n".join(sorted(set(lines)))


@pytest.fixture(scope="module")
def edges() -> list[Import]:
    return import_graph()


def test_the_graph_sees_imports_of_every_kind(edges):
    kinds = {(e.source, e.target): e.kind for e in edges}
    assert kinds[("dermatwin.cli", "dermatwin.cli_checks")] == "module"
    assert kinds[("dermatwin.cli", "dermatwin.run")] == "function"
    assert kinds[("dermatwin.trials.worker", "dermatwin.model.spec")] == "type"
    assert kinds[("dermatwin.docs", "dermatwin.reproduction")] == "function"
    # the root package hands names on: an import of it goes to the defining module
    assert _root_exports(all_modules())["__version__"] == "dermatwin._version"


def test_no_new_package_cycle(edges):
    new = [c for c in package_cycles(edges) if c not in KNOWN_CYCLES]
    assert not new, "new import cycle between packages:\n" + "\n".join(
        describe(c, edges) for c in new
    )


def test_known_cycles_still_exist(edges):
    """A cycle that was broken leaves the allow-list (so the list only shrinks)."""
    gone = KNOWN_CYCLES - set(package_cycles(edges))
    assert not gone, "no longer a cycle, delete from KNOWN_CYCLES: " + ", ".join(
        "{" + ", ".join(sorted(c)) + "}" for c in gone
    )


#: the bottom layer (docs/architecture.md): it imports nothing of dermatwin outside itself
BASE = f"{ROOT}._base"


def test_the_base_layer_imports_nothing_above_it(edges):
    base = [e for e in edges if e.source == BASE or e.source.startswith(BASE + ".")]
    assert base, "no import inside dermatwin._base found: is the graph reading it?"
    upward = [
        f"  {e.where} ({e.kind}) {e.source} -> {e.target}"
        for e in base
        if e.target != BASE and not e.target.startswith(BASE + ".")
    ]
    assert not upward, "dermatwin._base imports the domain:\n" + "\n".join(upward)


def test_a_cycle_is_found():
    """The detector itself: a -> b -> c -> a is one cycle, d -> a is none."""
    edges = [
        Import("dermatwin.a.x", "dermatwin.b.y", "module", ""),
        Import("dermatwin.b.y", "dermatwin.c", "function", ""),
        Import("dermatwin.c", "dermatwin.a", "module", ""),
        Import("dermatwin.d", "dermatwin.a.x", "module", ""),
        Import("dermatwin.a", "dermatwin.d", "type", ""),
    ]
    assert package_cycles(edges) == [frozenset({"a", "b", "c"})]


#: layers that run any task or store any table: they import nothing of the domain
INFRASTRUCTURE = ("execution", "results")
DOMAIN = {"trials", "twins", "calibration", "therapy", "patients", "model", "outcomes", "disease"}
DOMAIN |= {"params", "engine", "scenario", "study", "reproduction", "cli", "report"}


@pytest.mark.parametrize("layer", INFRASTRUCTURE)
def test_infrastructure_imports_nothing_of_the_domain(edges, layer):
    package = f"{ROOT}.{layer}"
    own = [e for e in edges if e.source == package or e.source.startswith(package + ".")]
    assert own, f"no import inside {package} found: is the graph reading it?"
    upward = [
        f"  {e.where} ({e.kind}) {e.source} -> {e.target}" for e in own if unit(e.target) in DOMAIN
    ]
    assert not upward, f"{package} imports the domain:\n" + "\n".join(upward)


#: The layers of dermatwin, top to bottom: a module may import the layers below its own,
#: never one above (docs/architecture.md shows this list, and
#: ``test_the_architecture_page_shows_the_layers`` keeps the two equal). Names are below
#: ``dermatwin``: a package with everything in it, or a module; the longest name that
#: matches decides, so ``twins.cli`` sits with the CLI above the rest of ``twins``, and
#: ``__init__`` is the root package (the lazy public API). Siblings joined by ``|`` are
#: independent (neither imports the other); siblings joined by ``:`` may import each other
#: (the cycle test still applies). Imports under ``if TYPE_CHECKING:`` do not count.
LAYERS = (
    "cli : cli_common : cli_checks : cli_tables : twins.cli : web",
    "__init__ | docs | errors | severity",
    "twins | calibration",
    "trials",
    "sensitivity | catalogue",
    "run",
    "scenario | reproduction",
    "study",
    "therapy",
    "params | patients | outcomes",
    "io",
    "engine",
    "model",
    "engine.events",
    "disease | references | report | results",
    "execution",
    "_base | _lazy | _version",
)

#: upward imports allowed on purpose, each with its reason: (source module, target module)
#: -> why. Empty: fix an upward arrow (move the code to the right layer) before listing it.
UPWARD_EXCEPTIONS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Layers:
    """A layer order: ``place(module)`` is (layer index from the top, sibling name)."""

    rows: tuple[tuple[frozenset[str], bool], ...]  # (siblings, independent) per layer

    @classmethod
    def parse(cls, lines: tuple[str, ...]) -> Layers:
        rows = []
        for line in lines:
            independent = "|" in line
            if independent and ":" in line:
                raise ValueError(f"layer {line!r}: join siblings with '|' or ':', not both")
            names = frozenset(n.strip() for n in line.replace(":", "|").split("|"))
            rows.append((names, independent))
        return cls(tuple(rows))

    def place(self, module: str) -> tuple[int, str] | None:
        name = module.removeprefix(ROOT + ".") if module != ROOT else "__init__"
        best = None
        for index, (names, _) in enumerate(self.rows):
            for sibling in names:
                if name == sibling or name.startswith(sibling + "."):
                    if best is None or len(sibling) > len(best[1]):
                        best = (index, sibling)
        return best

    def upward(self, edges: list[Import]) -> list[str]:
        """Each runtime import that goes up a layer or across independent siblings, as
        ``file:line (kind) source -> target: layer 'a' imports layer 'b' above it``."""
        found = []
        for e in edges:
            if e.kind == "type" or (e.source, e.target) in UPWARD_EXCEPTIONS:
                continue
            (low, own), (high, other) = self.place(e.source), self.place(e.target)
            if high < low:
                why = f"{own!r} (layer {low + 1}) imports {other!r} (layer {high + 1}) above it"
            elif high == low and own != other and self.rows[low][1]:
                why = f"{own!r} imports its independent sibling {other!r} (layer {low + 1})"
            else:
                continue
            found.append(f"  {e.where} ({e.kind}) {e.source} -> {e.target}: {why}")
        return sorted(set(found))


def test_every_module_has_a_layer():
    layers = Layers.parse(LAYERS)
    homeless = [m for m in all_modules() if layers.place(m) is None]
    assert not homeless, "add to LAYERS (and docs/architecture.md): " + ", ".join(homeless)


def test_no_import_goes_up_a_layer(edges):
    upward = Layers.parse(LAYERS).upward(edges)
    assert not upward, "imports that go up (see LAYERS):\n" + "\n".join(upward)


def test_the_upward_exceptions_are_still_needed(edges):
    """An exception whose import is gone leaves the list (so the list only shrinks)."""
    present = {(e.source, e.target) for e in edges if e.kind != "type"}
    gone = [f"{s} -> {t}" for s, t in UPWARD_EXCEPTIONS if (s, t) not in present]
    assert not gone, "no longer imported, delete from UPWARD_EXCEPTIONS: " + ", ".join(gone)


def test_an_upward_import_is_found():
    """The checker itself, on made-up layers (the real tree passes, so it cannot show this):
    an arrow up and an arrow across independent siblings fail; arrows down, arrows within a
    ``:`` layer and imports for type checkers pass."""
    layers = Layers.parse(("top", "mid.x : mid", "side | low"))
    assert layers.place("dermatwin.mid.x.y") == (1, "mid.x")
    assert layers.place("dermatwin.mid.y") == (1, "mid")
    edges = [
        Import("dermatwin.top", "dermatwin.low", "module", "a.py:1"),
        Import("dermatwin.low.z", "dermatwin.top", "function", "b.py:2"),
        Import("dermatwin.side", "dermatwin.low", "module", "c.py:3"),
        Import("dermatwin.mid", "dermatwin.mid.x", "module", "d.py:4"),
        Import("dermatwin.low", "dermatwin.mid", "type", "e.py:5"),
    ]
    assert layers.upward(edges) == [
        "  b.py:2 (function) dermatwin.low.z -> dermatwin.top: 'low' (layer 3) imports "
        "'top' (layer 1) above it",
        "  c.py:3 (module) dermatwin.side -> dermatwin.low: 'side' imports its independent "
        "sibling 'low' (layer 3)",
    ]
    with pytest.raises(ValueError, match="not both"):
        Layers.parse(("a : b | c",))


PAGE = SRC.parent / "docs" / "architecture.md"


def page_layers(text: str) -> tuple[str, ...]:
    """The layer list drawn on the architecture page: the first code block of section 1,
    one layer per line, less what follows ``#`` (a note for the reader)."""
    section = text.split("## 1. The layers", 1)[1]
    block = section.split("```", 2)[1]
    lines = (line.split("#", 1)[0].strip() for line in block.splitlines())
    return tuple(" ".join(line.split()) for line in lines if line)


def test_the_architecture_page_shows_the_layers():
    assert page_layers(PAGE.read_text()) == LAYERS, (
        "docs/architecture.md section 1 must draw LAYERS of tests/test_layers.py, one per line"
    )
