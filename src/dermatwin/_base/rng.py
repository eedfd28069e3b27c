"""Named random streams: one generator per purpose and per patient, from the run seed.

A stream is keyed by the run seed and a few whole numbers, so that a patient's draws do
not depend on which batch, chunk, worker or executor produces them. The keys in use
(each a named constant where it is used; changing one changes every result):

- patients (``patients.sampling.patient_rng``): ``(seed, stream, index)``; ``stream`` is
  the trial arm (0, 1, ...) for parameters, plus ``COVARIATE_STREAM_OFFSET`` (1,000,003)
  for covariates and ``PSORIASIS_STREAM_OFFSET`` (2,000,003) for the psoriasis start
  state (``patients.population``), plus ``NOISE_STREAM_OFFSET`` (3,000,017) for the
  measurement noise of a trial (``trials.run``); baseline-matched populations add
  ``READOUT_STREAM_OFFSET`` (4,000,037) for read-out spread and ``SELECTION_STREAM_OFFSET``
  (5,000,011) for acceptance draws, and screen their pilot on stream ``PILOT_STREAM``
  (10,000,019) (``patients.population``);
- twins: ``(seed, index, 101)`` a synthetic patient (``twins.synthetic``),
  ``(seed, 7)`` the sampler's start (``twins.fit``), ``(seed, 11)`` predictive noise
  (``twins.predict``).

Other generators are seeded directly with ``np.random.default_rng(seed)`` (the bootstrap of
``trials.statistics``), which is the same stream as ``rng_stream(seed)``.

>>> float(rng_stream(1, 0, 2).standard_normal())  # patient 2 of stream 0 under seed 1
-0.16877899760709764
"""

from __future__ import annotations

import numpy as np


def rng_stream(seed: int, *keys: int) -> np.random.Generator:
    """The generator of the stream ``(seed, *keys)``:
    ``np.random.default_rng(np.random.SeedSequence([seed, *keys]))`` (PCG64).

    ``seed`` and ``keys`` are whole numbers >= 0 (NumPy integers too); the same seed and
    keys give the same draws on every machine and in every process."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), *(int(k) for k in keys)]))
