"""Endpoints: one grammar and registry of kinds (:mod:`.endpoints`), used by scenarios,
trials and twins; scenario estimates (:func:`evaluate`).

An endpoint is written ``VAR-PCT@TIME`` (share of patients whose VAR improved by at least
PCT % from baseline, e.g. ``EASI-75@16w``), ``mean:VAR@TIME`` or
``mean_pct_change:VAR@TIME`` (trials add more kinds: see :mod:`.endpoints`). Baseline is
the value at time 0.

>>> parse_endpoint("EASI-75@16w")
Endpoint(text='EASI-75@16w', kind='responder', variable='EASI', time=112.0, threshold=75.0)
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from dermatwin.outcomes.endpoints import (
    KINDS,
    Endpoint,
    EndpointError,
    EndpointKind,
    Observations,
    forms,
    parse_endpoint,
    relapse_times,
)

__all__ = [
    "KINDS",
    "Endpoint",
    "EndpointError",
    "EndpointKind",
    "Observations",
    "evaluate",
    "forms",
    "parse_endpoint",
    "pct_change",
    "relapse_times",
]


def pct_change(ds: xr.Dataset, variable: str, time: float) -> np.ndarray:
    """Per-patient % change of ``variable`` from time 0 to ``time`` (negative = better)."""
    base, value = _DatasetObservations(ds).pair(variable, time)
    return 100.0 * (value - base) / base


class _DatasetObservations:
    """A scenario arm's trajectories as :class:`Observations`: baseline at time 0, changes
    at an output time (within 1e-6 days), plain values at the nearest output time."""

    def __init__(self, ds: xr.Dataset):
        self.ds = ds

    def pair(self, variable: str, time: float) -> tuple[np.ndarray, np.ndarray]:
        base = self.ds[variable].sel(time=0.0).values
        value = self.ds[variable].sel(time=time, method="nearest", tolerance=1e-6).values
        return base, value

    def at(self, variable: str, time: float) -> np.ndarray:
        return self.ds[variable].sel(time=time, method="nearest").values

    def observed_at_baseline(self, variable: str) -> bool:
        return True

    def series(self, variable: str) -> np.ndarray:
        return self.ds[variable].values


def evaluate(ds: xr.Dataset, endpoint: Endpoint) -> dict:
    """Estimate of an endpoint over the patients for whom it can be computed.

    A patient whose simulation failed (status not OK) or whose value is NaN or infinite
    (e.g. a % change from a zero baseline) is left out of the estimate and of ``n``, and
    counted in ``excluded``; it is never counted as a non-responder.
    """
    kind = endpoint.spec
    per_patient = kind.compute(endpoint, _DatasetObservations(ds))[endpoint.text]
    ok = (ds["status"].values == 0) & np.isfinite(per_patient)
    values = per_patient[ok]
    unit = kind.unit if kind.unit is not None else ds[endpoint.variable].attrs.get("unit", "")
    estimate = kind.scale * float(values.mean()) if values.size else float("nan")
    return {"estimate": estimate, "unit": unit, "n": int(ok.sum()), "excluded": int((~ok).sum())}
