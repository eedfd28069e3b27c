"""Unit strings used by model declarations, and their SI decomposition for SBML.

A unit is written as factors joined by ``*`` and ``/`` with optional integer powers:
``1/day``, ``cell/mm2``, ``mm2/cell/day``, ``J/cm2``, ``au`` (arbitrary concentration
unit, exported as dimensionless) or ``dimensionless``. Everything after the first ``/``
divides (``a/b/c`` is a / (b c)).

>>> parse_unit("mm2/cell/day")
((('mm', 2), ('cell', -1), ('day', -1)), 1.0)
>>> si_factors("1/week")
[('second', -1, 604800.0)]
"""

from __future__ import annotations

import re

from dermatwin._base.errors import ModelError

#: base name -> (SBML unit kind, multiplier to that kind)
BASE_UNITS: dict[str, tuple[str, float]] = {
    "day": ("second", 86400.0),
    "week": ("second", 604800.0),
    "year": ("second", 31557600.0),  # Julian year (365.25 days): event rates per year
    "h": ("second", 3600.0),
    "s": ("second", 1.0),
    "cell": ("item", 1.0),
    "mm": ("metre", 1e-3),
    "cm": ("metre", 1e-2),
    "m": ("metre", 1.0),
    "J": ("joule", 1.0),
    "g": ("gram", 1.0),
    "mg": ("gram", 1e-3),
    "ug": ("gram", 1e-6),
    "kg": ("kilogram", 1.0),
    "L": ("litre", 1.0),
    "mL": ("litre", 1e-3),
    "au": ("dimensionless", 1.0),
    "dimensionless": ("dimensionless", 1.0),
    "percent": ("dimensionless", 0.01),
}

_FACTOR = re.compile(r"^([A-Za-z]+?)(\^?-?\d+)?$")


def parse_unit(unit: str) -> tuple[tuple[tuple[str, int], ...], float]:
    """Split a unit string into ((base, power), ...) and a numeric prefactor."""
    text = unit.replace(" ", "")
    if not text:
        raise ModelError("empty unit string")
    parts = re.split(r"([*/])", text)
    factors: list[tuple[str, int]] = []
    prefactor = 1.0
    sign = 1
    for token in parts:
        if token == "*":
            continue
        if token == "/":
            sign = -1
            continue
        if token == "1":
            continue
        match = _FACTOR.match(token)
        if not match or match.group(1) not in BASE_UNITS:
            allowed = ", ".join(sorted(BASE_UNITS))
            raise ModelError(f"unit {unit!r}: unknown factor {token!r}; allowed bases: {allowed}")
        power = int(match.group(2).lstrip("^")) if match.group(2) else 1
        factors.append((match.group(1), sign * power))
    return tuple(factors), prefactor


def si_factors(unit: str) -> list[tuple[str, int, float]]:
    """(SBML kind, exponent, multiplier) triples, read as (multiplier * kind) ** exponent.

    Dimensionless factors are dropped.
    """
    factors, _ = parse_unit(unit)
    out = []
    for base, power in factors:
        kind, mult = BASE_UNITS[base]
        if kind == "dimensionless":
            continue
        out.append((kind, power, mult))
    return out
