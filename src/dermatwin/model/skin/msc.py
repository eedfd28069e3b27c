"""MSC module: compartments, viable cells vs imaging label, apoptosis, licensing, secretome.

Cells are counted in cells (whole body), time in days. Doses are bolus events of viable
cells into ``msc_blood`` (IV) or ``msc_depot`` (SC, intradermal, intralesional), of the
dead fraction of the product into the apoptotic pool of the route (``msc_apoptotic``
IV, ``msc_apoptotic_skin`` local) and of every cell given into ``msc_given`` (a running
total for dose fractions); build them with
:func:`dermatwin.therapy.products.msc_dose_events`.

Compartments::

    systemic: blood -> lung (viable, trapped) -> dying lung cells / lung phagocytes
              blood -> spleen, liver (caught at first pass: dead on arrival, BIO-03)
              blood -> damaged in circulation (not trapped; IBMIR) -> spleen, liver
              lymph node: where tolerogenic phagocytes meet T cells (tolerance module)
    skin:     msc_depot (SC/ID/IL, lesional or nearby skin), msc_tissue (the < 0.05 %
              of an IV dose that reaches skin and other tissues)

* **IV first pass.** Blood cells leave at ``msc_trap_rate`` (minutes). Of them
  ``msc_frac_lung`` stay viable in the lung (BIO-05: 27-33.5 % of the 111In label in the
  lung right after infusion), ``msc_frac_spleen`` and ``msc_frac_liver`` are caught in
  spleen and liver (BIO-16, BIO-17) and ``msc_frac_tissue`` (BIO-02d) reach skin and
  other tissues; the rest are damaged in the circulation (assumed: instant blood-mediated
  inflammatory reaction; human imaging sees most of the label outside the lung from the
  start) and are cleared by spleen and liver phagocytes at ``msc_res_clearance``. No
  viable cells outside the lung and the local sites (BIO-03, BIO_MOUSE_EGGENHOFER2012_VIABLE).
* **Death and apoptosis.** Every viable cell dies at ``k_X (1 + c) * kill + thaw_kill *
  thaw`` where ``k_X`` is the intrinsic death rate of its compartment
  (``msc_lung_death``, ``msc_depot_death``, ``msc_tissue_death``), ``c`` =
  ``msc_cytotoxicity`` the recipient's cytotoxicity against MSC (per patient, log-normal,
  median 1: MECH_GALLEU2017_APOMSC), ``kill`` the product and anti-donor modifiers below
  and ``thaw_kill * thaw`` the post-thaw apoptosis of a thawed product (PK_BRAID_CRYO_THAW).
  A share ``alpha = (msc_apoptosis_intrinsic + c) / (1 + c)`` of these deaths is
  apoptosis (intrinsic deaths are partly apoptotic, MECH_PANG2021_APOPTOSIS,
  MECH_PREDA2021_LIFESPAN; killing by recipient cytotoxic cells is apoptosis,
  MECH_GALLEU2017_APOMSC); post-thaw deaths are apoptosis. Apoptotic cells join
  ``msc_apoptotic`` (lung, spleen, liver, circulation) or ``msc_apoptotic_skin`` (depot
  and tissue) and are engulfed at ``msc_efferocytosis_rate``; the rest die by other
  routes whose clearance feeds nothing. The dead fraction of the product (``1 -
  viability``) enters the apoptotic pool directly (MECH_DEADMSC_2021_EQUIPOTENCY).
* **Apoptosis knock-out.** ``msc_apoptosis_block`` = 1 (apoptosis-resistant cells, as
  BAK/BAX-deficient MSC of MECH_PANG2021_APOPTOSIS) makes every death non-apoptotic: the
  efferocytosis signals are multiplied by ``1 - msc_apoptosis_block``. The cells' clearance
  and label are kept as they are, so the knock-out isolates the apoptotic path.
* **Label (what 111In imaging sees)** is separate from viable cells: lung label =
  viable lung cells + ``msc_label_lung`` (dying cells and phagocytes holding debris, which
  drain to spleen and liver at ``msc_lung_label_drain``); debris of the circulation
  (``msc_label_circ``) and of the lung go to ``msc_label_spleen`` and ``msc_label_liver``
  (share ``msc_spleen_share`` to the spleen) and are lost at ``msc_sink_loss``.
  Calibrated by hand to BIO_111IN_GHOLAM2011_* (lung 27-33.5 % at infusion, 2-5.4 % at
  day 10; spleen 30-42 %, liver 13-17 % at day 10). The label is a read-out.
* **Clearance modifiers.** ``kill = msc_clearance_factor * (1 + msc_dsa_fold * A)``:
  the product's factor (allogeneic > 1) and ``A`` = ``msc_antidonor`` (0..1), the
  anti-donor antibody response that grows only in a patient with ``msc_dsa = 1`` (about
  11.5 % of allogeneic recipients, PER-01) given an allogeneic product, logistically
  after antigen exposure (``msc_allo_priming``), from about a week after the first dose
  (PER-04). Faster killing shortens the acute paracrine path of later doses but, at
  the patient's apoptotic share, feeds the apoptotic path as much: with the host-carried
  effect the anti-donor response lowers efficacy only slightly (documented choice; the
  antibody-mediated share of deaths is not known to be apoptotic or not).
* **Licensing.** Viable lung and depot cells have licensed subsets (``msc_lung_lic``,
  ``msc_depot_lic``). Licensing needs IFN-gamma AND TNF: the drive is ``g(ifng, K_ifng) *
  g(tnf, K_tnf)`` with ``g(x, K) = x (1 + K) / (x + K)``. Depot cells sit in the skin and
  read the lesional signals ``ifng`` and ``tnf`` (dimensionless, 1 = lesional; this
  module feeds them from the cores: ``IFNg / msc_ifng_ref`` (AD), ``TNF / msc_tnf_ref``
  (psoriasis) and ``(Th1 + Th17) / msc_th_ref`` (assumed AD proxy: the AD core has no
  TNF)). Lung cells read the SYSTEMIC signals ``x * s`` with ``s = msc_systemic_spill *
  extent``, ``extent = EASI / msc_extent_easi + max(PASI_index, 0)`` (assumed: serum
  cytokines are a spill-over of lesional ones in proportion to the affected skin; no
  data). Near-maximal licensing takes about 24 h (IMM-12), fading within ~2 days (IMM-13).
* **Thaw.** ``msc_thaw_deficit`` (0..1) is set to 1 by a thawed-product dose and recovers
  sigmoidally (``dD/dt = -k D (1 - D + seed)``: a lag, then recovery); it blocks
  licensing and secretion (full potency about a day later than a fresh product, PER-20)
  and kills cells at ``msc_thaw_death * D`` (post-thaw apoptosis: thawed cells are
  predominantly cleared by 3 days, PK_BRAID_CRYO_THAW; the survivors persist as fresh
  cells). One shared state: a thawed dose also stuns cells left from earlier doses.
* **Secretome and growth factors (the acute paracrine path).** Pools
  ``msc_secretome_pool`` (PGE2/IDO/TSG-6, au) and ``msc_gf_pool`` (TGF-beta/VEGF/HGF/KGF,
  au) are produced by viable lung and depot cells, unlicensed cells at a basal fraction
  (10 % for the secretome, IMM-08; 1/3 for growth factors, IMM-11), times
  ``msc_potency``, and lost first-order; they last while the cells live.

Signals fed: ``msc_secretome``, ``msc_growth_factors``, ``msc_efferocytosis_skin`` (engulfment
of apoptotic MSC in the SKIN, cells/day: read by dermal macrophages and the tolerance
module) and ``msc_efferocytosis_systemic`` (engulfment in lung, spleen and liver: read by
the tolerance module only, so MSC dying in the lung do not polarise dermal macrophages).

Read-outs (feed nothing back): the label states ``msc_label_*`` and their outputs, the
viable-cell outputs and ``msc_apoptotic_share``. What reaches the disease: the secretome
(immune, macrophage, cytokine and dermis modules; acute, while cells live), the growth
factors (keratinocytes, barrier, vessels, dermis) and the two efferocytosis signals
(tolerance module: the durable path; skin efferocytosis also dermal macrophages).

With no cells given every MSC state, pool and signal stays exactly 0, so the cores are
unchanged.
"""

from __future__ import annotations

import sympy as sp

from dermatwin.model.reference.shmarov2022 import PUBLISHED_PLAQUE
from dermatwin.model.skin import parameter_table, register
from dermatwin.model.spec import ModelBuilder

#: steady state of Miyano's typical AD patient (MIYANO2021): IFNg, Th1 + Th17
IFNG_LESIONAL = 0.9822
TH1_TH17_LESIONAL = 3.1098 + 2.1290
#: TNF of a psoriatic plaque in the Shmarov 2022 core (au)
TNF_PLAQUE = float(PUBLISHED_PLAQUE["TNF"])
#: pooled phase-3 placebo baseline EASI (AD_BASELINE_POOLED_PBO_EASI)
EASI_TYPICAL = 32.0

#: states that receive dose boluses, by route group
BLOOD_STATE = "msc_blood"
DEPOT_STATE = "msc_depot"
GIVEN_STATE = "msc_given"
THAW_STATE = "msc_thaw_deficit"
#: where the dead fraction of a dose goes (apoptotic pools), and the IV debris label
APOPTOTIC_STATE = "msc_apoptotic"
APOPTOTIC_SKIN_STATE = "msc_apoptotic_skin"
CIRCULATING_LABEL_STATE = "msc_label_circ"


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
    apo = cells(APOPTOTIC_STATE, "apoptotic MSC in lung, spleen, liver, blood (systemic)")
    apo_skin = cells(APOPTOTIC_SKIN_STATE, "apoptotic MSC in the skin (depot and tissue)")
    lab_lung = cells("msc_label_lung", "label of dead MSC in the lung (cells, phagocytes)")
    lab_circ = cells(CIRCULATING_LABEL_STATE, "label of MSC damaged in the circulation")
    lab_spleen = cells("msc_label_spleen", "label of MSC debris in the spleen")
    lab_liver = cells("msc_label_liver", "label of MSC debris in the liver")
    given = cells(GIVEN_STATE, "cumulative cells given, viable and dead (for dose fractions)")
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

    # -- IV first pass -----------------------------------------------------------------
    k_trap = par(
        "msc_trap_rate",
        48.0,
        "1/day",
        "assumed: first pass of ~20 min (BIO-04, BIO-05: the label is in the lung within 1 h)",
        "rate at which IV MSC leave the blood",
    )
    f_lung = par(
        "msc_frac_lung",
        0.35,
        "dimensionless",
        "BIO-05 (BIO_111IN_GHOLAM2011_LUNG_T0): 27-33.5 % of the label in the lung right "
        "after infusion; 0.35 gives 30 % at 1 h",
        "fraction of cells leaving blood that stay viable in the lung",
        upper=1.0,
    )
    f_spleen = par(
        "msc_frac_spleen",
        0.06,
        "dimensionless",
        "BIO-16 (BIO_111IN_GHOLAM2011_SPLEEN_T0): 2-10.2 % in the spleen right after IV",
        "fraction of cells leaving blood caught (dead) in the spleen",
        upper=1.0,
    )
    f_liver = par(
        "msc_frac_liver",
        0.015,
        "dimensionless",
        "BIO-17 (BIO_111IN_GHOLAM2011_LIVER_T0): 0-2.8 % in the liver right after IV",
        "fraction of cells leaving blood caught (dead) in the liver",
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
    k_res = par(
        "msc_res_clearance",
        1.0,
        "1/day",
        "BIO-04 (BIO_MOUSE_EGGENHOFER2012_VIABLE: debris label mostly in the liver by 24 h); "
        "tuned by hand with msc_sink_loss to BIO-07, BIO-08",
        "clearance of MSC damaged in the circulation by spleen and liver phagocytes",
    )
    spleen_share = par(
        "msc_spleen_share",
        0.7,
        "dimensionless",
        "BIO-07, BIO-08: spleen 30-42 % vs liver 13-17 % at day 10 (spleen > liver in "
        "every patient)",
        "share of debris label cleared to the spleen (rest: liver)",
        upper=1.0,
    )
    k_drain = par(
        "msc_lung_label_drain",
        0.23,
        "1/day",
        "BIO-05, BIO-06: lung label 30 % at infusion, 2-5.4 % at day 10 (half-life ~3 days "
        "once the viable cells have died)",
        "rate at which label of dead lung MSC (in phagocytes) leaves the lung",
    )
    k_sink = par(
        "msc_sink_loss",
        0.07,
        "1/day",
        "BIO-07, BIO-08: spleen + liver hold 43-60 % of the label at day 10 (tuned by hand)",
        "loss rate of MSC debris label from spleen and liver",
    )

    # -- death, apoptosis --------------------------------------------------------------
    k_lung = par(
        "msc_lung_death",
        1.0,
        "1/day",
        "BIO-03, BIO_MOUSE_EGGENHOFER2012_VIABLE: viable IV MSC in the lung up to 24 h, none "
        "at 72 h (2/day at the median recipient cytotoxicity 1)",
        "intrinsic death rate of viable lung-trapped MSC (hypoxia, anoikis)",
    )
    k_depot = par(
        "msc_depot_death",
        0.1,
        "1/day",
        "BIO-11, BIO-12, BIO-13, PK_BRAID_SC: local MSC seen 3 days to 3-4 weeks; half-life "
        "7 days without recipient cytotoxicity (PK_BRAID_SC, athymic mice), 3.5 days at "
        "the median",
        "intrinsic death rate of viable MSC at a local injection site",
    )
    k_tissue = par(
        "msc_tissue_death",
        0.1,
        "1/day",
        "assumed: as at a local injection site (BIO-13)",
        "intrinsic death rate of viable MSC in non-lung tissues",
    )
    cyto = b.parameter(
        "msc_cytotoxicity",
        1.0,
        unit="dimensionless",
        source="MECH_GALLEU2017_APOMSC: recipient cytotoxicity against MSC (apoptosis) "
        "predicts response; patient-level spread not retrieved: assumed log-normal, median "
        "1, sigma 1 (prior 0.1-10)",
        description="recipient cytotoxic killing of MSC relative to their intrinsic death",
        lower=0.0,
        upper=100.0,
        lognormal=(0.0, 1.0),
    )
    apo0 = par(
        "msc_apoptosis_intrinsic",
        0.25,
        "dimensionless",
        "MECH_PANG2021_APOPTOSIS, MECH_PREDA2021_LIFESPAN: MSC apoptose in the lung even "
        "without host cytotoxic cells (caspase-3); the share is assumed (prior 0.1-0.5)",
        "apoptotic share of intrinsic MSC deaths",
        upper=1.0,
    )
    block = par(
        "msc_apoptosis_block",
        0.0,
        "dimensionless",
        "MECH_PANG2021_APOPTOSIS: BAK/BAX-deficient MSC do not apoptose (knock-out switch: "
        "0 normal, 1 apoptosis-resistant)",
        "1 if the given MSC cannot apoptose (their deaths feed no efferocytosis)",
        upper=1.0,
    )
    k_eff = par(
        "msc_efferocytosis_rate",
        2.0,
        "1/day",
        "BIO-04: apoptotic MSC engulfed within about a day (MECH_PREDA2021_LIFESPAN)",
        "engulfment rate of apoptotic MSC by phagocytes",
    )
    thaw_kill = par(
        "msc_thaw_death",
        3.0,
        "1/day",
        "PK_BRAID_CRYO_THAW: MSC injected straight after thawing are predominantly cleared "
        "by 3 days, the same cells cultured overnight survive > 3 months (tuned by hand: "
        "below 10 % of the dose at 3.4 days without recipient cytotoxicity)",
        "extra (apoptotic) death rate of cells at full post-thaw deficit",
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
    spill = par(
        "msc_systemic_spill",
        0.3,
        "dimensionless",
        "assumed: serum IFN-gamma/TNF are a fraction of lesional levels, in proportion to "
        "the affected skin (no data; prior 0.05-1)",
        "systemic licensing signal per unit of lesional signal at typical extent",
    )
    extent_easi = par(
        "msc_extent_easi",
        EASI_TYPICAL,
        "dimensionless",
        "AD_BASELINE_POOLED_PBO_EASI: pooled phase-3 baseline EASI 32 counted as typical extent",
        "EASI counted as typical disease extent (extent = 1)",
        lower=1e-9,
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

    def licensing(i, t):
        return (i * (1 + k_ifng) / (i + k_ifng)) * (t * (1 + k_tnf) / (t + k_tnf))

    extent = b.output_expression("EASI") / extent_easi + sp.Max(
        b.output_expression("PASI_index"), 0
    )
    systemic = spill * extent
    drive_skin = licensing(ifng, tnf)
    drive_lung = licensing(ifng * systemic, tnf * systemic)
    fit = 1 - thaw  # recovered fraction after thaw

    # -- equations ---------------------------------------------------------------------
    kill = clear * (1 + dsa_fold * anti) * (1 + cyto)
    thaw_death = thaw_kill * thaw
    d_lung = k_lung * kill + thaw_death
    d_depot = k_depot * kill + thaw_death
    d_tissue = k_tissue * kill + thaw_death
    # apoptotic share of the deaths: intrinsic partly, cytotoxic and post-thaw wholly
    alpha = (apo0 + cyto) / (1 + cyto)

    def apoptotic(rate_intrinsic, x):
        return (alpha * rate_intrinsic * kill + thaw_death) * x

    first_pass = k_trap * blood
    f_circ = 1 - f_lung - f_spleen - f_liver - f_tissue
    b.ode(blood, -first_pass)
    b.ode(lung, f_lung * first_pass - d_lung * lung)
    b.ode(tissue, f_tissue * first_pass - d_tissue * tissue)
    b.ode(depot, -d_depot * depot)
    lic_skin = k_lic * drive_skin * fit
    lic_lung = k_lic * drive_lung * fit
    b.ode(lung_lic, lic_lung * (lung - lung_lic) - (k_unlic + d_lung) * lung_lic)
    b.ode(depot_lic, lic_skin * (depot - depot_lic) - (k_unlic + d_depot) * depot_lic)
    # cells dying in spleen/liver at first pass or in the circulation: apoptotic at the
    # patient's share alpha (their deaths are not intrinsic lung/tissue deaths)
    apo_in = apoptotic(k_lung, lung) + alpha * (f_spleen + f_liver + f_circ) * first_pass
    apo_skin_in = apoptotic(k_depot, depot) + apoptotic(k_tissue, tissue)
    effero_sys = k_eff * apo
    effero_skin = k_eff * apo_skin
    b.ode(apo, apo_in - effero_sys)
    b.ode(apo_skin, apo_skin_in - effero_skin)
    # the label: debris of the lung and of the circulation ends in spleen and liver
    b.ode(lab_lung, d_lung * lung - k_drain * lab_lung)
    b.ode(lab_circ, f_circ * first_pass - k_res * lab_circ)
    to_res = k_res * lab_circ + k_drain * lab_lung
    b.ode(lab_spleen, f_spleen * first_pass + spleen_share * to_res - k_sink * lab_spleen)
    b.ode(lab_liver, f_liver * first_pass + (1 - spleen_share) * to_res - k_sink * lab_liver)
    b.ode(given, 0 * given)
    donor = blood + lung + tissue + depot + apo + apo_skin
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
    # apoptosis-resistant cells are cleared without the apoptotic signal (MECH_PANG2021_APOPTOSIS)
    b.add_signal("msc_efferocytosis_skin", (1 - block) * effero_skin)
    b.add_signal("msc_efferocytosis_systemic", (1 - block) * effero_sys)

    # -- outputs -----------------------------------------------------------------------
    viable = blood + lung + tissue + depot
    dose = given + 1
    b.output("msc_viable", viable, unit="cell", description="viable given MSC, whole body")
    b.output(
        "msc_viable_fraction",
        viable / dose,
        unit="dimensionless",
        description="viable MSC as a fraction of all cells given",
    )
    b.output(
        "msc_lung_fraction",
        lung / dose,
        unit="dimensionless",
        description="viable lung-trapped MSC as a fraction of all cells given",
    )
    b.output(
        "msc_label_lung_fraction",
        (lung + lab_lung) / dose,
        unit="dimensionless",
        description="imaging label in the lung (viable + dead cells), fraction of cells given",
    )
    b.output(
        "msc_label_spleen_fraction",
        lab_spleen / dose,
        unit="dimensionless",
        description="imaging label in the spleen, fraction of cells given",
    )
    b.output(
        "msc_label_liver_fraction",
        lab_liver / dose,
        unit="dimensionless",
        description="imaging label in the liver, fraction of cells given",
    )
    b.output(
        "msc_sink",
        lab_spleen + lab_liver,
        unit="cell",
        description="MSC debris label in spleen and liver (cell equivalents)",
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
        drive_skin,
        unit="dimensionless",
        description="IFN-gamma AND TNF licensing drive in the skin (1 at lesional levels)",
    )
    b.output(
        "msc_licensing_drive_systemic",
        drive_lung,
        unit="dimensionless",
        description="IFN-gamma AND TNF licensing drive of lung-trapped MSC (systemic signals)",
    )
    b.output(
        "msc_apoptotic_share",
        (1 - block) * alpha,
        unit="dimensionless",
        description="apoptotic share of this patient's MSC deaths (recipient cytotoxicity)",
    )
    b.output(
        "msc_efferocytosis",
        effero_sys + effero_skin,
        unit="cell/day",
        description="engulfment rate of apoptotic MSC by phagocytes (systemic + skin)",
    )
