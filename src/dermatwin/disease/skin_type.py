"""Fitzpatrick skin type and the visibility of erythema when a clinician scores.

Redness is harder to see on darker skin, so EASI and PASI under-read erythema there
(ZHAO2015: AD outcome measures are least reliable in highly pigmented skin, with
erythema perception a main contributor). A scored value is the model's score x
:func:`score_factor`: the erythema sign's share of the score (:data:`ERYTHEMA_SHARE`:
one of EASI's four and of PASI's three equally weighted signs) is seen at
:data:`ERYTHEMA_VISIBILITY` of its size. The visibilities are assumed (the reference data
hold no effect size); types I-III see erythema fully. Other scores (SCORAD, itch, TEWL)
are left as they are (SCORAD's erythema item is one of six intensity items: left out
rather than guessed). A read-out effect: what the clinician records, not the disease.

>>> round(score_factor("EASI", 6), 4)
0.875
>>> score_factor("EASI", None), score_factor("TEWL", 6)
(1.0, 1.0)
"""

from __future__ import annotations

#: Fitzpatrick skin types
SKIN_TYPES = (1, 2, 3, 4, 5, 6)
#: share of the score carried by the erythema sign (equally weighted signs)
ERYTHEMA_SHARE = {"EASI": 1 / 4, "PASI": 1 / 3}
#: assumed: fraction of the erythema a clinician sees, by Fitzpatrick type (ZHAO2015 says
#: erythema is under-perceived on pigmented skin, without a size)
ERYTHEMA_VISIBILITY = {1: 1.0, 2: 1.0, 3: 1.0, 4: 0.85, 5: 0.7, 6: 0.5}


def score_factor(score: str, skin_type: int | None) -> float:
    """The factor on ``score`` as scored on Fitzpatrick ``skin_type`` (None: unknown, 1)."""
    if skin_type is None or score not in ERYTHEMA_SHARE:
        return 1.0
    return 1.0 - ERYTHEMA_SHARE[score] * (1.0 - ERYTHEMA_VISIBILITY[int(skin_type)])
