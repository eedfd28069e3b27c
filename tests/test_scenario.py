"""Scenario validation: every bad input is one precise line naming the field."""

from __future__ import annotations

import pytest

from dermatwin.errors import ScenarioError
from dermatwin.scenario import Scenario, load_scenario

GOOD = """
model: miyano2021
horizon: 16 weeks
arms:
  a:
    treatments: [{intervention: dupilumab}]
    events: [{time: 3 d, set_parameter: k3, value: 1.0}]
"""


def write(tmp_path, text):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_good_scenario_loads(tmp_path):
    s = load_scenario(write(tmp_path, GOOD))
    assert s.horizon == 112.0
    assert s.output_times()[0] == 0.0 and s.output_times()[-1] == 112.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD.replace("miyano2021", "miyano1999"),
            "scenario field 'model': unknown model 'miyano1999'; allowed: miyano2021, shmarov2022",
        ),
        (
            GOOD.replace("dupilumab", "dupilumabb"),
            "unknown intervention 'dupilumabb' for model miyano2021; allowed: GBR830, dupilumab",
        ),
        (
            GOOD.replace("set_parameter: k3, value: 1.0", "bolus: s, amount: -1"),
            "scenario field 'arms.a.events.0.amount",
        ),
        (
            GOOD.replace("time: 3 d", "time: 30 weeks"),
            "events.time: 210.0 days is outside [0, horizon=112.0]",
        ),
        (GOOD + "parameters: {k1: .nan}\n", "parameter k1 must be a finite number"),
        (
            GOOD.replace("horizon: 16 weeks\n", ""),
            "scenario field 'horizon': required field is missing",
        ),
        (GOOD + "colour: red\n", "scenario: unknown field 'colour'; allowed: model,"),
        (GOOD.replace("set_parameter: k3", "set_parameter: k99"), "unknown parameter 'k99'"),
        (GOOD + "patients: {n: 0}\n", "scenario field 'patients.n'"),
        (GOOD + "endpoints: [EASI-75@40w]\n", "endpoints: 'EASI-75@40w' is outside the horizon"),
        (GOOD + "endpoints: [PASI-75@12w]\n", "uses unknown variable 'PASI'"),
        ("model: [unclosed", "not valid YAML"),
        ("- a list", "must be a YAML mapping"),
    ],
)
def test_bad_scenarios_fail_with_one_line(tmp_path, text, message):
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    text_err = str(info.value)
    assert message in text_err
    assert "\n" not in text_err


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="scenario file not found"):
        load_scenario(tmp_path / "nope.yaml")


def test_event_lists_expand_with_on_off_duration():
    s = Scenario.model_validate(
        {
            "model": "shmarov2022",
            "horizon": 30,
            "arms": {
                "uvb": {
                    "events": [
                        {
                            "set_parameter": "uv_dose",
                            "time": [1, 3],
                            "value": [0.5, 0.7],
                            "duration": 1,
                        }
                    ]
                }
            },
        }
    )
    model = s.get_model()
    events = s.arm_events(model, s.arms["uvb"])
    assert [(e.time, e.value) for e in events] == [(1, 0.5), (2, 0.0), (3, 0.7), (4, 0.0)]


# issue 12: values accepted (exit 0) or crashing before; each must be one line naming it
LIMIT_CASES = [
    (GOOD + "parameters: {k1: 1.0e300}\n", "parameters.k1"),
    (GOOD + "parameters: {k1: -2.0}\n", "parameters.k1"),
    (GOOD + "parameters: {k1: true}\n", "parameter k1 must be a finite number"),
    (GOOD.replace("value: 1.0", "value: 1.0e300"), "set_parameter: k3"),
    (GOOD.replace("16 weeks", "1.0e12"), "scenario field 'horizon'"),
    (GOOD.replace("16 weeks", "1e12 days"), "scenario field 'horizon'"),
    (GOOD + "output_every: 1.0e-9\n", "output_every"),
    (GOOD + "times: [-5]\n", "times: day -5"),
    (GOOD + "patients: {n: true}\n", "patients.n"),
    (GOOD + "patients: {n: 1000000000000}\n", "patients.n"),
    (GOOD + "patients: {seed: -1}\n", "patients.seed"),
    (GOOD + "endpoints: [EASI-200@12w]\n", "EASI-200@12w"),
    (GOOD.replace("treatments: [{intervention: dupilumab}]", "treatments: 5"), "treatments"),
    (GOOD + "solver: {max_steps: 1000000000000}\n", "solver.max_steps"),
    (GOOD.replace("horizon: 16 weeks", "horizon: 16 weeks\nhorizon: 1.0e12"), "duplicate key"),
    (GOOD.replace("  a:\n", "  ../../x:\n"), "arm name '../../x'"),
    (GOOD.replace("  a:\n", "  $\\frac:\n"), "arm name"),
]


@pytest.mark.parametrize(("text", "message"), LIMIT_CASES)
def test_out_of_range_values_are_one_line(tmp_path, text, message):
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    text_err = str(info.value)
    assert message in text_err, text_err
    assert "\n" not in text_err and len(text_err) < 400
