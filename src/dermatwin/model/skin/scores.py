"""Scores module: clinical severity scores read off the cores (no feedback).

The cores carry their own severity measures: Miyano's EASI (0-72, from barrier integrity
``s`` and pathogen ``p``) and Shmarov's ``PASI_index`` (0 healthy, 1 the published plaque
state). Trials report more scores, mapped here from those with anchors from
clinical_outcomes.csv:

* **PASI** = ``pasi_plaque * max(PASI_index, 0)``: ``pasi_plaque`` is the PASI a patient would
  have at the published plaque state, a per-patient parameter the virtual population
  draws (phase-3 baselines are about 20-22 with PASI >= 12 for inclusion; default 20,
  assumed). The Shmarov model describes one plaque; PASI adds area, which the patient's
  ``pasi_plaque`` stands for.
* **SCORAD** = ``scorad_max * EASI / (EASI + scorad_k)``: a saturating map through the
  EASI/SCORAD severity bands (EASI 7 / 21 at SCORAD 25 / 50) and the pooled phase-3
  placebo baseline (EASI 32.0, SCORAD 64.8; AD_BASELINE_POOLED_PBO_EASI,
  AD_BASELINE_POOLED_PBO_SCORAD); ``scorad_max`` is SCORAD's ceiling, 103.
* **Pruritus NRS** (0-10) = ``10 x / (x + pruritus_k)`` with ``x`` the IL-31 above its
  basal level (``IL31 - k20 / d14``): IL-31 is the itch cytokine of the AD core, and
  ``pruritus_k`` puts Miyano's typical patient at the pooled baseline NRS 7.0
  (AD_BASELINE_POOLED_PBO_PRURITUS).

IGA (AD) and PGA (psoriasis) are categories and are assigned from EASI and PASI in the
trial layer (:mod:`dermatwin.outcomes`), not here.
"""

from __future__ import annotations

import sympy as sp

from dermatwin.model.skin import register
from dermatwin.model.spec import ModelBuilder

#: IL-31 of Miyano's typical AD patient at steady state (MIYANO2021)
IL31_TYPICAL = 1.5377
#: its basal level k20/d14 with Miyano's typical parameters
IL31_BASAL_TYPICAL = 0.1790
#: pooled phase-3 placebo baselines (clinical_outcomes.csv)
PRURITUS_BASELINE = 7.0


@register("scores")
def add(b: ModelBuilder) -> None:
    pasi_plaque = b.parameter(
        "pasi_plaque",
        20.0,
        unit="dimensionless",
        source="assumed: phase-3 psoriasis baselines (PASI about 20-22, PASI >= 12 to enrol); "
        "drawn per virtual patient",
        lower=0.0,
        upper=72.0,
        description="PASI of this patient at the published plaque state (PASI_index = 1)",
    )
    scorad_max = b.parameter(
        "scorad_max",
        103.0,
        unit="dimensionless",
        source="SCORAD scale maximum (103)",
        lower=0.0,
        description="ceiling of the EASI -> SCORAD map",
    )
    scorad_k = b.parameter(
        "scorad_k",
        19.0,
        unit="dimensionless",
        source="fitted to EASI/SCORAD severity bands (7 -> 25, 21 -> 50) and the pooled "
        "placebo baseline (32.0 -> 64.8, AD_BASELINE_POOLED_PBO_EASI/_SCORAD)",
        lower=1e-9,
        description="EASI at half of scorad_max",
    )
    excess = IL31_TYPICAL - IL31_BASAL_TYPICAL
    pruritus_k = b.parameter(
        "pruritus_k",
        excess * (10.0 / PRURITUS_BASELINE - 1.0),
        unit="au",
        source="fitted: Miyano's typical patient at the pooled baseline NRS 7.0 "
        "(AD_BASELINE_POOLED_PBO_PRURITUS)",
        lower=1e-9,
        description="IL-31 excess over basal giving pruritus NRS 5",
    )

    easi = 36 * (b.symbol("p") + 1 - b.symbol("s"))
    il31_excess = b.symbol("IL31") - b.symbol("k20") / b.symbol("d14")
    b.output(
        "PASI",
        pasi_plaque * sp.Max(b.output_expression("PASI_index"), 0),
        unit="dimensionless",
        description="PASI (0-72): pasi_plaque x the psoriasis core's PASI_index",
    )
    b.output(
        "SCORAD",
        scorad_max * easi / (easi + scorad_k),
        unit="dimensionless",
        description="SCORAD (0-103) mapped from EASI",
    )
    b.output(
        "pruritus_NRS",
        10 * il31_excess / (il31_excess + pruritus_k),
        unit="dimensionless",
        description="itch numeric rating scale (0-10) from IL-31 above basal",
    )
