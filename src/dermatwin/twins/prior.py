"""Which parameters a twin estimates, and their population prior.

A twin estimates a handful of patient-specific parameters and keeps every other parameter
at the skin model's typical-patient value (with the patient's covariates applied, as for a
virtual population). The prior of each estimated parameter is the population distribution
(log-normal), so a twin with no data is a typical virtual patient of the population.

AD (MIYANO2021 virtual-population log-normals). Chosen because, across 400 virtual AD
patients of the population generator, they are the parameters whose spread explains most
of the spread in baseline EASI and in the week-16 response to dupilumab (|correlation of
ln k with ln EASI(0)| 0.55, 0.40, 0.27, 0.17; with the response 0.53, 0.43, 0.21, 0.30;
docs/twins.md), and because their prior CVs are wide enough for visit data to move them
(parameters with tiny population CVs such as d8, d9 would stay at the prior). ``d3``
(|r| 0.23, 0.16) was tried and dropped: its very wide prior (sigma 2.28) stayed
unidentified from visits and slowed the sampler's mixing (max R-hat 1.4 after 24 x 500
steps with it):

* ``d1`` barrier loss rate (1/week), ``b2`` IL-13 inhibition of barrier formation (1/au),
  ``k1`` barrier formation rate (1/week), ``k14`` IL-13 basal production (au/week).

Psoriasis (the population generator's variability, :data:`PSORIASIS_VARIABILITY`, and
its plaque PASI distribution):

* ``t2`` T-cell recruitment by IL-23 (cell/mm2/au/day), ``il232`` IL-23 production by
  dendritic cells (au*mm2/cell/day), ``il172`` IL-17 production by T cells
  (au*mm2/cell/day), ``pasi_plaque`` PASI at the published plaque (dimensionless; median
  20, x 1.2 for HLA-C*06:02 carriers, PER-21).

Both diseases: ``msc_ec50`` (au), the secretome level giving half-maximal suppression of
this patient's effector T cells: the patient's responsiveness to MSC therapy. Prior
median 1/3 au (IMM-06), log-normal sigma 1.0 (assumed: IMM-06 vs IMM-07 show a 10-fold
range of effective MSC:T ratios between donors, taken as the spread between patients).
It is informed only by visits after MSC doses; otherwise it stays at its prior.

Parameters are sampled as ``theta = ln k``; the prior is normal in ``theta``, truncated at
+-4 sigma (keeps the ODEs away from unphysical corners).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dermatwin.model.spec import Model
from dermatwin.patients.population import AD_SILENT, PopulationSpec, disease_start
from dermatwin.patients.profile import HLA_C0602_SEVERITY, Patient, covariate_parameters

#: prior truncation (standard deviations)
PRIOR_BOUND = 4.0
AD_PARAMETERS = ("d1", "b2", "k1", "k14")
PSORIASIS_PARAMETERS = ("t2", "il232", "il172", "pasi_plaque")
MSC_RESPONSE = "msc_ec50"
#: assumed between-patient sigma of ln msc_ec50 (see module docstring)
MSC_RESPONSE_SIGMA = 1.0


@dataclass(frozen=True)
class TwinParameter:
    """One estimated parameter: prior of ln(value) is normal(mu, sigma)."""

    name: str
    unit: str
    mu: float
    sigma: float
    source: str
    description: str

    @property
    def median(self) -> float:
        return math.exp(self.mu)


def twin_parameters(model: Model, patient: Patient) -> list[TwinParameter]:
    """The estimated parameters of ``patient``'s twin with their population priors."""
    from dermatwin.patients.population import PSORIASIS_VARIABILITY

    out = []
    if patient.disease == "AD":
        for name in AD_PARAMETERS:
            par = model.parameter(name)
            mu, sigma = par.lognormal
            out.append(TwinParameter(name, par.unit, mu, abs(sigma), par.source, par.description))
    else:
        for name in PSORIASIS_PARAMETERS[:3]:
            par = model.parameter(name)
            out.append(
                TwinParameter(
                    name,
                    par.unit,
                    math.log(par.value),
                    PSORIASIS_VARIABILITY[name],
                    "assumed CV (population generator, PSORIASIS_VARIABILITY)",
                    par.description,
                )
            )
        spec = PopulationSpec(disease="psoriasis")
        median = spec.pasi_plaque_median * (HLA_C0602_SEVERITY if patient.hla_c0602 else 1.0)
        par = model.parameter("pasi_plaque")
        out.append(
            TwinParameter(
                "pasi_plaque",
                par.unit,
                math.log(median),
                spec.pasi_plaque_sigma,
                "population generator (assumed median 20, sigma 0.35; HLA-C*06:02 PER-21)",
                par.description,
            )
        )
    par = model.parameter(MSC_RESPONSE)
    out.append(
        TwinParameter(
            MSC_RESPONSE,
            par.unit,
            math.log(par.value),
            MSC_RESPONSE_SIGMA,
            "IMM-06 (median); sigma assumed from IMM-06 vs IMM-07",
            "patient's MSC responsiveness: " + par.description,
        )
    )
    return out


def base_parameters(model: Model, patient: Patient) -> np.ndarray:
    """The parameter vector every draw starts from: typical-patient values, the patient's
    covariates, and (psoriasis) the AD core silenced as in virtual populations."""
    values = model.default_parameters().copy()
    overrides = covariate_parameters(patient)
    if patient.disease == "psoriasis":
        overrides |= AD_SILENT
    for name, value in overrides.items():
        if name in model.parameter_names:
            values[model.parameter_index(name)] = value
    return values


def start_state(model: Model, patient: Patient) -> np.ndarray:
    """Initial state before each draw is equilibrated to its own disease steady state."""
    return disease_start(model, patient.disease)


class Prior:
    """Normal prior on ``theta = ln k`` of the twin parameters (truncated at +-4 sigma)."""

    def __init__(self, parameters: list[TwinParameter]):
        self.parameters = list(parameters)
        self.names = tuple(p.name for p in parameters)
        self.mu = np.array([p.mu for p in parameters])
        self.sigma = np.array([p.sigma for p in parameters])

    @property
    def ndim(self) -> int:
        return len(self.parameters)

    def log_prob(self, theta: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(theta) - self.mu) / self.sigma
        lp = -0.5 * np.sum(z**2, axis=1)
        return np.where(np.all(np.abs(z) <= PRIOR_BOUND, axis=1), lp, -np.inf)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        z = np.clip(rng.standard_normal((n, self.ndim)), -PRIOR_BOUND, PRIOR_BOUND)
        return self.mu + self.sigma * z
