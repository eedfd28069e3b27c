"""Plaque-level psoriasis trials (``population.plaques``, issue 19 item 2): graded PASI
responses, relapse of cleared plaques through their resident memory, chunk invariance,
one-line errors, and today's results when the option is off."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from dermatwin.model.skin import build
from dermatwin.patients.population import generate
from dermatwin.study.cohort import simulate_cohort
from dermatwin.trials.run import arm_regimen, prepare_trial, run_trial, trial_model
from dermatwin.trials.spec import TrialError, TrialSpec, load_trial

PLAQUES = 8
WEEKS = 12
ENDPOINTS = [f"PASI-75@{WEEKS}w", f"PASI-90@{WEEKS}w", f"PASI-100@{WEEKS}w", f"PGA01@{WEEKS}w"]


def data(plaques: int | None = PLAQUES, n: int = 30, **changes) -> dict:
    population = {"inclusion": {"PASI": {"min": 12}}}
    if plaques is not None:
        population["plaques"] = plaques
    return {
        "name": "plaques",
        "disease": "psoriasis",
        "seed": 19,
        "duration": f"{WEEKS} weeks",
        "population": population,
        "arms": {"secukinumab": {"n": n, "regimen": [{"drug": "secukinumab"}]}},
        "endpoints": ENDPOINTS,
        **changes,
    }


@pytest.fixture(scope="module")
def graded():
    return run_trial(TrialSpec.model_validate(data()))


def _rate(result, endpoint: str) -> float:
    return float(result.endpoints[endpoint].mean())


def test_pasi_responses_are_ordered_and_graded(graded):
    p75, p90, p100 = (_rate(graded, e) for e in ENDPOINTS[:3])
    assert p75 > p90 > p100 > 0
    # paired with today's single core (the same patients' streams): all-or-none there
    today = run_trial(TrialSpec.model_validate(data(plaques=None)))
    t75, t100 = _rate(today, ENDPOINTS[0]), _rate(today, ENDPOINTS[2])
    assert p100 / p75 < t100 / t75 - 0.2


def test_plaque_results_do_not_depend_on_chunk_size(graded):
    other = run_trial(TrialSpec.model_validate(data(chunk_size=7)))
    assert other.summary == graded.summary
    np.testing.assert_array_equal(
        other.trajectories["value"].to_numpy(), graded.trajectories["value"].to_numpy()
    )


def test_cleared_plaques_return_after_therapy_stops():
    """Secukinumab for 12 weeks, then stopped: PASI climbs back by week 48, and less so
    with the resident-memory drive knocked out (same patients, same start)."""
    spec = prepare_trial(
        TrialSpec.model_validate(
            data(n=16, duration="48 weeks", withdrawal={"at": f"{WEEKS} weeks"})
        )
    )
    model = trial_model(spec)
    pop = generate(model, spec.population_spec(), 16, spec.seed, 0)
    plan = arm_regimen(spec, "secukinumab", 75.0).plan()
    times = [0.0, WEEKS * 7.0, 48 * 7.0]
    knocked = pop.parameters.copy()
    knocked[:, model.parameter_index("trm_dc_drive")] = 0.0
    pasi = {}
    for label, p in (("trm", pop.parameters), ("knock-out", knocked)):
        cohort = simulate_cohort(model, times, p, y0=pop.y0, plans=plan)
        assert (cohort.status == 0).all()
        pasi[label] = cohort.values("PASI")
    base, at_stop, late = pasi["trm"].T
    responders = at_stop <= 0.25 * base
    assert responders.sum() >= 4
    assert (late[responders] > at_stop[responders] + 1.0).mean() > 0.5
    # the memory state adds to every responder's relapse (most of it comes from plaques
    # past the core's own threshold: its knock-out changes week-48 PASI by ~0.2 points)
    knocked_late = pasi["knock-out"][responders, 2]
    assert (late[responders] >= knocked_late).all() and late[
        responders
    ].mean() > knocked_late.mean()


def test_option_off_is_todays_trial():
    off = TrialSpec.model_validate(data(plaques=None, n=4))
    assert trial_model(prepare_trial(off)).structure_hash == build().structure_hash
    explicit = copy.deepcopy(data(plaques=None, n=4))
    explicit["population"]["plaques"] = None
    a, b = run_trial(off), run_trial(TrialSpec.model_validate(explicit))
    assert a.summary == b.summary
    assert a.endpoints.equals(b.endpoints)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("plaques", 0, ["population.plaques", "1"]),
        ("plaques", 17, ["population.plaques", "16"]),
        ("plaques", "eight", ["population.plaques", "whole number"]),
        ("plaques", 2.5, ["population.plaques", "whole number"]),
        ("plaques", True, ["population.plaques", "whole number"]),
        ("plaque_sigma", -0.1, ["population.plaque_sigma"]),
    ],
)
def test_bad_plaque_option_is_one_line(tmp_path, field, value, words):
    bad = data(n=4)
    bad["population"][field] = value
    file = tmp_path / "trial.yaml"
    file.write_text(yaml.safe_dump(bad, sort_keys=False))
    with pytest.raises(TrialError) as info:
        load_trial(file)
    message = str(info.value)
    assert "\n" not in message
    assert all(w in message for w in words), message


def test_plaques_are_for_psoriasis_only(tmp_path):
    bad = data(n=4)
    bad.update(disease="AD", population={"plaques": 4})
    bad["endpoints"] = ["EASI-50@12w"]
    bad["arms"] = {"dupilumab": {"n": 4, "regimen": [{"drug": "dupilumab"}]}}
    file = tmp_path / "trial.yaml"
    file.write_text(yaml.safe_dump(bad, sort_keys=False))
    with pytest.raises(TrialError, match=r"population\.plaques: for psoriasis only") as info:
        load_trial(file)
    assert "\n" not in str(info.value)
