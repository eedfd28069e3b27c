"""SBML export: valid documents with consistent units that libRoadRunner simulates like an
independent SciPy solve."""

from __future__ import annotations

import doctest
import math

import libsbml
import numpy as np
import pytest
import roadrunner
import sympy as sp
from scipy.integrate import solve_ivp

import dermatwin.io.sbml as sbml_module
import dermatwin.io.sbml_units as sbml_units_module
from dermatwin.engine.events import Event, EventKind, bolus, infusion, set_parameter
from dermatwin.errors import ModelError
from dermatwin.io.sbml import from_sbml, sbml_name_map, to_sbml, write_sbml
from dermatwin.model.reference import miyano2021, shmarov2022
from dermatwin.model.registry import available_models, get_model
from dermatwin.model.spec import ModelBuilder

RTOL = 1e-6  # agreement required between roadrunner and the SciPy reference
DUPILUMAB = {"PLAC": 1.0, "e_IL4": 0.99, "e_IL13": 0.99}


# -- helpers -------------------------------------------------------------------------------
class Document:
    """A parsed SBML string; keeps the SBMLDocument alive while its model is used."""

    def __init__(self, text: str):
        self.doc = libsbml.readSBMLFromString(text)
        self.doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
        self.doc.checkConsistency()
        self.errors = [
            f"{e.getErrorId()}: {e.getMessage()}"
            for e in (self.doc.getError(i) for i in range(self.doc.getNumErrors()))
            if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR
        ]
        self.model = self.doc.getModel()


def read(text: str) -> Document:
    """Parse and check a document; use ``.model`` while the returned object is alive."""
    d = Document(text)
    assert d.doc.getLevel() == 3 and d.doc.getVersion() == 2
    assert d.errors == []
    return d


def runner(text: str, selections: list[str]) -> roadrunner.RoadRunner:
    rr = roadrunner.RoadRunner(text)
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-12
    rr.timeCourseSelections = ["time", *selections]
    return rr


def simulate_rr(text: str, selections: list[str], times: np.ndarray) -> np.ndarray:
    """Values at ``times`` of a simulation from day 0 (roadrunner starts at times[0])."""
    grid = np.union1d([0.0], times)
    result = np.asarray(runner(text, selections).simulate(times=list(grid)))
    np.testing.assert_allclose(result[:, 0], grid, rtol=0, atol=1e-12)
    return result[np.isin(grid, times), 1:]


def reference(model, parameters, x0, events, times, method="LSODA"):
    """Independent solution: SciPy on the lambdified equations, restarted at each event."""
    t = sp.Symbol("t", real=True)
    f = sp.lambdify((t, model.state_symbols, model.parameter_symbols), list(model.rhs), "numpy")
    p = np.array(parameters, dtype=float)
    x = np.array(x0, dtype=float)
    rate = np.zeros(len(model.states))  # zero-order inputs set by SET_RATE events
    out = np.full((len(times), len(model.states)), np.nan)
    ordered = sorted(events, key=lambda e: e.time)
    breaks = sorted({e.time for e in ordered} | {float(times[-1])})
    start = 0.0
    for stop in breaks:
        if stop > start:
            mask = (times >= start) & (times <= stop)
            seg = np.union1d(times[mask], [stop])
            sol = solve_ivp(
                lambda tt, y, p=p, rate=rate: np.asarray(f(tt, y, p), dtype=float) + rate,
                (start, stop),
                x,
                method=method,
                t_eval=seg,
                rtol=1e-10,
                atol=1e-12,
            )
            assert sol.success, sol.message
            out[mask] = sol.y.T[np.isin(seg, times[mask])]
            x = sol.y[:, -1].copy()
        for e in (e for e in ordered if e.time == stop):
            if e.kind == EventKind.BOLUS:
                x[model.state_index(e.target)] += e.value
            elif e.kind == EventKind.SET_STATE:
                x[model.state_index(e.target)] = e.value
            elif e.kind == EventKind.SET_RATE:
                rate[model.state_index(e.target)] = e.value
            else:
                p[model.parameter_index(e.target)] = e.value
        start = stop
    assert not np.isnan(out).any()
    return out, p


def output_values(model, name, states, parameters):
    out = model.outputs[model.output_names.index(name)]
    g = sp.lambdify((model.state_symbols, model.parameter_symbols), out.expression, "numpy")
    return np.array([g(x, parameters) for x in states], dtype=float)


def max_rel(a, b):
    return float(np.max(np.abs(a - b) / np.abs(b)))


def decay_model():
    b = ModelBuilder("decay", "first-order loss", references=("ASSUMED",))
    x = b.state("x", unit="cell/mm2", initial=100.0, description="cells")
    k = b.parameter("k", 0.5, unit="1/day", source="assumed", description="loss rate")
    b.ode(x, -k * x)
    b.output("half", x / 2, unit="cell/mm2", description="half of x")
    return b.build()


def unit_triples(model: libsbml.Model, sid: str) -> list[tuple[str, float, float]]:
    udef = model.getUnitDefinition(sid)
    assert udef is not None, sid
    return [
        (libsbml.UnitKind_toString(u.getKind()), u.getExponent(), u.getMultiplier())
        for u in (udef.getUnit(i) for i in range(udef.getNumUnits()))
    ]


def check_units_attached(model: libsbml.Model) -> None:
    defined = {model.getUnitDefinition(i).getId() for i in range(model.getNumUnitDefinitions())}
    defined.add("dimensionless")
    for i in range(model.getNumSpecies()):
        assert model.getSpecies(i).getSubstanceUnits() in defined
    for i in range(model.getNumCompartments()):
        assert model.getCompartment(i).getUnits() in defined
    for i in range(model.getNumParameters()):
        assert model.getParameter(i).getUnits() in defined
    assert model.getTimeUnits() == "day"
    assert unit_triples(model, "day") == [("second", 1.0, 86400.0)]


# -- reference models ----------------------------------------------------------------------
def test_miyano2021_document_structure():
    model = miyano2021.build()
    doc = read(to_sbml(model, parameters=DUPILUMAB))
    m = doc.model
    assert m.getId() == "miyano2021"
    assert m.getNumCompartments() == 1 and m.getCompartment(0).getId() == "skin"
    assert m.getNumSpecies() == 14
    assert m.getNumParameters() == len(model.parameters) + 1  # + EASI
    assert m.getNumRules() == 14 + 1
    assert sum(m.getRule(i).isRate() for i in range(m.getNumRules())) == 14
    assert m.getNumEvents() == 0
    # day + au, 1/week, 1/au/week, 1/au, au/week and the week/day of the 1/7 factors
    # ("dimensionless" is built in)
    assert m.getNumUnitDefinitions() == 7
    assert unit_triples(m, "week_per_day") == [("dimensionless", 1.0, 7.0)]
    check_units_attached(m)
    assert unit_triples(m, "per_week") == [("second", -1.0, 604800.0)]
    assert m.getSpecies("s").getSubstanceUnits() == "au"
    assert m.getSpecies("s").getHasOnlySubstanceUnits()
    assert not m.getSpecies("s").getBoundaryCondition()
    assert m.getParameter("k1").getUnits() == "per_week"
    assert m.getParameter("PLAC").getValue() == 1.0
    assert m.getParameter("e_IL4").getValue() == 0.99
    assert all(m.getParameter(i).getConstant() for i in range(len(model.parameters)))
    easi = m.getParameter("EASI")
    assert not easi.getConstant() and easi.getUnits() == "dimensionless"
    assert m.getAssignmentRuleByVariable("EASI") is not None
    notes = m.getNotesString()
    assert "MIYANO2021" in notes and "research use" in notes.lower()


def test_miyano2021_dupilumab_matches_scipy():
    model = miyano2021.build()
    times = np.linspace(0.0, 70.0, 71)
    text = to_sbml(model, parameters=DUPILUMAB)
    ids = sbml_name_map(model)
    got = simulate_rr(text, [ids[n] for n in model.state_names] + ["EASI"], times)
    params = model.parameter_vector(DUPILUMAB)
    want, _ = reference(model, params, model.default_initial_state(), [], times)
    np.testing.assert_allclose(got[:, :-1], want, rtol=RTOL)
    easi = output_values(model, "EASI", want, params)
    np.testing.assert_allclose(got[:, -1], easi, rtol=RTOL)
    assert easi[-1] < 0.5 * easi[0]  # the treatment acts: EASI falls over 10 weeks


def test_shmarov2022_stimulus_matches_scipy():
    model = shmarov2022.build()
    events = shmarov2022.dc_stimulus(10.0, 2.0)
    times = np.array([t for t in np.linspace(0.0, 60.0, 121) if t not in (10.0, 12.0)])
    text = to_sbml(model, events=events)
    doc = read(text)
    m = doc.model
    assert m.getNumSpecies() == 10
    assert m.getNumParameters() == len(model.parameters) + len(model.outputs)
    assert m.getNumRules() == 10 + len(model.outputs)
    assert m.getNumUnitDefinitions() == 14  # 12 of parameters, mm2 and cell of the cells
    check_units_attached(m)
    # cells per mm2 are concentrations in a compartment of 1 mm2; au states amounts in skin
    area = m.getCompartment("unit_mm2")
    assert area.getSize() == 1.0 and area.getSpatialDimensions() == 2.0
    assert unit_triples(m, area.getUnits()) == [("metre", 2.0, 1e-3)]
    sc, il23 = m.getSpecies("SC"), m.getSpecies("IL23")
    assert (sc.getCompartment(), sc.getSubstanceUnits()) == ("unit_mm2", "cell")
    assert not sc.getHasOnlySubstanceUnits()
    assert (il23.getCompartment(), il23.getSubstanceUnits()) == ("skin", "au")
    assert il23.getHasOnlySubstanceUnits()
    assert unit_triples(m, "mm2_per_cell_per_day") == [
        ("metre", 2.0, 1e-3),
        ("item", -1.0, 1.0),
        ("second", -1.0, 86400.0),
    ]
    assert m.getNumEvents() == 2
    assert not m.getParameter("dc_stim").getConstant()
    assert m.getParameter("uv_dose").getConstant()
    for i in range(m.getNumEvents()):
        ev = m.getEvent(i)
        assert ev.getUseValuesFromTriggerTime()
        assert not ev.getTrigger().getInitialValue() and ev.getTrigger().getPersistent()

    ids = sbml_name_map(model)
    got = simulate_rr(text, [ids[n] for n in model.state_names] + ["PASI_index"], times)
    params = model.default_parameters()
    want, _ = reference(model, params, model.default_initial_state(), events, times)
    np.testing.assert_allclose(got[:, :-1], want, rtol=RTOL)
    pasi = output_values(model, "PASI_index", want, params)
    np.testing.assert_allclose(got[:, -1], pasi, rtol=RTOL, atol=1e-7)
    d = model.state_index("DC")
    assert want[times.tolist().index(11.0), d] > 1.2 * want[0, d]  # the stimulus acts


# -- events on a small model with an analytic solution -------------------------------------
def test_bolus_events_fold_in_order():
    model = decay_model()
    k, x0 = 0.5, 100.0
    events = [
        bolus(0.0, "x", 50.0),  # at the start: fires at t = 0
        bolus(2.0, "x", 20.0),
        bolus(2.0, "x", 5.0),  # same time, same target: +25 in one assignment
        Event(5.0, EventKind.SET_STATE, "x", 10.0),
        bolus(5.0, "x", 1.0),  # after the reset: 11, not 10 and not x + 1
    ]
    text = to_sbml(model, events=events)
    doc = read(text)
    m = doc.model
    assert m.getNumEvents() == 3
    assert [m.getEvent(i).getNumEventAssignments() for i in range(3)] == [1, 1, 1]
    times = np.array([0.5, 1.0, 1.9, 2.1, 3.0, 4.9, 5.1, 7.0])
    got = simulate_rr(text, ["x", "half"], times)

    def analytic(t):
        if t < 2.0:
            return (x0 + 50.0) * math.exp(-k * t)
        if t < 5.0:
            return ((x0 + 50.0) * math.exp(-2 * k) + 25.0) * math.exp(-k * (t - 2.0))
        return 11.0 * math.exp(-k * (t - 5.0))

    want = np.array([analytic(t) for t in times])
    np.testing.assert_allclose(got[:, 0], want, rtol=RTOL)
    np.testing.assert_allclose(got[:, 1], want / 2, rtol=RTOL)


def test_set_rate_and_set_parameter_events():
    model = decay_model()
    k, x0, r = 0.5, 100.0, 20.0
    events = [*infusion(1.0, 3.0, "x", r), set_parameter(6.0, "k", 1.0)]
    text = to_sbml(model, events=events)
    doc = read(text)
    m = doc.model
    inp = m.getParameter("x_input")
    assert inp is not None and not inp.getConstant() and inp.getValue() == 0.0
    assert inp.getUnits() == "cell_per_mm2_per_day"
    assert unit_triples(m, "cell_per_mm2_per_day") == [
        ("item", 1.0, 1.0),
        ("metre", -2.0, 1e-3),
        ("second", -1.0, 86400.0),
    ]
    assert "x_input" in libsbml.formulaToL3String(m.getRateRule("x").getMath())
    assert not m.getParameter("k").getConstant()

    times = np.array([0.5, 0.99, 1.5, 3.0, 3.99, 4.01, 5.0, 5.99, 6.01, 8.0])
    got = simulate_rr(text, ["x"], times)

    def analytic(t):
        if t < 1.0:
            return x0 * math.exp(-k * t)
        x1 = x0 * math.exp(-k)
        if t < 4.0:
            return r / k + (x1 - r / k) * math.exp(-k * (t - 1.0))
        x4 = r / k + (x1 - r / k) * math.exp(-3 * k)
        if t < 6.0:
            return x4 * math.exp(-k * (t - 4.0))
        return x4 * math.exp(-2 * k) * math.exp(-1.0 * (t - 6.0))

    np.testing.assert_allclose(got[:, 0], [analytic(t) for t in times], rtol=RTOL)


# -- formulas and identifiers --------------------------------------------------------------
def test_functions_time_and_reserved_names_match_scipy():
    b = ModelBuilder("3funcs", "functions of time and states")
    t = sp.Symbol("t", real=True)
    x = b.state("x", unit="au", initial=1.0, description="x")
    y = b.state("time", unit="dimensionless", initial=0.5, description="a state called time")
    pi = b.parameter("pi", 0.3, unit="1/day", source="assumed", description="called pi")
    e = b.parameter("e", 1 / 7.0, unit="1/day", source="assumed", description="called e")
    b.ode(x, -pi * x + sp.Max(0, sp.Min(t - 1, 1)) + sp.Piecewise((e, t < 2), (e / 2, True)))
    b.ode(y, -e * y + sp.sqrt(x) * sp.exp(-t) + sp.log(1 + t) / 10 + sp.Rational(1, 3))
    b.output("ratio", x / y, unit="au", description="x over time")
    b.output("x", 2 * x, unit="au", description="an output named like a state")
    model = b.build()
    ids = sbml_name_map(model)
    assert ids == {"x": "x", "time": "time_", "pi": "pi_", "e": "e", "ratio": "ratio"}
    text = to_sbml(model)
    doc = read(text)
    assert doc.model.getId() == "x_3funcs"
    assert doc.model.getAssignmentRuleByVariable("x_") is not None
    times = np.array([0.5, 1.0, 1.5, 2.5, 4.0])  # the kinks at t = 1, 2 are not events
    got = simulate_rr(text, ["x", "time_", "ratio", "x_"], times)
    want, params = reference(model, model.default_parameters(), [1.0, 0.5], [], times, "Radau")
    np.testing.assert_allclose(got[:, :2], want, rtol=RTOL)
    np.testing.assert_allclose(got[:, 2], want[:, 0] / want[:, 1], rtol=RTOL)
    np.testing.assert_allclose(got[:, 3], 2 * want[:, 0], rtol=RTOL)


def test_model_id_is_unique_among_ids():
    b = ModelBuilder("x", "a model named like its state")
    x = b.state("x", unit="au", initial=1.0, description="x")
    b.ode(x, -x)
    assert read(to_sbml(b.build())).model.getId() == "x_"


def test_floats_keep_full_precision():
    b = ModelBuilder("precise", "numbers that need 17 digits")
    x = b.state("x", unit="au", initial=1.0, description="x")
    y = b.state("y", unit="au", initial=1.0, description="y")
    b.ode(x, -x / 7.0)
    b.ode(y, -(0.1 + 0.2) * y)
    rates = runner(to_sbml(b.build()), ["x", "y"]).getRatesOfChange()
    assert list(rates) == [-1 / 7.0, -(0.1 + 0.2)]


def test_parameter_vector_initial_state_and_write(tmp_path):
    model = decay_model()
    path = write_sbml(
        model, tmp_path / "decay.xml", parameters=np.array([0.25]), initial_state=np.array([3.0])
    )
    doc = libsbml.readSBMLFromFile(str(path))
    m = doc.getModel()
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    assert m.getParameter("k").getValue() == 0.25
    assert m.getSpecies("x").getInitialConcentration() == 3.0
    assert m.getSpecies("x").getSubstanceUnits() == "cell"
    assert m.getParameter("half").getUnits() == "cell_per_mm2"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"events": [bolus(-1.0, "x", 1.0)]}, ">= 0"),
        ({"events": [bolus(1.0, "nope", 1.0)]}, "unknown state"),
        ({"events": [set_parameter(1.0, "x", 1.0)]}, "unknown parameter"),
        ({"events": [bolus(1.0, "x", math.nan)]}, "finite"),
        ({"events": [Event(1.0, 7, "x", 1.0)]}, "event kind 7 is unknown"),
        ({"initial_state": np.array([math.nan])}, "must be finite"),
        ({"parameters": np.array([1.0, 2.0])}, "expected 1 values"),
        ({"parameters": {"k": math.inf}}, "outside its allowed range"),
        ({"initial_state": np.zeros(3)}, "expected 1 values"),
    ],
)
def test_invalid_input_is_rejected(kwargs, message):
    with pytest.raises(ModelError, match=message):
        to_sbml(decay_model(), **kwargs)


@pytest.mark.parametrize("module", [sbml_module, sbml_units_module])
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


# -- units -----------------------------------------------------------------------------------
# Every shipped model gives no unit warning except three from one equation of the published
# Miyano 2021 model (also inside the skin model, which contains it): the pathogen's loss
# rate adds ``d8`` (per week) to a dimensionless product whose rate constant the paper
# fixes at 1 per week without naming it, so libSBML cannot give the rate rule of ``p``
# units. Anything else, including a new inconsistency in that model, fails these tests.
# the published equation of p (Miyano 2021): two 10501 (its sum, and the sum inside it)
# and one 10532 (so the rate rule of p has no units)
PUBLISHED = {"miyano2021": 3, "shmarov2022": 0, "skin": 3}
P_EQUATION = ("d8 + (1 + d4 * p)", "variable 'p'")


def unit_warnings(text: str) -> list[str]:
    """libSBML's unit-consistency messages for an SBML document (other checks off)."""
    doc = libsbml.readSBMLFromString(text)
    for category in (
        libsbml.LIBSBML_CAT_GENERAL_CONSISTENCY,
        libsbml.LIBSBML_CAT_IDENTIFIER_CONSISTENCY,
        libsbml.LIBSBML_CAT_MATHML_CONSISTENCY,
        libsbml.LIBSBML_CAT_SBO_CONSISTENCY,
        libsbml.LIBSBML_CAT_OVERDETERMINED_MODEL,
        libsbml.LIBSBML_CAT_MODELING_PRACTICE,
    ):
        doc.setConsistencyChecks(category, False)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    doc.checkConsistency()
    return [
        f"{doc.getError(i).getErrorId()}: {' '.join(doc.getError(i).getMessage().split())}"
        for i in range(doc.getNumErrors())
    ]


def test_models_are_all_checked():
    assert set(PUBLISHED) == set(available_models())


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_shipped_model_units_are_consistent(name):
    warnings = unit_warnings(to_sbml(get_model(name)))
    assert len(warnings) == PUBLISHED[name], warnings
    # every one is the published equation of p, nothing else
    assert all(any(s in w for s in P_EQUATION) for w in warnings), warnings


def test_a_model_with_a_unit_error_is_caught():
    """The check can fail: a rate per day added to cells per day is reported."""
    b = ModelBuilder("wrong", "a rate added to a flux")
    x = b.state("x", unit="cell", initial=1.0, description="cells")
    k = b.parameter("k", 0.5, unit="1/day", source="assumed", description="rate")
    b.ode(x, -k * x + k)
    assert any(w.startswith("10501") for w in unit_warnings(to_sbml(b.build())))


def dosed_model():
    """States in amounts, per area, per volume and in a unit that is neither (an area)."""
    b = ModelBuilder("dosed", "each kind of state, dosed by every kind of event")
    t = sp.Symbol("t", real=True)
    cells = b.state("cells", unit="cell", initial=10.0, description="cells")
    density = b.state("density", unit="cell/mm2", initial=100.0, description="density")
    drug = b.state("drug", unit="mg/L", initial=0.0, description="exposure")
    area = b.state("area", unit="mm2", initial=4.0, description="wound area")
    k = b.parameter("k", 0.5, unit="1/day", source="assumed", description="loss rate")
    kw = b.parameter("kw", 0.7, unit="1/week", source="assumed", description="weekly rate")
    ec50 = b.parameter("ec50", 2.0, unit="mg/L", source="assumed", description="potency")
    age = b.parameter("age", 40.0, unit="year", source="assumed", description="age")
    effect = sp.Piecewise((0, drug <= 0), (drug / (ec50 + drug), True))
    b.ode(cells, 3 - k * cells * (1 - effect))
    b.ode(density, -kw / 7 * density + 1)
    b.ode(drug, -k * drug)
    b.ode(area, -k * area * (age + t / 365.25) / age)
    b.output("per_cell", density / (1 + cells), unit="1/mm2", description="density/cell")
    return b.build()


DOSES = [
    bolus(1.0, "drug", 5.0),
    bolus(1.0, "drug", 2.5),
    Event(3.0, EventKind.SET_STATE, "cells", 4.0),
    *infusion(2.0, 6.0, "density", 20.0),
    set_parameter(5.0, "k", 0.25),
]


def test_dosing_events_have_units_and_simulate():
    model = dosed_model()
    text = to_sbml(model, events=DOSES)
    assert unit_warnings(text) == []
    doc = libsbml.readSBMLFromString(text)
    m = doc.getModel()
    # the area state is a parameter with a rate rule (SBML species are amounts or
    # concentrations); the others are species in the compartment their unit implies
    assert m.getParameter("area") is not None and m.getRateRule("area") is not None
    places = {s.getId(): s.getCompartment() for s in m.getListOfSpecies()}
    assert places == {"cells": "skin", "density": "unit_mm2", "drug": "unit_L"}
    assert m.getCompartment("unit_L").getSpatialDimensions() == 3.0
    # the 1/7 converts a weekly rate (week/day), the 1/365.25 days to years
    assert {m.getUnitDefinition(i).getId() for i in range(m.getNumUnitDefinitions())} >= {
        "week_per_day",
        "year_per_day",
    }
    # a dose has its target's units, an event time is in days
    for i in range(m.getNumEvents()):
        ev = m.getEvent(i)
        assert "day" in libsbml.writeMathMLToString(ev.getTrigger().getMath())
    # the re-imported model keeps the units; libRoadRunner matches an independent solve
    imported = from_sbml(text)
    assert {s.name: s.unit for s in imported.model.states} == {s.name: s.unit for s in model.states}
    times = np.array([0.5, 1.5, 2.5, 3.5, 5.5, 6.5, 8.0])
    got = simulate_rr(text, [*model.state_names, "per_cell"], times)
    want, params = reference(
        model, model.default_parameters(), model.default_initial_state(), DOSES, times
    )
    np.testing.assert_allclose(got[:, :-1], want, rtol=RTOL)
    per_cell = output_values(model, "per_cell", want, params)
    np.testing.assert_allclose(got[:, -1], per_cell, rtol=RTOL)
