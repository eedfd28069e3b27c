"""The module map behind docs/model.md accounts for every name in the skin model."""

from __future__ import annotations

from dermatwin.model.skin import build
from dermatwin.model.skin.structure import mermaid_diagram, module_map


def test_every_state_parameter_and_output_belongs_to_one_place():
    model, core, records = build(), build(modules=()), module_map()
    for kind, core_names, model_names in [
        ("states", core.state_names, model.state_names),
        ("parameters", core.parameter_names, model.parameter_names),
        ("outputs", core.output_names, model.output_names),
    ]:
        declared = [n for rec in records.values() for n in getattr(rec, kind)]
        assert len(declared) == len(set(declared)), kind
        assert sorted([*core_names, *declared]) == sorted(model_names), kind


def test_every_signal_read_is_fed_by_some_module():
    records = module_map()
    fed = set().union(*(r.feeds for r in records.values()))
    for name, rec in records.items():
        assert rec.reads <= fed, (name, rec.reads - fed)


def test_diagram_draws_the_msc_to_immune_coupling():
    diagram = mermaid_diagram(module_map())
    assert "msc -- msc_secretome --> immune" in diagram
    assert "immune -. k5 k6 k7 k8 .-> AD" in diagram
