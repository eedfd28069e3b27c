"""Per-disease score registry: names, ranges, the primary score and the ordinal grade.

One :class:`DiseaseScores` per disease (:data:`DISEASES`) says which scores a patient,
a trial and a twin of that disease have, in which order, their ranges (inclusive), the
primary score (trajectories, waterfall, relapse, flares, twin goals) and the ordinal
global assessment derived from the primary score (IGA from EASI, PGA from PASI; see
:mod:`dermatwin.disease.severity`). Every list of scores in the package is read from here.

>>> DISEASES["AD"].primary, DISEASES["psoriasis"].ordinal
('EASI', 'PGA')
>>> SCORES["SCORAD"].high
103.0
>>> scores_of("psoriasis")
('PASI', 'PGA')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dermatwin.disease.severity import (
    IGA_EASI_EDGES,
    PGA_PASI_EDGES,
    iga_from_easi,
    pga_from_pasi,
)


@dataclass(frozen=True)
class Score:
    """A clinical score or measurement: inclusive range, unit and, for a bounded clinical
    scale, whether measurement noise is capped at its top (a recorded EASI is at most 72;
    TEWL's range is a plausibility check, not a scale maximum)."""

    name: str
    low: float
    high: float
    unit: str = "score"
    bounded: bool = True


@dataclass(frozen=True)
class Ordinal:
    """An ordinal global assessment graded from a continuous score: upper edges of
    categories 0..3 (the last category is open), the grading function, and the key of a
    parameter set's ``severity`` section that may move the edge of category 1."""

    name: str
    source: str
    edges: tuple[float, ...]
    grade: Callable[..., np.ndarray]
    calibration_key: str


@dataclass(frozen=True)
class DiseaseScores:
    """The scores of one disease (see the module docstring).

    ``scores``: what a patient record and a trial's trajectories hold, in output order;
    ``twin_outputs``: the model outputs a twin simulates; ``twin_fitted``: what a twin
    fits (``twin_outputs`` plus the ordinal grade), in order."""

    disease: str
    primary: str
    ordinal: str
    scores: tuple[str, ...]
    twin_outputs: tuple[str, ...]
    twin_fitted: tuple[str, ...]


#: every score with its inclusive range (IGA: vIGA-AD 0-4; PGA: static PGA 0-4)
SCORES: dict[str, Score] = {
    s.name: s
    for s in (
        Score("EASI", 0.0, 72.0),
        Score("SCORAD", 0.0, 103.0),
        Score("IGA", 0.0, 4.0),
        Score("pruritus_NRS", 0.0, 10.0),
        Score("PASI", 0.0, 72.0),
        Score("PGA", 0.0, 4.0),
        Score("TEWL", 0.0, 200.0, unit="g/m2/h", bounded=False),
        # non-herpetic skin infections per 100 patient-years (microbiome module)
        Score("skin_infection_rate", 0.0, 100.0, unit="per 100 patient-years", bounded=False),
    )
}

#: ordinal grades: IGA from EASI (Chopra 2017 strata), PGA from PASI (assumed edges)
ORDINALS: dict[str, Ordinal] = {
    "IGA": Ordinal("IGA", "EASI", IGA_EASI_EDGES, iga_from_easi, "iga1_easi"),
    "PGA": Ordinal("PGA", "PASI", PGA_PASI_EDGES, pga_from_pasi, "pga1_pasi"),
}

DISEASES: dict[str, DiseaseScores] = {
    "AD": DiseaseScores(
        disease="AD",
        primary="EASI",
        ordinal="IGA",
        scores=("EASI", "SCORAD", "IGA", "pruritus_NRS", "TEWL", "skin_infection_rate"),
        twin_outputs=("EASI", "SCORAD", "pruritus_NRS", "TEWL"),
        twin_fitted=("EASI", "SCORAD", "IGA", "pruritus_NRS", "TEWL"),
    ),
    "psoriasis": DiseaseScores(
        disease="psoriasis",
        primary="PASI",
        ordinal="PGA",
        scores=("PASI", "PGA"),
        # serum IL-17 comes from the psoriasis core (a twin observable, not a trial score)
        twin_outputs=("PASI", "serum_IL17"),
        twin_fitted=("PASI", "PGA", "serum_IL17"),
    ),
}


def scores_of(disease: str) -> tuple[str, ...]:
    """The scores of ``disease`` in output order."""
    return DISEASES[disease].scores


def primary_score(disease: str) -> str:
    """The score trajectories, relapse, flares and twin goals are built on."""
    return DISEASES[disease].primary


def continuous_scores() -> tuple[str, ...]:
    """Every continuous score of every disease, diseases in registry order."""
    names = [n for d in DISEASES.values() for n in d.scores if n not in ORDINALS]
    return tuple(dict.fromkeys(names))


def ceiling(name: str) -> float | None:
    """Top of a bounded score's scale (measurement noise is capped there), else None."""
    score = SCORES.get(name)
    return score.high if score is not None and score.bounded and name not in ORDINALS else None


def grade(ordinal: str, source_values, severity: dict[str, float] | None = None) -> np.ndarray:
    """The ordinal grade (IGA or PGA) of ``source_values`` (EASI or PASI), with the edge
    of category 1 from a parameter set's ``severity`` section when it has one."""
    spec = ORDINALS[ordinal]
    return spec.grade(source_values, (severity or {}).get(spec.calibration_key))
