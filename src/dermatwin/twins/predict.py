"""Posterior predictive trajectories of a twin under a future regimen.

A future regimen is a YAML file of regimen items in the trial format (``docs/trials.md``),
with days counted from the last visit ("now") and a horizon::

    name: continue dupilumab
    horizon: 24 weeks
    regimen:
      - {drug: dupilumab}

The horizon is 1-104 weeks; every day of the regimen (drug ``start``/``stop``, MSC
``times``) must lie within it, and every dose within the catalogue's allowed range
(``dermatwin.therapy.drugs``: up to 2x the labelled maximum) - checked before anything is
simulated. Every treatment stops at the horizon; the twin is then followed for
:data:`FOLLOW_UP_DAYS` more to see relapse. For ``n_draws`` posterior draws (one batched
simulation) the prediction gives, per score:

* ``latent`` bands: quantiles (5, 25, 50, 75, 95 %) of the model score, i.e. parameter
  uncertainty; ``predictive`` bands add the measurement error of :mod:`.likelihood`
  (what a future visit would record). Times are days since the first visit.
* responders: the probability of EASI-50 / EASI-75 (AD) or PASI-75 (psoriasis) at week
  ``w`` after now, as a reduction from the twin's own score at the first visit (the
  pre-treatment baseline), for every week of the horizon.
* relapse: from the last dose of the regimen, the time until the score climbs back above
  ``baseline - 0.5 x (baseline - score at the last dose)`` (the trials' definition),
  censored at the end of follow-up; the median over draws (None when fewer than half
  relapse) and the probability of relapse within the follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dermatwin._base.rng import rng_stream
from dermatwin._base.times import Days
from dermatwin._base.yaml_files import one_line, read_mapping
from dermatwin.disease.scores import ORDINALS, SCORES, grade, primary_score
from dermatwin.engine.events import EventKind
from dermatwin.model.spec import Model
from dermatwin.outcomes.endpoints import relapse_times
from dermatwin.therapy.items import RegimenItem, parse_items
from dermatwin.twins.fit import Twin
from dermatwin.twins.likelihood import ERROR_MODEL, OUTPUTS, TwinSimulator, twin_model
from dermatwin.twins.visits import MAX_VISIT_DAY, TwinDataError, check_treatment

FOLLOW_UP_DAYS = 364.0
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
RESPONSE_LEVELS = {"AD": (50, 75), "psoriasis": (75,)}
RELAPSE_FRACTION = 0.5


#: longest prediction after the last visit (104 weeks, as the visit record), days
MAX_HORIZON_DAYS = MAX_VISIT_DAY


class FutureRegimen(BaseModel):
    """A regimen from now on (days from the last visit) and its horizon."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field("regimen", min_length=1, max_length=80)
    horizon: Days = Field(default=168.0, ge=7.0, le=MAX_HORIZON_DAYS)
    regimen: list[RegimenItem] = Field(default_factory=list)


def load_regimen(path: str | Path) -> FutureRegimen:
    """A :class:`FutureRegimen` from YAML, or from NONMEM/mrgsolve-style dosing records
    (a ``.csv``: :mod:`dermatwin.therapy.dosing_records`; the horizon covers the last dose
    by 4 weeks, at least the default); problems are one-line TwinDataErrors. Doses are
    checked against the patient (weight) by :func:`check_regimen`."""
    where = Path(path).name
    if Path(path).suffix.lower() == ".csv":
        return _records_regimen(path)
    data = read_mapping(path, TwinDataError, "name, horizon, regimen (a list)")
    if "regimen" in data:
        data = {**data, "regimen": parse_items(data["regimen"], TwinDataError, where)}
    try:
        return FutureRegimen.model_validate(data)
    except ValidationError as err:
        raise TwinDataError(one_line(err, where)) from None


def _records_regimen(path: str | Path) -> FutureRegimen:
    from dermatwin.therapy.dosing_records import DosingRecordError, read_dosing_records

    try:
        items = read_dosing_records(path)
    except DosingRecordError as err:
        raise TwinDataError(str(err)) from None
    last = max(item.stop if item.stop is not None else item.start for item in items)
    default = FutureRegimen.model_fields["horizon"].default
    horizon = min(max(default, float(np.ceil(last)) + 28.0), MAX_HORIZON_DAYS)
    return FutureRegimen(name=Path(path).stem[:80] or "regimen", horizon=horizon, regimen=items)


def check_regimen(regimen: FutureRegimen, weight_kg: float) -> None:
    """Every item's days within the horizon and its doses within the catalogue's range
    (a one-line TwinDataError naming the item and field otherwise)."""
    for i, item in enumerate(regimen.regimen):
        try:
            check_treatment(item, weight_kg, regimen.horizon)
        except TwinDataError as err:
            raise TwinDataError(f"regimen[{i}]: {err}") from None


@dataclass
class Prediction:
    """Bands, responder probabilities and relapse of one regimen (see module docstring)."""

    regimen: FutureRegimen
    now: float
    bands: pd.DataFrame
    responders: pd.DataFrame
    relapse: dict
    samples: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    times: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    def probability(self, level: int, week: float) -> float:
        row = self.responders[
            (self.responders["level"] == level) & np.isclose(self.responders["week"], week)
        ]
        if row.empty:
            raise TwinDataError(f"goal: week {week:g} is outside the regimen horizon")
        return float(row["probability"].iloc[0])

    def summary(self) -> dict:
        return {
            "regimen": self.regimen.name,
            "now_day": self.now,
            "horizon_days": self.regimen.horizon,
            "responders": self.responders.to_dict(orient="records"),
            "relapse": self.relapse,
        }


def _quantile_frame(samples: dict[str, np.ndarray], times: np.ndarray, kind: str):
    rows = []
    for name, values in samples.items():
        q = np.nanquantile(values, QUANTILES, axis=0)
        rows.append(
            pd.DataFrame(
                {
                    "variable": name,
                    "band": kind,
                    "day": times,
                    "week": times / 7.0,
                    **{f"q{int(round(100 * a)):02d}": q[i] for i, a in enumerate(QUANTILES)},
                    "mean": np.nanmean(values, axis=0),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def add_noise(
    samples: dict[str, np.ndarray], seed: int, severity: dict[str, float] | None = None
) -> dict[str, np.ndarray]:
    """What a visit would record: each continuous score with its measurement error, kept
    within its scale (a pruritus NRS is at most 10, however heavy the error's tail)."""
    rng = rng_stream(seed, 11)
    out = {}
    for name in sorted(samples):
        if name in ERROR_MODEL:
            out[name] = ERROR_MODEL[name].draw_t(samples[name], rng)
            score = SCORES.get(name)
            if score is not None and score.bounded:
                out[name] = np.minimum(out[name], score.high)
    for ordinal in ORDINALS.values():
        if ordinal.source in out:
            out[ordinal.name] = grade(ordinal.name, out[ordinal.source], severity).astype(float)
    return out


def simulate_draws(
    twin: Twin,
    regimen: FutureRegimen,
    theta: np.ndarray,
    *,
    model: Model,
    follow_up: float = FOLLOW_UP_DAYS,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, float]:
    """Scores (draw x time) of ``theta`` under ``regimen``; returns samples, times, status
    and the last dose day (NaN if the regimen gives nothing)."""
    now = twin.record.last_day
    stop = now + regimen.horizon
    grid = np.arange(0.0, stop + follow_up + 1e-9, 7.0)
    times = np.unique(np.concatenate([grid, [now, stop], [v.day for v in twin.record.visits]]))
    from dermatwin.params.parameter_set import load_parameter_set

    pset = load_parameter_set(twin.settings.parameter_set)
    sim = TwinSimulator(model, twin.record, twin.prior, pset)
    out, status, events = sim.run(theta, times, list(regimen.regimen), now=now, stop=stop)
    doses = [
        e.time
        for e in events
        if e.kind != EventKind.SET_PARAMETER or e.value != 0.0
        if now <= e.time <= stop
    ]
    last = float(max(doses)) if doses else float("nan")
    samples = {k: v.copy() for k, v in out.items()}
    for v in samples.values():
        v[status != 0] = np.nan
    severity = pset.severity()
    for ordinal in ORDINALS.values():
        if ordinal.source in samples:
            graded = grade(ordinal.name, samples[ordinal.source], severity)
            samples[ordinal.name] = np.where(np.isnan(samples[ordinal.source]), np.nan, graded)
    return samples, times, status, last


def responder_table(
    samples: dict[str, np.ndarray], times: np.ndarray, disease: str, now: float, horizon: float
) -> pd.DataFrame:
    score = primary_score(disease)
    values = samples[score]
    base = values[:, 0]
    rows = []
    weeks = np.arange(1, int(horizon // 7) + 1)
    for level in RESPONSE_LEVELS[disease]:
        for w in weeks:
            k = int(np.argmin(np.abs(times - (now + 7.0 * w))))
            ok = ~np.isnan(values[:, k])
            hit = values[ok, k] <= (1 - level / 100.0) * base[ok]
            rows.append(
                {
                    "endpoint": f"{score}-{level}",
                    "level": level,
                    "week": float(w),
                    "probability": float(hit.mean()) if ok.any() else float("nan"),
                }
            )
    return pd.DataFrame(rows)


def predict(
    twin: Twin,
    regimen: FutureRegimen,
    *,
    n_draws: int = 200,
    seed: int = 0,
    model: Model | None = None,
) -> Prediction:
    """The posterior predictive of ``regimen`` for ``twin`` (see the module docstring)."""
    from dermatwin.params.parameter_set import load_parameter_set

    check_regimen(regimen, twin.record.patient.weight_kg)
    theta = twin.draws(n_draws)
    model = model or twin_model(twin.settings.parameter_set)[0]
    severity = load_parameter_set(twin.settings.parameter_set).severity()
    samples, times, status, last = simulate_draws(twin, regimen, theta, model=model)
    disease = twin.record.patient.disease
    now = twin.record.last_day
    bands = pd.concat(
        [
            _quantile_frame(samples, times, "latent"),
            _quantile_frame(add_noise(samples, seed, severity), times, "predictive"),
        ],
        ignore_index=True,
    )
    responders = responder_table(samples, times, disease, now, regimen.horizon)
    primary = samples[primary_score(disease)]
    relapse: dict = {"last_dose_day": None if np.isnan(last) else last}
    if not np.isnan(last):
        t, event = relapse_times(primary, times, last, RELAPSE_FRACTION)
        ok = ~np.isnan(event)
        relapsed = event[ok] == 1
        relapse.update(
            responders_at_last_dose=int(ok.sum()),
            probability_of_relapse=float(relapsed.mean()) if ok.any() else None,
            median_days_to_relapse=float(np.median(t[ok]))
            if ok.any() and relapsed.mean() >= 0.5
            else None,
            follow_up_days=float(times[-1] - last),
        )
    failed = int(np.sum(status != 0))
    relapse["failed_draws"] = failed
    return Prediction(regimen, now, bands, responders, relapse, samples, times)


__all__ = ["FutureRegimen", "Prediction", "load_regimen", "predict", "OUTPUTS"]
