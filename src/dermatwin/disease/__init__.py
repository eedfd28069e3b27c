"""Disease layer: per-disease score registry, IGA/PGA grading and measurement error.

Imports nothing of dermatwin above it (numpy only), so patients, outcomes, trials and
twins can all read one definition.
"""

from dermatwin.disease.observation import NU, TWIN_ERROR, ErrorModel, trial_noise
from dermatwin.disease.scores import (
    DISEASES,
    ORDINALS,
    SCORES,
    DiseaseScores,
    Ordinal,
    Score,
    ceiling,
    continuous_scores,
    grade,
    primary_score,
    scores_of,
)
from dermatwin.disease.severity import (
    IGA_EASI_EDGES,
    PGA_PASI_EDGES,
    iga_from_easi,
    pga_from_pasi,
)

__all__ = [
    "DISEASES",
    "IGA_EASI_EDGES",
    "NU",
    "ORDINALS",
    "PGA_PASI_EDGES",
    "SCORES",
    "TWIN_ERROR",
    "DiseaseScores",
    "ErrorModel",
    "Ordinal",
    "Score",
    "ceiling",
    "continuous_scores",
    "grade",
    "iga_from_easi",
    "pga_from_pasi",
    "primary_score",
    "scores_of",
    "trial_noise",
]
