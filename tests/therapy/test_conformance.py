"""One conformance test for every therapy: each catalogue drug and each MSC product source.

Checks, the same for all: a zero dose gives bitwise the untreated trajectory; the effect is
monotone in dose over the labelled range (EASI at week 16 for AD drugs, PASI index at
week 12 for psoriasis drugs, secretome AUC for MSC); units and sources are present on the
entry and on every model parameter it sets; bad values raise a one-line TherapyError
naming the field. All therapies and doses run as patients of one simulate() call.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dermatwin.engine.simulate import equilibrate, simulate
from dermatwin.model.reference.shmarov2022 import dc_stimulus
from dermatwin.model.skin import build
from dermatwin.therapy import (
    CATALOGUE,
    DrugDose,
    MSCDose,
    Regimen,
    TherapyError,
    drug_parameter_sources,
    msc_course,
)
from dermatwin.therapy.drugs import MAX_LABEL_MULTIPLE, ROUTES, UNITS
from dermatwin.therapy.products import SOURCE_FACTORS, msc_parameters
from dermatwin.therapy.regimen import MSCCourse

WEEK = 7.0
TIMES = np.arange(0.0, 16 * WEEK + 1.0, 1.0)
MSC_DOSES = (2.5e7, 5e7, 1e8)  # cells SC (AD_MSC_KIM2017_LD/HD: 2.5e7 and 5e7)
THERAPIES = [*(f"drug:{n}" for n in CATALOGUE), *(f"msc:{s}" for s in SOURCE_FACTORS)]


def _levels(name: str) -> list[float]:
    low, high = CATALOGUE[name].label.dose_range
    return sorted({low, (low + high) / 2, high})


def _items(therapy: str, amount: float) -> list:
    kind, name = therapy.split(":")
    if kind == "drug":
        entry = CATALOGUE[name]
        return [DrugDose(name, amount, entry.unit)]
    if amount == 0.0:  # an MSCDose cannot be 0: build one without validation
        dose = MSCDose.model_construct(amount=0.0, unit="cells", route="SC", times=[0.0])
        course = msc_course(source=name, amount=1.0)
        return [MSCCourse(course.product, dose)]
    return [msc_course(source=name, amount=amount)]


def _amounts(therapy: str) -> list[float]:
    kind, name = therapy.split(":")
    return [0.0, *(_levels(name) if kind == "drug" else MSC_DOSES)]


@pytest.fixture(scope="module")
def model():
    return build()


@pytest.fixture(scope="module")
def runs(model):
    """Every therapy at 0 and its dose levels, plus one untreated patient, in one call."""
    y_eq, _ = equilibrate(model)
    plaque = simulate(model, [1000.0], y0=y_eq[0], events=dc_stimulus(150.0, 2.0))
    y0 = np.array([float(plaque[n].values[0, -1]) for n in model.state_names])
    keys, events, params = [("none", 0.0)], [[]], [model.parameter_vector()]
    for therapy in THERAPIES:
        for amount in _amounts(therapy):
            plan = Regimen(_items(therapy, amount), horizon_days=TIMES[-1] + 1).plan()
            keys.append((therapy, amount))
            events.append(plan.events)
            params.append(model.parameter_vector(plan.parameters))
    ds = simulate(model, TIMES, np.vstack(params), y0=y0, events=events)
    assert np.all(ds["status"].values == 0)
    return {key: ds.isel(patient=i) for i, key in enumerate(keys)}


def _endpoint(therapy: str, ds) -> float:
    """Smaller is better."""
    kind, name = therapy.split(":")
    if kind == "msc":
        return -float(np.trapezoid(ds["msc_secretome_pool"].values, TIMES))
    if CATALOGUE[name].diseases[0] == "AD":
        return float(ds["EASI"].values[TIMES.searchsorted(16 * WEEK)])
    return float(ds["PASI_index"].values[TIMES.searchsorted(12 * WEEK)])


def _bad_values(therapy: str) -> list[tuple[str, dict]]:
    kind, name = therapy.split(":")
    if kind == "drug":
        entry = CATALOGUE[name]
        top = entry.label.dose_range[1] * MAX_LABEL_MULTIPLE
        good = {"drug": name, "amount": entry.label.dose, "unit": entry.unit}
        cases = [
            ("amount", {"amount": -1.0}),
            ("amount", {"amount": math.nan}),
            ("amount", {"amount": math.inf}),
            ("amount", {"amount": 10 * top}),
            ("unit", {"unit": "kg"}),
            ("route", {"route": "intrathecal"}),
            ("drug", {"drug": "aspirin"}),
            ("start_day", {"start_day": -1.0}),
        ]
        return [(f, {**good, **kw}) for f, kw in cases]
    good = {"source": name, "amount": 1e7}
    cases = [
        ("amount", {"amount": -1e6}),
        ("amount", {"amount": math.nan}),
        ("unit", {"unit": "mg"}),
        ("route", {"route": "oral"}),
        ("source", {"source": "tonsil"}),
        ("times", {"times": [-1.0]}),
    ]
    return [(f, {**good, **kw}) for f, kw in cases]


@pytest.mark.parametrize("therapy", THERAPIES)
def test_therapy_conformance(therapy, runs, model):
    kind, name = therapy.split(":")
    none = runs[("none", 0.0)]

    # 1. zero dose: bitwise the untreated trajectory
    zero = runs[(therapy, 0.0)]
    for state in model.state_names:
        assert np.array_equal(zero[state].values, none[state].values), state

    # 2. effect monotone in dose over the labelled range, and better than nothing
    ends = [_endpoint(therapy, runs[(therapy, a)]) for a in _amounts(therapy)]
    assert np.all(np.diff(ends) <= 1e-9 * max(1.0, abs(ends[0]))), ends
    assert ends[-1] < ends[0] - 1e-3 * max(1.0, abs(ends[0])), ends

    # 3. units and sources on the entry and on every model parameter it sets
    if kind == "drug":
        entry = CATALOGUE[name]
        assert entry.unit in UNITS and entry.route in ROUTES
        assert entry.sources and all(entry.sources)
        assert entry.label.source and entry.label.text
        if entry.exposure == "first_order":
            assert entry.half_life_source and entry.exposure_source
        sources = drug_parameter_sources(name)
        set_params = Regimen(_items(therapy, entry.label.dose)).plan().parameters
    else:
        assert SOURCE_FACTORS[name].source
        set_params = msc_parameters(_items(therapy, 1e7)[0].product)
        sources = {p: model.parameter(p).source for p in set_params}
    for pname in set_params:
        par = model.parameter(pname)
        assert par.unit and par.source, pname
        assert sources[pname], pname

    # 4. bad values: a one-line TherapyError naming the field
    for field, kw in _bad_values(therapy):
        with pytest.raises(TherapyError) as err:
            DrugDose(**kw) if kind == "drug" else msc_course(**kw)
        text = str(err.value)
        assert "\n" not in text, text
        assert text.startswith(field), text
