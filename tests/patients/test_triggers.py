"""Flare triggers: a seeded, split-invariant stochastic environment for AD patients."""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin.calibration.targets import EXAMPLE_TRIALS, observed
from dermatwin.engine.events import on_off
from dermatwin.model.skin.drugs import TCS_PARAMETER
from dermatwin.patients.triggers import (
    DEFAULT_TRIGGERS,
    Triggers,
    steroid_potency,
    trigger_events,
    trigger_times,
)
from dermatwin.therapy.drugs import proactive_tcs
from dermatwin.therapy.regimen import Regimen
from dermatwin.trials.run import run_trial
from dermatwin.trials.spec import TrialError, TrialSpec, load_trial

FLARE_ROWS = {
    "flares_per_year:0-0": "NH_AD_FLARES_0",
    "flares_per_year:1-5": "NH_AD_FLARES_1_5",
    "flares_per_year:6-10": "NH_AD_FLARES_6_10",
    "flares_per_year:11-": "NH_AD_FLARES_GT10",
}


def _times(candidate, seed=1, stream=0, triggers=DEFAULT_TRIGGERS):
    return trigger_times(triggers, seed=seed, stream=stream, candidate=candidate, days=365.25)


def test_a_patients_triggers_depend_only_on_seed_stream_and_candidate():
    assert np.array_equal(_times(3), _times(3))
    assert not np.array_equal(_times(3), _times(4))
    assert not np.array_equal(_times(3), _times(3, stream=1))
    assert not np.array_equal(_times(3), _times(3, seed=2))


def test_a_longer_trial_extends_the_same_triggers():
    short = trigger_times(DEFAULT_TRIGGERS, seed=1, stream=0, candidate=5, days=84.0)
    long = trigger_times(DEFAULT_TRIGGERS, seed=1, stream=0, candidate=5, days=364.0)
    assert len(short) > 0 and np.array_equal(long[: len(short)], short)


def test_unexposed_patients_meet_no_triggers_and_the_others_keep_theirs():
    share = Triggers(rate_per_year=26.0, shape=12.0, size=0.25, unexposed_share=0.3)
    none = share.model_copy(update={"unexposed_share": 0.0})
    unexposed = 0
    for candidate in range(300):
        with_share, without = _times(candidate, triggers=share), _times(candidate, triggers=none)
        assert len(without) > 0
        if len(with_share) == 0:
            unexposed += 1
        else:
            assert np.array_equal(with_share, without)
    assert unexposed / 300 == pytest.approx(0.3, abs=0.08)


def test_counts_are_overdispersed_around_the_mean_rate():
    """Gamma-distributed rates: a negative-binomial count with mean rate_per_year and
    variance mean + mean^2 / shape."""
    t = Triggers(rate_per_year=10.0, shape=2.0, size=0.3)
    counts = np.array([len(_times(i, triggers=t)) for i in range(4000)])
    assert counts.mean() == pytest.approx(10.0, rel=0.05)
    assert counts.var() == pytest.approx(10.0 + 100.0 / 2.0, rel=0.15)


def test_triggers_are_for_ad_only():
    data = load_trial(EXAMPLE_TRIALS / "ad_flares_cohort.yaml").model_dump(mode="python")
    data["disease"] = "psoriasis"
    data["population"] = {"inclusion": {"PASI": {"min": 12}}}
    data["endpoints"] = ["PASI-75@12w"]
    data["reference_rows"] = {}
    with pytest.raises((TrialError, ValueError), match="triggers"):
        TrialSpec.model_validate(data)


def _small(n, chunk_size):
    data = load_trial(EXAMPLE_TRIALS / "ad_flares_cohort.yaml").model_dump(mode="python")
    data["arms"]["untreated"]["n"] = n
    data["chunk_size"] = chunk_size
    data["duration"] = 91.0
    data["endpoints"] = ["flares_per_year"]
    data["reference_rows"] = {}
    return TrialSpec.model_validate(data)


def test_flares_are_the_same_however_the_trial_is_split():
    one = run_trial(_small(12, 12)).endpoints
    many = run_trial(_small(12, 5)).endpoints
    assert np.array_equal(one["flares_per_year"].to_numpy(), many["flares_per_year"].to_numpy())
    assert one["flares_per_year"].mean() > 0.0  # the triggers do flare the patients


def test_untreated_flare_categories_match_the_population_cohort():
    """NH_AD_FLARES_*: 3.7, 44.8, 20.8 and 30.7 % of patients report 0, 1-5, 6-10 and more
    than 10 flares a year; each category within 10 points (the issue's target; 200
    virtual patients, seed 5: 4.5, 43.0, 22.5 and 30.0 at the time of writing). The
    unexposed share (fitted to NH_AD_FLARES_0) gives the patients with no flare; without
    it there were none (0.0, 45.5, 23.0, 31.5)."""
    data = load_trial(EXAMPLE_TRIALS / "ad_flares_cohort.yaml").model_dump(mode="python")
    data["arms"]["untreated"]["n"] = 200
    table = run_trial(TrialSpec.model_validate(data)).endpoints
    shares = {e: 100.0 * table[e].mean() for e in FLARE_ROWS}
    assert sum(shares.values()) == pytest.approx(100.0)  # the bands cover every patient
    assert shares["flares_per_year:0-0"] > 0.0
    for endpoint, row in FLARE_ROWS.items():
        published = 100.0 * observed(row) / 1557.0
        assert abs(shares[endpoint] - published) <= 10.0, (endpoint, shares, published)


def test_a_topical_steroid_shrinks_the_triggers_it_covers():
    """Path: steroid on the skin at a trigger's time -> a smaller bolus into p
    (size x (1 - steroid_block x potency)); triggers outside the windows keep their size."""
    t = Triggers(rate_per_year=40.0, shape=2.0, size=0.3, steroid_block=0.6)
    kw = {"seed": 1, "stream": 0, "candidate": 2, "days": 365.25}
    bare = trigger_events(t, **kw)
    window = on_off(100.0, 200.0, TCS_PARAMETER, 0.5)
    covered = trigger_events(t, **kw, regimen=window)
    assert [e.time for e in covered] == [e.time for e in bare]
    inside = [100.0 <= e.time < 200.0 for e in bare]
    assert any(inside) and not all(inside)
    for e, ok in zip(covered, inside, strict=True):
        assert e.value == pytest.approx(0.3 * (1 - 0.6 * 0.5) if ok else 0.3)
    # knock-out: no block, no change, even under a steroid
    ko = trigger_events(t.model_copy(update={"steroid_block": 0.0}), **kw, regimen=window)
    assert [e.value for e in ko] == [e.value for e in bare]


def test_steroid_potency_follows_the_proactive_schedule():
    """Twice-weekly applications (days 0 and 3) with 3.5-day windows cover days 0-6.5 of
    each week."""
    regimen = Regimen([proactive_tcs(start_day=28.0, stop_day=140.0)], horizon_days=150.0)
    days = np.arange(0.0, 150.0, 0.25)
    potency = steroid_potency(regimen.plan().events, days)
    on = (days >= 28.0) & (days < 140.0) & ((days - 28.0) % 7.0 < 6.5)
    assert np.all(potency[on] == 1.0) and np.all(potency[~on] == 0.0)


def _berth_jones(n, steroid_block=None):
    data = load_trial(EXAMPLE_TRIALS / "berth_jones2003_proactive_tcs_ad.yaml").model_dump(
        mode="python"
    )
    data.pop("n_total", None)
    for arm in data["arms"].values():
        arm["n"], arm["allocation"] = n, None
    data["endpoints"] = ["time_to_relapse"]
    if steroid_block is not None:
        data["triggers"]["steroid_block"] = steroid_block
    summary = run_trial(TrialSpec.model_validate(data)).summary
    hr = next(c for c in summary["comparisons"] if c["endpoint"] == "time_to_relapse")
    return 1.0 / hr["hazard_ratio"]["estimate"]  # emollient versus fluticasone


def test_proactive_steroid_relapse_ratio_and_its_knock_out():
    """Berth-Jones 2003: relapse 5.8 times less likely on twice-weekly fluticasone (hazard
    ratio, 95 % CI 3.1-10.8; AD_TCS_PROACTIVE_EMOLL_RELAPSE notes; steroid_block fitted to
    the fluticasone arm's relapse share, AD_TCS_PROACTIVE_FP_RELAPSE, not to this ratio).
    60 paired patients per arm: 4.3 at the time of writing (295 patients: 4.8, 3.3-6.9).
    Knock-out (steroid_block 0): the steroid acts on the T-cell drive only and the ratio
    falls to about 1.2 (295 patients: 1.26, 0.95-1.68)."""
    ratio = _berth_jones(60)
    assert 3.1 <= ratio <= 10.8
    knocked_out = _berth_jones(60, steroid_block=0.0)
    assert knocked_out < 2.0 and ratio > 2.0 * knocked_out
