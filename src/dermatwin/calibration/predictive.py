"""What a planned trial will show, with what we do not know: predictive intervals.

:func:`predict_trial` runs a trial (any trial YAML, not only the examples) on its own
virtual patients several times over what a new trial does not know, exactly as
``dermatwin validate`` does for the reference rows
(:func:`dermatwin.calibration.validate.predictive_plan`):

- **posterior**: the parameter set's posterior draws (a set written by
  ``dermatwin calibrate`` carries them), ``draws`` of them evenly spaced;
- **placebo**: the trial's own placebo response, drawn from the trial-level placebo
  model of its disease (:mod:`dermatwin.calibration.placebo`), paired with the draws
  (or at Gauss-Hermite nodes for a point set);
- **sampling**: bootstrap trials of each arm's size from the virtual arm, at the size
  whose variance also holds the virtual arm's own Monte Carlo error
  (:func:`~dermatwin.calibration.targets.predictive_size`: half the arm when the virtual
  arm is as large as the planned one; simulate a larger trial for a sharper centre).

For every arm and endpoint it reports the predictive mean and 95 % interval of the arm's
summary (percent of patients for rates), and for every arm against the reference arm
the difference with its 95 % interval and the predictive probability that the
difference is above zero. Every number says what its interval includes.

>>> from dermatwin.calibration.predictive import difference_samples
>>> rng = np.random.default_rng(0)
>>> d = difference_samples(np.ones(50), np.zeros(30), 50, 30, rng)
>>> float(d.min()), d.shape
(1.0, (2000,))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dermatwin.calibration.placebo import PlaceboModel, read_placebo_models
from dermatwin.calibration.targets import INTERVAL_DRAWS, predictive_size, weighted_percentiles
from dermatwin.calibration.validate import (
    DRAWS,
    PLACEBO_NODES,
    check_counts,
    predictive_plan,
    run_all,
)
from dermatwin.params.parameter_set import CalibrationError, ParameterSet, load_parameter_set
from dermatwin.trials.spec import TrialSpec


def arm_samples(values: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """:data:`INTERVAL_DRAWS` bootstrap means of a trial of ``n`` patients from the
    virtual arm ``values``, at :func:`~dermatwin.calibration.targets.predictive_size` (so
    that the virtual arm's own Monte Carlo error is in the interval)."""
    k = predictive_size(n, len(values))
    return values[rng.integers(0, len(values), size=(INTERVAL_DRAWS, k))].mean(axis=1)


def difference_samples(
    treated: np.ndarray,
    reference: np.ndarray,
    n: int,
    n_reference: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Bootstrap differences of arm means: ``treated`` (``n`` patients) minus
    ``reference`` (``n_reference``), the arms resampled independently."""
    return arm_samples(treated, n, rng) - arm_samples(reference, n_reference, rng)


def predict_trial(
    spec: TrialSpec,
    parameter_set: str | ParameterSet | None = None,
    draws: int = DRAWS,
    placebo_nodes: int = PLACEBO_NODES,
    workers: int = 1,
    placebo_models: dict[str, PlaceboModel] | None = None,
    progress: bool | None = False,
) -> dict:
    """Predictive intervals of every arm x endpoint of ``spec`` and of every arm minus the
    reference arm (JSON-ready; see the module docstring). ``parameter_set``: default the
    trial's own (``parameter_set:`` in its file; the shipped set if it names none)."""
    if parameter_set is None:
        parameter_set = spec.parameter_set
    pset = load_parameter_set(parameter_set) if isinstance(parameter_set, str) else parameter_set
    check_counts(placebo_nodes, draws, workers)
    models = read_placebo_models() if placebo_models is None else placebo_models
    spec = spec.model_copy(update={"parameter_set": pset})
    spread, includes = predictive_plan(spec, pset, models.get(spec.disease), placebo_nodes, draws)
    plan = spread or [(spec, 1.0)]
    results = run_all([s for s, _ in plan], workers, progress)
    runs = list(zip(results, [w for _, w in plan], strict=True))
    first = results[0]
    kinds = first.kinds()
    ref = spec.reference()
    arms, differences = [], []
    for e_index, (endpoint, kind) in enumerate(kinds.items()):
        unit = 100.0 if kind == "rate" else 1.0
        per_run = [_arm_table(r, endpoint) for r, _ in runs]
        weights = np.array([w for _, w in runs])
        for a_index, arm in enumerate(spec.arms):
            if any(len(t[arm]) == 0 for t in per_run) or any(len(t[ref]) == 0 for t in per_run):
                raise CalibrationError(
                    f"endpoint {endpoint}: arm {arm!r} or {ref!r} has no patient with a value "
                    "(every simulation failed); allowed: arms with at least one"
                )
            n = len(per_run[0][arm])
            key = [spec.seed, e_index, a_index]  # the same resampling in every run
            samples = [
                arm_samples(t[arm], len(t[arm]), np.random.default_rng(key)) for t in per_run
            ]
            arms.append(
                {"arm": arm, "endpoint": endpoint, "n": n}
                | _interval_of(samples, weights, unit, [float(t[arm].mean()) for t in per_run])
            )
            if arm == ref:
                continue
            diffs = [
                difference_samples(
                    t[arm],
                    t[ref],
                    len(t[arm]),
                    len(t[ref]),
                    np.random.default_rng([*key, 1]),
                )
                for t in per_run
            ]
            means = [float(t[arm].mean() - t[ref].mean()) for t in per_run]
            row = {"arm": arm, "reference": ref, "endpoint": endpoint, "n": n}
            row |= _interval_of(diffs, weights, unit, means)
            row["p_above_zero"] = float(
                sum(w * np.mean(d > 0) for d, w in zip(diffs, weights, strict=True)) / weights.sum()
            )
            differences.append(row)
    return {
        "trial": spec.name,
        "parameter_set": pset.name,
        "draws_in_set": pset.n_draws,
        "runs": len(runs),
        "interval_includes": includes,
        "arms": arms,
        "differences": differences,
    }


def _arm_table(result, endpoint: str) -> dict[str, np.ndarray]:
    table = result.endpoints
    out = {}
    for arm, values in table.groupby("arm", sort=False)[endpoint]:
        v = values.to_numpy(dtype=np.float64)
        out[arm] = v[np.isfinite(v)]
    return out


def _interval_of(
    samples: Sequence[np.ndarray], weights: np.ndarray, unit: float, means: Sequence[float]
) -> dict:
    pairs = zip(samples, weights, strict=True)
    w = np.concatenate([np.full(len(s), wk / len(s)) for s, wk in pairs])
    low, high = weighted_percentiles(np.concatenate(samples), w)
    mean = float(np.dot(means, weights) / weights.sum())
    return {"mean": unit * mean, "low": unit * float(low), "high": unit * float(high)}
