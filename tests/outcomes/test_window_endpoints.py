"""Endpoints of maintenance and withdrawal designs: windows, changes from a later visit,
time to a score threshold."""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin.outcomes import EndpointError, parse_endpoint


class Obs:
    """PASI of four patients at days 0, 7, 14, 21 (withdrawal at day 7); patient 3's last
    visit failed."""

    times = np.array([0.0, 7.0, 14.0, 21.0])
    primary = "PASI"
    start = 7.0
    relapse_fraction = 0.5
    flare_fraction = 0.5
    scores = {
        "PASI": np.array(
            [
                [20.0, 4.0, 4.0, 4.0],  # responds and keeps responding
                [20.0, 4.0, 8.0, 4.0],  # responds, loses PASI-75 at day 14
                [20.0, 10.0, 10.0, 10.0],  # never a PASI-75 responder
                [20.0, 4.0, 4.0, np.nan],  # responds; the last visit failed
            ]
        ),
        "PGA": np.array(
            [[3.0, 1.0, 1.0, 1.0], [3.0, 1.0, 2.0, 3.0], [3.0, 2.0, 2.0, 2.0], [4.0, 1, 1, np.nan]]
        ),
    }

    def at(self, variable, time):
        return self.scores[variable][:, int(np.argmin(np.abs(self.times - time)))]

    def pair(self, variable, time):
        return self.scores[variable][:, 0], self.at(variable, time)

    def observed_at_baseline(self, variable):
        return np.isfinite(self.scores[variable][:, 0])

    def series(self, variable):
        return self.scores[variable]


def compute(text: str) -> dict:
    ep = parse_endpoint(text, context="trial", disease="psoriasis")
    return ep.spec.compute(ep, Obs())


def test_loss_of_response_over_a_window():
    ep = parse_endpoint("lost:PASI-75@1w..3w", context="trial", disease="psoriasis")
    assert (ep.kind, ep.since, ep.time, ep.threshold, ep.summary_kind) == (
        "lost",
        7.0,
        21.0,
        75.0,
        "rate",
    )
    got = compute("lost:PASI-75@1w..3w")["lost:PASI-75@1w..3w"]
    np.testing.assert_array_equal(got, [0.0, 1.0, np.nan, np.nan])
    # a window that ends before the dip sees no loss
    np.testing.assert_array_equal(
        compute("lost:PASI-75@2w..3w")["lost:PASI-75@2w..3w"], [0.0, np.nan, np.nan, np.nan]
    )


def test_pct_change_from_a_later_visit():
    got = compute("mean_pct_change:PASI@2w/1w")["mean_pct_change:PASI@2w/1w"]
    np.testing.assert_array_equal(got, [0.0, 100.0, 0.0, 0.0])
    assert "from week 1" in parse_endpoint("mean_pct_change:PASI@2w/1w", context="trial").label


def test_time_to_a_score_threshold_from_the_start():
    out = compute("time_to:PGA>=2")
    # from day 7: patient 1 reaches PGA 2 at day 14; patient 2 is already at 2 after day 7
    np.testing.assert_array_equal(out["time_to:PGA>=2"], [14.0, 7.0, 7.0, np.nan])
    np.testing.assert_array_equal(out["time_to:PGA>=2_event"], [0.0, 1.0, 1.0, np.nan])
    assert parse_endpoint("time_to:PGA>=2", context="trial").threshold == 2.0
    down = compute("time_to:PASI<=4")
    np.testing.assert_array_equal(down["time_to:PASI<=4_event"], [1.0, 1.0, 0.0, np.nan])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("lost:PASI-75@12w..4w", "window starts"),
        ("mean_pct_change:PASI@4w/4w", "window starts"),
        ("time_to:EASI>=2", "not a psoriasis score"),
        ("lost:PASI-175@1w..2w", "responder threshold"),
    ],
)
def test_bad_windows_fail_in_one_line(text, words):
    with pytest.raises(EndpointError, match=words) as err:
        parse_endpoint(text, context="trial", disease="psoriasis")
    assert "\n" not in str(err.value)


def test_window_kinds_are_for_trials():
    with pytest.raises(EndpointError, match="not understood"):
        parse_endpoint("lost:PASI-75@1w..2w", context="scenario")
