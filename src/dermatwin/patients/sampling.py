"""Sampling virtual patients' parameters.

Every patient's draw comes from its own random stream seeded by (run seed, patient
index), so a patient is the same whatever batch, chunk or worker produces it.

>>> from dermatwin.model.reference import miyano2021
>>> m = miyano2021.build()
>>> a = sample_lognormal(m, 5, seed=1)
>>> b = sample_lognormal(m, 3, seed=1, start=2)
>>> bool((a[2:] == b).all())
True
"""

from __future__ import annotations

import numpy as np

from dermatwin._base.rng import rng_stream
from dermatwin.model.spec import Model


def patient_rng(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """The random generator of one patient (``stream`` separates independent uses)."""
    return rng_stream(seed, stream, index)


def sample_lognormal(
    model: Model, n: int, seed: int, *, start: int = 0, stream: int = 0
) -> np.ndarray:
    """(n, n_parameters) matrix: k = exp(mu + |sigma| z) for parameters with a log-normal
    prior (as Miyano 2021), defaults for the others. Patients ``start .. start+n-1``;
    ``stream`` separates independent populations (e.g. trial arms)."""
    base = model.default_parameters()
    varying = [i for i, p in enumerate(model.parameters) if p.lognormal is not None]
    mu = np.array([model.parameters[i].lognormal[0] for i in varying])
    sigma = np.abs(np.array([model.parameters[i].lognormal[1] for i in varying]))
    out = np.tile(base, (n, 1))
    for row, index in enumerate(range(start, start + n)):
        z = patient_rng(seed, index, stream).standard_normal(len(varying))
        out[row, varying] = np.exp(mu + sigma * z)
    return out
