"""Microbiome module: Staphylococcus aureus on AD skin and non-herpetic skin infections.

The barrier lets microbes in: the AD core (Miyano 2021) already carries this as its
pathogen/allergen load ``p``, whose inflow ``d8 / (1 + b6 s)`` falls with barrier
integrity ``s``, and which raises EASI. This module adds what trials measure of it:

* **Colonisation** (state ``sa_colonisation``, 0..1: the probability that a swab of
  lesional skin grows S. aureus). It relaxes within days to a logistic target::

      logit(target) = sa_logit_lesional + sa_barrier_gain * (D - 1)
                      + sa_th2_gain * (th2 - 1) + ln(sa_carriage)
      d sa_colonisation/dt = sa_rate * (target - sa_colonisation)

  ``D = (1 - s) / (1 - s_lesional)`` is the barrier defect (1 at the steady state of
  Miyano's typical patient, 0 for an intact barrier): a broken barrier raises skin pH and
  lowers lipids and filaggrin breakdown products. ``th2`` is the effective (after any
  drug block) IL-4 + IL-13 (1 = typical lesion): type 2 cytokines suppress keratinocyte
  antimicrobial peptides. ``sa_carriage`` is a per-patient log-normal factor (host and
  strain; nasal carriage seeds the skin). Anchors (TOTTE2016, meta-analysis of 95
  studies): lesional skin of AD patients is colonised in 70 %, non-lesional in 39 %, and
  the odds over healthy controls are 19.7-fold. ``sa_logit_lesional`` puts the virtual
  SOLO-type baseline population at 70 %; the two gains together give the 19.7-fold odds
  of the typical lesion over an intact, Th2-free skin (split equally: assumed). The
  dupilumab block lowers ``th2`` at once, so colonisation falls within days, before
  EASI does (SIMPSON2023: within 3 days, 11 days before clinical improvement).
* **Skin infections** (output ``skin_infection_rate``, non-herpetic skin infections
  per 100 patient-years): ``sa_infection_max * sa_colonisation`` (assumed: only
  colonised skin gets infected). The scale is assumed; the dupilumab-vs-placebo ratio is
  a prediction, compared with the pooled risk ratio 0.44 of EICHENFIELD2019 in
  tests/model/skin/test_microbiome.py.

**A read-out.** Colonisation does not feed back: the core's ``p`` already stands for the
microbes and allergens that cross the barrier and drive EASI, so a second feedback would
count them twice. Every core equation is unchanged with this module.
"""

from __future__ import annotations

import math

import sympy as sp

from dermatwin.model.skin import parameter_table, register
from dermatwin.model.skin.barrier import S_LESIONAL
from dermatwin.model.skin.macrophages import th2_drive
from dermatwin.model.spec import ModelBuilder

#: colonisation of lesional skin in AD patients and the odds ratio of patients over
#: healthy controls (TOTTE2016)
LESIONAL_PREVALENCE = 0.70
ODDS_RATIO_VS_HEALTHY = 19.74
#: logit of the typical lesion that puts the virtual SOLO-type baseline population at 70 %
#: (tests/model/skin/test_microbiome.py checks it; recompute there when the population or
#: the carriage spread changes)
LOGIT_LESIONAL = 0.51
CARRIAGE_SIGMA = 1.5


@register("microbiome")
def add(b: ModelBuilder) -> None:
    par = parameter_table(b)
    half_gain = math.log(ODDS_RATIO_VS_HEALTHY) / 2
    logit0 = par(
        "sa_logit_lesional",
        LOGIT_LESIONAL,
        "dimensionless",
        "calibrated: the virtual SOLO-type AD baseline population is 70 % colonised on "
        "lesional skin (TOTTE2016)",
        "log-odds of S. aureus colonisation of the typical lesion (carriage 1)",
        lower=-20.0,
        upper=20.0,
    )
    g_bar = par(
        "sa_barrier_gain",
        half_gain,
        "dimensionless",
        "TOTTE2016: odds of colonisation 19.7-fold in AD patients over healthy controls; "
        "half of ln(19.7) to the barrier defect (split assumed)",
        "log-odds of colonisation per unit of barrier defect (1 = typical lesion)",
    )
    g_th2 = par(
        "sa_th2_gain",
        half_gain,
        "dimensionless",
        "TOTTE2016 (as sa_barrier_gain); type 2 cytokines suppress antimicrobial peptides",
        "log-odds of colonisation per unit of effective IL-4 + IL-13 (1 = typical lesion)",
    )
    carriage = b.parameter(
        "sa_carriage",
        1.0,
        unit="dimensionless",
        source=f"assumed: per-patient host/strain factor, log-normal sigma {CARRIAGE_SIGMA:g} "
        "(prior 0.5-3); colonisation varies widely between patients of equal severity "
        "(TOTTE2016: heterogeneous prevalence across studies)",
        lower=1e-9,
        description="this patient's odds factor of S. aureus colonisation",
        lognormal=(0.0, CARRIAGE_SIGMA),
    )
    rate = par(
        "sa_rate",
        0.5,
        "1/day",
        "assumed: colonisation follows the skin within days (SIMPSON2023: dupilumab lowers "
        "S. aureus within 3 days)",
        "relaxation rate of colonisation to its target",
        lower=1e-6,
    )
    infection_max = par(
        "sa_infection_max",
        20.0,
        "percent/year",
        "assumed: non-herpetic skin infections per 100 patient-years of fully colonised "
        "lesional skin (order of the placebo arms of the dupilumab programme; "
        "EICHENFIELD2019 reports ratios, its absolute rates were not retrieved)",
        "skin infections per 100 patient-years at colonisation 1",
    )
    col = b.state(
        "sa_colonisation",
        unit="dimensionless",
        initial=0.0,
        scale=1.0,
        description="probability that lesional skin grows S. aureus (0..1)",
    )
    defect = (1 - b.symbol("s")) / (1 - S_LESIONAL)
    # the drug module (built earlier) replaced the AD blocks e_* by their exposure-driven
    # values in the equations declared before it; this expression opts in
    th2 = b.substituted(th2_drive(b))
    logit = logit0 + g_bar * (defect - 1) + g_th2 * (th2 - 1) + sp.log(carriage)
    b.ode(col, rate * (1 / (1 + sp.exp(-logit)) - col))
    b.output(
        "skin_infection_rate",
        infection_max * col,
        unit="percent/year",
        description="non-herpetic skin infections per 100 patient-years (AD)",
    )
