"""Scenario files: what to simulate, validated with pydantic.

A scenario names a model, the patients (the typical patient or a sampled cohort), one or
more arms (each a list of treatments and events), the horizon, output times and the
endpoints to summarise. Times are numbers of days or strings such as ``"16 weeks"``,
``"3 d"`` or ``"36 h"``. The schema is documented in ``docs/scenarios.md``.

>>> s = Scenario.model_validate({"model": "miyano2021", "horizon": "16 weeks",
...     "arms": {"dupilumab": {"treatments": [{"intervention": "dupilumab"}]}}})
>>> s.horizon, float(s.output_times()[-1])
(112.0, 112.0)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from dermatwin._base.errors import DermatwinError, ScenarioError
from dermatwin._base.times import Days
from dermatwin._base.yaml_files import (
    Number,
    StrictModel,
    Whole,
    check_arm_names,
    field_path,
    message_of,
    read_yaml,
    short,
)
from dermatwin.engine import events as ev
from dermatwin.model.registry import available_models, get_model
from dermatwin.model.spec import Model

Finite = Number
NonNegative = Annotated[Number, Field(ge=0)]

#: limits (docs/scenarios.md): the longest horizon (100 years: skin ageing runs 40), the
#: most output times, event times per event, patients and the seed range
MAX_HORIZON_DAYS = 36_525.0
MAX_OUTPUT_TIMES = 100_000
MAX_EVENT_TIMES = 10_000
MAX_PATIENTS = 10_000_000
MAX_SEED = 2**32 - 1
#: a parameter without a declared range keeps the sign of its default (rates stay >= 0)
#: and stays within this factor of max(|default|, 1) (assumed: generous, but no 1e300)
PARAMETER_SPAN = 1e6


class _Strict(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Patients(_Strict):
    """Who is simulated: ``n`` patients; ``variability: none`` gives n copies of the
    model's typical patient, ``lognormal`` samples the model's parameter priors."""

    n: Whole = Field(1, gt=0, le=MAX_PATIENTS)
    seed: Whole = Field(0, ge=0, le=MAX_SEED)
    variability: Literal["none", "lognormal"] = "none"
    max_output: dict[str, Number] = Field(
        default_factory=dict,
        description="exclude patients whose output exceeds a bound at baseline, e.g. EASI: 72",
    )


class Treatment(_Strict):
    """A named intervention of the model (e.g. ``dupilumab``) from ``start`` to ``stop``."""

    intervention: str
    start: Days = 0.0
    stop: Days | None = None


class EventSpec(_Strict):
    """Low-level events. Exactly one of ``bolus``, ``set_state``, ``set_parameter``,
    ``infusion`` names the target; ``amount``/``value``/``rate`` give the number.

    ``time`` may be a list (one event per time); ``amount``/``value``/``rate`` may then be
    a list of the same length. With ``duration``, ``set_parameter`` is an on/off effect
    (back to the parameter's default after ``duration``) and ``infusion`` runs for it.
    """

    time: Days | Annotated[list[Days], Field(min_length=1, max_length=MAX_EVENT_TIMES)]
    bolus: str | None = None
    set_state: str | None = None
    set_parameter: str | None = None
    infusion: str | None = None
    amount: NonNegative | list[NonNegative] | None = None
    value: Finite | list[Finite] | None = None
    rate: NonNegative | list[NonNegative] | None = None
    duration: Days | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_target(self) -> EventSpec:
        targets = [k for k in _TARGETS if getattr(self, k)]
        if len(targets) != 1:
            raise ValueError("give exactly one of bolus, set_state, set_parameter, infusion")
        number = getattr(self, _TARGETS[targets[0]])
        if number is None:
            raise ValueError(f"{targets[0]} needs {_TARGETS[targets[0]]}")
        if targets[0] == "infusion" and self.duration is None:
            raise ValueError("infusion needs duration")
        if isinstance(number, list) and len(number) != len(self.times()):
            raise ValueError(f"{_TARGETS[targets[0]]}: list length must match time")
        return self

    def times(self) -> list[float]:
        return self.time if isinstance(self.time, list) else [self.time]

    def to_events(self, model: Model) -> list[ev.Event]:
        target_kind = next(k for k in _TARGETS if getattr(self, k))
        target = getattr(self, target_kind)
        number = getattr(self, _TARGETS[target_kind])
        times = self.times()
        numbers = number if isinstance(number, list) else [number] * len(times)
        out: list[ev.Event] = []
        for t, x in zip(times, numbers, strict=True):
            if target_kind == "bolus":
                out.append(ev.bolus(t, target, x))
            elif target_kind == "set_state":
                out.append(ev.Event(t, ev.EventKind.SET_STATE, target, x))
            elif target_kind == "infusion":
                out += ev.infusion(t, self.duration, target, x)
            elif self.duration is None:
                out.append(ev.set_parameter(t, target, x))
            else:
                default = model.parameter(target).value
                out += ev.on_off(t, t + self.duration, target, x, off_value=default)
        return out


_TARGETS = {"bolus": "amount", "set_state": "value", "set_parameter": "value", "infusion": "rate"}


class Arm(_Strict):
    treatments: list[Treatment] = Field(default_factory=list)
    events: list[EventSpec] = Field(default_factory=list)


class Solver(_Strict):
    rtol: Number = Field(1e-6, ge=1e-14, lt=1)
    method: Literal["auto", "dp5", "rodas4"] = "auto"
    max_steps: Whole = Field(200_000, gt=0, le=100_000_000)


class Scenario(_Strict):
    """A simulation scenario (see docs/scenarios.md)."""

    model: str
    description: str = ""
    horizon: Days = Field(gt=0, le=MAX_HORIZON_DAYS)
    output_every: Days | None = Field(None, gt=0)
    times: list[Days] | None = Field(None, min_length=1, max_length=MAX_OUTPUT_TIMES)
    steady_state: bool = True
    patients: Patients = Patients()
    parameters: dict[str, float] = Field(default_factory=dict)
    arms: dict[str, Arm] = Field(default_factory=lambda: {"main": Arm()}, min_length=1)
    outputs: list[str] = Field(default_factory=list)
    endpoints: list[str] = Field(default_factory=list)
    solver: Solver = Solver()

    @field_validator("arms")
    @classmethod
    def _arm_names(cls, arms: dict[str, Arm]) -> dict[str, Arm]:
        check_arm_names(arms)  # they name plot files and titles
        return arms

    @field_validator("model")
    @classmethod
    def _known_model(cls, name: str) -> str:
        if name not in available_models():
            raise ValueError(
                f"unknown model {short(name)}; allowed: {', '.join(available_models())}"
            )
        return name

    @field_validator("parameters", mode="before")
    @classmethod
    def _finite(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        out = {}
        for k, v in values.items():
            try:
                # YAML reads 1e-3 (no dot, no exponent sign) as a string
                number = float(v) if isinstance(v, str | int | float) else math.nan
            except ValueError:
                number = math.nan
            if isinstance(v, bool) or not math.isfinite(number):
                raise ValueError(f"parameter {k} must be a finite number, got {short(v)}")
            out[k] = number
        return out

    @model_validator(mode="after")
    def _times_fit(self) -> Scenario:
        if self.output_every is not None and self.horizon / self.output_every > MAX_OUTPUT_TIMES:
            raise ValueError(
                f"output_every: {self.output_every:g} days gives more than {MAX_OUTPUT_TIMES} "
                f"output times over {self.horizon:g} days; allowed: up to {MAX_OUTPUT_TIMES}"
            )
        for t in self.times or []:
            if not 0 <= t <= self.horizon:
                raise ValueError(f"times: day {t:g} is outside [0, horizon={self.horizon:g}]")
        return self

    def get_model(self) -> Model:
        return get_model(self.model)

    def output_times(self) -> np.ndarray:
        if self.times is not None:
            t = np.unique(np.asarray(self.times, dtype=np.float64))
            if t[0] < 0 or t[-1] > self.horizon:
                raise ScenarioError(f"times: must lie within [0, horizon={self.horizon} days]")
            return t
        step = self.output_every or max(self.horizon / 100, 1e-3)
        grid = np.arange(int(math.floor(self.horizon / step)) + 1) * step
        # drop grid points that only differ from the horizon by rounding, keep the horizon exact
        grid = grid[grid < self.horizon * (1 - 1e-12)]
        return np.append(grid, self.horizon)

    def arm_events(self, model: Model, arm: Arm) -> list[ev.Event]:
        """The arm's treatments and events, checked against the model and the horizon."""
        out: list[ev.Event] = []
        for tr in arm.treatments:
            if not 0 <= tr.start <= self.horizon:
                raise ScenarioError(
                    f"treatments.start: {tr.start} days is outside [0, horizon={self.horizon}]"
                )
            if tr.stop is not None and not tr.start <= tr.stop <= self.horizon:
                raise ScenarioError(
                    f"treatments.stop: {tr.stop} days must lie within "
                    f"[start, horizon={self.horizon}]"
                )
            out += ev.intervention(model, tr.intervention, tr.start, tr.stop)
        for spec in arm.events:
            for e in spec.to_events(model):
                if not 0 <= e.time <= self.horizon:
                    raise ScenarioError(
                        f"events.time: {e.time} days is outside [0, horizon={self.horizon}]"
                    )
                out.append(e)
        return out

    def check_against_model(self) -> Model:
        """Resolve every name in the scenario against its model (raises ScenarioError)."""
        model = self.get_model()
        try:
            for name, value in self.parameters.items():
                check_parameter_value(model, name, value, f"parameters.{name}")
            model.parameter_vector(self.parameters)
            for arm_name, arm in self.arms.items():
                for e in self.arm_events(model, arm):
                    if e.kind == ev.EventKind.SET_PARAMETER:
                        model.parameter_index(e.target)
                        check_parameter_value(
                            model, e.target, e.value, f"arms.{arm_name}.events.set_parameter"
                        )
                    else:
                        model.state_index(e.target)
        except DermatwinError as err:
            raise ScenarioError(str(err)) from None
        known = set(model.state_names) | set(model.output_names)
        for name in [*self.outputs, *self.patients.max_output]:
            if name not in known:
                raise ScenarioError(
                    f"outputs: unknown variable {short(name)}; allowed: {', '.join(sorted(known))}"
                )
        for text in self.endpoints:
            from dermatwin.outcomes import parse_endpoint

            endpoint = parse_endpoint(text)  # one-line errors (bad form, threshold, time)
            if endpoint.variable not in known:
                raise ScenarioError(
                    f"endpoints: {short(text)} uses unknown variable {short(endpoint.variable)}; "
                    f"allowed: {', '.join(sorted(known))}"
                )
            if not 0 < endpoint.time <= self.horizon:
                raise ScenarioError(f"endpoints: {short(text)} is outside the horizon")
        return model


def check_parameter_value(model: Model, name: str, value: float, where: str) -> None:
    """``value`` within the parameter's declared range, or, where a side is open, within
    the sign of its default and :data:`PARAMETER_SPAN` x max(|default|, 1)."""
    par = model.parameter(name)
    span = PARAMETER_SPAN * max(abs(par.value), 1.0)
    low = par.lower if math.isfinite(par.lower) else (0.0 if par.value >= 0 else -span)
    high = par.upper if math.isfinite(par.upper) else (span if par.value >= 0 else 0.0)
    if not (math.isfinite(value) and low <= value <= high):
        raise ScenarioError(
            f"{where}: {name} = {value:g}; allowed: [{low:g}, {high:g}] ({par.unit})"
        )


def _format_validation_error(err: ValidationError) -> str:
    errors = err.errors()
    first = errors[0]
    msg = message_of(first)
    # a union (number or list) reports once per member: count fields, not members
    others = {field_path(e["loc"]) for e in errors} - {field_path(first["loc"])}
    more = f" (+{len(others)} more)" if others else ""
    where = field_path(first["loc"])
    return f"scenario field '{where}': {msg}{more}" if where else f"scenario: {msg}{more}"


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file; errors are one-line ScenarioErrors."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"scenario file not found: {path}")
    raw = read_yaml(path, ScenarioError)
    if not isinstance(raw, dict):
        raise ScenarioError(f"scenario {path.name} must be a YAML mapping with at least 'model'")
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as err:
        raise ScenarioError(_format_validation_error(err)) from None
    scenario.check_against_model()
    return scenario
