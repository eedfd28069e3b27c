"""Covariates that change outcomes: HLA-C*06:02 on the p40 response, Fitzpatrick type on
how erythema is scored. Each effect is claimed on the same virtual patients with and
without it, and each has a knock-out."""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin.disease.skin_type import score_factor
from dermatwin.patients.population import PopulationSpec, generate
from dermatwin.patients.profile import (
    HLA_C0602_PREVALENCE_PSO,
    P40_RESPONSE,
    Patient,
    covariate_parameters,
)
from dermatwin.trials.run import prepare_trial, simulate_chunk, trial_model
from dermatwin.trials.spec import TrialSpec

PHOENIX = {
    "name": "hla",
    "disease": "psoriasis",
    "seed": 2008,
    "duration": "12 weeks",
    "population": {"inclusion": {"PASI": {"min": 12}, "PGA": {"min": 3}}},
    "background": [{"drug": "placebo"}],
    "arms": {
        "ustekinumab": {"n": 150, "regimen": [{"drug": "ustekinumab"}]},
        "adalimumab": {"n": 150, "regimen": [{"drug": "adalimumab"}]},
    },
    "endpoints": ["PASI-75@12w"],
}


@pytest.fixture(scope="module")
def phoenix():
    spec = prepare_trial(TrialSpec.model_validate(PHOENIX))
    model = trial_model(spec)
    pop = generate(model, spec.population_spec(), 150, spec.seed, 0)
    return spec, model, pop


def _pasi75(spec, model, pop, arm: int, response: float | None) -> np.ndarray:
    """PASI-75 at week 12 of ``pop`` in arm ``arm``, every patient's ``p40_response`` set
    to ``response`` (None: as their carriage gives)."""
    p = pop.rows(np.arange(len(pop.parameters)))
    if response is not None:
        p.parameters = p.parameters.copy()
        p.parameters[:, model.parameter_index("p40_response")] = response
    out = simulate_chunk(spec, model, arm, np.arange(len(p.parameters)), p)
    return out.endpoints["PASI-75@12w"].to_numpy()


def test_p40_response_follows_carriage_and_averages_one():
    assert (
        covariate_parameters(Patient(disease="psoriasis", hla_c0602=True))["p40_response"]
        == P40_RESPONSE[True]
    )
    assert "p40_response" not in covariate_parameters(Patient(disease="psoriasis"))
    mean = (
        HLA_C0602_PREVALENCE_PSO * P40_RESPONSE[True]
        + (1 - HLA_C0602_PREVALENCE_PSO) * P40_RESPONSE[False]
    )
    assert mean == pytest.approx(1.0, abs=1e-12)
    assert P40_RESPONSE[True] > 1.0 > P40_RESPONSE[False]


def test_hla_carriers_respond_better_to_ustekinumab_paired(phoenix):
    """LI2016: PASI-75 at week 12 17.9 points higher in carriers; the same patients as
    carriers vs as non-carriers must differ by 10-25 points."""
    spec, model, pop = phoenix
    carriers = _pasi75(spec, model, pop, 0, P40_RESPONSE[True])
    non = _pasi75(spec, model, pop, 0, P40_RESPONSE[False])
    diff = 100 * (np.nanmean(carriers) - np.nanmean(non))
    assert 10.0 <= diff <= 25.0
    # the response is monotone in the factor: everybody at the mean factor (1, the
    # knock-out of the covariate) lies between the two
    neutral = np.nanmean(_pasi75(spec, model, pop, 0, 1.0))
    assert np.nanmean(non) <= neutral <= np.nanmean(carriers)
    # the drawn population: carriers do better than non-carriers on their own response
    drawn = _pasi75(spec, model, pop, 0, None)
    carrier = pop.covariates["hla_c0602"].to_numpy(dtype=bool)
    assert np.nanmean(drawn[carrier]) > np.nanmean(drawn[~carrier])


def test_hla_leaves_tnf_blockade_alone(phoenix):
    """p40 only: adalimumab's outcome is bit-identical whatever the p40 response."""
    spec, model, pop = phoenix
    a = _pasi75(spec, model, pop, 1, P40_RESPONSE[True])
    b = _pasi75(spec, model, pop, 1, P40_RESPONSE[False])
    assert np.array_equal(a, b, equal_nan=True)


def test_skin_type_factor_and_knock_out():
    """Erythema is one of EASI's four and of PASI's three equally weighted signs, seen at
    85, 70 and 50 % of its size on types IV, V and VI (assumed; ZHAO2015 gives the
    direction): factor 1 - share x (1 - visibility)."""
    expected = {
        ("EASI", 4): 0.9625,  # 1 - 1/4 x 0.15
        ("EASI", 5): 0.925,  # 1 - 1/4 x 0.30
        ("EASI", 6): 0.875,  # 1 - 1/4 x 0.50
        ("PASI", 4): 0.95,  # 1 - 1/3 x 0.15
        ("PASI", 5): 0.9,  # 1 - 1/3 x 0.30
        ("PASI", 6): 5 / 6,  # 1 - 1/3 x 0.50
    }
    for (score, skin_type), factor in expected.items():
        assert score_factor(score, skin_type) == pytest.approx(factor, abs=1e-12)
    # knock-out: types I-III and an unknown type see all the erythema
    assert all(score_factor(s, t) == 1.0 for s in ("EASI", "PASI") for t in (1, 2, 3, None))
    assert score_factor("SCORAD", 6) == 1.0


def test_skin_type_lowers_scored_easi_on_the_same_patients():
    """All type VI vs all type I: the same candidates (skin type is drawn last), EASI as
    scored 12.5 % lower, so fewer qualify for EASI >= 35 and IGA grades lower or equal."""
    from dermatwin.model.skin import build
    from dermatwin.patients.population import evaluate_candidates

    model = build()
    base = {"disease": "AD", "inclusion": {"EASI": {"min": 35}}}
    light = PopulationSpec.model_validate({**base, "skin_types": {1: 1.0}})
    dark = PopulationSpec.model_validate({**base, "skin_types": {6: 1.0}})
    a = evaluate_candidates(model, light, 3, 0, 0, 40)
    b = evaluate_candidates(model, dark, 3, 0, 0, 40)
    assert np.array_equal(a.parameters, b.parameters)
    assert np.allclose(b.scores["EASI"], a.scores["EASI"] * 0.875)  # 1 - 1/4 x 0.5
    assert np.array_equal(a.scores["SCORAD"], b.scores["SCORAD"])
    assert (b.scores["IGA"] <= a.scores["IGA"]).all()
    assert b.eligible.sum() < a.eligible.sum()
    # knock-out: no skin types drawn, the scores the model gives
    none = evaluate_candidates(model, PopulationSpec.model_validate(base), 3, 0, 0, 40)
    assert np.array_equal(none.scores["EASI"], a.scores["EASI"])


@pytest.mark.parametrize(
    "shares", [{7: 1.0}, {1: 0.5}, {1: -0.5, 2: 1.5}, {}], ids=["type", "sum", "negative", "empty"]
)
def test_skin_types_bad_shares_fail_in_one_line(shares):
    with pytest.raises(ValueError, match="skin_types"):
        PopulationSpec.model_validate({"disease": "AD", "skin_types": shares})
