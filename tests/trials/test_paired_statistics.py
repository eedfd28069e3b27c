"""Paired comparisons (trials with ``paired: true``) against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dermatwin.trials.statistics import (
    paired_mean_difference,
    paired_rate_difference,
    summarise,
)

Z = 1.959963984540054  # the 97.5 % normal quantile


def wilson(x: int, n: int) -> tuple[float, float]:
    """Wilson's score interval written out (Newcombe 1998, method 3)."""
    centre = (x + Z * Z / 2) / (n + Z * Z)
    half = Z * math.sqrt(x * (n - x) / n + Z * Z / 4) / (n + Z * Z)
    return centre - half, centre + half


def newcombe_paired(a: int, b: int, c: int, d: int) -> tuple[float, float]:
    """Newcombe 1998 (Stat Med 17:2635), method 10, by hand from the paper's formulae."""
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n)
    l2, u2 = wilson(a + c, n)
    cross = a * d - b * c
    corrected = cross - n / 2 if cross > n / 2 else (0.0 if cross >= 0 else cross)
    phi = corrected / math.sqrt((a + b) * (c + d) * (a + c) * (b + d))
    dl = math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    du = math.sqrt((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2)
    return p1 - p2 - dl, p1 - p2 + du


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p: twice the smaller binomial tail of the discordant pairs."""
    m = b + c
    tail = sum(math.comb(m, k) for k in range(min(b, c) + 1)) / 2**m
    return min(1.0, 2 * tail)


@pytest.mark.parametrize(
    "table",
    [
        (59, 6, 16, 80),  # ad - bc > n/2: phi shrunk by n/2
        (5, 5, 5, 6),  # 0 <= ad - bc <= n/2: phi = 0
        (2, 10, 8, 1),  # ad - bc < 0
        (7, 0, 3, 10),  # one-sided discordance
    ],
)
def test_paired_rate_difference_matches_the_hand_computation(table):
    a, b, c, d = table
    r = paired_rate_difference(a, b, c, d)
    n = sum(table)
    assert r["estimate"] == pytest.approx((b - c) / n, abs=1e-15)
    lo, hi = newcombe_paired(a, b, c, d)
    assert r["ci"][0] == pytest.approx(lo, abs=1e-12)
    assert r["ci"][1] == pytest.approx(hi, abs=1e-12)
    assert r["p_value"] == pytest.approx(mcnemar_exact(b, c), rel=1e-12)
    assert r["test"] == "mcnemar_exact"


def test_paired_interval_is_narrower_than_the_unpaired_one_for_correlated_pairs():
    from dermatwin.trials.statistics import rate_difference

    paired = paired_rate_difference(59, 6, 16, 80)
    unpaired = rate_difference(59 + 6, 161, 59 + 16, 161)
    assert paired["ci"][1] - paired["ci"][0] < 0.6 * (unpaired["ci"][1] - unpaired["ci"][0])


def test_paired_rate_difference_without_discordant_pairs():
    r = paired_rate_difference(4, 0, 0, 6)
    assert r["estimate"] == 0.0 and r["p_value"] == 1.0
    assert r["ci"][0] < 0 < r["ci"][1]
    assert math.isnan(paired_rate_difference(0, 0, 0, 0)["estimate"])


def test_paired_mean_difference_matches_the_hand_computation():
    x = np.array([3.0, 5.5, 2.0, 8.0, 4.5, np.nan])
    y = np.array([1.0, 5.0, 2.5, 4.0, np.inf, 2.0])
    d = np.array([2.0, 0.5, -0.5, 4.0])  # the complete pairs only
    mean, sd, n = d.mean(), d.std(ddof=1), d.size
    t = mean / (sd / math.sqrt(n))
    from scipy import stats

    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    r = paired_mean_difference(x, y)
    assert r["pairs"] == 4
    assert r["estimate"] == pytest.approx(mean, abs=1e-15)
    assert r["ci"][0] == pytest.approx(mean - half, rel=1e-12)
    assert r["ci"][1] == pytest.approx(mean + half, rel=1e-12)
    assert r["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), n - 1), rel=1e-10)
    same = paired_mean_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert same["estimate"] == 0.0 and same["ci"] == (0.0, 0.0) and same["p_value"] == 1.0


def test_pairs_with_a_missing_value_are_dropped_and_counted():
    table = pd.DataFrame(
        {
            "arm": ["a"] * 5 + ["ref"] * 5,
            "patient": [0, 1, 2, 3, 4] * 2,
            "R": [1, np.nan, 1, 0, 1, 0, 0, 1, np.nan, 0],
            "M": [1.0, 2.0, np.nan, 4.0, 5.0, 0.0, 0.0, 1.0, 1.0, 1.0],
        }
    )
    # patient 4 of arm a never came back (a failed chunk): no row, counted as absent
    table = table.drop(index=4)
    s = summarise(table, {"R": "rate", "M": "mean"}, reference="ref", absent={"a": 1}, paired=True)
    assert s["paired"] is True
    rate, mean = s["comparisons"]
    # R pairs: 0 (1, 0) and 2 (1, 1); 1 and 3 have a NaN, 4 no row
    assert (rate["pairs"], rate["pairs_excluded"]) == (2, 3)
    assert rate["difference"] == pytest.approx(50.0)
    assert rate["method"].startswith("paired: difference of proportions, Newcombe")
    # M pairs: 0 (1 - 0), 1 (2 - 0), 3 (4 - 1); 2 has a NaN, 4 no row
    assert (mean["pairs"], mean["pairs_excluded"]) == (3, 2)
    assert mean["difference"] == pytest.approx((1 + 2 + 3) / 3)
    assert mean["method"] == "paired: mean of paired differences, t interval, paired t test"


def test_time_to_event_stays_unpaired_and_says_so():
    table = pd.DataFrame(
        {
            "arm": ["a"] * 4 + ["ref"] * 4,
            "patient": [0, 1, 2, 3] * 2,
            "T": [5.0, 8.0, 9.0, 12.0, 3.0, 4.0, 6.0, 7.0],
            "T_event": [1.0] * 8,
        }
    )
    paired = summarise(table, {"T": "time_to_event"}, reference="ref", paired=True)
    plain = summarise(table, {"T": "time_to_event"}, reference="ref")
    (c,) = paired["comparisons"]
    assert c["method"].startswith("unpaired: difference of Kaplan-Meier medians, log-rank")
    assert {k: v for k, v in c.items() if k != "method"} == plain["comparisons"][0]
    assert "paired" not in plain and "method" not in plain["comparisons"][0]
