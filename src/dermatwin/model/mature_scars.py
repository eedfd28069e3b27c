"""Mature (years-old) human scars: a persistent collagen pool, and a fat graft acting on it.

The skin model's dermis (:mod:`dermatwin.model.skin.dermis`) makes a scar from an
injury and remodels its excess collagen at ``scar_remodelling`` (half-life about 70
days): its scars flatten within a year, so they cannot stand for the scars treated in
human trials, a year to decades old. What is left of a scar after that first year is
its cross-linked collagen. One patient here is such a scar, four states relative to
normal dermis (time in days):

* **Excess collagen** ``X`` (0 = normal dermis; 1 = twice the normal collagen): the
  scar's thickness. It is cross-linked, so it turns over as normal dermal collagen
  does, at the skin model's ``collagen_turnover`` (half-life 15 years, SCA-20), faster
  with the MSC anti-fibrotic action ``A(t)`` exactly as the skin model's scar excess
  is (MMP-1 raised by HGF; ``scar_msc_remodelling``):
  ``dX/dt = -collagen_turnover (1 + scar_msc_remodelling A(t)) X``.
* **Adhesion** ``a`` (0..1): the share of the scar tethered to the tissue below it (the
  defining trait of the "adherent scars" of SCAR_JASPERS_*). The cannula tunnelling of a
  fat-grafting procedure (Coleman technique; the saline side of a double-blind trial
  gets the same) frees a share ``scar_procedure_release`` of it on day 0, which does not
  re-form (assumed, with SCAR_JASPERS12_ELAST's gain kept at 12 months in view).
* **Vascularity** ``V`` (0..1 of the maximal redness) regresses at
  ``scar_vascular_regression``; nothing here acts on it.
* **Pliability** ``E`` (1 = normal skin), the Cutometer elasticity proxy:
  ``E = (1 - scar_adhesion_stiffness a) / (1 + scar_stiffening X)``: the skin model's
  stiffening by excess collagen (``scar_stiffening``) times the tethering.

Per patient, constant over a trial (scored as they are by :mod:`dermatwin.model.scar_scales`):
pigmentation, scar surface area, and the sensitivity of pain and itch to tethering.

**The fat graft's path.** The adipose stromal cells (ASC) of the graft (``asc_per_cm2``:
graft volume per cm2 times :data:`SCAR_PARAMETERS` ``graft_asc_per_ml``) act as MSC do
in the wound model (:mod:`dermatwin.model.wound_healing`: the skin model's quasi-steady
growth factors and secretome per cell, the product's potency and clearance, loss at
``msc_depot_death``, local exposure ``wound_msc_exposure`` per cell per cm2) and the sum
``Z`` of secretome and growth factors gives the skin model's anti-fibrotic action
``A = msc_antifibrotic_max Z / (Z + msc_antifibrotic_ec50)``. With the cells lost at a
rate ``d``, ``Z(t) = Z0 exp(-d t)`` and the integral of ``A`` is exact:
``int_0^t A = (msc_antifibrotic_max / d) ln((Z0 + ec50) / (Z0 exp(-d t) + ec50))``.
The action lasts weeks while the pool turns over in years, so the cells remove only a
few % of a mature scar's excess: the model's reading of the saline-controlled null
results (SCAR_RCT_SALINE_NULL, SCAR_FAT_GAL2017_VSS). Knock-out: ``asc_per_cm2 = 0`` or
``msc_antifibrotic_max = 0`` leaves the scar as with saline (tests/model/test_mature_scars.py).

>>> import numpy as np
>>> scar = ScarPatients(excess=np.array([0.6]), adhesion=np.array([0.6]),
...                     vascularity=np.array([0.1]))
>>> course = remodel(scar, np.array([0.0, 91.0]), procedure=True)
>>> round(float(course.adhesion[0, 1]) / 0.6, 3) == round(1 - parameters()[
...     "scar_procedure_release"], 3)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from dermatwin._base.errors import ModelError
from dermatwin.model.wound_healing import (
    MSCApplication,
    WoundParameter,
    msc_rates,
)
from dermatwin.model.wound_healing import parameters as wound_parameters

#: the mature-scar parameters (the MSC path's are the wound and skin models')
SCAR_PARAMETERS: dict[str, WoundParameter] = {
    "scar_procedure_release": WoundParameter(
        0.41,
        "dimensionless",
        "SCAR_JASPERS_POSAS_OBS_3M (fitted: calibration.scars.fit_release)",
        "share of a scar's adhesion freed by the cannula tunnelling of a grafting procedure",
    ),
    "scar_adhesion_stiffness": WoundParameter(
        0.5,
        "dimensionless",
        "assumed: a fully tethered scar keeps half the pliability of the same scar free",
        "loss of pliability (Cutometer elasticity) per unit of adhesion",
    ),
    "scar_vascular_regression": WoundParameter(
        math.log(2.0) / (2.0 * 365.25),
        "1/day",
        "assumed: the residual redness of a mature scar halves in about 2 years",
        "regression rate of a mature scar's vascularity",
    ),
    "graft_asc_per_ml": WoundParameter(
        2.0e5,
        "cells/mL",
        "assumed: lipoaspirate holds about 1e6 stromal vascular cells per mL, a fifth of "
        "them adipose stromal cells",
        "adipose stromal cells per mL of fat graft",
    ),
}

#: what the path reads from the skin model's dermis (and, through the wound model, its
#: msc module and the wound model's exposure)
DERMIS_PARAMETERS = (
    "collagen_turnover",
    "msc_antifibrotic_max",
    "msc_antifibrotic_ec50",
    "scar_msc_remodelling",
    "scar_stiffening",
)


@cache
def dermis_parameters() -> dict[str, float]:
    """The skin model's values of :data:`DERMIS_PARAMETERS` (default set)."""
    from dermatwin.model.skin import build

    values = {p.name: float(p.value) for p in build().parameters}
    return {n: values[n] for n in DERMIS_PARAMETERS}


def parameters(overrides: dict[str, float] | None = None) -> dict[str, float]:
    """Every value the mature-scar model uses: its own table, the dermis's, the wound
    model's MSC path, and ``overrides`` (a name of any; an unknown name is an error)."""
    values = {n: p.value for n, p in SCAR_PARAMETERS.items()} | dermis_parameters()
    overrides = overrides or {}
    wound = wound_parameters()
    for name in overrides:
        if name not in values and name not in wound:
            raise ModelError(
                f"scar parameter {name!r} unknown; allowed: {', '.join(sorted({*values, *wound}))}"
            )
    wound = wound_parameters({k: v for k, v in overrides.items() if k not in values})
    for name, value in ((k, v) for k, v in overrides.items() if k in values):
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ModelError(f"scar parameter {name}: {value!r}; allowed: a number >= 0")
        values[name] = float(value)
    for name in ("scar_procedure_release", "scar_adhesion_stiffness", "msc_antifibrotic_max"):
        if values[name] > 1:
            raise ModelError(f"scar parameter {name}: {values[name]!r}; allowed: 0..1")
    return wound | values


@dataclass(frozen=True)
class ScarPatients:
    """Per-patient scar states at day 0 (arrays of one length; see the module docstring):
    excess collagen (>= 0), adhesion and vascularity (0..1); and the constant traits
    the scales read (0..1; default 0): pigmentation, surface area, pain and itch
    sensitivity to tethering."""

    excess: np.ndarray
    adhesion: np.ndarray
    vascularity: np.ndarray
    pigmentation: np.ndarray | None = None
    surface: np.ndarray | None = None
    pain: np.ndarray | None = None
    itch: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.excess)

    def trait(self, name: str) -> np.ndarray:
        value = getattr(self, name)
        return np.zeros(len(self)) if value is None else np.asarray(value, dtype=np.float64)


@dataclass(frozen=True)
class FatGraft:
    """A fat graft under the scar on day 0: ``ml_per_cm2`` of fat, the ASC's product
    factors (``potency``, ``gf_potency``, ``clearance``: :mod:`dermatwin.therapy.products`)."""

    ml_per_cm2: float
    potency: float = 1.0
    clearance: float = 1.0
    gf_potency: float | None = None

    def __post_init__(self):
        if not (math.isfinite(self.ml_per_cm2) and self.ml_per_cm2 >= 0):
            raise ModelError(f"ml_per_cm2: {self.ml_per_cm2!r}; allowed: a number >= 0")


@dataclass
class ScarCourse:
    """The states at ``times`` (days), each patients x times, and the integral of the
    anti-fibrotic action to each time (days; 0 without graft)."""

    times: np.ndarray
    excess: np.ndarray
    adhesion: np.ndarray
    vascularity: np.ndarray
    pliability: np.ndarray
    antifibrotic_days: np.ndarray


def antifibrotic_integral(
    p: dict[str, float], graft: FatGraft | None, times: np.ndarray
) -> np.ndarray:
    """``int_0^t A`` (days) at ``times`` for the graft's ASC (module docstring)."""
    times = np.asarray(times, dtype=np.float64)
    if graft is None or graft.ml_per_cm2 == 0 or p["msc_antifibrotic_max"] == 0:
        return np.zeros_like(times)
    cells = graft.ml_per_cm2 * p["graft_asc_per_ml"]
    app = MSCApplication(
        "injection", cells, (0.0,), graft.potency, graft.clearance, graft.gf_potency
    )
    gf, sec, death = msc_rates(p, app)
    z0 = (gf + sec) * p["wound_msc_exposure"] * cells
    ec50, top = p["msc_antifibrotic_ec50"], p["msc_antifibrotic_max"]
    if death == 0:  # cells that stay act at a constant level
        return top * z0 / (z0 + ec50) * times
    return top / death * np.log((z0 + ec50) / (z0 * np.exp(-death * times) + ec50))


def remodel(
    patients: ScarPatients,
    times: np.ndarray,
    graft: FatGraft | None = None,
    procedure: bool = False,
    overrides: dict[str, float] | None = None,
) -> ScarCourse:
    """The scar states of every patient at ``times`` (days >= 0) after a procedure on
    day 0 (``procedure``: cannula tunnelling; ``graft``: fat left under the scar; see
    the module docstring). Exact (closed form); deterministic."""
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(times < 0):
        raise ModelError("times: allowed: finite days >= 0")
    p = parameters(overrides)
    integral = antifibrotic_integral(p, graft, times)
    k = p["collagen_turnover"]
    decay = np.exp(-k * (times + p["scar_msc_remodelling"] * integral))
    excess = np.asarray(patients.excess, dtype=np.float64)[:, None] * decay[None, :]
    a0 = np.asarray(patients.adhesion, dtype=np.float64)[:, None]
    freed = (1.0 - p["scar_procedure_release"]) if procedure else 1.0
    adhesion = np.where(times[None, :] > 0, a0 * freed, a0)
    vasc = np.asarray(patients.vascularity, dtype=np.float64)[:, None] * np.exp(
        -p["scar_vascular_regression"] * times
    )
    pliability = (1.0 - p["scar_adhesion_stiffness"] * adhesion) / (
        1.0 + p["scar_stiffening"] * excess
    )
    return ScarCourse(times, excess, adhesion, vasc, pliability, integral)
