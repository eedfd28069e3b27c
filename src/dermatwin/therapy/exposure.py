"""Exposure kinds: how a drug dose becomes model events, chosen by the catalogue entry's
``exposure_kind`` (never by the drug's name).

=================== ========= ==============================================================
kind                model     events
=================== ========= ==============================================================
``first_order``     first     boluses of ``amount * F / V`` (mg/L) into the slot's exposure
                    order     state ``drug_<slot>``; drugs whose occupancy refers to the
                              ``average`` exposure and that are taken at least daily enter as
                              a continuous input at their daily-average rate instead
``emollient_bolus`` first     boluses of applications into the barrier module's
                    order     ``emollient`` state
``topical_window``  on/off    ``tcs_on`` at the dose's potency for :data:`TCS_WINDOW_DAYS`
                              after each application (overlapping windows merged)
``placebo_switch``  on/off    Miyano's ``PLAC`` = 1 from the start, 0 at an explicit stop
``uvb_ladder``      on/off    ``uv_dose`` sessions of the SHMAROV2022 ladder (3 a week, one
                              day each), scaled by dose / first-session dose
=================== ========= ==============================================================

A new kind is one :class:`ExposureKind` in :data:`EXPOSURE_KINDS`; entries name it in
their data file.

>>> sorted(EXPOSURE_KINDS)
['emollient_bolus', 'first_order', 'placebo_switch', 'topical_window', 'uvb_ladder']
>>> EXPOSURE_KINDS["uvb_ladder"].model
'on_off'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dermatwin.engine.events import Event, EventKind, bolus, set_parameter
from dermatwin.model.reference.shmarov2022 import UVB_LADDER
from dermatwin.model.skin.drugs import TCS_PARAMETER, state_name

if TYPE_CHECKING:
    from dermatwin.therapy.drugs import DrugDose

#: an application of a topical steroid acts for 3.5 days (merged when windows overlap;
#: cut at the dose's stop): the stratum-corneum reservoir of a potent steroid kept
#: suppressing histamine wheals to day 4 after one application (ABIDI2010, rabbit), the
#: reason proactive twice-weekly use works. Daily use is continuous either way; only
#: sparser schedules (proactive: days 0 and 3 of each week) depend on it.
TCS_WINDOW_DAYS = 3.5
#: UVB: first-session dose of the SHMAROV2022 ladder (J/cm2); other doses scale the ladder
UVB_LABEL_DOSE = UVB_LADDER[0]
#: UVB sessions: days of each week (Mon/Wed/Fri, as in simulate_uvb_v8_4.m)
UVB_SESSION_DAYS = (0, 2, 4)

#: builds the events of one dose: (dose, horizon days, body weight kg) -> events
Builder = Callable[["DrugDose", float, float], list[Event]]


@dataclass(frozen=True)
class ExposureKind:
    """How doses of a kind become events. ``model`` is the exposure model shown in the
    catalogue (``first_order`` or ``on_off``); ``needs_slot``: the entry must name a model
    slot (and its PK); ``fixed_schedule``: the kind ignores dose phases (text says why)."""

    name: str
    model: str
    build: Builder
    needs_slot: bool = False
    needs_half_life: bool = False
    fixed_schedule: str | None = None


def _first_order(dose: DrugDose, horizon: float, weight: float) -> list[Event]:
    entry, end = dose.entry, dose.end(horizon)
    admin = dose.administrations(horizon)
    amounts = [(t, entry.amount_mg(a, weight) * entry.exposure_per_unit) for t, a in admin]
    target = state_name(entry.slot)
    if entry.reference == "average" and _at_least_daily(admin):
        return _daily_average_input(amounts, target, end)
    return [bolus(t, target, a) for t, a in amounts]


def _emollient(dose: DrugDose, horizon: float, weight: float) -> list[Event]:
    entry = dose.entry
    admin = dose.administrations(horizon)
    return [
        bolus(t, "emollient", entry.amount_mg(a, weight) * entry.exposure_per_unit)
        for t, a in admin
    ]


def _topical(dose: DrugDose, horizon: float, weight: float) -> list[Event]:
    events, end = [], dose.end(horizon)
    for t0, t1, level in _windows(dose.administrations(horizon), TCS_WINDOW_DAYS, end):
        events.append(set_parameter(t0, TCS_PARAMETER, level))
        events.append(set_parameter(t1, TCS_PARAMETER, 0.0))
    return events


def _placebo(dose: DrugDose, horizon: float, weight: float) -> list[Event]:
    end = dose.end(horizon)
    events = [set_parameter(dose.start_day, "PLAC", 1.0)]
    if dose.stop_day is not None:
        events.append(set_parameter(end, "PLAC", 0.0))
    return events


def _uvb(dose: DrugDose, horizon: float, weight: float) -> list[Event]:
    scale, end = dose.amount / UVB_LABEL_DOSE, dose.end(horizon)
    events = []
    for i, level in enumerate(UVB_LADDER):
        week, session = divmod(i, 3)
        t = dose.start_day + 7 * week + UVB_SESSION_DAYS[session]
        if t >= end:
            break
        events += [set_parameter(t, "uv_dose", level * scale)]
        events += [set_parameter(min(t + 1.0, end), "uv_dose", 0.0)]
    return events


EXPOSURE_KINDS: dict[str, ExposureKind] = {
    k.name: k
    for k in (
        ExposureKind("first_order", "first_order", _first_order, True, True),
        ExposureKind("emollient_bolus", "first_order", _emollient, False, True),
        ExposureKind("topical_window", "on_off", _topical),
        ExposureKind("placebo_switch", "on_off", _placebo),
        ExposureKind("uvb_ladder", "on_off", _uvb, fixed_schedule="the SHMAROV2022 ladder"),
    )
}


def _windows(starts: list[tuple[float, float]], width: float, end: float):
    """Merge (time, level) application windows of ``width`` days into on/off spans."""
    spans: list[list[float]] = []
    for t, level in starts:
        stop = min(t + width, end)
        if spans and t <= spans[-1][1] and level == spans[-1][2]:
            spans[-1][1] = max(spans[-1][1], stop)
        else:
            spans.append([t, stop, level])
    return spans


def _at_least_daily(admin: list[tuple[float, float]]) -> bool:
    times = sorted({t for t, _ in admin})
    gaps = [t1 - t0 for t0, t1 in zip(times, times[1:], strict=False)]
    return bool(gaps) and max(gaps) <= 1.0 + 1e-9


def _daily_average_input(amounts: list[tuple[float, float]], state: str, end: float):
    """A zero-order input carrying each administration's amount (mg/L) over the time to
    the next one (the last over the same interval as the one before, cut at ``end``);
    a new rate event only where the rate changes."""
    merged: dict[float, float] = {}
    for t, a in amounts:  # e.g. a loading dose on the first day of the maintenance
        merged[t] = merged.get(t, 0.0) + a
    amounts = sorted(merged.items())
    if len(amounts) == 1:
        return [bolus(amounts[0][0], state, amounts[0][1])]
    events, rate = [], None
    times = [t for t, _ in amounts]
    last_gap = times[-1] - times[-2]
    for (t, a), t_next in zip(amounts, [*times[1:], times[-1] + last_gap], strict=True):
        new = a / (t_next - t)
        if new != rate:
            events.append(Event(float(t), EventKind.SET_RATE, state, float(new)))
            rate = new
    events.append(Event(float(min(times[-1] + last_gap, end)), EventKind.SET_RATE, state, 0.0))
    return events
