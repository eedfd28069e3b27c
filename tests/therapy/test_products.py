"""MSC products and doses: validation, dose events and implied parameters."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dermatwin.engine.events import EventKind
from dermatwin.errors import DermatwinError
from dermatwin.therapy import MSCDose, MSCProduct, TherapyError, msc_dose_events, msc_parameters
from dermatwin.therapy.products import SOURCE_FACTORS


def _product(**kw) -> MSCProduct:
    return MSCProduct(**{"source": "bone_marrow", "origin": "autologous", **kw})


def test_unknown_source_lists_allowed_values():
    with pytest.raises(ValidationError) as err:
        _product(source="tonsil")
    text = str(err.value)
    assert "source" in text
    for allowed in SOURCE_FACTORS:
        assert allowed in text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("origin", "xenogeneic"),
        ("donor_age", -1.0),
        ("donor_age", 101.0),
        ("passage", -1),
        ("passage", 2.5),
        ("state", "lyophilised"),
        ("viability", 0.0),
        ("viability", 1.2),
        ("colour", "blue"),
    ],
)
def test_bad_product_fields_are_named(field, value):
    with pytest.raises(ValidationError) as err:
        _product(**{field: value})
    assert field in str(err.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", -1e6), ("amount", 0.0), ("unit", "mg"), ("route", "oral"), ("times", [-1.0])],
)
def test_bad_dose_fields_are_named(field, value):
    kw = {"amount": 1e6, "unit": "cells", "route": "IV", field: value}
    with pytest.raises(ValidationError) as err:
        MSCDose(**kw)
    assert field in str(err.value)


@pytest.mark.parametrize("weight", [None, 0.0, -70.0])
def test_cells_per_kg_needs_a_weight(weight):
    dose = MSCDose(amount=1e6, unit="cells/kg", route="IV")
    with pytest.raises(TherapyError, match="weight_kg"):
        msc_dose_events(_product(), dose, weight_kg=weight)
    assert issubclass(TherapyError, DermatwinError)


def test_events_by_route_viable_and_dead_cells():
    """Viable cells into the route's compartment, the dead fraction straight into its
    apoptotic pool (MECH_DEADMSC_2021_EQUIPOTENCY), every cell into msc_given."""
    product = _product(viability=0.8)
    iv = msc_dose_events(product, MSCDose(amount=2e6, unit="cells/kg", route="IV"), 50.0)
    assert [(e.time, e.target, e.value) for e in iv] == [
        (0.0, "msc_blood", 8e7),
        (0.0, "msc_apoptotic", pytest.approx(2e7)),
        (0.0, "msc_label_circ", pytest.approx(2e7)),
        (0.0, "msc_given", 1e8),
    ]
    for route in ("SC", "intradermal", "intralesional"):
        dose = MSCDose(amount=1e7, unit="cells", route=route, times=[14.0, 0.0])
        ev = msc_dose_events(product, dose)
        assert [e.time for e in ev] == [0.0] * 3 + [14.0] * 3
        values = {e.target: e.value for e in ev}
        assert values == {
            "msc_depot": pytest.approx(8e6),
            "msc_apoptotic_skin": pytest.approx(2e6),
            "msc_given": 1e7,
        }
        assert all(e.kind == EventKind.BOLUS for e in ev)
    # a fully viable product gives no dead cells
    clean = msc_dose_events(_product(viability=1.0), MSCDose(amount=1e7, unit="cells", route="SC"))
    assert [e.target for e in clean] == ["msc_depot", "msc_given"]


def test_release_assay_sets_potency():
    """IDO activity maps linearly, T-cell suppression by its odds against 50 % (assumed
    relations); the assay replaces the source/donor/passage estimate."""
    ido = msc_parameters(_product(source="umbilical_cord", ido_activity=0.5))["msc_potency"]
    assert ido == pytest.approx(0.5)
    strong = msc_parameters(_product(tcell_suppression=75.0, donor_age=80.0))["msc_potency"]
    assert strong == pytest.approx(3.0)
    assert msc_parameters(_product(tcell_suppression=50.0))["msc_potency"] == pytest.approx(1.0)
    with pytest.raises(ValidationError, match="one release assay"):
        _product(ido_activity=1.0, tcell_suppression=50.0)
    for field, value in (("ido_activity", 0.0), ("ido_activity", 1e3), ("tcell_suppression", 100)):
        with pytest.raises(ValidationError, match=field):
            _product(**{field: value})


def test_thawed_product_resets_thaw_deficit():
    dose = MSCDose(amount=1e8, unit="cells", route="SC", times=[0.0, 28.0])
    ev = msc_dose_events(_product(state="thawed"), dose)
    thaw = [e for e in ev if e.target == "msc_thaw_deficit"]
    assert [(e.time, e.kind, e.value) for e in thaw] == [
        (0.0, EventKind.SET_STATE, 1.0),
        (28.0, EventKind.SET_STATE, 1.0),
    ]
    assert not any(e.target == "msc_thaw_deficit" for e in msc_dose_events(_product(), dose))


def test_parameters_implied_by_product():
    auto = msc_parameters(_product())
    allo = msc_parameters(_product(origin="allogeneic"))
    assert auto == {"msc_potency": 1.0, "msc_clearance_factor": 1.0, "msc_allogeneic": 0.0}
    assert allo["msc_clearance_factor"] > auto["msc_clearance_factor"]
    assert allo["msc_allogeneic"] == 1.0
    # younger adult donors and early passages are more potent (IMM-06, IMM-07)
    young = msc_parameters(_product(donor_age=20.0))["msc_potency"]
    old = msc_parameters(_product(donor_age=80.0))["msc_potency"]
    late = msc_parameters(_product(passage=10))["msc_potency"]
    assert young > 1.0 > old >= 0.3
    assert late < 1.0
    # perinatal sources carry their own factor; donor age does not change it
    uc = [msc_parameters(_product(source="umbilical_cord", donor_age=a)) for a in (0.0, 30.0)]
    assert uc[0] == uc[1]
    assert uc[0]["msc_potency"] > 1.0


def test_parameters_are_in_the_model():
    import dermatwin.model.skin.msc  # noqa: F401
    from dermatwin.model.skin import build

    model = build(modules=("msc",))
    for source in SOURCE_FACTORS:
        model.parameter_vector(msc_parameters(_product(source=source, origin="allogeneic")))
