"""Trial statistics against published / hand-computed numbers."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dermatwin.trials.hazard_ratio import hazard_ratio
from dermatwin.trials.statistics import (
    bootstrap_mean_interval,
    kaplan_meier,
    kaplan_meier_median,
    logrank_test,
    mean_difference,
    power_from_replicates,
    rate_difference,
    search_n_per_arm,
    summarise,
    wilson_interval,
)

# Freireich et al. (1963) leukaemia remission data, as in Kleinbaum & Klein, "Survival
# Analysis" ch. 1-2: 6-MP arm (9 relapses, 12 censored) and placebo arm (21 relapses).
MP_T = [6, 6, 6, 7, 10, 13, 16, 22, 23, 6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35]
MP_E = [1] * 9 + [0] * 12
PL_T = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]
PL_E = [1] * 21


def test_wilson_interval_12_of_20():
    lo, hi = wilson_interval(12, 20)
    assert lo == pytest.approx(0.3866, abs=1e-3)
    assert hi == pytest.approx(0.7812, abs=1e-3)


def test_wilson_interval_by_hand_formula():
    # Wilson (1927): (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)
    k, n, z = 3, 17, stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    assert wilson_interval(k, n) == pytest.approx((centre - half, centre + half), abs=1e-12)


def test_wilson_interval_empty_arm_is_nan():
    lo, hi = wilson_interval(0, 0)
    assert math.isnan(lo) and math.isnan(hi)


def test_bootstrap_deterministic_and_covers_sample_mean():
    x = np.random.default_rng(7).normal(10.0, 3.0, size=60)
    x_nan = np.concatenate([x, [np.nan, np.nan]])
    a = bootstrap_mean_interval(x_nan, seed=123)
    b = bootstrap_mean_interval(x_nan, seed=123)
    assert a == b  # bit-identical
    assert a == bootstrap_mean_interval(x, seed=123)  # NaNs dropped
    assert a != bootstrap_mean_interval(x, seed=124)
    assert a[0] < x.mean() < a[1]
    # width close to the normal-theory interval 2 * 1.96 * s / sqrt(n)
    width = 2 * 1.96 * x.std(ddof=1) / math.sqrt(x.size)
    assert a[1] - a[0] == pytest.approx(width, rel=0.15)


def test_bootstrap_degenerate_samples():
    assert bootstrap_mean_interval([4.0, 4.0, 4.0]) == (4.0, 4.0)
    assert all(math.isnan(v) for v in bootstrap_mean_interval([1.0, np.nan]))


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # Newcombe (1998), Stat Med 17:873, Table II, method 10 (hybrid score)
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ],
)
def test_rate_difference_newcombe_published(counts, expected):
    r = rate_difference(*counts)
    x1, n1, x2, n2 = counts
    assert r["estimate"] == pytest.approx(x1 / n1 - x2 / n2)
    assert r["ci"] == pytest.approx(expected, abs=1e-4)


def test_rate_difference_p_value_choice():
    big = rate_difference(56, 70, 48, 80)
    assert big["test"] == "chi2"
    # pooled two-proportion z test by hand
    p = (56 + 48) / 150
    z = (56 / 70 - 48 / 80) / math.sqrt(p * (1 - p) * (1 / 70 + 1 / 80))
    assert big["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-10)
    small = rate_difference(9, 10, 3, 10)
    assert small["test"] == "fisher"
    assert small["p_value"] == pytest.approx(stats.fisher_exact([[9, 1], [3, 7]]).pvalue)
    assert rate_difference(0, 10, 0, 10)["p_value"] == pytest.approx(1.0)


def test_mean_difference_is_welch():
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 1.0, 30), rng.normal(0.2, 2.5, 45)
    r = mean_difference(np.append(a, np.nan), b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert r["p_value"] == ref.pvalue
    assert r["estimate"] == pytest.approx(a.mean() - b.mean())
    ci = ref.confidence_interval()
    assert r["ci"] == (ci.low, ci.high)
    assert r["p_value"] != stats.ttest_ind(a, b, equal_var=True).pvalue


def test_kaplan_meier_eight_subjects():
    times = [3, 5, 6, 8, 10, 12, 15, 20]
    events = [1, 0, 1, 1, 0, 1, 1, 1]
    table, median = kaplan_meier(times, events)
    surv = dict(zip(table["time"], table["survival"], strict=True))
    assert surv[3] == pytest.approx(0.875)
    assert surv[5] == pytest.approx(0.875)  # censoring does not step
    assert surv[6] == pytest.approx(0.875 * 5 / 6)
    assert surv[8] == pytest.approx(0.875 * 5 / 6 * 4 / 5)
    assert table["at_risk"].tolist() == [8, 7, 6, 5, 4, 3, 2, 1]
    assert table["events"].tolist() == events
    assert median["estimate"] == 12.0


def test_kaplan_meier_median_alone_is_the_estimate_of_kaplan_meier():
    """The bootstrap median (calibration.wounds) is the full estimate's to the bit: 24
    events at days 1-24 reach S = 12/24 = 0.5 exactly at day 12 (a product of per-patient
    factors 1 - 1/n rounds just above 0.5 there and gave day 13)."""
    assert kaplan_meier_median(range(1, 25), [1] * 24) == 12.0
    assert kaplan_meier_median(MP_T, MP_E) == 23.0
    assert math.isnan(kaplan_meier_median([1, 2, 3], [1, 0, 0]))
    assert math.isnan(kaplan_meier_median([], []))
    rng = np.random.default_rng(7)
    for _ in range(200):  # ties, censoring at event times, even sizes
        n = int(rng.integers(1, 40))
        t = rng.integers(1, 15, n).astype(float)
        e = (rng.random(n) < rng.random()).astype(float)
        expected = kaplan_meier(t, e)[1]["estimate"]
        got = kaplan_meier_median(t, e)
        assert got == expected or (math.isnan(got) and math.isnan(expected)), (t, e)


def test_kaplan_meier_freireich_6mp():
    table, median = kaplan_meier(MP_T, MP_E)
    at = table.set_index("time")
    # textbook values (Kleinbaum & Klein table 2.x)
    for t, s in [(6, 0.857), (7, 0.807), (10, 0.753), (13, 0.690), (16, 0.627), (22, 0.538)]:
        assert at.loc[t, "survival"] == pytest.approx(s, abs=5e-4)
    assert at.loc[23, "survival"] == pytest.approx(0.448, abs=5e-4)
    assert at.loc[6, "at_risk"] == 21 and at.loc[6, "events"] == 3 and at.loc[6, "censored"] == 1
    assert median["estimate"] == 23.0
    # Greenwood log-log band: lower band first <= 0.5 at t = 13; upper band never
    assert median["ci"][0] == 13.0 and math.isnan(median["ci"][1])
    assert (table["lower"] <= table["survival"]).all()
    assert (table["survival"] <= table["upper"]).all()


def test_logrank_freireich_chi2():
    # R: survdiff(Surv(time, status) ~ group) on these data gives Chisq = 16.8, p = 4e-05
    r = logrank_test(MP_T, MP_E, PL_T, PL_E)
    assert r["chi2"] == pytest.approx(16.793, abs=1e-3)
    assert r["p_value"] == pytest.approx(stats.chi2.sf(16.793, 1), rel=1e-3)


def test_logrank_tiny_by_hand():
    # arm A: events at 1, 3; arm B: events at 2, 4 (no censoring). By hand:
    # t=1: n=4, nA=2, d=1 -> E_A=0.5, V=0.25; t=2: n=3, nA=1, d=1 -> E_A=1/3, V=2/9;
    # t=3: n=2, nA=1 -> E_A=0.5, V=0.25; t=4: n=1, nA=0 -> 0, 0.
    # O_A - E_A = 2 - 4/3 = 2/3; V = 13/18; chi2 = (2/3)^2 / (13/18) = 8/13
    r = logrank_test([1, 3], [1, 1], [2, 4], [1, 1])
    assert r["chi2"] == pytest.approx(8 / 13)


def test_hazard_ratio_freireich_matches_coxph():
    # R: coxph(Surv(time, status) ~ group) (Efron ties, the default) on these data gives
    # exp(coef) 4.817, 95 % interval 2.147-10.81 for placebo versus 6-MP
    r = hazard_ratio(PL_T, PL_E, MP_T, MP_E)
    assert r["estimate"] == pytest.approx(4.817, abs=1e-3)
    assert r["ci"] == pytest.approx((2.147, 10.81), abs=2e-3)
    swapped = hazard_ratio(MP_T, MP_E, PL_T, PL_E)
    assert swapped["estimate"] == pytest.approx(1 / r["estimate"])
    assert swapped["ci"] == pytest.approx((1 / r["ci"][1], 1 / r["ci"][0]))


def test_hazard_ratio_recovers_simulated_hazards():
    rng = np.random.default_rng(3)
    slow, fast = rng.exponential(60.0, 4000), rng.exponential(20.0, 4000)  # ratio 1/3
    observed = np.minimum(slow, 100.0), np.minimum(fast, 100.0)  # censored at day 100
    r = hazard_ratio(observed[0], slow < 100.0, observed[1], fast < 100.0)
    assert r["ci"][0] < 1 / 3 < r["ci"][1]


def test_hazard_ratio_is_nan_without_events_in_an_arm():
    r = hazard_ratio([5, 6], [0, 0], [1, 2], [1, 1])
    assert math.isnan(r["estimate"]) and all(math.isnan(c) for c in r["ci"])


def _trial(seed: int = 0) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for arm, p_resp, shift, rate in [("placebo", 0.2, 0.0, 1 / 60), ("msc", 0.5, -20.0, 1 / 150)]:
        for i in range(40):
            t = rng.exponential(1 / rate)
            rows.append(
                {
                    "arm": arm,
                    "patient": i,
                    "EASI-75@16w": float(rng.random() < p_resp),
                    "mean_pct_change:EASI@16w": -30.0 + shift + rng.normal(0, 15),
                    "time_to_relapse": min(t, 365.0),
                    "time_to_relapse_event": float(t < 365.0),
                }
            )
    df = pd.DataFrame(rows)
    df.loc[3, "EASI-75@16w"] = np.nan  # a failed simulation
    df.loc[3, "mean_pct_change:EASI@16w"] = np.nan
    kinds = {
        "EASI-75@16w": "rate",
        "mean_pct_change:EASI@16w": "mean",
        "time_to_relapse": "time_to_event",
    }
    return df, kinds


def test_summarise_shape_json_and_determinism():
    df, kinds = _trial()
    s = summarise(df, kinds, seed=5)
    text = json.dumps(s, allow_nan=False)
    assert text == json.dumps(summarise(df, kinds, seed=5), allow_nan=False)
    assert set(s) == {"arms", "comparisons"}
    assert list(s["arms"]) == ["placebo", "msc"]
    for arm in s["arms"].values():
        assert list(arm) == list(kinds)
        for r in arm.values():
            assert set(r) == {"estimate", "ci", "n", "excluded"}
            assert isinstance(r["n"], int) and len(r["ci"]) == 2
            assert r["estimate"] is None or type(r["estimate"]) is float
    rate = s["arms"]["placebo"]["EASI-75@16w"]
    assert rate["n"] == 39 and rate["excluded"] == 1  # one NaN excluded
    k = int(df.loc[df.arm == "placebo", "EASI-75@16w"].sum())
    assert rate["estimate"] == pytest.approx(100 * k / 39)
    assert rate["ci"] == pytest.approx([100 * v for v in wilson_interval(k, 39)])
    assert [(c["arm"], c["reference"]) for c in s["comparisons"]] == [("msc", "placebo")] * 3
    assert [c["endpoint"] for c in s["comparisons"]] == list(kinds)
    keys = {"endpoint", "arm", "reference", "difference", "ci", "p_value"}
    for c in s["comparisons"][:2]:
        assert set(c) == keys
    tte = s["comparisons"][2]
    assert set(tte) == keys | {"hazard_ratio"}
    m = df["arm"] == "msc"
    arms = [
        df.loc[rows, column]
        for rows in (m, ~m)
        for column in ("time_to_relapse", "time_to_relapse_event")
    ]
    assert tte["p_value"] == pytest.approx(logrank_test(*arms)["p_value"])
    assert tte["ci"] == [None, None]
    hr = hazard_ratio(*arms)
    assert tte["hazard_ratio"] == {"estimate": hr["estimate"], "ci": list(hr["ci"])}
    assert tte["hazard_ratio"]["estimate"] < 1.0  # msc relapses at 1/150 a day, placebo 1/60


def test_summarise_reference_and_none_for_nan():
    df, kinds = _trial()
    s = summarise(df, kinds, reference="msc")
    assert [c["arm"] for c in s["comparisons"]] == ["placebo"] * 3
    df2 = df.copy()
    df2["arm"] = df2["arm"].map({"placebo": "a", "msc": "b"})
    df2.loc[df2.arm == "b", "EASI-75@16w"] = np.nan  # an arm with no evaluable patient
    s2 = summarise(df2, kinds)
    assert s2["comparisons"][0]["reference"] == "a"
    assert s2["arms"]["b"]["EASI-75@16w"] == {
        "estimate": None,
        "ci": [None, None],
        "n": 0,
        "excluded": 40,
    }
    assert s2["comparisons"][0]["p_value"] is None
    json.dumps(s2, allow_nan=False)
    with pytest.raises(ValueError, match="kind"):
        summarise(df, {"EASI-75@16w": "median"})
    bad = df.copy()
    bad.loc[0, "EASI-75@16w"] = 0.7
    with pytest.raises(ValueError, match="0, 1 or NaN"):
        summarise(bad, kinds)
    with pytest.raises(ValueError, match="missing"):
        summarise(df, {"TEWL@12w": "mean"})


def test_missing_values_leave_numerator_and_denominator():
    """Failed patients (NaN) and infinite values are excluded, never non-responders or
    censored; patients with no row at all (a failed chunk) are counted via ``absent``."""
    kinds = {"R": "rate", "M": "mean", "T": "time_to_event"}
    nan, inf = np.nan, np.inf
    df = pd.DataFrame(
        {
            "arm": ["a"] * 6 + ["b"] * 4,
            "R": [1, 1, 0, nan, nan, inf, 1, 0, 0, 0],
            "M": [1.0, 2.0, 3.0, nan, inf, -inf, 5.0, 6.0, 7.0, 8.0],
            "T": [10.0, 20.0, 30.0, nan, inf, 40.0, 5.0, 6.0, 7.0, 8.0],
            "T_event": [1, 1, 0, nan, 1, nan, 1, 1, 1, 0],
        }
    )
    s = summarise(df, kinds, seed=1, absent={"a": 2, "c": 3})
    a = s["arms"]["a"]
    assert (a["R"]["estimate"], a["R"]["n"], a["R"]["excluded"]) == (100 * 2 / 3, 3, 5)
    assert a["R"]["ci"] == pytest.approx([100 * v for v in wilson_interval(2, 3)])
    assert (a["M"]["estimate"], a["M"]["n"], a["M"]["excluded"]) == (2.0, 3, 5)
    assert (a["T"]["estimate"], a["T"]["n"], a["T"]["excluded"]) == (20.0, 3, 5)
    assert s["arms"]["b"]["R"] | {"ci": None} == {
        "estimate": 25.0,
        "ci": None,
        "n": 4,
        "excluded": 0,
    }
    # an arm none of whose patients came back is still reported, all excluded
    assert s["arms"]["c"]["M"] == {"estimate": None, "ci": [None, None], "n": 0, "excluded": 3}
    diff = next(c for c in s["comparisons"] if c["arm"] == "b" and c["endpoint"] == "M")
    ref = mean_difference([5.0, 6.0, 7.0, 8.0], [1.0, 2.0, 3.0])
    assert diff["difference"] == pytest.approx(ref["estimate"])
    assert diff["p_value"] == pytest.approx(ref["p_value"])
    json.dumps(s, allow_nan=False)


def test_power_from_replicates():
    r = power_from_replicates([0.001, 0.2, 0.04, float("nan"), 0.05], alpha=0.05)
    assert r["significant"] == 2 and r["n"] == 5  # NaN and p == alpha are not significant
    assert r["power"] == pytest.approx(0.4)
    assert r["ci"] == pytest.approx(list(wilson_interval(2, 5)))


def test_search_n_per_arm_finds_smallest_n():
    calls = []

    def power(n):
        calls.append(n)
        return 1 - math.exp(-n / 50)  # >= 0.8 from n = 50 ln 5 = 80.47 -> 81

    r = search_n_per_arm(power, 0.8, 2, 500)
    assert r["n_per_arm"] == 81
    assert len(calls) == len(set(calls)) <= 12
    assert search_n_per_arm(power, 0.999, 2, 100)["n_per_arm"] is None
    assert search_n_per_arm(power, 0.01, 2, 100)["n_per_arm"] == 2


def test_an_arm_with_no_rows_keeps_its_place_in_the_trial_order():
    """A whole arm whose chunks failed is reported where the trial lists it (and the arms
    after it keep their bootstrap seeds), not appended at the end."""
    df = pd.DataFrame({"arm": ["a", "a", "c", "c"], "M": [1.0, 2.0, 3.0, 5.0]})
    s = summarise(df, {"M": "mean"}, seed=1, absent={"b": 2}, order=["a", "b", "c"])
    assert list(s["arms"]) == ["a", "b", "c"]
    assert s["arms"]["b"]["M"]["excluded"] == 2
    whole = pd.DataFrame({"arm": ["a", "a", "b", "c", "c"], "M": [1.0, 2.0, np.nan, 3.0, 5.0]})
    assert s["arms"]["c"] == summarise(whole, {"M": "mean"}, seed=1)["arms"]["c"]
    assert [c["arm"] for c in s["comparisons"]] == ["b", "c"]
