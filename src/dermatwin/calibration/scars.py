"""Mature-scar trials in calibration and validation: the one fitted value, the rows, the null.

* The enrolled scars of the Jaspers 2017 trial (``jaspers2017_fat_graft_scars.yaml``
  beside the wound trials) are described by its baseline rows: the population defaults
  of :class:`dermatwin.trials.scars.ScarPopulation` were set with SCAR_JASPERS_POSAS_OBS_BL
  and _PAT_BL in view, so validation marks those two rows fitted.
* :func:`fit_release` fits the one model value the trial must fix,
  ``scar_procedure_release`` (the share of adhesion the grafting procedure frees), to
  SCAR_JASPERS_POSAS_OBS_3M. Predicted, not fitted: SCAR_JASPERS_POSAS_PAT_3M, the
  Cutometer elasticity gains SCAR_JASPERS_CUTO_ELAST (3 months) and SCAR_JASPERS12_ELAST
  (12 months), and the saline-controlled null trial.
* :func:`scar_row_predictions`: a row of one arm gets the 95 % interval of bootstrap
  trials of the published size (as every other row; the rows give no SD, so "within the
  reported variability" is this interval); a row with ``versus`` (a within-patient
  comparison reported as not significant, e.g. SCAR_RCT_SALINE_NULL) is the paired
  difference arm minus ``versus``, observed 0, with the paired t interval a trial of the
  published n would report around the predicted difference: the row is predicted null
  when that interval includes 0.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scipy import optimize, stats

from dermatwin.calibration.targets import (
    INTERVAL_DRAWS,
    RowPrediction,
    clinical_rows,
    observed,
    predictive_size,
)
from dermatwin.calibration.wounds import WOUND_TRIALS
from dermatwin.trials.scars import (
    ScarTrialResult,
    ScarTrialSpec,
    is_scar_trial,
    load_scar_trial,
    run_scar_trial,
)

JASPERS = "jaspers2017_fat_graft_scars.yaml"
NULL_TRIAL = "fat_vs_saline_within_patient_scars.yaml"
FIT_ROW = "SCAR_JASPERS_POSAS_OBS_3M"
FIT_SEED = 2017
#: virtual patients in a fit
FIT_N = 4000
#: the rows validation marks fitted: the baseline rows describe the enrolled scars (the
#: population defaults), FIT_ROW fixes scar_procedure_release
FITTED_ROWS = frozenset({"SCAR_JASPERS_POSAS_OBS_BL", "SCAR_JASPERS_POSAS_PAT_BL", FIT_ROW})
#: value texts of rows that report no significant difference (observed difference 0)
NULL_VALUES = ("NS", "no difference", "no clear improvement")
#: what the interval of a ``versus`` row is
PAIRED_INTERVAL = "paired t CI at the published n"


def scar_trials(directory: str | Path = WOUND_TRIALS) -> dict[str, ScarTrialSpec]:
    """The mature-scar trial examples that express reference rows, by file name."""
    paths = [p for p in sorted(Path(directory).glob("*.yaml")) if is_scar_trial(p)]
    specs = {p.name: load_scar_trial(p) for p in paths}
    return {name: s for name, s in specs.items() if s.reference_rows}


def fit_release(seed: int = FIT_SEED) -> float:
    """``scar_procedure_release`` that puts the Jaspers trial's observer score at 3
    months on SCAR_JASPERS_POSAS_OBS_3M, with :data:`FIT_N` scars drawn from ``seed``."""
    spec = load_scar_trial(WOUND_TRIALS / JASPERS)
    arms = {a: arm.model_copy(update={"n": FIT_N}) for a, arm in spec.arms.items()}
    spec = spec.model_copy(update={"arms": arms, "seed": seed})
    ref = spec.reference_rows[FIT_ROW]
    target = observed(FIT_ROW)

    def loss(release: float) -> float:
        result = run_scar_trial(spec, {"scar_procedure_release": release}, statistics=False)
        table = result.endpoints[result.endpoints["arm"] == ref.arm]
        return (float(table[ref.endpoint].mean()) - target) ** 2

    fit = optimize.minimize_scalar(loss, bounds=(0.0, 1.0), method="bounded")
    return float(fit.x)


def _observed(row: str) -> float:
    value = clinical_rows()[row]["value"].strip()
    return 0.0 if value in NULL_VALUES else observed(row)


def scar_row_predictions(
    spec: ScarTrialSpec, result: ScarTrialResult, trial: str
) -> list[RowPrediction]:
    """Observed vs predicted for every reference row of a scar trial (module docstring)."""
    out = []
    e = result.endpoints
    for index, (row, ref) in enumerate(spec.reference_rows.items()):
        values = e.loc[e["arm"] == ref.arm, ref.endpoint].to_numpy()
        size = ref.n or len(values)
        if ref.versus is not None:
            values = values - e.loc[e["arm"] == ref.versus, ref.endpoint].to_numpy()
            centre = float(values.mean())
            half = stats.t.ppf(0.975, size - 1) * values.std(ddof=1) / math.sqrt(size)
            low, high, includes = centre - half, centre + half, PAIRED_INTERVAL
        else:
            rng = np.random.default_rng([spec.seed, index])
            k = predictive_size(size, len(values))
            draws = values[rng.integers(0, len(values), size=(INTERVAL_DRAWS, k))].mean(axis=1)
            low, high = (float(x) for x in np.percentile(draws, [2.5, 97.5]))
            centre, includes = float(values.mean()), "sampling"
        endpoint = ref.endpoint if ref.versus is None else f"{ref.endpoint} minus {ref.versus}"
        out.append(
            RowPrediction(
                row,
                trial,
                ref.arm,
                endpoint,
                _observed(row),
                centre,
                float(low),
                float(high),
                ref.n,
                interval_includes=includes,
                sampling_interval=(float(low), float(high)),
            )
        )
    return out


def scar_rows(directory: str | Path, trials=None) -> list[RowPrediction]:
    """Every reference row of the scar trials in ``directory/wounds`` (of ``trials``
    only, by file name, when given)."""
    folder = Path(directory) / "wounds"
    specs = scar_trials(folder) if folder.is_dir() else {}
    return [
        row
        for name, spec in specs.items()
        if trials is None or name in trials
        for row in scar_row_predictions(spec, run_scar_trial(spec, statistics=False), name)
    ]
