"""Published trials reproduced by the shipped calibrated set (regression tests with the
trials' own sampling uncertainty as tolerance; see docs/validation.md)."""

import pytest

from dermatwin.calibration.targets import EXAMPLE_TRIALS, observed, row_predictions
from dermatwin.trials.run import run_trial
from dermatwin.trials.spec import load_trial


@pytest.fixture(scope="module")
def kim():
    spec = load_trial(EXAMPLE_TRIALS / "kim2017_hucbmsc_ad.yaml")
    result = run_trial(spec)
    return spec, result, {p.row: p for p in row_predictions(spec, result, "kim")}


def test_kim2017_doses_within_the_trials_sampling_uncertainty(kim):
    _, _, rows = kim
    for row in ("AD_MSC_KIM2017_LD_EASI50", "AD_MSC_KIM2017_HD_EASI50"):
        assert rows[row].inside, (row, rows[row])


def test_kim2017_vehicle_arm_matches_the_placebo_rows(kim):
    _, result, _ = kim
    placebo = result.summary["arms"]["placebo"]["EASI-50@12w"]
    low, high = placebo["ci"]
    # placebo rows of the reference data: EASI-50 about 27-35 % at 12 weeks
    assert low <= 35.0 and high >= 27.0, placebo


def test_kim2017_high_dose_beats_vehicle(kim):
    _, result, _ = kim
    arms = result.summary["arms"]
    assert arms["high_dose"]["EASI-50@12w"]["estimate"] > arms["placebo"]["EASI-50@12w"]["estimate"]


def test_jade_mono1_both_abrocitinib_doses_within_8_points():
    # a flat exposure response (daily boluses, Hill coefficient 1) gave 62.5 % at 100 mg
    spec = load_trial(EXAMPLE_TRIALS / "jade_mono1_abrocitinib_ad.yaml")
    rows = {p.row: p for p in row_predictions(spec, run_trial(spec), "jade")}
    for dose in ("200", "100", "0"):
        row = rows[f"AD_ABRO_MONO1_{dose}_EASI75"]
        assert abs(row.predicted - row.observed) <= 8.0, row


# -- the controlled MSC trials (issue 14): paired MSC-minus-placebo effects at the published
# arm sizes, the trials run as shipped (paired: true), with the default set (CAL-2)


def _paired(trial):
    spec = load_trial(EXAMPLE_TRIALS / trial)
    assert spec.paired
    return {c["endpoint"]: c for c in run_trial(spec).summary["comparisons"]}


@pytest.fixture(scope="module")
def adstem():
    return _paired("adstem_atmsc_iv_phase2_ad.yaml")


@pytest.fixture(scope="module")
def furestem():
    return _paired("furestem_p3a_hucbmsc_ad.yaml")


def _inside(comparison, treated, placebo):
    low, high = comparison["ci"]
    assert low <= observed(treated) - observed(placebo) <= high, comparison


def test_adstem_paired_effect_at_week_16_covers_the_published_difference(adstem):
    # EASI-75 23.7 % vs 7.3 % (16.4 points, P = .016), 59 vs 55 patients
    _inside(
        adstem["EASI-75@16w"],
        "AD_ATMSC_ADSTEM2025_P2_EASI75_W16_T",
        "AD_ATMSC_ADSTEM2025_P2_EASI75_W16_P",
    )
    assert adstem["EASI-75@16w"]["p_value"] < 0.05


def test_two_iv_infusions_act_more_at_week_16_than_at_week_4(adstem):
    # the host-carried effect builds over weeks: separation at weeks 8, 12 and 16
    assert adstem["EASI-75@16w"]["difference"] > adstem["EASI-75@4w"]["difference"]
    for week in (8, 12, 16):
        assert adstem[f"EASI-75@{week}w"]["ci"][0] > 0, week


def test_furestem_paired_effect_at_week_12_covers_the_published_difference(furestem):
    # EASI-50 31.82 % vs 27.16 % (4.66 points; primary endpoint not met), 99 vs 98 patients
    _inside(
        furestem["EASI-50@12w"],
        "AD_UCBMSC_FURESTEM_P3A_EASI50_W12_T",
        "AD_UCBMSC_FURESTEM_P3A_EASI50_W12_P",
    )
    # the interval at ~98 pairs would also cover a null effect: the estimate itself must
    # be near the published difference (the fitted value on 300 pairs gives +4.7)
    assert abs(furestem["EASI-50@12w"]["difference"] - 4.66) < 3.0, furestem["EASI-50@12w"]


@pytest.mark.xfail(
    strict=True,
    reason="regressed with the placebo onset over weeks (issue 19) and CAL-4: the paired "
    "EASI-50 difference at week 4 fell from 8.2 to 3.1 points (p 0.25), below week 12's 4.1; "
    "a slower placebo leaves fewer patients near the EASI-50 edge at week 4 (open, issue 14's "
    "published-trial check)",
)
def test_one_sc_dose_acts_more_at_week_4_than_at_week_12(furestem):
    # significant at week 4, not at week 12 (the company's topline)
    assert furestem["EASI-50@4w"]["difference"] > furestem["EASI-50@12w"]["difference"]
    assert furestem["EASI-50@4w"]["p_value"] < 0.05  # not fitted: week 12 was
    assert furestem["EASI-50@4w"]["p_value"] < 0.05 <= furestem["EASI-50@12w"]["p_value"]
