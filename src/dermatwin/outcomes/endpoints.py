"""The one endpoint grammar and registry of endpoint kinds (scenarios, trials, twins).

An endpoint is text such as ``EASI-75@16w``. Each kind in :data:`KINDS` holds everything
about it: its grammar (a regular expression and how a match becomes an
:class:`Endpoint`), where it may be used (scenarios run any model output; trials and
twins use the disease's scores), how its per-patient value is computed from observed
scores (:class:`Observations`), how a trial summarises it (``rate``, ``mean`` or
``time_to_event``; see :mod:`dermatwin.trials.statistics`), the scale and unit of a
scenario estimate, and a label for figures. **Adding a kind touches this file only**
(plus its test): add one :class:`EndpointKind` to :data:`KINDS`.

Kinds (baseline: the value at time 0; a % change from baseline is negative when better):

* ``SCORE-PCT@TIME`` (responder): improved by at least PCT % (0 < PCT <= 100);
* ``IGA01@TIME`` / ``PGA01@TIME`` (category, trials): grade 0/1 with a >= 2-point drop;
* ``mean:VAR@TIME`` and ``VAR@TIME`` (trials) (mean): the value at TIME;
* ``mean_pct_change:VAR@TIME``: % change from baseline;
* ``change:VAR@TIME``: absolute change from baseline, in the variable's unit (score
  points; e.g. EASI change at week 16 of the MSC trials' EASIchg rows);
* ``time_to_relapse`` (trials): days from withdrawal (or ``relapse.start``, or day 0) to
  relapse;
* ``relapse@TIME`` (trials, rate): relapsed by TIME (the relapse of ``time_to_relapse``);
* ``flares_per_year`` (trials): upward crossings of flare_fraction x baseline per year;
* ``rescue@TIME`` (trials, rate): rescued by TIME (the trial's ``rescue:`` rule);
* ``time_to_rescue`` (trials): days from day 0 to rescue, censored at the last visit;
* ``tcs_days@TIME`` (trials, mean): days of topical corticosteroid use before TIME
  (regimen, background and rescue; a day with any application counts once);
* ``mean_pct_change:VAR@TIME/FROM`` (trials, mean): % change from the visit FROM (not
  from baseline), e.g. ``mean_pct_change:EASI@52w/16w``;
* ``lost:SCORE-PCT@FROM..TIME`` (trials, rate): among responders at FROM (others NaN),
  not a responder at some visit in (FROM, TIME]: loss of response over a window;
* ``time_to:VAR>=X`` / ``time_to:VAR<=X`` (trials): days from ``relapse.start`` (or the
  withdrawal, or day 0) to the first later visit with VAR at or past X (e.g.
  ``time_to:IGA>=2``), censored at the last visit.
* ``closure@TIME`` (wound trials, rate): the wound completely closed by TIME;
* ``time_to_closure`` (wound trials): days from day 0 to complete closure, censored at
  the last visit (Kaplan-Meier). A wound trial's % area reduction is
  ``mean_pct_change:wound_area@TIME`` (negative when the wound shrinks).

Under a trial's rescue rule with non-responder handling, each kind says how a rescued
patient counts (``EndpointKind.after_rescue``).

>>> parse_endpoint("EASI-75@16w")
Endpoint(text='EASI-75@16w', kind='responder', variable='EASI', time=112.0, threshold=75.0)
>>> parse_endpoint("IGA01@16w", context="trial", disease="AD").summary_kind
'rate'
>>> parse_endpoint("mean_pct_change:EASI@16w").label
'EASI % change from baseline at week 16'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from dermatwin._base.errors import ScenarioError
from dermatwin._base.yaml_files import short
from dermatwin.disease.scores import DISEASES

Context = Literal["scenario", "trial", "twin"]
_VAR = r"([A-Za-z_][A-Za-z0-9_]*)"


class EndpointError(ScenarioError):
    """An endpoint text is not understood or not allowed here (one line naming it)."""


@dataclass(frozen=True)
class Endpoint:
    """A parsed endpoint: ``time`` in days (None for whole-course kinds), ``threshold``
    the responder % (None for other kinds)."""

    text: str
    kind: str
    variable: str
    time: float | None = None
    threshold: float | None = None
    #: the earlier visit (days) a window or a change starts from (None: baseline)
    since: float | None = field(default=None, repr=False)

    @property
    def spec(self) -> EndpointKind:
        return KINDS[self.kind]

    @property
    def summary_kind(self) -> str:
        """How the statistics layer summarises it: rate, mean or time_to_event."""
        return self.spec.summary

    @property
    def label(self) -> str:
        """A label for figures and tables, e.g. 'EASI-75 responders at week 16'."""
        return self.spec.label(self)


class Observations(Protocol):
    """What a kind's per-patient computation reads (patients x visit times).

    ``pair`` gives (baseline, value at ``time``) for changes from baseline; ``at`` the
    value at ``time``; ``observed_at_baseline`` whether each patient has a computable
    baseline (a trial requires one for every endpoint; a scenario's plain value does
    not); ``series`` the whole trajectory. Trials also set ``times``, ``primary``,
    ``start`` (withdrawal day, or 0), ``relapse_fraction``, ``flare_fraction``,
    ``rescue_day`` (per patient, inf if never rescued) and ``tcs_days`` (patients x
    times: cumulative days of topical corticosteroid use); wound trials ``closure_day``
    (per patient, inf if open at the end)."""

    def pair(self, variable: str, time: float) -> tuple[np.ndarray, np.ndarray]: ...
    def at(self, variable: str, time: float) -> np.ndarray: ...
    def observed_at_baseline(self, variable: str) -> np.ndarray | bool: ...
    def series(self, variable: str) -> np.ndarray: ...


@dataclass(frozen=True)
class EndpointKind:
    """One kind of endpoint (see the module docstring)."""

    name: str
    #: full-text pattern; ``build`` turns its match into (variable, time text, threshold)
    #: or (variable, time text, threshold, since text)
    pattern: re.Pattern[str]
    build: Callable[[re.Match[str], str | None], tuple]
    #: the form shown in "not understood" messages
    form: str
    contexts: tuple[str, ...]
    summary: Literal["rate", "mean", "time_to_event"]
    #: per-patient values: {column: array}, NaN where not computable
    compute: Callable[[Endpoint, Observations], dict[str, np.ndarray]]
    label: Callable[[Endpoint], str]
    #: a scenario estimate: mean per patient x scale, in unit (None: the variable's unit)
    scale: float = 1.0
    unit: str | None = None
    #: a trial's non-responder handling of rescued patients: ``non_responder`` (a
    #: patient rescued by the endpoint's time counts as 0), ``last_value`` (the value at
    #: the rescue visit is carried forward) or ``observed`` (values as they are)
    after_rescue: Literal["non_responder", "last_value", "observed"] = "observed"


def _week(ep: Endpoint) -> str:
    return f"week {ep.time / 7:g}" if ep.time is not None else ""


def _pct(base: np.ndarray, now: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 * (now - base) / base


def _responder(ep: Endpoint, obs: Observations) -> dict[str, np.ndarray]:
    pct = _pct(*obs.pair(ep.variable, ep.time))
    hit = (pct <= -ep.threshold).astype(np.float64)
    return {ep.text: np.where(np.isfinite(pct), hit, np.nan)}


def _category(ep: Endpoint, obs: Observations) -> dict[str, np.ndarray]:
    base, now = obs.pair(ep.variable, ep.time)
    hit = ((now <= 1) & (base - now >= 2)).astype(np.float64)
    return {ep.text: np.where(np.isfinite(base) & np.isfinite(now), hit, np.nan)}


def _mean(ep: Endpoint, obs: Observations) -> dict[str, np.ndarray]:
    now = obs.at(ep.variable, ep.time)
    ok = np.isfinite(now) & obs.observed_at_baseline(ep.variable)
    return {ep.text: np.where(ok, now, np.nan)}


def _mean_pct_change(ep: Endpoint, obs: Observations) -> dict[str, np.ndarray]:
    pct = _pct(*obs.pair(ep.variable, ep.time))
    return {ep.text: np.where(np.isfinite(pct), pct, np.nan)}


def _change(ep: Endpoint, obs: Observations) -> dict[str, np.ndarray]:
    base, now = obs.pair(ep.variable, ep.time)
    return {ep.text: np.where(np.isfinite(base) & np.isfinite(now), now - base, np.nan)}


def relapse_times(
    primary: np.ndarray, times: np.ndarray, start: float, fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Days from ``start`` (withdrawal, last dose) to relapse per patient, and whether it
    happened (1) or was censored at the last time (0). Relapse: the score climbs back
    above ``baseline - fraction * (improvement at start)``. NaN for patients who had not
    improved by ``start`` (no relapse to measure) and for those with a NaN or infinite
    score at baseline or from ``start`` on (a failed simulation: not computable, rather
    than censored).
    """
    k0 = int(np.argmin(np.abs(times - start)))
    base = primary[:, 0]
    gain = base - primary[:, k0]
    computable = np.isfinite(base) & np.isfinite(primary[:, k0:]).all(axis=1)
    above = primary[:, k0 + 1 :] > (base - fraction * gain)[:, None]
    hit = above.any(axis=1) if above.shape[1] else np.zeros(len(base), dtype=bool)
    first = k0 + 1 + (above.argmax(axis=1) if above.shape[1] else 0)
    t_rel = np.where(hit, times[np.minimum(first, len(times) - 1)] - start, times[-1] - start)
    event = hit.astype(np.float64)
    no_response = (gain <= 0) | ~computable
    t_rel[no_response] = np.nan
    event[no_response] = np.nan
    return t_rel, event


def _time_to_relapse(ep: Endpoint, obs) -> dict[str, np.ndarray]:
    t_rel, event = relapse_times(
        obs.series(obs.primary), obs.times, obs.start, obs.relapse_fraction
    )
    return {ep.text: t_rel, ep.text + "_event": event}


def _flares(ep: Endpoint, obs) -> dict[str, np.ndarray]:
    primary, times = obs.series(obs.primary), obs.times
    above = primary > obs.flare_fraction * primary[:, 0][:, None]
    crossings = np.sum(above[:, 1:] & ~above[:, :-1], axis=1)
    result = crossings / (times[-1] / 365.25)
    return {ep.text: np.where(np.isfinite(primary).all(axis=1), result, np.nan)}


def _rescued(ep: Endpoint, obs) -> dict[str, np.ndarray]:
    done = (obs.rescue_day <= ep.time + 1e-9).astype(np.float64)
    return {ep.text: np.where(obs.observed_at_baseline(obs.primary), done, np.nan)}


def _time_to_rescue(ep: Endpoint, obs) -> dict[str, np.ndarray]:
    hit = np.isfinite(obs.rescue_day)
    t = np.where(hit, obs.rescue_day, obs.times[-1])
    ok = obs.observed_at_baseline(obs.primary)
    return {ep.text: np.where(ok, t, np.nan), ep.text + "_event": np.where(ok, hit * 1.0, np.nan)}


def _tcs_days(ep: Endpoint, obs) -> dict[str, np.ndarray]:
    days = obs.tcs_days[:, int(np.argmin(np.abs(obs.times - ep.time)))]
    return {ep.text: np.where(obs.observed_at_baseline(obs.primary), days, np.nan)}


def _closed(ep: Endpoint, obs) -> dict[str, np.ndarray]:
    return {ep.text: (obs.closure_day <= ep.time + 1e-9).astype(np.float64)}


def _time_to_closure(ep: Endpoint, obs) -> dict[str, np.ndarray]:
    hit = obs.closure_day <= obs.times[-1]
    t = np.where(hit, obs.closure_day, obs.times[-1])
    return {ep.text: t, ep.text + "_event": hit.astype(np.float64)}


def _relapsed(ep: Endpoint, obs) -> dict[str, np.ndarray]:
    t_rel, event = relapse_times(
        obs.series(obs.primary), obs.times, obs.start, obs.relapse_fraction
    )
    by = np.where(event == 1, (obs.start + t_rel <= ep.time + 1e-9) * 1.0, 0.0)
    return {ep.text: np.where(np.isfinite(event), by, np.nan)}


def _pct_change_from(ep: Endpoint, obs) -> dict[str, np.ndarray]:
    pct = _pct(obs.at(ep.variable, ep.since), obs.at(ep.variable, ep.time))
    return {ep.text: np.where(np.isfinite(pct), pct, np.nan)}


def _lost(ep: Endpoint, obs) -> dict[str, np.ndarray]:
    """1: a responder (>= PCT % better than baseline) at ``since`` who is not one at some
    visit in (since, time]; 0: responding throughout; NaN: not a responder at ``since``."""
    series = obs.series(ep.variable)
    k0, k1 = (int(np.argmin(np.abs(obs.times - t))) for t in (ep.since, ep.time))
    pct = _pct(series[:, :1], series[:, k0 : k1 + 1])
    responding = pct <= -ep.threshold
    ok = np.isfinite(pct).all(axis=1) & responding[:, 0]
    lost = (~responding[:, 1:]).any(axis=1).astype(np.float64)
    return {ep.text: np.where(ok, lost, np.nan)}


_TIME_TO = re.compile(rf"^time_to:{_VAR}(>=|<=)(\d+(?:\.\d+)?)$")


def _time_to(ep: Endpoint, obs) -> dict[str, np.ndarray]:
    """Days from ``obs.start`` to the first later visit at or past the threshold."""
    series, times = obs.series(ep.variable), obs.times
    k0 = int(np.argmin(np.abs(times - obs.start)))
    after = series[:, k0 + 1 :]
    up = _TIME_TO.match(ep.text).group(2) == ">="
    hit = after >= ep.threshold if up else after <= ep.threshold
    any_hit = hit.any(axis=1) if hit.shape[1] else np.zeros(len(series), dtype=bool)
    first = k0 + 1 + (hit.argmax(axis=1) if hit.shape[1] else 0)
    t = np.where(any_hit, times[np.minimum(first, len(times) - 1)], times[-1]) - times[k0]
    ok = np.isfinite(series[:, k0:]).all(axis=1) & obs.observed_at_baseline(ep.variable)
    return {
        ep.text: np.where(ok, t, np.nan),
        ep.text + "_event": np.where(ok, any_hit * 1.0, np.nan),
    }


_FLARE_BAND = re.compile(r"^flares_per_year:(\d+)-(\d+)?$")


def _flare_band(ep: Endpoint, obs) -> dict[str, np.ndarray]:
    """1 if the patient's flares a year, rounded to a whole number, lie in LOW..HIGH
    (inclusive; no HIGH: or more). Rounded, since a 52-week trial scales a count of 5 to
    5.02 a year, which would fall between the bands 1-5 and 6-10."""
    low, high = _FLARE_BAND.match(ep.text).groups()
    rate = np.rint(_flares(ep, obs)[ep.text])
    inside = (rate >= float(low)) & (rate <= (float(high) if high else np.inf))
    return {ep.text: np.where(np.isfinite(rate), inside.astype(np.float64), np.nan)}


def _band(m: re.Match[str], primary: str | None) -> tuple[str, None, None]:
    low, high = m.groups()
    if high is not None and int(low) > int(high):
        raise EndpointError(
            f"endpoint {short(m.string)}: band {low}-{high}; allowed: LOW <= HIGH "
            "(e.g. flares_per_year:1-5, or flares_per_year:11- for 11 or more)"
        )
    return primary or "", None, None


def _band_label(ep: Endpoint) -> str:
    low, high = _FLARE_BAND.match(ep.text).groups()
    band = f"{low}-{high}" if high else f"{low}+"
    return f"patients with {band} flares a year"


_ALL: tuple[str, ...] = ("scenario", "trial", "twin")
_CLINICAL: tuple[str, ...] = ("trial",)
#: the variable of wound trials (relative ulcer area, % of baseline)
WOUND_AREA = "wound_area"

#: every endpoint kind, in the order texts are matched
KINDS: dict[str, EndpointKind] = {
    k.name: k
    for k in (
        EndpointKind(
            "time_to_event",
            re.compile(r"^time_to_relapse$"),
            lambda m, primary: (primary or "", None, None),
            "time_to_relapse",
            _CLINICAL,
            "time_to_event",
            _time_to_relapse,
            lambda ep: "days to relapse",
        ),
        EndpointKind(
            "rate",
            re.compile(r"^flares_per_year$"),
            lambda m, primary: (primary or "", None, None),
            "flares_per_year",
            _CLINICAL,
            "mean",
            _flares,
            lambda ep: "flares per year",
        ),
        EndpointKind(
            "flare_band",
            _FLARE_BAND,
            _band,
            "flares_per_year:LOW-HIGH",
            _CLINICAL,
            "rate",
            _flare_band,
            _band_label,
        ),
        EndpointKind(
            "rescued",
            re.compile(r"^rescue@(.+)$"),
            lambda m, primary: (primary or "", m.group(1), None),
            "rescue@TIME",
            _CLINICAL,
            "rate",
            _rescued,
            lambda ep: f"rescued by {_week(ep)}",
        ),
        EndpointKind(
            "time_to_rescue",
            re.compile(r"^time_to_rescue$"),
            lambda m, primary: (primary or "", None, None),
            "time_to_rescue",
            _CLINICAL,
            "time_to_event",
            _time_to_rescue,
            lambda ep: "days to rescue",
        ),
        EndpointKind(
            "tcs_days",
            re.compile(r"^tcs_days@(.+)$"),
            lambda m, primary: (primary or "", m.group(1), None),
            "tcs_days@TIME",
            _CLINICAL,
            "mean",
            _tcs_days,
            lambda ep: f"days of topical corticosteroid by {_week(ep)}",
            unit="days",
        ),
        EndpointKind(
            "closed",
            re.compile(r"^closure@(.+)$"),
            lambda m, primary: (WOUND_AREA, m.group(1), None),
            "closure@TIME",
            _CLINICAL,
            "rate",
            _closed,
            lambda ep: f"wounds closed by {_week(ep)}",
        ),
        EndpointKind(
            "time_to_closure",
            re.compile(r"^time_to_closure$"),
            lambda m, primary: (WOUND_AREA, None, None),
            "time_to_closure",
            _CLINICAL,
            "time_to_event",
            _time_to_closure,
            lambda ep: "days to complete closure",
        ),
        EndpointKind(
            "relapsed",
            re.compile(r"^relapse@(.+)$"),
            lambda m, primary: (primary or "", m.group(1), None),
            "relapse@TIME",
            _CLINICAL,
            "rate",
            _relapsed,
            lambda ep: f"relapsed by {_week(ep)}",
        ),
        EndpointKind(
            "pct_change_from",
            re.compile(rf"^mean_pct_change:{_VAR}@([^/]+)/(.+)$"),
            lambda m, primary: (m.group(1), m.group(2), None, m.group(3)),
            "mean_pct_change:VAR@TIME/FROM",
            _CLINICAL,
            "mean",
            _pct_change_from,
            lambda ep: f"{ep.variable} % change from week {ep.since / 7:g} to {_week(ep)}",
            unit="%",
            after_rescue="last_value",
        ),
        EndpointKind(
            "lost",
            re.compile(rf"^lost:{_VAR}-(\d+(?:\.\d+)?)@(.+)\.\.(.+)$"),
            lambda m, primary: (m.group(1), m.group(4), float(m.group(2)), m.group(3)),
            "lost:SCORE-PCT@FROM..TIME",
            _CLINICAL,
            "rate",
            _lost,
            lambda ep: (
                f"{ep.variable}-{ep.threshold:g} lost between week {ep.since / 7:g} and {_week(ep)}"
            ),
            # observed: counting a rescued patient as a non-responder (0) would read "not
            # lost"; rescue itself is reported by rescue@TIME
            after_rescue="observed",
        ),
        EndpointKind(
            "time_to",
            _TIME_TO,
            lambda m, primary: (m.group(1), None, None),
            "time_to:VAR>=X, time_to:VAR<=X",
            _CLINICAL,
            "time_to_event",
            _time_to,
            lambda ep: f"days to {ep.text.removeprefix('time_to:')}",
        ),
        EndpointKind(
            "category",
            re.compile(r"^(IGA|PGA)01@(.+)$"),
            lambda m, primary: (m.group(1), m.group(2), None),
            "IGA01@TIME, PGA01@TIME",
            _CLINICAL,
            "rate",
            _category,
            lambda ep: f"{ep.variable} 0/1 at {_week(ep)}",
            after_rescue="non_responder",
        ),
        EndpointKind(
            "responder",
            re.compile(rf"^{_VAR}-(\d+(?:\.\d+)?)@(.+)$"),
            lambda m, primary: (m.group(1), m.group(3), float(m.group(2))),
            "SCORE-PCT@TIME (e.g. EASI-75@16w)",
            _ALL,
            "rate",
            _responder,
            lambda ep: f"{ep.variable}-{ep.threshold:g} responders at {_week(ep)}",
            scale=100.0,
            unit="% of patients",
            after_rescue="non_responder",
        ),
        EndpointKind(
            "mean",
            re.compile(rf"^(?:mean:)?{_VAR}@([^:]+)$"),
            lambda m, primary: (m.group(1), m.group(2), None),
            "mean:VAR@TIME",
            _ALL,
            "mean",
            _mean,
            lambda ep: f"{ep.variable} at {_week(ep)}",
            after_rescue="last_value",
        ),
        EndpointKind(
            "mean_pct_change",
            re.compile(rf"^mean_pct_change:{_VAR}@(.+)$"),
            lambda m, primary: (m.group(1), m.group(2), None),
            "mean_pct_change:VAR@TIME",
            _ALL,
            "mean",
            _mean_pct_change,
            lambda ep: f"{ep.variable} % change from baseline at {_week(ep)}",
            unit="%",
            after_rescue="last_value",
        ),
        EndpointKind(
            "change",
            re.compile(rf"^change:{_VAR}@(.+)$"),
            lambda m, primary: (m.group(1), m.group(2), None),
            "change:VAR@TIME",
            _ALL,
            "mean",
            _change,
            lambda ep: f"{ep.variable} change from baseline at {_week(ep)}",
            after_rescue="last_value",
        ),
    )
}

#: the plain ``VAR@TIME`` form of ``mean`` (no ``mean:`` prefix) is for trials only
_PLAIN_MEAN = re.compile(rf"^{_VAR}@")


def forms(context: Context) -> str:
    """The endpoint forms allowed in ``context``, for messages."""
    shown = [k.form for k in KINDS.values() if context in k.contexts]
    if context == "trial":
        shown.append("SCORE@TIME")
    return ", ".join(shown)


def parse_endpoint(text: str, *, context: Context = "scenario", disease: str | None = None):
    """The :class:`Endpoint` of ``text``; a one-line :class:`EndpointError` naming it
    otherwise. With ``disease``, the variable must be one of its scores (registry) and
    whole-course kinds use its primary score."""
    from dermatwin._base.times import parse_days

    text = text.strip() if context != "scenario" else text
    primary = DISEASES[disease].primary if disease else None
    for kind in KINDS.values():
        m = kind.pattern.match(text)
        if m is None or context not in kind.contexts:
            continue
        if kind.name == "mean" and context != "trial" and _PLAIN_MEAN.match(text):
            continue
        variable, when, threshold, *since_text = kind.build(m, primary)
        try:
            time = None if when is None else parse_days(when)
            since = parse_days(since_text[0]) if since_text else None
        except ValueError as err:
            raise EndpointError(f"endpoint {short(text)}: {err}") from None
        if since is not None and not 0 <= since < time:
            raise EndpointError(
                f"endpoint {short(text)}: the window starts on day {since:g}; allowed: "
                f"before its end (day {time:g})"
            )
        if threshold is not None and not 0 < threshold <= 100:
            raise EndpointError(
                f"endpoint {short(text)}: a responder threshold of {threshold:g} %; "
                "allowed: 0 < PCT <= 100 (e.g. EASI-75@16w)"
            )
        if kind.name == "time_to":  # a score level, not a responder %
            threshold = float(m.group(3))
        if disease and variable not in DISEASES[disease].scores:
            raise EndpointError(
                f"endpoint {short(text)}: {variable} is not a {disease} score; allowed: "
                + ", ".join(DISEASES[disease].scores)
            )
        return Endpoint(text, kind.name, variable, time, threshold, since)
    raise EndpointError(f"endpoint {short(text)} not understood; allowed forms: {forms(context)}")
