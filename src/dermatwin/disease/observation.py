"""Measurement-error models of the scores: every noise law of the package, by name.

Two models, because they answer different questions:

* :data:`TWIN_ERROR` (``twin``): what a real visit records, used by the twin likelihood,
  posterior-predictive bands and synthetic patients. Continuous scores: Student-t
  (:data:`NU` degrees of freedom, robust to the occasional outlying visit) or, for
  synthetic patients, normal, on ``ln(y + offset)`` with scale ``cv``; the offset keeps
  near-zero scores finite and stands for the absolute error floor. The CVs are assumed
  (the reference data hold no inter-rater rows): EASI 0.20 and SCORAD 0.15 are of the
  order of published inter-rater variability of these scores; patient-reported itch NRS
  0.25; TEWL 0.20 (instrument and site); PASI 0.20; serum IL-17 0.30 (assay).
* :func:`trial_noise` (``trial``): a trial's reported noise, a mean-preserving
  log-normal factor with the coefficient of variation the trial spec gives per score
  (``noise:``), capped at the score's scale maximum.

>>> import numpy as np
>>> trial_noise(np.array([10.0]), 0.0, np.random.default_rng(0), 72.0).tolist()
[10.0]
>>> TWIN_ERROR["EASI"].cv
0.2
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Student-t degrees of freedom of the twin residuals on the log scale
NU = 4.0


@dataclass(frozen=True)
class ErrorModel:
    """Residual law of one continuous observable: t(NU) on ln(y + offset), scale cv."""

    cv: float
    offset: float
    unit: str

    def observe(self, values: np.ndarray, eps: np.ndarray) -> np.ndarray:
        """``values`` as recorded with standardised log-scale errors ``eps`` (floored at 0)."""
        return np.maximum((values + self.offset) * np.exp(self.cv * eps) - self.offset, 0.0)

    def draw_t(self, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One recorded visit under the t(NU) law (posterior-predictive bands)."""
        return self.observe(values, rng.standard_t(NU, size=values.shape))

    def draw_normal(self, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One recorded visit under the normal law (synthetic patients)."""
        return self.observe(values, rng.standard_normal(values.shape))


TWIN_ERROR: dict[str, ErrorModel] = {
    "EASI": ErrorModel(0.20, 1.0, "score"),
    "SCORAD": ErrorModel(0.15, 2.0, "score"),
    "pruritus_NRS": ErrorModel(0.25, 0.5, "score"),
    "TEWL": ErrorModel(0.20, 1.0, "g/m2/h"),
    "PASI": ErrorModel(0.20, 1.0, "score"),
    "serum_IL17": ErrorModel(0.30, 0.1, "pg/mL"),
}


def trial_noise(
    values: np.ndarray, cv: float, rng: np.random.Generator, ceiling: float | None
) -> np.ndarray:
    """A trial's reported score: ``values`` x a mean-preserving log-normal factor
    (``exp(cv z - cv^2/2)``), capped at ``ceiling`` when given; unchanged (and no random
    number drawn) when ``cv`` is 0."""
    if cv <= 0:
        return values
    out = values * np.exp(cv * rng.standard_normal(values.shape) - 0.5 * cv**2)
    return np.minimum(out, ceiling) if ceiling else out
