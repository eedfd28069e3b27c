"""Times in user files (dermatwin._base.times): days or a string with a unit."""

from __future__ import annotations

import math

import pytest
from pydantic import TypeAdapter, ValidationError

from dermatwin._base.times import Days, parse_days


@pytest.mark.parametrize(
    ("value", "days"),
    [(3, 3.0), ("16 weeks", 112.0), ("16w", 112.0), ("36 h", 1.5), ("2.5 d", 2.5)],
)
def test_parse_days(value, days):
    assert parse_days(value) == pytest.approx(days)


@pytest.mark.parametrize("value", [True, "soon", "3 months", None, math.inf, "nan d"])
def test_what_is_not_a_time_is_refused(value):
    with pytest.raises(ValueError, match="time"):
        parse_days(value)


def test_days_is_a_field_type():
    assert TypeAdapter(Days).validate_python("2 weeks") == 14.0
    with pytest.raises(ValidationError, match="is not a time"):
        TypeAdapter(Days).validate_python("two weeks")
