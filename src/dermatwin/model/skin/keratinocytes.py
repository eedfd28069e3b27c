"""Keratinocyte module: basal cycle time, epidermal thickness and wound re-epithelialisation.

Reads the keratinocyte compartments of the psoriasis core (Shmarov 2022: stem ``SC``,
transit-amplifying ``TA``, differentiated ``D`` keratinocytes, cells/mm2, driven by
``c = IL17_pso + TNF``) and adds one state of its own, ``wound``. It writes nothing into
the cores.

* **Basal cycle time** (output ``basal_cycle_time``, h). The mechanistic part is the
  core's division rate per proliferative (SC + TA) keratinocyte::

      r = c * ((sc2 + sc2ta) * SC + ta2 * TA) / (SC + TA)        (1/day)

  (an SC self-renewal ``sc2``, an SC -> TA division ``sc2ta`` and a TA division ``ta2``
  each count as one division). In the core's healthy steady state ``r`` = 0.0849/day
  (24/r = 283 h, close to the measured 311 h, BAR-01) and in its plaque ``r`` = 0.261/day
  (92 h, against 36 h measured, BAR-02): the core speeds proliferation only 3.1-fold
  (its proliferative compartment turns over in 21 vs 7 days, BAR-52/53), whereas
  Weinstein et al. measured an 8.6-fold shorter cycle (and a 14.6-fold larger output
  per proliferative cell, BAR-07d/08d). The read-out is therefore a *calibrated*
  log-log map through both measured anchors::

      basal_cycle_time = T_healthy * (r / r_healthy) ** (-gamma)
      gamma = ln(T_healthy / T_plaque) / ln(r_plaque / r_healthy) = 1.92

  with ``r_healthy``, ``r_plaque`` the core's division rates at its published healthy
  and plaque steady states (SHMAROV2022) and ``T_healthy`` = 311 h, ``T_plaque`` = 36 h
  (BAR-01, BAR-02). So it gives 311 h and 36 h exactly at the two steady states and
  interpolates monotonically (shorter cycle with more IL-17/TNF) in between; only the
  ordering and the core's proliferation rate are mechanistic, the 8.6-fold span is
  calibrated.
* **Epidermal thickness** (output ``epidermal_thickness``, healthy = 1): the core's
  keratinocytes ``SC + TA + D`` relative to its healthy steady state (76,701 cells/mm2),
  i.e. thickness is taken proportional to keratinocytes per mm2 of skin surface. Not
  calibrated: the core's plaque gives 3.34, against a 3-fold epidermal area in
  psoriatic lesions (ANG-16; the core's own design value, BAR-51, is also 3).
* **Wound** (state ``wound``, dimensionless): the fraction of a treated area not yet
  re-epithelialised (0 intact .. 1 fully open, initial 0; an injury is a ``SET_STATE``
  event to a value <= 1). It closes first-order by keratinocyte migration and
  proliferation, sped by MSC growth factors (signal ``msc_growth_factors``, KGF/HGF,
  au; 0 without MSC)::

      d wound/dt = -k_reepi * (1 + emax * GF / (GF + ec50)) * wound

  ``k_reepi`` = ln(1/0.03)/14 days: 3 % of a deep wound is still open at day 14
  without help (SCA-10). The state is the one injury of the model: it feeds the signal
  ``wound``, read by the dermis (scarring), macrophage and cytokine (wound inflammation)
  and vasculature (hypoxia) modules, and the output ``wound_open``.

Without MSC the wound term has no effect on any core state, and the cycle time and
thickness are read-outs, so every core trajectory is unchanged.

>>> from dermatwin.model.skin.keratinocytes import cycle_exponent
>>> round(cycle_exponent(), 2)
1.92
"""

from __future__ import annotations

import math

from dermatwin.model.parameters import read_table
from dermatwin.model.reference.shmarov2022 import PUBLISHED_PLAQUE
from dermatwin.model.skin import register
from dermatwin.model.spec import ModelBuilder

HOURS_PER_DAY = 24.0
#: measured basal keratinocyte cycle times (h): healthy BAR-01, psoriatic plaque BAR-02
CYCLE_HEALTHY_H = 311.0
CYCLE_PLAQUE_H = 36.0
#: a deep wound has this fraction left open after WOUND_CLOSURE_DAYS without therapy
#: (SCA-10: re-epithelialisation complete by day 14 in the rabbit-ear model; 3 % taken)
WOUND_CLOSURE_DAYS = 14.0
WOUND_CLOSED_FRACTION = 0.03


def _core_rates() -> dict[str, float]:
    return {r["name"]: float(r["value"]) for r in read_table("shmarov2022")}


def core_steady_states() -> dict[str, dict[str, float]]:
    """SC, TA, D, IL-17, TNF and c = IL-17 + TNF of the Shmarov core's healthy and plaque
    states."""
    healthy = {r["state"]: float(r["value"]) for r in read_table("shmarov2022_healthy_state")}
    plaque = {k: float(v) for k, v in PUBLISHED_PLAQUE.items()}
    out = {}
    for label, st in (("healthy", healthy), ("plaque", plaque)):
        out[label] = {
            "SC": st["SC"],
            "TA": st["TA"],
            "D": st["D"],
            "IL17": st["IL17"],
            "TNF": st["TNF"],
            "c": st["IL17"] + st["TNF"],
        }
    return out


def division_rate(sc, ta, c, k=None):
    """Divisions per proliferative (SC + TA) keratinocyte per day in the Shmarov core
    (numbers, or sympy symbols with ``k`` mapping the rate names to symbols)."""
    k = _core_rates() if k is None else k
    return c * ((k["sc2"] + k["sc2ta"]) * sc + k["ta2"] * ta) / (sc + ta)


def reference_division_rates() -> tuple[float, float]:
    """The core's division rate (1/day) in its healthy and its plaque steady state."""
    ss = core_steady_states()
    return tuple(division_rate(s["SC"], s["TA"], s["c"]) for s in (ss["healthy"], ss["plaque"]))


def cycle_exponent() -> float:
    """gamma of the calibrated map: log cycle-time ratio over log division-rate ratio."""
    r_h, r_p = reference_division_rates()
    return math.log(CYCLE_HEALTHY_H / CYCLE_PLAQUE_H) / math.log(r_p / r_h)


def healthy_keratinocytes() -> float:
    """SC + TA + D (cells/mm2) in the Shmarov core's healthy steady state."""
    h = core_steady_states()["healthy"]
    return h["SC"] + h["TA"] + h["D"]


@register("keratinocytes")
def add(b: ModelBuilder) -> None:
    sym = b.symbol
    sc, ta, d = sym("SC"), sym("TA"), sym("D")
    c = sym("IL17_pso") + sym("TNF")
    r_h, _ = reference_division_rates()

    t_h = b.parameter(
        "kc_cycle_healthy",
        CYCLE_HEALTHY_H,
        unit="h",
        source="BAR-01",
        lower=0.0,
        description="basal keratinocyte cycle time in healthy epidermis (calibration anchor)",
    )
    gamma = b.parameter(
        "kc_cycle_exponent",
        cycle_exponent(),
        unit="dimensionless",
        source=(
            "calibrated: ln(311 h / 36 h) / ln(r_plaque / r_healthy) so the map gives the "
            "measured psoriatic cycle (BAR-02) at the core's plaque (SHMAROV2022)"
        ),
        lower=0.0,
        description="exponent of the map from core division rate to basal cycle time",
    )
    r_ref = b.parameter(
        "kc_division_healthy",
        r_h,
        unit="1/day",
        source="SHMAROV2022: division rate per SC + TA cell at the published healthy state",
        lower=1e-12,
        description="core division rate per proliferative keratinocyte in healthy skin",
    )
    k_ref = b.parameter(
        "kc_healthy",
        healthy_keratinocytes(),
        unit="cell/mm2",
        source="SHMAROV2022: SC + TA + D at the published healthy steady state",
        lower=1e-12,
        description="keratinocytes per mm2 of healthy epidermis (thickness = 1)",
    )
    k_reepi = b.parameter(
        "wound_closure_rate",
        math.log(1.0 / WOUND_CLOSED_FRACTION) / WOUND_CLOSURE_DAYS,
        unit="1/day",
        source=(
            "SCA-10: re-epithelialisation complete by day 14 (rabbit ear); first-order, "
            "3 % left open at 14 days"
        ),
        lower=0.0,
        description="baseline re-epithelialisation rate of an open wound",
    )
    gf_emax = b.parameter(
        "wound_gf_emax",
        1.0,
        unit="dimensionless",
        source=(
            "assumed: saturating KGF/HGF from MSC at most doubles the closure rate "
            "(as gf_barrier_emax; no human dose-response data)"
        ),
        lower=0.0,
        description="maximal fold increase of re-epithelialisation by MSC growth factors",
    )
    gf_ec50 = b.parameter(
        "wound_gf_ec50",
        1.0,
        unit="au",
        source="assumed: MSC growth-factor signal scaled so 1 au is half-maximal",
        lower=1e-9,
        description="MSC growth-factor level giving half the maximal effect on closure",
    )
    wound = b.state(
        "wound",
        unit="dimensionless",
        initial=0.0,
        scale=1.0,
        description="fraction of the treated area not yet re-epithelialised (0..1)",
        source="assumed: 0 intact skin; an injury sets it (SET_STATE event) to <= 1",
    )

    gf = b.signal("msc_growth_factors")
    b.ode(wound, -k_reepi * (1 + gf_emax * gf / (gf + gf_ec50)) * wound)
    b.add_signal("wound", wound)

    rate = division_rate(sc, ta, c, {n: sym(n) for n in ("sc2", "sc2ta", "ta2")})
    b.output(
        "kc_division_rate",
        rate,
        unit="1/day",
        description="divisions per proliferative (SC + TA) keratinocyte per day (core)",
    )
    b.output(
        "basal_cycle_time",
        t_h * (rate / r_ref) ** (-gamma),
        unit="h",
        description=(
            "basal keratinocyte cycle time (calibrated map of the core division rate: "
            "311 h healthy, 36 h plaque)"
        ),
    )
    b.output(
        "epidermal_thickness",
        (sc + ta + d) / k_ref,
        unit="dimensionless",
        description="epidermal thickness relative to healthy skin (keratinocytes per mm2)",
    )
    b.output(
        "wound_open",
        wound,
        unit="dimensionless",
        description="fraction of the treated area still open (not re-epithelialised)",
    )
