"""Times in user files: a number of days or a string such as ``"16 weeks"``.

>>> parse_days("16 weeks"), parse_days("36 h"), parse_days(3)
(112.0, 1.5, 3.0)
>>> parse_days("soon")
Traceback (most recent call last):
...
ValueError: 'soon' is not a time; use days or e.g. '16 weeks', '3 d', '36 h'
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator

from dermatwin._base.yaml_files import short

_TIME = re.compile(r"^\s*([-+0-9.eE]+)\s*(d|day|days|w|wk|week|weeks|h|hour|hours)?\s*$")
_TIME_UNITS = {
    "d": 1.0,
    "day": 1.0,
    "days": 1.0,
    "w": 7.0,
    "wk": 7.0,
    "week": 7.0,
    "weeks": 7.0,
    "h": 1 / 24,
    "hour": 1 / 24,
    "hours": 1 / 24,
}


def parse_days(value: Any) -> float:
    """A time in days from a number (days) or a string like '16 weeks'."""
    if isinstance(value, bool):
        raise ValueError("a time must be a number of days or a string like '16 weeks'")
    if isinstance(value, int | float):
        days = float(value)
    elif isinstance(value, str) and (m := _TIME.match(value)):
        days = float(m.group(1)) * _TIME_UNITS[m.group(2) or "d"]
    else:
        raise ValueError(
            f"{short(value)} is not a time; use days or e.g. '16 weeks', '3 d', '36 h'"
        )
    if not math.isfinite(days):
        raise ValueError("a time must be finite")
    return days


#: a pydantic field type: a time in days, given as days or as a string with a unit
Days = Annotated[float, BeforeValidator(parse_days)]
