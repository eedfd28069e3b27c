"""Virtual trials in wounds (diabetic foot ulcers, burns): spec, population, run.

A wound trial (``condition: diabetic_foot_ulcer`` or ``burn``) has arms of standard care
with or without MSC on the wound bed (a topical sheet or an injection), patients with the
covariates that make ulcers chronic (ulcer area, HbA1c, perfusion as ABI, infection;
:class:`WoundPopulation`), and endpoints ``closure@TIME`` (complete closure by TIME),
``time_to_closure`` (Kaplan-Meier) and ``mean_pct_change:wound_area@TIME`` (% area
change; an area reduction is its negative). The healing is
:mod:`dermatwin.model.wound_healing`. A burn trial gives the burn (``burn:`` depth, site
area, TBSA; :mod:`dermatwin.model.burns`): closure is re-epithelialisation, and
``mean:hts_risk@TIME`` the mean hypertrophic-scar risk from the time to heal (TIME must
be the trial's duration: a site's risk follows the day it heals, known at the end; a
site still open then counts as healing after it). Every arm
holds the same virtual patients (paired by design: the effect of the cells is read on
the same patients), drawn from the trial seed; results are bit-identical for a seed.

Example files live in ``examples/trials/wounds/`` (a folder of their own: they are not
skin-model trials)::

    spec = load_wound_trial("examples/trials/wounds/moon2019_alloasc_sheet_dfu.yaml")
    result = run_wound_trial(spec)
    result.summary["arms"]["asc_sheet"]["closure@12w"]["estimate"]
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator

from dermatwin._base.errors import DermatwinError
from dermatwin._base.times import parse_days
from dermatwin._base.yaml_files import Number, StrictModel, Whole, one_line, read_mapping
from dermatwin.model.burns import (
    BURN_OVERRIDES,
    NORMAL_HBA1C,
    area_to_close,
    hts_risk,
    inflammation_scale,
)
from dermatwin.model.wound_healing import MSCApplication, WoundPatients, heal
from dermatwin.outcomes.endpoints import WOUND_AREA, Endpoint, parse_endpoint
from dermatwin.therapy.products import MSCProduct, growth_factor_potency, msc_parameters
from dermatwin.trials.statistics import summarise

CONDITIONS = ("diabetic_foot_ulcer", "burn")
#: the hypertrophic-scar risk variable of burn trials (``mean:hts_risk@TIME``)
HTS_RISK = "hts_risk"
#: days between wound assessments (weekly, as in DFU trials)
VISIT_DAYS = 7.0


class WoundTrialError(DermatwinError):
    """A wound trial file or value is invalid (one line naming the field)."""


class WoundPopulation(StrictModel):
    """Covariate distributions of the enrolled ulcers. Defaults are assumed, typical of
    DFU trials (Wagner 1-2 ulcers of 1-25 cm2, HbA1c up to 15 %, ABI >= 0.7, no
    infection at entry; the Moon 2019 rows do not give the distributions)."""

    area_median_cm2: Number = Field(3.0, gt=0.0)
    area_sd_log: Number = Field(0.7, ge=0.0)
    area_range_cm2: tuple[Number, Number] = (1.0, 25.0)
    hba1c_mean: Number = Field(8.0, ge=4.0, le=18.0)
    hba1c_sd: Number = Field(1.5, ge=0.0)
    hba1c_range: tuple[Number, Number] = (5.5, 15.0)
    abi_mean: Number = Field(1.0, gt=0.0)
    abi_sd: Number = Field(0.15, ge=0.0)
    abi_range: tuple[Number, Number] = (0.7, 1.4)
    #: share of ulcers infected during the course (assumed)
    infected_share: Number = Field(0.15, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ranges(self) -> WoundPopulation:
        for name in ("area_range_cm2", "hba1c_range", "abi_range"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name}: [{low}, {high}]; allowed: 0 <= low <= high")
        return self

    def draw(self, n: int, seed: int) -> WoundPatients:
        """``n`` patients from the seed: one random stream per covariate, so the first
        patients are the same whatever ``n``."""

        def normal(k: int) -> np.ndarray:
            return np.random.default_rng([seed, k]).standard_normal(n)

        area = np.exp(np.log(self.area_median_cm2) + self.area_sd_log * normal(0))
        hba1c = self.hba1c_mean + self.hba1c_sd * normal(1)
        abi = self.abi_mean + self.abi_sd * normal(2)
        infected = (np.random.default_rng([seed, 3]).random(n) < self.infected_share) * 1.0
        z = normal(4)
        return WoundPatients(
            area0=np.clip(area, *self.area_range_cm2),
            hba1c=np.clip(hba1c, *self.hba1c_range),
            abi=np.clip(abi, *self.abi_range),
            infected=infected,
            capacity_z=z,
        )


class BurnPopulation(StrictModel):
    """The burn of every patient: depth, the treated site's area (cm2, log-normal),
    the total burned body surface (TBSA, %, uniform in a range) and the share infected
    (assumed defaults: a deep partial-thickness site of about 50 cm2 in 10-30 % TBSA)."""

    depth: Literal["superficial", "superficial_partial", "deep_partial", "full_thickness"]
    site_area_median_cm2: Number = Field(50.0, gt=0.0)
    site_area_sd_log: Number = Field(0.5, ge=0.0)
    tbsa_range_percent: tuple[Number, Number] = (10.0, 30.0)
    infected_share: Number = Field(0.1, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _range(self) -> BurnPopulation:
        low, high = self.tbsa_range_percent
        if not 0 <= low <= high <= 100:
            raise ValueError(
                f"tbsa_range_percent: [{low}, {high}]; allowed: 0 <= low <= high <= 100"
            )
        return self

    def draw(self, n: int, seed: int) -> WoundPatients:
        """``n`` burn patients (one random stream per covariate, as :class:`WoundPopulation`)."""

        def stream(k: int) -> np.random.Generator:
            return np.random.default_rng([seed, k])

        site = np.exp(
            np.log(self.site_area_median_cm2) + self.site_area_sd_log * stream(0).standard_normal(n)
        )
        tbsa = stream(1).uniform(*self.tbsa_range_percent, size=n)
        return WoundPatients(
            area0=area_to_close(self.depth, site, stream(2).standard_normal(n)),
            hba1c=np.full(n, NORMAL_HBA1C),
            abi=np.ones(n),
            infected=(stream(3).random(n) < self.infected_share) * 1.0,
            capacity_z=stream(4).standard_normal(n),
            inflammation_scale=inflammation_scale(tbsa),
            site_area=site,
        )


class WoundMSC(StrictModel):
    """MSC on the wound: a product, a route and cells per application (per cm2 of sheet
    for ``topical_sheet``, in total for ``injection``), given at ``times`` (days or
    texts such as '4 weeks') while the wound is open."""

    product: MSCProduct
    route: Literal["topical_sheet", "injection"]
    cells: Number = Field(gt=0.0, le=1e10)
    times: list[float | str] = Field(default_factory=lambda: [0.0], min_length=1)

    @field_validator("times")
    @classmethod
    def _days(cls, times: list[float | str]) -> list[float]:
        days = [parse_days(t) for t in times]
        if any(d < 0 for d in days):
            raise ValueError("times: a dose before day 0; allowed: times >= 0")
        return days

    def application(self) -> MSCApplication:
        factors = msc_parameters(self.product)
        return MSCApplication(
            self.route,
            float(self.cells),
            tuple(float(t) for t in self.times),
            potency=factors["msc_potency"],
            clearance=factors["msc_clearance_factor"],
            gf_potency=growth_factor_potency(self.product),
        )


class WoundArm(StrictModel):
    n: Whole = Field(gt=0, le=100_000)
    #: MSC on top of standard care; none: standard care (the dressing) alone
    msc: WoundMSC | None = None


class WoundRow(StrictModel):
    """A reference row this trial expresses: arm, endpoint, scale and published n."""

    arm: str
    endpoint: str
    scale: Number = 1.0
    n: Whole | None = Field(None, gt=0)


class WoundTrialSpec(StrictModel):
    """A wound trial (see the module docstring)."""

    name: str
    description: str = ""
    condition: Literal["diabetic_foot_ulcer", "burn"]
    seed: Whole = 0
    duration: float | str
    #: the ulcers of a diabetic_foot_ulcer trial (defaults: see WoundPopulation)
    population: WoundPopulation = Field(default_factory=WoundPopulation)
    #: the burns of a burn trial (required there)
    burn: BurnPopulation | None = None
    arms: dict[str, WoundArm] = Field(min_length=1)
    reference_arm: str | None = None
    endpoints: list[str] = Field(min_length=1)
    #: wound-model values replaced for this trial (names of the wound model or of its
    #: MSC path; e.g. a knock-out)
    parameters: dict[str, Number] = Field(default_factory=dict)
    reference_rows: dict[str, WoundRow] = Field(default_factory=dict)

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: float | str) -> float:
        days = parse_days(value)
        if days <= 0:
            raise ValueError(f"duration: {value!r}; allowed: a time > 0 (e.g. '12 weeks')")
        return days

    @model_validator(mode="after")
    def _consistent(self) -> WoundTrialSpec:
        burn = self.condition == "burn"
        if burn != (self.burn is not None):
            raise ValueError(
                "burn: a burn trial needs a burn (depth, ...) and only a burn trial has one; "
                f"condition is {self.condition}"
            )
        variables = (WOUND_AREA, HTS_RISK) if burn else (WOUND_AREA,)
        for text in self.endpoints:
            ep = parse_endpoint(text, context="trial")
            kinds = {"closed", "time_to_closure", "mean_pct_change"}  # what _Observed reads
            if (
                ep.variable not in variables
                or (ep.variable == HTS_RISK and ep.kind != "mean")
                or (ep.variable == WOUND_AREA and ep.kind not in kinds)
            ):
                raise ValueError(
                    f"endpoints: {text!r} is not a {self.condition} endpoint; allowed: "
                    "closure@TIME, time_to_closure, mean_pct_change:wound_area@TIME"
                    + (", mean:hts_risk@TIME" if burn else "")
                )
            if ep.time is not None and ep.time > self.duration:
                raise ValueError(f"endpoints: {text!r} is after the trial's duration")
            if ep.variable == HTS_RISK and ep.time != self.duration:
                # the risk follows the day a site heals, known only at the end
                raise ValueError(
                    f"endpoints: {text!r}: the scar risk is a whole-trial value; allowed: "
                    f"mean:hts_risk@{self.duration:g}d (the duration)"
                )
            if ep.variable == WOUND_AREA and ep.kind != "closed" and ep.time is not None:
                if ep.time % VISIT_DAYS:  # the area is assessed at weekly visits
                    raise ValueError(
                        f"endpoints: {text!r} is not at a visit; allowed: a whole number "
                        f"of weeks (visits every {VISIT_DAYS:g} days)"
                    )
        if self.reference_arm is not None and self.reference_arm not in self.arms:
            raise ValueError(
                f"reference_arm: {self.reference_arm!r}; allowed: {', '.join(self.arms)}"
            )
        for row, ref in self.reference_rows.items():
            if ref.arm not in self.arms:
                raise ValueError(
                    f"reference_rows.{row}.arm: {ref.arm!r}; allowed: {', '.join(self.arms)}"
                )
            if ref.endpoint not in self.endpoints:
                raise ValueError(
                    f"reference_rows.{row}.endpoint: {ref.endpoint!r}; allowed: "
                    + ", ".join(self.endpoints)
                )
        return self

    def patients(self, n: int) -> WoundPatients:
        """The trial's ``n`` virtual patients (the first are the same for any ``n``)."""
        if self.burn is not None:
            return self.burn.draw(n, self.seed)
        return self.population.draw(n, self.seed)

    def model_values(self) -> dict[str, float]:
        """Wound-model values of this trial: a burn bed's, then the spec's ``parameters``."""
        return {**(BURN_OVERRIDES if self.burn is not None else {}), **self.parameters}

    def parsed_endpoints(self) -> list[Endpoint]:
        return [parse_endpoint(e, context="trial") for e in self.endpoints]

    def reference(self) -> str:
        if self.reference_arm:
            return self.reference_arm
        return next((a for a, arm in self.arms.items() if arm.msc is None), next(iter(self.arms)))


def is_wound_trial(path: str | Path) -> bool:
    """Whether a trial file is a wound trial (it names a ``condition``, not a ``disease``)."""
    data = read_mapping(path, WoundTrialError, "a trial (name, disease or condition, ...)")
    return "condition" in data and "disease" not in data


def load_wound_trial(path: str | Path) -> WoundTrialSpec:
    """A wound trial from a YAML file; any problem is a one-line :class:`WoundTrialError`."""
    data = read_mapping(path, WoundTrialError, "a wound trial (name, condition, arms, ...)")
    try:
        return WoundTrialSpec.model_validate(data)
    except ValidationError as err:
        raise WoundTrialError(one_line(err, str(path))) from None


@dataclass
class _Observed:
    """The wound course as the endpoint kinds read it."""

    times: np.ndarray
    area: np.ndarray
    closure_day: np.ndarray

    def _index(self, time: float) -> int:
        return int(np.argmin(np.abs(self.times - time)))

    def pair(self, variable: str, time: float) -> tuple[np.ndarray, np.ndarray]:
        return self.area[:, 0], self.area[:, self._index(time)]

    def at(self, variable: str, time: float) -> np.ndarray:
        if variable == HTS_RISK:  # a site still open heals after the horizon
            return hts_risk(self.closure_day)
        return self.area[:, self._index(time)]

    def observed_at_baseline(self, variable: str) -> bool:
        return True

    def series(self, variable: str) -> np.ndarray:
        return self.area


@dataclass
class WoundTrialResult:
    spec: WoundTrialSpec
    #: one row per arm and patient: endpoints, the closure day and the covariates
    endpoints: pd.DataFrame
    #: relative area (% of baseline) per arm, patient and visit
    trajectories: pd.DataFrame
    summary: dict

    def kinds(self) -> dict[str, str]:
        return {e.text: e.summary_kind for e in self.spec.parsed_endpoints()}


def run_wound_trial(
    spec: WoundTrialSpec, overrides: dict[str, float] | None = None, statistics: bool = True
) -> WoundTrialResult:
    """Run every arm on the same virtual patients; ``overrides`` replace wound-model
    values on top of the spec's ``parameters`` (fits, knock-outs); ``statistics=False``
    leaves the summary empty (a fit reads only the endpoints)."""
    n = max(arm.n for arm in spec.arms.values())
    patients = spec.patients(n)
    values = {**spec.model_values(), **(overrides or {})}
    tables, curves = [], []
    for name, arm in spec.arms.items():
        cohort = _first(patients, arm.n)
        course = heal(
            cohort,
            arm.msc.application() if arm.msc else None,
            horizon=spec.duration,
            every=VISIT_DAYS,
            overrides=values,
        )
        obs = _Observed(course.times, course.area_pct, course.closure_day)
        row = {"arm": name, "patient": np.arange(arm.n)}
        for ep in spec.parsed_endpoints():
            row.update(ep.spec.compute(ep, obs))
        row.update(
            closure_day=course.closure_day,
            area0_cm2=cohort.area0,
            hba1c=cohort.hba1c,
            abi=cohort.abi,
            infected=cohort.infected,
        )
        tables.append(pd.DataFrame(row))
        wide = pd.DataFrame(course.area_pct, columns=course.times)
        wide.insert(0, "patient", np.arange(arm.n))
        wide.insert(0, "arm", name)
        curves.append(wide.melt(["arm", "patient"], var_name="time", value_name=WOUND_AREA))
    endpoints = pd.concat(tables, ignore_index=True)
    kinds = {e.text: e.summary_kind for e in spec.parsed_endpoints()}
    if not statistics:
        return WoundTrialResult(spec, endpoints, pd.concat(curves, ignore_index=True), {})
    summary = summarise(
        endpoints,
        kinds,
        spec.seed,
        reference=spec.reference(),
        paired=len({a.n for a in spec.arms.values()}) == 1,
        order=list(spec.arms),
    )
    return WoundTrialResult(spec, endpoints, pd.concat(curves, ignore_index=True), summary)


def _first(p: WoundPatients, n: int) -> WoundPatients:
    return WoundPatients(
        **{
            f.name: None if getattr(p, f.name) is None else np.asarray(getattr(p, f.name))[:n]
            for f in dataclasses.fields(p)
        }
    )


def write_wound_trial(result: WoundTrialResult, folder: Path) -> list[Path]:
    """Write ``summary.json``, ``endpoints.csv`` (one row per arm and patient) and
    ``trajectories.csv`` (relative area per visit) into ``folder``."""
    from dermatwin._base.disclaimer import DISCLAIMER
    from dermatwin.io.json_safe import dumps

    folder.mkdir(parents=True, exist_ok=True)
    summary = {
        "trial": result.spec.name,
        "condition": result.spec.condition,
        "seed": result.spec.seed,
        **result.summary,
        "disclaimer": DISCLAIMER,
    }
    (folder / "summary.json").write_text(dumps(summary, indent=2))
    result.endpoints.to_csv(folder / "endpoints.csv", index=False)
    result.trajectories.to_csv(folder / "trajectories.csv", index=False)
    return [folder / n for n in ("summary.json", "endpoints.csv", "trajectories.csv")]
