"""SBML import: shipped models survive export -> import, and a third-party-style model
simulated by dermatwin's engine matches libRoadRunner (1e-6 relative)."""

from __future__ import annotations

from pathlib import Path

import libsbml
import numpy as np
import pytest
import sympy as sp

from dermatwin.engine.events import EventKind, bolus, intervention
from dermatwin.engine.simulate import SolverOptions, equilibrate, simulate
from dermatwin.errors import ModelError
from dermatwin.io.sbml import from_sbml, read_sbml, to_sbml
from dermatwin.model.reference import miyano2021, shmarov2022
from dermatwin.model.registry import available_models, get_model

roadrunner = pytest.importorskip("roadrunner")

DATA = Path(__file__).resolve().parents[1] / "data" / "sbml"
PULSE = DATA / "enzyme_pulse_l2v4.xml"
TIGHT = SolverOptions(rtol=1e-10, atol_factor=1e-12, method="rodas4")
RTOL = 1e-6


def max_rel(a, b, floor=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), floor)))


# -- round trip of the shipped models ------------------------------------------------------
@pytest.mark.parametrize("name", available_models())
def test_round_trip_equations_equal(name):
    """Every shipped model: the re-imported right-hand sides and outputs evaluate to the
    original's (1e-12 of each one's largest value) at the initial state and perturbed ones."""
    model = get_model(name)
    imported = from_sbml(to_sbml(model)).model
    assert imported.state_names == model.state_names
    assert set(model.parameter_names) <= set(imported.parameter_names)
    assert set(model.output_names) == set(imported.output_names)
    np.testing.assert_array_equal(imported.default_initial_state(), model.default_initial_state())
    # attribute values are written with 15 significant digits (dermatwin.io.sbml)
    values = [imported.parameter(k).value for k in model.parameter_names]
    np.testing.assert_allclose(values, model.default_parameters(), rtol=1e-14, atol=0)

    def evaluate(m, states):
        args = (m.state_symbols, m.parameter_symbols, sp.Symbol("t", real=True))
        exprs = [*m.rhs, *(m.outputs[m.output_names.index(o)].expression for o in outputs)]
        f = sp.lambdify(args, exprs, "numpy")
        p = np.array(
            [
                model_values.get(n, v)
                for n, v in zip(m.parameter_names, m.default_parameters(), strict=True)
            ]
        )
        return np.array([np.asarray(f(x, p, 3.0), dtype=float) for x in states])

    outputs = list(model.output_names)
    model_values = dict(zip(model.parameter_names, model.default_parameters(), strict=True))
    rng = np.random.default_rng(1)
    x0 = model.default_initial_state()
    states = [x0, *(x0 * rng.uniform(0.5, 1.5, x0.size) for _ in range(3))]
    want, got = evaluate(model, states), evaluate(imported, states)
    # relative to each column's largest value: a sum that cancels keeps rounding noise (the
    # skin model's PASI at a healthy state, 1.4e-6 points, is a difference of terms of
    # order 1 and keeps ~4e-16 of absolute rounding), so the scale has a floor of 1e-3
    scale = np.maximum(np.max(np.abs(want), axis=0), 1e-3)
    assert float(np.max(np.abs(got - want) / scale)) < 1e-12


@pytest.mark.parametrize("drug", ["dupilumab", "rIFNg"])
def test_round_trip_miyano_simulates_like_the_original(drug):
    model = miyano2021.build()
    y0, status = equilibrate(model)
    assert status[0] == 0
    events = intervention(model, drug, 1.0, stop=60.0)
    imported = from_sbml(to_sbml(model, initial_state=y0[0], events=events))
    assert len(imported.events) == len(events)
    times = np.array([0.5, 3.3, 28.7, 59.5, 60.5, 84.2, 112.3])
    want = simulate(model, times, y0=y0[0], events=events, options=TIGHT)
    got = simulate(imported.model, times, events=list(imported.events), options=TIGHT)
    for name in [*model.state_names, "EASI"]:
        assert max_rel(got[name].values, want[name].values) < RTOL, name
    assert float(want["EASI"][0, 3]) < 0.8 * float(want["EASI"][0, 0])  # the drug acts


def test_round_trip_shmarov_with_stimulus_and_uvb():
    model = shmarov2022.build()
    events = shmarov2022.dc_stimulus(10.0, 2.0) + shmarov2022.uvb_course(100.0)
    imported = from_sbml(to_sbml(model, events=events))
    times = np.array([5.5, 11.5, 40.5, 99.5, 101.5, 130.5, 170.5])
    want = simulate(model, times, events=events, options=TIGHT)
    got = simulate(imported.model, times, events=list(imported.events), options=TIGHT)
    for name in [*model.state_names, *model.output_names]:
        assert max_rel(got[name].values, want[name].values) < RTOL, name


# -- an external model against libRoadRunner -----------------------------------------------
def roadrunner_values(text: str, selections: list[str], times: np.ndarray) -> np.ndarray:
    rr = roadrunner.RoadRunner(text)
    rr.integrator.relative_tolerance = 1e-11
    rr.integrator.absolute_tolerance = 1e-13
    rr.timeCourseSelections = ["time", *selections]
    return np.asarray(rr.simulate(times=list(np.concatenate([[0.0], times]))))[1:, 1:]


# concentrations in roadrunner are [S]; E has only substance units (an amount)
PULSE_SELECTIONS = {"S": "[S]", "P": "[P]", "E": "E", "Pout": "[Pout]", "A": "A", "total": "total"}


@pytest.mark.parametrize("level", [(2, 4), (3, 1), (3, 2)])
def test_external_model_matches_roadrunner(level):
    doc = libsbml.readSBMLFromFile(str(PULSE))
    assert doc.setLevelAndVersion(*level, False)
    text = libsbml.writeSBMLToString(doc)
    # L2's default time unit is the second, which libSBML's conversion to L3 declares:
    # honoured unless overridden; roadrunner is unit-free, so read the time as days here
    declared = from_sbml(text).days_per_time_unit
    assert declared == (1.0 if level == (2, 4) else pytest.approx(1 / 86400))
    imported = from_sbml(text, time_unit="day")
    m = imported.model
    assert m.state_names == ("S", "P", "E", "Pout", "A")
    assert "export_kback" in m.parameter_names  # a kinetic law's local parameter
    kinds = sorted((e.time, e.kind, e.target) for e in imported.events)
    assert kinds == [
        (1.0, EventKind.SET_PARAMETER, "kdeg"),  # time > 20 * kA: 1 day
        (4.0, EventKind.BOLUS, "S"),
        (4.0, EventKind.SET_STATE, "E"),
    ]
    assert m.default_initial_state()[m.state_index("A")] == pytest.approx(0.1)  # 2 * kA
    times = np.array([0.5, 0.9, 1.1, 2.9, 3.1, 3.9, 4.1, 7.3, 15.0, 30.0])
    got = simulate(m, times, events=list(imported.events), options=TIGHT)
    want = roadrunner_values(text, list(PULSE_SELECTIONS.values()), times)
    for k, name in enumerate(PULSE_SELECTIONS):
        assert max_rel(got[name].values[0], want[:, k]) < RTOL, name
    # the events act: S jumps by 1.5 (concentration) at day 4
    assert float(got["S"][0, 6] - got["S"][0, 5]) > 1.0


def test_time_units_hours_become_days():
    """The same model with time in hours runs 24 times slower in days."""
    doc = libsbml.readSBMLFromFile(str(PULSE))
    assert doc.setLevelAndVersion(3, 2, False)
    text = libsbml.writeSBMLToString(doc)
    in_days = from_sbml(text, time_unit="day")
    in_hours = from_sbml(text, time_unit="h")
    assert [e.time for e in in_hours.events] == [e.time / 24 for e in in_days.events]
    assert in_hours.days_per_time_unit == pytest.approx(1 / 24)
    rhs_days, rhs_hours = in_days.model.rhs[2], in_hours.model.rhs[2]  # E: -kdeg * E
    assert sp.simplify(rhs_hours - 24 * rhs_days) == 0


def test_read_sbml_and_round_trip_of_a_bolus(tmp_path):
    from dermatwin.io.sbml import write_sbml
    from dermatwin.model.spec import ModelBuilder

    b = ModelBuilder("decay", "first-order loss")
    x = b.state("x", unit="cell/mm2", initial=100.0, description="cells")
    k = b.parameter("k", 0.5, unit="1/day", source="assumed", description="loss rate")
    b.ode(x, -k * x)
    path = write_sbml(b.build(), tmp_path / "decay.xml", events=[bolus(2.0, "x", 50.0)])
    imported = read_sbml(path)
    assert imported.model.states[0].unit == "cell/mm2"
    assert imported.model.parameter("k").unit == "1/day"
    assert imported.events[0].kind == EventKind.BOLUS
    assert "ImportedModel(" in repr(imported)


# -- unsupported constructs: one line naming the construct ---------------------------------
def edited(change) -> str:
    doc = libsbml.readSBMLFromFile(str(PULSE))
    assert doc.setLevelAndVersion(3, 2, False)
    change(doc.getModel())
    return libsbml.writeSBMLToString(doc)


def _algebraic(m):
    rule = m.createAlgebraicRule()
    rule.setMath(libsbml.parseL3Formula("kA - 0.05"))


def _state_trigger(m):
    m.getEvent("dose").getTrigger().setMath(libsbml.parseL3Formula("S > 2"))


def _delay(m):
    m.getEvent("dose").createDelay().setMath(libsbml.parseL3Formula("1"))


def _priority(m):
    m.getEvent("dose").createPriority().setMath(libsbml.parseL3Formula("1"))


def _variable_compartment(m):
    rule = m.createRateRule()
    rule.setVariable("medium")
    rule.setMath(libsbml.parseL3Formula("0.01"))
    m.getCompartment("medium").setConstant(False)


def _delay_function(m):
    m.getRateRule("A").setMath(libsbml.parseL3Formula("delay(S, 1)"))


def _state_assignment(m):
    m.getEvent("dose").getEventAssignment("E").setMath(libsbml.parseL3Formula("2 * S"))


def _variable_stoichiometry(m):
    m.getReaction("uptake").getProduct(0).setConstant(False)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (_algebraic, "algebraic rules"),
        (_state_trigger, "not a time threshold"),
        (_delay, "delay of event 'dose'"),
        (_priority, "priority of event 'dose'"),
        (_variable_compartment, "variable compartment size ('medium')"),
        (_delay_function, "'delay'"),
        (_state_assignment, "event 'dose' sets 'E' from S"),
        (_variable_stoichiometry, "variable stoichiometry in reaction 'uptake'"),
    ],
)
def test_unsupported_constructs_are_named(change, words):
    with pytest.raises(ModelError) as err:
        from_sbml(edited(change))
    message = str(err.value)
    assert words in message and "\n" not in message


def test_bad_documents_and_options():
    with pytest.raises(ModelError, match="not a readable SBML document"):
        from_sbml("<sbml>")
    with pytest.raises(ModelError, match="time_unit 'fortnight'.*allowed: day"):
        from_sbml(PULSE.read_text(), time_unit="fortnight")
    with pytest.raises(ModelError, match="path .*nothere.xml: cannot read"):
        read_sbml(DATA / "nothere.xml")


# -- command line --------------------------------------------------------------------------
def run_main(args, capsys):
    from dermatwin.cli import main

    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


def test_cli_import_simulates_and_writes_csv(tmp_path, capsys):
    import json

    import pandas as pd

    target = tmp_path / "traj.csv"
    code, out, err = run_main(
        ["import", "sbml", PULSE, "--simulate", "30", "--points", "7", "--out", target, "--json"],
        capsys,
    )
    assert code == 0, err
    info = json.loads(out)
    assert info["states"] == ["S", "P", "E", "Pout", "A"] and len(info["events"]) == 3
    frame = pd.read_csv(target)
    assert list(frame.columns) == ["time", "S", "P", "E", "Pout", "A", "total"]
    assert frame["time"].tolist() == [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0]
    assert info["final"]["A"] == pytest.approx(frame["A"].iloc[-1])
    want = roadrunner_values(PULSE.read_text(), ["A"], np.array([30.0]))[0, 0]
    assert frame["A"].iloc[-1] == pytest.approx(want, rel=1e-5)  # default solver settings
    code, out, err = run_main(["import", "sbml", PULSE], capsys)
    assert code == 0 and "S, P, E, Pout, A" in out
    # an existing file at --out is kept unless --overwrite
    again = ["import", "sbml", PULSE, "--simulate", "30", "--points", "7", "--out", target]
    before = target.read_text()
    code, out, err = run_main(again, capsys)
    assert code == 2 and "exists; give --overwrite" in err and len(err.strip().splitlines()) == 1
    assert target.read_text() == before
    code, out, err = run_main([*again, "--overwrite"], capsys)
    assert code == 0, err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--time-unit", "min"], "--time-unit 'min' is not a time unit"),
        (["--out", "x.csv"], "--out: give --simulate"),
        (["--simulate", "-1"], "--simulate"),
    ],
)
def test_cli_import_bad_input_is_one_line(args, words, capsys):
    code, out, err = run_main(["import", "sbml", PULSE, *args], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and words in err, err


def test_cli_import_unsupported_construct_is_one_line(tmp_path, capsys):
    path = tmp_path / "algebraic.xml"
    path.write_text(edited(_algebraic))
    code, out, err = run_main(["import", "sbml", path], capsys)
    assert code == 2 and err.strip() == "error: SBML import: algebraic rules are not supported"
