"""Units of the numbers in exported SBML maths, so that libSBML can check unit consistency.

SBML Level 3 lets every number carry units (``sbml:units``); a number without them makes
libSBML's unit check give up on the whole expression. :class:`NumberUnits` gives each
number the units its place in the expression implies:

* a term of a sum or difference, a value of a ``piecewise``, an argument of ``min``,
  ``max`` or ``abs`` has the units of the whole (the units the caller expects, e.g. state
  units per day in a rate rule, else those of its first term with known units): the ``1``
  in ``1 + msc_given`` is one cell;
* an operand of a comparison has the units of the other operand: the ``0`` in
  ``drug_il4r <= 0`` is 0 mg/L, the ``10`` in ``time >= 10`` is 10 days;
* the one number of a product whose other factors have the units of the whole but a
  different scale is a unit conversion and carries that ratio: the ``1/7`` in Miyano's
  ``1/7 * k1 * s`` (``k1`` per week, the rate per day) is in week/day, the ``4/1461``
  in ``age_years + 4/1461 * ageing_clock * time`` in year/day;
* an exact fraction ``p/q`` has its units on ``p`` and a pure-number ``q``;
* any other number (a factor of a product, an exponent, an argument of ``exp``) is
  dimensionless.

>>> import libsbml
>>> doc = libsbml.SBMLDocument(3, 2)
>>> m = doc.createModel()
>>> u = m.createUnitDefinition(); _ = u.setId("mg_per_L")
>>> for kind, e in ((libsbml.UNIT_KIND_GRAM, 1), (libsbml.UNIT_KIND_LITRE, -1)):
...     x = u.createUnit(); _ = x.setKind(kind); _ = x.setExponent(e); _ = x.setScale(0)
...     _ = x.setMultiplier(1e-3 if kind == libsbml.UNIT_KIND_GRAM else 1.0)
>>> ast = libsbml.parseL3Formula("piecewise(0, c <= 0, c / (1 + c))")
>>> NumberUnits(m, {"c": "mg_per_L"}).annotate(ast, None)
>>> [ast.getChild(0).getUnits(), ast.getChild(1).getChild(1).getUnits()]
['dimensionless', 'mg_per_L']
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import libsbml

from dermatwin.model.units import BASE_UNITS

_PASS_THROUGH = {libsbml.AST_PLUS, libsbml.AST_MINUS, libsbml.AST_FUNCTION_ABS}
_PASS_THROUGH |= {
    getattr(libsbml, n) for n in ("AST_FUNCTION_MIN", "AST_FUNCTION_MAX") if hasattr(libsbml, n)
}
_KEEP = {libsbml.AST_FUNCTION_FLOOR, libsbml.AST_FUNCTION_CEILING}
_RELATIONS = {
    libsbml.AST_RELATIONAL_EQ,
    libsbml.AST_RELATIONAL_NEQ,
    libsbml.AST_RELATIONAL_GT,
    libsbml.AST_RELATIONAL_GEQ,
    libsbml.AST_RELATIONAL_LT,
    libsbml.AST_RELATIONAL_LEQ,
}


@dataclass(frozen=True)
class Units:
    """Units as SBML base kinds (kind -> exponent) and a scale (the unit in SI base
    units: 86400 for a day); ``sid``: the UnitSId they came from (None: derived)."""

    kinds: dict[str, float] = field(default_factory=dict)
    scale: float = 1.0
    sid: str | None = None

    def times(self, other: Units, power: float = 1.0) -> Units:
        kinds = dict(self.kinds)
        for k, e in other.kinds.items():
            kinds[k] = kinds.get(k, 0.0) + power * e
        return Units({k: e for k, e in kinds.items() if e != 0}, self.scale * other.scale**power)


DIMENSIONLESS = Units(sid="dimensionless")


class NumberUnits:
    """Sets the units of the numbers in maths of ``model`` (a libSBML model), whose
    names have the units in ``symbol_units`` (SBML id -> UnitSId); defines a unit
    definition when a number needs units no definition has yet."""

    def __init__(self, model: libsbml.Model, symbol_units: Mapping[str, str]):
        self.model = model
        self.symbol_units = symbol_units

    # -- units -----------------------------------------------------------------------------
    def named(self, unit_id: str) -> Units:
        """The units of the UnitSId ``unit_id`` (a unit definition or a base unit)."""
        udef = self.model.getUnitDefinition(unit_id)
        if udef is None:
            kind = libsbml.UnitKind_forName(unit_id)
            dimensionless = kind == libsbml.UNIT_KIND_DIMENSIONLESS
            return Units({} if dimensionless else {unit_id: 1.0}, 1.0, unit_id)
        kinds: dict[str, float] = {}
        scale = 1.0
        for i in range(udef.getNumUnits()):
            u = udef.getUnit(i)
            name = libsbml.UnitKind_toString(u.getKind())
            scale *= (u.getMultiplier() * 10.0 ** u.getScale()) ** u.getExponent()
            if name != "dimensionless":
                kinds[name] = kinds.get(name, 0.0) + u.getExponent()
        return Units({k: e for k, e in kinds.items() if e != 0}, scale, unit_id)

    def unit_id(self, units: Units | None) -> str:
        """A UnitSId of ``units``: the one they came from, a defined one of the same
        kinds and scale, else a new unit definition."""
        units = units or DIMENSIONLESS
        if units.sid is not None:
            return units.sid
        if not units.kinds and math.isclose(units.scale, 1.0, rel_tol=1e-12):
            return "dimensionless"
        for i in range(self.model.getNumUnitDefinitions()):
            sid = self.model.getUnitDefinition(i).getId()
            known = self.named(sid)
            if known.kinds == units.kinds and math.isclose(known.scale, units.scale, rel_tol=1e-12):
                return sid
        parts = [k if e == 1 else f"{k}{e:g}" for k, e in sorted(units.kinds.items())]
        text = "_".join(parts) if parts else _ratio_name(units.scale)
        sid = re.sub(r"[^A-Za-z0-9_]", "_", text.replace("-", "neg"))
        sid = sid if parts == [] and not sid[0].isdigit() else "u_" + sid
        while self.model.getUnitDefinition(sid) is not None:
            sid += "_"
        udef = self.model.createUnitDefinition()
        udef.setId(sid)
        for kind, exponent in sorted(units.kinds.items()) or [("dimensionless", 1.0)]:
            u = udef.createUnit()
            u.setKind(libsbml.UnitKind_forName(kind))
            u.setExponent(float(exponent))
            u.setScale(0)
            u.setMultiplier(1.0)
        first = udef.getUnit(0)  # the scale goes on the first unit
        first.setMultiplier(units.scale ** (1.0 / first.getExponent()))
        return sid

    # -- derivation ------------------------------------------------------------------------
    def derive(self, node: libsbml.ASTNode) -> Units | None:
        """The units of ``node``, or None where they cannot be known."""
        kind = node.getType()
        args = [node.getChild(i) for i in range(node.getNumChildren())]
        if node.isNumber():
            return self.named(node.getUnits()) if node.isSetUnits() else None
        if kind == libsbml.AST_NAME:
            unit = self.symbol_units.get(node.getName())
            return None if unit is None else self.named(unit)
        if kind == libsbml.AST_NAME_TIME:
            return self.named(self.model.getTimeUnits())
        if kind in (libsbml.AST_TIMES, libsbml.AST_DIVIDE):
            out = Units()
            for i, a in enumerate(args):
                bare = _is_constant(a) and not _has_units(a)
                units = DIMENSIONLESS if bare else self.derive(a)
                if units is None:
                    return None
                out = out.times(units, -1.0 if kind == libsbml.AST_DIVIDE and i > 0 else 1.0)
            return out
        if kind in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
            base, exponent = args
            units = self.derive(base)
            if units is not None and not units.kinds and units.scale == 1.0:
                return Units()
            if units is None or not exponent.isNumber():
                return None
            return Units().times(units, exponent.getValue())
        if kind in _PASS_THROUGH or kind in _KEEP:
            return self._first_known(args)
        if kind == libsbml.AST_FUNCTION_PIECEWISE:
            return self._first_known(args[::2])
        return Units()  # functions of pure numbers, comparisons, logic: dimensionless

    def _first_known(self, args: list[libsbml.ASTNode]) -> Units | None:
        for a in args:
            if not (_is_constant(a) and not _has_units(a)):
                units = self.derive(a)
                if units is not None:
                    return units
        return None

    # -- annotation ------------------------------------------------------------------------
    def annotate(self, node: libsbml.ASTNode, expected: Units | None) -> None:
        """Give every number below ``node`` units; ``expected``: the units the whole
        should have (None: unknown; a number alone is then dimensionless)."""
        kind = node.getType()
        args = [node.getChild(i) for i in range(node.getNumChildren())]
        if node.isNumber():
            if not node.isSetUnits():
                node.setUnits(self.unit_id(expected))
            return
        if kind in _PASS_THROUGH:
            whole = expected if expected is not None else self._first_known(args)
            for a in args:
                self.annotate(a, whole)
        elif kind == libsbml.AST_FUNCTION_PIECEWISE:
            whole = expected if expected is not None else self._first_known(args[::2])
            for i, a in enumerate(args):
                self.annotate(a, whole if i % 2 == 0 else None)
        elif kind in _RELATIONS:
            operands = self._first_known(args)
            for a in args:
                self.annotate(a, operands)
        elif kind == libsbml.AST_DIVIDE and all(a.isNumber() for a in args):
            self.annotate(args[0], expected)  # an exact fraction p/q: units on p
            self.annotate(args[1], None)
        elif kind == libsbml.AST_TIMES and expected is not None:
            self._product(args, expected)
        elif kind == libsbml.AST_DIVIDE and expected is not None:
            self.annotate(args[1], None)
            below = self.derive(args[1])
            self.annotate(args[0], None if below is None else expected.times(below))
        else:
            for a in args:
                self.annotate(a, None)

    def _product(self, args: list[libsbml.ASTNode], expected: Units) -> None:
        """A product in a place of known units: its one number converts the scale of the
        other factors to that of ``expected`` where they differ only in scale."""
        numbers = [a for a in args if _is_constant(a)]
        rest = [a for a in args if not _is_constant(a)]
        for a in rest:
            self.annotate(a, None)
        factor = Units()
        for a in rest:
            units = self.derive(a)
            if units is None:
                factor = None
                break
            factor = factor.times(units)
        convert = (
            len(numbers) == 1
            and factor is not None
            and factor.kinds == expected.kinds
            and not math.isclose(factor.scale, expected.scale, rel_tol=1e-12)
        )
        ratio = Units({}, expected.scale / factor.scale) if convert else None
        for a in numbers:
            self.annotate(a, ratio)


def _is_constant(node: libsbml.ASTNode) -> bool:
    """A number, a negated number or an exact fraction of numbers."""
    if node.isNumber():
        return True
    kind = node.getType()
    if kind == libsbml.AST_MINUS and node.getNumChildren() == 1:
        return _is_constant(node.getChild(0))
    if kind == libsbml.AST_DIVIDE:
        return all(node.getChild(i).isNumber() for i in range(node.getNumChildren()))
    return False


def _has_units(node: libsbml.ASTNode) -> bool:
    if node.isNumber():
        return node.isSetUnits()
    return any(_has_units(node.getChild(i)) for i in range(node.getNumChildren()))


def _ratio_name(ratio: float) -> str:
    """``week_per_day`` for 7, ``year_per_day`` for 365.25: a conversion factor named by
    two units of one kind where they give it, else ``factor_<ratio>``."""
    for a, (kind_a, size_a) in BASE_UNITS.items():
        for b, (kind_b, size_b) in BASE_UNITS.items():
            if a != b and kind_a == kind_b != "dimensionless":
                if math.isclose(size_a / size_b, ratio, rel_tol=1e-12):
                    return f"{a}_per_{b}"
    return f"factor_{ratio:.6g}"
