"""The schema of one drug data file (``therapy/catalogue/<name>.yaml``) and its conversion
into a :class:`~dermatwin.therapy.drug_entry.Drug`.

Fields (unknown ones are refused; every value keeps its source text):

* ``order`` (whole number, optional): place in listings (unnumbered drugs come last, by
  name); ``template`` (optional): a file of ``catalogue/templates`` whose fields are
  defaults (a field of the drug file replaces the template's whole field);
* ``diseases``, ``drug_class``, ``slot`` (a target slot of
  :mod:`dermatwin.model.skin.drugs`, or absent for on/off therapies), ``targets``
  (pathway: maximal inhibition in (0, 1]), ``exposure_kind`` (a kind of
  :mod:`dermatwin.therapy.exposure`), ``route``, ``unit``, ``sources``;
* ``label``: ``dose``, ``schedule`` (phases ``{start, multiple, every, count}``, days;
  without ``every`` a phase is one administration; without ``count`` a repeating phase
  lasts until the drug stops), ``dose_range`` [low, high], ``text``, ``source``;
* ``emax`` ``{value, source}`` (or ``slot``: the slot's), ``half_life`` (one of ``days``,
  ``hours`` or ``elimination_per_day`` (1/day), with ``source``; or ``slot``),
  ``exposure_per_unit`` (``{value, source}`` or ``{bioavailability, volume_l, source}``:
  F / V in 1/L), ``reference`` (``trough`` or ``average``: the steady-state exposure the
  ``occupancy`` ``{value, source}`` refers to), ``hill`` ``{value, source}``;
* ``plan_for``: diseases (of ``diseases``) whose twin planner proposes the drug.

A value may name a constant of :data:`NAMED_VALUES` instead of a number, and ``slot``
in ``targets``, ``emax`` and ``half_life`` means the slot's value, so derived numbers are
computed exactly as the model's constants are.

>>> sorted(NAMED_VALUES)
['miyano_block', 'miyano_block_tralokinumab', 'uvb_first_session_dose']
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from dermatwin._base.yaml_files import Number, StrictModel, Whole, short
from dermatwin.model.reference.miyano2021 import BLOCK, TRALOKINUMAB_FACTOR
from dermatwin.model.skin.drugs import SLOTS
from dermatwin.therapy.drug_entry import (
    DEFAULT_HILL_SOURCE,
    DISEASES,
    REFERENCES,
    ROUTES,
    UNITS,
    Drug,
    Label,
    Phase,
)
from dermatwin.therapy.exposure import EXPOSURE_KINDS, UVB_LABEL_DOSE

#: constants a data file may name instead of a number: (value, what it is)
NAMED_VALUES: dict[str, tuple[float, str]] = {
    "miyano_block": (BLOCK, "MIYANO2021 BLOCK: fraction of a cytokine a biologic blocks"),
    "miyano_block_tralokinumab": (
        BLOCK * TRALOKINUMAB_FACTOR,
        "MIYANO2021 BLOCK x f_IL13 (tralokinumab's partial IL-13 block)",
    ),
    "uvb_first_session_dose": (UVB_LABEL_DOSE, "SHMAROV2022 ladder, first session (J/cm2)"),
}
SLOT = "slot"


def _ref(value: Any, allowed: tuple[str, ...]) -> float | str:
    if isinstance(value, str) and value in allowed:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise ValueError(f"expected a number or one of {', '.join(allowed)}; got {short(value)}")


#: a number or a named constant
Value = Annotated[float | str, BeforeValidator(lambda v: _ref(v, tuple(NAMED_VALUES)))]
#: a number, a named constant or ``slot`` (the slot's value)
SlotValue = Annotated[float | str, BeforeValidator(lambda v: _ref(v, (SLOT, *NAMED_VALUES)))]
Disease = Literal[DISEASES]


def _slot_or_number(value: Any) -> Any:
    return _ref(value, (SLOT,))


def _slot_shorthand(value: Any) -> Any:
    return {"value": SLOT} if value == SLOT else value


def _half_life_shorthand(value: Any) -> Any:
    return {"days": SLOT} if value == SLOT else value


class Sourced(StrictModel):
    """A value and its source (the source may be left out only for ``slot``)."""

    value: SlotValue
    source: str | None = Field(None, min_length=1)


class HalfLife(StrictModel):
    """One of ``days``, ``hours`` or ``elimination_per_day``, and its source."""

    days: Annotated[float | str, BeforeValidator(_slot_or_number)] | None = None
    hours: Number | None = Field(None, gt=0)
    elimination_per_day: Number | None = Field(None, gt=0)
    source: str | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one(self) -> HalfLife:
        given = [getattr(self, k) for k in ("days", "hours", "elimination_per_day")]
        if len([g for g in given if g is not None]) != 1:
            raise ValueError("give one of days, hours, elimination_per_day")
        if self.days is not None and self.days != SLOT and not self.days > 0:
            raise ValueError("days: must be > 0")
        return self


class PerUnit(StrictModel):
    """Exposure per unit dose (1/L): ``value``, or ``bioavailability`` / ``volume_l``."""

    value: Number | None = Field(None, gt=0)
    bioavailability: Number | None = Field(None, gt=0, le=1)
    volume_l: Number | None = Field(None, gt=0)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one(self) -> PerUnit:
        pair = (self.bioavailability is not None, self.volume_l is not None)
        if not (pair == (False, False) if self.value is not None else pair == (True, True)):
            raise ValueError("give value, or bioavailability and volume_l")
        return self


class PhaseData(StrictModel):
    """Administrations from ``start`` (days), every ``every`` days, ``count`` times."""

    start: Number = Field(ge=0)
    multiple: Number = Field(1.0, gt=0)
    every: Number | None = Field(None, gt=0)
    count: Whole | None = Field(None, ge=1)


class LabelData(StrictModel):
    dose: Value
    schedule: list[PhaseData]
    dose_range: tuple[Value, Value]
    text: str = Field(min_length=1)
    source: str = Field(min_length=1)


class DrugData(StrictModel):
    """One drug data file (see the module docstring)."""

    template: str | None = None  # defaults merged in by the reader
    order: Whole | None = None
    diseases: list[Disease] = Field(min_length=1)
    drug_class: str = Field(min_length=1)
    slot: str | None = None
    targets: dict[str, SlotValue] = Field(min_length=1)
    exposure_kind: str
    route: Literal[ROUTES]
    unit: Literal[UNITS]
    label: LabelData
    sources: list[str] = Field(min_length=1)
    emax: Annotated[Sourced | None, BeforeValidator(_slot_shorthand)] = None
    half_life: Annotated[HalfLife | None, BeforeValidator(_half_life_shorthand)] = None
    exposure_per_unit: PerUnit | None = None
    reference: Literal[REFERENCES] = "trough"
    occupancy: Sourced | None = None
    hill: Sourced | None = None
    plan_for: list[Disease] = Field(default_factory=list)

    @field_validator("slot")
    @classmethod
    def _known_slot(cls, slot: str | None) -> str | None:
        if slot is not None and slot not in SLOTS:
            raise ValueError(f"unknown slot {short(slot)}; allowed: {', '.join(SLOTS)}")
        return slot

    @field_validator("exposure_kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in EXPOSURE_KINDS:
            allowed = ", ".join(EXPOSURE_KINDS)
            raise ValueError(f"unknown exposure kind {short(kind)}; allowed: {allowed}")
        return kind

    @model_validator(mode="after")
    def _consistent(self) -> DrugData:
        kind = EXPOSURE_KINDS[self.exposure_kind]
        if kind.needs_slot != (self.slot is not None):
            need = "needs a slot" if kind.needs_slot else "takes no slot"
            raise ValueError(f"slot: exposure kind {kind.name} {need}")
        if kind.needs_half_life and (self.half_life is None or self.exposure_per_unit is None):
            raise ValueError(
                f"half_life: exposure kind {kind.name} needs half_life and exposure_per_unit"
            )
        uses_slot = [f"targets.{k}" for k, v in self.targets.items() if v == SLOT]
        uses_slot += ["emax"] if self.emax is not None and self.emax.value == SLOT else []
        uses_slot += ["half_life"] if self.half_life and self.half_life.days == SLOT else []
        if uses_slot and self.slot is None:
            raise ValueError(f"{uses_slot[0]}: 'slot' needs a slot")
        for name in ("emax", "occupancy", "hill"):
            value = getattr(self, name)
            if value is not None and value.source is None and value.value != SLOT:
                raise ValueError(f"{name}.source: required field is missing")
        for name, low, high in (("occupancy", 0.0, 1.0), ("hill", 0.0, math.inf)):
            value = getattr(self, name)
            if value is None:
                continue
            if value.value == SLOT or not low < self._value(value.value) < high:
                raise ValueError(f"{name}.value: must be a number in ({low:g}, {high:g})")
        if self.emax is not None and not 0.0 < self._value(self.emax.value) <= 1.0:
            raise ValueError("emax.value: must be in (0, 1]")
        if self.half_life and self.half_life.source is None and self.half_life.days != SLOT:
            raise ValueError("half_life.source: required field is missing")
        for k in self.targets:
            if not 0.0 < self._value(self.targets[k]) <= 1.0:
                raise ValueError(f"targets.{k}: maximal inhibition must be in (0, 1]")
        low, high = (self._value(v) for v in self.label.dose_range)
        if not 0.0 < low <= self._value(self.label.dose) <= high:
            raise ValueError("label: needs 0 < dose_range low <= dose <= dose_range high")
        if kind.fixed_schedule is None and not self.label.schedule:
            raise ValueError("label.schedule: needs at least 1 item")
        if kind.needs_slot and all(p.every is None for p in self.label.schedule):
            raise ValueError("label.schedule: needs a repeating phase (every) for the PK")
        for i, p in enumerate(self.label.schedule):
            if p.count is not None and p.every is None:
                raise ValueError(f"label.schedule.{i}.count: needs every")
        if not set(self.plan_for) <= set(self.diseases):
            raise ValueError(f"plan_for: allowed: {', '.join(self.diseases)} (the diseases)")
        return self

    def _value(self, ref: float | str, slot_value: float | None = None) -> float:
        if ref == SLOT:
            return SLOTS[self.slot].emax if slot_value is None else slot_value
        return NAMED_VALUES[ref][0] if isinstance(ref, str) else ref

    def _sourced(self, item: Sourced | None, default: float, default_source: str):
        if item is None:
            return default, default_source
        if item.value == SLOT:
            return SLOTS[self.slot].emax, item.source or SLOTS[self.slot].emax_source
        return self._value(item.value), item.source

    def _half_life(self) -> tuple[float | None, str]:
        h = self.half_life
        if h is None:
            return None, ""
        if h.days == SLOT:
            slot = SLOTS[self.slot]
            return slot.half_life_days, h.source or slot.half_life_source
        if h.days is not None:
            return h.days, h.source
        if h.hours is not None:
            return h.hours / 24.0, h.source
        return math.log(2.0) / h.elimination_per_day, h.source

    def _per_unit(self) -> tuple[float, str]:
        e = self.exposure_per_unit
        if e is None:
            return 1.0, ""
        if e.value is not None:
            return e.value, e.source
        return e.bioavailability / e.volume_l, e.source

    def to_drug(self, name: str) -> Drug:
        """The catalogue entry ``name`` these data describe."""
        phases = tuple(
            Phase(
                p.start,
                p.multiple,
                p.every,
                (1 if p.every is None else None) if p.count is None else p.count,
            )
            for p in self.label.schedule
        )
        lab = self.label
        label = Label(
            self._value(lab.dose),
            phases,
            (self._value(lab.dose_range[0]), self._value(lab.dose_range[1])),
            lab.text,
            lab.source,
        )
        emax, emax_source = self._sourced(self.emax, 0.0, "")
        half_life, half_life_source = self._half_life()
        per_unit, per_unit_source = self._per_unit()
        occupancy, occupancy_source = self._sourced(self.occupancy, 0.95, "")
        hill, hill_source = self._sourced(self.hill, 1.0, DEFAULT_HILL_SOURCE)
        return Drug(
            name=name,
            diseases=tuple(self.diseases),
            drug_class=self.drug_class,
            targets={k: self._value(v) for k, v in self.targets.items()},
            exposure=EXPOSURE_KINDS[self.exposure_kind].model,
            route=self.route,
            unit=self.unit,
            label=label,
            sources=tuple(self.sources),
            slot=self.slot,
            emax=emax,
            emax_source=emax_source,
            half_life_days=half_life,
            half_life_source=half_life_source,
            exposure_per_unit=per_unit,
            exposure_source=per_unit_source,
            reference=self.reference,
            occupancy=occupancy,
            occupancy_source=occupancy_source,
            hill=hill,
            hill_source=hill_source,
            exposure_kind=self.exposure_kind,
            plan_for=tuple(self.plan_for),
        )
