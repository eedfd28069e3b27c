"""Statistics for virtual clinical trials: intervals, arm comparisons, survival, power.

Choices (all two-sided, default level 95 %):

* one proportion: Wilson score interval (``scipy.stats.binomtest(...).proportion_ci``);
* one mean: percentile bootstrap (``scipy.stats.bootstrap``, ``method="percentile"``, 2,000
  resamples, a NumPy Generator seeded from ``seed``), so it is bit-identical for a given seed.
  Percentile rather than BCa because BCa is undefined (NaN plus a warning) for constant samples,
  which virtual cohorts can produce (e.g. every patient at a floor of zero);
* difference of proportions: Newcombe's hybrid score interval (Newcombe 1998, method 10) built
  from the two Wilson intervals; p-value from Pearson's chi-square test without continuity
  correction (the same as the pooled two-proportion z test) when every expected cell count is
  at least 5, otherwise Fisher's exact test;
* difference of means: Welch's t test (``scipy.stats.ttest_ind(equal_var=False)``) with its
  confidence interval;
* paired arms (a trial with ``paired: true``: every arm on the same patients): difference
  of paired proportions with Newcombe's hybrid score interval for paired data (Newcombe
  1998, Stat Med 17:2635, method 10) and McNemar's exact test; mean of the paired
  differences with the t interval and the paired t test; time to event stays unpaired;
* time to event: Kaplan-Meier (``scipy.stats.ecdf`` on ``CensoredData``) with log-log pointwise
  bands; the median is the first time the survival falls to 0.5 or below and its interval is
  read off the bands (from the time the lower band first falls to 0.5 to the time the upper
  band does, in the spirit of Brookmeyer and Crowley; NaN where a band never gets there);
  arms are compared with the log-rank test (``scipy.stats.logrank``) and by the hazard ratio
  of a Cox model with the arm as its one covariate (Efron ties, Wald interval;
  :mod:`dermatwin.trials.hazard_ratio`).

Missing values (NaN or infinite: a failed simulation, a score that could not be computed,
a dropout) are left out of every estimate and its denominator, never counted as a
non-responder or as censored; ``n`` always counts the patients actually analysed and
``excluded`` the patients of the arm left out.

>>> lo, hi = wilson_interval(12, 20)
>>> round(lo, 4), round(hi, 4)
(0.3866, 0.7812)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from dermatwin.trials.hazard_ratio import hazard_ratio

KINDS = ("rate", "mean", "time_to_event")
EVENT_SUFFIX = "_event"


def _float(x) -> float | None:
    """A plain Python float for JSON, or None for NaN / missing."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def _clean(values) -> np.ndarray:
    """The finite values (NaN and infinities are missing, not data)."""
    a = np.asarray(values, dtype=float).ravel()
    return a[np.isfinite(a)]


# ---------------------------------------------------------------------------------------------
# one arm


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (as a fraction); (nan, nan) when ``n`` is 0."""
    n = int(n)
    if n <= 0:
        return (math.nan, math.nan)
    ci = stats.binomtest(int(successes), n).proportion_ci(confidence_level=level, method="wilson")
    return (float(ci.low), float(ci.high))


#: values resampled at once by the bootstrap (4 M: about 64 MB with the indices; the
#: transient copy was the largest single allocation of a large trial's driver)
BOOTSTRAP_BATCH_VALUES = 1 << 22


def bootstrap_mean_interval(
    values, level: float = 0.95, n_resamples: int = 2000, seed: int | Sequence[int] = 0
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean; NaNs dropped; deterministic given ``seed``.

    Fewer than two values give (nan, nan): nothing to resample. A constant sample gives
    (value, value).
    """
    x = _clean(values)
    if x.size < 2:
        return (math.nan, math.nan)
    if np.all(x == x[0]):
        return (float(x[0]), float(x[0]))
    # resample in batches of at most BOOTSTRAP_BATCH_VALUES values so that memory stays
    # bounded for a million patients; the draws and so the interval are the same
    batch = max(1, BOOTSTRAP_BATCH_VALUES // x.size)
    res = stats.bootstrap(
        (x,),
        np.mean,
        n_resamples=n_resamples,
        confidence_level=level,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
        batch=batch if batch < n_resamples else None,
    )
    ci = res.confidence_interval
    return (float(ci.low), float(ci.high))


# ---------------------------------------------------------------------------------------------
# two arms


def rate_difference(x1: int, n1: int, x2: int, n2: int, level: float = 0.95) -> dict:
    """p1 - p2 (fractions) with Newcombe's hybrid score interval and a two-sided p-value.

    Returns ``{"estimate", "ci": (lo, hi), "p_value", "test"}``; ``test`` is ``"chi2"`` or
    ``"fisher"`` (see the module docstring). NaNs when either arm is empty.
    """
    x1, n1, x2, n2 = int(x1), int(n1), int(x2), int(n2)
    if n1 <= 0 or n2 <= 0:
        return {"estimate": math.nan, "ci": (math.nan, math.nan), "p_value": math.nan, "test": ""}
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, level)
    l2, u2 = wilson_interval(x2, n2, level)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    if np.all(expected >= 5):
        p, test = float(stats.chi2_contingency(table, correction=False).pvalue), "chi2"
    else:
        p, test = float(stats.fisher_exact(table).pvalue), "fisher"
    return {"estimate": d, "ci": (lo, hi), "p_value": p, "test": test}


def mean_difference(values1, values2, level: float = 0.95) -> dict:
    """mean1 - mean2 with the Welch t interval and p-value; NaNs dropped.

    Returns ``{"estimate", "ci": (lo, hi), "p_value"}``; NaNs when an arm has fewer than 2 values.
    """
    a, b = _clean(values1), _clean(values2)
    if a.size < 2 or b.size < 2:
        return {"estimate": math.nan, "ci": (math.nan, math.nan), "p_value": math.nan}
    with warnings.catch_warnings():  # constant samples: scipy warns and returns NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.ttest_ind(a, b, equal_var=False)
        ci = res.confidence_interval(confidence_level=level)
    return {
        "estimate": float(a.mean() - b.mean()),
        "ci": (float(ci.low), float(ci.high)),
        "p_value": float(res.pvalue),
    }


# ---------------------------------------------------------------------------------------------
# two arms on the same patients (paired)


def paired_rate_difference(a: int, b: int, c: int, d: int, level: float = 0.95) -> dict:
    """p1 - p2 (fractions) of paired binary outcomes, with Newcombe's hybrid score interval
    for paired data and McNemar's exact p-value.

    The pairs form the table ``a`` (responder in both), ``b`` (responder on treatment 1
    only), ``c`` (on treatment 2 only), ``d`` (in neither); p1 = (a+b)/n, p2 = (a+c)/n.
    Interval: Newcombe 1998 (Stat Med 17:2635, NEWCOMBE1998PAIRED), method 10: the Wilson
    intervals (l1, u1), (l2, u2) of p1 and p2 combined with the correlation phi of the
    table, whose numerator ad - bc is shrunk towards 0 by n/2 when positive (0 when it lies
    within [0, n/2]; left as is when negative; phi = 0 when a margin is empty):

        lower = d - sqrt((p1 - l1)^2 - 2 phi (p1 - l1)(u2 - p2) + (u2 - p2)^2)
        upper = d + sqrt((p2 - l2)^2 - 2 phi (p2 - l2)(u1 - p1) + (u1 - p1)^2)

    p-value: McNemar's exact test, the two-sided binomial test of ``b`` among the ``b + c``
    discordant pairs at 1/2 (1.0 when there are none). Returns ``{"estimate", "ci": (lo,
    hi), "p_value", "test": "mcnemar_exact"}``; NaNs when there are no pairs.
    """
    a, b, c, d = (int(v) for v in (a, b, c, d))
    n = a + b + c + d
    if n <= 0:
        return {"estimate": math.nan, "ci": (math.nan, math.nan), "p_value": math.nan, "test": ""}
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_interval(a + b, n, level)
    l2, u2 = wilson_interval(a + c, n, level)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    cross = a * d - b * c
    if margins == 0:
        phi = 0.0
    elif cross > n / 2:
        phi = (cross - n / 2) / math.sqrt(margins)
    elif cross >= 0:
        phi = 0.0
    else:
        phi = cross / math.sqrt(margins)
    diff = p1 - p2
    lo = diff - _root(p1 - l1, u2 - p2, phi)
    hi = diff + _root(p2 - l2, u1 - p1, phi)
    p = float(stats.binomtest(b, b + c, 0.5).pvalue) if b + c else 1.0
    return {"estimate": diff, "ci": (lo, hi), "p_value": p, "test": "mcnemar_exact"}


def _root(e1: float, e2: float, phi: float) -> float:
    """sqrt(e1^2 - 2 phi e1 e2 + e2^2), never of a negative rounding error."""
    return math.sqrt(max(0.0, e1 * e1 - 2.0 * phi * e1 * e2 + e2 * e2))


def paired_mean_difference(values1, values2, level: float = 0.95) -> dict:
    """Mean of the paired differences values1 - values2 with the t interval and the paired t
    test p-value (``scipy.stats.ttest_rel``). Pairs with a missing value (NaN or infinite)
    on either side are dropped. Identical differences give the interval (d, d) and p = 1 for
    d = 0 (NaN otherwise: the t statistic is undefined). Returns ``{"estimate", "ci": (lo,
    hi), "p_value", "pairs"}``; NaNs with fewer than 2 pairs.
    """
    x = np.asarray(values1, dtype=float).ravel()
    y = np.asarray(values2, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"paired values differ in length ({x.size} and {y.size})")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    diffs = x - y
    if diffs.size < 2:
        out = {"estimate": math.nan, "ci": (math.nan, math.nan), "p_value": math.nan}
        return out | {"pairs": int(diffs.size)}
    mean = float(diffs.mean())
    if np.all(diffs == diffs[0]):
        p = 1.0 if diffs[0] == 0 else math.nan
        return {"estimate": mean, "ci": (mean, mean), "p_value": p, "pairs": int(diffs.size)}
    res = stats.ttest_rel(x, y)
    ci = res.confidence_interval(confidence_level=level)
    return {
        "estimate": mean,
        "ci": (float(ci.low), float(ci.high)),
        "p_value": float(res.pvalue),
        "pairs": int(diffs.size),
    }


# ---------------------------------------------------------------------------------------------
# time to event


def _event_times(times, events) -> tuple[np.ndarray, np.ndarray]:
    """(event times, censoring times), rows with a missing (NaN or infinite) time or flag
    dropped."""
    t = np.asarray(times, dtype=float).ravel()
    e = np.asarray(events, dtype=float).ravel()
    if t.shape != e.shape:
        raise ValueError(f"times ({t.size}) and events ({e.size}) differ in length")
    ok = np.isfinite(t) & np.isfinite(e)
    t, e = t[ok], e[ok]
    return t[e > 0], t[e <= 0]


def _survival(times, events) -> tuple[np.ndarray, np.ndarray, object]:
    """(event times, censoring times), each sorted, and their ``scipy.stats.ecdf``
    (None where no time is left)."""
    ev, ce = (np.sort(x) for x in _event_times(times, events))
    if ev.size + ce.size == 0:
        return ev, ce, None
    return ev, ce, stats.ecdf(stats.CensoredData(uncensored=ev, right=ce))


def kaplan_meier(times, events, level: float = 0.95) -> tuple[pd.DataFrame, dict]:
    """Kaplan-Meier estimate; rows with a NaN time or event flag are dropped.

    Returns ``(table, median)``: ``table`` has one row per distinct observed time with columns
    ``time, survival, lower, upper, at_risk, events, censored`` (``at_risk`` just before
    ``time``; ``lower``/``upper`` the log-log pointwise band); ``median`` is
    ``{"estimate", "ci": (lo, hi)}`` in the units of ``times`` (NaN where not reached).
    """
    ev, ce, res = _survival(times, events)
    t_all = np.sort(np.concatenate([ev, ce]))
    columns = ["time", "survival", "lower", "upper", "at_risk", "events", "censored"]
    nan_median = {"estimate": math.nan, "ci": (math.nan, math.nan)}
    if res is None:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns}), nan_median
    grid = np.asarray(res.sf.quantiles, dtype=float)
    surv = np.asarray(res.sf.probabilities, dtype=float)
    with warnings.catch_warnings():  # undefined (NaN) where survival is 0 or 1
        warnings.simplefilter("ignore", RuntimeWarning)
        band = res.sf.confidence_interval(confidence_level=level, method="log-log")
    lower = np.asarray(band.low.probabilities, dtype=float).copy()
    upper = np.asarray(band.high.probabilities, dtype=float).copy()
    for bound in (lower, upper):
        bound[np.isnan(bound) & (surv == 0.0)] = 0.0
        bound[np.isnan(bound) & (surv == 1.0)] = 1.0
    at_risk = t_all.size - np.searchsorted(t_all, grid, side="left")
    n_events = np.searchsorted(ev, grid, side="right") - np.searchsorted(ev, grid, side="left")
    n_cens = np.searchsorted(ce, grid, side="right") - np.searchsorted(ce, grid, side="left")
    table = pd.DataFrame(
        {
            "time": grid,
            "survival": surv,
            "lower": lower,
            "upper": upper,
            "at_risk": at_risk.astype(int),
            "events": n_events.astype(int),
            "censored": n_cens.astype(int),
        }
    )
    median = {
        "estimate": _first_at_or_below_half(grid, surv),
        "ci": (_first_at_or_below_half(grid, lower), _first_at_or_below_half(grid, upper)),
    }
    return table, median


def _first_at_or_below_half(grid: np.ndarray, curve: np.ndarray) -> float:
    """The first time of ``grid`` where ``curve`` is 0.5 or below (NaN if never)."""
    hit = np.flatnonzero(curve <= 0.5)
    return float(grid[hit[0]]) if hit.size else math.nan


def kaplan_meier_median(times, events) -> float:
    """The median of :func:`kaplan_meier` alone (its ``median["estimate"]``, the same
    ``scipy.stats.ecdf`` survival; NaN where not reached), without the table and bands:
    fast enough for thousands of bootstrap trials.

    >>> kaplan_meier_median([3, 5, 6, 8, 10, 12, 15, 20], [1, 0, 1, 1, 0, 1, 1, 1])
    12.0
    """
    res = _survival(times, events)[2]
    if res is None:
        return math.nan
    sf = res.sf
    return _first_at_or_below_half(np.asarray(sf.quantiles), np.asarray(sf.probabilities))


def survival_at(times, events, at: Sequence[float], level: float = 0.95) -> dict:
    """Kaplan-Meier survival (%) at each day of ``at``: ``{"DAY": {"estimate", "ci"}}``
    (the step function's value at that day; None past the last observed time)."""
    table, _ = kaplan_meier(times, events, level)
    out = {}
    for t in at:
        if table.empty or t > float(table["time"].iloc[-1]):
            cell = {"estimate": None, "ci": [None, None]}
        else:
            k = int(np.searchsorted(table["time"].to_numpy(), t, side="right")) - 1
            row = table.iloc[k] if k >= 0 else None
            est, lo, hi = (
                (1.0, 1.0, 1.0) if row is None else (row["survival"], row["lower"], row["upper"])
            )
            cell = {"estimate": _float(100 * est), "ci": [_float(100 * lo), _float(100 * hi)]}
        out[f"{t:g}"] = cell
    return out


def logrank_test(times1, events1, times2, events2) -> dict:
    """Two-sided log-rank test (``scipy.stats.logrank``): ``{"chi2", "p_value"}``.

    ``chi2`` is the square of scipy's standardised statistic (1 degree of freedom). NaNs when an
    arm is empty or there are no events at all.
    """
    ev1, ce1 = _event_times(times1, events1)
    ev2, ce2 = _event_times(times2, events2)
    if ev1.size + ce1.size == 0 or ev2.size + ce2.size == 0 or ev1.size + ev2.size == 0:
        return {"chi2": math.nan, "p_value": math.nan}
    res = stats.logrank(
        stats.CensoredData(uncensored=ev1, right=ce1),
        stats.CensoredData(uncensored=ev2, right=ce2),
        alternative="two-sided",
    )
    return {"chi2": float(res.statistic) ** 2, "p_value": float(res.pvalue)}


# ---------------------------------------------------------------------------------------------
# summary of a trial


def _arms(endpoints: pd.DataFrame) -> list[str]:
    return [str(a) for a in pd.unique(endpoints["arm"])]


def _reference(arms: list[str], reference: str | None) -> str:
    if reference is None:
        return "placebo" if "placebo" in arms else arms[0]
    if reference not in arms:
        raise ValueError(f"reference arm {reference!r} not among arms {arms}")
    return reference


def summarise(
    endpoints: pd.DataFrame,
    kinds: Mapping[str, str],
    seed: int = 0,
    *,
    reference: str | None = None,
    level: float = 0.95,
    n_resamples: int = 2000,
    absent: Mapping[str, int] | None = None,
    paired: bool = False,
    order: Sequence[str] | None = None,
) -> dict:
    """Per-arm estimates and each arm versus the reference arm, as plain JSON-able data.

    ``endpoints`` has one row per patient (columns ``arm``, ``patient`` and one per endpoint;
    a time-to-event endpoint ``E`` uses the columns ``E`` (time) and ``E_event`` (1 event, 0
    censored)); ``kinds`` maps each endpoint to ``"rate"``, ``"mean"`` or ``"time_to_event"``.
    Rates (estimates, intervals and differences) are in percent; time-to-event estimates are
    median times with their interval, compared by the difference of medians (no interval)
    and the log-rank p-value, and the comparison adds ``hazard_ratio`` (arm versus
    reference, ``{"estimate", "ci"}``, None where an arm has no events). ``reference``
    defaults to ``"placebo"`` if present, else the first arm. Arms keep their order in
    ``order`` (the trial's arms; arms not in it follow), else their order of first
    appearance; endpoints the order of ``kinds``.
    NaN comes out as None. The bootstrap for arm i, endpoint j is seeded with ``[seed, i, j]``,
    so the result depends only on the inputs and ``seed``.

    Each arm and endpoint gets ``n`` (patients analysed) and ``excluded`` (patients whose
    value is missing: NaN or infinite, or for a time-to-event endpoint a missing time or
    flag; plus ``absent[arm]``, patients with no row at all, e.g. a chunk that failed).
    Excluded patients are in neither numerator nor denominator.

    ``paired``: the arms hold the same patients (row ``patient`` i of one arm is patient i
    of every other), and each arm is compared with the reference on its pairs: rates by
    :func:`paired_rate_difference`, means by :func:`paired_mean_difference`; time to event
    stays unpaired (Kaplan-Meier medians and the log-rank test). A pair whose value is
    missing in either arm (or whose row is absent) is dropped and counted in
    ``pairs_excluded``; ``pairs`` counts the pairs analysed. The summary then holds
    ``"paired": true`` and each comparison its ``method``.
    """
    if "arm" not in endpoints.columns:
        raise ValueError("endpoints needs an 'arm' column")
    for name, kind in kinds.items():
        if kind not in KINDS:
            raise ValueError(f"endpoint {name!r}: kind {kind!r} not one of {KINDS}")
        needed = [name, name + EVENT_SUFFIX] if kind == "time_to_event" else [name]
        missing = [c for c in needed if c not in endpoints.columns]
        if missing:
            raise ValueError(f"endpoint {name!r}: columns {missing} missing from endpoints")
        if kind == "rate":
            x = _clean(endpoints[name])
            if not np.all((x == 0.0) | (x == 1.0)):
                raise ValueError(f"rate endpoint {name!r} must hold 0, 1 or NaN")
    absent = {str(k): int(v) for k, v in (absent or {}).items() if v}
    arms = _arms(endpoints)
    arms += [arm for arm in absent if arm not in arms]  # an arm none of whose rows came back
    if order is not None:  # such an arm keeps its place (and its bootstrap seeds)
        known = [str(a) for a in order]
        arms = [a for a in known if a in arms] + [a for a in arms if a not in known]
    if not arms:
        return {"arms": {}, "comparisons": []}
    ref = _reference(arms, reference)
    groups = {arm: endpoints[endpoints["arm"].astype(str) == arm] for arm in arms}

    def values(arm: str, name: str) -> np.ndarray:
        return groups[arm][name].to_numpy(dtype=float)

    def surv(arm: str, name: str) -> tuple[np.ndarray, np.ndarray]:
        t = values(arm, name)
        e = values(arm, name + EVENT_SUFFIX)
        ok = np.isfinite(t) & np.isfinite(e)
        return t[ok], e[ok]

    out_arms: dict[str, dict] = {}
    for i, arm in enumerate(arms):
        out_arms[arm] = {}
        for j, (name, kind) in enumerate(kinds.items()):
            if kind == "rate":
                x = _clean(values(arm, name))
                n, k = int(x.size), int((x > 0.5).sum())
                est = 100.0 * k / n if n else math.nan
                lo, hi = (100.0 * v for v in wilson_interval(k, n, level))
            elif kind == "mean":
                x = _clean(values(arm, name))
                n = int(x.size)
                est = float(x.mean()) if n else math.nan
                lo, hi = bootstrap_mean_interval(x, level, n_resamples, seed=[seed, i, j])
            else:
                t, e = surv(arm, name)
                n = int(t.size)
                _, median = kaplan_meier(t, e, level)
                est, (lo, hi) = median["estimate"], median["ci"]
            out_arms[arm][name] = {
                "estimate": _float(est),
                "ci": [_float(lo), _float(hi)],
                "n": n,
                "excluded": len(groups[arm]) - n + int(absent.get(arm, 0)),
            }

    if paired and "patient" not in endpoints.columns:
        raise ValueError("paired comparisons need a 'patient' column in endpoints")

    def size(arm: str) -> int:
        return len(groups[arm]) + int(absent.get(arm, 0))

    def pairs(arm: str, name: str) -> tuple[np.ndarray, np.ndarray, int]:
        """Values of the complete pairs (arm, reference) and the number of pairs dropped."""
        x = groups[arm].set_index("patient")[name]
        y = groups[ref].set_index("patient")[name]
        common = x.index.intersection(y.index).sort_values()
        xv = x.loc[common].to_numpy(dtype=float)
        yv = y.loc[common].to_numpy(dtype=float)
        ok = np.isfinite(xv) & np.isfinite(yv)
        return xv[ok], yv[ok], min(size(arm), size(ref)) - int(ok.sum())

    comparisons = []
    for arm in arms:
        if arm == ref:
            continue
        for name, kind in kinds.items():
            if paired and kind in ("rate", "mean"):
                x, y, dropped = pairs(arm, name)
                comparisons.append(_paired_comparison(name, kind, arm, ref, x, y, dropped, level))
                continue
            if kind == "rate":
                a, b = _clean(values(arm, name)), _clean(values(ref, name))
                r = rate_difference(
                    int((a > 0.5).sum()), a.size, int((b > 0.5).sum()), b.size, level
                )
                d, (lo, hi), p = 100.0 * r["estimate"], (100.0 * c for c in r["ci"]), r["p_value"]
            elif kind == "mean":
                r = mean_difference(values(arm, name), values(ref, name), level)
                d, (lo, hi), p = r["estimate"], r["ci"], r["p_value"]
            else:
                m_arm, m_ref = out_arms[arm][name]["estimate"], out_arms[ref][name]["estimate"]
                d = math.nan if m_arm is None or m_ref is None else m_arm - m_ref
                lo = hi = math.nan
                p = logrank_test(*surv(arm, name), *surv(ref, name))["p_value"]
                hr = hazard_ratio(*surv(arm, name), *surv(ref, name), level)
            comparison = {
                "endpoint": name,
                "arm": arm,
                "reference": ref,
                "difference": _float(d),
                "ci": [_float(lo), _float(hi)],
                "p_value": _float(p),
            }
            if kind == "time_to_event":
                comparison["hazard_ratio"] = {
                    "estimate": _float(hr["estimate"]),
                    "ci": [_float(c) for c in hr["ci"]],
                }
            if paired:
                comparison["method"] = PAIRED_METHODS[kind]
            comparisons.append(comparison)
    if paired:
        return {"paired": True, "arms": out_arms, "comparisons": comparisons}
    return {"arms": out_arms, "comparisons": comparisons}


#: how a paired trial compares an arm with the reference, per endpoint kind
PAIRED_METHODS = {
    "rate": "paired: difference of proportions, Newcombe hybrid score interval for paired "
    "data (method 10), McNemar exact test",
    "mean": "paired: mean of paired differences, t interval, paired t test",
    "time_to_event": "unpaired: difference of Kaplan-Meier medians, log-rank test and Cox "
    "hazard ratio (time to event is not paired)",
}


def _paired_comparison(
    name: str, kind: str, arm: str, ref: str, x: np.ndarray, y: np.ndarray, dropped: int, level
) -> dict:
    """One paired comparison (rates in percent) of the complete pairs ``x`` (arm) and ``y``
    (reference); ``dropped`` pairs had a missing value."""
    if kind == "rate":
        rx, ry = x > 0.5, y > 0.5
        r = paired_rate_difference(
            int(np.sum(rx & ry)),
            int(np.sum(rx & ~ry)),
            int(np.sum(~rx & ry)),
            int(np.sum(~rx & ~ry)),
            level,
        )
        d, (lo, hi) = 100.0 * r["estimate"], (100.0 * c for c in r["ci"])
    else:
        r = paired_mean_difference(x, y, level)
        d, (lo, hi) = r["estimate"], r["ci"]
    return {
        "endpoint": name,
        "arm": arm,
        "reference": ref,
        "difference": _float(d),
        "ci": [_float(lo), _float(hi)],
        "p_value": _float(r["p_value"]),
        "method": PAIRED_METHODS[kind],
        "pairs": int(x.size),
        "pairs_excluded": int(dropped),
    }


# ---------------------------------------------------------------------------------------------
# power


def power_from_replicates(p_values: Iterable[float], alpha: float = 0.05, level: float = 0.95):
    """Share of replicate trials with p < ``alpha``, with its Wilson interval.

    A NaN p-value (a replicate whose test could not be computed) counts as not significant,
    which can only understate power. Returns ``{"power", "ci": [lo, hi], "significant", "n"}``.
    """
    p = np.asarray(list(p_values), dtype=float)
    n = int(p.size)
    k = int(np.sum(p < alpha))  # NaN < alpha is False
    lo, hi = wilson_interval(k, n, level)
    return {
        "power": _float(k / n if n else math.nan),
        "ci": [_float(lo), _float(hi)],
        "significant": k,
        "n": n,
    }


def search_n_per_arm(
    power_at_n: Callable[[int], float], target: float, n_lo: int, n_hi: int
) -> dict:
    """Smallest n in [n_lo, n_hi] with ``power_at_n(n) >= target``, by bisection.

    Assumes power does not decrease with n (bisection is only right then; simulated power is
    noisy, so use enough replicates per n, or a common seed, to keep it monotone). Each n is
    evaluated at most once. Returns ``{"n_per_arm", "power", "evaluated": [[n, power], ...]}``;
    ``n_per_arm`` is None (and ``power`` that at ``n_hi``) when even ``n_hi`` falls short.
    """
    n_lo, n_hi = int(n_lo), int(n_hi)
    if n_lo < 1 or n_hi < n_lo:
        raise ValueError(f"need 1 <= n_lo <= n_hi, got n_lo={n_lo}, n_hi={n_hi}")
    cache: dict[int, float] = {}

    def power(n: int) -> float:
        if n not in cache:
            cache[n] = float(power_at_n(n))
        return cache[n]

    def result(n: int | None, pw: float) -> dict:
        return {
            "n_per_arm": n,
            "power": _float(pw),
            "evaluated": [[k, _float(v)] for k, v in sorted(cache.items())],
        }

    if not power(n_hi) >= target:
        return result(None, power(n_hi))
    if power(n_lo) >= target:
        return result(n_lo, power(n_lo))
    lo, hi = n_lo, n_hi  # power(lo) < target <= power(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if power(mid) >= target:
            hi = mid
        else:
            lo = mid
    return result(hi, power(hi))
