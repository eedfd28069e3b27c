"""Baseline matching: targets, the fitted acceptance rule, and baseline-matched populations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dermatwin.model.skin import build
from dermatwin.patients.baseline import (
    POOLED,
    ScoreTarget,
    ShareTarget,
    fit_selection,
    resolve_targets,
)
from dermatwin.patients.population import (
    PopulationSpec,
    evaluate_candidates,
    generate,
    select_candidates,
)
from dermatwin.patients.profile import PatientError

TARGETS = {"EASI": {"mean": 28.0, "sd": 9.0}, "IGA": {"shares": {3: 0.4, 4: 0.6}}}


def _pilot(n: int, seed: int) -> pd.DataFrame:
    """EASI uniform 16-56 and its IGA (3 up to 21, else 4), as a skewed plausible set."""
    easi = np.random.default_rng(seed).uniform(16, 56, n)
    return pd.DataFrame({"EASI": easi, "IGA": np.where(easi <= 21, 3.0, 4.0)})


def _moments(frame: pd.DataFrame, p: np.ndarray) -> tuple[float, float, float]:
    m = np.average(frame["EASI"], weights=p)
    sd = np.sqrt(np.average((frame["EASI"] - m) ** 2, weights=p))
    return m, sd, np.average(frame["IGA"] == 4, weights=p)


def test_rule_meets_the_targets_on_the_pilot_and_on_new_patients():
    targets = resolve_targets("AD", TARGETS)
    rule = fit_selection(_pilot(3000, 1), targets)
    m, sd, iga4 = _moments(_pilot(3000, 1), rule.probability(_pilot(3000, 1)))
    assert (m, sd, iga4) == pytest.approx((28.0, 9.0, 0.6), abs=1e-2)
    fresh = _pilot(20000, 2)  # the rule is a function of the scores: it carries over
    m, sd, iga4 = _moments(fresh, rule.probability(fresh))
    assert (m, sd, iga4) == pytest.approx((28.0, 9.0, 0.6), rel=0.03)
    p = rule.probability(fresh)
    assert p.max() == 1.0 and 0.1 < rule.acceptance < 1  # capped: not Allen's w / max w


def test_unlisted_categories_are_never_accepted():
    rule = fit_selection(_pilot(2000, 3), resolve_targets("AD", {"IGA": {"shares": {4: 1}}}))
    assert (rule.probability(_pilot(500, 4))[_pilot(500, 4)["IGA"] == 3] == 0).all()


def test_unreachable_targets_are_one_line():
    with pytest.raises(PatientError, match=r"^population\.baseline: .*EASI") as err:
        fit_selection(_pilot(2000, 5), resolve_targets("AD", {"EASI": {"mean": 70, "sd": 1}}))
    assert "\n" not in str(err.value)


def test_pooled_targets_are_the_reference_rows():
    pooled = resolve_targets("AD", "pooled")
    assert pooled == POOLED["AD"]
    # AD_BASELINE_POOLED_PBO_EASI / _SCORAD / _PRURITUS
    assert pooled["EASI"] == ScoreTarget(mean=32.0, sd=15.3)
    assert pooled["SCORAD"] == ScoreTarget(mean=64.8, sd=18.9)
    assert pooled["pruritus_NRS"] == ScoreTarget(mean=7.0, sd=2.2)
    assert pooled["IGA"] == ShareTarget(shares={3: 0.494, 4: 0.506})


@pytest.mark.parametrize(
    ("disease", "baseline", "message"),
    [
        ("psoriasis", "pooled", "no pooled baseline for psoriasis"),
        ("AD", "typical", "allowed: pooled"),
        ("AD", {"PASI": {"mean": 20, "sd": 5}}, "'PASI' is not a AD score"),
        ("AD", {"IGA": {"mean": 3, "sd": 1}}, "baseline.IGA"),
        ("AD", {"EASI": {"mean": 30}}, "baseline.EASI"),
        ("AD", {"EASI": {"mean": 90, "sd": 5}}, "mean inside"),
        ("AD", {"IGA": {"shares": {3: 0.5, 4: 0.3}}}, "sum to 0.8"),
    ],
)
def test_bad_targets_name_the_field(disease, baseline, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")) as err:
        resolve_targets(disease, baseline)
    assert str(err.value).startswith("baseline") and "\n" not in str(err.value)


@pytest.fixture(scope="module")
def model():
    return build()


def matched_spec(**update) -> PopulationSpec:
    return PopulationSpec(
        disease="AD",
        inclusion={"EASI": {"min": 16}},
        baseline={"EASI": {"mean": 26.0, "sd": 8.0}},
        baseline_pilot=300,
        **update,
    )


def test_matched_population_is_the_same_however_the_blocks_are_split(model):
    spec = matched_spec()
    whole = evaluate_candidates(model, spec, 3, 1, 0, 24)
    parts = [evaluate_candidates(model, spec, 3, 1, s, 8) for s in (0, 8, 16)]
    np.testing.assert_array_equal(whole.accepted, np.concatenate([p.accepted for p in parts]))
    # selection really happened: some eligible candidates were turned down
    plain = evaluate_candidates(model, spec.model_copy(update={"baseline": None}), 3, 1, 0, 24)
    assert whole.eligible.sum() < plain.eligible.sum()
    pop = generate(model, spec, 6, 3, stream=1)
    rebuilt = select_candidates(model, spec, 3, 1, pop.covariates["candidate"].to_numpy())
    np.testing.assert_array_equal(rebuilt.parameters, pop.parameters)
    pd.testing.assert_frame_equal(rebuilt.covariates, pop.covariates)


def test_matched_population_moves_towards_the_targets(model):
    spec = matched_spec()
    plain = generate(model, spec.model_copy(update={"baseline": None}), 40, 2)
    matched = generate(model, spec, 40, 2)
    # the plausible eligible mean is about 35 (EASI >= 16); the target is 26
    assert plain.covariates["baseline_EASI"].mean() > 31
    assert abs(matched.covariates["baseline_EASI"].mean() - 26.0) < 3.5
