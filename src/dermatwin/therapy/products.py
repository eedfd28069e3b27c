"""MSC products and doses as data, and what they imply for the skin model's ``msc`` module.

A product (:class:`MSCProduct`) is where the cells come from and how they were made; a
dose (:class:`MSCDose`) is how many, how and when. :func:`msc_dose_events` turns them
into bolus events: viable cells IV into ``msc_blood``, SC, intradermal and
intralesional into the local depot ``msc_depot``; the dead fraction (``1 - viability``,
MECH_DEADMSC_2021_EQUIPOTENCY: the ~5 % dead cells of a preparation act like the whole
dose) straight into the route's apoptotic pool. :func:`msc_parameters` gives the
parameter values the product implies (potency, clearance, allogeneic flag).

A product carries:

* ``source``: bone marrow, adipose, umbilical cord, Wharton's jelly, cord blood or
  iPSC-derived (:data:`SOURCE_FACTORS`, each with its own evidence or ``assumed``);
* ``origin``: autologous or allogeneic (faster clearance, anti-donor response);
* ``donor_age`` and ``passage`` (potency of adult tissues);
* ``state``: fresh or thawed. A thawed product needs about a day to regain potency
  (PER-20) and most thawed cells die within days (PK_BRAID_CRYO_THAW: cleared by 3 days,
  the same cells cultured overnight persisted > 3 months); both are in the ``msc``
  module (``msc_thaw_deficit``, ``msc_thaw_death``);
* ``viability`` at release (dead fraction = 1 - viability);
* optionally a release-assay value that sets the potency instead of the source, age and
  passage estimate (one of ``ido_activity``, ``tcell_suppression``; see
  :func:`assay_potency`).

>>> p = MSCProduct(source="umbilical_cord", origin="allogeneic", state="thawed")
>>> d = MSCDose(amount=1e6, unit="cells/kg", route="IV", times=[0.0])
>>> [(e.target, e.value) for e in msc_dose_events(p, d, weight_kg=70.0)][:2]
[('msc_blood', 63000000.0), ('msc_apoptotic', 7000000.0)]
>>> msc_parameters(p)["msc_clearance_factor"]
1.5
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from dermatwin._base.errors import DermatwinError
from dermatwin._base.yaml_files import Number, StrictModel, Whole, short
from dermatwin.engine.events import Event, EventKind, bolus
from dermatwin.model.skin.msc import (
    APOPTOTIC_SKIN_STATE,
    APOPTOTIC_STATE,
    BLOOD_STATE,
    CIRCULATING_LABEL_STATE,
    DEPOT_STATE,
    GIVEN_STATE,
    THAW_STATE,
)

Source = Literal[
    "bone_marrow", "adipose", "umbilical_cord", "umbilical_cord_blood", "whartons_jelly", "ipsc"
]
Route = Literal["IV", "SC", "intradermal", "intralesional"]


class TherapyError(DermatwinError):
    """A therapy (product or dose) is invalid."""


@dataclass(frozen=True)
class SourceFactors:
    """Per-source multipliers on secretome potency and on viable-cell clearance, and on
    growth-factor output relative to that potency (``growth_factors``: read by the wound
    model, :func:`growth_factor_potency`; the skin model's msc module has one potency)."""

    potency: float
    clearance: float
    source: str
    #: whether donor age changes potency (adult tissues); perinatal and iPSC-derived cells
    #: carry their age effect in ``potency`` (or have none)
    age_dependent: bool
    growth_factors: float = 1.0
    growth_factors_source: str = "assumed: growth factors scale with the secretome potency"


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
        "assumed (no comparative row): iPSC-derived MSC are made from one young, "
        "reprogrammed line, so no donor-age effect; immunomodulatory potency and "
        "clearance 1 until a potency comparison exists (PER-40, PER-43, PER-44: clinical "
        "activity in steroid-resistant GvHD at 1-2e6 cells/kg IV, the bone-marrow doses)",
        False,
        growth_factors=1.5,
        growth_factors_source="assumed size, direction from LIAN2010 (iPSC-MSC repaired "
        "ischaemic limbs better than bone-marrow MSC): 1.5x growth factors per unit potency",
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
#: release assays (assumed relations, no clinical potency-assay calibration in the
#: reference data): T-cell suppression of the reference lot at MSC:PBMC 1:10, and the
#: allowed range of assay-derived potency
REFERENCE_TCELL_SUPPRESSION = 50.0
ASSAY_POTENCY_BOUNDS = (0.05, 20.0)
MAX_ASSAY_FOLD = 100.0


class MSCProduct(StrictModel):
    """An MSC product: source tissue, donor, manufacturing and release state."""

    model_config = ConfigDict(extra="forbid")

    source: Source
    origin: Literal["autologous", "allogeneic"]
    donor_age: Number = Field(REFERENCE_DONOR_AGE, ge=0.0, le=100.0, description="years")
    passage: Whole = Field(REFERENCE_PASSAGE, ge=0, le=MAX_MSC_PASSAGE)
    state: Literal["fresh", "thawed"] = "fresh"
    viability: Number = Field(0.9, gt=0.0, le=1.0, description="viable fraction at release")
    ido_activity: Number | None = Field(
        None, gt=0.0, le=MAX_ASSAY_FOLD, description="IDO activity, fold of the reference lot"
    )
    tcell_suppression: Number | None = Field(
        None, gt=0.0, lt=100.0, description="% T-cell proliferation suppressed at MSC:PBMC 1:10"
    )

    @model_validator(mode="after")
    def _one_assay(self) -> MSCProduct:
        if self.ido_activity is not None and self.tcell_suppression is not None:
            raise ValueError(
                "ido_activity and tcell_suppression: give one release assay; allowed: one of them"
            )
        return self


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


def assay_potency(product: MSCProduct) -> float | None:
    """Potency (1 = reference bone-marrow lot) from the product's release assay, or None.

    Assumed relations (no clinical calibration of a potency assay in the reference data):
    ``ido_activity`` (fold of the reference lot's IFN-gamma-induced kynurenine output)
    maps linearly, since IDO is part of the secretome the potency scales; a
    ``tcell_suppression`` of s % maps to the odds ratio ``(s / (100 - s)) / (s_ref /
    (100 - s_ref))`` with ``s_ref`` = 50 % (a lot suppressing 75 % is 3x, 25 % is 1/3x),
    so that the ceiling of the assay does not cap potency. Clipped to
    :data:`ASSAY_POTENCY_BOUNDS`.
    """
    if product.ido_activity is not None:
        value = float(product.ido_activity)
    elif product.tcell_suppression is not None:
        s, ref = float(product.tcell_suppression), REFERENCE_TCELL_SUPPRESSION
        value = (s / (100.0 - s)) / (ref / (100.0 - ref))
    else:
        return None
    low, high = ASSAY_POTENCY_BOUNDS
    return min(max(value, low), high)


def msc_parameters(product: MSCProduct) -> dict[str, float]:
    """Values of the ``msc`` module's product parameters implied by ``product``."""
    factors = SOURCE_FACTORS[product.source]
    potency = assay_potency(product)
    if potency is None:  # no release assay: estimate from source, donor age, passage
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


def growth_factor_potency(product: MSCProduct) -> float:
    """Growth-factor output per viable cell relative to the reference product: the
    secretome potency of :func:`msc_parameters` times the source's ``growth_factors``
    (1.5 for iPSC-derived MSC, assumed; 1 for every other source)."""
    return msc_parameters(product)["msc_potency"] * SOURCE_FACTORS[product.source].growth_factors


def viable_cells(product: MSCProduct, dose: MSCDose, weight_kg: float | None = 70.0) -> float:
    """Viable cells given per administration."""
    return total_cells(dose, weight_kg) * product.viability


def total_cells(dose: MSCDose, weight_kg: float | None = 70.0) -> float:
    """Cells (viable and dead) given per administration."""
    cells = dose.amount
    if dose.unit == "cells/kg":
        if weight_kg is None or not math.isfinite(weight_kg) or weight_kg <= 0:
            raise TherapyError(
                f"weight_kg: a dose in cells/kg needs a body weight > 0 kg, got {weight_kg}"
            )
        cells *= weight_kg
    return cells


def msc_dose_events(
    product: MSCProduct, dose: MSCDose, weight_kg: float | None = 70.0
) -> list[Event]:
    """Bolus events of viable cells into the route's compartment at each dose time.

    The dead fraction goes straight into the route's apoptotic pool (``msc_apoptotic``
    IV, with its label in the circulation; ``msc_apoptotic_skin`` for local routes), every
    cell given into ``msc_given`` (for dose fractions); a thawed product also sets
    ``msc_thaw_deficit`` to 1 (post-thaw acclimation, PER-20; post-thaw apoptosis,
    PK_BRAID_CRYO_THAW).
    """
    if not isinstance(product, MSCProduct):
        raise TherapyError(f"product: expected an MSCProduct, got {type(product).__name__}")
    if not isinstance(dose, MSCDose):
        raise TherapyError(f"dose: expected an MSCDose, got {type(dose).__name__}")
    total = total_cells(dose, weight_kg)
    cells = total * product.viability
    dead = total - cells
    iv = dose.route == "IV"
    target = BLOOD_STATE if iv else DEPOT_STATE
    events: list[Event] = []
    for t in dose.times:
        events.append(bolus(t, target, cells))
        if dead > 0:
            events.append(bolus(t, APOPTOTIC_STATE if iv else APOPTOTIC_SKIN_STATE, dead))
            if iv:
                events.append(bolus(t, CIRCULATING_LABEL_STATE, dead))
        events.append(bolus(t, GIVEN_STATE, total))
        if product.state == "thawed":
            events.append(Event(float(t), EventKind.SET_STATE, THAW_STATE, 1.0))
    return events
