"""Drug catalogue: data validation, dose events and regimens (no simulation)."""

from __future__ import annotations

import math

import pytest

from dermatwin.engine.events import EventKind
from dermatwin.model.reference.miyano2021 import BLOCK, TRALOKINUMAB_FACTOR
from dermatwin.model.skin.drugs import SLOTS, TCS_PARAMETER, state_name
from dermatwin.therapy import (
    CATALOGUE,
    DrugDose,
    Regimen,
    TherapyError,
    drug_events,
    drug_parameters,
    emollient_bid,
    labelled,
    msc_course,
    proactive_tcs,
    reactive_tcs,
)
from dermatwin.therapy.drugs import DISEASES, ROUTES, UNITS

EXPECTED = {
    "dupilumab", "lebrikizumab", "tralokinumab", "nemolizumab", "tezepelumab",
    "upadacitinib", "abrocitinib", "ciclosporin", "prednisone", "topical_steroid",
    "emollient", "placebo", "secukinumab", "ixekizumab", "ustekinumab", "guselkumab",
    "risankizumab", "adalimumab", "etanercept", "methotrexate", "uvb",
}  # fmt: skip


def test_catalogue_is_complete():
    assert set(CATALOGUE) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_entry_is_valid(name):
    d = CATALOGUE[name]
    assert d.diseases and set(d.diseases) <= set(DISEASES)
    assert d.route in ROUTES and d.unit in UNITS
    assert d.exposure in ("first_order", "on_off")
    low, high = d.label.dose_range
    assert 0 < low <= d.label.dose <= high
    assert d.targets and all(0 < v <= 1 for v in d.targets.values())
    if d.slot is not None:
        assert d.slot in SLOTS
        assert d.emax == max(d.targets.values())
        assert d.half_life_days > 0 and d.half_life_source
        assert math.isfinite(d.ec50) and d.ec50 > 0
        expected = {f"{d.slot}_{p}" for p in ("kel", "ec50", "emax", "hill")}
        assert set(drug_parameters(name)) == expected


def test_ad_biologics_take_miyano_block_and_cover_it_at_trough():
    for name in ("dupilumab", "lebrikizumab", "nemolizumab", "tezepelumab"):
        d = CATALOGUE[name]
        assert d.emax == BLOCK
        c = d.reference_exposure()
        assert d.emax * c / (c + d.ec50) == pytest.approx(0.98 * BLOCK)
    assert CATALOGUE["tralokinumab"].emax == pytest.approx(BLOCK * TRALOKINUMAB_FACTOR)


def _times(dose, horizon=200.0):
    return [round(e.time, 6) for e in drug_events(dose, horizon_days=horizon)]


def test_labelled_schedules():
    dupi = drug_events(labelled("dupilumab"), horizon_days=43.0)
    f = CATALOGUE["dupilumab"].exposure_per_unit
    assert [(e.time, e.target, e.kind) for e in dupi] == [
        (t, "drug_il4r", EventKind.BOLUS) for t in (0.0, 14.0, 28.0, 42.0)
    ]
    assert [e.value for e in dupi] == pytest.approx([600 * f, 300 * f, 300 * f, 300 * f])
    assert _times(labelled("secukinumab"), 120) == [0, 7, 14, 21, 28, 56, 84, 112]
    leb = _times(labelled("lebrikizumab"), 200)
    assert leb[:3] == [0, 14, 28] and 112 in leb and 126 not in leb and 140 in leb
    assert _times(labelled("ustekinumab"), 200) == [0, 28, 112, 196]
    etn = _times(labelled("etanercept"), 98)
    assert etn[:3] == [0, 3.5, 7] and etn[-3:] == [80.5, 84, 91]
    # daily oral drugs: one continuous input at the daily-average rate
    upa = drug_events(labelled("upadacitinib"), horizon_days=28.0)
    f = CATALOGUE["upadacitinib"].exposure_per_unit
    assert [(e.time, e.kind, e.value) for e in upa] == [
        (0.0, EventKind.SET_RATE, 15 * f),
        (28.0, EventKind.SET_RATE, 0.0),
    ]
    # weekly methotrexate stays a bolus per dose
    mtx = drug_events(labelled("methotrexate"), horizon_days=22.0)
    assert {e.kind for e in mtx} == {EventKind.BOLUS} and len(mtx) == 4


def test_daily_average_input_follows_dose_changes_and_gaps():
    from dermatwin.therapy.drugs import _q

    f = CATALOGUE["abrocitinib"].exposure_per_unit
    step_up = DrugDose("abrocitinib", 100.0, "mg", None, 0.0, 4.0, (_q(0, 1, 1, 2), _q(2, 1, 2)))
    assert [(e.time, e.value) for e in drug_events(step_up)] == [
        (0.0, pytest.approx(100 * f)),
        (2.0, pytest.approx(200 * f)),
        (4.0, 0.0),
    ]
    every_other_day = DrugDose("abrocitinib", 100.0, "mg", None, 0.0, 6.0, (_q(0, 2),))
    assert {e.kind for e in drug_events(every_other_day)} == {EventKind.BOLUS}


@pytest.mark.parametrize("hill", [1.0, 3.7])
def test_ec50_gives_the_occupancy_at_the_reference_exposure_for_any_hill(hill):
    import dataclasses

    d = dataclasses.replace(CATALOGUE["abrocitinib"], occupancy=0.46, hill=hill)
    c = d.reference_exposure()
    assert c**hill / (c**hill + d.ec50**hill) == pytest.approx(0.46)


def test_mg_per_kg_scales_with_weight_and_stop_truncates():
    d = DrugDose("ciclosporin", 4.0, "mg/kg", stop_day=3.0)
    ev = drug_events(d, weight_kg=50.0)
    f = CATALOGUE["ciclosporin"].exposure_per_unit
    assert [e.time for e in ev] == [0, 3]  # a daily input of 200 mg, stopped at day 3
    assert ev[0].value == pytest.approx(200 * f)
    with pytest.raises(TherapyError, match="^weight_kg"):
        drug_events(d, weight_kg=0.0)


def test_zero_amount_gives_no_events():
    for name, d in CATALOGUE.items():
        assert drug_events(DrugDose(name, 0.0, d.unit)) == [], name


def test_on_off_therapies():
    reactive = drug_events(reactive_tcs(0.5, stop_day=10.0))
    assert [(e.time, e.target, e.value) for e in reactive] == [
        (0.0, TCS_PARAMETER, 0.5),
        (10.0, TCS_PARAMETER, 0.0),
    ]
    pro = drug_events(proactive_tcs(stop_day=14.0))
    # twice weekly (days 0 and 3), each application acting 3.5 days (ABIDI2010 reservoir):
    # on from day 0 to 6.5 and 7 to 13.5 of each week
    assert [(e.time, e.value) for e in pro] == [(0.0, 1.0), (6.5, 0.0), (7.0, 1.0), (13.5, 0.0)]
    # daily use is one span to the stop, whatever the window (knock-out of the reservoir)
    daily = drug_events(DrugDose("topical_steroid", 1.0, "potency", None, 0.0, 10.0))
    assert [(e.time, e.value) for e in daily] == [(0.0, 1.0), (10.0, 0.0)]
    plac = drug_events(labelled("placebo", stop_day=112.0))
    assert [(e.time, e.target, e.value) for e in plac] == [(0, "PLAC", 1.0), (112, "PLAC", 0.0)]
    uvb = drug_events(DrugDose("uvb", 0.35, "J/cm2"))
    assert uvb[0].target == "uv_dose" and uvb[0].value == pytest.approx(0.35)
    assert len([e for e in uvb if e.value > 0]) == 30
    emo = drug_events(emollient_bid(stop_day=2.0))
    assert [(e.time, e.target, e.value) for e in emo] == [
        (t, "emollient", 1.0) for t in (0, 0.5, 1.0, 1.5)
    ]


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("drug", {"drug": "aspirin"}),
        ("amount", {"amount": -1.0}),
        ("amount", {"amount": float("nan")}),
        ("amount", {"amount": 5000.0}),
        ("unit", {"unit": "g"}),
        ("route", {"route": "IV"}),
        ("start_day", {"start_day": -2.0}),
        ("stop_day", {"stop_day": 0.0}),
    ],
)
def test_bad_dose_raises_one_line_error_naming_field(field, kw):
    args = {"drug": "dupilumab", "amount": 300.0, "unit": "mg", **kw}
    with pytest.raises(TherapyError) as err:
        DrugDose(**args)
    assert str(err.value).startswith(field) and "\n" not in str(err.value)
    if field == "drug":
        assert "dupilumab" in str(err.value)  # lists the allowed values


def test_switch_in_another_slot_and_combinations():
    items = [
        labelled("dupilumab", stop_day=112.0),
        labelled("upadacitinib", start_day=112.0),
        proactive_tcs(),
        emollient_bid(),
    ]
    plan = Regimen(items, horizon_days=140.0).plan()
    assert {**drug_parameters("dupilumab"), **drug_parameters("upadacitinib")} == plan.parameters
    targets = {e.target for e in plan.events}
    assert {"drug_il4r", "drug_jak1", TCS_PARAMETER, "emollient"} <= targets
    assert max(e.time for e in plan.events if e.target == "drug_il4r") < 112
    assert min(e.time for e in plan.events if e.target == "drug_jak1") == 112
    assert [e.time for e in plan.events] == sorted(e.time for e in plan.events)


def test_same_slot_switch_sets_parameters_and_overlap_is_rejected():
    plan = Regimen(
        [labelled("lebrikizumab"), labelled("tralokinumab", start_day=84.0)], horizon_days=168
    ).plan()
    assert plan.parameters == drug_parameters("lebrikizumab")
    switch = [e for e in plan.events if e.kind == EventKind.SET_PARAMETER]
    assert {(e.time, e.target, e.value) for e in switch} == {
        (84.0, k, v) for k, v in drug_parameters("tralokinumab").items()
    }
    leb = [e.time for e in plan.events if e.target == state_name("il13") and e.time < 84]
    assert max(leb) < 84  # the first drug stops where the second starts
    with pytest.raises(TherapyError, match="^items: .* overlap in slot 'il13'"):
        Regimen(
            [labelled("lebrikizumab", stop_day=100.0), labelled("tralokinumab", start_day=84.0)]
        ).plan()


def test_msc_with_tcs():
    course = msc_course(source="umbilical_cord", amount=5e7, route="SC", times=[0.0, 28.0])
    plan = Regimen([course, reactive_tcs(stop_day=28.0)]).plan()
    assert plan.parameters["msc_potency"] > 1.0
    assert {"msc_depot", TCS_PARAMETER} <= {e.target for e in plan.events}
    other = msc_course(source="bone_marrow", amount=5e7)
    with pytest.raises(TherapyError, match="^items: one MSC product"):
        Regimen([course, other]).plan()
    with pytest.raises(TherapyError, match="^route"):
        msc_course(source="adipose", amount=1e7, route="oral")
