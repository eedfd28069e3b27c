"""Barrier module: TEWL and hydration read-outs, filaggrin loss, emollient, MSC growth factors.

Couples to the atopic dermatitis core (Miyano 2021) only through its barrier integrity
``s`` and its barrier formation rate ``k1``:

* **Read-outs.** Transepidermal water loss (TEWL, g/m2/h) and stratum corneum hydration
  (corneometer units, au) are functions of ``s`` alone, log-linear in the barrier
  defect ``1 - s``::

      TEWL = TEWL_healthy * (TEWL_lesional / TEWL_healthy) ** ((1 - s) / (1 - s_lesional))

  and likewise for hydration. Two anchors calibrate each map: an intact barrier
  (``s = 1``) is healthy skin (TEWL 11.6, BAR-30; hydration 50.73, BAR-33), and the
  steady state of Miyano's typical patient (``s_lesional`` = 0.5283, EASI 25.2) is an
  eczematous lesion (TEWL 28.68, BAR-32; hydration 25.2, BAR-35). AD non-lesional skin
  is not fitted: taken as the same patient's skin cleared by dupilumab (steady state
  ``s`` = 0.930, EASI 5.5), the map predicts TEWL 13.27 against 13.15 measured (BAR-31)
  and hydration 45.7 against 40.95 (BAR-34; hydration is over-predicted by 12 %,
  because non-lesional AD skin has less natural moisturising factor than its barrier
  integrity alone implies).
* **Filaggrin loss of function.** ``flg_loss`` (0 or 1 per virtual patient; about 19 %
  of AD patients carry a null mutation, PER-10) multiplies the barrier formation rate
  ``k1`` by ``1 - flg_k1_reduction``: barrier integrity falls, TEWL and EASI rise.
* **Emollient.** State ``emollient`` (applications on the skin, au; give it with
  ``bolus`` events, 1 au per application) washes off at ``emollient_loss`` and adds a
  barrier formation term ``(1 - s) * k_emollient * E / (E + emollient_ec50)`` to ``ds/dt``
  (maximal rate that of Miyano's vehicle, ``k3``); it acts physically, so it is not
  inhibited by Th2 cytokines. The term is exactly 0 without emollient.
* **MSC growth factors.** The ``msc_growth_factors`` signal (KGF/HGF/TGF-beta/VEGF, au;
  0 without MSC) speeds barrier repair: ``k1`` is multiplied by
  ``1 + gf_barrier_emax * GF / (GF + gf_barrier_ec50)``, exactly 1 without signal.

With ``flg_loss = 0``, no emollient and no MSC signal, every core equation is unchanged.
"""

from __future__ import annotations

from dermatwin.model.skin import register
from dermatwin.model.spec import ModelBuilder

DAYS_PER_WEEK = 7.0

#: steady-state barrier integrity of Miyano's typical patient (lesional anchor)
S_LESIONAL = 0.5283


@register("barrier")
def add(b: ModelBuilder) -> None:
    s = b.symbol("s")
    tewl_h = b.parameter(
        "tewl_healthy",
        11.6,
        unit="g/m2/h",
        source="BAR-30",
        lower=0.0,
        description="TEWL of healthy skin (intact barrier, s = 1), volar forearm",
    )
    tewl_l = b.parameter(
        "tewl_lesional",
        28.68,
        unit="g/m2/h",
        source="BAR-32",
        lower=0.0,
        description="TEWL of an AD eczematous lesion (at s = s_lesional)",
    )
    sch_h = b.parameter(
        "hydration_healthy",
        50.73,
        unit="au",
        source="BAR-33",
        lower=0.0,
        description="stratum corneum hydration of healthy skin (corneometer units, s = 1)",
    )
    sch_l = b.parameter(
        "hydration_lesional",
        25.2,
        unit="au",
        source="BAR-35",
        lower=0.0,
        description="stratum corneum hydration of an AD lesion (corneometer units)",
    )
    s_les = b.parameter(
        "s_lesional",
        S_LESIONAL,
        unit="au",
        source="MIYANO2021: steady-state barrier integrity of the typical patient (EASI 25.2)",
        lower=0.0,
        upper=0.999,
        description="barrier integrity taken as lesional skin in the TEWL/hydration maps",
    )
    flg = b.parameter(
        "flg_loss",
        0.0,
        unit="dimensionless",
        source="PER-10 (19.1 % of AD patients carry an FLG loss-of-function mutation)",
        lower=0.0,
        upper=1.0,
        description="filaggrin loss-of-function carrier (0 or 1)",
    )
    flg_red = b.parameter(
        "flg_k1_reduction",
        0.3,
        unit="dimensionless",
        source=(
            "assumed: no measured effect on barrier formation; 0.3 raises the typical "
            "patient's EASI 25.2 -> 32 and TEWL 28.7 -> 38 (FLG carriers have more severe "
            "disease, PER-12)"
        ),
        lower=0.0,
        upper=1.0,
        description="fraction of barrier formation k1 lost with an FLG null mutation",
    )
    em = b.state(
        "emollient",
        unit="au",
        initial=0.0,
        scale=1.0,
        description="emollient on the skin (applications; give by bolus events of 1)",
    )
    em_loss = b.parameter(
        "emollient_loss",
        2.0,
        unit="1/day",
        source="assumed: emollient effect lasts hours (half-life ~8 h on the skin)",
        lower=0.0,
        description="loss of emollient from the skin surface",
    )
    em_rate = b.parameter(
        "k_emollient",
        7.77,
        unit="1/week",
        source="MIYANO2021 (k3, vehicle/emollient barrier formation, used as the maximum)",
        lower=0.0,
        description="maximal barrier formation rate added by emollient",
    )
    em_ec50 = b.parameter(
        "emollient_ec50",
        0.5,
        unit="au",
        source="assumed: half-maximal at half an application left on the skin",
        lower=1e-9,
        description="emollient amount giving half the maximal effect",
    )
    gf_emax = b.parameter(
        "gf_barrier_emax",
        1.0,
        unit="dimensionless",
        source="assumed: saturating KGF/HGF at most doubles barrier formation (no data)",
        lower=0.0,
        description="maximal fold increase of barrier formation k1 by MSC growth factors",
    )
    gf_ec50 = b.parameter(
        "gf_barrier_ec50",
        1.0,
        unit="au",
        source="assumed: MSC growth-factor signal scaled so 1 au is half-maximal",
        lower=1e-9,
        description="MSC growth-factor level giving half the maximal effect on k1",
    )

    gf = b.signal("msc_growth_factors")
    b.ode(em, -em_loss * em)
    b.scale_parameter("k1", (1 - flg_red * flg) * (1 + gf_emax * gf / (gf + gf_ec50)))
    b.add_to_ode(s, (1 - s) * em_rate * em / (em + em_ec50) / DAYS_PER_WEEK)

    defect = (1 - s) / (1 - s_les)
    b.output(
        "TEWL",
        tewl_h * (tewl_l / tewl_h) ** defect,
        unit="g/m2/h",
        description="transepidermal water loss (AD skin, from barrier integrity s)",
    )
    b.output(
        "SC_hydration",
        sch_h * (sch_l / sch_h) ** defect,
        unit="au",
        description="stratum corneum hydration, corneometer units (from barrier integrity s)",
    )
