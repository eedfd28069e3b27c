"""A regimen: MSC courses and drugs with start/stop times, switches and combinations.

:meth:`Regimen.plan` turns the items into one event list and the per-patient parameter
values they imply (drug slot PK/potency, MSC product parameters), ready for
:func:`dermatwin.engine.simulate.simulate`.

Drugs of one model slot (e.g. lebrikizumab then tralokinumab, both ``il13``) may follow
each other: the first drug's slot parameters go into the parameter values, a later
drug's are set by ``set_parameter`` events at its start, and a first drug without a stop
day stops where the next one starts. After such a switch any exposure left from the
first drug acts and decays with the second drug's parameters (one state per slot).
Overlapping drugs of one slot are rejected. A calibrated ``parameter_set`` replaces the
fitted drug fields and scales MSC potency (:mod:`dermatwin.calibration`).

>>> from dermatwin.therapy.drugs import labelled
>>> plan = Regimen([labelled("dupilumab", stop_day=112.0), labelled("upadacitinib",
...     start_day=112.0)], horizon_days=140.0).plan()
>>> sorted(plan.parameters)[:2]
['il4r_ec50', 'il4r_emax']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from dermatwin._base.yaml_files import short, validation_message
from dermatwin.engine.events import Event, set_parameter
from dermatwin.params.parameter_set import ParameterSet
from dermatwin.therapy.drugs import DrugDose, drug_events, drug_parameters
from dermatwin.therapy.products import (
    MSCDose,
    MSCProduct,
    TherapyError,
    msc_dose_events,
    msc_parameters,
)


@dataclass(frozen=True)
class MSCCourse:
    """An MSC product given as ``dose``."""

    product: MSCProduct
    dose: MSCDose


def _one_line(err: ValidationError) -> TherapyError:
    first = err.errors()[0]
    # the value is echoed short: a huge one must not make a huge message
    return TherapyError(f"{validation_message(err)} (got {short(first.get('input'))})")


def msc_course(
    *,
    source: str,
    amount: float,
    origin: str = "allogeneic",
    unit: str = "cells",
    route: str = "SC",
    times: Sequence[float] = (0.0,),
    **product_fields,
) -> MSCCourse:
    """An :class:`MSCCourse` from plain fields; bad values raise a one-line TherapyError."""
    try:
        product = MSCProduct(source=source, origin=origin, **product_fields)
        dose = MSCDose(amount=amount, unit=unit, route=route, times=list(times))
    except ValidationError as err:
        raise _one_line(err) from None
    return MSCCourse(product, dose)


@dataclass(frozen=True)
class Plan:
    """Events and parameter values of a regimen for one patient."""

    events: list[Event]
    parameters: dict[str, float]


class Regimen:
    """Drug doses and MSC courses given to one patient (times in days)."""

    def __init__(
        self,
        items: Sequence[DrugDose | MSCCourse],
        *,
        horizon_days: float = 364.0,
        weight_kg: float = 70.0,
        parameter_set: ParameterSet | None = None,
    ):
        for i, item in enumerate(items):
            if not isinstance(item, DrugDose | MSCCourse):
                raise TherapyError(
                    f"items[{i}]: expected a DrugDose or MSCCourse, got {type(item).__name__}"
                )
        self.items = list(items)
        self.horizon_days = float(horizon_days)
        self.weight_kg = float(weight_kg)
        self.parameter_set = parameter_set

    def _drug_groups(self) -> dict[str, list[DrugDose]]:
        groups: dict[str, list[DrugDose]] = {}
        for item in self.items:
            if isinstance(item, DrugDose):
                key = item.entry.slot or item.drug
                groups.setdefault(key, []).append(item)
        return {k: sorted(v, key=lambda d: d.start_day) for k, v in groups.items()}

    def plan(self) -> Plan:
        events: list[Event] = []
        params: dict[str, float] = {}
        for key, doses in self._drug_groups().items():
            resolved = []
            for prev, nxt in zip(doses, [*doses[1:], None], strict=True):
                if nxt is not None:
                    if prev.stop_day is None:
                        prev = dataclasses.replace(prev, stop_day=nxt.start_day)
                    elif prev.stop_day > nxt.start_day:
                        raise TherapyError(
                            f"items: {prev.drug} and {nxt.drug} overlap in slot {key!r} "
                            f"(days {prev.start_day}-{prev.stop_day} and from "
                            f"{nxt.start_day}); allowed: one drug per slot at a time"
                        )
                resolved.append(prev)
            for k, dose in enumerate(resolved):
                values = drug_parameters(dose.drug, self.parameter_set)
                if k == 0:
                    params.update(values)
                elif dose.amount > 0:
                    events += [set_parameter(dose.start_day, n, v) for n, v in values.items()]
                events += drug_events(
                    dose, horizon_days=self.horizon_days, weight_kg=self.weight_kg
                )
        courses = [i for i in self.items if isinstance(i, MSCCourse)]
        if courses:
            products = {c.product.model_dump_json() for c in courses}
            if len(products) > 1:
                raise TherapyError("items: one MSC product per regimen; allowed: 1 product")
            params.update(msc_parameters(courses[0].product))
            if self.parameter_set is not None:
                params["msc_potency"] *= self.parameter_set.msc_potency_scale()
            for c in courses:
                events += msc_dose_events(c.product, c.dose, self.weight_kg)
        events.sort(key=lambda e: e.time)  # stable: same-time events keep their order
        return Plan(events, params)
