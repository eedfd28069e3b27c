"""Hazard ratio of two arms: a Cox proportional-hazards model with one binary covariate.

Trials report relapse and time-to-event results as a hazard ratio (e.g. Berth-Jones 2003:
relapse 5.8 times less likely on proactive fluticasone, AD_TCS_PROACTIVE_EMOLL_RELAPSE).
Here the covariate is 1 in ``arm`` and 0 in ``reference``; the log hazard ratio maximises
Cox's partial likelihood with Efron's handling of tied event times (trial visits tie many
events), by Newton-Raphson from 0, and the interval is the Wald interval on the log scale
from the observed information. The estimate is NaN where an arm has no patients or either
arm has no events, or where the arms' events are separated so that the estimate runs off
to 0 or infinity (no information left: e.g. every event of one arm before any patient of
the other is at risk).

Efron's log partial likelihood, at each distinct event time with ``d`` events, risk-set
sums ``S_R = n0 + n1 e^b`` and event sums ``S_D = d0 + d1 e^b``:
``d1 b - sum_{k<d} log(S_R - k/d S_D)``.

>>> t1, e1 = [2, 4, 6, 8, 10], [1, 1, 0, 1, 0]
>>> t0, e0 = [1, 2, 3, 4, 5], [1, 1, 1, 1, 1]
>>> hr = hazard_ratio(t1, e1, t0, e0)
>>> round(hr["estimate"], 3), [round(c, 3) for c in hr["ci"]]
(0.239, [0.045, 1.263])
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

#: Newton-Raphson: stop when a step changes the log hazard ratio by less than this
TOLERANCE = 1e-10
MAX_ITERATIONS = 100
#: a log hazard ratio beyond this (a ratio below 1e-13 or above 1e13) has run off: separation
LOG_LIMIT = 30.0


def hazard_ratio(times1, events1, times0, events0, level: float = 0.95) -> dict:
    """Hazard ratio of arm 1 versus arm 0 (``{"estimate", "ci": (lo, hi)}``; see the
    module docstring). Rows with a missing (NaN or infinite) time or flag are dropped;
    ``events`` is 1 for an event, 0 for censoring."""
    t1, e1 = _clean(times1, events1)
    t0, e0 = _clean(times0, events0)
    nan = {"estimate": math.nan, "ci": (math.nan, math.nan)}
    if not (e1.sum() and e0.sum()):
        return nan
    tables = _risk_tables(t1, e1, t0, e0)
    beta = 0.0
    for _ in range(MAX_ITERATIONS):
        score, info = _score_information(beta, *tables)
        if not info > 0.0:
            return nan
        step = score / info
        beta += step
        if abs(beta) > LOG_LIMIT:
            return nan
        if abs(step) < TOLERANCE:
            break
    else:
        return nan
    _, info = _score_information(beta, *tables)
    if not info > 0.0:
        return nan
    z = stats.norm.ppf(0.5 + level / 2.0)
    half = z / math.sqrt(info)
    return {"estimate": math.exp(beta), "ci": (math.exp(beta - half), math.exp(beta + half))}


def _clean(times, events) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times, dtype=float).ravel()
    e = np.asarray(events, dtype=float).ravel()
    if t.shape != e.shape:
        raise ValueError(f"times ({t.size}) and events ({e.size}) differ in length")
    ok = np.isfinite(t) & np.isfinite(e)
    return t[ok], (e[ok] > 0).astype(float)


def _risk_tables(t1, e1, t0, e0):
    """Per distinct event time: events (d1, d0) and patients at risk (n1, n0) per arm."""
    grid = np.unique(np.concatenate([t1[e1 > 0], t0[e0 > 0]]))

    def per_arm(t, e):
        ev = np.sort(t[e > 0])
        d = np.searchsorted(ev, grid, side="right") - np.searchsorted(ev, grid, side="left")
        n = t.size - np.searchsorted(np.sort(t), grid, side="left")
        return d.astype(float), n.astype(float)

    d1, n1 = per_arm(t1, e1)
    d0, n0 = per_arm(t0, e0)
    return d1, n1, d0, n0


def _score_information(beta, d1, n1, d0, n0) -> tuple[float, float]:
    """Score and observed information of Efron's log partial likelihood at ``beta``."""
    r = math.exp(beta)
    d = d1 + d0
    score = float(d1.sum())
    info = 0.0
    for k in range(int(d.max())):
        active = d > k  # event times with more than k events
        frac = k / d[active]
        s1 = n1[active] * r - frac * d1[active] * r  # sum of x e^(b x) over the reduced set
        s0 = n0[active] + n1[active] * r - frac * (d0[active] + d1[active] * r)
        p = s1 / s0
        score -= float(p.sum())
        info += float((p * (1.0 - p)).sum())
    return score, info
