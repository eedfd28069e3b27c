"""Dose events as data: what happens to a patient, when.

An :class:`Event` changes a state (bolus or reset), a parameter (an on/off drug effect,
a UVB window) or a zero-order input rate (an infusion) at a time in days. The engine
integrates to each event time exactly, applies the events in the order given, and
continues; an output at exactly an event time reports the state before the event.

>>> from dermatwin.engine.events import bolus, infusion
>>> [e.kind.name for e in [bolus(0.0, "x", 5.0), *infusion(1.0, 2.0, "x", 3.0)]]
['BOLUS', 'SET_RATE', 'SET_RATE']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np

from dermatwin._base.errors import ModelError

if TYPE_CHECKING:
    from dermatwin.model.spec import Model


class EventKind(IntEnum):
    """What an event does; the integers are the kernel's codes."""

    BOLUS = 0  #: add ``value`` to a state
    SET_STATE = 1  #: set a state to ``value``
    SET_PARAMETER = 2  #: set a parameter to ``value``
    SET_RATE = 3  #: set the zero-order input into a state (state units per day)


_STATE_KINDS = (EventKind.BOLUS, EventKind.SET_STATE, EventKind.SET_RATE)


@dataclass(frozen=True)
class Event:
    """One event: at ``time`` (day) do ``kind`` to ``target`` with ``value``."""

    time: float
    kind: EventKind
    target: str
    value: float


def bolus(time: float, state: str, amount: float) -> Event:
    """Add ``amount`` (state units) to ``state`` at ``time`` (day)."""
    return Event(float(time), EventKind.BOLUS, state, float(amount))


def set_parameter(time: float, name: str, value: float) -> Event:
    """Set parameter ``name`` to ``value`` from ``time`` (day) on."""
    return Event(float(time), EventKind.SET_PARAMETER, name, float(value))


def on_off(
    start: float, stop: float, name: str, value: float, off_value: float = 0.0
) -> list[Event]:
    """A parameter that takes ``value`` between ``start`` and ``stop`` (days)."""
    return [set_parameter(start, name, value), set_parameter(stop, name, off_value)]


def infusion(start: float, duration: float, state: str, rate: float) -> list[Event]:
    """A constant input of ``rate`` (state units/day) into ``state`` for ``duration`` days."""
    return [
        Event(float(start), EventKind.SET_RATE, state, float(rate)),
        Event(float(start + duration), EventKind.SET_RATE, state, 0.0),
    ]


def intervention(model: Model, name: str, start: float, stop: float | None = None) -> list[Event]:
    """Switch on a model's named intervention (a parameter set) at ``start``, off at ``stop``."""
    iv = model.intervention(name)
    events = [set_parameter(start, p, v) for p, v in iv.parameters.items()]
    if stop is not None:
        defaults = model.default_parameters()
        events += [
            set_parameter(stop, p, float(defaults[model.parameter_index(p)])) for p in iv.parameters
        ]
    return events


@dataclass(frozen=True)
class CompiledEvents:
    """Events of a batch in the kernel's CSR layout (patient i: ptr[i]:ptr[i+1])."""

    ptr: np.ndarray
    time: np.ndarray
    kind: np.ndarray
    index: np.ndarray
    value: np.ndarray


def compile_events(
    model: Model,
    events: Sequence[Event] | Sequence[Sequence[Event]],
    n_patients: int,
    t0: float,
) -> CompiledEvents:
    """Validate events against ``model`` and lay them out for the kernel.

    ``events`` is either one list shared by every patient or one list per patient.
    Events are stably sorted by time, so events at the same time keep their order.
    """
    shared = len(events) == 0 or isinstance(events[0], Event)
    if shared and n_patients > 1:
        # one schedule for everyone: validate it once and repeat it per patient
        one = compile_events(model, events, 1, t0)
        n_ev = one.time.size
        return CompiledEvents(
            ptr=np.arange(n_patients + 1, dtype=np.int64) * n_ev,
            time=np.tile(one.time, n_patients),
            kind=np.tile(one.kind, n_patients),
            index=np.tile(one.index, n_patients),
            value=np.tile(one.value, n_patients),
        )
    per_patient = [events] * n_patients if shared else list(events)
    if len(per_patient) != n_patients:
        raise ModelError(f"events: got {len(per_patient)} lists for {n_patients} patients")
    ptr = np.zeros(n_patients + 1, dtype=np.int64)
    times, kinds, indices, values = [], [], [], []
    for i, plist in enumerate(per_patient):
        ordered = sorted(plist, key=lambda e: e.time)
        for e in ordered:
            if not math.isfinite(e.time) or e.time < t0:
                raise ModelError(f"event time {e.time} for {e.target} must be finite and >= {t0}")
            if not math.isfinite(e.value):
                raise ModelError(f"event value for {e.target} at day {e.time} must be finite")
            if e.kind in _STATE_KINDS:
                idx = model.state_index(e.target)
            else:
                idx = model.parameter_index(e.target)
            times.append(e.time)
            kinds.append(int(e.kind))
            indices.append(idx)
            values.append(e.value)
        ptr[i + 1] = ptr[i] + len(ordered)
    return CompiledEvents(
        ptr=ptr,
        time=np.asarray(times, dtype=np.float64),
        kind=np.asarray(kinds, dtype=np.int64),
        index=np.asarray(indices, dtype=np.int64),
        value=np.asarray(values, dtype=np.float64),
    )
