"""Virtual-patient draws depend only on (seed, patient index)."""

import numpy as np

from dermatwin.model.reference import miyano2021
from dermatwin.patients.sampling import sample_lognormal


def test_draws_do_not_depend_on_batching():
    m = miyano2021.build()
    whole = sample_lognormal(m, 10, seed=7)
    parts = np.vstack([sample_lognormal(m, 4, seed=7), sample_lognormal(m, 6, seed=7, start=4)])
    assert np.array_equal(whole, parts)
    assert not np.array_equal(whole, sample_lognormal(m, 10, seed=8))


def test_lognormal_moments_match_priors():
    m = miyano2021.build()
    draws = sample_lognormal(m, 4000, seed=1)
    j = m.parameter_index("k1")
    mu, sigma = m.parameter("k1").lognormal
    logs = np.log(draws[:, j])
    assert abs(logs.mean() - mu) < 4 * sigma / np.sqrt(4000)
    assert abs(logs.std() - abs(sigma)) < 0.05 * abs(sigma)
    # drug switches are not sampled
    assert np.all(draws[:, m.parameter_index("PLAC")] == 0.0)
