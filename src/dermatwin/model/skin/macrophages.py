"""Macrophage module: M1/M2 recruitment and polarisation; efferocytosis of dying MSC.

Two states, ``M1`` (classically activated, inflammatory) and ``M2`` (alternatively
activated, IL-10/TGF-beta producing) macrophages in the dermis, in au: 1 au is the total
macrophage density of healthy dermis (relative units; no absolute cell density is in the
reference data). Healthy dermis holds ``mac_m1_base`` = 0.2 au M1 and ``mac_m2_base`` =
0.8 au M2 (resident macrophages are mostly M2-like; assumed), so ``M2_M1_ratio`` = 4.

* **Recruitment.** Monocytes enter as M1 at
  ``mac_death * (1 + mac_infl_recruit * I + mac_injury_recruit * W)``, where
  ``I = (ifng + tnf) / 2`` is the mean of the ``ifng`` and ``tnf`` coupling signals
  (dimensionless, 1 = lesional; fed by the msc module from the AD and psoriasis cores)
  and ``W`` the ``wound`` signal (0..1, fed by the keratinocyte module: area with an
  open wound). Every macrophage is lost at ``mac_death``.
* **Polarisation M1 -> M2** at ``mac_polarisation * P`` with
  ``P = 1 + mac_th2_gain * th2 + mac_il10_gain * il10 + mac_msc_gain * Z / (Z + mac_msc_ec50)``:
  ``th2`` is the effective (after any drug block) IL-4 + IL-13 of the AD core relative to
  Miyano's typical patient, ``il10`` the excess IL-10 over baseline (cytokines module) and
  ``Z = msc_secretome + msc_efferocytosis_skin / mac_effero_ref`` the MSC drive: secreted
  PGE2/IDO/TSG-6 and "hit and run" efferocytosis of dying MSC (macrophages that eat
  apoptotic MSC turn M2-like and IL-10 producing).
  Human monocyte-derived macrophages become CD206hi IL-10hi IL-12lo after 3 days of
  MSC coculture (IMM-18): with ``mac_msc_gain`` = 3 the M1 -> M2 rate at saturation is
  4/day, so a saturating MSC drive repolarises within about a day and the pool (which
  turns over at ``mac_death``) is M2-dominated within 3 days.
* **Reversion M2 -> M1** at ``mac_reversion * (1 + mac_infl_reversion * I +
  mac_injury_reversion * W)``: IFN-gamma/TNF and the early wound favour M1.

* **MSC-educated macrophages** (state ``M2_msc``, au): the subset of M2 that the MSC
  term of the polarisation produced, with the same losses as every M2 cell (reversion,
  death)::

      dM2_msc/dt = mac_polarisation * mac_msc_gain * Z / (Z + mac_msc_ec50) * M1
                   - (revert + mac_death) * M2_msc

  Without MSC its equation keeps it at 0 (an equilibrated patient may hold round-off of
  about 1e-25 from the steady-state solver), and it never exceeds M2.

**Path to disease (feedback into the cores).** The cores were fitted to patients whose
lesions hold their own macrophages, so the endogenous M1/M2 balance is already inside
their fitted rates; only what MSC change is fed back (otherwise it would be counted
twice). Two paths:

1. Keratinocyte activation by M1-derived TNF/IL-1: MSC-educated cells are cells that
   would otherwise be M1, so the share of M1 macrophages re-educated,
   ``q = M2_msc / (M1 + M2_msc)``, lowers the psoriasis core's lumped TNF production
   ``tnf2`` (TNF drives keratinocyte proliferation in Shmarov 2022) and the AD core's
   keratinocyte TSLP production ``k23`` by the factor ``1 - mac_tnf_share * q``.
   Human macrophages cocultured with MSC make little TNF (IMM-18, "TNF low").
2. IL-10 and TGF-beta of the educated cells (signal ``m2_msc`` = M2_msc /
   ``mac_m2_base``, read by the cytokines module), which act on T cells there.

Outputs: ``M2_M1_ratio``, ``macrophages_total`` (au). Signals fed: ``m2`` = M2 /
``mac_m2_base`` - 1 (dimensionless excess of M2 over healthy dermis, 0 at baseline),
read by the cytokines module for IL-10 and TGF-beta (read-outs), ``m2_msc``, and ``m1``
= M1 / ``mac_m1_base`` - 1 (excess of M1 over healthy dermis), read by the dermis module
for inflammatory collagen degradation (off by default).

Without MSC ``M2_msc`` = 0, the factor is exactly 1 and every core equation is
unchanged. Knock-out: ``mac_msc_gain`` = 0 (no education by MSC) or ``mac_tnf_share``
= 0 (path 1 cut).
"""

from __future__ import annotations

from dermatwin.model.skin import parameter_table, register
from dermatwin.model.spec import ModelBuilder

#: keratinocyte activation by TNF/IL-1: psoriasis TNF production (lumped immune cells,
#: SHMAROV2022) and AD keratinocyte TSLP production (MIYANO2021)
KERATINOCYTE_ACTIVATION = ("tnf2", "k23")
#: effective IL-4 + IL-13 of Miyano's typical patient at steady state (MIYANO2021)
TH2_LESIONAL = 29.0727 + 65.7168


def th2_drive(b: ModelBuilder):
    """Effective IL-4 + IL-13 (after drug blocks) of the AD core, 1 = typical lesion."""
    s = b.symbol
    il4 = (1 - s("e_IL4")) * s("IL4")
    il13 = (1 - s("e_IL13") * s("f_IL13")) * s("IL13")
    return (il4 + il13) / TH2_LESIONAL


@register("macrophages")
def add(b: ModelBuilder) -> None:
    par = parameter_table(b)

    m1_base = par(
        "mac_m1_base",
        0.2,
        "au",
        "assumed: resident dermal macrophages mostly M2-like (M2:M1 = 4 in healthy dermis)",
        "M1 macrophages in healthy dermis (1 au = all healthy dermal macrophages)",
        lower=1e-6,
    )
    m2_base = par(
        "mac_m2_base",
        0.8,
        "au",
        "assumed: as mac_m1_base",
        "M2 macrophages in healthy dermis",
        lower=1e-6,
    )
    death = par(
        "mac_death",
        0.2,
        "1/day",
        "assumed: monocyte-derived dermal macrophages live about 5 days",
        "loss rate of dermal macrophages (also sets baseline recruitment)",
        lower=1e-6,
    )
    rev = par(
        "mac_reversion",
        0.05,
        "1/day",
        "assumed: slow drift of M2 back to M1 in healthy dermis",
        "baseline M2 -> M1 reversion rate",
    )
    recruit_infl = par(
        "mac_infl_recruit",
        1.0,
        "dimensionless",
        "assumed: lesional IFN-gamma/TNF double monocyte recruitment",
        "extra recruitment per unit of the mean ifng/tnf signal",
    )
    recruit_inj = par(
        "mac_injury_recruit",
        4.0,
        "dimensionless",
        "assumed: an open wound recruits 5 times the healthy monocyte influx",
        "extra recruitment per unit of the injury signal",
    )
    rev_infl = par(
        "mac_infl_reversion",
        2.0,
        "dimensionless",
        "assumed: lesional IFN-gamma/TNF triple the M2 -> M1 drift",
        "extra M2 -> M1 reversion per unit of the mean ifng/tnf signal",
    )
    rev_inj = par(
        "mac_injury_reversion",
        20.0,
        "dimensionless",
        "assumed: early wound macrophages are M1-dominated while the wound is open",
        "extra M2 -> M1 reversion per unit of the injury signal",
    )
    th2_gain = par(
        "mac_th2_gain",
        1.0,
        "dimensionless",
        "assumed: lesional IL-4/IL-13 double the M1 -> M2 rate (alternative activation)",
        "extra polarisation per unit of effective IL-4 + IL-13 (1 = typical AD lesion)",
    )
    il10_gain = par(
        "mac_il10_gain",
        0.5,
        "dimensionless",
        "assumed: a doubling of IL-10 raises the M1 -> M2 rate by half",
        "extra polarisation per unit of IL-10 excess over baseline",
    )
    msc_gain = par(
        "mac_msc_gain",
        3.0,
        "dimensionless",
        "IMM-18 (MSC coculture gives CD206hi IL-10hi macrophages within 3 days)",
        "maximal extra polarisation by MSC factors and efferocytosis",
    )
    msc_ec50 = par(
        "mac_msc_ec50",
        0.01,
        "au",
        "assumed: 1e6 licensed MSC (secretome 0.01 au) half-maximally polarise the lesion",
        "MSC drive giving half-maximal extra polarisation",
        lower=1e-12,
    )
    effero_ref = par(
        "mac_effero_ref",
        1e8,
        "cell/day",
        "assumed: efferocytosis of 1e6 dying MSC per day acts like 0.01 au of secretome",
        "efferocytosis rate counted as 1 au of MSC drive",
        lower=1e-12,
    )
    pol = par(
        "mac_polarisation",
        1.0,
        "1/day",
        "assumed: set with mac_reversion for M2:M1 = 4 in healthy dermis "
        "(steady state: pol * M1 = (rev + death) * M2)",
        "baseline M1 -> M2 polarisation rate",
    )

    tnf_share = par(
        "mac_tnf_share",
        0.3,
        "dimensionless",
        "assumed (prior 0.1-0.6): macrophages make about a third of lesional TNF/IL-1 "
        "that activates keratinocytes; MSC-educated macrophages make little TNF (IMM-18)",
        "share of keratinocyte-activating TNF (tnf2, k23) made by M1 macrophages",
        upper=1.0,
    )

    m1 = b.state(
        "M1",
        unit="au",
        initial=0.2,
        scale=1.0,
        description="M1 (inflammatory) macrophages in the dermis (1 au = healthy total)",
    )
    m2 = b.state(
        "M2",
        unit="au",
        initial=0.8,
        scale=1.0,
        description="M2 (anti-inflammatory, repair) macrophages in the dermis",
    )
    m2_msc = b.state(
        "M2_msc",
        unit="au",
        initial=0.0,
        scale=1.0,
        description="MSC-educated macrophages: the M2 made by MSC factors and efferocytosis",
    )

    infl = (b.signal("ifng") + b.signal("tnf")) / 2
    injury = b.signal("wound")
    drive = b.signal("msc_secretome") + b.signal("msc_efferocytosis_skin") / effero_ref
    educate = pol * msc_gain * drive / (drive + msc_ec50)
    polarise = pol * (1 + th2_gain * th2_drive(b) + il10_gain * b.signal("il10")) + educate
    revert = rev * (1 + rev_infl * infl + rev_inj * injury)
    recruit = death * (m1_base + m2_base) * (1 + recruit_infl * infl + recruit_inj * injury)
    b.ode(m1, recruit - polarise * m1 + revert * m2 - death * m1)
    b.ode(m2, polarise * m1 - revert * m2 - death * m2)
    b.ode(m2_msc, educate * m1 - (revert + death) * m2_msc)

    re_educated = m2_msc / (m1 + m2_msc)
    for name in KERATINOCYTE_ACTIVATION:
        b.scale_parameter(name, 1 - tnf_share * re_educated)

    b.add_signal("m1", m1 / m1_base - 1)
    b.add_signal("m2", m2 / m2_base - 1)
    b.add_signal("m2_msc", m2_msc / m2_base)
    b.output("M2_M1_ratio", m2 / m1, unit="dimensionless", description="M2 per M1 macrophage")
    b.output(
        "macrophage_reeducated_fraction",
        re_educated,
        unit="dimensionless",
        description="share of would-be M1 macrophages re-educated by MSC (0 without MSC)",
    )
    b.output(
        "macrophages_total",
        m1 + m2,
        unit="au",
        description="dermal macrophages (1 au = healthy dermis)",
    )
