"""Tolerance module: the host-carried, durable MSC effect (apoptosis -> efferocytosis ->
tolerogenic phagocytes -> induced regulatory T cells with memory).

The causal path (states in brackets)::

    MSC apoptosis (msc module: recipient cytotoxicity, dead fraction of the product)
      -> efferocytosis by monocytes/macrophages in lung, spleen, liver
         (signal msc_efferocytosis_systemic) and, weighted less, in the skin
         (signal msc_efferocytosis_skin)
      -> tolerogenic phagocytes [tol_phagocytes] (IDO, PD-L1, IL-10; decay over days-weeks)
      -> induced regulatory T cells primed in lymph nodes [itreg] (memory: months)
      -> home to skin, where they suppress the effector arms:
         (a) signal ``itreg`` read by the immune module, which adds it to the Treg excess
             of its suppression drive; that drive scales the AD Th1/Th2/Th17/Th22
             differentiation rates k5..k8 and the psoriasis IL-23-driven T recruitment t2;
         (b) this module scales effector cytokine production by T cells: AD IL-4, IL-13,
             IL-31 (Th2), IL-17 (Th17), IL-22 (Th22), IFN-gamma (Th1) (k11, k13, k19, k15,
             k17, k21) and psoriasis IL-17 (il172) by ``1 - itreg_emax * R / (R +
             itreg_ec50)``; in psoriasis (``t2`` via signal ``itreg_pso``, ``il172``) ``R``
             is weighted by ``itreg_weight_pso`` (assumed: no controlled psoriasis row)

* **Tolerogenic phagocytes** ``P`` (dimensionless, 0..1: share of the maximal pool):
  ``dP/dt = tol_induction * u * (1 - P) - tol_phagocyte_loss * P`` with
  ``u = (E_sys + tol_skin_weight * E_skin) / tol_effero_ref`` (E: engulfment of apoptotic
  MSC, cells/day). Engulfing CD11b+/CD11c+ cells up-regulate IDO
  (MECH_GALLEU2017_APOMSC) and alveolar macrophages are reprogrammed by efferocytosis
  (MECH_PANG2021_APOPTOSIS). ``1 - P`` saturates the response, so doses well above the
  minimal effective dose add little (DOSE_KABAT2020_MED).
* **Induced Tregs** ``R`` (dimensionless, in units of the baseline Treg pool):
  ``dR/dt = itreg_induction * P - itreg_loss * R``: they accumulate while tolerogenic
  phagocytes present antigen (weeks) and are lost slowly (memory, months), so the effect
  builds over weeks and fades over months (AD_ATMSC_ADSTEM2025_P2_*: separation from
  placebo at weeks 8, 12, 16 after two IV doses).

Without MSC both states stay exactly 0 and ``itreg`` = 0. Removing this module leaves
the acute paracrine path of the msc module (living cells' secretome) alone.
"""

from __future__ import annotations

from dermatwin.model.skin import parameter_table, register
from dermatwin.model.spec import ModelBuilder

#: T-cell cytokine production rates: AD core IL-4, IL-13 (Th2), IL-17 (Th17), IL-22 (Th22),
#: IL-31 (Th2), IFN-gamma (Th1) (MIYANO2021); psoriasis core IL-17 by T cells (SHMAROV2022)
CYTOKINE_PRODUCTION = ("k11", "k13", "k15", "k17", "k19", "k21", "il172")
TUNED = "tuned by hand (paired) to {rows}; to be refitted (issue 18)"
ROWS = "AD_ATMSC_ADSTEM2025_P2_EASI75_W16_T/_P, AD_UCBMSC_FURESTEM_P3A_EASI50_W12_T/_P"


@register("tolerance")
def add(b: ModelBuilder) -> None:
    par = parameter_table(b)
    phag = b.state(
        "tol_phagocytes",
        unit="dimensionless",
        initial=0.0,
        scale=1.0,
        description="tolerogenic phagocytes (IDO, PD-L1, IL-10) in lung, spleen, liver, "
        "lymph node (0..1 of the maximal pool)",
    )
    itreg = b.state(
        "itreg",
        unit="dimensionless",
        initial=0.0,
        scale=1.0,
        description="induced regulatory T cells homing to skin (1 = the baseline Treg pool)",
    )
    ref = par(
        "tol_effero_ref",
        3e7,
        "cell/day",
        TUNED.format(rows=ROWS) + " (prior 1e6-1e9)",
        "efferocytosis of apoptotic MSC giving tolerogenic induction at tol_induction",
        lower=1e-9,
    )
    induction = par(
        "tol_induction",
        1.0,
        "1/day",
        "MECH_GALLEU2017_APOMSC: phagocytes engulfing apoptotic MSC up-regulate IDO within "
        "about a day (assumed rate; prior 0.3-3)",
        "induction rate of tolerogenic phagocytes at u = 1",
    )
    skin_weight = par(
        "tol_skin_weight",
        0.05,
        "dimensionless",
        TUNED.format(rows="AD_UCBMSC_FURESTEM_P3A_EASI50_W12_T/_P")
        + "; fitted (paired) in parameter sets CAL-2 to CAL-5"
        + ": a local depot meets few phagocytes compared with lung, spleen and liver "
        "(prior 0-1)",
        "weight of skin-local efferocytosis relative to systemic",
        upper=1.0,
    )
    loss = par(
        "tol_phagocyte_loss",
        0.03,
        "1/day",
        TUNED.format(rows=ROWS) + ": monocyte-derived macrophages keep an IDO/IL-10 "
        "programme for days to weeks (half-life ~3 weeks; prior 0.02-0.3); a shorter one "
        "makes the IV effect peak at week 4-8 instead of rising to week 16",
        "loss rate of tolerogenic phagocytes",
    )
    k_r = par(
        "itreg_induction",
        0.05,
        "1/day",
        TUNED.format(rows=ROWS) + "; fitted (paired) to AD_ATMSC_ADSTEM2025_P2_EASI75_W16_T/_P in "
        "parameter sets CAL-2 to CAL-5 (prior 0.005-1)",
        "induced-Treg gain per day at a full tolerogenic phagocyte pool",
    )
    k_mem = par(
        "itreg_loss",
        0.0077,
        "1/day",
        TUNED.format(rows=ROWS) + ": memory half-life ~3 months (prior 1-6 months)",
        "loss rate of induced regulatory T cells",
    )

    emax = par(
        "itreg_emax",
        0.8,
        "dimensionless",
        TUNED.format(rows=ROWS) + "; Tregs suppress effector cytokine production by IL-10, "
        "TGF-beta and CTLA4 (prior 0.3-0.95)",
        "maximal fraction of effector T-cell cytokine production suppressed by induced Tregs",
        upper=1.0,
    )
    ec50 = par(
        "itreg_ec50",
        1.0,
        "dimensionless",
        "assumed: induced Tregs equal to the baseline Treg pool give half the maximal "
        "suppression (sets the unit of itreg)",
        "induced Tregs giving half-maximal suppression of cytokine production",
        lower=1e-9,
    )

    skin = b.signal("msc_efferocytosis_skin")
    u = (b.signal("msc_efferocytosis_systemic") + skin_weight * skin) / ref
    b.ode(phag, induction * u * (1 - phag) - loss * phag)
    b.ode(itreg, k_r * phag - k_mem * itreg)
    pso_weight = par(
        "itreg_weight_pso",
        0.2,
        "dimensionless",
        "assumed: no controlled psoriasis MSC row; case reports (PSO_ATMSC_COMELLA2018_CASE_PASI, "
        "PSO_UCBMSC_CHEN2016_CASE_RELAPSE) show complete, lasting responses in some patients, "
        "and the bistable psoriasis core clears every plaque at the AD weight, so tempered "
        "by hand to 0.2; no psoriasis MSC effect size is claimed (prior 0-1)",
        "induced Tregs acting in psoriasis skin per unit acting in AD skin",
    )
    b.add_signal("itreg", itreg)
    b.add_signal("itreg_pso", pso_weight * itreg)
    suppressed = emax * itreg / (itreg + ec50)
    itreg_pso = pso_weight * itreg
    for name in CYTOKINE_PRODUCTION:
        factor = emax * itreg_pso / (itreg_pso + ec50) if name == "il172" else suppressed
        b.scale_parameter(name, 1 - factor)
    b.output(
        "itreg_suppression",
        suppressed,
        unit="dimensionless",
        description="fraction of effector T-cell cytokine production suppressed by induced Tregs",
    )
    b.output(
        "tolerogenic_phagocytes",
        phag,
        unit="dimensionless",
        description="tolerogenic phagocyte pool (0..1)",
    )
