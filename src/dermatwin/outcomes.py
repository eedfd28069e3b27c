"""Endpoints computed from trajectories: responder rates and summary statistics.

An endpoint is written ``VAR-PCT@TIME`` (share of patients whose VAR improved by at least
PCT % from baseline, e.g. ``EASI-75@16w``), ``mean:VAR@TIME`` or
``mean_pct_change:VAR@TIME``. Baseline is the value at time 0.

>>> parse_endpoint("EASI-75@16w")
Endpoint(text='EASI-75@16w', kind='responder', variable='EASI', time=112.0, threshold=75.0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import xarray as xr

from dermatwin.errors import ScenarioError

_RESPONDER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)-(\d+(?:\.\d+)?)@(.+)$")
_STAT = re.compile(r"^(mean|mean_pct_change):([A-Za-z_][A-Za-z0-9_]*)@(.+)$")


@dataclass(frozen=True)
class Endpoint:
    text: str
    kind: str
    variable: str
    time: float
    threshold: float | None = None


def parse_endpoint(text: str) -> Endpoint:
    from dermatwin.scenario import parse_days

    try:
        if m := _RESPONDER.match(text):
            return Endpoint(
                text, "responder", m.group(1), parse_days(m.group(3)), float(m.group(2))
            )
        if m := _STAT.match(text):
            return Endpoint(text, m.group(1), m.group(2), parse_days(m.group(3)))
    except ValueError as err:
        raise ScenarioError(f"endpoint {text!r}: {err}") from None
    raise ScenarioError(
        f"endpoint {text!r} not understood; allowed forms: VAR-PCT@TIME (e.g. EASI-75@16w), "
        "mean:VAR@TIME, mean_pct_change:VAR@TIME"
    )


def pct_change(ds: xr.Dataset, variable: str, time: float) -> np.ndarray:
    """Per-patient % change of ``variable`` from time 0 to ``time`` (negative = better)."""
    base = ds[variable].sel(time=0.0).values
    value = ds[variable].sel(time=time, method="nearest", tolerance=1e-6).values
    return 100.0 * (value - base) / base


def evaluate(ds: xr.Dataset, endpoint: Endpoint) -> dict:
    """Estimate of an endpoint over the patients for whom it can be computed.

    A patient whose simulation failed (status not OK) or whose value is NaN or infinite
    (e.g. a % change from a zero baseline) is left out of the estimate and of ``n``, and
    counted in ``excluded``; it is never counted as a non-responder.
    """
    ok = ds["status"].values == 0
    if endpoint.kind == "responder":
        improvement = -pct_change(ds, endpoint.variable, endpoint.time)
        ok &= np.isfinite(improvement)
        values = (improvement[ok] >= endpoint.threshold).astype(np.float64)
        scale, unit = 100.0, "% of patients"
    elif endpoint.kind == "mean_pct_change":
        values = pct_change(ds, endpoint.variable, endpoint.time)
        ok &= np.isfinite(values)
        values, scale, unit = values[ok], 1.0, "%"
    else:
        values = ds[endpoint.variable].sel(time=endpoint.time, method="nearest").values
        ok &= np.isfinite(values)
        values, scale = values[ok], 1.0
        unit = ds[endpoint.variable].attrs.get("unit", "")
    estimate = scale * float(values.mean()) if values.size else float("nan")
    return {"estimate": estimate, "unit": unit, "n": int(ok.sum()), "excluded": int((~ok).sum())}
