"""The de-t schedule on a known posterior: a correlated 4-D normal (no ODE, fast).

The independence move must keep the target invariant (a wrong Metropolis-Hastings factor
shifts the variances), and with the default walkers and steps it must reach the
convergence thresholds that plain DE moves miss on the same budget.
"""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin.twins import sampler
from dermatwin.twins.fit import ESS_MIN, RHAT_MAX, convergence
from dermatwin.twins.limits import BURN, STEPS, WALKERS
from dermatwin.twins.sampler import IndependenceT, run_chain

MEAN = np.array([-2.4, -5.0, 0.6, 8.7])
SD = np.array([1.0, 1.0, 0.6, 0.4])
CORR = np.array(
    [[1.0, 0.0, 0.92, 0.0], [0.0, 1.0, 0.1, -0.35], [0.92, 0.1, 1.0, 0.0], [0.0, -0.35, 0.0, 1.0]]
)
COV = CORR * np.outer(SD, SD)
NAMES = ("a", "b", "c", "d")


def log_post(theta: np.ndarray) -> np.ndarray:
    z = np.atleast_2d(theta) - MEAN
    return -0.5 * np.einsum("ij,jk,ik->i", z, np.linalg.inv(COV), z)


def chain(kind: str, seed: int = 0) -> np.ndarray:
    # walkers start off to one side, as the best prior draws do
    rng = np.random.default_rng(seed)
    p0 = MEAN + 1.5 * SD + 0.1 * SD * rng.standard_normal((WALKERS, 4))
    out, _, _ = run_chain(
        log_post,
        p0,
        log_post(p0),
        kind=kind,
        burn=BURN,
        steps=STEPS,
        thin=1,
        seed=seed,
        prior_sigma=2 * SD,
    )
    return out


@pytest.mark.parametrize("t_weight", [1.0, 0.8])  # the default; t mixed with DE moves
def test_default_schedule_samples_the_posterior_and_converges(monkeypatch, t_weight):
    monkeypatch.setattr(sampler, "T_WEIGHT", t_weight)
    theta = chain("de-t")
    assert theta.shape == (STEPS, WALKERS, 4)
    flat = theta.reshape(-1, 4)
    assert np.allclose(flat.mean(axis=0), MEAN, atol=0.15 * SD.max())
    assert np.allclose(flat.std(axis=0) / SD, 1.0, atol=0.1)
    assert np.corrcoef(flat[:, 0], flat[:, 2])[0, 1] == pytest.approx(0.92, abs=0.03)
    d = convergence(theta, NAMES)
    assert d["max_rhat"] < RHAT_MAX and d["min_ess_bulk"] > ESS_MIN, d


def test_plain_de_moves_do_not_converge_on_the_same_budget():
    d = convergence(chain("de"), NAMES)
    assert not d["converged"], d


def test_independence_factor_is_q_old_over_q_new():
    t = IndependenceT(MEAN, COV)
    old = MEAN[None, :] + SD
    new, factor = t(old, np.random.RandomState(0))
    assert factor.shape == (1,)
    assert factor[0] == pytest.approx(t.dist.logpdf(old) - t.dist.logpdf(new))


def test_same_seed_same_chain_through_refits_and_extensions():
    def run(seed):
        p0 = MEAN + 0.1 * SD * np.random.default_rng(0).standard_normal((WALKERS, 4))
        return run_chain(
            log_post,
            p0,
            log_post(p0),
            kind="de-t",
            burn=30,
            steps=20,
            thin=1,
            seed=seed,
            prior_sigma=2 * SD,
            converged=lambda c: c.shape[0] >= 40,  # forces two extensions
        )[0]

    one, two, other = run(5), run(5), run(6)
    assert one.shape == (40, WALKERS, 4)
    assert np.array_equal(one, two) and not np.array_equal(one, other)
