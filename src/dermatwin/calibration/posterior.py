"""A posterior over each calibration step's open values, on a refined grid.

Each step (:mod:`dermatwin.calibration.problem`) has one or two open values and runs its
arms on the same virtual patients (common random numbers), so its simulated rows are
smooth, cheap functions of the values and the posterior can be computed on a grid:

1. a coarse grid over the bounds (unit coordinates: uniform on the value's scale);
2. the simulated rows are interpolated (linearly) onto a fine grid, where
   log posterior = log prior + sum of the rows' log-likelihoods at the published n;
3. the box holding all but a negligible share of that posterior (plus half a coarse cell
   on each side) is gridded again and the posterior recomputed there; the mass the coarse
   grid put outside the box is reported (``outside_mass``);
4. S draws by stratified (systematic) resampling of the fine grid, jittered within a
   fine cell and shuffled (so draw k of two steps are independent);
5. the interpolation is checked by direct runs at :data:`CHECK_POINTS` draws (off the
   grid): ``interpolation_error`` is the largest difference, in percentage points.

The point ``value`` of a value is the posterior mode on the fine grid (the best fit,
weighted by the likelihood). Reported per value: posterior mean, SD, 95 % credible
interval (from the fine grid), the effective number of grid nodes (1 / sum of squared
node weights) and the interpolation error.

**Steps are sequential**: a step runs with the earlier steps' values at their point
(mode), not integrated over their posteriors, so a step's spread omits the uncertainty
of the values it builds on (e.g. the drug steps omit that of placebo). Per-row
log-likelihoods at the grid nodes are kept in the set's provenance for leave-one-trial-out
reweighting.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from dermatwin.calibration.fit import STEPS, difference_key, selected_steps, starting_set
from dermatwin.calibration.problem import StepProblem, step_problem
from dermatwin.calibration.targets import EXAMPLE_TRIALS, row_predictions
from dermatwin.calibration.workers import run_each, worker_pool
from dermatwin.execution.base import Executor
from dermatwin.params.parameter_set import (
    FittedValue,
    ParameterSet,
    Posterior,
    Provenance,
    StepGrid,
)
from dermatwin.trials.paired import paired_spec
from dermatwin.trials.run import run_trial
from dermatwin.trials.spec import TrialSpec, load_trial

#: grid nodes per open value (coarse, then refined), by number of open values
NODES = {1: 11, 2: 5}
#: fine-grid points per open value for the interpolated posterior
FINE = {1: 801, 2: 161}
#: posterior draws per step (every value of the set gets this many)
DRAWS = 64
#: direct runs at posterior draws that check the interpolation
CHECK_POINTS = 2
#: the refined box keeps fine points within this log-density of the mode (e^-10 ~ 5e-5:
#: +-4.5 SD of a normal posterior)
BOX_LOG_DENSITY = 10.0
#: credible interval
LEVEL = 0.95
CONDITIONING = (
    "sequential: each step runs with the earlier steps' values at their posterior mode; "
    "its spread omits the uncertainty of the values it builds on"
)


@dataclass
class StepPosterior:
    """The grid posterior of one step (unit coordinates u in [0, 1] per open value)."""

    problem: StepProblem
    #: refined grid: node coordinates per axis and the simulated rows at the nodes
    axes: list[np.ndarray]
    simulated: dict[str, np.ndarray]
    #: fine grid and its normalised posterior weights
    fine_axes: list[np.ndarray]
    weights: np.ndarray
    draws_u: np.ndarray
    outside_mass: float
    interpolation_error: float = float("nan")
    checks: list[dict] = field(default_factory=list)

    def values_at(self, u: np.ndarray) -> np.ndarray:
        """Open values (natural units) at unit coordinates ``u`` (shape (..., dims))."""
        return np.stack(
            [v.from_unit(u[..., i]) for i, v in enumerate(self.problem.values)], axis=-1
        )

    def node_loglik(self) -> dict[str, np.ndarray]:
        """Each row term's log-likelihood at the refined grid nodes."""
        return {t.key: t.loglik(self.simulated[t.key]) for t in self.problem.terms}

    def effective_nodes(self) -> float:
        """1 / sum of squared normalised posterior weights of the refined nodes."""
        lp = sum(self.node_loglik().values()) + self.problem.log_prior_unit(_mesh(self.axes))
        w = np.exp(lp - lp.max())
        w /= w.sum()
        return float(1.0 / np.sum(w**2))

    def mode_u(self) -> np.ndarray:
        idx = np.unravel_index(int(np.argmax(self.weights)), self.weights.shape)
        return np.array([ax[i] for ax, i in zip(self.fine_axes, idx, strict=True)])

    def summary(self) -> list[dict]:
        """Per open value: mode, mean, SD and the 95 % credible interval (natural units)."""
        x = self.values_at(_mesh(self.fine_axes))
        mode = self.values_at(self.mode_u())
        out = []
        for i, v in enumerate(self.problem.values):
            xi = x[..., i].ravel()
            w = self.weights.ravel()
            mean = float(np.sum(w * xi))
            sd = float(np.sqrt(max(np.sum(w * (xi - mean) ** 2), 0.0)))
            order = np.argsort(xi, kind="stable")
            cdf = np.cumsum(w[order])
            tail = (1 - LEVEL) / 2
            low, high = np.interp([tail, 1 - tail], cdf, xi[order])
            out.append(
                {
                    "target": v.target,
                    "unit": v.unit,
                    "mode": float(mode[i]),
                    "mean": mean,
                    "sd": sd,
                    "low": float(low),
                    "high": float(high),
                }
            )
        return out


def _mesh(axes: Sequence[np.ndarray]) -> np.ndarray:
    """All points of the grid on ``axes``, shape (*sizes, dims)."""
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)


def _interpolate(axes, values: np.ndarray, points: np.ndarray) -> np.ndarray:
    if len(axes) == 1:
        return np.interp(points[..., 0], axes[0], values)
    return RegularGridInterpolator(axes, values)(points)


def simulator(problem: StepProblem, base: ParameterSet, seed: int | None = None) -> StepSimulator:
    """A function of the open values (natural units) giving every row term's simulated
    value (percent; a paired difference in percentage points). All arms hold the same
    virtual patients: the trial's seed (or ``seed``) fixes them for every evaluation."""
    spec = load_trial(EXAMPLE_TRIALS / problem.trial)
    if seed is not None:
        spec = spec.with_seed(seed)
    refs = spec.reference_rows
    run = _up_to_rows(paired_spec(spec, list(problem.arms), problem.n_per_arm), problem)
    placebo = {refs[t.placebo].arm for t in problem.terms if t.placebo}
    if placebo:
        (reference,) = placebo
        run = run.model_copy(update={"reference_arm": reference})
    else:
        keep = {t.row: refs[t.row] for t in problem.terms}
        run = run.model_copy(update={"reference_rows": keep})
    return StepSimulator(problem, base, run, refs, bool(placebo))


@dataclass(frozen=True)
class StepSimulator:
    """:func:`simulator`'s function: plain data, so that it pickles to worker processes."""

    problem: StepProblem
    base: ParameterSet
    #: the step's arms on common virtual patients
    run: TrialSpec
    refs: dict
    #: the rows are paired differences against a placebo arm
    placebo: bool

    def __call__(self, x: np.ndarray) -> dict[str, float]:
        problem, refs = self.problem, self.refs
        pset = with_values(self.base, problem, x)
        result = run_trial(self.run.model_copy(update={"parameter_set": pset}))
        if not self.placebo:
            preds = {p.row: p.predicted for p in row_predictions(self.run, result, problem.trial)}
            return {t.key: preds[t.row] for t in problem.terms}
        by = {(c["arm"], c["endpoint"]): c["difference"] for c in result.summary["comparisons"]}
        return {
            difference_key(t.row, t.placebo): refs[t.row].scale * by[(t.arm, t.endpoint)]
            for t in problem.terms
        }


def _up_to_rows(run: TrialSpec, problem: StepProblem) -> TrialSpec:
    """``run`` ending at the day of the step's last row, with only the rows' endpoints:
    what happens later cannot change them (a trial's virtual patients, doses and noise do
    not depend on its duration or endpoints; a test checks the rows are bit-identical),
    so the simulation stops there. Trials with an enrolment visit, a rescue rule, flare
    triggers (random events drawn over the whole trial) or whole-course rows run in
    full."""
    times = [t.time for t in problem.terms]
    if any(x is not None for x in (run.enrol, run.rescue, run.triggers)) or None in times:
        return run
    horizon = float(math.ceil(max(times)))
    if horizon >= run.duration:
        return run
    keep = {t.endpoint for t in problem.terms}

    def early(w):
        return w if w is not None and w.at < horizon else None

    return run.model_copy(
        update={
            "duration": horizon,
            "visit_every": min(run.visit_every, horizon),
            "visits": None if run.visits is None else [v for v in run.visits if v <= horizon],
            "endpoints": [e for e in run.endpoints if e in keep],
            "withdrawal": early(run.withdrawal),
            "arms": {
                a: arm.model_copy(update={"withdrawal": early(arm.withdrawal)})
                for a, arm in run.arms.items()
            },
            "survival_at": [],
            "pooled": {},
            "subgroups": [],
        }
    )


def with_values(base: ParameterSet, problem: StepProblem, x, **extra) -> ParameterSet:
    """``base`` with the step's open values set to ``x`` (``extra``: more fields of each
    value, a sequence per field, one entry per open value)."""
    for i, (v, value) in enumerate(zip(problem.values, x, strict=True)):
        base = base.with_value(
            FittedValue(
                target=v.target,
                value=float(value),
                unit=v.unit,
                bounds=(v.low, v.high),
                fitted_to=tuple(r for t in problem.terms for r in (t.row, t.placebo) if r),
                trial=problem.trial,
                **{k: seq[i] for k, seq in extra.items()},
            )
        )
    return base


def _evaluate_grid(evaluate, problem: StepProblem, axes, pool=None) -> dict[str, np.ndarray]:
    points = _mesh(axes)
    shape = points.shape[:-1]
    xs = [(problem_values(problem, u),) for u in points.reshape(-1, len(axes))]
    sims = run_each(evaluate, xs, pool)
    return {t.key: np.array([s[t.key] for s in sims]).reshape(shape) for t in problem.terms}


def problem_values(problem: StepProblem, u: np.ndarray) -> np.ndarray:
    return np.array([float(v.from_unit(ui)) for v, ui in zip(problem.values, u, strict=True)])


def _fine_posterior(problem: StepProblem, axes, simulated, box) -> tuple[list, np.ndarray]:
    """Fine grid over ``box`` and its normalised posterior weights (interpolated rows)."""
    dims = len(axes)
    fine_axes = [np.linspace(lo, hi, FINE[dims]) for lo, hi in box]
    points = _mesh(fine_axes)
    lp = problem.log_prior_unit(points)
    for t in problem.terms:
        lp = lp + t.loglik(_interpolate(axes, simulated[t.key], points))
    w = np.exp(lp - lp.max())
    return fine_axes, w / w.sum()


def _box(fine_axes, weights: np.ndarray, margin: float) -> list[tuple[float, float]]:
    """The box of fine points within :data:`BOX_LOG_DENSITY` of the mode, widened by
    ``margin`` (unit coordinates) and kept inside [0, 1]."""
    keep = weights >= weights.max() * np.exp(-BOX_LOG_DENSITY)
    box = []
    for i, ax in enumerate(fine_axes):
        other = tuple(j for j in range(len(fine_axes)) if j != i)
        on = np.any(keep, axis=other) if other else keep
        lo, hi = ax[on].min() - margin, ax[on].max() + margin
        box.append((max(0.0, float(lo)), min(1.0, float(hi))))
    return box


def _draw(fine_axes, weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` stratified draws from the fine grid, jittered within a cell, shuffled."""
    cdf = np.cumsum(weights.ravel())
    cdf /= cdf[-1]
    positions = (np.arange(n) + rng.random(n)) / n
    idx = np.unravel_index(np.searchsorted(cdf, positions), weights.shape)
    u = np.stack([ax[i] for ax, i in zip(fine_axes, idx, strict=True)], axis=-1)
    steps = np.array([ax[1] - ax[0] for ax in fine_axes])
    u = u + (rng.random(u.shape) - 0.5) * steps
    lows = np.array([ax[0] for ax in fine_axes])
    highs = np.array([ax[-1] for ax in fine_axes])
    return rng.permutation(np.clip(u, lows, highs))


def step_posterior(
    problem: StepProblem,
    base: ParameterSet,
    *,
    seed: int | None = None,
    draws: int = DRAWS,
    draw_seed: int = 0,
    nodes: int | None = None,
    check_points: int = CHECK_POINTS,
    workers: int | Executor = 1,
) -> StepPosterior:
    """The grid posterior of one step, conditioned on ``base`` (the earlier values).
    ``workers``: processes that run the grid points (the same result for any number), or
    an open executor to reuse (:mod:`~dermatwin.calibration.workers`)."""
    with worker_pool(workers) as pool:
        return _step_posterior(
            problem, simulator(problem, base, seed), draws, draw_seed, nodes, check_points, pool
        )


def _step_posterior(
    problem: StepProblem, evaluate, draws, draw_seed, nodes, check_points, pool
) -> StepPosterior:
    dims = len(problem.values)
    n_nodes = nodes or NODES[dims]
    coarse = [np.linspace(0.0, 1.0, n_nodes)] * dims
    sims = _evaluate_grid(evaluate, problem, coarse, pool)
    fine_axes, w = _fine_posterior(problem, coarse, sims, [(0.0, 1.0)] * dims)
    # half a coarse cell more on each side: the coarse interpolation may misplace the edge
    box = _box(fine_axes, w, 0.5 / (n_nodes - 1))
    inside = np.ones_like(w, dtype=bool)
    for i, (lo, hi) in enumerate(box):
        shape = [1] * dims
        shape[i] = -1
        inside &= ((fine_axes[i] >= lo) & (fine_axes[i] <= hi)).reshape(shape)
    outside = float(w[~inside].sum())
    axes = [np.linspace(lo, hi, n_nodes) for lo, hi in box]
    sims = _evaluate_grid(evaluate, problem, axes, pool)
    fine_axes, w = _fine_posterior(problem, axes, sims, box)
    rng = np.random.default_rng([draw_seed, problem.index])
    drawn = _draw(fine_axes, w, draws, rng)
    post = StepPosterior(problem, axes, sims, fine_axes, w, drawn, outside)
    checked = post.draws_u[:check_points]
    directs = run_each(evaluate, [(problem_values(problem, u),) for u in checked], pool)
    for u, direct in zip(checked, directs, strict=True):
        for t in problem.terms:
            interp = float(_interpolate(axes, sims[t.key], u[None, :])[0])
            post.checks.append(
                {"key": t.key, "u": u.tolist(), "direct": direct[t.key], "interpolated": interp}
            )
    if post.checks:
        post.interpolation_error = max(abs(c["direct"] - c["interpolated"]) for c in post.checks)
    return post


def _sig(x: float) -> float:
    return float(f"{x:.4g}")


#: chains the draws are split into for R-hat and ESS
CHAINS = 4


#: draws per chain below which R-hat and ESS are not computed
MIN_PER_CHAIN = 4


def draw_diagnostics(draws: Sequence[float]) -> tuple[float | None, float | None]:
    """Rank-normalised split R-hat and bulk ESS (arviz) of one value's draws, split in
    their stored order into :data:`CHAINS` chains. Grid draws are independent, so R-hat
    near 1 and ESS near the number of draws are what a sound posterior shows; a value
    whose draws cluster in their stored order would fail them. (None, None) for fewer than
    :data:`MIN_PER_CHAIN` draws per chain.

    >>> x = np.random.default_rng(0).normal(size=400)
    >>> rhat, ess = draw_diagnostics(x)
    >>> rhat < 1.05 and ess > 300
    True
    >>> draw_diagnostics(np.sort(x))[0] > 2  # draws in order of size: four "chains" disagree
    True
    """
    import arviz as az

    x = np.asarray(draws, dtype=float)
    if len(x) < CHAINS * MIN_PER_CHAIN:
        return None, None
    chains = x[: len(x) // CHAINS * CHAINS].reshape(CHAINS, -1)
    if np.ptp(chains) == 0:  # a value the data pin to one grid point
        return 1.0, float(x.size)
    return float(az.rhat(chains)), float(az.ess(chains))


def with_diagnostics(pset: ParameterSet) -> ParameterSet:
    """``pset`` with R-hat and ESS (:func:`draw_diagnostics`) in every posterior summary
    of a value with draws."""
    values = []
    for v in pset.values:
        if v.draws is not None and v.posterior is not None:
            rhat, ess = draw_diagnostics(v.draws)
            if rhat is None or ess is None:
                values.append(v)
                continue
            posterior = v.posterior.model_copy(
                update={"rhat": round(rhat, 4), "ess": round(ess, 1)}
            )
            v = v.model_copy(update={"posterior": posterior})
        values.append(v)
    return pset.model_copy(update={"values": tuple(values)})


def apply_posterior(base: ParameterSet, post: StepPosterior) -> ParameterSet:
    """``base`` with the step's values at their mode, carrying draws and a summary."""
    problem = post.problem
    summary = post.summary()
    x = post.values_at(post.draws_u)
    mode_u = post.mode_u()
    mode_sim = {
        t.key: round(float(_interpolate(post.axes, post.simulated[t.key], mode_u[None, :])[0]), 2)
        for t in problem.terms
    }
    n_eff = round(post.effective_nodes(), 2)
    err = None if np.isnan(post.interpolation_error) else round(post.interpolation_error, 3)
    posteriors = [
        Posterior(
            mean=_sig(s["mean"]),
            sd=_sig(s["sd"]),
            low=_sig(s["low"]),
            high=_sig(s["high"]),
            scale=v.scale,
            prior=v.prior,
            effective_grid_points=n_eff,
            interpolation_error=err,
        )
        for s, v in zip(summary, problem.values, strict=True)
    ]
    lows = [v.low for v in problem.values]
    highs = [v.high for v in problem.values]
    return with_values(
        base,
        problem,
        [min(max(_sig(s["mode"]), lo), hi) for s, lo, hi in zip(summary, lows, highs, strict=True)],
        draws=[
            tuple(min(max(_sig(d), lo), hi) for d in x[:, i])
            for i, (lo, hi) in enumerate(zip(lows, highs, strict=True))
        ],
        posterior=posteriors,
        simulated=[mode_sim] * len(problem.values),
        note=[problem.why] * len(problem.values),
    )


def step_grid(post: StepPosterior) -> StepGrid:
    """What the set keeps of a step's grid: node values and per-row log-likelihoods."""
    problem = post.problem
    axes = tuple(
        tuple(_sig(float(v.from_unit(u))) for u in ax)
        for v, ax in zip(problem.values, post.axes, strict=True)
    )
    return StepGrid(
        targets=tuple(v.target for v in problem.values),
        trial=problem.trial,
        axes=axes,
        loglik={k: np.round(ll, 4).tolist() for k, ll in post.node_loglik().items()},
        outside_mass=_sig(post.outside_mass),
    )


def describe(post: StepPosterior) -> str:
    """One log line per step: each value's mode, mean +- SD, 95 % CrI; the grid checks."""
    parts = [
        f"{s['target']} = {s['mode']:.4g} (mean {s['mean']:.4g} +- {s['sd']:.2g}, "
        f"95 % CrI {s['low']:.4g} to {s['high']:.4g})"
        for s in post.summary()
    ]
    return (
        "; ".join(parts)
        + f"  [effective grid nodes {post.effective_nodes():.1f}, interpolation error "
        f"{post.interpolation_error:.2f} points, outside mass {post.outside_mass:.1e}]"
    )


def calibrate_posterior(
    only: Sequence[str] | None = None,
    base: ParameterSet | None = None,
    log: Callable[[str], None] = print,
    *,
    seed: int | None = None,
    draws: int = DRAWS,
    draw_seed: int = 0,
    patients: int | None = None,
    steps=STEPS,
    progress: bool | None = False,
    workers: int = 1,
) -> ParameterSet:
    """Run the calibration steps (all, or those with a target in ``only``) as grid
    posteriors; return the set with each value's mode, draws and posterior summary, and
    the provenance (seeds, grid, per-row log-likelihoods at the nodes). ``seed``
    replaces every example trial's seed (other virtual patients); ``patients``: virtual
    patients per arm of the unpaired steps (default
    :data:`~dermatwin.calibration.problem.CALIBRATION_N`). ``progress``: a bar of steps
    (None: on a terminal). ``workers``: processes that run each step's grid points, started
    once for all steps (the same set for any number)."""
    from dermatwin.execution.progress import progress_bar

    chosen = selected_steps(steps, only)
    start = pset = starting_set(
        base,
        only,
        "Fitted by `dermatwin calibrate` to rows of shared/reference/"
        "clinical_outcomes.csv and msc_evidence.csv as grid posteriors (each value lists "
        "its rows; the MSC values to paired treatment-minus-placebo differences); "
        "see docs/validation.md",
    )
    grids = []
    with (
        worker_pool(workers) as pool,
        progress_bar("calibration", len(chosen), unit="steps", enabled=progress) as advance,
    ):
        for i, step in chosen:
            post = step_posterior(
                step_problem(step, i, patients),
                pset,
                seed=seed,
                draws=draws,
                draw_seed=draw_seed,
                workers=pool or 1,
            )
            log(describe(post))
            pset = apply_posterior(pset, post)
            grids.append(step_grid(post))
            advance(1)
    # values refitted now carry ``draws`` draws; others (kept from ``base``) keep theirs
    # only if the count matches, else they become points
    values = tuple(
        v
        if v.draws is None or len(v.draws) == draws
        else v.model_copy(update={"draws": None, "posterior": None})
        for v in pset.values
    )
    provenance = Provenance(
        trial_seed=seed,
        draw_seed=draw_seed,
        draws=draws,
        grid={f"nodes_{d}d": n for d, n in NODES.items()}
        | {f"fine_{d}d": n for d, n in FINE.items()},
        conditioning=CONDITIONING,
        steps=_merged_grids(start.provenance, grids, steps, seed, draw_seed),
    )
    return with_diagnostics(pset.model_copy(update={"values": values, "provenance": provenance}))


def _merged_grids(
    kept: Provenance | None, refitted: list[StepGrid], steps, seed, draw_seed
) -> tuple[StepGrid, ...]:
    """The set's step grids after refitting some steps: the refitted ones, and the base
    set's grids of the other current steps when the base was drawn the same way (same
    trial and draw seeds), so that a partly refitted set can still be left out trial by
    trial; a base grid of a step that no longer exists is dropped. A kept grid of a step
    after a refitted one was computed with the refitted value's old point: sound only
    when the refitted steps feed no later step (CAL-5's three: each its own trial's
    drug), which the caller must see to."""
    new = {g.targets: g for g in refitted}
    if kept is None or (kept.trial_seed, kept.draw_seed) != (seed, draw_seed):
        return tuple(refitted)
    old = {g.targets: g for g in kept.steps}
    merged = (new.get(s.targets) or old.get(s.targets) for s in steps)
    return tuple(g for g in merged if g is not None)


def check_against(shipped: ParameterSet, refit: ParameterSet, full: bool = True) -> list[str]:
    """How ``refit`` fails to reproduce ``shipped`` (empty: it does): every shipped value
    refitted must be the refit's point or lie inside its 95 % credible interval (and the
    refit's point inside the shipped one's, when the shipped value carries a posterior;
    a point at a bound is outside an equal-tailed interval); a ``full``
    refit must give the same targets, no more and no fewer.

    >>> from dermatwin.params.parameter_set import load_parameter_set
    >>> cal2 = load_parameter_set("CAL-2")
    >>> check_against(cal2, cal2)  # a set without posteriors: values must be equal
    []
    """
    fitted = {v.target: v for v in refit.values}
    differ = []
    for v in shipped.values:
        new = fitted.get(v.target)
        if new is None:
            continue
        if new.posterior is None:
            if new.value != v.value:
                differ.append(f"{v.target}: shipped {v.value:g}, refitted {new.value:g}")
            continue
        p = new.posterior
        # a mode piled against a bound lies outside the equal-tailed interval, yet the
        # refit reproduces it when it finds the same point
        if math.isclose(v.value, new.value, rel_tol=1e-9):
            continue
        if not p.low <= v.value <= p.high:
            differ.append(
                f"{v.target}: shipped {v.value:g} outside the refit's 95 % CrI "
                f"{p.low:.4g} to {p.high:.4g}"
            )
        elif v.posterior is not None and not v.posterior.low <= new.value <= v.posterior.high:
            differ.append(
                f"{v.target}: refitted {new.value:g} outside the shipped 95 % CrI "
                f"{v.posterior.low:.4g} to {v.posterior.high:.4g}"
            )
    if full:
        differ += [f"{t}: not refitted" for t in shipped.targets() - fitted.keys()]
        differ += [f"{t}: not in the shipped set" for t in fitted.keys() - shipped.targets()]
    return differ


#: the docs/validation.md paragraph on the posterior (written by ``validate --doc``)
METHOD_DOC = """\
**Posterior, not only a point** (issue 18). `dermatwin calibrate` computes each step's
posterior on a grid: every arm the step needs runs on the same virtual patients (common
random numbers, also for the drug dose pairs; 1,000 per arm, so that the simulated
rates' Monte Carlo error is small against the published arms' sampling error), the
simulated rows are evaluated on a coarse grid over the bounds (11 nodes for one value, 5
x 5 for two; uniform prior on the value's scale, log10 where marked), interpolated
linearly onto a fine grid where log posterior = log prior + the rows' log-likelihoods
(binomial on responders at the published arm size; for the paired MSC steps a normal on
the difference with the binomial SE of the two published rates), and recomputed on a
refined grid over the region holding the posterior. Each value gets 64 draws
(stratified), a posterior mean, SD and 95 % credible interval, the effective number of
grid nodes and the largest error of the interpolation against direct runs at two draws
(percentage points); the point `value` is the posterior mode. `dermatwin calibrate
--check` passes when every shipped value lies inside the refit's 95 % credible interval.
`dermatwin calibrate --petab DIR` writes the problem (rows, arms, likelihoods, open
values, priors) as PEtab v1 tables. `--workers N` runs each step's grid points (and
`calibrate-placebo --workers N` the placebo curve points) in N processes, started once
for the whole fit; the result is the same for any N. **Steps are sequential**: each runs
with the earlier values at their mode, so a step's spread omits the uncertainty of the
values it builds on (placebo's, for the drugs on top of it); the per-row log-likelihoods
at the grid nodes are kept in the set's provenance. Each value's draws also carry R-hat
and ESS (arviz, the 64 draws split in their stored order into 4 chains): grid draws are
independent, so R-hat near 1 and an ESS near the number of draws are expected, and a
value whose draws cluster would fail them. CAL-5 is this fit with draws (64 per value)
and the likelihoods that carry the simulation's own error; CAL-3 (the same fit without
that error, before the placebo onset) and CAL-1 and CAL-2 (point fits) stay loadable.
Runtime and the seed check: benchmarks/README.md."""
