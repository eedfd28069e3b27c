"""Burns: depth and area in, time to re-epithelialisation and hypertrophic-scar risk out.

A burn heals with the wound model (:mod:`dermatwin.model.wound_healing`; the same
inflammation, capacity and MSC paths) from what its depth leaves behind:

* superficial and partial-thickness burns keep epidermal appendages (hair follicles,
  sweat glands) from which the epithelium regrows, so the burn closes as many small
  islands at once: each patient's area to close is a disc of the depth's effective
  island radius (:data:`DEPTHS`, log-normal spread ``ISLAND_SD_LOG`` for the uncertainty
  of clinical depth assessment). The radii are assumed, chosen so that healing times
  fall in the classic bands (superficial under 10 days, superficial partial 10-21 days,
  deep partial over 21 days);
* a full-thickness burn has no appendages: it closes from its edges and by contraction,
  a disc of the burn site's own area (months: in practice it is grafted).

Covariates of a burn patient: the site's area (cm2, where MSC are applied), the total
burned body surface (TBSA, %), which raises the initial inflammation
(``1 + tbsa / TBSA_INFLAMMATION`` times the acute inflammation: assumed systemic
response) and infection. The bed of an acute burn is not a diabetic ulcer's: healing
capacity 1 (the wound model's unit, ``BURN_OVERRIDES``), half the ulcers' spread between
patients (log SD 0.5) and an acute inflammatory stall of 0.5 (all assumed), HbA1c 5.4 %
and ABI 1.

Hypertrophic-scar risk rises steeply with the time to heal (DEITCH1983: 0-6 % of sites
healed within 10 days, about a third of those healed in 14-21 days, 78 % after 21 days):
:func:`hts_risk` is a logistic curve through those bands (midpoint ``HTS_MIDPOINT_DAYS``,
scale ``HTS_SCALE_DAYS``; assumed shape). A site still open counts as healing after the
horizon.

>>> round(float(hts_risk(7.0)), 3), round(float(hts_risk(28.0)), 2)
(0.029, 0.85)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dermatwin._base.errors import ModelError


@dataclass(frozen=True)
class BurnDepth:
    #: effective island radius (cm); None: the burn closes from its edges
    island_radius_cm: float | None
    source: str


DEPTHS: dict[str, BurnDepth] = {
    "superficial": BurnDepth(0.2, "assumed: heals in about a week (epidermis only)"),
    "superficial_partial": BurnDepth(
        0.45, "assumed: heals in 10-21 days from dense appendages (papillary dermis)"
    ),
    "deep_partial": BurnDepth(
        1.0, "assumed: heals after 21 days from sparse deep appendages (reticular dermis)"
    ),
    "full_thickness": BurnDepth(None, "no appendages left: closes from the edges"),
}
#: log-normal spread of the island radius between patients (assumed)
ISLAND_SD_LOG = 0.3
#: TBSA (%) that doubles the initial inflammation (assumed systemic response)
TBSA_INFLAMMATION = 20.0
#: the wound model's values for an acute burn bed (assumed; see the module docstring)
BURN_OVERRIDES = {"wound_capacity": 1.0, "wound_capacity_sd": 0.5, "wound_inflammation0": 0.5}
#: HbA1c (%) and ABI of a burn patient without diabetes or arterial disease
NORMAL_HBA1C = 5.4
#: logistic hypertrophic-scar risk against days to heal, through DEITCH1983's bands
HTS_MIDPOINT_DAYS = 21.0
HTS_SCALE_DAYS = 4.0


def hts_risk(days) -> np.ndarray:
    """Probability of a hypertrophic scar for a site that heals in ``days`` (inf: 1)."""
    d = np.asarray(days, dtype=np.float64)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-(d - HTS_MIDPOINT_DAYS) / HTS_SCALE_DAYS))


def area_to_close(depth: str, site_area_cm2: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Per patient, the area (cm2) whose closure is the site's re-epithelialisation."""
    if depth not in DEPTHS:
        raise ModelError(f"depth: {depth!r}; allowed: {', '.join(DEPTHS)}")
    radius = DEPTHS[depth].island_radius_cm
    if radius is None:
        return np.asarray(site_area_cm2, dtype=np.float64)
    return math.pi * (radius * np.exp(ISLAND_SD_LOG * np.asarray(z))) ** 2


def inflammation_scale(tbsa_percent: np.ndarray) -> np.ndarray:
    """Multiplier on the initial inflammation from the burned body surface (%)."""
    return 1.0 + np.asarray(tbsa_percent, dtype=np.float64) / TBSA_INFLAMMATION
