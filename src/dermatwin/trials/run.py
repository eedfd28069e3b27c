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

import dataclasses
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dermatwin._base.display import html_table, one_line
from dermatwin._base.errors import ModelError
from dermatwin.disease.observation import trial_noise
from dermatwin.disease.scores import DISEASES, ORDINALS, ceiling, grade
from dermatwin.disease.skin_type import score_factor
from dermatwin.model.skin import build
from dermatwin.model.skin.plaques import skin_plaques
from dermatwin.model.spec import Model
from dermatwin.outcomes.endpoints import Endpoint
from dermatwin.params.parameter_set import (
    CalibrationError,
    ParameterSet,
    load_parameter_set,
)
from dermatwin.patients.population import Population, generate
from dermatwin.patients.sampling import patient_rng
from dermatwin.patients.triggers import trigger_events
from dermatwin.study.cohort import Cohort, simulate_cohort
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
from dermatwin.therapy.regimen import MSCCourse, Plan, Regimen, msc_course
from dermatwin.trials.orchestration import orchestrate
from dermatwin.trials.rescue import rescue_days, shifted
from dermatwin.trials.spec import PRIMARY_SCORE, TrialError, TrialSpec
from dermatwin.trials.table1 import baseline_columns

#: random stream of the measurement noise (added to the arm index)
NOISE_STREAM_OFFSET = 3_000_017
#: the drug whose days of use ``tcs_days@TIME`` counts
TCS_DRUG = "topical_steroid"
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


def arm_regimen(
    spec: TrialSpec, arm: str, weight_kg: float, rescue_day: float | None = None
) -> Regimen:
    """The regimen of one patient of ``arm``: the background (stopped at a trial-wide
    withdrawal only with ``background: stop``) and the arm's regimen (stopped at the arm's
    or the trial's withdrawal, and at ``rescue_day`` when the rescue rule discontinues
    it), plus the rescue therapy from ``rescue_day`` (:mod:`dermatwin.trials.rescue`)."""
    w = spec.withdrawal
    background_cap = w.at if w is not None and w.background == "stop" else None
    arm_cap = spec.arm_stop(arm)
    if rescue_day is not None and spec.rescue is not None and spec.rescue.discontinue:
        arm_cap = rescue_day if arm_cap is None else min(arm_cap, rescue_day)
    items = spec.regimen_items(arm)
    n_background = len(spec.background)
    doses = regimen_doses(items[:n_background], background_cap) + regimen_doses(
        items[n_background:], arm_cap
    )
    if rescue_day is not None and spec.rescue is not None:
        doses = with_rescue(doses, spec, rescue_day)
    return Regimen(
        doses,
        horizon_days=spec.duration,
        weight_kg=weight_kg,
        parameter_set=trial_parameter_set(spec),
    )


def with_rescue(doses: list, spec: TrialSpec, day: float) -> list:
    """``doses`` with the rescue therapy from ``day`` on; a dose in the slot of a rescue
    drug stops at ``day`` (the rescue replaces it: one drug per slot at a time)."""
    therapy = enumerate(spec.rescue.therapy)
    shifted_items = [(i, shifted(it, day, spec.duration)) for i, it in therapy]
    rescue = [(f"rescue.therapy[{i}]", it) for i, it in shifted_items if it is not None]
    added = regimen_doses(rescue, None)
    slots = {d.entry.slot or d.drug for d in added}
    kept = []
    for dose in doses:
        if isinstance(dose, DrugDose) and (dose.entry.slot or dose.drug) in slots:
            if dose.start_day >= day:
                continue
            if dose.stop_day is None or dose.stop_day > day:
                dose = dataclasses.replace(dose, stop_day=day)
        kept.append(dose)
    return kept + added


def check_rescue_regimens(spec: TrialSpec) -> None:
    """Every arm's regimen with the rescue therapy from its earliest day plans (at the
    reference weight, priors), so a bad rescue drug fails at load time."""
    for arm in spec.arms:
        doses = regimen_doses(spec.regimen_items(arm), spec.arm_stop(arm))
        doses = with_rescue(doses, spec, spec.rescue.earliest)
        Regimen(doses, horizon_days=spec.duration, weight_kg=REFERENCE_WEIGHT_KG).plan()


def regimen_doses(
    labelled: list[tuple[str, DrugItem | MSCItem]], cap: float | None
) -> list[DrugDose | MSCCourse]:
    """Drug doses and MSC courses of YAML regimen items, each with the place it came from
    (used in error messages); treatments end at ``cap`` (days) when given."""
    items: list[DrugDose | MSCCourse] = []
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
    return items


def items_regimen(
    labelled: list[tuple[str, DrugItem | MSCItem]],
    *,
    cap: float | None = None,
    horizon_days: float,
    weight_kg: float,
    parameter_set: ParameterSet | None = None,
) -> Regimen:
    """A :class:`Regimen` from YAML regimen items (:func:`regimen_doses`); drug and MSC
    values from ``parameter_set`` when given. Shared by trial arms and personal twins, so
    both read one regimen format."""
    return Regimen(
        regimen_doses(labelled, cap),
        horizon_days=horizon_days,
        weight_kg=weight_kg,
        parameter_set=parameter_set,
    )


def tcs_days(regimen: Regimen, times: np.ndarray) -> np.ndarray:
    """Cumulative days of topical corticosteroid use before each of ``times`` (a day with
    any application counts once)."""
    days = {
        float(np.floor(t))
        for item in regimen.items
        if isinstance(item, DrugDose) and item.drug == TCS_DRUG
        for t, amount in item.administrations(regimen.horizon_days)
        if amount > 0
    }
    return np.searchsorted(np.sort(np.fromiter(days, float)), times, side="left").astype(float)


def _raw_scores(cohort: Cohort, disease: str) -> dict[str, np.ndarray]:
    """The simulated continuous scores (patients x times), floored at 0 (copies)."""
    return {
        name: np.maximum(cohort.values(name).astype(np.float64), 0.0)
        for name in TRAJECTORY_SCORES[disease]
        if name not in ORDINALS
    }


def _scores(
    raw: dict, disease: str, spec: TrialSpec, seed_arm: int, ids: np.ndarray, skin=None
) -> dict:
    """Observed scores (patients x times) as scored on each patient's Fitzpatrick
    ``skin`` type (None: not drawn; :mod:`dermatwin.disease.skin_type`), with measurement
    noise; IGA/PGA from them."""
    out = {name: values.copy() for name, values in raw.items()}
    if skin is not None:
        for name in out:
            factor = np.array([score_factor(name, t) for t in skin])
            if (factor != 1.0).any():
                out[name] *= factor[:, None]
    ordinal = ORDINALS[DISEASES[disease].ordinal]
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
    (:class:`dermatwin.outcomes.Observations`): values at the nearest visit. With
    ``carry`` (the visit index per patient of its rescue, under non-responder handling),
    a value after rescue is the last one before it (the rescue visit's)."""

    scores: dict
    times: np.ndarray
    primary: str
    start: float
    relapse_fraction: float
    flare_fraction: float
    rescue_day: np.ndarray
    tcs_days: np.ndarray
    carry: np.ndarray | None = None

    def _column(self, values: np.ndarray, time: float) -> np.ndarray:
        k = _at(self.times, time)
        if self.carry is None:
            return values[:, k]
        return values[np.arange(len(values)), np.minimum(k, self.carry)]

    def pair(self, variable: str, time: float) -> tuple[np.ndarray, np.ndarray]:
        values = self.scores[variable]
        return values[:, 0], self._column(values, time)

    def at(self, variable: str, time: float) -> np.ndarray:
        return self._column(self.scores[variable], time)

    def observed_at_baseline(self, variable: str) -> np.ndarray:
        return np.isfinite(self.scores[variable][:, 0])

    def series(self, variable: str) -> np.ndarray:
        return self.scores[variable]


def _endpoint_values(
    ep: Endpoint,
    scores: dict,
    times: np.ndarray,
    spec: TrialSpec,
    arm: str | None = None,
    rescue_day: np.ndarray | None = None,
    tcs: np.ndarray | None = None,
):
    """Per-patient values of one endpoint (a dict of columns; kinds:
    :mod:`dermatwin.outcomes.endpoints`).

    NaN where the endpoint cannot be computed (a failed simulation, a NaN or infinite
    score at a time the endpoint needs, a % change from a zero baseline): such a patient
    is excluded from the estimate and its denominator, never counted as a non-responder.
    Under the rescue rule's ``non_responder`` handling, a patient rescued by the
    endpoint's time is a non-responder (rate endpoints of scores) or keeps the value of
    the rescue visit (mean endpoints of scores); see ``EndpointKind.after_rescue``.
    """
    n = len(next(iter(scores.values())))
    rescue_day = np.full(n, np.inf) if rescue_day is None else rescue_day
    tcs = np.zeros((n, len(times))) if tcs is None else tcs
    after = ep.spec.after_rescue
    impute = (
        spec.rescue is not None
        and spec.rescue.handling == "non_responder"
        and ep.time is not None
        and after != "observed"
    )
    carry = None
    if impute and after == "last_value":
        carry = np.where(
            np.isfinite(rescue_day), np.searchsorted(times, rescue_day - 1e-9), len(times)
        )
    obs = _TrialObservations(
        scores,
        times,
        PRIMARY_SCORE[spec.disease],
        spec.relapse_start(arm) if arm is not None else _legacy_start(spec),
        spec.relapse.fraction,
        spec.flare_fraction,
        rescue_day,
        tcs,
        carry,
    )
    values = ep.spec.compute(ep, obs)
    if impute and after == "non_responder":
        rescued = rescue_day <= ep.time + 1e-9
        values = {k: np.where(rescued & np.isfinite(v), 0.0, v) for k, v in values.items()}
    return values


#: endpoint-table column of a trial with ``enrol``: 1 if the patient entered period 2
ENROLLED = "enrolled"


def enrolled_in_period_2(spec: TrialSpec, scores: dict, times: np.ndarray) -> np.ndarray:
    """Whether each patient responds at ``enrol.at`` (improved by at least the enrolment
    % from baseline, observed scores): who enters period 2."""
    name, pct = spec.enrol.score()
    values = scores[name]
    with np.errstate(divide="ignore", invalid="ignore"):
        change = 100.0 * (values[:, _at(times, spec.enrol.at)] - values[:, 0]) / values[:, 0]
    return np.isfinite(change) & (change <= -pct)


def _legacy_start(spec: TrialSpec) -> float:
    if spec.relapse.start is not None:
        return spec.relapse.start
    return spec.withdrawal.at if spec.withdrawal else 0.0


def trial_model(spec: TrialSpec) -> Model:
    """The model a trial runs on: the skin model (with ``population.plaques``, its
    plaque-level form, :mod:`dermatwin.model.skin.plaques`) with the trial's parameter set."""
    pset = trial_parameter_set(spec)
    overrides = pset.model_overrides()
    plaques = spec.population.get("plaques")
    base = build() if plaques is None else skin_plaques(spec.population_spec().plaques)
    try:
        return base.with_defaults(**overrides) if overrides else base
    except ModelError as err:  # a ``model.<name>`` target the model does not have
        raise CalibrationError(f"parameter set {pset.name}: values: target: {err}") from None


#: covariates copied into the endpoint table
ENDPOINT_COVARIATES = (
    "candidate",
    "age",
    "sex",
    "weight_kg",
    "flg_loss",
    "hla_c0602",
    "fitzpatrick",
)


@dataclass
class ChunkResult:
    """One chunk of one arm: endpoint rows, trajectory rows and numerical failures."""

    endpoints: pd.DataFrame
    trajectories: pd.DataFrame
    failures: list[dict]


def _with_triggers(spec: TrialSpec, arm_index: int, pop: Population, j: int, plan: Plan) -> Plan:
    """``plan`` of the chunk's patient ``j`` plus its flare triggers (if the trial has
    any): drawn from the patient's own stream (seed, population stream, candidate), so the
    same whatever chunk it is in, and the same patient in paired arms; smaller where the
    plan puts a topical steroid on the skin (dermatwin.patients.triggers)."""
    if spec.triggers is None:
        return plan
    events = trigger_events(
        spec.triggers,
        seed=spec.seed,
        stream=spec.population_stream(arm_index),
        candidate=int(pop.covariates["candidate"].iloc[j]),
        days=float(spec.duration),
        regimen=plan.events,
    )
    return Plan(events=[*plan.events, *events], parameters=plan.parameters)


def simulate_chunk(
    spec: TrialSpec, model: Model, arm_index: int, patients: np.ndarray, pop: Population
) -> ChunkResult:
    """Simulate ``patients`` (indices within arm ``arm_index``) whose rows are ``pop``.

    Depends only on the spec and these patients, so chunks may run anywhere, in any order.
    """
    arm = list(spec.arms)[arm_index]
    times = spec.visit_times()
    chunk = np.asarray(patients)
    weights = (
        pop.covariates["weight_kg"].to_numpy(dtype=np.float64)
        if spec.weight_dosing
        else np.full(len(chunk), REFERENCE_WEIGHT_KG)
    )
    regimens = [arm_regimen(spec, arm, float(w)) for w in weights]
    cohort = simulate_cohort(
        model,
        times,
        pop.parameters,
        y0=pop.y0,
        start_status=pop.status,
        plans=[_with_triggers(spec, arm_index, pop, j, r.plan()) for j, r in enumerate(regimens)],
    )
    status = cohort.status.copy()
    stream = spec.population_stream(arm_index)
    raw = _raw_scores(cohort, spec.disease)
    skin = pop.covariates["fitzpatrick"].tolist() if "fitzpatrick" in pop.covariates else None
    scores = _scores(raw, spec.disease, spec, stream, chunk, skin)
    rescue_day = np.full(len(chunk), np.inf)
    if spec.rescue is not None:
        for name in scores:
            scores[name][status != 0] = np.nan
        rescue_day = rescue_days(spec.rescue, scores, times)
        rescued = np.flatnonzero(np.isfinite(rescue_day))
        if len(rescued):
            # each rescued patient again, from day 0 (patients are simulated
            # independently, so this gives the same values whatever the chunk holds)
            for j in rescued:
                regimens[j] = arm_regimen(spec, arm, float(weights[j]), float(rescue_day[j]))
            again = simulate_cohort(
                model,
                times,
                pop.parameters[rescued],
                y0=pop.y0[rescued],
                start_status=pop.status[rescued],
                plans=[
                    _with_triggers(spec, arm_index, pop, j, regimens[j].plan()) for j in rescued
                ],
            )
            for name, values in _raw_scores(again, spec.disease).items():
                raw[name][rescued] = values
            status[rescued] = again.status
            scores = _scores(raw, spec.disease, spec, stream, chunk, skin)
    for name in scores:
        scores[name][status != 0] = np.nan
    tcs = np.array([tcs_days(r, times) for r in regimens]).reshape(len(chunk), len(times))
    cols: dict = {}
    for ep in spec.parsed_endpoints():
        cols.update(_endpoint_values(ep, scores, times, spec, arm, rescue_day, tcs))
    if spec.enrol is not None:  # period 2: only the responders at enrol.at are analysed
        enrolled = enrolled_in_period_2(spec, scores, times)
        cols = {k: np.where(enrolled, v, np.nan) for k, v in cols.items()}
        cols[ENROLLED] = enrolled.astype(np.float64)
    if spec.population.get("baseline") is not None:  # Table 1 of a baseline-matched trial
        cols.update(baseline_columns(scores))
    frame = pd.DataFrame({"arm": arm, "patient": chunk, **cols})
    if spec.rescue is not None:  # the rescue visit's day (NaN: never rescued), for ADaM
        frame["rescue_day"] = np.where(np.isfinite(rescue_day), rescue_day, np.nan)
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


def prepare_trial(spec: TrialSpec, seed: int | None = None) -> TrialSpec:
    """``spec`` ready to run: with ``seed`` (when given) and its parameter set's values
    (:func:`with_resolved_parameter_set`); every arm's regimen is planned once, so that a
    bad regimen fails now, before any population is drawn or file written."""
    if seed is not None:
        spec = spec.with_seed(seed)
    spec = with_resolved_parameter_set(spec)
    for arm in spec.arms:
        arm_regimen(spec, arm, REFERENCE_WEIGHT_KG).plan()
    return spec


class MemoryStore:
    """The in-memory result store (:class:`dermatwin.trials.orchestration.ResultStore`):
    populations screened here (:func:`dermatwin.patients.population.generate`, which
    keeps recent ones for calibration's repeated runs), chunks kept as they are. There is
    nothing to resume, so a chunk that fails on every attempt stops the run."""

    def __init__(self, spec: TrialSpec, model: Model) -> None:
        self.spec, self.model = spec, model
        self.parts: dict[str, ChunkResult] = {}

    def task(self, arm_index: int, lo: int, pop: Population) -> ChunkResult:
        patients = np.arange(lo, lo + len(pop.parameters))
        return simulate_chunk(self.spec, self.model, arm_index, patients, pop)

    def populations(self, spec: TrialSpec, model: Model, executor) -> dict[int, Population]:
        pop_spec = spec.population_spec()
        sizes = list(spec.arm_sizes().values())
        if not spec.paired:
            return {a: generate(model, pop_spec, n, spec.seed, a) for a, n in enumerate(sizes)}
        # paired: screened once; an arm's patients are the first n of the shared population
        shared = generate(model, pop_spec, max(sizes), spec.seed, stream=0)
        return {a: shared.rows(np.arange(n)) for a, n in enumerate(sizes)}

    def pending(self, chunks):
        return chunks

    def simulating(self, chunks):
        return nullcontext()

    def task_args(self, chunks, populations):
        return {
            key: (a, lo, populations[a].rows(np.arange(lo, hi)))
            for key, (a, lo, hi) in chunks.items()
        }

    def save(self, key: str, part: ChunkResult) -> None:
        self.parts[key] = part

    def fail(self, key: str, error: BaseException) -> None:
        raise error

    def collect(self, chunks):
        parts = [self.parts[key] for key in chunks]
        failures = [[f["arm"], f["patient"], f["status"]] for p in parts for f in p.failures]
        return pd.concat([p.endpoints for p in parts], ignore_index=True), failures

    def result(self, spec, table, summary, manifest, failures) -> TrialResult:
        # one row order whatever the chunking: arm (spec order), variable, patient, time
        traj = pd.concat([p.trajectories for p in self.parts.values()], ignore_index=True)
        # (chunks arrive in any order; the sort keys are unique per row)
        traj["arm"] = pd.Categorical(traj["arm"], categories=list(spec.arms))
        traj = traj.sort_values(
            ["arm", "variable", "patient", "time"], kind="stable", ignore_index=True
        )
        traj["arm"] = traj["arm"].astype(str)
        return TrialResult(spec, table, traj, summary, manifest, failures)


def run_trial(spec: TrialSpec, *, model: Model | None = None, seed: int | None = None):
    """Simulate the trial in memory; returns a :class:`TrialResult`.

    Calibrated values come from the spec's ``parameter_set`` (default ``"default"``: the
    shipped set, as ``dermatwin trial run`` uses; ``"none"``: uncalibrated priors). A
    ``model`` given here is used as it is (build it with :func:`trial_model`).

    The streamed run (:func:`dermatwin.trials.streaming.run_trial_to`: large trials,
    other executors, resumable) is the same orchestration
    (:func:`dermatwin.trials.orchestration.orchestrate`) with a Parquet store.
    """
    from dermatwin.execution.serial import SerialExecutor

    spec = prepare_trial(spec, seed)
    model = model or trial_model(spec)
    store = MemoryStore(spec, model)
    return orchestrate(spec, model, store, SerialExecutor(retries=0))
