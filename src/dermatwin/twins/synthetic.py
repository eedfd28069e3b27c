"""Synthetic patients with known twin parameters, for calibration checks and tests.

A synthetic patient's true parameters are a draw from the twin prior (the population),
its visits are the model's scores at the visit days under a regimen plus measurement
error: normal on ``ln(y + c)`` with the CVs and offsets of
:data:`~dermatwin.twins.likelihood.ERROR_MODEL` (log-normal rater/assay error; the twin's
Student-t likelihood is deliberately a little heavier-tailed than this, as it would be
for real data), with IGA/PGA read from the noisy EASI/PASI and scores capped at their
ranges. Everything is seeded by ``(seed, index)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dermatwin.model.spec import Model
from dermatwin.patients.profile import Patient
from dermatwin.severity import IGA_EASI_EDGES, PGA_PASI_EDGES
from dermatwin.trials.spec import RegimenItem
from dermatwin.twins.likelihood import ERROR_MODEL, FITTED, TwinSimulator
from dermatwin.twins.prior import Prior, twin_parameters
from dermatwin.twins.visits import OBSERVABLES, Visit, VisitRecord


def lognormal_noise(values: dict[str, np.ndarray], rng: np.random.Generator, edges=None) -> dict:
    """Scores with log-normal measurement error (IGA/PGA from the noisy EASI/PASI)."""
    out = {}
    for name in sorted(values):
        if name in ERROR_MODEL:
            err = ERROR_MODEL[name]
            eps = err.cv * rng.standard_normal(values[name].shape)
            out[name] = np.maximum((values[name] + err.offset) * np.exp(eps) - err.offset, 0.0)
    edges = edges or {}
    if "EASI" in out:
        out["IGA"] = np.searchsorted(edges.get("IGA", IGA_EASI_EDGES), out["EASI"], "left") * 1.0
    if "PASI" in out:
        out["PGA"] = np.searchsorted(edges.get("PGA", PGA_PASI_EDGES), out["PASI"], "left") * 1.0
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
    rng = np.random.default_rng(np.random.SeedSequence([seed, index, 101]))
    days = np.asarray(visit_days, dtype=np.float64)
    stub = VisitRecord(patient, (Visit(day=0.0),), tuple(treatments), "synthetic")
    sim = TwinSimulator(model, stub, prior, parameter_set)
    primary = "EASI" if patient.disease == "AD" else "PASI"
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
