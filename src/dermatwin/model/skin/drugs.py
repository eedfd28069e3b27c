"""Drug module: exposure of standard therapies, one state per target class ("slot").

Each slot has one exposure state ``drug_<slot>`` (mg/L, given by bolus events of
dose x bioavailability / volume, or a continuous input for daily oral drugs) with
first-order elimination ``<slot>_kel`` and an inhibition
``I = <slot>_emax * C^h / (C^h + <slot>_ec50^h)`` of its targets, ``h = <slot>_hill``
(1 unless the drug's catalogue entry or a calibrated set says otherwise). The PK and
potency parameters are per patient: :mod:`dermatwin.therapy.drugs` sets them to the
values of the drug given (e.g. dupilumab or a later IL-4Ra blocker in slot ``il4r``).
Two drugs of one slot therefore share its PK and potency: a same-slot switch sets the
slot's parameters at the switch time, so the first drug's remaining exposure then
decays with the second drug's half-life (documented limitation; drugs of different slots
are independent).

Couplings, all exactly neutral without exposure (I = 0, A = 0, ``tcs_on`` = 0):

* **AD cytokine blocks** compose with Miyano's on/off blocks: each ``e_X`` becomes
  ``1 - (1 - e_X) * prod(1 - I_slot)`` over the slots that block X:
  IL-4 (il4r, jak1, calcineurin), IL-13 (il4r, il13, jak1, calcineurin), IL-31 (il31ra,
  jak1, calcineurin), IL-22 (jak1), TSLP (tslp, jak1), IL-17 (il17a). JAK1 also lowers
  IFN-gamma signalling (its effect coefficients ``k9``, ``d7`` are scaled by
  ``1 - I_jak1``). Calcineurin inhibition (ciclosporin) blocks the NFAT-driven
  transcription of the Th2 cytokines in T cells that are already there (MATSUDA2000), not
  only the differentiation of new ones (the T-cell drive below), at
  ``calcineurin_cytokine_fraction`` of its inhibition (1; 0 is the knock-out): without
  it a full block lowered SCORAD by at most 40 % at weeks 6-8 (published 55 %,
  AD_CSA_META_6_8W).
* **T-cell drive** (AD Th differentiation ``k5``..``k8``; psoriasis T recruitment by
  IL-23 ``t2``) is multiplied by ``(1 - I_calcineurin)(1 - I_systemic_steroid)
  exp(steroid_rebound_gain * (A - O))(1 - I_mtx)(1 - tcs_emax * tcs_on)``, where
  ``O = C^h / (C^h + EC50^h)`` is the systemic steroid's receptor occupancy and ``A`` the
  steroid adaptation state, which relaxes to ``O`` at ``steroid_adaptation_rate``. On a
  steady course ``A`` follows ``O`` and the factor is about 1; after withdrawal ``O``
  falls within days while ``A`` fades over weeks, so the disease drive is amplified by
  up to ``exp(gain * A)``: the rebound.
* **IL-12/IL-23**: p40 (ustekinumab) scales Th1 (``k5``, IL-12) and Th17 (``k7``,
  IL-23) differentiation and IL-23 production by dendritic cells ``il232``; il23p19
  scales ``k7`` and ``il232``. The p40 inhibition is multiplied by the patient's
  ``p40_response`` (1 by default; set from HLA-C*06:02 carriage by
  :mod:`dermatwin.patients.profile`, LI2016: carriers respond better to ustekinumab,
  not to TNF or IL-17 blockers); the product is capped at 1.
* **Psoriasis cytokines**: il17a scales IL-17 production ``il172`` (the state is free
  IL-17), tnf scales ``tnf2``.
* **Methotrexate** also slows keratinocyte proliferation (``sc2``, ``ta2``, ``sc2ta``)
  by ``1 - mtx_kc_fraction * I_mtx``.
* **Topical corticosteroid**: an on/off parameter ``tcs_on`` (0 = none, else the
  preparation's relative potency, 0-1) switched by application windows.

* **Placebo/vehicle**: Miyano's barrier-forming term ``PLAC`` (on while a placebo or
  vehicle is given) acts at ``placebo_response`` of its published size in AD (1 =
  Miyano's). The psoriasis core has no vehicle term; there a placebo lowers the IL-23
  driven T recruitment ``t2`` by ``placebo_response_pso`` (0 = none). Both are
  calibrated (see :mod:`dermatwin.calibration`).
* **Placebo time course**: neither placebo term acts at once. Each disease's term reads
  an onset state (``placebo_onset_ad``, ``placebo_onset_pso``, 0-1) that follows the
  switch ``PLAC`` with a first-order time constant (``placebo_onset_days`` = 28 days,
  ``placebo_onset_days_pso`` = 14 days; assumed, as no reference row gives a placebo
  time course), so a placebo arm's score falls gradually as in trials: about half its
  week-16 change by week 4 and most by week 8 (SOLO-type AD placebo arm, mean EASI
  change -6, -23, -32, -36, -37 % at weeks 1, 4, 8, 12, 16, where the instant switch
  gave -23, -32, -36, -38, -38 %). The week 12-16 endpoints the calibration uses keep
  about their size. After a stop the response fades with the same time constant. A time
  constant of 0 is the published cores' instant switch (the knock-out).

Emollient (barrier ``emollient`` state) and UVB (Shmarov ``uv_dose``) already exist in
the cores and the barrier module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp

from dermatwin.model.skin import register
from dermatwin.model.spec import ModelBuilder

LN2 = math.log(2.0)


@dataclass(frozen=True)
class Slot:
    """A target class with one exposure state; defaults are its reference drug's."""

    name: str
    description: str
    reference_drug: str
    half_life_days: float
    half_life_source: str
    emax: float
    emax_source: str


_PLACEHOLDER = "assumed: default only; the regimen sets the value of the drug given"

SLOTS: dict[str, Slot] = {
    s.name: s
    for s in (
        Slot(
            "il4r",
            "IL-4 receptor alpha (blocks IL-4 and IL-13)",
            "dupilumab",
            16.6,
            "Zhang et al. CPT Pharmacometrics Syst Pharmacol 2021;10:941 (PMID 34313019): "
            "linear elimination 0.0418/day",
            0.99,
            "MIYANO2021 (BLOCK = 0.99)",
        ),
        Slot(
            "il13",
            "IL-13",
            "lebrikizumab",
            24.5,
            "label: Ebglyss USPI (terminal half-life about 24.5 days)",
            0.99,
            "MIYANO2021 (BLOCK = 0.99)",
        ),
        Slot(
            "il31ra",
            "IL-31 receptor alpha",
            "nemolizumab",
            18.9,
            "label: Nemluvio SmPC (terminal half-life 18.9 days, popPK)",
            0.99,
            "MIYANO2021 (BLOCK = 0.99)",
        ),
        Slot(
            "tslp",
            "TSLP",
            "tezepelumab",
            26.0,
            "label: Tezspire USPI (half-life about 26 days)",
            0.99,
            "MIYANO2021 (BLOCK = 0.99)",
        ),
        Slot(
            "jak1",
            "JAK1 (IL-4, IL-13, IL-22, IL-31, TSLP and IFN-gamma signalling)",
            "upadacitinib",
            10.0 / 24.0,
            "label: Rinvoq USPI (terminal half-life 8-14 h)",
            0.9,
            "assumed: partial block of JAK1-dependent signalling (to be calibrated)",
        ),
        Slot(
            "calcineurin",
            "calcineurin (T-cell activation)",
            "ciclosporin",
            8.4 / 24.0,
            "label: Neoral USPI (terminal half-life about 8.4 h)",
            0.7,
            "assumed: ciclosporin suppresses T-cell activation partially (to be calibrated)",
        ),
        Slot(
            "systemic_steroid",
            "glucocorticoid receptor (broad T-cell and cytokine suppression)",
            "prednisone",
            0.75,
            "assumed: biological half-life of intermediate-acting glucocorticoids 12-36 h",
            0.6,
            "assumed: broad partial suppression of the T-cell drive",
        ),
        Slot(
            "il17a",
            "IL-17A",
            "secukinumab",
            27.0,
            "label: Cosentyx USPI (mean half-life 22-31 days)",
            0.95,
            "assumed: near-complete IL-17A neutralisation (calibrate to ERASURE)",
        ),
        Slot(
            "il23p19",
            "IL-23 p19",
            "guselkumab",
            17.0,
            "label: Tremfya USPI (half-life about 17 days)",
            0.95,
            "assumed: near-complete IL-23 neutralisation (to be calibrated)",
        ),
        Slot(
            "p40",
            "IL-12/IL-23 p40",
            "ustekinumab",
            21.0,
            "label: Stelara USPI (half-life about 3 weeks)",
            0.95,
            "assumed: near-complete IL-12/IL-23 neutralisation (calibrate to PHOENIX 1)",
        ),
        Slot(
            "tnf",
            "TNF-alpha",
            "adalimumab",
            14.0,
            "label: Humira USPI (terminal half-life about 2 weeks)",
            0.9,
            "assumed: TNF neutralisation (to be calibrated)",
        ),
        Slot(
            "mtx",
            "methotrexate (antiproliferative, T-cell)",
            "methotrexate",
            7.0,
            "assumed: effect half-life about 1 week (intracellular polyglutamates; "
            "plasma half-life 3-10 h)",
            0.6,
            "assumed: partial T-cell suppression (calibrate to CHAMPION)",
        ),
    )
}

#: Miyano on/off block parameter -> slots whose inhibition composes with it
CYTOKINE_BLOCKS = {
    "e_IL4": ("il4r", "jak1", "calcineurin"),
    "e_IL13": ("il4r", "il13", "jak1", "calcineurin"),
    "e_IL31": ("il31ra", "jak1", "calcineurin"),
    "e_IL22": ("jak1",),
    "e_TSLP": ("tslp", "jak1"),
    "e_IL17": ("il17a",),
}
#: AD Th differentiation rates and psoriasis T recruitment (T-cell drive)
T_CELL_RATES = ("k5", "k6", "k7", "k8", "t2")
STEROID_ADAPTATION = "steroid_adaptation"
TCS_PARAMETER = "tcs_on"


def state_name(slot: str) -> str:
    return f"drug_{slot}"


#: assumed placebo onset: trial placebo arms reach about half their week-16 score change
#: by week 4 and most of it by week 8 (e.g. the placebo EASI curves of SOLO 1/2 and JADE
#: MONO-1); no reference row holds a placebo time course, so the value is assumed
_ONSET_SOURCE_AD = (
    "assumed: placebo arms' score curves fall gradually, about half of the week-16 change "
    "by week 4 and most by week 8 (placebo EASI curves of SOLO 1/2, Simpson 2016 NEJM "
    "375:2335, and JADE MONO-1, Simpson 2020 Lancet 396:255); 4 weeks gives 63 % of the "
    "effect at week 4, 86 % at week 8 and 95 % at week 12; no placebo time course in the "
    "reference rows"
)
_ONSET_SOURCE_PSO = (
    "assumed: the psoriasis core's own PASI response to the placebo term already takes "
    "weeks, so half the AD time constant gives the same shape (with 2 weeks the placebo "
    "arms reach about half their week-16 PASI change by week 4 and most by week 8); no "
    "psoriasis placebo time course in the reference rows"
)


def _placebo_onset(
    b: ModelBuilder, disease: str, state: str, tau_name: str, days: float, source: str
) -> tuple[sp.Symbol, sp.Symbol]:
    """The state and time constant (days) of one disease's placebo onset."""
    tau = b.parameter(
        tau_name,
        days,
        unit="day",
        source=source,
        lower=0.0,
        upper=365.0,
        description=f"time constant of the {disease} placebo response's onset and offset "
        "(0 = instant)",
    )
    onset = b.state(
        state,
        unit="dimensionless",
        initial=0.0,
        scale=1.0,
        description=f"{disease} placebo response switched on so far (0-1; follows PLAC)",
    )
    return onset, tau


def _placebo_switch(plac: sp.Symbol, onset: sp.Symbol, tau: sp.Symbol) -> sp.Expr:
    """The placebo switch as a disease's term sees it: the onset state, or at a time
    constant of 0 the switch ``PLAC`` itself (the published cores' instant response)."""
    return sp.Piecewise((plac, tau <= 0), (onset, True))


def _onset_rate(plac: sp.Symbol, onset: sp.Symbol, tau: sp.Symbol) -> sp.Expr:
    """First-order approach of the onset state to ``PLAC`` (frozen at tau = 0, unused)."""
    return sp.Piecewise((0, tau <= 0), ((plac - onset) / tau, True))


@register("drugs")
def add(b: ModelBuilder) -> None:
    inhibition: dict[str, sp.Expr] = {}
    occupancy: dict[str, sp.Expr] = {}
    for slot in SLOTS.values():
        c = b.state(
            state_name(slot.name),
            unit="mg/L",
            initial=0.0,
            scale=1.0,
            description=f"exposure of the {slot.description} blocker (bolus: dose*F/V)",
        )
        kel = b.parameter(
            f"{slot.name}_kel",
            LN2 / slot.half_life_days,
            unit="1/day",
            source=f"{slot.reference_drug}: {slot.half_life_source}",
            lower=0.0,
            description=f"elimination rate of the {slot.name} drug (ln 2 / half-life)",
        )
        ec50 = b.parameter(
            f"{slot.name}_ec50",
            1.0,
            unit="mg/L",
            source=_PLACEHOLDER,
            lower=1e-12,
            description=f"exposure giving half the maximal {slot.name} inhibition",
        )
        emax = b.parameter(
            f"{slot.name}_emax",
            slot.emax,
            unit="dimensionless",
            source=f"{slot.reference_drug}: {slot.emax_source}",
            lower=0.0,
            upper=1.0,
            description=f"maximal inhibition of the {slot.description} pathway",
        )
        hill = b.parameter(
            f"{slot.name}_hill",
            1.0,
            unit="dimensionless",
            source=_PLACEHOLDER,
            lower=1.0,
            upper=6.0,
            description=f"Hill coefficient of the {slot.name} exposure response",
        )
        b.ode(c, -kel * c)
        # zero without exposure, and for a solver's round-off below zero (a fractional
        # power of it, or of 0 in the Jacobian's h * C^h / C, would be NaN)
        occupancy[slot.name] = sp.Piecewise((0, c <= 0), (c**hill / (c**hill + ec50**hill), True))
        inhibition[slot.name] = emax * occupancy[slot.name]

    adapt = b.state(
        STEROID_ADAPTATION,
        unit="dimensionless",
        initial=0.0,
        scale=1.0,
        description="adaptation to systemic corticosteroid (drives rebound after withdrawal)",
    )
    k_adapt = b.parameter(
        "steroid_adaptation_rate",
        LN2 / 7.0,
        unit="1/day",
        source="assumed: adaptation builds and fades with a half-time of about 1 week "
        "(no quantitative data; to be calibrated)",
        lower=0.0,
        description="rate at which steroid adaptation follows the steroid occupancy",
    )
    gain = b.parameter(
        "steroid_rebound_gain",
        2.0,
        unit="dimensionless",
        source="assumed: with full adaptation the T-cell drive is exp(2) = 7.4x at "
        "withdrawal; a 4-week prednisone course then overshoots the untreated EASI "
        "transiently (no quantitative data; to be calibrated)",
        lower=0.0,
        description="amplification of the T-cell drive per unit of steroid adaptation",
    )
    tcs_on = b.parameter(
        TCS_PARAMETER,
        0.0,
        unit="dimensionless",
        source="assumed: on/off switch; set to the preparation's relative potency while "
        "applied (dermatwin.therapy.drugs)",
        lower=0.0,
        upper=1.0,
        description="topical corticosteroid on the skin (relative potency, 0 = none)",
    )
    tcs_emax = b.parameter(
        "tcs_emax",
        0.5,
        unit="dimensionless",
        source="assumed: a potent TCS halves the local T-cell drive (to be calibrated)",
        lower=0.0,
        upper=1.0,
        description="inhibition of the local T-cell drive by a potent topical steroid",
    )
    p40_response = b.parameter(
        "p40_response",
        1.0,
        unit="dimensionless",
        source="LI2016 for the direction (per patient: HLA-C*06:02 carriers respond better "
        "to p40 blockade); assumed: the spread, chosen to give its 17.9-point PASI-75 gap "
        "(values in dermatwin.patients.profile)",
        lower=0.0,
        upper=3.0,
        description="patient's responsiveness to IL-12/IL-23 p40 blockade (x the inhibition)",
    )
    mtx_kc = b.parameter(
        "mtx_kc_fraction",
        0.3,
        unit="dimensionless",
        source="assumed: antiproliferative effect on keratinocytes smaller than on T cells",
        lower=0.0,
        upper=1.0,
        description="share of the methotrexate inhibition acting on keratinocyte proliferation",
    )
    cn_cytokines = b.parameter(
        "calcineurin_cytokine_fraction",
        1.0,
        unit="dimensionless",
        source="MATSUDA2000 (NFAT-driven Th2 cytokine transcription needs calcineurin); "
        "assumed: the whole calcineurin inhibition acts on it",
        lower=0.0,
        upper=1.0,
        description="share of the calcineurin inhibition that blocks T-cell IL-4, IL-13 and "
        "IL-31 (0 = knock-out: T-cell drive only)",
    )

    placebo_ad = b.parameter(
        "placebo_response",
        1.0,
        unit="dimensionless",
        source="MIYANO2021 (PLAC term at its published size); calibrated in CAL-1 to CAL-5",
        lower=0.0,
        description="size of the AD placebo/vehicle barrier term relative to Miyano's",
    )
    placebo_pso = b.parameter(
        "placebo_response_pso",
        0.0,
        unit="dimensionless",
        source="assumed: none by default; calibrated in CAL-1 to CAL-5",
        lower=0.0,
        upper=1.0,
        description="fraction of psoriasis T recruitment (t2) removed while a placebo is given",
    )
    plac = b.symbol("PLAC")
    onset_ad, tau_ad = _placebo_onset(
        b, "AD", "placebo_onset_ad", "placebo_onset_days", 28.0, _ONSET_SOURCE_AD
    )
    onset_pso, tau_pso = _placebo_onset(
        b, "psoriasis", "placebo_onset_pso", "placebo_onset_days_pso", 14.0, _ONSET_SOURCE_PSO
    )
    b.substitute({plac: _placebo_switch(plac, onset_ad, tau_ad) * placebo_ad})
    # after the AD substitution, so that the psoriasis term and the onset states read the
    # switch itself
    b.scale_parameter("t2", 1 - placebo_pso * _placebo_switch(plac, onset_pso, tau_pso))
    b.ode(onset_ad, _onset_rate(plac, onset_ad, tau_ad))
    b.ode(onset_pso, _onset_rate(plac, onset_pso, tau_pso))

    i_ss = inhibition["systemic_steroid"]
    occ_ss = occupancy["systemic_steroid"]
    b.ode(adapt, k_adapt * (occ_ss - adapt))

    # Miyano on/off blocks compose with the exposure-driven ones
    mapping = {}
    block = dict(inhibition, calcineurin=cn_cytokines * inhibition["calcineurin"])
    for par, slots in CYTOKINE_BLOCKS.items():
        e = b.symbol(par)
        remaining = sp.Mul(*(1 - block[s] for s in slots))
        mapping[e] = 1 - (1 - e) * remaining
    b.substitute(mapping)

    i_jak = inhibition["jak1"]
    for name in ("k9", "d7"):
        b.scale_parameter(name, 1 - i_jak)

    t_drive = (
        (1 - inhibition["calcineurin"])
        * (1 - i_ss)
        * sp.exp(gain * (adapt - occ_ss))
        * (1 - inhibition["mtx"])
        * (1 - tcs_emax * tcs_on)
    )
    for name in T_CELL_RATES:
        b.scale_parameter(name, t_drive)
    # capped: a carrier's factor (1.108) times a near-full block must not pass 1
    i_p40 = sp.Min(1, p40_response * inhibition["p40"])
    b.scale_parameter("k5", 1 - i_p40)
    b.scale_parameter("k7", (1 - i_p40) * (1 - inhibition["il23p19"]))
    b.scale_parameter("il232", (1 - i_p40) * (1 - inhibition["il23p19"]))
    b.scale_parameter("il172", 1 - inhibition["il17a"])
    b.scale_parameter("tnf2", 1 - inhibition["tnf"])
    for name in ("sc2", "ta2", "sc2ta"):
        b.scale_parameter(name, 1 - mtx_kc * inhibition["mtx"])

    for slot, expr in inhibition.items():
        b.output(
            f"inhibition_{slot}",
            expr,
            unit="dimensionless",
            description=f"fraction of the {SLOTS[slot].description} pathway inhibited",
        )
