"""Synthetic patients with known twin parameters, for calibration checks and tests.

A synthetic patient's true parameters are a draw from the twin prior (the population),
its visits are the model's scores at the visit days under a regimen plus measurement
error: normal on ``ln(y + c)`` with the CVs and offsets of
:data:`~dermatwin.twins.likelihood.ERROR_MODEL` (log-normal rater/assay error; the twin's
Student-t likelihood is deliberately a little heavier-tailed than this, as it would be
for real data), scores capped at their ranges. IGA/PGA come from an independent noisy
reading of EASI/PASI (a separate global assessment). Everything is seeded by ``(seed, index)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dermatwin._base.rng import rng_stream
from dermatwin.disease.scores import ORDINALS, primary_score
from dermatwin.model.spec import Model
from dermatwin.patients.profile import Patient
from dermatwin.therapy.items import RegimenItem
from dermatwin.twins.likelihood import ERROR_MODEL, FITTED, TwinSimulator
from dermatwin.twins.prior import Prior, twin_parameters
from dermatwin.twins.visits import OBSERVABLES, Visit, VisitRecord


def lognormal_noise(values: dict[str, np.ndarray], rng: np.random.Generator, edges=None) -> dict:
    """Scores with log-normal measurement error (IGA/PGA from the noisy EASI/PASI)."""
    out = {}
    for name in sorted(values):
        if name in ERROR_MODEL:
            out[name] = ERROR_MODEL[name].draw_normal(values[name], rng)
    # IGA/PGA are the physician's own global assessment: stratified from an independent
    # noisy reading of EASI/PASI, not from the recorded EASI/PASI (which would make the two
    # observations one, and a twin that treats them as independent over-confident)
    edges = edges or {}
    for ordinal, source, default in ((o.name, o.source, o.edges) for o in ORDINALS.values()):
        if source in values:
            err = ERROR_MODEL[source]
            eps = err.cv * rng.standard_normal(values[source].shape)
            reading = (values[source] + err.offset) * np.exp(eps) - err.offset
            out[ordinal] = np.searchsorted(edges.get(ordinal, default), reading, "left") * 1.0
    return out


@dataclass
class SyntheticPatient:
    record: VisitRecord
    theta: np.ndarray  # true ln parameters
    names: tuple[str, ...]


def synthetic_patient(
    model: Model,
    patient: Patient,
    treatments: list[RegimenItem],
    visit_days: list[float],
    *,
    seed: int,
    index: int,
    theta: np.ndarray | None = None,
    min_score: float | None = None,
    parameter_set=None,
) -> SyntheticPatient:
    """One synthetic patient (see the module docstring). ``min_score``: redraw the truth
    until the untreated primary score is at least this (an inclusion criterion)."""
    prior = Prior(twin_parameters(model, patient))
    rng = rng_stream(seed, index, 101)
    days = np.asarray(visit_days, dtype=np.float64)
    stub = VisitRecord(patient, (Visit(day=0.0),), tuple(treatments), "synthetic")
    sim = TwinSimulator(model, stub, prior, parameter_set)
    primary = primary_score(patient.disease)
    for _ in range(100):
        truth = prior.sample(1, rng)[0] if theta is None else np.asarray(theta, dtype=float)
        out, status, _ = sim.run(truth[None, :], days)
        if status[0] == 0 and (min_score is None or out[primary][0, 0] >= min_score):
            break
        if theta is not None:
            break
    noisy = lognormal_noise(out, rng, sim.edges)
    visits = []
    for k, day in enumerate(days):
        values = {n: round(float(noisy[n][0, k]), 1) for n in FITTED[patient.disease] if n in noisy}
        # a recorded score never exceeds its scale (noise can push it past the top)
        values = {n: min(v, OBSERVABLES[n][1] or np.inf) for n, v in values.items()}
        visits.append(Visit(day=float(day), values=values))
    record = VisitRecord(patient, tuple(visits), tuple(treatments), f"synthetic {index}")
    return SyntheticPatient(record, truth, prior.names)
