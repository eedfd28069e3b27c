"""Import an SBML Level 2/3 ODE model into a :class:`~dermatwin.model.spec.Model`.

What is read, and how it becomes dermatwin's model:

* a species, or a parameter, changed by reactions or a ``rateRule`` is a **state**; its
  value is the one the SBML maths refers to: a concentration (amount / compartment size)
  unless the species has only substance units, so reactions add ``stoichiometry * rate /
  size`` to it;
* constant parameters, constant compartments (their sizes), constant or boundary species
  never changed, local parameters of kinetic laws (renamed ``<reaction>_<id>``) and
  parameters changed only by events are **parameters**;
* ``assignmentRule`` variables are substituted into the equations and kept as **outputs**;
* function definitions and initial assignments are expanded by libSBML's converters;
* a Level 1 document is converted to Level 2 Version 4 first;
* an event whose trigger is a time threshold (``time >= T``, ``time > T``) and whose
  assignments are constants or ``x + constant`` becomes dose :class:`Event` s
  (``SET_STATE`` / ``SET_PARAMETER`` / ``BOLUS``), in document order.

Time: the model's ``timeUnits`` (a multiple of seconds) is converted so the imported
model runs in days, as every dermatwin model does; a model without ``timeUnits`` (every
Level 2 model) is read as if its time unit were the day; ``time_unit=`` overrides both.

Anything else (algebraic rules, delays, state-dependent or delayed events, event
priorities, variable compartments, variable stoichiometry, fast reactions, required
packages, ``rateOf``) raises a one-line :class:`~dermatwin.errors.ModelError` naming the
construct. Constraints do not change a
solution and are ignored. Units are kept where they are dermatwin units (the names
written by :mod:`dermatwin.io.sbml`), else recorded as ``au``.

Example
-------
>>> from dermatwin.engine.events import bolus
>>> from dermatwin.engine.simulate import simulate
>>> from dermatwin.io.sbml import to_sbml
>>> from dermatwin.model.spec import ModelBuilder
>>> b = ModelBuilder("decay", "first-order loss")
>>> x = b.state("x", unit="cell/mm2", initial=100.0, description="cells")
>>> k = b.parameter("k", 0.5, unit="1/day", source="assumed", description="loss rate")
>>> b.ode(x, -k * x)
>>> imported = from_sbml(to_sbml(b.build(), events=[bolus(2.0, "x", 50.0)]))
>>> imported.model.state_names, imported.model.parameter_names
(('x',), ('unit_mm2', 'k'))
>>> [(e.time, e.kind.name, e.target, e.value) for e in imported.events]
[(2.0, 'BOLUS', 'x', 50.0)]
>>> ds = simulate(imported.model, [1.0, 3.0], events=imported.events)
>>> [round(float(v), 3) for v in ds["x"][0]]
[60.653, 52.64]
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import libsbml
import sympy as sp

from dermatwin._base.errors import ModelError
from dermatwin.engine.events import Event, EventKind
from dermatwin.model.spec import Model, ModelBuilder
from dermatwin.model.units import BASE_UNITS, parse_unit

__all__ = ["ImportedModel", "from_sbml", "read_sbml"]

SOURCE = "assumed: value from the imported SBML file"
_TIME = sp.Symbol("t", real=True)
_AVOGADRO = 6.02214076e23
_SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class ImportedModel:
    """An imported SBML model: the dermatwin ``model``, its ``events`` (days) and the
    dermatwin name of every SBML id that became a state, parameter or output (``names``)."""

    model: Model
    events: tuple[Event, ...]
    names: Mapping[str, str]
    days_per_time_unit: float

    def __repr__(self) -> str:
        return f"ImportedModel({self.model!r}, events={len(self.events)})"


def read_sbml(path: str | Path, *, time_unit: str | None = None) -> ImportedModel:
    """:func:`from_sbml` of the SBML file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ModelError(
            f"path {path}: cannot read the SBML file ({err})", parameter="path"
        ) from None
    return from_sbml(text, time_unit=time_unit, default_name=path.stem)


def from_sbml(
    text: str, *, time_unit: str | None = None, default_name: str = "sbml_model"
) -> ImportedModel:
    """Import an SBML document (a string) as a dermatwin model (see the module text).

    ``time_unit`` (``s``, ``h``, ``day``, ``week``, ``year``) is the SBML model's time unit
    when its own ``timeUnits`` is absent or should be overridden.
    """
    doc = libsbml.readSBMLFromString(text)
    _check_document(doc)
    _expand(doc)
    m = doc.getModel()
    return _Importer(m, _days_per_unit(m, time_unit), default_name).run()


# -- document checks -----------------------------------------------------------------------
def _errors(doc: libsbml.SBMLDocument) -> list[libsbml.SBMLError]:
    return [
        doc.getError(i)
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]


def _describe(error: libsbml.SBMLError) -> str:
    """One line: where, what (libSBML's short message) and the detail it gives."""
    lines = [x.strip() for x in error.getMessage().strip().splitlines() if x.strip()]
    what = f"{error.getShortMessage()}: {lines[-1]}" if len(lines) > 1 else lines[0]
    return f"line {error.getLine()}: {what}" if error.getLine() else what


def _check_document(doc: libsbml.SBMLDocument) -> None:
    errors = _errors(doc)
    if errors or doc.getModel() is None:
        first = _describe(errors[0]) if errors else "no model element"
        raise ModelError(f"SBML import: not a readable SBML document ({first})")
    for i in range(doc.getNumPlugins()):
        prefix = doc.getPlugin(i).getPrefix()
        # a package's namespace is declared only where the document uses it
        used = doc.getNamespaces().hasPrefix(prefix)
        if doc.getLevel() >= 3 and used and doc.getPackageRequired(prefix):
            raise ModelError(f"SBML import: the SBML package {prefix!r} is not supported")
    if doc.getLevel() == 1 and not doc.setLevelAndVersion(2, 4, False):
        raise ModelError("SBML import: this Level 1 document cannot be read as Level 2")
    # identifiers and references (duplicate ids, a species in no compartment): the
    # checks that need no units or modelling conventions
    for category in (
        libsbml.LIBSBML_CAT_UNITS_CONSISTENCY,
        libsbml.LIBSBML_CAT_MODELING_PRACTICE,
        libsbml.LIBSBML_CAT_SBO_CONSISTENCY,
        libsbml.LIBSBML_CAT_OVERDETERMINED_MODEL,
    ):
        doc.setConsistencyChecks(category, False)
    doc.checkConsistency()
    errors = _errors(doc)
    if errors:
        raise ModelError(f"SBML import: not a valid SBML document ({_describe(errors[0])})")
    m = doc.getModel()
    if any(m.getRule(i).isAlgebraic() for i in range(m.getNumRules())):
        raise ModelError("SBML import: algebraic rules are not supported")


def _expand(doc: libsbml.SBMLDocument) -> None:
    for option in ("expandFunctionDefinitions", "expandInitialAssignments"):
        props = libsbml.ConversionProperties()
        props.addOption(option, True)
        if doc.convert(props) != libsbml.LIBSBML_OPERATION_SUCCESS:
            what = "function definitions" if "Function" in option else "initial assignments"
            last = doc.getError(doc.getNumErrors() - 1) if doc.getNumErrors() else None
            why = f" ({last.getShortMessage()})" if last is not None else ""
            raise ModelError(f"SBML import: libSBML could not expand the {what}{why}")
    m = doc.getModel()
    if m.getNumInitialAssignments():
        sid = m.getInitialAssignment(0).getSymbol()
        raise ModelError(f"SBML import: initialAssignment to {sid!r} could not be evaluated")


def _days_per_unit(m: libsbml.Model, time_unit: str | None) -> float:
    """Days per model time unit (from ``time_unit``, the model's timeUnits, or 1)."""
    if time_unit is not None:
        allowed = [u for u, (kind, _) in BASE_UNITS.items() if kind == "second"]
        if time_unit not in allowed:
            raise ModelError(
                f"time_unit {time_unit!r} is not a time unit; allowed: {', '.join(allowed)}",
                parameter="time_unit",
            )
        return BASE_UNITS[time_unit][1] / _SECONDS_PER_DAY
    sid = m.getTimeUnits() if m.isSetTimeUnits() else ""
    if not sid:
        return 1.0
    if sid == "second":
        return 1.0 / _SECONDS_PER_DAY
    udef = m.getUnitDefinition(sid)
    if udef is None or udef.getNumUnits() != 1:
        raise ModelError(f"SBML import: time units {sid!r} are not a multiple of the second")
    u = udef.getUnit(0)
    if u.getKind() != libsbml.UNIT_KIND_SECOND or u.getExponent() != 1:
        raise ModelError(f"SBML import: time units {sid!r} are not a multiple of the second")
    return u.getMultiplier() * 10.0 ** u.getScale() / _SECONDS_PER_DAY


# -- maths ---------------------------------------------------------------------------------
_UNARY = {
    libsbml.AST_FUNCTION_EXP: sp.exp,
    libsbml.AST_FUNCTION_LN: sp.log,
    libsbml.AST_FUNCTION_ABS: sp.Abs,
    libsbml.AST_FUNCTION_FLOOR: sp.floor,
    libsbml.AST_FUNCTION_CEILING: sp.ceiling,
    libsbml.AST_FUNCTION_SIN: sp.sin,
    libsbml.AST_FUNCTION_COS: sp.cos,
    libsbml.AST_FUNCTION_TAN: sp.tan,
    libsbml.AST_FUNCTION_SINH: sp.sinh,
    libsbml.AST_FUNCTION_COSH: sp.cosh,
    libsbml.AST_FUNCTION_TANH: sp.tanh,
    libsbml.AST_FUNCTION_ARCSIN: sp.asin,
    libsbml.AST_FUNCTION_ARCCOS: sp.acos,
    libsbml.AST_FUNCTION_ARCTAN: sp.atan,
    libsbml.AST_LOGICAL_NOT: sp.Not,
}
_NARY = {
    libsbml.AST_LOGICAL_AND: sp.And,
    libsbml.AST_LOGICAL_OR: sp.Or,
    libsbml.AST_LOGICAL_XOR: sp.Xor,
}
_RELATIONS = {
    libsbml.AST_RELATIONAL_EQ: sp.Eq,
    libsbml.AST_RELATIONAL_NEQ: sp.Ne,
    libsbml.AST_RELATIONAL_GT: sp.Gt,
    libsbml.AST_RELATIONAL_GEQ: sp.Ge,
    libsbml.AST_RELATIONAL_LT: sp.Lt,
    libsbml.AST_RELATIONAL_LEQ: sp.Le,
}
for _name in ("AST_FUNCTION_MIN", "AST_FUNCTION_MAX"):  # SBML L3V2 only
    if hasattr(libsbml, _name):
        _NARY[getattr(libsbml, _name)] = sp.Min if _name.endswith("MIN") else sp.Max


def _to_sympy(ast: libsbml.ASTNode, symbols: Mapping[str, sp.Expr], time: sp.Expr) -> sp.Expr:
    """A sympy expression of an SBML maths tree (names looked up in ``symbols``)."""

    def f(node: libsbml.ASTNode) -> sp.Expr:
        kind = node.getType()
        args = [node.getChild(i) for i in range(node.getNumChildren())]
        if kind == libsbml.AST_INTEGER:
            return sp.Integer(node.getInteger())
        if kind in (libsbml.AST_REAL, libsbml.AST_REAL_E):
            return sp.Float(node.getReal())
        if kind == libsbml.AST_RATIONAL:
            return sp.Rational(node.getNumerator(), node.getDenominator())
        if kind == libsbml.AST_NAME:
            name = node.getName()
            if name not in symbols:
                raise ModelError(f"SBML import: unknown identifier {name!r} in a formula")
            return symbols[name]
        if kind == libsbml.AST_NAME_TIME:
            return time
        if kind == libsbml.AST_NAME_AVOGADRO:
            return sp.Float(_AVOGADRO)
        if kind == libsbml.AST_CONSTANT_PI:
            return sp.pi
        if kind == libsbml.AST_CONSTANT_E:
            return sp.E
        if kind == libsbml.AST_CONSTANT_TRUE:
            return sp.true
        if kind == libsbml.AST_CONSTANT_FALSE:
            return sp.false
        if kind == libsbml.AST_PLUS:
            return sp.Add(*map(f, args))
        if kind == libsbml.AST_MINUS:
            return -f(args[0]) if len(args) == 1 else f(args[0]) - f(args[1])
        if kind == libsbml.AST_TIMES:
            return sp.Mul(*map(f, args))
        if kind == libsbml.AST_DIVIDE:
            return f(args[0]) / f(args[1])
        if kind in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
            return f(args[0]) ** f(args[1])
        if kind == libsbml.AST_FUNCTION_ROOT:
            return f(args[-1]) ** (1 / f(args[0])) if len(args) == 2 else sp.sqrt(f(args[0]))
        if kind == libsbml.AST_FUNCTION_LOG:
            return sp.log(f(args[-1]), f(args[0])) if len(args) == 2 else sp.log(f(args[0]), 10)
        if kind == libsbml.AST_FUNCTION_PIECEWISE:
            values = list(map(f, args))
            pieces = [(values[i], values[i + 1]) for i in range(0, len(values) - 1, 2)]
            pieces.append((values[-1] if len(values) % 2 else sp.nan, sp.true))
            return sp.Piecewise(*pieces)
        if kind in _UNARY and len(args) == 1:
            return _UNARY[kind](f(args[0]))
        if kind in _NARY:
            return _NARY[kind](*map(f, args))
        if kind in _RELATIONS:
            values = list(map(f, args))
            pairs = [_RELATIONS[kind](a, b) for a, b in zip(values, values[1:], strict=False)]
            return sp.And(*pairs) if len(pairs) > 1 else pairs[0]
        name = node.getName() or libsbml.formulaToL3String(node)
        raise ModelError(f"SBML import: the maths function {name!r} is not supported")

    return f(ast)


# -- the model -----------------------------------------------------------------------------
class _Importer:
    def __init__(self, m: libsbml.Model, days: float, default_name: str):
        self.m = m
        self.days = days  # days per model time unit
        self.time = _TIME / days  # SBML time in model units, from dermatwin's days
        self.level = m.getLevel()
        self.names: dict[str, str] = {}  # SBML id -> dermatwin name
        self.taken: set[str] = {"t"}
        self.symbols: dict[str, sp.Expr] = {}
        self.values: dict[str, float] = {}  # SBML id -> value, of global parameters
        self.b = ModelBuilder(
            self._name(m.getId() or default_name, register=False),
            m.getName() or m.getId() or default_name,
        )

    def _name(self, sid: str, register: bool = True) -> str:
        name = sid
        while name in self.taken or keyword.iskeyword(name) or not name.isidentifier():
            name = (name if name.isidentifier() else "x_" + sid) + "_"
        if register:
            self.taken.add(name)
            self.names[sid] = name
        return name

    def _unit(self, sid: str) -> str:
        udef = self.m.getUnitDefinition(sid) if sid else None
        for text in (udef.getName() if udef is not None else "", sid):
            try:
                if text:
                    parse_unit(text)
                    return text
            except ModelError:
                pass
        return "au"

    def math(self, ast: libsbml.ASTNode | None, what: str) -> sp.Expr:
        if ast is None:
            raise ModelError(f"SBML import: {what} has no maths")
        return _to_sympy(ast, self.symbols, self.time)

    def run(self) -> ImportedModel:
        m = self.m
        rate_rules = {r.getVariable(): r for r in m.getListOfRules() if r.isRate()}
        assigned = {r.getVariable(): r for r in m.getListOfRules() if r.isAssignment()}
        event_targets = {
            ea.getVariable() for ev in m.getListOfEvents() for ea in ev.getListOfEventAssignments()
        }
        for c in m.getListOfCompartments():
            cid = c.getId()
            if cid in rate_rules or cid in assigned or cid in event_targets or not c.getConstant():
                raise ModelError(f"SBML import: variable compartment size ({cid!r}) not supported")
            if not c.isSetSize():
                raise ModelError(f"SBML import: compartment {cid!r} has no size")
        reacting = self._reacting()
        states, params = [], []
        for s in m.getListOfSpecies():
            sid = s.getId()
            if sid in assigned:
                continue
            moved = sid in reacting and not (s.getBoundaryCondition() or s.getConstant())
            changes = sid in rate_rules or moved
            (states if changes else params).append(s)
        for p in m.getListOfParameters():
            if p.getId() not in assigned:
                (states if p.getId() in rate_rules else params).append(p)

        for c in m.getListOfCompartments():
            self._parameter(c.getId(), c.getSize(), self._unit(c.getUnits()), c)
        for item in params:
            if isinstance(item, libsbml.Species):
                self._parameter(item.getId(), self._initial(item), self._species_unit(item), item)
            else:
                self._parameter(item.getId(), item.getValue(), self._unit(item.getUnits()), item)
        for r in m.getListOfReactions():
            law = r.getKineticLaw()
            local = law.getListOfLocalParameters() if self.level >= 3 else law.getListOfParameters()
            for p in local:
                name = self._name(f"{r.getId()}_{p.getId()}")
                self.b.parameter(
                    name,
                    p.getValue(),
                    unit=self._unit(p.getUnits()),
                    source=SOURCE,
                    description=f"{p.getName() or p.getId()} (local to reaction {r.getId()})",
                )
        for item in states:
            sid = item.getId()
            if isinstance(item, libsbml.Species):
                value, unit = self._initial(item), self._species_unit(item)
            else:
                value, unit = item.getValue(), self._unit(item.getUnits())
            if not math.isfinite(value):
                raise ModelError(f"SBML import: {sid!r} has no initial value")
            name = self._name(sid)
            self.symbols[sid] = self.b.state(
                name,
                unit=unit,
                initial=value,
                scale=abs(value) or 1.0,
                description=item.getName() or sid,
                source=SOURCE,
            )
        self._assignment_rules(assigned)
        rates = self._reaction_rates()
        for item in states:
            sid = item.getId()
            if sid in rate_rules:
                rhs = self.math(rate_rules[sid].getMath(), f"the rate rule of {sid!r}")
            else:
                rhs = sp.Add(*rates.get(sid, []))
            self.b.ode(self.names[sid], rhs / self.days)
        for sid, expr in self.outputs.items():
            self.b.output(self._name(sid), expr, unit=self.output_units[sid], description=sid)
        events = self._events(event_targets)
        return ImportedModel(self.b.build(), tuple(events), dict(self.names), self.days)

    # -- pieces ----------------------------------------------------------------------------
    def _parameter(self, sid: str, value: float, unit: str, item) -> None:
        if not math.isfinite(value):
            raise ModelError(f"SBML import: {sid!r} has no value")
        name = self._name(sid)
        self.values[sid] = value
        self.symbols[sid] = self.b.parameter(
            name, value, unit=unit, source=SOURCE, description=item.getName() or sid
        )

    def _species_unit(self, s: libsbml.Species) -> str:
        """The units of the species' value: substance, or substance per compartment size."""
        substance = self._unit(s.getSubstanceUnits() or self.m.getSubstanceUnits())
        size = self.m.getCompartment(s.getCompartment()).getUnits()
        if s.getHasOnlySubstanceUnits() or not size or size == "dimensionless":
            return substance
        per = self._unit(size)
        if per == "au":  # not a dermatwin unit: the concentration's units are not known
            return "au"
        return per if substance in ("dimensionless", "1") else f"{substance}/{per}"

    def _initial(self, s: libsbml.Species) -> float:
        """The species' initial value as its maths refers to it (amount or concentration)."""
        size = self.m.getCompartment(s.getCompartment()).getSize()
        amounts = s.getHasOnlySubstanceUnits()
        if s.isSetInitialAmount():
            return s.getInitialAmount() if amounts else s.getInitialAmount() / size
        if s.isSetInitialConcentration():
            return s.getInitialConcentration() * size if amounts else s.getInitialConcentration()
        return math.nan

    def _reacting(self) -> set[str]:
        out = set()
        for r in self.m.getListOfReactions():
            rid = r.getId()
            if r.isSetFast() and r.getFast():
                raise ModelError(f"SBML import: fast reaction {rid!r} is not supported")
            if not r.isSetKineticLaw():
                raise ModelError(f"SBML import: reaction {rid!r} has no kinetic law")
            for ref in (*r.getListOfReactants(), *r.getListOfProducts()):
                if (self.level < 3 and ref.isSetStoichiometryMath()) or (
                    self.level >= 3 and not ref.getConstant()
                ):
                    raise ModelError(
                        f"SBML import: variable stoichiometry in reaction {rid!r} is not supported"
                    )
                out.add(ref.getSpecies())
        return out

    def _assignment_rules(self, assigned: Mapping[str, libsbml.Rule]) -> None:
        """Substitute assignment rules (in dependency order) and keep them as outputs."""
        self.outputs: dict[str, sp.Expr] = {}
        self.output_units: dict[str, str] = {}
        placeholders = {sid: sp.Symbol(f"_rule_{sid}", real=True) for sid in assigned}
        self.symbols.update(placeholders)  # rules may read each other, in any order
        raw = {
            sid: self.math(rule.getMath(), f"the assignment rule of {sid!r}")
            for sid, rule in assigned.items()
        }
        back = {v: k for k, v in placeholders.items()}
        resolved: dict[str, sp.Expr] = {}
        while raw:
            ready = [
                s
                for s, e in raw.items()
                if all(back[x] in resolved for x in e.free_symbols & set(back))
            ]
            if not ready:
                raise ModelError(f"SBML import: assignment rules of {sorted(raw)} form a cycle")
            subs = {placeholders[k]: v for k, v in resolved.items()}
            for s in ready:
                resolved[s] = raw.pop(s).xreplace(subs)
        for sid in assigned:
            self.symbols[sid] = resolved[sid]
            self.outputs[sid] = resolved[sid]
            item = self.m.getElementBySId(sid)
            self.output_units[sid] = (
                self._species_unit(item)
                if isinstance(item, libsbml.Species)
                else self._unit(item.getUnits() if item is not None else "")
            )

    def _reaction_rates(self) -> dict[str, list[sp.Expr]]:
        """Per species, the terms ``stoichiometry * rate / size`` of its reactions."""
        terms: dict[str, list[sp.Expr]] = {}
        for r in self.m.getListOfReactions():
            law = r.getKineticLaw()
            local = law.getListOfLocalParameters() if self.level >= 3 else law.getListOfParameters()
            symbols = dict(self.symbols)
            for p in local:
                symbols[p.getId()] = sp.Symbol(self.names[f"{r.getId()}_{p.getId()}"], real=True)
            if law.getMath() is None:
                raise ModelError(f"SBML import: reaction {r.getId()!r} has no kinetic law")
            rate = _to_sympy(law.getMath(), symbols, self.time)
            for sign, refs in ((-1, r.getListOfReactants()), (1, r.getListOfProducts())):
                for ref in refs:
                    s = self.m.getSpecies(ref.getSpecies())
                    if not self.b.has_state(self.names.get(s.getId(), "")):
                        continue
                    stoich = ref.getStoichiometry() if ref.isSetStoichiometry() else 1.0
                    term = sign * sp.Float(stoich) * rate
                    if not s.getHasOnlySubstanceUnits():
                        term = term / self.symbols[s.getCompartment()]
                    terms.setdefault(s.getId(), []).append(term)
        return terms

    def _constants(self, changed: set[str]) -> dict[sp.Symbol, float]:
        """Default values of the parameters no event changes (to read event maths)."""
        return {
            sp.Symbol(self.names[sid], real=True): value
            for sid, value in self.values.items()
            if sid not in changed
        }

    def _events(self, targets: set[str]) -> list[Event]:
        events: list[Event] = []
        constants = self._constants(targets)
        for ev in self.m.getListOfEvents():
            eid = ev.getId() or "(no id)"
            if ev.isSetDelay():
                raise ModelError(f"SBML import: the delay of event {eid!r} is not supported")
            if ev.isSetPriority():
                raise ModelError(f"SBML import: the priority of event {eid!r} is not supported")
            trigger = ev.getTrigger()
            cond = self.math(trigger.getMath(), f"the trigger of event {eid!r}").xreplace(constants)
            when = _threshold(cond)
            if when is None:
                raise ModelError(
                    f"SBML import: the trigger of event {eid!r} is not a time threshold "
                    "(time >= T); state-dependent events are not supported"
                )
            initial = trigger.getInitialValue() if self.level >= 3 else True
            strict = isinstance(cond, sp.StrictGreaterThan | sp.StrictLessThan)
            if initial and (when < 0 or (when == 0 and not strict)):
                continue  # true before the start: never a transition, never fires
            for ea in ev.getListOfEventAssignments():
                events.append(self._assignment(ea, max(when, 0.0), constants, eid))
        return sorted(events, key=lambda e: e.time)

    def _assignment(self, ea, time: float, constants, eid: str) -> Event:
        sid = ea.getVariable()
        if sid not in self.names or sid in self.outputs:
            raise ModelError(f"SBML import: event {eid!r} assigns {sid!r}, which a rule defines")
        name = self.names[sid]
        target = sp.Symbol(name, real=True)
        value = self.math(ea.getMath(), f"an assignment of event {eid!r}").xreplace(constants)
        is_state = self.b.has_state(name)
        if not value.free_symbols:
            kind = EventKind.SET_STATE if is_state else EventKind.SET_PARAMETER
            return Event(time, kind, name, float(value))
        step = sp.expand(value - target)
        if is_state and not step.free_symbols:
            return Event(time, EventKind.BOLUS, name, float(step))
        used = ", ".join(sorted(map(str, value.free_symbols)))
        raise ModelError(
            f"SBML import: event {eid!r} sets {sid!r} from {used}; only constants and "
            "x + constant are supported"
        )


def _threshold(cond: sp.Basic) -> float | None:
    """T of a trigger ``time >= T`` (or >, or T <= time), else None."""
    if not isinstance(cond, sp.Rel) or isinstance(cond, sp.Eq | sp.Ne):
        return None
    diff = cond.lhs - cond.rhs
    if isinstance(cond, sp.LessThan | sp.StrictLessThan):
        diff = -diff
    if diff.free_symbols != {_TIME}:
        return None
    slope = sp.diff(diff, _TIME)
    if slope.free_symbols or not slope.is_positive or sp.diff(diff, _TIME, 2) != 0:
        return None
    return float(-diff.subs(_TIME, 0) / slope)
