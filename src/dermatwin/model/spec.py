"""Declaring a model once: states, parameters, outputs and one right-hand side.

A :class:`Model` is the single source of truth for a set of ODEs. The compiled kernel
(:mod:`dermatwin.engine.codegen`), the SBML export (:mod:`dermatwin.io.sbml`) and the
generated documentation tables (:mod:`dermatwin.docs`) are all derived from it; no
equation is written twice.

Time is in days everywhere inside a model. A published model whose rates are per week
keeps its published parameter values (unit ``1/week``) and divides its right-hand side
by 7 days/week, so the parameters stay comparable with the paper.

Example
-------
>>> from dermatwin.model.spec import ModelBuilder
>>> b = ModelBuilder("decay", "first-order loss")
>>> x = b.state("x", unit="cell/mm2", initial=100.0, description="cells")
>>> k = b.parameter("k", 0.5, unit="1/day", source="assumed", description="loss rate")
>>> b.ode(x, -k * x)
>>> _ = b.output("half", x / 2, unit="cell/mm2", description="half of x")
>>> model = b.build()
>>> model.state_names, model.parameter_names
(('x',), ('k',))
"""

from __future__ import annotations

import difflib
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType

import numpy as np
import sympy as sp

from dermatwin._base.display import html_table, names, one_line
from dermatwin._base.errors import ModelError
from dermatwin.model.units import parse_unit


@dataclass(frozen=True)
class State:
    """One state variable.

    ``initial`` is the default initial value; ``scale`` is a typical magnitude used to set
    the absolute tolerance (atol = rtol * scale by default).
    """

    name: str
    unit: str
    description: str
    initial: float
    scale: float
    source: str = "assumed"


@dataclass(frozen=True)
class Parameter:
    """One model parameter with its unit, provenance and allowed range.

    ``source`` is a source id from ``shared/reference`` (e.g. ``MIYANO2021``) or the word
    ``assumed`` followed by a reason. ``lognormal`` holds (mu, sigma) of ln(value) when the
    parameter varies between virtual patients.
    """

    name: str
    value: float
    unit: str
    description: str
    source: str
    lower: float = -math.inf
    upper: float = math.inf
    lognormal: tuple[float, float] | None = None


@dataclass(frozen=True)
class Output:
    """A derived quantity (observable) computed from states and parameters."""

    name: str
    unit: str
    description: str
    expression: sp.Expr


@dataclass(frozen=True)
class Intervention:
    """A named set of parameter values switched on by a treatment (e.g. a drug's block)."""

    name: str
    parameters: Mapping[str, float]
    description: str
    source: str


@dataclass(frozen=True, eq=False)
class Model:
    """An ODE model in days. Build one with :class:`ModelBuilder`."""

    name: str
    description: str
    states: tuple[State, ...]
    parameters: tuple[Parameter, ...]
    rhs: tuple[sp.Expr, ...]
    outputs: tuple[Output, ...]
    interventions: Mapping[str, Intervention] = field(default_factory=dict)
    references: tuple[str, ...] = ()
    display_time_unit: str = "day"
    equilibration_days: float = 7000.0

    # -- display (the dataclass repr printed every equation: kilobytes) ----------------
    def __repr__(self) -> str:
        return one_line(
            "Model",
            self.name,
            [
                ("states", len(self.states)),
                ("parameters", len(self.parameters)),
                ("outputs", names(self.output_names, 4)),
            ],
        )

    def _repr_html_(self) -> str:
        return html_table(
            f"Model {self.name}",
            [
                ("description", self.description),
                ("states", f"{len(self.states)}: {names(self.state_names, 8)}"),
                ("parameters", f"{len(self.parameters)}: {names(self.parameter_names, 8)}"),
                ("outputs", f"{len(self.outputs)}: {names(self.output_names, 8)}"),
                ("interventions", names(sorted(self.interventions), 8) or "-"),
                ("sources", names(list(self.references), 8) or "-"),
            ],
        )

    # -- names and default values -------------------------------------------------------
    @cached_property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)

    @cached_property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @cached_property
    def output_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)

    @cached_property
    def state_symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(sp.Symbol(n, real=True) for n in self.state_names)

    @cached_property
    def parameter_symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(sp.Symbol(n, real=True) for n in self.parameter_names)

    def state_index(self, name: str) -> int:
        try:
            return self.state_names.index(name)
        except ValueError:
            raise ModelError(
                f"unknown state {name!r} of model {self.name}; "
                + _allowed(name, self.state_names, self.name)
            ) from None

    def parameter_index(self, name: str) -> int:
        try:
            return self.parameter_names.index(name)
        except ValueError:
            raise ModelError(
                f"unknown parameter {name!r} of model {self.name}; "
                + _allowed(name, self.parameter_names, self.name)
            ) from None

    def parameter(self, name: str) -> Parameter:
        return self.parameters[self.parameter_index(name)]

    def default_parameters(self) -> np.ndarray:
        """Parameter vector (in declaration order) of the published/typical values."""
        return np.array([p.value for p in self.parameters], dtype=np.float64)

    def default_initial_state(self) -> np.ndarray:
        return np.array([s.initial for s in self.states], dtype=np.float64)

    def state_scales(self) -> np.ndarray:
        return np.array([s.scale for s in self.states], dtype=np.float64)

    def intervention(self, name: str) -> Intervention:
        try:
            return self.interventions[name]
        except KeyError:
            allowed = ", ".join(sorted(self.interventions)) or "none"
            raise ModelError(
                f"unknown intervention {name!r} for model {self.name}; allowed: {allowed}"
            ) from None

    def parameter_vector(self, overrides: Mapping[str, float] | None = None) -> np.ndarray:
        """Default parameters with some values replaced, checked against their bounds."""
        values = self.default_parameters()
        for name, value in (overrides or {}).items():
            par = self.parameter(name)
            value = float(value)
            if not math.isfinite(value) or not par.lower <= value <= par.upper:
                raise ModelError(
                    f"parameter {name}={value} of model {self.name} is outside its allowed "
                    f"range [{par.lower}, {par.upper}] ({par.unit})"
                )
            values[self.parameter_index(name)] = value
        return values

    # -- identity and compiled kernel ----------------------------------------------------
    @cached_property
    def structure_hash(self) -> str:
        """Hash of the equations and names (not the default values)."""
        text = "|".join(
            [
                self.name,
                ",".join(self.state_names),
                ",".join(self.parameter_names),
                ";".join(sp.srepr(e) for e in self.rhs),
                ";".join(f"{o.name}={sp.srepr(o.expression)}" for o in self.outputs),
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @cached_property
    def content_hash(self) -> str:
        """Hash of equations and every default value: identifies results exactly."""
        values = ",".join(repr(float(v)) for v in self.default_parameters())
        inits = ",".join(repr(float(v)) for v in self.default_initial_state())
        text = f"{self.structure_hash}|{values}|{inits}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def with_defaults(self, **values: float) -> Model:
        """A copy whose default parameter values are replaced (equations unchanged)."""
        self.parameter_vector(values)  # validates names and ranges
        params = tuple(
            replace(p, value=float(values[p.name])) if p.name in values else p
            for p in self.parameters
        )
        copy = replace(self, parameters=params)
        # the equations are the same: hand the structure hash on (sympy's srepr of every
        # equation costs about a second per copy, and every calibration run makes one)
        copy.__dict__["structure_hash"] = self.structure_hash
        return copy


class ModelBuilder:
    """Collects states, parameters, equations and outputs, then builds a :class:`Model`.

    ``ModelBuilder.extend(model)`` starts from an existing model so a variant (extra PK
    states, a parameter replaced by an expression) is built from the same equations.
    """

    def __init__(
        self,
        name: str,
        description: str,
        *,
        references: tuple[str, ...] = (),
        display_time_unit: str = "day",
        equilibration_days: float = 7000.0,
    ):
        self.name = name
        self.description = description
        self.references = references
        self.display_time_unit = display_time_unit
        self.equilibration_days = equilibration_days
        self._states: dict[str, State] = {}
        self._parameters: dict[str, Parameter] = {}
        self._rhs: dict[str, sp.Expr] = {}
        self._substitutions: list[Mapping[sp.Symbol, sp.Expr]] = []
        self._outputs: dict[str, Output] = {}
        self._interventions: dict[str, Intervention] = {}
        self._signals: dict[str, list[sp.Expr]] = {}

    @classmethod
    def extend(cls, model: Model, name: str, description: str) -> ModelBuilder:
        b = cls(
            name,
            description,
            references=model.references,
            display_time_unit=model.display_time_unit,
            equilibration_days=model.equilibration_days,
        )
        b._states = {s.name: s for s in model.states}
        b._parameters = {p.name: p for p in model.parameters}
        b._rhs = dict(zip(model.state_names, model.rhs, strict=True))
        b._outputs = {o.name: o for o in model.outputs}
        b._interventions = dict(model.interventions)
        return b

    @staticmethod
    def symbol(name: str) -> sp.Symbol:
        return sp.Symbol(name, real=True)

    def _check_new(self, name: str) -> None:
        if not name.isidentifier():
            raise ModelError(f"name {name!r} is not a valid identifier")
        if name in self._states or name in self._parameters:
            raise ModelError(f"name {name!r} is declared twice in model {self.name}")

    def state(
        self,
        name: str,
        *,
        unit: str,
        initial: float,
        description: str,
        scale: float | None = None,
        source: str = "assumed",
    ) -> sp.Symbol:
        self._check_new(name)
        parse_unit(unit)
        scale = float(scale if scale is not None else max(abs(initial), 1.0))
        self._states[name] = State(name, unit, description, float(initial), scale, source)
        return self.symbol(name)

    def parameter(
        self,
        name: str,
        value: float,
        *,
        unit: str,
        source: str,
        description: str,
        lower: float = -math.inf,
        upper: float = math.inf,
        lognormal: tuple[float, float] | None = None,
    ) -> sp.Symbol:
        self._check_new(name)
        parse_unit(unit)
        if not source:
            raise ModelError(f"parameter {name} needs a source id or 'assumed: reason'")
        self._parameters[name] = Parameter(
            name, float(value), unit, description, source, lower, upper, lognormal
        )
        return self.symbol(name)

    def ode(self, state: sp.Symbol | str, expression: sp.Expr) -> None:
        name = str(state)
        if name not in self._states:
            raise ModelError(f"ode() for undeclared state {name!r}")
        self._rhs[name] = sp.sympify(expression)

    def add_to_ode(self, state: sp.Symbol | str, term: sp.Expr) -> None:
        self._rhs[str(state)] = self._rhs[str(state)] + term

    def merge(self, model: Model, rename: Mapping[str, str] | None = None) -> None:
        """Add every state, parameter, equation, output and intervention of ``model``.

        ``rename`` maps names of ``model`` to new names (to resolve clashes); equations and
        outputs are rewritten accordingly, so the merged copy is the same model.
        """
        rename = dict(rename or {})
        mapping = {self.symbol(old): self.symbol(new) for old, new in rename.items()}
        for st in model.states:
            name = rename.get(st.name, st.name)
            self._check_new(name)
            self._states[name] = replace(st, name=name)
        for par in model.parameters:
            name = rename.get(par.name, par.name)
            self._check_new(name)
            self._parameters[name] = replace(par, name=name)
        for st, rhs in zip(model.states, model.rhs, strict=True):
            self._rhs[rename.get(st.name, st.name)] = rhs.xreplace(mapping)
        for out in model.outputs:
            name = rename.get(out.name, out.name)
            if name in self._outputs:
                raise ModelError(f"output {name!r} is declared twice in model {self.name}")
            self._outputs[name] = replace(
                out, name=name, expression=out.expression.xreplace(mapping)
            )
        for iv in model.interventions.values():
            params = {rename.get(k, k): v for k, v in iv.parameters.items()}
            self._interventions[iv.name] = replace(iv, parameters=MappingProxyType(params))
        self.references = tuple(dict.fromkeys((*self.references, *model.references)))

    def signal(self, name: str) -> sp.Symbol:
        """A placeholder for a coupling signal (e.g. ``msc_secretome``) that other modules
        may feed with :meth:`add_signal`; at :meth:`build` it becomes the sum of what was
        fed, or 0 when nothing was, so a model without the feeding module is unchanged."""
        self._signals.setdefault(name, [])
        return sp.Symbol(f"_signal_{name}", real=True)

    def add_signal(self, name: str, expression: sp.Expr) -> None:
        self._signals.setdefault(name, []).append(sp.sympify(expression))

    def scale_parameter(self, name: str, factor: sp.Expr) -> None:
        """Multiply every use of parameter ``name`` by ``factor`` (a coupling: e.g. the
        Th1 differentiation rate k5 becomes k5 * suppression). With factor 1 the
        equations are unchanged."""
        if name not in self._parameters:
            raise ModelError(f"scale_parameter: unknown parameter {name!r}")
        sym = self.symbol(name)
        self.substitute({sym: sym * factor})

    def substitute(self, mapping: Mapping[sp.Symbol, sp.Expr]) -> None:
        """Replace symbols by expressions in every equation and output declared so far
        (later ones can opt in with :meth:`substituted`)."""
        self._substitutions.append(dict(mapping))
        self._rhs = {k: v.subs(mapping) for k, v in self._rhs.items()}
        self._outputs = {
            k: replace(o, expression=o.expression.subs(mapping)) for k, o in self._outputs.items()
        }

    def substituted(self, expression: sp.Expr) -> sp.Expr:
        """``expression`` with every substitution made so far applied, in order: for a
        module built after e.g. the drug module that reads a symbol it replaced (the AD
        cytokine blocks ``e_*``). Apply it to raw expressions only, not to ones taken from
        :meth:`output_expression` (those are substituted already). Only this builder's own
        substitutions are known: a builder made by :meth:`extend` starts from equations in
        which earlier ones are already applied, and signals (:meth:`add_signal`) are never
        substituted."""
        for mapping in self._substitutions:
            expression = sp.sympify(expression).subs(mapping)
        return expression

    def names(self) -> tuple[list[str], list[str], list[str]]:
        """States, parameters and outputs declared so far (declaration order)."""
        return list(self._states), list(self._parameters), list(self._outputs)

    def has_state(self, name: str) -> bool:
        return name in self._states

    def rhs_of(self, state: str) -> sp.Expr:
        """The right-hand side of ``state`` declared so far."""
        return self._rhs[state]

    def output_expression(self, name: str) -> sp.Expr:
        """The expression of an output declared so far (to build another output on it)."""
        if name not in self._outputs:
            raise ModelError(f"output_expression: unknown output {name!r}")
        return self._outputs[name].expression

    def output(self, name: str, expression: sp.Expr, *, unit: str, description: str) -> sp.Expr:
        parse_unit(unit)
        self._outputs[name] = Output(name, unit, description, sp.sympify(expression))
        return expression

    def intervention(
        self, name: str, parameters: Mapping[str, float], *, description: str, source: str
    ) -> None:
        self._interventions[name] = Intervention(
            name, MappingProxyType(dict(parameters)), description, source
        )

    def build(self) -> Model:
        if self._signals:
            resolved = {
                sp.Symbol(f"_signal_{name}", real=True): sp.Add(*terms) if terms else sp.S.Zero
                for name, terms in self._signals.items()
            }
            # signals may feed on other signals: resolve until none is left
            for _ in range(len(resolved) + 1):
                self._rhs = {k: v.xreplace(resolved) for k, v in self._rhs.items()}
                self._outputs = {
                    k: replace(o, expression=o.expression.xreplace(resolved))
                    for k, o in self._outputs.items()
                }
                resolved = {k: v.xreplace(resolved) for k, v in resolved.items()}
            self._signals = {}
        missing = [n for n in self._states if n not in self._rhs]
        if missing:
            raise ModelError(f"model {self.name}: no equation for states {missing}")
        known = {self.symbol(n) for n in (*self._states, *self._parameters)}
        known.add(self.symbol("t"))
        for label, expr in [
            *self._rhs.items(),
            *((o.name, o.expression) for o in self._outputs.values()),
        ]:
            unknown = expr.free_symbols - known
            if unknown:
                raise ModelError(
                    f"model {self.name}: {label} uses undeclared symbols "
                    + ", ".join(sorted(map(str, unknown)))
                )
        for iv in self._interventions.values():
            for pname in iv.parameters:
                if pname not in self._parameters:
                    raise ModelError(f"intervention {iv.name} sets unknown parameter {pname}")
        return Model(
            name=self.name,
            description=self.description,
            states=tuple(self._states.values()),
            parameters=tuple(self._parameters.values()),
            rhs=tuple(self._rhs[n] for n in self._states),
            outputs=tuple(self._outputs.values()),
            interventions=MappingProxyType(dict(self._interventions)),
            references=self.references,
            display_time_unit=self.display_time_unit,
            equilibration_days=self.equilibration_days,
        )


def _allowed(name: str, names: Sequence[str], model: str) -> str:
    """The allowed names, or for a long list the closest few (a message stays one short
    line: the skin model has hundreds of parameters)."""
    if len(names) <= 20:
        return "allowed: " + ", ".join(names)
    close = difflib.get_close_matches(str(name), names, n=5, cutoff=0.5)
    hint = f"closest: {', '.join(close)}; " if close else ""
    return f"{hint}{len(names)} names in all (docs/models/{model}.md)"
