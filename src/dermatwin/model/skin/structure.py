"""What each skin-model module declares and how the modules couple, read off the builder.

:func:`module_map` adds the modules one by one to the merged cores (no kernel is
compiled) and records, for each, the states, parameters and outputs it declared, the
signals it reads and feeds, and the existing rates it multiplies. The model page
(``docs/model.md``) and its module diagram are generated from it, so the diagram cannot
drift from the equations.

>>> m = module_map()
>>> "msc_secretome" in m["msc"].feeds and "msc_secretome" in m["immune"].reads
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from dermatwin.model.skin import BUILD_ORDER, MODULES, _load_modules, cores
from dermatwin.model.spec import ModelBuilder

#: pseudo-module names of the two published cores
AD_CORE = "AD core (Miyano 2021)"
PSO_CORE = "psoriasis core (Shmarov 2022)"


@dataclass
class ModuleRecord:
    """Names one module added to the builder, and its couplings."""

    name: str
    doc: str
    states: list[str] = field(default_factory=list)
    parameters: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    reads: set[str] = field(default_factory=set)
    feeds: set[str] = field(default_factory=set)
    scales: set[str] = field(default_factory=set)
    #: core states its equations, outputs or fed signals read
    core_reads: set[str] = field(default_factory=set)
    symbols: set[str] = field(default_factory=set, repr=False)


class _RecordingBuilder:
    """Forwards to a ModelBuilder and records the coupling calls of the current module."""

    def __init__(self, builder: ModelBuilder):
        self._b = builder
        self.record: ModuleRecord | None = None

    def __getattr__(self, name):
        return getattr(self._b, name)

    def signal(self, name):
        self.record.reads.add(name)
        return self._b.signal(name)

    def add_signal(self, name, expression):
        self.record.feeds.add(name)
        self.record.symbols |= {str(x) for x in sp.sympify(expression).free_symbols}
        return self._b.add_signal(name, expression)

    def scale_parameter(self, name, factor):
        self.record.scales.add(name)
        return self._b.scale_parameter(name, factor)


def module_map() -> dict[str, ModuleRecord]:
    """One :class:`ModuleRecord` per registered module, in build order."""
    _load_modules()
    b = cores.merged_cores()
    core_states = set(b.names()[0])
    rec_b = _RecordingBuilder(b)
    order = [*BUILD_ORDER, *(n for n in MODULES if n not in BUILD_ORDER)]
    out: dict[str, ModuleRecord] = {}
    for name in order:
        if name not in MODULES:
            continue
        fn = MODULES[name]
        module_doc = (fn.__module__ and __import__(fn.__module__, fromlist=["_"]).__doc__) or ""
        rec = ModuleRecord(name, module_doc.strip())
        rec_b.record = rec
        before = [set(names) for names in b.names()]
        fn(rec_b)
        rec.states, rec.parameters, rec.outputs = (
            [n for n in names if n not in old] for names, old in zip(b.names(), before, strict=True)
        )
        for expr in [*map(b.rhs_of, rec.states), *map(b.output_expression, rec.outputs)]:
            rec.symbols |= {str(x) for x in expr.free_symbols}
        rec.core_reads = rec.symbols & core_states
        out[name] = rec
    return out


def core_of(name: str) -> str:
    """Which published core a parameter or state belongs to (for the diagram)."""
    from dermatwin.model.reference import miyano2021

    ad = miyano2021.build()
    return AD_CORE if name in {*ad.parameter_names, *ad.state_names} else PSO_CORE


def mermaid_diagram(records: dict[str, ModuleRecord]) -> str:
    """A Mermaid flowchart: modules and cores as nodes; an arrow from the module that feeds
    a signal to each module that reads it, and from a module to the core whose rates it
    multiplies (labelled with the rates)."""
    lines = ["flowchart LR"]
    ids = {AD_CORE: "AD", PSO_CORE: "PSO"}
    lines.append(f'  AD["{AD_CORE}"]')
    lines.append(f'  PSO["{PSO_CORE}"]')
    for name in records:
        ids[name] = name
        lines.append(f'  {name}["{name}"]')
    for name, rec in records.items():
        for signal in sorted(rec.feeds):
            for reader, other in records.items():
                if signal in other.reads and reader != name:
                    lines.append(f"  {name} -- {signal} --> {reader}")
        for core in sorted({core_of(s) for s in rec.core_reads}):
            lines.append(f"  {ids[core]} --> {name}")
        by_core: dict[str, list[str]] = {}
        for p in sorted(rec.scales):
            by_core.setdefault(core_of(p), []).append(p)
        for core, params in by_core.items():
            lines.append(f"  {name} -. {' '.join(params)} .-> {ids[core]}")
    return "\n".join(lines)
