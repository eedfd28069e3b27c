"""Twin fit machinery on synthetic patients (short chains: machinery, not calibration)."""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin.patients.profile import Patient
from dermatwin.therapy.items import DrugItem
from dermatwin.twins.fit import FitSettings, fit_twin, load_twin
from dermatwin.twins.likelihood import twin_model
from dermatwin.twins.predict import FutureRegimen, predict, simulate_draws
from dermatwin.twins.prior import Prior, twin_parameters
from dermatwin.twins.synthetic import synthetic_patient

PATIENT = Patient(id="syn", disease="AD", age=40.0, weight_kg=70.0, flg_loss=False)
DUPI = [DrugItem(drug="dupilumab")]
# short chains test the machinery, not convergence: their warning is expected
pytestmark = pytest.mark.filterwarnings("ignore::dermatwin.twins.fit.TwinConvergenceWarning")
SHORT = FitSettings(walkers=12, burn=30, steps=30, seed=3, extend=False)


@pytest.fixture(scope="module")
def model():
    return twin_model()[0]


@pytest.fixture(scope="module")
def severe(model):
    """A patient far from the population median: low barrier loss d1 and high b2."""
    prior = Prior(twin_parameters(model, PATIENT))
    theta = prior.mu.copy()
    theta[prior.names.index("d1")] += 1.2 * prior.sigma[prior.names.index("d1")]
    theta[prior.names.index("b2")] -= 1.0 * prior.sigma[prior.names.index("b2")]
    return synthetic_patient(model, PATIENT, DUPI, [0.0, 28.0, 56.0], seed=5, index=0, theta=theta)


@pytest.fixture(scope="module")
def fitted(model, severe):
    return fit_twin(severe.record, SHORT, model=model)


def test_three_visits_fit_moves_prediction_toward_truth(model, severe, fitted):
    assert len(severe.record.visits) == 3
    assert fitted.theta.shape == (30, 12, 5)
    assert fitted.diagnostics["prior_only"] == ["msc_ec50"]  # no MSC in the record
    future = FutureRegimen(name="dupilumab", horizon=84.0, regimen=DUPI)
    truth, times, _, _ = simulate_draws(fitted, future, severe.theta[None, :], model=model)
    post, _, status, _ = simulate_draws(fitted, future, fitted.draws(60), model=model)
    prior = Prior(fitted.parameters)
    prior_draws = prior.sample(60, np.random.default_rng(1))
    pop, _, _, _ = simulate_draws(fitted, future, prior_draws, model=model)
    k = int(np.argmin(np.abs(times - 140.0)))
    err_twin = abs(np.nanmedian(post["EASI"][:, k]) - truth["EASI"][0, k])
    err_pop = abs(np.nanmean(pop["EASI"][:, k]) - truth["EASI"][0, k])
    assert (status == 0).all()
    print(f"week-20 EASI error: twin {err_twin:.2f}, population mean {err_pop:.2f}")
    assert err_twin < 0.5 * err_pop, (err_twin, err_pop)
    width_twin = np.subtract(*np.nanquantile(post["EASI"][:, k], [0.95, 0.05]))
    width_pop = np.subtract(*np.nanquantile(pop["EASI"][:, k], [0.95, 0.05]))
    assert 0.0 < width_twin < width_pop


def test_same_seed_identical_and_round_trip(tmp_path, model, severe, fitted):
    tiny = FitSettings(walkers=10, burn=0, steps=10, seed=11, extend=False)
    one, two = (fit_twin(severe.record, tiny, model=model) for _ in range(2))
    assert np.array_equal(one.theta, two.theta) and np.array_equal(one.log_prob, two.log_prob)
    other = fit_twin(
        severe.record, FitSettings(walkers=10, burn=0, steps=10, seed=12, extend=False), model=model
    )
    assert not np.array_equal(one.theta, other.theta)
    fitted.save(tmp_path / "twin")
    loaded = load_twin(tmp_path / "twin")
    assert np.allclose(loaded.theta, fitted.theta, rtol=1e-12, atol=1e-12)
    assert loaded.record.to_dict() == fitted.record.to_dict()
    for key in ("rhat", "ess_bulk", "autocorr_time_steps", "converged"):
        assert key in loaded.diagnostics


def test_prediction_bands_and_probabilities(model, fitted):
    future = FutureRegimen(name="stop", horizon=56.0, regimen=[])
    pred = predict(fitted, future, n_draws=40, model=model)
    easi = pred.bands[(pred.bands["variable"] == "EASI") & (pred.bands["band"] == "latent")]
    assert (easi["q05"] <= easi["q25"]).all() and (easi["q25"] <= easi["q50"]).all()
    assert (easi["q50"] <= easi["q75"]).all() and (easi["q75"] <= easi["q95"]).all()
    noisy = pred.bands[(pred.bands["variable"] == "EASI") & (pred.bands["band"] == "predictive")]
    assert (
        noisy["q95"].values - noisy["q05"].values >= easi["q95"].values - easi["q05"].values - 1e-9
    ).mean() > 0.9
    assert set(pred.responders["endpoint"]) == {"EASI-50", "EASI-75"}
    assert pred.responders["probability"].between(0, 1).all()
    # with nothing given from now on, there is no last dose and no relapse time
    assert pred.relapse["last_dose_day"] is None


def test_fit_settings_checked(model, severe):
    from dermatwin.twins.visits import TwinDataError

    with pytest.raises(TwinDataError, match="walkers: need at least 8"):
        fit_twin(severe.record, FitSettings(walkers=6, steps=10, burn=0), model=model)
    with pytest.raises(TwinDataError, match="moves"):
        FitSettings(moves="nuts")


def test_psoriasis_twin_with_msc_history_samples_msc_response(model, examples_dir):
    from dermatwin.twins.visits import load_visits

    record = load_visits(examples_dir / "twins" / "psoriasis_patient.yaml")
    twin = fit_twin(
        record, FitSettings(walkers=10, burn=0, steps=10, seed=1, extend=False), model=model
    )
    assert twin.names == ("t2", "il232", "il172", "pasi_plaque", "msc_ec50")
    assert twin.diagnostics["prior_only"] == []  # MSC was given: the visits inform it
    assert set(twin.diagnostics["observations"]) == {"PASI", "PGA", "serum_IL17"}
    # HLA-C*06:02 carrier: the plaque-PASI prior is centred 1.2 x higher
    assert twin.parameters[3].median == pytest.approx(24.0)
