"""Rescue therapy, steroid use and per-arm withdrawal in virtual trials."""

from __future__ import annotations

import numpy as np
import pytest
from support import small_ad_trial

from dermatwin.trials.run import arm_regimen, run_trial, tcs_days
from dermatwin.trials.spec import TrialSpec, load_trial

WEEKS = 16
ENDPOINTS = [
    f"EASI-50@{WEEKS}w",
    f"mean_pct_change:EASI@{WEEKS}w",
    f"rescue@{WEEKS}w",
    "time_to_rescue",
    f"tcs_days@{WEEKS}w",
]
#: a lack-of-response rule that rescues a share of both arms of the small trial
RESCUE = {
    "when": "EASI >= 0.9 x baseline",
    "earliest": "2 weeks",
    "therapy": [{"drug": "topical_steroid", "stop": "4 weeks"}],
}


def spec(**rescue) -> TrialSpec:
    rule = {**RESCUE, **rescue} if rescue.get("when", True) is not None else None
    return TrialSpec.model_validate(small_ad_trial(WEEKS, rescue=rule, endpoints=ENDPOINTS))


@pytest.fixture(scope="module")
def rescued():
    return run_trial(spec())


@pytest.fixture(scope="module")
def unrescued():
    return run_trial(spec(when=None))


def test_rescued_patients_get_four_weeks_of_topical_steroid(rescued):
    table = rescued.endpoints
    hit = table["time_to_rescue_event"] == 1
    assert 0 < hit.sum() < len(table)  # the rule fires for some patients only
    assert (table.loc[hit, "time_to_rescue"] >= 14).all()
    assert (table.loc[hit, f"rescue@{WEEKS}w"] == 1).all()
    assert (table.loc[~hit, f"tcs_days@{WEEKS}w"] == 0).all()
    # 28 days of daily steroid, or the days left before week 16
    left = np.minimum(28.0, WEEKS * 7 - table.loc[hit, "time_to_rescue"])
    np.testing.assert_array_equal(table.loc[hit, f"tcs_days@{WEEKS}w"], left)
    arms = rescued.summary["arms"]
    assert (
        arms["placebo"][f"rescue@{WEEKS}w"]["estimate"]
        > arms["dupilumab"][f"rescue@{WEEKS}w"]["estimate"]
    )


def test_rescued_patients_are_non_responders_and_carry_their_last_value(rescued, unrescued):
    table, before = rescued.endpoints, unrescued.endpoints
    hit = (table["time_to_rescue_event"] == 1).to_numpy()
    assert (table.loc[hit, f"EASI-50@{WEEKS}w"] == 0).all()
    # not rescued: the same patients, the same values as without a rescue rule
    for column in (f"EASI-50@{WEEKS}w", f"mean_pct_change:EASI@{WEEKS}w"):
        np.testing.assert_array_equal(table.loc[~hit, column], before.loc[~hit, column])
    # the % change of a rescued patient is the one of its rescue visit
    traj = rescued.trajectories.query("variable == 'EASI'")
    for _, row in table[hit].iterrows():
        mine = traj[(traj.arm == row.arm) & (traj.patient == row.patient)].set_index("time")
        at_rescue = 100 * (mine.value[row.time_to_rescue] / mine.value[0.0] - 1)
        assert row[f"mean_pct_change:EASI@{WEEKS}w"] == pytest.approx(at_rescue)


def test_observed_handling_shows_the_steroid_effect(rescued, unrescued):
    observed = run_trial(spec(handling="observed"))
    table, before = observed.endpoints, unrescued.endpoints
    hit = (table["time_to_rescue_event"] == 1).to_numpy()
    np.testing.assert_array_equal(table["time_to_rescue"], rescued.endpoints["time_to_rescue"])
    change = f"mean_pct_change:EASI@{WEEKS}w"
    # after four weeks of steroid the rescued patients are better than without it
    assert table.loc[hit, change].mean() < before.loc[hit, change].mean() - 1


def test_rescue_results_do_not_depend_on_chunk_size(rescued):
    other = run_trial(spec().model_copy(update={"chunk_size": 5}))
    assert other.summary == rescued.summary
    np.testing.assert_array_equal(
        other.trajectories["value"].to_numpy(), rescued.trajectories["value"].to_numpy()
    )


def test_discontinue_stops_the_arm_therapy_at_rescue():
    s = spec(discontinue=True, earliest=0)
    plain = arm_regimen(s, "dupilumab", 70.0)
    cut = arm_regimen(s, "dupilumab", 70.0, rescue_day=28.0)
    drugs = {d.drug: d for d in cut.items}
    assert drugs["dupilumab"].stop_day == 28.0 and drugs["placebo"].stop_day is None
    assert drugs["topical_steroid"].start_day == 28.0 and drugs["topical_steroid"].stop_day == 56
    assert {d.drug: d.stop_day for d in plain.items} == {"placebo": None, "dupilumab": None}


def test_rescue_replaces_a_dose_of_the_same_slot():
    s = TrialSpec.model_validate(
        small_ad_trial(
            WEEKS,
            background=[{"drug": "topical_steroid", "schedule": "proactive"}],
            rescue=RESCUE,
        )
    )
    items = arm_regimen(s, "placebo", 70.0, rescue_day=21.0).items
    proactive, rescue = items
    assert proactive.stop_day == 21.0 and rescue.start_day == 21.0
    # twice weekly for 3 weeks (6 days), then daily to day 49 (28 days)
    days = tcs_days(arm_regimen(s, "placebo", 70.0, rescue_day=21.0), np.array([21.0, 112.0]))
    assert days.tolist() == [6.0, 34.0]


def test_per_arm_withdrawal_keeps_the_background():
    s = TrialSpec.model_validate(
        small_ad_trial(
            WEEKS,
            arms={
                "dupilumab": {"n": 4, "regimen": [{"drug": "dupilumab"}], "withdrawal": {"at": 56}},
                "placebo": {"n": 4},
            },
            endpoints=["EASI-50@16w", "time_to_relapse"],
        )
    )
    stops = {d.drug: d.stop_day for d in arm_regimen(s, "dupilumab", 70.0).items}
    assert stops == {"placebo": None, "dupilumab": 56.0}
    assert s.relapse_start("dupilumab") == 56.0 and s.relapse_start("placebo") == 0.0
    assert 56.0 in s.visit_times()


def test_trial_withdrawal_stops_the_background_only_when_asked():
    base = small_ad_trial(WEEKS, withdrawal={"at": 42})
    keep = TrialSpec.model_validate(base)
    stop = TrialSpec.model_validate({**base, "withdrawal": {"at": 42, "background": "stop"}})
    assert {d.drug: d.stop_day for d in arm_regimen(keep, "dupilumab", 70.0).items} == {
        "placebo": None,
        "dupilumab": 42.0,
    }
    assert {d.drug: d.stop_day for d in arm_regimen(stop, "dupilumab", 70.0).items} == {
        "placebo": 42.0,
        "dupilumab": 42.0,
    }


def test_iv_msc_placebo_arm_keeps_its_placebo_response_after_withdrawal():
    s = load_trial("examples/trials/bmmsc_iv_phase2_ad.yaml")
    s = s.model_copy(
        update={
            "arms": {"placebo": s.arms["placebo"].model_copy(update={"n": 12})},
            "endpoints": ["EASI-50@16w", "mean_pct_change:EASI@16w"],
            "reference_rows": {},
        }
    )
    arm = run_trial(s).summary["arms"]["placebo"]
    # before the fix the withdrawal at week 6 ended the vehicle response: 0 % EASI-50 and
    # a change of about -2 % at week 16
    assert arm["EASI-50@16w"]["estimate"] > 10
    assert arm["mean_pct_change:EASI@16w"]["estimate"] < -15


BAD = [
    ({"rescue": {**RESCUE, "when": "EASI rises"}}, ["rescue.when", "SCORE >= VALUE"]),
    ({"rescue": {**RESCUE, "when": "PASI >= 10"}}, ["rescue.when", "PASI", "EASI"]),
    ({"rescue": {**RESCUE, "earliest": 200}}, ["rescue.earliest", "200"]),
    ({"rescue": {**RESCUE, "handling": "bocf"}}, ["rescue.handling", "non_responder"]),
    ({"rescue": {**RESCUE, "therapy": []}}, ["rescue.therapy"]),
    ({"rescue": {**RESCUE, "therapy": [{"drug": "aspirin"}]}}, ["rescue.therapy", "aspirin"]),
    ({"rescue": {**RESCUE, "therapy": [{"drug": "topical_steroid", "start": 200}]}}, ["start"]),
    ({"rescue": {**RESCUE, "from": "4w"}}, ["unknown field 'from'", "earliest"]),
    ({"arms": {"a": {"n": 2, "withdrawal": {"at": 0}}}}, ["arms.a.withdrawal.at"]),
    (
        {"arms": {"a": {"n": 2, "withdrawal": {"at": 7, "background": "stop"}}}},
        ["arms.a.withdrawal.background", "keep"],
    ),
    ({"relapse": {"start": 500}}, ["relapse.start", "500"]),
]


@pytest.mark.parametrize(("update", "words"), BAD, ids=[str(b[1][0]) for b in BAD])
def test_bad_rescue_or_withdrawal_is_one_line_naming_it(tmp_path, update, words):
    import yaml

    from dermatwin.trials.spec import TrialError

    file = tmp_path / "trial.yaml"
    file.write_text(yaml.safe_dump(small_ad_trial(WEEKS, **update)))
    with pytest.raises(TrialError) as info:
        load_trial(file)
    message = str(info.value)
    assert "\n" not in message and len(message) < 400, message
    for word in words:
        assert word in message, message


def test_the_baseline_visit_never_rescues():
    """A rule relative to baseline holds at baseline itself (EASI >= 1.0 x baseline): with
    the default earliest day 0 nobody may be rescued on day 0."""
    from dermatwin.trials.rescue import Rescue, rescue_days

    rule = Rescue(when="EASI >= 1.0 x baseline", therapy=[{"drug": "topical_steroid"}])
    times = np.array([0.0, 7.0, 14.0, 21.0])
    easi = np.array([[20.0, 19.0, 21.0, 22.0], [20.0, 10.0, 9.0, 8.0]])
    np.testing.assert_array_equal(rescue_days(rule, {"EASI": easi}, times), [14.0, np.inf])


def test_relapse_is_measured_from_a_visit_on_its_start_day():
    from dermatwin.trials.spec import TrialSpec

    data = load_trial("examples/trials/berth_jones2003_proactive_tcs_ad.yaml").model_dump(
        mode="python"
    )
    data["relapse"]["start"] = 30.0  # between two weekly visits
    assert 30.0 in TrialSpec.model_validate(data).visit_times()
