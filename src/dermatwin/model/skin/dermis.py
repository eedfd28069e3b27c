"""Dermis module: wound healing, scarring and the dermal collagen of ageing skin.

Units: every state is relative to the patient's normal (unwounded) dermis at time 0.

* **Injury.** ``W``, the keratinocyte module's ``wound`` signal: the fraction of the
  treated area still open (0..1). An injury (burn, deep excoriation) is a ``set_state``
  of the state ``wound`` to 1; it closes in about two weeks (SCA-10), faster with MSC
  growth factors (keratinocyte module).
* **Fibroblasts** ``fibroblasts`` (1 = normal dermis) are activated by the injury and
  stay activated for weeks after closure (proliferative phase):
  ``dF/dt = fib_turnover * (1 + fib_activation * W - F)``.
* **Myofibroblasts** ``myofibroblasts`` (0 in normal dermis; 1 = as many as normal
  fibroblasts) differentiate from the activated fibroblasts under TGF-beta:
  ``myo_diff * (1 - A) * (F - 1) * T / (T + myo_tgfb_ec50)`` with ``T`` active TGF-beta
  relative to normal dermis (1 + ``tgfb`` signal of the cytokines module; it is raised
  by the wound, M2 macrophages and myofibroblasts themselves), and are lost by
  apoptosis at ``myo_apoptosis * (1 + myo_msc_apoptosis * A)``. Without an injury
  ``F - 1`` is exactly 0, so no myofibroblast appears in unwounded skin, whatever the
  inflammation of the cores (an AD lesion raises TGF-beta but makes no scar).
  Fitted by hand (all assumed) to the rabbit-ear course: scar elevation index about 2.2
  at day 35, myofibroblasts peaking at 3-4 weeks, partial flattening within a year.
* **Collagen** ``collagen_I`` and ``collagen_III`` (1 = normal dermis). Normal turnover
  has half-life 15 years (SCA-20): ``collagen_turnover`` = ln 2 / 15 y. Its synthesis
  follows the age-normal level ``N(t) = 1 + age_norm`` (ageing module signals: ``N`` is 1
  and constant unless the ageing clock runs), so an unwounded dermis tracks ``N``
  exactly. Myofibroblasts deposit type III early (``col3_deposition``) and type I
  (``col1_deposition``); scar type III is replaced by type I at ``col3_to_col1``
  (maturation) and all scar excess is remodelled (MMPs) at ``scar_remodelling``, faster
  with MSC (``scar_msc_remodelling``, HGF raises MMP-1).
  Total collagen ``c = 0.85 collagen_I + 0.15 collagen_III`` (type I 80-85 %, III
  10-15 % of dermal collagen; assumed). Scar excess ``X = c / N - 1``.
* **Inflammation.** M1 macrophages (MMP-1/-9 makers) raise type I degradation: type I
  settles at (and is remodelled towards) ``N / (1 + inflammatory_collagen_degradation *
  m1)``, ``m1`` = M1 over healthy dermis - 1 (macrophage module signal). Assumed, off by
  default (0), so every equation above holds unchanged; the ageing module documents the
  path and its limits.
* **MSC anti-fibrotic action.** TSG-6 (secretome) and HGF (growth factors) lower
  myofibroblast differentiation and collagen deposition and speed myofibroblast
  apoptosis and scar remodelling (SCA-10: alpha-SMA and COL1 mRNA fall):
  ``A = msc_antifibrotic_max * Z / (Z + msc_antifibrotic_ec50)`` with
  ``Z = msc_secretome + msc_growth_factors`` (au).
  ``msc_antifibrotic_ec50`` is calibrated so that 1e7 adipose MSC (allogeneic)
  injected into the scar on day 14 lower the scar elevation index on day 35 by 44 %
  (SCA-10; the model gives 44.6 %). MSC also polarise macrophages to M2 (macrophage
  module), but M2 make TGF-beta too, so the anti-fibrotic net effect is carried by
  ``A``. Out of sample, conditioned medium (the secretome and growth factors that the
  same cells release in 48 h of culture, injected once without cells) is predicted to
  lower the day-35 index by 19 %, against 32 % measured (SCA-11; not fitted).

Outputs:

* ``scar_index``: scar elevation index, dermal height of the treated area over that of
  normal dermis of the same age (1 = flat; below 1 where inflammation thins the
  dermis). Height is taken as ``1 - dermis_collagen_share + dermis_collagen_share *
  collagen`` (collagen makes ``dermis_collagen_share`` = 60 % of dermal thickness,
  derived so that collagen content falling 1 %/year gives thickness falling 0.6 %/year:
  SCA-23, SCA-03d).
* ``dermal_thickness``: relative to a young adult (age ``age_reference``) with normal
  dermis: the same height with collagen scaled by the patient's age level
  (``age_level`` signal of the ageing module, 0 without it).
* ``elasticity``: relative to normal young-adult skin, ``(1 + age_elasticity) (1 +
  deficit_elasticity_loss * min(X, 0)) / (1 + scar_stiffening * max(X, 0))``: the scar's
  excess (and disordered) collagen makes it stiffer (assumed: twice the normal collagen
  leaves 2/3 of normal elasticity); collagen below the age-normal level (inflammation)
  makes it slacker (assumed, 0.8 per unit, as ageing); ageing lowers it through the
  ``age_elasticity`` signal.
* ``dermal_collagen_percent``: the collagen share of the dermis, as histology scores it
  (percent collagen score): ``73.28 % x collagen content / dermal thickness``, both
  relative to the young adult (73.28 %: healthy adults aged 25-34, AGE_COLLAGEN_25_34).
  Content falls 1 %/year (SCA-23) and thickness 0.6 %/year (6 % per decade,
  AGE_DERMAL_MASS_LOSS), so the share falls more slowly than the content: at 65-74 years
  the model gives 58.1 % against 55.3 % measured (AGE_COLLAGEN_65_74, not fitted;
  tests/model/skin/test_ageing.py). The two rows support SCA-23's 1 %/year, whose own
  source is unverified: the share times the dermal mass falls about 1.1 %/year.
* ``collagen_total`` (relative to normal at time 0), ``collagen_I_III_ratio``.

Signal fed: ``myofibroblasts`` (the state, for autocrine
TGF-beta). No feedback into the cores.
"""

from __future__ import annotations

import math

import sympy as sp

from dermatwin.model.skin import parameter_table, register
from dermatwin.model.spec import ModelBuilder

#: dermal percent collagen score of healthy adults aged 25-34 (AGE_COLLAGEN_25_34), taken
#: for the young adult at ``age_reference`` whose collagen content and height are 1
YOUNG_COLLAGEN_PERCENT = 73.28

DAYS_PER_YEAR = 365.25
#: share of type I and type III in normal dermal collagen (assumed: I 80-85 %, III 10-15 %)
SHARE_I = 0.85
SHARE_III = 0.15


@register("dermis")
def add(b: ModelBuilder) -> None:
    par = parameter_table(b)

    k_fib = par(
        "fib_turnover",
        0.04,
        "1/day",
        "assumed: the proliferative phase outlasts wound closure by weeks (activated "
        "fibroblasts half-life ~17 days)",
        "relaxation rate of the fibroblast pool",
    )
    fib_act = par(
        "fib_activation",
        5.0,
        "dimensionless",
        "assumed: activated fibroblasts about double the pool 2 weeks after an injury",
        "extra fibroblasts per unit of injury (fibroblasts relax to 1 + this * injury)",
    )
    k_diff = par(
        "myo_diff",
        0.3,
        "1/day",
        "assumed: with k_apo gives a myofibroblast peak 2-4 weeks after injury",
        "maximal differentiation rate of fibroblasts into myofibroblasts",
    )
    tgfb_ec50 = par(
        "myo_tgfb_ec50",
        2.0,
        "dimensionless",
        "assumed: half-maximal at twice the normal TGF-beta",
        "TGF-beta (relative to normal) for half-maximal myofibroblast differentiation",
        lower=1e-12,
    )
    k_apo = par(
        "myo_apoptosis",
        0.07,
        "1/day",
        "assumed: myofibroblasts of a hypertrophic scar persist for weeks",
        "apoptosis rate of myofibroblasts",
        lower=1e-9,
    )
    k_c = par(
        "collagen_turnover",
        math.log(2.0) / (15.0 * DAYS_PER_YEAR),
        "1/day",
        "SCA-20 (half-life of human skin collagen 15 years)",
        "turnover rate of normal dermal collagen",
    )
    s3 = par(
        "col3_deposition",
        0.3,
        "1/day",
        "assumed: calibrated to a scar elevation index ~2 at day 35 (rabbit ear, SCA-10)",
        "type III collagen deposited per myofibroblast (relative to normal type III)",
    )
    s1 = par(
        "col1_deposition",
        0.065,
        "1/day",
        "assumed: as col3_deposition",
        "type I collagen deposited per myofibroblast (relative to normal type I)",
    )
    k31 = par(
        "col3_to_col1",
        0.03,
        "1/day",
        "assumed: scar type III is replaced by type I over 1-2 months",
        "rate at which excess type III collagen is replaced by type I",
    )
    k_rem = par(
        "scar_remodelling",
        0.01,
        "1/day",
        "assumed: hypertrophic scars flatten over months (excess half-life ~70 days)",
        "degradation rate of excess (scar) collagen",
    )
    af_max = par(
        "msc_antifibrotic_max",
        0.9,
        "dimensionless",
        "assumed: near-complete loss of alpha-SMA/COL1 expression at saturation (SCA-10)",
        "maximal anti-fibrotic effect of MSC factors",
        upper=1.0,
    )
    af_ec50 = par(
        "msc_antifibrotic_ec50",
        0.0025,
        "au",
        "SCA-10 (calibrated: intralesional ADSC at day 14 lower the day-35 scar "
        "elevation index by 44 %)",
        "MSC secretome + growth factors giving half the maximal anti-fibrotic effect",
        lower=1e-12,
    )
    af_apo = par(
        "myo_msc_apoptosis",
        2.0,
        "dimensionless",
        "assumed: HGF/TSG-6 triple myofibroblast apoptosis at saturation",
        "extra myofibroblast apoptosis per unit of anti-fibrotic effect",
    )
    af_rem = par(
        "scar_msc_remodelling",
        4.0,
        "dimensionless",
        "assumed: HGF raises MMP-1, speeding scar remodelling up to 5-fold at saturation",
        "extra scar remodelling per unit of anti-fibrotic effect",
    )
    share = par(
        "dermis_collagen_share",
        0.6,
        "dimensionless",
        "SCA-03d / SCA-23 (thickness -0.6 %/year while collagen content -1 %/year)",
        "share of dermal thickness that scales with collagen content",
        upper=1.0,
    )
    stiff = par(
        "scar_stiffening",
        0.5,
        "dimensionless",
        "assumed: a scar with twice the normal collagen has 2/3 of normal elasticity",
        "loss of elasticity per unit of excess collagen",
    )
    m1_mmp = par(
        "inflammatory_collagen_degradation",
        0.0,
        "dimensionless",
        "assumed: off by default (no reference row gives a rate; switching it on changes "
        "the dermis of every patient with M1 macrophages above healthy dermis); 0.25 = "
        "each healthy-dermis M1 load added raises type I collagen degradation by 25 %",
        "extra type I collagen degradation per unit of excess M1 macrophages (fraction "
        "of normal degradation)",
        # below 1, so that 1 + value x m1 stays positive (m1 >= -1: no M1 at all)
        upper=0.9,
    )
    slack = par(
        "deficit_elasticity_loss",
        0.8,
        "dimensionless",
        "assumed: as in chronological ageing, 0.8 % of elasticity per 1 % of collagen "
        "lost (elasticity_loss_per_year / collagen_loss_per_year)",
        "loss of elasticity per unit of collagen deficit (below the age-normal level)",
    )

    fib = b.state(
        "fibroblasts",
        unit="dimensionless",
        initial=1.0,
        scale=1.0,
        description="dermal fibroblasts relative to normal dermis",
    )
    myo = b.state(
        "myofibroblasts",
        unit="dimensionless",
        initial=0.0,
        scale=1.0,
        description="myofibroblasts (1 = as many as normal fibroblasts)",
    )
    c1 = b.state(
        "collagen_I",
        unit="dimensionless",
        initial=1.0,
        scale=1.0,
        description="type I collagen relative to normal dermis at time 0",
    )
    c3 = b.state(
        "collagen_III",
        unit="dimensionless",
        initial=1.0,
        scale=1.0,
        description="type III collagen relative to normal dermis at time 0",
    )

    gf = b.signal("msc_growth_factors")
    z = b.signal("msc_secretome") + gf
    af = af_max * z / (z + af_ec50)
    injury = b.signal("wound")

    # age-normal collagen level relative to time 0 and its rate of change (ageing module)
    norm = 1 + b.signal("age_norm")
    norm_rate = b.signal("age_norm_rate")
    col = SHARE_I * c1 + SHARE_III * c3
    excess = col / norm - 1
    tgfb = 1 + b.signal("tgfb")  # active TGF-beta relative to normal dermis
    # inflammation -> M1 macrophages -> MMPs: raised degradation lowers the level type I
    # collagen settles at (exactly the age-normal level with the coupling off, the default)
    norm_i = norm / (1 + m1_mmp * b.signal("m1"))
    b.ode(fib, k_fib * (1 + fib_act * injury - fib))
    activated = fib - 1  # exactly 0 in unwounded dermis
    diff = k_diff * (1 - af) * activated * tgfb / (tgfb + tgfb_ec50)
    b.ode(myo, diff - k_apo * (1 + af_apo * af) * myo)
    dep = (1 - af) * myo
    remodel = k_rem * (1 + af_rem * af)
    b.ode(
        c3,
        k_c * (norm - c3) + norm_rate + s3 * dep - (k31 + remodel) * (c3 - norm),
    )
    b.ode(
        c1,
        k_c * (norm_i - c1)
        + norm_rate
        + s1 * dep
        + k31 * SHARE_III / SHARE_I * (c3 - norm)
        - remodel * (c1 - norm_i),
    )
    b.add_signal("myofibroblasts", myo)

    level = 1 + b.signal("age_level")
    height = 1 - share + share * col * level
    normal_height = 1 - share + share * norm * level
    b.output(
        "scar_index",
        height / normal_height,
        unit="dimensionless",
        description="scar elevation index: dermal height over normal dermis (1 = flat)",
    )
    b.output(
        "dermal_thickness",
        height,
        unit="dimensionless",
        description="dermal thickness relative to a young adult's normal dermis",
    )
    b.output(
        "elasticity",
        (1 + b.signal("age_elasticity"))
        * (1 + slack * sp.Min(excess, 0))
        / (1 + stiff * sp.Max(excess, 0)),
        unit="dimensionless",
        description="skin elasticity relative to a young adult's normal skin",
    )
    b.output(
        "dermal_collagen_percent",
        YOUNG_COLLAGEN_PERCENT * col * level / height,
        unit="percent",
        description="collagen share of the dermis (histology percent collagen score)",
    )
    b.output(
        "collagen_total",
        col,
        unit="dimensionless",
        description="dermal collagen relative to normal dermis at time 0",
    )
    b.output(
        "collagen_I_III_ratio",
        c1 / c3,
        unit="dimensionless",
        description="type I over type III collagen, relative to normal dermis",
    )
