"""One drug of the catalogue as Python values: :class:`Drug`, its :class:`Label` and the
:class:`Phase` of a schedule, and the derived PK numbers (``kel``, ``ec50``).

The entries themselves are data (:mod:`dermatwin.therapy.catalogue_files` reads them from
YAML); this module only says what an entry is and how its EC50 follows from it.

>>> p = Phase(14.0, interval=14.0, count=None)
>>> p.times(0.0, 50.0)
[14.0, 28.0, 42.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DISEASES = ("AD", "psoriasis")
ROUTES = ("SC", "IV", "oral", "topical", "phototherapy")
UNITS = ("mg", "mg/kg", "potency", "application", "J/cm2", "switch")
#: steady-state exposure an entry's occupancy refers to
REFERENCES = ("trough", "average")
#: reference body weight for mg/kg doses when deriving EC50 (kg)
REFERENCE_WEIGHT_KG = 70.0
DEFAULT_HILL_SOURCE = "assumed: 1 (hyperbolic exposure response)"


@dataclass(frozen=True)
class Phase:
    """Part of a schedule: administrations from ``start`` (days after the drug's start),
    every ``interval`` days, ``count`` times (None: until the drug stops), each of
    ``multiple`` x the dose amount."""

    start: float
    multiple: float = 1.0
    interval: float | None = None
    count: int | None = 1

    def times(self, t0: float, end: float) -> list[float]:
        if self.interval is None:
            return [t0 + self.start] if t0 + self.start < end else []
        out, i = [], 0
        while self.count is None or i < self.count:
            t = t0 + self.start + i * self.interval
            if t >= end:
                break
            out.append(t)
            i += 1
        return out


@dataclass(frozen=True)
class Label:
    """The labelled regimen: dose, schedule, dose range and where they come from."""

    dose: float
    phases: tuple[Phase, ...]
    dose_range: tuple[float, float]
    text: str
    source: str


@dataclass(frozen=True)
class Drug:
    """One catalogue entry. ``targets`` maps each blocked pathway to its maximal
    inhibition; ``slot`` is the skin model's exposure state class (None for on/off).
    ``exposure`` is the exposure model (``first_order`` or ``on_off``) and
    ``exposure_kind`` the event builder (:mod:`dermatwin.therapy.exposure`);
    ``plan_for`` lists the diseases whose twin planner proposes the drug."""

    name: str
    diseases: tuple[str, ...]
    drug_class: str
    targets: dict[str, float]
    exposure: str  # "first_order" | "on_off"
    route: str
    unit: str
    label: Label
    sources: tuple[str, ...]
    slot: str | None = None
    emax: float = 0.0
    emax_source: str = ""
    half_life_days: float | None = None
    half_life_source: str = ""
    exposure_per_unit: float = 1.0  # F / V (1/L) for mg doses
    exposure_source: str = ""
    reference: str = "trough"  # steady-state exposure the occupancy refers to
    occupancy: float = 0.95
    occupancy_source: str = ""
    hill: float = 1.0
    hill_source: str = DEFAULT_HILL_SOURCE
    exposure_kind: str = "first_order"
    plan_for: tuple[str, ...] = ()

    @property
    def kel(self) -> float:
        return math.log(2.0) / self.half_life_days

    def amount_mg(self, amount: float, weight_kg: float) -> float:
        return amount * weight_kg if self.unit == "mg/kg" else amount

    def reference_exposure(self) -> float:
        """Steady-state trough or average exposure (mg/L) at the labelled maintenance."""
        maint = [p for p in self.label.phases if p.interval is not None][-1]
        a = (
            self.amount_mg(self.label.dose * maint.multiple, REFERENCE_WEIGHT_KG)
            * self.exposure_per_unit
        )
        k, tau = self.kel, maint.interval
        if self.reference == "average":
            return a / (k * tau)
        return a * math.exp(-k * tau) / (1.0 - math.exp(-k * tau))

    @property
    def ec50(self) -> float:
        odds = (1.0 - self.occupancy) / self.occupancy
        return self.reference_exposure() * odds ** (1.0 / self.hill)
