"""Likelihoods of a published row given a SIMULATED value, with the simulation's own error.

A calibration or placebo-model row compares a published arm (``y`` responders of ``n``)
with a virtual arm of ``virtual_n`` patients. The virtual arm's rate is itself a sample:
treating it as the true rate (a plain binomial) makes the posterior as narrow as if the
simulation were exact, so a refit on other virtual patients moves it by several posterior
SDs (measured: CAL-3's psoriasis placebo value moved 2.6 SD with the trial seed). Here the
virtual arm's ``k = rate x virtual_n`` responders give the true rate a Jeffreys posterior
Beta(k + 1/2, virtual_n - k + 1/2), and the published count is its beta-binomial
predictive: the variance grows by about ``1 + n / virtual_n``, the same factor that
``targets.predictive_size`` gives a prediction's interval.

>>> import numpy as np
>>> round(float(binomial_loglik(11, 248, 4.5)), 3)  # simulation exact
-2.104
>>> round(float(binomial_loglik(11, 248, 4.5, virtual_n=1000)), 3)  # 1,000 virtual patients
-2.214
>>> float(binomial_loglik(11, 248, 9.0, virtual_n=1000)) > float(binomial_loglik(11, 248, 9.0))
True
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln

#: a simulated rate is kept this far from 0 and 1 when the simulation is taken as exact
#: (a binomial log-likelihood at p = 0 is -inf when any responder was published): half a
#: patient of a 1,000-patient virtual arm
RATE_FLOOR = 0.5 / 1000


def binomial_loglik(y, n, rate, virtual_n: int | None = None):
    """Log-probability of ``y`` responders of ``n`` when the model's rate is ``rate``
    (percent, array-like) simulated on ``virtual_n`` virtual patients (None: exact)."""
    y, n = np.asarray(y, dtype=float), np.asarray(n, dtype=float)
    p = np.asarray(rate, dtype=float) / 100.0
    const = gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1)
    if virtual_n is None:
        p = np.clip(p, RATE_FLOOR, 1.0 - RATE_FLOOR)
        return const + y * np.log(p) + (n - y) * np.log1p(-p)
    k = np.clip(p, 0.0, 1.0) * virtual_n
    a, b = k + 0.5, virtual_n - k + 0.5
    return const + betaln(y + a, n - y + b) - betaln(a, b)


def simulation_sd(per_patient_sd: float, virtual_n: int | None) -> float:
    """SD of a virtual arm's mean of ``virtual_n`` patients whose values spread by
    ``per_patient_sd`` (0 when the simulation is taken as exact)."""
    return 0.0 if virtual_n is None else per_patient_sd / float(np.sqrt(virtual_n))


def normal_loglik(observed: float, predicted, sd: float, simulation: float = 0.0):
    """Normal log-density of ``observed`` around ``predicted`` with the published ``sd``
    and the simulated value's own SD ``simulation`` added in quadrature."""
    total = float(np.hypot(sd, simulation))
    z = (np.asarray(predicted, dtype=float) - observed) / total
    return -0.5 * z**2 - np.log(total * np.sqrt(2 * np.pi))
