"""Export a :class:`~dermatwin.model.spec.Model` (and a dosing schedule) as SBML; import
one with :func:`from_sbml` / :func:`read_sbml` (:mod:`dermatwin.io.sbml_import`).

The document is SBML Level 3 Version 2 without packages, so any SBML tool (libRoadRunner,
COPASI, tellurium, AMICI) can simulate it:

* one species per state, with a ``rateRule`` holding the model's right-hand side (time in
  days). A state counted in amounts (``au``, ``cell``, ``dimensionless``) is a species
  with only substance units in the compartment ``skin`` (size 1, dimensionless); a state
  per area or volume (``cell/mm2``, ``mg/L``) is a concentration species (substance
  units ``cell``, ``mg``) in a compartment of that area or volume and size 1 (``mm2``,
  ``L``), so its value is the state itself either way; a state in other units (a time, an
  area) is a non-constant parameter with the rate rule, since SBML species must be
  amounts or concentrations;
* one parameter per model parameter, ``constant=false`` only for those changed by events;
* one non-constant parameter per output, defined by an ``assignmentRule``;
* for each state that receives a zero-order input (``SET_RATE`` events) a parameter
  ``<state>_input`` (state units/day, initially 0) added to that state's rate rule;
* one SBML event per distinct event time, triggered by ``time >= T``. Events that share a
  time are merged into one SBML event and several changes of the same target are folded
  in order, so the result is the sequential semantics of :mod:`dermatwin.engine.events`
  (a bolus adds to the value before the event).
* one unit definition per distinct unit string (from :func:`dermatwin.model.units.si_factors`)
  and ``timeUnits`` = day. Every number in the maths carries units (``sbml:units``) from
  its place, by :mod:`dermatwin.io.sbml_units`: a term of a sum has the sum's units, an
  operand of a comparison the other operand's, a dose its target's, an event time days,
  and a unit conversion such as Miyano's ``1/7`` (per week to per day) is in
  ``week_per_day``. libSBML's unit-consistency check then reports nothing on
  ``shmarov2022`` and 3 warnings on ``miyano2021`` and ``skin``, all from one equation of
  the published Miyano model (the loss rate of ``p`` adds ``d8``, per week, to a
  dimensionless product whose rate constant the paper fixes at 1 per week); tested in
  ``tests/io/test_sbml.py``, explained in docs/sbml.md.

The SBML simulation starts at time 0, so event times must be >= 0. The dermatwin engine
reports the state *before* the events at an output time equal to an event time; SBML
simulators such as libRoadRunner report the state *after* them, so compare the two only
at output times that differ from event times.

Example
-------
>>> import libsbml
>>> from dermatwin.engine.events import bolus
>>> from dermatwin.model.spec import ModelBuilder
>>> b = ModelBuilder("decay", "first-order loss")
>>> x = b.state("x", unit="cell/mm2", initial=100.0, description="cells")
>>> k = b.parameter("k", 0.5, unit="1/day", source="assumed", description="loss rate")
>>> b.ode(x, -k * x)
>>> _ = b.output("half", x / 2, unit="cell/mm2", description="half of x")
>>> text = to_sbml(b.build(), events=[bolus(2.0, "x", 50.0)])
>>> doc = libsbml.readSBMLFromString(text)  # keep the document alive while using its model
>>> sbml = doc.getModel()
>>> sbml.getNumSpecies(), sbml.getNumParameters(), sbml.getNumRules(), sbml.getNumEvents()
(1, 2, 2, 1)
>>> libsbml.formulaToL3String(sbml.getRateRule("x").getMath())
'-1 dimensionless * k * x'
>>> x = sbml.getSpecies("x")  # cells per mm2: a concentration in a compartment of 1 mm2
>>> x.getSubstanceUnits(), x.getCompartment(), sbml.getParameter("k").getUnits()
('cell', 'unit_mm2', 'per_day')
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path

import libsbml
import numpy as np
import sympy as sp

from dermatwin._base.errors import ModelError
from dermatwin._version import __version__
from dermatwin.engine.events import Event, EventKind

# the reverse direction lives in its own module; one import path for both
from dermatwin.io.sbml_import import ImportedModel, from_sbml, read_sbml
from dermatwin.io.sbml_units import NumberUnits, Units
from dermatwin.model.spec import Model
from dermatwin.model.units import BASE_UNITS, parse_unit, si_factors

__all__ = ["ImportedModel", "from_sbml", "read_sbml", "sbml_name_map", "to_sbml", "write_sbml"]

SBML_LEVEL = 3
SBML_VERSION = 2
COMPARTMENT = "skin"
TIME_UNIT = "day"
RESEARCH_USE = (
    "For research use only. This model is not a medical device and must not be used "
    "to diagnose, treat or make decisions about individual patients."
)

_STATE_KINDS = (EventKind.BOLUS, EventKind.SET_STATE, EventKind.SET_RATE)
_DIMENSIONLESS_TEXT = {"dimensionless", "1"}


# -- identifiers ---------------------------------------------------------------------------
def _is_plain_name(sid: str) -> bool:
    """True if ``sid`` is a valid SId that the L3 formula parser reads as a plain name."""
    if not libsbml.SyntaxChecker.isValidSBMLSId(sid):
        return False
    ast = libsbml.parseL3Formula(sid)
    return ast is not None and ast.getType() == libsbml.AST_NAME


def _unique_sid(name: str, taken: set[str]) -> str:
    sid = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not sid or sid[0].isdigit():
        sid = "x_" + sid
    while not _is_plain_name(sid) or sid in taken:
        sid += "_"
    taken.add(sid)
    return sid


def sbml_name_map(model: Model) -> dict[str, str]:
    """SBML ids (SIds) of the states, parameters and outputs of ``model``, by name.

    Names are kept where they are valid SIds that the SBML formula parser reads as plain
    names; otherwise characters outside ``[A-Za-z0-9_]`` become ``_``, a leading digit gets
    an ``x_`` prefix, and ``_`` is appended until the id is unique and not a reserved word
    (``pi``, ``time``, ``true``, ``avogadro``, ...). Ids are unique across states,
    parameters, outputs and the compartment ``skin``. (An output named like a state or
    parameter, which this map cannot tell apart, is exported as that id plus ``_``.)

    >>> from dermatwin.model.spec import ModelBuilder
    >>> b = ModelBuilder("m", "example")
    >>> x = b.state("time", unit="au", initial=1.0, description="a state called time")
    >>> pi = b.parameter("pi", 2.0, unit="1/day", source="assumed", description="rate")
    >>> b.ode(x, -pi * x)
    >>> sbml_name_map(b.build())
    {'time': 'time_', 'pi': 'pi_'}
    """
    taken = {COMPARTMENT}
    names = [*model.state_names, *model.parameter_names, *model.output_names]
    out: dict[str, str] = {}
    for name in names:
        if name not in out:
            out[name] = _unique_sid(name, taken)
    return out


def _output_sids(model: Model, names: Mapping[str, str]) -> dict[str, str]:
    """Output ids; an output named like a state or parameter gets its own id."""
    taken = {COMPARTMENT, *names.values()}
    own = set(model.state_names) | set(model.parameter_names)
    return {
        o.name: _unique_sid(o.name, taken) if o.name in own else names[o.name]
        for o in model.outputs
    }


def _unit_sid(unit: str) -> str:
    """A readable UnitSId from a unit string: ``mm2/cell/day`` -> ``mm2_per_cell_per_day``."""
    text = unit.replace(" ", "")
    if text in _DIMENSIONLESS_TEXT:
        return "dimensionless"
    text = text.replace("^-", "_neg").replace("^", "").replace("*", "_").replace("/", "_per_")
    if text.startswith("1_per_"):
        text = text[2:]
    sid = re.sub(r"[^A-Za-z0-9_]", "_", text)
    if sid[0].isdigit() or libsbml.UnitKind_forName(sid) != libsbml.UNIT_KIND_INVALID:
        sid = "u_" + sid
    return sid


def _add_unit_definition(model: libsbml.Model, unit: str) -> str:
    """Define ``unit`` in ``model`` (once) and return its id."""
    sid = _unit_sid(unit)
    if sid == "dimensionless" or model.getUnitDefinition(sid) is not None:
        return sid
    udef = model.createUnitDefinition()
    _check(udef.setId(sid), f"unit id {sid}")
    udef.setName(unit)
    factors = si_factors(unit)
    # si_factors drops dimensionless bases; keep a non-unit multiplier such as percent
    factor = math.prod(BASE_UNITS[b][1] ** p for b, p in parse_unit(unit)[0])
    factor /= math.prod(mult**power for _, power, mult in factors)
    if not factors or not math.isclose(factor, 1.0, rel_tol=1e-15):
        factors = [*factors, ("dimensionless", 1, factor)]
    for kind, exponent, multiplier in factors:
        u = udef.createUnit()
        _check(u.setKind(libsbml.UnitKind_forName(kind)), f"unit kind {kind}")
        u.setExponent(float(exponent))
        u.setScale(0)
        u.setMultiplier(float(multiplier))
    return sid


_AMOUNT_KINDS = {"item", "mole", "gram", "kilogram", "avogadro"}
_SIZE_KINDS = {("metre", -2), ("metre", -3), ("litre", -1)}


def _unit_text(factors: Sequence[tuple[str, int]]) -> str:
    return "*".join(b if p == 1 else f"{b}{p}" for b, p in factors)


def _placement(unit: str) -> tuple[str, str] | None:
    """How a state in ``unit`` is exported: (substance units, compartment size units) of a
    species (``""``: an amount in the dimensionless compartment ``skin``), or None for a
    state that is neither an amount nor an amount per area or volume.

    >>> _placement("cell"), _placement("cell/mm2"), _placement("mg/L"), _placement("au")
    (('cell', ''), ('cell', 'mm2'), ('mg', 'L'), ('au', ''))
    >>> _placement("mm2") is None, _placement("1/day") is None
    (True, True)
    """
    factors = parse_unit(unit)[0]

    def amount(part: Sequence[tuple[str, int]]) -> bool:
        si = [(BASE_UNITS[b][0], p) for b, p in part if BASE_UNITS[b][0] != "dimensionless"]
        return not si or (len(si) == 1 and si[0][0] in _AMOUNT_KINDS and si[0][1] == 1)

    if amount(factors):
        return unit, ""
    per = [(b, p) for b, p in factors if (BASE_UNITS[b][0], p) in _SIZE_KINDS]
    rest = [f for f in factors if f not in per]
    if len(per) == 1 and rest and all(p > 0 for _, p in rest) and amount(rest):
        base, power = per[0]
        return _unit_text(rest), _unit_text([(base, -power)])
    return None


# -- formulas ------------------------------------------------------------------------------
def _number(value: float) -> str:
    """A float as an L3 formula that libSBML writes back exactly.

    libSBML writes reals with 15 significant digits. A value that needs more (``1/7``)
    is written as a small fraction when one is exact, else as the exact sum of its
    15-digit rounding and the remainder, so a simulator evaluates the same double.
    """
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "INF" if value > 0 else "(-INF)"
    text = repr(value)
    if float(f"{value:.15g}") != value:
        frac = Fraction(value).limit_denominator(10**6)
        if float(frac) == value and abs(frac.numerator) < 2**31:
            return f"({frac.numerator}/{frac.denominator})"
        hi = float(f"{value:.15g}")
        lo = value - hi  # exact (Sterbenz); its own 15-digit rounding is far below an ulp
        if hi + float(f"{lo:.15g}") == value:
            low = f"{lo:.15g}" if lo >= 0 else f"({lo:.15g})"
            return f"({hi!r} + {low})"
    return f"({text})" if value < 0 else text


_FUNCTIONS: dict[type, str] = {
    sp.exp: "exp",
    sp.log: "ln",
    sp.sin: "sin",
    sp.cos: "cos",
    sp.tan: "tan",
    sp.sinh: "sinh",
    sp.cosh: "cosh",
    sp.tanh: "tanh",
    sp.asin: "arcsin",
    sp.acos: "arccos",
    sp.atan: "arctan",
    sp.Abs: "abs",
    sp.floor: "floor",
    sp.ceiling: "ceiling",
    sp.Min: "min",
    sp.Max: "max",
}

_RELATIONS: dict[type, str] = {
    sp.StrictLessThan: "lt",
    sp.LessThan: "leq",
    sp.StrictGreaterThan: "gt",
    sp.GreaterThan: "geq",
    sp.Equality: "eq",
    sp.Unequality: "neq",
    sp.And: "and",
    sp.Or: "or",
    sp.Not: "not",
    sp.Xor: "xor",
}


def _formula(expr: sp.Basic, names: Mapping[str, str]) -> str:
    """Infix SBML L3 formula of a sympy expression (symbols renamed by ``names``).

    Every compound subexpression is parenthesised; floats keep their full ``repr``;
    the symbol ``t`` (not a model name) is SBML ``time``.
    """

    def f(e: sp.Basic) -> str:
        if e.is_Symbol:
            if e.name in names:
                return names[e.name]
            if e.name == "t":
                return "time"
            raise ModelError(f"SBML export: unknown symbol {e.name!r}")
        if e is sp.true or e is sp.false:
            return "true" if e is sp.true else "false"
        if e.is_Integer:
            return f"({int(e)})" if e < 0 else str(int(e))
        if e.is_Rational:
            return f"({int(e.p)}/{int(e.q)})"
        if e.is_Float:
            return _number(float(e))
        if e is sp.pi:
            return "pi"
        if e is sp.E:
            return "exponentiale"
        if e in (sp.oo, -sp.oo, sp.nan, sp.zoo):
            return _number(float(e)) if e is not sp.zoo else "NaN"
        if e.is_Add:
            return "(" + " + ".join(f(a) for a in e.args) + ")"
        if e.is_Mul:
            num, den = [], []
            for a in e.args:
                if a.is_Pow and a.exp.is_number and a.exp.is_negative:
                    den.append(f(a.base if a.exp == -1 else a.base ** (-a.exp)))
                else:
                    num.append(f(a))
            text = " * ".join(num) if num else "1"
            if den:
                text = f"{text} / ({' * '.join(den)})"
            return f"({text})"
        if e.is_Pow:
            if e.exp == -1:
                return f"(1 / {f(e.base)})"
            return f"pow({f(e.base)}, {f(e.exp)})"
        if isinstance(e, sp.Piecewise):
            parts = []
            for value, cond in e.args:
                parts.append(f(value))
                if cond is not sp.true:
                    parts.append(f(cond))
                else:
                    break
            return f"piecewise({', '.join(parts)})"
        if isinstance(e, sp.Heaviside):
            x = f(e.args[0])
            h0 = f(e.args[1]) if len(e.args) > 1 else "0.5"
            return f"piecewise(0, lt({x}, 0), 1, gt({x}, 0), {h0})"
        if isinstance(e, sp.log) and len(e.args) == 2:
            return f"(ln({f(e.args[0])}) / ln({f(e.args[1])}))"
        for table in (_FUNCTIONS, _RELATIONS):
            for cls, name in table.items():
                if isinstance(e, cls):
                    return f"{name}({', '.join(f(a) for a in e.args)})"
        raise ModelError(f"SBML export: unsupported expression {type(e).__name__}: {e}")

    return f(expr)


def _math(
    text: str,
    settings: libsbml.L3ParserSettings,
    numbers: NumberUnits,
    expected: Units | None = None,
) -> libsbml.ASTNode:
    """The maths of an L3 formula, its numbers given units by ``numbers`` (``expected``:
    the units of the whole)."""
    ast = libsbml.parseL3FormulaWithSettings(text, settings)
    if ast is None:
        raise ModelError(f"SBML export: cannot parse {text!r}: {libsbml.getLastParseL3Error()}")
    numbers.annotate(ast, expected)
    return ast


def _check(code: int, what: str) -> None:
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise ModelError(
            f"SBML export: setting {what} failed: {libsbml.OperationReturnValue_toString(code)}"
        )


def _notes(*paragraphs: str) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f'<body xmlns="http://www.w3.org/1999/xhtml">{body}</body>'


# -- inputs --------------------------------------------------------------------------------
def _parameter_values(model: Model, parameters) -> np.ndarray:
    if parameters is None:
        return model.default_parameters()
    if isinstance(parameters, Mapping):
        return model.parameter_vector(parameters)
    values = np.asarray(parameters, dtype=np.float64)
    if values.shape != (len(model.parameters),):
        raise ModelError(
            f"parameters: expected {len(model.parameters)} values for model {model.name}, "
            f"got shape {values.shape}"
        )
    if not np.isfinite(values).all():
        raise ModelError(f"parameters of model {model.name} must be finite")
    return values


def _initial_values(model: Model, initial_state) -> np.ndarray:
    if initial_state is None:
        return model.default_initial_state()
    values = np.asarray(initial_state, dtype=np.float64)
    if values.shape != (len(model.states),):
        raise ModelError(
            f"initial_state: expected {len(model.states)} values for model {model.name}, "
            f"got shape {values.shape}"
        )
    if not np.isfinite(values).all():
        raise ModelError(f"initial_state of model {model.name} must be finite")
    return values


def _check_events(model: Model, events: Sequence[Event]) -> list[Event]:
    ordered = sorted(events, key=lambda e: e.time)  # stable: same-time order is kept
    for e in ordered:
        try:
            kind = EventKind(e.kind)
        except ValueError:
            allowed = ", ".join(k.name for k in EventKind)
            raise ModelError(f"event kind {e.kind!r} is unknown; allowed: {allowed}") from None
        if not math.isfinite(e.time) or e.time < 0:
            raise ModelError(
                f"event time {e.time} for {e.target} must be finite and >= 0 "
                "(an SBML simulation starts at day 0)"
            )
        if not math.isfinite(e.value):
            raise ModelError(f"event value for {e.target} at day {e.time} must be finite")
        if kind in _STATE_KINDS:
            model.state_index(e.target)
        else:
            model.parameter_index(e.target)
    return ordered


# -- document ------------------------------------------------------------------------------
def to_sbml(
    model: Model,
    *,
    parameters: Mapping[str, float] | np.ndarray | None = None,
    initial_state: np.ndarray | None = None,
    events: Sequence[Event] = (),
) -> str:
    """The SBML Level 3 Version 2 document of ``model`` as a string.

    ``parameters`` is a mapping of overrides of the defaults (checked against the bounds)
    or a full vector in declaration order; ``initial_state`` a full state vector (default:
    the model's initial state); ``events`` a dosing schedule (times in days, >= 0) that
    becomes SBML events. Ids are those of :func:`sbml_name_map`. The document is checked
    with libSBML (unit checks off) and a :class:`~dermatwin.errors.ModelError` is raised
    if it is not valid.

    Simulated with libRoadRunner, select states and outputs by their ids, e.g.
    ``rr.timeCourseSelections = ["time", *sbml_name_map(model).values()]``. An SBML
    simulator reports the state *after* the events at an output time equal to an event
    time, whereas the dermatwin engine reports the state before them: compare the two at
    other times. Numbers in formulas are exact; attribute values (parameter values,
    initial amounts) are written by libSBML with 15 significant digits.
    """
    values = _parameter_values(model, parameters)
    initial = _initial_values(model, initial_state)
    ordered = _check_events(model, events)
    names = sbml_name_map(model)
    out_ids = _output_sids(model, names)
    taken = {COMPARTMENT, *names.values(), *out_ids.values()}

    doc = libsbml.SBMLDocument(SBML_LEVEL, SBML_VERSION)
    m = doc.createModel()
    # the model's own id shares the SId namespace with species, parameters and events
    _check(m.setId(_unique_sid(model.name, taken)), "model id")
    m.setName(model.description)
    refs = ", ".join(model.references) or "none"
    _check(
        m.setNotes(
            _notes(
                model.description,
                f"References (source ids): {refs}.",
                f"Exported by dermatwin {__version__}. Time unit: day.",
                RESEARCH_USE,
            )
        ),
        "model notes",
    )

    # units: time first, then every distinct unit string in declaration order
    day = m.createUnitDefinition()
    day.setId(TIME_UNIT)
    u = day.createUnit()
    u.setKind(libsbml.UNIT_KIND_SECOND)
    u.setExponent(1.0)
    u.setScale(0)
    u.setMultiplier(86400.0)
    _check(m.setTimeUnits(TIME_UNIT), "time units")
    unit_ids: dict[str, str] = {}

    def unit_of(unit: str) -> str:
        if unit not in unit_ids:
            unit_ids[unit] = _add_unit_definition(m, unit)
        return unit_ids[unit]

    compartments: dict[str, str] = {}  # size unit ("": none) -> compartment id

    def compartment_of(size: str) -> str:
        if size not in compartments:
            c = m.createCompartment()
            c.setConstant(True)
            c.setSize(1.0)
            if not size:
                c.setId(COMPARTMENT)
                c.setName("skin (states counted in amounts: arbitrary units, cells)")
                c.setUnits("dimensionless")
            else:
                sid = _unique_sid(f"unit_{_unit_sid(size)}", taken)
                _check(c.setId(sid), f"compartment {size}")
                dims = 2 if len(si_factors(size)) == 1 and si_factors(size)[0][1] == 2 else 3
                what = "area" if dims == 2 else "volume"
                c.setName(f"one {size} ({what}: states per {size} are amounts in it)")
                c.setSpatialDimensions(float(dims))
                _check(c.setUnits(unit_of(size)), f"units of compartment {size}")
            compartments[size] = c.getId()
        return compartments[size]

    # which targets change during the simulation
    rate_states = list(dict.fromkeys(e.target for e in ordered if e.kind == EventKind.SET_RATE))
    switched = {e.target for e in ordered if e.kind == EventKind.SET_PARAMETER}
    input_ids: dict[str, str] = {s: _unique_sid(f"{names[s]}_input", taken) for s in rate_states}

    settings = libsbml.L3ParserSettings()
    settings.setModel(m)
    settings.setParseLog(libsbml.L3P_PARSE_LOG_AS_LN)

    for state, x0 in zip(model.states, initial, strict=True):
        placed = _placement(state.unit)
        notes = _notes(f"unit: {state.unit}; source: {state.source}")
        if placed is None:  # not an amount or a concentration: a parameter with a rate rule
            p = m.createParameter()
            _check(p.setId(names[state.name]), f"parameter id {state.name}")
            p.setName(state.description)
            p.setValue(float(x0))
            p.setConstant(False)
            _check(p.setUnits(unit_of(state.unit)), f"units of {state.name}")
            p.setNotes(notes)
            continue
        substance, size = placed
        sp_ = m.createSpecies()
        _check(sp_.setId(names[state.name]), f"species id {state.name}")
        sp_.setName(state.description)
        sp_.setCompartment(compartment_of(size))
        # the compartment has size 1: the concentration equals the amount
        if size:
            sp_.setInitialConcentration(float(x0))
        else:
            sp_.setInitialAmount(float(x0))
        sp_.setHasOnlySubstanceUnits(not size)
        sp_.setBoundaryCondition(False)
        sp_.setConstant(False)
        _check(sp_.setSubstanceUnits(unit_of(substance)), f"units of {state.name}")
        sp_.setNotes(notes)

    for par, value in zip(model.parameters, values, strict=True):
        p = m.createParameter()
        _check(p.setId(names[par.name]), f"parameter id {par.name}")
        p.setName(par.description)
        p.setValue(float(value))
        p.setConstant(par.name not in switched)
        _check(p.setUnits(unit_of(par.unit)), f"units of {par.name}")
        p.setNotes(_notes(f"unit: {par.unit}; source: {par.source}"))

    for state_name, sid in input_ids.items():
        state = model.states[model.state_index(state_name)]
        p = m.createParameter()
        p.setId(sid)
        p.setName(f"zero-order input into {state_name} (set by events)")
        p.setValue(0.0)
        p.setConstant(False)
        _check(p.setUnits(unit_of(f"{state.unit}/day")), f"units of {sid}")

    for out in model.outputs:
        p = m.createParameter()
        _check(p.setId(out_ids[out.name]), f"output id {out.name}")
        p.setName(out.description)
        p.setConstant(False)
        _check(p.setUnits(unit_of(out.unit)), f"units of {out.name}")

    symbol_units = {names[s.name]: unit_of(s.unit) for s in model.states}
    symbol_units |= {names[p.name]: unit_of(p.unit) for p in model.parameters}
    symbol_units |= {out_ids[o.name]: unit_of(o.unit) for o in model.outputs}
    for state_name, sid in input_ids.items():
        symbol_units[sid] = unit_of(f"{model.states[model.state_index(state_name)].unit}/day")
    numbers = NumberUnits(m, symbol_units)

    def per_day(unit: str) -> Units:
        return numbers.named(unit_of(unit)).times(numbers.named(TIME_UNIT), -1.0)

    for state, rhs in zip(model.states, model.rhs, strict=True):
        text = _formula(rhs, names)
        if state.name in input_ids:
            text = f"{text} + {input_ids[state.name]}"
        rule = m.createRateRule()
        rule.setVariable(names[state.name])
        math_ = _math(text, settings, numbers, per_day(state.unit))
        _check(rule.setMath(math_), f"rate rule of {state.name}")

    for out in model.outputs:
        rule = m.createAssignmentRule()
        rule.setVariable(out_ids[out.name])
        math_ = _math(
            _formula(out.expression, names),
            settings,
            numbers,
            numbers.named(symbol_units[out_ids[out.name]]),
        )
        _check(rule.setMath(math_), out.name)

    _add_events(m, ordered, names, input_ids, numbers, taken, settings)
    _validate(doc)
    return libsbml.writeSBMLToString(doc)


def _add_events(
    m: libsbml.Model,
    ordered: list[Event],
    names: Mapping[str, str],
    input_ids: Mapping[str, str],
    numbers: NumberUnits,
    taken: set[str],
    settings: libsbml.L3ParserSettings,
) -> None:
    """One SBML event per distinct time; same-target changes folded in the given order.
    A dose has its target's units, an event time is in days."""
    groups: dict[float, list[Event]] = {}
    for e in ordered:
        groups.setdefault(float(e.time), []).append(e)
    for i, (time, group) in enumerate(groups.items()):
        folded: dict[str, str] = {}  # target id -> formula of its new value
        for e in group:
            kind = EventKind(e.kind)
            target = input_ids[e.target] if kind == EventKind.SET_RATE else names[e.target]
            if kind == EventKind.BOLUS:
                folded[target] = f"{folded.get(target, target)} + {_number(e.value)}"
            else:
                folded[target] = _number(e.value)
        ev = m.createEvent()
        _check(ev.setId(_unique_sid(f"event_{i}", taken)), "event id")
        ev.setName(f"day {time!r}")
        ev.setUseValuesFromTriggerTime(True)
        trigger = ev.createTrigger()
        trigger.setInitialValue(False)
        trigger.setPersistent(True)
        trigger_math = _math(f"time >= {_number(time)}", settings, numbers)
        _check(trigger.setMath(trigger_math), "trigger")
        for target, text in folded.items():
            assignment = ev.createEventAssignment()
            assignment.setVariable(target)
            math_ = _math(text, settings, numbers, numbers.named(numbers.symbol_units[target]))
            _check(assignment.setMath(math_), f"event assignment of {target}")


def _validate(doc: libsbml.SBMLDocument) -> None:
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_MODELING_PRACTICE, False)
    doc.checkConsistency()
    errors = [
        doc.getError(i)
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    if errors:
        text = "; ".join(f"{e.getErrorId()}: {e.getShortMessage()}" for e in errors[:5])
        raise ModelError(f"SBML export produced an invalid document ({len(errors)} errors): {text}")


def write_sbml(model: Model, path: str | Path, **kw) -> Path:
    """Write :func:`to_sbml` of ``model`` to ``path`` (UTF-8) and return the path.

    Keyword arguments (``parameters``, ``initial_state``, ``events``) go to :func:`to_sbml`.
    """
    path = Path(path)
    path.write_text(to_sbml(model, **kw), encoding="utf-8")
    return path
