"""Leave-one-trial-out: what the calibrated model predicts for a trial it was not fitted to.

For each example trial j with reference rows, the set's posterior is conditioned on every
trial but j, and j's rows are predicted from that:

- **Open values.** Every calibration step fits the rows of ONE trial
  (:data:`dermatwin.calibration.fit.STEPS`), so without trial j a step fitted to j has no
  data left and its values return to their prior: their posterior draws are replaced by
  stratified draws of the prior (:func:`without_trial`). Steps fitted to other trials
  keep their draws. This is exact for the step's own values; it is approximate in one
  way: a later step fitted to another trial was conditioned on the earlier values' modes
  (the placebo values of SOLO-1 and ERASURE among them) and keeps that conditioning
  (stated in :data:`APPROXIMATION`).
- **Placebo.** The trial-level placebo model is refitted without j's placebo row
  (:func:`~dermatwin.calibration.placebo.placebo_without`), so a placebo value fitted to j
  is replaced by the other trials' predictive distribution (the placebo steps' own draws
  are not used: the hierarchical model supersedes them). Where no placebo model acts
  (``placebo_nodes`` 0, or none for the disease), a placebo value fitted to j returns to
  its prior like any other.
- The trial is run on its own virtual patients at the draws, each paired with one
  stratified quantile of the placebo distribution; the 95 % interval of a row mixes the
  bootstrap distributions at the published n, and the prediction is the mixture's mean.

A trial that fitted nothing and gave the placebo model no row gets the same interval as in
the in-sample table (it is out of sample already); its prediction is the mixture's mean
rather than the point run's.

>>> from dermatwin.params.parameter_set import FittedValue, ParameterSet, Posterior
>>> v = FittedValue(target="drug.dupilumab.emax", value=0.9, unit="dimensionless",
...     bounds=(0.3, 0.999), fitted_to=("AD_DUPI_SOLO1_q2w_EASI75",),
...     trial="solo1_dupilumab_ad.yaml", draws=(0.88, 0.9, 0.92, 0.91, 0.89, 0.9, 0.91, 0.9),
...     posterior=Posterior(mean=0.9, sd=0.02, low=0.87, high=0.93))
>>> s = ParameterSet(name="X", version=1, values=[v])
>>> freed_targets(s, "solo1_dupilumab_ad.yaml")
('drug.dupilumab.emax',)
>>> left = without_trial(s, "solo1_dupilumab_ad.yaml", seed=0)
>>> d = left.values[0].draws  # one draw in each eighth of the prior (0.3 to 0.999)
>>> round(min(d), 2) < 0.39 and round(max(d), 2) > 0.91
True
"""

from __future__ import annotations

import numpy as np

from dermatwin.calibration.placebo import TARGETS as PLACEBO_TARGETS
from dermatwin.calibration.problem import OpenValue
from dermatwin.params.parameter_set import CalibrationError, FittedValue, ParameterSet

APPROXIMATION = (
    "values fitted to the left-out trial return to their prior; the others keep their "
    "posterior draws, although the later steps were fitted with the earlier values at "
    "their mode (every AD step after SOLO-1's placebo value, every psoriasis drug step "
    "after ERASURE's), so some of a left-out trial's information stays in them; the "
    "placebo model is refitted without the trial"
)


def freed_targets(pset: ParameterSet, trial: str, placebo_model: bool = True) -> tuple[str, ...]:
    """The set's values fitted to ``trial`` alone; a placebo value only without a
    trial-level ``placebo_model`` to carry it (which is then refitted without the trial)."""
    placebo = {target for target, _, _ in PLACEBO_TARGETS.values()} if placebo_model else set()
    return tuple(v.target for v in pset.values if v.trial == trial and v.target not in placebo)


def prior_of(value: FittedValue) -> OpenValue:
    """A fitted value's prior (its bounds, on the scale of its posterior)."""
    post = value.posterior
    scale = post.scale if post is not None else "lin"
    prior = post.prior if post is not None else "uniform"
    if prior != "uniform":
        raise CalibrationError(
            f"{value.target}: prior {prior!r} cannot be redrawn; allowed: uniform"
        )
    low, high = value.bounds
    return OpenValue(value.target, value.unit, low, high, scale)


def require_draws(pset: ParameterSet) -> int:
    """The set's number of draws; a one-line error for a point set (nothing to condition
    on)."""
    if pset.n_draws == 0:
        raise CalibrationError(
            f"parameter_set: {pset.name} carries no posterior draws; allowed: a set with "
            "draws (dermatwin calibrate writes them)",
            parameter="parameter_set",
        )
    for v in pset.values:
        if v.draws is not None:
            prior_of(v)  # a prior that cannot be redrawn is refused before any run
    return pset.n_draws


def without_trial(
    pset: ParameterSet, trial: str, seed: int, placebo_model: bool = True
) -> ParameterSet:
    """``pset`` with the draws of the values fitted to ``trial`` replaced by stratified
    prior draws (the same number, shuffled with ``seed``); the point of a freed value is
    its prior median (``placebo_model``: see :func:`freed_targets`). A set without draws is
    refused (nothing to condition on)."""
    n = require_draws(pset)
    freed = set(freed_targets(pset, trial, placebo_model))
    rng = np.random.default_rng([seed, n])
    out = pset
    for v in pset.values:
        if v.target not in freed:
            continue
        q = (rng.permutation(n) + rng.uniform(size=n)) / n
        prior = prior_of(v)
        out = out.with_value(
            v.model_copy(
                update={
                    "value": float(prior.prior_quantile(0.5)),
                    "draws": tuple(round(float(x), 6) for x in prior.prior_quantile(q)),
                    "posterior": None,
                }
            )
        )
    return out
