"""The twin fit report: observed vs fitted bands (within the scales) and a readable
treatments table."""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin.patients.profile import Patient
from dermatwin.therapy.items import DrugItem
from dermatwin.twins.fit import FitSettings, Twin
from dermatwin.twins.fitted import fitted_bands, fitted_scores
from dermatwin.twins.likelihood import twin_model
from dermatwin.twins.prior import Prior, twin_parameters
from dermatwin.twins.report import write_twin_report
from dermatwin.twins.visits import Visit, VisitRecord

PATIENT = Patient(id="r", disease="AD", age=30.0, weight_kg=70.0)


@pytest.fixture(scope="module")
def model():
    return twin_model()[0]


@pytest.fixture(scope="module")
def twin(model):
    """Draws around the population median, two visits with EASI and itch, dupilumab."""
    prior = Prior(twin_parameters(model, PATIENT))
    draws = prior.mu + 0.1 * prior.sigma * np.random.default_rng(0).standard_normal((20, 5))
    visits = (
        Visit(day=0.0, values={"EASI": 25.0, "pruritus_NRS": 9.8, "IGA": 3}),
        Visit(day=56.0, values={"EASI": 12.0, "pruritus_NRS": 6.0}),
    )
    record = VisitRecord(PATIENT, visits, (DrugItem(drug="dupilumab"),))
    return Twin(record, prior.parameters, draws[None], np.zeros((1, 20)), FitSettings())


def test_fitted_bands_cover_the_visit_period_within_the_scales(model, twin):
    assert fitted_scores(twin) == ["EASI", "pruritus_NRS"]  # IGA is ordinal: no band
    bands = fitted_bands(twin, n_draws=20, model=model)
    assert set(bands["variable"]) == {"EASI", "pruritus_NRS"}
    assert set(bands["band"]) == {"latent", "predictive"}
    assert bands["day"].min() == 0.0 and bands["day"].max() == 56.0
    assert (bands["q025"] <= bands["q50"]).all() and (bands["q50"] <= bands["q975"]).all()
    itch = bands[bands["variable"] == "pruritus_NRS"]
    assert itch["q975"].max() <= 10.0 and itch["q025"].min() >= 0.0
    # measurement error widens the band of a recorded visit
    lat, pred = (itch[itch["band"] == b] for b in ("latent", "predictive"))
    assert (
        pred["q975"].values - pred["q025"].values >= lat["q975"].values - lat["q025"].values
    ).all()


def test_report_has_the_observed_vs_fitted_plot_and_a_treatments_table(tmp_path, model, twin):
    bands = fitted_bands(twin, n_draws=20, model=model)
    page = write_twin_report(tmp_path / "r.html", twin, fit_bands=bands).read_text()
    assert 'alt="observed vs fitted scores"' in page
    assert "Treatments given" in page and "<td>dupilumab</td>" in page
    assert "{'drug'" not in page and "DrugItem(" not in page


def test_parameters_carry_plain_language_meanings(tmp_path, model, twin):
    meaning = twin.summary().set_index("parameter")["meaning"]
    assert meaning["d1"] == "barrier loss rate"
    assert meaning["msc_ec50"] == "patient's MSC responsiveness"
    bands = fitted_bands(twin, n_draws=5, model=model)
    page = write_twin_report(tmp_path / "r.html", twin, fit_bands=bands).read_text()
    assert "IL-13 inhibition of barrier formation" in page
