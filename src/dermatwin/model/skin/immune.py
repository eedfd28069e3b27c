"""Immune module: MSC secretome and induced Tregs suppress effector T cells.

The ``msc_secretome`` signal (PGE2/IDO/TSG-6 pool, au, 0 without MSC; scaled so that
1 au is the secretome of one MSC per lesional T cell) acts on both cores:

* **Regulatory T cells.** One state ``Treg``, the Treg pool relative to its baseline
  (dimensionless, 1 = baseline), shared by the AD and psoriasis lesions since both see
  the same secretome. It relaxes to ``1 + treg_induction * S / (S + msc_ec50)``, so it
  stays exactly at 1 without MSC. TGF-beta made because of MSC (signal ``tgfb_msc`` of
  the cytokines module, 0 without MSC) induces peripheral Tregs: the target gains
  ``treg_tgfb_gain * tgfb_msc`` (knock-out: ``treg_tgfb_gain`` = 0). Absolute levels
  for the ratio outputs are the baseline ``treg_base_ad`` (au, Miyano's Th units) and
  ``treg_base_pso`` (cells/mm2).
* **Induced Tregs.** The ``itreg`` signal (dimensionless, in units of the baseline Treg
  pool; 0 without MSC) is the induced, skin-homing Treg pool of the tolerance module
  (the host-carried, durable path); it adds to the Treg excess below and to the ratio
  outputs. Psoriasis T recruitment ``t2`` reads ``itreg_pso`` instead (the same pool
  times the tolerance module's ``itreg_weight_pso``).
* **Suppression of effector T cells.** A drive
  ``H = S / msc_ec50 + treg_weight * (Treg - 1 + itreg)`` (the secretome directly plus the
  Treg excess over baseline) gives the fraction of effector T-cell expansion suppressed,
  ``msc_emax * H / (1 + H)``, capped at ``msc_emax`` = 70 % (IMM-02..04: 65-75 %
  maximal suppression of T-cell proliferation by MSC). The AD Th differentiation rates
  ``k5``..``k8`` and the psoriasis T recruitment by IL-23 ``t2`` are multiplied by
  ``1 - msc_emax * H / (1 + H)`` (= 1 / (1 + (msc_emax H) / (1 + (1 - msc_emax) H))),
  exactly 1 when ``S = 0`` and ``Treg = 1``.
* ``msc_ec50`` = 1/3 au: half-maximal direct suppression at an MSC:T ratio of 1:3, the
  lowest ratio effective for adult MSC (IMM-06); at 1:5 (IMM-05) suppression is still
  26 % of the T-cell drive, at 1:30 (not effective for adult MSC, IMM-06) 6 %.

Outputs: ``Treg_Th17_ratio`` (AD, Treg/Th17), ``Treg_T_ratio_pso`` (psoriasis, Treg/T) and
``T_suppression`` (fraction of effector T-cell expansion suppressed).

Left out: irreversible Th2 memory (Dominguez-Huttinger 2017).
"""

from __future__ import annotations

from dermatwin.model.skin import register
from dermatwin.model.spec import ModelBuilder

#: AD Th differentiation rates (Miyano 2021) and psoriasis T recruitment (Shmarov 2022)
EFFECTOR_RATES = ("k5", "k6", "k7", "k8", "t2")


@register("immune")
def add(b: ModelBuilder) -> None:
    treg = b.state(
        "Treg",
        unit="dimensionless",
        initial=1.0,
        scale=1.0,
        description="regulatory T cells relative to baseline (1 = baseline; AD and psoriasis)",
    )
    emax = b.parameter(
        "msc_emax",
        0.7,
        unit="dimensionless",
        source="IMM-02, IMM-03, IMM-04 (65-75 % maximal suppression of T-cell proliferation)",
        lower=0.0,
        upper=1.0,
        description="maximal fraction of effector T-cell expansion suppressed by MSC",
    )
    ec50 = b.parameter(
        "msc_ec50",
        1.0 / 3.0,
        unit="au",
        source="IMM-06 (lowest effective MSC:T ratio 1:3, adult MSC); consistent with IMM-05",
        lower=1e-9,
        description="secretome (MSC per T cell) giving half-maximal direct suppression",
    )
    induction = b.parameter(
        "treg_induction",
        1.0,
        unit="dimensionless",
        source="assumed: saturating MSC secretome doubles the Treg pool (no data in reference)",
        lower=0.0,
        description="maximal fold increase of Tregs over baseline induced by MSC secretome",
    )
    turnover = b.parameter(
        "treg_turnover",
        0.1,
        unit="1/day",
        source="assumed: Treg pool turns over in about 10 days",
        lower=1e-9,
        description="rate at which the Treg pool relaxes to its induced level",
    )
    weight = b.parameter(
        "treg_weight",
        1.0,
        unit="dimensionless",
        source="assumed: a doubled Treg pool suppresses like the secretome at its EC50",
        lower=0.0,
        upper=1.0,
        description="suppressive drive per unit of Treg excess over baseline",
    )
    tgfb_gain = b.parameter(
        "treg_tgfb_gain",
        0.5,
        unit="dimensionless",
        source="assumed (prior 0.1-2): TGF-beta induces peripheral Tregs; MSC suppression "
        "of T cells is partly TGF-beta-mediated (IMM-01); a doubling of TGF-beta by MSC "
        "raises the Treg pool by half",
        lower=0.0,
        description="Treg induction per unit of MSC-made TGF-beta (normal dermis = 1)",
    )
    base_ad = b.parameter(
        "treg_base_ad",
        2.0,
        unit="au",
        source="assumed: baseline lesional Tregs about equal to Th17 (2.1 au, MIYANO2021)",
        lower=0.0,
        description="baseline Treg level in AD skin (Miyano Th units)",
    )
    base_pso = b.parameter(
        "treg_base_pso",
        155.6,
        unit="cell/mm2",
        source="assumed: Tregs about 10 % of the healthy T cells (1556 cells/mm2, SHMAROV2022)",
        lower=0.0,
        description="baseline Treg density in psoriatic skin",
    )

    sec = b.signal("msc_secretome")
    # induced Tregs of the tolerance module (0 without MSC), as they act in AD and psoriasis
    itreg = b.signal("itreg")
    itreg_pso = b.signal("itreg_pso")
    target = 1 + induction * sec / (sec + ec50) + tgfb_gain * b.signal("tgfb_msc")
    b.ode(treg, turnover * (target - treg))

    def suppression(induced):
        drive = sec / ec50 + weight * (treg - 1 + induced)
        return emax * drive / (1 + drive)

    suppressed = suppression(itreg)
    for name in EFFECTOR_RATES:
        b.scale_parameter(name, 1 - (suppression(itreg_pso) if name == "t2" else suppressed))

    b.output(
        "Treg_Th17_ratio",
        base_ad * (treg + itreg) / b.symbol("Th17"),
        unit="dimensionless",
        description="AD: regulatory T cells per Th17 cell",
    )
    b.output(
        "Treg_T_ratio_pso",
        base_pso * (treg + itreg_pso) / b.symbol("T"),  # the pool that acts in psoriasis
        unit="dimensionless",
        description="psoriasis: regulatory T cells per effector T cell",
    )
    b.output(
        "T_suppression",
        suppressed,
        unit="dimensionless",
        description="fraction of effector T-cell expansion suppressed by MSC and Tregs",
    )
