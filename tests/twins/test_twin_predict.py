"""Future regimens for ``twin predict``: every bad regimen is one line naming the item and
field, found before anything is simulated (days within the horizon, doses within the
catalogue's range, items of the right shape)."""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin.patients.profile import Patient
from dermatwin.twins.fit import FitSettings, Twin
from dermatwin.twins.likelihood import twin_model
from dermatwin.twins.predict import check_regimen, load_regimen, predict
from dermatwin.twins.prior import Prior, twin_parameters
from dermatwin.twins.visits import TwinDataError, Visit, VisitRecord

PATIENT = Patient(id="p", disease="AD", age=35.0, weight_kg=70.0)
MSC = "source: umbilical_cord, origin: allogeneic, amount: 2.0e6, unit: cells/kg, route: IV"


@pytest.fixture(scope="module")
def twin() -> Twin:
    """A twin of known parameters (no fit): a tight cloud of draws at the prior median."""
    prior = Prior(twin_parameters(twin_model()[0], PATIENT))
    draws = prior.mu + 0.05 * np.random.default_rng(0).standard_normal((8, prior.ndim))
    record = VisitRecord(PATIENT, (Visit(day=0.0, values={"EASI": 25.0}),), ())
    return Twin(record, prior.parameters, draws[None], np.zeros((1, 8)), FitSettings())


#: regimen file body -> part of the one-line error
BAD_REGIMENS = {
    "regimen: [{drug: dupilumab, amount: 1.0e9, unit: mg}]": "regimen[0]: amount: dupilumab dose",
    "regimen: [{drug: dupilumab, start: 400}]": "regimen[0]: start: 400 is outside 0-168",
    "regimen: [{drug: dupilumab, stop: 200}]": "regimen[0]: stop: 200 is outside 0-168",
    "horizon: 8 weeks\nregimen: [{drug: dupilumab, start: -7}]": "regimen[0]: start: a day >= 0",
    f"regimen: [{{msc: {{{MSC}, times: '14'}}}}]": "regimen[0]: msc: times: expected a list",
    f"regimen: [{{msc: {{{MSC}, times: []}}}}]": "regimen[0]: msc: times: needs at least 1 item",
    f"regimen: [{{msc: {{{MSC}, times: [0, 500]}}}}]": "regimen[0]: msc.times: 500 is outside",
}


@pytest.mark.parametrize("body", sorted(BAD_REGIMENS))
def test_bad_regimen_fails_before_simulating(tmp_path, twin, body, monkeypatch):
    path = tmp_path / "r.yaml"
    path.write_text(body + "\n")
    monkeypatch.setattr(Twin, "draws", lambda *a: pytest.fail("simulated a bad regimen"))
    with pytest.raises(TwinDataError) as err:  # reading the file or checking it may say so
        predict(twin, load_regimen(path), n_draws=4)
    assert BAD_REGIMENS[body] in str(err.value) and "\n" not in str(err.value), str(err.value)


#: regimen file body -> the one-line error of load_regimen
BAD_FILES = {
    "regimen: 5": "r.yaml: regimen: expected a list of items",
    "regimen: [dupilumab]": "r.yaml: regimen[0]: expected {drug: ...} or {msc: {...}}",
    "regimen: [{drug: dupilumab, amount: x}]": "r.yaml: regimen[0]: amount:",
    "regimen: [{drug: dupilumab, every: 0}]": "r.yaml: regimen[0]: every",
    "name: ''": "r.yaml: name:",
}


@pytest.mark.parametrize("body", sorted(BAD_FILES))
def test_bad_regimen_file_is_one_line(tmp_path, body):
    path = tmp_path / "r.yaml"
    path.write_text(body + "\n")
    with pytest.raises(TwinDataError) as err:
        load_regimen(path)
    message = str(err.value)
    assert message.startswith(BAD_FILES[body]) and "\n" not in message, message
    assert "function-after" not in message and "DrugItem" not in message, message


def test_valid_regimens_pass_the_checks(twin, examples_dir):
    for name in ("continue_dupilumab.yaml", "add_uc_msc.yaml"):
        check_regimen(load_regimen(examples_dir / "twins" / name), PATIENT.weight_kg)
