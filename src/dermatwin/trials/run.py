"""Run a virtual trial: populations per arm, regimens, simulation, endpoints, statistics.

Every random draw is seeded by (trial seed, arm index, patient index) and patients are
simulated independently, so results are bit-identical whatever ``chunk_size`` is. With
``paired: true`` every arm uses stream 0 instead of its index: the arms hold the same
patients (screened once) with the same measurement noise draws. A
patient whose simulation fails numerically gets NaN endpoints and is listed in
``failures``; the trial goes on.

Usage (compiles the skin model on first use, then takes seconds)::

    result = run_trial(load_trial("examples/trials/kim2017_hucbmsc_ad.yaml"))
    result.summary["arms"]["high_dose"]["EASI-50@12w"]["estimate"]
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dermatwin import __version__
from dermatwin.calibration.parameter_set import (
    CalibrationError,
    ParameterSet,
    load_parameter_set,
)
from dermatwin.disease.observation import trial_noise
from dermatwin.disease.scores import DISEASES, ORDINALS, ceiling, grade
from dermatwin.engine.simulate import simulate
from dermatwin.io.environment import environment
from dermatwin.model.skin import build
from dermatwin.model.spec import Model
from dermatwin.patients.population import Population, generate
from dermatwin.patients.sampling import patient_rng
from dermatwin.therapy.drugs import (
    REFERENCE_WEIGHT_KG,
    DrugDose,
    Phase,
    get_drug,
    proactive_tcs,
    reactive_tcs,
)
from dermatwin.therapy.products import TherapyError
from dermatwin.therapy.regimen import Regimen, msc_course
from dermatwin.trials.spec import (
    PRIMARY_SCORE,
    DrugItem,
    Endpoint,
    MSCItem,
    TrialError,
    TrialSpec,
)
from dermatwin.trials.statistics import summarise

#: random stream of the measurement noise (added to the arm index)
NOISE_STREAM_OFFSET = 3_000_017
#: scores written to the trajectories, per disease (the disease registry's)
TRAJECTORY_SCORES = {d: s.scores for d, s in DISEASES.items()}


@dataclass
class TrialResult:
    spec: TrialSpec
    endpoints: pd.DataFrame
    trajectories: pd.DataFrame
    summary: dict
    manifest: dict
    failures: pd.DataFrame = field(default_factory=pd.DataFrame)

    def kinds(self) -> dict[str, str]:
        return {e.text: e.summary_kind for e in self.spec.parsed_endpoints()}


def _drug_dose(item: DrugItem, stop_cap: float | None) -> DrugDose | None:
    entry = get_drug(item.drug)
    stop = item.stop
    if stop_cap is not None:
        stop = stop_cap if stop is None else min(stop, stop_cap)
    if item.start >= (stop if stop is not None else np.inf):
        return None
    if item.schedule != "label":
        if item.drug != "topical_steroid":
            raise TherapyError(
                f"schedule: {item.schedule!r} is for topical_steroid only; allowed for "
                f"{item.drug}: label"
            )
        make = proactive_tcs if item.schedule == "proactive" else reactive_tcs
        return make(item.amount if item.amount is not None else 1.0, item.start, stop)
    return DrugDose(
        item.drug,
        entry.label.dose if item.amount is None else item.amount,
        item.unit or entry.unit,
        item.route,
        item.start,
        stop,
        phases=None if item.every is None else (Phase(0.0, 1.0, item.every, None),),
    )


def trial_parameter_set(spec: TrialSpec) -> ParameterSet:
    """The calibrated parameter set the trial names (one-line TrialError if unknown)."""
    if isinstance(spec.parameter_set, ParameterSet):
        return spec.parameter_set
    try:
        return load_parameter_set(spec.parameter_set)
    except CalibrationError as err:
        raise TrialError(str(err)) from None


def with_resolved_parameter_set(spec: TrialSpec) -> TrialSpec:
    """``spec`` carrying its parameter set's values instead of its name or path: read once
    per run (not per patient), and part of the spec's hash, so a resumed run notices
    edited values."""
    return spec.model_copy(update={"parameter_set": trial_parameter_set(spec)})


def arm_regimen(spec: TrialSpec, arm: str, weight_kg: float) -> Regimen:
    """The regimen of one patient of ``arm`` (treatments end at the withdrawal, if any)."""
    labelled = [(f"background[{i}]", it) for i, it in enumerate(spec.background)]
    labelled += [(f"arms.{arm}.regimen[{i}]", it) for i, it in enumerate(spec.arms[arm].regimen)]
    cap = spec.withdrawal.at if spec.withdrawal else None
    return items_regimen(
        labelled,
        cap=cap,
        horizon_days=spec.duration,
        weight_kg=weight_kg,
        parameter_set=trial_parameter_set(spec),
    )


def items_regimen(
    labelled: list[tuple[str, DrugItem | MSCItem]],
    *,
    cap: float | None = None,
    horizon_days: float,
    weight_kg: float,
    parameter_set: ParameterSet | None = None,
) -> Regimen:
    """A :class:`Regimen` from YAML regimen items, each with the place it came from (used in
    error messages); treatments end at ``cap`` (days) when given; drug and MSC values from
    ``parameter_set`` when given. Shared by trial arms and personal twins, so both read one
    regimen format."""
    items = []
    for where, item in labelled:
        try:
            if isinstance(item, DrugItem):
                dose = _drug_dose(item, cap)
                if dose is not None:
                    items.append(dose)
            else:
                fields = dict(item.msc)
                times = [float(t) for t in fields.pop("times", [0.0])]
                if cap is not None:
                    times = [t for t in times if t < cap]
                if times:
                    items.append(msc_course(times=times, **fields))
        except TherapyError as err:
            raise TrialError(f"{where}: {err}") from None
        except TypeError as err:
            raise TrialError(f"{where}.msc: {err}") from None
    return Regimen(
        items, horizon_days=horizon_days, weight_kg=weight_kg, parameter_set=parameter_set
    )


def _scores(ds, disease: str, spec: TrialSpec, seed_arm: int, ids: np.ndarray) -> dict:
    """Observed scores (patients x times) with measurement noise; IGA/PGA from them."""
    out = {}
    ordinal = ORDINALS[DISEASES[disease].ordinal]
    for name in TRAJECTORY_SCORES[disease]:
        if name in ORDINALS:
            continue
        out[name] = np.maximum(ds[name].values.astype(np.float64), 0.0)
    for row, pid in enumerate(ids):
        rng = patient_rng(spec.seed, int(pid), seed_arm + NOISE_STREAM_OFFSET)
        for name in sorted(out):
            cv = spec.noise.get(name, 0.0)
            out[name][row] = trial_noise(out[name][row], cv, rng, ceiling(name))
    severity = trial_parameter_set(spec).severity()
    source = out[ordinal.source]
    graded = grade(ordinal.name, source, severity).astype(np.float64)
    # a NaN score would otherwise sort into the top grade (4): no grade without a score
    out[ordinal.name] = np.where(np.isfinite(source), graded, np.nan)
    return out


def _at(times: np.ndarray, t: float) -> int:
    return int(np.argmin(np.abs(times - t)))


def _endpoint_values(ep: Endpoint, scores: dict, times: np.ndarray, spec: TrialSpec):
    """Per-patient values of one endpoint (a dict of columns).

    NaN where the endpoint cannot be computed (a failed simulation, a NaN or infinite
    score at a time the endpoint needs, a % change from a zero baseline): such a patient
    is excluded from the estimate and its denominator, never counted as a non-responder.
    """
    primary = scores[PRIMARY_SCORE[spec.disease]]
    base_primary = primary[:, 0]
    if ep.kind == "time_to_event":
        return _relapse(primary, times, spec)
    if ep.kind == "rate":  # flares per year: upward crossings of flare_fraction x baseline
        level = spec.flare_fraction * base_primary[:, None]
        above = primary > level
        crossings = np.sum(above[:, 1:] & ~above[:, :-1], axis=1)
        result = crossings / (times[-1] / 365.25)
        return {ep.text: np.where(np.isfinite(primary).all(axis=1), result, np.nan)}
    values = scores[ep.variable]
    k = _at(times, ep.time)
    base, now = values[:, 0], values[:, k]
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = 100.0 * (now - base) / base
    computable = np.isfinite(base) & np.isfinite(now)
    if ep.kind == "responder":
        result = (pct <= -ep.threshold).astype(np.float64)
        computable &= np.isfinite(pct)
    elif ep.kind == "category":  # 0/1 with at least a 2-point reduction
        result = ((now <= 1) & (base - now >= 2)).astype(np.float64)
    elif ep.kind == "mean_pct_change":
        result = pct
        computable &= np.isfinite(pct)
    else:
        result = now.copy()
    return {ep.text: np.where(computable, result, np.nan)}


def _relapse(primary: np.ndarray, times: np.ndarray, spec: TrialSpec) -> dict:
    start = spec.withdrawal.at if spec.withdrawal else 0.0
    t_rel, event = relapse_times(primary, times, start, spec.relapse.fraction)
    return {"time_to_relapse": t_rel, "time_to_relapse_event": event}


def relapse_times(
    primary: np.ndarray, times: np.ndarray, start: float, fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Days from ``start`` (withdrawal, last dose) to relapse per patient, and whether it
    happened (1) or was censored at the last time (0). Relapse: the score climbs back
    above ``baseline - fraction * (improvement at start)``. NaN for patients who had not
    improved by ``start`` (no relapse to measure) and for those with a NaN or infinite
    score at baseline or from ``start`` on (a failed simulation: not computable, rather
    than censored).
    """
    k0 = _at(times, start)
    base = primary[:, 0]
    gain = base - primary[:, k0]
    computable = np.isfinite(base) & np.isfinite(primary[:, k0:]).all(axis=1)
    above = primary[:, k0 + 1 :] > (base - fraction * gain)[:, None]
    hit = above.any(axis=1) if above.shape[1] else np.zeros(len(base), dtype=bool)
    first = k0 + 1 + (above.argmax(axis=1) if above.shape[1] else 0)
    t_rel = np.where(hit, times[np.minimum(first, len(times) - 1)] - start, times[-1] - start)
    event = hit.astype(np.float64)
    no_response = (gain <= 0) | ~computable
    t_rel[no_response] = np.nan
    event[no_response] = np.nan
    return t_rel, event


def trial_model(spec: TrialSpec) -> Model:
    """The model a trial runs on (the skin model with the trial's parameter set)."""
    overrides = trial_parameter_set(spec).model_overrides()
    return build().with_defaults(**overrides) if overrides else build()


#: covariates copied into the endpoint table
ENDPOINT_COVARIATES = ("candidate", "age", "sex", "weight_kg", "flg_loss", "hla_c0602")


@dataclass
class ChunkResult:
    """One chunk of one arm: endpoint rows, trajectory rows and numerical failures."""

    endpoints: pd.DataFrame
    trajectories: pd.DataFrame
    failures: list[dict]


def simulate_chunk(
    spec: TrialSpec, model: Model, arm_index: int, patients: np.ndarray, pop: Population
) -> ChunkResult:
    """Simulate ``patients`` (indices within arm ``arm_index``) whose rows are ``pop``.

    Depends only on the spec and these patients, so chunks may run anywhere, in any order.
    """
    arm = list(spec.arms)[arm_index]
    times = spec.visit_times()
    chunk = np.asarray(patients)
    params = pop.parameters.copy()
    events = []
    for j in range(len(chunk)):
        weight = (
            float(pop.covariates["weight_kg"].iloc[j])
            if spec.weight_dosing
            else REFERENCE_WEIGHT_KG
        )
        plan = arm_regimen(spec, arm, weight).plan()
        for name, value in plan.parameters.items():
            params[j, model.parameter_index(name)] = value
        events.append(plan.events)
    ds = simulate(model, times, params, y0=pop.y0, events=events, start_status=pop.status)
    status = ds["status"].values
    scores = _scores(ds, spec.disease, spec, spec.population_stream(arm_index), chunk)
    for name in scores:
        scores[name][status != 0] = np.nan
    cols: dict = {}
    for ep in spec.parsed_endpoints():
        cols.update(_endpoint_values(ep, scores, times, spec))
    frame = pd.DataFrame({"arm": arm, "patient": chunk, **cols})
    for c in pop.covariates.columns:
        if c in ENDPOINT_COVARIATES:
            frame[c] = pop.covariates[c].to_numpy()
    traj = [
        pd.DataFrame(
            {
                "arm": arm,
                "patient": np.repeat(chunk, len(times)),
                "time": np.tile(times, len(chunk)),
                "variable": name,
                "value": values.ravel(),
            }
        )
        for name, values in scores.items()
    ]
    failures = [
        {"arm": arm, "patient": int(chunk[j]), "status": int(status[j])}
        for j in np.flatnonzero(status != 0)
    ]
    return ChunkResult(frame, pd.concat(traj, ignore_index=True), failures)


def run_trial(spec: TrialSpec, *, model: Model | None = None, seed: int | None = None):
    """Simulate the trial in memory; returns a :class:`TrialResult`.

    For large trials, other executors and resumable runs see
    :func:`dermatwin.trials.streaming.run_trial_to`.
    """
    if seed is not None:
        spec = spec.with_seed(seed)
    spec = with_resolved_parameter_set(spec)
    model = model or trial_model(spec)
    pop_spec = spec.population_spec()
    endpoints = spec.parsed_endpoints()
    for arm in spec.arms:  # a bad regimen fails now, before any population is drawn
        arm_regimen(spec, arm, REFERENCE_WEIGHT_KG).plan()
    rows, traj, failures = [], [], []
    sizes = list(spec.arm_sizes().values())
    # paired: screened once; an arm's patients are the first n of the shared population
    shared = generate(model, pop_spec, max(sizes), spec.seed, stream=0) if spec.paired else None
    for a, n in enumerate(sizes):
        if shared is None:
            pop = generate(model, pop_spec, n, spec.seed, stream=a)
        else:
            pop = shared.rows(np.arange(n))
        ids = np.arange(n)
        for lo in range(0, n, spec.chunk_size):
            chunk = ids[lo : lo + spec.chunk_size]
            part = simulate_chunk(spec, model, a, chunk, pop.rows(chunk))
            rows.append(part.endpoints)
            traj.append(part.trajectories)
            failures.extend(part.failures)
    table = pd.concat(rows, ignore_index=True)
    # one row order whatever the chunking: arm (spec order), variable, patient, time
    trajectories = pd.concat(traj, ignore_index=True)
    trajectories["arm"] = pd.Categorical(trajectories["arm"], categories=list(spec.arms))
    trajectories = trajectories.sort_values(
        ["arm", "variable", "patient", "time"], kind="stable", ignore_index=True
    )
    trajectories["arm"] = trajectories["arm"].astype(str)
    kinds = {e.text: e.summary_kind for e in endpoints}
    summary = summarise(
        table, kinds, seed=spec.seed, reference=spec.reference(), paired=spec.paired
    )
    return TrialResult(
        spec,
        table,
        trajectories,
        summary,
        trial_manifest(spec, model, len(failures)),
        pd.DataFrame(failures, columns=["arm", "patient", "status"]),
    )


def trial_manifest(spec: TrialSpec, model: Model, failed_patients: int) -> dict:
    """What identifies a run: trial, seed, versions, model and spec hashes, arm sizes,
    and the software environment (metadata: not part of any identity check)."""
    spec_json = spec.model_dump_json()
    return {
        "trial": spec.name,
        "seed": spec.seed,
        "dermatwin_version": __version__,
        "model": model.name,
        "model_hash": model.content_hash,
        "spec_sha256": hashlib.sha256(spec_json.encode()).hexdigest(),
        "arms": spec.arm_sizes(),
        "failed_patients": failed_patients,
        "environment": environment(),
    }
