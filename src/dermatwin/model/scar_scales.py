"""POSAS observer and patient scores, and a Cutometer elasticity proxy, from a scar's state.

The Patient and Observer Scar Assessment Scale (POSAS) scores six items from 1 (as
normal skin) to 10 (the worst imaginable); SCAR_JASPERS_POSAS_* report each scale as its
mean item score, as here. Every item is ``1 + 9 f`` with ``f`` in 0..1 read from the
states of :mod:`dermatwin.model.mature_scars` (the mapping is assumed: POSAS items are
clinical judgements and no reference row ties them to tissue measures):

* thickness (both scales): ``f = min(X / EXCESS_AT_WORST, 1)``, excess collagen
  ``X``; three times the normal dermal collagen scores 10;
* relief (observer) and irregularity (patient): the more marked of elevation and
  retraction, ``f = max(thickness's f, a)`` (a tethered scar is drawn in, adhesion ``a``);
* pliability (observer) and stiffness (patient): ``f = (1 - E) / (1 - STIFFEST)``, the
  pliability proxy ``E`` scaled so that a quarter of normal elasticity scores 10;
* vascularity (observer): ``f = V``; colour (patient): ``f = (V + pigmentation) / 2``;
* pigmentation and surface area (observer): the patient's constant traits;
* pain and itch (patient): ``f = sensitivity x a``: the symptoms of an adherent scar
  taken as coming from its tethering (traction on its nerve endings).

A scale's score at a visit is the mean of its six items plus the rater's error, normal
with SD :data:`RATER_SD` (assumed), kept within 1..10. The Cutometer elasticity proxy is
``E`` times a log-normal device error (SD :data:`CUTOMETER_SD_LOG`, assumed).

>>> import numpy as np
>>> items = observer_items(np.array([0.0]), np.array([0.0]), np.array([1.0]),
...                        np.array([0.0]), np.array([0.0]), np.array([0.0]))
>>> float(np.mean(items))
1.0
"""

from __future__ import annotations

import numpy as np

#: excess collagen (relative to normal dermis) scored 10 for thickness (assumed)
EXCESS_AT_WORST = 2.0
#: pliability (relative to normal skin) scored 10 for pliability and stiffness (assumed)
STIFFEST = 0.25
#: SD of a rater's error on a scale's mean item score, per visit (assumed)
RATER_SD = {"posas_observer": 0.3, "posas_patient": 0.5}
#: SD of the log of a Cutometer reading's error, per visit (assumed)
CUTOMETER_SD_LOG = 0.1
SCALES = ("posas_observer", "posas_patient", "elasticity")


def _item(f) -> np.ndarray:
    return 1.0 + 9.0 * np.clip(f, 0.0, 1.0)


def _stack(items: list[np.ndarray]) -> np.ndarray:
    """Items on a leading axis (a constant trait, patients x 1, spread over the visits)."""
    return np.stack(np.broadcast_arrays(*items))


def observer_items(excess, adhesion, pliability, vascularity, pigmentation, surface):
    """The six observer items (vascularity, pigmentation, thickness, relief,
    pliability, surface area), stacked on a leading axis."""
    thick = np.clip(excess / EXCESS_AT_WORST, 0.0, 1.0)
    return _stack(
        [
            _item(vascularity),
            _item(pigmentation),
            _item(thick),
            _item(np.maximum(thick, adhesion)),
            _item((1.0 - pliability) / (1.0 - STIFFEST)),
            _item(surface),
        ]
    )


def patient_items(excess, adhesion, pliability, vascularity, pigmentation, pain, itch):
    """The six patient items (pain, itch, colour, stiffness, thickness, irregularity)."""
    thick = np.clip(excess / EXCESS_AT_WORST, 0.0, 1.0)
    return _stack(
        [
            _item(pain * adhesion),
            _item(itch * adhesion),
            _item(0.5 * (vascularity + pigmentation)),
            _item((1.0 - pliability) / (1.0 - STIFFEST)),
            _item(thick),
            _item(np.maximum(thick, adhesion)),
        ]
    )


def with_rater(score: np.ndarray, scale: str, noise: np.ndarray) -> np.ndarray:
    """A scale's mean item score as a rater gives it: ``noise`` standard normal draws."""
    return np.clip(score + RATER_SD[scale] * noise, 1.0, 10.0)
