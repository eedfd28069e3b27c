"""MSC products and doses as data, and what they imply for the skin model's ``msc`` module.

A product (:class:`MSCProduct`) is where the cells come from and how they were made; a
dose (:class:`MSCDose`) is how many, how and when. :func:`msc_dose_events` turns them
into bolus events of viable cells (IV into ``msc_blood``; SC, intradermal and
intralesional into the local depot ``msc_depot``), and :func:`msc_parameters` gives the
parameter values the product implies (potency, clearance, allogeneic flag).

>>> p = MSCProduct(source="umbilical_cord", origin="allogeneic", state="thawed")
>>> d = MSCDose(amount=1e6, unit="cells/kg", route="IV", times=[0.0])
>>> [(e.target, e.value) for e in msc_dose_events(p, d, weight_kg=70.0)][:2]
[('msc_blood', 63000000.0), ('msc_given', 63000000.0)]
>>> msc_parameters(p)["msc_clearance_factor"]
1.5
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from dermatwin.engine.events import Event, EventKind, bolus
from dermatwin.errors import DermatwinError
from dermatwin.io.yaml_files import Number, StrictModel, Whole, short
from dermatwin.model.skin.msc import BLOOD_STATE, DEPOT_STATE, GIVEN_STATE, THAW_STATE

Source = Literal[
    "bone_marrow", "adipose", "umbilical_cord", "umbilical_cord_blood", "whartons_jelly", "ipsc"
]
Route = Literal["IV", "SC", "intradermal", "intralesional"]


class TherapyError(DermatwinError):
    """A therapy (product or dose) is invalid."""


@dataclass(frozen=True)
class SourceFactors:
    """Per-source multipliers on secretome potency and on viable-cell clearance."""

    potency: float
    clearance: float
    source: str
    #: whether donor age changes potency (adult tissues); perinatal and iPSC-derived cells
    #: carry their age effect in ``potency`` (or have none)
    age_dependent: bool


SOURCE_FACTORS: dict[str, SourceFactors] = {
    "bone_marrow": SourceFactors(
        1.0,
        1.0,
        "reference product: most potency and biodistribution rows (IMM-01..06, BIO-01, "
        "BIO-05, PER-20) are bone-marrow MSC",
        True,
    ),
    "adipose": SourceFactors(
        1.0,
        1.0,
        "assumed: like bone marrow (no comparative row); ANG-01..03 growth factors measured "
        "on adipose stromal cells",
        True,
    ),
    "umbilical_cord": SourceFactors(
        2.0,
        1.0,
        "IMM-15 vs IMM-16: umbilical-cord perivascular cells induce TSG-6 11.5-fold vs "
        "2-fold for BM-MSC at low TNF; tempered to 2x (one readout, mRNA only)",
        False,
    ),
    "whartons_jelly": SourceFactors(
        2.0,
        1.0,
        "assumed: umbilical-cord matrix cells, as umbilical_cord (IMM-15)",
        False,
    ),
    "umbilical_cord_blood": SourceFactors(
        1.5,
        1.0,
        "assumed: neonatal donor (IMM-07: infant MSC suppress at a 10x lower ratio) but no "
        "direct row for cord-blood MSC; tempered to 1.5x",
        False,
    ),
    "ipsc": SourceFactors(
        1.0,
        1.0,
        "assumed: like bone marrow; PER-40..45 show clinical activity at 1-2e6 cells/kg "
        "without a potency comparison",
        False,
    ),
}

#: extra clearance of allogeneic cells (innate/complement and NK lysis of mismatched cells)
ALLOGENEIC_CLEARANCE = 1.5
ALLOGENEIC_CLEARANCE_SOURCE = (
    "assumed: allogeneic cells cleared 1.5x faster (innate immune lysis); modest, since "
    "donor DNA is still found after HLA-mismatched infusions (PK_VONBAHR_DNA_LT50D)"
)
#: donor age (years) of the reference adult product, and the infant potency gain
REFERENCE_DONOR_AGE = 46.0  # midpoint of the adult donors of IMM-06 (28-64 y)
INFANT_POTENCY_FOLD = 10.0  # IMM-06 vs IMM-07: effective MSC:T ratio 1:3 vs 1:30
INFANT_AGE = 1.0  # IMM-07 donors 10-21 months
AGE_FACTOR_BOUNDS = (0.3, 10.0)  # assumed floor: elderly BM keeps ~8 % youthful cells (PER-30)
#: potency lost per passage beyond REFERENCE_PASSAGE (assumed: replicative senescence)
PASSAGE_LOSS = 0.05
REFERENCE_PASSAGE = 4
#: largest dose per administration, by unit. Assumed, generous: about 10x the largest
#: single doses of MSC trials (1e7 cells/kg; ~1e9 cells in total), so that a typo such as
#: 1e30 cells is refused while every published regimen fits
MAX_MSC_DOSE = {"cells": 1e10, "cells/kg": 1.5e8}
MAX_MSC_PASSAGE = 50  # assumed: MSC senesce after ~30-40 population doublings
MAX_MSC_DOSE_TIMES = 1_000


class MSCProduct(StrictModel):
    """An MSC product: source tissue, donor, manufacturing and release state."""

    model_config = ConfigDict(extra="forbid")

    source: Source
    origin: Literal["autologous", "allogeneic"]
    donor_age: Number = Field(REFERENCE_DONOR_AGE, ge=0.0, le=100.0, description="years")
    passage: Whole = Field(REFERENCE_PASSAGE, ge=0, le=MAX_MSC_PASSAGE)
    state: Literal["fresh", "thawed"] = "fresh"
    viability: Number = Field(0.9, gt=0.0, le=1.0, description="viable fraction at release")


class MSCDose(StrictModel):
    """How many cells (at most :data:`MAX_MSC_DOSE` per administration), by which route,
    at which times (days)."""

    model_config = ConfigDict(extra="forbid")

    amount: Number = Field(gt=0.0)
    unit: Literal["cells", "cells/kg"]
    route: Route
    times: list[Number] = Field(
        default_factory=lambda: [0.0], min_length=1, max_length=MAX_MSC_DOSE_TIMES
    )

    @field_validator("times")
    @classmethod
    def _times_ok(cls, value: list[float]) -> list[float]:
        for t in value:
            if not math.isfinite(t) or t < 0:
                raise ValueError(f"dose times must be finite days >= 0, got {t}")
        return sorted(value)

    @model_validator(mode="after")
    def _amount_ok(self) -> MSCDose:
        top = MAX_MSC_DOSE[self.unit]
        if self.amount > top:
            raise ValueError(
                f"amount: {self.amount:g} {self.unit}; allowed: up to {top:g} {self.unit} per "
                "administration (assumed: 10x the largest clinical doses)"
            )
        return self


_PRODUCT_FIELDS = set(MSCProduct.model_fields)
_DOSE_FIELDS = set(MSCDose.model_fields)
#: defaults of the YAML form of an MSC course (``msc:`` in trials and twin regimens)
_COURSE_DEFAULTS = {"origin": "allogeneic", "unit": "cells", "route": "SC"}


def check_msc_fields(fields: Any) -> tuple[MSCProduct, MSCDose]:
    """The product and dose of the YAML fields of an MSC course (``source``, ``amount``,
    optional ``origin``, ``unit``, ``route``, ``times`` and product fields); raises
    pydantic's ValidationError or a ValueError naming the field."""
    if not isinstance(fields, dict):
        raise ValueError(f"expected a mapping of MSC fields, got {short(fields)}")
    allowed = sorted(_PRODUCT_FIELDS | _DOSE_FIELDS)
    for key in fields:
        if key not in allowed:
            raise ValueError(f"unknown field {short(key)}; allowed: {', '.join(allowed)}")
    data = _COURSE_DEFAULTS | fields
    product = MSCProduct.model_validate({k: v for k, v in data.items() if k in _PRODUCT_FIELDS})
    dose = MSCDose.model_validate({k: v for k, v in data.items() if k in _DOSE_FIELDS})
    return product, dose


def _age_factor(age: float) -> float:
    # log-linear in donor age through (INFANT_AGE, 10x) and (REFERENCE_DONOR_AGE, 1x)
    slope = math.log10(INFANT_POTENCY_FOLD) / (REFERENCE_DONOR_AGE - INFANT_AGE)
    factor = 10.0 ** (slope * (REFERENCE_DONOR_AGE - age))
    low, high = AGE_FACTOR_BOUNDS
    return min(max(factor, low), high)


def msc_parameters(product: MSCProduct) -> dict[str, float]:
    """Values of the ``msc`` module's product parameters implied by ``product``."""
    factors = SOURCE_FACTORS[product.source]
    potency = factors.potency
    if factors.age_dependent:
        potency *= _age_factor(product.donor_age)
    potency *= (1.0 - PASSAGE_LOSS) ** max(0, product.passage - REFERENCE_PASSAGE)
    allogeneic = product.origin == "allogeneic"
    clearance = factors.clearance * (ALLOGENEIC_CLEARANCE if allogeneic else 1.0)
    return {
        "msc_potency": float(potency),
        "msc_clearance_factor": float(clearance),
        "msc_allogeneic": 1.0 if allogeneic else 0.0,
    }


def viable_cells(product: MSCProduct, dose: MSCDose, weight_kg: float | None = 70.0) -> float:
    """Viable cells given per administration."""
    cells = dose.amount
    if dose.unit == "cells/kg":
        if weight_kg is None or not math.isfinite(weight_kg) or weight_kg <= 0:
            raise TherapyError(
                f"weight_kg: a dose in cells/kg needs a body weight > 0 kg, got {weight_kg}"
            )
        cells *= weight_kg
    return cells * product.viability


def msc_dose_events(
    product: MSCProduct, dose: MSCDose, weight_kg: float | None = 70.0
) -> list[Event]:
    """Bolus events of viable cells into the route's compartment at each dose time.

    Every administration also adds the cells to ``msc_given`` (for dose fractions); a
    thawed product also sets ``msc_thaw_deficit`` to 1 (post-thaw acclimation, PER-20).
    """
    if not isinstance(product, MSCProduct):
        raise TherapyError(f"product: expected an MSCProduct, got {type(product).__name__}")
    if not isinstance(dose, MSCDose):
        raise TherapyError(f"dose: expected an MSCDose, got {type(dose).__name__}")
    cells = viable_cells(product, dose, weight_kg)
    target = BLOOD_STATE if dose.route == "IV" else DEPOT_STATE
    events: list[Event] = []
    for t in dose.times:
        events += [bolus(t, target, cells), bolus(t, GIVEN_STATE, cells)]
        if product.state == "thawed":
            events.append(Event(float(t), EventKind.SET_STATE, THAW_STATE, 1.0))
    return events
