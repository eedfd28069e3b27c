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
from dermatwin._base.display import html_table, one_line
from dermatwin._base.errors import ModelError
from dermatwin.disease.observation import trial_noise
from dermatwin.disease.scores import DISEASES, ORDINALS, ceiling, grade
from dermatwin.engine.simulate import simulate
from dermatwin.io.environment import environment
from dermatwin.model.skin import build
from dermatwin.model.spec import Model
from dermatwin.outcomes.endpoints import Endpoint
from dermatwin.params.parameter_set import (
    CalibrationError,
    ParameterSet,
    load_parameter_set,
)
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
from dermatwin.therapy.items import DrugItem, MSCItem
from dermatwin.therapy.products import TherapyError
from dermatwin.therapy.regimen import Regimen, msc_course
from dermatwin.trials.spec import PRIMARY_SCORE, TrialError, TrialSpec
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

    # -- display (the dataclass repr printed every table: kilobytes) -------------------
    def _primary(self) -> str | None:
        return next(iter(self.kinds()), None)

    def _arm_line(self, arm: str, primary: str | None) -> str:
        cell = self.summary.get("arms", {}).get(arm, {}).get(primary or "", {})
        n = cell.get("n", self.spec.arm_sizes().get(arm, "?"))
        est = cell.get("estimate")
        return f"{arm} n={n}" + (f" {est:.3g}" if isinstance(est, float) else "")

    def __repr__(self) -> str:
        primary = self._primary()
        arms = "; ".join(self._arm_line(a, primary) for a in self.spec.arms)
        return one_line(
            type(self).__name__,
            self.spec.name,
            [("primary", primary or "-"), ("arms", arms), ("failures", len(self.failures))],
        )

    def _repr_html_(self) -> str:
        primary = self._primary()
        arms = self.summary.get("arms", {})
        rows = []
        for arm in self.spec.arms:
            cell = arms.get(arm, {}).get(primary or "", {})
            lo, hi = (cell.get("ci") or [None, None])[:2]
            ci = f"{lo:.3g} to {hi:.3g}" if isinstance(lo, float) else "-"
            est = cell.get("estimate")
            rows.append(
                (arm, cell.get("n", "-"), f"{est:.3g}" if isinstance(est, float) else "-", ci)
            )
        pset = self.spec.parameter_set
        return html_table(
            f"{type(self).__name__} {self.spec.name}",
            [
                ("disease", self.spec.disease),
                ("seed", self.spec.seed),
                ("parameter set", getattr(pset, "name", pset)),
                ("primary endpoint", primary or "-"),
                ("endpoints", len(self.kinds())),
                ("failed patients", len(self.failures)),
            ],
            ("arm", "n", primary or "estimate", "95 % CI"),
            rows,
        )


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


@dataclass
class _TrialObservations:
    """A chunk's observed scores (patients x visit times) as endpoint observations
    (:class:`dermatwin.outcomes.Observations`): values at the nearest visit."""

    scores: dict
    times: np.ndarray
    primary: str
    start: float
    relapse_fraction: float
    flare_fraction: float

    def pair(self, variable: str, time: float) -> tuple[np.ndarray, np.ndarray]:
        values = self.scores[variable]
        return values[:, 0], values[:, _at(self.times, time)]

    def at(self, variable: str, time: float) -> np.ndarray:
        return self.scores[variable][:, _at(self.times, time)]

    def observed_at_baseline(self, variable: str) -> np.ndarray:
        return np.isfinite(self.scores[variable][:, 0])

    def series(self, variable: str) -> np.ndarray:
        return self.scores[variable]


def _endpoint_values(ep: Endpoint, scores: dict, times: np.ndarray, spec: TrialSpec):
    """Per-patient values of one endpoint (a dict of columns; kinds:
    :mod:`dermatwin.outcomes.endpoints`).

    NaN where the endpoint cannot be computed (a failed simulation, a NaN or infinite
    score at a time the endpoint needs, a % change from a zero baseline): such a patient
    is excluded from the estimate and its denominator, never counted as a non-responder.
    """
    obs = _TrialObservations(
        scores,
        times,
        PRIMARY_SCORE[spec.disease],
        spec.withdrawal.at if spec.withdrawal else 0.0,
        spec.relapse.fraction,
        spec.flare_fraction,
    )
    return ep.spec.compute(ep, obs)


def trial_model(spec: TrialSpec) -> Model:
    """The model a trial runs on (the skin model with the trial's parameter set)."""
    pset = trial_parameter_set(spec)
    overrides = pset.model_overrides()
    try:
        return build().with_defaults(**overrides) if overrides else build()
    except ModelError as err:  # a ``model.<name>`` target the model does not have
        raise CalibrationError(f"parameter set {pset.name}: values: target: {err}") from None


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

    Calibrated values come from the spec's ``parameter_set`` (default ``"default"``: the
    shipped set, as ``dermatwin trial run`` uses; ``"none"``: uncalibrated priors). A
    ``model`` given here is used as it is (build it with :func:`trial_model`).

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
        table,
        kinds,
        seed=spec.seed,
        reference=spec.reference(),
        paired=spec.paired,
        order=list(spec.arms),  # as the streamed run: arms in the spec's order
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
