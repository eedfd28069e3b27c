"""Virtual trial specifications (YAML), validated with pydantic.

A trial names a disease, the population and its inclusion criteria, arms (each a regimen
from the therapy catalogue and a size), the duration and visits, endpoints, an optional
withdrawal phase, and measurement noise on the scores. The schema is documented in
``docs/trials.md``; examples live in ``examples/trials/``.

>>> t = TrialSpec.model_validate({"name": "demo", "disease": "AD", "duration": "16 weeks",
...     "arms": {"placebo": {"n": 10, "regimen": [{"drug": "placebo"}]}},
...     "endpoints": ["EASI-75@16w"]})
>>> t.visit_times()[-1]
112.0
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dermatwin.calibration.parameter_set import ParameterSet
from dermatwin.errors import DermatwinError
from dermatwin.io.yaml_files import one_line, read_mapping
from dermatwin.patients.population import PopulationSpec
from dermatwin.patients.profile import DISEASE_SCORES, Disease
from dermatwin.scenario import Days

#: the score each disease's trajectories and waterfall are built on
PRIMARY_SCORE = {"AD": "EASI", "psoriasis": "PASI"}


class TrialError(DermatwinError):
    """A trial specification is invalid or cannot be run."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DrugItem(_Strict):
    """A catalogue drug: labelled dose, unit, route and schedule unless given (``every``:
    one dose every so many days from ``start`` instead of the labelled schedule)."""

    drug: str
    amount: float | None = Field(None, ge=0, allow_inf_nan=False)
    unit: str | None = None
    route: str | None = None
    start: Days = 0.0
    stop: Days | None = None
    schedule: Literal["label", "reactive", "proactive"] = "label"
    every: Days | None = None

    @model_validator(mode="after")
    def _check_every(self) -> DrugItem:
        if self.every is not None and (self.every <= 0 or self.schedule != "label"):
            raise ValueError("every: a dosing interval > 0 days, with schedule: label")
        return self


class MSCItem(_Strict):
    """An MSC course (see :class:`dermatwin.therapy.products.MSCProduct` / ``MSCDose``)."""

    msc: dict[str, Any]


RegimenItem = DrugItem | MSCItem


class Arm(_Strict):
    n: int | None = Field(None, ge=1)
    allocation: float | None = Field(None, gt=0, allow_inf_nan=False)
    regimen: list[RegimenItem] = Field(default_factory=list)


class Withdrawal(_Strict):
    """Stop every treatment at ``at`` and follow relapse to the end of the trial."""

    at: Days


class Relapse(_Strict):
    """Relapse after withdrawal: the improvement from baseline falls below ``fraction`` of
    the improvement at withdrawal (default: loss of half the response)."""

    fraction: float = Field(0.5, gt=0, lt=1)


#: trial-only endpoint forms; the others are the scenario forms of dermatwin.outcomes
_CATEGORY = re.compile(r"^(IGA01|PGA01)@(.+)$")
_PLAIN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)@(.+)$")
_EVENTS = {"time_to_relapse": "time_to_event", "flares_per_year": "rate"}
_FORMS = (
    "SCORE-PCT@TIME (EASI-75@16w), IGA01@TIME, PGA01@TIME, mean:SCORE@TIME, "
    "mean_pct_change:SCORE@TIME, SCORE@TIME, time_to_relapse, flares_per_year"
)


class RowRef(_Strict):
    """Where a row of the reference clinical data appears in this trial: an arm's
    endpoint, times ``scale`` (e.g. -1 when the row reports a reduction and the endpoint
    is a % change); ``n`` is the published arm size (for the simulated interval)."""

    arm: str
    endpoint: str
    scale: float = 1.0
    n: int | None = Field(None, ge=1)


class Endpoint(_Strict):
    text: str
    kind: Literal["responder", "category", "mean", "mean_pct_change", "time_to_event", "rate"]
    variable: str
    time: float | None = None
    threshold: float | None = None

    @property
    def summary_kind(self) -> str:
        """How the statistics layer summarises it: rate, mean or time_to_event."""
        if self.kind in ("responder", "category"):
            return "rate"
        return "time_to_event" if self.kind == "time_to_event" else "mean"


def parse_endpoint(text: str, disease: str, primary: str) -> Endpoint:
    """An endpoint such as ``EASI-75@16w``, ``IGA01@16w``, ``mean_pct_change:EASI@16w``,
    ``TEWL@12w``, ``time_to_relapse`` or ``flares_per_year``."""
    from dermatwin.errors import ScenarioError
    from dermatwin.outcomes import parse_endpoint as parse_scenario_endpoint
    from dermatwin.scenario import parse_days

    text = text.strip()
    if text in _EVENTS:
        return Endpoint(text=text, kind=_EVENTS[text], variable=primary)
    if m := _CATEGORY.match(text):
        var, kind, time, threshold = m.group(1)[:3], "category", parse_days(m.group(2)), None
    elif (m := _PLAIN.match(text)) and ":" not in text:
        var, kind, time, threshold = m.group(1), "mean", parse_days(m.group(2)), None
    else:
        try:
            ep = parse_scenario_endpoint(text)
        except ScenarioError as err:
            message = str(err)
            if "not understood" in message:
                message = f"endpoint {text!r} not understood; allowed forms: {_FORMS}"
            raise ValueError(message) from None
        var, kind, time, threshold = ep.variable, ep.kind, ep.time, ep.threshold
    allowed = DISEASE_SCORES[disease]
    if var not in allowed:
        raise ValueError(
            f"endpoint {text!r}: {var} is not a {disease} score; allowed: {', '.join(allowed)}"
        )
    return Endpoint(text=text, kind=kind, variable=var, time=time, threshold=threshold)


class TrialSpec(_Strict):
    """A virtual clinical trial."""

    name: str
    description: str = ""
    disease: Disease
    population: dict[str, Any] = Field(default_factory=dict)
    seed: int = Field(0, ge=0)
    duration: Days
    visit_every: Days = 7.0
    visits: list[Days] | None = None
    n_total: int | None = Field(None, ge=1)
    arms: dict[str, Arm] = Field(min_length=1)
    #: given to every arm (e.g. the trial's vehicle/placebo response and emollients)
    background: list[RegimenItem] = Field(default_factory=list)
    reference_arm: str | None = None
    endpoints: list[str] = Field(min_length=1)
    withdrawal: Withdrawal | None = None
    relapse: Relapse = Relapse()
    flare_fraction: float = Field(
        0.5, gt=0, description="a flare: the primary score rises above this x baseline"
    )
    noise: dict[str, float] = Field(default_factory=dict)
    weight_dosing: bool = True
    chunk_size: int = Field(250, ge=1)
    #: calibrated parameter set: "default" (shipped), "none" (priors), a name, a path,
    #: or (from Python, e.g. while calibrating) a ParameterSet
    parameter_set: str | ParameterSet = "default"
    #: reference clinical rows (ids of clinical_outcomes.csv) this trial expresses
    reference_rows: dict[str, RowRef] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> TrialSpec:
        if self.duration <= 0:
            raise ValueError("duration must be > 0 days")
        for name, arm in self.arms.items():
            if (arm.n is None) == (self.n_total is None):
                raise ValueError(
                    f"arms.{name}: give n per arm, or n_total with an allocation per arm"
                )
        if self.reference_arm is not None and self.reference_arm not in self.arms:
            raise ValueError(
                f"reference_arm {self.reference_arm!r} is not an arm; allowed: "
                + ", ".join(self.arms)
            )
        for e in self.endpoints:
            ep = parse_endpoint(e, self.disease, PRIMARY_SCORE[self.disease])
            if ep.time is not None and not 0 < ep.time <= self.duration:
                raise ValueError(f"endpoint {e!r}: time must be within the trial (0, duration]")
        if self.withdrawal and not 0 < self.withdrawal.at < self.duration:
            raise ValueError("withdrawal.at must be inside the trial")
        allowed = DISEASE_SCORES[self.disease]
        for score, cv in self.noise.items():
            if score not in allowed or cv < 0:
                raise ValueError(
                    f"noise.{score}: a coefficient of variation >= 0 for one of "
                    + ", ".join(allowed)
                )
        for row, ref in self.reference_rows.items():
            if ref.arm not in self.arms:
                raise ValueError(
                    f"reference_rows.{row}.arm: {ref.arm!r} is not an arm; allowed: "
                    + ", ".join(self.arms)
                )
            if ref.endpoint not in self.endpoints:
                raise ValueError(
                    f"reference_rows.{row}.endpoint: {ref.endpoint!r} is not an endpoint of "
                    "the trial; allowed: " + ", ".join(self.endpoints)
                )
        self.population_spec()
        return self

    def population_spec(self) -> PopulationSpec:
        return PopulationSpec.model_validate({"disease": self.disease, **self.population})

    def arm_sizes(self) -> dict[str, int]:
        if self.n_total is None:
            return {k: int(a.n) for k, a in self.arms.items()}
        weights = np.array([a.allocation or 1.0 for a in self.arms.values()])
        sizes = np.floor(self.n_total * weights / weights.sum()).astype(int)
        sizes[: self.n_total - sizes.sum()] += 1  # hand out the remainder in arm order
        return {k: int(max(s, 1)) for k, s in zip(self.arms, sizes, strict=True)}

    def parsed_endpoints(self) -> list[Endpoint]:
        return [
            parse_endpoint(e, self.disease, PRIMARY_SCORE[self.disease]) for e in self.endpoints
        ]

    def visit_times(self) -> np.ndarray:
        grid = np.arange(0.0, self.duration + 1e-9, self.visit_every)
        extra = [e.time for e in self.parsed_endpoints() if e.time is not None]
        points = [*grid, self.duration, *(self.visits or []), *extra]
        if self.withdrawal:
            points.append(self.withdrawal.at)
        return np.unique(np.round(np.asarray(points, dtype=np.float64), 9))

    def reference(self) -> str:
        if self.reference_arm:
            return self.reference_arm
        return "placebo" if "placebo" in self.arms else next(iter(self.arms))


def load_trial(path: str | Path) -> TrialSpec:
    """A trial from a YAML file; any problem is a one-line :class:`TrialError`."""
    data = read_mapping(path, TrialError, "a trial (name, disease, arms, ...)")
    try:
        return TrialSpec.model_validate(data)
    except ValidationError as err:
        raise TrialError(one_line(err, str(path))) from None
