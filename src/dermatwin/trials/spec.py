"""Virtual trial specifications (YAML), validated with pydantic.

A trial names a disease, the population and its inclusion criteria, arms (each a regimen
from the therapy catalogue and a size, optionally its own withdrawal), the duration and
visits, endpoints, an optional withdrawal phase, an optional rescue rule
(:mod:`dermatwin.trials.rescue`), and measurement noise on the scores. The schema is documented in
``docs/trials.md``; examples live in ``examples/trials/``.

>>> t = TrialSpec.model_validate({"name": "demo", "disease": "AD", "duration": "16 weeks",
...     "arms": {"placebo": {"n": 10, "regimen": [{"drug": "placebo"}]}},
...     "endpoints": ["EASI-75@16w"]})
>>> float(t.visit_times()[-1])
112.0
"""

from __future__ import annotations

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

from dermatwin._base.errors import DermatwinError
from dermatwin._base.times import Days
from dermatwin._base.yaml_files import (
    Number,
    StrictModel,
    Whole,
    check_arm_names,
    one_line,
    read_mapping,
    short,
    validation_message,
    whole_number,
)
from dermatwin.disease.scores import DISEASES
from dermatwin.outcomes.endpoints import Endpoint, EndpointError
from dermatwin.outcomes.endpoints import parse_endpoint as parse_outcome
from dermatwin.params.parameter_set import ParameterSet
from dermatwin.patients.population import PopulationSpec
from dermatwin.patients.profile import DISEASE_SCORES, Disease
from dermatwin.patients.triggers import Triggers
from dermatwin.therapy.items import DrugItem, MSCItem, RegimenItem
from dermatwin.trials.rescue import Rescue

#: the score each disease's trajectories and waterfall are built on (disease registry)
PRIMARY_SCORE = {d: s.primary for d, s in DISEASES.items()}

#: limits on what a trial may ask for (docs/trials.md): the longest trial (104 weeks, as
#: personal twins), patients per arm and in all, seeds (numpy's 32-bit seed range)
MAX_DURATION_DAYS = 728.0
MAX_N_ARM = 10_000_000
MAX_N_TOTAL = 10_000_000
MAX_SEED = 2**32 - 1
#: visits: the smallest spacing (1 hour) and the most visit times
MIN_VISIT_EVERY_DAYS = 1 / 24
MAX_VISITS = 10_000
#: the largest coefficient of variation of measurement noise (assumed generous)
MAX_NOISE_CV = 5.0
MAX_TEXT = 200
MAX_DESCRIPTION = 5_000

Seed = Annotated[Whole, Field(ge=0, le=MAX_SEED)]


class TrialError(DermatwinError):
    """A trial specification is invalid or cannot be run."""


class _Strict(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Withdrawal(_Strict):
    """Stop the arms' therapy at ``at`` and follow relapse to the end of the trial. The
    background (the vehicle/placebo response, emollients) stays on, as protocols keep
    placebo injections and vehicle; ``background: stop`` ends it too (trial-wide only)."""

    at: Days
    background: Literal["keep", "stop"] = "keep"


class Arm(_Strict):
    n: Whole | None = Field(None, ge=1, le=MAX_N_ARM)
    allocation: Number | None = Field(None, gt=0, le=1e6)
    regimen: list[RegimenItem] = Field(default_factory=list, max_length=100)
    #: this arm's own withdrawal: its regimen stops at ``at``; the background stays
    withdrawal: Withdrawal | None = None


class Relapse(_Strict):
    """Relapse after withdrawal: the improvement from baseline falls below ``fraction`` of
    the improvement at withdrawal (default: loss of half the response). ``start``: the
    day relapse is measured from when it is not a withdrawal (e.g. the end of a
    stabilisation phase given in the background); default: the withdrawal, or day 0."""

    fraction: Number = Field(0.5, gt=0, lt=1)
    start: Days | None = None


class Enrol(_Strict):
    """Period 2 by response (randomised withdrawal of responders): only the patients who
    respond at ``at`` (``responders``: ``SCORE-PCT``, improved by at least PCT % from
    baseline, e.g. ``PASI-75``) enter period 2; every endpoint is analysed over them
    (the others are counted in ``excluded``). Each arm's patients run the arm's regimen
    from day 0, so arms that differ only from ``at`` on (e.g. an arm ``withdrawal`` at
    ``at``) are period 1 in common and period 2 as randomised."""

    at: Days
    responders: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*-\d+(\.\d+)?$", max_length=40)

    def score(self) -> tuple[str, float]:
        name, pct = self.responders.rsplit("-", 1)
        return name, float(pct)


class RowRef(_Strict):
    """Where a row of the reference clinical data appears in this trial: an arm's
    endpoint, times ``scale`` (e.g. -1 when the row reports a reduction and the endpoint
    is a % change); ``n`` is the published arm size (for the simulated interval); ``se``
    a published standard error of the row's value (in the row's unit) where the row is a
    pooled estimate rather than one arm (e.g. a meta-analysis' 95 % CI: (high - low) /
    3.92): its likelihood and interval then use it instead of sampling at ``n``."""

    arm: str
    endpoint: str
    scale: Number = 1.0
    n: Whole | None = Field(None, ge=1, le=MAX_N_ARM)
    se: Number | None = Field(None, gt=0)


def parse_endpoint(text: str, disease: str) -> Endpoint:
    """A trial endpoint (grammar and kinds: :mod:`dermatwin.outcomes.endpoints`), e.g.
    ``EASI-75@16w``, ``IGA01@16w``, ``mean_pct_change:EASI@16w``, ``TEWL@12w``,
    ``time_to_relapse`` or ``flares_per_year``; a one-line ValueError otherwise."""
    try:
        return parse_outcome(text, context="trial", disease=disease)
    except EndpointError as err:
        raise ValueError(str(err)) from None


class TrialSpec(_Strict):
    """A virtual clinical trial (limits: see the constants above and docs/trials.md)."""

    name: str = Field(min_length=1, max_length=MAX_TEXT)
    description: str = Field("", max_length=MAX_DESCRIPTION)
    disease: Disease
    population: dict[str, Any] = Field(default_factory=dict)
    seed: Seed = 0
    duration: Days
    visit_every: Days = 7.0
    visits: list[Days] | None = Field(None, max_length=MAX_VISITS)
    n_total: Whole | None = Field(None, ge=1, le=MAX_N_TOTAL)
    arms: dict[str, Arm] = Field(min_length=1, max_length=50)
    #: given to every arm (e.g. the trial's vehicle/placebo response and emollients)
    background: list[RegimenItem] = Field(default_factory=list, max_length=100)
    reference_arm: str | None = None
    #: every arm on the same virtual patients (arm a's patient i is arm b's patient i), and
    #: paired comparisons with the reference arm (docs/trials.md)
    paired: bool = False
    endpoints: list[str] = Field(min_length=1, max_length=100)
    withdrawal: Withdrawal | None = None
    relapse: Relapse = Relapse()
    #: the protocol's rescue rule (dermatwin.trials.rescue), None: no rescue
    rescue: Rescue | None = None
    #: environmental flare triggers of AD patients (dermatwin.patients.triggers), None: none
    triggers: Triggers | None = None
    flare_fraction: Number = Field(
        0.5, gt=0, le=100, description="a flare: the primary score rises above this x baseline"
    )
    noise: dict[str, Number] = Field(default_factory=dict)
    weight_dosing: bool = True
    chunk_size: Whole = Field(250, ge=1, le=MAX_N_ARM)
    #: calibrated parameter set: "default" (shipped), "none" (priors), a name, a path,
    #: or (from Python, e.g. while calibrating) a ParameterSet
    parameter_set: str | ParameterSet = "default"
    #: reference clinical rows (ids of clinical_outcomes.csv) this trial expresses
    reference_rows: dict[str, RowRef] = Field(default_factory=dict)
    #: period 2 by response at a visit (randomised withdrawal designs), None: everybody
    enrol: Enrol | None = None
    #: Kaplan-Meier survival of every time-to-event endpoint at these days (summary)
    survival_at: list[Days] = Field(default_factory=list, max_length=50)
    #: pooled arms: name -> the arms analysed together (summary ``pooled``)
    pooled: dict[str, list[str]] = Field(default_factory=dict, max_length=20)
    #: covariates whose levels get their own per-arm estimates (summary ``subgroups``)
    subgroups: list[Literal["sex", "hla_c0602", "flg_loss", "fitzpatrick"]] = Field(
        default_factory=list, max_length=4
    )

    @field_validator("arms")
    @classmethod
    def _arm_names(cls, arms: dict[str, Arm]) -> dict[str, Arm]:
        check_arm_names(arms)
        return arms

    @model_validator(mode="after")
    def _check(self) -> TrialSpec:
        self._check_times()
        for name, arm in self.arms.items():
            if (arm.n is None) == (self.n_total is None):
                raise ValueError(
                    f"arms.{name}: give n per arm, or n_total with an allocation per arm"
                )
        if self.n_total is None and sum(a.n or 0 for a in self.arms.values()) > MAX_N_TOTAL:
            raise ValueError(f"arms: more than {MAX_N_TOTAL} patients in all; allowed: up to that")
        if self.reference_arm is not None and self.reference_arm not in self.arms:
            raise ValueError(
                f"reference_arm {short(self.reference_arm)} is not an arm; allowed: "
                + ", ".join(self.arms)
            )
        if self.triggers is not None and self.disease != "AD":
            raise ValueError("triggers: flare triggers act on the AD core; allowed: disease AD")
        repeated = [e for i, e in enumerate(self.endpoints) if e in self.endpoints[:i]]
        if repeated:  # its results would be merged into one column silently
            raise ValueError(
                f"endpoints: {short(repeated[0])} is listed twice; give each endpoint once"
            )
        for e in self.endpoints:
            ep = parse_endpoint(e, self.disease)
            if ep.time is not None and not 0 < ep.time <= self.duration:
                raise ValueError(
                    f"endpoint {short(e)}: time must be within the trial (0, duration]"
                )
        allowed = DISEASE_SCORES[self.disease]
        for score, cv in self.noise.items():
            if score not in allowed or not 0 <= cv <= MAX_NOISE_CV:
                label = score if score.isidentifier() else short(score, 20)
                raise ValueError(
                    f"noise.{label}: a coefficient of variation 0-{MAX_NOISE_CV:g} "
                    f"for one of {', '.join(allowed)}"
                )
        for row, ref in self.reference_rows.items():
            if ref.arm not in self.arms:
                raise ValueError(
                    f"reference_rows.{row}.arm: {short(ref.arm)} is not an arm; allowed: "
                    + ", ".join(self.arms)
                )
            if ref.endpoint not in self.endpoints:
                raise ValueError(
                    f"reference_rows.{row}.endpoint: {short(ref.endpoint)} is not an endpoint "
                    "of the trial; allowed: " + ", ".join(self.endpoints)
                )
        self._check_design()
        if "severity" in self.population:
            raise ValueError(
                "population.severity: set from the parameter set's severity section; "
                "allowed: leave it out"
            )
        try:
            self.population_spec()
        except ValidationError as err:
            raise ValueError(f"population.{validation_message(err)}") from None
        self._check_regimens()
        return self

    def _check_design(self) -> None:
        """Enrolment, survival times, pooled arms and subgroups name things the trial has."""
        if self.enrol is not None:
            if not 0 < self.enrol.at < self.duration:
                raise ValueError(
                    f"enrol.at: day {self.enrol.at:g}; allowed: inside the trial "
                    f"(0, {self.duration:g})"
                )
            score, pct = self.enrol.score()
            if score not in DISEASE_SCORES[self.disease] or not 0 < pct <= 100:
                raise ValueError(
                    f"enrol.responders: {short(self.enrol.responders)}; allowed: SCORE-PCT "
                    f"with a {self.disease} score ({', '.join(DISEASE_SCORES[self.disease])}) "
                    "and 0 < PCT <= 100"
                )
        for t in self.survival_at:
            if not 0 < t <= self.duration:
                raise ValueError(
                    f"survival_at: day {t:g}; allowed: within the trial (0, {self.duration:g}]"
                )
        for name, members in self.pooled.items():
            if name in self.arms or not members or len(set(members)) != len(members):
                raise ValueError(
                    f"pooled.{short(name, 40)}: a new name for two or more distinct arms"
                )
            for arm in members:
                if arm not in self.arms:
                    raise ValueError(
                        f"pooled.{short(name, 40)}: {short(arm)} is not an arm; allowed: "
                        + ", ".join(self.arms)
                    )
        if "flg_loss" in self.subgroups and self.disease != "AD":
            raise ValueError(
                "subgroups: flg_loss is an AD covariate; allowed for psoriasis: "
                "sex, hla_c0602, fitzpatrick"
            )
        if "hla_c0602" in self.subgroups and self.disease != "psoriasis":
            raise ValueError(
                "subgroups: hla_c0602 is a psoriasis covariate; allowed for AD: "
                "sex, flg_loss, fitzpatrick"
            )
        if "fitzpatrick" in self.subgroups and self.population.get("skin_types") is None:
            raise ValueError("subgroups: fitzpatrick needs population.skin_types")

    def _check_times(self) -> None:
        """Duration, visits, withdrawal and dose days inside the trial, before any work."""
        if not 0 < self.duration <= MAX_DURATION_DAYS:
            raise ValueError(
                f"duration: {self.duration:g} days; allowed: (0, {MAX_DURATION_DAYS:g}] "
                "days (104 weeks)"
            )
        if not MIN_VISIT_EVERY_DAYS <= self.visit_every <= self.duration:
            raise ValueError(
                f"visit_every: {self.visit_every:g} days; allowed: 1 hour to the duration "
                f"({self.duration:g} days)"
            )
        for t in self.visits or []:
            if not 0 <= t <= self.duration:
                raise ValueError(f"visits: day {t:g} is outside the trial [0, {self.duration:g}]")
        if self.withdrawal and not 0 < self.withdrawal.at < self.duration:
            raise ValueError(f"withdrawal.at must be inside the trial (0, {self.duration:g})")
        for name, arm in self.arms.items():
            if arm.withdrawal is None:
                continue
            if not 0 < arm.withdrawal.at < self.duration:
                raise ValueError(
                    f"arms.{name}.withdrawal.at must be inside the trial (0, {self.duration:g})"
                )
            if arm.withdrawal.background != "keep":
                raise ValueError(
                    f"arms.{name}.withdrawal.background: the background is the trial's; "
                    "allowed: keep (stop it with the trial-wide withdrawal)"
                )
        if self.relapse.start is not None and not 0 <= self.relapse.start < self.duration:
            raise ValueError(
                f"relapse.start: day {self.relapse.start:g}; allowed: [0, {self.duration:g})"
            )
        if self.rescue is not None:
            self._check_rescue(self.rescue)
        for where, item in self.regimen_items():
            if isinstance(item, DrugItem):
                days = [("start", item.start)]
                days += [("stop", item.stop)] if item.stop is not None else []
            else:
                days = [("msc.times", t) for t in item.times()]
            for field_name, t in days:
                if not 0 <= t <= self.duration:
                    raise ValueError(
                        f"{where}.{field_name}: day {t:g} is outside the trial "
                        f"[0, {self.duration:g}]"
                    )

    def _check_rescue(self, rescue: Rescue) -> None:
        score = rescue.condition().score
        if score not in DISEASE_SCORES[self.disease]:
            raise ValueError(
                f"rescue.when: {short(score)} is not a {self.disease} score; allowed: "
                + ", ".join(DISEASE_SCORES[self.disease])
            )
        if not 0 <= rescue.earliest < self.duration:
            raise ValueError(
                f"rescue.earliest: day {rescue.earliest:g}; allowed: [0, {self.duration:g})"
            )
        for i, item in enumerate(rescue.therapy):
            if item.start >= self.duration:
                raise ValueError(
                    f"rescue.therapy[{i}].start: day {item.start:g} after rescue; allowed: "
                    f"below the duration ({self.duration:g} days)"
                )

    def _check_regimens(self) -> None:
        """Every arm's regimen builds (catalogue drugs, doses, units, slots) at a reference
        weight, so a bad regimen fails at load time, not after screening."""
        from dermatwin._base.errors import DermatwinError
        from dermatwin.trials.run import REFERENCE_WEIGHT_KG, items_regimen

        for arm in self.arms:
            try:
                items_regimen(
                    self.regimen_items(arm),
                    horizon_days=self.duration,
                    weight_kg=REFERENCE_WEIGHT_KG,
                ).plan()
            except DermatwinError as err:
                raise ValueError(str(err)) from None
        if self.rescue is not None:
            from dermatwin.trials.run import check_rescue_regimens

            try:
                check_rescue_regimens(self)
            except DermatwinError as err:
                raise ValueError(str(err)) from None

    def regimen_items(self, arm: str | None = None) -> list[tuple[str, DrugItem | MSCItem]]:
        """(place, item) of the background and of one arm's regimen (all arms if None)."""
        items = [(f"background[{i}]", it) for i, it in enumerate(self.background)]
        for name in [arm] if arm is not None else list(self.arms):
            items += [
                (f"arms.{name}.regimen[{i}]", it) for i, it in enumerate(self.arms[name].regimen)
            ]
        return items

    def with_seed(self, seed: Any) -> TrialSpec:
        """This trial with another seed (e.g. ``--seed``), checked like the spec field."""
        try:
            value = whole_number(seed)
        except ValueError:
            value = -1
        if not 0 <= value <= MAX_SEED:
            raise TrialError(f"seed: {short(seed)}; allowed: a whole number 0-{MAX_SEED}")
        return self.model_copy(update={"seed": value})

    def population_spec(self) -> PopulationSpec:
        """The population, with the parameter set's calibrated IGA/PGA edges once the set is
        resolved (inclusion then grades as the trial reports)."""
        data = {"disease": self.disease, **self.population}
        if isinstance(self.parameter_set, ParameterSet) and self.parameter_set.severity():
            data["severity"] = self.parameter_set.severity()
        return PopulationSpec.model_validate(data)

    def arm_sizes(self) -> dict[str, int]:
        if self.n_total is None:
            return {k: int(a.n) for k, a in self.arms.items()}
        weights = np.array([a.allocation or 1.0 for a in self.arms.values()])
        sizes = np.floor(self.n_total * weights / weights.sum()).astype(int)
        sizes[: self.n_total - sizes.sum()] += 1  # hand out the remainder in arm order
        return {k: int(max(s, 1)) for k, s in zip(self.arms, sizes, strict=True)}

    def population_stream(self, arm_index: int) -> int:
        """The random stream of an arm's patients and measurement noise: the arm's own
        (its index), or one stream shared by every arm when ``paired``."""
        return 0 if self.paired else arm_index

    def parsed_endpoints(self) -> list[Endpoint]:
        return [parse_endpoint(e, self.disease) for e in self.endpoints]

    def visit_times(self) -> np.ndarray:
        grid = np.arange(0.0, self.duration + 1e-9, self.visit_every)
        eps = self.parsed_endpoints()
        extra = [t for e in eps for t in (e.time, e.since) if t is not None]
        points = [*grid, self.duration, *(self.visits or []), *extra, *self.survival_at]
        if self.enrol is not None:
            points.append(self.enrol.at)
        if self.withdrawal:
            points.append(self.withdrawal.at)
        points += [a.withdrawal.at for a in self.arms.values() if a.withdrawal is not None]
        if self.relapse.start is not None:  # relapse is measured from a visit on that day
            points.append(self.relapse.start)
        return np.unique(np.round(np.asarray(points, dtype=np.float64), 9))

    def arm_stop(self, arm: str) -> float | None:
        """The day the arm's own therapy stops (its withdrawal, else the trial's), or None."""
        days = [w.at for w in (self.arms[arm].withdrawal, self.withdrawal) if w is not None]
        return min(days) if days else None

    def relapse_start(self, arm: str) -> float:
        """The day relapse is measured from in ``arm``: ``relapse.start``, else the arm's
        withdrawal, else the start of period 2 (``enrol.at``: a maintenance arm of a
        randomised withdrawal), else day 0."""
        if self.relapse.start is not None:
            return self.relapse.start
        stop = self.arm_stop(arm)
        if stop is None and self.enrol is not None:
            return self.enrol.at
        return 0.0 if stop is None else stop

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
