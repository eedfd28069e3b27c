"""Model declarations: one source of truth, precise errors, units and sources present."""

from __future__ import annotations

import dataclasses

import pytest

from dermatwin.errors import ModelError
from dermatwin.model.registry import available_models, get_model
from dermatwin.model.spec import ModelBuilder
from dermatwin.model.units import parse_unit, si_factors


def decay_builder():
    b = ModelBuilder("decay", "test")
    x = b.state("x", unit="cell/mm2", initial=10.0, description="x")
    k = b.parameter("k", 0.5, unit="1/day", source="assumed: test", description="rate", lower=0)
    b.ode(x, -k * x)
    return b, x, k


def test_build_and_lookup():
    b, x, k = decay_builder()
    m = b.build()
    assert m.state_names == ("x",) and m.parameter_names == ("k",)
    assert m.parameter_index("k") == 0
    with pytest.raises(ModelError, match="unknown parameter 'q'.*allowed: k"):
        m.parameter_index("q")


def test_undeclared_symbol_is_rejected():
    b, x, k = decay_builder()
    b.ode(x, -k * x * ModelBuilder.symbol("oops"))
    with pytest.raises(ModelError, match="undeclared symbols oops"):
        b.build()


def test_missing_equation_and_duplicate_names():
    b = ModelBuilder("m", "test")
    b.state("x", unit="au", initial=1.0, description="x")
    with pytest.raises(ModelError, match="no equation"):
        b.build()
    with pytest.raises(ModelError, match="declared twice"):
        b.parameter("x", 1.0, unit="au", source="assumed", description="dup")


def test_parameter_bounds_are_enforced():
    b, _, _ = decay_builder()
    m = b.build()
    with pytest.raises(ModelError, match=r"k=-1.0 .* outside its allowed range \[0"):
        m.parameter_vector({"k": -1.0})
    with pytest.raises(ModelError, match="outside"):
        m.parameter_vector({"k": float("nan")})


def test_structure_hash_ignores_values_but_content_hash_does_not():
    m = decay_builder()[0].build()
    m2 = m.with_defaults(k=0.7)
    assert m.structure_hash == m2.structure_hash
    assert m.content_hash != m2.content_hash
    # the copy is handed its original's hash; computed anew from its equations, it agrees
    fresh = dataclasses.replace(m2)
    assert "structure_hash" in vars(m2) and "structure_hash" not in vars(fresh)
    assert fresh.structure_hash == m2.structure_hash


def test_units_parse_and_reject_unknown():
    assert parse_unit("cell/mm2/au/day")[0] == (("cell", 1), ("mm", -2), ("au", -1), ("day", -1))
    assert si_factors("1/week") == [("second", -1, 604800.0)]
    with pytest.raises(ModelError, match="unknown factor 'furlong'"):
        parse_unit("furlong/day")


@pytest.mark.parametrize("name", available_models())
def test_every_parameter_and_state_has_unit_and_source(name):
    m = get_model(name)
    for item in (*m.states, *m.parameters):
        parse_unit(item.unit)
        assert item.source, f"{name}.{item.name} has no source"
        assert item.description, f"{name}.{item.name} has no description"
    for o in m.outputs:
        parse_unit(o.unit)


def test_unknown_model_lists_allowed():
    with pytest.raises(ModelError, match="unknown model 'nope'; allowed: miyano2021, shmarov2022"):
        get_model("nope")
