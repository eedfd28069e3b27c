"""Vasculature module: keratinocyte VEGF, dermal vessel density and erythema.

Two states, both relative to healthy skin (= 1), read from the psoriasis core (Shmarov
2022: keratinocytes ``SC + TA + D``, cytokines ``c = IL17_pso + TNF``) and from the MSC
growth-factor signal. Nothing is written into the cores.

* **VEGF** (state ``VEGF``, healthy = 1). Produced by keratinocytes: the amount scales
  with the number of keratinocytes (``K = SC + TA + D`` over its healthy value ``K_h``)
  times an expression per cell induced by IL-17 and TNF, plus VEGF secreted by given
  MSC; first-order loss::

      dVEGF/dt = k_vegf * ((K / K_h) * (1 - f + f * (c / c_h) ** n_vegf)
                           + vegf_per_gf * (1 + (hypoxia_fold - 1) * wound) * GF - VEGF)

  ``c_h`` is IL-17 + TNF of the core's healthy state and ``f`` = 0.5 the assumed
  cytokine-dependent share of healthy keratinocyte VEGF (the rest is constitutive, so
  VEGF per cell never falls below half of healthy when IL-17/TNF fall below their
  healthy level, e.g. when MSC suppress the T cells of healthy skin). The exponent
  ``n_vegf`` = 2.42 is calibrated so that the core's plaque (3.34-fold keratinocytes,
  3.07-fold IL-17 + TNF) has 27-fold VEGF: the VEGF-A positive area of psoriatic
  lesions is 29-fold healthy in the epidermis (ANG-12) and 25-fold in the dermis
  (ANG-13). About 8-fold of it is more VEGF per keratinocyte (about half of plaque
  keratinocytes are VEGF positive, ANG-20), the rest a thicker epidermis. ``GF`` is the
  ``msc_growth_factors`` signal (au; 0 without MSC): MSC secrete VEGF (ANG-01), 5-fold
  more under hypoxia (ANG-04, ANG-05), taken here to be the open part of a wound (signal
  ``wound`` from the keratinocyte module, 0 when absent). ``vegf_per_gf`` is assumed
  (1 au of growth factors doubles healthy VEGF). Note that given MSC also suppress the
  psoriasis core's T cells (immune module), even in healthy skin; there IL-17/TNF fall
  below healthy, and after the growth factors are gone VEGF (about 0.6) and vessel
  density (about 0.8) dip below healthy for weeks. The atopic dermatitis core has no
  keratinocytes or TNF and there are no vessel data for AD lesions in the reference
  tables, so AD vessels are left out: AD inflammation does not change VEGF here.
* **Vessel density** (state ``vessel_density``, healthy = 1): VEGF-driven angiogenesis
  and regression towards a VEGF-set target with one time constant::

      d vessel_density/dt = k_vessel * (v_max * VEGF / (VEGF + ec50) - vessel_density)
      v_max = 1 + ec50

  so it is 1 at healthy VEGF and saturates at ``v_max``. ``ec50`` = 2.01 VEGF-fold is
  calibrated so that plaque VEGF (27) gives the measured 2.8-fold vessel area of
  psoriatic lesions (ANG-10): the vessel response is saturated in a plaque (v_max 3.0),
  consistent with the moderate correlation of keratinocyte VEGF with microvessel density
  (r = 0.66, ANG-22). ``k_vessel`` (half-time 14 days) is assumed: vessels regress over
  weeks once VEGF is withdrawn. When a plaque clears (UVB, T cells removed) VEGF falls
  within a day and the vessels follow over weeks.
* **Erythema** (output ``erythema``, PASI redness 0-4), an assumed, calibrated map from
  the vessel excess ``x = max(vessel_density - 1, 0)``::

      erythema = 4 * x / (x + erythema_half)

  0 in healthy skin, 3 ("marked") at the plaque's 2.8-fold vessel density
  (``erythema_half`` = 0.6), saturating at 4.
* **Signal** ``vegf`` = ``VEGF - 1`` (excess over healthy skin) for other modules.

**Path to disease: vessels made by MSC VEGF carry more leukocytes in.** The psoriasis
core was fitted to plaques with their own vessels (its IL-23-driven T recruitment ``t2``
contains them), so only the vessels MSC add are fed back. Since the VEGF equation is
linear, the MSC-made part is a state of its own, ``VEGF_msc`` (same loss,
``dVEGF_msc/dt = k_vegf * (msc_term - VEGF_msc)``), and a shadow state
``vessel_density_core`` follows the vessel equation with ``VEGF - VEGF_msc`` (the
vessels the core's own keratinocytes and cytokines would give). Leukocytes enter in
proportion to vessel area (assumed), so ``t2`` is multiplied by
``(vessel_density / vessel_density_core) ** vessel_influx_exp``: exactly 1 without MSC.
The direction is pro-inflammatory: VEGF is a driver of psoriatic inflammation (VEGF-A
is 25-29-fold raised in plaques, ANG-12, ANG-13), so MSC growth factors slightly oppose
their anti-inflammatory paths; in a plaque the vessel response is near saturation, so
the effect is small (stated in docs/model.md). Erythema stays a read-out (PASI here is
the core's index times the patient's plaque PASI, without its own redness term).
Knock-out: ``vessel_influx_exp`` = 0.

The cores are read and, only through MSC-made vessels, written; without MSC every core
trajectory is unchanged.

>>> from dermatwin.model.skin.vasculature import vegf_exponent, vessel_ec50
>>> round(vegf_exponent(), 2), round(vessel_ec50(), 2)
(2.42, 2.01)
"""

from __future__ import annotations

import math

import sympy as sp

from dermatwin.model.skin import register
from dermatwin.model.skin.keratinocytes import core_steady_states, healthy_keratinocytes
from dermatwin.model.spec import ModelBuilder

#: VEGF-A positive area of psoriatic lesions over healthy skin: mean of ANG-12 and ANG-13
VEGF_PLAQUE_FOLD = (29.0 + 25.0) / 2
#: blood vessel area of psoriatic lesions over healthy skin (ANG-10)
VESSEL_PLAQUE_FOLD = 2.8
#: PASI erythema score taken for a chronic plaque (assumed: "marked")
ERYTHEMA_PLAQUE = 3.0
ERYTHEMA_MAX = 4.0
#: share of healthy keratinocyte VEGF that depends on IL-17/TNF (assumed)
VEGF_INDUCIBLE_FRACTION = 0.5


def vegf_exponent(inducible: float = VEGF_INDUCIBLE_FRACTION) -> float:
    """n_vegf: plaque VEGF fold = keratinocyte fold * (1 - f + f * cytokine fold ** n)."""
    ss = core_steady_states()
    h, p = ss["healthy"], ss["plaque"]
    kc_fold = (p["SC"] + p["TA"] + p["D"]) / (h["SC"] + h["TA"] + h["D"])
    per_cell = VEGF_PLAQUE_FOLD / kc_fold
    return math.log((per_cell - 1 + inducible) / inducible) / math.log(p["c"] / h["c"])


def vessel_ec50() -> float:
    """ec50 of the vessel target so that VEGF 27 gives 2.8-fold vessels (and 1 gives 1)."""
    v, d = VEGF_PLAQUE_FOLD, VESSEL_PLAQUE_FOLD
    return v * (d - 1) / (v - d)


@register("vasculature")
def add(b: ModelBuilder) -> None:
    sym = b.symbol
    kc = sym("SC") + sym("TA") + sym("D")
    c = sym("IL17_pso") + sym("TNF")

    kc_h = b.parameter(
        "vegf_kc_healthy",
        healthy_keratinocytes(),
        unit="cell/mm2",
        source="SHMAROV2022: SC + TA + D at the published healthy steady state",
        lower=1e-12,
        description="keratinocytes per mm2 of healthy skin (VEGF-producing mass = 1)",
    )
    c_h = b.parameter(
        "vegf_cytokine_healthy",
        core_steady_states()["healthy"]["c"],
        unit="au",
        source="SHMAROV2022: IL-17 + TNF at the published healthy steady state",
        lower=1e-12,
        description="IL-17 + TNF of healthy skin (per-cell VEGF expression = 1)",
    )
    n_v = b.parameter(
        "vegf_cytokine_exponent",
        vegf_exponent(),
        unit="dimensionless",
        source=(
            "calibrated: the core's plaque gives 27-fold VEGF-A (ANG-12 29x epidermis, "
            "ANG-13 25x dermis) with its 3.34-fold keratinocytes and 3.07-fold IL-17 + TNF "
            "(given vegf_inducible_fraction 0.5)"
        ),
        lower=0.0,
        description="sensitivity of keratinocyte VEGF expression to IL-17 + TNF",
    )
    f_ind = b.parameter(
        "vegf_inducible_fraction",
        VEGF_INDUCIBLE_FRACTION,
        unit="dimensionless",
        source=(
            "assumed: half of healthy keratinocyte VEGF depends on IL-17/TNF, half is "
            "constitutive (normal epidermis expresses VEGF at a low level)"
        ),
        lower=0.0,
        upper=1.0,
        description="cytokine-dependent share of healthy keratinocyte VEGF expression",
    )
    k_v = b.parameter(
        "vegf_loss",
        math.log(2) / 0.5,
        unit="1/day",
        source=(
            "assumed: half-life 12 h; free VEGF-A is cleared from plasma in minutes to an "
            "hour, matrix-bound tissue VEGF and its expression change over hours"
        ),
        lower=0.0,
        description="first-order loss of tissue VEGF",
    )
    per_gf = b.parameter(
        "vegf_per_gf",
        1.0,
        unit="1/au",
        source=(
            "assumed: 1 au of MSC growth factors (1e8 licensed cells) doubles healthy-skin "
            "VEGF; MSC secrete VEGF (ANG-01) but tissue levels after a dose are unmeasured"
        ),
        lower=0.0,
        description="VEGF (healthy = 1) produced per au of MSC growth-factor signal",
    )
    hyp = b.parameter(
        "vegf_hypoxia_fold",
        5.0,
        unit="dimensionless",
        source="ANG-05 (ANG-04 vs ANG-01: 5980 vs 1203 pg per 1e6 ASC)",
        lower=1.0,
        description="fold increase of MSC VEGF secretion under hypoxia (open wound)",
    )
    k_ves = b.parameter(
        "vessel_turnover",
        math.log(2) / 14.0,
        unit="1/day",
        source=(
            "assumed: half-time 2 weeks; VEGF-dependent dermal capillaries grow and regress "
            "over weeks (erythema of treated plaques fades over weeks)"
        ),
        lower=0.0,
        description="rate at which vessel density approaches its VEGF-set target",
    )
    ec50 = b.parameter(
        "vessel_vegf_ec50",
        vessel_ec50(),
        unit="dimensionless",
        source=(
            "calibrated: plaque VEGF 27 gives the 2.8-fold vessel area of psoriatic "
            "lesions (ANG-10); healthy VEGF 1 gives 1"
        ),
        lower=1e-9,
        description="VEGF (healthy = 1) giving half the maximal vessel density",
    )
    e_half = b.parameter(
        "erythema_half",
        (VESSEL_PLAQUE_FOLD - 1) * (ERYTHEMA_MAX - ERYTHEMA_PLAQUE) / ERYTHEMA_PLAQUE,
        unit="dimensionless",
        source=(
            "assumed/calibrated: PASI erythema 3 ('marked') at the plaque's 2.8-fold "
            "vessel density (ANG-10)"
        ),
        lower=1e-9,
        description="vessel density excess giving half the maximal erythema score",
    )
    influx = b.parameter(
        "vessel_influx_exp",
        1.0,
        unit="dimensionless",
        source="assumed (prior 0-2): leukocyte extravasation in proportion to vessel area",
        lower=0.0,
        description="exponent of T-cell recruitment (t2) on MSC-made extra vessel density",
    )
    vegf = b.state(
        "VEGF",
        unit="dimensionless",
        initial=1.0,
        scale=1.0,
        description="VEGF-A in skin relative to healthy skin",
        source="ANG-12, ANG-13 (healthy skin = 1; psoriatic plaque 25-29)",
    )
    ves = b.state(
        "vessel_density",
        unit="dimensionless",
        initial=1.0,
        scale=1.0,
        description="dermal blood vessel area relative to healthy skin",
        source="ANG-10 (healthy skin = 1; psoriatic plaque 2.8)",
    )

    vegf_m = b.state(
        "VEGF_msc",
        unit="dimensionless",
        initial=0.0,
        scale=1.0,
        description="the part of skin VEGF-A made by given MSC (healthy skin VEGF = 1)",
    )
    ves_core = b.state(
        "vessel_density_core",
        unit="dimensionless",
        initial=1.0,
        scale=1.0,
        description="vessel density the skin's own VEGF would give (without MSC-made VEGF)",
    )

    gf = b.signal("msc_growth_factors")
    wound = b.signal("wound")
    kc_prod = (kc / kc_h) * (1 - f_ind + f_ind * (c / c_h) ** n_v)
    msc_prod = per_gf * (1 + (hyp - 1) * wound) * gf
    b.ode(vegf, k_v * (kc_prod + msc_prod - vegf))
    b.ode(vegf_m, k_v * (msc_prod - vegf_m))

    def target(v):
        return (1 + ec50) * v / (v + ec50)

    b.ode(ves, k_ves * (target(vegf) - ves))
    b.ode(ves_core, k_ves * (target(vegf - vegf_m) - ves_core))
    b.scale_parameter("t2", (ves / ves_core) ** influx)
    b.add_signal("vegf", vegf - 1)

    excess = sp.Max(ves - 1, 0)
    b.output(
        "erythema",
        ERYTHEMA_MAX * excess / (excess + e_half),
        unit="dimensionless",
        description="PASI erythema (redness) score 0-4 from vessel density (calibrated map)",
    )
