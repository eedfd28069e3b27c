"""One endpoint grammar and registry of kinds for scenarios, trials and twins."""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin.outcomes import KINDS, EndpointError, parse_endpoint
from dermatwin.outcomes.endpoints import relapse_times


class Obs:
    """Observed scores of two patients at days 0, 14, 28 (patient 1 fails at day 28)."""

    times = np.array([0.0, 14.0, 28.0])
    primary = "EASI"
    start = 0.0
    relapse_fraction = 0.5
    flare_fraction = 0.5
    scores = {
        "EASI": np.array([[20.0, 10.0, 4.0], [20.0, 18.0, np.nan]]),
        "IGA": np.array([[3.0, 2.0, 1.0], [3.0, 3.0, np.nan]]),
    }

    def pair(self, variable, time):
        v = self.scores[variable]
        return v[:, 0], v[:, int(np.argmin(np.abs(self.times - time)))]

    def at(self, variable, time):
        return self.pair(variable, time)[1]

    def observed_at_baseline(self, variable):
        return np.isfinite(self.scores[variable][:, 0])

    def series(self, variable):
        return self.scores[variable]


def values(text: str) -> list:
    ep = parse_endpoint(text, context="trial", disease="AD")
    return ep.spec.compute(ep, Obs())[text].tolist()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("EASI-75@4w", [1.0, np.nan]),
        ("EASI-50@2w", [1.0, 0.0]),
        ("IGA01@4w", [1.0, np.nan]),
        ("mean:EASI@4w", [4.0, np.nan]),
        ("EASI@2w", [10.0, 18.0]),
        ("mean_pct_change:EASI@4w", [-80.0, np.nan]),
        ("change:EASI@4w", [-16.0, np.nan]),
        ("change:EASI@2w", [-10.0, -2.0]),
    ],
)
def test_per_patient_values(text, expected):
    np.testing.assert_array_equal(values(text), expected)


def test_every_kind_has_a_summary_and_a_label():
    texts = ["EASI-75@16w", "IGA01@16w", "mean:EASI@16w", "mean_pct_change:EASI@16w"]
    texts += ["time_to_relapse", "flares_per_year"]
    parsed = [parse_endpoint(t, context="trial", disease="AD") for t in texts]
    assert {p.kind for p in parsed} <= set(KINDS)
    assert [p.summary_kind for p in parsed] == [
        "rate",
        "rate",
        "mean",
        "mean",
        "time_to_event",
        "mean",
    ]
    assert parsed[0].label == "EASI-75 responders at week 16"


@pytest.mark.parametrize(
    ("text", "context", "words"),
    [
        ("EASI-200@16w", "trial", ["EASI-200@16w", "0 < PCT <= 100"]),
        ("PASI-75@16w", "trial", ["PASI", "not a AD score"]),
        ("IGA01@4w", "scenario", ["IGA01@4w", "not understood", "mean:VAR@TIME"]),
        ("EASI@16w", "scenario", ["not understood"]),
        ("EASI-50@soon", "scenario", ["EASI-50@soon", "not a time"]),
    ],
)
def test_errors_are_one_line_naming_the_endpoint(text, context, words):
    with pytest.raises(EndpointError) as err:
        parse_endpoint(text, context=context, disease="AD" if context == "trial" else None)
    message = str(err.value)
    assert "\n" not in message and all(w in message for w in words)


def test_trial_and_twin_goal_share_the_grammar():
    from dermatwin.trials.spec import parse_endpoint as trial_endpoint
    from dermatwin.twins.plan import parse_goal

    assert trial_endpoint("EASI-75@16w", "AD") == parse_endpoint("EASI-75@16w")
    goal = parse_goal("EASI-75@16w", "AD")
    assert (goal.score, goal.level, goal.week) == ("EASI", 75, 16.0)


def test_relapse_times_censors_and_skips_non_responders():
    primary = np.array([[20.0, 5.0, 15.0], [20.0, 25.0, 30.0]])
    t, event = relapse_times(primary, np.array([0.0, 7.0, 14.0]), 7.0, 0.5)
    assert t[0] == 7.0 and event[0] == 1.0 and np.isnan(t[1])


def test_change_from_baseline_in_scenarios_and_trials():
    import xarray as xr

    from dermatwin.outcomes import evaluate

    ep = parse_endpoint("change:EASI@2w")
    assert (ep.kind, ep.summary_kind, ep.label) == (
        "change",
        "mean",
        "EASI change from baseline at week 2",
    )
    ds = xr.Dataset(
        {
            "EASI": (("patient", "time"), Obs.scores["EASI"], {"unit": "score"}),
            "status": ("patient", np.array([0, 0])),
        },
        coords={"time": Obs.times},
    )
    assert evaluate(ds, ep) == {"estimate": -6.0, "unit": "score", "n": 2, "excluded": 0}


class RescueObs(Obs):
    """Obs with patient 0 rescued at day 14 and 20 days of topical steroid by day 28."""

    rescue_day = np.array([14.0, np.inf])
    tcs_days = np.array([[0.0, 0.0, 14.0], [0.0, 0.0, 0.0]])
    start = 14.0


def rescue_values(text: str) -> dict:
    ep = parse_endpoint(text, context="trial", disease="AD")
    return {k: v.tolist() for k, v in ep.spec.compute(ep, RescueObs()).items()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rescue@1w", {"rescue@1w": [0.0, 0.0]}),
        ("rescue@2w", {"rescue@2w": [1.0, 0.0]}),
        ("time_to_rescue", {"time_to_rescue": [14.0, 28.0], "time_to_rescue_event": [1.0, 0.0]}),
        ("tcs_days@4w", {"tcs_days@4w": [14.0, 0.0]}),
        # patient 0 improved by 10 at day 14 and kept it; patient 1 fails (NaN at day 28)
        ("relapse@4w", {"relapse@4w": [0.0, np.nan]}),
    ],
)
def test_rescue_and_steroid_kinds(text, expected):
    got = rescue_values(text)
    assert set(got) == set(expected)
    for column, value in expected.items():
        np.testing.assert_array_equal(got[column], value)


def test_rescue_kinds_are_for_trials_with_their_summaries():
    kinds = {
        t: parse_endpoint(t, context="trial", disease="AD").summary_kind
        for t in ("rescue@16w", "time_to_rescue", "tcs_days@16w", "relapse@16w")
    }
    assert kinds == {
        "rescue@16w": "rate",
        "time_to_rescue": "time_to_event",
        "tcs_days@16w": "mean",
        "relapse@16w": "rate",
    }
    with pytest.raises(EndpointError, match="not understood"):
        parse_endpoint("rescue@16w")  # a scenario has no rescue rule


def test_each_kind_says_how_a_rescued_patient_counts():
    after = {name: kind.after_rescue for name, kind in KINDS.items()}
    assert after["responder"] == after["category"] == "non_responder"
    assert after["mean_pct_change"] == after["change"] == after["mean"] == "last_value"
    assert after["rescued"] == after["tcs_days"] == after["time_to_event"] == "observed"
