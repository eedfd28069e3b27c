"""The twin's MCMC schedule: emcee ensemble moves, and a fitted independence proposal.

Twin posteriors are close to multivariate normal in ``theta = ln k`` but strongly
correlated (on the AD example ln d1 and ln k1 correlate 0.92: visits identify their
ratio), so local ensemble moves need ~14 steps per independent draw (emcee's integrated
autocorrelation time) and 16 walkers x 450 steps were not enough (max R-hat 1.12, min
bulk ESS 112, benchmarks/twin.py). The default schedule (``moves="de-t"``) therefore:

1. burn-in, first third: differential-evolution moves (DEMove 80 % + DESnookerMove 20 %)
   from the best prior draws, which brings the walkers to the posterior's bulk;
2. burn-in, the rest: fits a multivariate Student-t (:data:`T_DF` degrees of freedom,
   mean and covariance of the draws so far) and proposes every walker afresh from it
   (independence Metropolis-Hastings; a share :data:`T_WEIGHT` of the moves, the rest
   DE), refitting the t every :data:`REFIT_EVERY` steps;
3. the kept steps use the last t, now fixed; while the chain has not converged they are
   extended, by half the steps at a time, up to :data:`EXTEND` times the steps asked
   for.

A fixed independence proposal (alone or mixed with DE moves) is a valid MCMC kernel
(each move keeps the posterior invariant), and it jumps across the whole posterior: on
the AD example about half of its draws are accepted (the posterior is not exactly
elliptical: a t fitted to a long posterior sample accepts at most ~0.55), which cuts the
autocorrelation time from ~14 to 3-7 steps. The t's heavy tails cover posteriors wider
than the fit (an independence sampler with too light tails gets stuck). Should a
posterior be curved enough for the t to fit badly, the chain does not converge, the
extension runs, and :func:`~dermatwin.twins.fit.fit_twin` warns: ``moves="de"`` is then
the robust choice.

Every step evaluates all walkers in one batched simulation (independence move) or two
(DE: red-blue halves), so the t steps also cost half the engine calls. ``moves="de"``
and ``"stretch"`` run the plain ensemble moves.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: degrees of freedom of the independence proposal (heavier tails than the posterior)
T_DF = 5.0
#: share of independence moves after the DE burn-in (the rest: DE moves). All of them:
#: with 24 walkers x 120 steps both shipped examples converged without extension at 1.0
#: (3 of 3 fits), while 0.9 and 0.8 needed extensions on the AD example (benchmarks/twin.py)
T_WEIGHT = 1.0
#: at most this many times the kept steps when extended until converged
EXTEND = 4
#: burn-in steps between refits of the t
REFIT_EVERY = 10
#: covariance jitter, as a fraction of the prior variance (keeps the t proper when the
#: burn-in draws are nearly degenerate)
JITTER = 1e-4


class IndependenceT:
    """emcee proposal: every walker draws afresh from one multivariate t (mean, cov, df)."""

    def __init__(self, mean: np.ndarray, cov: np.ndarray, df: float = T_DF):
        from scipy import stats

        self.dist = stats.multivariate_t(loc=mean, shape=cov, df=df)

    def __call__(self, coords: np.ndarray, random) -> tuple[np.ndarray, np.ndarray]:
        new = np.atleast_2d(self.dist.rvs(size=len(coords), random_state=random))
        # Metropolis-Hastings factor of an independence proposal: q(old) / q(new)
        return new, np.atleast_1d(self.dist.logpdf(coords) - self.dist.logpdf(new))

    @classmethod
    def fitted(cls, draws: np.ndarray, prior_sigma: np.ndarray) -> IndependenceT:
        """The t with the mean and covariance of ``draws`` (n x ndim)."""
        cov = np.cov(draws, rowvar=False).reshape(draws.shape[1], draws.shape[1])
        cov = cov + np.diag(JITTER * prior_sigma**2)
        return cls(draws.mean(axis=0), cov)


def ensemble_moves(kind: str, proposal: IndependenceT | None = None):
    """emcee moves: ``stretch``, ``de``, or (a proposal given) t independence + DE."""
    import emcee

    if kind == "stretch":
        return emcee.moves.StretchMove()
    de = [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]
    if proposal is None:
        return de
    if T_WEIGHT >= 1.0:
        return emcee.moves.MHMove(proposal)
    rest = 1.0 - T_WEIGHT
    return [(emcee.moves.MHMove(proposal), T_WEIGHT), *((m, w * rest) for m, w in de)]


def run_chain(
    log_post: Callable[[np.ndarray], np.ndarray],
    p0: np.ndarray,
    lp0: np.ndarray,
    *,
    kind: str,
    burn: int,
    steps: int,
    thin: int,
    seed: int,
    prior_sigma: np.ndarray,
    on_step: Callable[[], None] = lambda: None,
    converged: Callable[[np.ndarray], bool] | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Run the schedule (module docstring) from walkers ``p0`` with log posteriors
    ``lp0``: the kept chain (steps/thin x walkers x ndim), its log posteriors and the
    acceptance fraction of the kept steps. ``on_step`` is called after every step. With
    ``converged`` (a test of the kept chain), the kept steps are extended by
    ``steps // 2`` at a time while it fails, up to :data:`EXTEND` x ``steps``."""
    import emcee

    walkers, ndim = p0.shape
    state = emcee.State(p0, log_prob=lp0, random_state=np.random.RandomState(seed).get_state())

    def phase(moves, n: int, keep: bool = True):
        nonlocal state
        sampler = emcee.EnsembleSampler(walkers, ndim, log_post, vectorize=True, moves=moves)
        if n > 0:
            for step in sampler.sample(state, iterations=n, store=keep):
                state = step
                on_step()
        return sampler

    if kind != "de-t":
        phase(ensemble_moves(kind), burn, keep=False)
        sampler = phase(ensemble_moves(kind), steps)
    else:
        n_de = burn // 3
        first = phase(ensemble_moves("de"), n_de)
        draws = first.get_chain(discard=n_de // 2, flat=True) if n_de >= 2 else state.coords
        # the t is refitted every REFIT_EVERY burn-in steps to all mixed draws so far: each
        # refit is closer to the posterior, so more independence proposals are accepted
        mixed: list[np.ndarray] = []
        left = burn - n_de
        while left > 0:
            proposal = IndependenceT.fitted(draws, prior_sigma)
            n = min(REFIT_EVERY, left)
            mixed.append(phase(ensemble_moves("de", proposal), n).get_chain(flat=True))
            draws, left = np.concatenate(mixed), left - n
        proposal = IndependenceT.fitted(draws, prior_sigma)
        sampler = phase(ensemble_moves("de", proposal), steps)
    kept = steps
    while converged is not None and kept < EXTEND * steps:
        if converged(sampler.get_chain(thin=thin)):
            break
        more = min(max(steps // 2, 1), EXTEND * steps - kept)
        for step in sampler.sample(state, iterations=more):
            state = step
            on_step()
        kept += more
    chain = sampler.get_chain(thin=thin)
    log_prob = sampler.get_log_prob(thin=thin)
    return chain, log_prob, float(np.mean(sampler.acceptance_fraction))
