"""Wound trials in calibration and validation: the DFU fit, its rows, the pooled ratio.

* :func:`fit_dfu` fits the two values of :mod:`dermatwin.model.wound_healing` that the
  Moon 2019 trial (``examples/trials/wounds/moon2019_alloasc_sheet_dfu.yaml``) must fix:
  ``wound_capacity`` to the film-dressing arm (DFU_ALLOASC_MOON2019_P2_CLOSE_W8_C,
  _CLOSE_W12_C, _TTC_C) and then ``wound_msc_exposure`` to the sheet arm (_CLOSE_W8_T,
  _CLOSE_W12_T, _TTC_T). Everything else is assumed or the skin model's. The spread
  between patients (``wound_capacity_sd``) is assumed, not fitted: the three control
  rows do not identify it (a joint fit runs to SD 4-5, a heal-or-never population whose
  fitted values change with the seed). The shipped values are the fit's at
  :data:`FIT_SEED`; a test refits with another seed.
* :func:`wound_row_predictions` gives a wound trial's reference rows as
  :class:`dermatwin.calibration.targets.RowPrediction`: a closure rate's interval from
  bootstrap trials of the published size (as for every other row), a median time to
  closure's from the Kaplan-Meier medians of such bootstrap trials.
* :func:`pooled_risk_ratio` predicts the risk ratio of complete healing of a typical
  MSC trial design (:data:`TYPICAL_DESIGN`) for DFU_MSC_MEI2025_META_HEAL (RR 1.63, 95 %
  CI 1.23-2.16; not fitted).
"""

from __future__ import annotations

import math
import re
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
from scipy import optimize

from dermatwin.calibration.targets import (
    INTERVAL_DRAWS,
    RowPrediction,
    bootstrap_picks,
    clinical_rows,
    observed,
    predictive_size,
)
from dermatwin.trials.scars import is_scar_trial
from dermatwin.trials.statistics import kaplan_meier, kaplan_meier_median
from dermatwin.trials.wounds import (
    WoundTrialResult,
    WoundTrialSpec,
    load_wound_trial,
    run_wound_trial,
)

#: the wound trial examples (package data, as ``examples/trials/wounds/``)
WOUND_TRIALS = Path(str(resources.files(__package__).joinpath("trials", "wounds")))
MOON = "moon2019_alloasc_sheet_dfu.yaml"
FIT_SEED = 2019
#: virtual patients per arm in a fit
FIT_N = 6000
#: assumed SD of the log of a published median time to closure (n about 30)
LOG_MEDIAN_SD = 0.25
CONTROL_ROWS = ("_CLOSE_W8_C", "_CLOSE_W12_C", "_TTC_C")
TREATED_ROWS = ("_CLOSE_W8_T", "_CLOSE_W12_T", "_TTC_T")
#: a typical MSC-in-DFU randomised design of the Mei 2025 meta-analysis (assumed: a
#: single perilesional injection of 1e6 autologous bone-marrow MSC per ulcer, standard
#: care in both arms, complete healing at 12 weeks)
TYPICAL_DESIGN = {
    "product": {"source": "bone_marrow", "origin": "autologous"},
    "route": "injection",
    "cells": 1.0e6,
    "times": [0],
}
META_ROW = "DFU_MSC_MEI2025_META_HEAL"
#: the pooled ratio and its 95 % CI, read from DFU_MSC_MEI2025_META_HEAL's value text
#: ("RR 1.63 (95% CI 1.23-2.16)")
_META_VALUE = re.compile(r"RR ([\d.]+) \(95% CI ([\d.]+)-([\d.]+)\)")


def meta_ratio() -> tuple[float, float, float]:
    """(ratio, CI low, CI high) of DFU_MSC_MEI2025_META_HEAL."""
    m = _META_VALUE.match(clinical_rows()[META_ROW]["value"])
    return float(m.group(1)), float(m.group(2)), float(m.group(3))


def wound_trials(directory: str | Path = WOUND_TRIALS) -> dict[str, WoundTrialSpec]:
    """The wound trial examples that express reference rows, by file name (the
    mature-scar trials beside them are :func:`dermatwin.calibration.scars.scar_trials`)."""
    paths = [p for p in sorted(Path(directory).glob("*.yaml")) if not is_scar_trial(p)]
    specs = {p.name: load_wound_trial(p) for p in paths}
    return {name: s for name, s in specs.items() if s.reference_rows}


def _predicted(result: WoundTrialResult, arm: str, endpoint: str) -> float:
    table = result.endpoints[result.endpoints["arm"] == arm]
    if endpoint == "time_to_closure":
        _, median = kaplan_meier(table[endpoint], table[endpoint + "_event"])
        return float(median["estimate"])
    return 100.0 * float(table[endpoint].mean())


def _loss(spec: WoundTrialSpec, values: dict[str, float], suffixes) -> float:
    arms = {a: arm.model_copy(update={"n": FIT_N}) for a, arm in spec.arms.items()}
    result = run_wound_trial(spec.model_copy(update={"arms": arms}), values, statistics=False)
    total = 0.0
    for row, ref in spec.reference_rows.items():
        if not row.endswith(suffixes):
            continue
        obs, pred = observed(row), _predicted(result, ref.arm, ref.endpoint)
        if ref.endpoint == "time_to_closure":
            pred = pred if math.isfinite(pred) else 10 * spec.duration
            total += (math.log(pred / obs) / LOG_MEDIAN_SD) ** 2
        else:
            p = obs / 100.0
            total += ((pred - obs) / (100.0 * math.sqrt(p * (1 - p) / ref.n))) ** 2
    return total


def fit_dfu(seed: int = FIT_SEED) -> dict[str, float]:
    """The two fitted wound values (see the module docstring) with virtual patients
    drawn from ``seed``: the control arm's capacity first, then the sheet's exposure."""
    spec = load_wound_trial(WOUND_TRIALS / MOON).model_copy(update={"seed": seed})
    control = {a: arm for a, arm in spec.arms.items() if arm.msc is None}
    ctl_spec = spec.model_copy(update={"arms": control, "reference_arm": None})

    fit = optimize.minimize_scalar(
        lambda x: _loss(ctl_spec, {"wound_capacity": math.exp(x)}, CONTROL_ROWS),
        bounds=(math.log(0.01), math.log(10.0)),
        method="bounded",
        options={"xatol": 1e-3},
    )
    values = {"wound_capacity": math.exp(fit.x)}
    treated = {a: arm for a, arm in spec.arms.items() if arm.msc is not None}
    tr_spec = spec.model_copy(update={"arms": treated, "reference_arm": None})
    fit = optimize.minimize_scalar(
        lambda x: _loss(tr_spec, {**values, "wound_msc_exposure": math.exp(x)}, TREATED_ROWS),
        bounds=(math.log(1.0), math.log(1e5)),
        method="bounded",
        options={"xatol": 1e-3},
    )
    return {**values, "wound_msc_exposure": math.exp(fit.x)}


def wound_row_predictions(
    spec: WoundTrialSpec, result: WoundTrialResult, trial: str
) -> list[RowPrediction]:
    """Observed vs predicted for every reference row of a wound trial, with the 95 %
    interval of bootstrap trials of the published size (:func:`predictive_size`, so it
    includes the virtual arm's Monte Carlo error)."""
    out = []
    for index, (row, ref) in enumerate(spec.reference_rows.items()):
        table = result.endpoints[result.endpoints["arm"] == ref.arm]
        picks = bootstrap_picks(ref.n or len(table), len(table), (spec.seed, index))
        if ref.endpoint == "time_to_closure":
            t = table[ref.endpoint].to_numpy()
            e = table[ref.endpoint + "_event"].to_numpy()
            medians = np.array([kaplan_meier_median(t[i], e[i]) for i in picks])
            # a median not reached is NaN: inf sorts it above every reached one
            draws = np.where(np.isnan(medians), math.inf, medians)
        else:
            draws = 100.0 * table[ref.endpoint].to_numpy()[picks].mean(axis=1)
        # "nearest": a median not reached (inf) stays inf, never inf - inf
        low, high = sorted(
            float(x) for x in ref.scale * np.percentile(draws, [2.5, 97.5], method="nearest")
        )
        predicted = ref.scale * _predicted(result, ref.arm, ref.endpoint)
        out.append(
            RowPrediction.of(row, trial, ref, predicted, low, high, sampling_interval=(low, high))
        )
    return out


@cache
def _typical_trial(n: int = 2000, seed: int = 2025) -> tuple[WoundTrialSpec, WoundTrialResult]:
    spec = WoundTrialSpec.model_validate(
        {
            "name": "typical MSC vs standard care in DFU (Mei 2025 design)",
            "condition": "diabetic_foot_ulcer",
            "seed": seed,
            "duration": "12 weeks",
            "arms": {"msc": {"n": n, "msc": TYPICAL_DESIGN}, "standard_care": {"n": n}},
            "endpoints": ["closure@12w"],
        }
    )
    return spec, run_wound_trial(spec, statistics=False)


def pooled_risk_ratio() -> dict[str, float]:
    """The risk ratio of complete healing at 12 weeks of :data:`TYPICAL_DESIGN` vs
    standard care, on the same 2000 virtual patients (the default population), with the
    two rates (%)."""
    spec, result = _typical_trial()
    rates = {a: _predicted(result, a, "closure@12w") for a in spec.arms}
    return {**rates, "risk_ratio": rates["msc"] / rates["standard_care"]}


#: the rows :func:`fit_dfu` fits (validation marks them ``fitted``)
FITTED_ROWS = frozenset(
    {
        "DFU_ALLOASC_MOON2019_P2_CLOSE_W8_C",
        "DFU_ALLOASC_MOON2019_P2_CLOSE_W12_C",
        "DFU_ALLOASC_MOON2019_P2_TTC_C",
        "DFU_ALLOASC_MOON2019_P2_CLOSE_W8_T",
        "DFU_ALLOASC_MOON2019_P2_CLOSE_W12_T",
        "DFU_ALLOASC_MOON2019_P2_TTC_T",
    }
)
#: patients per arm of the pooled trials behind the meta-analytic ratio, for its interval
#: (assumed: 6 RCTs of about 25 per arm; the row gives only "6 RCTs")
META_N = 150


def meta_row_prediction() -> RowPrediction:
    """DFU_MSC_MEI2025_META_HEAL as a row: the predicted risk ratio of
    :func:`pooled_risk_ratio`, with the 2.5-97.5 percentiles of the ratio over bootstrap
    pairs of arms of :data:`META_N` patients (sampling only). Not fitted."""
    spec, result = _typical_trial()
    rng = np.random.default_rng([spec.seed, 0])
    arms = [
        result.endpoints.loc[result.endpoints["arm"] == a, "closure@12w"].to_numpy()
        for a in ("msc", "standard_care")
    ]
    size = predictive_size(META_N, len(arms[0]))
    rates = [a[rng.integers(0, len(a), size=(INTERVAL_DRAWS, size))].mean(axis=1) for a in arms]
    low, high = (float(x) for x in np.percentile(rates[0] / rates[1], [2.5, 97.5]))
    return RowPrediction(
        META_ROW,
        "typical MSC design (calibration.wounds)",
        "msc",
        "risk ratio closure@12w",
        meta_ratio()[0],
        pooled_risk_ratio()["risk_ratio"],
        low,
        high,
        None,
    )


def wound_rows(directory: str | Path, trials=None) -> list[RowPrediction]:
    """Every reference row of the wound trials in ``directory/wounds`` (beside the skin
    trials of ``directory``; of ``trials`` only, by file name, when given) and the
    meta-analytic row when all are asked for."""
    rows: list[RowPrediction] = []
    folder = Path(directory) / "wounds"
    specs = wound_trials(folder) if folder.is_dir() else {}
    for name, spec in specs.items():
        if trials is None or name in trials:
            rows += wound_row_predictions(spec, run_wound_trial(spec, statistics=False), name)
    if specs and trials is None:
        rows.append(meta_row_prediction())
    return rows
