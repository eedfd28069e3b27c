"""Regimen items as users write them (trial, twin and plan YAML): ``{drug: NAME, ...}``
(:class:`DrugItem`) or ``{msc: {...}}`` (:class:`MSCItem`), validated field by field.

:data:`RegimenItem` is the pydantic union of both (chosen by the ``msc`` key), and
:func:`parse_items` reads a list of them one by one, so that an error names the item and
its field rather than pydantic's union of both item types.

>>> DrugItem(drug="dupilumab", start=14).start
14.0
>>> parse_items([{"drug": "dupilumab", "start": -1}], ValueError, "plan.yaml")
Traceback (most recent call last):
...
ValueError: plan.yaml: regimen[0]: start: a day >= 0, got -1
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from dermatwin._base.times import Days
from dermatwin._base.yaml_files import Number, StrictModel, one_line, short, validation_message

#: the longest drug name an item may give (the catalogue's names are far shorter)
MAX_NAME = 200
#: the shortest dosing interval ``every`` may give (1 hour, in days)
MIN_EVERY_DAYS = 1 / 24


class _Item(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DrugItem(_Item):
    """A catalogue drug: labelled dose, unit, route and schedule unless given (``every``:
    one dose every so many days from ``start`` instead of the labelled schedule)."""

    drug: str = Field(max_length=MAX_NAME)
    amount: Number | None = Field(None, ge=0)
    unit: str | None = None
    route: str | None = None
    start: Days = 0.0
    stop: Days | None = None
    schedule: Literal["label", "reactive", "proactive"] = "label"
    every: Days | None = None

    @model_validator(mode="after")
    def _check_every(self) -> DrugItem:
        if self.start < 0:
            raise ValueError(f"start: a day >= 0, got {self.start:g}")
        if self.stop is not None and not self.stop > self.start:
            raise ValueError(f"stop: a day after start ({self.start:g}), got {self.stop:g}")
        if self.every is not None and (self.every < MIN_EVERY_DAYS or self.schedule != "label"):
            raise ValueError("every: a dosing interval >= 1 hour (days), with schedule: label")
        return self


class MSCItem(_Item):
    """An MSC course (see :class:`dermatwin.therapy.products.MSCProduct` / ``MSCDose``)."""

    msc: dict[str, Any]

    @field_validator("msc")
    @classmethod
    def _valid_course(cls, fields: dict[str, Any]) -> dict[str, Any]:
        # imported here: products loads the model (sympy); reading a spec should not
        from dermatwin.therapy.products import check_msc_fields

        try:
            check_msc_fields(fields)
        except ValidationError as err:
            raise ValueError(validation_message(err)) from None
        return fields

    def times(self) -> list[float]:
        return [float(t) for t in self.msc.get("times", [0.0])]


def _item_kind(item: Any) -> str | None:
    if isinstance(item, DrugItem | MSCItem):
        return "<drug>" if isinstance(item, DrugItem) else "<msc>"
    if isinstance(item, dict):
        # the tags are not field names, so one_line leaves them out of the field path
        return "<msc>" if "msc" in item else "<drug>"
    return None


RegimenItem = Annotated[
    Annotated[DrugItem, Tag("<drug>")] | Annotated[MSCItem, Tag("<msc>")],
    Discriminator(
        _item_kind,
        custom_error_type="regimen_item",
        custom_error_message="expected a regimen item (drug: ... or msc: {...})",
    ),
]


def parse_item(fields: dict) -> DrugItem | MSCItem:
    """One item from its fields (an MSC course if it has ``msc``); pydantic errors as is."""
    return MSCItem.model_validate(fields) if "msc" in fields else DrugItem.model_validate(fields)


def parse_items(raw: object, error: type[Exception], where: str) -> list[DrugItem | MSCItem]:
    """Regimen items parsed one by one; a problem is one ``error`` naming ``where``, the
    item (``regimen[i]``) and its field."""
    if not isinstance(raw, list):
        raise error(
            f"{where}: regimen: expected a list of items ({{drug: ...}} or {{msc: {{...}}}}), "
            f"got {short(raw)}"
        )
    items: list[DrugItem | MSCItem] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise error(f"{where}: regimen[{i}]: expected {{drug: ...}} or {{msc: {{...}}}}")
        try:
            items.append(parse_item(item))
        except ValidationError as err:
            raise error(one_line(err, f"{where}: regimen[{i}]")) from None
    return items
