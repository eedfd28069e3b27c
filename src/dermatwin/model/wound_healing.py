"""Chronic wound healing (diabetic foot ulcers): wound area over time, with and without MSC.

One patient is an ulcer of area ``area0`` (cm2, taken as a disc of radius
``r0 = sqrt(area0 / pi)``) and four covariates: HbA1c (%), ankle-brachial index (ABI,
perfusion), wound infection (0/1) and a residual healing capacity (log-normal, median 1).
Time in days. The three phases of repair are:

* **Inflammation** ``I(t)`` (dimensionless; healing is divided by 1 + I): a chronic
  wound starts stalled at ``I0 = wound_inflammation0 * (1 + wound_infection_fold *
  infected)`` and resolves at ``wound_inflammation_resolution``, faster with the MSC
  secretome: ``dI/dt = -k_res (1 + mac_msc_gain * s) I`` with ``s = S / (S +
  mac_msc_ec50)``; the gain and half-maximal secretome are the skin model's macrophage
  module parameters (MSC polarise wound macrophages to M2, IMM-18): the
  **immunomodulatory path**.
* **Granulation and contraction**, **re-epithelialisation**: the wound edge advances at
  ``wound_edge_speed`` (cm/day) and the wound contracts at ``wound_contraction_rate``
  (1/day), both times the bed's healing capacity ``h(t)``:
  ``dr/dt = -h(t) (v + k_con r)``, so an ulcer closes (r = 0) in finite time. The healing
  capacity is ``h = H_i P_i (1 + wound_gf_emax g) / (1 + I)`` with ``H_i = wound_capacity x
  exp(-wound_hba1c_slope (HbA1c - 7)) x exp(wound_capacity_sd z)`` (z standard normal),
  ``P_i = clip((ABI - wound_abi_floor) / (1 - wound_abi_floor), 0, 1)`` and ``g = GF /
  (GF + wound_gf_ec50)`` the MSC growth factors (KGF/HGF/VEGF) acting as in the skin
  model's keratinocyte module (``wound_gf_emax``, ``wound_gf_ec50`` are its parameters):
  the **growth-factor path**.

The MSC on the wound bed (cells per cm2 of wound, ``D``) come from a topical sheet
(``topical_sheet``: each application adds the sheet's cells per cm2) or from an injection
into the wound margin (``injection``: the cells given over the baseline area). They are
lost at the skin model's ``msc_depot_death`` times the product's clearance factor and
release growth factors and secretome as the skin model's ``msc`` module does (rates
``msc_gf_rate``, ``msc_secretome_rate``, losses ``msc_gf_loss``,
``msc_secretome_loss``, unlicensed fractions ``msc_gf_unlicensed_fraction``,
``msc_unlicensed_fraction``), at the licensed share of depot cells in an inflamed bed
(``msc_licensing_rate / (msc_licensing_rate + msc_delicensing_rate + depot death)``,
licensing drive taken as in a lesion: assumed). Pools are quasi-steady (they turn over
within a day; cells over a week). ``wound_msc_exposure`` (cm2) turns a density into the
skin model's whole-skin cell scale; it is the one value fitted to the MSC arm of
the Moon 2019 trial (MOON2019; see :mod:`dermatwin.calibration.wounds`).

Outputs per patient: the relative area ``A(t) / A0`` on a time grid (``wound_area``,
percent of baseline) and the exact day of closure (inf when open at the horizon).

>>> import numpy as np
>>> pop = WoundPatients(area0=np.array([2.0]), hba1c=np.array([7.0]), abi=np.array([1.0]),
...                     infected=np.array([0.0]), capacity_z=np.array([0.0]))
>>> course = heal(pop, horizon=84.0)
>>> bool(0 < course.closure_day[0] < 84), float(course.area_pct[0, 0])
(True, 100.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from dermatwin._base.errors import ModelError


@dataclass(frozen=True)
class WoundParameter:
    value: float
    unit: str
    source: str
    description: str


#: the wound-healing parameters (the MSC path's parameters are the skin model's)
WOUND_PARAMETERS: dict[str, WoundParameter] = {
    "wound_edge_speed": WoundParameter(
        0.05,
        "cm/day",
        "assumed: an epithelial edge advances about 0.5 mm/day in a healthy bed, so a "
        "1 cm2 wound closes in about 10 days (SCA-10's acute wound closes in 14 days)",
        "speed of the epithelial edge at healing capacity 1",
    ),
    "wound_contraction_rate": WoundParameter(
        0.02,
        "1/day",
        "assumed: human wounds contract less than rodent ones (a few % of radius a day)",
        "contraction rate of the wound radius at healing capacity 1",
    ),
    "wound_capacity": WoundParameter(
        0.863,
        "dimensionless",
        "DFU_ALLOASC_MOON2019_P2_CLOSE_W8_C, DFU_ALLOASC_MOON2019_P2_CLOSE_W12_C, "
        "DFU_ALLOASC_MOON2019_P2_TTC_C (fitted: film-dressing arm; calibration.wounds)",
        "median healing capacity of a diabetic ulcer bed (HbA1c 7 %, ABI 1, uninfected)",
    ),
    "wound_capacity_sd": WoundParameter(
        1.0,
        "dimensionless",
        "assumed: log-normal spread of healing beyond the covariates (the Moon 2019 "
        "control rows do not identify it; calibration.wounds)",
        "SD of the log healing capacity between patients (beyond the covariates)",
    ),
    "wound_hba1c_slope": WoundParameter(
        0.1,
        "1/%",
        "assumed: healing slower by about 10 % per HbA1c point above 7 % (direction from "
        "observational DFU cohorts; no row in the reference data)",
        "fall of log healing capacity per HbA1c percentage point above 7 %",
    ),
    "wound_abi_floor": WoundParameter(
        0.4,
        "dimensionless",
        "assumed: critical limb ischaemia (ABI < 0.4) stops healing; ABI >= 1 is full perfusion",
        "ankle-brachial index at which the bed no longer heals",
    ),
    "wound_inflammation0": WoundParameter(
        3.0,
        "dimensionless",
        "assumed: a chronic ulcer's persistent inflammation quarters its healing at baseline",
        "inflammatory stall of an uninfected chronic ulcer at time 0",
    ),
    "wound_infection_fold": WoundParameter(
        2.0,
        "dimensionless",
        "assumed: a local infection triples the inflammatory stall",
        "extra inflammation of an infected ulcer (relative)",
    ),
    "wound_inflammation_resolution": WoundParameter(
        0.02,
        "1/day",
        "assumed: with standard care (offloading, debridement) the stall halves in ~5 weeks",
        "resolution rate of the inflammatory stall without MSC",
    ),
    "wound_msc_exposure": WoundParameter(
        227.0,
        "cm2",
        "DFU_ALLOASC_MOON2019_P2_CLOSE_W8_T, DFU_ALLOASC_MOON2019_P2_CLOSE_W12_T, "
        "DFU_ALLOASC_MOON2019_P2_TTC_T (fitted: ASC-sheet arm; calibration.wounds)",
        "skin-model cells per (cell per cm2 of wound bed): local exposure of bed MSC",
    ),
}

#: what the MSC path reads from the skin model (keratinocyte, macrophage, msc modules)
SKIN_PARAMETERS = (
    "wound_gf_emax",
    "wound_gf_ec50",
    "mac_msc_gain",
    "mac_msc_ec50",
    "msc_depot_death",
    "msc_gf_rate",
    "msc_gf_loss",
    "msc_secretome_rate",
    "msc_secretome_loss",
    "msc_gf_unlicensed_fraction",
    "msc_unlicensed_fraction",
    "msc_licensing_rate",
    "msc_delicensing_rate",
)

#: time step of the integration (days): the MSC pools change over days, the radius slower
STEP_DAYS = 0.25
ROUTES = ("topical_sheet", "injection")


@cache
def skin_parameters() -> dict[str, float]:
    """The skin model's values of :data:`SKIN_PARAMETERS` (default set)."""
    from dermatwin.model.skin import build

    values = {p.name: float(p.value) for p in build().parameters}
    return {n: values[n] for n in SKIN_PARAMETERS}


def parameters(overrides: dict[str, float] | None = None) -> dict[str, float]:
    """Every value the wound model uses: its own table, the skin model's MSC path, and
    ``overrides`` (a name of either; an unknown name is an error)."""
    values = {n: p.value for n, p in WOUND_PARAMETERS.items()} | skin_parameters()
    for name, value in (overrides or {}).items():
        if name not in values:
            raise ModelError(
                f"wound parameter {name!r} unknown; allowed: {', '.join(sorted(values))}"
            )
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ModelError(f"wound parameter {name}: {value!r}; allowed: a number >= 0")
        values[name] = float(value)
    return values


@dataclass(frozen=True)
class WoundPatients:
    """Per-patient covariates (arrays of one length): area to close (cm2), HbA1c (%),
    ABI, infection (0/1), the standard-normal draw of the residual healing capacity;
    optionally a multiplier on the initial inflammation (a burn's systemic response)
    and the site area (cm2) injected cells spread over (default the area to close: a
    burn heals from many small islands, each ``area0``, across a larger site)."""

    area0: np.ndarray
    hba1c: np.ndarray
    abi: np.ndarray
    infected: np.ndarray
    capacity_z: np.ndarray
    inflammation_scale: np.ndarray | None = None
    site_area: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.area0)


@dataclass(frozen=True)
class MSCApplication:
    """MSC on the wound bed: ``route`` topical_sheet (``cells`` per cm2 of sheet at each
    of ``days``) or injection (``cells`` in total at each of ``days``, spread over the
    baseline area); ``potency``, ``gf_potency`` (secretome and growth factors; None:
    as ``potency``) and ``clearance`` the product's factors
    (:mod:`dermatwin.therapy.products`). Applications after closure are not given."""

    route: str
    cells: float
    days: tuple[float, ...]
    potency: float = 1.0
    clearance: float = 1.0
    gf_potency: float | None = None

    def __post_init__(self):
        if self.route not in ROUTES:
            raise ModelError(f"route: {self.route!r}; allowed: {', '.join(ROUTES)}")


@dataclass
class WoundCourse:
    """Relative area (percent of baseline) at ``times`` (patients x times) and the day
    each wound closed (inf: open at the horizon)."""

    times: np.ndarray
    area_pct: np.ndarray
    closure_day: np.ndarray
    extra: dict = field(default_factory=dict)


def heal(
    patients: WoundPatients,
    msc: MSCApplication | None = None,
    horizon: float = 84.0,
    every: float = 7.0,
    overrides: dict[str, float] | None = None,
) -> WoundCourse:
    """The wound course of every patient to ``horizon`` days, reported every ``every``
    days (see the module docstring). Deterministic: the randomness is in ``patients``."""
    if not (math.isfinite(horizon) and horizon > 0):
        raise ModelError(f"horizon: {horizon!r}; allowed: a number of days > 0")
    p = parameters(overrides)
    n = len(patients)
    steps = int(math.ceil(horizon / STEP_DAYS))
    r0 = np.sqrt(np.asarray(patients.area0, dtype=np.float64) / math.pi)
    capacity = (
        p["wound_capacity"]
        * np.exp(-p["wound_hba1c_slope"] * (patients.hba1c - 7.0))
        * np.exp(p["wound_capacity_sd"] * patients.capacity_z)
    )
    floor = p["wound_abi_floor"]
    perfusion = np.clip((patients.abi - floor) / (1.0 - floor), 0.0, 1.0)
    base = capacity * perfusion
    infl = p["wound_inflammation0"] * (1.0 + p["wound_infection_fold"] * patients.infected)
    if patients.inflammation_scale is not None:
        infl = infl * patients.inflammation_scale
    infl = np.asarray(infl, dtype=np.float64).copy()
    v, k_con = p["wound_edge_speed"], p["wound_contraction_rate"]

    gf_per_cell, sec_per_cell, death = msc_rates(p, msc)
    dose_steps = {}
    if msc is not None:
        site = patients.area0 if patients.site_area is None else patients.site_area
        per_cm2 = msc.cells / (site if msc.route == "injection" else 1.0)
        for day in msc.days:
            k = int(round(day / STEP_DAYS))
            dose_steps[k] = dose_steps.get(k, 0.0) + per_cm2
    bed = np.zeros(n)  # MSC per cm2 of wound bed
    r = r0.copy()
    closed = np.full(n, np.inf)
    report = np.arange(0.0, horizon + 1e-9, every)
    area = np.empty((n, len(report)))
    area[:, 0] = 100.0
    next_report = 1
    for k in range(steps):
        t = k * STEP_DAYS
        if k in dose_steps:
            bed = bed + np.where(r > 0, dose_steps[k], 0.0)
        exposure = p["wound_msc_exposure"] * bed
        gf = gf_per_cell * exposure
        sec = sec_per_cell * exposure
        g = gf / (gf + p["wound_gf_ec50"])
        s = sec / (sec + p["mac_msc_ec50"])
        h = base * (1.0 + p["wound_gf_emax"] * g) / (1.0 + infl)
        dr = h * (v + k_con * r) * STEP_DAYS
        just = (r > 0) & (dr >= r)
        # exact day of closure within the step (the radius falls almost linearly)
        closed[just] = t + STEP_DAYS * r[just] / dr[just]
        r = np.maximum(r - dr, 0.0)
        infl = infl * np.exp(
            -p["wound_inflammation_resolution"] * (1.0 + p["mac_msc_gain"] * s) * STEP_DAYS
        )
        bed = bed * math.exp(-death * STEP_DAYS)
        t_next = (k + 1) * STEP_DAYS
        while next_report < len(report) and report[next_report] <= t_next + 1e-9:
            area[:, next_report] = 100.0 * (r / r0) ** 2
            next_report += 1
    return WoundCourse(report, area, closed)


def msc_rates(p: dict[str, float], msc: MSCApplication | None) -> tuple[float, float, float]:
    """Quasi-steady growth factors and secretome per exposed cell (au/cell), and the
    loss rate of bed cells (1/day), from the skin model's msc module parameters."""
    if msc is None:
        return 0.0, 0.0, 0.0
    death = p["msc_depot_death"] * msc.clearance
    k_lic = p["msc_licensing_rate"]
    licensed = k_lic / (k_lic + p["msc_delicensing_rate"] + death)
    gf_basal = p["msc_gf_unlicensed_fraction"]
    sec_basal = p["msc_unlicensed_fraction"]
    gf = p["msc_gf_rate"] / p["msc_gf_loss"] * (gf_basal + (1 - gf_basal) * licensed)
    sec = (
        p["msc_secretome_rate"] / p["msc_secretome_loss"] * (sec_basal + (1 - sec_basal) * licensed)
    )
    gf_potency = msc.potency if msc.gf_potency is None else msc.gf_potency
    return gf * gf_potency, sec * msc.potency, death
