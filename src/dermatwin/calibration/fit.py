"""Fit the values the literature leaves open to clinical rows (``dermatwin calibrate``).

Calibration is a fixed sequence of :class:`Step`\\ s. Each fits one value (two for a drug's
dose pair) by running the full example trial that expresses its rows, with common random
numbers (the trial's seed fixes every virtual patient), and minimising the squared
distance between the predicted and observed rows: a grid over the bounds, then a
bounded scalar search (or Nelder-Mead for two values) around the best grid point.

The MSC steps are **paired** (``Step.pairs``): they fit the published treatment-minus-
placebo difference of a controlled trial to the model's MSC-minus-placebo difference on
the SAME virtual patients (the trial run with ``paired: true``, :data:`PAIRED_N`
patients per arm), so the placebo arm's sampling noise does not enter the fit (CAL-1's
MSC values were fitted to arms holding different patients, i.e. to that noise).
Later steps run with the values already fitted, so the order matters: placebo before
the drugs given on top of it, the drug before the IGA mapping read from its arm.

Which rows are fitted and which are left to validate the fit is a modelling choice,
stated in :data:`STEPS` and in docs/validation.md: one row (or two for the MSC dose
pair) per open value; every other row of the same trials is a prediction.

>>> [s.targets for s in STEPS][:2]
[('model.placebo_response',), ('drug.dupilumab.emax',)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import optimize

from dermatwin.calibration.targets import EXAMPLE_TRIALS, observed, row_predictions
from dermatwin.params.parameter_set import (
    DEFAULT_SET,
    CalibrationError,
    FittedValue,
    ParameterSet,
    load_parameter_set,
)
from dermatwin.trials.paired import paired_spec
from dermatwin.trials.run import run_trial
from dermatwin.trials.spec import load_trial


@dataclass(frozen=True)
class Step:
    """Fit ``targets`` (within ``bounds``, on a log scale if ``log``) to ``rows`` of the
    example ``trial``."""

    targets: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]
    units: tuple[str, ...]
    rows: tuple[str, ...]
    trial: str
    log: tuple[bool, ...]
    why: str
    #: paired step: (treatment row, placebo row) pairs whose difference is fitted (``rows``
    #: lists both rows of every pair)
    pairs: tuple[tuple[str, str], ...] = ()
    #: virtual patients per arm of an unpaired step when the default is too few (a rare
    #: response's Monte Carlo error is large against the published arm's)
    patients: int | None = None

    @property
    def paired(self) -> bool:
        return bool(self.pairs)


def _one(target, low, high, unit, rows, trial, log, why) -> Step:
    return Step((target,), ((low, high),), (unit,), tuple(rows), trial, (log,), why)


def _dose_pair(drug: str, rows: tuple[str, str], trial: str, why: str) -> Step:
    """Maximal effect and EC50 of a drug, from two dose arms of one trial."""
    return Step(
        (f"drug.{drug}.emax", f"drug.{drug}.occupancy"),
        ((0.3, 0.999), (0.02, 0.99)),
        ("dimensionless", "dimensionless"),
        rows,
        trial,
        (False, True),
        why,
    )


def _paired(target, low, high, unit, pairs, trial, log, why) -> Step:
    """One MSC value fitted to treatment-minus-placebo differences on the same patients."""
    rows = tuple(r for pair in pairs for r in pair)
    return Step((target,), ((low, high),), (unit,), rows, trial, (log,), why, tuple(pairs))


#: patients per arm of a paired step (both arms hold the same ones): more than the
#: published arms, so that the fitted value describes the population's effect and moves
#: little with the trial seed (responders step by 1 / PAIRED_N)
PAIRED_N = 300
#: virtual patients of a step fitting a rare response (a few percent): its Monte Carlo
#: SD is then a quarter of the published arm's binomial SD
RARE_RESPONSE_N = 4000

STEPS: tuple[Step, ...] = (
    _one(
        "model.placebo_response",
        0.01,
        1.0,
        "dimensionless",
        ["AD_DUPI_SOLO1_PBO_EASI75"],
        "solo1_dupilumab_ad.yaml",
        True,
        "Miyano's vehicle term with the full prior variability of k3 gives too many "
        "placebo responders",
    ),
    _one(
        "drug.dupilumab.emax",
        0.3,
        0.999,
        "dimensionless",
        ["AD_DUPI_SOLO1_q2w_EASI75"],
        "solo1_dupilumab_ad.yaml",
        False,
        "weekly and two-weekly dosing respond alike (52 vs 51 %): exposure saturates, so "
        "the open value is the maximal block",
    ),
    _one(
        "severity.iga1_easi",
        0.5,
        12.0,
        "EASI points",
        ["AD_DUPI_SOLO1_q2w_IGA01"],
        "solo1_dupilumab_ad.yaml",
        True,
        "IGA 0/1 is rarer than EASI-75 but far commoner than EASI <= 1 (Chopra strata)",
    ),
    Step(
        ("drug.abrocitinib.occupancy", "drug.abrocitinib.hill"),
        ((0.05, 0.95), (1.0, 6.0)),
        ("dimensionless", "dimensionless"),
        ("AD_ABRO_MONO1_200_EASI75", "AD_ABRO_MONO1_100_EASI75"),
        "jade_mono1_abrocitinib_ad.yaml",
        (False, False),
        "the EC50 (occupancy at the labelled 100 mg average exposure) is open, and doubling "
        "the dose lifts EASI-75 from 40 to 63 %: a steeper exposure response than a "
        "hyperbola (Hill coefficient 1) gives",
    ),
    _dose_pair(
        "upadacitinib",
        ("AD_UPA_MU1_30_EASI75", "AD_UPA_MU1_15_EASI75"),
        "measure_up1_upadacitinib_ad.yaml",
        "the JAK1 slot's maximal block (0.9) and the oral template's EC50 are assumed, and "
        "abrocitinib's fitted exposure response does not carry over (no shared unbound "
        "exposure or whole-blood IC50 in the reference rows): 30 mg does more than 15 mg "
        "(80 vs 70 %), so maximal effect and EC50 are open; the IGA rows are predictions",
    ),
    _dose_pair(
        "ciclosporin",
        ("AD_CSA_META_6_8W", "AD_CSA_META_2W_LOW"),
        "schmitt2007_ciclosporin_ad.yaml",
        "the calcineurin slot's maximal effect (0.7) and the oral template's EC50 are "
        "assumed: fitted to the high dose at weeks 6-8 and the low dose at week 2 (the "
        "meta-analysis' 95 % CIs as SEs); the high dose at week 2 is a prediction",
    ),
    _paired(
        "model.itreg_induction",
        0.005,
        1.0,
        "1/day",
        [("AD_ATMSC_ADSTEM2025_P2_EASI75_W16_T", "AD_ATMSC_ADSTEM2025_P2_EASI75_W16_P")],
        "adstem_atmsc_iv_phase2_ad.yaml",
        True,
        "how fast tolerogenic phagocytes induce regulatory T cells (the strength of the "
        "host-carried IV effect) is not measured in humans (prior 0.005-1); fitted to the "
        "paired MSC-minus-placebo EASI-75 difference at week 16 of two IV infusions (16.4 "
        "points); weeks 4-12 are checks. Not tol_effero_ref: the phagocyte pool saturates "
        "at two IV doses, so the effect is flat in it (refits with another seed moved it 3x)",
    ),
    _paired(
        "model.tol_skin_weight",
        0.005,
        1.0,
        "dimensionless",
        [("AD_UCBMSC_FURESTEM_P3A_EASI50_W12_T", "AD_UCBMSC_FURESTEM_P3A_EASI50_W12_P")],
        "furestem_p3a_hucbmsc_ad.yaml",
        True,
        "the share of a subcutaneous depot's apoptotic MSC that reach tolerogenic "
        "phagocytes, relative to lung, spleen and liver, is not measured (prior 0-1); "
        "fitted to the paired MSC-minus-placebo EASI-50 difference at week 12 of one SC "
        "dose (4.66 points) after the IV step; week 4 is a check",
    ),
    replace(
        _one(
            "model.placebo_response_pso",
            0.0,
            0.6,
            "dimensionless",
            ["PSO_SECU_ERASURE_PBO_PASI75"],
            "erasure_secukinumab_psoriasis.yaml",
            False,
            "the psoriasis core has no vehicle term; a few percent of placebo patients respond",
        ),
        # 4.5 % of 248: at 1,000 virtual patients six seeds gave 20-47 responders at one
        # value, and a refit with another seed moved the value 2.6 posterior SDs
        patients=RARE_RESPONSE_N,
    ),
    _dose_pair(
        "secukinumab",
        ("PSO_SECU_ERASURE_300_PASI75", "PSO_SECU_ERASURE_150_PASI75"),
        "erasure_secukinumab_psoriasis.yaml",
        "150 mg does less than 300 mg (71.6 vs 81.6 %): maximal effect and EC50 are open",
    ),
    _one(
        "severity.pga1_pasi",
        0.3,
        10.0,
        "PASI points",
        ["PSO_SECU_ERASURE_300_IGA"],
        "erasure_secukinumab_psoriasis.yaml",
        True,
        "no published PASI strata for PGA",
    ),
    _dose_pair(
        "ustekinumab",
        ("PSO_UST_PHX1_45_PASI75", "PSO_UST_PHX1_90_PASI75"),
        "phoenix1_ustekinumab_psoriasis.yaml",
        "45 and 90 mg respond alike (67.1 vs 66.4 %) and the prior clears every plaque: "
        "maximal effect and EC50 are open",
    ),
    _one(
        "drug.adalimumab.occupancy",
        0.05,
        0.995,
        "dimensionless",
        ["PSO_ADA_REVEAL_PASI75_T"],
        "reveal_adalimumab_psoriasis.yaml",
        False,
        "anti-TNF EC50 at the labelled trough",
    ),
    _dose_pair(
        "etanercept",
        ("PSO_ETN_2003_50_twice_weekly_W12", "PSO_ETN_2003_25_once_weekly_W12"),
        "etanercept2003_psoriasis.yaml",
        "a steep dose response from 25 mg weekly to 50 mg twice weekly (14 vs 49 % at week "
        "12) that the TNF slot's maximal effect (0.9) with the EC50 alone did not follow: "
        "maximal effect and EC50 are open; 25 mg twice weekly and week 24 are predictions",
    ),
    _one(
        "drug.methotrexate.occupancy",
        0.02,
        0.995,
        "dimensionless",
        ["PSO_CHAMPION_MET_PASI75"],
        "champion_adalimumab_psoriasis.yaml",
        False,
        "the prior (75 % of the maximal T-cell and keratinocyte effect at 15 mg/week) clears "
        "almost every plaque",
    ),
)

#: grid points per fitted value before the local search
GRID = 9


def selected_steps(steps: Sequence[Step], only: Sequence[str] | None) -> list[tuple[int, Step]]:
    """The steps (with their index) that fit a target named in ``only`` (all when None
    or empty); a name no step fits is a one-line error listing the steps' targets."""
    names = [",".join(s.targets) for s in steps]
    if only:
        unknown = [o for o in only if not any(o in n.split(",") for n in names)]
        if unknown:
            raise CalibrationError(
                f"only: unknown target {unknown[0]!r}; allowed: {', '.join(names)}"
            )
    return [
        (i, step)
        for i, (step, name) in enumerate(zip(steps, names, strict=True))
        if not only or any(o in name.split(",") for o in only)
    ]


def starting_set(
    base: ParameterSet | None, only: Sequence[str] | None, description: str
) -> ParameterSet:
    """What a calibration starts from: ``base``; else the shipped set when only some
    steps are refitted (the others keep their values); else the uncalibrated priors."""
    if base is None and only:
        base = load_parameter_set("default")  # refit some values, keep the others
    return base or ParameterSet(name=DEFAULT_SET, version=1, description=description)


def _objective(
    step: Step, base: ParameterSet, seed: int | None = None
) -> Callable[[np.ndarray], tuple[float, dict]]:
    spec = load_trial(EXAMPLE_TRIALS / step.trial)
    if seed is not None:
        spec = spec.model_copy(update={"seed": seed})
    if step.paired:
        return _paired_objective(step, base, spec)
    obs = {row: observed(row) for row in step.rows}

    def evaluate(x: np.ndarray) -> tuple[float, dict]:
        pset = _with_values(base, step, x)
        result = run_trial(spec.model_copy(update={"parameter_set": pset}))
        preds = {p.row: p.predicted for p in row_predictions(spec, result, step.trial)}
        loss = sum((preds[r] - obs[r]) ** 2 for r in step.rows)
        return loss, {r: preds[r] for r in step.rows}

    return evaluate


def difference_key(treated: str, placebo: str) -> str:
    """How a paired step names a fitted difference in ``FittedValue.simulated``."""
    return f"{treated} - {placebo}"


def _paired_objective(
    step: Step, base: ParameterSet, spec
) -> Callable[[np.ndarray], tuple[float, dict]]:
    """Loss of a paired step: squared distance between the published treatment-minus-
    placebo differences and the model's paired differences (percentage points for
    responder rows, in the row's scale)."""
    refs = spec.reference_rows
    for row in step.rows:
        if row not in refs:
            raise CalibrationError(f"{step.trial}: row {row} is not among its reference_rows")
    arms = sorted({refs[r].arm for r in step.rows}, key=list(spec.arms).index)
    placebo = {refs[p].arm for _, p in step.pairs}
    if len(placebo) != 1:
        raise CalibrationError(f"{step.trial}: a paired step needs one placebo arm")
    (reference,) = placebo
    paired = paired_spec(spec, arms, PAIRED_N).model_copy(update={"reference_arm": reference})
    targets = {difference_key(t, p): observed(t) - observed(p) for t, p in step.pairs}

    def evaluate(x: np.ndarray) -> tuple[float, dict]:
        pset = _with_values(base, step, x)
        result = run_trial(paired.model_copy(update={"parameter_set": pset}))
        by = {(c["arm"], c["endpoint"]): c["difference"] for c in result.summary["comparisons"]}
        diffs = {
            difference_key(t, p): refs[t].scale * by[(refs[t].arm, refs[t].endpoint)]
            for t, p in step.pairs
        }
        loss = sum((diffs[k] - targets[k]) ** 2 for k in targets)
        return loss, diffs

    return evaluate


def _with_values(base: ParameterSet, step: Step, x, simulated=None, note="") -> ParameterSet:
    """``base`` with the step's targets set to ``x``."""
    for target, value, unit, bounds in zip(step.targets, x, step.units, step.bounds, strict=True):
        base = base.with_value(
            FittedValue(
                target=target,
                value=float(value),
                unit=unit,
                bounds=bounds,
                fitted_to=step.rows,
                trial=step.trial,
                simulated=simulated or {},
                note=note,
            )
        )
    return base


def _to_x(u: np.ndarray, step: Step) -> np.ndarray:
    """Map the unit cube to the bounds (log-uniform where ``log``)."""
    x = []
    for ui, (lo, hi), log in zip(u, step.bounds, step.log, strict=True):
        ui = float(np.clip(ui, 0.0, 1.0))
        x.append(lo * (hi / lo) ** ui if log else lo + (hi - lo) * ui)
    return np.array(x)


def fit_step(
    step: Step,
    base: ParameterSet,
    log: Callable[[str], None] = print,
    seed: int | None = None,
) -> ParameterSet:
    """``base`` with the values of ``step`` fitted (on the trial's own seed, or ``seed``:
    other virtual patients, to see how much a value moves with them)."""
    evaluate = _objective(step, base, seed)
    cache: dict[tuple, tuple[float, dict]] = {}

    def f(u) -> float:
        key = tuple(np.round(np.atleast_1d(u), 6))
        if key not in cache:
            cache[key] = evaluate(_to_x(np.atleast_1d(u), step))
        return cache[key][0]

    dims = len(step.targets)
    axes = [np.linspace(0.0, 1.0, GRID if dims == 1 else 5)] * dims
    grid = np.array(np.meshgrid(*axes, indexing="ij")).reshape(dims, -1).T
    losses = [f(u) for u in grid]
    best = grid[int(np.argmin(losses))]
    if dims == 1:
        h = 1.0 / (GRID - 1)
        lo, hi = max(0.0, best[0] - h), min(1.0, best[0] + h)
        res = optimize.minimize_scalar(
            lambda v: f([v]), bounds=(lo, hi), method="bounded", options={"xatol": 2e-3}
        )
        candidates = [np.array([res.x]), best]
    else:
        res = optimize.minimize(
            f,
            best,
            method="Nelder-Mead",
            options={"xatol": 5e-3, "fatol": 1.0, "maxfev": 30, "initial_simplex": _simplex(best)},
        )
        candidates = [np.clip(res.x, 0, 1), best]
    u = min(candidates, key=f)
    loss, preds = cache[tuple(np.round(np.atleast_1d(u), 6))]
    x = _to_x(u, step)
    simulated = {r: round(v, 2) for r, v in preds.items()}
    pset = _with_values(base, step, [float(f"{v:.4g}") for v in x], simulated, step.why)
    shown = ", ".join(f"{t} = {v:.4g}" for t, v in zip(step.targets, x, strict=True))
    if step.paired:
        fits = ", ".join(
            f"{difference_key(t, p)}: {preds[difference_key(t, p)]:+.1f} paired "
            f"(observed {observed(t) - observed(p):+.2f})"
            for t, p in step.pairs
        )
    else:
        fits = ", ".join(f"{r}: {preds[r]:.1f} (observed {observed(r):g})" for r in step.rows)
    log(f"{shown}  [{fits}; {len(cache)} trials]")
    return pset


def _simplex(best: np.ndarray) -> np.ndarray:
    d = 0.125
    return np.array([best, best + [d, 0], best + [0, d]])


def calibrate(
    only: Sequence[str] | None = None,
    base: ParameterSet | None = None,
    log: Callable[[str], None] = print,
    seed: int | None = None,
) -> ParameterSet:
    """Run the calibration steps (all, or those whose targets are named in ``only``) and
    return the fitted parameter set (starting from ``base``: default the uncalibrated
    priors, so that the shipped set is reproduced from scratch). ``seed`` replaces every
    example trial's seed (other virtual patients: a fitted value must survive it)."""
    chosen = selected_steps(STEPS, only)
    pset = starting_set(
        base,
        only,
        "Fitted by `dermatwin calibrate` to rows of shared/reference/"
        "clinical_outcomes.csv and msc_evidence.csv (each value lists its rows; the MSC "
        "values to paired treatment-minus-placebo differences); see docs/validation.md",
    )
    for _, step in chosen:
        pset = fit_step(step, pset, log, seed)
    return pset
