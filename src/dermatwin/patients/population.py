"""Virtual populations: draw patients, put each in its disease state, keep those who qualify.

A candidate patient ``k`` of stream ``s`` (a trial arm) under run seed ``r`` gets its
parameters and covariates from random generators seeded by ``(r, s, k)`` only, and
candidates are accepted in index order, so the population is the same whatever the
batch size or the number of workers.

Per candidate:

1. **Parameters.** The skin model's log-normal priors (Miyano 2021's AD virtual-patient
   distribution); for psoriasis, log-normal variability on the Shmarov rates listed in
   :data:`PSORIASIS_VARIABILITY` (assumed CVs: the published model has one plaque).
2. **Covariates** with realistic prevalences: FLG loss of function in 19.1 % of AD patients
   (PER-10), HLA-C*06:02 in 50.8 % of psoriasis patients (PER-21), age, sex and weight
   from :class:`Demographics`, and (psoriasis) the PASI at the plaque state.
3. **Disease state.** AD: the AD core at its steady state, the psoriasis core healthy
   (its default state). Psoriasis: the AD core silenced (no pathogen infiltration,
   ``d8 = 0``: EASI about 2.7 and no T-cell inflammation) and the psoriasis core started
   at the published plaque and equilibrated to this patient's plaque. Every candidate is
   equilibrated (its status is kept).
4. **Inclusion**: baseline scores (EASI, SCORAD, IGA, pruritus_NRS, TEWL; PASI, PGA)
   against the criteria; candidates are drawn until ``n`` qualify or the draw budget is
   spent (then a one-line error).
5. **Baseline matching** (opt-in, ``baseline:``): candidates are plausible patients (with
   the read-out spread of :data:`~dermatwin.patients.baseline.READOUT_SPREAD`) and an
   eligible one is accepted with the probability of
   :mod:`dermatwin.patients.baseline`, fitted on a pilot of ``baseline_pilot``
   candidates of the stream :data:`PILOT_STREAM`, against its own uniform draw.
6. **Plaques** (opt-in, psoriasis, ``plaques: K`` with the plaque-level model of
   :mod:`dermatwin.model.skin.plaques`): each candidate's plaques get area shares (a
   symmetric Dirichlet) and log-normal factors (sigma ``plaque_sigma``) on the plaque
   rates, from the candidate's own stream (:data:`PLAQUE_STREAM_OFFSET`); every plaque
   starts at the published plaque before equilibration.

>>> spec = PopulationSpec(disease="AD", inclusion={"EASI": {"min": 16}})
>>> spec.inclusion["EASI"].min
16.0
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field, model_validator

from dermatwin._base.yaml_files import Number, StrictModel, Whole, short
from dermatwin.disease.scores import ORDINALS, continuous_scores, grade
from dermatwin.disease.skin_type import SKIN_TYPES, score_factor
from dermatwin.engine.simulate import equilibrate, solve
from dermatwin.model.reference.shmarov2022 import PUBLISHED_PLAQUE
from dermatwin.model.skin.plaques import (
    AREA_CONCENTRATION,
    MAX_PLAQUES,
    PLAQUE_RATES,
    PLAQUE_SIGMA,
    plaque_state,
)
from dermatwin.model.spec import Model
from dermatwin.patients.baseline import (
    READOUT_SPREAD,
    Selection,
    Target,
    fit_selection,
    resolve_targets,
)
from dermatwin.patients.profile import (
    DISEASE_SCORES,
    HLA_C0602_PREVALENCE_PSO,
    SCORE_RANGES,
    Disease,
    Patient,
    PatientError,
    covariate_parameters,
)
from dermatwin.patients.sampling import patient_rng, sample_lognormal

#: prevalences (PER-10, PER-21)
FLG_PREVALENCE_AD = 0.191
#: assumed between-patient CVs (log-normal sigma) of psoriasis-core rates: T-cell
#: recruitment by IL-23, IL-23 production by dendritic cells, IL-17 production by T cells
PSORIASIS_VARIABILITY = {"t2": 0.25, "il232": 0.25, "il172": 0.25}
#: the AD core silenced in psoriasis patients
AD_SILENT = {"d8": 0.0}
AD_SILENT_STATES = ("p", "Th1", "Th2", "Th17", "Th22")
#: random streams per candidate: parameters (arm stream), covariates (offset)
COVARIATE_STREAM_OFFSET = 1_000_003
PSORIASIS_STREAM_OFFSET = 2_000_003
#: plaque-level psoriasis: the plaques' factors and area shares (offset)
PLAQUE_STREAM_OFFSET = 6_000_023
#: baseline matching: read-out spread and acceptance draws (offsets), and the pilot's
#: own stream (its candidates use the offsets above too); clear of the arm streams
#: (< 50) plus any offset, the trials' noise offset (3,000,017) included
READOUT_STREAM_OFFSET = 4_000_037
SELECTION_STREAM_OFFSET = 5_000_011
PILOT_STREAM = 10_000_019


class Bound(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Bound:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} > max {self.max:g}")
        return self


#: generous limits on demographic values (age in years, weight in kg)
AGE_LIMITS = (0.0, 120.0)
WEIGHT_LIMITS = (1.0, 400.0)  # as Patient.weight_kg


def _range(name: str, value: tuple[float, float], limits: tuple[float, float], unit: str):
    low, high = limits
    if not low <= value[0] <= value[1] <= high:
        raise ValueError(
            f"{name}: [{value[0]:g}, {value[1]:g}] {unit}; allowed: low <= high within "
            f"[{low:g}, {high:g}] {unit}"
        )


class Demographics(StrictModel):
    """Normal age and weight (truncated to the ranges), share of women."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    age_mean: Number = Field(36.0, ge=0, le=120, description="assumed: phase-3 AD adults")
    age_sd: Number = Field(13.0, ge=0, le=120)
    age_range: tuple[Number, Number] = (18.0, 75.0)
    weight_mean: Number = Field(75.0, gt=0, le=400, description="kg; assumed")
    weight_sd: Number = Field(15.0, ge=0, le=400)
    weight_range: tuple[Number, Number] = (40.0, 160.0)
    female_fraction: Number = Field(0.42, ge=0, le=1, description="assumed")

    @model_validator(mode="after")
    def _ranges(self) -> Demographics:
        # an inverted or out-of-range window would clip every patient to one value
        _range("age_range", self.age_range, AGE_LIMITS, "years")
        _range("weight_range", self.weight_range, WEIGHT_LIMITS, "kg")
        for name, mean, (low, high) in (
            ("age_mean", self.age_mean, self.age_range),
            ("weight_mean", self.weight_mean, self.weight_range),
        ):
            if not low <= mean <= high:
                raise ValueError(f"{name}: {mean:g}; allowed: within its range [{low:g}, {high:g}]")
        return self


class PopulationSpec(StrictModel):
    """Who is eligible for a virtual trial."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    disease: Disease
    inclusion: dict[str, Bound] = Field(default_factory=dict)
    demographics: Demographics = Demographics()
    flg_prevalence: Number = Field(FLG_PREVALENCE_AD, ge=0, le=1)
    hla_c0602_prevalence: Number = Field(HLA_C0602_PREVALENCE_PSO, ge=0, le=1)
    pasi_plaque_median: Number = Field(20.0, gt=0, le=72, description="assumed")
    pasi_plaque_sigma: Number = Field(0.35, ge=0, le=5, description="assumed log-normal sigma")
    #: plaque-level psoriasis (opt-in): plaques per patient and the within-patient
    #: log-normal sigma of their rates (dermatwin.model.skin.plaques)
    plaques: Whole | None = Field(None, ge=1, le=MAX_PLAQUES, description="plaques per patient")
    plaque_sigma: Number = Field(PLAQUE_SIGMA, ge=0, le=2, description="assumed")
    max_draws_per_patient: Whole = Field(50, ge=1, le=10_000, description="draw budget per patient")
    #: shares of Fitzpatrick skin types 1-6 (None: not drawn, no effect): erythema is
    #: scored as seen on the patient's skin (dermatwin.disease.skin_type)
    skin_types: dict[int, Number] | None = None
    #: baseline targets: "pooled" or {SCORE: {mean, sd}, GRADE: {shares: {k: share}}}
    baseline: str | dict[str, dict[str, Any]] | None = None
    baseline_pilot: Whole = Field(
        2000, ge=100, le=1_000_000, description="candidates in the baseline-matching pilot"
    )
    #: calibrated edges of the ordinal grades (a parameter set's ``severity`` section, e.g.
    #: ``iga1_easi``), so that inclusion grades IGA/PGA as the trial reports them; a trial
    #: fills it from its parameter set (empty: the published edges)
    severity: dict[str, Number] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _criteria_fit_disease(self) -> PopulationSpec:
        allowed = DISEASE_SCORES[self.disease]
        for name, bound in self.inclusion.items():
            if name not in allowed:
                raise ValueError(
                    f"inclusion criterion {short(name)} is not a {self.disease} score; allowed: "
                    + ", ".join(allowed)
                )
            low, high = SCORE_RANGES[name]
            for value in (bound.min, bound.max):
                if value is not None and not low <= value <= high:
                    raise ValueError(
                        f"inclusion.{name}: {value:g}; allowed: within {low:g}-{high:g}"
                    )
        if self.baseline is not None:
            self.targets()
        if self.skin_types is not None:
            shares = self.skin_types
            if not shares or set(shares) - set(SKIN_TYPES) or min(shares.values()) < 0:
                raise ValueError(
                    "skin_types: shares of Fitzpatrick types; allowed: keys 1-6, shares >= 0"
                )
            if abs(sum(shares.values()) - 1.0) > 1e-6:
                raise ValueError(
                    f"skin_types: the shares sum to {sum(shares.values()):g}; allowed: 1"
                )
        if self.plaques is not None and self.disease != "psoriasis":
            raise ValueError(f"plaques: for psoriasis only; {self.disease} has no plaques")
        return self

    def targets(self) -> dict[str, Target] | None:
        """The baseline targets (None: no baseline matching)."""
        if self.baseline is None:
            return None
        return resolve_targets(self.disease, self.baseline)


@dataclass
class Population:
    """Accepted virtual patients: parameter matrix, steady states and a covariate table."""

    parameters: np.ndarray
    y0: np.ndarray
    status: np.ndarray
    covariates: pd.DataFrame
    draws: int

    def rows(self, index: np.ndarray) -> Population:
        """The patients at ``index`` (positions in this population)."""
        return Population(
            self.parameters[index],
            self.y0[index],
            self.status[index],
            self.covariates.iloc[index].reset_index(drop=True),
            self.draws,
        )


def _truncated_normal(rng, mean, sd, lo, hi) -> float:
    return float(min(max(rng.normal(mean, sd), lo), hi))


def candidate_covariates(spec: PopulationSpec, seed: int, stream: int, index: int) -> dict:
    rng = patient_rng(seed, index, stream + COVARIATE_STREAM_OFFSET)
    d = spec.demographics
    row = {
        "candidate": index,
        "age": _truncated_normal(rng, d.age_mean, d.age_sd, *d.age_range),
        "weight_kg": _truncated_normal(rng, d.weight_mean, d.weight_sd, *d.weight_range),
        "sex": "F" if rng.random() < d.female_fraction else "M",
    }
    carrier = rng.random()
    plaque = float(np.exp(np.log(spec.pasi_plaque_median) + spec.pasi_plaque_sigma * rng.normal()))
    if spec.disease == "AD":
        row["flg_loss"] = bool(carrier < spec.flg_prevalence)
    else:
        row["hla_c0602"] = bool(carrier < spec.hla_c0602_prevalence)
        row["pasi_plaque"] = plaque
    if spec.skin_types is not None:  # drawn last: the draws above stay as they were
        types = sorted(spec.skin_types)
        cum = np.cumsum([spec.skin_types[t] for t in types])
        row["fitzpatrick"] = types[
            min(int(np.searchsorted(cum, rng.random() * cum[-1], side="right")), len(types) - 1)
        ]
    return row


def as_scored(scores: pd.DataFrame, covariates: list[dict], severity=None) -> pd.DataFrame:
    """``scores`` as a clinician records them on each patient's Fitzpatrick skin type
    (:mod:`dermatwin.disease.skin_type`; unchanged without skin types), IGA/PGA regraded."""
    types = [c.get("fitzpatrick") for c in covariates]
    if all(t is None for t in types):
        return scores
    out = scores.copy()
    for name in out.columns:
        factor = np.array([score_factor(name, t) for t in types])
        if (factor != 1.0).any():
            out[name] = out[name].to_numpy() * factor
    for ordinal in ORDINALS.values():
        if ordinal.source in out and ordinal.name in out:
            out[ordinal.name] = grade(ordinal.name, out[ordinal.source].to_numpy(), severity)
    return out


def candidate_parameters(
    model: Model, spec: PopulationSpec, seed: int, stream: int, start: int, n: int, covariates
) -> np.ndarray:
    """Parameter rows of candidates ``start .. start+n-1`` (see module docstring)."""
    params = sample_lognormal(model, n, seed, start=start, stream=stream)
    names = set(model.parameter_names)
    for row, cov in enumerate(covariates):
        patient = Patient(
            disease=spec.disease,
            **{k: cov[k] for k in ("age", "weight_kg", "sex", "flg_loss", "hla_c0602") if k in cov},
        )
        values = covariate_parameters(patient, cov.get("pasi_plaque"))
        if spec.disease == "psoriasis":
            values |= AD_SILENT
        for name, value in values.items():
            if name in names:
                params[row, model.parameter_index(name)] = value
    if spec.disease == "psoriasis":
        for row, index in enumerate(range(start, start + n)):
            rng = patient_rng(seed, index, stream + PSORIASIS_STREAM_OFFSET)
            for name, sigma in PSORIASIS_VARIABILITY.items():
                j = model.parameter_index(name)
                params[row, j] = model.parameters[j].value * math.exp(sigma * rng.normal())
    if spec.plaques is not None:
        _plaque_parameters(model, spec, seed, stream, start, params)
    spread = READOUT_SPREAD[spec.disease] if spec.baseline is not None else {}
    if spread:
        for row, index in enumerate(range(start, start + n)):
            rng = patient_rng(seed, index, stream + READOUT_STREAM_OFFSET)
            for name, sigma in spread.items():
                params[row, model.parameter_index(name)] *= math.exp(sigma * rng.normal())
    return params


def _plaque_parameters(
    model: Model, spec: PopulationSpec, seed: int, stream: int, start: int, params: np.ndarray
) -> None:
    """Each candidate's plaques: area shares (symmetric Dirichlet) and log-normal factors
    on :data:`PLAQUE_RATES`, from the candidate's own stream (chunk-independent)."""
    k = spec.plaques
    if f"plaque_area_p{k}" not in model.parameter_names or (
        f"plaque_area_p{k + 1}" in model.parameter_names
    ):
        raise PatientError(
            f"plaques: {k}; the model has a different number of plaques (build it with "
            "dermatwin.model.skin.plaques.skin_plaques)"
        )
    area = [model.parameter_index(f"plaque_area_p{j}") for j in range(1, k + 1)]
    factor = [
        [model.parameter_index(f"plaque_{r}_p{j}") for r in PLAQUE_RATES] for j in range(1, k + 1)
    ]
    for row in range(params.shape[0]):
        rng = patient_rng(seed, start + row, stream + PLAQUE_STREAM_OFFSET)
        params[row, area] = rng.dirichlet(np.full(k, AREA_CONCENTRATION))
        params[row, np.array(factor)] = np.exp(
            spec.plaque_sigma * rng.normal(size=(k, len(PLAQUE_RATES)))
        )


def disease_start(model: Model, disease: str) -> np.ndarray:
    """Initial state before equilibration: psoriasis starts the psoriasis core at the
    published plaque so that it settles on this patient's plaque, not the healthy state."""
    y = model.default_initial_state()
    if disease == "psoriasis":
        # no pathogen and no AD T cells: with d8 = 0 they stay exactly 0 (starting them
        # lesional leaves tiny decaying values that slow the steady-state test)
        for name in AD_SILENT_STATES:
            y[model.state_index(name)] = 0.0
        # a plaque-level model (dermatwin.model.skin.plaques) starts every plaque there
        count = sum(plaque_state("SC", k) in model.state_names for k in range(1, MAX_PLAQUES + 1))
        for name, value in PUBLISHED_PLAQUE.items():
            states = [name if name in model.state_names else f"{name}_pso"]
            states += [plaque_state(name, k) for k in range(1, count + 1)]
            for state in states:
                if state in model.state_names:
                    y[model.state_index(state)] = float(value)
    return y


def baseline_scores(
    model: Model,
    parameters: np.ndarray,
    y0: np.ndarray,
    severity: dict[str, float] | None = None,
) -> pd.DataFrame:
    """The disease scores of equilibrated patients (IGA and PGA from EASI and PASI, graded
    with the calibrated ``severity`` edges when given, as a trial reports them)."""
    # the engine's arrays, not a labelled Dataset: screening runs this for every block
    solution = solve(model, [0.0], parameters, y0=y0)
    values = {**solution.states(model), **solution.outputs(model)}
    out = pd.DataFrame({n: values[n][:, 0] for n in continuous_scores() if n in values})
    for ordinal in ORDINALS.values():
        if ordinal.source in out:
            out[ordinal.name] = grade(ordinal.name, out[ordinal.source].to_numpy(), severity)
    return out


def _eligible(scores: pd.DataFrame, spec: PopulationSpec, ok: np.ndarray) -> np.ndarray:
    keep = ok.copy()
    for name, bound in spec.inclusion.items():
        values = scores[name].to_numpy()
        if bound.min is not None:
            keep &= values >= bound.min
        if bound.max is not None:
            keep &= values <= bound.max
    return keep


@dataclass
class CandidateBlock:
    """Candidates ``start .. start+size-1`` of one stream, equilibrated and scored."""

    start: int
    covariates: list[dict]
    parameters: np.ndarray
    y0: np.ndarray
    status: np.ndarray
    scores: pd.DataFrame
    eligible: np.ndarray

    @property
    def accepted(self) -> np.ndarray:
        """Candidate indices (not row numbers) that meet the inclusion criteria."""
        return self.start + np.flatnonzero(self.eligible)

    def row(self, i: int) -> dict:
        scores = {f"baseline_{k}": v for k, v in self.scores.iloc[i].items()}
        return {**self.covariates[i], **scores}


def evaluate_candidates(
    model: Model,
    spec: PopulationSpec,
    seed: int,
    stream: int,
    start: int,
    size: int,
    selection: Selection | None = None,
) -> CandidateBlock:
    """Draw, equilibrate and score candidates ``start .. start+size-1``.

    Each candidate depends only on ``(seed, stream, index)`` (and, with baseline
    matching, on the ``selection`` rule, fitted from ``seed`` alone when not given), so
    blocks can be evaluated in any order or on any worker and give the same candidates.
    """
    block = _screen(model, spec, seed, stream, start, size)
    if spec.baseline is not None:
        selection = selection or baseline_selection(model, spec, seed)
        chance = selection.probability(block.scores)
        u = np.array(
            [
                patient_rng(seed, k, stream + SELECTION_STREAM_OFFSET).random()
                for k in range(start, start + size)
            ]
        )
        block.eligible &= u < chance
    return block


def _screen(
    model: Model, spec: PopulationSpec, seed: int, stream: int, start: int, size: int
) -> CandidateBlock:
    """Candidates ``start .. start+size-1`` against the inclusion criteria only."""
    cov = [candidate_covariates(spec, seed, stream, k) for k in range(start, start + size)]
    p = candidate_parameters(model, spec, seed, stream, start, size, cov)
    y, status = equilibrate(model, p, disease_start(model, spec.disease))
    scores = as_scored(baseline_scores(model, p, y, spec.severity), cov, spec.severity)
    return CandidateBlock(start, cov, p, y, status, scores, _eligible(scores, spec, status == 0))


#: recent selection rules, by (model content, spec, seed)
_SELECTIONS: OrderedDict[tuple, Selection] = OrderedDict()


def baseline_selection(model: Model, spec: PopulationSpec, seed: int) -> Selection:
    """The baseline-matching rule of ``spec`` under ``seed``: fitted on the eligible
    candidates among the first ``baseline_pilot`` of :data:`PILOT_STREAM` (the same for
    every arm; kept for later calls in this process)."""
    targets = spec.targets()
    if targets is None:
        raise PatientError("population.baseline: no baseline targets given")
    key = (model.content_hash, spec.model_dump_json(), seed)
    if key in _SELECTIONS:
        _SELECTIONS.move_to_end(key)
        return _SELECTIONS[key]
    pilot = _screen(model, spec, seed, PILOT_STREAM, 0, spec.baseline_pilot)
    rule = fit_selection(pilot.scores[pilot.eligible].reset_index(drop=True), targets)
    rule = replace(rule, pilot=spec.baseline_pilot, pilot_eligible=int(pilot.eligible.sum()))
    _SELECTIONS[key] = rule
    if len(_SELECTIONS) > _RECENT_SIZE:
        _SELECTIONS.popitem(last=False)
    return rule


def select_candidates(
    model: Model,
    spec: PopulationSpec,
    seed: int,
    stream: int,
    candidates: np.ndarray,
    y0: np.ndarray | None = None,
    status: np.ndarray | None = None,
) -> Population:
    """The patients made from the given (accepted) candidate indices, in that order.

    Rebuilds each candidate from its seed, so a worker needs only the indices; the rows
    equal those :func:`generate` returns for the same patients. With ``y0`` and
    ``status`` (the equilibrated states from screening) the equilibration is skipped and
    the covariates have no ``baseline_*`` columns.
    """
    candidates = np.asarray(candidates, dtype=np.int64)
    if candidates.size == 0:
        raise PatientError("candidates: at least one candidate index is needed")
    cov = [candidate_covariates(spec, seed, stream, int(k)) for k in candidates]
    p = np.concatenate(
        [
            candidate_parameters(model, spec, seed, stream, int(k), 1, [c])
            for k, c in zip(candidates, cov, strict=True)
        ]
    )
    if y0 is not None and status is not None:
        return Population(p, y0, status, pd.DataFrame(cov), int(candidates.max()) + 1)
    # one batch for all: each patient is integrated on its own, so rows equal generate()'s
    y, status = equilibrate(model, p, disease_start(model, spec.disease))
    scores = as_scored(baseline_scores(model, p, y, spec.severity), cov, spec.severity)
    block = CandidateBlock(0, cov, p, y, status, scores, status == 0)
    return Population(
        p,
        y,
        status,
        pd.DataFrame([block.row(i) for i in range(len(cov))]),
        int(candidates.max()) + 1,
    )


def inclusion_error(spec: PopulationSpec, accepted: int, n: int, budget: int) -> PatientError:
    """The one-line error when too few candidates qualify within the draw budget."""
    criteria = ", ".join(
        f"{k} {'>= ' + format(b.min, 'g') if b.min is not None else ''}"
        f"{' <= ' + format(b.max, 'g') if b.max is not None else ''}".strip()
        for k, b in spec.inclusion.items()
    )
    matched = " and were selected to match the baseline" if spec.baseline is not None else ""
    return PatientError(
        f"inclusion: only {accepted} of {n} {spec.disease} patients met the criteria "
        f"({criteria or 'none'}){matched} within {budget} draws; relax the criteria or raise "
        "max_draws_per_patient"
    )


#: recent populations, by (model content, spec, n, seed, stream): a calibration reruns the
#: same trial many times with values that do not change who the patients are
_RECENT: OrderedDict[tuple, Population] = OrderedDict()
_RECENT_SIZE = 16


def generate(model: Model, spec: PopulationSpec, n: int, seed: int, stream: int = 0) -> Population:
    """``n`` eligible virtual patients of one stream (arm); see the module docstring.

    The arrays of the returned population are read-only (it may be shared with later
    calls for the same model, spec, n, seed and stream)."""
    key = (model.content_hash, spec.model_dump_json(), n, seed, stream)
    if key in _RECENT:
        _RECENT.move_to_end(key)
        return _RECENT[key]
    pop = _generate(model, spec, n, seed, stream)
    for array in (pop.parameters, pop.y0, pop.status):
        array.setflags(write=False)
    _RECENT[key] = pop
    if len(_RECENT) > _RECENT_SIZE:
        _RECENT.popitem(last=False)
    return pop


def _generate(model: Model, spec: PopulationSpec, n: int, seed: int, stream: int) -> Population:
    if n < 1:
        raise PatientError(f"n: a population needs at least 1 patient, got {n}")
    budget = n * spec.max_draws_per_patient
    rows, params, states, statuses = [], [], [], []
    accepted, drawn = 0, 0
    batch = max(16, n)
    while accepted < n and drawn < budget:
        size = min(batch, budget - drawn)
        block = evaluate_candidates(model, spec, seed, stream, drawn, size)
        for i in np.flatnonzero(block.eligible)[: n - accepted]:
            rows.append(block.row(i))
            params.append(block.parameters[i])
            states.append(block.y0[i])
            statuses.append(block.status[i])
            accepted += 1
        drawn += size
        batch = max(16, 2 * (n - accepted))
    if accepted < n:
        raise inclusion_error(spec, accepted, n, budget)
    return Population(
        np.array(params), np.array(states), np.array(statuses), pd.DataFrame(rows), drawn
    )
