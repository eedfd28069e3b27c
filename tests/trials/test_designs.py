"""Maintenance and withdrawal designs: period 2 by response, survival at stated times,
pooled arms, subgroups (spec checks and summaries; one small simulated trial)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from dermatwin.trials.orchestration import design_summary
from dermatwin.trials.run import enrolled_in_period_2, run_trial
from dermatwin.trials.spec import TrialSpec
from dermatwin.trials.statistics import kaplan_meier, survival_at

BASE = {
    "name": "rw",
    "disease": "psoriasis",
    "duration": "20 weeks",
    "arms": {
        "continue": {"n": 4, "regimen": [{"drug": "ustekinumab"}]},
        "withdraw": {
            "n": 4,
            "regimen": [{"drug": "ustekinumab"}],
            "withdrawal": {"at": "8 weeks"},
        },
    },
    "endpoints": ["time_to_relapse", "PASI-75@20w"],
}


def spec(**update) -> TrialSpec:
    return TrialSpec.model_validate({**BASE, **update})


@pytest.mark.parametrize(
    ("update", "words"),
    [
        ({"enrol": {"at": "30 weeks", "responders": "PASI-75"}}, "enrol.at"),
        ({"enrol": {"at": "8 weeks", "responders": "EASI-75"}}, "enrol.responders"),
        ({"survival_at": ["21 weeks"]}, "survival_at"),
        ({"pooled": {"all": ["continue", "nope"]}}, "not an arm"),
        ({"pooled": {"continue": ["continue", "withdraw"]}}, "new name"),
        ({"subgroups": ["flg_loss"]}, "AD covariate"),
        ({"subgroups": ["fitzpatrick"]}, "skin_types"),
    ],
)
def test_bad_design_fields_fail_in_one_line(update, words):
    with pytest.raises(ValidationError, match=words):
        spec(**update)


def test_design_times_are_visits():
    t = spec(
        visit_every="4 weeks",
        enrol={"at": "9 weeks", "responders": "PASI-75"},
        survival_at=["11 weeks"],
        endpoints=["lost:PASI-75@9w..20w", "mean_pct_change:PASI@20w/13w"],
    )
    assert {63.0, 77.0, 91.0} <= set(t.visit_times().tolist())


def test_enrolment_is_by_response_at_the_visit():
    t = spec(enrol={"at": "8 weeks", "responders": "PASI-75"})
    times = np.array([0.0, 56.0, 140.0])
    scores = {"PASI": np.array([[20.0, 4.0, 9.0], [20.0, 6.0, 4.0], [20.0, np.nan, 1.0]])}
    np.testing.assert_array_equal(enrolled_in_period_2(t, scores, times), [True, False, False])


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 40
    return pd.DataFrame(
        {
            "arm": ["continue"] * n + ["withdraw"] * n,
            "patient": np.tile(np.arange(n), 2),
            "time_to_relapse": np.r_[np.full(n, 84.0), rng.uniform(7, 84, n).round()],
            "time_to_relapse_event": np.r_[np.zeros(n), np.ones(n)],
            "PASI-75@20w": np.r_[np.ones(n), np.zeros(n)],
            "hla_c0602": np.tile([True, False], n),
            "enrolled": np.ones(2 * n),
        }
    )


def test_design_summary_parts():
    t = spec(
        enrol={"at": "8 weeks", "responders": "PASI-75"},
        survival_at=["4 weeks"],
        pooled={"all": ["continue", "withdraw"]},
        subgroups=["hla_c0602"],
    )
    table = _table()
    kinds = {"time_to_relapse": "time_to_event", "PASI-75@20w": "rate"}
    out = design_summary(t, table, kinds, absent={})
    assert out["enrolled"] == {"continue": 40, "withdraw": 40}
    assert out["survival"]["continue"]["time_to_relapse"]["28"]["estimate"] == 100.0
    w = table[table["arm"] == "withdraw"]
    expected = 100 * np.mean(w["time_to_relapse"] > 28)
    assert out["survival"]["withdraw"]["time_to_relapse"]["28"]["estimate"] == pytest.approx(
        expected
    )
    assert out["pooled"]["all"]["PASI-75@20w"]["estimate"] == 50.0
    assert out["pooled"]["all"]["PASI-75@20w"]["n"] == 80
    carriers = out["subgroups"]["hla_c0602"]["True"]
    assert carriers["continue"]["PASI-75@20w"]["n"] == 20
    # none of it unless asked
    assert design_summary(spec(), table, kinds, absent={}) == {}


def test_survival_at_reads_the_kaplan_meier_step():
    times = np.array([5.0, 10.0, 10.0, 20.0, 30.0])
    events = np.array([1.0, 1.0, 0.0, 1.0, 0.0])
    table, _ = kaplan_meier(times, events)
    got = survival_at(times, events, [1.0, 10.0, 25.0, 31.0])
    assert got["1"]["estimate"] == 100.0
    assert got["10"]["estimate"] == pytest.approx(100 * table["survival"].iloc[1])
    assert got["25"]["estimate"] == pytest.approx(100 * table["survival"].iloc[2])
    assert got["31"]["estimate"] is None


def test_randomised_withdrawal_trial_runs_paired():
    """Same patients in both arms (paired): identical up to the withdrawal, so the same
    patients enter period 2, and withdrawing cannot lower the relapse count."""
    t = spec(
        paired=True,
        duration="16 weeks",
        visit_every="2 weeks",
        arms={
            "continue": {"n": 8, "regimen": [{"drug": "secukinumab"}]},
            "withdraw": {
                "n": 8,
                "regimen": [{"drug": "secukinumab"}],
                "withdrawal": {"at": "8 weeks"},
            },
        },
        relapse={"start": "8 weeks"},
        enrol={"at": "8 weeks", "responders": "PASI-50"},
        endpoints=["time_to_relapse", "lost:PASI-50@8w..16w"],
        survival_at=["8 weeks"],
        population={"inclusion": {"PASI": {"min": 12}}},
    )
    r = run_trial(t)
    e = r.endpoints
    a, b = (e[e["arm"] == arm].reset_index(drop=True) for arm in ("continue", "withdraw"))
    np.testing.assert_array_equal(a["enrolled"], b["enrolled"])
    assert r.summary["enrolled"]["continue"] == int(a["enrolled"].sum()) > 0
    assert np.isnan(a.loc[a["enrolled"] == 0, "time_to_relapse"]).all()
    lost = "lost:PASI-50@8w..16w"
    assert np.nansum(b[lost]) >= np.nansum(a[lost])
    assert "56" in r.summary["survival"]["withdraw"]["time_to_relapse"]


def test_report_rows_of_survival_at_stated_times():
    from dermatwin.trials.report import _survival_rows

    summary = {
        "survival": {
            "a": {"time_to_relapse": {"28": {"estimate": 80.0, "ci": [60.0, 90.0]}}},
            "b": {"time_to_relapse": {"28": {"estimate": None, "ci": [None, None]}}},
        }
    }
    rows = _survival_rows(summary, "time_to_relapse", ["a", "b"])
    assert rows[0][:2] == ["time_to_relapse at week 4", "survival %"]
    assert "80" in rows[0][2] and "n/a" in rows[0][3]
    assert _survival_rows({}, "time_to_relapse", ["a"]) == []


def test_period_2_starts_relapse_in_every_arm():
    t = spec(enrol={"at": "10 weeks", "responders": "PASI-75"})
    assert t.relapse_start("continue") == 70.0  # maintenance: from enrolment
    assert t.relapse_start("withdraw") == 56.0  # its own withdrawal
    assert spec().relapse_start("continue") == 0.0
