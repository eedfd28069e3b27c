"""Regimen items live in therapy (trials, twins and the planner share them)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from dermatwin.therapy.items import DrugItem, MSCItem, RegimenItem, parse_item, parse_items
from dermatwin.trials import spec


class _Holder(BaseModel):
    regimen: list[RegimenItem]


def test_items_are_told_apart_by_the_msc_key():
    held = _Holder(regimen=[{"drug": "dupilumab"}, {"msc": {"source": "adipose", "amount": 1e7}}])
    assert [type(i) for i in held.regimen] == [DrugItem, MSCItem]
    assert isinstance(parse_item({"msc": {"source": "adipose", "amount": 1e7}}), MSCItem)
    with pytest.raises(ValidationError):
        _Holder(regimen=[3])


def test_trial_specs_use_the_therapy_items():
    field = spec.Arm.model_fields["regimen"]
    assert field.annotation == list[RegimenItem]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"drug": "dupilumab"}, "plan.yaml: regimen: expected a list of items"),
        (["dupilumab"], "plan.yaml: regimen[0]: expected {drug: ...} or {msc: {...}}"),
        ([{"drug": "dupilumab"}, {"drug": "x", "every": 0.01}], "plan.yaml: regimen[1]: every"),
        ([{"msc": {"source": "moon", "amount": 1}}], "plan.yaml: regimen[0]: msc"),
        ([{"drug": "dupilumab", "dose": 3}], "plan.yaml: regimen[0]: unknown field 'dose'"),
    ],
)
def test_parse_items_is_one_line_naming_the_item_and_field(raw, message):
    class Bad(Exception):
        pass

    with pytest.raises(Bad) as err:
        parse_items(raw, Bad, "plan.yaml")
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
