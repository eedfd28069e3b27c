"""Cytokine module: IL-10, TGF-beta, and the serum biomarkers TARC/CCL17 and IL-17.

The cores already carry the T-cell cytokines (Miyano 2021: IL-4, IL-13, IL-17, IL-22,
IL-31, IFN-gamma, TSLP, OX40L; Shmarov 2022: IL-23, IL-17, TNF). This module adds the
regulatory and fibrogenic cytokines and two serum read-outs:

* **IL-10** (state ``IL10``, dimensionless, 1 = healthy dermis):
  ``dIL10/dt = il10_loss * (prod - IL10)`` with
  ``prod = il10_m2_share * M2/M2_base + (1 - il10_m2_share) * Treg + il10_msc_gain * S``:
  made by M2 macrophages (``m2`` signal of the macrophage module), regulatory T cells
  (state ``Treg`` of the immune module, 1 = baseline; taken as 1 without that module)
  and the MSC secretome ``S`` (``msc_secretome``, au). ``il10_loss`` = 0.23 /h (PK-12,
  half-life 3 h; PK-01, PK-02, PK-04, PK-08: 1.9-4.5 h), so IL-10 follows its sources
  within hours.
* **TGF-beta** (state ``TGFb``, dimensionless, 1 = normal dermis; the absolute anchor is
  the mean serum active TGF-beta 230 pmol/L of PK-11, total 330 pmol/L PK-10, reported
  as ``TGFb_serum``; the spread in healthy sera, 20-1400 pmol/L, is far wider than any
  effect modelled here): ``dTGFb/dt = tgfb_loss * (prod - TGFb)`` with
  ``prod = 1 + tgfb_m2_gain * m2 + tgfb_myo_gain * myofibroblasts + tgfb_injury_gain * W
  + tgfb_msc_gain * GF``: M2 macrophages, myofibroblasts (autocrine; ``myofibroblasts``
  signal of the dermis module, 1 = as many as normal fibroblasts), the wound (platelet
  release; ``wound`` signal 0..1) and MSC growth factors (``msc_growth_factors``, au;
  ADSC secrete TGF-beta, ANG-03).
* **TARC/CCL17** (state ``TARC``, pg/mL serum): keratinocytes make it under IL-4/IL-13
  through IL-4Ra, so it is driven by the AD core's effective (after drug block) IL-4 +
  IL-13, ``th2`` (1 = Miyano's typical patient at steady state, EASI 25):
  ``dTARC/dt = tarc_loss * (tarc_healthy + tarc_gain * th2 - TARC)``. Anchors:
  healthy adults 160 and severe AD 1217 (NH_TARC_GU2015_HEALTHY, NH_TARC_GU2015_SEV,
  means; assay-dependent, so ratios matter), taken for th2 = 0 and the typical patient.
  (The >= 6 y diagnostic cut-off is 510 pg/mL, NH_TARC_CUTOFF_GE6Y.)
* **Serum IL-17** (output ``serum_IL17``, pg/mL): a read-out of the psoriasis core,
  linear in its IL-17 between the healthy steady state (21.3) and the plaque (65.5,
  SHMAROV2022): healthy 5 pg/mL (assumed) and a plaque 28.9 pg/mL higher
  (NH_PSO_SERUM_IL17_MD; circulating IL-17 is only modestly raised,
  NH_IL17_META_2017). The AD core's IL-17 is not mapped (no serum anchor).

Units: the unit table (:mod:`dermatwin.model.units`) has no pg, pmol or year, so the
serum concentrations are declared ``au`` and are numerically pg/mL (TARC, IL-17) and
pmol/L (TGF-beta).

Signals fed, both 0 at the healthy baseline: ``il10`` = IL10 - 1 and ``tgfb`` = TGFb - 1
(dimensionless excess over healthy dermis), read by the macrophage and dermis modules.

**Path to disease: the MSC-made IL-10 and TGF-beta.** The cores were fitted to lesions
that hold their own IL-10 and TGF-beta, so only the part MSC add is fed back (states
``IL10_msc`` and ``TGFb_msc``, the same kinetics as the totals, produced by the
MSC-educated macrophages of the macrophage module, signal ``m2_msc``, and by the
secretome and growth factors directly; exactly 0 without MSC)::

    dIL10_msc/dt = il10_loss * (il10_m2_share * m2_msc + il10_msc_gain * S - IL10_msc)
    dTGFb_msc/dt = tgfb_loss * (tgfb_m2_gain * m2_msc + tgfb_msc_gain * GF - TGFb_msc)

* IL-10 dampens antigen presentation and effector T-cell activation: the AD Th
  differentiation rates ``k5``..``k8`` and the psoriasis IL-23-driven T recruitment ``t2``
  are divided by ``1 + il10_t_gain * IL10_msc`` (a doubling of dermal IL-10 by MSC cuts
  them by a third; an IL-10 dose lowers ex vivo IFN-gamma production by 72-87 %, PK-09).
* TGF-beta induces peripheral regulatory T cells: signal ``tgfb_msc`` (= TGFb_msc), read
  by the immune module, raises the Treg pool's target (MSC suppression of T cells is
  partly TGF-beta-mediated, IMM-01).

Knock-out: ``il10_t_gain`` = 0 cuts the IL-10 path; ``treg_tgfb_gain`` (immune module) =
0 the TGF-beta path. Without MSC both states are 0 and every core equation is unchanged.
"""

from __future__ import annotations

from dermatwin.model.skin import parameter_table, register
from dermatwin.model.skin.keratinocytes import core_steady_states
from dermatwin.model.skin.macrophages import th2_drive
from dermatwin.model.spec import ModelBuilder

HOURS_PER_DAY = 24.0
#: effector T-cell activation: AD Th differentiation (MIYANO2021 k5..k8) and psoriasis
#: T recruitment by IL-23 (SHMAROV2022 t2)
T_ACTIVATION = ("k5", "k6", "k7", "k8", "t2")


@register("cytokines")
def add(b: ModelBuilder) -> None:
    par = parameter_table(b)

    il10_loss = par(
        "il10_loss",
        0.23 * HOURS_PER_DAY,
        "1/day",
        "PK-12 (0.23 /h, IL-10 half-life ~3 h; PK-01, PK-02, PK-04, PK-08)",
        "first-order loss rate of IL-10",
        lower=1e-6,
    )
    m2_share = par(
        "il10_m2_share",
        0.5,
        "dimensionless",
        "assumed: M2 macrophages and Tregs make half of dermal IL-10 each",
        "share of baseline IL-10 made by M2 macrophages (rest by Tregs)",
        upper=1.0,
    )
    il10_msc = par(
        "il10_msc_gain",
        1.0,
        "1/au",
        "assumed: a secretome of 1 au (1e8 licensed MSC) doubles IL-10 directly",
        "IL-10 made per unit of MSC secretome (relative to healthy IL-10)",
    )
    il10_t = par(
        "il10_t_gain",
        0.5,
        "dimensionless",
        "assumed (prior 0.1-3): a doubling of dermal IL-10 by MSC cuts effector T-cell "
        "activation by a third; an IL-10 dose lowers ex vivo IFN-gamma production by "
        "72-87 % (PK-09)",
        "inhibition of effector T-cell activation per unit of MSC-made IL-10",
    )
    tgfb_loss = par(
        "tgfb_loss",
        2.0,
        "1/day",
        "assumed: active TGF-beta is cleared in minutes but activation of the latent "
        "tissue pool takes about a day",
        "relaxation rate of active TGF-beta to its production",
        lower=1e-6,
    )
    tgfb_m2 = par(
        "tgfb_m2_gain",
        0.5,
        "dimensionless",
        "assumed: doubling M2 macrophages raises dermal TGF-beta by half",
        "TGF-beta production per unit of M2 excess",
        upper=1.0,
    )
    tgfb_myo = par(
        "tgfb_myo_gain",
        1.0,
        "dimensionless",
        "assumed: myofibroblasts as numerous as fibroblasts double TGF-beta (autocrine)",
        "TGF-beta production per unit of myofibroblasts",
    )
    tgfb_inj = par(
        "tgfb_injury_gain",
        2.0,
        "dimensionless",
        "assumed: an open wound (platelet degranulation) triples TGF-beta",
        "TGF-beta production per unit of the injury signal",
    )
    tgfb_msc = par(
        "tgfb_msc_gain",
        1.0,
        "1/au",
        "ANG-03 (ADSC secrete TGF-beta, 1247 pg per 1e6 cells); scale assumed: 1 au of "
        "growth factors (1e8 licensed MSC) doubles TGF-beta",
        "TGF-beta production per unit of MSC growth factors",
    )
    tgfb_serum = par(
        "tgfb_serum_healthy",
        230.0,
        "au",
        "PK-11 (mean serum active TGF-beta; range 20-1400)",
        "serum active TGF-beta (pmol/L) at TGFb = 1",
    )
    tarc_h = par(
        "tarc_healthy",
        160.0,
        "au",
        "NH_TARC_GU2015_HEALTHY (mean of healthy adults, 159.95)",
        "serum TARC without Th2 cytokines",
    )
    tarc_gain = par(
        "tarc_gain",
        1057.0,
        "au",
        "NH_TARC_GU2015_SEV (severe AD 1216.6) minus healthy, at Miyano's typical patient",
        "serum TARC added per unit of effective IL-4 + IL-13 (1 = typical patient)",
    )
    tarc_loss = par(
        "tarc_loss",
        0.5,
        "1/day",
        "assumed: serum TARC follows the skin within a few days",
        "relaxation rate of serum TARC",
        lower=1e-6,
    )
    il17_h = par(
        "il17_serum_healthy",
        5.0,
        "au",
        "assumed: low single-digit pg/mL in healthy serum",
        "serum IL-17 without lesional IL-17",
    )
    il17_gain = par(
        "il17_serum_gain",
        28.92,
        "au",
        "NH_PSO_SERUM_IL17_MD (psoriasis vs healthy, mean difference 28.9 pg/mL)",
        "serum IL-17 added by a lesion at its reference IL-17",
    )

    il10 = b.state(
        "IL10",
        unit="dimensionless",
        initial=1.0,
        scale=1.0,
        description="dermal IL-10 relative to healthy dermis",
    )
    tgfb = b.state(
        "TGFb",
        unit="dimensionless",
        initial=1.0,
        scale=1.0,
        description="active TGF-beta relative to normal dermis",
    )
    il10_m = b.state(
        "IL10_msc",
        unit="dimensionless",
        initial=0.0,
        scale=1.0,
        description="the part of dermal IL-10 made because of MSC (healthy IL-10 = 1)",
    )
    tgfb_m = b.state(
        "TGFb_msc",
        unit="dimensionless",
        initial=0.0,
        scale=1.0,
        description="the part of active TGF-beta made because of MSC (normal dermis = 1)",
    )
    tarc = b.state(
        "TARC",
        unit="au",
        initial=160.0,
        scale=100.0,
        description="serum TARC/CCL17 (pg/mL)",
    )

    # Tregs of the immune module (1 = baseline) when it is part of the model
    treg = b.symbol("Treg") if b.has_state("Treg") else 1
    m2 = 1 + b.signal("m2")
    sec = b.signal("msc_secretome")
    prod10 = m2_share * m2 + (1 - m2_share) * treg + il10_msc * sec
    b.ode(il10, il10_loss * (prod10 - il10))
    prod_tgfb = (
        1
        + tgfb_m2 * b.signal("m2")
        + tgfb_myo * b.signal("myofibroblasts")
        + tgfb_inj * b.signal("wound")
        + tgfb_msc * b.signal("msc_growth_factors")
    )
    b.ode(tgfb, tgfb_loss * (prod_tgfb - tgfb))
    b.ode(tarc, tarc_loss * (tarc_h + tarc_gain * th2_drive(b) - tarc))

    b.add_signal("il10", il10 - 1)
    b.add_signal("tgfb", tgfb - 1)

    m2_msc = b.signal("m2_msc")
    gf = b.signal("msc_growth_factors")
    b.ode(il10_m, il10_loss * (m2_share * m2_msc + il10_msc * sec - il10_m))
    b.ode(tgfb_m, tgfb_loss * (tgfb_m2 * m2_msc + tgfb_msc * gf - tgfb_m))
    for name in T_ACTIVATION:
        b.scale_parameter(name, 1 / (1 + il10_t * il10_m))
    b.add_signal("tgfb_msc", tgfb_m)

    s = b.symbol
    # IL-17 of the Shmarov core's healthy steady state and plaque (SHMAROV2022)
    ss = core_steady_states()
    core_h, core_p = ss["healthy"]["IL17"], ss["plaque"]["IL17"]
    il17_rel = (s("IL17_pso") - core_h) / (core_p - core_h)
    b.output(
        "serum_IL17",
        il17_h + il17_gain * il17_rel,
        unit="au",
        description="serum IL-17, pg/mL (psoriasis core)",
    )
    b.output(
        "TGFb_serum",
        tgfb_serum * tgfb,
        unit="au",
        description="active TGF-beta on the serum scale, pmol/L (PK-11 at normal dermis)",
    )
