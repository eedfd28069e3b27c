"""MSC module: pharmacokinetics, licensing and secretome of given mesenchymal stromal cells.

Cells are counted in cells (whole body), time in days. Doses are bolus events into
``msc_blood`` (IV) or ``msc_depot`` (SC, intradermal, intralesional) plus the same amount
into ``msc_given`` (a running total used for dose fractions); build them with
:func:`dermatwin.therapy.products.msc_dose_events`.

* **IV route.** Blood cells leave at ``msc_trap_rate`` (first pass, minutes): most are
  trapped in the lung (BIO-04, BIO-05, PK_FISCHER_BMMC_PASSAGE), a fraction
  ``msc_frac_sink`` goes straight to liver/spleen (BIO-16, BIO-17) and a fraction
  ``msc_frac_tissue`` (< 0.05 %, BIO-02d) reaches other tissues (skin included).
  Viable lung cells die at ``msc_lung_death`` (none viable at 72 h, BIO-03) into the
  apoptotic pool; lung content (viable + dying) then halves in about a day (BIO-01).
* **Local depot.** SC/intradermal/intralesional cells stay at the site for days to weeks
  (BIO-11, BIO-12, BIO-13, PK_BRAID_SC), dying at ``msc_depot_death``.
* **Dying cells and efferocytosis.** ``msc_apoptotic`` (cells) is cleared by phagocytes at
  ``msc_efferocytosis_rate``; the label moves to the liver/spleen sink ``msc_sink``
  (BIO-04; PK_GHOLAM_SPLEEN_D10, PK_GHOLAM_LIVER_D10: mostly spleen and liver by day
  10), lost slowly.
* **Clearance modifiers.** Every viable death rate is multiplied by
  ``msc_clearance_factor`` (product: allogeneic > 1) and by ``1 + msc_dsa_fold * A``, where
  ``A`` = ``msc_antidonor`` (0..1) is the anti-donor antibody response. It grows only in a
  patient with ``msc_dsa = 1`` (about 11.5 % of allogeneic recipients, PER-01) given an
  allogeneic product (``msc_allogeneic = 1``), after antigen exposure
  (``msc_allo_priming``), logistically so that it appears about a week after the first
  dose (PER-04); later doses are then cleared faster.
* **Licensing.** The viable lung and depot cells have licensed subsets
  (``msc_lung_lic``, ``msc_depot_lic``, cells). Licensing needs IFN-gamma AND TNF: the
  drive is ``g(ifng, K_ifng) * g(tnf, K_tnf)`` with ``g(x, K) = x (1 + K) / (x + K)``
  (1 at lesional levels, 0 when either is 0), from the coupling signals ``ifng`` and
  ``tnf`` (dimensionless, 1 = lesional). This module feeds them from the cores:
  ``ifng += IFNg / msc_ifng_ref`` (AD core), ``tnf += TNF / msc_tnf_ref`` (psoriasis core,
  plaque level) and ``tnf += (Th1 + Th17) / msc_th_ref`` (assumed AD proxy: the AD core has
  no TNF state; type-1/17 T cells are the main TNF producers). Near-maximal licensing
  takes about 24 h (IMM-12), and it fades within ~2 days without cytokines (IMM-13).
* **Thaw recovery.** ``msc_thaw_deficit`` (0..1) is set to 1 by a thawed-product dose
  and recovers sigmoidally (``dD/dt = -k D (1 - D + seed)``: a lag, then recovery); it
  blocks licensing and secretion, so a thawed product reaches full potency about a day
  later than a fresh one (PER-20). It is one shared state: a thawed dose also stuns
  cells still present from earlier doses.
* **Secretome and growth factors.** Pools ``msc_secretome_pool`` (PGE2/IDO/TSG-6, au) and
  ``msc_gf_pool`` (TGF-beta/VEGF/HGF/KGF, au) are produced by viable lung and depot
  cells, unlicensed cells at a basal fraction (10 % for the secretome, IMM-08; 1/3 for
  growth factors, IMM-11), times ``msc_potency``, and lost first-order. They feed the
  signals ``msc_secretome`` and ``msc_growth_factors``; ``msc_efferocytosis`` is the
  clearance rate of dying MSC (cells/day).

With no cells given every MSC state, pool and signal stays exactly 0, so the cores are
unchanged.
"""

from __future__ import annotations

from dermatwin.model.reference.shmarov2022 import PUBLISHED_PLAQUE
from dermatwin.model.skin import parameter_table, register
from dermatwin.model.spec import ModelBuilder

#: steady state of Miyano's typical AD patient (MIYANO2021): IFNg, Th1 + Th17
IFNG_LESIONAL = 0.9822
TH1_TH17_LESIONAL = 3.1098 + 2.1290
#: TNF of a psoriatic plaque in the Shmarov 2022 core (au)
TNF_PLAQUE = float(PUBLISHED_PLAQUE["TNF"])

#: states that receive dose boluses, by route group
BLOOD_STATE = "msc_blood"
DEPOT_STATE = "msc_depot"
GIVEN_STATE = "msc_given"
THAW_STATE = "msc_thaw_deficit"


@register("msc")
def add(b: ModelBuilder) -> None:
    def cells(name: str, description: str) -> object:
        return b.state(name, unit="cell", initial=0.0, scale=1e8, description=description)

    blood = cells(BLOOD_STATE, "viable MSC in blood (IV dose enters here)")
    lung = cells("msc_lung", "viable MSC trapped in the lung")
    lung_lic = cells("msc_lung_lic", "licensed subset of msc_lung")
    tissue = cells("msc_tissue", "viable MSC in non-lung tissues (skin included)")
    depot = cells(DEPOT_STATE, "viable MSC at a local injection site (SC/ID/IL)")
    depot_lic = cells("msc_depot_lic", "licensed subset of msc_depot")
    apo = cells("msc_apoptotic", "dying (apoptotic) MSC awaiting efferocytosis")
    sink = cells("msc_sink", "MSC debris label in liver and spleen (cell equivalents)")
    given = cells(GIVEN_STATE, "cumulative cells given (for dose fractions)")
    priming = b.state(
        "msc_allo_priming",
        unit="dimensionless",
        initial=0.0,
        description="antigen exposure memory of the recipient to donor MSC (0..1)",
    )
    anti = b.state(
        "msc_antidonor",
        unit="dimensionless",
        initial=0.0,
        description="anti-donor (DSA) response (0..1), only if msc_dsa and allogeneic",
    )
    thaw = b.state(
        THAW_STATE,
        unit="dimensionless",
        initial=0.0,
        description="post-thaw potency deficit (0..1; a thawed dose sets it to 1)",
    )
    sec = b.state(
        "msc_secretome_pool",
        unit="au",
        initial=0.0,
        description="immunosuppressive secretome (PGE2/IDO/TSG-6) from given MSC",
    )
    gfp = b.state(
        "msc_gf_pool",
        unit="au",
        initial=0.0,
        description="growth factors (TGF-beta/VEGF/HGF/KGF) from given MSC",
    )

    par = parameter_table(b)

    # -- distribution and clearance ----------------------------------------------------
    k_trap = par(
        "msc_trap_rate",
        48.0,
        "1/day",
        "assumed: first pass of ~20 min; BIO-04, BIO-05, PK_FISCHER_BMMC_PASSAGE: the "
        "majority of IV MSC is in the lung within 1 h",
        "rate at which IV MSC leave the blood",
    )
    f_sink = par(
        "msc_frac_sink",
        0.1,
        "dimensionless",
        "BIO-16, BIO-17: spleen 2-10.2 %, liver 0-2.8 % of activity right after IV",
        "fraction of cells leaving blood that go straight to liver/spleen",
        upper=1.0,
    )
    f_tissue = par(
        "msc_frac_tissue",
        2e-4,
        "dimensionless",
        "BIO-02d: < 0.05 % of an IV dose reaches non-lung tissues (0.02 % taken)",
        "fraction of cells leaving blood that reach non-lung tissues",
        upper=1.0,
    )
    k_lung = par(
        "msc_lung_death",
        2.0,
        "1/day",
        "BIO-03: viable IV MSC recovered from lung up to 24 h, none at 72 h; with "
        "efferocytosis gives lung content half-life ~1 day (BIO-01)",
        "death rate of viable lung-trapped MSC",
    )
    k_depot = par(
        "msc_depot_death",
        0.2,
        "1/day",
        "BIO-11, BIO-12, BIO-13, PK_BRAID_SC: local MSC seen at the site for 3 days to "
        "3-4 weeks (half-life 3.5 days taken)",
        "death rate of viable MSC at a local injection site",
    )
    k_tissue = par(
        "msc_tissue_death",
        0.2,
        "1/day",
        "assumed: as at a local injection site (BIO-13)",
        "death rate of viable MSC in non-lung tissues",
    )
    k_eff = par(
        "msc_efferocytosis_rate",
        2.0,
        "1/day",
        "BIO-04: label mainly in liver by 24 h; with msc_lung_death lung content "
        "half-life ~20 h (BIO-01: 24 h)",
        "clearance rate of apoptotic MSC by phagocytes",
    )
    k_sink = par(
        "msc_sink_loss",
        0.05,
        "1/day",
        "BIO-07, BIO-08: spleen + liver hold 43-60 % of the label at day 10",
        "loss rate of MSC debris label from liver/spleen",
    )
    clear = par(
        "msc_clearance_factor",
        1.0,
        "dimensionless",
        "assumed: 1 for autologous; a product sets it (see therapy.products)",
        "multiplier on every viable-MSC death rate (product property)",
    )
    potency = par(
        "msc_potency",
        1.0,
        "dimensionless",
        "assumed: 1 for bone-marrow MSC of an adult donor; a product sets it",
        "multiplier on secretome and growth-factor production per cell",
    )

    # -- anti-donor response -----------------------------------------------------------
    allo = par(
        "msc_allogeneic",
        0.0,
        "dimensionless",
        "assumed: product property (0 autologous, 1 allogeneic)",
        "1 if the given MSC are allogeneic",
        upper=1.0,
    )
    dsa = par(
        "msc_dsa",
        0.0,
        "dimensionless",
        "PER-01: 11.5 % of allogeneic MSC recipients develop donor-specific antibodies",
        "1 if this patient develops donor-specific antibodies (per patient)",
        upper=1.0,
    )
    k_prime = par(
        "msc_priming_rate",
        2.0,
        "1/day",
        "assumed: donor antigen is presented within about a day of exposure",
        "rate of recipient priming by donor cells",
    )
    k_ag = par(
        "msc_priming_k",
        1e6,
        "cell",
        "assumed: 1e6 donor cells (about 1 % of a clinical dose) prime half-maximally",
        "donor cells (viable + dying) giving half-maximal priming",
        lower=1e-9,
    )
    k_ab = par(
        "msc_dsa_rate",
        0.8,
        "1/day",
        "PER-04: cytotoxic anti-donor antibodies detected from ~7 days (logistic "
        "B-cell expansion from msc_dsa_seed reaches 0.5 at ~6 days)",
        "growth rate of the anti-donor response",
    )
    seed = par(
        "msc_dsa_seed",
        0.01,
        "dimensionless",
        "assumed: naive precursor level that sets the ~1-week lag of PER-04",
        "seed of the logistic anti-donor response",
    )
    dsa_fold = par(
        "msc_dsa_fold",
        5.0,
        "dimensionless",
        "assumed: antibody/complement lysis of donor cells (PER-04 cytotoxic antibodies) "
        "makes clearance several-fold faster",
        "extra fold clearance of viable MSC at full anti-donor response",
    )

    # -- licensing and thaw ------------------------------------------------------------
    ifng_ref = par(
        "msc_ifng_ref",
        IFNG_LESIONAL,
        "au",
        "MIYANO2021: steady-state IFNg of the typical AD patient (lesional)",
        "AD-core IFNg counted as lesional (ifng signal = 1)",
        lower=1e-12,
    )
    tnf_ref = par(
        "msc_tnf_ref",
        TNF_PLAQUE,
        "au",
        "SHMAROV2022: TNF of the plaque steady state",
        "psoriasis-core TNF counted as lesional (tnf signal = 1)",
        lower=1e-12,
    )
    th_ref = par(
        "msc_th_ref",
        TH1_TH17_LESIONAL,
        "au",
        "assumed: AD core has no TNF; Th1 + Th17 (main TNF sources) at the MIYANO2021 "
        "typical-patient steady state counted as lesional TNF",
        "AD-core Th1 + Th17 counted as lesional TNF (tnf signal = 1)",
        lower=1e-12,
    )
    k_ifng = par(
        "msc_lic_k_ifng",
        0.5,
        "dimensionless",
        "assumed: half-maximal licensing at half the lesional IFN-gamma",
        "IFN-gamma signal giving half-maximal licensing drive",
        lower=1e-12,
    )
    k_tnf = par(
        "msc_lic_k_tnf",
        0.5,
        "dimensionless",
        "assumed: half-maximal licensing at half the lesional TNF",
        "TNF signal giving half-maximal licensing drive",
        lower=1e-12,
    )
    k_lic = par(
        "msc_licensing_rate",
        3.0,
        "1/day",
        "IMM-12: near-maximal IDO1 about 24 h after cytokine licensing (95 % at 1 day)",
        "licensing rate at lesional IFN-gamma and TNF",
    )
    k_unlic = par(
        "msc_delicensing_rate",
        1.5,
        "1/day",
        "IMM-13: induced IDO1 falls within ~2 days of cytokine removal",
        "loss rate of licensing",
    )
    k_thaw = par(
        "msc_thaw_recovery_rate",
        6.0,
        "1/day",
        "PER-20: thawed MSC need ~24 h of acclimation for full potency (with "
        "msc_thaw_seed: half recovered at ~16 h, 95 % at ~24 h)",
        "rate of the sigmoid recovery from the post-thaw deficit",
    )
    thaw_seed = par(
        "msc_thaw_seed",
        0.02,
        "dimensionless",
        "assumed: sets the lag of the sigmoid post-thaw recovery (PER-20)",
        "recovered fraction that seeds the post-thaw recovery",
        lower=1e-12,
    )

    # -- secretome and growth factors --------------------------------------------------
    basal = par(
        "msc_unlicensed_fraction",
        0.1,
        "dimensionless",
        "IMM-08: MSC PGE2 secretion rises 10-fold on PBMC coculture",
        "secretome of an unlicensed cell relative to a licensed one",
        upper=1.0,
    )
    gf_basal = par(
        "msc_gf_unlicensed_fraction",
        1.0 / 3.0,
        "dimensionless",
        "IMM-11: MSC VEGF rises 3-fold on PBMC coculture",
        "growth-factor output of an unlicensed cell relative to a licensed one",
        upper=1.0,
    )
    r_sec = par(
        "msc_secretome_rate",
        2e-8,
        "au/cell/day",
        "assumed: 1e8 viable licensed cells (about 1.4e6 cells/kg, PER-43, PER-44) "
        "sustain a secretome of 1 au",
        "secretome production per licensed cell",
    )
    k_sec = par(
        "msc_secretome_loss",
        2.0,
        "1/day",
        "assumed: PGE2/kynurenine/TSG-6 act for hours (half-life ~8 h)",
        "loss rate of the secretome pool",
    )
    r_gf = par(
        "msc_gf_rate",
        1e-8,
        "au/cell/day",
        "assumed: 1e8 viable licensed cells sustain growth factors of 1 au; relative "
        "composition VEGF:HGF:TGF-beta ~1:10:1 per ANG-01..03 (hypoxia x5, ANG-04, ANG-05) "
        "is lumped",
        "growth-factor production per licensed cell",
    )
    k_gf = par(
        "msc_gf_loss",
        1.0,
        "1/day",
        "assumed: growth factors act for about a day",
        "loss rate of the growth-factor pool",
    )

    # -- coupling signals --------------------------------------------------------------
    b.add_signal("ifng", b.symbol("IFNg") / ifng_ref)
    b.add_signal("tnf", b.symbol("TNF") / tnf_ref)
    b.add_signal("tnf", (b.symbol("Th1") + b.symbol("Th17")) / th_ref)
    ifng = b.signal("ifng")
    tnf = b.signal("tnf")
    drive = (ifng * (1 + k_ifng) / (ifng + k_ifng)) * (tnf * (1 + k_tnf) / (tnf + k_tnf))
    fit = 1 - thaw  # recovered fraction after thaw

    # -- equations ---------------------------------------------------------------------
    kill = clear * (1 + dsa_fold * anti)
    d_lung = k_lung * kill
    d_depot = k_depot * kill
    d_tissue = k_tissue * kill
    b.ode(blood, -k_trap * blood)
    b.ode(lung, (1 - f_sink - f_tissue) * k_trap * blood - d_lung * lung)
    b.ode(tissue, f_tissue * k_trap * blood - d_tissue * tissue)
    b.ode(depot, -d_depot * depot)
    lic_rate = k_lic * drive * fit
    b.ode(lung_lic, lic_rate * (lung - lung_lic) - (k_unlic + d_lung) * lung_lic)
    b.ode(depot_lic, lic_rate * (depot - depot_lic) - (k_unlic + d_depot) * depot_lic)
    death = d_lung * lung + d_depot * depot + d_tissue * tissue
    effero = k_eff * apo
    b.ode(apo, death - effero)
    b.ode(sink, f_sink * k_trap * blood + effero - k_sink * sink)
    b.ode(given, 0 * given)
    donor = blood + lung + tissue + depot + apo
    b.ode(priming, k_prime * donor / (donor + k_ag) * (1 - priming))
    b.ode(anti, dsa * allo * k_ab * priming * (anti + seed) * (1 - anti))
    b.ode(thaw, -k_thaw * thaw * (1 - thaw + thaw_seed))

    viable_local = lung + depot
    licensed = lung_lic + depot_lic
    out_sec = basal * (viable_local - licensed) + licensed
    out_gf = gf_basal * (viable_local - licensed) + licensed
    b.ode(sec, r_sec * potency * fit * out_sec - k_sec * sec)
    b.ode(gfp, r_gf * potency * fit * out_gf - k_gf * gfp)

    b.add_signal("msc_secretome", sec)
    b.add_signal("msc_growth_factors", gfp)
    b.add_signal("msc_efferocytosis", effero)

    # -- outputs -----------------------------------------------------------------------
    viable = blood + lung + tissue + depot
    b.output("msc_viable", viable, unit="cell", description="viable given MSC, whole body")
    b.output(
        "msc_viable_fraction",
        viable / (given + 1),
        unit="dimensionless",
        description="viable MSC as a fraction of all cells given",
    )
    b.output(
        "msc_lung_fraction",
        lung / (given + 1),
        unit="dimensionless",
        description="viable lung-trapped MSC as a fraction of all cells given",
    )
    b.output(
        "msc_licensed_fraction",
        licensed / (viable_local + 1),
        unit="dimensionless",
        description="licensed fraction of viable lung and depot MSC",
    )
    b.output(
        "msc_potency_index",
        fit * out_sec / (viable_local + 1),
        unit="dimensionless",
        description="secretome output per viable lung/depot cell (1 = licensed, recovered)",
    )
    b.output(
        "msc_licensing_drive",
        drive,
        unit="dimensionless",
        description="IFN-gamma AND TNF licensing drive (1 at lesional levels)",
    )
    b.output(
        "msc_efferocytosis",
        effero,
        unit="cell/day",
        description="clearance rate of dying MSC by phagocytes",
    )
