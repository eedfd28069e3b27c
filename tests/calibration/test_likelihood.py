"""The likelihoods carry the simulation's own sampling error."""

import numpy as np
import pytest
from scipy import stats

from dermatwin.calibration.fit import STEPS
from dermatwin.calibration.likelihood import binomial_loglik, normal_loglik
from dermatwin.calibration.problem import step_problem


def test_beta_binomial_is_a_distribution_and_tends_to_the_binomial():
    y = np.arange(249)
    pmf = np.exp(binomial_loglik(y, 248, 4.5, virtual_n=1000))
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    # the published count's predictive: Jeffreys posterior of the virtual arm's rate
    assert np.log(pmf[11]) == pytest.approx(stats.betabinom.logpmf(11, 248, 45.5, 955.5))
    # a huge virtual arm is an exact simulation
    exact = binomial_loglik(y, 248, 4.5)
    assert binomial_loglik(y, 248, 4.5, virtual_n=10**8)[5:20] == pytest.approx(
        exact[5:20], abs=1e-3
    )


def _curvature(f, x0, h=0.05):
    return -(f(x0 + h) - 2 * f(x0) + f(x0 - h)) / h**2


def test_the_simulation_error_flattens_the_likelihood_by_about_one_plus_n_over_N():
    n, y = 200, 40  # 20 %
    for virtual_n in (200, 1000, 4000):
        exact = _curvature(lambda r: float(binomial_loglik(y, n, r)), 20.0)
        mc = _curvature(lambda r, v=virtual_n: float(binomial_loglik(y, n, r, v)), 20.0)
        assert exact / mc == pytest.approx(1 + n / virtual_n, rel=0.05)
    # normal rows: the simulated mean's SD adds in quadrature
    assert normal_loglik(0.0, 3.0, 3.0, 4.0) == pytest.approx(stats.norm.logpdf(3.0, 0, 5.0))


def test_intervals_cover_the_true_rate_only_with_the_simulation_error():
    """Repeated (published arm, virtual arm) pairs from one true rate: the 95 % credible
    interval of the rate covers it ~95 % of the time with the beta-binomial, and too
    rarely when the virtual arm's rate is taken as exact (the seed failure of CAL-3)."""
    rng = np.random.default_rng(7)
    n, virtual_n, p_true, reps = 248, 300, 0.06, 600
    # the model's rate as a function of the open value theta: a logistic curve, plus the
    # virtual arm's sampling (common random numbers: one shift for every theta)
    theta = np.linspace(-5.0, 0.0, 801)
    rate = 1 / (1 + np.exp(-theta))
    truth = np.log(p_true / (1 - p_true))
    covered = {None: 0, virtual_n: 0}
    for _ in range(reps):
        y = rng.binomial(n, p_true)
        u = rng.standard_normal()
        simulated = 100 * np.clip(rate + u * np.sqrt(rate * (1 - rate) / virtual_n), 1e-4, 1)
        for v in covered:
            w = np.exp(binomial_loglik(y, n, simulated, v))
            cdf = np.cumsum(w) / w.sum()
            lo, hi = theta[np.searchsorted(cdf, 0.025)], theta[np.searchsorted(cdf, 0.975)]
            covered[v] += lo <= truth <= hi
    assert covered[virtual_n] / reps > 0.92
    assert covered[None] / reps < 0.90


def test_a_rare_response_step_runs_more_virtual_patients():
    (step,) = (s for s in STEPS if s.targets == ("model.placebo_response_pso",))
    problem = step_problem(step)
    assert problem.n_per_arm == step.patients > 1000
    assert problem.terms[0].virtual_n == problem.n_per_arm
