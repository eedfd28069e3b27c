"""Standard therapies as data: the drug catalogue, doses and the model events they imply.

Every drug a user compares MSC therapy with is a :class:`Drug` entry of :data:`CATALOGUE`,
read from one YAML file per drug (``dermatwin/therapy/catalogue/<name>.yaml``; schema in
:mod:`dermatwin.therapy.catalogue_schema`, reading and extra folders in
:mod:`dermatwin.therapy.catalogue_files`): disease(s), class, the skin model's target slot
(:mod:`dermatwin.model.skin.drugs`) and maximal inhibition, exposure kind, route, labelled
regimen and dose range, sources.

Exposure models
---------------
* ``first_order``: one-compartment PK. Each administration adds
  ``amount * F / V`` (mg/L) to the slot's exposure state, which decays with
  ``ln 2 / half-life``; the effect is ``emax * C^h / (C^h + EC50^h)`` (Hill
  coefficient ``hill``, 1 unless calibrated). ``EC50`` is derived: at the labelled
  maintenance regimen's steady-state reference exposure (trough for antibodies, average
  for daily oral drugs) the effect is ``occupancy * emax``, so
  ``EC50 = C_ref * ((1 - occupancy) / occupancy)^(1/h)``.
  Oral drugs taken once or more a day (reference ``average``) enter as a continuous
  input at their daily-average rate instead of a bolus per tablet: their half-lives
  (hours) are far below the weeks over which the skin responds, their labelled
  potencies refer to the average exposure, and a daily peak-and-trough cycle would make
  the modelled effect grow only with the logarithm of the dose (JADE MONO-1's 100 and
  200 mg arms differ far more than that). The AD biologics take Miyano's
  published block (``emax`` = 0.99) with ``occupancy`` 0.98 at the labelled trough.
  Only ``C / EC50`` matters to the model, so assumed volumes only scale the units.
* ``on_off``: a parameter switched on for windows (topical corticosteroid: one day per
  application; placebo/vehicle: Miyano ``PLAC``; UVB: Shmarov ``uv_dose`` sessions).
* emollient: boluses of applications into the barrier module's ``emollient`` state.

Which events a dose gives is chosen by the entry's ``exposure_kind``
(:mod:`dermatwin.therapy.exposure`), never by the drug's name.

Doses (:class:`DrugDose`) are validated on construction; bad values raise a one-line
:class:`~dermatwin.therapy.products.TherapyError` naming the field and allowed values.
An amount of 0 gives no events at all (exactly the untreated patient).

>>> d = DrugDose("dupilumab", 300.0, "mg")
>>> [round(e.time) for e in drug_events(d, horizon_days=42.0)]
[0, 14, 28]
>>> sorted(drug_parameters("dupilumab"))
['il4r_ec50', 'il4r_emax', 'il4r_hill', 'il4r_kel']
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dermatwin._base.yaml_files import short
from dermatwin.engine.events import Event
from dermatwin.params.parameter_set import ParameterSet, calibrated_drug, register_drugs
from dermatwin.therapy.catalogue_files import catalogue_folders, load_catalogue
from dermatwin.therapy.drug_entry import (
    DISEASES,
    REFERENCE_WEIGHT_KG,
    ROUTES,
    UNITS,
    Drug,
    Label,
    Phase,
)
from dermatwin.therapy.exposure import EXPOSURE_KINDS
from dermatwin.therapy.products import TherapyError

__all__ = [
    "CATALOGUE",
    "DISEASES",
    "MAX_LABEL_MULTIPLE",
    "REFERENCE_WEIGHT_KG",
    "ROUTES",
    "UNITS",
    "Drug",
    "DrugDose",
    "Label",
    "Phase",
    "drug_events",
    "drug_parameter_sources",
    "drug_parameters",
    "emollient_bid",
    "get_drug",
    "labelled",
    "proactive_tcs",
    "reactive_tcs",
]

#: doses up to this multiple of the labelled maximum are accepted (dose-response studies)
MAX_LABEL_MULTIPLE = 2.0


def _q(start: float, interval: float, multiple: float = 1.0, count: int | None = None) -> Phase:
    return Phase(start, multiple, interval, count)


CATALOGUE: dict[str, Drug] = load_catalogue(catalogue_folders())
register_drugs(CATALOGUE)  # parameter sets check their drug targets against these names


def get_drug(name: str) -> Drug:
    try:
        return CATALOGUE[name]
    except (KeyError, TypeError):
        raise TherapyError(
            f"drug: unknown drug {short(name)}; allowed: {', '.join(CATALOGUE)}"
        ) from None


def _finite(value, field_name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise TherapyError(f"{field_name}: expected a number, got {short(value)}") from None
    if not math.isfinite(x):
        raise TherapyError(f"{field_name}: must be finite, got {short(value)}")
    return x


@dataclass(frozen=True)
class DrugDose:
    """A drug given at ``amount`` (catalogue unit) from ``start_day`` until ``stop_day``
    (exclusive; None: until the simulation horizon) on the labelled schedule, or on
    ``phases`` when given (times relative to ``start_day``)."""

    drug: str
    amount: float
    unit: str
    route: str | None = None
    start_day: float = 0.0
    stop_day: float | None = None
    phases: tuple[Phase, ...] | None = None

    def __post_init__(self) -> None:
        entry = get_drug(self.drug)
        amount = _finite(self.amount, "amount")
        low, high = entry.label.dose_range
        top = high * MAX_LABEL_MULTIPLE
        if amount != 0.0 and not 0.0 < amount <= top:
            raise TherapyError(
                f"amount: {self.drug} dose {amount} {entry.unit} is outside the allowed range "
                f"0 or (0, {top:g}] (labelled {low:g}-{high:g} {entry.unit})"
            )
        if self.unit != entry.unit:
            raise TherapyError(
                f"unit: {self.drug} is dosed in {entry.unit!r}, got {short(self.unit)}"
            )
        route = entry.route if self.route is None else self.route
        if route != entry.route:
            raise TherapyError(
                f"route: {self.drug} is given {entry.route!r}, got {short(route)} "
                f"(routes: {', '.join(ROUTES)})"
            )
        start = _finite(self.start_day, "start_day")
        if start < 0:
            raise TherapyError(f"start_day: must be a day >= 0, got {start}")
        if self.stop_day is not None and not _finite(self.stop_day, "stop_day") > start:
            raise TherapyError(f"stop_day: must be after start_day {start}, got {self.stop_day}")
        fixed = EXPOSURE_KINDS[entry.exposure_kind].fixed_schedule
        if self.phases is not None and fixed is not None:
            raise TherapyError(f"phases: {self.drug} follows {fixed}; allowed: None")
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "route", route)
        object.__setattr__(self, "start_day", start)

    @property
    def entry(self) -> Drug:
        return CATALOGUE[self.drug]

    def end(self, horizon_days: float) -> float:
        limit = self.start_day + horizon_days
        return limit if self.stop_day is None else min(float(self.stop_day), limit)

    def administrations(self, horizon_days: float = 364.0) -> list[tuple[float, float]]:
        """(day, amount) of every administration before the dose stops."""
        end = self.end(horizon_days)
        out = []
        for ph in self.phases if self.phases is not None else self.entry.label.phases:
            out += [(t, self.amount * ph.multiple) for t in ph.times(self.start_day, end)]
        return sorted(out)


def labelled(drug: str, **kw) -> DrugDose:
    """The drug at its labelled dose, unit and route (keywords override, e.g. start_day)."""
    entry = get_drug(drug)
    return DrugDose(drug, kw.pop("amount", entry.label.dose), entry.unit, **kw)


def reactive_tcs(potency: float = 1.0, start_day: float = 0.0, stop_day=None) -> DrugDose:
    """Topical corticosteroid once daily on active lesions."""
    return DrugDose("topical_steroid", potency, "potency", None, start_day, stop_day)


def proactive_tcs(potency: float = 1.0, start_day: float = 0.0, stop_day=None) -> DrugDose:
    """Topical corticosteroid twice weekly (days 0 and 3 of each week) on healed skin."""
    phases = (_q(0.0, 7.0), _q(3.0, 7.0))
    return DrugDose("topical_steroid", potency, "potency", None, start_day, stop_day, phases)


def emollient_bid(applications: float = 1.0, start_day: float = 0.0, stop_day=None) -> DrugDose:
    """Emollient twice daily."""
    return DrugDose("emollient", applications, "application", None, start_day, stop_day)


def drug_parameters(drug: str, parameter_set: ParameterSet | None = None) -> dict[str, float]:
    """Model parameter values the drug implies (its slot's PK and potency), with the
    fields a calibrated ``parameter_set`` fits (emax, occupancy) replaced."""
    entry = get_drug(drug)
    if parameter_set is not None:
        entry = calibrated_drug(entry, parameter_set)
    if entry.slot is None:
        return {}
    return {
        f"{entry.slot}_kel": entry.kel,
        f"{entry.slot}_ec50": entry.ec50,
        f"{entry.slot}_emax": entry.emax,
        f"{entry.slot}_hill": entry.hill,
    }


def drug_parameter_sources(drug: str) -> dict[str, str]:
    """The source of every parameter value :func:`drug_parameters` sets."""
    entry = get_drug(drug)
    if entry.slot is None:
        return {}
    return {
        f"{entry.slot}_kel": f"{entry.name}: {entry.half_life_source}",
        f"{entry.slot}_ec50": (
            f"{entry.name}: derived from the labelled steady-state {entry.reference} "
            f"({entry.exposure_source}); {entry.occupancy_source}"
        ),
        f"{entry.slot}_emax": f"{entry.name}: {entry.emax_source}",
        f"{entry.slot}_hill": f"{entry.name}: {entry.hill_source}",
    }


def drug_events(
    dose: DrugDose, *, horizon_days: float = 364.0, weight_kg: float = REFERENCE_WEIGHT_KG
) -> list[Event]:
    """The model events of one drug dose, built by its entry's exposure kind
    (:mod:`dermatwin.therapy.exposure`): boluses into its exposure state, or on/off
    parameter windows. An amount of 0 gives no events."""
    if not isinstance(dose, DrugDose):
        raise TherapyError(f"dose: expected a DrugDose, got {type(dose).__name__}")
    weight = _finite(weight_kg, "weight_kg")
    if weight <= 0:
        raise TherapyError(f"weight_kg: must be > 0 kg, got {weight_kg}")
    if dose.amount == 0.0:
        return []
    return EXPOSURE_KINDS[dose.entry.exposure_kind].build(dose, horizon_days, weight)
