"""Virtual trials in mature scars (fat grafting): spec, population, run.

A scar trial (``condition: mature_scar``) treats years-old scars once, on day 0: a
procedure (``procedure: true``: cannula tunnelling under the scar, as in Coleman fat
grafting; the saline side of a double-blind trial gets it too) with or without a fat
graft (``graft:``: a product and mL of fat per cm2 of scar). The scar's course is
:mod:`dermatwin.model.mature_scars`, its scores :mod:`dermatwin.model.scar_scales`; the
variables are ``posas_observer`` and ``posas_patient`` (mean item scores, 1..10) and
``elasticity`` (the Cutometer proxy, 1 = normal skin), read with the trial endpoint
kinds (``mean:posas_observer@13w``, ``change:posas_patient@13w``,
``mean_pct_change:elasticity@52w``, ...) at visits on day 0 and at every endpoint's
time. Every arm holds the same scars (paired: one arm per half of a split scar, or per
scar of a within-patient design); each arm's raters and device err independently.
Results are bit-identical for a seed.

Example files live beside the wound trials, in ``examples/trials/wounds/``::

    spec = load_scar_trial("examples/trials/wounds/jaspers2017_fat_graft_scars.yaml")
    result = run_scar_trial(spec)
    result.summary["arms"]["fat_graft"]["mean:posas_observer@13w"]["estimate"]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator

from dermatwin._base.errors import DermatwinError
from dermatwin._base.yaml_files import Number, StrictModel, Whole, one_line, read_mapping
from dermatwin.model.mature_scars import FatGraft, ScarPatients, remodel
from dermatwin.model.scar_scales import (
    CUTOMETER_SD_LOG,
    SCALES,
    observer_items,
    patient_items,
    with_rater,
)
from dermatwin.outcomes.endpoints import Endpoint, parse_endpoint
from dermatwin.therapy.products import MSCProduct, growth_factor_potency, msc_parameters
from dermatwin.trials.statistics import summarise

CONDITION = "mature_scar"
ENDPOINT_KINDS = ("mean", "change", "mean_pct_change")


class ScarTrialError(DermatwinError):
    """A scar trial file or value is invalid (one line naming the field)."""


class Trait(StrictModel):
    """A 0..1 trait across patients: normal with this mean and SD, kept within 0..1."""

    mean: Number = Field(ge=0.0, le=1.0)
    sd: Number = Field(0.0, ge=0.0)


class ScarPopulation(StrictModel):
    """The enrolled scars (defaults: adherent mature burn scars; assumed, with the
    baseline rows SCAR_JASPERS_POSAS_OBS_BL and _PAT_BL in view: see
    :mod:`dermatwin.calibration.scars`). Excess collagen is log-normal (median, SD of
    its log); the other states and traits are :class:`Trait` s."""

    excess_median: Number = Field(0.3, gt=0.0)
    excess_sd_log: Number = Field(0.5, ge=0.0)
    adhesion: Trait = Trait(mean=0.7, sd=0.2)
    vascularity: Trait = Trait(mean=0.08, sd=0.08)
    pigmentation: Trait = Trait(mean=0.08, sd=0.08)
    surface: Trait = Trait(mean=0.1, sd=0.1)
    pain: Trait = Trait(mean=0.9, sd=0.25)
    itch: Trait = Trait(mean=0.9, sd=0.25)

    def draw(self, n: int, seed: int) -> ScarPatients:
        """``n`` scars from the seed, one random stream per state or trait (the first
        patients are the same whatever ``n``)."""

        def normal(k: int) -> np.ndarray:
            return np.random.default_rng([seed, k]).standard_normal(n)

        def trait(k: int, t: Trait) -> np.ndarray:
            return np.clip(t.mean + t.sd * normal(k), 0.0, 1.0)

        return ScarPatients(
            excess=np.exp(np.log(self.excess_median) + self.excess_sd_log * normal(0)),
            adhesion=trait(1, self.adhesion),
            vascularity=trait(2, self.vascularity),
            pigmentation=trait(3, self.pigmentation),
            surface=trait(4, self.surface),
            pain=trait(5, self.pain),
            itch=trait(6, self.itch),
        )


class ScarGraft(StrictModel):
    """Fat under the scar on day 0: the cells' product and mL of fat per cm2 of scar."""

    product: MSCProduct
    ml_per_cm2: Number = Field(gt=0.0, le=10.0)

    def graft(self) -> FatGraft:
        factors = msc_parameters(self.product)
        return FatGraft(
            float(self.ml_per_cm2),
            potency=factors["msc_potency"],
            clearance=factors["msc_clearance_factor"],
            gf_potency=growth_factor_potency(self.product),
        )


class ScarArm(StrictModel):
    n: Whole = Field(gt=0, le=100_000)
    #: cannula tunnelling under the scar on day 0 (a grafting procedure; its saline sham)
    procedure: bool = True
    #: fat left under the scar; none: the procedure alone (saline) or nothing
    graft: ScarGraft | None = None


class ScarRow(StrictModel):
    """A reference row this trial expresses: arm, endpoint, published n; ``versus``: the
    row is the paired difference arm minus ``versus`` (a within-patient comparison)."""

    arm: str
    endpoint: str
    n: Whole | None = Field(None, gt=0)
    versus: str | None = None


class ScarTrialSpec(StrictModel):
    """A mature-scar trial (see the module docstring)."""

    name: str
    description: str = ""
    condition: str
    seed: Whole = 0
    population: ScarPopulation = Field(default_factory=ScarPopulation)
    arms: dict[str, ScarArm] = Field(min_length=1)
    reference_arm: str | None = None
    endpoints: list[str] = Field(min_length=1)
    #: mature-scar model values replaced for this trial (e.g. a knock-out)
    parameters: dict[str, Number] = Field(default_factory=dict)
    reference_rows: dict[str, ScarRow] = Field(default_factory=dict)

    @field_validator("condition")
    @classmethod
    def _condition(cls, value: str) -> str:
        if value != CONDITION:
            raise ValueError(f"condition: {value!r}; allowed: {CONDITION}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ScarTrialSpec:
        for text in self.endpoints:
            ep = parse_endpoint(text, context="trial")
            if ep.kind not in ENDPOINT_KINDS or ep.variable not in SCALES:
                raise ValueError(
                    f"endpoints: {text!r} is not a {CONDITION} endpoint; allowed: "
                    "mean:VAR@TIME, change:VAR@TIME or mean_pct_change:VAR@TIME with VAR "
                    + " or ".join(SCALES)
                )
        arms = ", ".join(self.arms)
        if self.reference_arm is not None and self.reference_arm not in self.arms:
            raise ValueError(f"reference_arm: {self.reference_arm!r}; allowed: {arms}")
        for row, ref in self.reference_rows.items():
            for field, arm in (("arm", ref.arm), ("versus", ref.versus)):
                if arm is not None and arm not in self.arms:
                    raise ValueError(f"reference_rows.{row}.{field}: {arm!r}; allowed: {arms}")
            if ref.versus == ref.arm:
                raise ValueError(
                    f"reference_rows.{row}.versus: the row's own arm; allowed: another"
                )
            if ref.endpoint not in self.endpoints:
                raise ValueError(
                    f"reference_rows.{row}.endpoint: {ref.endpoint!r}; allowed: "
                    + ", ".join(self.endpoints)
                )
        return self

    def parsed_endpoints(self) -> list[Endpoint]:
        return [parse_endpoint(e, context="trial") for e in self.endpoints]

    def visits(self) -> np.ndarray:
        """Day 0 and every endpoint's time (days), sorted."""
        return np.array(sorted({0.0, *(e.time for e in self.parsed_endpoints())}))

    def reference(self) -> str:
        if self.reference_arm:
            return self.reference_arm
        return next((a for a, arm in self.arms.items() if arm.graft is None), next(iter(self.arms)))


def is_scar_trial(path: str | Path) -> bool:
    """Whether a trial file is a mature-scar trial (``condition: mature_scar``)."""
    data = read_mapping(path, ScarTrialError, "a trial (name, disease or condition, ...)")
    return data.get("condition") == CONDITION and "disease" not in data


def load_scar_trial(path: str | Path) -> ScarTrialSpec:
    """A scar trial from a YAML file; any problem is a one-line :class:`ScarTrialError`."""
    data = read_mapping(path, ScarTrialError, "a scar trial (name, condition, arms, ...)")
    try:
        return ScarTrialSpec.model_validate(data)
    except ValidationError as err:
        raise ScarTrialError(one_line(err, str(path))) from None


@dataclass
class _Observed:
    """The scored scar at the visits, as the endpoint kinds read it."""

    times: np.ndarray
    scores: dict[str, np.ndarray]

    def _index(self, time: float) -> int:
        return int(np.argmin(np.abs(self.times - time)))

    def pair(self, variable: str, time: float) -> tuple[np.ndarray, np.ndarray]:
        return self.scores[variable][:, 0], self.scores[variable][:, self._index(time)]

    def at(self, variable: str, time: float) -> np.ndarray:
        return self.scores[variable][:, self._index(time)]

    def observed_at_baseline(self, variable: str) -> bool:
        return True

    def series(self, variable: str) -> np.ndarray:
        return self.scores[variable]


def score(patients: ScarPatients, course, seed: int, arm_index: int) -> dict[str, np.ndarray]:
    """The three scales (patients x visits) of a course as raters and the device give
    them; their errors drawn from ``[seed, 100 + arm_index, scale, visit]`` (one stream per
    arm, scale and visit, so the first patients are the same whatever n)."""
    shape = course.excess.shape
    traits = {k: patients.trait(k)[:, None] for k in ("pigmentation", "surface", "pain", "itch")}
    states = (course.excess, course.adhesion, course.pliability, course.vascularity)
    obs = observer_items(*states, traits["pigmentation"], traits["surface"]).mean(axis=0)
    pat = patient_items(*states, traits["pigmentation"], traits["pain"], traits["itch"])
    noise = [
        np.stack(
            [
                np.random.default_rng([seed, 100 + arm_index, k, v]).standard_normal(shape[0])
                for v in range(shape[1])
            ],
            axis=1,
        )
        for k in range(3)
    ]
    return {
        "posas_observer": with_rater(obs, "posas_observer", noise[0]),
        "posas_patient": with_rater(pat.mean(axis=0), "posas_patient", noise[1]),
        "elasticity": course.pliability * np.exp(CUTOMETER_SD_LOG * noise[2]),
    }


@dataclass
class ScarTrialResult:
    spec: ScarTrialSpec
    #: one row per arm and patient: endpoints and the day-0 states
    endpoints: pd.DataFrame
    #: the three scales per arm, patient and visit
    trajectories: pd.DataFrame
    summary: dict


def run_scar_trial(
    spec: ScarTrialSpec, overrides: dict[str, float] | None = None, statistics: bool = True
) -> ScarTrialResult:
    """Run every arm on the same scars; ``overrides`` replace mature-scar model values
    on top of the spec's ``parameters`` (fits, knock-outs); ``statistics=False`` leaves
    the summary empty."""
    n = max(arm.n for arm in spec.arms.values())
    scars = spec.population.draw(n, spec.seed)
    values = {**spec.parameters, **(overrides or {})}
    visits = spec.visits()
    tables, curves = [], []
    for index, (name, arm) in enumerate(spec.arms.items()):
        cohort = ScarPatients(
            *(None if v is None else np.asarray(v)[: arm.n] for v in vars(scars).values())
        )
        course = remodel(
            cohort,
            visits,
            arm.graft.graft() if arm.graft else None,
            procedure=arm.procedure,
            overrides=values,
        )
        scores = score(cohort, course, spec.seed, index)
        obs = _Observed(visits, scores)
        row = {"arm": name, "patient": np.arange(arm.n)}
        for ep in spec.parsed_endpoints():
            row.update(ep.spec.compute(ep, obs))
        row.update(excess0=cohort.excess, adhesion0=cohort.adhesion)
        tables.append(pd.DataFrame(row))
        for scale, values_ in scores.items():
            wide = pd.DataFrame(values_, columns=visits)
            wide.insert(0, "patient", np.arange(arm.n))
            wide.insert(0, "arm", name)
            curves.append(
                wide.melt(["arm", "patient"], var_name="time", value_name="value").assign(
                    scale=scale
                )
            )
    endpoints = pd.concat(tables, ignore_index=True)
    trajectories = pd.concat(curves, ignore_index=True)
    if not statistics:
        return ScarTrialResult(spec, endpoints, trajectories, {})
    kinds = {e.text: e.summary_kind for e in spec.parsed_endpoints()}
    summary = summarise(
        endpoints,
        kinds,
        spec.seed,
        reference=spec.reference(),
        paired=len({a.n for a in spec.arms.values()}) == 1,
        order=list(spec.arms),
    )
    return ScarTrialResult(spec, endpoints, trajectories, summary)


def write_scar_trial(result: ScarTrialResult, folder: Path) -> list[Path]:
    """Write ``summary.json``, ``endpoints.csv`` (one row per arm and patient) and
    ``trajectories.csv`` (the scales per visit) into ``folder``."""
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
