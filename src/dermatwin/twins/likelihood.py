"""The twin's forward model (parameters -> scores at the visits) and measurement-error model.

**Forward model.** For a batch of parameter draws (``theta = ln k`` of the twin
parameters, one row per draw, e.g. every walker of the ensemble), each draw is first
equilibrated to its own untreated disease steady state (one batched
:func:`~dermatwin.engine.simulate.equilibrate` call), which is the state at the first
visit (day 0); then the treatments of the record (and, for predictions, a future regimen)
are simulated in one batched :func:`~dermatwin.engine.simulate.simulate` call. A draw
whose equilibration or integration fails gets log-likelihood -inf.

**Measurement error.** Continuous scores: Student-t (4 degrees of freedom) on
``ln(y + c)``, scale ``cv`` (:data:`ERROR_MODEL`, defined with its assumptions in
:mod:`dermatwin.disease.observation`). IGA and PGA are ordinal: the probability that
the noisy EASI (PASI) falls in the category's stratum (:mod:`dermatwin.disease.severity`
edges) under the same error law.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from dermatwin.disease.observation import NU, TWIN_ERROR, ErrorModel
from dermatwin.disease.scores import DISEASES, ORDINALS
from dermatwin.disease.severity import _edges
from dermatwin.engine.simulate import SolverOptions
from dermatwin.model.spec import Model
from dermatwin.params.parameter_set import ParameterSet, load_parameter_set
from dermatwin.study.cohort import simulate_cohort
from dermatwin.therapy.items import DrugItem, MSCItem, RegimenItem
from dermatwin.twins.prior import Prior, base_parameters, start_state
from dermatwin.twins.visits import VisitRecord

#: solver settings of twin simulations: looser than the engine default (1e-6) because the
#: scores carry 15-30 % measurement error; EASI then differs from the default by about
#: 1e-6 (relative) while fits run about 3x faster (docs/twins.md)
TWIN_SOLVER = SolverOptions(rtol=1e-5, atol_factor=1e-5)
TWIN_SS_TOL = 1e-8


#: the twin's measurement-error model (disease layer); ErrorModel and NU re-exported
ERROR_MODEL: dict[str, ErrorModel] = TWIN_ERROR
#: ordinal scores: (continuous score they stratify, upper edges of categories 0..3); the
#: parameter set may move the IGA 1 / PGA 1 edge (``severity`` section)
ORDINAL = {o.name: (o.source, o.edges) for o in ORDINALS.values()}
SEVERITY_KEYS = {o.name: o.calibration_key for o in ORDINALS.values()}
#: what the model can predict per disease (serum IL-17 comes from the psoriasis core)
FITTED = {d: s.twin_fitted for d, s in DISEASES.items()}
#: model outputs simulated per disease
OUTPUTS = {d: s.twin_outputs for d, s in DISEASES.items()}


def shift_items(items: list[RegimenItem], t0: float) -> list[RegimenItem]:
    """Regimen items with their days moved by ``t0`` (future regimens start 'now')."""
    out: list[RegimenItem] = []
    for item in items:
        if isinstance(item, DrugItem):
            stop = None if item.stop is None else item.stop + t0
            out.append(item.model_copy(update={"start": item.start + t0, "stop": stop}))
        else:
            msc = dict(item.msc)
            msc["times"] = [float(t) + t0 for t in msc.get("times", [0.0])]
            out.append(MSCItem(msc=msc))
    return out


def combined_items(
    record: VisitRecord, future: list[RegimenItem] | None, now: float
) -> list[tuple[str, RegimenItem]]:
    """History treatments plus a future regimen (days from ``now``).

    With a future regimen, a drug still given at ``now`` stops there unless the future
    regimen starts the same drug at once, in which case it simply continues (no second
    loading dose). Without one (fitting), the history is used as recorded."""
    history = list(record.treatments)
    labelled: list[tuple[str, RegimenItem]] = []
    if future is None:
        return [(f"treatments[{i}]", it) for i, it in enumerate(history)]
    future = shift_items(list(future), now)
    continued: set[int] = set()
    for i, item in enumerate(history):
        if isinstance(item, DrugItem) and (item.stop is None or item.stop > now):
            match = [
                j
                for j, f in enumerate(future)
                if isinstance(f, DrugItem) and f.drug == item.drug and f.start == now
            ]
            if match:
                continued.add(match[0])
                item = item.model_copy(update={"stop": future[match[0]].stop})
            else:
                item = item.model_copy(update={"stop": now})
            if item.stop is not None and item.stop <= item.start:
                continue
        labelled.append((f"treatments[{i}]", item))
    labelled += [(f"regimen[{j}]", f) for j, f in enumerate(future) if j not in continued]
    return labelled


def twin_model(parameter_set: str = "default") -> tuple[Model, ParameterSet]:
    """The skin model with a calibrated parameter set's model values (the set trials use
    by default, so twins and virtual trials share one calibration), and the set."""
    from dermatwin.model.skin import build

    pset = load_parameter_set(parameter_set)
    overrides = pset.model_overrides()
    return (build().with_defaults(**overrides) if overrides else build()), pset


def ordinal_edges(pset: ParameterSet | None) -> dict[str, tuple[float, ...]]:
    severity = pset.severity() if pset is not None else {}
    return {k: _edges(edges, severity.get(SEVERITY_KEYS[k])) for k, (_, edges) in ORDINAL.items()}


class TwinSimulator:
    """Batched forward model of one patient (see the module docstring). ``parameter_set``
    gives the drug and MSC values of regimens (``model`` should carry its model values:
    :func:`twin_model`)."""

    def __init__(
        self,
        model: Model,
        record: VisitRecord,
        prior: Prior,
        parameter_set: ParameterSet | None = None,
    ):
        self.model = model
        self.parameter_set = parameter_set
        self.edges = ordinal_edges(parameter_set)
        self.record = record
        self.prior = prior
        self.disease = record.patient.disease
        self.base = base_parameters(model, record.patient)
        self.y_start = start_state(model, record.patient)
        self.columns = [model.parameter_index(n) for n in prior.names]

    def parameter_matrix(self, theta: np.ndarray) -> np.ndarray:
        theta = np.atleast_2d(theta)
        p = np.tile(self.base, (theta.shape[0], 1))
        p[:, self.columns] = np.exp(theta)
        return p

    def run(
        self,
        theta: np.ndarray,
        times: np.ndarray,
        future: list[RegimenItem] | None = None,
        now: float | None = None,
        stop: float | None = None,
    ) -> tuple[dict[str, np.ndarray], np.ndarray, list]:
        """Outputs (draw x time) at ``times`` (days since the first visit), the status per
        draw, and the regimen's events (for last-dose times). Every treatment ends at
        ``stop`` (days) when given (the follow-up after a regimen)."""
        from dermatwin.trials.run import items_regimen

        now = self.record.last_day if now is None else now
        horizon = float(np.max(times)) + 1.0
        labelled = combined_items(self.record, future, now)
        plan = items_regimen(
            labelled,
            cap=stop,
            horizon_days=horizon,
            weight_kg=self.record.patient.weight_kg,
            parameter_set=self.parameter_set,
        ).plan()
        cohort = simulate_cohort(
            self.model,
            np.asarray(times, dtype=np.float64),
            self.parameter_matrix(theta),
            y0=self.y_start,
            plans=plan,
            steady_state=True,
            ss_tol=TWIN_SS_TOL,
            options=TWIN_SOLVER,
        )
        out = {name: np.maximum(cohort.values(name), 0.0) for name in OUTPUTS[self.disease]}
        return out, cohort.status, plan.events


def observation_table(record: VisitRecord) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Fitted observables -> (visit days, values)."""
    table = {}
    for name in FITTED[record.patient.disease]:
        obs = record.observed(name)
        if obs:
            days, values = zip(*obs, strict=True)
            table[name] = (np.array(days), np.array(values, dtype=np.float64))
    return table


def _t_logpdf(r: np.ndarray) -> np.ndarray:
    return stats.t.logpdf(r, NU)


def log_likelihood(
    predicted: dict[str, np.ndarray],
    times: np.ndarray,
    observations: dict[str, tuple[np.ndarray, np.ndarray]],
    edges: dict[str, tuple[float, ...]] | None = None,
) -> np.ndarray:
    """Log-likelihood per draw of the observations given predictions at ``times``."""
    n = next(iter(predicted.values())).shape[0]
    total = np.zeros(n)
    for name, (days, values) in observations.items():
        k = np.searchsorted(times, days)
        if name in ORDINAL:
            source, cut_values = ORDINAL[name]
            cut_values = (edges or {}).get(name, cut_values)
            err = ERROR_MODEL[source]
            pred = np.log(predicted[source][:, k] + err.offset)
            cuts = np.log(np.asarray(cut_values) + err.offset)
            cat = values.astype(int)
            lo = np.where(cat > 0, cuts[np.maximum(cat - 1, 0)], -np.inf)
            top = len(cut_values)
            hi = np.where(cat < top, cuts[np.minimum(cat, top - 1)], np.inf)
            prob = stats.t.cdf((hi - pred) / err.cv, NU) - stats.t.cdf((lo - pred) / err.cv, NU)
            total += np.sum(np.log(np.maximum(prob, 1e-300)), axis=1)
            continue
        err = ERROR_MODEL[name]
        r = (np.log(values + err.offset) - np.log(predicted[name][:, k] + err.offset)) / err.cv
        total += np.sum(_t_logpdf(r) - np.log(err.cv), axis=1)
    return total


class LogPosterior:
    """Vectorised log posterior of ``theta`` (walkers x parameters) for emcee."""

    def __init__(self, simulator: TwinSimulator):
        self.simulator = simulator
        self.observations = observation_table(simulator.record)
        days = [d for d, _ in self.observations.values()]
        self.times = np.unique(np.concatenate(days)) if days else np.array([0.0])
        self.calls = 0
        self.simulations = 0

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        theta = np.atleast_2d(theta)
        self.calls += 1
        lp = self.simulator.prior.log_prob(theta)
        ok = np.isfinite(lp)
        if not ok.any():
            return lp
        self.simulations += int(ok.sum())
        pred, status, _ = self.simulator.run(theta[ok], self.times)
        ll = log_likelihood(pred, self.times, self.observations, self.simulator.edges)
        ll[(status != 0) | ~np.isfinite(ll)] = -np.inf
        out = np.full(theta.shape[0], -np.inf)
        out[ok] = lp[ok] + ll
        return out
